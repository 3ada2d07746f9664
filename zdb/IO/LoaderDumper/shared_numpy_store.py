"""``shared_numpy_store``: a folder of raw numpy arrays that processes on a node share.

ISF's ``SharedNumpyStore`` keeps each array as its raw C-order bytes in a file named
``<name>__<shape>__<dtype>`` (``vm__100_2000__float64``; the shape's numbers joined by
``_``). Processes load an array into named POSIX shared memory once and attach to it
(:mod:`zdb.shared_memory`), or memory-map the file. This module has the one set of
rules for those file names (:func:`file_name`, :func:`parse_file_name`), the store
(:class:`SharedNumpyStore`, read and write; zdb's reader of ISF databases opens ISF's
stores with it, read-only) and the dumper: ``db.create_shared_numpy_store(key)`` or
``db.set(key, None, dumper="shared_numpy_store")`` makes a key whose value is a store
in the key's folder, ``<version>/arrays/``, laid out exactly as ISF's.

A store folder is untrusted input: every file name read from it is checked against the
rules before it becomes part of a path, files are opened without following links, and
the store writes only files named by the rules inside its own folder.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import secrets
import stat
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from ...dumper import Dumper, Target
from ...dumper_registry import register
from ...exceptions import (
    CorruptKeyError,
    DataBaseKeyError,
    InvalidArgumentError,
    ReadOnlyError,
    UnsafePathError,
    UnsupportedValueError,
)
from ...format import group_document
from ...shared_memory import (
    SharedMemory,
    SharedMemoryError,
    Uninterruptible,
    new_shared_array,
    shared_array_from_numpy,
    shared_array_from_shared_mem_name,
)
from ...storage import LocalStore, join

__all__ = [
    "SharedMemory",
    "SharedNumpyStore",
    "Uninterruptible",
    "file_name",
    "memmap_from_disk",
    "parse_file_name",
    "shared_array_from_disk",
    "shared_array_from_numpy",
    "shared_array_from_shared_mem_name",
]

#: the folder of a key's version that is the store
FOLDER = "arrays"
#: files of ISF's key folders that are not arrays
_NOT_ARRAYS = frozenset({"Loader.pickle", "Loader.json", "metadata.json"})
#: the suffix of a file being written; it becomes an array when renamed
SAVING = ".saving"
#: ``<name>__<shape>__<dtype>``: a name without ``__``, the shape's numbers joined by
#: ``_`` (none for a 0-d array), a numpy dtype name
_FILE = re.compile(
    r"((?:(?!__)[A-Za-z0-9_.\-]){1,200})__((?:[0-9]{1,19}(?:_[0-9]{1,19}){0,63})?)__([a-z0-9]{1,20})"
)
#: what :meth:`SharedNumpyStore.save` takes as a name: no ``__``, and no ``_`` at either
#: end (ISF's reader splits at ``__`` and could not read those back)
_NAME = re.compile(r"(?!.*__)[A-Za-z0-9.\-](?:[A-Za-z0-9_.\-]{0,198}[A-Za-z0-9.\-])?")
#: kinds of dtypes whose raw bytes are the values (never pointers, as an object array's)
_KINDS = "biufc"


class ArrayNotFoundError(DataBaseKeyError, ValueError):
    """The store holds no array of that name (a KeyError, and ISF's ValueError)."""


def parse_file_name(entry: str) -> tuple[str, tuple[int, ...], np.dtype] | None:
    """The name, shape and dtype of the array file ``entry``, or None when ``entry`` is
    no array file of a store (another file, a damaged or hostile name, an object dtype)."""
    match = _FILE.fullmatch(entry)
    if match is None:
        return None
    name, shape_text, dtype_text = match.groups()
    try:
        dtype = np.dtype(dtype_text)
    except TypeError:
        return None
    if dtype.kind not in _KINDS:
        return None
    return name, tuple(int(n) for n in shape_text.split("_") if n), dtype


def file_name(name: str, shape: tuple[int, ...], dtype: Any) -> str:
    """The file name of the array ``name`` of ``shape`` and ``dtype``; InvalidArgumentError
    for a name, shape or dtype that ISF's reader could not read back."""
    if not isinstance(name, str) or _NAME.fullmatch(name) is None or name in _NOT_ARRAYS:
        raise InvalidArgumentError(
            f"{name!r} cannot name an array of a shared numpy store: use 1 to 200 of "
            "A-Z a-z 0-9 _ . - without '__' and without '_' at either end"
        )
    dtype = np.dtype(dtype)
    if not shape:
        raise InvalidArgumentError(
            f"array {name!r} has no dimensions; ISF's store cannot name a 0-d array: "
            "store it with shape (1,)"
        )
    entry = f"{name}__{'_'.join(str(int(n)) for n in shape)}__{dtype}"
    if parse_file_name(entry) != (name, tuple(int(n) for n in shape), dtype):
        raise UnsupportedValueError(
            f"array {name!r} has dtype {dtype}; a shared numpy store holds arrays of "
            "booleans and numbers in native byte order (convert it, e.g. with .astype)"
        )
    return entry


def _native(arr: Any) -> np.ndarray:
    """``arr`` as an array in native byte order (the store's files are)."""
    arr = np.asarray(arr)
    return arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))


