"""ISF's ``numpy_to_msgpack`` dumper: zdb's ``numpy_to_zarr`` takes its place for numpy
arrays, which ISF wrote as msgpack (through a DataFrame).
``dumper=zdb.IO.LoaderDumper.numpy_to_msgpack`` (or ``"numpy_to_msgpack"``) writes with
``numpy_to_zarr``, and the key records ``numpy_to_zarr``."""

from ...dumper_registry import alias_dumper

dumper = alias_dumper("numpy_to_msgpack", "numpy_to_zarr")
