"""``DataBase``: the dictionary-like face of a zdb database.

A database is a Zarr v3 group; each key is a child group whose attributes say which
dumper wrote it and where it came from, and whose current value lives in a version
folder committed by :mod:`zdb.commit`. A sub-database is a child group that is a
database itself. This module maps the ISF ``data_base`` API onto that layout; the
key rules live in :mod:`zdb.keys`, the node records in :mod:`zdb.format`, the commit
protocol in :mod:`zdb.commit`, the dumpers in :mod:`zdb.IO.LoaderDumper`.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import tempfile
import warnings
import zipfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any, TypeVar

from . import commit, metadata, registry
from .commit import DbRef
from .dumper import ROLE_FALLBACK, ROLE_MANAGED_FOLDER, ROLE_SUB_DATABASE
from .dumper_registry import choose_dumper, dumper_for_role, get_dumper
from .exceptions import (
    CorruptKeyError,
    DataBaseException,
    DataBaseKeyError,
    FormatVersionError,
    KeyKindError,
    NotADataBaseError,
    ReadOnlyError,
    StorageError,
    UnknownDumperError,
    UnsupportedValueError,
)
from .format import BOOKKEEPING, ZARR_JSON, DatabaseNode, ForeignNode, KeyNode, Node, parse_node
from .isf_methods import ISFMethods
from .key_index import KeyIndex
from .keys import Key, check_path_length, format_key, normalize_key, short
from .storage import open_store

#: scratch folders of get_mkdtemp
_TMP = f"{BOOKKEEPING}/tmp"
_F = TypeVar("_F", bound=Callable[..., Any])


@contextmanager
def _holding(lock: Any) -> Iterator[None]:
    """Hold ``lock``: anything with ``acquire()`` and ``release()``, as ISF's locks."""
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _storage_errors(action: str, names_key: bool = True) -> Callable[[_F], _F]:
    """Turn an OSError of the storage under a database into a :class:`StorageError` that
    says what was being done (to the key that is the first argument, with
    ``names_key``) in which database, and what to check."""

    def wrap(method: _F) -> _F:
        @functools.wraps(method)
        def translating(self: DataBase, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except OSError as e:
                what = f"{action} key {short(args[0])}" if names_key and args else action
                raise StorageError(
                    f"{what} in {self.basedir} failed: the storage refused it ({e}); check "
                    "that the database's folder or bucket is there, readable and writable by "
                    "you, and not full"
                ) from e

        return translating  # type: ignore[return-value]

    return wrap


class DataBase(ISFMethods):
    """A dictionary-like database of simulation results stored as Zarr v3.

    ``DataBase(path)`` opens the database at ``path`` or creates it (with missing
    parent folders); on a folder of ISF's it returns the read-only
    :class:`zdb.isf_data_base.ISFDataBase` with a warning naming ``zdb migrate``.
    ``readonly=True`` forbids every change; ``nocreate=True`` refuses to create one.
    ``allow_pickle`` decides whether pickled values are read (unpickling runs code):
    True always, False never, None (default) only from a database you created at this
    place, from files owned by you that no one else may write (see
    :mod:`zdb.IO.LoaderDumper.to_cloudpickle`). ``suppress_errors=True`` (ISF's option)
    turns failures to register the database into warnings. ISF's other methods come
    from :class:`zdb.isf_methods.ISFMethods`.
    """

    def __new__(
        cls,
        path_or_url: str | os.PathLike | None = None,
        readonly: bool = False,
        nocreate: bool = False,
        allow_pickle: bool | None = None,
        **kwargs: Any,
    ) -> Any:
        # a folder of ISF's opens read-only through its reader: ISF's users have years of
        # results in such folders, and zdb is the only way to read them without ISF
        if cls is DataBase and path_or_url is not None:
            from .legacy.layout import folder_kind

            kind = folder_kind(path_or_url)
            if kind is not None:
                from .legacy.database import open_through_zdb

                return open_through_zdb(path_or_url, kind, allow_pickle)
        return super().__new__(cls)

    def __init__(
        self,
        path_or_url: str | os.PathLike,
        readonly: bool = False,
        nocreate: bool = False,
        allow_pickle: bool | None = None,
        *,
        storage_options: dict | None = None,
        suppress_errors: bool = False,
    ) -> None:
        self._suppress_errors = suppress_errors
        self._parent: DataBase | None = None
        try:
            store = open_store(path_or_url, storage_options)
            self._readonly = bool(readonly) or store.read_only
            self._ref, created = commit.open_root(store, self._readonly, nocreate)
        except (OSError, ValueError, zipfile.BadZipFile) as e:
            raise NotADataBaseError(
                f"cannot open a database at {str(path_or_url)[:200]!r}: {type(e).__name__}: "
                f"{e}; check the path or URL (its scheme, that an archive is a zip file, that "
                "you may read it) and the storage_options"
            ) from e
        self._created_here = self._ref.unique_id is not None and registry.note_opened(
            self._ref.unique_id, self.basedir, created
        )
        self._allow_pickle: bool | str | None = allow_pickle
        if allow_pickle is None and not self._created_here:
            self._allow_pickle = (
                f"you did not create the database {self.basedir} at this place (it was "
                "received, copied, moved or extracted, or created by another user)"
            )

    def _at(self, ref: DbRef) -> DataBase:
        """The (sub-)database at ``ref``, opened like this one."""
        db = DataBase.__new__(DataBase)
        db._ref, db._readonly, db._allow_pickle = ref, self._readonly, self._allow_pickle
        db._created_here, db._suppress_errors = self._created_here, self._suppress_errors
        db._parent = None
        return db

    def _child(self, name: str, node: DatabaseNode) -> DataBase:
        child = self._at(self._ref.child(name, node))
        child._parent = self
        return child

    def _readonly_copy(self) -> DataBase:
        db = self._at(self._ref)
        db._readonly = True
        return db

    def _reload(self) -> None:
        """Read the database's node again (its unique id may have been given since)."""
        node = parse_node(
            self._ref.store.read_bytes(self._ref.path(ZARR_JSON)), f"the database {self.basedir}"
        )
        if isinstance(node, DatabaseNode):
            self._ref = dataclasses.replace(
                self._ref, unique_id=node.unique_id, indexed=node.indexed
            )

    # -- properties ------------------------------------------------------------------

    @property
    def basedir(self) -> str:
        """The absolute local path of the database, or its URL."""
        return self._ref.where

    @property
    def readonly(self) -> bool:
        """True if the database is read-only. It can be set, as in ISF: to True, to
        False (when the storage is writable), or to ISF's ``'warning'``, which is
        read-only too (ISF logged a warning and wrote anyway)."""
        return self._readonly

    @readonly.setter
    def readonly(self, value: bool | str) -> None:
        if value not in (True, False, "warning"):
            raise DataBaseException(f"readonly must be True, False or 'warning', not {value!r}")
        if not value and self._ref.store.read_only:
            raise ReadOnlyError(f"{self.basedir} is on read-only storage; it cannot be written")
        if not value and self._readonly and not self._ref.prefix:
            # what opening for writing does: give an id (and an index) where missing
            self._ref, _ = commit.open_root(self._ref.store, False, True)
        self._readonly = bool(value)

    @property
    def unique_id(self) -> str | None:
        """The database's persistent unique id."""
        return self._ref.unique_id

    @property
    def created_here(self) -> bool:
        """True if you created this database (or the one it is part of) at this place,
        as your registry records: then the default ``allow_pickle`` trusts its pickles."""
        return self._created_here

    @property
    def ref(self) -> DbRef:
        """Where the database is: its store and the path of its node in it."""
        return self._ref

    @property
    def metadata(self) -> _MetadataView:
        """``db.metadata[key]``: the key's provenance dict."""
        return _MetadataView(self)

    # -- nodes -----------------------------------------------------------------------

    @_storage_errors("reading")
    def node(self, key: Key) -> Node:
        """The record of the key's ``zarr.json`` (:mod:`zdb.format`): a
        :class:`~zdb.format.KeyNode`, :class:`~zdb.format.DatabaseNode` for a
        sub-database or :class:`~zdb.format.ForeignNode`; KeyError when absent."""
        db, name = self._locate(normalize_key(key))
        node = commit.read_node(db._ref, name)
        if node is None:
            raise KeyError(key)
        return node

    def _locate(self, parts: tuple[str, ...], create: bool = False) -> tuple[DataBase, str]:
        """The (sub-)database holding the last part of a key, and that part."""
        db, rest = self._locate_existing(parts)
        if len(rest) > 1:
            if not create:
                raise KeyError(format_key(parts))
            for part in rest[:-1]:
                db = db._create_sub(part)
        return db, rest[-1]

    def _locate_existing(self, parts: tuple[str, ...]) -> tuple[DataBase, tuple[str, ...]]:
        """The deepest existing (sub-)database on the way to a key, and the parts of the
        key below it (more than one when sub-databases on the way do not exist)."""
        db = self
        for i, part in enumerate(parts[:-1]):
            node = commit.read_node(db._ref, part)
            if node is None:
                return db, parts[i:]
            if not isinstance(node, DatabaseNode):
                raise KeyKindError(
                    f"key {format_key(parts)!r}: {format_key(parts[: i + 1])!r} holds data, not "
                    "a sub-database, so nothing can be stored under it; delete it first or use "
                    "another key"
                )
            db = db._child(part, node)
        return db, parts[-1:]

    def _create_sub(self, name: str) -> DataBase:
        sub = self._at(commit.create_sub(self._ref, name))
        sub._parent = self
        return sub

    def _check_writable(self, key: Any) -> None:
        if self._readonly:
            raise ReadOnlyError(
                f"cannot change key {key!r}: the database {self.basedir} is open read-only; "
                "open it with readonly=False to change it"
            )

    # -- writing ---------------------------------------------------------------------

    @_storage_errors("writing")
    def set(
        self,
        key: Key,
        value: Any,
        dumper: Any = None,
        *,
        lock: Any = None,
        overwrite: bool = True,
        **dumper_kwargs: Any,
    ) -> None:
        """Store ``value`` under ``key`` with ``dumper`` (chosen by type when None).

        The write is atomic: readers see the old value until the new one is complete.
        As in ISF, ``lock`` (anything with ``acquire()`` and ``release()``, such as a
        :mod:`zdb.distributed_lock` lock) is held during the write, and
        ``overwrite=False`` raises a KeyError when the key exists (checked first, so
        not against a writer racing this one). Other keywords go to the dumper; ISF's
        dumper keywords it has no use for are ignored with a warning (docs/tables.md).
        """
        with _holding(lock) if lock is not None else nullcontext():
            if not overwrite and key in self:
                raise DataBaseKeyError(
                    f"key {key!r} exists in {self.basedir} and overwrite=False keeps it: "
                    "delete it first, or pass overwrite=True"
                )
            self._set(key, value, dumper, dumper_kwargs)

    def _set(self, key: Key, value: Any, dumper: Any, dumper_kwargs: dict[str, Any]) -> None:
        parts = normalize_key(key)
        self._check_writable(key)
        check_path_length(self._ref.store, self._ref.prefix, parts)
        try:
            chosen = choose_dumper(value) if dumper is None else get_dumper(dumper)
        except UnknownDumperError as e:
            raise UnknownDumperError(f"cannot store key {key!r}: {e}") from None
        if chosen.role == ROLE_SUB_DATABASE:
            if value is not None or dumper_kwargs:
                raise UnsupportedValueError(
                    f"key {key!r}: the sub-database dumper takes no value; "
                    "use db.create_sub_db(key)"
                )
            self.create_sub_db(key)
            return
        try:
            dumper_kwargs = chosen.accept_kwargs(dumper_kwargs)
        except UnknownDumperError as e:
            raise UnknownDumperError(f"cannot store key {key!r}: {e}") from None
        db, rest = self._locate_existing(parts)
        try:
            commit.write(db._ref, rest, value, chosen, dumper_kwargs)
        except UnsupportedValueError as e:
            # a named dumper or keywords for the chosen one are what the user asked for
            fallback = dumper_for_role(ROLE_FALLBACK)
            if dumper is not None or dumper_kwargs or chosen is fallback:
                raise UnsupportedValueError(f"cannot store key {key!r}: {e}") from e
            warnings.warn(
                f"zdb: {chosen.name} cannot store key {key!r} ({e}); stored it with "
                f"{fallback.name} instead",
                stacklevel=3,
            )
            commit.write(db._ref, rest, value, fallback, {})

    def __setitem__(self, key: Key, value: Any) -> None:
        self.set(key, value)

    @_storage_errors("creating")
    def create_sub_db(
        self, key: Key, register: bool | str = "as_parent", raise_: bool = True
    ) -> DataBase:
        """The sub-database at ``key``, created if it does not exist (an existing one is
        returned whatever ``raise_`` says, as in ISF; a value at ``key`` raises).

        ``register`` (ISF's): ``'as_parent'`` registers the sub-database in the
        registry when this database is registered, True always, False never; a
        registered sub-database opens by its unique id (``get_db_by_unique_id``).
        """
        if register not in (True, False, "as_parent"):
            raise DataBaseException(
                f"register must be True, False or 'as_parent', not {register!r}"
            )
        parts = normalize_key(key)
        self._check_writable(key)
        check_path_length(self._ref.store, self._ref.prefix, parts)
        db, name = self._locate(parts, create=True)
        sub = db._create_sub(name)
        if register is True or (register == "as_parent" and self._is_registered()):
            sub._register_this_database()
        return sub

    def _is_registered(self) -> bool:
        """True if the registry knows this database (at any place)."""
        try:
            return self.unique_id is not None and self.unique_id in registry.DataBaseRegister()
        except OSError:
            return False

    def create_managed_folder(self, key: Key, raise_: bool = True) -> str:
        """Create a managed folder at ``key`` and return its path (a str subclass); an
        existing key raises, or with ``raise_=False`` (as in ISF) is returned."""
        if key in self:
            if not raise_:
                return self.get(key)
            raise DataBaseException(
                f"key {key!r} already exists in {self.basedir}; delete it first or choose "
                "another key for the managed folder"
            )
        self.set(key, None, dumper=dumper_for_role(ROLE_MANAGED_FOLDER))
        return self.get(key)

    def maybe_calculate(
        self, key: Key, fun: Callable[[], Any], force_calculation: bool = False, **set_kwargs: Any
    ) -> Any:
        """The value at ``key``; if absent (or forced), ``fun()`` stored there and returned."""
        if not force_calculation and key in self:
            return self[key]
        result = fun()
        self.set(key, result, **set_kwargs)
        return result

    # -- ISF's other names, so that its code runs (more in zdb.isf_methods) --------------

    def get_id(self) -> str | None:
        """ISF's name of :attr:`unique_id`."""
        return self.unique_id

    def itemexists(self, key: Key) -> bool:
        """The name of ISF's older model_data_base for ``key in db``."""
        return key in self

    def setitem(self, key: Key, value: Any, dumper: Any = None, **kwargs: Any) -> None:
        """The older ISF name of :meth:`set`."""
        self.set(key, value, dumper, **kwargs)

    @_storage_errors("creating a temporary folder", names_key=False)
    def get_mkdtemp(self, prefix: str = "", suffix: str = "") -> tuple[Path, Path]:
        """A new temporary folder inside the database (in ``.zdb/tmp``, never a key) and
        its path relative to the database, as in ISF; only on a local disk."""
        self._check_writable("(a temporary folder)")
        root = self._ref.store.local_path(self._ref.prefix)
        if root is None:
            raise DataBaseException(
                f"get_mkdtemp needs a database on a local disk; {self.basedir} is not: use "
                "tempfile.mkdtemp() for scratch space, and store results as keys"
            )
        parent = Path(self._ref.store.local_path(self._ref.path(_TMP)) or root)
        parent.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{prefix}_", suffix=f"_{suffix}", dir=parent))
        return folder, folder.relative_to(root)

    @_storage_errors("deleting")
    def __delitem__(self, key: Key) -> None:
        parts = normalize_key(key)
        self._check_writable(key)
        db, name = self._locate(parts)
        try:
            commit.delete(db._ref, name)
        except KeyError:
            raise KeyError(key) from None

    @_storage_errors("renaming")
    def rename(self, old: Key, new: Key) -> None:
        """Move the value (or sub-database) at ``old`` to ``new``, keeping its metadata."""
        old_parts, new_parts = normalize_key(old), normalize_key(new)
        self._check_writable(old)
        check_path_length(self._ref.store, self._ref.prefix, new_parts)
        src, src_name = self._locate(old_parts)
        node = commit.read_node(src._ref, src_name)
        if node is None:
            raise KeyError(old)
        if new in self:
            raise DataBaseException(
                f"cannot rename {old!r} to {new!r}: {new!r} exists; delete it first"
            )
        if new_parts[: len(old_parts)] == old_parts:
            raise DataBaseException(f"cannot rename {old!r} into itself ({new!r})")
        dst, rest = self._locate_existing(new_parts)
        commit.rename(src._ref, src_name, dst._ref, rest, node)

    @_storage_errors("copying")
    def copy_to(
        self, key: Key, other: DataBase, new_key: Key | None = None, progress: bool = False
    ) -> None:
        """Copy the value at ``key`` with its provenance to ``new_key`` (default: the
        same key) of the database ``other``, which may be on another store; a
        sub-database is copied key by key. The copy is committed as any write is;
        an existing key there is replaced. ``progress`` shows a progress bar of the
        files copied (:mod:`zdb.progress_bars`)."""
        parts = normalize_key(key)
        target = parts if new_key is None else normalize_key(new_key)
        other._check_writable(format_key(target))
        check_path_length(other._ref.store, other._ref.prefix, target)
        src, name = self._locate(parts)
        node = commit.read_node(src._ref, name)
        if node is None:
            raise KeyError(key)
        if isinstance(node, DatabaseNode):
            other.create_sub_db(target)
            child = src._child(name, node)
            for sub in child.keys(recurse=True):
                child.copy_to(sub, other, (*target, *sub), progress)
            return
        if not isinstance(node, KeyNode):
            raise DataBaseException(
                f"key {key!r} in {self.basedir} is a Zarr node that zdb did not write; copy "
                "it with the tool that wrote it (its path: db.path_of(key))"
            )
        dst, rest = other._locate_existing(target)
        commit.copy_value(src._ref, name, node, dst._ref, rest, progress)

    # -- reading ---------------------------------------------------------------------

    @_storage_errors("reading")
    def get(
        self,
        key: Key,
        lazy: bool | None = None,
        as_xarray: bool = False,
        *,
        lock: Any = None,
        **loader_kwargs: Any,
    ) -> Any:
        """The value at ``key``.

        ``lazy=True`` returns a dask-backed object that reads only what a computation
        touches, ``lazy=False`` one in memory; by default keys written from dask
        collections come back lazy (as in ISF) and others in memory. ``as_xarray=True``
        returns an xarray view of an array or table key, which reads on access unless
        ``lazy`` is given. ``lock`` is held while reading, as in ISF (reads need none:
        writes are atomic).
        """
        if lock is None:  # the common case: no context manager on the hot read path
            return self._get(key, lazy, as_xarray, loader_kwargs)
        with _holding(lock):
            return self._get(key, lazy, as_xarray, loader_kwargs)

    def _get(self, key: Key, lazy: bool | None, as_xarray: bool, loader_kwargs: dict) -> Any:
        parts = normalize_key(key)
        db, name = self._locate(parts)
        node = commit.read_node(db._ref, name)
        if node is None:
            raise KeyError(key)
        if isinstance(node, DatabaseNode):
            return db._child(name, node)
        label = f"key {key!r} in {self.basedir}"
        if isinstance(node, ForeignNode):
            from .foreign import load_foreign

            return load_foreign(db._ref.store, db._ref.path(name), node, label, lazy, as_xarray)
        return db._load(name, node, label, lazy, as_xarray, loader_kwargs)

    def _load(
        self,
        name: str,
        node: KeyNode,
        label: str,
        lazy: bool | None,
        as_xarray: bool,
        loader_kwargs: dict[str, Any],
    ) -> Any:
        try:
            dumper = get_dumper(node.dumper)
        except UnknownDumperError:
            raise CorruptKeyError(
                f"{label} was written with dumper {node.dumper!r}, which this zdb does not "
                "have; install the package that provides it"
            ) from None
        if node.dumper_version > dumper.format_version:
            raise FormatVersionError(
                f"{label} was written in format version {node.dumper_version} of dumper "
                f"{node.dumper!r}, newer than the installed one reads "
                f"({dumper.format_version}); upgrade the package that provides it"
            )
        try:
            loader_kwargs = dumper.accept_load_kwargs(loader_kwargs)
        except UnknownDumperError as e:
            raise UnknownDumperError(f"reading {label}: {e}") from None
        if lazy is None and not as_xarray:  # an xarray view decides for itself
            lazy = dumper.lazy_default
        return commit.read(
            self._ref, name, node, dumper, label, self._allow_pickle, lazy, as_xarray, loader_kwargs
        )

    def __getitem__(self, key: Key) -> Any:
        return self.get(key)

    @_storage_errors("looking up")
    def __contains__(self, key: object) -> bool:
        try:
            parts = normalize_key(key)
            db, name = self._locate(parts)
        except (KeyError, KeyKindError):
            return False
        return commit.has_pointer(db._ref, name)

    @_storage_errors("listing the keys", names_key=False)
    def keys(self, recurse: bool = False) -> list:
        """Sorted keys: names of this database, or with ``recurse=True`` tuples of the
        leaf keys through all sub-databases (a damaged key is listed as a leaf)."""
        if self._ref.indexed and not self._ref.store.cheap_listing:
            names = sorted(KeyIndex(self._ref.store, self._ref.prefix).names())
        else:
            names = commit.listed_names(self._ref)
        if not recurse:
            return names
        out: list[tuple[str, ...]] = []
        for name in names:
            try:
                node = commit.read_node(self._ref, name)
            except DataBaseException:
                node = None
            if isinstance(node, DatabaseNode):
                out.extend((name, *sub) for sub in self._child(name, node).keys(recurse=True))
            else:
                out.append((name,))
        return out

    @_storage_errors("repairing the key index", names_key=False)
    def repair_index(self, recurse: bool = True) -> dict[str, list[tuple[str, ...]]]:
        """Make the key index (kept on object stores) agree with the database's folder.

        A writer killed between committing a key and recording it in the index leaves a
        key that ``db[key]`` finds but ``keys()`` does not list (see docs/format.md).
        This lists the folder (slow on object stores: a request per key) and records, in
        one segment per database, the keys found but not listed and the listed keys
        that are gone. A key whose newest index entry is a deletion recorded after the
        key was written is left alone: it is being deleted, or its deleter was killed
        (delete it again). Returns the keys (tuples of their parts) ``added``,
        ``removed`` and ``left``, and those whose pointer is ``damaged`` (found on
        object stores only); on a local disk, which keeps no index, all are empty.
        """
        self._check_writable("(the key index)")
        report: dict[str, list[tuple[str, ...]]] = {
            "added": [],
            "removed": [],
            "left": [],
            "damaged": [],
        }
        if not self._ref.store.cheap_listing:
            commit.repair_index(self._ref, (), recurse, report)
        return report

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def __len__(self) -> int:
        return len(self.keys())

    def items(self) -> list[tuple[str, Any]]:
        """(key, value) pairs of this database's keys."""
        return [(k, self[k]) for k in self.keys()]

    def values(self) -> list[Any]:
        """The values of this database's keys."""
        return [self[k] for k in self.keys()]

    @_storage_errors("finding")
    def path_of(self, key: Key) -> str:
        """The local path or URL of the Zarr group holding the key's data, which plain
        zarr and ``xarray.open_zarr`` open without zdb.

        A small array is kept in its key's pointer (docs/format.md, format 2); its Zarr
        group is written on the first call, which a database open read-only refuses
        (``ReadOnlyError``: read it with ``db.get(key, as_xarray=True)`` instead).
        """
        db, name = self._locate(normalize_key(key))
        node = commit.read_node(db._ref, name)
        if node is None:
            raise KeyError(key)
        version = node.version if isinstance(node, KeyNode) else None
        if isinstance(node, KeyNode) and node.deferred:
            path = db._ref.path(name, version or "")
            if not db._ref.store.exists(f"{path}/{ZARR_JSON}"):
                if self._readonly:
                    raise ReadOnlyError(
                        f"key {key!r} in {self.basedir} is a small array kept in its pointer, "
                        "whose Zarr group is written on request, and the database is open "
                        "read-only; read it with db.get(key, as_xarray=True), or open the "
                        "database for writing once to get its path"
                    )
                commit.write_deferred(db._ref, name, node, get_dumper(node.dumper))
        return db._ref.store.full(db._ref.path(name, version or ""))

    # -- listing ---------------------------------------------------------------------

    def ls(
        self,
        depth: int = 0,
        max_depth: int | None = None,
        max_lines: int | None = 1000,
        all_files: bool = False,
        max_lines_per_key: int | None = None,
        color: bool = False,
    ) -> None:
        """Print a tree of the keys with dumper, type, shape/dtype, size and time written,
        at most ``max_lines`` lines and ``max_depth`` levels of sub-databases (None: all).
        The parameters are ISF's, in its order; its display options ``depth``,
        ``all_files``, ``max_lines_per_key`` and ``color`` are accepted so that ISF code
        runs, and zdb's tree does not use them."""
        from .tree import tree

        print(tree(self, max_lines, max_depth))

    def __repr__(self) -> str:
        from .tree import tree

        return tree(self, max_lines=50)

    def _repr_html_(self) -> str:
        """What Jupyter shows: the collapsible tree of :mod:`zdb.display`."""
        from .display import database_html

        return database_html(self)


class _MetadataView(Mapping):
    """``db.metadata``: key -> the key's metadata dict (shown as a table in Jupyter)."""

    def __init__(self, db: DataBase) -> None:
        self._db = db

    def __repr__(self) -> str:
        return f"<metadata of the {len(self)} keys of {self._db.basedir}>"

    def _repr_html_(self) -> str:
        from .display import metadata_table_html

        return metadata_table_html(self, self._db.keys())

    def __getitem__(self, key: Key) -> dict[str, Any]:
        from .display import KeyMetadata

        return KeyMetadata(self._fields(key))

    def _fields(self, key: Key) -> dict[str, Any]:
        db, name = self._db._locate(normalize_key(key))
        node = commit.read_node(db._ref, name)
        if node is None:
            raise KeyError(key)
        store, path = db._ref.store, db._ref.path(name)
        if isinstance(node, DatabaseNode):  # created, not written: no provenance
            out = metadata.post_hoc(store, path)
            out["dumper"] = dumper_for_role(ROLE_SUB_DATABASE).name
            out["time"] = node.created or out["time"]
            return out
        if not isinstance(node, KeyNode) or node.metadata is None:
            return metadata.post_hoc(store, path)
        return metadata.expand(store, db._ref.prefix, node.metadata, node.dumper)

    def __iter__(self) -> Iterator[str]:
        return iter(self._db.keys())

    def __len__(self) -> int:
        return len(self._db)


def is_data_base(path: str | os.PathLike) -> bool:
    """True if ``path`` holds a zdb database (a sub-database counts), or an ISF database
    (``db_state.json``), which ``DataBase(path)`` opens read-only."""
    try:
        store = open_store(path)
        node = parse_node(store.read_bytes(ZARR_JSON), os.fspath(path))
    except (OSError, DataBaseException):
        from .legacy.layout import KIND_ISF, folder_kind

        return folder_kind(path) == KIND_ISF
    return isinstance(node, DatabaseNode)


def is_sub_data_base(db: DataBase, key: Key) -> bool:
    """True if ``key`` of ``db`` is a sub-database."""
    try:
        return isinstance(db.node(key), DatabaseNode)
    except (KeyError, DataBaseException):
        return False
