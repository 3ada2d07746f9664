"""pandas' removed msgpack format, as ISF's ``isf_pandas_msgpack`` wrote it.

pandas 0.25 dropped ``to_msgpack``/``read_msgpack``; ISF kept writing the format through
its fork ``isf_pandas_msgpack`` (dumpers ``pandas_to_msgpack``, ``numpy_to_msgpack``,
``dask_to_msgpack``, ``dask_to_categorized_msgpack``). No maintained library reads it,
so this module decodes it on top of ``msgpack`` and numcodecs' Blosc.

The format: a file is one or more msgpack objects. pandas objects are maps with a
``typ`` field (``block_manager`` for a DataFrame, ``series``, ``index``,
``range_index``, ``multi_index``, ``datetime_index``, ``category``, ``ndarray``,
``timestamp``, ``np_scalar``, ...), nested: a frame's ``axes`` are index maps, a
categorical's ``codes`` an ``ndarray`` map. Numeric data is an ExtType of code 0 holding
the raw bytes of the flattened array, compressed with blosc (``compress: "blosc"``,
``blosc.compress(data, typesize=itemsize)``) or zlib, or uncompressed; object data is a
msgpack array of the values. A frame is its blocks: each holds the column positions
(``locs``), the values of shape ``(columns, rows)``, their dtype name and pandas' block
class name. Arrays are msgpack arrays, read as tuples (pandas unpacked with
``use_list=False``).
"""

from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

#: the error callers turn into CorruptKeyError: the bytes are not this format
FormatError = ValueError

#: dtype codes older pandas wrote instead of names
_DTYPE_CODES = {21: "M8[ns]", 22: "m8[ns]", 7: "int64"}
#: a timezone-aware dtype's name: ``datetime64[<unit>, <timezone>]``
_TZ_DTYPE = re.compile(r"datetime64\[([a-z]{1,2}), ([A-Za-z0-9_+\-/:]{1,64})\]")
#: a blosc frame's header: version, versionlz, flags, typesize, nbytes, blocksize, cbytes
_BLOSC_HEADER = struct.Struct("<BBBBIII")


@dataclass(frozen=True)
class _Ext:
    """A msgpack extension value (pandas' raw array bytes have code 0)."""

    code: int
    data: bytes


@dataclass(frozen=True)
class _RangeWithoutBounds:
    """A RangeIndex written without its bounds (``isf_pandas_msgpack`` read them from
    attributes pandas 1.x no longer had): its length comes from the data it indexes."""

    name: Any


def read_msgpack(data: bytes) -> Any:
    """The object (or the list of objects, when the file holds several) packed in
    ``data``; FormatError (ValueError) when the bytes are not this format."""
    import msgpack

    unpacker = msgpack.Unpacker(
        object_hook=_decode,
        ext_hook=_Ext,
        raw=False,
        use_list=False,
        strict_map_key=False,
        max_buffer_size=max(len(data), 1 << 20),
    )
    unpacker.feed(data)
    try:
        objects = list(unpacker)
    except FormatError:
        raise
    except Exception as e:  # msgpack's own errors, and those of damaged fields
        raise FormatError(f"not pandas msgpack data ({type(e).__name__}: {e})") from e
    if not objects:
        raise FormatError("the file holds no msgpack object")
    return objects[0] if len(objects) == 1 else objects


def frame_length(data: bytes) -> int | None:
    """The rows of the frame packed in ``data``, from its blocks' shapes, without
    decompressing or building anything (None when it is no frame with blocks)."""
    import msgpack

    try:
        doc = msgpack.unpackb(data, raw=False, use_list=False, strict_map_key=False)
        blocks = doc["blocks"] if doc.get("typ") == "block_manager" else ()
        return int(blocks[0]["shape"][-1]) if blocks else None
    except Exception:  # damaged: the full read says what is wrong
        return None


def _dtype(name: Any) -> np.dtype | str:
    """The numpy dtype a written dtype name or code stands for; ``"category"`` and
    timezone-aware names are returned as they are."""
    if isinstance(name, np.dtype):
        return name
    name = _DTYPE_CODES.get(name, name)
    if not isinstance(name, str):
        raise FormatError(f"{str(name)[:40]!r} is no dtype")
    if name == "category" or _TZ_DTYPE.fullmatch(name):
        return name
    try:
        return np.dtype(name)
    except TypeError:
        raise FormatError(f"{name[:40]!r} is no dtype") from None


def _decompress(raw: bytes, compress: Any, expected: int | None) -> bytes:
    if compress in (None, ""):
        return raw
    if compress == "zlib":
        return zlib.decompress(raw)
    if compress == "blosc":
        from numcodecs import blosc

        if len(raw) < _BLOSC_HEADER.size:
            raise FormatError("a blosc block is shorter than its header")
        nbytes = _BLOSC_HEADER.unpack_from(raw)[4]
        if expected is not None and nbytes != expected:
            raise FormatError(f"a blosc block holds {nbytes} bytes where {expected} belong")
        if nbytes == 0:  # blosc cannot decompress an empty block
            return b""
        return bytes(blosc.decompress(raw))
    raise FormatError(f"unknown compression {str(compress)[:40]!r}")


