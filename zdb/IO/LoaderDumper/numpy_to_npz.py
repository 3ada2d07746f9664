"""ISF's ``numpy_to_npz`` dumper: zdb's ``numpy_to_zarr`` takes its place for numpy arrays,
which ISF wrote as a compressed ``.npz`` file.
``dumper=zdb.IO.LoaderDumper.numpy_to_npz`` (or ``"numpy_to_npz"``) writes with
``numpy_to_zarr``, and the key records ``numpy_to_zarr``."""

from ...dumper_registry import alias_dumper

dumper = alias_dumper("numpy_to_npz", "numpy_to_zarr")
