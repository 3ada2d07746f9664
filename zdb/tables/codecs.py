"""Which compressor each array of a table gets.

Numbers (integers, floats, times; two bytes and more) are Blosc-compressed with a byte
shuffle and zstd at level 1: grouping each value's bytes by significance first lets
the fast zstd level compress them as well as level 3 does alone, and they decompress
about three times as fast, which is what reading a few columns of a large table costs.
Everything else (strings, bools, 1-byte codes, masks) stays plain zstd. Blosc is a
Zarr v3 core codec, so zarr-python and xarray read these arrays as before.

Where the data is at hand (a pandas write, or a dask write given a ``sample`` of its
rows), a sample of each numeric array is compressed both ways and zstd alone is kept
when Blosc would store it in clearly more bytes (floats whose low bytes are noise,
mostly-missing columns such as an activation table's later times): the table's size
stays where zstd put it, and such chunks decompress straight into their output,
without c-blosc's temporary block, which a dask worker (whose nanny fixes glibc's mmap
threshold) maps and faults in afresh for every chunk. (Blosc without the shuffle is
not tried: on those columns it stores about as much as zstd alone and decodes no
faster, and a third encoding of every sample made pandas writes 10 % slower.) A dask
write without a sample decides from the dtype alone (its partitions are written by
tasks after the metadata).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import zarr_codec

#: Blosc's block: 1 MiB compresses sparse columns better than its default
BLOSC_BLOCK_BYTES = 2**20
#: Blosc's block in a 2-D block's chunks (dense samples such as voltage traces): they
#: compress as well in 256 KiB blocks, and c-blosc allocates twice its block for each
#: chunk it decompresses, which a dask worker (whose nanny fixes glibc's mmap
#: threshold) maps and faults in afresh: 1.2 ms per chunk with 1 MiB blocks, 0.6 with
#: 256 KiB (0.30 and 0.34 ms in a plain process)
BLOSC_BLOCK_BYTES_2D = 2**18
#: rows of a column compressed both ways to choose its compressor
SAMPLE_BYTES = 2**20
#: Blosc is kept where it stores the sample in at most this many times zstd's bytes
BLOSC_SIZE_SLACK = 1.1


def numeric_compressor(
    dtype: np.dtype, block_bytes: int = BLOSC_BLOCK_BYTES
) -> dict[str, Any] | None:
    """The Blosc codec (of ``block_bytes`` blocks) for a row-aligned array of
    ``dtype``, or None for plain zstd."""
    dtype = np.dtype(dtype)
    if dtype.kind not in "iufcmM" or dtype.itemsize < 2:
        return None
    return zarr_codec.blosc(dtype.itemsize, "zstd", 1, "shuffle", blocksize=block_bytes)


def choose_compressor(compressor: dict[str, Any], data: np.ndarray, level: int) -> dict | None:
    """``compressor`` (Blosc), or None (zstd at ``level``) when Blosc stores a sample of
    ``data`` in more than :data:`BLOSC_SIZE_SLACK` times zstd's bytes."""
    rows = max(1, SAMPLE_BYTES // max(1, data.itemsize * int(np.prod(data.shape[1:]))))
    sample = np.ascontiguousarray(data[:rows])
    if sample.size == 0:
        return compressor
    blosc = len(zarr_codec.encode_chunk(sample, sample.shape, level, compressor))
    zstd = len(zarr_codec.encode_chunk(sample, sample.shape, level))
    return compressor if blosc <= BLOSC_SIZE_SLACK * zstd else None
