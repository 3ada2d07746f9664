"""The Zarr layout of a table: its plan written as Zarr v3 arrays, and read back.

Chunks are encoded and written (and read and decoded) by :mod:`zdb.zarr_codec`, which
makes exactly the bytes zarr-python writes, as jobs on the shared thread pool: for
tables, zarr-python's per-chunk asynchronous machinery costs more than compressing
the data. An array whose metadata :mod:`zdb.zarr_codec` does not read (written by
another tool) is read through zarr-python.
"""

from __future__ import annotations

import functools
import json
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .. import zarr_codec, zarr_shards
from ..exceptions import DataBaseException
from ..storage import Store, join
from . import missing
from .chunk_files import ChunkFiles, ChunkLayout, chunk_path, damaged
from .encodings import aux_roles, decode_column, is_arrow, keep_object
from .labels import (
    build_index,
    check_has_columns,
    column_positions,
    index_from_labels,
    label_from_json,
)
from .missing import AS_IS, Guard
from .plan import (
    ArrayNode,
    TablePlan,
    aux_group_of,
    choose_partitions,
    plan_pandas,
    table_description,
    unwrap_index,
)
from .pool import run_jobs

#: zstd level of table chunks (numcodecs/zarr: 0 means zstd's default, 3)
ZSTD_LEVEL = 3


def array_metadata(node: ArrayNode, level: int) -> dict[str, Any]:
    """The Zarr v3 metadata of ``node``, as zarr-python writes it."""
    return zarr_codec.array_metadata(
        node.dtype,
        node.shape,
        node.chunks,
        dimension_names=node.dims,
        attributes=node.attrs,
        level=level,
        compressor=node.compressor,
        shards=node.shards,
    )