def _rows(shape: tuple[int, ...], start_row: int | None, end_row: int | None) -> tuple[int, int]:
    rows = shape[0] if shape else 1
    start = 0 if start_row is None else int(start_row)
    end = rows if end_row is None else int(end_row)
    if not 0 <= start <= end <= rows:
        raise InvalidArgumentError(f"rows {start_row}:{end_row} of an array of {rows} rows")
    return start, end


class SharedNumpyStore(Mapping):
    """A folder of raw numpy arrays shared between processes (ISF's class and methods).

    ``save(arr, name)`` writes an array, ``append_save(arr, name)`` appends rows to one,
    ``load(name, mode=...)`` reads one: ``"memory"`` a copy, ``"memmap"`` a read-only
    memory map of the file, ``"shared_memory"`` the array in named POSIX shared memory
    (``allow_create_shm=True`` puts it there first; without, it must be there already,
    as ISF's child processes expect). As a mapping, ``store[name]`` is the array in
    memory and ``dict(store)`` every array by name. ``close()`` unlinks the shared memory
    this store created.
    """

    def __init__(self, working_dir: str | os.PathLike, readonly: bool = False) -> None:
        working_dir = os.path.abspath(os.fspath(working_dir))
        if not readonly:
            os.makedirs(working_dir, exist_ok=True)
        self._setup(LocalStore(working_dir, read_only=readonly), "", working_dir, readonly)

    @classmethod
    def _at(cls, store: LocalStore, path: str, label: str, readonly: bool) -> SharedNumpyStore:
        """The store in the folder ``path`` of a database's ``store``; ``label`` names it
        in errors (``"key 'x' in /data/db"``)."""
        self = cls.__new__(cls)
        self._setup(store, path, label, readonly)
        return self

    def _setup(self, store: LocalStore, path: str, label: str, readonly: bool) -> None:
        self._store, self._path, self._label = store, path, label
        self.readonly = readonly
        self.working_dir = store.full(path)
        #: names the shared memory blocks of this store apart from other stores' (ISF's)
        self._suffix = hashlib.md5(self.working_dir.encode()).hexdigest()[:8]
        #: loaded shared memory: key -> (block, array, created here)
        self._shared_memory_buffers: dict[str, tuple[SharedMemory, np.ndarray, bool]] = {}
        #: appended arrays whose files are not renamed yet: file -> (name, new file)
        self._pending_renames: dict[str, tuple[str, str]] = {}
        self._files: dict[str, str] = {}
        self.update()

    def __repr__(self) -> str:
        return f"SharedNumpyStore({self.working_dir!r}, arrays={sorted(self._files)})"

    # -- the files -----------------------------------------------------------------

    def update(self) -> None:
        """Read the folder's listing again (arrays other processes saved since)."""
        found: dict[str, str] = {}
        for entry in self._store.list_dir(self._path):
            parsed = parse_file_name(entry)
            if parsed is None:
                continue  # ISF's own files, files being written, names breaking the rules
            name = parsed[0]
            if name in found:  # a save killed before it removed the old file
                entry = max(found[name], entry, key=lambda e: self._store.mtime(self._rel(e)))
            found[name] = entry
        self._files = found

    def _rel(self, entry: str) -> str:
        return join(self._path, entry)

    @staticmethod
    def _get_metadata_from_fname(fname: str) -> tuple[str, tuple[int, ...], str]:
        """The name, shape and dtype name of the array file ``fname`` (ISF's method)."""
        parsed = parse_file_name(fname)
        if parsed is None:
            raise InvalidArgumentError(f"{fname!r} is no array file name <name>__<shape>__<dtype>")
        name, shape, dtype = parsed
        return name, shape, str(dtype)

    def _get_metadata_from_name(self, name: str) -> tuple[str, tuple[int, ...], str]:
        """The file, shape and dtype name of the array ``name`` (ISF's method)."""
        if name not in self._files:
            self.update()
            if name not in self._files:
                raise ArrayNotFoundError(
                    f"{self._label} holds no array {name!r} (it has {sorted(self._files)})"
                )
        fname = self._files[name]
        _, shape, dtype = self._get_metadata_from_fname(fname)
        return fname, shape, dtype

    def _get_fname_from_metadata(self, name: str, shape: tuple[int, ...], dtype: Any) -> str:
        return file_name(name, shape, dtype)

    def _get_fname(self, arr: np.ndarray, name: str) -> str:
        return file_name(name, arr.shape, arr.dtype)

    def get_expected_file_length(self, name: str) -> int:
        """The bytes the array ``name`` takes (its shape times its item size)."""
        _, shape, dtype = self._get_metadata_from_name(name)
        return int(np.prod(shape, dtype=object)) * np.dtype(dtype).itemsize

    def __getitem__(self, name: str) -> np.ndarray:
        return self.load(name, mode="memory")

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._files))

    def __len__(self) -> int:
        return len(self._files)

    # -- writing -------------------------------------------------------------------

    def _check_writable(self) -> None:
        if self.readonly:
            raise ReadOnlyError(f"{self._label} is read-only; its arrays cannot be written")

    def _open(self, entry: str, flags: int) -> int:
        """A descriptor of the file ``entry`` (a checked name) in the folder, opened
        without following a link."""
        full = os.path.join(self._store.local_path(self._path), entry)
        try:
            return os.open(full, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise UnsafePathError(
                    f"{full} is a symbolic link in the shared numpy store of {self._label}; "
                    "zdb never follows links there: remove it"
                ) from None
            raise

    def save(self, arr: Any, name: str) -> None:
        """Write ``arr`` as the array ``name``, replacing an array of that name. The file
        appears complete or not at all (written under a temporary name, then renamed)."""
        self._check_writable()
        arr = _native(arr)
        entry = file_name(name, arr.shape, arr.dtype)
        folder = self._store.local_path(self._path)
        # a name of its own: two processes saving one array never write the same file
        tmp = f"{entry}.{secrets.token_hex(6)}{SAVING}"
        fd = self._open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
        try:
            with os.fdopen(fd, "wb") as f:
                arr.tofile(f)  # always C order
            os.replace(os.path.join(folder, tmp), os.path.join(folder, entry))
        except BaseException:
            with contextlib.suppress(FileNotFoundError):  # the error that matters is raised
                os.remove(os.path.join(folder, tmp))
            raise
        for other in self._store.list_dir(self._path):  # the array's files of other shapes
            parsed = parse_file_name(other)
            if parsed is not None and parsed[0] == name and other != entry:
                os.remove(os.path.join(folder, other))
                self._pending_renames.pop(other, None)
        self._files[name] = entry

    def append_save(self, arr: Any, name: str, autoflush: bool = True) -> None:
        """Append the rows of ``arr`` to the array ``name`` (or save it, when there is
        none). The bytes are written after the array's end; the file is renamed to its
        new shape by :meth:`flush` (at once with ``autoflush``): until then, readers see
        the array as it was."""
        self._check_writable()
        arr = _native(arr)
        if name not in self._files:
            self.update()
        if name not in self._files:
            self.save(arr, name)
            return
        fname = self._files[name]
        pending = self._pending_renames.get(fname)
        _, shape, dtype = self._get_metadata_from_fname(pending[1] if pending else fname)
        if arr.ndim != len(shape) or arr.shape[1:] != shape[1:] or arr.dtype != np.dtype(dtype):
            raise InvalidArgumentError(
                f"cannot append an array of shape {arr.shape} and dtype {arr.dtype} to "
                f"{name!r} of shape {shape} and dtype {dtype} in {self._label}"
            )
        end = int(np.prod(shape, dtype=object)) * arr.dtype.itemsize
        fd = self._open(fname, os.O_RDWR)
        with os.fdopen(fd, "r+b") as f:
            f.seek(end)
            arr.tofile(f)
            f.truncate(end + arr.nbytes)  # drop whatever lay beyond the array's end
        new_shape = (shape[0] + arr.shape[0], *shape[1:])
        self._pending_renames[fname] = (name, file_name(name, new_shape, dtype))
        if autoflush:
            self.flush()

    def flush(self) -> None:
        """Rename the files of appended arrays to their new shapes, SIGINT and SIGTERM
        held back until all are renamed."""
        self._check_writable()
        folder = self._store.local_path(self._path)
        with Uninterruptible():
            for fname, (name, new) in list(self._pending_renames.items()):
                os.replace(os.path.join(folder, fname), os.path.join(folder, new))
                self._files[name] = new
                del self._pending_renames[fname]

    # -- reading -------------------------------------------------------------------

    def load(
        self,
        name: str,
        mode: str = "shared_memory",
        start_row: int | None = None,
        end_row: int | None = None,
        allow_create_shm: bool = False,
    ) -> np.ndarray:
        """The array ``name`` (its rows ``start_row:end_row``): ``mode="memory"`` a copy,
        ``"memmap"`` a read-only memory map of the file, ``"shared_memory"`` the array in
        named shared memory, put there first when ``allow_create_shm`` (else it must be
        there already: SharedMemoryError, a ValueError, when it is not)."""
        if mode not in ("memory", "memmap", "shared_memory"):
            raise InvalidArgumentError(
                f"mode must be one of 'memmap', 'memory', 'shared_memory', not {mode!r}"
            )
        fname, shape, dtype_name = self._get_metadata_from_name(name)
        dtype = np.dtype(dtype_name)
        start, end = _rows(shape, start_row, end_row)
        final = (end - start, *shape[1:]) if shape else ()
        offset = start * int(np.prod(shape[1:], dtype=object)) * dtype.itemsize
        if mode == "shared_memory":
            rows = (start, end)
            return self._shared(name, fname, shape, dtype, rows, offset, final, allow_create_shm)
        fd = self._open(fname, os.O_RDONLY)
        with os.fdopen(fd, "rb") as f:
            self._check_file(f, fname, shape, dtype)
            if 0 in final:
                return np.empty(final, dtype)
            if mode == "memmap":
                return np.memmap(f, dtype=dtype, mode="r", offset=offset, shape=final, order="C")
            count = int(np.prod(final, dtype=object))
            return np.fromfile(f, dtype=dtype, count=count, offset=offset).reshape(final)

    def _check_file(self, f: Any, fname: str, shape: tuple[int, ...], dtype: np.dtype) -> None:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise CorruptKeyError(f"{self._label}: {fname} is no regular file")
        expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
        if st.st_size < expected:
            raise CorruptKeyError(
                f"{self._label}: array file {fname} has {st.st_size} bytes where its name "
                f"promises {expected} (shape {shape}, {dtype}); the file is damaged: save "
                "the array again"
            )

    def _block_name(self, fname: str, rows: tuple[int, int]) -> str:
        """The shared memory block of these rows of the file ``fname`` of this store:
        ISF's ``<file>__<start>_<end>__<store>``, or a digest where that is too long
        for a POSIX shared memory name."""
        block = f"{fname}__{rows[0]}_{rows[1]}__{self._suffix}"
        if len(block) > 240:
            block = "zdb_sns_" + hashlib.sha256(block.encode()).hexdigest()[:40]
        return block

    def _shared(
        self,
        name: str,
        fname: str,
        shape: tuple[int, ...],
        dtype: np.dtype,
        rows: tuple[int, int],
        offset: int,
        final: tuple[int, ...],
        allow_create_shm: bool,
    ) -> np.ndarray:
        block = self._block_name(fname, rows)
        if block in self._shared_memory_buffers:
            return self._shared_memory_buffers[block][1]
        if 0 in final:
            return np.empty(final, dtype)
        try:
            shm, array = shared_array_from_shared_mem_name(block, final, dtype)
            created = False
        except FileNotFoundError:
            if not allow_create_shm:
                raise SharedMemoryError(
                    f"array {name!r} of {self._label} is not in shared memory yet; load it "
                    "with allow_create_shm=True (once, in the process that shares it)"
                ) from None
            fd = self._open(fname, os.O_RDONLY)
            with os.fdopen(fd, "rb") as f:
                self._check_file(f, fname, shape, dtype)
                shm, array = new_shared_array(final, dtype, block)
                f.seek(offset)
                f.readinto(array.reshape(-1).view(np.uint8).data)
            created = True
        self._shared_memory_buffers[block] = (shm, array, created)
        return array

    def close(self) -> None:
        """Let go of the shared memory this store loaded: blocks it created are unlinked
        (their names removed; processes using them keep their memory), blocks it
        attached to are left to their creator."""
        for shm, _, created in self._shared_memory_buffers.values():
            shm.close()
            if created:
                try:
                    shm.unlink()
                except FileNotFoundError:
                    pass  # another process unlinked it first: it is gone either way
        self._shared_memory_buffers.clear()


def shared_array_from_disk(
    path: str | os.PathLike,
    shape: tuple[int, ...],
    dtype: Any,
    name: str | None = None,
    start_row: int | None = None,
    end_row: int | None = None,
) -> tuple[SharedMemory, np.ndarray]:
    """Rows ``start_row:end_row`` of the raw array file ``path`` of ``shape`` and
    ``dtype`` copied into a new shared memory block ``name`` (ISF's function)."""
    dtype = np.dtype(dtype)
    shape = tuple(shape)
    start, end = _rows(shape, start_row, end_row)
    final = (end - start, *shape[1:])
    shm, array = new_shared_array(final, dtype, name)
    with open(path, "rb") as f:
        f.seek(start * int(np.prod(shape[1:], dtype=object)) * dtype.itemsize)
        f.readinto(array.reshape(-1).view(np.uint8).data)
    return shm, array


def memmap_from_disk(
    path: str | os.PathLike,
    shape: tuple[int, ...],
    dtype: Any,
    name: str | None = None,
    start_row: int | None = None,
    end_row: int | None = None,
) -> np.memmap:
    """A read-only memory map of rows ``start_row:end_row`` of the raw array file
    ``path`` of ``shape`` and ``dtype`` (ISF's function; ``name`` is not used)."""
    dtype = np.dtype(dtype)
    shape = tuple(shape)
    expected = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if os.path.getsize(path) != expected:
        raise CorruptKeyError(
            f"{path} has {os.path.getsize(path)} bytes, not the {expected} of an array of "
            f"shape {shape} and dtype {dtype}"
        )
    start, end = _rows(shape, start_row, end_row)
    offset = start * int(np.prod(shape[1:], dtype=object)) * dtype.itemsize
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=(end - start, *shape[1:]))


