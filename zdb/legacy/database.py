"""``ISFDataBase``: an ISF database, read-only, with zdb's dictionary-like API.

zdb cannot be installed next to ISF (ISF pins old Python, pandas, dask and zarr), so
reading ISF's folders with zdb is the bridge for their data: ``keys()``, ``db[key]``,
``db.get(key, lazy=..., columns=...)``, ``db.metadata[key]``, ``ls()``, ``unique_id``.
Every write raises :class:`~zdb.exceptions.ReadOnlyError`; ``zdb migrate`` converts
the database into a zdb one that can be written.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from ..exceptions import (
    CorruptKeyError,
    DataBaseException,
    InvalidKeyError,
    KeyKindError,
    NotADataBaseError,
    ReadOnlyError,
    UnknownDumperError,
    UnsafePathError,
)
from ..storage import LocalStore, join
from . import frames, layout, loaders
from .layout import DbState, KeyFolder
from .metadata import key_metadata

Key = str | tuple[str, ...]


class ISFDataBase:
    """An ISF database (``db_state.json`` and a folder per key), opened read-only.

    ``allow_pickle`` decides whether pickled keys are read (unpickling runs code): True
    reads them; False and None (the default: zdb did not create this database) do not.
    ``readonly``, ``nocreate`` and ``suppress_errors`` are accepted for ISF's signature;
    the database is always read-only and never created, and writes always raise. A
    folder of ISF's older ModelDataBase (``sqlitedict.db``) raises
    :class:`~zdb.exceptions.NotADataBaseError` saying so.
    """

    def __init__(
        self,
        path: str | os.PathLike,
        readonly: bool = True,
        nocreate: bool = True,
        allow_pickle: bool | None = None,
        suppress_errors: bool = False,
    ) -> None:
        kind = layout.folder_kind(path)
        if kind == layout.KIND_MODEL_DATA_BASE:
            raise layout.refuse_model_data_base(path)
        if kind != layout.KIND_ISF:
            raise NotADataBaseError(
                f"{os.fspath(path)} holds no ISF database (no {layout.DB_STATE}, or it holds "
                "a zdb database); check the path, or open a zdb database with zdb.DataBase"
            )
        store = LocalStore(os.path.abspath(os.fspath(path)), read_only=True)
        self._setup(store, "", allow_pickle, layout.read_db_state(store, ""))

    def _setup(
        self, store: LocalStore, prefix: str, allow_pickle: bool | None, state: DbState
    ) -> None:
        self._store, self._prefix = store, prefix
        self._allow_pickle = allow_pickle
        self._state = state

    def _open_nested(self, prefix: str) -> ISFDataBase:
        """The ISF database at ``prefix`` of this database's store (a sub-database)."""
        db = ISFDataBase.__new__(ISFDataBase)
        try:
            state = layout.read_db_state(self._store, prefix)
        except NotADataBaseError:
            state = DbState(None, None, (), f"no {layout.DB_STATE}")
        db._setup(self._store, prefix, self._allow_pickle, state)
        return db

    # -- properties ------------------------------------------------------------------

    @property
    def basedir(self) -> str:
        """The absolute path of the database's folder."""
        return self._store.full(self._prefix)

    @property
    def store(self) -> LocalStore:
        """The store of the ISF database's files (reads refuse links and ``..``)."""
        return self._store

    @property
    def prefix(self) -> str:
        """The path of this (sub-)database's folder in :attr:`store`."""
        return self._prefix

    @property
    def readonly(self) -> bool:
        """Always True: zdb reads ISF databases; ``zdb migrate`` converts them."""
        return True

    @property
    def unique_id(self) -> str | None:
        """The database's unique id, from ``db_state.json`` (None when it has none)."""
        return self._state.unique_id

    @property
    def registered_to_path(self) -> str | None:
        """Where ISF registered the database (the path it was created at)."""
        return self._state.registered_to_path

    @property
    def created_here(self) -> bool:
        """Always False: zdb did not create an ISF database, so by default its pickles
        are not read (pass ``allow_pickle=True``)."""
        return False

    @property
    def metadata(self) -> _MetadataView:
        """``db.metadata[key]``: ISF's metadata of the key, ``time`` in ISO 8601."""
        return _MetadataView(self)

    def get_id(self) -> str | None:
        """ISF's name of :attr:`unique_id`."""
        return self.unique_id

    # -- keys ------------------------------------------------------------------------

    def _names(self) -> list[str]:
        names, skipped = layout.list_key_names(self._store, self._prefix)
        if skipped:
            warnings.warn(
                f"zdb: the ISF database {self.basedir} holds entries whose names are no keys "
                f"({', '.join(repr(s[:40]) for s in skipped[:5])}); they are left out",
                stacklevel=3,
            )
        return names

    def keys(self, recurse: bool = False) -> list:
        """Sorted key names, or with ``recurse=True`` tuples of the leaf keys through all
        sub-databases (a damaged key is listed as a leaf)."""
        names = self._names()
        if not recurse:
            return names
        out: list[tuple[str, ...]] = []
        for name in names:
            try:
                folder = self._folder(name)
            except DataBaseException:
                folder = None
            if folder is not None and folder.dumper == loaders.SUB_DATABASE:
                sub = self._open_nested(join(folder.path, layout.SUB_DB_FOLDER))
                out.extend((name, *k) for k in sub.keys(recurse=True))
            else:
                out.append((name,))
        return out

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def __contains__(self, key: object) -> bool:
        try:
            db, name = self._locate(_parts(key))
        except (KeyError, DataBaseException):
            return False
        return db._store.is_dir(join(db._prefix, name))

    def check_if_key_exists(self, key: Key) -> bool:
        """ISF's name of ``key in db``."""
        return key in self

    itemexists = check_if_key_exists

    def _label(self, name: str) -> str:
        return f"key {name!r} in {self.basedir}"

    def _folder(self, name: str) -> KeyFolder:
        """The key folder ``name`` of this database; KeyError when there is none."""
        path = join(self._prefix, name)
        if not self._store.is_dir(path):
            if self._store.read_link(path) is not None:
                raise UnsafePathError(
                    f"{self._store.full(path)} is a symbolic link inside the ISF database "
                    f"{self.basedir}; zdb never follows links in a database: remove it"
                )
            raise KeyError(name)
        return layout.read_key_folder(self._store, path, self._label(name))

    def _locate(self, parts: tuple[str, ...]) -> tuple[ISFDataBase, str]:
        """The (sub-)database holding the last part of a key, and that part."""
        db = self
        for i, part in enumerate(parts[:-1]):
            folder = db._folder(part)
            if folder.dumper != loaders.SUB_DATABASE:
                raise KeyKindError(
                    f"key {parts!r}: {parts[: i + 1]!r} holds data ({folder.dumper}), not a "
                    "sub-database"
                )
            db = db._open_nested(join(folder.path, layout.SUB_DB_FOLDER))
        return db, parts[-1]

    def dumper_of(self, key: Key) -> str:
        """The name of the ISF dumper that wrote ``key``."""
        db, name = self._locate(_parts(key))
        return db._folder(name).dumper

    def partition_lengths(self, key: Key) -> list[int] | None:
        """The rows of each partition of a dask key, from its files' descriptions (None
        for other keys, or when the files do not say)."""
        db, name = self._locate(_parts(key))
        folder = db._folder(name)
        if folder.dumper not in loaders.LAZY_DUMPERS:
            return None
        try:
            return frames.partition_lengths(folder)
        except (OSError, ValueError):
            return None

    def path_of(self, key: Key) -> str:
        """The path of the key's folder (ISF's files of its value)."""
        db, name = self._locate(_parts(key))
        return db._folder(name).store.full(db._folder(name).path)

    # -- reading ---------------------------------------------------------------------

    def get(
        self,
        key: Key,
        lazy: bool | None = None,
        as_xarray: bool = False,
        *,
        lock: Any = None,
        columns: Any = None,
        **loader_kwargs: Any,
    ) -> Any:
        """The value at ``key``: dask frames lazy by default (as in ISF), everything else
        in memory; ``lazy`` and ``columns`` as zdb's ``DataBase.get``. ``lock`` is
        accepted for ISF's signature (reading needs none)."""
        db, name = self._locate(_parts(key))
        folder = db._folder(name)
        if folder.dumper == loaders.SUB_DATABASE:
            return db._open_nested(join(folder.path, layout.SUB_DB_FOLDER))
        unknown = set(loader_kwargs) - {"verbose"}
        if unknown:
            raise UnknownDumperError(
                f"reading {folder.label}: ISF's {folder.dumper} takes no keywords {sorted(unknown)}"
            )
        if as_xarray:
            raise DataBaseException(
                f"reading {folder.label}: as_xarray is not offered for ISF keys; read the "
                "value and convert it, or migrate the database with 'zdb migrate'"
            )
        loader = loaders.loader_for(folder.dumper)
        if loader is None:
            raise CorruptKeyError(
                f"{folder.label} was written by ISF's dumper {folder.dumper!r}, which zdb "
                f"does not read (it reads {', '.join(loaders.known_dumpers())}); 'zdb "
                "migrate' keeps it byte for byte"
            )
        if lazy is None and folder.dumper not in loaders.LAZY_DUMPERS:
            lazy = False
        how = loaders.Reading(self._allow_pickle, lazy, columns, self._open_nested)
        try:
            return loader(folder, how)
        except DataBaseException:
            raise
        except FileNotFoundError as e:
            raise CorruptKeyError(
                f"{folder.label}: the file {e.filename or e} is missing; the key is damaged "
                "(ISF was interrupted while writing it, or files were removed)"
            ) from e
        except Exception as e:  # pandas, pyarrow, zarr: the files are not what ISF wrote
            raise CorruptKeyError(
                f"{folder.label} ({folder.dumper}) cannot be read: {type(e).__name__}: "
                f"{str(e)[:300]}; its files are damaged or were written by another tool"
            ) from e

    def __getitem__(self, key: Key) -> Any:
        return self.get(key)

    def items(self) -> list[tuple[str, Any]]:
        """(key, value) pairs of this database's keys."""
        return [(k, self[k]) for k in self.keys()]

    def values(self) -> list[Any]:
        """The values of this database's keys."""
        return [self[k] for k in self.keys()]

    def maybe_calculate(
        self, key: Key, fun: Callable[[], Any], force_calculation: bool = False, **kwargs: Any
    ) -> Any:
        """The value at ``key`` when it exists; computing and storing one is a write."""
        if not force_calculation and key in self:
            return self[key]
        raise self._read_only(key)

    # -- writing: refused ------------------------------------------------------------

    def _read_only(self, key: Any) -> ReadOnlyError:
        return ReadOnlyError(
            f"cannot change key {key!r}: {self.basedir} is an ISF database, which zdb opens "
            f"read-only; convert it with 'zdb migrate {self.basedir} NEW_PATH' and write to "
            "the new database"
        )

    def set(self, key: Key, value: Any, *args: Any, **kwargs: Any) -> None:
        """Refused: raises ReadOnlyError."""
        raise self._read_only(key)

    def setitem(self, key: Key, value: Any, *args: Any, **kwargs: Any) -> None:
        """Refused: raises ReadOnlyError."""
        raise self._read_only(key)

    def __setitem__(self, key: Key, value: Any) -> None:
        raise self._read_only(key)

    def __delitem__(self, key: Key) -> None:
        raise self._read_only(key)

    def rename(self, old: Key, new: Key) -> None:
        """Refused: raises ReadOnlyError."""
        raise self._read_only(old)

    def create_sub_db(self, key: Key, *args: Any, **kwargs: Any) -> Any:
        """Refused: raises ReadOnlyError."""
        raise self._read_only(key)

    def create_managed_folder(self, key: Key, raise_: bool = True) -> Any:
        """Refused: raises ReadOnlyError (with ``raise_=False``, an existing managed
        folder is returned, as zdb's DataBase does)."""
        if key in self and not raise_:
            return self.get(key)
        raise self._read_only(key)

    def create_shared_numpy_store(self, key: Key, raise_: bool = True) -> Any:
        """Refused: raises ReadOnlyError (with ``raise_=False``, an existing store is
        returned)."""
        return self.create_managed_folder(key, raise_)

    def get_mkdtemp(self, prefix: str = "", suffix: str = "") -> Any:
        """Refused: raises ReadOnlyError."""
        raise self._read_only("(a temporary folder)")

    # -- listing ---------------------------------------------------------------------

    def ls(self, max_lines: int | None = 1000, max_depth: int | None = None, **_: Any) -> None:
        """Print a tree of the keys with their ISF dumper and time written."""
        print(self._tree(max_lines, max_depth))

    def _tree(self, max_lines: int | None, max_depth: int | None) -> str:
        lines = [f"{self.basedir}  (ISF database {self.unique_id}, read-only)"]
        self._lines(lines, "", max_depth)
        if max_lines is not None and len(lines) > max_lines:
            lines = lines[:max_lines] + [f"... ({len(lines) - max_lines} more lines)"]
        return "\n".join(lines)

    def _lines(self, lines: list[str], indent: str, max_depth: int | None) -> None:
        names = self._names()
        for i, name in enumerate(names):
            branch, deeper = ("└── ", "    ") if i == len(names) - 1 else ("├── ", "│   ")
            try:
                folder = self._folder(name)
            except (KeyError, DataBaseException) as e:
                lines.append(f"{indent}{branch}{name}  <damaged: {e}>")
                continue
            if folder.dumper == loaders.SUB_DATABASE:
                lines.append(f"{indent}{branch}{name}/  (sub-database)")
                if max_depth is None or max_depth > 0:
                    sub = self._open_nested(join(folder.path, layout.SUB_DB_FOLDER))
                    sub._lines(lines, indent + deeper, None if max_depth is None else max_depth - 1)
                continue
            written = key_metadata(self._store, folder.path, folder.dumper, folder.label)["time"]
            lines.append(f"{indent}{branch}{name}  {folder.dumper}  {str(written or '')[:19]}")

    def __repr__(self) -> str:
        return self._tree(max_lines=50, max_depth=None)


