"""The layout plan of one table: which arrays store it, named how, chunked how.

:func:`plan_table` looks at a table (or a dask frame's meta) once and decides
everything a writer needs before any row is encoded: the table description (group
attributes), one :class:`ArrayNode` per Zarr array (or Parquet column), one
:class:`Slot` per stored pandas array with its encoding, and the static arrays known
up front (categories, labels). Both layouts write from the same plan.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import CorruptKeyError, FormatVersionError, UnsupportedValueError
from .codecs import BLOSC_BLOCK_BYTES_2D, choose_compressor, numeric_compressor
from .encodings import (
    PLAIN_KINDS,
    aux_roles,
    column_encoding,
    encode_column,
    storage_dtype,
    unsupported,
)
from .labels import (
    index_freq,
    json_or_none,
    label_to_json,
    labels_description,
    level_values,
)
from .names import AUX, NameAllocator, is_valid_name

#: versions of the table description (group attributes): each table is written in the
#: oldest one that describes it, so that an older zdb reads what it can; 1 for
#: DataFrames and Series, 2 for an Index (type "Index", new in 2)
FRAME_TABLE_FORMAT = 1
INDEX_TABLE_FORMAT = 2
#: the newest version this zdb reads
TABLE_FORMAT = INDEX_TABLE_FORMAT
#: uncompressed bytes aimed at per chunk of a column
CHUNK_BYTES = 8 * 2**20
#: a frame with at least this many columns, all of one numeric dtype, is stored as
#: one 2-D array unless ``layout="columns"`` is asked for
BLOCK_MIN_COLUMNS = 100
#: columns per chunk of a 2-D block, unless its chunks have few rows (see below)
BLOCK_CHUNK_COLUMNS = 256
#: a block whose chunks have few rows (a dask frame's short partitions, e.g. 6 voltage
#: traces) gets chunks of more columns, up to about this many bytes: fewer, larger
#: files, while a row range still reads only the chunks of its rows
BLOCK_CHUNK_MIN_BYTES = 2**20
#: a dask frame's partitions much shorter than a chunk are grouped into chunks of at
#: least CHUNK_BYTES / CHUNK_GROUPING bytes of the widest column
CHUNK_GROUPING = 64
#: rows per partition aimed at when a pandas-written table is read as a dask frame
PARTITION_BYTES = 128 * 2**20


@dataclass
class ArrayNode:
    """One Zarr array of a table."""

    path: str
    dtype: np.dtype
    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    dims: list[str]
    attrs: dict[str, Any]
    #: chunks holding only the fill value are not written (auxiliary masks)
    optional: bool = False
    #: the Blosc codec of a numeric array (see :mod:`.codecs`), None for zstd
    compressor: dict[str, Any] | None = None
    #: the shape of its shards (see :mod:`zdb.zarr_shards`), None: a file per chunk
    shards: tuple[int, ...] | None = None


@dataclass
class Slot:
    """One stored pandas array (a column, an index level, categories): the array of
    its values plus the auxiliary arrays its encoding needs."""

    where: str
    dtype: Any
    enc: dict[str, Any]
    values_path: str
    aux_group: str
    categories: Slot | None = None

    def aux_path(self, role: str) -> str:
        return f"{self.aux_group}/{role}"


def aux_group_of(values_path: str) -> str:
    """Where the auxiliary arrays of the values array at ``values_path`` live."""
    return f"{AUX}/{values_path}" if "/" not in values_path else values_path.rsplit("/", 1)[0]


@dataclass
class TablePlan:
    """The arrays and attributes storing one table, and how rows map onto them."""

    table: dict[str, Any]
    nrows: int
    chunk_rows: int
    nodes: dict[str, ArrayNode] = field(default_factory=dict)
    #: row-aligned slots: the columns (layout "columns") and the index levels
    columns: list[Slot] = field(default_factory=list)
    index_levels: list[Slot] = field(default_factory=list)
    #: layout "block": the 2-D array and the dtype of its columns
    block: ArrayNode | None = None
    block_dtype: Any = None
    #: arrays whose whole content is known when planning (categories, labels)
    static: dict[str, np.ndarray] = field(default_factory=dict)
    #: every slot by its auxiliary group
    slots: dict[str, Slot] = field(default_factory=dict)
    #: rows per shard of the row arrays (None: a file per chunk); a write task writes
    #: whole files, so whole shards
    shard_rows: int | None = None

    # building

    def add_node(self, node: ArrayNode) -> ArrayNode:
        self.nodes[node.path] = node
        return node

    def rows_only(self) -> TablePlan:
        """This plan without the static arrays: what a task writing rows needs (and all
        it carries to a dask worker)."""
        nodes = {path: node for path, node in self.nodes.items() if path not in self.static}
        return dataclasses.replace(self, nodes=nodes, static={}, slots={})

    def groups(self) -> set[str]:
        """The groups holding the arrays (the ``.zdb`` group and those below it)."""
        out: set[str] = set()
        for path in self.nodes:
            while "/" in path:
                path = path.rsplit("/", 1)[0]
                out.add(path)
        return out

    def add_slot(
        self,
        dtype: Any,
        where: str,
        values_path: str,
        dims: list[str],
        attrs: dict[str, Any],
        length: int,
        chunks: int,
        data: Any = None,
    ) -> Slot:
        """Plan the arrays of one pandas array; ``data`` given: a static slot."""
        enc = column_encoding(dtype, where)
        slot = Slot(where, dtype, enc, values_path, aux_group_of(values_path))
        self.slots[slot.aux_group] = slot
        zattrs = {"zdb": {**attrs, "encoding": enc}}
        stored = storage_dtype(enc, dtype)
        compressor = None if data is not None else numeric_compressor(stored)
        self.add_node(
            ArrayNode(
                values_path, stored, (length,), (chunks,), dims, zattrs, compressor=compressor
            )
        )
        for role, role_dtype in aux_roles(enc).items():
            self.add_node(
                ArrayNode(
                    slot.aux_path(role),
                    role_dtype,
                    (length,),
                    (chunks,),
                    dims,
                    {"zdb": {"role": role}},
                    optional=True,
                )
            )
        if enc["name"] == "category":
            cats = dtype.categories
            slot.categories = self.add_slot(
                cats.dtype,
                f"{where} (categories)",
                f"{slot.aux_group}/categories/values",
                [f"{dims[0]}_categories"],
                {},
                len(cats),
                max(1, len(cats)),
                data=cats,
            )
            enc["categories"] = slot.categories.enc
        if data is not None:
            self.store_static(slot, data)
        return slot

    def store_static(self, slot: Slot, data: Any) -> None:
        for path, arr in self.encode_slot(slot, data).items():
            self.static[path] = arr
        self.prune(list(self.static.items()))

    def encode_slot(self, slot: Slot, obj: Any) -> dict[str, Any]:
        parts = encode_column(obj, slot.enc, slot.dtype, slot.where)
        out = {slot.values_path: parts.pop("values")}
        for role, arr in parts.items():
            out[slot.aux_path(role)] = arr
        return out

    def choose_compressors(self, arrays: dict[str, Any], level: int) -> None:
        """Keep Blosc for the numeric arrays whose data (``arrays`` by path) it
        compresses about as well as zstd at ``level``; zstd for the others."""
        for path, data in arrays.items():
            node = self.nodes.get(path)
            if node is not None and node.compressor is not None and data is not None:
                node.compressor = choose_compressor(node.compressor, data, level)

    def prune(self, arrays: Iterable[tuple[str, Any]]) -> None:
        """Drop the optional arrays that hold nothing, clearing their encoding flags."""
        for path, arr in arrays:
            node = self.nodes.get(path)
            if arr is None and node is not None and node.optional:
                del self.nodes[path]
                group, role = path.rsplit("/", 1)
                self.slots[group].enc[role] = False

    # encoding rows

    def encode_rows(self, piece: Any) -> dict[str, Any]:
        """The row-aligned arrays of ``piece`` (rows of the table, a frame or a Series).

        An optional auxiliary array that would hold nothing for these rows is None.
        """
        out: dict[str, Any] = {}
        if isinstance(piece, pd.Series):
            out.update(self.encode_slot(self.columns[0], piece))
        elif self.block is not None:
            bad = [dt for dt in piece.dtypes if dt != self.block_dtype]
            if bad:
                raise UnsupportedValueError(
                    f"a column has dtype {bad[0]} in a table stored as one block of dtype "
                    f"{self.block_dtype}; store it with layout='columns'"
                )
            out[self.block.path] = piece.to_numpy(dtype=self.block_dtype)
        else:
            for i, slot in enumerate(self.columns):
                out.update(self.encode_slot(slot, piece.iloc[:, i]))
        index = piece.index
        for j, slot in enumerate(self.index_levels):
            level = level_values(index, j)
            out.update(self.encode_slot(slot, level))
        return out


def _itemsize(dtype: np.dtype) -> int:
    return 16 if dtype.kind in "OT" else dtype.itemsize


def default_chunk_rows(row_dtypes: Sequence[np.dtype], nrows: int, width: int = 1) -> int:
    """Rows per chunk: about :data:`CHUNK_BYTES` per chunk of the widest array."""
    widest = max((_itemsize(d) for d in row_dtypes), default=8) * max(1, width)
    return max(1, min(max(1, nrows), CHUNK_BYTES // widest))


def aligned_chunk_rows(lengths: list[int], largest: int, smallest: int = 1) -> int:
    """Rows per chunk: when all partitions but the last have one length, a divisor of
    it not much below ``largest``, or, for partitions shorter than ``smallest``, the
    fewest whole partitions that reach it (a chunk of several partitions is written by
    one task): no task writes another's chunk. Else ``largest``."""
    nrows = sum(lengths)
    if len(lengths) <= 1:
        return max(1, min(largest, nrows))
    inner = set(lengths[:-1])
    if len(inner) == 1 and lengths[0] > 0:
        length = lengths[0]
        if length < smallest:
            grouped = length * min(-(-smallest // length), max(1, largest // length))
            return min(grouped, nrows)
        fewest = -(-length // largest)  # parts per partition, at least
        for parts in range(fewest, 4 * fewest + 1):
            if length % parts == 0:
                return length // parts
    return max(1, largest)


def _chunk_rows(
    given: int | None, default: int, partitions: list[int] | None, group: bool = True
) -> int:
    """Rows per chunk: as given, else the default, aligned to ``partitions``' lengths;
    short partitions are grouped into chunks of at least 1/:data:`CHUNK_GROUPING` of
    the default (with ``group``): thousands of tiny files cost more to write and read
    than the few rows a read of one partition decodes in excess."""
    if given:
        return given
    if partitions is None:
        return default
    return aligned_chunk_rows(partitions, default, default // CHUNK_GROUPING if group else 1)


def plan_table(
    sample: pd.DataFrame | pd.Series,
    nrows: int,
    *,
    range_index: pd.RangeIndex | None,
    layout: str = "auto",
    chunk_rows: int | None = None,
    partitions: list[int] | None = None,
    source: str = "pandas",
    shard_rows: int | None = None,
) -> TablePlan:
    """Plan how a table like ``sample`` (the data, or a dask frame's meta) is stored.

    ``range_index``: the table's RangeIndex, kept as attributes, or None to store the
    index as arrays. ``partitions``: the lengths of a dask frame's partitions, which
    the default ``chunk_rows`` is chosen to divide (see :func:`aligned_chunk_rows`).
    ``shard_rows``: the row arrays are stored in shards of this many rows, a multiple
    of the chunk rows (see :mod:`zdb.zarr_shards`). Every optional auxiliary array is
    planned; the pandas writer drops those that hold nothing.
    """
    plan = _plan(sample, nrows, range_index, layout, chunk_rows, partitions, source)
    if shard_rows is not None:
        _shard(plan, shard_rows)
    return plan


def _shard(plan: TablePlan, shard_rows: int) -> None:
    """Store the row arrays of ``plan`` in shards of ``shard_rows`` rows."""
    if type(shard_rows) is not int or shard_rows < 1 or shard_rows % plan.chunk_rows:
        raise UnsupportedValueError(
            f"shard_rows={shard_rows!r} is not a multiple of the table's {plan.chunk_rows} "
            "rows per chunk: give a multiple of chunk_rows, or no shard_rows"
        )
    if shard_rows == plan.chunk_rows:
        return  # a shard of one chunk: as well a file of its own
    for path, node in plan.nodes.items():
        if path not in plan.static and node.chunks[0] == plan.chunk_rows:
            node.shards = (shard_rows, *node.chunks[1:])
    plan.shard_rows = shard_rows


def _plan(
    sample: pd.DataFrame | pd.Series,
    nrows: int,
    range_index: pd.RangeIndex | None,
    layout: str,
    chunk_rows: int | None,
    partitions: list[int] | None,
    source: str,
) -> TablePlan:
    is_series = isinstance(sample, pd.Series)
    if layout not in ("auto", "columns", "block"):
        raise UnsupportedValueError(f"layout must be 'auto', 'columns' or 'block', not {layout!r}")
    names = NameAllocator()
    table: dict[str, Any] = {
        "format": FRAME_TABLE_FORMAT,
        "type": "Series" if is_series else "DataFrame",
        "nrows": nrows,
        "source": source,
    }
    index = sample.index
    # the index dimension is named first: columns must not take its name
    column_labels = [] if is_series else list(sample.columns)
    str_labels = {c.lower() for c in column_labels if isinstance(c, str)}
    if is_series and isinstance(sample.name, str):
        str_labels.add(sample.name.lower())
    index_name = index.name if not isinstance(index, pd.MultiIndex) else None
    if is_valid_name(index_name) and index_name.lower() not in str_labels:
        dim = names.claim(index_name)
    else:
        dim = names.claim_label(None if "index" in str_labels else "index", "index")
    level_names: list[str] = []
    if range_index is None and isinstance(index, pd.MultiIndex):
        for j, lname in enumerate(index.names):
            # no spaces: xarray reads the level names from a space-separated attribute
            usable = is_valid_name(lname) and " " not in lname and lname.lower() not in str_labels
            level_names.append(names.claim_label(lname if usable else None, f"level_{j}"))
    block = layout == "block" or (
        layout == "auto"
        and not is_series
        and sample.shape[1] >= BLOCK_MIN_COLUMNS
        and not isinstance(sample.columns, pd.MultiIndex)
        and len(set(sample.dtypes)) == 1
        and isinstance(sample.dtypes.iloc[0], np.dtype)
        and sample.dtypes.iloc[0].kind in PLAIN_KINDS
    )
    if block:
        return _plan_block(
            sample, nrows, table, names, dim, level_names, range_index, chunk_rows, partitions
        )
    dtypes = [sample.dtype] if is_series else list(sample.dtypes)
    wheres = (
        [f"the Series {sample.name!r}"] if is_series else [f"column {c!r}" for c in column_labels]
    )
    row_dtypes = [
        storage_dtype(column_encoding(dt, where), dt)
        for dt, where in zip(dtypes, wheres, strict=True)
    ]
    if range_index is None:
        levels = [level_values(index, j) for j in range(index.nlevels)]
        row_dtypes += [
            storage_dtype(column_encoding(lev.dtype, "the index"), lev.dtype) for lev in levels
        ]
    rows = _chunk_rows(chunk_rows, default_chunk_rows(row_dtypes, nrows), partitions)
    plan = TablePlan(table, nrows, rows)
    table["chunk_rows"] = rows
    table["layout"] = "columns"
    coordinates = " ".join(level_names) if level_names else None
    if is_series:
        label = sample.name
        arr_name = names.claim_label(label, "data")
        plan.columns.append(
            plan.add_slot(
                sample.dtype,
                f"the Series {label!r}",
                arr_name,
                [dim],
                _label_attrs(label, coordinates),
                nrows,
                rows,
            )
        )
        table["name"] = _required_json(label, "the Series name")
        table["arrays"] = [arr_name]
    else:
        # labels that are usable names claim them first, then the others get encoded names
        arr_names: list[str | None] = [None] * len(column_labels)
        for i, label in enumerate(column_labels):
            if is_valid_name(label) and names.free(label):
                arr_names[i] = names.claim(label)
        for i, label in enumerate(column_labels):
            if arr_names[i] is None:
                arr_names[i] = names.claim_label(label, f"column_{i}")
        for i, (label, dtype) in enumerate(zip(column_labels, dtypes, strict=True)):
            plan.columns.append(
                plan.add_slot(
                    dtype,
                    f"column {label!r}",
                    arr_names[i],
                    [dim],
                    _label_attrs(label, coordinates),
                    nrows,
                    rows,
                )
            )
        table["arrays"] = arr_names
        table["columns"] = _static_index(plan, sample.columns, f"{AUX}/.columns", "columns")
    table["index"] = _row_index(plan, index, range_index, dim, level_names, nrows, rows)
    return plan


def _label_attrs(label: Any, coordinates: str | None) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    as_json = json_or_none(label)
    if as_json is not None or label is None:
        attrs["label"] = as_json
    else:
        attrs["label_repr"] = repr(label)
    if coordinates:
        attrs["coordinates"] = coordinates
    return attrs


def _required_json(label: Any, what: str) -> Any:
    try:
        return label_to_json(label)
    except TypeError:
        raise unsupported(
            what, f"the label {label!r} of type {type(label).__qualname__} is not supported"
        ) from None


def _static_index(plan: TablePlan, idx: pd.Index, group: str, dim: str) -> dict[str, Any]:
    """Describe a non-row Index (the columns): as JSON labels, or as static arrays."""
    desc = labels_description(idx)
    if desc is not None:
        return desc
    return _index_arrays(plan, idx, [f"{group}/{j}/values" for j in range(idx.nlevels)], dim)


def _index_arrays(plan: TablePlan, idx: pd.Index, paths: list[str], dim: str) -> dict[str, Any]:
    names = [_required_json(n, "an index name") for n in idx.names]
    for j, path in enumerate(paths):
        level = level_values(idx, j)
        plan.add_slot(
            level.dtype,
            f"index level {j} of the columns",
            path,
            [dim],
            {},
            len(level),
            max(1, len(level)),
            data=level,
        )
    return _arrays_description(idx, dim, names, paths)


def _arrays_description(
    idx: pd.Index, dim: str, names: list[Any], paths: list[str]
) -> dict[str, Any]:
    multi = isinstance(idx, pd.MultiIndex)
    desc = {
        "kind": "arrays",
        "dim": dim,
        "names": names,
        "arrays": paths,
        "multi": multi,
        "freq": None if multi else index_freq(idx),
    }
    if multi and any(index_freq(lev) for lev in idx.levels):
        desc["level_freqs"] = [index_freq(lev) for lev in idx.levels]
    return desc


def _row_index(
    plan: TablePlan,
    index: pd.Index,
    range_index: pd.RangeIndex | None,
    dim: str,
    level_names: list[str],
    nrows: int,
    rows: int,
) -> dict[str, Any]:
    if range_index is not None:
        desc = labels_description(range_index)
        assert desc is not None and desc["kind"] == "range"
        return desc
    multi = isinstance(index, pd.MultiIndex)
    paths = level_names if multi else [dim]
    names = [_required_json(n, "an index name") for n in index.names]
    for j, path in enumerate(paths):
        level = level_values(index, j)
        where = f"index level {index.names[j]!r}" if multi else "the index"
        plan.index_levels.append(
            plan.add_slot(level.dtype, where, path, [dim], {"label": names[j]}, nrows, rows)
        )
    return _arrays_description(index, dim, names, paths)


def _plan_block(
    sample: pd.DataFrame,
    nrows: int,
    table: dict[str, Any],
    names: NameAllocator,
    dim: str,
    level_names: list[str],
    range_index: pd.RangeIndex | None,
    chunk_rows: int | None,
    partitions: list[int] | None,
) -> TablePlan:
    dtypes = set(sample.dtypes)
    dtype = next(iter(dtypes)) if len(dtypes) == 1 else None
    if (
        dtype is None
        or not isinstance(dtype, np.dtype)
        or dtype.kind not in PLAIN_KINDS
        or isinstance(sample.columns, pd.MultiIndex)
        or column_encoding(dtype, "block")["name"] != "plain"
    ):
        raise UnsupportedValueError(
            "layout='block' needs a frame whose columns share one numeric numpy dtype and "
            "whose columns are not a MultiIndex; use layout='columns'"
        )
    ncols = sample.shape[1]
    col_chunk = max(1, min(ncols, BLOCK_CHUNK_COLUMNS))
    default = default_chunk_rows([dtype], nrows, width=col_chunk)
    rows = _chunk_rows(chunk_rows, default, partitions, group=False)
    wide = BLOCK_CHUNK_MIN_BYTES // (max(1, min(rows, nrows)) * dtype.itemsize)
    col_chunk = max(col_chunk, min(ncols, wide))
    plan = TablePlan(table, nrows, rows, block_dtype=dtype)
    col_name = sample.columns.name
    col_dim = (
        names.claim(col_name)
        if is_valid_name(col_name) and names.free(col_name)
        else (names.claim_label(None, "columns"))
    )
    data_name = names.claim_label(None, "data")
    table.update(chunk_rows=rows, layout="block", block={"array": data_name, "dim": col_dim})
    plan.block = plan.add_node(
        ArrayNode(
            data_name,
            dtype,
            (nrows, ncols),
            (rows, col_chunk),
            [dim, col_dim],
            {"zdb": {"encoding": {"name": "plain", "version": 1}}},
            compressor=numeric_compressor(dtype, BLOSC_BLOCK_BYTES_2D),
        )
    )
    table["columns"] = _index_arrays(plan, sample.columns, [col_dim], col_dim)
    table["index"] = _row_index(plan, sample.index, range_index, dim, level_names, nrows, rows)
    return plan


def table_type(value: Any) -> str:
    """``DataFrame``, ``Series`` or ``Index`` for a pandas or dask table."""
    if isinstance(value, pd.Index):
        return "Index"
    return "Series" if getattr(value, "ndim", 2) == 1 else "DataFrame"


def plan_pandas(
    value: pd.DataFrame | pd.Series | pd.Index, **options: Any
) -> tuple[pd.DataFrame | pd.Series, TablePlan]:
    """The frame stored for a pandas ``value`` and its plan (``options`` as for
    :func:`plan_table`). An Index is stored as a frame of no columns with that index
    (every kind of index round-trips that way), described as the Index it is."""
    frame = pd.DataFrame(index=value) if isinstance(value, pd.Index) else value
    range_index = frame.index if isinstance(frame.index, pd.RangeIndex) else None
    plan = plan_table(frame, len(frame), range_index=range_index, **options)
    if isinstance(value, pd.Index):
        plan.table.update(type="Index", format=INDEX_TABLE_FORMAT)
    return frame, plan


def summary(table: dict[str, Any], ncols: int) -> str:
    """A one-line description of a stored table, for listings."""
    if table["type"] == "Index":
        return f"Index of {table['nrows']} labels"
    if table["type"] == "Series":
        return f"Series of {table['nrows']} rows"
    return f"DataFrame of {table['nrows']} rows x {ncols} columns"


def _row_bytes(plan: TablePlan) -> int:
    total = 0
    for node in plan.nodes.values():
        if node.shape and node.shape[0] == plan.nrows and node.path not in plan.static:
            width = node.shape[1] if len(node.shape) == 2 else 1
            total += _itemsize(node.dtype) * width
    return max(1, total)


def choose_partitions(plan: TablePlan, index: pd.Index, rows: int | None = None) -> None:
    """Choose the partitions a lazy read gives (about PARTITION_BYTES, made of whole
    chunks, or of multiples of ``rows``), and their divisions when the index is sorted."""
    nrows = plan.nrows
    rows = rows or plan.chunk_rows
    step = max(rows, PARTITION_BYTES // _row_bytes(plan) // rows * rows)
    bounds = list(range(0, nrows, step)) + [nrows] if nrows else [0, 0]
    divisions = None
    if nrows and not isinstance(index, pd.MultiIndex) and index.is_monotonic_increasing:
        bounds = _split_runs(index, bounds)
        divisions = index.take([*bounds[:-1], nrows - 1])
    set_partitions(plan, np.diff(bounds).tolist(), divisions)


def _split_runs(index: pd.Index, bounds: list[int]) -> list[int]:
    """Move partition bounds of a sorted index so no label spans two partitions."""
    out = [0]
    for b in bounds[1:-1]:
        if index[b] == index[b - 1]:
            b = int(index.searchsorted(index[b - 1], side="right"))
        if out[-1] < b < len(index):
            out.append(b)
    return [*out, bounds[-1]]


def set_partitions(plan: TablePlan, lengths: list[int], divisions: pd.Index | None) -> None:
    """Record the partitions (and their divisions, as an Index) of a table."""
    plan.table["partitions"] = [int(n) for n in lengths]
    plan.table["divisions"] = (
        None
        if divisions is None
        else _static_index(plan, divisions, f"{AUX}/.divisions", "divisions")
    )


def unwrap_index(table: dict[str, Any], value: Any) -> Any:
    """The Index a zero-column frame stands for, when the table stores an Index (pandas
    or dask); ``value`` itself otherwise."""
    return value.index if table["type"] == "Index" else value


def table_description(doc: dict[str, Any], where: str, storage: str | None = None) -> dict:
    """The table description in the group document ``doc`` of the table at ``where``,
    checked: a table of ``storage`` (None: Zarr arrays, ``"parquet"``) in a table
    format this zdb reads."""
    table = ((doc.get("attributes") or {}).get("zdb") or {}).get("table")
    if not isinstance(table, dict) or table.get("storage") != storage:
        kind = "" if storage is None else f"{storage.capitalize()} "
        raise CorruptKeyError(
            f"{where} holds no zdb {kind}table description; delete the key and write it again"
        )
    if table.get("format", 1) > TABLE_FORMAT:
        raise FormatVersionError(
            f"the table at {where} was written in table format {table.get('format')}; "
            f"this zdb reads up to {TABLE_FORMAT}: upgrade zdb"
        )
    return table
