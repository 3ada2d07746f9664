"""``DataBase``: the dictionary-like face of a zdb database.

A database is a Zarr v3 group; each key is a child group whose attributes say which
dumper wrote it and where it came from, and whose current value lives in a version
folder committed by :mod:`zdb.commit`. A sub-database is a child group that is a
database itself. This module maps the ISF ``data_base`` API onto that layout; the
key rules live in :mod:`zdb.keys`, the layout in :mod:`zdb.format`, the dumpers in
:mod:`zdb.IO.LoaderDumper`.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import commit, data_base_register, metadata
from .dumper import ROLE_FALLBACK, ROLE_MANAGED_FOLDER, ROLE_SUB_DATABASE, Dumper, Target
from .dumper_registry import choose_dumper, dumper_for_role, get_dumper
from .exceptions import (
    CorruptKeyError,
    DataBaseException,
    DataBaseKeyError,
    KeyChangedError,
    KeyKindError,
    NotADataBaseError,
    ReadOnlyError,
    UnknownDumperError,
    UnsupportedValueError,
)
from .format import (
    BOOKKEEPING,
    KIND_DATA,
    KIND_DATABASE,
    KIND_FOREIGN,
    ZARR_JSON,
    node_document,
    parse_node,
)
from .key_index import KeyIndex
from .keys import Key, format_key, normalize_key
from .storage import Store, join, open_store

#: how often a reader retries when the version it reads is replaced under it
READ_RETRIES = 10
_TRASH = f"{BOOKKEEPING}/trash"
#: where a value is written before the sub-databases on the way to its key are created
_STAGING = f"{BOOKKEEPING}/staging"
#: scratch folders of get_mkdtemp
_TMP = f"{BOOKKEEPING}/tmp"


def _written_us(node: dict[str, Any]) -> int:
    """When the key of ``node`` was written (µs since the epoch, from its provenance);
    0 when it does not say (a sub-database, a node written by another tool)."""
    stamp = (node.get("metadata") or {}).get("time")
    try:
        return int(datetime.fromisoformat(stamp).timestamp() * 1_000_000)
    except (TypeError, ValueError):
        return 0


@contextmanager
def _holding(lock: Any) -> Iterator[None]:
    """Hold ``lock``: anything with ``acquire()`` and ``release()``, as ISF's locks."""
    lock.acquire()
    try:
        yield
    finally:
        lock.release()


def _new_unique_id() -> str:
    return f"{datetime.now(UTC):%Y-%m-%d_%H-%M-%S}_{secrets.token_hex(6)}"


