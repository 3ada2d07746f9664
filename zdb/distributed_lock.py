"""Named locks shared between processes and machines: exclusive, read and write locks.

>>> with get_write_lock("db-index"):
...     rebuild_index()

``get_lock(name)`` and ``get_write_lock(name)`` are exclusive: they exclude every
other lock of the same name. ``get_read_lock(name)`` is shared: several readers hold it
at once, and no writer meanwhile. The lock lives on the first reachable server of a
list chosen by :func:`configure`, :func:`configure_from_file` or the YAML file named by
the environment variable ``ZDB_LOCK_CONFIG``; without configuration, locks are files
in ``$ZDB_LOCK_DIR`` or ``~/.cache/zdb/locks``. A list looks like::

    - type: redis
      config: {host: lockserver, port: 6379}   # passed to redis.Redis
      expire: 60                               # seconds a dead holder keeps the lock
    - type: zookeeper
      config: {hosts: "zk1:2181,zk2:2181"}     # passed to kazoo.client.KazooClient
    - type: file
      config: {directory: /shared/locks}

The choice is made once per process, on the first lock. A holder that dies frees its
locks: the operating system drops file locks at once, zookeeper when the holder's
session times out, redis when the lock's expiry passes without renewal (holders renew
their redis locks from a background thread). See ``docs/locks.md``.
"""

from __future__ import annotations

import errno
import fcntl
import functools
import hashlib
import logging
import os
import re
import socket
import threading
import time
import uuid
import weakref
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Literal
from urllib.parse import quote

import filelock
import yaml

from .exceptions import DataBaseException

__all__ = [
    "ENV_CONFIG",
    "ENV_LOCK_DIR",
    "DistributedLock",
    "InvalidLockNameError",
    "LockConfigError",
    "LockError",
    "LockLostError",
    "LockServerError",
    "NoLockServerError",
    "configure",
    "configure_from_file",
    "get_lock",
    "get_locking_client",
    "get_locking_server",
    "get_read_lock",
    "get_write_lock",
    "update_config",
]

logger = logging.getLogger(__name__)

#: environment variable naming a YAML file with the list of lock servers
ENV_CONFIG = "ZDB_LOCK_CONFIG"
#: environment variable naming the folder of file locks (default ``~/.cache/zdb/locks``)
ENV_LOCK_DIR = "ZDB_LOCK_DIR"

#: seconds to wait for a server to answer before trying the next one
DEFAULT_CONNECT_TIMEOUT = 1.0
#: seconds a redis lock outlives a holder that stopped renewing it (e.g. was killed)
DEFAULT_REDIS_EXPIRE = 60.0
#: seconds between two attempts to take a busy redis lock (redis-py's default)
DEFAULT_REDIS_POLL = 0.1
#: seconds between two attempts to take a busy read lock on a file when a timeout is given
FILE_POLL = 0.05
#: znode under which zookeeper locks live
DEFAULT_ZOOKEEPER_PATH = "/zdb/locks"

LockKind = Literal["exclusive", "read", "write"]


class LockError(DataBaseException):
    """A distributed lock could not be used as asked."""


class InvalidLockNameError(LockError, ValueError):
    """A lock name is empty or not a string."""


class LockConfigError(LockError):
    """The lock server configuration does not parse or names an unknown server type."""


class NoLockServerError(LockError):
    """None of the configured lock servers is reachable."""


class LockServerError(LockError):
    """The chosen lock server failed while a lock was taken or given back."""


class LockLostError(LockError):
    """A lock expired or its server session ended while it was held."""


class _Unreachable(LockError):
    """A server of the list cannot be used; the next one is tried."""


# --------------------------------------------------------------------------- locks


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


def _file_error(lock: DistributedLock, exc: OSError) -> LockError:
    hint = (
        "the file system of the lock folder does not support flock: use another folder, "
        "or a redis or zookeeper server"
        if exc.errno == errno.ENOSYS
        else "check the lock folder's permissions and space"
    )
    return LockError(f"cannot take lock {lock.name!r} on {lock.server}: {exc}; {hint}.")


