"""What a dumper is: the codec between one kind of value and the files of a key's version.

A dumper turns one kind of value into Zarr nodes inside a key's version folder
(:meth:`Dumper.dump`) and back (:meth:`Dumper.load`). It sees only a
:class:`Target`: where to write, never the key's history, locks or commit protocol.
Dumpers are found by name or by value through :mod:`zdb.dumper_registry`.
"""

from __future__ import annotations

import inspect
import os
import sys
import warnings
from dataclasses import dataclass
from typing import Any, ClassVar

from .exceptions import (
    CorruptKeyError,
    DataBaseException,
    KeyChangedError,
    UnknownDumperError,
)
from .format import ZARR_JSON, KeyNode, parse_node
from .storage import Store, join

#: what the database asks of a dumper beyond storing values: the dumper for values
#: no other dumper stores, the one that creates sub-databases (it stores no value:
#: ``db.set(key, None, dumper=...)`` creates one), and the one of managed folders
ROLE_FALLBACK = "fallback"
ROLE_SUB_DATABASE = "sub_database"
ROLE_MANAGED_FOLDER = "managed_folder"
ROLES = frozenset({ROLE_FALLBACK, ROLE_SUB_DATABASE, ROLE_MANAGED_FOLDER})

#: the keywords of ISF's dumpers (``dump()`` in ``data_base.isf_data_base.IO.
#: LoaderDumper``) and loaders (``Loader.get()``): a zdb dumper whose dump or load takes
#: one gives it ISF's meaning; one that does not ignores it with a warning naming it,
#: so that ISF code passing them runs unchanged
ISF_DUMP_KEYWORDS = frozenset(
    {"categorize", "client", "repartition", "rows_per_file", "scheduler", "schema"}
)
ISF_LOAD_KEYWORDS = frozenset({"columns", "verbose"})


@dataclass(frozen=True)
class Target:
    """Where a dumper writes or reads one version of a key's value.

    ``path`` is the version folder; ``key`` names the key in error messages (``"key
    'vm' in /data/db"``). ``allow_pickle`` says whether pickles may be read: True
    always; False, or a str saying why, never; None when the file is owned by the
    user and writable by no one else. ``dumper_version`` is the format version the key
    was written with (``Dumper.format_version`` at the time).
    """

    store: Store
    path: str
    allow_pickle: bool | str | None = None
    key: str = "a key"
    #: the format version of the dumper that wrote this version (read side)
    dumper_version: int = 1

    def zarr_store(self, every_chunk: bool = False, optional: tuple[str, ...] = ()) -> Any:
        """A zarr-python store rooted at the version folder. With ``every_chunk`` (for
        values written with every chunk), a missing chunk raises :meth:`missing`'s
        error instead of reading as fill values, except below the prefixes
        ``optional``."""
        store = self.store.zarr_store(self.path)
        if not every_chunk:
            return store
        from .zarr_store import CheckedStore

        return CheckedStore(store, self, optional)

    def missing(self, exc: BaseException) -> DataBaseException:
        """The error to raise when a file of this version is missing while it is read:
        :class:`KeyChangedError` when the key's pointer no longer names this version (a
        writer replaced or deleted the key since the read began: a lazy or xarray view
        outlived its version), else :class:`CorruptKeyError` (damage)."""
        key_path, _, version = self.path.rpartition("/")
        try:
            node = parse_node(self.store.read_bytes(join(key_path, ZARR_JSON)), self.key)
        except FileNotFoundError:
            node = None
        except DataBaseException as e:
            return e
        if not isinstance(node, KeyNode) or node.version != version:
            what = "deleted" if node is None else "replaced by another write"
            return KeyChangedError(
                f"{self.key} was {what} while this value was being read (a lazy or xarray "
                "view reads the version it was opened on, which is gone now); read the key "
                "again"
            )
        return CorruptKeyError(
            f"{self.key} is damaged: a part of its stored value is missing ({exc}); delete "
            "the key and write it again"
        )

    @property
    def full(self) -> str:
        """The local path or URL of the version folder."""
        return self.store.full(self.path)


