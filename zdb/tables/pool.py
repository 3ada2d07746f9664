"""The shared IO thread pool of the table layouts.

Compressing, decompressing and storing chunks (or reading Parquet files) are
independent jobs that release the GIL; one pool per process runs them, a larger one
for remote stores, whose requests mostly wait on the network.
"""

from __future__ import annotations

import concurrent.futures
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from ..storage import Store

#: threads compressing or decompressing chunks
THREADS = min(16, max(4, os.cpu_count() or 1))
#: threads for a remote store, whose requests mostly wait on the network
REMOTE_THREADS = 32

_pool_lock = threading.Lock()
_pools: dict[bool, ThreadPoolExecutor | None] = {}
_local = threading.local()


def cores() -> int:
    """The cores this process may run on (its CPU affinity, as a batch system sets it)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def active_client() -> Any:
    """The ``distributed.Client`` that is dask's active scheduler, or None."""
    if "distributed" not in sys.modules:  # no client without it
        return None
    from dask.base import get_scheduler

    owner = getattr(get_scheduler(), "__self__", None)
    return owner if type(owner).__name__ == "Client" else None


@contextmanager
def in_this_thread() -> Iterator[None]:
    """Within, :func:`run_jobs` runs the jobs of a local store in the calling thread: for
    a caller that is one of enough parallel tasks already (a partition of a dask frame
    with a partition per core), where a pool per process would put more threads than
    cores to work (two single-threaded dask workers on 2 cores read 16 partitions in
    three quarters of the time this way)."""
    before = getattr(_local, "inline", False)
    _local.inline = True
    try:
        yield
    finally:
        _local.inline = before


def _reset_pool() -> None:
    _pools.clear()


os.register_at_fork(after_in_child=_reset_pool)  # a forked child has none of the threads


def run_jobs(jobs: Sequence[Callable[[], Any]], store: Store | None = None) -> None:
    """Run independent IO jobs (compression releases the GIL) on a shared thread pool,
    a larger one for a remote ``store`` (its requests wait on the network), or in this
    thread (see :func:`in_this_thread`). Returns
    when every job is done, raising the first error: no job writes on behind the back
    of a caller cleaning up after a failure."""
    remote = store is not None and store.remote
    if len(jobs) <= 1 or (getattr(_local, "inline", False) and not remote):
        for job in jobs:
            job()
        return
    with _pool_lock:
        if _pools.get(remote) is None:
            size = REMOTE_THREADS if remote else THREADS
            _pools[remote] = ThreadPoolExecutor(size, thread_name_prefix="zdb-tables")
        pool = _pools[remote]
    futures = [pool.submit(job) for job in jobs]
    concurrent.futures.wait(futures)
    for future in futures:
        future.result()
