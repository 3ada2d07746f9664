"""``dask_to_zarr``: a dask frame stores what it computes to, written in parallel by
the active scheduler in whole chunks, and reads back as a dask frame with its
partitions (and divisions); pandas-written keys read lazily the same way."""

from __future__ import annotations

import os
import threading

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import zdb
from zdb.exceptions import DataBaseException
from zdb.tables import dask_frames, pool
from zdb.tables import plan as table_plan
from zdb.testing import DumperRoundTripTests

from .s3_server import OnS3
from .test_tables import ISF_FRAME, assert_same, frames, isf_frames, table_examples


def dask_round_trip(db: zdb.DataBase, ddf: dd.DataFrame | dd.Series, **kwargs) -> None:
    """Store ``ddf``; check what every read gives against what it computes to."""
    want = ddf.compute()
    db.set("t", ddf, **kwargs)
    assert db.metadata["t"]["dumper"] == "dask_to_zarr"
    back = db["t"]
    assert isinstance(back, dd.DataFrame | dd.Series)
    assert back.npartitions == ddf.npartitions
    assert_same(back.compute(), want)
    assert_same(db.get("t", lazy=True).compute(), want)
    assert_same(db.get("t", lazy=False), want)  # in memory when asked for
    if ddf.known_divisions:
        assert back.divisions == ddf.divisions


def flat_frames() -> st.SearchStrategy:
    """Generated frames dask can hold: unique flat column labels, no MultiIndex."""
    return frames(max_rows=12).filter(
        lambda f: (
            not isinstance(f.columns, pd.MultiIndex)
            and f.columns.is_unique
            and not isinstance(f.index, pd.MultiIndex)
        )
    )


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    frame=flat_frames(),
    npartitions=st.integers(1, 4),
    sort=st.booleans(),
    chunk_rows=st.sampled_from([None, 1, 2, 5]),
)
def test_generated_dask_frames_round_trip(tmp_path_factory, frame, npartitions, sort, chunk_rows):
    try:
        ddf = dd.from_pandas(frame, npartitions=npartitions, sort=sort)
        ddf.compute()
    except Exception:  # dtypes, labels or indexes dask itself does not handle
        assume(False)
    dask_round_trip(zdb.DataBase(tmp_path_factory.mktemp("db")), ddf, chunk_rows=chunk_rows)


@pytest.mark.parametrize("npartitions", [1, 2, 3])
@pytest.mark.parametrize(
    "frame", isf_frames(), ids=["ints", "ints-set_index", "bools", "bools-set_index"]
)
def test_isf_mixed_label_fixture_round_trips_in_dask(db, frame, npartitions):
    dask_round_trip(db, dd.from_pandas(frame, npartitions=npartitions))


def test_isf_fixture_set_index_in_dask_keeps_divisions(db):
    ddf = dd.from_pandas(ISF_FRAME, npartitions=3).set_index(0)
    dask_round_trip(db, ddf)
    back = db["t"]
    assert back.known_divisions
    assert_same(back.loc[4].compute(), ddf.loc[4].compute())
    assert back.loc[4].optimize().npartitions == 1


def test_a_series_keeps_its_name_and_partitions(db):
    dask_round_trip(db, dd.from_pandas(ISF_FRAME["myname"], npartitions=2))


def uneven(lengths: tuple[int, ...] = (7, 30, 1, 0, 41, 21)) -> dd.DataFrame:
    """A frame of partitions of uneven lengths, computed on demand."""
    starts = np.cumsum((0, *lengths))[:-1]

    def part(i: int) -> pd.DataFrame:
        rows = np.arange(starts[i], starts[i] + lengths[i])
        return pd.DataFrame(
            {
                "x": rows * 0.5,
                "s": pd.Series([f"r{r}" if r % 3 else None for r in rows], dtype=object),
                "n": pd.array([r if r % 4 else None for r in rows], dtype="Int32"),
                "c": pd.Categorical(
                    [f"k{r % 5}" for r in rows], categories=[f"k{j}" for j in range(5)]
                ),
            },
            index=pd.Index(rows * 10, name="trial"),
        )

    meta = part(0).iloc[:0]
    return dd.from_map(part, range(len(lengths)), meta=meta, enforce_metadata=False)


