"""Benchmark of ``zdb.analyze`` on the synthetic campaign of ``bench_import.py``.

The campaign (default 5 x 200 = 1,000 trials, 500 synapses per trial, 4,000 samples per
trace; ``--shape realistic``: ``bench_import.py``'s barrel-cortex shape, 1,100 synapses
of 270 types per trial with up to 22 activation times) is generated and imported once
into ``--workdir``. Then, for

- ``temporal``: temporal binning of all synapse activations by cell type (the part of
  ``synapse_type`` before ``_``; 1 ms bins over the trial) with
  ``temporal_binning.by_group``, all cell types in one pass,
- ``spatiotemporal``: ``spatiotemporal_binning.universal(sa, 'soma_distance')``
  (50 um x 1 ms bins),
- ``vdensity``: ``voltage_binning.calculate_vdensity_array`` of all somatic traces
  (0.5 mV bins, every time point),

it times, best of ``--repeat``:

- ``pandas``: the zdb function on a pandas frame already in memory, in this process;
- ``pandas+read``: the same including ``db.get(key, lazy=False)``;
- ``dask``: the zdb function on the database's dask frame, on a ``distributed``
  cluster of ``--workers`` worker processes with one thread each (the workers read
  the table in row ranges of whole partitions, two per thread, and the voltage
  traces in groups of time points, each giving its part of the density; only
  histograms come back);
- ``dask scheduler only``: the scheduler's cost: a graph of the same shape on the same
  cluster (a task per row range or group, the same trees of combining tasks, the
  same joined array) whose tasks read nothing and return zeros of their result's size;
- ``dask read only``: the same cluster reading the same row ranges (and groups) and
  returning their lengths, nothing binned;
- ``dask mmap32``: ``dask`` again on workers whose glibc keeps buffers under 32 MiB on
  the heap (``MALLOC_MMAP_THRESHOLD_``, docs/analyze.md);
- ``dask threads``: the zdb function on the dask frame with dask's threaded scheduler
  (``--workers`` threads in this process);
- ``numpy``: the floor, a plain NumPy histogram of the same values already in memory
  as arrays (``numpy.histogram`` per cell type, ``numpy.histogram2d`` for the 2-D
  ones).

Times are reported per million activations (per million voltage samples for
``vdensity``) and as ratios to the NumPy floor. Results are checked to be equal.

The criterion, dask on worker processes against pandas including its reads after the
scheduler's cost, is measured in rounds on the running cluster: each round times
``pandas+read``, ``dask`` and ``dask scheduler only`` one after the other, and the
reported ratio is the median of the rounds' ratios (``..._rounds`` lists them). The
host's speed drifts between the blocks of a best-of-N measurement; a round's three
runs share its conditions, the cluster's idle processes included.

    python benchmarks/bench_analyze.py [--workdir DIR] [--shape realistic] [--repeat 3]
        [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dask
import dask.array
import dask.dataframe  # noqa: F401  (imported before timing)
import distributed
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_import import campaign  # noqa: E402  (the same generated campaign)

import zdb  # noqa: E402
from zdb.analyze import spatiotemporal_binning, temporal_binning, voltage_binning  # noqa: E402
from zdb.analyze._common import per_partition, tree_reduce  # noqa: E402
from zdb.db_initializers import load_simrun_general  # noqa: E402
from zdb.tables import row_ranges  # noqa: E402

T_STOP = 400.0
V_BIN = 0.5


def imported(workdir: Path, source: Path, shape: str) -> zdb.DataBase:
    """The campaign imported into ``workdir/analyze_db`` (``analyze_db_<shape>`` for
    another shape than the default; imported on first use)."""
    name = "analyze_db" if shape == "default" else f"analyze_db_{shape}"
    path = workdir / name
    marker = workdir / f"{name}.complete"
    if not marker.exists():
        import shutil

        shutil.rmtree(path, ignore_errors=True)
        db = zdb.DataBase(path)
        load_simrun_general.init(db, source, parameterfiles=False, progress=False)
        marker.write_text("")
    return zdb.DataBase(path, readonly=True)


def best(
    fn: Callable[[], object], repeat: int, before: Callable[[], None] | None = None
) -> tuple[float, object]:
    """The best time of ``repeat`` calls (``before`` runs untimed before each)."""
    times, result = [], None
    for _ in range(repeat):
        if before is not None:
            before()
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return min(times), result


def rounds(
    runs: tuple[Callable[[], object], ...], repeat: int, before: Callable[[], None]
) -> list[tuple[float, ...]]:
    """``repeat`` rounds, each timing every one of ``runs`` in turn (``before`` runs
    untimed before each run)."""
    out = []
    for _ in range(repeat):
        times = []
        for fn in runs:
            before()
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        out.append(tuple(times))
    return out


def criterion(measured: list[tuple[float, ...]]) -> tuple[float, list[float]]:
    """The median and each round's (dask - scheduler only) / (pandas with reading)."""
    ratios = [round((t_dask - t_sched) / t_read, 2) for t_read, t_dask, t_sched in measured]
    return statistics.median(ratios), ratios


