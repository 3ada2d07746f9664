"""The table codec: pandas DataFrames and Series as Zarr v3 arrays plus attributes.

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
(``attributes["zdb"]["encoding"]``: ``{"name": ..., "version": ..., ...}``) that says
how its arrays map back to a pandas array of the original dtype; docs/format.md
describes each one. The table-level description lives in the group's attributes
(``attributes["zdb"]["table"]``) and all node metadata is consolidated into the
group's ``zarr.json``, so a reader needs one file read before the chunks.

Chunks are compressed and written (and read) here with numcodecs on a thread pool,
producing exactly the chunks zarr-python writes with the same codecs: for tables,
zarr-python's per-chunk asynchronous machinery costs more than compressing the data.
Array metadata is taken from zarr-python itself (one template per data type), and
any array this module cannot read directly is read through zarr-python.

This module knows nothing of keys, locks or the commit protocol: it reads and writes
a table under a path of a :class:`zdb.storage.Store`.
"""

from __future__ import annotations

import concurrent.futures
import functools
import json
import math
import os
import re
import threading
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numcodecs
import numpy as np
import pandas as pd

from . import values as plain_values
from .exceptions import (
    DataBaseException,
    DataBaseKeyError,
    FormatVersionError,
    UnsupportedValueError,
)
from .storage import Store, join

#: versions of the table description (group attributes): each table is written in the
#: oldest one that describes it, so that an older zdb reads what it can; 1 for
#: DataFrames and Series, 2 for an Index (type "Index", new in 2)
FRAME_TABLE_FORMAT = 1
INDEX_TABLE_FORMAT = 2
#: the newest version this zdb reads
TABLE_FORMAT = INDEX_TABLE_FORMAT
#: the child group holding auxiliary arrays; ``.``-names are zdb bookkeeping
AUX = ".zdb"
#: zstd level of table chunks (numcodecs/zarr: 0 means zstd's default, 3)
ZSTD_LEVEL = 3
#: uncompressed bytes aimed at per chunk of a column
CHUNK_BYTES = 8 * 2**20
#: a frame with at least this many columns, all of one numeric dtype, is stored as
#: one 2-D array unless ``layout="columns"`` is asked for
BLOCK_MIN_COLUMNS = 100
#: most columns per chunk of a 2-D block
BLOCK_CHUNK_COLUMNS = 256
#: rows per partition aimed at when a pandas-written table is read as a dask frame
PARTITION_BYTES = 128 * 2**20
#: threads compressing or decompressing chunks
THREADS = min(16, max(4, os.cpu_count() or 1))
#: threads for a remote store, whose requests mostly wait on the network
REMOTE_THREADS = 32

#: characters a name must not have: "/" and "\\" (path separators to zarr), controls
_BAD_NAME_CHARS = re.compile(r"[/\\\x00-\x1f\x7f]")
#: longest name (UTF-8 bytes): file systems allow 255 per path component
MAX_NAME_BYTES = 200
_PLAIN_KINDS = "biufc"
_MISSING_MARKERS = {1: None, 2: float("nan"), 3: pd.NA, 4: pd.NaT}
_MASKED_DTYPES = (
    pd.BooleanDtype,
    pd.Int8Dtype,
    pd.Int16Dtype,
    pd.Int32Dtype,
    pd.Int64Dtype,
    pd.UInt8Dtype,
    pd.UInt16Dtype,
    pd.UInt32Dtype,
    pd.UInt64Dtype,
    pd.Float32Dtype,
    pd.Float64Dtype,
)


class ColumnNotFoundError(DataBaseKeyError):
    """``columns=`` names a column the stored table does not have."""


# -- labels and names -------------------------------------------------------------------


def _plain_scalar(value: Any) -> Any:
    """``value`` as a plain Python value (numpy numbers unwrapped); TypeError if none."""
    if isinstance(value, np.bool_ | np.integer | np.floating | np.str_):
        value = value.item()
    if isinstance(value, tuple):
        return tuple(_plain_scalar(v) for v in value)
    if value is None or type(value) in (bool, int, float, str):
        return value
    raise TypeError(f"{type(value).__qualname__} is not a plain label")


def label_to_json(label: Any) -> Any:
    """A label as JSON (tuples and non-finite floats tagged, see :mod:`zdb.values`)."""
    return plain_values.encode(_plain_scalar(label))


