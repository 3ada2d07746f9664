"""ISF's ``pandas_to_pickle`` dumper: zdb's ``pandas_to_zarr`` takes its place for pandas
frames, which ISF pickled. ``dumper=zdb.IO.LoaderDumper.pandas_to_pickle`` (or
``"pandas_to_pickle"``) writes with ``pandas_to_zarr``, and the key records
``pandas_to_zarr``."""

from ...dumper_registry import alias_dumper

dumper = alias_dumper("pandas_to_pickle", "pandas_to_zarr")