def _tasks_held(dask_scheduler: Any) -> int:
    return len(dask_scheduler.tasks)


@contextmanager
def cluster(workers: int) -> Iterator[Callable[[], None]]:
    """A ``LocalCluster`` of ``workers`` single-threaded processes as dask's scheduler;
    yields a function that waits until the cluster holds no task: it forgets a
    computation's results a little after returning them, and a repeated graph of the
    same keys would reuse them."""
    with (
        distributed.LocalCluster(
            n_workers=workers, threads_per_worker=1, dashboard_address=":0"
        ) as local,
        distributed.Client(local) as client,
    ):

        def forgotten() -> None:
            deadline = time.monotonic() + 10
            while client.run_on_scheduler(_tasks_held) and time.monotonic() < deadline:
                time.sleep(0.01)

        yield forgotten


def celltype(synapse_type: pd.Series) -> np.ndarray:
    """The cell type of each row (before the first ``_``), each distinct type split once."""
    codes, uniques = pd.factorize(synapse_type)
    return np.array([cell_type_of(u) for u in uniques], dtype=object)[codes]


def cell_type_of(synapse_type: str) -> str:
    return str(synapse_type).split("_", 1)[0]


def temporal_by_type(sa: Any) -> dict[str, np.ndarray]:
    """Per cell type, the histogram of its activation times: one pass, pandas or dask
    (grouped by ``synapse_type``, each distinct type mapped to its cell type once)."""
    result = temporal_binning.by_group(
        sa, "synapse_type", 1, 0, T_STOP, normalize=False, relabel=cell_type_of
    )
    return {c: hist for c, (_, hist) in result.items()}


def _empty(i: int, shape: tuple[int, ...]) -> np.ndarray:
    return np.zeros(shape, dtype=np.int64)


def _add(*arrays: np.ndarray) -> np.ndarray:
    """The sum in one new array, as the analyses sum their parts (no stacked copy, so
    the scheduler's cost is not overstated)."""
    total = arrays[0] + arrays[1] if len(arrays) > 1 else arrays[0]
    for more in arrays[2:]:
        total += more
    return total


def empty_graph(
    count: Callable[[], list[tuple[int | None, int]]], shape: tuple[int, ...]
) -> Callable[[], object]:
    """The scheduler's cost: a graph of the analysis' shape (the reading tasks
    ``count()`` says the analysis makes on the active scheduler, as (columns, tasks)
    per group of result columns, the same trees of combining tasks, the groups joined
    as a dask array) whose tasks read nothing and return zeros of the result's shape,
    so that the same bytes travel."""

    def run() -> object:
        groups = count()
        if groups[0][0] is None:  # one result
            parts = [dask.delayed(_empty, pure=False)(i, shape) for i in range(groups[0][1])]
            return dask.compute(tree_reduce(parts, _add))[0]
        blocks = []
        for columns, n in groups:
            part_shape = (*shape[:-1], columns)
            parts = [dask.delayed(_empty, pure=False)(i, part_shape) for i in range(n)]
            summed = tree_reduce(parts, _add)
            blocks.append(dask.array.from_delayed(summed, part_shape, dtype=np.int64))
        return dask.array.concatenate(blocks, axis=-1).compute()

    return run