def label_from_json(data: Any) -> Any:
    """Invert :func:`label_to_json`."""
    return plain_values.decode(data)


def _json_or_none(label: Any) -> Any:
    try:
        return label_to_json(label)
    except TypeError:
        return None


def is_valid_name(label: Any) -> bool:
    """True if ``label`` can name a Zarr array of a table as it is: a str that is a valid
    Zarr v3 node name (not empty, not only periods, no ``/``, not starting with the
    reserved ``__``), without ``\\`` or control characters and not overlong."""
    if not isinstance(label, str):
        return False
    try:
        size = len(label.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates: no file name
        return False
    return (
        label.strip(".") != ""
        and not label.startswith("__")
        and _BAD_NAME_CHARS.search(label) is None
        and size <= MAX_NAME_BYTES
    )


class _Names:
    """Allocates array names in one group, unique even on case-insensitive file systems."""

    def __init__(self) -> None:
        self._taken: set[str] = {AUX.lower()}

    def free(self, name: str) -> bool:
        return name.lower() not in self._taken

    def claim(self, name: str) -> str:
        self._taken.add(name.lower())
        return name

    def claim_label(self, label: Any, fallback: str) -> str:
        """The label itself when usable and free, else a free name derived from it."""
        if is_valid_name(label) and self.free(label):
            return self.claim(label)
        text = fallback if label is None else str(label)
        text = _BAD_NAME_CHARS.sub("_", text).encode("utf-8", "replace")[:100]
        base = text.decode("utf-8", "ignore").lstrip("_.") or fallback
        if not is_valid_name(base):
            base = fallback
        candidate, i = base, 1
        while not self.free(candidate):
            candidate, i = f"{base}_{i}", i + 1
        return self.claim(candidate)


# -- column encodings -------------------------------------------------------------------

#: latest version of each encoding this zdb writes and reads
ENCODING_VERSIONS = {
    "plain": 1,
    "raw": 1,
    "datetime": 1,
    "timedelta": 1,
    "period": 1,
    "masked": 1,
    "string": 1,
    "object_str": 1,
    "category": 1,
}


def _unsupported(where: str, what: str) -> UnsupportedValueError:
    return UnsupportedValueError(
        f"{where}: {what}; convert it to a supported dtype or store the value with "
        "dumper='to_cloudpickle'"
    )


def column_encoding(dtype: Any, where: str) -> dict[str, Any]:
    """The encoding of a column of ``dtype``: the JSON that says how it is stored.

    It depends on the dtype only, so it is known before any data is seen (a dask
    frame's meta). Flags saying whether optional auxiliary arrays exist (``mask``,
    ``missing``) start true and are cleared by the writer when they hold nothing.
    """
    if isinstance(dtype, np.dtype):
        if dtype.kind in _PLAIN_KINDS:
            if (dtype.kind == "f" and dtype.itemsize > 8) or dtype.itemsize > 16:
                # long double: no Zarr data type, so its bytes are stored as raw bytes
                return {"name": "raw", "version": 1, "numpy_dtype": dtype.str}
            return {"name": "plain", "version": 1}
        if dtype.kind == "M":
            return {"name": "datetime", "version": 1}
        if dtype.kind == "m":
            return {"name": "timedelta", "version": 1}
        if dtype.kind == "O":
            return {"name": "object_str", "version": 1, "missing": True}
        raise _unsupported(where, f"numpy dtype {dtype} is not supported")
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories
        enc = {
            "name": "category",
            "version": 1,
            "ordered": bool(dtype.ordered),
            "categories": column_encoding(categories.dtype, f"{where} (categories)"),
        }
        if _freq(categories):
            enc["categories_freq"] = _freq(categories)
        return enc
    if isinstance(dtype, pd.DatetimeTZDtype):
        enc = {"name": "datetime", "version": 1, "tz": str(dtype.tz)}
        _check_dtype_round_trip(dtype, pd.DatetimeTZDtype(dtype.unit, enc["tz"]), where)
        return enc
    if isinstance(dtype, pd.PeriodDtype):
        enc = {"name": "period", "version": 1, "dtype": str(dtype)}
        _check_dtype_round_trip(dtype, pd.api.types.pandas_dtype(enc["dtype"]), where)
        return enc
    if isinstance(dtype, pd.StringDtype):
        na = "NaN" if _is_nan(dtype.na_value) else "NA"
        enc = {"name": "string", "version": 1, "storage": dtype.storage, "na_value": na}
        enc["mask"] = True
        if dtype.storage == "pyarrow":
            enc["lengths"] = True  # lets a reader build Arrow strings without Python objects
        return enc
    if isinstance(dtype, _MASKED_DTYPES):
        return {"name": "masked", "version": 1, "dtype": str(dtype), "mask": True}
    raise _unsupported(where, f"dtype {dtype} is not supported")


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _check_dtype_round_trip(dtype: Any, rebuilt: Any, where: str) -> None:
    if rebuilt != dtype:
        raise _unsupported(where, f"dtype {dtype} cannot be described exactly (read as {rebuilt})")


def storage_dtype(enc: dict[str, Any], dtype: Any) -> np.dtype:
    """The numpy dtype of the main array of a column with encoding ``enc``."""
    name = enc["name"]
    if name == "plain":
        return np.dtype(dtype)
    if name == "raw":
        return np.dtype(f"V{np.dtype(dtype).itemsize}")
    if name == "datetime":
        return np.dtype(f"datetime64[{dtype.unit}]") if enc.get("tz") else np.dtype(dtype)
    if name == "timedelta":
        return np.dtype(dtype)
    if name == "period":
        return np.dtype("int64")
    if name == "masked":
        return np.dtype(dtype.numpy_dtype)
    if name in ("string", "object_str"):
        return np.dtypes.StringDType()
    if name == "category":
        return pd.Categorical([], dtype=dtype).codes.dtype
    raise AssertionError(name)


def aux_roles(enc: dict[str, Any]) -> dict[str, np.dtype]:
    """Optional row-aligned auxiliary arrays of a column with encoding ``enc``."""
    roles: dict[str, np.dtype] = {}
    if enc["name"] in ("masked", "string") and enc.get("mask"):
        roles["mask"] = np.dtype(bool)
    if enc["name"] == "string" and enc.get("lengths"):
        roles["lengths"] = np.dtype("uint32")
    if enc["name"] == "object_str" and enc.get("missing"):
        roles["missing"] = np.dtype("uint8")
    return roles


def encode_column(obj: Any, enc: dict[str, Any], dtype: Any, where: str) -> dict[str, Any]:
    """The arrays storing ``obj`` (a Series, Index or array of ``dtype``) under ``enc``.

    Returns ``{"values": ndarray, <aux role>: ndarray or None}``; an auxiliary array is
    None when it would hold only its fill value (no missing values).
    """
    if obj.dtype != dtype and _recodable(obj.dtype, dtype):
        obj = obj.astype(dtype)  # a dask partition's categories: a part of the union
    if obj.dtype != dtype:
        raise UnsupportedValueError(
            f"{where} has dtype {obj.dtype} where dtype {dtype} was expected (a dask "
            "partition that does not match its meta); make the dtypes agree, e.g. with astype"
        )
    name = enc["name"]
    arr = obj.array if hasattr(obj, "array") else pd.array(obj, copy=False)
    if name in ("plain", "timedelta") or (name == "datetime" and not enc.get("tz")):
        return {"values": np.asarray(arr)}
    if name == "raw":
        values = np.ascontiguousarray(np.asarray(arr))
        return {"values": values.view(f"V{values.dtype.itemsize}")}
    if name == "datetime":
        return {"values": np.asarray(arr.tz_convert(None))}
    if name == "period":
        return {"values": np.asarray(arr.asi8)}
    if name == "masked":
        mask = np.asarray(arr.isna(), dtype=bool)
        np_dtype = np.dtype(dtype.numpy_dtype)
        fill = np.nan if np_dtype.kind == "f" else np_dtype.type(0)
        values = arr.to_numpy(dtype=np_dtype, na_value=fill)
        return {"values": values, "mask": mask if mask.any() else None}
    if name == "string" and enc.get("lengths"):
        return _encode_arrow_strings(arr)
    if name == "string":
        mask = np.asarray(arr.isna(), dtype=bool)
        values = arr.to_numpy(dtype=object, na_value="")
        return {"values": values, "mask": mask if mask.any() else None, "lengths": None}
    if name == "object_str":
        return _encode_object_str(np.asarray(arr, dtype=object), where)
    if name == "category":
        codes = np.asarray(arr.codes)
        return {"values": codes}
    raise AssertionError(name)


def _encode_arrow_strings(arr: Any) -> dict[str, Any]:
    """Arrow-backed strings stay Arrow: the values as a ``large_string`` array (missing
    ones empty), written as vlen-utf8 straight from its buffers, and their lengths."""
    import pyarrow as pa
    import pyarrow.compute as pc

    values = pa.array(arr)
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if values.type != pa.large_string():
        values = values.cast(pa.large_string())
    mask = None
    if values.null_count:
        mask = values.is_null().to_numpy(zero_copy_only=False)
        values = pc.fill_null(values, "")
    lengths = np.diff(_arrow_offsets(values)).astype(np.uint32)
    return {"values": values, "mask": mask, "lengths": lengths}


def _arrow_offsets(values: Any) -> np.ndarray:
    buffer = values.buffers()[1]
    return np.frombuffer(buffer, np.int64, len(values) + 1, values.offset * 8)


def is_arrow(values: Any) -> bool:
    """True for a pyarrow Array (strings kept in Arrow form)."""
    return type(values).__module__.startswith("pyarrow")


def _recodable(have: Any, want: Any) -> bool:
    return (
        isinstance(have, pd.CategoricalDtype)
        and isinstance(want, pd.CategoricalDtype)
        and have.ordered == want.ordered
        and bool(have.categories.isin(want.categories).all())
    )


def _encode_object_str(values: np.ndarray, where: str) -> dict[str, Any]:
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    missing = pd.isna(values)
    if inferred not in ("string", "empty"):
        present = values[~missing]
        if not all(isinstance(v, str) for v in present):
            bad = next(v for v in present if not isinstance(v, str))
            raise _unsupported(
                where,
                f"an object column holding {type(bad).__qualname__} values ({bad!r}) is not "
                "supported (object columns may hold only str and missing values)",
            )
    if not missing.any():
        return {"values": values, "missing": None}
    markers = np.zeros(len(values), dtype=np.uint8)
    for i in np.flatnonzero(missing):
        markers[i] = _missing_marker(values[i], where)
    out = values.copy()
    out[missing] = ""
    return {"values": out, "missing": markers}


def _missing_marker(value: Any, where: str) -> int:
    if value is None:
        return 1
    if isinstance(value, float) and math.isnan(value):
        return 2
    if value is pd.NA:
        return 3
    if value is pd.NaT:
        return 4
    raise _unsupported(where, f"the missing value {value!r} in an object column is not supported")


def decode_column(
    enc: dict[str, Any], parts: dict[str, Any], where: str
) -> np.ndarray | pd.api.extensions.ExtensionArray:
    """The pandas array stored as ``parts`` (see :func:`encode_column`) under ``enc``.

    ``parts`` holds ``values``, the present auxiliary arrays, and for a category column
    ``categories`` (the decoded categories array).
    """
    name = enc.get("name")
    version = ENCODING_VERSIONS.get(name)
    if version is None or enc.get("version", 1) > version:
        raise FormatVersionError(
            f"{where} is stored with encoding {name!r} version {enc.get('version')}, which "
            "this zdb does not read; upgrade zdb to read it"
        )
    values = parts["values"]
    if name in ("plain", "timedelta"):
        return values
    if name == "raw":
        return values.view(np.dtype(enc["numpy_dtype"]))
    if name == "datetime":
        if enc.get("tz") is None:
            return values
        return pd.array(values).tz_localize("UTC").tz_convert(enc["tz"])
    if name == "period":
        return pd.arrays.PeriodArray(values, dtype=pd.api.types.pandas_dtype(enc["dtype"]))
    if name == "masked":
        dtype = pd.api.types.pandas_dtype(enc["dtype"])
        mask = parts.get("mask")
        if mask is None:
            mask = np.zeros(len(values), dtype=bool)
        return dtype.construct_array_type()(values, mask)
    if name == "string" and is_arrow(values):
        mask = parts.get("mask")
        if mask is not None and mask.any():
            values = with_nulls(values, mask)
        na_value = np.nan if enc["na_value"] == "NaN" else pd.NA
        return pd.array(values, dtype=pd.StringDtype(enc["storage"], na_value=na_value))
    if name == "string":
        values = _as_object(values)
        mask = parts.get("mask")
        if mask is not None and mask.any():
            values[mask] = None
        na_value = np.nan if enc["na_value"] == "NaN" else pd.NA
        return pd.array(values, dtype=pd.StringDtype(enc["storage"], na_value=na_value))
    if name == "object_str":
        values = _as_object(values)
        markers = parts.get("missing")
        if markers is not None:
            for code, marker in _MISSING_MARKERS.items():
                hit = markers == code
                if hit.any():
                    values[hit] = marker
        return values
    if name == "category":
        categories = _to_index(parts["categories"], None)
        if enc.get("categories_freq"):
            categories = type(categories)(categories, freq=enc["categories_freq"])
        dtype = pd.CategoricalDtype(categories, ordered=enc["ordered"])
        return pd.Categorical.from_codes(values, dtype=dtype, validate=False)
    raise AssertionError(name)


def with_nulls(values: Any, mask: np.ndarray) -> Any:
    """The Arrow string array ``values`` with the rows of ``mask`` null."""
    import pyarrow as pa

    if values.offset:
        values = pa.concat_arrays([values])  # a copy starting at offset 0
    bitmap = pa.py_buffer(np.packbits(~mask, bitorder="little"))
    return pa.Array.from_buffers(
        values.type, len(values), [bitmap, *values.buffers()[1:]], null_count=int(mask.sum())
    )


def _as_object(values: np.ndarray) -> np.ndarray:
    if values.dtype == object:
        return values if values.flags.writeable else values.copy()
    return values.astype(object)


def _to_index(arr: Any, name: Any) -> pd.Index:
    """An Index of exactly ``arr``'s dtype (no inference from object values)."""
    return pd.Index(arr, dtype=arr.dtype, name=name, copy=False)


# -- index descriptions -----------------------------------------------------------------


def _index_equal(a: pd.Index, b: pd.Index) -> bool:
    try:
        pd.testing.assert_index_equal(a, b, exact=True, check_exact=True, check_categorical=True)
    except AssertionError:
        return False
    return True


def labels_description(idx: pd.Index) -> dict[str, Any] | None:
    """A JSON description of an Index of plain labels (ints, floats, str, tuples of
    them) that :func:`index_from_labels` rebuilds exactly; None when there is none."""
    try:
        if isinstance(idx, pd.RangeIndex):
            desc: dict[str, Any] = {
                "kind": "range",
                "start": idx.start,
                "stop": idx.stop,
                "step": idx.step,
                "name": label_to_json(idx.name),
            }
        elif isinstance(idx, pd.MultiIndex):
            desc = {
                "kind": "multi_labels",
                "names": [label_to_json(n) for n in idx.names],
                "levels": [
                    {"dtype": str(lev.dtype), "labels": [label_to_json(v) for v in lev]}
                    for lev in (level_values(idx, i) for i in range(idx.nlevels))
                ],
            }
        else:
            desc = {
                "kind": "labels",
                "dtype": str(idx.dtype),
                "name": label_to_json(idx.name),
                "labels": [label_to_json(v) for v in idx],
            }
        rebuilt = index_from_labels(desc)
    except (TypeError, ValueError):
        return None
    return desc if _index_equal(idx, rebuilt) else None


def index_from_labels(desc: dict[str, Any]) -> pd.Index:
    """The Index described by :func:`labels_description`."""
    kind = desc["kind"]
    if kind == "range":
        return pd.RangeIndex(
            desc["start"], desc["stop"], desc["step"], name=label_from_json(desc["name"])
        )
    if kind == "multi_labels":
        levels = [
            pd.Index([label_from_json(v) for v in lev["labels"]], dtype=lev["dtype"])
            for lev in desc["levels"]
        ]
        return pd.MultiIndex.from_arrays(levels, names=[label_from_json(n) for n in desc["names"]])
    if kind == "labels":
        labels = [label_from_json(v) for v in desc["labels"]]
        return pd.Index(labels, dtype=desc["dtype"], name=label_from_json(desc["name"]))
    raise FormatVersionError(f"unknown index description {kind!r}; upgrade zdb to read it")


def level_values(index: pd.Index, j: int) -> pd.Index:
    """Level ``j`` (a position) of a MultiIndex, or the Index itself.

    ``get_level_values`` takes a level's name before its position, so the levels are
    renamed to their positions first (a cheap copy).
    """
    if not isinstance(index, pd.MultiIndex):
        return index
    return index.set_names(list(range(index.nlevels))).get_level_values(j)


def _freq(idx: pd.Index) -> str | None:
    freq = getattr(idx, "freq", None)
    return None if freq is None or isinstance(idx, pd.PeriodIndex) else freq.freqstr


# -- the layout of one table ------------------------------------------------------------


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

    # building

    def add_node(self, node: ArrayNode) -> ArrayNode:
        self.nodes[node.path] = node
        return node

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
        self.add_node(
            ArrayNode(values_path, storage_dtype(enc, dtype), (length,), (chunks,), dims, zattrs)
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


def plan_table(
    sample: pd.DataFrame | pd.Series,
    nrows: int,
    *,
    range_index: pd.RangeIndex | None,
    layout: str = "auto",
    chunk_rows: int | None = None,
    source: str = "pandas",
) -> TablePlan:
    """Plan how a table like ``sample`` (the data, or a dask frame's meta) is stored.

    ``range_index``: the table's RangeIndex, kept as attributes, or None to store the
    index as arrays. Every optional auxiliary array is planned; the pandas writer drops
    those that hold nothing.
    """
    is_series = isinstance(sample, pd.Series)
    if layout not in ("auto", "columns", "block"):
        raise UnsupportedValueError(f"layout must be 'auto', 'columns' or 'block', not {layout!r}")
    names = _Names()
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
        and sample.dtypes.iloc[0].kind in _PLAIN_KINDS
    )
    if block:
        return _plan_block(sample, nrows, table, names, dim, level_names, range_index, chunk_rows)
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
    rows = chunk_rows or default_chunk_rows(row_dtypes, nrows)
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
    as_json = _json_or_none(label)
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
        raise _unsupported(
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
        "freq": None if multi else _freq(idx),
    }
    if multi and any(_freq(lev) for lev in idx.levels):
        desc["level_freqs"] = [_freq(lev) for lev in idx.levels]
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
    names: _Names,
    dim: str,
    level_names: list[str],
    range_index: pd.RangeIndex | None,
    chunk_rows: int | None,
) -> TablePlan:
    dtypes = set(sample.dtypes)
    dtype = next(iter(dtypes)) if len(dtypes) == 1 else None
    if (
        dtype is None
        or not isinstance(dtype, np.dtype)
        or dtype.kind not in _PLAIN_KINDS
        or isinstance(sample.columns, pd.MultiIndex)
        or column_encoding(dtype, "block")["name"] != "plain"
    ):
        raise UnsupportedValueError(
            "layout='block' needs a frame whose columns share one numeric numpy dtype and "
            "whose columns are not a MultiIndex; use layout='columns'"
        )
    ncols = sample.shape[1]
    col_chunk = max(1, min(ncols, BLOCK_CHUNK_COLUMNS))
    rows = chunk_rows or default_chunk_rows([dtype], nrows, width=col_chunk)
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
        )
    )
    table["columns"] = _index_arrays(plan, sample.columns, [col_dim], col_dim)
    table["index"] = _row_index(plan, sample.index, range_index, dim, level_names, nrows, rows)
    return plan


