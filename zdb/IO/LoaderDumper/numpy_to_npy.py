"""ISF's ``numpy_to_npy`` dumper: zdb's ``numpy_to_zarr`` takes its place for numpy arrays,
which ISF wrote as a ``.npy`` file. ``dumper=zdb.IO.LoaderDumper.numpy_to_npy`` (or
``"numpy_to_npy"``) writes with ``numpy_to_zarr``, and the key records
``numpy_to_zarr``."""

from ...dumper_registry import alias_dumper

dumper = alias_dumper("numpy_to_npy", "numpy_to_zarr")
