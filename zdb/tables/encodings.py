"""The versioned column encodings: how a pandas array maps onto stored arrays.

Every stored pandas array (a column, an index level, categories, labels) has an
*encoding* (``{"name": ..., "version": ..., ...}``, docs/format.md "Columns") that
depends on its dtype alone, so it is known before any data is seen (a dask frame's
meta). :func:`encode_column` turns the array into its ``values`` array plus optional
auxiliary arrays (masks, markers, lengths), :func:`decode_column` turns them back into
the pandas array of the original dtype. Both layouts, Zarr and Parquet, use them.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import FormatVersionError, UnsupportedValueError
from ..zarr_codec import arrow_offsets
from .labels import as_index, index_freq

PLAIN_KINDS = "biufc"
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


def unsupported(where: str, what: str) -> UnsupportedValueError:
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
        if dtype.kind in PLAIN_KINDS:
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
        raise unsupported(where, f"numpy dtype {dtype} is not supported")
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories
        enc = {
            "name": "category",
            "version": 1,
            "ordered": bool(dtype.ordered),
            "categories": column_encoding(categories.dtype, f"{where} (categories)"),
        }
        if index_freq(categories):
            enc["categories_freq"] = index_freq(categories)
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
    raise unsupported(where, f"dtype {dtype} is not supported")


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _check_dtype_round_trip(dtype: Any, rebuilt: Any, where: str) -> None:
    if rebuilt != dtype:
        raise unsupported(where, f"dtype {dtype} cannot be described exactly (read as {rebuilt})")


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
    lengths = np.diff(arrow_offsets(values)).astype(np.uint32)
    return {"values": values, "mask": mask, "lengths": lengths}


def is_arrow(values: Any) -> bool:
    """True for a pyarrow Array or ChunkedArray (strings kept in Arrow form)."""
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
            raise unsupported(
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
    raise unsupported(where, f"the missing value {value!r} in an object column is not supported")


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
        categories = as_index(parts["categories"], None)
        if enc.get("categories_freq"):
            categories = type(categories)(categories, freq=enc["categories_freq"])
        dtype = pd.CategoricalDtype(categories, ordered=enc["ordered"])
        return pd.Categorical.from_codes(values, dtype=dtype, validate=False)
    raise AssertionError(name)


def with_nulls(values: Any, mask: np.ndarray) -> Any:
    """The Arrow string array (or chunked array) ``values`` with the rows of ``mask``
    null."""
    import pyarrow as pa

    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
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


def keep_object(values: Any, index: pd.Index) -> Any:
    """An object array as a Series, which pandas does not re-infer as strings."""
    if isinstance(values, np.ndarray) and values.dtype.kind == "O":
        return pd.Series(values, index=index, dtype=object, copy=False)
    return values
