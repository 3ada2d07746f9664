"""ISF's other ``DataBase`` methods, so that code written for ISF runs unchanged.

:class:`zdb.DataBase` inherits them. Each keeps ISF's name, signature and meaning, on
top of zdb's own API, except where ISF's behaviour was a defect; those differences are
said in the method's docstring and in ``docs/isf.md``.
"""

from __future__ import annotations

import dataclasses
import os
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from . import commit, registry
from .dumper_registry import get_dumper, register
from .exceptions import DataBaseException, InvalidKeyError
from .format import KeyNode, is_unique_id
from .keys import Key, normalize_key

if TYPE_CHECKING:
    from .commit import DbRef
    from .database import DataBase
    from .format import Node


class _DataBase(Protocol):
    """What the methods below use of :class:`zdb.DataBase` (their ``self``)."""

    _ref: DbRef
    _suppress_errors: bool
    _parent: DataBase | None

    @property
    def basedir(self) -> str: ...
    @property
    def unique_id(self) -> str | None: ...
    def get(self, key: Key, **loader_kwargs: Any) -> Any: ...
    def node(self, key: Key) -> Node: ...
    def create_managed_folder(self, key: Key, raise_: bool = True) -> str: ...
    def set(self, key: Key, value: Any, dumper: Any = None, **kwargs: Any) -> None: ...
    def __contains__(self, key: object) -> bool: ...
    def __delitem__(self, key: Key) -> None: ...
    def _check_writable(self, key: Any) -> None: ...
    def _readonly_copy(self) -> DataBase: ...
    def _reload(self) -> None: ...
    def _suppressed(self, error: DataBaseException) -> None: ...
    def _register_this_database(self) -> None: ...
    def _key_of_path(self, path: Path) -> tuple[str, ...]: ...


