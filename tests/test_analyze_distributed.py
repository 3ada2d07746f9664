"""zdb.analyze on dask never moves a table to one place: each row range of a stored table
(whole partitions, two per thread) is read and binned by one task that reads no other
range and returns no frame (the rows are never a task's result), only histograms reach
the tasks that combine them, and on a distributed cluster of two workers the bytes
that travel between workers are those of histograms, far less than one partition."""

from __future__ import annotations

from typing import Any

import dask
import numpy as np
import pandas as pd
import pytest
from dask.callbacks import Callback

import zdb
from zdb.analyze import spatiotemporal_binning, temporal_binning, voltage_binning
from zdb.analyze.spatial_binning import spatial_binning
from zdb.tables import dask_frames, row_ranges

PARTITIONS = 8
ROWS = 4_000
#: threads the analyses are planned for
THREADS = 2
TIME_COLUMNS = [str(i) for i in range(10)]

RUNS = {
    "temporal": lambda sa, **kw: temporal_binning.temporal_binning_dask(sa, 1, 0, 100, **kw),
    "by_group": lambda sa, **kw: temporal_binning.by_group(
        sa, "synapse_type", 1, 0, 100, relabel=lambda t: t.split("_")[0], **kw
    ),
    "spatiotemporal": lambda sa, **kw: spatiotemporal_binning.universal(
        sa, "soma_distance", 50, 0, 100, 1, **kw
    ),
    "spatial": lambda sa, **kw: spatial_binning(sa, 0, 100, 50, **kw),
    "vdensity": lambda sa, **kw: voltage_binning.calculate_vdensity_array(
        sa[TIME_COLUMNS], 1, 0, 100
    ).compute(**kw),
}


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, int]:
    """A synapse-activation table of 8 partitions stored in zdb, read back lazily, and
    the bytes of its largest partition in memory."""
    import dask.dataframe as dd

    rng = np.random.default_rng(0)
    n = PARTITIONS * ROWS
    frame = pd.DataFrame(
        {
            "synapse_type": rng.choice(["L5tt_C2", "VPM_C2", "L1_D1", "SymLocal1_C2"], n),
            "soma_distance": rng.uniform(0, 400, n).round(1),
            "dendrite_label": rng.choice(["ApicalDendrite", "Dendrite", "Soma"], n),
        }
    )
    for c in TIME_COLUMNS:
        frame[c] = np.where(rng.random(n) < 0.5, rng.uniform(0, 100, n), np.nan)
    db = zdb.DataBase(tmp_path_factory.mktemp("analyze") / "db")
    db.set("sa", dd.from_pandas(frame, npartitions=PARTITIONS), dumper="dask_to_zarr")
    sa = db["sa"]
    assert sa.npartitions == PARTITIONS
    parts = dask.compute(*sa.to_delayed(), scheduler="sync")
    largest = max(int(p.memory_usage(deep=True).sum()) for p in parts)
    return sa, largest


class Recorder(Callback):
    """Records the graph dask runs, the result of every task, and the row ranges of
    the stored table each task reads (through zdb's partition reader)."""

    def __init__(self) -> None:
        super().__init__()
        self.graphs: list[dict] = []
        self.results: dict[Any, Any] = {}
        self.reads: list[tuple[Any, tuple[int, int]]] = []
        self.current: Any = None

    def _start(self, dsk: dict) -> None:
        self.graphs.append(dict(dsk))

    def _pretask(self, key: Any, dsk: dict, state: Any) -> None:
        self.current = key

    def _posttask(self, key: Any, result: Any, dsk: dict, state: Any, worker_id: Any) -> None:
        self.results[key] = result


def dependencies(graph: dict, key: Any) -> set:
    node = graph[key]
    found = getattr(node, "dependencies", None)
    return set(found) if found is not None else dask.core.get_dependencies(graph, key)


@pytest.mark.parametrize("name", list(RUNS))
def test_each_row_range_is_binned_by_one_task_and_only_histograms_are_combined(
    stored, name, monkeypatch
):
    sa, largest = stored
    recorder = Recorder()
    reader = dask_frames.PartitionReader.__call__

    def recording(self, rows, columns=None):  # noqa: ANN001, ANN202
        recorder.reads.append((recorder.current, tuple(rows)))
        return reader(self, rows, columns)

    monkeypatch.setattr(dask_frames.PartitionReader, "__call__", recording)
    monkeypatch.setattr(row_ranges, "threads", lambda: THREADS)
    # the graph as zdb builds it (a lazy dask array's compute would fuse more)
    unfused = {"optimize_graph": False} if name == "vdensity" else {}
    with recorder:
        RUNS[name](sa, scheduler="sync", **unfused)
    ranges = sorted(rows for _, rows in recorder.reads)
    # the table as read is read in fewer ranges than partitions (2 per thread); a
    # frame derived from it (vdensity's column selection) by partition
    assert len(ranges) == (PARTITIONS if name == "vdensity" else 2 * THREADS)
    bounds = {ROWS * i for i in range(PARTITIONS + 1)}
    assert all(start in bounds and stop in bounds for start, stop in ranges)
    # each row read once
    assert [start for start, _ in ranges] == [0, *(stop for _, stop in ranges[:-1])]
    assert ranges[-1][1] == PARTITIONS * ROWS
    readers = [key for key, _ in recorder.reads]
    assert len(set(readers)) == len(readers)  # no task reads two ranges
    assert not any(isinstance(v, pd.DataFrame) for v in recorder.results.values())
    graph = {k: v for g in recorder.graphs for k, v in g.items()}
    for key in set(graph) - set(readers):  # a combining task: histograms only
        received = max((nbytes(recorder.results[k]) for k in dependencies(graph, key)), default=0)
        assert received < largest / 10, f"{key} receives an input of {received} bytes"


def nbytes(value: Any) -> int:
    """The bytes of the arrays in a task's result (histograms, counts, dicts of them)."""
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(nbytes(v) for v in value.values())
    if isinstance(value, list | tuple):
        return sum(nbytes(v) for v in value)
    if isinstance(value, pd.DataFrame | pd.Series):
        return int(value.memory_usage(deep=True).sum()) if value.ndim == 2 else value.nbytes
    return 8


def test_on_two_workers_only_histograms_travel_between_workers(stored):
    distributed = pytest.importorskip("distributed")
    sa, largest = stored
    expected = {name: run(sa, scheduler="sync") for name, run in RUNS.items()}
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        for name, run in RUNS.items():
            got = run(sa) if name == "vdensity" else run(sa, client=client)
            assert_same(got, expected[name])
        logs = client.run(lambda dask_worker: list(dask_worker.transfer_incoming_log))
        ran = client.run(lambda dask_worker: len(dask_worker.state.log))
    moved = [entry["total"] for log in logs.values() for entry in log]
    assert all(n > 0 for n in ran.values())  # both workers took part
    assert moved and max(moved) < largest / 10
    assert sum(moved) < largest


def assert_same(got: Any, want: Any) -> None:
    if isinstance(want, dict):
        assert list(got) == list(want)
        for k in want:
            assert_same(got[k], want[k])
    elif isinstance(want, tuple):
        for a, b in zip(got, want, strict=True):
            assert_same(a, b)
    else:
        np.testing.assert_array_equal(got, want)
