"""The Zarr layout of a table: its plan written as Zarr v3 arrays, and read back.

Chunks are compressed and written (and read) here with numcodecs on a thread pool,
producing exactly the chunks zarr-python writes with the same codecs: for tables,
zarr-python's per-chunk asynchronous machinery costs more than compressing the data.
Array metadata is taken from zarr-python itself (one template per data type), and
any array this module cannot read directly is read through zarr-python.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numcodecs
import numpy as np
import pandas as pd

from ..exceptions import DataBaseException, FormatVersionError
from ..storage import Store, join
from .encodings import arrow_offsets, aux_roles, decode_column, is_arrow, keep_object
from .labels import (
    build_index,
    check_has_columns,
    column_positions,
    index_from_labels,
    label_from_json,
)
from .plan import (
    TABLE_FORMAT,
    ArrayNode,
    TablePlan,
    aux_group_of,
    choose_partitions,
    plan_pandas,
    unwrap_index,
)
from .pool import run_jobs

#: zstd level of table chunks (numcodecs/zarr: 0 means zstd's default, 3)
ZSTD_LEVEL = 3

_VLEN = numcodecs.VLenUTF8()


@functools.cache
def _zstd(level: int) -> numcodecs.Zstd:
    return numcodecs.Zstd(level=level)


@functools.cache
def _template(dtype: np.dtype, ndim: int, level: int) -> str:
    """zarr-python's metadata document for an array of ``dtype`` (as JSON text)."""
    import zarr
    from zarr.codecs import ZstdCodec
    from zarr.storage import MemoryStore

    from ..zarr_util import quiet_zarr

    store = MemoryStore()
    with quiet_zarr():
        zarr.create_array(
            store,
            shape=(1,) * ndim,
            chunks=(1,) * ndim,
            dtype=dtype,
            compressors=ZstdCodec(level=level),
            dimension_names=[f"d{i}" for i in range(ndim)],
            zarr_format=3,
        )
    return store._store_dict["zarr.json"].to_bytes().decode()


def array_metadata(node: ArrayNode, level: int) -> dict[str, Any]:
    """The Zarr v3 metadata of ``node``, as zarr-python writes it."""
    meta = json.loads(_template(node.dtype, len(node.shape), level))
    meta["shape"] = list(node.shape)
    meta["chunk_grid"]["configuration"]["chunk_shape"] = [max(1, c) for c in node.chunks]
    meta["attributes"] = node.attrs
    meta["dimension_names"] = node.dims
    if _direct_kind(meta) is None:
        raise AssertionError(f"unexpected codecs for {node.dtype}: {meta['codecs']}")
    return meta


def _direct_kind(meta: dict[str, Any]) -> str | None:
    """ "bytes" or "vlen" for an array whose chunks this module reads, else None."""
    codecs = meta.get("codecs") or []
    names = [c.get("name") for c in codecs]
    if (
        meta.get("chunk_grid", {}).get("name") != "regular"
        or meta.get("chunk_key_encoding")
        != {"name": "default", "configuration": {"separator": "/"}}
        or meta.get("storage_transformers")
        or len(names) != 2
        or names[1] != "zstd"
    ):
        return None
    if names[0] == "vlen-utf8":
        return "vlen"
    endian = (codecs[0].get("configuration") or {}).get("endian", "little")
    return "bytes" if names[0] == "bytes" and endian == "little" else None


def _native_dtype(meta: dict[str, Any]) -> np.dtype:
    data_type = meta["data_type"]
    if data_type == "string":
        return np.dtype(object)
    if isinstance(data_type, str):
        return np.dtype(data_type)
    conf = data_type.get("configuration", {})
    if (
        data_type["name"] in ("numpy.datetime64", "numpy.timedelta64")
        and conf.get("scale_factor", 1) == 1
    ):
        return np.dtype(f"{'M' if 'datetime' in data_type['name'] else 'm'}8[{conf['unit']}]")
    if data_type["name"] == "raw_bytes":
        return np.dtype(f"V{conf['length_bytes']}")
    raise ValueError(f"data type {data_type}")


