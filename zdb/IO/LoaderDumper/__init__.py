"""The dumpers: each module here stores one kind of value and reads it back.

Pass a dumper by name (``db.set(key, value, dumper="numpy_to_zarr")``) or as the
module (``dumper=zdb.IO.LoaderDumper.numpy_to_zarr``); without one, zdb picks the
dumper by the value's type. See :mod:`zdb.dumper` for writing new ones and
:mod:`zdb.dumper_registry` for adding them.
"""

from . import (
    cell,
    dask_to_parquet,
    dask_to_zarr,
    isf_opaque,
    just_create_folder,
    numpy_to_zarr,
    pandas_to_parquet,
    pandas_to_zarr,
    python_value,
    reduced_lda_model,
    shared_numpy_store,
    sub_database,
    to_cloudpickle,
    xarray_to_zarr,
)

# ISF's dumpers, each a module naming the zdb dumper that takes its place, so that code
# naming them (``dumper=IO.LoaderDumper.numpy_to_npy``, ``import
# zdb.IO.LoaderDumper.pandas_to_msgpack`` or ``dumper="to_pickle"``) runs unchanged; the
# key then records the zdb dumper that wrote it. After the native dumpers: they look
# those up.
# isort: split
from . import (
    dask_to_categorized_msgpack,
    dask_to_msgpack,
    just_create_isf_db,
    numpy_to_msgpack,
    numpy_to_npy,
    numpy_to_npz,
    pandas_to_msgpack,
    pandas_to_pickle,
    to_msgpack,
    to_pickle,
)

#: ISF's dumper names and the zdb dumper module that takes their place
ISF_DUMPERS = {
    "numpy_to_npy": numpy_to_zarr,
    "numpy_to_npz": numpy_to_zarr,
    "numpy_to_msgpack": numpy_to_zarr,
    "pandas_to_pickle": pandas_to_zarr,
    "pandas_to_msgpack": pandas_to_zarr,
    "dask_to_msgpack": dask_to_zarr,
    "dask_to_categorized_msgpack": dask_to_zarr,
    "to_pickle": to_pickle,
    "to_msgpack": to_cloudpickle,
    "just_create_isf_db": sub_database,
}

__all__ = [
    "cell",
    "dask_to_categorized_msgpack",
    "dask_to_msgpack",
    "dask_to_parquet",
    "dask_to_zarr",
    "isf_opaque",
    "just_create_folder",
    "just_create_isf_db",
    "numpy_to_msgpack",
    "numpy_to_npy",
    "numpy_to_npz",
    "numpy_to_zarr",
    "pandas_to_msgpack",
    "pandas_to_parquet",
    "pandas_to_pickle",
    "pandas_to_zarr",
    "python_value",
    "reduced_lda_model",
    "shared_numpy_store",
    "sub_database",
    "to_cloudpickle",
    "to_msgpack",
    "to_pickle",
    "xarray_to_zarr",
]