# -- chunk IO ---------------------------------------------------------------------------

_pool_lock = threading.Lock()
_pools: dict[bool, ThreadPoolExecutor | None] = {}
_VLEN = numcodecs.VLenUTF8()


def _reset_pool() -> None:
    _pools.clear()


os.register_at_fork(after_in_child=_reset_pool)  # a forked child has none of the threads


def run_jobs(jobs: Sequence[Callable[[], Any]], store: Store | None = None) -> None:
    """Run independent IO jobs (compression releases the GIL) on a shared thread pool,
    a larger one for a remote ``store`` (its requests wait on the network). Returns
    when every job is done, raising the first error: no job writes on behind the back
    of a caller cleaning up after a failure."""
    if len(jobs) <= 1:
        for job in jobs:
            job()
        return
    remote = store is not None and store.remote
    with _pool_lock:
        if _pools.get(remote) is None:
            size = REMOTE_THREADS if remote else THREADS
            _pools[remote] = ThreadPoolExecutor(size, thread_name_prefix="zdb-tables")
        pool = _pools[remote]
    futures = [pool.submit(job) for job in jobs]
    concurrent.futures.wait(futures)
    for future in futures:
        future.result()


@functools.cache
def _zstd(level: int) -> numcodecs.Zstd:
    return numcodecs.Zstd(level=level)


