"""Migrating an ISF database of a simrun import: time, size and files before and after.

ISF's ``load_simrun_general.init`` with its default optimized dumpers (config.py:
``dask_to_msgpack`` for traces, ``dask_to_categorized_msgpack`` for synapse and cell
activation, ``pandas_to_msgpack`` for tables, managed folders for parameter files)
writes a database of about 100 MB in about 2,000 files for 1,000 trials. This script
builds that layout with the dumpers' own file formats (``zdb.testing.isf_writer``: no
ISF needed), migrates it with ``zdb.isf_data_base.migrate`` and prints the figures.

    python benchmarks/bench_isf_migrate.py                 # 1,000 trials
    python benchmarks/bench_isf_migrate.py --trials 200    # a quick run

``--dir`` says where the scratch folder goes (default: the system temp dir); it is
deleted at the end. ``--jobs`` is passed to migrate (default: one per core).
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time

import numpy as np
import pandas as pd

from zdb.testing import isf_writer

TRIALS_PER_FOLDER = 6  # ISF's simulation result folders hold a few trials each
SAMPLES = 9802  # a 245 ms trace at 0.025 ms
SYNAPSES_PER_TRIAL = 400
CELLS_PER_TRIAL = 150
SYNAPSE_TYPES = [f"{c}_C2" for c in ("L2", "L34", "L4py", "L4sp", "L4ss", "L5st", "L5tt", "VPM")]
LABELS = ["Soma", "ApicalDendrite", "BasalDendrite", "Dendrite"]


def _objects(values: list) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _trial_ids(folder: int) -> list[str]:
    return [f"C2_evoked/20150815-1530_{folder:05d}/{t:06d}" for t in range(TRIALS_PER_FOLDER)]


def _as_object(frame: pd.DataFrame) -> pd.DataFrame:
    """Strings in object columns, as pandas 1.x held them (pandas >= 3 infers str)."""
    for c in frame.columns:
        if frame[c].dtype != object and str(frame[c].dtype) in ("str", "string"):
            frame[c] = frame[c].astype(object)
    frame.columns = pd.Index(list(frame.columns), dtype=object)
    return frame


def voltage_part(rng: np.random.Generator, folder: int) -> pd.DataFrame:
    t = np.arange(SAMPLES) * 0.025 + 100
    base = -75 + 5 * np.sin(t[None, :] / 7 + rng.random((TRIALS_PER_FOLDER, 1)))
    spikes = (rng.random((TRIALS_PER_FOLDER, SAMPLES)) < 0.002) * 100
    values = np.round(base + spikes + rng.normal(0, 0.2, base.shape), 6)
    frame = pd.DataFrame(values, columns=t, index=pd.Index(_objects(_trial_ids(folder))))
    frame.index.name = "sim_trial_index"
    frame.columns = pd.Index(t, dtype=float)
    return frame


def activation_part(
    rng: np.random.Generator, folder: int, per_trial: int, kind: str
) -> pd.DataFrame:
    rows = per_trial * TRIALS_PER_FOLDER
    trials = np.repeat(_trial_ids(folder), per_trial)
    n_times = 5
    times = np.where(
        rng.random((rows, n_times)) < np.array([0.6, 0.2, 0.05, 0.01, 0.005]),
        np.round(rng.random((rows, n_times)) * 245, 3),
        np.nan,
    )
    frame = pd.DataFrame(
        {
            f"{kind}_type": _objects(list(rng.choice(SYNAPSE_TYPES, rows))),
            f"{kind}_ID": np.tile(np.arange(per_trial), TRIALS_PER_FOLDER),
            "soma_distance": np.round(rng.random(rows) * 1000, 2),
            "section_ID": rng.integers(0, 200, rows),
            "section_pt_ID": rng.integers(0, 30, rows),
            "dendrite_label": _objects(list(rng.choice(LABELS, rows))),
            **{str(i): times[:, i] for i in range(n_times)},
        },
        index=pd.Index(_objects(list(trials)), name="sim_trial_index"),
    )
    return _as_object(frame)


def build(path: str, trials: int, seed: int = 0) -> str:
    """An ISF database laid out as ``load_simrun_general.init`` leaves it."""
    rng = np.random.default_rng(seed)
    db = isf_writer.create_database(path, unique_id="2024-05-06_4242_SimrunA")
    folders = max(1, trials // TRIALS_PER_FOLDER)
    ids = [i for f in range(folders) for i in _trial_ids(f)]
    isf_writer.write_key(db, "simresult_path", "to_cloudpickle", "/gpfs/results/C2_evoked")
    isf_writer.write_key(db, "filelist", "to_cloudpickle", [f"{i}/vm.csv" for i in ids])
    isf_writer.write_key(db, "sim_trial_index", "to_cloudpickle", ids)
    meta = pd.DataFrame(
        {
            "path": _objects([i.rsplit("/", 1)[0] for i in ids]),
            "trial": _objects([i.rsplit("/", 1)[1] for i in ids]),
            "hash": _objects([f"{hash(i) & 0xFFFFFFFF:08x}" for i in ids]),
        },
        index=pd.Index(_objects(ids), name="sim_trial_index"),
    )
    isf_writer.write_key(db, "metadata", "pandas_to_msgpack", _as_object(meta))
    divisions = [_trial_ids(f)[0] for f in range(folders)] + [_trial_ids(folders - 1)[-1]]
    vt = [voltage_part(rng, f) for f in range(folders)]
    isf_writer.write_key(
        db, "voltage_traces", "dask_to_msgpack", partitions=vt, divisions=divisions
    )
    spikes = pd.DataFrame(
        {0: [float(np.argmax(p.values[i]) * 0.025 + 100) for p in vt for i in range(len(p))]},
        index=meta.index,
    )
    isf_writer.write_key(db, "spike_times", "pandas_to_msgpack", _as_object(spikes))
    del vt
    for key, per_trial, kind in (
        ("synapse_activation", SYNAPSES_PER_TRIAL, "synapse"),
        ("cell_activation", CELLS_PER_TRIAL, "presynaptic_cell"),
    ):
        parts = [activation_part(rng, f, per_trial, kind) for f in range(folders)]
        isf_writer.write_key(
            db, key, "dask_to_categorized_msgpack", partitions=parts, divisions=divisions
        )
    for folder_key, suffix in (
        ("parameterfiles_cell_folder", "neuron_model.param"),
        ("parameterfiles_network_folder", "network_model.param"),
    ):
        files = {
            f"{f:08x}_{suffix}": (f"{{'run': {f}, 'cells': ['L5tt'] * 40}}\n" * 40).encode()
            for f in range(folders)
        }
        isf_writer.write_key(db, folder_key, "just_create_folder", files)
    isf_writer.write_key(
        db, "morphology", "just_create_folder", {"86_C2_center.hoc": b"x" * 200_000}
    )
    isf_writer.write_key(
        db, "dendritic_recordings", "just_create_isf_db", unique_id="2024-05-06_4242_Dendrites"
    )
    sub = os.path.join(db, "dendritic_recordings", "db")
    for site in ("apical_proximal", "apical_distal"):
        parts = [voltage_part(rng, f).iloc[:, ::4] for f in range(folders)]
        isf_writer.write_key(sub, site, "dask_to_msgpack", partitions=parts, divisions=divisions)
    return db


def tree(path: str) -> tuple[int, int]:
    """Bytes and files below ``path``."""
    size = count = 0
    for root, _, files in os.walk(path):
        for name in files:
            size += os.lstat(os.path.join(root, name)).st_size
            count += 1
    return size, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=None)
    parser.add_argument("--dir", default=None)
    args = parser.parse_args()
    from zdb.isf_data_base import migrate

    scratch = tempfile.mkdtemp(prefix="zdb-bench-isf-", dir=args.dir)
    try:
        start = time.perf_counter()
        old = build(os.path.join(scratch, "isf"), args.trials)
        built = time.perf_counter() - start
        before, files_before = tree(old)
        load = os.getloadavg()[0]
        start, cpu = time.perf_counter(), time.process_time()
        report = migrate(
            old, os.path.join(scratch, "zdb"), allow_pickle=True, jobs=args.jobs, progress=False
        )
        took, cpu = time.perf_counter() - start, time.process_time() - cpu
        after, files_after = tree(os.path.join(scratch, "zdb"))
        print(
            f"ISF database of {args.trials} trials: {before / 1e6:.1f} MB in {files_before} "
            f"files (built in {built:.1f} s by this script)"
        )
        print(
            f"migrated in {took:.2f} s, CPU {cpu:.2f} s (all threads): {after / 1e6:.1f} MB "
            f"in {files_after} files ({after / before:.2f}x the size); "
            f"{len(report.converted)} keys converted, {len(report.opaque)} opaque, "
            f"{len(report.failed)} failed; load average {load:.1f} -> {os.getloadavg()[0]:.1f}"
        )
        for key in sorted(os.listdir(os.path.join(scratch, "zdb"))):
            size, count = tree(os.path.join(scratch, "zdb", key))
            print(f"  {key}: {size / 1e6:.1f} MB in {count} files")
        print(
            f"target: under 8 s (a tenth of ISF's ~80 s build), smaller than the original: "
            f"{'met' if took < 8 and after < before else 'NOT met'}"
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