def chunk_jobs(
    store: Store,
    root: str,
    node: ArrayNode,
    data: np.ndarray,
    row_start: int,
    level: int,
) -> list[Callable[[], None]]:
    """Jobs writing the chunks of ``node`` covered by ``data`` (rows from ``row_start``),
    a file each, or a shard of them each when the node is sharded.

    ``row_start`` must be on a chunk (shard) boundary and ``data`` must end on one or
    at the end of the array: a job always writes whole files, so parallel writers of
    different rows never touch the same file.
    """
    rows = node.chunks[0]
    per_file = node.shards[0] if node.shards is not None else rows
    if row_start % per_file or (
        (row_start + len(data)) % per_file and row_start + len(data) != node.shape[0]
    ):
        raise AssertionError(
            f"rows {row_start}+{len(data)} are not aligned to files of {per_file} rows"
        )
    kind = "vlen" if node.dtype.kind in "OT" else "bytes"
    if is_arrow(data):
        kind = "arrow"
    elif kind == "vlen" and data.dtype != object:
        data = data.astype(object)
    col_chunks = (
        [(0, None)]
        if kind == "arrow" or data.ndim == 1
        else [
            (c, slice(c * node.chunks[1], (c + 1) * node.chunks[1]))
            for c in range(max(1, -(-data.shape[1] // node.chunks[1])))
        ]
    )

    def encode(piece: Any) -> bytes | None:
        if node.optional and not piece.any():
            return None
        if kind == "arrow":
            return zarr_codec.encode_arrow_chunk(piece, rows, level)
        return zarr_codec.encode_chunk(piece, node.chunks, level, node.compressor)

    jobs: list[Callable[[], None]] = []
    for offset in range(0, len(data), per_file):
        for c, cols in col_chunks:
            piece = data[offset : offset + per_file]
            k = (row_start + offset) // per_file
            if cols is not None:
                piece = piece[:, cols]
            key = [k] if cols is None else [k, c]

            def job(piece: Any = piece, key: list[int] = key) -> None:
                if node.shards is None:
                    encoded = encode(piece)
                    if encoded is not None:
                        store.write_bytes(chunk_path(root, node.path, key), encoded)
                    return
                # chunks beyond the array's end are left out of the shard (fill value)
                inner = [encode(piece[i : i + rows]) for i in range(0, len(piece), rows)]
                inner += [None] * (per_file // rows - len(inner))
                if any(chunk is not None for chunk in inner) or not node.optional:
                    shard = zarr_shards.encode_shard(inner)
                    store.write_bytes(chunk_path(root, node.path, key), shard)

            jobs.append(job)
    return jobs


def write_metadata(store: Store, root: str, plan: TablePlan, level: int, attrs: dict) -> None:
    """Write every node's ``zarr.json`` and the group's, with consolidated metadata."""
    from ..format import group_document

    metas = {path: array_metadata(node, level) for path, node in plan.nodes.items()}
    groups = plan.groups()
    consolidated = zarr_codec.consolidated(metas, groups)
    jobs: list[Callable[[], None]] = [
        functools.partial(store.write_bytes, join(root, path, "zarr.json"), zarr_codec.dumps(meta))
        for path, meta in metas.items()
    ]
    jobs += [
        functools.partial(store.write_bytes, join(root, g, "zarr.json"), group_document({}))
        for g in groups
    ]
    run_jobs(jobs, store)
    store.write_bytes(join(root, "zarr.json"), group_document(attrs, consolidated=consolidated))


@dataclass
class _ArrayRead:
    """Reading (a selection of) one array: the output, the jobs that fill it, and the
    chunks of an optional array found absent (read as fill values)."""

    out: np.ndarray
    jobs: list[Callable[[], None]]
    absent: list[str] = field(default_factory=list)


def _plan_read(
    store: Store,
    root: str,
    path: str,
    meta: dict[str, Any],
    rows: tuple[int, int] | None,
    guard: Guard,
    cols: np.ndarray | None = None,
    layout: ChunkLayout | None = None,
    out: np.ndarray | None = None,
) -> _ArrayRead:
    """Plan reading rows ``rows`` (and columns ``cols``) of the array at ``path``;
    ``layout``: its :class:`ChunkLayout`, when parsed before; ``out``: the array to
    read a 1-D array into (None: a new one)."""
    layout = ChunkLayout.of(meta) if layout is None else layout
    kind = layout.kind
    shape = tuple(meta["shape"])
    start, stop = rows if rows is not None else (0, shape[0])
    optional = is_optional(meta)
    if kind is None:
        return _zarr_read(store, root, path, (start, stop), cols, guard, optional)
    dtype = layout.dtype
    files = ChunkFiles(store, root, path, layout)
    chunks = files.chunks
    compressor = layout.compressor
    fill = meta.get("fill_value")
    absent: list[str] | None = [] if optional else None
    nrows = stop - start
    if len(shape) == 1:
        out = np.empty(nrows, dtype=dtype) if out is None else out
        col_groups: list[tuple[int, np.ndarray, np.ndarray]] = []
    else:
        sel = np.arange(shape[1]) if cols is None else np.asarray(cols, dtype=np.intp)
        out = np.empty((nrows, len(sel)), dtype=dtype, order="F")
        col_groups = []
        for c in np.unique(sel // chunks[1]) if len(sel) else []:
            where = np.flatnonzero(sel // chunks[1] == c)
            col_groups.append((int(c), _span(where), _span(sel[where] - c * chunks[1])))

    def place(raw: bytes | None, where: Any, within: Any, src: slice, dst: slice) -> None:
        if raw is None:
            if where is None:
                out[dst] = fill
            else:
                out[dst, where] = fill
            return
        full = src.start == 0 and src.stop == chunks[0]
        if kind == "bytes" and where is None and full and out.flags.c_contiguous:
            # straight into the output: no chunk-sized copy
            zarr_codec.decompress(raw, out[dst].view(np.uint8), compressor)
            return
        chunk = _decoded(raw, kind, dtype, chunks, compressor)
        if where is None:
            out[dst] = chunk[src]
        else:
            out[dst, where] = chunk[src, within]

    # the chunks to read, grouped by the file (chunk or shard) holding them
    by_file: dict[tuple[int, ...], list[tuple[list[int], Any, Any, slice, slice]]] = {}
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
            by_file.setdefault(files.file_of(key), []).append((key, where, within, src, dst))
    jobs: list[Callable[[], None]] = []
    for file_key, members in by_file.items():

        def job(file_key: tuple[int, ...] = file_key, members: list = members) -> None:
            raws = files.read(file_key, [m[0] for m in members], absent)
            for raw, (_, where, within, src, dst) in zip(raws, members, strict=True):
                place(raw, where, within, src, dst)

        jobs.append(job)
    return _ArrayRead(out, jobs, absent if absent is not None else [])


def _span(positions: np.ndarray) -> slice | np.ndarray:
    """``positions`` as a slice where they are consecutive: a slice selects and assigns
    without the copy an index array makes."""
    if len(positions) and positions[-1] - positions[0] == len(positions) - 1:
        return slice(int(positions[0]), int(positions[-1]) + 1)
    return positions


#: bytes of a slab of columns read at once (see :meth:`StoredTable._slabs`)
SLAB_BYTES = 16 * 2**20
#: the largest chunk decoded into its thread's reused buffer (larger ones are allocated)
SCRATCH_BYTES = 16 * 2**20
_scratch = threading.local()


def _decompressed(raw: Any, nbytes: int, compressor: Any = None) -> Any:
    """The chunk ``raw`` decompressed, to be used before its thread decompresses the
    next one: into a buffer the thread reuses when the chunk's header gives ``nbytes``
    (not allocated for each chunk, nor, in a dask worker, whose nanny sets
    ``MALLOC_TRIM_THRESHOLD_``, mapped and faulted in afresh); else as any chunk,
    whatever its size: the caller checks what it got (its shape, or Arrow its offsets)."""
    if nbytes > SCRATCH_BYTES or zarr_codec.content_size(raw, compressor) != nbytes:
        return zarr_codec.decompress(raw, compressor=compressor)
    buffer = getattr(_scratch, "buffer", None)
    if buffer is None or len(buffer) < nbytes:
        buffer = _scratch.buffer = np.empty(nbytes, np.uint8)
    return zarr_codec.decompress(raw, buffer[:nbytes], compressor)


def _decoded(
    raw: bytes, kind: str, dtype: np.dtype, shape: Sequence[int], compressor: Any
) -> np.ndarray:
    """The chunk ``raw`` decoded (as :func:`zdb.zarr_codec.decode_chunk`), to be copied
    into a read's output at once (see :func:`_decompressed`)."""
    if kind != "bytes":
        return zarr_codec.decode_chunk(raw, kind, dtype, shape, compressor)
    body = _decompressed(raw, math.prod(shape) * dtype.itemsize, compressor)
    return np.frombuffer(body, dtype=dtype.newbyteorder("<")).reshape(shape)


def is_optional(meta: dict[str, Any]) -> bool:
    """True for an auxiliary array, which leaves out chunks equal to its fill value."""
    return (meta.get("attributes", {}).get("zdb") or {}).get("role") is not None


def _zarr_read(
    store: Store,
    root: str,
    path: str,
    rows: tuple[int, int],
    cols: np.ndarray | None,
    guard: Guard,
    optional: bool,
) -> _ArrayRead:
    """Read an array whose codecs this module does not handle through zarr-python,
    which raises the guard's error for a missing chunk (but of an optional array)."""
    import zarr

    from ..zarr_store import CheckedStore
    from ..zarr_util import quiet_zarr

    zstore = CheckedStore(store.zarr_store(join(root, path)), guard, ("c",) if optional else ())
    with quiet_zarr():
        z = zarr.open_array(zstore, mode="r")
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
    plan.choose_compressors(arrays, level)
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
    """A table group opened for reading: its description and its arrays' metadata.

    ``guard`` gives the error for a file found missing (see :mod:`.missing`)."""

    def __init__(self, store: Store, root: str, guard: Guard = AS_IS) -> None:
        self.store = store
        self.root = root
        self.guard = guard
        doc = json.loads(missing.read_bytes(store, join(root, "zarr.json"), guard))
        table = table_description(doc, store.full(root))
        self.table = table
        self.metas: dict[str, Any] = dict(
            ((doc.get("consolidated_metadata") or {}).get("metadata")) or {}
        )
        self.layouts: dict[str, ChunkLayout] = {}

    @property
    def where(self) -> str:
        return self.store.full(self.root)

    def layout(self, path: str) -> ChunkLayout:
        """The parsed chunk layout of the array at ``path`` (kept: the table is cached)."""
        layout = self.layouts.get(path)
        if layout is None:
            layout = self.layouts[path] = ChunkLayout.of(self.meta(path))
        return layout

    def meta(self, path: str) -> dict[str, Any]:
        meta = self.metas.get(path)
        if meta is None:
            path_json = join(self.root, path, "zarr.json")
            meta = json.loads(missing.read_bytes(self.store, path_json, self.guard))
            self.metas[path] = meta
        return meta

    # descriptions

    def _index(self, desc: dict[str, Any], rows: tuple[int, int] | None) -> pd.Index:
        if desc["kind"] != "arrays":
            index = index_from_labels(desc)
            return index if rows is None else index[rows[0] : rows[1]]
        batch = _Batch()
        finishes = [self._slot(path, rows, batch) for path in desc["arrays"]]
        self._run(batch)
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

    def column_chunks(self, positions: list[int] | None) -> list[int]:
        """The stored chunk (along the columns) of each column at ``positions`` (None:
        all): columns of a 2-D block share chunks, which a reader decodes whole; a
        column stored as an array of its own is a chunk of its own."""
        chosen = np.arange(len(self.columns)) if positions is None else np.asarray(positions)
        if self.table["layout"] != "block":
            return chosen.tolist()
        chunks = self.layout(self.table["block"]["array"]).chunks  # () if zarr-python reads it
        width = max(1, int(chunks[1])) if len(chunks) == 2 else 1
        return (chosen // width).tolist()

    # reading

    def _array(
        self,
        path: str,
        rows: tuple[int, int] | None,
        batch: _Batch,
        cols: np.ndarray | None = None,
        out: np.ndarray | None = None,
    ) -> _ArrayRead:
        """Plan reading (rows ``rows`` and columns ``cols`` of) the array at ``path``
        (into ``out``, when given)."""
        meta, layout = self.meta(path), self.layout(path)
        read = _plan_read(self.store, self.root, path, meta, rows, self.guard, cols, layout, out)
        batch.jobs += read.jobs
        batch.absent.append(read.absent)
        return read

    def _run(self, batch: _Batch) -> None:
        """Run a batch's jobs; raise the guard's error for a missing chunk, or for
        absent chunks of optional arrays when the version is gone meanwhile."""
        missing.run(batch.jobs, self.store, self.guard)
        missing.check_absent(self.guard, [path for found in batch.absent for path in found])

    def _slot(
        self,
        values_path: str,
        rows: tuple[int, int] | None,
        batch: _Batch,
        out: np.ndarray | None = None,
    ) -> Callable[[], Any]:
        """Plan reading one stored pandas array into ``batch`` (its values into
        ``out``, when given); returns a function that decodes it once the batch has
        run."""
        meta = self.meta(values_path)
        enc = meta["attributes"]["zdb"]["encoding"]
        group = aux_group_of(values_path)
        vlen = self.layout(values_path).zstd_strings
        if enc.get("name") == "string" and enc.get("lengths") and vlen:
            return self._arrow_strings(values_path, meta, enc, rows, batch)
        reads = {"values": self._array(values_path, rows, batch, out=out)}
        for role in aux_roles(enc):
            reads[role] = self._array(f"{group}/{role}", rows, batch)
        nested: Callable[[], Any] | None = None
        if enc.get("name") == "category":
            nested = self._slot(f"{group}/categories/values", None, batch)

        def finish() -> Any:
            parts: dict[str, Any] = {role: r.out for role, r in reads.items()}
            if nested is not None:
                parts["categories"] = nested()
            return decode_column(enc, parts, f"{values_path} in {self.where}")

        return finish

    def _arrow_strings(
        self,
        values_path: str,
        meta: dict[str, Any],
        enc: dict[str, Any],
        rows: tuple[int, int] | None,
        batch: _Batch,
    ) -> Callable[[], Any]:
        """Read an Arrow-backed string column as Arrow: each decompressed vlen-utf8 chunk
        and the stored lengths of its items give an Arrow array, with no Python str
        objects (a job per chunk, as the lengths array has the same chunks); a row range
        over several chunks is a chunked array of them, not joined."""
        import pyarrow as pa

        group = aux_group_of(values_path)
        nrows = meta["shape"][0]
        lengths_path = f"{group}/lengths"
        values_files = ChunkFiles(self.store, self.root, values_path, self.layout(values_path))
        lengths_files = ChunkFiles(self.store, self.root, lengths_path, self.layout(lengths_path))
        per = values_files.chunks[0]
        start, stop = rows if rows is not None else (0, nrows)
        chunks = list(range(start // per, -(-stop // per))) if stop > start else []
        if (lengths_files.chunks[0], lengths_files.per_file) != (per, values_files.per_file):
            raise DataBaseException(
                f"{values_path} in {self.where}: its lengths are not chunked like it; "
                "the table is damaged: delete the key and write it again"
            )
        mask = self._array(f"{group}/mask", (start, stop), batch) if enc.get("mask") else None
        pieces: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        absent: list[str] = []
        batch.absent.append(absent)
        by_file: dict[tuple[int, ...], list[int]] = {}
        for k in chunks:
            by_file.setdefault(values_files.file_of([k]), []).append(k)

        for file_key, members in by_file.items():

            def job(file_key: tuple[int, ...] = file_key, members: list[int] = members) -> None:
                keys = [[k] for k in members]
                all_lengths = lengths_files.read(file_key, keys, absent)
                all_values = values_files.read(file_key, keys, None)
                for k, lens, raw_values in zip(members, all_lengths, all_values, strict=True):
                    a, b = max(start, k * per) - k * per, min(stop, (k + 1) * per) - k * per
                    if lens is None:
                        lengths = np.zeros(per, np.uint32)
                    else:
                        lengths = zarr_codec.decode_chunk(lens, "bytes", np.dtype("<u4"), (per,))
                    if raw_values is None:  # a chunk of empty strings left out of its shard
                        offsets = pa.py_buffer(np.zeros(b - a + 1, np.int64))
                        buffers = [None, offsets, pa.py_buffer(b"")]
                        pieces[k] = pa.Array.from_buffers(pa.large_string(), b - a, buffers)
                        continue
                    # as numcodecs' VLenUTF8 writes it: a count, and each length and item
                    size = 4 + 4 * per + int(lengths.sum(dtype=np.int64))
                    raw = _decompressed(raw_values, size)
                    try:
                        pieces[k] = zarr_codec.vlen_arrow(raw, lengths, a, b)
                    except ValueError as e:
                        where = self.store.full(chunk_path(self.root, values_path, file_key))
                        raise damaged(where, str(e)) from None

            batch.jobs.append(job)

        def finish() -> Any:
            arrays = [pieces[k] for k in chunks]
            values = arrays[0] if len(arrays) == 1 else pa.chunked_array(arrays, pa.large_string())
            parts = {"values": values, "mask": None if mask is None else mask.out}
            return decode_column(enc, parts, f"{values_path} in {self.where}")

        return finish

    def _slabs(self, paths: list[str], nrows: int) -> list[np.ndarray | None]:
        """Arrays to read ``nrows`` rows of the arrays at ``paths`` into: for columns
        stored as plain numbers, rows of 2-D slabs of one dtype of about
        :data:`SLAB_BYTES` (None for the others, which get arrays of their own).

        A dask worker's nanny sets ``MALLOC_TRIM_THRESHOLD_``, which fixes glibc's mmap
        threshold: every column of 128 KiB or more is then mapped afresh and faulted in
        page by page (37 ms for 22 columns of 2.3 MB). NumPy asks for huge pages for
        arrays of 4 MiB and more, and glibc keeps buffers up to 32 MiB on its heap in a
        plain process: slabs between the two are faulted in 2 MiB at a time (7 ms).
        A slab lives as long as any of its columns."""
        chosen: dict[np.dtype, list[int]] = {}
        for i, path in enumerate(paths):
            layout = self.layout(path)
            enc = self.meta(path)["attributes"]["zdb"]["encoding"]
            if enc.get("name") == "plain" and layout.kind == "bytes" and layout.dtype is not None:
                chosen.setdefault(layout.dtype, []).append(i)
        outs: list[np.ndarray | None] = [None] * len(paths)
        for dtype, members in chosen.items():
            per_slab = max(1, SLAB_BYTES // max(1, nrows * dtype.itemsize))
            for lo in range(0, len(members), per_slab):
                group = members[lo : lo + per_slab]
                slab = np.empty((len(group), nrows), dtype=dtype)
                for i, row in zip(group, slab, strict=True):
                    outs[i] = row
        return outs

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
        batch = _Batch()
        index_finishes: list[Callable[[], Any]] = []
        if index_desc["kind"] == "arrays":
            index_finishes = [self._slot(path, span, batch) for path in index_desc["arrays"]]
        column_finishes: list[Callable[[], Any]] = []
        if table["layout"] == "block":
            read = self._array(table["block"]["array"], span, batch, cols=positions)
        else:
            names = table["arrays"]
            chosen = range(len(names)) if positions is None else positions
            outs = self._slabs([names[p] for p in chosen], span[1] - span[0])
            column_finishes = [
                self._slot(names[p], span, batch, out) for p, out in zip(chosen, outs, strict=True)
            ]
        self._run(batch)
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


@dataclass
class _Batch:
    """The jobs of one read, run together, and the absent chunk paths they found."""

    jobs: list[Callable[[], None]] = field(default_factory=list)
    absent: list[list[str]] = field(default_factory=list)


@functools.lru_cache(maxsize=32)
def open_table(store: Store, root: str, guard: Guard = AS_IS) -> StoredTable:
    """The table at ``root``; cached, since a version folder never changes once written."""
    return StoredTable(store, root, guard)


def read_table(
    store: Store, root: str, columns: Any = None, guard: Guard = AS_IS
) -> pd.DataFrame | pd.Series | pd.Index:
    """Read the whole table at ``root`` (or only ``columns``) as pandas."""
    table = StoredTable(store, root, guard)
    return unwrap_index(table.table, table.read(columns=columns))
