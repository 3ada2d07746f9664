"""Named locks shared between processes and machines: exclusive, read and write locks.

>>> with get_write_lock("db-index"):
...     rebuild_index()

``get_lock(name)`` and ``get_write_lock(name)`` are exclusive: they exclude every
other lock of the same name. ``get_read_lock(name)`` is shared: several readers hold it
at once, and no writer meanwhile. The lock lives on the first reachable server of a
list chosen by :func:`configure`, :func:`configure_from_file` or the YAML file named by
the environment variable ``ZDB_LOCK_CONFIG`` (or ISF's ``ISF_DISTRIBUTED_LOCK_CONFIG``;
``ISF_DISTRIBUTED_LOCK_BLOCK`` turns locks off); without configuration, locks are files
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

The modules: :mod:`.base` (the lock class and errors), :mod:`.file`, :mod:`.redis`
and :mod:`.zookeeper` (one per server type), :mod:`.config` (the server list, the
choice of server, ``get_lock`` and friends). ISF's name for this package is
:mod:`zdb.distributed_lock`.
"""

from __future__ import annotations

from .base import (
    DEFAULT_CONNECT_TIMEOUT,
    DistributedLock,
    InvalidLockNameError,
    LockConfigError,
    LockError,
    LockKind,
    LockLostError,
    LocksBlockedError,
    LockServerError,
    NoLockServerError,
    UnsafeLockFileError,
)
from .config import (
    ENV_CONFIG,
    ENV_ISF_BLOCK,
    ENV_ISF_CONFIG,
    configure,
    configure_from_file,
    get_lock,
    get_locking_client,
    get_locking_server,
    get_locking_server_client,
    get_read_lock,
    get_write_lock,
    update_config,
)
from .file import ENV_LOCK_DIR, FILE_POLL
from .redis import DEFAULT_REDIS_EXPIRE, DEFAULT_REDIS_POLL
from .zookeeper import DEFAULT_ZOOKEEPER_PATH

__all__ = [
    "DEFAULT_CONNECT_TIMEOUT",
    "DEFAULT_REDIS_EXPIRE",
    "DEFAULT_REDIS_POLL",
    "DEFAULT_ZOOKEEPER_PATH",
    "ENV_CONFIG",
    "ENV_ISF_BLOCK",
    "ENV_ISF_CONFIG",
    "ENV_LOCK_DIR",
    "FILE_POLL",
    "DistributedLock",
    "InvalidLockNameError",
    "LockConfigError",
    "LockError",
    "LockKind",
    "LockLostError",
    "LocksBlockedError",
    "LockServerError",
    "NoLockServerError",
    "UnsafeLockFileError",
    "configure",
    "configure_from_file",
    "get_lock",
    "get_locking_client",
    "get_locking_server",
    "get_locking_server_client",
    "get_read_lock",
    "get_write_lock",
    "update_config",
]
