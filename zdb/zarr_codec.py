"""The bytes zarr-python writes: Zarr v3 array metadata, chunk keys and chunk codecs.

zdb writes small arrays (``numpy_to_zarr``) and table columns (:mod:`zdb.tables`)
without zarr-python: its per-call asynchronous machinery costs milliseconds per array,
more than compressing a table's chunks, and importing it costs more than storing a few
small arrays. This module writes exactly what zarr-python 3 writes for the same array
and codecs (``tests/test_zarr_codec.py`` compares the two byte for byte for every data
type and codec configuration zdb writes, and reads what this module writes with
zarr-python), following the Zarr v3 specification and zarr-python's data types beyond
it (``numpy.datetime64``, ``numpy.timedelta64``, ``string``, ``raw_bytes``).

The codecs written are ``bytes`` (little endian) or ``vlen-utf8`` (strings), then
``zstd`` (or, where asked, ``blosc`` with a byte shuffle: exact floats compress better
with their bytes grouped by significance), on a regular chunk grid with the default
chunk key encoding; arrays with other metadata are read through zarr-python.
Compression is numcodecs', which zarr-python itself uses for these codecs; it is
imported on first use (25 ms).
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Sequence
from typing import Any

import numpy as np

from .storage import Store, join
from .zarr_shards import inner_layout, sharding_codec

#: the documents of a Zarr node (v3 and v2); a name no array or group may take
METADATA_FILES = frozenset({"zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata"})
#: zarr-python's default zstd configuration (level 0: zstd's default level, 3)
DEFAULT_ZSTD_LEVEL = 0
#: the chunk key encoding written: ``c/<i>/<j>/...`` (``c`` for a 0-d array)
CHUNK_KEY_ENCODING = {"name": "default", "configuration": {"separator": "/"}}
#: the same with ``.``: ``c.<i>.<j>``, every chunk a file of the array's folder (no
#: folder per dimension to create and remove)
FLAT_CHUNK_KEY_ENCODING = {"name": "default", "configuration": {"separator": "."}}

#: the Zarr v3 data types of numpy's number kinds, by numpy dtype name
_NUMERIC = frozenset(
    "bool int8 int16 int32 int64 uint8 uint16 uint32 uint64 "
    "float16 float32 float64 complex64 complex128".split()
)
_NAT = int(np.iinfo(np.int64).min)


# -- metadata ---------------------------------------------------------------------------


@functools.cache
def is_numeric(dtype: np.dtype) -> bool:
    """True for the numeric dtypes of the Zarr v3 core (bool, ints, floats, complex)."""
    dtype = np.dtype(dtype)
    return dtype.kind in "biufc" and dtype.newbyteorder("=").name in _NUMERIC


def data_type(dtype: np.dtype) -> str | dict[str, Any]:
    """The Zarr v3 ``data_type`` of ``dtype``; ValueError for one this module does not
    write (it goes through zarr-python, or is refused)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "OT":
        return "string"
    if dtype.kind in "mM" and np.datetime_data(dtype)[1] == 1:
        name = "numpy.datetime64" if dtype.kind == "M" else "numpy.timedelta64"
        return {
            "name": name,
            "configuration": {"unit": np.datetime_data(dtype)[0], "scale_factor": 1},
        }
    if dtype.kind == "V" and dtype.fields is None and dtype.subdtype is None:
        return {"name": "raw_bytes", "configuration": {"length_bytes": dtype.itemsize}}
    if is_numeric(dtype):
        return dtype.newbyteorder("=").name
    raise ValueError(f"no Zarr data type written by zdb for numpy dtype {dtype}")


def fill_value(dtype: np.dtype) -> Any:
    """zarr-python's default fill value of ``dtype`` as JSON: zero, NaT, "" or zero bytes."""
    dtype = np.dtype(dtype)
    if dtype.kind in "OT":
        return ""
    if dtype.kind in "mM":
        return _NAT
    if dtype.kind == "V":
        return base64.b64encode(bytes(dtype.itemsize)).decode()
    if dtype.kind == "b":
        return False
    if dtype.kind == "c":
        return [0.0, 0.0]
    if dtype.kind == "f":
        return 0.0
    return 0


def _has_endianness(dtype: np.dtype) -> bool:
    return dtype.kind in "iufcmM" and dtype.itemsize > 1


#: the Blosc compressors and shuffles zdb writes and reads (zarr-python's names)
BLOSC_CNAMES = frozenset({"lz4", "lz4hc", "zstd", "zlib", "blosclz"})
BLOSC_SHUFFLES = {"noshuffle": 0, "shuffle": 1, "bitshuffle": 2}


