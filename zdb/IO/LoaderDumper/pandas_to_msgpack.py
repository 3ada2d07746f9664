"""ISF's ``pandas_to_msgpack`` dumper: zdb's ``pandas_to_zarr`` takes its place for pandas
frames, which ISF wrote as msgpack; ISF's ``rows_per_file=`` is the rows per chunk.
``dumper=zdb.IO.LoaderDumper.pandas_to_msgpack`` (or ``"pandas_to_msgpack"``) writes
with ``pandas_to_zarr``, and the key records ``pandas_to_zarr``."""

from ...dumper_registry import alias_dumper

dumper = alias_dumper("pandas_to_msgpack", "pandas_to_zarr")