@pytest.mark.parametrize("chunk_rows", [1, 4, 9, 64, None])
def test_uneven_partitions_are_written_in_whole_chunks(local_db, chunk_rows):
    dask_round_trip(local_db, uneven(), chunk_rows=chunk_rows)
    dask_round_trip(local_db, uneven(lengths=(7, 30, 1, 41, 21)), chunk_rows=chunk_rows)
    assert local_db["t"].known_divisions  # the index is sorted, so they were found


def test_uneven_partitions_are_written_to_any_store(db):
    dask_round_trip(db, uneven(), chunk_rows=9)


@pytest.mark.parametrize("rows", [1, 8, 30, 200])
def test_write_tasks_cover_every_row_once_in_whole_chunks(rows):
    lengths = [7, 30, 1, 0, 41, 21]
    nrows = sum(lengths)
    offsets = np.cumsum([0, *lengths])
    parts = [pd.DataFrame({"row": np.arange(offsets[i], offsets[i + 1])}) for i in range(6)]
    calls = []

    def write(row_start: int, expected: int, *pieces: pd.DataFrame) -> int:
        calls.append((row_start, expected, len(pieces)))
        got = np.concatenate([p["row"].to_numpy() for p in pieces])
        np.testing.assert_array_equal(got, np.arange(row_start, row_start + expected))
        return expected

    tasks = dask_frames.write_tasks(lengths, rows, [dask.delayed(p) for p in parts], write)
    dask.compute(*[dask.delayed(t) for t in tasks], scheduler="synchronous")
    covered = np.zeros(nrows, dtype=int)
    for start, n, pieces in calls:
        assert start % rows == 0 and (n % rows == 0 or start + n == nrows)
        covered[start : start + n] += 1
        whole = sum(
            1
            for o, ln in zip(offsets, lengths, strict=False)
            if start <= o and o + ln <= start + n and ln
        )
        assert pieces <= whole + 2  # a task reads the partitions it overlaps, no more
    assert (covered == 1).all()


def _rows_frame(bounds: tuple[int, int]) -> pd.DataFrame:
    return pd.DataFrame({"row": np.arange(*bounds)}, index=pd.RangeIndex(*bounds))


def _check_rows(row_start: int, expected: int, part: pd.DataFrame) -> tuple[int, int]:
    np.testing.assert_array_equal(
        part["row"].to_numpy(), np.arange(row_start, row_start + expected)
    )
    return row_start, expected


def test_partitions_on_file_boundaries_are_made_and_written_by_one_task_each():
    bounds = [(0, 40), (40, 80), (80, 100)]
    ddf = dd.from_map(_rows_frame, bounds, meta=_rows_frame((0, 0)), enforce_metadata=False)
    tasks = dask_frames.fused_writes(ddf, [40, 40, 20], 20, _check_rows)
    assert tasks is not None and len(tasks) == 3
    graph = dict(tasks[0].__dask_graph__())
    # reading and writing a partition are one task: no task result holds a partition
    assert sorted(graph) == sorted(t.key for t in tasks)
    assert dask.compute(*tasks, scheduler="synchronous") == ((0, 40), (40, 40), (80, 20))


def test_a_partition_starting_inside_a_file_is_written_with_its_neighbour():
    bounds = [(0, 30), (30, 60)]
    ddf = dd.from_map(_rows_frame, bounds, meta=_rows_frame((0, 0)), enforce_metadata=False)
    assert dask_frames.fused_writes(ddf, [30, 30], 20, _check_rows) is None


def test_equal_partitions_get_chunks_that_divide_them():
    assert table_plan.aligned_chunk_rows([1000, 1000, 1000, 10], 400) == 250
    assert table_plan.aligned_chunk_rows([1000, 1000], 5000) == 1000
    assert table_plan.aligned_chunk_rows([1009, 1009], 100) == 100  # prime: no divisor
    assert table_plan.aligned_chunk_rows([3, 5, 3], 100) == 100


