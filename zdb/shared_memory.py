"""Named POSIX shared memory blocks as numpy arrays, shared between the processes of a
node, and a section of code that SIGINT and SIGTERM do not cut short.

The blocks are Python's :class:`multiprocessing.shared_memory.SharedMemory` (``shm_open``,
in ``/dev/shm`` on Linux) with two changes, both of which ISF's ``SharedNumpyStore``
relied on: a block outlives the process that created it until someone unlinks it (the
standard library's resource tracker would unlink every block a process created or
attached to when that process ends, https://bugs.python.org/issue39959), and closing a
block never unmaps memory that numpy arrays still use (which crashed ISF's kernels).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from multiprocessing import resource_tracker, shared_memory
from typing import Any

import numpy as np

from .exceptions import DataBaseException

#: the resource tracker's name for shared memory blocks
_TRACKER_TYPE = "shared_memory"


class SharedMemoryError(DataBaseException, ValueError):
    """A shared memory block is missing, or cannot hold the array asked for."""


class SharedMemory(shared_memory.SharedMemory):
    """A named shared memory block that outlives its process until :meth:`unlink`.

    Without ``create``, it attaches to the block ``name`` (FileNotFoundError when there
    is none). ISF's environment variable ``JOB_SHMTMPDIR`` is not needed: blocks are
    named POSIX shared memory, which is where ISF's blocks were too.
    """

    def __init__(self, name: str | None = None, create: bool = False, size: int = 0) -> None:
        if sys.version_info >= (3, 13):
            super().__init__(name, create, size, track=False)  # type: ignore[call-arg]
        else:
            super().__init__(name, create, size)
            # the tracker would unlink the block when this process ends, even when
            # another process still uses it; Python 3.13's track=False does this
            resource_tracker.unregister(self._name, _TRACKER_TYPE)  # type: ignore[attr-defined]

    def close(self) -> None:
        """Let go of the block in this process. Its memory stays mapped while numpy
        arrays use it, and is unmapped with the last of them: numpy keeps a reference
        to the memory, not a lock on it, so unmapping it now (as the standard library's
        close does) would leave those arrays pointing at nothing and crash the process."""
        self._buf = None
        self._mmap = None
        if self._fd >= 0:  # type: ignore[has-type]
            os.close(self._fd)  # type: ignore[has-type]
            self._fd = -1

    def unlink(self) -> None:
        """Remove the block's name; processes that mapped it keep their memory."""
        if sys.version_info < (3, 13):
            # the standard library tells the tracker to forget the block, which it
            # was never told about (see __init__): tell it first, or it reports an error
            resource_tracker.register(self._name, _TRACKER_TYPE)  # type: ignore[attr-defined]
        super().unlink()


def shared_array_from_numpy(
    arr: np.ndarray, name: str | None = None
) -> tuple[SharedMemory, np.ndarray]:
    """A copy of ``arr`` in a new shared memory block named ``name`` (ISF's function):
    the block, and the array on it."""
    arr = np.asarray(arr)
    shm, shared = new_shared_array(arr.shape, arr.dtype, name)
    np.copyto(shared, arr)
    return shm, shared


def new_shared_array(
    shape: tuple[int, ...], dtype: Any, name: str | None = None
) -> tuple[SharedMemory, np.ndarray]:
    """A new shared memory block named ``name`` holding an array of ``shape`` and
    ``dtype`` (its content is zero): the block, and the array on it."""
    dtype = np.dtype(dtype)
    size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if size == 0:
        raise SharedMemoryError(
            f"an array of shape {tuple(shape)} holds no bytes, and a shared memory block "
            "cannot be empty; keep empty arrays in memory"
        )
    try:
        shm = SharedMemory(name=name, create=True, size=size)
    except FileExistsError:
        raise SharedMemoryError(
            f"a shared memory block named {name!r} exists already; attach to it with "
            "shared_array_from_shared_mem_name, or unlink it first"
        ) from None
    return shm, np.ndarray(shape, dtype=dtype, buffer=shm.buf)


def shared_array_from_shared_mem_name(
    fname: str, shape: tuple[int, ...] | None = None, dtype: Any = None
) -> tuple[SharedMemory, np.ndarray]:
    """The array of ``shape`` and ``dtype`` in the existing shared memory block named
    ``fname`` (ISF's function): the block, and the array on it. FileNotFoundError when
    there is no such block."""
    shm = SharedMemory(name=fname)
    dtype = np.dtype(dtype if dtype is not None else np.uint8)
    if shape is None:
        shape = (shm.size // dtype.itemsize,)
    needed = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if needed > shm.size:
        shm.close()
        raise SharedMemoryError(
            f"the shared memory block {fname!r} has {shm.size} bytes, too few for an array "
            f"of shape {tuple(shape)} and dtype {dtype} ({needed} bytes)"
        )
    return shm, np.ndarray(shape, dtype=dtype, buffer=shm.buf)


class Uninterruptible:
    """Hold SIGINT and SIGTERM received inside the block back until the block is left,
    so that the work there (renaming files that belong together) completes.

    ISF's version ignored the signals for good; here they take effect when the block
    is left, so a job that was asked to stop does stop. Outside the main thread, where
    Python cannot handle signals, it does nothing.
    """

    _SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __enter__(self) -> Uninterruptible:
        self._received: list[int] = []
        self._active = threading.current_thread() is threading.main_thread()
        if self._active:
            self._old = {s: signal.signal(s, self._hold) for s in self._SIGNALS}
        return self

    def _hold(self, signum: int, frame: Any) -> None:
        self._received.append(signum)

    def __exit__(self, *exc: Any) -> None:
        if not self._active:
            return
        for s, handler in self._old.items():
            signal.signal(s, handler)
        for signum in dict.fromkeys(self._received):
            signal.raise_signal(signum)  # as if it came now, to the handler restored