def _values(values: Any, dtype: Any, compress: Any, count: int | None = None) -> Any:
    """The flat array of a written ``data``/``values`` field (a Categorical stays one)."""
    import pandas as pd

    if isinstance(values, pd.Categorical):
        return values
    dt = _dtype(dtype)
    if dt == "category":
        raise FormatError("categorical data that is no categorical")
    if isinstance(dt, np.dtype) and dt.kind == "O":
        if isinstance(values, _Ext):
            raise FormatError("object data stored as bytes")
        out = np.empty(len(values), dtype=object)
        out[:] = list(values)
        return out
    if isinstance(dt, str):
        match = _TZ_DTYPE.fullmatch(dt)
        if match is None:
            raise FormatError(f"{dt[:60]!r} is no dtype of stored values")
        base = np.dtype(f"M8[{match[1]}]")
    else:
        base = dt
    if isinstance(values, _Ext):
        if values.code != 0:
            raise FormatError(f"extension type {values.code} is no array")
        raw = values.data
    elif isinstance(values, str):  # written before msgpack had a binary type
        raw = values.encode("latin1")
    elif isinstance(values, bytes):
        raw = values
    else:
        raise FormatError(f"array data of type {type(values).__name__}")
    expected = None if count is None else count * base.itemsize
    raw = _decompress(raw, compress, expected)
    if len(raw) % base.itemsize:
        raise FormatError(f"{len(raw)} bytes are no whole number of {base} values")
    return np.frombuffer(raw, dtype=base).copy()


def _decode(obj: dict) -> Any:
    """msgpack's object hook: a written pandas or numpy object from its map (called for
    the innermost maps first, so nested fields arrive decoded)."""
    typ = obj.get("typ")
    if typ is None:
        return obj
    decoder = _DECODERS.get(typ)
    if decoder is None:
        raise FormatError(f"objects of type {str(typ)[:40]!r} are not read")
    try:
        return decoder(obj)
    except FormatError:
        raise
    except (KeyError, TypeError, ValueError, OverflowError) as e:
        raise FormatError(f"a damaged {typ!r} object ({type(e).__name__}: {e})") from e


def _index(obj: dict) -> Any:
    import pandas as pd

    dtype = _dtype(obj["dtype"])
    data = _values(obj["data"], dtype, obj.get("compress"))
    if dtype == "category" or isinstance(data, pd.Categorical):
        return pd.CategoricalIndex(data, name=obj.get("name"))
    if isinstance(dtype, str):  # timezone-aware values
        return _with_tz(pd.DatetimeIndex(data), dtype).rename(obj.get("name"))
    return pd.Index(data, dtype=dtype, name=obj.get("name"))


def _range_index(obj: dict) -> Any:
    import pandas as pd

    start, stop, step = obj.get("start"), obj.get("stop"), obj.get("step")
    if start is None or stop is None:
        return _RangeWithoutBounds(obj.get("name"))
    return pd.RangeIndex(start, stop, step or 1, name=obj.get("name"))


def _resolve(index: Any, length: int) -> Any:
    import pandas as pd

    if isinstance(index, _RangeWithoutBounds):
        return pd.RangeIndex(length, name=index.name)
    return index


def _multi_index(obj: dict) -> Any:
    import pandas as pd

    data = _values(obj["data"], obj["dtype"], obj.get("compress"))
    index = pd.MultiIndex.from_tuples([tuple(x) for x in data], names=obj.get("names"))
    # levels of strings were object in the pandas that wrote them (pandas >= 3 infers str)
    levels = [
        lv.astype(object) if isinstance(lv.dtype, pd.StringDtype) else lv for lv in index.levels
    ]
    return index.set_levels(levels)


def _datetime_index(obj: dict) -> Any:
    import pandas as pd

    data = _values(obj["data"], "int64", obj.get("compress"))
    result = pd.DatetimeIndex(data.view("M8[ns]"), name=obj.get("name"))
    tz = obj.get("tz")
    return result.tz_localize("UTC").tz_convert(tz) if tz else result


def _with_tz(values: Any, dtype_name: str) -> Any:
    """UTC instants as the timezone named in ``datetime64[<unit>, <tz>]``."""
    match = _TZ_DTYPE.fullmatch(dtype_name)
    if match is None:
        raise FormatError(f"{dtype_name[:60]!r} is no timezone-aware dtype")
    return values.tz_localize("UTC").tz_convert(match[2])


def _category(obj: dict) -> Any:
    import pandas as pd

    codes = np.asarray(obj["codes"])
    return pd.Categorical.from_codes(codes, categories=obj["categories"], ordered=obj["ordered"])


def _series(obj: dict) -> Any:
    import pandas as pd

    dtype = _dtype(obj["dtype"])
    values = _values(obj["data"], dtype, obj.get("compress"))
    if isinstance(dtype, str) and dtype != "category":
        values = _with_tz(pd.DatetimeIndex(values), dtype)
    index = _resolve(obj["index"], len(values))
    keep = values.dtype if isinstance(values, np.ndarray) else None
    return pd.Series(values, index=index, name=obj.get("name"), dtype=keep, copy=False)