class DataBase:
    """A dictionary-like database of simulation results stored as Zarr v3.

    ``DataBase(path)`` opens the database at ``path`` or creates it (with missing
    parent folders). ``readonly=True`` forbids every change; ``nocreate=True``
    refuses to create one. ``allow_pickle`` decides whether pickled values are read:
    None (default) only from a local database owned by you, True always, False never.
    """

    def __init__(
        self,
        path_or_url: str | os.PathLike,
        readonly: bool = False,
        nocreate: bool = False,
        allow_pickle: bool | None = None,
        *,
        storage_options: dict | None = None,
    ) -> None:
        store = open_store(path_or_url, storage_options)
        readonly = readonly or store.read_only
        self._setup(store, "", store.full(""), readonly, allow_pickle)
        node = self._read_root(store)
        if node is None:
            if readonly or nocreate:
                flag = "readonly=True" if readonly else "nocreate=True"
                raise NotADataBaseError(
                    f"{self.basedir} holds no zdb database and {flag} forbids creating one; "
                    "check the path, or open it without that flag to create a database"
                )
            node = self._create_root(store)
        if not readonly and (
            not node.get("unique_id") or (not store.cheap_listing and not node.get("index"))
        ):
            node = self._complete_root(node)
        self._unique_id = node.get("unique_id")
        self._indexed = bool(node.get("index"))
        if self._unique_id:
            data_base_register.note_opened(self._unique_id, self.basedir)

    def _setup(
        self, store: Store, prefix: str, basedir: str, readonly: bool, allow_pickle: bool | None
    ) -> None:
        self._store = store
        self._prefix = prefix
        self._basedir = basedir
        self._readonly = readonly
        self._allow_pickle = allow_pickle
        self._unique_id: str | None = None
        self._indexed = False
        self._index = KeyIndex(store, prefix)

    def _note(self, name: str, kind: str | None) -> None:
        """Record a new, deleted or moved key in the key index, where there is one."""
        self._note_all([(name, kind)])

    def _note_all(self, changes: list[tuple[str, str | None]]) -> None:
        """Record several changes in one index segment: readers see all or none."""
        if self._indexed:
            self._index.record_many(changes)

    def _complete_root(self, node: dict[str, Any]) -> dict[str, Any]:
        """Give a database written by another tool or an older zdb a unique id and a
        complete key index (see :mod:`zdb.key_index`)."""
        if not node.get("index") and not self._store.cheap_listing:
            names = self._listed_names()
            kinds = [(n, (self._node(n) or {}).get("kind", KIND_DATA)) for n in names]
            if kinds:
                self._index.record_many(kinds)
            node = {**node, "index": 1}
        node = {**node, "unique_id": node.get("unique_id") or _new_unique_id()}
        self._store.write_atomic(ZARR_JSON, node_document(_strip_format(node)))
        return node

    def _read_root(self, store: Store) -> dict[str, Any] | None:
        try:
            node = parse_node(store.read_bytes(ZARR_JSON), self.basedir)
        except FileNotFoundError:
            if store.exists("") and not store.is_dir(""):
                raise NotADataBaseError(
                    f"{self.basedir} is a file, not a database folder; choose another path"
                ) from None
            return None
        except NotADirectoryError:
            raise NotADataBaseError(
                f"{self.basedir} is inside a file, not a folder; choose another path"
            ) from None
        if node["kind"] != KIND_DATABASE:
            what = (
                "a Zarr node not written by zdb"
                if node["kind"] == KIND_FOREIGN
                else ("a key of a zdb database, not a database")
            )
            raise NotADataBaseError(f"{self.basedir} is {what}; choose another path")
        return node

    def _create_root(self, store: Store) -> dict[str, Any]:
        # the pointer's temporary file, or the pointer itself, of another process creating
        # this database at the same moment does not make the folder someone else's
        content = [n for n in store.list_dir("") if not _is_pointer_temp(n)]
        if content:
            node = self._read_root(store)
            if node is not None:  # created by another process meanwhile
                return node
            raise NotADataBaseError(
                f"cannot create a database in {self.basedir}: the folder is not empty and "
                f"holds no zdb database (it holds {sorted(content)[:5]}); choose an empty "
                "or new folder"
            )
        node = {"kind": KIND_DATABASE, **_new_database_attrs(self._store)}
        if not store.create_exclusive(ZARR_JSON, node_document(node)):
            return self._read_root(store) or node  # created by another process meanwhile
        return node

    def _child(self, name: str, node: dict[str, Any]) -> DataBase:
        sub = DataBase.__new__(DataBase)
        sub._setup(
            self._store,
            join(self._prefix, name),
            self._store.full(join(self._prefix, name)),
            self._readonly,
            self._allow_pickle,
        )
        sub._unique_id = node.get("unique_id")
        sub._indexed = bool(node.get("index"))
        return sub

    # -- properties ------------------------------------------------------------------

    @property
    def basedir(self) -> str:
        """The absolute local path of the database, or its URL."""
        return self._basedir

    @property
    def readonly(self) -> bool:
        """True if the database was opened with ``readonly=True``."""
        return self._readonly

    @property
    def unique_id(self) -> str | None:
        """The database's persistent unique id."""
        return self._unique_id

    @property
    def metadata(self) -> _MetadataView:
        """``db.metadata[key]``: the key's provenance dict."""
        return _MetadataView(self)

    # -- nodes -----------------------------------------------------------------------

    def _node(self, name: str) -> dict[str, Any] | None:
        """zdb's attributes of the child node ``name``; None when there is none."""
        path = join(self._prefix, name, ZARR_JSON)
        try:
            data = self._store.read_bytes(path)
        except (FileNotFoundError, NotADirectoryError):
            return None
        return parse_node(data, f"key {name!r} in {self.basedir}")

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
            node = db._node(part)
            if node is None:
                return db, parts[i:]
            if node["kind"] != KIND_DATABASE:
                raise KeyKindError(
                    f"key {format_key(parts)!r}: {format_key(parts[: i + 1])!r} holds data, not "
                    "a sub-database, so nothing can be stored under it; delete it first or use "
                    "another key"
                )
            db = db._child(part, node)
        return db, parts[-1:]

    def _create_sub(self, name: str) -> DataBase:
        node = {"kind": KIND_DATABASE, **_new_database_attrs(self._store)}
        path = join(self._prefix, name, ZARR_JSON)
        if self._store.create_exclusive(path, node_document(node)):
            self._note(name, KIND_DATABASE)
        else:
            existing = self._node(name)
            if existing is None or existing["kind"] != KIND_DATABASE:
                raise KeyKindError(
                    f"key {name!r} in {self.basedir} holds data, not a sub-database; "
                    "delete it first or use another key"
                )
            node = existing
        return self._child(name, node)

    def _check_writable(self, key: Any) -> None:
        if self._readonly:
            raise ReadOnlyError(
                f"cannot change key {key!r}: the database {self.basedir} is open read-only; "
                "open it with readonly=False to change it"
            )

    # -- writing ---------------------------------------------------------------------

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
        not against a writer racing this one).
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
            chosen.check_kwargs(dumper_kwargs)
        except UnknownDumperError as e:
            raise UnknownDumperError(f"cannot store key {key!r}: {e}") from None
        db, rest = self._locate_existing(parts)
        try:
            db._write(rest, value, chosen, dumper_kwargs)
        except UnsupportedValueError as e:
            # a named dumper or keywords for the chosen one are what the user asked for
            fallback = dumper_for_role(ROLE_FALLBACK)
            if dumper is not None or dumper_kwargs or chosen is fallback:
                raise UnsupportedValueError(f"cannot store key {key!r}: {e}") from e
            warnings.warn(
                f"zdb: {chosen.name} cannot store key {key!r} ({e}); stored it with "
                f"{fallback.name} instead",
                stacklevel=2,
            )
            db._write(rest, value, fallback, {})

    def _write(
        self, rest: tuple[str, ...], value: Any, dumper: Dumper, kwargs: dict[str, Any]
    ) -> None:
        """Store ``value`` at the key ``rest`` below this database; sub-databases on the
        way that do not exist yet are created (see :meth:`_write_new_path`)."""
        if len(rest) > 1:
            self._write_new_path(rest, value, dumper, kwargs)
            return
        store = self._store
        name = rest[0]
        key_path = join(self._prefix, name)
        old = self._data_node(name)
        version = commit.new_version()
        target = Target(
            store, join(key_path, version), self._allow_pickle, f"key {name!r} in {self.basedir}"
        )
        try:
            info = dumper.dump(value, target, **kwargs)
        except BaseException as e:
            try:
                store.remove(target.path)
            except OSError as cleanup:  # keep the dumper's error; say what is left behind
                e.add_note(f"zdb could not remove the partial value {target.full}: {cleanup}")
            if isinstance(e, DataBaseException | KeyboardInterrupt | SystemExit):
                raise
            raise DataBaseException(
                f"writing key {name!r} in {self.basedir} with dumper {dumper.name!r} failed: "
                f"{type(e).__name__}: {e}"
            ) from e
        has_data = dumper.wrote_files(info)
        if has_data is None:
            has_data = store.exists(target.path)
        attrs = {
            "kind": KIND_DATA,
            "dumper": dumper.name,
            "version": version if has_data else None,
            "loader": info,
            "metadata": metadata.for_new_key(store, self._prefix, self._unique_id),
        }
        commit.publish(store, key_path, attrs)
        if old is None:
            self._note(name, KIND_DATA)
        else:
            commit.retire(store, key_path, old.get("version"), attrs["version"])

    def _write_new_path(
        self, rest: tuple[str, ...], value: Any, dumper: Dumper, kwargs: dict[str, Any]
    ) -> None:
        """Write a key whose sub-databases on the way do not exist yet.

        The sub-databases and the key are built in ``.zdb/staging`` and moved into place
        with one rename, so that readers see all of them or none, and neither a write
        that fails nor a killed writer leaves sub-databases behind.
        """
        staging = self._child(_STAGING, {})
        chain = [staging._create_sub(commit.new_version())]
        # messages name where the sub-databases will be, not the staging folder
        chain[0]._basedir = self._child(rest[0], {}).basedir
        try:
            for part in rest[1:-1]:
                chain.append(chain[-1]._create_sub(part))
            chain[-1]._write(rest[-1:], value, dumper, kwargs)
            self._move_into_place(chain, rest)
        finally:
            self._store.remove(chain[0]._prefix)
        commit.retire(self._store, staging._prefix, None, None)  # leftovers of killed writers

    def _move_into_place(self, chain: list[DataBase], rest: tuple[str, ...]) -> None:
        """Move the staged sub-databases ``chain`` (``rest[:-1]``) holding the staged key
        ``rest[-1]`` below this database. The first part missing here moves with one
        rename; parts that another writer created meanwhile are descended into."""
        store = self._store
        target = self
        for level, part in enumerate(rest):
            last = level == len(rest) - 1
            src = join(chain[-1]._prefix, part) if last else chain[level]._prefix
            dst = join(target._prefix, part)
            try:
                store.rename(src, dst)
            except OSError:
                if not store.exists(dst):
                    raise
            else:
                target._note(part, KIND_DATA if last else KIND_DATABASE)
                return
            if not last:  # created by another writer meanwhile
                target = target._create_sub(part)
                continue
            # the key was written meanwhile: commit the staged value over it
            staged = _strip_format(chain[-1]._node(part) or {})
            old = target._data_node(part)
            version = staged.get("version")
            if version:
                store.rename(join(src, version), join(dst, version))
            metadata.copy_blobs(store, chain[-1]._prefix, target._prefix, staged["metadata"])
            commit.publish(store, dst, staged)
            if old is None:
                target._note(part, KIND_DATA)
            else:
                commit.retire(store, dst, old.get("version"), version)

    def _data_node(self, name: str) -> dict[str, Any] | None:
        """The node of key ``name`` (None if absent); KeyKindError for a sub-database."""
        node = self._node(name)
        if node is not None and node["kind"] == KIND_DATABASE:
            raise KeyKindError(
                f"key {name!r} in {self.basedir} is a sub-database; delete it before storing "
                "data under its name"
            )
        return node

    def __setitem__(self, key: Key, value: Any) -> None:
        self.set(key, value)

    def create_sub_db(self, key: Key) -> DataBase:
        """The sub-database at ``key``, created if it does not exist."""
        parts = normalize_key(key)
        self._check_writable(key)
        db, name = self._locate(parts, create=True)
        return db._create_sub(name)

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

    # -- ISF's other names, so that its code runs ----------------------------------------

    def get_id(self) -> str | None:
        """ISF's name of :attr:`unique_id`."""
        return self.unique_id

    def check_if_key_exists(self, key: Key) -> bool:
        """ISF's name of ``key in db``."""
        return key in self

    itemexists = check_if_key_exists  # the name of ISF's older model_data_base

    def setitem(self, key: Key, value: Any, dumper: Any = None, **kwargs: Any) -> None:
        """The older ISF name of :meth:`set`."""
        self.set(key, value, dumper, **kwargs)

    def get_mkdtemp(self, prefix: str = "", suffix: str = "") -> tuple[Path, Path]:
        """A new temporary folder inside the database (in ``.zdb/tmp``, never a key) and
        its path relative to the database, as in ISF; only on a local disk."""
        root = self._store.local_path(self._prefix)
        if root is None:
            raise DataBaseException(
                f"get_mkdtemp needs a database on a local disk; {self.basedir} is not: use "
                "tempfile.mkdtemp() for scratch space, and store results as keys"
            )
        parent = Path(root, _TMP)
        parent.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{prefix}_", suffix=f"_{suffix}", dir=parent))
        return folder, folder.relative_to(root)

    def __delitem__(self, key: Key) -> None:
        parts = normalize_key(key)
        self._check_writable(key)
        db, name = self._locate(parts)
        # not parsed: a key whose pointer is damaged must stay deletable
        if not self._store.exists(join(db._prefix, name, ZARR_JSON)):
            raise KeyError(key)
        trash = join(db._prefix, _TRASH)
        db._note(name, None)  # first: the index never lists a key that is gone
        commit.remove_key(self._store, join(db._prefix, name), trash)
        for leftover in self._store.list_dir(trash):  # trees of deletes that were killed
            self._store.remove(join(trash, leftover))

    def rename(self, old: Key, new: Key) -> None:
        """Move the value (or sub-database) at ``old`` to ``new``, keeping its metadata."""
        old_parts, new_parts = normalize_key(old), normalize_key(new)
        self._check_writable(old)
        src, src_name = self._locate(old_parts)
        node = src._node(src_name)
        if node is None:
            raise KeyError(old)
        if new in self:
            raise DataBaseException(
                f"cannot rename {old!r} to {new!r}: {new!r} exists; delete it first"
            )
        if new_parts[: len(old_parts)] == old_parts:
            raise DataBaseException(f"cannot rename {old!r} into itself ({new!r})")
        dst, dst_name = self._locate(new_parts, create=True)
        stored = node.get("metadata")
        if dst._prefix != src._prefix and isinstance(stored, dict):
            # a data key's blobs are its database's; a sub-database carries its own .zdb/
            metadata.copy_blobs(self._store, src._prefix, dst._prefix, stored)
        store = self._store
        src_path, dst_path = join(src._prefix, src_name), join(dst._prefix, dst_name)
        # local: one atomic rename; object stores have none: copy, record the move in the
        # key index, then delete the source (pointer first), so that the index never
        # lists a key that is gone
        move = store.rename if store.atomic_rename else store.copy
        try:
            move(src_path, dst_path)
        except FileExistsError:
            # a folder without a pointer (checked above): the remains of a writer or a
            # rename that was killed, which would otherwise block this name for good
            commit.remove_key(store, dst_path, join(dst._prefix, _TRASH))
            move(src_path, dst_path)
        if src._prefix == dst._prefix:  # one segment: the index shows the move whole
            src._note_all([(dst_name, node["kind"]), (src_name, None)])
        else:
            dst._note(dst_name, node["kind"])
            src._note(src_name, None)
        if not store.atomic_rename:
            commit.remove_key(store, src_path, join(src._prefix, _TRASH))

    # -- reading ---------------------------------------------------------------------

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
        returns an xarray view of an array or table key. ``lock`` is held while reading,
        as in ISF (reads need none: writes are atomic).
        """
        if lock is None:  # the common case: no context manager on the hot read path
            return self._get(key, lazy, as_xarray, loader_kwargs)
        with _holding(lock):
            return self._get(key, lazy, as_xarray, loader_kwargs)

    def _get(self, key: Key, lazy: bool | None, as_xarray: bool, loader_kwargs: dict) -> Any:
        parts = normalize_key(key)
        db, name = self._locate(parts)
        node = db._node(name)
        if node is None:
            raise KeyError(key)
        if node["kind"] == KIND_DATABASE:
            return db._child(name, node)
        if node["kind"] == KIND_FOREIGN:
            return db._load_foreign(name, node, key, bool(lazy), as_xarray)
        return db._load(name, node, key, lazy, as_xarray, loader_kwargs)

    def _load(self, name, node, key, lazy, as_xarray, loader_kwargs) -> Any:
        try:
            dumper = get_dumper(node["dumper"])
        except UnknownDumperError:
            raise CorruptKeyError(
                f"key {key!r} in {self.basedir} was written with dumper {node.get('dumper')!r}, "
                "which this zdb does not have; install the package that provides it"
            ) from None
        try:
            dumper.check_load_kwargs(loader_kwargs)
        except UnknownDumperError as e:
            raise UnknownDumperError(f"reading key {key!r}: {e}") from None
        if lazy is None and not as_xarray:  # an xarray view decides for itself
            lazy = dumper.lazy_default
        key_path = join(self._prefix, name)
        for _ in range(READ_RETRIES):
            version = node.get("version")
            target = Target(
                self._store,
                join(key_path, version or ""),
                self._allow_pickle,
                f"key {key!r} in {self.basedir}",
            )
            try:
                value = dumper.load(
                    target,
                    node.get("loader") or {},
                    lazy=lazy,
                    as_xarray=as_xarray,
                    **loader_kwargs,
                )
            except KeyChangedError:
                newer = self._node(name)
                if newer is None:
                    raise KeyError(key) from None
                node = newer
                continue
            except (DataBaseException, MemoryError):
                raise
            except Exception as e:
                # the version may have been replaced and removed while we read it
                newer = self._node(name)
                if newer is None:
                    raise KeyError(key) from None
                if newer.get("version") != version:
                    node = newer
                    continue
                raise CorruptKeyError(
                    f"key {key!r} in {self.basedir} cannot be read ({type(e).__name__}: {e}); "
                    "it is damaged or was changed by another tool: delete it and write it again"
                ) from e
            if (
                version is not None
                and lazy is False
                and not dumper.reads_atomically(node.get("loader") or {})
            ):
                newer = self._node(name)
                if newer is not None and newer.get("version") != version:
                    node = newer  # replaced while we read: read the new value whole
                    continue
            return value
        raise DataBaseException(
            f"key {key!r} in {self.basedir} was replaced {READ_RETRIES} times while being "
            "read; try again when writers are done"
        )

    def _load_foreign(
        self, name: str, node: dict[str, Any], key: Key, lazy: bool, as_xarray: bool
    ) -> Any:
        """A Zarr node written by another tool: a group as an xarray Dataset (as a
        read-only zarr Group when xarray cannot open it, e.g. arrays without dimension
        names), an array as a numpy array (a dask array when lazy)."""
        import numpy as np
        import zarr

        from .zarr_util import quiet_zarr

        zstore = self._store.zarr_store(join(self._prefix, name))
        try:
            with quiet_zarr():
                if node["node_type"] == "group":
                    import xarray as xr

                    try:
                        ds = xr.open_zarr(zstore, consolidated=False, chunks={} if lazy else None)
                    except (KeyError, ValueError, TypeError):
                        return zarr.open_group(zstore, mode="r")
                    return ds if (lazy or as_xarray) else ds.load()
                z = zarr.open_array(zstore, mode="r")
                if lazy:
                    import dask.array as da

                    return da.from_zarr(z)
                return np.asarray(z[...], dtype=z.dtype)  # z[...] of a 0-d array is a scalar
        except (DataBaseException, MemoryError):
            raise
        except Exception as e:
            raise CorruptKeyError(
                f"key {key!r} in {self.basedir} is a Zarr {node['node_type']} not written by "
                f"zdb that cannot be read ({type(e).__name__}: {e}); repair it with the tool "
                "that wrote it, or delete it"
            ) from e

    def __getitem__(self, key: Key) -> Any:
        return self.get(key)

    def __contains__(self, key: object) -> bool:
        try:
            parts = normalize_key(key)
            db, name = self._locate(parts)
        except (KeyError, KeyKindError):
            return False
        try:
            return db._node(name) is not None
        except CorruptKeyError:
            return True

    def keys(self, recurse: bool = False) -> list:
        """Sorted keys: names of this database, or with ``recurse=True`` tuples of the
        leaf keys through all sub-databases."""
        if self._indexed and not self._store.cheap_listing:
            names = sorted(self._index.names())
        else:
            names = self._listed_names()
        if not recurse:
            return names
        out: list[tuple[str, ...]] = []
        for name in names:
            try:
                node = self._node(name)
            except DataBaseException:
                node = None
            if node is not None and node["kind"] == KIND_DATABASE:
                out.extend((name, *sub) for sub in self._child(name, node).keys(recurse=True))
            else:
                out.append((name,))
        return out

    def repair_index(self, recurse: bool = True) -> dict[str, list[tuple[str, ...]]]:
        """Make the key index (kept on object stores) agree with the database's folder.

        A writer killed between committing a key and recording it in the index leaves a
        key that ``db[key]`` finds but ``keys()`` does not list (see docs/format.md).
        This lists the folder (slow on object stores: a request per key) and records, in
        one segment per database, the keys found but not listed and the listed keys
        that are gone. A key whose newest index entry is a deletion recorded after the
        key was written is left alone: it is being deleted, or its deleter was killed
        (delete it again). Returns the keys (tuples of their parts) ``added``,
        ``removed`` and ``left``; on a local disk, which keeps no index, all are empty.
        """
        self._check_writable("(the key index)")
        report: dict[str, list[tuple[str, ...]]] = {"added": [], "removed": [], "left": []}
        if not self._store.cheap_listing:
            self._repair_index((), recurse, report)
        return report

    def _repair_index(
        self, at: tuple[str, ...], recurse: bool, report: dict[str, list[tuple[str, ...]]]
    ) -> None:
        found = sorted(n for n in self._store.list_dir(self._prefix) if not n.startswith("."))
        nodes = {name: node for name in found if (node := self._node(name)) is not None}
        if self._indexed:
            entries = self._index.entries()
            changes: list[tuple[str, str | None]] = []
            for name, node in nodes.items():
                entry = entries.get(name)
                if entry is not None and not entry[3]:
                    continue  # listed
                if entry is not None and _written_us(node) <= entry[2]:
                    report["left"].append((*at, name))
                    continue
                changes.append((name, node["kind"]))
                report["added"].append((*at, name))
            for name, entry in sorted(entries.items()):
                if not entry[3] and nodes.get(name) is None and self._node(name) is None:
                    changes.append((name, None))
                    report["removed"].append((*at, name))
            if changes:
                self._note_all(changes)
        if recurse:
            for name, node in nodes.items():
                if node["kind"] == KIND_DATABASE:
                    self._child(name, node)._repair_index((*at, name), recurse, report)

    def _listed_names(self) -> list[str]:
        """Keys found by listing the database's folder (the truth, slow on object stores)."""
        return sorted(
            n
            for n in self._store.list_dir(self._prefix)
            if not n.startswith(".") and self._store.exists(join(self._prefix, n, ZARR_JSON))
        )

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

    def path_of(self, key: Key) -> str:
        """The local path or URL of the Zarr group holding the key's data, which plain
        zarr and ``xarray.open_zarr`` open without zdb."""
        parts = normalize_key(key)
        db, name = self._locate(parts)
        node = db._node(name)
        if node is None:
            raise KeyError(key)
        return self._store.full(join(db._prefix, name, node.get("version") or ""))

    # -- listing ---------------------------------------------------------------------

    def ls(
        self,
        max_lines: int | None = 1000,
        max_depth: int | None = None,
        *,
        depth: int = 0,
        all_files: bool = False,
        max_lines_per_key: int | None = None,
        color: bool = False,
    ) -> None:
        """Print a tree of the keys with dumper, type, shape/dtype, size and time written,
        at most ``max_lines`` lines and ``max_depth`` levels of sub-databases (None: all).
        ISF's display options ``depth``, ``all_files``, ``max_lines_per_key`` and
        ``color`` are accepted so that ISF code runs; zdb's tree does not use them."""
        print(self._tree(max_lines, max_depth))

    def _tree(self, max_lines: int | None, max_depth: int | None = None) -> str:
        lines = [f"{self.basedir}  (zdb database {self.unique_id})"]
        self._tree_lines(lines, "", max_lines, max_depth)
        if max_lines is not None and len(lines) > max_lines:
            lines = lines[:max_lines] + [f"... ({len(lines) - max_lines} more lines)"]
        return "\n".join(lines)

    def _tree_lines(
        self, lines: list[str], indent: str, max_lines: int | None, max_depth: int | None
    ) -> None:
        names = self.keys()
        for i, name in enumerate(names):
            if max_lines is not None and len(lines) > max_lines:
                lines.append(f"{indent}...")
                return
            last = i == len(names) - 1
            branch, deeper = ("└── ", "    ") if last else ("├── ", "│   ")
            try:
                node = self._node(name)
            except DataBaseException as e:
                lines.append(f"{indent}{branch}{name}  <unreadable: {e}>")
                continue
            if node is None:
                continue
            if node["kind"] == KIND_DATABASE:
                lines.append(f"{indent}{branch}{name}/  (sub-database)")
                if max_depth is None or max_depth > 0:
                    deeper_depth = None if max_depth is None else max_depth - 1
                    child = self._child(name, node)
                    child._tree_lines(lines, indent + deeper, max_lines, deeper_depth)
                continue
            size = _human_size(self._store.size(join(self._prefix, name)))
            if node["kind"] == KIND_FOREIGN:
                lines.append(f"{indent}{branch}{name}  (zarr {node['node_type']}, not zdb)  {size}")
                continue
            info = node.get("loader") or {}
            written = (node.get("metadata") or {}).get("time") or ""
            lines.append(
                f"{indent}{branch}{name}  {node.get('dumper')}  {info.get('type', '')}  "
                f"{info.get('summary', '')}  {size}  {written[:19].replace('T', ' ')}"
            )

    def __repr__(self) -> str:
        return self._tree(max_lines=50)


