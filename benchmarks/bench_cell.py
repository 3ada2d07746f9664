"""Benchmark of the ``cell`` dumper against pickling the same dict (ISF's old way).

A cell like ISF's example L5 pyramidal cell after one simulation: 170 sections, 1,142
segments, 431 time points (an irregular CVode time vector, fine steps around spikes),
the 820 kB hoc text of ISF's example morphology (or a generated one of that size), and
synapses of 20 populations with Poisson spike times. Voltages are generated as a
neuron's would be: rest near -70 mV with synaptic fluctuations, somatic action
potentials that propagate into the dendrites with a delay and attenuation growing with
the distance from the soma, each segment with its own noise, in full float64 precision.

Reported, in one run:

1. stored size (every file of the key) / size of ``pickle.dumps`` of the dict (goal
   at most 0.7), also without the synapses;
2. write (``db[key] = cell``) and full read (``db[key]``) times, medians of
   alternating rounds, against ``pickle.dump`` to a file and ``pickle.load`` from it
   (goal: within 3x each);
3. the bytes read through the store when one segment's voltage trace is read from
   the lazy xarray view (``db.get(key, as_xarray=True)["voltage"][i].values``), as a
   fraction of the bytes stored (goal below 1/10), counted in zdb's stores.

Run ``python benchmarks/bench_cell.py --help``; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

import zdb

HOC = (
    Path(__file__).resolve().parent.parent.parent
    / "shared/data/isf_example/anatomical_constraints/86_C2_center.hoc"
)
SECTIONS, SEGMENTS, TIMES, HOC_BYTES = 170, 1142, 431, 820_000
POPULATIONS, SYNAPSES = 20, 3000


def time_vector(rng: np.random.Generator, spikes: list[float]) -> np.ndarray:
    """431 CVode-like time points over 0-30 ms: fine steps around spikes, coarse at rest."""
    grid = np.linspace(0.0, 30.0, 3001)
    density = 1.0 + sum(20.0 * np.exp(-(((grid - s - 0.5) / 1.2) ** 2)) for s in spikes)
    cdf = np.cumsum(density)
    cdf = (cdf - cdf[0]) / (cdf[-1] - cdf[0])
    t = np.interp(np.linspace(0, 1, TIMES), cdf, grid)
    t[1:-1] += rng.normal(0, 1e-4, TIMES - 2)  # solver steps are not on a grid
    return np.sort(t)


def action_potential(x: np.ndarray) -> np.ndarray:
    """An action potential's shape (mV above rest) at times ``x`` after its onset."""
    x = np.clip(x, 0, None)
    return 110.0 * (1 - np.exp(-x / 0.15)) * np.exp(-x / 0.45) - 8.0 * (
        1 - np.exp(-x / 1.0)
    ) * np.exp(-x / 6.0)


def voltages(
    rng: np.random.Generator, t: np.ndarray, spikes: list[float], distances: np.ndarray
) -> np.ndarray:
    """(segments, t) membrane potentials of segments at ``distances`` (µm) from the soma."""
    dt = np.diff(t, prepend=t[0])
    out = np.empty((len(distances), len(t)))
    for j, d in enumerate(distances):
        ou = np.zeros(len(t))  # synaptic input: an Ornstein-Uhlenbeck process, 3 ms
        kicks = rng.normal(size=len(t)) * np.sqrt(dt)
        for i in range(1, len(t)):
            ou[i] = ou[i - 1] * np.exp(-dt[i] / 3.0) + 1.2 * kicks[i]
        delay, attenuation = d / 400.0, np.exp(-d / 600.0)
        aps = sum(action_potential(t - s - delay) for s in spikes) * attenuation
        out[j] = -70.0 + 3.0 * (1 - np.exp(-d / 300.0)) + ou + aps
    return out


def hoc_text(rng: np.random.Generator) -> str:
    if HOC.exists():
        return HOC.read_text()
    lines, n = [], 0
    while n < HOC_BYTES:
        if len(lines) % 300 == 0:
            lines.append(
                f"{{create dend_{len(lines)}}}\n{{access dend_{len(lines)}}}\n{{pt3dclear()}}"
            )
        x, y, z, d = rng.normal(0, 300, 3).tolist() + [abs(rng.normal(2, 1))]
        lines.append(f"{{pt3dadd({x:.6f},{y:.6f},{z:.6f},{d:.6f})}}")
        n += len(lines[-1]) + 1
    return "\n".join(lines) + "\n"