@functools.cache
def _template(dtype: np.dtype, ndim: int, level: int) -> str:
    """zarr-python's metadata document for an array of ``dtype`` (as JSON text)."""
    import zarr
    from zarr.codecs import ZstdCodec
    from zarr.storage import MemoryStore

    from .zarr_util import quiet_zarr

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
    lengths = np.diff(_arrow_offsets(values)).astype("<u4")
    prefixes = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(4), n, [None, pa.py_buffer(lengths)]
    ).cast(pa.large_binary())
    joined = pc.binary_join_element_wise(
        prefixes, values.cast(pa.large_binary()), pa.scalar(b"", pa.large_binary())
    )
    offsets = _arrow_offsets(joined)
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
    from .format import group_document

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

    from .zarr_util import quiet_zarr

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


# -- writing a pandas table -------------------------------------------------------------


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


# -- reading ----------------------------------------------------------------------------


def build_index(desc: dict[str, Any], levels: list[Any]) -> pd.Index:
    """The Index an ``"arrays"`` description stands for, from its decoded levels."""
    names = [label_from_json(n) for n in desc["names"]]
    if desc["multi"]:
        index = pd.MultiIndex.from_arrays(
            [_to_index(lev, n) for lev, n in zip(levels, names, strict=True)], names=names
        )
        freqs = desc.get("level_freqs")
        if freqs:
            index = index.set_levels(
                [
                    lev if f is None else type(lev)(lev, freq=f)
                    for lev, f in zip(index.levels, freqs, strict=True)
                ]
            )
        return index
    index = _to_index(levels[0], names[0])
    if desc.get("freq"):
        index = type(index)(index, freq=desc["freq"])
    return index


