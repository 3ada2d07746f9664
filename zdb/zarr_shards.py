"""Zarr v3 shards: the ``sharding_indexed`` codec, as zarr-python writes and reads it.

A shard is one file holding several chunks of an array: their encoded bytes one after
the other, then an index of ``(offset, length)`` pairs (little-endian uint64, one pair
per chunk of the shard in C order; ``2**64 - 1`` twice for a chunk holding only the
fill value) and the CRC32C checksum of the index. Tables written in large row ranges
store their row arrays in shards of a range each: on a disk or a cluster file system
each file created costs about as much as compressing a chunk, so fewer files write
faster, and an inode quota lasts longer. zarr-python and xarray read shards as any
other array.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

import numpy as np

#: the index codecs zarr-python writes by default (and the only ones read here)
INDEX_CODECS = [{"name": "bytes", "configuration": {"endian": "little"}}, {"name": "crc32c"}]
#: offset and length of a chunk left out of its shard (only the fill value)
EMPTY = 2**64 - 1
_CHECKSUM_BYTES = 4


class ShardError(ValueError):
    """A shard whose index is damaged (checksum, size or offsets)."""


def sharding_codec(chunks: Sequence[int], codecs: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``sharding_indexed`` codec of shards of chunks of shape ``chunks``, each
    encoded with ``codecs``, the index at the end (zarr-python's defaults)."""
    return {
        "name": "sharding_indexed",
        "configuration": {
            "chunk_shape": [int(c) for c in chunks],
            "codecs": codecs,
            "index_codecs": INDEX_CODECS,
            "index_location": "end",
        },
    }


def inner_layout(meta: dict[str, Any]) -> tuple[tuple[int, ...], list[dict[str, Any]]] | None:
    """The chunk shape and the chunk codecs inside the shards of an array whose only
    codec is ``sharding_indexed`` with the index this module reads; None for an array
    without shards or with another index (read it through zarr-python)."""
    codecs = meta.get("codecs") or []
    if len(codecs) != 1 or codecs[0].get("name") != "sharding_indexed":
        return None
    conf = codecs[0].get("configuration") or {}
    if conf.get("index_codecs") != INDEX_CODECS or conf.get("index_location", "end") != "end":
        return None
    chunks, inner = conf.get("chunk_shape"), conf.get("codecs")
    grid = ((meta.get("chunk_grid") or {}).get("configuration") or {}).get("chunk_shape")
    if not isinstance(chunks, list) or not isinstance(inner, list) or not isinstance(grid, list):
        return None
    if len(chunks) != len(grid) or any(c < 1 or g % c for c, g in zip(chunks, grid, strict=True)):
        return None  # shards must hold whole chunks
    return tuple(int(c) for c in chunks), inner


@functools.cache
def _crc32c() -> Any:
    import numcodecs

    return numcodecs.CRC32C()


def encode_shard(chunks: Sequence[bytes | None]) -> bytes:
    """The bytes of a shard of the encoded ``chunks`` (in C order of the shard's chunk
    grid; None for a chunk left out, read as the fill value)."""
    index = np.full((len(chunks), 2), EMPTY, dtype="<u8")
    offset = 0
    for i, chunk in enumerate(chunks):
        if chunk is not None:
            index[i] = offset, len(chunk)
            offset += len(chunk)
    body = b"".join(c for c in chunks if c is not None)
    return body + bytes(_crc32c().encode(index.tobytes()))


def index_bytes(nchunks: int) -> int:
    """The bytes of the index (and its checksum) at the end of a shard of ``nchunks``."""
    return 16 * nchunks + _CHECKSUM_BYTES


def read_index(tail: bytes, nchunks: int, where: str) -> np.ndarray:
    """The ``(nchunks, 2)`` index of a shard (named ``where`` in errors) from its last
    :func:`index_bytes` bytes, its checksum checked."""
    size = index_bytes(nchunks)
    if len(tail) != size:
        raise ShardError(f"{where}: a shard of {len(tail)} bytes cannot hold its index")
    try:
        body = bytes(_crc32c().decode(tail))
    except RuntimeError as e:  # numcodecs' checksum mismatch
        raise ShardError(f"{where}: the shard index is damaged ({e})") from None
    return np.frombuffer(body, dtype="<u8").reshape(nchunks, 2)
