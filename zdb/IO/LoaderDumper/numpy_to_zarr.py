"""``numpy_to_zarr``: ND numpy arrays (and numpy scalars, and dask arrays) as one
chunked, compressed Zarr array named ``data`` in the key's version group.

Small arrays of plain numeric dtypes are written as one chunk by :mod:`zdb.zarr_codec`
(the same bytes zarr-python writes, without its per-call cost); everything else goes
through zarr-python. A dask array is written chunk by chunk by whatever dask scheduler is
active, never held whole.

An array of at most :data:`INLINE_BYTES` is kept in the key's pointer (format 2): a
key of one file instead of five files and folders, which is what setting a small key
costs on a disk. Its Zarr group is written on request (``DataBase.path_of`` calls
:meth:`NumpyToZarr.write_deferred`), byte for byte as it would have been written.
"""

from __future__ import annotations

import base64
import binascii
import functools
from typing import Any

import numpy as np

from ... import progress_bars, zarr_codec
from ...dumper import Dumper, Target, module_loaded
from ...dumper_registry import register
from ...exceptions import CorruptKeyError, UnsupportedValueError
from ...format import Base64Text, group_document
from ...storage import join
from ...zarr_util import consolidate, quiet_zarr

ARRAY = "data"
#: arrays up to this many bytes of a native numeric dtype are written as one chunk by
#: zdb.zarr_codec, without zarr-python
MAX_DIRECT_BYTES = 4 * 2**20
#: arrays written by zdb.zarr_codec of up to this many bytes are kept in the pointer,
#: as their little-endian bytes in base64 (``loader.inline``), like python_value's
#: values of up to 16 KiB
INLINE_BYTES = 16 * 1024
#: zarr-python by default skips a chunk equal to the fill value (losing the sign of -0.0)
#: and reads a missing chunk as fill values (hiding damage); zdb writes every chunk and
#: records it in ``loader.every_chunk``, so that a missing chunk is an error on reading
EVERY_CHUNK_CONFIG = {"write_empty_chunks": True}


def _direct(arr: np.ndarray) -> bool:
    """True if ``arr`` is written as one chunk without zarr-python (given defaults)."""
    return (
        arr.dtype.isnative and zarr_codec.is_numeric(arr.dtype) and arr.nbytes <= MAX_DIRECT_BYTES
    )


def _is_dask_array(value: Any) -> bool:
    if not module_loaded("dask.array"):
        return False
    import dask.array as da

    return isinstance(value, da.Array)


def _dims(ndim: int, dimension_names: list[str] | None) -> list[str]:
    if dimension_names is None:
        return [f"dim_{i}" for i in range(ndim)]
    if len(dimension_names) != ndim:
        raise UnsupportedValueError(
            f"dimension_names has {len(dimension_names)} names for a {ndim}-d array"
        )
    return [str(d) for d in dimension_names]


def _object_as_str(arr: np.ndarray) -> np.ndarray:
    flat = arr.ravel()
    if not all(type(v) is str for v in flat):
        raise UnsupportedValueError(
            "numpy_to_zarr stores object arrays only when every element is a str; "
            "store this array with dumper='to_cloudpickle'"
        )
    return arr.astype(np.dtypes.StringDType())


@functools.cache
def _dtype_name(dtype: np.dtype) -> str:
    """``str(dtype)``, which numpy computes in Python (microseconds per small key)."""
    return str(dtype)


@functools.cache
def _check_zarr_dtype(dtype: np.dtype) -> None:
    """Raise UnsupportedValueError (so that zdb falls back to pickle) for a dtype that
    Zarr has no data type for, such as long double."""
    import zarr.dtype

    try:
        zarr.dtype.parse_dtype(dtype, zarr_format=3)
    except ValueError:
        raise UnsupportedValueError(
            f"Zarr has no data type for numpy dtype {dtype}; store it with dumper='to_cloudpickle'"
        ) from None