def check_has_columns(table: dict[str, Any], where: str) -> None:
    """Refuse ``columns=`` for a stored Series or Index."""
    if table["type"] != "DataFrame":
        raise DataBaseException(
            f"the value at {where} is of type {table['type']}; columns= applies to DataFrames only"
        )


def column_positions(index: pd.Index, columns: Any, where: str) -> list[int]:
    """Positions in the columns ``index`` of the labels ``columns``, in that order (a
    label held by several columns gives all of them); ColumnNotFoundError if missing."""
    if isinstance(columns, str | tuple) or not isinstance(columns, Iterable):
        columns = [columns]
    out: list[int] = []
    missing = []
    for label in columns:
        try:
            hit = index.get_loc(label)
        except (KeyError, TypeError):
            missing.append(label)
            continue
        if isinstance(hit, slice):
            out.extend(range(len(index))[hit])
        elif isinstance(hit, np.ndarray):
            out.extend(np.flatnonzero(hit).tolist())
        else:
            out.append(int(hit))
    if missing:
        raise ColumnNotFoundError(
            f"the table at {where} has no column(s) {missing}; its columns are "
            f"{list(index)[:20]}{' ...' if len(index) > 20 else ''}"
        )
    return out


class StoredTable:
    """A table group opened for reading: its description and its arrays' metadata."""

    def __init__(self, store: Store, root: str) -> None:
        self.store = store
        self.root = root
        doc = json.loads(store.read_bytes(join(root, "zarr.json")))
        table = ((doc.get("attributes") or {}).get("zdb") or {}).get("table")
        if not isinstance(table, dict):
            from .exceptions import CorruptKeyError

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


