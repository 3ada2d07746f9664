"""Where the chunks of one Zarr array are and how a read gets them: a file per chunk,
or several chunks in a shard file (:mod:`zdb.zarr_shards`).

A shard is read by byte ranges. Its first read takes the last
:data:`SHARD_TAIL_BYTES` of the file in one request: the whole shard when it is no
larger (then its index and its chunks come from that one request), else its index and
a second request for the chunks. The index is kept (a written version never changes),
so a later read of the same shard is one request for the chunks it needs.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from .. import zarr_codec, zarr_shards
from ..exceptions import DataBaseException
from ..storage import Store, join

#: a shard up to this size is read whole at its first read: one request
SHARD_TAIL_BYTES = 2**20
#: shard indexes kept per process
INDEXES_KEPT = 4096


def chunk_path(root: str, path: str, index: Sequence[int]) -> str:
    """The file of the chunk (or shard) at grid position ``index`` of the array ``path``."""
    return join(root, path, zarr_codec.chunk_key(index))


def read_chunk(store: Store, path: str, absent: list[str] | None) -> bytes | None:
    """The stored bytes of one chunk (or shard). A missing file of an optional array
    (``absent`` given) holds only the fill value: None, and its path noted in
    ``absent``. A missing file of any other array raises FileNotFoundError: zdb writes
    every one (see :mod:`.missing`)."""
    try:
        return store.read_bytes(path)
    except FileNotFoundError:
        if absent is None:
            raise
        absent.append(path)
        return None


def damaged(where: str, what: str) -> DataBaseException:
    """The error for a damaged chunk file of a table."""
    return DataBaseException(
        f"{where}: {what}; the table is damaged: delete the key and write it again"
    )


class _Indexes:
    """The checked indexes of the shards read, by store and path, the oldest dropped
    beyond :data:`INDEXES_KEPT`."""

    def __init__(self) -> None:
        self._kept: OrderedDict[tuple[Store, str], np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, store: Store, path: str) -> np.ndarray | None:
        with self._lock:
            return self._kept.get((store, path))

    def put(self, store: Store, path: str, index: np.ndarray) -> None:
        with self._lock:
            self._kept[(store, path)] = index
            while len(self._kept) > INDEXES_KEPT:
                self._kept.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()


#: the shard indexes of this process
indexes = _Indexes()


@dataclass(frozen=True)
class ChunkLayout:
    """What reading an array's chunks takes from its metadata, parsed once per table."""

    #: "bytes" or "vlen" (see ``zarr_codec.chunk_kind``); None: read through zarr-python
    kind: str | None
    #: vlen-utf8 chunks compressed with zstd alone (read as Arrow strings)
    zstd_strings: bool
    dtype: np.dtype | None = None
    chunks: tuple[int, ...] = ()
    #: chunks per file along each dimension (all 1 without shards)
    per_file: tuple[int, ...] = ()
    compressor: Any = None

    @property
    def sharded(self) -> bool:
        return any(p > 1 for p in self.per_file)

    @classmethod
    def of(cls, meta: dict[str, Any]) -> ChunkLayout:
        kind = zarr_codec.chunk_kind(meta, blosc=True, sharded=True)
        zstd_strings = zarr_codec.chunk_kind(meta, sharded=True) == "vlen"
        if kind is None:
            return cls(None, zstd_strings)
        chunks = zarr_codec.chunk_shape(meta)
        shards = zarr_codec.shard_shape(meta) or chunks
        return cls(
            kind,
            zstd_strings,
            zarr_codec.numpy_dtype(meta),
            chunks,
            tuple(s // c for s, c in zip(shards, chunks, strict=True)),
            zarr_codec.compressor_of(meta),
        )


class ChunkFiles:
    """The chunks of one array: a file each, or inside shards. :meth:`read` gets the
    chunks of one file (a job per file), so a shard is read once however many of its
    chunks a read needs."""

    def __init__(self, store: Store, root: str, path: str, layout: ChunkLayout) -> None:
        self.store = store
        self.root = root
        self.path = path
        self.chunks = layout.chunks
        self.per_file = layout.per_file
        self.sharded = layout.sharded

    def file_of(self, key: Sequence[int]) -> tuple[int, ...]:
        """The grid position of the file holding chunk ``key``."""
        return tuple(k // p for k, p in zip(key, self.per_file, strict=True))

    def read(
        self, file_key: Sequence[int], keys: Sequence[Sequence[int]], absent: list[str] | None
    ) -> list[bytes | memoryview | None]:
        """The encoded bytes of the chunks ``keys`` (all in the file ``file_key``); None
        for a chunk holding only the fill value (or in a missing file of an optional
        array, noted in ``absent``)."""
        where = chunk_path(self.root, self.path, file_key)
        if not self.sharded:
            raw = read_chunk(self.store, where, absent)
            return [raw for _ in keys]
        try:
            index, whole = self._index(where)
        except FileNotFoundError:
            if absent is None:
                raise
            absent.append(where)
            return [None for _ in keys]
        inner = [tuple(k % p for k, p in zip(key, self.per_file, strict=True)) for key in keys]
        spans = index[[int(np.ravel_multi_index(i, self.per_file)) for i in inner]]
        present = spans[:, 0] != zarr_shards.EMPTY
        if not present.any():
            return [None for _ in keys]
        # Python ints: offsets read from disk may be anything, and uint64 sums wrap
        lo = min(int(o) for o in spans[present, 0])
        hi = max(int(o) + int(n) for o, n in spans[present])
        body_end = None if whole is None else len(whole) - zarr_shards.index_bytes(len(index))
        # memoryviews: each chunk's bytes are decoded from the read buffer, not copied
        if body_end is not None and hi <= body_end:
            body = memoryview(whole)[lo:hi]
        else:
            body = memoryview(self.store.read_range(where, lo, hi))
        if len(body) != hi - lo:
            raise damaged(self.store.full(where), "the shard is shorter than its index says")
        return [
            body[int(o) - lo : int(o) - lo + int(n)] if ok else None
            for (o, n), ok in zip(spans, present, strict=True)
        ]

    def _index(self, where: str) -> tuple[np.ndarray, bytes | None]:
        """The shard's checked index, and the whole shard when this read got it."""
        index = indexes.get(self.store, where)
        if index is not None:
            return index, None
        nchunks = int(np.prod(self.per_file))
        size = zarr_shards.index_bytes(nchunks)
        tail = self.store.read_range(where, -max(size, SHARD_TAIL_BYTES))
        try:
            index = zarr_shards.read_index(tail[-size:], nchunks, self.store.full(where))
        except zarr_shards.ShardError as e:
            raise damaged(self.store.full(where), str(e)) from None
        indexes.put(self.store, where, index)
        return index, (tail if len(tail) < max(size, SHARD_TAIL_BYTES) else None)