class NumpyToZarr(Dumper):
    name = "numpy_to_zarr"
    always_writes = True
    priority = 10

    def handles(self, value: Any) -> bool:
        if isinstance(value, np.ma.MaskedArray):
            return False  # see dump
        if isinstance(value, np.ndarray | np.generic):
            return value.dtype.kind != "O" or value.dtype == object
        return _is_dask_array(value)

    def dump(
        self,
        value: Any,
        target: Target,
        chunks: Any = "auto",
        shards: Any = None,
        compressors: Any = "auto",
        filters: Any = "auto",
        dimension_names: list[str] | None = None,
        inline: bool = True,
    ) -> dict[str, Any]:
        info: dict[str, Any] = {"type": f"{type(value).__module__}.{type(value).__qualname__}"}
        if isinstance(value, np.ma.MaskedArray):
            raise UnsupportedValueError(
                "numpy_to_zarr would store a masked array's data without its mask; store it "
                "with dumper='to_cloudpickle', or install a dumper plugin for masked arrays "
                "(docs/plugins.md)"
            )
        if _is_dask_array(value):
            info["type"] = "dask.array.Array"
            arr = value
        else:
            if isinstance(value, np.generic):
                info["scalar"] = True
            arr = np.asarray(value)
            if arr.dtype.kind == "V" or arr.dtype.hasobject and arr.dtype.kind not in "OT":
                raise UnsupportedValueError(
                    f"numpy_to_zarr does not store structured dtype {arr.dtype}; "
                    "store it with dumper='to_cloudpickle'"
                )
            if arr.dtype == object:
                info["numpy_dtype"] = "object"
                arr = _object_as_str(arr)
        if not (isinstance(arr, np.ndarray) and _direct(arr)):
            _check_zarr_dtype(arr.dtype)
        info["summary"] = f"{_dtype_name(arr.dtype)} {tuple(arr.shape)}"
        dims = _dims(arr.ndim, dimension_names)
        defaults = (
            chunks == "auto" and shards is None and compressors == "auto" and filters == "auto"
        )
        if defaults and isinstance(arr, np.ndarray) and _direct(arr):
            meta = zarr_codec.array_metadata(arr.dtype, arr.shape, arr.shape, dimension_names=dims)
            info["array"] = meta
            info["every_chunk"] = True
            if inline and arr.nbytes <= INLINE_BYTES:
                info["inline"] = Base64Text(base64.b64encode(_little_endian(arr)).decode("ascii"))
            else:
                _write_group(target, arr, meta)
            return info
        self._write_with_zarr(arr, target, chunks, shards, compressors, filters, dims)
        info["every_chunk"] = True
        return info

    @staticmethod
    def _write_with_zarr(arr, target, chunks, shards, compressors, filters, dims) -> None:
        import zarr

        store = target.zarr_store()
        lazy = not isinstance(arr, np.ndarray)
        if lazy and chunks == "auto":
            chunks = tuple(max(1, c[0]) if c else 1 for c in arr.chunks)
        if arr.ndim == 0:
            chunks = ()
        with quiet_zarr():
            group = zarr.open_group(store, mode="w", zarr_format=3)
            z = group.create_array(
                ARRAY,
                shape=arr.shape,
                dtype=arr.dtype,
                chunks=chunks,
                shards=shards,
                compressors=compressors,
                filters=filters,
                dimension_names=dims,
                config=EVERY_CHUNK_CONFIG,
            )
            if lazy:
                import dask.array as da

                write_chunks = z.shards or z.chunks
                if arr.chunks != da.core.normalize_chunks(write_chunks, arr.shape):
                    arr = arr.rechunk(write_chunks)
                with progress_bars.dask_tasks("writing"):
                    da.store(arr, z, lock=False)
            elif arr.size:
                z[...] = arr
        consolidate(store)

    def wrote_files(self, info: dict[str, Any]) -> bool:
        return "inline" not in info

    def defers_files(self, info: dict[str, Any]) -> bool:
        return "inline" in info

    def write_deferred(self, target: Target, info: dict[str, Any]) -> None:
        arr = _inline_array(info, target.key)
        dims = info["array"].get("dimension_names")
        meta = zarr_codec.array_metadata(arr.dtype, arr.shape, arr.shape, dimension_names=dims)
        _write_group(target, arr, meta)

    def reads_atomically(self, info: dict[str, Any]) -> bool:
        # every chunk is written, so a chunk removed under a reader raises
        return bool(info.get("every_chunk"))

    def load(
        self,
        target: Target,
        info: dict[str, Any],
        *,
        lazy: bool = False,
        as_xarray: bool = False,
    ) -> Any:
        if "inline" in info:
            return _from_memory(_inline_array(info, target.key), info, lazy, as_xarray)
        meta = info.get("array")
        if meta is not None and not (lazy or as_xarray) and zarr_codec.is_single_chunk(meta):
            return _restore(
                zarr_codec.read_single_chunk(target.store, join(target.path, ARRAY), meta), info
            )
        store = target.zarr_store(every_chunk=bool(info.get("every_chunk")))
        if as_xarray:
            import xarray as xr

            with quiet_zarr():
                ds = xr.open_zarr(store, consolidated=True, chunks={} if lazy else None)
                return ds[ARRAY] if lazy is not False else ds[ARRAY].load()
        import zarr

        with quiet_zarr():
            z = zarr.open_array(store, path=ARRAY, mode="r")
        if lazy:
            import dask.array as da

            return da.from_zarr(z)
        arr = z[...]
        if not isinstance(arr, np.ndarray):  # zarr returns a 0-d array as a scalar
            arr = np.asarray(arr, dtype=z.dtype)
        return _restore(arr, info)


