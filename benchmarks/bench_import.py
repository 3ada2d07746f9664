"""Benchmark of ``zdb.db_initializers.load_simrun_general.init`` on synthetic campaigns.

Generates (once, into ``--workdir``) a campaign of one of two shapes (``--shape``):

- ``default``: zdb's own campaign, 5 folders x 200 trials x 4,000 samples, two dendritic
  sites, 500 synapses of 12 cell types and 400 presynaptic cells per trial (2,015 CSV
  files, 224 MB);
- ``realistic``: a barrel-cortex campaign as ISF users have them
  (:data:`zdb.synthetic.REALISTIC`): 375 presynaptic cell types named like
  ``L5tt_C2``, 1,100 synapses of 270 types per trial with up to 22 activation times,
  600 presynaptic cells, one dendritic site (2,010 CSV files, about 210 MB);

then measures, in one run:

- ``parse``: ``pandas.read_csv`` alone parsing every CSV file the import reads (the
  voltage-trace files with their header, the activation files as 7 (3) tab separated
  fields), on ``--workers`` processes (the files dealt out in turn; the pool is
  started before timing), and in this one process;
- ``import``: ``init`` with ``--workers`` dask worker threads and, unless
  ``--schedulers threads``, on a ``distributed.LocalCluster`` of ``--workers``
  single-threaded worker processes (started, and the modules the import runs imported
  on them, before timing), each into a new database;
- the database's size and number of files (those of ``synapse_activation`` too);
- ``read one trial``: ``db['synapse_activation'].loc[<a trial>].compute()`` in a fresh
  Python process, timed from opening the database (``zdb.DataBase(path)``) after the
  modules are imported and dask has computed once (a trial of ``cell_activation``), so
  no metadata of the table is cached; and the same again in this process (warm);
- ``read voltage_traces``: ``db['voltage_traces'].compute()`` (a dask frame, as in
  ISF) and ``db.get('voltage_traces', lazy=False)`` (pandas directly), against parsing
  the somatic voltage-trace CSV files with ``pandas.read_csv``.

Parse and imports are timed in alternation, ``--repeat`` times: on a shared machine the
load changes, so each import is compared with the parse run just before it (the
reported ratios are the medians of these pairs, the distributed import against the
threaded one of the same round too); other timings are the best of several runs. The
load average is printed with the figures. ISF's own importer needs about 80 s for the
default campaign with 2 workers on such a machine (reference figure; ISF is not run
here).

    python benchmarks/bench_import.py [--shape realistic] [--workdir DIR] [--repeat 3]
        [--schedulers threads,distributed]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

import dask
import dask.dataframe  # noqa: F401  (imported before timing)
import distributed  # noqa: F401  (dask looks for a client at every compute)
import pandas as pd

import zdb
from zdb.db_initializers import load_simrun_general
from zdb.IO import simrun_files
from zdb.synthetic import REALISTIC, generate_campaign

#: ISF's importer on the default campaign with 2 workers (seconds)
ISF_IMPORT_SECONDS = 80.0


#: the keywords of ``generate_campaign`` of each shape (besides the size)
SHAPES: dict[str, dict[str, Any]] = {
    "default": {},
    "realistic": {
        k: v
        for k, v in REALISTIC.items()
        if k not in ("n_folders", "trials_per_folder", "n_samples")
    },
}


def campaign(
    workdir: Path, folders: int, trials: int, samples: int, shape: str = "default"
) -> Path:
    """The campaign folder, generated on first use."""
    suffix = "" if shape == "default" else f"_{shape}"
    path = workdir / f"campaign_{folders}x{trials}x{samples}{suffix}"
    if not (path / ".complete").exists():
        shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(path.with_name(f"{path.name}_model_files"), ignore_errors=True)
        generate_campaign(path, folders, trials, samples, naming="both", **SHAPES[shape])
        (path / ".complete").write_text("")
    return path


def csv_files(path: Path) -> list[Path]:
    """The CSV files the import parses (those of complete result folders)."""
    out = []
    for folder in simrun_files.find_result_folders(path):
        out += sorted(p for p in folder.iterdir() if p.suffix == ".csv")
    return out


def pandas_parse(files: list[Path]) -> int:
    rows = 0
    for f in files:
        if f.name.endswith("traces.csv"):
            rows += len(pd.read_csv(f, sep="\t"))
        else:
            rows += len(pd.read_csv(f, sep="\t", header=None, skiprows=1))
    return rows


def parallel_parse(pool: ProcessPoolExecutor, files: list[Path], workers: int) -> int:
    """``pandas_parse`` of the files dealt out to ``workers`` processes in turn."""
    return sum(pool.map(pandas_parse, [files[i::workers] for i in range(workers)]))


#: run in a fresh process: open the database and read one trial, after the imports and
#: dask's first computation (a trial of another table, read through another object)
_READ_ONE_TRIAL = """
import sys, time
import dask.dataframe, zdb
zdb.DataBase(sys.argv[1], readonly=True)["cell_activation"].loc[sys.argv[2]].compute()
t0 = time.perf_counter()
db = zdb.DataBase(sys.argv[1], readonly=True)
part = db["synapse_activation"].loc[sys.argv[2]]
df = part.compute()
print(time.perf_counter() - t0, part.npartitions, len(df))
"""


#: the environment this script started with: distributed's LocalCluster leaves
#: ``MALLOC_TRIM_THRESHOLD_`` and ``OMP_NUM_THREADS`` set in this process (for its
#: workers), which would slow down the fresh process reading one trial
_START_ENVIRONMENT = dict(os.environ)


def read_one_trial_fresh(db_path: Path, trial: str, repeat: int) -> tuple[float, int]:
    """Best time of opening the database and reading one trial in a fresh process
    (started with the environment this script was started with)."""
    times, parts = [], 0
    for _ in range(repeat):
        out = subprocess.run(
            [sys.executable, "-c", _READ_ONE_TRIAL, str(db_path), trial],
            check=True,
            capture_output=True,
            text=True,
            env=_START_ENVIRONMENT,
        ).stdout.split()
        times.append(float(out[0]))
        parts = int(out[1])
    return min(times), parts


def best(fn, repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), times


def cpu_seconds() -> float:
    """CPU time of this process (user + system), all threads."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def disk_usage(path: Path) -> tuple[int, int]:
    size = count = 0
    for root, _, names in os.walk(path):
        for name in names:
            size += os.path.getsize(os.path.join(root, name))
            count += 1
    return size, count


