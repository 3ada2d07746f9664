"""Small Zarr v3 arrays written and read without zarr-python.

zarr-python's asynchronous machinery costs milliseconds per array, far more than the
few file operations a small array needs, and users store thousands of small arrays.
For an array of a plain numeric dtype that fits in one chunk, this module writes
exactly what zarr-python would (the same ``zarr.json`` and the same zstd-compressed
chunk), so zarr, xarray and every other Zarr v3 reader open it as usual; larger or
exotic arrays go through zarr-python.
"""

from __future__ import annotations

import functools
import json
from typing import Any

import numpy as np

from .storage import Store, join

#: arrays up to this many bytes are written as one chunk by this module
MAX_DIRECT_BYTES = 4 * 2**20
ZSTD_LEVEL = 0  # zarr-python's default zstd configuration


@functools.cache
def _zstd() -> Any:
    import numcodecs  # 25 ms to import: only when a small array is written or read

    return numcodecs.Zstd(level=ZSTD_LEVEL)


_DTYPES = {
    np.dtype(n)
    for n in (
        "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 "
        "float16 float32 float64 complex64 complex128"
    ).split()
}


def supports(arr: np.ndarray) -> bool:
    """True if ``arr`` can be written by :func:`write_array`."""
    return arr.dtype in _DTYPES and arr.nbytes <= MAX_DIRECT_BYTES


def _fill_value(dtype: np.dtype) -> Any:
    if dtype.kind == "b":
        return False
    if dtype.kind == "c":
        return [0.0, 0.0]
    if dtype.kind == "f":
        return 0.0
    return 0


def array_metadata(
    arr: np.ndarray, dimension_names: list[str] | None, attributes: dict | None = None
) -> dict[str, Any]:
    """The Zarr v3 array metadata of ``arr`` stored as a single chunk."""
    meta: dict[str, Any] = {
        "shape": list(arr.shape),
        "data_type": arr.dtype.name,
        "chunk_grid": {
            "name": "regular",
            "configuration": {"chunk_shape": [max(1, s) for s in arr.shape]},
        },
        "chunk_key_encoding": {"name": "default", "configuration": {"separator": "/"}},
        "fill_value": _fill_value(arr.dtype),
        "codecs": [
            {"name": "bytes", "configuration": {"endian": "little"}},
            {"name": "zstd", "configuration": {"level": ZSTD_LEVEL, "checksum": False}},
        ],
        "attributes": attributes or {},
        "zarr_format": 3,
        "node_type": "array",
        "storage_transformers": [],
    }
    if dimension_names is not None:
        meta["dimension_names"] = dimension_names
    return meta


def _chunk_key(ndim: int) -> str:
    return "c" if ndim == 0 else "c/" + "/".join("0" * ndim)


def write_array(store: Store, path: str, arr: np.ndarray, meta: dict[str, Any]) -> None:
    """Write ``arr`` (see :func:`supports`) with metadata from :func:`array_metadata`."""
    if arr.size:  # the deepest file first: its folders are made in one go
        data = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<"))
        store.write_bytes(join(path, _chunk_key(arr.ndim)), _zstd().encode(data))
    store.write_bytes(join(path, "zarr.json"), json.dumps(meta).encode())


def is_direct(meta: dict[str, Any]) -> bool:
    """True if an array with this metadata is one chunk in the layout written here."""
    codecs = meta.get("codecs")
    return (
        isinstance(meta.get("data_type"), str)
        and np.dtype(meta["data_type"]) in _DTYPES
        and meta["chunk_grid"]["configuration"]["chunk_shape"] == [max(1, s) for s in meta["shape"]]
        and codecs is not None
        and [c["name"] for c in codecs] == ["bytes", "zstd"]
        and codecs[0]["configuration"].get("endian", "little") == "little"
        and meta["chunk_key_encoding"] == {"name": "default", "configuration": {"separator": "/"}}
    )


def read_array(store: Store, path: str, meta: dict[str, Any]) -> np.ndarray:
    """Read a one-chunk array (see :func:`is_direct`); a missing chunk is the fill value.

    The caller decides whether a missing chunk means an all-fill array or a version
    removed under it: this module always writes the chunk of a non-empty array.
    """
    shape = tuple(meta["shape"])
    dtype = np.dtype(meta["data_type"]).newbyteorder("<")
    if 0 in shape:
        return np.empty(shape, dtype=dtype.newbyteorder("="))
    raw = store.read_bytes(join(path, _chunk_key(len(shape))))
    out = np.frombuffer(_zstd().decode(raw), dtype=dtype).reshape(shape)
    return out.astype(dtype.newbyteorder("="), copy=not out.flags.writeable)
