"""Redis locks: redis-py's ``Lock`` for writers, a sorted set of readers, both renewed.

The redis package is optional (``zdb[redis]``) and imported where it is used. Imports
are absolute, so ``import redis`` here is redis-py, not this module.
"""

from __future__ import annotations

import functools
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from .base import (
    DEFAULT_CONNECT_TIMEOUT,
    Backend,
    DistributedLock,
    LockKind,
    LockLostError,
    LockServerError,
    Unreachable,
    logger,
    lost_message,
    make_client,
)

#: seconds a redis lock outlives a holder that stopped renewing it (e.g. was killed)
DEFAULT_REDIS_EXPIRE = 60.0
#: seconds between two attempts to take a busy redis lock (redis-py's default)
DEFAULT_REDIS_POLL = 0.1

_LOST_FIX = "Raise the server's 'expire' or check the connection to the server."


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
            # the lock is always made with a timeout (its expiry), and the script is
            # registered by register_scripts() before any acquire
            assert self.timeout is not None and self.lua_acquire is not None
            expire_ms = int(self.timeout * 1000)
            keys = [self.name, self.readers_key]
            return bool(self.lua_acquire(keys=keys, args=[token, expire_ms], client=self.redis))

    return RedisWriteLock


class _RedisWriteLock(DistributedLock):
    """Exclusive and write locks: a redis-py ``Lock`` on the writer key."""

    def __init__(self, name: str, kind: LockKind, backend: RedisBackend) -> None:
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
            raise LockLostError(lost_message(self, "its expiry passed", _LOST_FIX)) from exc
        except redis.exceptions.RedisError as exc:
            raise LockServerError(
                f"{self.server} failed while releasing lock {self.name!r}: {exc}"
            ) from exc


class _RedisReadLock(DistributedLock):
    """A shared lock: a member of the name's readers set, with its own expiry."""

    def __init__(self, name: str, kind: LockKind, backend: RedisBackend) -> None:
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
            raise LockLostError(lost_message(self, "its expiry passed", _LOST_FIX))


class RedisBackend(Backend):
    """A redis server: ``config`` holds the keyword arguments of ``redis.Redis``."""

    allowed_keys = frozenset({"type", "config", "expire", "poll_interval", "connect_timeout"})

    def __init__(self, entry: Mapping[str, Any]) -> None:
        super().__init__(entry)
        try:
            import redis
            from redis.backoff import NoBackoff
            from redis.retry import Retry
        except ImportError as exc:
            raise Unreachable("the redis package is missing: pip install 'zdb[redis]'") from exc
        self.expire = float(entry.get("expire", DEFAULT_REDIS_EXPIRE))
        self.expire_ms = int(self.expire * 1000)
        self.poll_interval = float(entry.get("poll_interval", DEFAULT_REDIS_POLL))
        connect_timeout = float(entry.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT))
        config = dict(entry.get("config") or {})
        # The probe answers at once: one attempt, without redis-py's retries with backoff.
        timeouts = {"socket_connect_timeout": connect_timeout, "socket_timeout": connect_timeout}
        probe = make_client(
            redis.Redis, entry, {**config, **timeouts, "retry": Retry(NoBackoff(), 0)}
        )
        try:
            probe.ping()
        except redis.exceptions.RedisError as exc:
            raise Unreachable(f"{type(exc).__name__}: {exc}") from exc
        finally:
            probe.close()
        config.setdefault("socket_connect_timeout", connect_timeout)
        self.client = make_client(redis.Redis, entry, config)
        self.scripts = {
            "read_acquire": self.client.register_script(_LUA_READ_ACQUIRE),
            "read_renew": self.client.register_script(_LUA_READ_RENEW),
            "read_release": self.client.register_script(_LUA_READ_RELEASE),
        }

    @staticmethod
    def describe(entry: Mapping[str, Any]) -> str:
        config = entry.get("config") or {}
        if "unix_socket_path" in config:
            return f"redis {config['unix_socket_path']}"
        return f"redis {config.get('host', 'localhost')}:{config.get('port', 6379)}"

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
