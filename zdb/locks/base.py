"""What every lock server shares: the lock base class, the errors, the backend base.

A server type (file, redis, zookeeper) subclasses :class:`DistributedLock` for its
locks and :class:`Backend` for its connection; :mod:`zdb.locks.config` chooses the
backend and hands out its locks.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, ClassVar, Literal

from ..exceptions import DataBaseException

# The name from before the package split, kept so that logging configured for it
# still receives the lock messages.
logger = logging.getLogger("zdb.distributed_lock")

#: seconds to wait for a server to answer before trying the next one
DEFAULT_CONNECT_TIMEOUT = 1.0

LockKind = Literal["exclusive", "read", "write"]


class LockError(DataBaseException):
    """A distributed lock could not be used as asked."""


class InvalidLockNameError(LockError, ValueError):
    """A lock name is empty or not a string."""


class LockConfigError(LockError):
    """The lock server configuration does not parse or names an unknown server type."""


class LocksBlockedError(LockError, RuntimeError):
    """Locks are turned off in this process (``ISF_DISTRIBUTED_LOCK_BLOCK`` is set)."""


class NoLockServerError(LockError):
    """None of the configured lock servers is reachable."""


class LockServerError(LockError):
    """The chosen lock server failed while a lock was taken or given back."""


class LockLostError(LockError):
    """A lock expired or its server session ended while it was held."""


class UnsafeLockFileError(LockError):
    """A lock file is a symbolic link or not a regular file (e.g. planted in a shared
    lock folder); it is refused rather than followed."""


class Unreachable(LockError):
    """A server of the list cannot be used; the next one is tried."""


class DistributedLock(ABC):
    """A named lock shared between processes: ``with lock:`` or ``acquire``/``release``.

    A lock object is not reentrant: acquiring it while it is held raises
    :class:`LockError`, and two objects of the same name exclude each other even in
    one process, like two processes would.
    """

    def __init__(self, name: str, kind: LockKind, server: str) -> None:
        #: the lock's name, as given to ``get_lock``
        self.name = name
        #: ``"exclusive"``, ``"read"`` or ``"write"``
        self.kind: LockKind = kind
        #: the server holding the lock, e.g. ``"redis 127.0.0.1:6379"``
        self.server = server
        self._held = False

    @property
    def held(self) -> bool:
        """Whether this object holds the lock now."""
        return self._held

    def acquire(self, timeout: float | None = None) -> bool:
        """Take the lock; True once taken, False if ``timeout`` seconds passed first.

        ``timeout=None`` waits as long as it takes; ``timeout=0`` tries once.
        """
        if self._held:
            raise LockError(
                f"{self!r} is already held by this object; release it first or take "
                "another lock object (locks are not reentrant)."
            )
        if timeout is not None and not timeout >= 0:
            raise LockError(
                f"timeout={timeout!r} for lock {self.name!r}: give None (wait as long as "
                "it takes) or a number of seconds >= 0."
            )
        self._held = self._acquire(timeout)
        return self._held

    def release(self) -> None:
        """Give the lock back; :class:`LockLostError` if it was lost meanwhile."""
        if not self._held:
            raise LockError(f"{self!r} is not held by this object; acquire it before release.")
        self._held = False
        self._release()

    def __enter__(self) -> DistributedLock:
        self.acquire()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()

    def __repr__(self) -> str:
        state = "held" if self._held else "not held"
        return f"<{self.kind} lock {self.name!r} on {self.server}, {state}>"

    @abstractmethod
    def _acquire(self, timeout: float | None) -> bool: ...

    @abstractmethod
    def _release(self) -> None: ...


def lost_message(lock: DistributedLock, why: str, fix: str) -> str:
    """The message of a :class:`LockLostError`: what was lost, why, and what to do."""
    return (
        f"lock {lock.name!r} on {lock.server} was lost while held ({why}); another "
        f"process may have held it meanwhile. {fix}"
    )


class Backend(ABC):
    """One server of the configuration list, connected.

    A subclass raises :class:`Unreachable` from ``__init__`` when its server cannot be
    used, so that the next server of the list is tried.
    """

    #: the keys an entry of this type may have (checked by the configuration)
    allowed_keys: ClassVar[frozenset[str]] = frozenset({"type", "config"})
    #: the keys its ``config`` may have; None: any, passed on to the client library
    config_keys: ClassVar[frozenset[str] | None] = None

    def __init__(self, entry: Mapping[str, Any]) -> None:
        self.entry = dict(entry)
        self.description = self.describe(entry)
        #: the ``redis.Redis`` or ``KazooClient``; None for file locks
        self.client: Any = None

    @staticmethod
    @abstractmethod
    def describe(entry: Mapping[str, Any]) -> str:
        """The server an entry names, for messages, e.g. ``"redis host:6379"``."""

    @staticmethod
    def entry_problem(entry: Mapping[str, Any]) -> str | None:
        """What is wrong with an entry beyond unknown keys, for the configuration's
        error message; None when nothing is."""
        return None

    @abstractmethod
    def make_lock(self, name: str, kind: LockKind) -> DistributedLock:
        """A new, not yet acquired lock of ``name`` on this server."""

    def close(self) -> None:  # noqa: B027  (file locks hold no connection)
        """Free the connection; called when the configuration changes."""


def make_client(cls: Callable[..., Any], entry: Mapping[str, Any], config: Mapping) -> Any:
    """``cls(**config)``, with an option the client does not know named as a config error."""
    try:
        return cls(**config)
    except TypeError as exc:  # an option the client does not know
        raise LockConfigError(
            f"lock server {entry!r}: its 'config' does not suit {cls.__name__}: {exc}"
        ) from exc
