"""File locks: one file per lock name in a lock folder, locked with ``flock``.

Exclusive and write locks are ``filelock.FileLock``; read locks are a shared ``flock``
on the same file. The operating system drops the locks of a process that dies.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import re
import stat
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import filelock

from .base import Backend, DistributedLock, LockError, LockKind, Unreachable, UnsafeLockFileError

#: environment variable naming the folder of file locks (default ``~/.cache/zdb/locks``)
ENV_LOCK_DIR = "ZDB_LOCK_DIR"

#: seconds between two attempts to take a busy read lock on a file when a timeout is given
FILE_POLL = 0.05


def _file_error(lock: DistributedLock, exc: OSError) -> LockError:
    hint = (
        "the file system of the lock folder does not support flock: use another folder, "
        "or a redis or zookeeper server"
        if exc.errno == errno.ENOSYS
        else "check the lock folder's permissions and space"
    )
    return LockError(f"cannot take lock {lock.name!r} on {lock.server}: {exc}; {hint}.")


def _unsafe_error(lock: DistributedLock, path: Path) -> UnsafeLockFileError:
    if path.is_symlink():
        try:
            what = f"a symbolic link to {os.readlink(path)}"
        except OSError:  # removed meanwhile
            what = "a symbolic link"
    else:
        what = "not a regular file"
    return UnsafeLockFileError(
        f"the lock file of lock {lock.name!r} on {lock.server}, {path}, is {what}; lock "
        "files are never followed through links, so that nobody sharing the lock folder "
        f"can make a lock create or change another file. Remove {path} and take the lock "
        "again."
    )


def _refuse_unsafe(lock: DistributedLock, path: Path) -> None:
    """Raise :class:`UnsafeLockFileError` if ``path`` exists and is not a regular file."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _file_error(lock, exc) from exc
    if not stat.S_ISREG(mode):
        raise _unsafe_error(lock, path)


class _FileExclusiveLock(DistributedLock):
    """An exclusive ``flock`` on the lock file, through ``filelock.FileLock``."""

    def __init__(self, name: str, kind: LockKind, server: str, path: Path) -> None:
        super().__init__(name, kind, server)
        self._path = path
        # fallback_to_soft=False: on a file system without flock, fail instead of
        # switching to a marker file that a killed holder would leave behind, and that
        # the read locks (plain flock) would not see.
        self._lock = filelock.FileLock(path, thread_local=False, fallback_to_soft=False)

    def _acquire(self, timeout: float | None) -> bool:
        # filelock (>= 4.0) opens the lock file with O_NOFOLLOW, so a link planted after
        # this check is not followed either; the check gives the error its meaning.
        _refuse_unsafe(self, self._path)
        try:
            self._lock.acquire(timeout=-1 if timeout is None else timeout)
        except filelock.Timeout:
            return False
        except RuntimeError as exc:  # filelock refuses a wait that would never end
            raise LockError(f"lock {self.name!r} on {self.server}: {exc}") from exc
        except OSError as exc:
            _refuse_unsafe(self, self._path)  # planted since the check: O_NOFOLLOW's ELOOP
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
        fd = self._open()
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

    def _open(self) -> int:
        """The lock file, opened read-only, created if missing, never through a link.

        Read-only is enough for a shared lock, so users who may only read a shared
        lock folder can still take read locks. O_NOFOLLOW: a link planted at the lock
        file's path fails instead of creating or opening its target. O_NONBLOCK: a
        planted FIFO does not block the open (flock ignores the flag). Never unlink
        the file: a waiter holding the old inode would lock a file that nobody else
        sees.
        """
        flags = os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK
        try:
            fd = os.open(self._path, flags, 0o666)
        except OSError as exc:
            # a link (ELOOP, or EMLINK on some BSDs) or a directory (EISDIR)
            _refuse_unsafe(self, self._path)
            raise _file_error(self, exc) from exc
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise _unsafe_error(self, self._path)
        return fd

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


class FileBackend(Backend):
    """Locks as files in a folder: ``config: {directory: ...}``, default ``$ZDB_LOCK_DIR``."""

    config_keys = frozenset({"directory"})

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
            raise Unreachable(f"cannot create the lock folder: {exc}") from exc
        if not os.access(self.directory, os.W_OK | os.X_OK):
            raise Unreachable(f"the lock folder {self.directory} is not writable")

    @staticmethod
    def describe(entry: Mapping[str, Any]) -> str:
        config = entry.get("config") or {}
        return f"file locks in {config.get('directory') or _default_lock_dir()}"

    def make_lock(self, name: str, kind: LockKind) -> DistributedLock:
        path = self.directory / _lock_file_name(name)
        cls = _FileReadLock if kind == "read" else _FileExclusiveLock
        return cls(name, kind, self.description, path)