def _block_manager(obj: dict) -> Any:
    """A DataFrame from its blocks: each block holds the columns at its ``locs`` (a 2-D
    block of one dtype becomes one 2-D frame, so wide frames cost no work per column)."""
    import pandas as pd

    columns, index = obj["axes"]
    nrows = None
    parts: list[tuple[np.ndarray, Any]] = []  # (column positions, values: 2-D or one column)
    for block in obj["blocks"]:
        shape = tuple(block["shape"])
        kind = _dtype(block["dtype"])
        locs = np.asarray(block["locs"]).ravel()
        if locs.dtype.kind not in "iu":
            raise FormatError("a block placed at column positions that are no integers")
        count = int(np.prod(shape)) if shape else None
        values = _values(block["values"], kind, block.get("compress"), count)
        if isinstance(values, pd.Categorical) or (isinstance(kind, str) and len(shape) == 1):
            if isinstance(kind, str) and kind != "category":
                values = _with_tz(pd.DatetimeIndex(values), kind).array
            if len(locs) != 1:
                raise FormatError("a one-column block placed at several columns")
            parts.append((locs, values))
            nrows = len(values)
            continue
        values = values.reshape(shape)
        if values.ndim == 1:
            values = values.reshape(1, -1)
        if len(locs) != values.shape[0]:
            raise FormatError(f"a block of {values.shape[0]} columns placed at {len(locs)}")
        parts.append((locs, values))
        nrows = values.shape[1]
    if nrows is None:
        nrows = 0 if isinstance(index, _RangeWithoutBounds) else len(index)
    index = _resolve(index, nrows)
    positions = np.concatenate([locs for locs, _ in parts]) if parts else np.zeros(0, int)
    columns = _resolve(columns, len(positions))
    in_order = bool(np.all(positions[1:] > positions[:-1]))
    placed = positions if in_order else np.sort(positions)
    if len(placed) != len(columns) or not np.array_equal(placed, np.arange(len(columns))):
        raise FormatError("the blocks do not place every column exactly once")
    frames = []
    for locs, values in parts:
        if isinstance(values, np.ndarray):
            # an explicit dtype keeps object columns object (pandas >= 3 infers strings)
            frames.append(pd.DataFrame(values.T, index=index, columns=locs, dtype=values.dtype))
        else:
            frames.append(pd.DataFrame({int(locs[0]): values}, index=index))
    if not frames:
        frame = pd.DataFrame(index=index)
    elif len(frames) == 1:
        frame = frames[0]
    else:
        frame = pd.concat(frames, axis=1)
    if not in_order:
        frame = frame.iloc[:, np.argsort(positions, kind="stable")]
    frame.columns = columns
    return frame


def _ndarray(obj: dict) -> Any:
    shape = tuple(obj["shape"])
    count = int(np.prod(shape)) if shape else 1
    values = _values(obj["data"], obj["dtype"], obj.get("compress"), count)
    return values.reshape(shape)


def _np_scalar(obj: dict) -> Any:
    dtype = _dtype(obj["dtype"])
    if not isinstance(dtype, np.dtype):
        raise FormatError("a scalar of no numpy dtype")
    if obj.get("sub_typ") == "np_complex":
        return dtype.type(complex(float(obj["real"]), float(obj["imag"])))
    text = obj["data"]
    return dtype.type(text if dtype.kind in "SUMm" else _literal(text, dtype))


def _literal(text: str, dtype: np.dtype) -> Any:
    """A scalar's ``repr()`` as numpy >= 2 writes it too (``np.float64(1.5)``)."""
    if text.endswith(")") and "(" in text:
        text = text[text.index("(") + 1 : -1]
    if dtype.kind == "b":
        return text == "True"
    return float(text) if dtype.kind in "fc" else int(text)


def _timestamp(obj: dict) -> Any:
    import pandas as pd

    return pd.Timestamp(obj["value"], tz=obj.get("tz"))


def _parse(text: str) -> datetime:
    from dateutil.parser import parse

    return parse(text)


_DECODERS = {
    "index": _index,
    "range_index": _range_index,
    "multi_index": _multi_index,
    "datetime_index": _datetime_index,
    "category": _category,
    "series": _series,
    "block_manager": _block_manager,
    "ndarray": _ndarray,
    "np_scalar": _np_scalar,
    "np_complex": lambda o: complex(float(o["real"]), float(o["imag"])),
    "timestamp": _timestamp,
    "nat": lambda o: __import__("pandas").NaT,
    "period": lambda o: __import__("pandas").Period(ordinal=o["ordinal"], freq=o["freq"]),
    "datetime": lambda o: _parse(o["data"]),
    "datetime64": lambda o: np.datetime64(_parse(o["data"])),
    "date": lambda o: date.fromisoformat(o["data"]),
    "timedelta": lambda o: timedelta(*o["data"]),
    "timedelta64": lambda o: np.timedelta64(int(o["data"]), "ns"),
}
