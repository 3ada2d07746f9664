"""Loaders of ISF's array dumpers: ``numpy_to_npy`` (``np.npy``), ``numpy_to_npz``
(``np.npz``, the array as ``arr_0``), ``numpy_to_zarr`` (a Zarr v2 array ``obj.zarr``),
``numpy_to_msgpack`` (a frame of the array's columns in pandas' msgpack format) and
``shared_numpy_store`` (raw arrays named ``<name>__<shape>__<dtype>``)."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import CorruptKeyError
from ..IO.LoaderDumper.shared_numpy_store import SharedNumpyStore
from .layout import KeyFolder
from .msgpack_format import FormatError, read_msgpack

if TYPE_CHECKING:
    from .loaders import Reading


def _npy(data: bytes, folder: KeyFolder, how: Reading, name: str) -> Any:
    """np.load of ``data``; object arrays (pickled inside the file) under the policy."""
    try:
        return np.load(io.BytesIO(data), allow_pickle=False)
    except ValueError as e:
        if "allow_pickle" not in str(e):
            raise CorruptKeyError(f"{folder.label}: {name} is no numpy file ({e})") from None
    how.check_pickle(folder, name)
    return np.load(io.BytesIO(data), allow_pickle=True)


def load_npy(folder: KeyFolder, how: Reading) -> Any:
    """``numpy_to_npy``: the array in ``np.npy``."""
    return _lazy(_npy(folder.store.read_bytes(folder.file("np.npy")), folder, how, "np.npy"), how)


def load_npz(folder: KeyFolder, how: Reading) -> Any:
    """``numpy_to_npz``: the array ``arr_0`` of ``np.npz``."""
    import zipfile

    data = folder.store.read_bytes(folder.file("np.npz"))
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            member = archive.read("arr_0.npy")
    except (zipfile.BadZipFile, KeyError) as e:
        raise CorruptKeyError(f"{folder.label}: np.npz holds no array arr_0 ({e})") from None
    return _lazy(_npy(member, folder, how, "np.npz"), how)


def load_zarr(folder: KeyFolder, how: Reading) -> Any:
    """``numpy_to_zarr``: the Zarr v2 array ``obj.zarr`` (lazily: a dask array)."""
    import zarr

    try:
        array = zarr.open_array(
            store=folder.store.zarr_store(folder.file("obj.zarr")), mode="r", zarr_format=2
        )
    except (FileNotFoundError, ValueError, KeyError, TypeError) as e:
        raise CorruptKeyError(f"{folder.label}: obj.zarr is no Zarr v2 array ({e})") from None
    if how.lazy:
        import dask.array as da

        return da.from_zarr(array)
    return array[...]


def load_msgpack_array(folder: KeyFolder, how: Reading) -> Any:
    """``numpy_to_msgpack``: the values of the frame in ``pandas_to_msgpack``."""
    data = folder.store.read_bytes(folder.file("pandas_to_msgpack"))
    try:
        frame = read_msgpack(data)
    except FormatError as e:
        raise CorruptKeyError(f"{folder.label}: pandas_to_msgpack is damaged: {e}") from None
    return _lazy(np.asarray(frame.values), how)


def _lazy(array: Any, how: Reading) -> Any:
    if how.lazy:
        import dask.array as da

        return da.from_array(array)
    return array


def load_shared_numpy_store(folder: KeyFolder, how: Reading) -> SharedNumpyStore:
    """``shared_numpy_store``: the folder as a read-only :class:`SharedNumpyStore` (the
    store of :mod:`zdb.IO.LoaderDumper.shared_numpy_store`, which has the rules of its
    file names)."""
    return SharedNumpyStore._at(folder.store, folder.path, folder.label, readonly=True)