class SharedNumpyStoreDumper(Dumper):
    """A key whose value is a :class:`SharedNumpyStore` in its folder. The value
    written is None (an empty store) or a mapping of array names to arrays."""

    name = "shared_numpy_store"
    always_writes = True

    # no **kwargs: the dumper keywords it takes are the ones its signature names
    def dump(self, value: Any, target: Target) -> dict[str, Any]:  # type: ignore[override]
        if not isinstance(target.store, LocalStore):
            raise UnsupportedValueError(
                "a shared numpy store is a local folder; this database is not on a local "
                "file system"
            )
        if value is not None and not isinstance(value, Mapping):
            raise UnsupportedValueError(
                "the shared_numpy_store dumper stores None (an empty store, then filled with "
                f"store.save(array, name)) or a dict of arrays by name, not a "
                f"{type(value).__qualname__}"
            )
        target.store.write_bytes(join(target.path, "zarr.json"), group_document({}))
        os.makedirs(target.store.local_path(join(target.path, FOLDER)))
        store = SharedNumpyStore._at(target.store, join(target.path, FOLDER), target.key, False)
        for name, array in (value or {}).items():
            store.save(array, name)
        # arrays are saved in place later: the summary cannot count them
        return {"type": "zdb.SharedNumpyStore", "summary": "folder of arrays"}

    def reads_atomically(self, info: dict[str, Any]) -> bool:
        return True  # it reads a listing: one, or none

    def load(  # type: ignore[override]
        self, target: Target, info: dict[str, Any], *, lazy: bool = False, as_xarray: bool = False
    ) -> SharedNumpyStore:
        if not isinstance(target.store, LocalStore):
            raise UnsupportedValueError(f"{target.key}: a shared numpy store is a local folder")
        path = join(target.path, FOLDER)
        return SharedNumpyStore._at(target.store, path, target.key, target.store.read_only)


class Loader:
    """ISF's loader object of this dumper: ``Loader().get(savedir)`` opens the store in
    the folder ``savedir``."""

    def get(self, savedir: str | os.PathLike) -> SharedNumpyStore:
        return SharedNumpyStore(savedir)


def dump(obj: Any, savedir: str | os.PathLike) -> None:
    """ISF's ``dump``: make ``savedir`` a store folder (``obj`` must be None)."""
    if obj is not None:
        raise UnsupportedValueError("ISF's shared_numpy_store dump takes None as its object")
    os.makedirs(savedir, exist_ok=True)


dumper = register(SharedNumpyStoreDumper())
