"""ZooKeeper locks: kazoo's lock recipes, ephemeral nodes that die with the session.

The kazoo package is optional (``zdb[zookeeper]``) and imported where it is used.
"""

from __future__ import annotations

import os
import socket
import weakref
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from .base import (
    DEFAULT_CONNECT_TIMEOUT,
    Backend,
    DistributedLock,
    LockKind,
    LockLostError,
    LockServerError,
    Unreachable,
    lost_message,
    make_client,
)

#: znode under which zookeeper locks live
DEFAULT_ZOOKEEPER_PATH = "/zdb/locks"


class _ZooKeeperLock(DistributedLock):
    """A kazoo lock recipe; its ephemeral node vanishes with a dead holder's session."""

    def __init__(self, name: str, kind: LockKind, backend: ZooKeeperBackend) -> None:
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
            fix = (
                "Raise the session timeout ('timeout' in the server's config, seconds) or "
                "check the connection to the server."
            )
            raise LockLostError(lost_message(self, "the zookeeper session ended", fix))
        try:
            lock.release()
        except KazooException as exc:
            raise LockServerError(
                f"{self.server} failed while releasing lock {self.name!r}: {exc!r}"
            ) from exc


class ZooKeeperBackend(Backend):
    """A ZooKeeper ensemble: ``config`` holds the keyword arguments of ``KazooClient``."""

    allowed_keys = frozenset({"type", "config", "connect_timeout", "path"})

    def __init__(self, entry: Mapping[str, Any]) -> None:
        super().__init__(entry)
        try:
            from kazoo.client import KazooClient
            from kazoo.protocol.states import KazooState
        except ImportError as exc:
            raise Unreachable("the kazoo package is missing: pip install 'zdb[zookeeper]'") from exc
        self.root = str(entry.get("path", DEFAULT_ZOOKEEPER_PATH)).rstrip("/")
        self.identifier = f"{socket.gethostname()}:{os.getpid()}"
        self.held: weakref.WeakSet[_ZooKeeperLock] = weakref.WeakSet()
        connect_timeout = float(entry.get("connect_timeout", DEFAULT_CONNECT_TIMEOUT))
        self.client = make_client(KazooClient, entry, entry.get("config") or {})
        try:
            self.client.start(timeout=connect_timeout)
        except Exception as exc:  # kazoo's handler decides the timeout exception type
            raise Unreachable(f"{type(exc).__name__}: {exc}") from exc

        def on_state(state: str) -> None:
            if state == KazooState.LOST:  # the ephemeral lock nodes are gone
                for lock in list(self.held):
                    lock.lost = True

        self.client.add_listener(on_state)

    @staticmethod
    def describe(entry: Mapping[str, Any]) -> str:
        config = entry.get("config") or {}
        return f"zookeeper {config.get('hosts', '127.0.0.1:2181')}"

    @staticmethod
    def entry_problem(entry: Mapping[str, Any]) -> str | None:
        # kazoo refuses these only when the first lock is taken, with a ValueError
        segments = str(entry.get("path", DEFAULT_ZOOKEEPER_PATH)).split("/")
        dots = sorted({segment for segment in segments if segment in (".", "..")})
        if dots:
            return (
                f"'path' has the segments {dots}, which ZooKeeper does not allow: give "
                "the znode as an absolute path such as '/zdb/locks'."
            )
        return None

    def node(self, name: str) -> str:
        # Percent-encoding makes any name a single valid znode name ("/" and
        # non-ASCII included); only "." and ".." need more. surrogatepass: the lone
        # surrogates of undecodable file names (os.fsdecode) get bytes of their own,
        # as in the file locks' names; other names encode as plain UTF-8.
        encoded = quote(name, safe="", errors="surrogatepass")
        if encoded in (".", ".."):
            encoded = encoded.replace(".", "%2E")
        return f"{self.root}/{encoded}"

    def make_lock(self, name: str, kind: LockKind) -> DistributedLock:
        return _ZooKeeperLock(name, kind, self)

    def close(self) -> None:
        self.client.stop()
        self.client.close()
