"""The table codec: pandas DataFrames, Series and Index objects (and dask frames) as
Zarr v3 arrays plus attributes, or as Parquet files (docs/format.md).

A table is stored in one Zarr group (a key's version folder):

- one 1-D array per column, named by the column's label when that label is a usable
  Zarr node name, otherwise by an encoded name (the label is kept in the array's
  attributes); its ``dimension_names`` are ``[<index dimension>]``;
- the index as an array named by the index's dimension (a MultiIndex: one coordinate
  array per level), or nothing for a RangeIndex, which is kept in the attributes;
- or, for a wide table whose columns share one numeric dtype, one 2-D array with the
  column labels as a coordinate array;
- auxiliary arrays (missing-value masks, categories, ...) in the child group ``.zdb``,
  which xarray ignores, so ``xarray.open_zarr`` sees only data and coordinates.

Every stored column carries a versioned *encoding* in its attributes
(``attributes["zdb"]["encoding"]``) that says how its arrays map back to a pandas
array of the original dtype. The table-level description lives in the group's
attributes (``attributes["zdb"]["table"]``) and all node metadata is consolidated into
the group's ``zarr.json``, so a reader needs one file read before the chunks.

The modules, from the bottom up:

- :mod:`.names`: which labels name arrays as they are, and the encoded names;
- :mod:`.labels`: labels and indexes as JSON, choosing columns by label;
- :mod:`.encodings`: the versioned column encodings;
- :mod:`.plan`: the layout plan of one table, made once per write;
- :mod:`.pool`: the shared IO thread pool;
- :mod:`.zarr_layout`: writing and reading a plan's Zarr arrays;
- :mod:`.parquet_layout`: writing and reading a plan as Parquet files;
- :mod:`.dask_frames`: dask frames written in parallel (both layouts) and read lazily;
- :mod:`.xarray_view`: the xarray view of a Zarr table;
- :mod:`.reading`: a stored table as pandas, dask or xarray, in either layout.

The package knows nothing of keys, locks, dumpers or the commit protocol: it reads and
writes a table under a path of a :class:`zdb.storage.Store`. Importing it is cheap;
the names of the former module ``zdb.tables`` are imported from the submodules (which
import numpy and pandas) on first use.
"""

from __future__ import annotations

import sys
from typing import Any


def is_pandas_table(value: Any) -> bool:
    """True for a pandas DataFrame, Series or Index (without importing pandas)."""
    if "pandas" not in sys.modules:
        return False
    import pandas as pd

    return isinstance(value, pd.DataFrame | pd.Series | pd.Index)


def is_dask_table(value: Any) -> bool:
    """True for a dask DataFrame or Series (without importing dask)."""
    if "dask.dataframe" not in sys.modules:
        return False
    import dask.dataframe as dd

    return isinstance(value, dd.DataFrame | dd.Series)


#: the names of the former module ``zdb.tables`` and the submodule each lives in now
_EXPORTS = {
    "FRAME_TABLE_FORMAT": "plan",
    "INDEX_TABLE_FORMAT": "plan",
    "TABLE_FORMAT": "plan",
    "CHUNK_BYTES": "plan",
    "BLOCK_MIN_COLUMNS": "plan",
    "BLOCK_CHUNK_COLUMNS": "plan",
    "PARTITION_BYTES": "plan",
    "ArrayNode": "plan",
    "Slot": "plan",
    "TablePlan": "plan",
    "aux_group_of": "plan",
    "default_chunk_rows": "plan",
    "plan_table": "plan",
    "plan_pandas": "plan",
    "table_type": "plan",
    "summary": "plan",
    "choose_partitions": "plan",
    "set_partitions": "plan",
    "unwrap_index": "plan",
    "AUX": "names",
    "MAX_NAME_BYTES": "names",
    "is_valid_name": "names",
    "ColumnNotFoundError": "labels",
    "label_to_json": "labels",
    "label_from_json": "labels",
    "labels_description": "labels",
    "index_from_labels": "labels",
    "level_values": "labels",
    "build_index": "labels",
    "check_has_columns": "labels",
    "column_positions": "labels",
    "ENCODING_VERSIONS": "encodings",
    "column_encoding": "encodings",
    "storage_dtype": "encodings",
    "aux_roles": "encodings",
    "encode_column": "encodings",
    "decode_column": "encodings",
    "is_arrow": "encodings",
    "with_nulls": "encodings",
    "keep_object": "encodings",
    "THREADS": "pool",
    "REMOTE_THREADS": "pool",
    "run_jobs": "pool",
    "ZSTD_LEVEL": "zarr_layout",
    "array_metadata": "zarr_layout",
    "chunk_jobs": "zarr_layout",
    "write_metadata": "zarr_layout",
    "write_table": "zarr_layout",
    "StoredTable": "zarr_layout",
    "open_table": "zarr_layout",
    "read_table": "zarr_layout",
    "PartitionReader": "dask_frames",
    "read_lazy": "dask_frames",
    "dask_frame": "dask_frames",
    "open_xarray": "xarray_view",
}


def __getattr__(name: str) -> Any:
    """A name of the former module ``zdb.tables``, from the submodule it moved to."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import dask_frames, encodings, labels, names, plan, pool, xarray_view, zarr_layout

    modules = {
        "dask_frames": dask_frames,
        "encodings": encodings,
        "labels": labels,
        "names": names,
        "plan": plan,
        "pool": pool,
        "xarray_view": xarray_view,
        "zarr_layout": zarr_layout,
    }
    return getattr(modules[module], name)


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