def keep_object(values: Any, index: pd.Index) -> Any:
    """An object array as a Series, which pandas does not re-infer as strings."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "O":
        return pd.Series(values, index=index, dtype=object, copy=False)
    return values


@functools.lru_cache(maxsize=32)
def open_table(store: Store, root: str) -> StoredTable:
    """The table at ``root``; cached, since a version folder never changes once written."""
    return StoredTable(store, root)


def read_table(store: Store, root: str, columns: Any = None) -> pd.DataFrame | pd.Series | pd.Index:
    """Read the whole table at ``root`` (or only ``columns``) as pandas."""
    table = StoredTable(store, root)
    return unwrap_index(table.table, table.read(columns=columns))


def unwrap_index(table: dict[str, Any], value: Any) -> Any:
    """The Index a zero-column frame stands for, when the table stores an Index (pandas
    or dask); ``value`` itself otherwise."""
    return value.index if table["type"] == "Index" else value


class PartitionReader:
    """Reads one partition (a row range) of a stored table: the function of a lazy dask
    frame. It carries only the store, the path and the chosen columns and re-opens the
    table (cached) where it runs, so the graph stays small however wide the table is.
    Its ``columns=`` keyword lets dask read only the columns a computation uses."""

    def __init__(self, store: Store, root: str, columns: list[Any] | None = None) -> None:
        self.store = store
        self.root = root
        self.default_columns = columns

    def __call__(
        self, rows: tuple[int, int], columns: list[Any] | None = None
    ) -> pd.DataFrame | pd.Series:
        chosen = self.default_columns if columns is None else columns
        return open_table(self.store, self.root).read(rows=rows, columns=chosen)


def read_lazy(store: Store, root: str, columns: Any = None) -> Any:
    """The table at ``root`` as a dask DataFrame (or Series) with its stored partitions,
    and known divisions when its index is sorted; only what is computed is read."""
    table = open_table(store, root)
    positions = table.positions(columns)
    if positions is not None:
        columns = list(table.columns.take(positions))
    meta = table.read(rows=(0, 0), columns=columns)
    bounds = np.concatenate([[0], np.cumsum(table.table["partitions"])]).astype(int).tolist()
    ranges = [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
    frame = dask_frame(PartitionReader(store, root, columns), ranges, meta, table.divisions)
    return unwrap_index(table.table, frame)


#: zdb's own changes of dask's process-wide config take turns (see :func:`dask_frame`)
_dask_config_lock = threading.Lock()


def dask_frame(
    reader: Callable[..., Any],
    ranges: list[tuple[int, int]],
    meta: pd.DataFrame | pd.Series,
    divisions: tuple[Any, ...] | None,
    label: str = "zdb-read",
) -> Any:
    """A dask frame of the partitions ``reader(rng)`` gives for each of ``ranges``, with
    the stored dtypes: dask would turn object columns into pyarrow strings, so it is
    built with that conversion off. ``dask.config.set`` changes the config of the whole
    process, and threads entering and leaving it at once could leave it off for good:
    the lock makes zdb's own changes take turns."""
    import dask
    import dask.dataframe as dd

    with _dask_config_lock, dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(
            reader,
            ranges,
            meta=meta,
            divisions=divisions,
            label=label,
            enforce_metadata=False,
        )


