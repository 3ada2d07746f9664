"""Loaders of ISF's array dumpers: ``numpy_to_npy`` (``np.npy``), ``numpy_to_npz``
(``np.npz``, the array as ``arr_0``), ``numpy_to_zarr`` (a Zarr v2 array ``obj.zarr``),
``numpy_to_msgpack`` (a frame of the array's columns in pandas' msgpack format) and
``shared_numpy_store`` (raw arrays named ``<name>__<shape>__<dtype>``)."""

from __future__ import annotations

import errno
import io
import os
import re
import stat
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import CorruptKeyError, UnsafePathError
from .layout import LOADER_JSON, LOADER_PICKLE, METADATA_JSON, KeyFolder
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


#: ``<name>__<shape: ints joined by _>__<dtype>``, as ISF's SharedNumpyStore names files
_STORE_FILE = re.compile(r"([A-Za-z0-9_.\-]{1,200}?)__([0-9_]{0,200})__([a-z0-9]{1,20})")


class SharedNumpyStore(Mapping):
    """A read-only view of ISF's ``SharedNumpyStore`` folder: raw C-order arrays in files
    named ``<name>__<shape>__<dtype>``. ``load(name, mode=...)`` reads one as ISF did
    (``"memory"``: a copy; ``"memmap"`` and ``"shared_memory"``: a read-only memory map,
    which the operating system shares between processes); as a mapping, ``store[name]``
    is the array in memory and ``dict(store)`` every array by name."""

    def __init__(self, folder: KeyFolder) -> None:
        self._folder = folder
        self.working_dir = folder.store.full(folder.path)
        self._files: dict[str, tuple[str, tuple[int, ...], np.dtype]] = {}
        for entry in folder.store.list_dir(folder.path):
            if entry in (LOADER_JSON, LOADER_PICKLE, METADATA_JSON) or entry.endswith(".saving"):
                continue
            match = _STORE_FILE.fullmatch(entry)
            if match is None:
                continue
            name, shape_text, dtype_text = match.groups()
            try:
                dtype = np.dtype(dtype_text)
            except TypeError:
                continue
            if dtype.kind not in "biufcmM":
                continue  # never an object array: its bytes would be pointers
            shape = tuple(int(n) for n in shape_text.split("_") if n)
            self._files[name] = (entry, shape, dtype)

    def __repr__(self) -> str:
        return f"SharedNumpyStore({self.working_dir!r}, arrays={sorted(self._files)})"

    def __getitem__(self, name: str) -> np.ndarray:
        return self.load(name, mode="memory")

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._files))

    def __len__(self) -> int:
        return len(self._files)

    def load(
        self,
        name: str,
        mode: str = "shared_memory",
        start_row: int | None = None,
        end_row: int | None = None,
        allow_create_shm: bool = False,
    ) -> np.ndarray:
        """The array ``name`` (rows ``start_row:end_row``), read as ``mode`` says."""
        if name not in self._files:
            raise KeyError(f"{self._folder.label} holds no array {name!r} (it has {list(self)})")
        if mode not in ("memory", "memmap", "shared_memory"):
            raise ValueError("mode must be one of 'memmap', 'memory', 'shared_memory'")
        entry, shape, dtype = self._files[name]
        path = self._folder.file(entry)
        rows = shape[0] if shape else 1
        start, end = start_row or 0, rows if end_row is None else end_row
        if not 0 <= start <= end <= rows:
            raise ValueError(f"rows {start_row}:{end_row} of {name!r} (it has {rows} rows)")
        row_items = int(np.prod(shape[1:])) if len(shape) > 1 else 1
        final = (end - start, *shape[1:]) if shape else ()
        offset = start * row_items * dtype.itemsize
        if mode == "memory":
            data = self._folder.store.read_bytes(path)
            self._check_size(name, len(data), shape, dtype)
            count = (end - start) * row_items if shape else 1
            return np.frombuffer(data, dtype, count=count, offset=offset).reshape(final).copy()
        return self._memmap(name, path, shape, dtype, offset, final)

    def _memmap(
        self, name: str, path: str, shape: tuple, dtype: np.dtype, offset: int, final: tuple
    ) -> np.ndarray:
        """A read-only memory map of the file, opened without following a link."""
        full = self._folder.store.local_path(path)
        try:
            fd = os.open(full, os.O_RDONLY | os.O_NOFOLLOW)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise UnsafePathError(
                    f"{full} is a symbolic link inside an ISF database; zdb never follows "
                    "links in a database: remove it"
                ) from None
            raise
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                raise CorruptKeyError(f"{self._folder.label}: {path} is no regular file")
            self._check_size(name, st.st_size, shape, dtype)
            if 0 in final:
                return np.empty(final, dtype)
            return np.memmap(f, dtype=dtype, mode="r", offset=offset, shape=final, order="C")

    def _check_size(self, name: str, size: int, shape: tuple, dtype: np.dtype) -> None:
        expected = int(np.prod(shape)) * dtype.itemsize
        if size < expected:
            raise CorruptKeyError(
                f"{self._folder.label}: array {name!r} has {size} bytes where its name "
                f"promises {expected} (shape {shape}, {dtype}); the file is damaged"
            )


def load_shared_numpy_store(folder: KeyFolder, how: Reading) -> SharedNumpyStore:
    """``shared_numpy_store``: the folder as a read-only :class:`SharedNumpyStore`."""
    return SharedNumpyStore(folder)