def test_short_equal_partitions_are_grouped_into_chunks_of_whole_partitions():
    assert table_plan.aligned_chunk_rows([100] * 10, 5000, 350) == 400
    assert table_plan.aligned_chunk_rows([100] * 10, 250, 350) == 200  # at most largest
    assert table_plan.aligned_chunk_rows([100] * 3, 5000, 350) == 300  # at most all rows
    assert table_plan.aligned_chunk_rows([1000, 1000], 5000, 350) == 1000


@pytest.mark.parametrize("dumper", ["dask_to_zarr", "dask_to_parquet"])
def test_a_dask_write_plans_its_table_once_with_chunks_dividing_the_partitions(
    local_db, monkeypatch, dumper
):
    plans = []

    def spy(*args, **kwargs):
        plans.append(table_plan.plan_table(*args, **kwargs))
        return plans[-1]

    monkeypatch.setattr(dask_frames, "plan_table", spy)
    frame = pd.DataFrame({"x": np.arange(60_010.0)})
    local_db.set("t", dd.from_pandas(frame, chunksize=20_000), dumper=dumper)
    assert len(plans) == 1
    if dumper == "dask_to_zarr":
        assert plans[0].chunk_rows == 20_000 and plans[0].table["source"] == "dask"
    assert_same(local_db["t"].compute(), frame)


def test_unknown_categories_are_unified_as_dask_computes_them(db):
    frame = pd.DataFrame({"c": pd.Categorical(list("abcabcd")), "v": range(7)})
    ddf = dd.from_pandas(frame, npartitions=3).map_partitions(
        lambda p: p.assign(c=p["c"].cat.remove_unused_categories())
    )
    ddf["c"] = ddf["c"].cat.as_unknown()
    assert not ddf["c"].cat.known
    dask_round_trip(db, ddf)


@pytest.mark.parametrize("scheduler", ["threads", "processes", "synchronous"])
def test_writes_and_reads_run_on_any_local_scheduler(local_db, scheduler):
    # forked workers start faster than spawned ones; zdb's thread pool survives forks
    with dask.config.set({"scheduler": scheduler, "multiprocessing.context": "fork"}):
        dask_round_trip(local_db, uneven(), chunk_rows=8)


def test_writes_and_reads_run_on_a_distributed_cluster(local_db):
    db = local_db
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster),
    ):
        dask_round_trip(db, uneven(), chunk_rows=8)
        db["p"] = ISF_FRAME
        assert_same(db.get("p", lazy=True).compute(), ISF_FRAME)


def test_a_partition_that_does_not_match_the_meta_is_refused(db):
    def part(i: int) -> pd.DataFrame:
        return pd.DataFrame({"x": [1.5, 2.5] if i else [1, 2]})

    ddf = dd.from_map(part, range(2), meta=pd.DataFrame({"x": pd.Series([], dtype="int64")}))
    with pytest.raises(DataBaseException, match="dtype float64"):
        db.set("t", ddf, dumper="dask_to_zarr")
    assert "t" not in db


def test_a_frame_computing_different_rows_each_time_is_refused(db):
    calls = []

    def part(i: int) -> pd.DataFrame:
        calls.append(i)
        return pd.DataFrame({"x": np.arange(len(calls), dtype=float)})

    ddf = dd.from_map(part, range(2), meta=pd.DataFrame({"x": pd.Series([], dtype=float)}))
    with pytest.raises(DataBaseException, match="same data every time"):
        db.set("t", ddf, chunk_rows=1)


def counted(lengths: tuple[int, ...]) -> tuple[dd.DataFrame, list[int]]:
    """A frame with a sorted str index and known divisions, and the list of the
    partitions it computed (in this process: run it with a local scheduler)."""
    calls: list[int] = []
    starts = np.cumsum((0, *lengths))[:-1]

    def part(i: int) -> pd.DataFrame:
        calls.append(i)
        rows = np.arange(starts[i], starts[i] + lengths[i])
        return pd.DataFrame({"x": rows * 0.5}, index=pd.Index([f"t{r:04d}" for r in rows]))

    meta = pd.DataFrame({"x": pd.Series([], dtype=float)}, index=pd.Index([], dtype="str"))
    divisions = (*(f"t{s:04d}" for s in starts), f"t{sum(lengths) - 1:04d}")
    ddf = dd.from_map(part, range(len(lengths)), meta=meta, divisions=divisions)
    return ddf, calls