def floor_histogram(times: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Plain NumPy: the histogram of the times of a (rows x columns) matrix."""
    values = times.ravel()
    return np.histogram(values[~np.isnan(values)], edges)[0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--folders", type=int, default=5)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--shape", choices=["default", "realistic"], default="default")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.gettempdir()) / "zdb_bench_import"
    workdir.mkdir(parents=True, exist_ok=True)
    source = campaign(workdir, args.folders, args.trials, args.samples, args.shape)
    db = imported(workdir, source, args.shape)

    sa_pd = db.get("synapse_activation", lazy=False)
    vt_pd = db.get("voltage_traces", lazy=False)
    time_cols = [c for c in sa_pd.columns if str(c).isdigit()]
    times = sa_pd[time_cols].to_numpy(dtype=np.float64)
    n_act = int((~np.isnan(times)).sum())
    n_samples = vt_pd.size
    ct = celltype(sa_pd["synapse_type"])
    types = sorted(set(ct))
    print(
        f"campaign: {source}\n{len(sa_pd):,} synapse rows, {n_act:,} activations, "
        f"{len(types)} cell types, {vt_pd.shape[0]:,} traces x {vt_pd.shape[1]:,} samples"
    )

    # the floor: NumPy on arrays already in memory
    t_edges = np.arange(0, T_STOP + 1, 1)
    distance = np.repeat(sa_pd["soma_distance"].to_numpy(), times.shape[1])
    flat_t = times.ravel()
    keep = ~np.isnan(flat_t)
    distance, flat_t = distance[keep], flat_t[keep]
    z_edges = np.arange(0, (np.floor(distance.max() / 50) + 2) * 50, 50)
    v = vt_pd.to_numpy()
    v_bins = voltage_binning.get_bins(V_BIN, -100, 50)
    col = np.tile(np.arange(v.shape[1]), v.shape[0])
    floors = {
        "temporal": lambda: {c: floor_histogram(times[ct == c], t_edges) for c in types},
        "spatiotemporal": lambda: np.histogram2d(distance, flat_t, [z_edges, t_edges])[0],
        "vdensity": lambda: np.histogram2d(
            v.ravel(), col, [v_bins, np.arange(v.shape[1] + 1) - 0.5]
        )[0],
    }
    pandas_runs = {
        "temporal": lambda: temporal_by_type(sa_pd),
        "spatiotemporal": lambda: spatiotemporal_binning.universal(
            sa_pd, "soma_distance", 50, 0, T_STOP, 1
        ),
        "vdensity": lambda: voltage_binning.calculate_vdensity_array(vt_pd, V_BIN),
    }
    by_type_cols = ["synapse_type", *time_cols]  # what each analysis reads
    distance_cols = ["soma_distance", *time_cols]
    read = {  # reading only those columns, as the dask versions do
        "temporal": lambda: temporal_by_type(
            db.get("synapse_activation", lazy=False, columns=by_type_cols)
        ),
        "spatiotemporal": lambda: spatiotemporal_binning.universal(
            db.get("synapse_activation", lazy=False, columns=distance_cols),
            "soma_distance",
            50,
            0,
            T_STOP,
            1,
        ),
        "vdensity": lambda: voltage_binning.calculate_vdensity_array(
            db.get("voltage_traces", lazy=False), V_BIN
        ),
    }
    dask_runs = {
        "temporal": lambda: temporal_by_type(db["synapse_activation"]),
        "spatiotemporal": lambda: spatiotemporal_binning.universal(
            db["synapse_activation"], "soma_distance", 50, 0, T_STOP, 1
        ),
        "vdensity": lambda: voltage_binning.calculate_vdensity_array(
            db["voltage_traces"], V_BIN
        ).compute(),
    }

    reads = {  # what each analysis reads: a key and its columns (None: all)
        "temporal": ("synapse_activation", by_type_cols),
        "spatiotemporal": ("synapse_activation", distance_cols),
        "vdensity": ("voltage_traces", None),
    }

    def groups(name: str) -> list[tuple[int | None, list[Any]]]:
        """The tasks in which zdb.analyze reads ``name``'s columns on the active
        scheduler, each returning the number of rows it read, per group of the
        result's columns (the voltage density's) with its number of columns, or in
        one group (None) of tasks that each give the whole result."""
        key, columns = reads[name]
        if name == "vdensity":
            tiles = row_ranges.column_groups(db[key], len, name="zdb-len")
            assert tiles is not None
            return [(len(labels), parts) for labels, parts in tiles]
        return [(None, per_partition(db[key], len, columns=columns))]

    def tasks(name: str) -> list[Any]:
        return [task for _, parts in groups(name) for task in parts]

    read_only = {  # the same row ranges read on the cluster, nothing binned
        name: lambda name=name: dask.compute(*tasks(name)) for name in reads
    }
    shapes = {
        "temporal": (len(types), len(t_edges) - 1),
        "spatiotemporal": (len(z_edges) - 1, len(t_edges) - 1),
        "vdensity": (len(v_bins) - 1, v.shape[1]),
    }
    scheduler_only = {
        name: empty_graph(
            lambda name=name: [(cols, len(parts)) for cols, parts in groups(name)], shapes[name]
        )
        for name in reads
    }
    figures: dict[str, object] = {
        "activations": n_act,
        "voltage_samples": int(n_samples),
        "synapse_partitions": db["synapse_activation"].npartitions,
        "voltage_partitions": db["voltage_traces"].npartitions,
        "workers": args.workers,
        "load_average_start": round(os.getloadavg()[0], 1),
    }
    results: dict[str, dict[str, object]] = {}
    for name in floors:
        per = (n_act if name != "vdensity" else n_samples) / 1e6
        t_floor, r_floor = best(floors[name], args.repeat)
        t_pd, r_pd = best(pandas_runs[name], args.repeat)
        t_read, _ = best(read[name], args.repeat)
        results[name] = {"floor": (t_floor, r_floor), "pandas": (t_pd, r_pd), "read": t_read}
        figures[name] = {
            "numpy_s_per_million": round(t_floor / per, 4),
            "pandas_s_per_million": round(t_pd / per, 4),
            "pandas_with_read_s_per_million": round(t_read / per, 4),
            "pandas_over_numpy": round(t_pd / t_floor, 2),
        }
    with cluster(args.workers) as settle:
        for name in floors:
            per = (n_act if name != "vdensity" else n_samples) / 1e6
            check(name, results[name]["pandas"][1], dask_runs[name](), results[name]["floor"][1])
            measured = rounds(
                (read[name], dask_runs[name], scheduler_only[name]), args.repeat, settle
            )
            t_dask, t_sched = (min(r[i] for r in measured) for i in (1, 2))
            t_cost, _ = best(read_only[name], args.repeat, settle)
            t_pd = results[name]["pandas"][0]
            ratio, ratios = criterion(measured)
            figures[name].update(  # type: ignore[union-attr]
                dask_tasks=len(tasks(name)),
                dask_s_per_million=round(t_dask / per, 4),
                dask_scheduler_only_s=round(t_sched, 4),
                dask_minus_scheduler_over_pandas_with_read=ratio,
                dask_minus_scheduler_over_pandas_with_read_rounds=ratios,
                dask_read_only_s_per_million=round(t_cost / per, 4),
                dask_over_numpy=round(t_dask / results[name]["floor"][0], 2),
                dask_over_pandas=round(t_dask / t_pd, 2),
                dask_over_pandas_with_read=round(t_dask / results[name]["read"], 2),
            )
    # the same workers with glibc's mmap threshold raised (docs/analyze.md): the nanny's
    # MALLOC_TRIM_THRESHOLD_ otherwise maps every buffer over 128 KiB afresh
    environ = "distributed.nanny.pre-spawn-environ.MALLOC_MMAP_THRESHOLD_"
    with dask.config.set({environ: 2**25}), cluster(args.workers) as settle:
        for name in floors:
            per = (n_act if name != "vdensity" else n_samples) / 1e6
            dask_runs[name]()
            measured = rounds(
                (read[name], dask_runs[name], scheduler_only[name]), args.repeat, settle
            )
            ratio, ratios = criterion(measured)
            figures[name].update(  # type: ignore[union-attr]
                dask_mmap32_s_per_million=round(min(r[1] for r in measured) / per, 4),
                dask_mmap32_minus_scheduler_over_pandas_with_read=ratio,
                dask_mmap32_minus_scheduler_over_pandas_with_read_rounds=ratios,
            )
    with dask.config.set(scheduler="threads", num_workers=args.workers):
        for name in floors:
            per = (n_act if name != "vdensity" else n_samples) / 1e6
            t_threads, _ = best(dask_runs[name], args.repeat)
            figures[name].update(  # type: ignore[union-attr]
                dask_threads_s_per_million=round(t_threads / per, 4),
                dask_threads_over_pandas_with_read=round(t_threads / results[name]["read"], 2),
            )
    figures["load_average_end"] = round(os.getloadavg()[0], 1)
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


def check(name: str, pandas_result: object, dask_result: object, floor: object) -> None:
    """The three results of ``name`` are the same histogram."""
    if name == "temporal":
        for c, h in pandas_result.items():  # type: ignore[attr-defined]
            np.testing.assert_array_equal(h, dask_result[c])  # type: ignore[index]
            np.testing.assert_array_equal(h, floor[c])  # type: ignore[index]
        return
    np.testing.assert_array_equal(pandas_result, dask_result)
    f = np.asarray(floor)
    np.testing.assert_array_equal(np.asarray(pandas_result)[: f.shape[0]], f[: len(pandas_result)])


if __name__ == "__main__":
    sys.exit(main())
