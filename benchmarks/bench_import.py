"""Benchmark of ``zdb.db_initializers.load_simrun_general.init`` on a synthetic campaign.

Generates (once, into ``--workdir``) a campaign of ``--folders`` result folders of
``--trials`` trials with ``--samples`` samples per trace (default: 5 x 200 x 4,000, two
dendritic sites, 500 synapses and 400 presynaptic cells per trial), then measures:

- ``parse``: ``pandas.read_csv`` alone parsing every CSV file the import reads, one
  after the other in this process (the voltage-trace files with their header, the
  activation files as 7 (3) tab separated fields);
- ``import``: ``init`` with ``--workers`` workers (dask's threaded scheduler, or with
  ``--distributed`` a local cluster of worker processes), into a new database;
- the database's size and number of files;
- ``read one trial``: ``db['synapse_activation'].loc[<a trial>].compute()``, which reads
  one partition (reads use dask's threaded scheduler);
- ``read voltage_traces``: ``db['voltage_traces'].compute()`` (a dask frame, as in
  ISF) and ``db.get('voltage_traces', lazy=False)`` (pandas directly), against parsing
  the somatic voltage-trace CSV files with ``pandas.read_csv``.

Parse and import are timed in alternation, ``--repeat`` times: on a shared machine the
load changes, so each import is compared with the parse run just before it (the
reported ratio is the median of these pairs); other timings are the best of several
runs. Modules are imported before timing. ISF's own importer needs about 80 s for the
default campaign with 2 workers on such a machine (reference figure; ISF is not run
here).

    python benchmarks/bench_import.py [--workdir DIR] [--repeat 3] [--distributed]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import dask
import dask.dataframe  # noqa: F401  (imported before timing)
import distributed  # noqa: F401  (dask looks for a client at every compute)
import pandas as pd

import zdb
from zdb.db_initializers import load_simrun_general
from zdb.IO import simrun_files
from zdb.synthetic import generate_campaign

#: ISF's importer on the default campaign with 2 workers (seconds)
ISF_IMPORT_SECONDS = 80.0


def campaign(workdir: Path, folders: int, trials: int, samples: int) -> Path:
    """The campaign folder, generated on first use."""
    path = workdir / f"campaign_{folders}x{trials}x{samples}"
    if not (path / ".complete").exists():
        shutil.rmtree(path, ignore_errors=True)
        shutil.rmtree(path.with_name(f"{path.name}_model_files"), ignore_errors=True)
        generate_campaign(path, folders, trials, samples, naming="both")
        (path / ".complete").write_text("")
    return path


def csv_files(path: Path) -> list[Path]:
    """The CSV files the import parses (those of complete result folders)."""
    out = []
    for folder in simrun_files.find_result_folders(path):
        out += sorted(p for p in folder.iterdir() if p.suffix == ".csv")
    return out


def pandas_parse(files: list[Path]) -> None:
    for f in files:
        if f.name.endswith("traces.csv"):
            pd.read_csv(f, sep="\t")
        else:
            pd.read_csv(f, sep="\t", header=None, skiprows=1)


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--folders", type=int, default=5)
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--samples", type=int, default=4000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--distributed", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="write the figures here")
    args = parser.parse_args(argv)
    workdir = args.workdir or Path(tempfile.gettempdir()) / "zdb_bench_import"
    workdir.mkdir(parents=True, exist_ok=True)
    source = campaign(workdir, args.folders, args.trials, args.samples)
    files = csv_files(source)
    csv_bytes = sum(f.stat().st_size for f in files)
    print(f"campaign: {source} ({len(files)} CSV files, {csv_bytes / 1e6:.0f} MB)")

    client = None
    if args.distributed:
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, dashboard_address=None)
        client = Client(cluster)
    db_path = workdir / "db"

    def do_import() -> None:
        db = zdb.DataBase(db_path)
        load_simrun_general.init(db, source, client=client, progress=False)

    parse_runs, import_runs, cpu_runs = [], [], []
    for _ in range(args.repeat):
        parse_runs.append(best(lambda: pandas_parse(files), 1)[0])
        shutil.rmtree(db_path, ignore_errors=True)  # the previous run's, not timed
        cpu = cpu_seconds()
        with dask.config.set(num_workers=args.workers):
            import_runs.append(best(do_import, 1)[0])
        cpu_runs.append(cpu_seconds() - cpu)
    pairs = [i / p for i, p in zip(import_runs, parse_runs, strict=True)]
    parse, imported = min(parse_runs), min(import_runs)
    size, count = disk_usage(db_path)

    if client is not None:
        client.close()
    db = zdb.DataBase(db_path, readonly=True)
    index = db["sim_trial_index"]
    trial = index[len(index) // 2]
    sa = db["synapse_activation"]
    one = sa.loc[trial]
    one_trial, _ = best(lambda: db["synapse_activation"].loc[trial].compute(), 3 * args.repeat)
    soma = [f for f in files if f.name.endswith(simrun_files.VM_ALL_TRACES_SUFFIX)]
    parse_soma, _ = best(lambda: [pd.read_csv(f, sep="\t") for f in soma], args.repeat)
    read_vt, _ = best(lambda: db["voltage_traces"].compute(), 3 * args.repeat)
    eager_vt, _ = best(lambda: db.get("voltage_traces", lazy=False), 3 * args.repeat)

    figures = {
        "csv_files": len(files),
        "csv_mb": round(csv_bytes / 1e6, 1),
        "pandas_parse_s": round(parse, 2),
        "import_s": round(imported, 2),
        "import_runs_s": [round(t, 2) for t in import_runs],
        "parse_runs_s": [round(t, 2) for t in parse_runs],
        "import_over_parse": round(statistics.median(pairs), 2),
        "import_over_parse_pairs": [round(x, 2) for x in pairs],
        "import_cpu_s": round(min(cpu_runs), 2),
        "isf_over_import": round(ISF_IMPORT_SECONDS / imported, 1),
        "db_mb": round(size / 1e6, 1),
        "db_files": count,
        "one_trial_partitions": one.npartitions,
        "one_trial_ms": round(one_trial * 1000, 1),
        "parse_soma_csv_s": round(parse_soma, 3),
        "read_voltage_traces_s": round(read_vt, 3),
        "parse_over_read_vt": round(parse_soma / read_vt, 1),
        "read_voltage_traces_eager_s": round(eager_vt, 3),
        "parse_over_read_vt_eager": round(parse_soma / eager_vt, 1),
        "scheduler": "distributed" if args.distributed else "threads",
        "workers": args.workers,
        "load_average": round(os.getloadavg()[0], 1),
    }
    for name, value in figures.items():
        print(f"{name:>24}: {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