class _FileExclusiveLock(DistributedLock):
    """An exclusive ``flock`` on the lock file, through ``filelock.FileLock``."""

    def __init__(self, name: str, kind: LockKind, server: str, path: Path) -> None:
        super().__init__(name, kind, server)
        # fallback_to_soft=False: on a file system without flock, fail instead of
        # switching to a marker file that a killed holder would leave behind, and that
        # the read locks (plain flock) would not see.
        self._lock = filelock.FileLock(path, thread_local=False, fallback_to_soft=False)

    def _acquire(self, timeout: float | None) -> bool:
        try:
            self._lock.acquire(timeout=-1 if timeout is None else timeout)
        except filelock.Timeout:
            return False
        except RuntimeError as exc:  # filelock refuses a wait that would never end
            raise LockError(f"lock {self.name!r} on {self.server}: {exc}") from exc
        except OSError as exc:
            raise _file_error(self, exc) from exc
        return True

    def _release(self) -> None:
        self._lock.release()


class _FileReadLock(DistributedLock):
    """A shared ``flock`` (LOCK_SH) on the lock file.

    Written with ``fcntl.flock`` because filelock has no shared mode on the same file
    as its exclusive lock (its ReadWriteLock keeps state in SQLite, which exclusive
    ``FileLock`` holders would not see). LOCK_SH conflicts with the LOCK_EX that
    ``filelock.FileLock`` takes on Unix, so readers and writers exclude each other.
    """

    def __init__(self, name: str, kind: LockKind, server: str, path: Path) -> None:
        super().__init__(name, kind, server)
        self._path = path
        self._fd: int | None = None

    def _acquire(self, timeout: float | None) -> bool:
        # Read-only is enough for a shared lock, so users who may only read a shared
        # lock folder can still take read locks. Never unlink the file: a waiter
        # holding the old inode would lock a file that nobody else sees.
        try:
            fd = os.open(self._path, os.O_RDONLY | os.O_CREAT, 0o666)
        except OSError as exc:
            raise _file_error(self, exc) from exc
        try:
            if timeout is None:
                fcntl.flock(fd, fcntl.LOCK_SH)
            elif not self._poll(fd, time.monotonic() + timeout):
                os.close(fd)
                return False
        except OSError as exc:
            os.close(fd)
            raise _file_error(self, exc) from exc
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    @staticmethod
    def _poll(fd: int, deadline: float) -> bool:
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                return True
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES):
                    raise
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            time.sleep(min(FILE_POLL, left))

    def _release(self) -> None:
        fd, self._fd = self._fd, None
        assert fd is not None
        try:
            fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


class _Renewal:
    """Extends a held redis lock every third of its expiry, so that it expires only
    when its holder stops: redis has no notion of a client's liveness, and a fixed
    expiry long enough for every critical section would keep dead holders' locks for
    as long. A renewal that finds the lock gone marks it lost; connection errors are
    logged and retried at the next turn (the lock stays valid until its expiry)."""

    def __init__(self, renew: Callable[[], bool], interval: float, label: str) -> None:
        self._renew = renew
        self._interval = interval
        self._stop = threading.Event()
        self.lost = False
        self._thread = threading.Thread(
            target=self._run, name=f"zdb-lock-renewal {label}", daemon=True
        )
        self._thread.start()

    def _run(self) -> None:
        import redis.exceptions

        while not self._stop.wait(self._interval):
            try:
                if not self._renew():
                    self.lost = True
                    return
            except redis.exceptions.RedisError as exc:
                logger.warning("could not renew %s (will retry): %s", self._thread.name, exc)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


# KEYS[1]: writer key, KEYS[2]: readers (sorted set token -> expiry in ms);
# ARGV[1]: token, ARGV[2]: expiry in ms. Drops readers whose expiry passed (holders
# that died), then takes the writer key only when no reader and no writer remain.
_LUA_WRITE_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) > 0 then
    return 0
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
    return 1