class Dumper:
    """Base class of dumpers. Subclasses set ``name``, implement dump and load, and are
    registered with :func:`zdb.dumper_registry.register`."""

    name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    #: one of :data:`ROLES` when the database relies on this dumper for it
    role: ClassVar[str | None] = None
    #: among the dumpers whose :meth:`handles` accepts a value, the highest wins
    priority: ClassVar[int] = 0
    #: what ``db[key]`` gives: a lazy (dask-backed) value, or one in memory
    lazy_default: ClassVar[bool] = False
    #: True when :meth:`dump` always writes files under its target
    always_writes: ClassVar[bool] = False
    #: the version of this dumper's file layout and ``info``, recorded in each key's
    #: pointer. Raise it when a release writes what an older one cannot read; :meth:`load`
    #: sees the version a key was written with as ``target.dumper_version`` (1 for keys
    #: written before the dumper declared one). A key written with a version newer than
    #: the installed dumper's is refused with :class:`~zdb.exceptions.FormatVersionError`.
    format_version: ClassVar[int] = 1

    def handles(self, value: Any) -> bool:
        """True if this dumper should be chosen for ``value`` when none is named."""
        return False

    def dump(self, value: Any, target: Target, **kwargs: Any) -> dict[str, Any]:
        """Write ``value`` under ``target``; return the JSON attributes load() needs.

        The returned dict should hold ``type`` (the value's type) and ``summary``
        (shape and dtype or similar, for listings). A dumper that keeps the whole value
        in this dict writes nothing under ``target``. Raise UnsupportedValueError for a
        value this dumper cannot store.
        """
        raise NotImplementedError

    def load(
        self,
        target: Target,
        info: dict[str, Any],
        *,
        lazy: bool | None = False,
        as_xarray: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Read the value that :meth:`dump` wrote, with ``info`` as it returned it.

        ``lazy`` True asks for a dask-backed value, False for one in memory; with
        ``as_xarray`` it may also be None: an xarray view that reads on access.
        """
        raise NotImplementedError

    def wrote_files(self, info: dict[str, Any]) -> bool | None:
        """Whether :meth:`dump`, having returned ``info``, wrote files under its target
        (the key's pointer then names the version folder); None when unknown: the store
        is asked, which takes a request or two on object stores."""
        return True if self.always_writes else None

    def defers_files(self, info: dict[str, Any]) -> bool:
        """True when :meth:`dump`, having returned ``info``, kept the whole value in it
        and writes the value's files under its target only on request
        (:meth:`write_deferred`, for ``DataBase.path_of``): a small value then costs
        one file, the pointer, while plain Zarr readers still get their group."""
        return False

    def write_deferred(self, target: Target, info: dict[str, Any]) -> None:
        """Write the files of a value kept in ``info`` (see :meth:`defers_files`) under
        ``target``, as :meth:`dump` would have written them."""
        raise NotImplementedError(f"dumper {self.name!r} defers no files")

    def reads_atomically(self, info: dict[str, Any]) -> bool:
        """True if :meth:`load` either returns one complete version or raises
        FileNotFoundError, never filling a missing part in silently; then a reader
        need not re-check the pointer after reading (see ``DataBase.get``)."""
        return False

    def check_load_kwargs(self, kwargs: dict[str, Any]) -> None:
        """Raise UnknownDumperError for loader keywords :meth:`load` does not take."""
        if kwargs:
            self._check_against(self.load, kwargs, _LOAD_FIXED)

    def check_kwargs(self, kwargs: dict[str, Any]) -> None:
        """Raise UnknownDumperError for keywords :meth:`dump` does not take."""
        if kwargs:
            self._check_against(self.dump, kwargs, _DUMP_FIXED)

    def accept_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The keywords of ``kwargs`` to pass to :meth:`dump`: ISF's keywords
        (:data:`ISF_DUMP_KEYWORDS`) that it does not take are left out with one warning
        naming them; any other keyword it does not take raises UnknownDumperError."""
        return self._accept(self.dump, kwargs, _DUMP_FIXED, ISF_DUMP_KEYWORDS, "dumper")

    def accept_load_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """The keywords of ``kwargs`` to pass to :meth:`load`, as :meth:`accept_kwargs`
        with ISF's loader keywords (:data:`ISF_LOAD_KEYWORDS`)."""
        return self._accept(self.load, kwargs, _LOAD_FIXED, ISF_LOAD_KEYWORDS, "loader")

    def _accept(
        self,
        method: Any,
        kwargs: dict[str, Any],
        fixed: tuple[str, ...],
        isf: frozenset[str],
        what: str,
    ) -> dict[str, Any]:
        if not kwargs:  # the common case: no signature to inspect on the hot path
            return kwargs
        taken = _keywords(method, fixed)
        if taken is None:
            return kwargs
        ignored = sorted(k for k in kwargs if k not in taken and k in isf)
        self._check_against(method, {k: v for k, v in kwargs.items() if k not in isf}, fixed)
        if ignored:
            warnings.warn(
                f"zdb: the {what} of {self.name!r} has no use for ISF's keyword(s) "
                f"{', '.join(ignored)} and ignores them; leave them out to silence this",
                stacklevel=_caller_outside_zdb(),
            )
        return {k: v for k, v in kwargs.items() if k in taken}

    def _check_against(self, method: Any, kwargs: dict[str, Any], fixed: tuple[str, ...]) -> None:
        allowed = _keywords(method, fixed)
        if allowed is None:
            return
        unknown = sorted(set(kwargs) - set(allowed))
        if unknown:
            raise UnknownDumperError(
                f"dumper {self.name!r} does not take the keyword(s) {unknown}; "
                f"it takes {allowed or 'no keywords'}"
            )

    def __repr__(self) -> str:
        return f"<zdb dumper {self.name!r}>"


_DUMP_FIXED = ("value", "target")
_LOAD_FIXED = ("target", "info", "lazy", "as_xarray")
_ZDB_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _keywords(method: Any, fixed: tuple[str, ...]) -> list[str] | None:
    """The keywords ``method`` takes besides ``fixed``; None when it takes any."""
    params = inspect.signature(method).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return None
    return [
        n
        for n, p in params.items()
        if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD) and n not in fixed
    ]


def _caller_outside_zdb() -> int:
    """The ``stacklevel`` at which a warning names the first caller outside zdb: the
    line of user code that passed the keyword, however deep in zdb it is checked.
    (Python 3.12's ``skip_file_prefixes`` does this; zdb supports 3.11.)"""
    frame = sys._getframe(1)
    level = 1
    while frame is not None and frame.f_code.co_filename.startswith(_ZDB_DIR):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def module_loaded(name: str) -> bool:
    """True if ``name`` is imported; a value cannot be of a type from a module that is not."""
    return name in sys.modules