def blosc(
    typesize: int,
    cname: str = "lz4",
    clevel: int = 5,
    shuffle: str = "shuffle",
    blocksize: int = 0,
) -> dict:
    """The ``blosc`` codec of zarr-python's ``BloscCodec`` for items of ``typesize``
    bytes (``blocksize`` 0: Blosc's choice), for :func:`array_metadata`'s
    ``compressor``."""
    return {
        "name": "blosc",
        "configuration": {
            "typesize": int(typesize),
            "cname": cname,
            "clevel": int(clevel),
            "shuffle": shuffle,
            "blocksize": int(blocksize),
        },
    }


def codecs(dtype: np.dtype, level: int, compressor: dict | None = None) -> list[dict[str, Any]]:
    """The codec chain of an array of ``dtype``: ``bytes`` or ``vlen-utf8``, then zstd
    at ``level`` (or ``compressor``, a codec from :func:`blosc`)."""
    dtype = np.dtype(dtype)
    if dtype.kind in "OT":
        first: dict[str, Any] = {"name": "vlen-utf8", "configuration": {}}
    elif _has_endianness(dtype):
        first = {"name": "bytes", "configuration": {"endian": "little"}}
    else:
        first = {"name": "bytes"}
    if compressor is not None:
        return [first, compressor]
    return [first, {"name": "zstd", "configuration": {"level": level, "checksum": False}}]


def array_metadata(
    dtype: np.dtype,
    shape: Sequence[int],
    chunks: Sequence[int],
    *,
    dimension_names: Sequence[str] | None = None,
    attributes: dict[str, Any] | None = None,
    level: int = DEFAULT_ZSTD_LEVEL,
    compressor: dict | None = None,
    flat_chunk_keys: bool = False,
    shards: Sequence[int] | None = None,
) -> dict[str, Any]:
    """The ``zarr.json`` document (as a dict) zarr-python writes for an array of
    ``dtype`` and ``shape`` in chunks of ``chunks``, compressed with zstd at ``level``
    (or with ``compressor``, from :func:`blosc`), its chunk keys separated by ``/``
    (or ``.`` with ``flat_chunk_keys``); with ``shards``, the chunks are stored in
    shards of that shape (see :mod:`zdb.zarr_shards`). Parts of it are shared between
    documents: serialise it, do not change it."""
    dt, fill, chain = _dtype_parts(np.dtype(dtype), level)
    if compressor is not None:
        chain = [chain[0], compressor]
    grid = [max(1, int(c)) for c in chunks]
    if shards is not None:
        chain = [sharding_codec(grid, chain)]
        grid = [max(1, int(c)) for c in shards]
    meta: dict[str, Any] = {
        "shape": [int(n) for n in shape],
        "data_type": dt,
        "chunk_grid": {"name": "regular", "configuration": {"chunk_shape": grid}},
        "chunk_key_encoding": FLAT_CHUNK_KEY_ENCODING if flat_chunk_keys else CHUNK_KEY_ENCODING,
        "fill_value": fill,
        "codecs": chain,
        "attributes": attributes or {},
    }
    if dimension_names:  # zarr-python leaves out none and an empty list (0-d) alike
        meta["dimension_names"] = list(dimension_names)
    meta.update(zarr_format=3, node_type="array", storage_transformers=[])
    return meta


@functools.cache
def _dtype_parts(dtype: np.dtype, level: int) -> tuple[Any, Any, list[dict[str, Any]]]:
    """The data type, fill value and codecs of an array of ``dtype`` (made once each)."""
    return data_type(dtype), fill_value(dtype), codecs(dtype, level)


def group_metadata(attributes: dict[str, Any] | None = None) -> dict[str, Any]:
    """A group's document as it appears in its parent's consolidated metadata."""
    return {
        "attributes": attributes or {},
        "zarr_format": 3,
        "consolidated_metadata": {"kind": "inline", "must_understand": False, "metadata": {}},
        "node_type": "group",
    }


def consolidated(arrays: dict[str, dict[str, Any]], groups: Sequence[str]) -> dict[str, Any]:
    """The ``consolidated_metadata.metadata`` of a group holding ``arrays`` (metadata by
    path) and the (attribute-less) child ``groups``, as ``zarr.consolidate_metadata``
    writes it."""
    out: dict[str, Any] = {group: group_metadata() for group in sorted(groups)}
    out.update(arrays)
    return out


def dumps(meta: dict[str, Any]) -> bytes:
    """The bytes of an array's ``zarr.json``."""
    return json.dumps(meta).encode()


# -- reading metadata -------------------------------------------------------------------