end
return 0
"""

# KEYS[1]: writer key, KEYS[2]: readers; ARGV[1]: token, ARGV[2]: expiry in ms.
# Adds the reader unless a writer holds the lock; the set itself expires with its
# last reader so that nothing outlives the holders.
_LUA_READ_ACQUIRE = """
if redis.call('EXISTS', KEYS[1]) == 1 then
    return 0
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[2]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[2], last[2])
return 1
"""

# KEYS[1]: readers; ARGV[1]: token, ARGV[2]: expiry in ms. 1 if the reader was still
# registered and unexpired (and is now extended), else 0.
_LUA_READ_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
if not score or tonumber(score) <= now then
    return 0
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
redis.call('PEXPIREAT', KEYS[1], last[2])
return 1
"""

# KEYS[1]: readers; ARGV[1]: token. Removes the reader; 1 if it was still valid.
_LUA_READ_RELEASE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local score = redis.call('ZSCORE', KEYS[1], ARGV[1])
redis.call('ZREM', KEYS[1], ARGV[1])
if not score or tonumber(score) <= now then
    return 0
end
return 1
"""


@functools.cache
def _redis_write_lock_class() -> type:
    """redis-py's ``Lock`` whose acquire also waits until no read lock is held."""
    import redis.lock

    class RedisWriteLock(redis.lock.Lock):
        lua_acquire = None

        def __init__(self, client: Any, name: str, readers_key: str, **kwargs: Any) -> None:
            self.readers_key = readers_key
            super().__init__(client, name, **kwargs)

        def register_scripts(self) -> None:
            super().register_scripts()
            cls = type(self)
            if cls.lua_acquire is None:
                cls.lua_acquire = self.redis.register_script(_LUA_WRITE_ACQUIRE)

        def do_acquire(self, token: str) -> bool:
            expire_ms = int(self.timeout * 1000)
            keys = [self.name, self.readers_key]
            return bool(self.lua_acquire(keys=keys, args=[token, expire_ms], client=self.redis))

    return RedisWriteLock


def _lost_message(lock: DistributedLock, why: str) -> str:
    return (
        f"lock {lock.name!r} on {lock.server} was lost while held ({why}); another "
        "process may have held it meanwhile. Raise the server's 'expire' or check the "
        "connection to the server."
    )


class _RedisWriteLock(DistributedLock):
    """Exclusive and write locks: a redis-py ``Lock`` on the writer key."""

    def __init__(self, name: str, kind: LockKind, backend: _RedisBackend) -> None:
        super().__init__(name, kind, backend.description)
        self._backend = backend
        # thread_local=False: the renewal thread must see the token of the holder.
        self._lock = _redis_write_lock_class()(
            backend.client,
            backend.writer_key(name),
            readers_key=backend.readers_key(name),
            timeout=backend.expire,
            sleep=backend.poll_interval,
            thread_local=False,
        )
        self._renewal: _Renewal | None = None

    def _acquire(self, timeout: float | None) -> bool:
        import redis.exceptions

        try:
            ok = self._lock.acquire(blocking=True, blocking_timeout=timeout)
        except redis.exceptions.RedisError as exc:
            raise LockServerError(
                f"{self.server} failed while taking lock {self.name!r}: {exc}"
            ) from exc
        if ok:
            self._renewal = _Renewal(self._renew, self._backend.expire / 3, self.name)
        return ok

    def _renew(self) -> bool:
        import redis.exceptions

        try:
            self._lock.reacquire()
        except redis.exceptions.LockNotOwnedError:
            return False
        return True

    def _release(self) -> None:
        import redis.exceptions

        renewal, self._renewal = self._renewal, None
        assert renewal is not None
        renewal.stop()
        try:
            self._lock.release()
        except redis.exceptions.LockNotOwnedError as exc:
            raise LockLostError(_lost_message(self, "its expiry passed")) from exc
        except redis.exceptions.RedisError as exc:
            raise LockServerError(
                f"{self.server} failed while releasing lock {self.name!r}: {exc}"
            ) from exc


