"""ISF's ``tests/test_data_base/IO/LoaderDumper/test_shared_numpy_store.py``, for zdb.

ISF's tests set ``JOB_SHMTMPDIR=/dev/shm``; zdb's shared memory needs no variable.
ISF's ``test_uninterruptible`` timed the processes; here each process reports whether
its task completed and how it ended."""

from __future__ import annotations

import multiprocessing
import os
import secrets
import signal
import sys

import numpy as np
import pytest

from zdb.IO.LoaderDumper.shared_numpy_store import (
    SharedNumpyStore,
    Uninterruptible,
    shared_array_from_numpy,
    shared_array_from_shared_mem_name,
)

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="named POSIX shared memory is tested on Linux"
)


def test_shared_array_functions():
    arr = np.array([1, 2, 3])
    buffer, _ = shared_array_from_numpy(arr, name=f"zdb_test_{secrets.token_hex(6)}")
    try:
        shm, shared_arr_from_name = shared_array_from_shared_mem_name(
            buffer.name, dtype=arr.dtype, shape=arr.shape
        )
        assert np.array_equal(arr, shared_arr_from_name)
        shm.close()
    finally:
        buffer.unlink()


def test_SharedNumpyStore(tmp_path):
    arr = np.array([1, 2, 3])
    nps = SharedNumpyStore(str(tmp_path / "store"))
    nps.save(arr, "testarray")
    try:
        assert np.array_equal(arr, nps.load("testarray", allow_create_shm=True))
    finally:
        nps.close()


ARR1 = np.array([[1, 2, 3], [4, 5, 6]])
ARR2 = np.array([[7, 8, 9], [10, 11, 12]])


def test_append_save(tmp_path):
    nps = SharedNumpyStore(str(tmp_path / "store"))
    nps.save(ARR1, "testarray")
    nps.append_save(ARR2, "testarray")
    try:
        shared = nps.load("testarray", allow_create_shm=True)
        assert np.array_equal(np.concatenate((ARR1, ARR2), axis=0), shared)
    finally:
        nps.close()


def test_append_save_no_flush_leaves_array_unchanged(tmp_path):
    nps = SharedNumpyStore(str(tmp_path / "store"))
    nps.save(ARR1, "testarray")
    nps.append_save(ARR2, "testarray", autoflush=False)
    try:
        assert np.array_equal(ARR1, nps.load("testarray", allow_create_shm=True))
    finally:
        nps.close()


def test_robustness(tmp_path):
    nps = SharedNumpyStore(str(tmp_path / "store"))
    nps.save(ARR1, "testarray")
    for arr in (ARR2, None):
        fname = nps._get_metadata_from_fname(nps._files["testarray"])[0]
        assert fname == "testarray"
        with open(os.path.join(nps.working_dir, nps._files["testarray"]), "ab") as f:
            f.write(os.urandom(10))  # garbage after the array's end
        if arr is not None:
            nps.append_save(arr, "testarray")
    try:
        shared = nps.load("testarray", allow_create_shm=True)
        assert np.array_equal(np.vstack((ARR1, ARR2)), shared)
    finally:
        nps.close()


def _task(protected: bool, conn, marker: str) -> None:
    """Say "ready" inside the (protected) task, wait for "go", then complete it."""

    def task() -> None:
        conn.send("ready")
        conn.recv()
        with open(marker, "w") as f:
            f.write("completed")

    if protected:
        with Uninterruptible():
            task()
    else:
        task()


@pytest.mark.parametrize("protected", [False, True], ids=["interruptible", "uninterruptible"])
def test_uninterruptible(tmp_path, protected):
    # a pipe, not a multiprocessing Event: an Event's set() waits forever for a waiter
    # that was killed while waiting
    ctx = multiprocessing.get_context("spawn")
    conn, child_conn = ctx.Pipe()
    marker = str(tmp_path / "marker")
    process = ctx.Process(target=_task, args=(protected, child_conn, marker))
    process.start()
    try:
        assert conn.poll(120) and conn.recv() == "ready"
        os.kill(process.pid, signal.SIGTERM)
        if protected:  # the signal is held: the task goes on when told to
            conn.send("go")
        process.join(120)
    finally:
        if process.is_alive():
            process.kill()
        process.join()
    # either way the process ends by the SIGTERM; only the protected task completed first
    assert process.exitcode == -signal.SIGTERM
    assert os.path.exists(marker) is protected