class ISFMethods:
    """ISF's names on :class:`zdb.DataBase` (a mixin; it holds no state of its own)."""

    def getitem(self: _DataBase, key: Key, **loader_kwargs: Any) -> Any:
        """ISF's older name of :meth:`get` (``mdb.getitem(key, columns=...)``)."""
        return self.get(key, **loader_kwargs)

    def get_managed_folder(self: _DataBase, key: Key) -> str:
        """Deprecated in ISF: the managed folder at ``key``, created when missing. (ISF's
        raised when it existed, which is what "get" should not do.)"""
        warnings.warn(
            "get_managed_folder is deprecated; use create_managed_folder(key, raise_=False)",
            DeprecationWarning,
            stacklevel=2,
        )
        return self.create_managed_folder(key, raise_=False)

    def create_shared_numpy_store(self: _DataBase, key: Key, raise_: bool = True) -> Any:
        """Create a key holding an empty shared numpy store and return the store
        (:class:`zdb.IO.LoaderDumper.shared_numpy_store.SharedNumpyStore`); an existing key
        raises, or with ``raise_=False`` (as in ISF) is returned."""
        if key in self:
            if not raise_:
                return self.get(key)
            raise DataBaseException(
                f"key {key!r} already exists in {self.basedir}; delete it first or choose "
                "another key for the shared numpy store"
            )
        self.set(key, None, dumper="shared_numpy_store")
        return self.get(key)

    def get_readonly(self: _DataBase) -> DataBase:
        """This database opened read-only (for workers that only read)."""
        return self._readonly_copy()

    def _detect_dumper_string_of_existing_key(self: _DataBase, key: Key) -> str:
        """The name of the dumper that wrote ``key`` (KeyError when absent)."""
        node = self.node(key)
        if isinstance(node, KeyNode):
            return node.dumper
        raise DataBaseException(f"key {key!r} in {self.basedir} is a {node.kind}, not a value")

    def register_dumper(self: _DataBase, dumper: Any) -> None:
        """Make ``dumper`` (a :class:`~zdb.dumper.Dumper`, its class or module) a candidate
        when a value is stored without a named dumper. ISF kept the list per database
        in ``db_state.json``; zdb's registry is per process (plugins register by entry
        point, see ``docs/plugins.md``), so this affects every database."""
        if isinstance(dumper, type):
            dumper = dumper()
        register(get_dumper(dumper))

    def save_db_state(self: _DataBase) -> None:
        """Write the database's node with its unique id (as ISF wrote ``db_state.json``)
        and register it at its place. After ``db._unique_id = None`` this takes the id
        away: the database gets a new one when it is next opened for writing."""
        self._check_writable("(the database's state)")
        self._ref = commit.save_database_node(self._ref)
        if self.unique_id is not None:
            self._register_this_database()

    def read_db_state(self: _DataBase) -> dict[str, Any]:
        """The database's state as ISF's ``db_state.json`` held it, read again from the
        database's node: ``_unique_id`` and ``_registered_to_path`` (its place in the
        registry, None when unregistered)."""
        self._reload()
        unique_id = self.unique_id
        try:
            place = registry.DataBaseRegister().location(unique_id) if unique_id else None
        except (KeyError, DataBaseException):
            place = None
        return {"_unique_id": unique_id, "_registered_to_path": place}

    def _register_this_database(self: _DataBase) -> None:
        """Register this database at its place (opening a database does it too)."""
        if self.unique_id is None:
            self._suppressed(
                DataBaseException(
                    f"{self.basedir} has no unique id yet; open it once with readonly=False "
                    "to give it one, then register it"
                )
            )
            return
        try:
            registry.DataBaseRegister().register(self.unique_id, self.basedir)
        except (OSError, DataBaseException) as e:
            self._suppressed(
                DataBaseException(
                    f"could not register {self.basedir} in {registry.default_location()}: {e}; "
                    f"set {registry.ENV} to a writable folder"
                )
            )

    def _suppressed(self: _DataBase, error: DataBaseException) -> None:
        """Raise ``error``, or with ``suppress_errors=True`` (ISF's option) warn."""
        if not self._suppress_errors:
            raise error
        warnings.warn(f"zdb: {error}", stacklevel=3)

    @property
    def _unique_id(self: _DataBase) -> str | None:
        """ISF's attribute name of :attr:`unique_id`; it can be set, as in ISF, to an
        id or None, and :meth:`save_db_state` writes it."""
        return self.unique_id

    @_unique_id.setter
    def _unique_id(self: _DataBase, value: str | None) -> None:
        if value is not None and not is_unique_id(value):
            raise DataBaseException(f"{str(value)[:60]!r} is not a database unique id")
        self._ref = dataclasses.replace(self._ref, unique_id=value)

    @property
    def _basedir(self: _DataBase) -> Path:
        """ISF's internal ``Path`` of the database (local databases only)."""
        return Path(self.basedir)

    def check_if_key_exists(self: _DataBase, key: Key | os.PathLike) -> bool:
        """True if ``key`` exists. As in ISF, a path inside the database (a
        :class:`pathlib.Path`, absolute or relative to it) names the key it holds."""
        if isinstance(key, os.PathLike):
            try:
                key = self._key_of_path(Path(key))
            except InvalidKeyError:
                return False
        return key in self

    def _key_of_path(self: _DataBase, path: Path) -> tuple[str, ...]:
        """The key whose folder is ``path`` (absolute, or relative to the database)."""
        if path.is_absolute():
            try:
                path = path.relative_to(self.basedir)
            except ValueError:
                raise InvalidKeyError(f"{path} is not inside the database {self.basedir}") from None
        return normalize_key(tuple(path.parts))

    @property
    def parent_db(self: _DataBase) -> DataBase | None:
        """The database this sub-database was reached from (None for a database opened
        by its path)."""
        return self._parent

    def remove(self: _DataBase) -> threading.Thread:
        """Delete this database and everything in it, and remove it from the registry.

        A sub-database is deleted from its parent at once (as ``del parent[key]``). A
        whole database on a local disk is first renamed aside (so that its path is free
        at once) and deleted by the returned thread, as in ISF (which returned None);
        elsewhere the thread deletes its objects. Join the thread to wait for it.
        """
        self._check_writable("(the whole database)")
        unique_id = self.unique_id
        if self._parent is not None:
            name = self._ref.prefix.rpartition("/")[2]
            del self._parent[name]
            work: Callable[[], None] = lambda: None  # noqa: E731
        else:
            work = commit.remove_database(self._ref)

        def remove_and_deregister() -> None:
            work()
            if unique_id is not None:
                registry.DataBaseRegister().deregister(unique_id, missing_ok=True)

        thread = threading.Thread(target=remove_and_deregister, name=f"zdb remove {unique_id}")
        thread.start()
        return thread