#: the goals of these figures: (figure, limit, the shapes it applies to)
GOALS = [
    ("import_threads_over_parse", 1.5, ("default", "realistic")),
    ("import_distributed_over_parse", 1.5, ("default", "realistic")),
    ("distributed_over_threads", 1.2, ("default", "realistic")),
    ("db_threads_files", 2030, ("realistic",)),  # ISF's import of the same campaign
    ("one_trial_fresh_ms", 50, ("default", "realistic")),
]


def goal_lines(figures: dict[str, Any], shape: str) -> list[str]:
    """Each goal of this shape with this run's figure: met, or missed by how much."""
    lines = []
    for name, limit, shapes in GOALS:
        if shape not in shapes or name not in figures:
            continue
        value = figures[name]
        verdict = "met" if value <= limit else f"missed by {100 * (value / limit - 1):.0f} %"
        lines.append(f"{'goal ' + name:>34}: {value} (at most {limit}: {verdict})")
    return lines


def _import_modules() -> None:
    """Import the modules an import runs (on a worker, before timing)."""
    import pyarrow.csv  # noqa: F401

    import zdb.db_initializers.load_simrun_general  # noqa: F401
    import zdb.tables.dask_frames  # noqa: F401


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="default")
    parser.add_argument("--folders", type=int, default=5)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--schedulers",
        default="threads,distributed",
        help="comma separated: threads, distributed (a LocalCluster of worker processes)",
    )
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    schedulers = args.schedulers.split(",")
    if not set(schedulers) <= {"threads", "distributed"}:
        parser.error("--schedulers takes threads and/or distributed")
    workdir = args.workdir or Path(tempfile.gettempdir()) / "zdb_bench_import"
    workdir.mkdir(parents=True, exist_ok=True)
    source = campaign(workdir, args.folders, args.trials, args.samples, args.shape)
    files = csv_files(source)
    csv_bytes = sum(f.stat().st_size for f in files)
    print(f"campaign: {source} ({len(files)} CSV files, {csv_bytes / 1e6:.0f} MB)")
    print(f"load average at start: {os.getloadavg()}")

    client = None
    if "distributed" in schedulers:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None)
        # not the default scheduler: the threaded imports must run on threads
        client = Client(cluster, set_as_default=False)
        # the workers import what the import runs, as this process has (and as the
        # parsing processes do before their timing)
        client.run(_import_modules)
    pool = ProcessPoolExecutor(args.workers)
    parallel_parse(pool, files[: args.workers], args.workers)  # starts the processes
    db_paths = {name: workdir / f"db_{args.shape}_{name}" for name in schedulers}

    def do_import(name: str) -> None:
        db = zdb.DataBase(db_paths[name])
        if name == "distributed":
            load_simrun_general.init(db, source, client=client, progress=False)
        else:
            with dask.config.set(scheduler="threads"):
                load_simrun_general.init(db, source, progress=False)

    parse_runs: list[float] = []
    parse_one_runs: list[float] = []
    import_runs: dict[str, list[float]] = {name: [] for name in schedulers}
    cpu_runs: list[float] = []
    for _ in range(args.repeat):
        parse_one_runs.append(best(lambda: pandas_parse(files), 1)[0])
        parse_runs.append(best(lambda: parallel_parse(pool, files, args.workers), 1)[0])
        for name in schedulers:
            shutil.rmtree(db_paths[name], ignore_errors=True)  # the previous run's, not timed
            cpu = cpu_seconds()
            with dask.config.set(num_workers=args.workers):
                import_runs[name].append(best(partial(do_import, name), 1)[0])
            if name == "threads":
                cpu_runs.append(cpu_seconds() - cpu)
    pool.shutdown()
    if client is not None:
        client.close()
        cluster.close()

    figures: dict[str, Any] = {
        "shape": args.shape,
        "csv_files": len(files),
        "csv_mb": round(csv_bytes / 1e6, 1),
        "workers": args.workers,
        "pandas_parse_s": round(min(parse_runs), 2),
        "pandas_parse_runs_s": [round(t, 2) for t in parse_runs],
        "pandas_parse_one_process_s": round(min(parse_one_runs), 2),
    }
    for name in schedulers:
        runs = import_runs[name]
        pairs = [i / p for i, p in zip(runs, parse_runs, strict=True)]
        size, count = disk_usage(db_paths[name])
        sa_size, sa_count = disk_usage(db_paths[name] / "synapse_activation")
        figures.update(
            {
                f"import_{name}_s": round(min(runs), 2),
                f"import_{name}_runs_s": [round(t, 2) for t in runs],
                f"import_{name}_over_parse": round(statistics.median(pairs), 2),
                f"import_{name}_over_parse_pairs": [round(x, 2) for x in pairs],
                f"db_{name}_mb": round(size / 1e6, 1),
                f"db_{name}_files": count,
                f"synapse_activation_{name}_files": sa_count,
            }
        )
    if "threads" in schedulers:
        figures["import_threads_cpu_s"] = round(min(cpu_runs), 2)
        figures["isf_over_import"] = round(ISF_IMPORT_SECONDS / min(import_runs["threads"]), 1)
    if len(schedulers) == 2:
        pairs = [
            d / t for d, t in zip(import_runs["distributed"], import_runs["threads"], strict=True)
        ]
        figures["distributed_over_threads"] = round(statistics.median(pairs), 2)
        figures["distributed_over_threads_pairs"] = [round(x, 2) for x in pairs]

    db_path = db_paths[schedulers[0]]
    db = zdb.DataBase(db_path, readonly=True)
    index = db["sim_trial_index"]
    trial = index[len(index) // 2]
    one_trial, one_parts = read_one_trial_fresh(db_path, trial, 3 * args.repeat)
    warm, _ = best(lambda: db["synapse_activation"].loc[trial].compute(), 3 * args.repeat)
    soma = [f for f in files if f.name.endswith(simrun_files.VM_ALL_TRACES_SUFFIX)]
    parse_soma, _ = best(lambda: [pd.read_csv(f, sep="\t") for f in soma], args.repeat)
    read_vt, _ = best(lambda: db["voltage_traces"].compute(), 3 * args.repeat)
    eager_vt, _ = best(lambda: db.get("voltage_traces", lazy=False), 3 * args.repeat)
    figures.update(
        {
            "one_trial_partitions": one_parts,
            "one_trial_fresh_ms": round(one_trial * 1000, 1),
            "one_trial_warm_ms": round(warm * 1000, 1),
            "parse_soma_csv_s": round(parse_soma, 3),
            "read_voltage_traces_s": round(read_vt, 3),
            "parse_over_read_vt": round(parse_soma / read_vt, 1),
            "read_voltage_traces_eager_s": round(eager_vt, 3),
            "parse_over_read_vt_eager": round(parse_soma / eager_vt, 1),
            "load_average": [round(x, 1) for x in os.getloadavg()],
        }
    )
    for name, value in figures.items():
        print(f"{name:>34}: {value}")
    for line in goal_lines(figures, args.shape):
        print(line)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
