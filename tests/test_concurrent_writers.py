"""Several processes writing one database at once: nothing is lost, and a key written by
all of them ends with one writer's complete value, never a mix of chunks."""

from __future__ import annotations

import multiprocessing
import os
import threading
import traceback
from typing import Any

import numpy as np

import zdb

N_WRITERS = 4
ROUNDS = 6
#: shape and chunks of the contested array: 16 chunks, so a mix would show
SHAPE, CHUNKS = (16, 16), (4, 4)


def _writer(path: str, writer: int, barrier: Any, errors: Any) -> None:
    """Open (or create) the database at the same moment as the others, write own keys and
    overwrite the shared ones."""
    try:
        barrier.wait(timeout=60)
        db = zdb.DataBase(path)
        for i in range(ROUNDS):
            db[f"w{writer}_{i}"] = np.full(3, writer * 100 + i)
            db["runs", f"w{writer}_{i}"] = {"writer": writer, "round": i}
            db.set("same", np.full(SHAPE, writer, dtype="i4"), chunks=CHUNKS)
            db["same_small"] = np.full(5, writer)
            db["same_value"] = [writer] * 3
    except BaseException:  # reported to the test, which fails with it
        errors.put(f"writer {writer}: {traceback.format_exc()}")
        raise


def _run_writers(path: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(N_WRITERS)
    errors = ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(path, w, barrier, errors)) for w in range(N_WRITERS)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    reported = []
    while not errors.empty():
        reported.append(errors.get())
    assert not reported, reported
    assert [p.exitcode for p in procs] == [0] * N_WRITERS


def _check(db: zdb.DataBase) -> None:
    expected_keys = sorted(
        [f"w{w}_{i}" for w in range(N_WRITERS) for i in range(ROUNDS)]
        + ["runs", "same", "same_small", "same_value"]
    )
    assert db.keys() == expected_keys
    for w in range(N_WRITERS):
        for i in range(ROUNDS):
            np.testing.assert_array_equal(db[f"w{w}_{i}"], np.full(3, w * 100 + i))
            assert db["runs", f"w{w}_{i}"] == {"writer": w, "round": i}
    assert len(db["runs"]) == N_WRITERS * ROUNDS
    same = db["same"]
    assert same.shape == SHAPE
    assert len(np.unique(same)) == 1, "a mix of writers' chunks"
    assert int(same[0, 0]) in range(N_WRITERS)
    small = db["same_small"]
    assert len(np.unique(small)) == 1 and int(small[0]) in range(N_WRITERS)
    value = db["same_value"]
    assert len(set(value)) == 1 and value[0] in range(N_WRITERS)


def test_writers_creating_the_same_new_database_at_once_lose_nothing(tmp_path):
    path = str(tmp_path / "new" / "db")
    _run_writers(path)
    _check(zdb.DataBase(path, readonly=True))


def test_writers_of_an_existing_database_lose_nothing(tmp_path):
    path = str(tmp_path / "db")
    db = zdb.DataBase(path)
    db.set("same", np.full(SHAPE, -1, dtype="i4"), chunks=CHUNKS)
    db.create_sub_db("runs")
    _run_writers(path)
    _check(db)
    # the database stays usable: the contested key can be written and deleted
    db["same"] = np.zeros(2)
    del db["same"]
    assert "same" not in db
    stray = set(os.listdir(path)) - set(db.keys()) - {"zarr.json", ".zdb"}
    assert not stray


def _open_at_once(path: str, n: int) -> list[str | None]:
    """Open (create) the database at ``path`` from ``n`` threads at the same moment; the
    unique ids they see."""
    barrier = threading.Barrier(n)
    opened: list[str | None] = []
    errors: list[BaseException] = []

    def create() -> None:
        barrier.wait(timeout=30)
        try:
            opened.append(zdb.DataBase(path).unique_id)
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=create) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return opened


def test_threads_creating_one_new_database_at_once_agree_on_it(tmp_path):
    for trial in range(30):
        path = str(tmp_path / str(trial) / "db")
        opened = _open_at_once(path, 6)
        assert len(set(opened)) == 1 and opened[0] == zdb.DataBase(path).unique_id