def chunk_kind(meta: dict[str, Any], *, blosc: bool = False, sharded: bool = False) -> str | None:
    """``"bytes"`` or ``"vlen"`` for an array whose chunks this module reads (the
    layout written here, compressed with zstd, or also with Blosc when ``blosc``: read
    those with :func:`compressor_of`), else None (read it through zarr-python). With
    ``sharded``, also for a sharded array, whose chunks are those inside its shards
    (see :func:`shard_shape`); without, None for one."""
    if inner_layout(meta) is not None and not sharded:
        return None
    array_codecs = _chunk_codecs(meta)
    names = [c.get("name") for c in array_codecs]
    if (
        meta.get("chunk_grid", {}).get("name") != "regular"
        or meta.get("chunk_key_encoding") != CHUNK_KEY_ENCODING
        or meta.get("storage_transformers")
        or len(names) != 2
        or names[1] not in (("zstd", "blosc") if blosc else ("zstd",))
    ):
        return None
    try:
        compressor_of(meta)
    except ValueError:
        return None
    try:
        numpy_dtype(meta)
    except (ValueError, KeyError, TypeError):
        return None
    if names[0] == "vlen-utf8":
        return "vlen"
    endian = (array_codecs[0].get("configuration") or {}).get("endian", "little")
    return "bytes" if names[0] == "bytes" and endian == "little" else None


def numpy_dtype(meta: dict[str, Any]) -> np.dtype:
    """The numpy dtype an array's chunks decode to (object for strings); ValueError
    for a data type this module does not read."""
    dt = meta["data_type"]
    if dt == "string":
        return np.dtype(object)
    if isinstance(dt, str):
        if dt not in _NUMERIC:
            raise ValueError(f"data type {dt}")
        return np.dtype(dt)
    conf = dt.get("configuration", {})
    if dt["name"] in ("numpy.datetime64", "numpy.timedelta64") and conf.get("scale_factor", 1) == 1:
        return np.dtype(f"{'M' if 'datetime' in dt['name'] else 'm'}8[{conf['unit']}]")
    if dt["name"] == "raw_bytes":
        return np.dtype(f"V{conf['length_bytes']}")
    raise ValueError(f"data type {dt}")


def chunk_shape(meta: dict[str, Any]) -> tuple[int, ...]:
    """The shape of an array's (regular) chunks: of those inside its shards when it
    is sharded."""
    inner = inner_layout(meta)
    if inner is not None:
        return inner[0]
    return tuple(meta["chunk_grid"]["configuration"]["chunk_shape"])


def shard_shape(meta: dict[str, Any]) -> tuple[int, ...] | None:
    """The shape of an array's shards (see :mod:`zdb.zarr_shards`), None when its
    chunks are files of their own."""
    if inner_layout(meta) is None:
        return None
    return tuple(meta["chunk_grid"]["configuration"]["chunk_shape"])


def _chunk_codecs(meta: dict[str, Any]) -> list[dict[str, Any]]:
    """The codecs of an array's chunks: those inside its shards when it is sharded."""
    inner = inner_layout(meta)
    return inner[1] if inner is not None else (meta.get("codecs") or [])


# -- chunks -----------------------------------------------------------------------------


def chunk_key(index: Sequence[int], separator: str = "/") -> str:
    """The key of the chunk at grid position ``index``, relative to the array."""
    return separator.join(["c", *(str(int(i)) for i in index)])


@functools.cache
def _zstd(level: int) -> Any:
    import numcodecs

    return numcodecs.Zstd(level=level)


@functools.cache
def _vlen() -> Any:
    import numcodecs

    return numcodecs.VLenUTF8()


def _fill_scalar(dtype: np.dtype) -> Any:
    if dtype.kind in "OT":
        return ""
    if dtype.kind in "mM":
        return np.array("NaT", dtype)
    return np.zeros((), dtype)


