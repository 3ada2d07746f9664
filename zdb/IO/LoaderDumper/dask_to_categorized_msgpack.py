"""ISF's ``dask_to_categorized_msgpack`` dumper: zdb's ``dask_to_zarr`` takes its place for
dask frames, which ISF wrote as msgpack files with string columns as categoricals; pass
``categorize=True`` for that (zdb stores strings compactly without it).
``dumper=zdb.IO.LoaderDumper.dask_to_categorized_msgpack`` (or
``"dask_to_categorized_msgpack"``) writes with ``dask_to_zarr``, and the key records
``dask_to_zarr``."""

from ...dumper_registry import alias_dumper

dumper = alias_dumper("dask_to_categorized_msgpack", "dask_to_zarr")
