"""An analysis reads a lazy zdb table in row ranges of whole partitions, fewer than its
partitions (``zdb.tables.row_ranges``), with the same results; a frame derived from
the table is computed by dask, partition by partition."""

from __future__ import annotations

from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zdb
from zdb.analyze import temporal_binning
from zdb.tables import row_ranges

PARTITIONS = 12
ROWS = 500
TIMES = ["0", "1", "2"]


@pytest.fixture(scope="module", params=["dask_to_zarr", "dask_to_parquet"])
def stored(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A table of 12 partitions written with ``dumper``, its pandas frame, and the db."""
    rng = np.random.default_rng(1)
    n = PARTITIONS * ROWS
    frame = pd.DataFrame(
        {"synapse_type": rng.choice(["L5tt_C2", "VPM_C2", "L1_D1"], n)},
        index=pd.RangeIndex(n),
    )
    for c in TIMES:
        frame[c] = np.where(rng.random(n) < 0.6, rng.uniform(0, 50, n), np.nan)
    db = zdb.DataBase(tmp_path_factory.mktemp("ranges") / "db")
    db.set("sa", dd.from_pandas(frame, npartitions=PARTITIONS), dumper=request.param)
    assert db["sa"].npartitions == PARTITIONS
    return db, frame


@pytest.fixture
def two_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(row_ranges, "threads", lambda: 2)


def by_type(sa: Any) -> dict:
    return temporal_binning.by_group(sa, "synapse_type", 5, 0, 50, normalize=False)


def assert_same_groups(got: dict, want: dict) -> None:
    assert list(got) == list(want)
    for key in want:
        np.testing.assert_array_equal(got[key][1], want[key][1])


def test_a_lazy_table_as_read_is_binned_in_two_ranges_per_thread(stored, two_threads):
    db, frame = stored
    sa = db["sa"]
    tasks = row_ranges.map_ranges(sa, len, columns=TIMES, name="zdb-len")
    assert tasks is not None and len(tasks) == 4
    assert sum(dask.compute(*tasks, scheduler="sync")) == len(frame)
    assert_same_groups(by_type(sa), by_type(frame))


def test_a_frame_derived_from_a_lazy_table_is_not_read_in_ranges(stored, two_threads):
    db, frame = stored
    sa = db["sa"]
    for derived in (sa[sa["0"] < 20], sa.partitions[:5], sa[["synapse_type", "0"]]):
        assert row_ranges.lazy_table(derived) is None
        assert row_ranges.map_ranges(derived, len, name="zdb-len") is None
    # the rows kept by a filter are binned, not the table's
    assert_same_groups(by_type(sa[sa["0"] < 20]), by_type(frame[frame["0"] < 20]))


def test_large_tables_are_read_in_ranges_of_about_task_bytes(stored, monkeypatch):
    db, _ = stored
    sa = db["sa"]
    monkeypatch.setattr(row_ranges, "threads", lambda: 1)
    assert row_ranges.tasks(sa, TIMES, row_ranges.lazy_table(sa).ranges) == 2
    # 3 float64 columns of 6,000 rows: 144,000 bytes
    monkeypatch.setattr(row_ranges, "TASK_BYTES", 144_000 // 3)
    assert row_ranges.tasks(sa, TIMES, row_ranges.lazy_table(sa).ranges) == 3
    monkeypatch.setattr(row_ranges, "TASK_BYTES", 1)  # never more tasks than partitions
    assert row_ranges.tasks(sa, TIMES, row_ranges.lazy_table(sa).ranges) == PARTITIONS


def test_an_empty_table_is_one_range(tmp_path, two_threads):
    db = zdb.DataBase(tmp_path / "db")
    empty = pd.DataFrame({"synapse_type": pd.Series([], dtype=object), "0": []})
    db.set("sa", dd.from_pandas(empty, npartitions=1), dumper="dask_to_zarr")
    tasks = row_ranges.map_ranges(db["sa"], len, name="zdb-len")
    assert tasks is not None and dask.compute(*tasks, scheduler="sync") == (0,)


def test_the_threads_of_a_distributed_client_are_counted():
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=3, threads_per_worker=2, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster),
    ):
        assert row_ranges.threads() == 6


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 50), min_size=1, max_size=30), st.integers(1, 40))
def test_coarser_ranges_join_whole_consecutive_ranges(lengths, n):
    bounds = np.concatenate([[7], 7 + np.cumsum(lengths)]).tolist()
    ranges = list(zip(bounds[:-1], bounds[1:], strict=True))
    joined = row_ranges.coarser(ranges, n)
    starts = [a for a, _ in joined]
    assert starts[0] == 7 and joined[-1][1] == bounds[-1]
    assert starts[1:] == [b for _, b in joined[:-1]]  # consecutive, each row once
    assert {b for r in joined for b in r} <= set(bounds)  # whole ranges
    if n >= len(ranges):
        assert joined == ranges
    elif bounds[-1] > 7:
        assert 1 <= len(joined) <= n and all(b > a for a, b in joined)
    else:
        assert joined == [(7, 7)]
