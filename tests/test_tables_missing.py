"""Tables never read a missing part as fill values: in every read mode (eager, lazy,
xarray, ``columns=``) and both layouts, a missing data, index or categories chunk or
Parquet file is ``CorruptKeyError`` naming the key while the pointer still names the
version, and ``KeyChangedError`` once a writer has replaced the key under a view;
auxiliary arrays still leave out chunks that hold only their fill value."""

from __future__ import annotations

import multiprocessing
import os
import time
from typing import Any

import numpy as np
import pandas as pd
import pytest

import zdb
from zdb.exceptions import CorruptKeyError, KeyChangedError

from .test_tables import assert_same

ROWS = 60
CHUNK_ROWS = 10


def versioned_frame(v: int, rows: int = ROWS) -> pd.DataFrame:
    """A frame every value of which says it is version ``v`` (v >= 1): plain, string,
    nullable (missing in the first chunk only: its mask leaves out the other chunks)
    and categorical columns, and an index stored as an array."""
    masked = pd.array([None if i < 3 else v for i in range(rows)], dtype="Int64")
    return pd.DataFrame(
        {
            "i": np.full(rows, v, dtype=np.int64),
            "f": np.full(rows, v + 0.5),
            "s": pd.array([f"v{v}"] * rows, dtype="str"),
            "m": masked,
            "c": pd.Categorical([f"c{v}"] * rows, categories=[f"c{v}", "other"]),
        },
        index=pd.Index(np.arange(rows) + 1000 * v, name="row"),
    )


def version_of(value) -> int:
    """The version a read value (pandas or xarray) is whole of; AssertionError for a
    mix, fill values or anything else."""
    if isinstance(value, pd.DataFrame):
        v = int(value["i"].iloc[0])
        assert v >= 1
        want = versioned_frame(v, len(value))
        assert_same(value, want[list(value.columns)])
        return v
    v = int(value["i"].values[0])  # an xarray Dataset
    assert v >= 1
    np.testing.assert_array_equal(value["i"].values, v)
    np.testing.assert_array_equal(value["row"].values, np.arange(value.sizes["row"]) + 1000 * v)
    if "s" in value:
        assert set(value["s"].values.tolist()) == {f"v{v}"}
    if "m" in value:
        np.testing.assert_array_equal(value["m"].values[3:], v)  # values; the mask is aside
    return v


def remove(db: zdb.DataBase, key: str, *parts: str) -> None:
    path = os.path.join(db.path_of(key), *parts)
    assert os.path.exists(path), path
    os.remove(path)


READS = {
    "eager": lambda db, key, **kw: db.get(key, lazy=False, **kw),
    "lazy": lambda db, key, **kw: db.get(key, lazy=True, **kw).compute(),
    "xarray eager": lambda db, key, **kw: db.get(key, as_xarray=True, lazy=False, **kw),
    "xarray on access": lambda db, key, **kw: db.get(key, as_xarray=True, **kw).load(),
    "xarray lazy": lambda db, key, **kw: db.get(key, as_xarray=True, lazy=True, **kw).load(),
}


@pytest.mark.parametrize("mode", list(READS))
@pytest.mark.parametrize(
    "part,columns",
    [
        (("i", "c", "2"), None),  # a data chunk
        (("s", "c", "5"), ["f", "s"]),  # a string chunk, read by columns=
        (("row", "c", "1"), ["f"]),  # an index chunk
    ],
    ids=["data", "strings-columns", "index-columns"],
)
def test_a_missing_chunk_is_a_corrupt_key_naming_it_in_every_read_mode(
    local_db, mode, part, columns
):
    local_db.set("t", versioned_frame(1), chunk_rows=CHUNK_ROWS)
    local_db["u"] = versioned_frame(2)
    remove(local_db, "t", *part)
    with pytest.raises(CorruptKeyError, match="'t'.*damaged"):
        READS[mode](local_db, "t", columns=columns)
    assert version_of(local_db["u"]) == 2


@pytest.mark.parametrize("mode", ["eager", "lazy"])
def test_a_missing_categories_chunk_is_a_corrupt_key(local_db, mode):
    local_db.set("t", versioned_frame(1), chunk_rows=CHUNK_ROWS)
    remove(local_db, "t", ".zdb", "c", "categories", "values", "c", "0")
    with pytest.raises(CorruptKeyError, match="'t'"):
        READS[mode](local_db, "t", columns=["c"])


@pytest.mark.parametrize("mode", ["eager", "lazy"])
@pytest.mark.parametrize(
    "dumper,part",
    [
        ("pandas_to_parquet", "data.parquet"),
        ("dask_to_parquet", "part.1.parquet"),
        ("pandas_to_parquet", ".zdb/c/categories/values.parquet"),
    ],
)
def test_a_missing_parquet_file_is_a_corrupt_key(local_db, mode, dumper, part):
    frame = versioned_frame(1)
    if dumper == "dask_to_parquet":
        import dask.dataframe as dd

        frame = dd.from_pandas(frame, npartitions=3)
    local_db.set("t", frame, dumper=dumper)
    remove(local_db, "t", *part.split("/"))
    with pytest.raises(CorruptKeyError, match="'t'"):
        READS[mode](local_db, "t")