def _chunk_path(root: str, path: str, index: Sequence[int]) -> str:
    return join(root, path, "c", *(str(i) for i in index))


def _encode_chunk(kind: str, chunk: np.ndarray, level: int) -> bytes:
    if kind == "vlen":
        raw: Any = _VLEN.encode(chunk.ravel())
    else:
        raw = np.ascontiguousarray(chunk)
        if raw.dtype.byteorder == ">":
            raw = raw.astype(raw.dtype.newbyteorder("<"))
        raw = raw.reshape(-1).view(np.uint8)
    return _zstd(level).encode(raw)


def _vlen_from_arrow(values: Any, items: int) -> np.ndarray:
    """The vlen-utf8 chunk (as numcodecs' ``VLenUTF8`` writes it: item count, then each
    item's length and bytes, little-endian uint32) of an Arrow ``large_string`` array
    without nulls, padded with empty items to ``items``. Arrow joins each item to its
    length prefix in one pass, so the body is the data buffer of the joined array;
    going through Python str objects costs ten times as much."""
    import pyarrow as pa
    import pyarrow.compute as pc

    n = len(values)
    lengths = np.diff(arrow_offsets(values)).astype("<u4")
    prefixes = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(4), n, [None, pa.py_buffer(lengths)]
    ).cast(pa.large_binary())
    joined = pc.binary_join_element_wise(
        prefixes, values.cast(pa.large_binary()), pa.scalar(b"", pa.large_binary())
    )
    offsets = arrow_offsets(joined)
    body = np.empty(0, np.uint8)
    if n:
        body = np.frombuffer(joined.buffers()[2], np.uint8)[int(offsets[0]) : int(offsets[-1])]
    out = np.zeros(4 + len(body) + 4 * (items - n), np.uint8)
    out[:4] = np.array([items], "<u4").view(np.uint8)
    out[4 : 4 + len(body)] = body
    return out


def _vlen_items(raw: bytes, lengths: np.ndarray, a: int, b: int) -> np.ndarray:
    """The bytes of items ``a:b`` of a decompressed vlen-utf8 chunk, given the lengths
    of its items from the first: the chunk minus the length prefixes between them."""
    if a == b:
        return np.zeros(0, np.uint8)
    lens = lengths[:b].astype(np.int64)
    prefix = 4 + 4 * np.arange(b) + np.concatenate([[0], np.cumsum(lens[:-1])])
    lo, hi = prefix[a] + 4, prefix[b - 1] + 4 + lens[b - 1]
    region = np.frombuffer(raw, np.uint8)[lo:hi]
    keep = np.ones(len(region), bool)
    keep[((prefix[a + 1 : b] - lo)[:, None] + np.arange(4)).ravel()] = False
    return region[keep]