DASK_DUMPERS = ["dask_to_zarr", "dask_to_parquet"]


@pytest.mark.parametrize("dumper", DASK_DUMPERS)
def test_given_partition_lengths_save_the_first_pass(local_db, dumper):
    ddf, calls = counted((5, 7, 3))
    with dask.config.set(scheduler="threads"):
        want = ddf.compute()
        calls.clear()
        local_db.set("t", ddf, dumper=dumper, lengths=[5, 7, 3])
        assert sorted(calls) == [0, 1, 2]  # each partition computed once
        assert_same(local_db["t"].compute(), want)
        assert local_db["t"].divisions == ddf.divisions
        calls.clear()
        local_db.set("u", ddf, dumper=dumper)
        assert sorted(calls) == [0, 0, 1, 1, 2, 2]  # without: the first pass as well


def test_read_partitions_other_than_the_written_ones_are_stored_without_a_first_pass(local_db):
    ddf, calls = counted((8, 8, 4))
    with dask.config.set(scheduler="threads"):
        want = ddf.compute()
        calls.clear()
        # written in chunk-aligned ranges of 8 rows, read in partitions of whole labels
        local_db.set(
            "t",
            ddf.clear_divisions(),
            dumper="dask_to_zarr",
            lengths=[8, 8, 4],
            chunk_rows=8,
            read_partitions=([5, 11, 4], ["t0000", "t0005", "t0016", "t0019"]),
        )
        assert sorted(calls) == [0, 1, 2]  # each range computed once, no first pass
        back = local_db["t"]
        assert back.divisions == ("t0000", "t0005", "t0016", "t0019")
        assert [len(p) for p in back.partitions] == [5, 11, 4]
        assert_same(back.compute(), want)
    with pytest.raises(DataBaseException, match="one division more than partitions"):
        local_db.set(
            "u", ddf, dumper="dask_to_zarr", lengths=[8, 8, 4], read_partitions=([20], ["t0000"])
        )


@pytest.mark.parametrize("dumper", DASK_DUMPERS)
def test_wrong_partition_lengths_are_refused_and_nothing_is_stored(local_db, dumper):
    ddf, _ = counted((5, 7, 3))
    with pytest.raises(DataBaseException, match="3 partitions"):
        local_db.set("t", ddf, dumper=dumper, lengths=[5, 10])
    with pytest.raises(DataBaseException, match=r"not \d+ as in the first pass or the lengths"):
        local_db.set("t", ddf, dumper=dumper, lengths=[5, 8, 2])
    assert "t" not in local_db


def test_pandas_written_keys_read_lazily_with_partitions_and_divisions(db, monkeypatch):
    monkeypatch.setattr(table_plan, "PARTITION_BYTES", 200)
    frame = pd.DataFrame({"x": np.arange(100.0), "s": ["a"] * 100}, index=np.arange(100) * 2)
    db.set("t", frame, chunk_rows=7)
    lazy = db.get("t", lazy=True)
    assert lazy.npartitions > 3 and lazy.known_divisions
    assert_same(lazy.compute(), frame)
    assert lazy["s"].dtype == frame["s"].dtype
    with dask.config.set({"dataframe.convert-string": True}):
        assert_same(db.get("t", lazy=True, columns=["s"]).compute(), frame[["s"]])
    obj = frame.astype({"s": object})
    db["o"] = obj
    with dask.config.set({"dataframe.convert-string": True}):
        assert_same(db.get("o", lazy=True).compute(), obj)


