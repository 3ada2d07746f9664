"""An analysis reads a lazy zdb table in row ranges of whole partitions, fewer than its
partitions (``zdb.tables.row_ranges``), with the same results; a frame derived from
the table is computed by dask, partition by partition. A voltage density reads a wide
table in groups of whole stored chunks of columns, each cell once."""

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


#: the wide table's columns per stored chunk (its 2-D block), and its shape
CHUNK_COLUMNS = 32
WIDE_COLUMNS = 150
WIDE_PARTITIONS = 4
WIDE_ROWS = 50


@pytest.fixture(scope="module")
def wide(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """Voltage traces stored as a 2-D block in chunks of 32 time points (5 chunks of
    columns: 4 x 32 + 22), 4 partitions; the lazy table and its pandas frame."""
    from zdb.tables import plan

    rng = np.random.default_rng(2)
    n = WIDE_PARTITIONS * WIDE_ROWS
    frame = pd.DataFrame(
        rng.normal(-70, 15, (n, WIDE_COLUMNS)).round(2),
        columns=[str(i) for i in range(WIDE_COLUMNS)],
    )
    frame.iloc[3, 5] = np.nan
    db = zdb.DataBase(tmp_path_factory.mktemp("wide") / "db")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(plan, "BLOCK_CHUNK_COLUMNS", CHUNK_COLUMNS)
        patch.setattr(plan, "BLOCK_CHUNK_MIN_BYTES", 1)
        db.set("vt", dd.from_pandas(frame, npartitions=WIDE_PARTITIONS), dumper="dask_to_zarr")
    return db["vt"], frame


def read_tiles(groups: list) -> list[tuple[list, tuple[int, int]]]:
    """The columns and the rows each tile's task read (the tasks return their frames)."""
    tiles = []
    for labels, parts in groups:
        for part in dask.compute(*parts, scheduler="sync"):
            assert list(part.columns) == labels
            tiles.append((labels, (int(part.index[0]), int(part.index[-1]) + 1)))
    return tiles


def assert_whole_chunks_each_cell_once(tiles: list, columns: list, rows: int) -> None:
    cells = np.zeros((rows, WIDE_COLUMNS), dtype=int)
    for labels, (start, stop) in tiles:
        positions = [int(c) for c in labels]
        assert positions == list(range(positions[0], positions[-1] + 1))  # consecutive
        # a group ends where the selection or a stored chunk ends
        assert positions[-1] == int(columns[-1]) or (positions[-1] + 1) % CHUNK_COLUMNS == 0
        cells[start:stop, positions[0] : positions[-1] + 1] += 1
    chosen = [int(c) for c in columns]
    assert (cells[:, chosen] == 1).all() and cells.sum() == rows * len(chosen)


def test_a_wide_table_is_read_in_groups_of_whole_column_chunks(wide, two_threads):
    vt, frame = wide
    groups = row_ranges.column_groups(vt, lambda part: part, name="zdb-tile")
    assert groups is not None
    assert len(groups) == 4  # two per thread, of the 5 chunks of columns
    assert all(len(parts) == 1 for _, parts in groups)  # all rows: few bytes
    assert [c for labels, _ in groups for c in labels] == list(frame.columns)
    assert_whole_chunks_each_cell_once(read_tiles(groups), list(frame.columns), len(frame))


def test_a_selection_of_columns_is_grouped_by_its_stored_chunks(wide, two_threads):
    vt, frame = wide
    chosen = [str(i) for i in range(40, 100)]  # parts of 3 chunks
    groups = row_ranges.column_groups(vt, lambda part: part, columns=chosen, name="zdb-tile")
    assert [labels[0] for labels, _ in groups] == ["40", "64", "96"]
    assert_whole_chunks_each_cell_once(read_tiles(groups), chosen, len(frame))


def test_a_column_group_is_read_in_row_ranges_when_its_bytes_ask(wide, monkeypatch):
    vt, frame = wide
    monkeypatch.setattr(row_ranges, "threads", lambda: 1)
    monkeypatch.setattr(row_ranges, "TASK_BYTES", WIDE_ROWS * CHUNK_COLUMNS * 8)
    groups = row_ranges.column_groups(vt, lambda part: part, name="zdb-tile")
    assert len(groups) == 5  # a group per chunk of columns
    assert [len(parts) for _, parts in groups] == [WIDE_PARTITIONS] * 5
    assert_whole_chunks_each_cell_once(read_tiles(groups), list(frame.columns), len(frame))


def test_only_a_lazy_data_frame_as_read_is_grouped_by_columns(wide, stored):
    vt, _ = wide
    for other in (vt[vt["0"] < -70], vt[["0", "1"]], vt["0"]):
        assert row_ranges.column_groups(other, len, name="zdb-len") is None
    db, _ = stored  # a table whose columns are stored apart: each its own chunk
    groups = row_ranges.column_groups(db["sa"], len, columns=TIMES, name="zdb-len")
    assert [labels for labels, _ in groups] == [[c] for c in TIMES]


def test_the_voltage_density_of_a_wide_table_is_joined_from_its_column_groups(wide, two_threads):
    from zdb.analyze import voltage_binning

    vt, frame = wide
    for xmin, xmax in ((None, None), (40, 99)):
        lazy = voltage_binning.calculate_vdensity_array(vt, 5, -100, 50, xmin, xmax)
        expected = voltage_binning.calculate_vdensity_array(frame, 5, -100, 50, xmin, xmax)
        assert len(lazy.chunks[1]) > 1  # a block of the result per group of columns
        np.testing.assert_array_equal(lazy.compute(scheduler="sync"), expected)