def _padded(chunk: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if chunk.shape == shape:
        return chunk
    if chunk.dtype == object:
        out = np.full(shape, "", dtype=object)
    else:
        out = np.zeros(shape, dtype=chunk.dtype)
    out[tuple(slice(0, n) for n in chunk.shape)] = chunk
    return out


def chunk_jobs(
    store: Store,
    root: str,
    node: ArrayNode,
    data: np.ndarray,
    row_start: int,
    level: int,
) -> list[Callable[[], None]]:
    """Jobs writing the chunks of ``node`` covered by ``data`` (rows from ``row_start``).

    ``row_start`` must be on a chunk boundary and ``data`` must end on one or at the
    end of the array: a job always writes whole chunks, so parallel writers of
    different rows never touch the same chunk.
    """
    rows = node.chunks[0]
    if row_start % rows or (
        (row_start + len(data)) % rows and row_start + len(data) != node.shape[0]
    ):
        raise AssertionError(f"rows {row_start}+{len(data)} are not aligned to chunks of {rows}")
    kind = "vlen" if node.dtype.kind in "OT" else "bytes"
    if is_arrow(data):
        kind = "arrow"
    elif kind == "vlen" and data.dtype != object:
        data = data.astype(object)
    jobs: list[Callable[[], None]] = []
    col_chunks = (
        [(0, None)]
        if kind == "arrow" or data.ndim == 1
        else [
            (c, slice(c * node.chunks[1], (c + 1) * node.chunks[1]))
            for c in range(max(1, -(-data.shape[1] // node.chunks[1])))
        ]
    )
    for offset in range(0, len(data), rows):
        for c, cols in col_chunks:
            piece = data[offset : offset + rows]
            k = (row_start + offset) // rows
            if cols is not None:
                piece = piece[:, cols]
            key = [k] if cols is None else [k, c]

            def job(piece: Any = piece, key: list[int] = key) -> None:
                if node.optional and not piece.any():
                    return
                if kind == "arrow":
                    raw: Any = _vlen_from_arrow(piece, node.chunks[0])
                    encoded = _zstd(level).encode(raw)
                else:
                    encoded = _encode_chunk(kind, _padded(piece, tuple(node.chunks)), level)
                store.write_bytes(_chunk_path(root, node.path, key), encoded)

            jobs.append(job)
    return jobs


def write_metadata(store: Store, root: str, plan: TablePlan, level: int, attrs: dict) -> None:
    """Write every node's ``zarr.json`` and the group's, with consolidated metadata."""
    from ..format import group_document

    metas = {path: array_metadata(node, level) for path, node in plan.nodes.items()}
    child_group = {
        "attributes": {},
        "zarr_format": 3,
        "consolidated_metadata": {"kind": "inline", "must_understand": False, "metadata": {}},
        "node_type": "group",
    }
    groups = plan.groups()
    consolidated: dict[str, Any] = {g: child_group for g in sorted(groups)}
    consolidated.update(metas)
    jobs: list[Callable[[], None]] = [
        functools.partial(
            store.write_bytes, join(root, path, "zarr.json"), json.dumps(meta).encode()
        )
        for path, meta in metas.items()
    ]
    jobs += [
        functools.partial(store.write_bytes, join(root, g, "zarr.json"), group_document({}))
        for g in groups
    ]
    run_jobs(jobs, store)
    store.write_bytes(join(root, "zarr.json"), group_document(attrs, consolidated=consolidated))


def _read_chunk(store: Store, path: str, optional: bool) -> bytes | None:
    """The stored bytes of one chunk; None for a missing chunk of an optional array
    (which holds only the fill value). A missing chunk of any other array is an error:
    zdb writes every one, so it means the table was removed while being read."""
    try:
        return store.read_bytes(path)
    except FileNotFoundError:
        if optional:
            return None
        raise


@dataclass
class _ArrayRead:
    """Reading (a selection of) one array: the output and the jobs that fill it."""

    out: np.ndarray
    jobs: list[Callable[[], None]]


def _plan_read(
    store: Store,
    root: str,
    path: str,
    meta: dict[str, Any],
    rows: tuple[int, int] | None,
    cols: np.ndarray | None = None,
) -> _ArrayRead:
    kind = _direct_kind(meta)
    shape = tuple(meta["shape"])
    start, stop = rows if rows is not None else (0, shape[0])
    if kind is None:
        return _zarr_read(store, root, path, (start, stop), cols)
    dtype = _native_dtype(meta)
    chunks = tuple(meta["chunk_grid"]["configuration"]["chunk_shape"])
    optional = (meta.get("attributes", {}).get("zdb") or {}).get("role") is not None
    fill = meta.get("fill_value")
    zstd = _zstd(0)
    nrows = stop - start
    if len(shape) == 1:
        out = np.empty(nrows, dtype=dtype)
        col_groups: list[tuple[int, np.ndarray, np.ndarray]] = []
    else:
        sel = np.arange(shape[1]) if cols is None else np.asarray(cols, dtype=np.intp)
        out = np.empty((nrows, len(sel)), dtype=dtype, order="F")
        col_groups = []
        for c in np.unique(sel // chunks[1]) if len(sel) else []:
            where = np.flatnonzero(sel // chunks[1] == c)
            col_groups.append((int(c), where, sel[where] - c * chunks[1]))
    jobs: list[Callable[[], None]] = []
    rows_per = chunks[0]
    for k in range(start // rows_per, -(-stop // rows_per)) if nrows else []:
        lo, hi = max(start, k * rows_per), min(stop, (k + 1) * rows_per)
        src = slice(lo - k * rows_per, hi - k * rows_per)
        dst = slice(lo - start, hi - start)
        targets = (
            [([k], None, None)]
            if len(shape) == 1
            else [([k, c], where, within) for c, where, within in col_groups]
        )
        for key, where, within in targets:

            def job(key=key, where=where, within=within, src=src, dst=dst) -> None:
                raw = _read_chunk(store, _chunk_path(root, path, key), optional)
                if raw is None:
                    if where is None:
                        out[dst] = fill
                    else:
                        out[dst, where] = fill
                    return
                if kind == "vlen":
                    chunk = _VLEN.decode(zstd.decode(raw))
                    out[dst] = chunk[src]
                    return
                full = src.start == 0 and src.stop == chunks[0]
                if where is None and full and out.flags.c_contiguous:
                    zstd.decode(raw, out=out[dst].view(np.uint8))
                    return
                chunk = np.frombuffer(zstd.decode(raw), dtype=dtype.newbyteorder("<"))
                chunk = chunk.reshape(chunks)
                if where is None:
                    out[dst] = chunk[src]
                else:
                    out[dst, where] = chunk[src][:, within]

            jobs.append(job)
    return _ArrayRead(out, jobs)


def _zarr_read(
    store: Store, root: str, path: str, rows: tuple[int, int], cols: np.ndarray | None
) -> _ArrayRead:
    """Read an array whose codecs this module does not handle through zarr-python."""
    import zarr

    from ..zarr_util import quiet_zarr

    with quiet_zarr():
        z = zarr.open_array(store.zarr_store(join(root, path)), mode="r")
        sel: tuple[Any, ...] = (slice(*rows),)
        if z.ndim == 2:
            sel += (slice(None) if cols is None else np.asarray(cols),)
            out = np.asarray(z.oindex[sel])
        else:
            out = np.asarray(z[sel[0]])
    if out.dtype.kind == "T":
        out = out.astype(object)
    return _ArrayRead(out, [])


def write_table(
    store: Store,
    root: str,
    obj: pd.DataFrame | pd.Series | pd.Index,
    *,
    layout: str = "auto",
    chunk_rows: int | None = None,
    level: int = ZSTD_LEVEL,
) -> dict[str, Any]:
    """Write a pandas DataFrame, Series or Index as the table group at ``root``.

    Everything is encoded (and checked) before anything is written, so a value that
    cannot be stored raises UnsupportedValueError without a partial write. Returns the
    table description.
    """
    obj, plan = plan_pandas(obj, layout=layout, chunk_rows=chunk_rows)
    arrays = plan.encode_rows(obj)
    plan.prune(arrays.items())
    choose_partitions(plan, obj.index)
    write_metadata(store, root, plan, level, {"zdb": {"table": plan.table}})
    jobs: list[Callable[[], None]] = []
    for source in (arrays, plan.static):
        for path, data in source.items():
            node = plan.nodes.get(path)
            if node is not None and data is not None:
                jobs += chunk_jobs(store, root, node, data, 0, level)
    run_jobs(jobs, store)
    return plan.table


class StoredTable:
    """A table group opened for reading: its description and its arrays' metadata."""

    def __init__(self, store: Store, root: str) -> None:
        self.store = store
        self.root = root
        doc = json.loads(store.read_bytes(join(root, "zarr.json")))
        table = ((doc.get("attributes") or {}).get("zdb") or {}).get("table")
        if not isinstance(table, dict):
            from ..exceptions import CorruptKeyError

            raise CorruptKeyError(
                f"{store.full(root)} holds no zdb table description; delete the key and "
                "write it again"
            )
        if table.get("format", 1) > TABLE_FORMAT:
            raise FormatVersionError(
                f"the table at {store.full(root)} was written in table format "
                f"{table.get('format')}; this zdb reads up to {TABLE_FORMAT}: upgrade zdb"
            )
        self.table = table
        self.metas: dict[str, Any] = dict(
            ((doc.get("consolidated_metadata") or {}).get("metadata")) or {}
        )

    @property
    def where(self) -> str:
        return self.store.full(self.root)

    def meta(self, path: str) -> dict[str, Any]:
        meta = self.metas.get(path)
        if meta is None:
            meta = json.loads(self.store.read_bytes(join(self.root, path, "zarr.json")))
            self.metas[path] = meta
        return meta

    # descriptions

    def _index(self, desc: dict[str, Any], rows: tuple[int, int] | None) -> pd.Index:
        if desc["kind"] != "arrays":
            index = index_from_labels(desc)
            return index if rows is None else index[rows[0] : rows[1]]
        finishes: list[Callable[[], Any]] = []
        jobs: list[Callable[[], None]] = []
        for path in desc["arrays"]:
            slot_jobs, finish = self._slot(path, rows)
            jobs += slot_jobs
            finishes.append(finish)
        run_jobs(jobs, self.store)
        return build_index(desc, [f() for f in finishes])

    @functools.cached_property
    def columns(self) -> pd.Index:
        """The columns Index of a stored DataFrame."""
        return self._index(self.table["columns"], None)

    @functools.cached_property
    def divisions(self) -> tuple[Any, ...] | None:
        desc = self.table.get("divisions")
        return None if desc is None else tuple(self._index(desc, None))

    def positions(self, columns: Any) -> list[int] | None:
        """Positions of the columns named by ``columns`` (None: all), in that order."""
        if columns is None:
            return None
        check_has_columns(self.table, self.where)
        return column_positions(self.columns, columns, self.where)

    # reading

    def _slot(
        self, values_path: str, rows: tuple[int, int] | None
    ) -> tuple[list[Callable[[], None]], Callable[[], Any]]:
        """Jobs reading one stored pandas array, and a function decoding it after them."""
        meta = self.meta(values_path)
        enc = meta["attributes"]["zdb"]["encoding"]
        group = aux_group_of(values_path)
        if enc.get("name") == "string" and enc.get("lengths") and _direct_kind(meta) == "vlen":
            return self._arrow_strings(values_path, meta, enc, rows)
        reads = {"values": _plan_read(self.store, self.root, values_path, meta, rows)}
        for role in aux_roles(enc):
            path = f"{group}/{role}"
            reads[role] = _plan_read(self.store, self.root, path, self.meta(path), rows)
        jobs = [job for r in reads.values() for job in r.jobs]
        nested: Callable[[], Any] | None = None
        if enc.get("name") == "category":
            cat_jobs, nested = self._slot(f"{group}/categories/values", None)
            jobs += cat_jobs

        def finish() -> Any:
            parts: dict[str, Any] = {role: r.out for role, r in reads.items()}
            if nested is not None:
                parts["categories"] = nested()
            return decode_column(enc, parts, f"{values_path} in {self.where}")

        return jobs, finish

    def _arrow_strings(
        self, values_path: str, meta: dict[str, Any], enc: dict[str, Any], rows: Any
    ) -> tuple[list[Callable[[], None]], Callable[[], Any]]:
        """Read an Arrow-backed string column as Arrow: each decompressed vlen-utf8 chunk
        and the stored lengths of its items give the Arrow buffers, with no Python str
        objects (a job per chunk, as the lengths array has the same chunks)."""
        import pyarrow as pa

        group = aux_group_of(values_path)
        nrows = meta["shape"][0]
        per = meta["chunk_grid"]["configuration"]["chunk_shape"][0]
        start, stop = rows if rows is not None else (0, nrows)
        chunks = list(range(start // per, -(-stop // per))) if stop > start else []
        lengths_path = f"{group}/lengths"
        if self.meta(lengths_path)["chunk_grid"]["configuration"]["chunk_shape"][0] != per:
            raise DataBaseException(
                f"{values_path} in {self.where}: its lengths are not chunked like it; "
                "the table is damaged: delete the key and write it again"
            )
        jobs: list[Callable[[], None]] = []
        mask = None
        if enc.get("mask"):
            mask_path = f"{group}/mask"
            mask = _plan_read(self.store, self.root, mask_path, self.meta(mask_path), (start, stop))
            jobs += mask.jobs
        pieces: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        zstd = _zstd(0)

        for k in chunks:

            def job(k: int = k) -> None:
                a, b = max(start, k * per) - k * per, min(stop, (k + 1) * per) - k * per
                lens = _read_chunk(self.store, _chunk_path(self.root, lengths_path, [k]), True)
                if lens is None:
                    lengths = np.zeros(per, np.uint32)
                else:
                    lengths = np.frombuffer(zstd.decode(lens), "<u4")
                path = _chunk_path(self.root, values_path, [k])
                raw = zstd.decode(self.store.read_bytes(path))
                pieces[k] = (_vlen_items(raw, lengths, a, b), lengths[a:b])

            jobs.append(job)

        def finish() -> Any:
            data = [pieces[k][0] for k in chunks]
            lens = np.concatenate([pieces[k][1] for k in chunks]) if chunks else np.zeros(0)
            offsets = np.concatenate([[0], np.cumsum(lens, dtype=np.int64)]).astype(np.int64)
            buffer = np.concatenate(data) if data else np.zeros(0, np.uint8)
            values = pa.Array.from_buffers(
                pa.large_string(),
                len(lens),
                [None, pa.py_buffer(offsets), pa.py_buffer(buffer)],
            )
            parts = {"values": values, "mask": None if mask is None else mask.out}
            return decode_column(enc, parts, f"{values_path} in {self.where}")

        return jobs, finish

    def _rows(self, rows: tuple[int, int] | None) -> tuple[int, int]:
        nrows = self.table["nrows"]
        if rows is None:
            return 0, nrows
        return max(0, rows[0]), min(nrows, rows[1])

    def read(
        self, rows: tuple[int, int] | None = None, columns: Any = None
    ) -> pd.DataFrame | pd.Series:
        """The table (or rows ``start, stop`` of it, or only ``columns``) as pandas."""
        span = self._rows(rows)
        positions = self.positions(columns)
        table = self.table
        index_desc = table["index"]
        jobs: list[Callable[[], None]] = []
        index_finishes: list[Callable[[], Any]] = []
        if index_desc["kind"] == "arrays":
            for path in index_desc["arrays"]:
                slot_jobs, finish = self._slot(path, span)
                jobs += slot_jobs
                index_finishes.append(finish)
        if table["layout"] == "block":
            block = table["block"]["array"]
            read = _plan_read(self.store, self.root, block, self.meta(block), span, cols=positions)
            jobs += read.jobs
            column_finishes: list[Callable[[], Any]] = []
        else:
            names = table["arrays"]
            chosen = range(len(names)) if positions is None else positions
            column_finishes = []
            for p in chosen:
                slot_jobs, finish = self._slot(names[p], span)
                jobs += slot_jobs
                column_finishes.append(finish)
        run_jobs(jobs, self.store)
        if index_desc["kind"] == "arrays":
            index = build_index(index_desc, [f() for f in index_finishes])
        else:
            index = index_from_labels(index_desc)[span[0] : span[1]]
        if table["type"] == "Series":
            name = label_from_json(table.get("name"))
            values = column_finishes[0]()
            return pd.Series(values, index=index, name=name, dtype=values.dtype, copy=False)
        columns_index = self.columns if positions is None else self.columns.take(positions)
        if table["layout"] == "block":
            return pd.DataFrame(read.out, index=index, columns=columns_index, copy=False)
        data = {i: keep_object(f(), index) for i, f in enumerate(column_finishes)}
        frame = pd.DataFrame(data, index=index, copy=False) if data else pd.DataFrame(index=index)
        frame.columns = columns_index
        return frame


@functools.lru_cache(maxsize=32)
def open_table(store: Store, root: str) -> StoredTable:
    """The table at ``root``; cached, since a version folder never changes once written."""
    return StoredTable(store, root)


def read_table(store: Store, root: str, columns: Any = None) -> pd.DataFrame | pd.Series | pd.Index:
    """Read the whole table at ``root`` (or only ``columns``) as pandas."""
    table = StoredTable(store, root)
    return unwrap_index(table.table, table.read(columns=columns))