def padded(chunk: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """``chunk`` (an edge chunk, or data of fewer rows) filled up to ``shape`` with the
    fill value, as zarr-python stores the part of an edge chunk beyond the array."""
    shape = tuple(shape)
    if chunk.shape == shape:
        return chunk
    dtype = np.dtype(object) if chunk.dtype.kind == "T" else chunk.dtype
    out = np.full(shape, _fill_scalar(dtype), dtype=dtype)
    out[tuple(slice(0, n) for n in chunk.shape)] = chunk
    return out


def compressor_codec(codec: dict[str, Any]) -> Any:
    """The numcodecs codec that compresses as the Zarr ``codec`` (zstd, or blosc of
    :data:`BLOSC_CNAMES` and :data:`BLOSC_SHUFFLES`, as zarr-python configures it);
    ValueError for any other."""
    conf = codec.get("configuration") or {}
    if codec.get("name") == "zstd" and not conf.get("checksum"):
        return _zstd(int(conf.get("level", 0)))
    if codec.get("name") == "blosc":
        return _blosc(
            str(conf.get("cname")),
            conf.get("clevel"),
            conf.get("shuffle"),
            conf.get("typesize"),
            conf.get("blocksize", 0),
        )
    raise ValueError(f"codec {codec.get('name')!r} with {conf}")


def compressor_of(meta: dict[str, Any]) -> Any:
    """The numcodecs codec of an array's compressor (its second codec), see
    :func:`compressor_codec`; ValueError for one this module does not read."""
    try:
        return compressor_codec(_chunk_codecs(meta)[1])
    except (KeyError, IndexError, TypeError, AttributeError):
        raise ValueError(f"codecs {meta.get('codecs')}") from None


def content_size(raw: Any, compressor: Any = None) -> int:
    """The decompressed size the header of a chunk compressed with ``compressor`` (zstd
    for None, else from :func:`compressor_codec`) gives; -1 where it gives none."""
    import numcodecs

    if isinstance(compressor, numcodecs.Blosc):
        return blosc_nbytes(raw)
    return zstd_content_size(raw)


def zstd_content_size(raw: Any) -> int:
    """The decompressed size in a zstd frame's header (RFC 8878, 3.1.1.1: the
    descriptor byte after the magic number says where the size field is and how wide);
    -1 where the header does not give it. numcodecs has no such function."""
    view = memoryview(raw).cast("B")
    if len(view) < 6 or bytes(view[:4]) != b"\x28\xb5\x2f\xfd":
        return -1
    descriptor = view[4]
    single_segment = (descriptor >> 5) & 1
    width = (single_segment, 2, 4, 8)[descriptor >> 6]
    start = 6 - single_segment + (0, 1, 2, 4)[descriptor & 3]
    if width == 0 or len(view) < start + width:
        return -1
    size = int.from_bytes(view[start : start + width], "little")
    return size + 256 if width == 2 else size


def blosc_nbytes(raw: Any) -> int:
    """The decompressed size in a Blosc chunk's 16-byte header (c-blosc's
    README_HEADER: the uint32 at offset 4, the compressed size at 12, little-endian);
    -1 where the header does not hold the chunk's own length. numcodecs has this only
    as a private function."""
    view = memoryview(raw).cast("B")
    if len(view) < 16 or int.from_bytes(view[12:16], "little") != len(view):
        return -1
    return int.from_bytes(view[4:8], "little")


@functools.cache
def _blosc(cname: str, clevel: Any, shuffle: Any, typesize: Any, blocksize: Any = 0) -> Any:
    import numcodecs

    if (
        cname not in BLOSC_CNAMES
        or shuffle not in BLOSC_SHUFFLES
        or type(clevel) is not int
        or not 0 <= clevel <= 9
        or type(typesize) is not int
        or not 1 <= typesize <= 255
        or type(blocksize) is not int
        or not 0 <= blocksize <= 2**31
    ):
        raise ValueError(
            f"blosc {cname}, level {clevel}, {shuffle}, typesize {typesize}, blocksize {blocksize}"
        )
    config = {"cname": cname, "clevel": clevel, "shuffle": BLOSC_SHUFFLES[shuffle]}
    return numcodecs.Blosc.from_config({**config, "blocksize": blocksize, "typesize": typesize})


def encode_chunk(
    chunk: np.ndarray, shape: Sequence[int], level: int, compressor: dict | None = None
) -> bytes:
    """The stored bytes of ``chunk`` in an array of chunks of ``shape`` (a smaller
    ``chunk`` is padded with the fill value): vlen-utf8 for strings, else little-endian
    bytes, then zstd at ``level`` (or ``compressor``, from :func:`blosc`)."""
    chunk = padded(chunk, shape)
    if chunk.dtype.kind in "OT":
        raw: Any = _vlen().encode(np.asarray(chunk, dtype=object).ravel())
    else:
        raw = np.ascontiguousarray(chunk, dtype=chunk.dtype.newbyteorder("<"))
        raw = raw.reshape(-1).view(np.uint8)
    if compressor is not None:
        return compressor_codec(compressor).encode(raw)
    return _zstd(level).encode(raw)


def encode_arrow_chunk(values: Any, items: int, level: int) -> bytes:
    """The stored bytes of a vlen-utf8 chunk of ``items`` items holding the Arrow
    ``large_string`` array ``values`` (no nulls), padded with empty strings."""
    return _zstd(level).encode(vlen_from_arrow(values, items))


def decompress(raw: bytes, out: Any = None, compressor: Any = None) -> Any:
    """The zstd-decompressed bytes of a chunk (or decompressed with ``compressor``, from
    :func:`compressor_codec`), into ``out``, a writable buffer of the right size, when
    given."""
    return (compressor or _zstd(0)).decode(raw, out=out)


def decode_chunk(
    raw: bytes, kind: str, dtype: np.dtype, shape: Sequence[int], compressor: Any = None
) -> np.ndarray:
    """The array stored in the chunk bytes ``raw`` (``kind`` from :func:`chunk_kind`,
    ``dtype`` from :func:`numpy_dtype`, ``shape`` of the chunks), compressed with zstd
    or with ``compressor`` (from :func:`compressor_codec`)."""
    body = decompress(raw) if compressor is None else compressor.decode(raw)
    if kind == "vlen":
        return _vlen().decode(body).reshape(shape)
    return np.frombuffer(body, dtype=dtype.newbyteorder("<")).reshape(shape)


def arrow_offsets(values: Any) -> np.ndarray:
    """The int64 offsets of an Arrow ``large_string`` array (its own slice of them)."""
    buffer = values.buffers()[1]
    return np.frombuffer(buffer, np.int64, len(values) + 1, values.offset * 8)


def vlen_from_arrow(values: Any, items: int) -> np.ndarray:
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


def vlen_arrow(raw: bytes, lengths: np.ndarray, a: int, b: int) -> Any:
    """Items ``a:b`` of a decompressed vlen-utf8 chunk as an Arrow ``large_string``
    array, given the lengths of its items from the first. Each item with its length
    prefix is one element of a binary array over ``raw`` (the prefixed items are
    contiguous), and Arrow strips the prefixes in one copy: no Python str objects and
    no byte-sized index arrays. The bytes are not checked to be UTF-8 (as numcodecs'
    decoder does not either); lengths that reach beyond ``raw`` raise ValueError
    (``pyarrow.ArrowInvalid``: ``from_buffers`` checks the offsets)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if a == b:
        return pa.array([], pa.large_string())
    starts = np.empty(b + 1, np.int64)  # where each prefixed item begins in raw
    starts[0] = 4
    np.add(lengths[:b], 4, out=starts[1:])
    np.cumsum(starts[1:], out=starts[1:])
    starts[1:] += 4
    prefixed = pa.Array.from_buffers(
        pa.large_binary(), b - a, [None, pa.py_buffer(starts[a:]), pa.py_buffer(raw)]
    )
    # an explicit stop: pyarrow 26 fails on stop=None ("Negative buffer resize")
    items = pc.binary_slice(prefixed, start=4, stop=4 + int(lengths[a:b].max()))
    return pa.Array.from_buffers(pa.large_string(), b - a, items.buffers())


# -- one-chunk arrays -------------------------------------------------------------------


def is_single_chunk(meta: dict[str, Any]) -> bool:
    """True if the array of this metadata is one chunk of a numeric dtype in the layout
    written here (readable by :func:`read_single_chunk`)."""
    try:
        numeric = isinstance(meta["data_type"], str) and meta["data_type"] in _NUMERIC
        whole = list(chunk_shape(meta)) == [max(1, s) for s in meta["shape"]]
    except (KeyError, TypeError):
        return False
    return numeric and whole and chunk_kind(meta) == "bytes"


def write_single_chunk(store: Store, path: str, arr: np.ndarray, meta: dict[str, Any]) -> None:
    """Write the numeric array ``arr`` as one chunk with its metadata ``meta`` (from
    :func:`array_metadata` with ``chunks=arr.shape``)."""
    if arr.size:  # the deepest file first: its folders are made in one go
        level = meta["codecs"][1]["configuration"]["level"]
        store.write_bytes(
            join(path, chunk_key([0] * arr.ndim)), encode_chunk(arr, arr.shape, level)
        )
    store.write_bytes(join(path, "zarr.json"), dumps(meta))


def read_single_chunk(store: Store, path: str, meta: dict[str, Any]) -> np.ndarray:
    """Read a one-chunk array (see :func:`is_single_chunk`). Its chunk is always
    written when the array is not empty: a missing one raises FileNotFoundError."""
    shape = tuple(meta["shape"])
    dtype = numpy_dtype(meta)
    if 0 in shape:
        return np.empty(shape, dtype=dtype)
    raw = store.read_bytes(join(path, chunk_key([0] * len(shape))))
    out = decode_chunk(raw, "bytes", dtype, shape)
    return out.astype(dtype, copy=not out.flags.writeable)