class _MetadataView(Mapping):
    """``db.metadata``: key -> the key's metadata dict."""

    def __init__(self, db: DataBase) -> None:
        self._db = db

    def __getitem__(self, key: Key) -> dict[str, Any]:
        parts = normalize_key(key)
        db, name = self._db._locate(parts)
        node = db._node(name)
        if node is None:
            raise KeyError(key)
        if node["kind"] == KIND_FOREIGN:
            return metadata.post_hoc(db._store, join(db._prefix, name))
        stored = node.get("metadata")
        if not isinstance(stored, dict):
            return metadata.post_hoc(db._store, join(db._prefix, name))
        return metadata.expand(db._store, db._prefix, stored, node.get("dumper"))

    def __iter__(self) -> Iterator[str]:
        return iter(self._db.keys())

    def __len__(self) -> int:
        return len(self._db)


def _new_database_attrs(store: Store) -> dict[str, Any]:
    attrs = {"unique_id": _new_unique_id(), "created": metadata.now_iso()}
    if not store.cheap_listing:  # readers list the folder: no index to maintain
        attrs["index"] = 1
    return attrs


def _is_pointer_temp(name: str) -> bool:
    """True for the temporary file of an atomic ``zarr.json`` write (see zdb.storage)."""
    return name.startswith(f"{ZARR_JSON}.") and name.endswith(".tmp")


def _strip_format(node: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if k != "format"}


def _human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"


def is_data_base(path: str | os.PathLike) -> bool:
    """True if ``path`` holds a zdb database (a sub-database counts)."""
    try:
        store = open_store(path)
        node = parse_node(store.read_bytes(ZARR_JSON), os.fspath(path))
    except (OSError, DataBaseException):
        return False
    return node["kind"] == KIND_DATABASE


def is_sub_data_base(db: DataBase, key: Key) -> bool:
    """True if ``key`` of ``db`` is a sub-database."""
    parts = normalize_key(key)
    try:
        parent, name = db._locate(parts)
        node = parent._node(name)
    except (KeyError, DataBaseException):
        return False
    return node is not None and node["kind"] == KIND_DATABASE
