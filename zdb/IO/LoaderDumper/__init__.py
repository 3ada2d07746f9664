"""The dumpers: each module here stores one kind of value and reads it back.

Pass a dumper by name (``db.set(key, value, dumper="numpy_to_zarr")``) or as the
module (``dumper=zdb.IO.LoaderDumper.numpy_to_zarr``); without one, zdb picks the
dumper by the value's type. See :mod:`zdb.dumper` for writing new ones.
"""

from . import (
    dask_to_parquet,
    dask_to_zarr,
    just_create_folder,
    numpy_to_zarr,
    pandas_to_parquet,
    pandas_to_zarr,
    python_value,
    sub_database,
    to_cloudpickle,
    xarray_to_zarr,
)

just_create_isf_db = sub_database

__all__ = [
    "dask_to_parquet",
    "dask_to_zarr",
    "just_create_folder",
    "just_create_isf_db",
    "numpy_to_zarr",
    "pandas_to_parquet",
    "pandas_to_zarr",
    "python_value",
    "sub_database",
    "to_cloudpickle",
    "xarray_to_zarr",
]