def make_cell(seed: int = 0, synapses: bool = True) -> dict:
    """The cell dict, as ISF's ``cell_to_serializable_object`` gives it."""
    rng = np.random.default_rng(seed)
    spikes = [6.0, 14.5, 22.0]
    t = time_vector(rng, spikes)
    nseg = np.ones(SECTIONS, dtype=int)
    extra = rng.multinomial(SEGMENTS - SECTIONS, np.full(SECTIONS - 1, 1 / (SECTIONS - 1)))
    nseg[1:] += extra
    parents = [None] + [int(rng.integers(0, i)) for i in range(1, SECTIONS)]
    lengths = rng.uniform(20, 150, SECTIONS)
    start = np.zeros(SECTIONS)
    for i in range(1, SECTIONS):
        start[i] = start[parents[i]] + lengths[parents[i]]
    labels = (
        ["Soma"]
        + ["AIS", "Myelin"]
        + ["ApicalDendrite" if i % 3 else "Dendrite" for i in range(3, SECTIONS)]
    )
    distances = np.concatenate(
        [start[i] + (np.arange(n) + 0.5) / n * lengths[i] for i, n in enumerate(nseg)]
    )
    v = voltages(rng, t, spikes, distances)
    offsets = np.concatenate([[0], np.cumsum(nseg)])
    sections = [
        {
            "recVList": [v[k].copy() for k in range(offsets[i], offsets[i + 1])],
            "recordVars": {},
            "label": labels[i],
            "sec_id": i,
            "parent_id": parents[i],
        }
        for i in range(SECTIONS)
    ]
    populations: dict[str, list] = {}
    if synapses:
        for p in range(POPULATIONS):
            populations[
                f"{['L2', 'L34', 'L4py', 'L4sp', 'L5st', 'L5tt', 'L6cc', 'VPM'][p % 8]}_C{p}"
            ] = [
                {
                    "preCell": {
                        "spikeTimes": sorted(rng.uniform(0, 30, rng.poisson(1.5)).tolist())
                    },
                    "coordinates": rng.normal(0, 300, 3),
                }
                for _ in range(SYNAPSES // POPULATIONS)
            ]
    return {
        "sections": sections,
        "tVec": t,
        "parameters": {
            "neuron": {
                "filename": "86_C2_center.hoc",
                "Soma": {"properties": {"Ra": 100.0, "cm": 1.0}},
            },
            "sim": {"tStop": 30.0, "dt": 0.025, "T": 34.0, "Vinit": -75.0},
        },
        "synapses": populations,
        "hoc": hoc_text(rng),
    }


@contextmanager
def counting_reads() -> Iterator[list[int]]:
    """Count the bytes zdb's local store and zarr-python's store over it hand out."""
    from zdb.storage import local, zarr_local

    counted = [0]
    read_with_stat = local.LocalStore.read_with_stat
    get = zarr_local.NoLinkLocalStore.get

    def counting_read(self: Any, path: str) -> Any:
        data, st = read_with_stat(self, path)
        counted[0] += len(data)
        return data, st

    async def counting_get(
        self: Any, key: str, prototype: Any = None, byte_range: Any = None
    ) -> Any:
        found = await get(self, key, prototype, byte_range)
        counted[0] += 0 if found is None else len(found)
        return found

    local.LocalStore.read_with_stat = counting_read  # type: ignore[method-assign]
    zarr_local.NoLinkLocalStore.get = counting_get  # type: ignore[method-assign]
    try:
        yield counted
    finally:
        local.LocalStore.read_with_stat = read_with_stat  # type: ignore[method-assign]
        zarr_local.NoLinkLocalStore.get = get  # type: ignore[method-assign]


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def _timed(f: Any) -> float:
    t0 = time.perf_counter()
    f()
    return time.perf_counter() - t0


def run(rounds: int, scratch: Path) -> dict[str, Any]:
    cell = make_cell()
    db = zdb.DataBase(scratch / "db")
    result: dict[str, Any] = {"load_start": os.getloadavg()[0]}
    times: dict[str, list[float]] = {
        k: [] for k in ("write", "dump", "overwrite", "redump", "read", "load")
    }

    def dump(path: Path) -> None:
        with open(path, "wb") as f:
            pickle.dump(cell, f, protocol=pickle.HIGHEST_PROTOCOL)

    def load(path: Path) -> None:
        with open(path, "rb") as f:
            pickle.load(f)

    db["cell"] = cell
    dump(scratch / "cell.pickle")
    for r in range(rounds):  # a new key (a cell per simulation) and a new file; alternating
        key, path = f"cell{r}", scratch / f"cell{r}.pickle"
        pairs = [
            ("write", lambda k=key: db.__setitem__(k, cell), "dump", lambda p=path: dump(p)),
            (
                "overwrite",
                lambda: db.__setitem__("cell", cell),
                "redump",
                lambda: dump(scratch / "cell.pickle"),
            ),
            ("read", lambda k=key: db[k], "load", lambda p=path: load(p)),
        ]
        for a, fa, b, fb in pairs:
            for name, f in ((a, fa), (b, fb)) if r % 2 == 0 else ((b, fb), (a, fa)):
                times[name].append(_timed(f))
    got = db["cell"]
    assert np.array_equal(got["sections"][5]["recVList"][0], cell["sections"][5]["recVList"][0])
    stored = folder_bytes(Path(db.basedir) / "cell")
    no_synapses = {**cell, "synapses": {}}
    db["bare"] = no_synapses
    i = SEGMENTS // 2
    with counting_reads() as counted:
        trace = db.get("cell", as_xarray=True)["voltage"][i].values
    want = np.concatenate([np.stack(s["recVList"]) for s in cell["sections"]])[i]
    assert trace.view(np.int64).tolist() == want.view(np.int64).tolist()
    result.update({f"{k}_s": statistics.median(v) for k, v in times.items()})
    result.update(
        stored_bytes=stored,
        pickle_bytes=len(pickle.dumps(cell, protocol=pickle.HIGHEST_PROTOCOL)),
        stored_bytes_without_synapses=folder_bytes(Path(db.basedir) / "bare"),
        pickle_bytes_without_synapses=len(
            pickle.dumps(no_synapses, protocol=pickle.HIGHEST_PROTOCOL)
        ),
        one_segment_bytes_read=counted[0],
        hoc_bytes=len(cell["hoc"]),
        segments=sum(len(s["recVList"]) for s in cell["sections"]),
        sections=len(cell["sections"]),
        times=len(cell["tVec"]),
        load_end=os.getloadavg()[0],
    )
    result["size_ratio"] = result["stored_bytes"] / result["pickle_bytes"]
    result["size_ratio_without_synapses"] = (
        result["stored_bytes_without_synapses"] / result["pickle_bytes_without_synapses"]
    )
    result["write_ratio"] = result["write_s"] / result["dump_s"]
    result["overwrite_ratio"] = result["overwrite_s"] / result["redump_s"]
    result["read_ratio"] = result["read_s"] / result["load_s"]
    result["one_segment_fraction"] = result["one_segment_bytes_read"] / result["stored_bytes"]
    return result


def _row(name: str, ours: str, theirs: str, ratio: float, goal: str = "") -> None:
    print(f"{name:36}{ours:>12}{theirs:>12}{ratio:>8.3f}   {goal}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="write/read rounds (default 20)")
    parser.add_argument("--dir", default=None, help="where the scratch folder goes")
    parser.add_argument("--json", default=None, help="also write the figures to this file")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="zdb-bench-cell-", dir=args.dir))
    try:
        r = run(args.rounds, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"cell: {r['sections']} sections, {r['segments']} segments, {r['times']} time points, "
        f"hoc {r['hoc_bytes']:,} bytes ({'ISF example' if HOC.exists() else 'generated'}); "
        f"load {r['load_start']:.1f} -> {r['load_end']:.1f}"
    )
    print(f"{'':36}{'zdb':>12}{'pickle':>12}{'ratio':>8}   goal")
    _row(
        "size (bytes)",
        f"{r['stored_bytes']:,}",
        f"{r['pickle_bytes']:,}",
        r["size_ratio"],
        "<= 0.7",
    )
    _row(
        "size without synapses (bytes)",
        f"{r['stored_bytes_without_synapses']:,}",
        f"{r['pickle_bytes_without_synapses']:,}",
        r["size_ratio_without_synapses"],
    )
    for name, ours, theirs, goal in (
        ("write a new key / file, median (ms)", "write", "dump", "<= 3"),
        ("overwrite, median (ms)", "overwrite", "redump", ""),
        ("full read, median (ms)", "read", "load", "<= 3"),
    ):
        _row(
            name,
            f"{r[ours + '_s'] * 1e3:.1f}",
            f"{r[theirs + '_s'] * 1e3:.1f}",
            r[ours + "_s"] / r[theirs + "_s"],
            goal,
        )
    _row(
        "one segment, lazily (bytes read)",
        f"{r['one_segment_bytes_read']:,}",
        f"{r['stored_bytes']:,}",
        r["one_segment_fraction"],
        "< 0.1 (of the bytes stored)",
    )
    if args.json:
        Path(args.json).write_text(json.dumps(r, indent=2))


if __name__ == "__main__":
    main()
