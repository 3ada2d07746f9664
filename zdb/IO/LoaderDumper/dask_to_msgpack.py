"""ISF's ``dask_to_msgpack`` dumper: zdb's ``dask_to_zarr`` takes its place for dask
frames, which ISF wrote as a msgpack file per partition; ``client=``, ``scheduler=`` and
``repartition=`` keep ISF's meaning. ``dumper=zdb.IO.LoaderDumper.dask_to_msgpack`` (or
``"dask_to_msgpack"``) writes with ``dask_to_zarr``, and the key records
``dask_to_zarr``."""

from ...dumper_registry import alias_dumper

dumper = alias_dumper("dask_to_msgpack", "dask_to_zarr")