class _RedisReadLock(DistributedLock):
    """A shared lock: a member of the name's readers set, with its own expiry."""

    def __init__(self, name: str, kind: LockKind, backend: _RedisBackend) -> None:
        super().__init__(name, kind, backend.description)
        self._backend = backend
        self._token = ""
        self._renewal: _Renewal | None = None

    def _acquire(self, timeout: float | None) -> bool:
        import redis.exceptions

        b = self._backend
        keys = [b.writer_key(self.name), b.readers_key(self.name)]
        token = uuid.uuid4().hex
        deadline = None if timeout is None else time.monotonic() + timeout
        try:
            while not b.scripts["read_acquire"](keys=keys, args=[token, b.expire_ms]):
                if deadline is not None and time.monotonic() + b.poll_interval > deadline:
                    return False
                time.sleep(b.poll_interval)
        except redis.exceptions.RedisError as exc:
            raise LockServerError(
                f"{self.server} failed while taking lock {self.name!r}: {exc}"
            ) from exc
        self._token = token
        self._renewal = _Renewal(self._renew, b.expire / 3, self.name)
        return True

    def _renew(self) -> bool:
        b = self._backend
        keys = [b.readers_key(self.name)]
        return bool(b.scripts["read_renew"](keys=keys, args=[self._token, b.expire_ms]))

    def _release(self) -> None:
        import redis.exceptions

        renewal, self._renewal = self._renewal, None
        assert renewal is not None
        renewal.stop()
        keys = [self._backend.readers_key(self.name)]
        try:
            valid = self._backend.scripts["read_release"](keys=keys, args=[self._token])
        except redis.exceptions.RedisError as exc:
            raise LockServerError(
                f"{self.server} failed while releasing lock {self.name!r}: {exc}"
            ) from exc
        if renewal.lost or not valid:
            raise LockLostError(_lost_message(self, "its expiry passed"))


class _ZooKeeperLock(DistributedLock):
    """A kazoo lock recipe; its ephemeral node vanishes with a dead holder's session."""

    def __init__(self, name: str, kind: LockKind, backend: _ZooKeeperBackend) -> None:
        super().__init__(name, kind, backend.description)
        self._backend = backend
        self._lock: Any = None
        self.lost = False

    def _acquire(self, timeout: float | None) -> bool:
        from kazoo.exceptions import KazooException, LockTimeout
        from kazoo.recipe.lock import ReadLock, WriteLock

        # WriteLock for "exclusive" too: kazoo's plain Lock ignores read locks of the
        # same path, and an exclusive lock must exclude readers as on the other servers.
        # A new recipe object per acquire: kazoo's keeps its state after a lost session.
        recipe = ReadLock if self.kind == "read" else WriteLock
        b = self._backend
        lock = recipe(b.client, b.node(self.name), identifier=b.identifier)
        try:
            if timeout == 0:
                ok = lock.acquire(blocking=False)
            else:
                ok = lock.acquire(blocking=True, timeout=timeout)
        except LockTimeout:
            return False
        except KazooException as exc:
            raise LockServerError(
                f"{self.server} failed while taking lock {self.name!r}: {exc!r}"
            ) from exc
        if ok:
            self._lock, self.lost = lock, False
            b.held.add(self)
        return bool(ok)

    def _release(self) -> None:
        from kazoo.exceptions import KazooException

        lock, self._lock = self._lock, None
        self._backend.held.discard(self)
        if self.lost:
            raise LockLostError(_lost_message(self, "the zookeeper session ended"))
        try:
            lock.release()
        except KazooException as exc:
            raise LockServerError(
                f"{self.server} failed while releasing lock {self.name!r}: {exc!r}"
            ) from exc


# ------------------------------------------------------------------------ backends


class _Backend(ABC):
    """One server of the configuration list, connected."""

    def __init__(self, entry: Mapping[str, Any]) -> None:
        self.entry = dict(entry)
        self.description = _describe(entry)
        #: the ``redis.Redis`` or ``KazooClient``; None for file locks
        self.client: Any = None

    @abstractmethod
    def make_lock(self, name: str, kind: LockKind) -> DistributedLock: ...

    def close(self) -> None:  # noqa: B027  (file locks hold no connection)
        """Free the connection; called when the configuration changes."""


