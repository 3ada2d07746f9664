"""ISF's ``data_base.distributed_lock``: named locks shared between processes and machines.

>>> with get_write_lock("db-index"):
...     rebuild_index()

The locks live in :mod:`zdb.locks` (one module per server type); this module is the
public face ISF code imports. See :mod:`zdb.locks` and ``docs/locks.md``.
"""

from __future__ import annotations

# The "X as X" names were importable from here before the move to zdb.locks, outside
# __all__, and stay so.
from .exceptions import DataBaseException as DataBaseException
from .locks import DEFAULT_CONNECT_TIMEOUT as DEFAULT_CONNECT_TIMEOUT
from .locks import DEFAULT_REDIS_EXPIRE as DEFAULT_REDIS_EXPIRE
from .locks import DEFAULT_REDIS_POLL as DEFAULT_REDIS_POLL
from .locks import DEFAULT_ZOOKEEPER_PATH as DEFAULT_ZOOKEEPER_PATH
from .locks import (
    ENV_CONFIG,
    ENV_ISF_BLOCK,
    ENV_ISF_CONFIG,
    ENV_LOCK_DIR,
    DistributedLock,
    InvalidLockNameError,
    LockConfigError,
    LockError,
    LockLostError,
    LocksBlockedError,
    LockServerError,
    NoLockServerError,
    UnsafeLockFileError,
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
from .locks import FILE_POLL as FILE_POLL
from .locks import LockKind as LockKind
from .locks.base import logger as logger

__all__ = [
    "ENV_CONFIG",
    "ENV_ISF_BLOCK",
    "ENV_ISF_CONFIG",
    "ENV_LOCK_DIR",
    "DistributedLock",
    "InvalidLockNameError",
    "LockConfigError",
    "LockError",
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