def _write_group(target: Target, arr: np.ndarray, meta: dict[str, Any]) -> None:
    """Write ``arr`` as the one-chunk array ``data`` of the version group, the group's
    ``zarr.json`` (with consolidated metadata) last: the group is complete once it
    is there."""
    zarr_codec.write_single_chunk(target.store, join(target.path, ARRAY), arr, meta)
    target.store.write_bytes(
        join(target.path, "zarr.json"), group_document({}, consolidated={ARRAY: meta})
    )


def _little_endian(arr: np.ndarray) -> bytes:
    return np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("<")).tobytes()


def _inline_array(info: dict[str, Any], key: str) -> np.ndarray:
    """The array kept in the pointer, its bytes, data type, shape and dimension names
    checked (a pointer is untrusted input)."""
    meta = info.get("array")
    try:
        if not isinstance(meta, dict):
            raise TypeError("no array metadata")
        dtype = zarr_codec.numpy_dtype(meta)
        shape = tuple(meta["shape"])
        dims = meta.get("dimension_names", [])
        if (
            dtype.kind not in "biufc"
            or not all(type(n) is int and n >= 0 for n in shape)
            or not isinstance(dims, list)
            or not all(isinstance(d, str) for d in dims)
            or len(dims) not in (0, len(shape))
        ):
            raise ValueError(f"{dtype} {shape} with dimension names {dims}")
        raw = base64.b64decode(info["inline"], validate=True)
        arr = np.frombuffer(raw, dtype=dtype.newbyteorder("<")).reshape(shape)
    except (KeyError, TypeError, ValueError, binascii.Error) as e:
        raise CorruptKeyError(
            f"{key} is damaged: the array kept in its pointer cannot be read ({e}); delete "
            "the key and write it again"
        ) from None
    return arr.astype(dtype)  # native byte order, and a writable copy


def _from_memory(arr: np.ndarray, info: dict[str, Any], lazy: bool | None, as_xarray: bool) -> Any:
    """An array kept in the pointer as each read mode returns it: in memory, a dask
    array (``lazy``), or a DataArray named like the group's array (``as_xarray``)."""
    if lazy:
        import dask.array as da

        data: Any = da.from_array(arr, chunks=arr.shape or ())
    else:
        data = arr
    if as_xarray:
        import xarray as xr

        dims = info["array"].get("dimension_names") or [f"dim_{i}" for i in range(arr.ndim)]
        return xr.DataArray(data, dims=dims, name=ARRAY)
    return data if lazy else _restore(arr, info)


def _restore(arr: np.ndarray, info: dict[str, Any]) -> Any:
    """The array as it was given: an object array, or a numpy scalar."""
    if info.get("numpy_dtype") == "object":
        arr = arr.astype(object)
    if info.get("scalar"):
        return arr[()]
    return arr


dumper = register(NumpyToZarr())