def _make_client(cls: Callable[..., Any], entry: Mapping[str, Any], config: Mapping) -> Any:
    try:
        return cls(**config)
    except TypeError as exc:  # an option the client does not know
        raise LockConfigError(
            f"lock server {entry!r}: its 'config' does not suit {cls.__name__}: {exc}"
        ) from exc


def _default_lock_dir() -> Path:
    if os.environ.get(ENV_LOCK_DIR):
        return Path(os.environ[ENV_LOCK_DIR]).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME") or "~/.cache"
    return Path(cache).expanduser() / "zdb" / "locks"


def _lock_file_name(name: str) -> str:
    """A safe, unique file name for a lock name: a readable part plus a hash of the
    whole name, so that names differing only in replaced characters stay apart."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")[:80] or "lock"
    digest = hashlib.sha256(name.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{readable}-{digest}.lock"


class _FileBackend(_Backend):
    def __init__(self, entry: Mapping[str, Any]) -> None:
        config = entry.get("config") or {}
        directory = config.get("directory")
        self.directory = (
            Path(os.path.expandvars(str(directory))).expanduser()
            if directory
            else _default_lock_dir()
        )
        super().__init__({**entry, "config": {**config, "directory": str(self.directory)}})
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _Unreachable(f"cannot create the lock folder: {exc}") from exc
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise _Unreachable(f"the lock folder {self.directory} is not writable")

    def make_lock(self, name: str, kind: LockKind) -> DistributedLock:
        path = self.directory / _lock_file_name(name)
        cls = _FileReadLock if kind == "read" else _FileExclusiveLock
        return cls(name, kind, self.description, path)


class _RedisBackend(_Backend):
    def __init__(self, entry: Mapping[str, Any]) -> None:
        super().__init__(entry)
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError as exc:
            raise _Unreachable("the redis package is missing: pip install 'zdb[redis]'") from exc
        self.expire = float(entry.get("expire", DEFAULT_REDIS_EXPIRE))
        self.expire_ms = int(self.expire * 1000)
        self.poll_interval = float(entry.get("poll_interval", DEFAULT_REDIS_POLL))
        connect_timeout = float(entry.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT))
        config = dict(entry.get("config") or {})
        # The probe answers at once: one attempt, without redis-py's retries with backoff.
        timeouts = {"socket_connect_timeout": connect_timeout, "socket_timeout": connect_timeout}
        probe = _make_client(
            redis.Redis, entry, {**config, **timeouts, "retry": Retry(NoBackoff(), 0)}
        )
        try:
            probe.ping()
        except redis.exceptions.RedisError as exc:
            raise _Unreachable(f"{type(exc).__name__}: {exc}") from exc
        finally:
            probe.close()
        config.setdefault("socket_connect_timeout", connect_timeout)
        self.client = _make_client(redis.Redis, entry, config)
        self.scripts = {
            "read_acquire": self.client.register_script(_LUA_READ_ACQUIRE),
            "read_renew": self.client.register_script(_LUA_READ_RENEW),
            "read_release": self.client.register_script(_LUA_READ_RELEASE),
        }

    # Different first segments keep the two key families apart for every name.
    @staticmethod
    def writer_key(name: str) -> str:
        return f"zdb:lock:{name}"

    @staticmethod
    def readers_key(name: str) -> str:
        return f"zdb:lock-readers:{name}"

    def make_lock(self, name: str, kind: LockKind) -> DistributedLock:
        if kind == "read":
            return _RedisReadLock(name, kind, self)
        return _RedisWriteLock(name, kind, self)

    def close(self) -> None:
        self.client.close()


class _ZooKeeperBackend(_Backend):
    def __init__(self, entry: Mapping[str, Any]) -> None:
        super().__init__(entry)
        try:
            from kazoo.client import KazooClient
            from kazoo.protocol.states import KazooState
        except ImportError as exc:
            raise _Unreachable(
                "the kazoo package is missing: pip install 'zdb[zookeeper]'"
            ) from exc
        self.root = str(entry.get("path", DEFAULT_ZOOKEEPER_PATH)).rstrip("/")
        self.identifier = f"{socket.gethostname()}:{os.getpid()}"
        self.held: weakref.WeakSet[_ZooKeeperLock] = weakref.WeakSet()
        connect_timeout = float(entry.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT))
        self.client = _make_client(KazooClient, entry, entry.get("config") or {})
        try:
            self.client.start(timeout=connect_timeout)
        except Exception as exc:  # kazoo's handler decides the timeout exception type
            raise _Unreachable(f"{type(exc).__name__}: {exc}") from exc

        def on_state(state: str) -> None:
            if state == KazooState.LOST:  # the ephemeral lock nodes are gone
                for lock in list(self.held):
                    lock.lost = True

        self.client.add_listener(on_state)

    def node(self, name: str) -> str:
        # Percent-encoding makes any name a single valid znode name ("/" and
        # non-ASCII included); only "." and ".." need more.
        encoded = quote(name, safe="")
        if encoded in (".", ".."):
            encoded = encoded.replace(".", "%2E")
        return f"{self.root}/{encoded}"

    def make_lock(self, name: str, kind: LockKind) -> DistributedLock:
        return _ZooKeeperLock(name, kind, self)

    def close(self) -> None:
        self.client.stop()
        self.client.close()


_BACKENDS: dict[str, type[_Backend]] = {
    "file": _FileBackend,
    "redis": _RedisBackend,
    "zookeeper": _ZooKeeperBackend,
}
_ALLOWED_KEYS = {
    "file": {"type", "config"},
    "redis": {"type", "config", "expire", "poll_interval", "connect_timeout"},
    "zookeeper": {"type", "config", "connect_timeout", "path"},
}
_POSITIVE_NUMBERS = ("expire", "poll_interval", "connect_timeout")


def _describe(entry: Mapping[str, Any]) -> str:
    config = entry.get("config") or {}
    kind = entry.get("type")
    if kind == "redis":
        if "unix_socket_path" in config:
            return f"redis {config['unix_socket_path']}"
        return f"redis {config.get('host', 'localhost')}:{config.get('port', 6379)}"
    if kind == "zookeeper":
        return f"zookeeper {config.get('hosts', '127.0.0.1:2181')}"
    if kind == "file":
        return f"file locks in {config.get('directory') or _default_lock_dir()}"
    return repr(dict(entry))


# ------------------------------------------------------------------- configuration

_state_lock = threading.Lock()
_configured: tuple[list[dict[str, Any]], str] | None = None
_active: tuple[int, _Backend] | None = None  # (pid that chose it, backend)


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
        unknown = set(entry) - _ALLOWED_KEYS[kind]
        if unknown:
            raise LockConfigError(
                f"{where}: unknown keys {sorted(unknown)} for type {kind!r}; allowed: "
                f"{sorted(_ALLOWED_KEYS[kind])}."
            )
        config = entry.get("config")
        if config is not None and not isinstance(config, Mapping):
            raise LockConfigError(f"{where}: 'config' must be a mapping of options.")
        if kind == "file" and set(config or {}) - {"directory"}:
            raise LockConfigError(f"{where}: the file server's config knows only 'directory'.")
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
    path = os.environ.get(ENV_CONFIG)
    if path:
        source = f"{path} (named by ${ENV_CONFIG})"
        return _load_file(path, source), source
    return [{"type": "file"}], "the default configuration"


def _select(servers: list[dict[str, Any]], source: str) -> _Backend:
    failures = []
    for entry in servers:
        try:
            backend = _BACKENDS[entry["type"]](entry)
        except _Unreachable as exc:
            failures.append(f"{_describe(entry)} ({exc})")
            logger.warning("lock server %s is unreachable: %s", _describe(entry), exc)
            continue
        logger.info("using %s for distributed locks", backend.description)
        return backend
    raise NoLockServerError(
        f"none of the lock servers {source} is reachable: {'; '.join(failures)}. Start one "
        "of them, fix the configuration, or end the list with {'type': 'file'}."
    )


def _backend() -> _Backend:
    global _active
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
