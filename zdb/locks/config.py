"""Which server the locks of this process live on, and the functions that hand them out.

The servers are a list in order of preference, from :func:`configure`,
:func:`configure_from_file` or the YAML file named by ``ZDB_LOCK_CONFIG``; the first
reachable one is chosen on the first lock and remembered per process.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from .base import (
    Backend,
    DistributedLock,
    InvalidLockNameError,
    LockConfigError,
    LocksBlockedError,
    NoLockServerError,
    Unreachable,
    logger,
)
from .file import FileBackend
from .redis import RedisBackend
from .zookeeper import ZooKeeperBackend

#: environment variable naming a YAML file with the list of lock servers
ENV_CONFIG = "ZDB_LOCK_CONFIG"
#: ISF's name for the same variable, read when ``ZDB_LOCK_CONFIG`` is not set
ENV_ISF_CONFIG = "ISF_DISTRIBUTED_LOCK_CONFIG"
#: ISF's switch: when set (to anything), this process takes no locks
ENV_ISF_BLOCK = "ISF_DISTRIBUTED_LOCK_BLOCK"

_BACKENDS: dict[str, type[Backend]] = {
    "file": FileBackend,
    "redis": RedisBackend,
    "zookeeper": ZooKeeperBackend,
}
_POSITIVE_NUMBERS = ("expire", "poll_interval", "connect_timeout")

_state_lock = threading.Lock()
_configured: tuple[list[dict[str, Any]], str] | None = None
_active: tuple[int, Backend] | None = None  # (pid that chose it, backend)


def _validate(servers: Any, source: str) -> list[dict[str, Any]]:
    """The server list, checked: a list of mappings of known type and known keys."""
    if not isinstance(servers, Sequence) or isinstance(servers, str | bytes) or not servers:
        raise LockConfigError(
            f"lock configuration {source}: expected a non-empty list of servers such as "
            f"[{{'type': 'redis', 'config': {{'host': ..., 'port': ...}}}}, {{'type': 'file'}}], "
            f"got {servers!r}."
        )
    checked = []
    for number, entry in enumerate(servers, 1):
        where = f"lock configuration {source}, entry {number} ({entry!r})"
        if not isinstance(entry, Mapping):
            raise LockConfigError(f"{where}: each entry must be a mapping with a 'type'.")
        kind = entry.get("type")
        if kind not in _BACKENDS:
            raise LockConfigError(
                f"{where}: unknown type {kind!r}; known types: {', '.join(sorted(_BACKENDS))}."
            )
        backend = _BACKENDS[kind]
        unknown = set(entry) - backend.allowed_keys
        if unknown:
            raise LockConfigError(
                f"{where}: unknown keys {sorted(unknown)} for type {kind!r}; allowed: "
                f"{sorted(backend.allowed_keys)}."
            )
        config = entry.get("config")
        if config is not None and not isinstance(config, Mapping):
            raise LockConfigError(f"{where}: 'config' must be a mapping of options.")
        if backend.config_keys is not None and set(config or {}) - backend.config_keys:
            known = ", ".join(repr(key) for key in sorted(backend.config_keys))
            raise LockConfigError(f"{where}: the {kind} server's config knows only {known}.")
        problem = backend.entry_problem(entry)
        if problem:
            raise LockConfigError(f"{where}: {problem}")
        for key in _POSITIVE_NUMBERS:
            value = entry.get(key)
            if key in entry and (
                isinstance(value, bool) or not isinstance(value, int | float) or not value > 0
            ):
                raise LockConfigError(f"{where}: {key!r} must be a number of seconds > 0.")
        checked.append(dict(entry))
    return checked


def _load_file(path: str | os.PathLike[str], source: str) -> list[dict[str, Any]]:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise LockConfigError(f"lock configuration {source}: cannot read it: {exc}") from exc
    try:
        servers = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise LockConfigError(
            f"lock configuration {source} is not valid YAML: {exc}. Fix the file."
        ) from exc
    return _validate(servers, source)


def _drop_active() -> None:
    global _active
    if _active is not None and _active[0] == os.getpid():
        _active[1].close()
    # A choice inherited through fork is dropped without closing: its connections
    # belong to the parent.
    _active = None


def configure(servers: Sequence[Mapping[str, Any]] | None) -> None:
    """Use ``servers``, in order of preference, for the locks of this process.

    Each entry is ``{"type": "redis" | "zookeeper" | "file", "config": {...}}`` plus
    options (see the module docstring); the first reachable one is used from the next
    lock on. ``None`` returns to ``ZDB_LOCK_CONFIG`` or the default (file locks).
    """
    global _configured
    checked = None if servers is None else _validate(servers, "given to configure()")
    with _state_lock:
        _drop_active()
        _configured = None if checked is None else (checked, "given to configure()")


def configure_from_file(path: str | os.PathLike[str]) -> None:
    """Use the servers listed in the YAML file ``path`` (see :func:`configure`)."""
    global _configured
    servers = _load_file(path, str(path))
    with _state_lock:
        _drop_active()
        _configured = (servers, str(path))


#: ISF's name for :func:`configure`
update_config = configure


def _servers() -> tuple[list[dict[str, Any]], str]:
    if _configured is not None:
        return _configured
    for variable in (ENV_CONFIG, ENV_ISF_CONFIG):
        path = os.environ.get(variable)
        if path:
            source = f"{path} (named by ${variable})"
            return _load_file(path, source), source
    return [{"type": "file"}], "the default configuration"


def _select(servers: list[dict[str, Any]], source: str) -> Backend:
    failures = []
    for entry in servers:
        cls = _BACKENDS[entry["type"]]
        try:
            backend = cls(entry)
        except Unreachable as exc:
            failures.append(f"{cls.describe(entry)} ({exc})")
            logger.warning("lock server %s is unreachable: %s", cls.describe(entry), exc)
            continue
        logger.info("using %s for distributed locks", backend.description)
        return backend
    raise NoLockServerError(
        f"none of the lock servers {source} is reachable: {'; '.join(failures)}. Start one "
        "of them, fix the configuration, or end the list with {'type': 'file'}."
    )


def _backend() -> Backend:
    global _active
    if ENV_ISF_BLOCK in os.environ:
        raise LocksBlockedError(
            f"{ENV_ISF_BLOCK} is set, which turns locks off in this process; unset it to take locks"
        )
    with _state_lock:
        if _active is None or _active[0] != os.getpid():
            _drop_active()
            _active = (os.getpid(), _select(*_servers()))
        return _active[1]


def get_locking_server() -> dict[str, Any]:
    """The configuration entry of the server this process uses, choosing it if needed."""
    return dict(_backend().entry)


def get_locking_client() -> Any:
    """The ``redis.Redis`` or ``KazooClient`` in use; None for file locks."""
    return _backend().client


def get_locking_server_client() -> tuple[dict[str, Any] | None, Any]:
    """ISF's pair (:func:`get_locking_server`, :func:`get_locking_client`); (None,
    None) when ``ISF_DISTRIBUTED_LOCK_BLOCK`` turns locks off."""
    if ENV_ISF_BLOCK in os.environ:
        return None, None
    backend = _backend()
    return dict(backend.entry), backend.client


def _check_name(name: Any) -> str:
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str) or not name:
        raise InvalidLockNameError(
            f"lock name {name!r} is {'empty' if name == '' else 'not a string'}: name the "
            "resource to lock with a non-empty string, e.g. a database path."
        )
    return name


def get_lock(name: str | os.PathLike[str]) -> DistributedLock:
    """An exclusive lock named ``name``: one holder at a time, no reader meanwhile."""
    name = _check_name(name)
    return _backend().make_lock(name, "exclusive")


def get_read_lock(name: str | os.PathLike[str]) -> DistributedLock:
    """A shared lock named ``name``: many readers at once, but no writer meanwhile."""
    name = _check_name(name)
    return _backend().make_lock(name, "read")


def get_write_lock(name: str | os.PathLike[str]) -> DistributedLock:
    """An exclusive lock named ``name`` that excludes its readers (same as :func:`get_lock`)."""
    name = _check_name(name)
    return _backend().make_lock(name, "write")