@pytest.mark.local_files
@pytest.mark.parametrize("dumper", DASK_DUMPERS)
def test_a_failing_partition_leaves_no_key_and_no_half_written_version(db, dumper):
    def part(i: int) -> pd.DataFrame:
        if i == 5:
            raise ValueError("simulation 5 crashed")
        return pd.DataFrame({"x": np.arange(50.0) + 50 * i})

    ddf = dd.from_map(part, range(8), meta=pd.DataFrame({"x": pd.Series([], dtype=float)}))
    with pytest.raises(DataBaseException, match="simulation 5 crashed"):
        db.set("t", ddf, dumper=dumper)
    assert "t" not in db
    key_folder = os.path.join(db.basedir, "t")
    leftovers = os.listdir(key_folder) if os.path.exists(key_folder) else []
    assert [n for n in leftovers if n.startswith(".v")] == []


def test_concurrent_lazy_reads_leave_dask_string_conversion_as_it_was(db):
    import threading

    db["t"] = pd.DataFrame({"x": np.arange(10.0), "s": ["a"] * 10})
    before = dask.config.get("dataframe.convert-string", None)

    def read() -> None:
        for _ in range(50):
            db.get("t", lazy=True)

    threads = [threading.Thread(target=read) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert dask.config.get("dataframe.convert-string", None) == before


class TestDaskToZarrRoundTrip(DumperRoundTripTests):
    dumper = "dask_to_zarr"
    examples = {
        name: dd.from_pandas(frame, npartitions=3)
        for name, frame in table_examples().items()
        if name in ("mixed", "traces", "series", "isf")
    }
    refused = {"intervals": dd.from_pandas(pd.DataFrame({"x": pd.interval_range(0, 4)}), 2)}
    lazy = True
    xarray = True

    def assert_same(self, got, want):
        assert_same(got, want.compute())


class TestDaskToZarrRoundTripOnS3(OnS3, TestDaskToZarrRoundTrip):
    pass


#: the threads that read files of a ThreadRecordingStore
READ_THREADS: set[int] = set()


class ThreadRecordingStore(zdb.storage.LocalStore):
    """A local store noting the thread of every file read in READ_THREADS."""

    def read_bytes(self, path: str) -> bytes:
        READ_THREADS.add(threading.get_ident())
        return super().read_bytes(path)


@pytest.mark.parametrize("npartitions", [1, 16])
def test_a_frame_of_a_partition_per_core_decompresses_in_the_tasks_thread(
    tmp_path, monkeypatch, npartitions
):
    monkeypatch.setattr(pool, "cores", lambda: 4)
    store = ThreadRecordingStore(tmp_path)
    frame = pd.DataFrame({f"c{i}": np.arange(64.0) * i for i in range(6)})
    dask_frames.write_zarr(store, "t", dd.from_pandas(frame, npartitions=npartitions))
    lazy = dask_frames.read_lazy(store, "t")
    READ_THREADS.clear()
    pd.testing.assert_frame_equal(lazy.compute(scheduler="sync"), frame, check_index_type=False)
    in_task = READ_THREADS == {threading.get_ident()}
    assert in_task == (npartitions >= 4)


def test_a_key_read_twice_gives_one_lazy_frame_until_it_is_replaced(local_db):
    frame = pd.DataFrame({"a": np.arange(10.0), "b": np.arange(10.0) * 2})
    local_db.set("t", dd.from_pandas(frame, npartitions=2), dumper="dask_to_zarr")
    first = local_db["t"]
    # dask builds a frame's meta once per table: each read is a copy of one expression
    assert local_db["t"].expr is first.expr
    assert local_db.get("t", columns=["a"]).expr is local_db.get("t", columns=["a"]).expr
    assert list(local_db.get("t", columns="a").columns) == ["a"]
    assert local_db.get("t", columns=["a"]).expr is not first.expr
    first["c"] = first["a"] + 1  # changes this copy only
    assert list(local_db["t"].columns) == ["a", "b"]
    local_db["t"] = dd.from_pandas(frame * 3, npartitions=2)
    assert local_db["t"].expr is not first.expr
    pd.testing.assert_frame_equal(local_db["t"].compute(), frame * 3, check_index_type=False)