def open_xarray(store: Store, root: str, lazy: bool, columns: Any = None) -> Any:
    """An xarray view of the table: a DataArray for a 2-D block, else a Dataset with one
    variable per column (str labels that are no valid array name become the names)."""
    import xarray as xr

    from .zarr_util import quiet_zarr

    table = open_table(store, root)
    positions = table.positions(columns)
    with quiet_zarr():
        ds = xr.open_zarr(store.zarr_store(root), consolidated=True, chunks={} if lazy else None)
    desc = table.table
    if desc["type"] == "Index":
        return ds  # the index coordinate (none for a RangeIndex)
    if desc["layout"] == "block":
        arr = ds[desc["block"]["array"]]
        if positions is not None:
            arr = arr.isel({desc["block"]["dim"]: positions})
        return arr
    names = desc["arrays"]
    chosen = range(len(names)) if positions is None else positions
    keep = [names[p] for p in chosen]
    ds = ds[list(dict.fromkeys(keep))]
    if desc["type"] == "Series":
        labels = [label_from_json(desc.get("name"))]
    else:
        labels = [table.columns[p] for p in chosen]
    renames = {}
    for name, label in zip(keep, labels, strict=True):
        if isinstance(label, str) and label != name and label not in ds.variables:
            renames[name] = label
    return ds.rename(renames) if renames else ds
