"""The dumpers: each module here stores one kind of value and reads it back.

Pass a dumper by name (``db.set(key, value, dumper="numpy_to_zarr")``) or as the
module (``dumper=zdb.IO.LoaderDumper.numpy_to_zarr``); without one, zdb picks the
dumper by the value's type. See :mod:`zdb.dumper` for writing new ones and
:mod:`zdb.dumper_registry` for adding them.
"""

from ...dumper_registry import register_alias
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

#: ISF's dumpers and the zdb dumper that takes their place, so that code naming them
#: (``dumper=IO.LoaderDumper.numpy_to_npy`` or ``dumper="pandas_to_msgpack"``) runs
#: unchanged; the key then records the zdb dumper that wrote it
ISF_DUMPERS = {
    "numpy_to_npy": numpy_to_zarr,
    "numpy_to_npz": numpy_to_zarr,
    "numpy_to_msgpack": numpy_to_zarr,
    "pandas_to_pickle": pandas_to_zarr,
    "pandas_to_msgpack": pandas_to_zarr,
    "dask_to_msgpack": dask_to_zarr,
    "dask_to_categorized_msgpack": dask_to_zarr,
    "to_pickle": to_cloudpickle,
    "to_msgpack": to_cloudpickle,
}
for _isf_name, _module in ISF_DUMPERS.items():
    register_alias(_isf_name, _module.dumper.name)
    globals()[_isf_name] = _module

__all__ = [  # with ISF's names from ISF_DUMPERS
    *ISF_DUMPERS,
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