class _MetadataView(Mapping):
    """``db.metadata``: key -> ISF's metadata of the key."""

    def __init__(self, db: ISFDataBase) -> None:
        self._db = db

    def __getitem__(self, key: Key) -> dict[str, Any]:
        db, name = self._db._locate(_parts(key))
        folder = db._folder(name)
        return key_metadata(folder.store, folder.path, folder.dumper, folder.label)

    def __iter__(self) -> Iterator[str]:
        return iter(self._db.keys())

    def __len__(self) -> int:
        return len(self._db)


def _parts(key: object) -> tuple[str, ...]:
    """The parts of a key, each checked against ISF's key rule."""
    parts = (key,) if isinstance(key, str) else key
    if not isinstance(parts, tuple) or not parts or not all(map(layout.is_key_name, parts)):
        raise InvalidKeyError(
            f"{str(key)[:80]!r} is no key of an ISF database (a str or tuple of str of 1 to "
            "120 characters A-Z a-z 0-9 _ . -)"
        )
    return parts


def open_through_zdb(path: str | os.PathLike, kind: str, allow_pickle: bool | None) -> Any:
    """What ``zdb.DataBase(path)`` returns for a folder of ISF's: the database opened
    read-only, with a warning naming ``zdb migrate``, or the ModelDataBase refusal."""
    if kind == layout.KIND_MODEL_DATA_BASE:
        raise layout.refuse_model_data_base(path)
    db = ISFDataBase(path, allow_pickle=allow_pickle)
    warnings.warn(
        f"zdb: {os.fspath(path)} is an ISF database; zdb opens it read-only. Convert it into "
        f"a zdb database with 'zdb migrate {os.fspath(path)} NEW_PATH' to write to it",
        stacklevel=3,
    )
    return db
