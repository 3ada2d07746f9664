"""The dumper registry: which dumper has which name, and which stores a value.

Built-in dumpers register themselves where they are defined (``dumper =
register(NumpyToZarr())`` at the end of their module in :mod:`zdb.IO.LoaderDumper`).
Other packages add dumpers through the ``zdb.dumpers`` entry-point group (each entry a
:class:`~zdb.dumper.Dumper` subclass or instance), loaded on first use: a plugin that
fails to load gives a warning naming it and is left out, never breaking zdb.

The database asks for dumpers by name (what a key's pointer records), by value
(:func:`choose_dumper`) or by role (:func:`dumper_for_role`), never by a built-in name.
"""

from __future__ import annotations

import types
import warnings
from typing import Any

from .dumper import ROLES, Dumper
from .exceptions import UnknownDumperError, UnsupportedValueError

ENTRY_POINT_GROUP = "zdb.dumpers"
_REGISTRY: dict[str, Dumper] = {}
_ALIASES: dict[str, str] = {}
_entry_points_loaded = False


def register(dumper: Dumper) -> Dumper:
    """Make ``dumper`` findable by its name and aliases; returns it. A dumper of the
    same name registered before is replaced."""
    if not dumper.name:
        raise UnknownDumperError(f"{dumper!r} has no name; set the class attribute `name`")
    _REGISTRY[dumper.name] = dumper
    for alias in dumper.aliases:
        _ALIASES[alias] = dumper.name
    return dumper


def unregister(name: str) -> None:
    """Forget the dumper ``name`` and its aliases (for tests and plugins that reload)."""
    _REGISTRY.pop(name, None)
    for alias in [a for a, n in _ALIASES.items() if n == name]:
        del _ALIASES[alias]


def register_alias(alias: str, name: str) -> None:
    """Make the dumper ``name`` findable as ``alias`` too (ISF's dumper names)."""
    _ALIASES[alias] = name


def alias_dumper(alias: str, name: str) -> Dumper:
    """Make the registered dumper ``name`` findable as ``alias`` too, and return it: an
    ISF alias module (``zdb.IO.LoaderDumper.numpy_to_npy``) is ``dumper =
    alias_dumper("numpy_to_npy", "numpy_to_zarr")``."""
    register_alias(alias, name)
    return get_dumper(name)


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    from importlib.metadata import entry_points

    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            obj = ep.load()
            dumper = obj() if isinstance(obj, type) and issubclass(obj, Dumper) else obj
            if not isinstance(dumper, Dumper):
                raise TypeError(f"it is a {type(obj).__qualname__}, not a zdb Dumper")
        except Exception as e:  # a broken plugin must not break zdb
            warnings.warn(
                f"zdb: dumper plugin {ep.name!r} ({ep.value}) could not be loaded and is left "
                f"out: {type(e).__name__}: {e}",
                stacklevel=3,
            )
            continue
        if dumper.name in _REGISTRY:
            warnings.warn(
                f"zdb: dumper plugin {ep.name!r} ({ep.value}) is left out: zdb already has a "
                f"dumper named {dumper.name!r}; the plugin must choose another name",
                stacklevel=3,
            )
            continue
        register(dumper)


def all_dumpers() -> dict[str, Dumper]:
    """Every registered dumper by name, plugins included."""
    _load_entry_points()
    return dict(_REGISTRY)


def get_dumper(spec: Any) -> Dumper:
    """The dumper named by ``spec``: a name, an alias, a Dumper, or its module."""
    if isinstance(spec, Dumper):
        return spec
    if isinstance(spec, types.ModuleType):
        found = getattr(spec, "dumper", None)
        if isinstance(found, Dumper):
            return found
        spec = spec.__name__.rsplit(".", 1)[-1]
    if isinstance(spec, type) and issubclass(spec, Dumper) and spec.name:
        spec = spec.name
    if isinstance(spec, str):
        name = _ALIASES.get(spec, spec)
        if name not in _REGISTRY:
            _load_entry_points()
            name = _ALIASES.get(spec, spec)
        if name in _REGISTRY:
            return _REGISTRY[name]
    raise UnknownDumperError(f"unknown dumper {spec!r}; known dumpers: {sorted(all_dumpers())}")


def choose_dumper(value: Any) -> Dumper:
    """The dumper for ``value`` when none is named: the highest-priority one whose
    :meth:`~zdb.dumper.Dumper.handles` accepts it."""
    best: Dumper | None = None
    for dumper in all_dumpers().values():
        if (best is None or dumper.priority > best.priority) and dumper.handles(value):
            best = dumper
    if best is None:
        raise UnsupportedValueError(f"no dumper stores a value of type {type(value).__qualname__}")
    return best


def dumper_for_role(role: str) -> Dumper:
    """The registered dumper that plays ``role`` (one of :data:`zdb.dumper.ROLES`)."""
    if role not in ROLES:
        raise ValueError(f"unknown dumper role {role!r}; roles: {sorted(ROLES)}")
    for dumper in all_dumpers().values():
        if dumper.role == role:
            return dumper
    raise UnknownDumperError(f"no registered dumper plays the role {role!r}")