@pytest.mark.parametrize("mode", ["lazy", "xarray on access", "xarray lazy"])
def test_a_view_opened_before_an_overwrite_raises_key_changed_not_fill_values(db, mode):
    db.set("t", versioned_frame(1), chunk_rows=CHUNK_ROWS)
    if mode == "lazy":
        view = db.get("t", lazy=True)
    else:
        view = db.get("t", as_xarray=True, lazy=True if mode == "xarray lazy" else None)
    db.set("t", versioned_frame(2), chunk_rows=CHUNK_ROWS)
    with pytest.raises(KeyChangedError, match="'t'.*read the key again"):
        view.compute() if mode == "lazy" else view.load()
    assert version_of(db["t"]) == 2


@pytest.mark.parametrize("dumper", ["pandas_to_parquet", "dask_to_parquet"])
def test_a_lazy_parquet_view_opened_before_an_overwrite_raises_key_changed(db, dumper):
    def frame(v: int) -> object:
        if dumper == "pandas_to_parquet":
            return versioned_frame(v)
        import dask.dataframe as dd

        return dd.from_pandas(versioned_frame(v), npartitions=2)

    db.set("t", frame(1), dumper=dumper)
    view = db.get("t", lazy=True)
    db.set("t", frame(2), dumper=dumper)
    with pytest.raises(KeyChangedError, match="'t'"):
        view.compute()
    assert (db.get("t", lazy=False)["i"] == 2).all()


def test_absent_chunks_of_auxiliary_arrays_read_as_fill_values_in_every_mode(db):
    frame = versioned_frame(1)  # missing values in the first of six chunks only
    db.set("t", frame, chunk_rows=CHUNK_ROWS)
    for mode, read in READS.items():
        got = read(db, "t")
        assert version_of(got) == 1, mode
    assert_same(db.get("t", lazy=True, columns=["m"]).compute(), frame[["m"]])


def test_absent_auxiliary_chunks_of_a_replaced_version_raise_key_changed(local_db):
    local_db.set("t", versioned_frame(1), chunk_rows=CHUNK_ROWS)
    view = local_db.get("t", lazy=True, columns=["m"])
    mask = os.path.join(local_db.path_of("t"), ".zdb", "m", "mask", "c")
    assert sorted(os.listdir(mask)) == ["0"]  # the other chunks hold no missing value
    view.compute()  # the pointer still names the version: the absent chunks are false
    local_db.set("other", 1)
    old = local_db.path_of("t")
    local_db.set("t", versioned_frame(2), chunk_rows=CHUNK_ROWS)
    assert not os.path.exists(old)
    with pytest.raises(KeyChangedError, match="'t'"):
        view.compute()


def _overwrite(path: str, first: int, step: int, stop: Any, turn: Any) -> None:
    """Overwrite the key ``t`` with versions first, first + step, ... until ``stop``.
    The writers take ``turn``s, so that each write removes the version it replaced
    (racing writers may leave one for later cleanup), and pause between writes, so
    that eager reads (which retry while the key is replaced under them) get theirs: a
    write takes about 70 ms and an eager read 20 ms on an idle machine, several times
    that on a busy one (two writers pausing 0.1 s starved a reader of all its tries)."""
    db = zdb.DataBase(path)
    v = first
    while not stop.wait(0.3):
        with turn:
            db.set("t", versioned_frame(v), chunk_rows=CHUNK_ROWS)
        v += step


def _replaced(db: zdb.DataBase, version: str, timeout: float) -> bool:
    """Wait until a writer has replaced the version at ``version``."""
    deadline = time.monotonic() + timeout
    while db.path_of("t") == version:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def _removed(path: str, timeout: float) -> None:
    """Wait until the folder ``path`` is gone."""
    deadline = time.monotonic() + timeout
    while os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.002)


def test_views_taken_while_other_processes_overwrite_read_one_version_or_key_changed(
    tmp_path,
):
    db = zdb.DataBase(tmp_path / "db")
    db.set("t", versioned_frame(1), chunk_rows=CHUNK_ROWS)
    writers = 2
    ctx = multiprocessing.get_context("spawn")
    stop, turn = ctx.Event(), ctx.Lock()
    procs = [
        ctx.Process(target=_overwrite, args=(str(tmp_path / "db"), 2 + i, writers, stop, turn))
        for i in range(writers)
    ]
    for p in procs:
        p.start()
    outcomes = {"whole": 0, "changed": 0}
    try:
        assert _replaced(db, db.path_of("t"), 120), "no writer started"
        deadline = time.monotonic() + 2.0
        rounds = 0
        while rounds < 4 or time.monotonic() < deadline:
            views = {
                "eager": lambda: db["t"],
                "lazy": db.get("t", lazy=True).compute,
                "lazy columns": db.get("t", lazy=True, columns=["m", "s"]).compute,
                "xarray eager": (lambda ds: lambda: ds)(db.get("t", as_xarray=True, lazy=False)),
                "xarray on access": db.get("t", as_xarray=True).load,
                "xarray lazy": db.get("t", as_xarray=True, lazy=True, columns=["i", "s"]).load,
            }
            opened_on = db.path_of("t")
            _replaced(db, opened_on, 30)  # the views are of a replaced version now,
            if rounds % 2:  # which is being removed, or (every other round) gone
                _removed(opened_on, 10)
            rounds += 1
            for name, read in views.items():
                try:
                    version_of(read())
                    outcomes["whole"] += 1
                except KeyChangedError:
                    assert name not in ("eager", "xarray eager"), name
                    outcomes["changed"] += 1
    finally:
        stop.set()
        for p in procs:
            p.join(timeout=60)
            if p.is_alive():
                p.kill()
    assert [p.exitcode for p in procs] == [0] * writers
    assert outcomes["whole"] > 0 and outcomes["changed"] > 0, outcomes
    assert version_of(db["t"]) > 1
