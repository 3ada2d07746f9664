"""Core benchmark of zdb against plain zarr-python and ISF's ``data_base``.

Measures, on the local disk, in one run:

1. a large float64 array (1 GiB) written and read through zdb (``db.set``/``db[key]``)
   and through plain zarr-python with identical shape, chunks and codec, alternating
   which goes first each round; reports medians and the zdb/zarr ratios (target 1.05);
2. per-key costs of 1,000 small keys (an int, a 1,000-element float64 array): set and
   get, and opening a database and listing its keys, both in this process and in fresh
   Python processes; compared with reference figures of ISF's ``data_base``;
3. the same per-key write and read of small arrays through plain zarr-python;
4. small array keys side by side with ISF's ``numpy_to_npy`` layout (written as ISF
   wrote it, by ``zdb.testing.isf_writer``) on the same disk and on a tmpfs: set, get
   and list, interleaved key by key, in several rounds, with the folders and files each
   key takes.

Run ``python benchmarks/bench_core.py --help``; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np
import zarr
import zarr.codecs

import zdb
from zdb.testing import isf_writer

#: ISF ``data_base`` on this kind of machine, in ms: (low, high) of what it takes
ISF_REFERENCE_MS: dict[str, tuple[float, float]] = {
    "set int": (0.3, 3.0),
    "set array": (0.3, 3.0),
    "get int": (0.065, 0.065),
    "get array": (0.14, 0.14),
    "open+list": (130.0, 170.0),
}
#: the large-array target: zdb may take at most this much longer than plain zarr
TARGET_RATIO = 1.05
#: columns of the large array; its rows follow from the requested size
BIG_COLUMNS = 8192
BIG_CHUNKS = (1024, 1024)  # 8 MiB of float64 per chunk
SMALL_ARRAY_SIZE = 1000
#: write+read pairs of a one-chunk array that measure zdb's fixed per-call overhead
OVERHEAD_REPEATS = 30


def _codec() -> zarr.codecs.ZstdCodec:
    """The compressor both sides use: zarr-python's default for float64, made explicit."""
    return zarr.codecs.ZstdCodec(level=0, checksum=False)


def _zdb_revision() -> str:
    """The git commit of the zdb being measured, with "+changes" when zdb/ has edits."""
    src = Path(zdb.__file__).resolve().parent

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=src, capture_output=True, text=True, check=True
        ).stdout.strip()

    try:
        head = git("rev-parse", "--short", "HEAD")
        changed = git("status", "--porcelain", "--", ".")
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{head}+changes" if changed else head


def _flush() -> None:
    """Write dirty pages to disk, so one measurement's write-back does not slow the next."""
    os.sync()


def _prime_memory(nbytes: int) -> None:
    """Allocate, touch and free ``nbytes``, so that neither side pays alone for the
    kernel faulting in fresh memory (slow on virtual machines that hand freed memory
    back to the host: whoever allocates first after a free would be penalised)."""
    np.ones(nbytes // 8)


def _stats_ms(seconds: Iterable[float]) -> dict[str, float]:
    ms = [s * 1e3 for s in seconds]
    return {
        "n": len(ms),
        "mean_ms": statistics.fmean(ms),
        "median_ms": statistics.median(ms),
        "p90_ms": float(np.percentile(ms, 90)),
        "min_ms": min(ms),
        "max_ms": max(ms),
    }


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


# ----------------------------------------------------------------- large array


def _zdb_write_big(path: Path, arr: np.ndarray, chunks: tuple[int, ...]) -> None:
    db = zdb.DataBase(path)
    db.set("big", arr, chunks=chunks, compressors=_codec())


def _zdb_read_big(path: Path) -> np.ndarray:
    return zdb.DataBase(path)["big"]


def _zarr_write_big(path: Path, arr: np.ndarray, chunks: tuple[int, ...]) -> None:
    group = zarr.open_group(path, mode="w", zarr_format=3)
    z = zarr.create_array(
        group.store,
        name="data",
        shape=arr.shape,
        dtype=arr.dtype,
        chunks=chunks,
        compressors=_codec(),
    )
    z[...] = arr


def _zarr_read_big(path: Path) -> np.ndarray:
    return zarr.open_array(path, path="data", mode="r")[...]


def _fixed_overhead(
    workdir: Path, sides: dict[str, tuple[Callable, Callable]], chunks: tuple[int, ...]
) -> dict[str, Any]:
    """Per-call cost of each side on a one-chunk array through the same zarr-python path.

    The large-array timings are noisy on a shared machine; this isolates what zdb adds
    per write or read (provenance, pointer, consolidated metadata, key lookup), which
    does not grow with the array.
    """
    small = np.random.default_rng(2).standard_normal((64, chunks[1]))
    small_chunks = small.shape
    times: dict[str, dict[str, list[float]]] = {s: {"write": [], "read": []} for s in sides}
    for i in range(OVERHEAD_REPEATS):
        for side, (write, read) in sides.items():
            path = workdir / f"overhead_{side}_{i}"
            t, _ = _timed(lambda write=write, path=path: write(path, small, small_chunks))
            times[side]["write"].append(t)
            t, _ = _timed(lambda read=read, path=path: read(path))
            times[side]["read"].append(t)
            shutil.rmtree(path)
    out: dict[str, Any] = {"shape": list(small.shape), "repeats": OVERHEAD_REPEATS}
    for op in ("write", "read"):
        med = {s: statistics.median(times[s][op]) * 1e3 for s in sides}
        out[op] = {"zdb_median_ms": med["zdb"], "zarr_median_ms": med["zarr"]}
        out[op]["zdb_extra_ms"] = med["zdb"] - med["zarr"]
    return out


def bench_big_array(workdir: Path, size_mib: int, rounds: int) -> dict[str, Any]:
    """Write and read one large array through zdb and zarr, alternating who goes first."""
    rows = max(1, size_mib * 2**20 // (8 * BIG_COLUMNS))
    chunks = (min(BIG_CHUNKS[0], rows), BIG_CHUNKS[1])
    arr = np.random.default_rng(0).standard_normal((rows, BIG_COLUMNS))
    sides = {
        "zdb": (_zdb_write_big, _zdb_read_big),
        "zarr": (_zarr_write_big, _zarr_read_big),
    }
    for side, (write, read) in sides.items():  # first-call costs (imports, thread pools)
        warm = workdir / f"warmup_{side}"
        write(warm, arr[: chunks[0], : 2 * chunks[1]], chunks)
        read(warm)
        shutil.rmtree(warm)
    wall: dict[str, dict[str, list[float]]] = {s: {"write": [], "read": []} for s in sides}
    cpu: dict[str, dict[str, list[float]]] = {s: {"write": [], "read": []} for s in sides}

    def measure(side: str, op: str, fn: Callable[[], Any]) -> Any:
        gc.collect()
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        wall[side][op].append(time.perf_counter() - t0)
        cpu[side][op].append(time.process_time() - c0)
        return out

    for r in range(rounds):
        order = ["zdb", "zarr"] if r % 2 == 0 else ["zarr", "zdb"]
        paths = {s: workdir / f"big_{s}_{r}" for s in sides}
        _prime_memory(arr.nbytes)
        for side in order:
            write, path = sides[side][0], paths[side]
            measure(side, "write", lambda write=write, path=path: write(path, arr, chunks))
            _flush()
        _prime_memory(arr.nbytes)
        for side in order:
            read, path = sides[side][1], paths[side]
            back = measure(side, "read", lambda read=read, path=path: read(path))
            if not np.array_equal(back, arr):
                raise AssertionError(f"{side} read back a different array in round {r}")
            del back
        for side in order:
            shutil.rmtree(paths[side])
        _flush()
        print(
            f"  round {r + 1}/{rounds} ({' first, '.join(order)} second): "
            + ", ".join(
                f"{s} write {wall[s]['write'][-1]:.2f} s read {wall[s]['read'][-1]:.2f} s"
                for s in sides
            ),
            flush=True,
        )
    result: dict[str, Any] = {
        "shape": list(arr.shape),
        "chunks": list(chunks),
        "nbytes": arr.nbytes,
        "codec": "bytes + zstd(level=0)",
        "rounds": rounds,
        "wall_s": wall,
        "cpu_s": cpu,
    }
    result["fixed_overhead"] = _fixed_overhead(workdir, sides, chunks)
    gib = arr.nbytes / 2**30
    for op in ("write", "read"):
        med = {s: statistics.median(wall[s][op]) for s in sides}
        best = {s: min(wall[s][op]) for s in sides}
        cpu_med = {s: statistics.median(cpu[s][op]) for s in sides}
        result[op] = {
            "zdb_median_s": med["zdb"],
            "zarr_median_s": med["zarr"],
            "zdb_GiBps": gib / med["zdb"],
            "zarr_GiBps": gib / med["zarr"],
            "ratio_median": med["zdb"] / med["zarr"],
            "ratio_min": best["zdb"] / best["zarr"],
            "ratio_cpu_median": cpu_med["zdb"] / cpu_med["zarr"],
            "within_target": med["zdb"] / med["zarr"] <= TARGET_RATIO,
        }
    return result


# ----------------------------------------------------------------- small keys


def _small_arrays(n: int) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [rng.standard_normal(SMALL_ARRAY_SIZE) for _ in range(n)]


def _per_key(fn: Callable[[int], Any], n: int) -> dict[str, float]:
    """Statistics of ``fn(i)`` for i in range(n): wall time, and the median CPU time of
    this process (which excludes waiting for other processes on a busy machine)."""
    wall, cpu = [], []
    for i in range(n):
        c0, t0 = time.process_time(), time.perf_counter()
        fn(i)
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return {**_stats_ms(wall), "cpu_median_ms": statistics.median(cpu) * 1e3}


def _warm_up(workdir: Path) -> None:
    """First-call costs (imports, the first git query for provenance) outside the loops."""
    db = zdb.DataBase(workdir / "warmup")
    db["i"] = 0
    db["a"] = np.zeros(SMALL_ARRAY_SIZE)
    _ = db["i"], db["a"], db.keys()
    g = zarr.open_group(workdir / "warmup_zarr", mode="w", zarr_format=3)
    g.create_array("a", shape=(SMALL_ARRAY_SIZE,), dtype="float64")[...] = 0.0
    _ = g["a"][...]


_OPEN_LIST_CHILD = """
import json, sys, time
t0 = time.perf_counter()
import zdb
t1 = time.perf_counter()
db = zdb.DataBase(sys.argv[1])
keys = db.keys()
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "open_list_s": t2 - t1, "n_keys": len(keys)}))
"""


def _open_list(path: Path, n_keys: int, repeats: int) -> dict[str, Any]:
    """Open a database and list its keys, in this process and in fresh processes."""
    in_process = []
    for _ in range(repeats):
        t, keys = _timed(lambda: zdb.DataBase(path).keys())
        assert len(keys) == n_keys, (len(keys), n_keys)
        in_process.append(t)
    wall, inside, imports = [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-c", _OPEN_LIST_CHILD, str(path)],
            capture_output=True,
            text=True,
            check=True,
        )
        wall.append(time.perf_counter() - t0)
        child = json.loads(proc.stdout)
        assert child["n_keys"] == n_keys, child
        inside.append(child["open_list_s"])
        imports.append(child["import_s"])
    return {
        "in_process": _stats_ms(in_process),
        "fresh_process_open_list": _stats_ms(inside),
        "fresh_process_import_zdb": _stats_ms(imports),
        "fresh_process_wall": _stats_ms(wall),
    }


def bench_small_keys(workdir: Path, n: int, repeats: int) -> dict[str, Any]:
    """Per-key set and get of ints and small arrays through zdb, and open+list."""
    _warm_up(workdir)
    arrays = _small_arrays(n)
    db_int = zdb.DataBase(workdir / "keys_int")
    db_arr = zdb.DataBase(workdir / "keys_array")

    def set_int(i: int) -> None:
        db_int[f"k{i}"] = i

    def set_array(i: int) -> None:
        db_arr[f"k{i}"] = arrays[i]

    out: dict[str, Any] = {"n_keys": n}
    out["set int"] = _per_key(set_int, n)
    out["set array"] = _per_key(set_array, n)
    got: dict[str, list[Any]] = {"int": [], "array": []}
    out["get int"] = _per_key(lambda i: got["int"].append(db_int[f"k{i}"]), n)
    out["get array"] = _per_key(lambda i: got["array"].append(db_arr[f"k{i}"]), n)
    if got["int"] != list(range(n)):
        raise AssertionError("zdb returned wrong ints")
    if not all(np.array_equal(a, b) for a, b in zip(got["array"], arrays, strict=True)):
        raise AssertionError("zdb returned wrong arrays")
    _flush()
    out["open+list"] = _open_list(workdir / "keys_array", n, repeats)
    return out


def bench_zarr_small_keys(workdir: Path, n: int) -> dict[str, Any]:
    """Per-key write and read of small arrays through plain zarr-python.

    Two ways a user would do it: the group opened once and reused, or
    ``zarr.open_group(...)`` for every key (as a function storing one result would).
    """
    arrays = _small_arrays(n)
    out: dict[str, Any] = {"n_keys": n}
    for variant in ("group opened once", "open_group per key"):
        root = workdir / ("zarr_once" if variant == "group opened once" else "zarr_per_key")
        shared = zarr.open_group(root, mode="w", zarr_format=3)

        def group(shared: zarr.Group = shared, root: Path = root, variant: str = variant):
            return shared if variant == "group opened once" else zarr.open_group(root, mode="a")

        def write(i: int, group=group) -> None:
            z = group().create_array(
                f"k{i}",
                shape=(SMALL_ARRAY_SIZE,),
                dtype="float64",
                chunks=(SMALL_ARRAY_SIZE,),
                compressors=_codec(),
            )
            z[...] = arrays[i]

        back: list[np.ndarray] = []
        out[f"set array ({variant})"] = _per_key(write, n)
        out[f"get array ({variant})"] = _per_key(
            lambda i, group=group, back=back: back.append(group()[f"k{i}"][...]), n
        )
        if not all(np.array_equal(a, b) for a, b in zip(back, arrays, strict=True)):
            raise AssertionError("zarr returned wrong arrays")
    return out


# ----------------------------------------------------------------- against ISF's layout


def _isf_get(root: str, key: str) -> np.ndarray:
    """ISF's ``db[key]`` of a ``numpy_to_npy`` key, its file operations without its
    module imports: the key folder checked (and that it is no sub-database), the
    loader description read, the array loaded."""
    folder = os.path.join(root, key)
    if not os.path.exists(folder):
        raise KeyError(key)
    os.path.exists(os.path.join(folder, "db"))
    with open(os.path.join(folder, "Loader.json")) as f:
        json.load(f)
    return np.load(os.path.join(folder, "np.npy"))


#: what ISF's ``keys()`` leaves out of a database folder's listing
_ISF_NOT_KEYS = frozenset(
    {"db_state.json", "metadata.json", "Loader.json", "dbcore.pickle", "metadata.db"}
    | {"sqlitedict.db", "sqlitedict.db.lock", "metadata.db.lock"}
)


def _isf_keys(root: str) -> tuple[str, ...]:
    """ISF's ``keys()``: the folder's entries but its own files and keys being deleted."""
    return tuple(
        e.name
        for e in Path(root).iterdir()
        if e.name not in _ISF_NOT_KEYS and ".deleting." not in e.name
    )


def _inodes_per_key(root: Path, n: int) -> float:
    """Folders and files per key: the keys' folders (``k<i>``) and everything in them."""
    count = 0
    for folder in root.glob("k*"):
        count += 1 + sum(len(dirs) + len(files) for _, dirs, files in os.walk(folder))
    return count / n


def bench_isf_side_by_side(workdir: Path, n: int, rounds: int) -> dict[str, Any]:
    """Set, get and list of ``n`` 1,000-element float64 keys through zdb and in ISF's
    ``numpy_to_npy`` layout, on the file system of ``workdir``; per round, the two
    sides alternate key by key (who goes first alternates too), and each round has new
    databases. Reports the medians per round, their median and the zdb/ISF ratios."""
    workdir.mkdir(parents=True, exist_ok=True)
    _warm_up(workdir)
    arrays = _small_arrays(n)
    ops = ("set", "get", "list")
    per_round: list[dict[str, dict[str, float]]] = []
    inodes: dict[str, float] = {}
    for r in range(rounds):
        zroot, iroot = workdir / f"zdb_{r}", workdir / f"isf_{r}"
        db = zdb.DataBase(zroot)
        db["warm"] = arrays[0]  # the provenance blobs of a database's first key
        del db["warm"]
        isf = isf_writer.create_database(str(iroot))
        sides: dict[str, dict[str, Callable[[int], Any]]] = {
            "zdb": {
                "set": lambda i, db=db: db.set(f"k{i}", arrays[i]),
                "get": lambda i, db=db: db[f"k{i}"],
                "list": lambda i, db=db: db.keys(),
            },
            "isf": {
                "set": lambda i, isf=isf: isf_writer.write_key(
                    isf, f"k{i}", "numpy_to_npy", arrays[i]
                ),
                "get": lambda i, isf=isf: _isf_get(isf, f"k{i}"),
                "list": lambda i, isf=isf: _isf_keys(isf),
            },
        }
        times: dict[str, dict[str, list[float]]] = {s: {op: [] for op in ops} for s in sides}
        for op in ops:
            repeats = max(1, n // 20) if op == "list" else n
            for i in range(repeats):
                order = ["zdb", "isf"] if (i + r) % 2 == 0 else ["isf", "zdb"]
                for side in order:
                    fn = sides[side][op]
                    t0 = time.perf_counter()
                    out = fn(i)
                    times[side][op].append(time.perf_counter() - t0)
                    if op == "get" and not np.array_equal(out, arrays[i]):
                        raise AssertionError(f"{side} read back a different array")
                    if op == "list" and len(out) != n:
                        raise AssertionError(f"{side} listed {len(out)} keys, not {n}")
        if r == 0:
            inodes = {"zdb": _inodes_per_key(zroot, n), "isf": _inodes_per_key(iroot, n)}
        per_round.append(
            {s: {op: statistics.median(times[s][op]) * 1e3 for op in ops} for s in sides}
        )
        shutil.rmtree(zroot)
        shutil.rmtree(iroot)
        _flush()
    out: dict[str, Any] = {
        "dir": str(workdir),
        "n_keys": n,
        "rounds": rounds,
        "per_round_median_ms": per_round,
        "inodes_per_key": inodes,
    }
    for op in ops:
        ratios = [rd["zdb"][op] / rd["isf"][op] for rd in per_round]
        out[op] = {
            "zdb_ms": statistics.median(rd["zdb"][op] for rd in per_round),
            "isf_ms": statistics.median(rd["isf"][op] for rd in per_round),
            "ratios": ratios,
            "ratio_median": statistics.median(ratios),
        }
    return out


# ----------------------------------------------------------------- profiling


def profile_small_keys(workdir: Path, n: int, outdir: Path, top: int = 25) -> dict[str, str]:
    """cProfile the per-key set and get loops; save .pstats files and return summaries."""
    outdir.mkdir(parents=True, exist_ok=True)
    _warm_up(workdir)
    arrays = _small_arrays(n)
    db_int = zdb.DataBase(workdir / "prof_int")
    db_arr = zdb.DataBase(workdir / "prof_array")
    loops: dict[str, Callable[[], None]] = {
        "set_int": lambda: [db_int.set(f"k{i}", i) for i in range(n)],
        "set_array": lambda: [db_arr.set(f"k{i}", arrays[i]) for i in range(n)],
        "get_int": lambda: [db_int[f"k{i}"] for i in range(n)],
        "get_array": lambda: [db_arr[f"k{i}"] for i in range(n)],
    }
    summaries = {}
    for name, loop in loops.items():
        prof = cProfile.Profile()
        prof.runcall(loop)
        path = outdir / f"{name}.pstats"
        prof.dump_stats(path)
        text = io.StringIO()
        stats = pstats.Stats(prof, stream=text)
        stats.sort_stats("cumulative").print_stats(top)
        stats.sort_stats("tottime").print_stats(top)
        summaries[name] = text.getvalue()
        print(f"\n--- profile of {n} x {name} (by cumulative, then own time; {path}) ---")
        print(text.getvalue())
    return summaries


# ----------------------------------------------------------------- report


def _verdict(name: str, zdb_ms: float) -> str:
    low, high = ISF_REFERENCE_MS[name]
    if zdb_ms <= low:
        return "yes"
    if zdb_ms <= high:
        return "yes (within ISF's range)"
    return f"no ({zdb_ms / high:.2f}x ISF's slowest)"


def _ref(name: str) -> str:
    low, high = ISF_REFERENCE_MS[name]
    return f"{low:g}" if low == high else f"{low:g}-{high:g}"


def print_report(results: dict[str, Any]) -> None:
    m = results["machine"]
    print(
        f"\nzdb {m['zdb']} ({m['zdb_revision']}), zarr {m['zarr']}, numpy {m['numpy']}, "
        f"Python {m['python']}, "
        f"{m['cpus']} CPUs; load average (1 min) {m['load_average_at_start'][0]:.1f} at the "
        f"start, {m['load_average_at_end'][0]:.1f} at the end"
    )
    big = results.get("big_array")
    if big:
        print(
            f"\n== Large array: float64 {tuple(big['shape'])} = {big['nbytes'] / 2**30:.2f} GiB, "
            f"chunks {tuple(big['chunks'])}, {big['codec']}, median of {big['rounds']} rounds =="
        )
        print(
            f"{'':7}{'zdb s':>7}{'zarr s':>8}{'zdb GiB/s':>11}{'zarr GiB/s':>12}"
            f"{'zdb/zarr':>10}{'(min)':>7}{'(cpu)':>7}  target <= {TARGET_RATIO:.2f}"
        )
        for op in ("write", "read"):
            r = big[op]
            print(
                f"{op:7}{r['zdb_median_s']:7.2f}{r['zarr_median_s']:8.2f}{r['zdb_GiBps']:11.2f}"
                f"{r['zarr_GiBps']:12.2f}{r['ratio_median']:10.3f}{r['ratio_min']:7.3f}"
                f"{r['ratio_cpu_median']:7.3f}  {'met' if r['within_target'] else 'MISSED'}"
            )
        print(
            "  zdb/zarr: ratio of the medians of wall time; (min): of the fastest rounds; "
            "(cpu): of the medians of process CPU time"
        )
        fo = big["fixed_overhead"]
        print(
            f"  zdb's fixed cost per call (one-chunk {tuple(fo['shape'])} array, same zarr path, "
            f"median of {fo['repeats']}):"
        )
        for op in ("write", "read"):
            r = fo[op]
            share = r["zdb_extra_ms"] / 1e3 / big[op]["zarr_median_s"]
            print(
                f"    {op:6} zdb {r['zdb_median_ms']:6.2f} ms, zarr {r['zarr_median_ms']:6.2f} ms: "
                f"zdb adds {r['zdb_extra_ms']:5.2f} ms = {share:+.2%} of the large {op}"
            )
    small = results.get("small_keys")
    if small:
        print(f"\n== zdb per key, {small['n_keys']} keys (ms; ISF data_base reference) ==")
        print(
            f"{'':12}{'mean':>8}{'median':>8}{'p90':>8}{'max':>8}{'cpu med':>9}{'ISF':>10}"
            "  zdb no slower? (median)"
        )
        for name in ("set int", "get int", "set array", "get array"):
            s = small[name]
            print(
                f"{name:12}{s['mean_ms']:8.3f}{s['median_ms']:8.3f}{s['p90_ms']:8.3f}"
                f"{s['max_ms']:8.2f}{s['cpu_median_ms']:9.3f}{_ref(name):>10}  "
                f"{_verdict(name, s['median_ms'])}"
            )
        ol = small["open+list"]
        n = ol["in_process"]["n"]
        print(f"\n== Open a database and list its {small['n_keys']} keys (ms, median of {n}) ==")
        rows = [
            ("open+keys, in this process", ol["in_process"], True),
            ("open+keys, inside a fresh process", ol["fresh_process_open_list"], True),
            ("import zdb, in a fresh process", ol["fresh_process_import_zdb"], False),
            (
                "fresh process wall time (python start + import zdb + open+keys)",
                ol["fresh_process_wall"],
                True,
            ),
        ]
        for label, s, compare in rows:
            verdict = (
                f"ISF {_ref('open+list')}: no slower? {_verdict('open+list', s['median_ms'])}"
                if compare
                else ""
            )
            print(f"  {label:66}{s['median_ms']:9.1f}  {verdict}")
    for side_by_side in results.get("isf_side_by_side", []):
        sb = side_by_side
        print(
            f"\n== Small array keys against ISF's numpy_to_npy layout in {sb['dir']}: "
            f"{sb['n_keys']} keys of {SMALL_ARRAY_SIZE} float64, medians (ms) of "
            f"{sb['rounds']} rounds, interleaved =="
        )
        print(f"{'':6}{'zdb':>9}{'ISF':>9}{'zdb/ISF':>9}  per round")
        for op in ("set", "get", "list"):
            r = sb[op]
            rounds = " ".join(f"{x:.2f}" for x in r["ratios"])
            print(f"{op:6}{r['zdb_ms']:9.3f}{r['isf_ms']:9.3f}{r['ratio_median']:9.2f}  {rounds}")
        inodes = sb["inodes_per_key"]
        print(
            f"  folders and files per key: zdb {inodes['zdb']:.2f}, ISF {inodes['isf']:.2f}; "
            "list: keys() of an open database"
        )
    zs = results.get("zarr_small_keys")
    if zs:
        print(
            f"\n== plain zarr-python per key, {zs['n_keys']} arrays of "
            f"{SMALL_ARRAY_SIZE} float64 (ms) =="
        )
        print(f"{'':38}{'mean':>8}{'median':>8}{'p90':>8}{'cpu med':>9}{'zdb median':>12}")
        for name, s in zs.items():
            if name == "n_keys":
                continue
            op = name.split(" (")[0]
            zdb_med = small[op]["median_ms"] if small else float("nan")
            print(
                f"{name:38}{s['mean_ms']:8.3f}{s['median_ms']:8.3f}{s['p90_ms']:8.3f}"
                f"{s['cpu_median_ms']:9.3f}"
                f"{zdb_med:12.3f}"
            )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="small sizes for a quick check: 64 MiB array, 200 keys"
    )
    parser.add_argument("--big-mib", type=int, help="size of the large array in MiB (1024)")
    parser.add_argument("--keys", type=int, help="number of small keys (1000)")
    parser.add_argument(
        "--rounds", type=int, default=6, help="rounds of the large array; even is fair (6)"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="repeats of open+list, in-process and in fresh processes (5)",
    )
    parser.add_argument(
        "--isf-dirs",
        type=Path,
        nargs="+",
        metavar="DIR",
        help="folders on the file systems where small keys are measured against ISF's "
        "layout (default: the scratch folder's, and /dev/shm where it exists)",
    )
    parser.add_argument(
        "--isf-rounds", type=int, default=3, help="rounds of the comparison with ISF (3)"
    )
    parser.add_argument(
        "--only",
        choices=["big", "small", "zarr-small", "isf"],
        action="append",
        help="run only these parts (repeatable)",
    )
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="also cProfile the per-key set/get loops, saving .pstats in DIR",
    )
    parser.add_argument("--dir", type=Path, help="parent of the scratch folder (system temp)")
    parser.add_argument("--json", type=Path, help="write the results as JSON to this path")
    args = parser.parse_args(argv)
    big_mib = args.big_mib or (64 if args.quick else 1024)
    n_keys = args.keys or (200 if args.quick else 1000)
    parts = set(args.only or ["big", "small", "zarr-small", "isf"])

    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "zdb": zdb.__version__,
            "zdb_revision": _zdb_revision(),
            "zarr": zarr.__version__,
            "numpy": np.__version__,
            "load_average_at_start": os.getloadavg(),
        },
        "isf_reference_ms": ISF_REFERENCE_MS,
    }
    workdir = Path(tempfile.mkdtemp(prefix="zdb-bench-", dir=args.dir))
    try:
        free = shutil.disk_usage(workdir).free
        if "big" in parts and free < 3 * big_mib * 2**20:
            raise SystemExit(f"{workdir}: {free / 2**30:.1f} GiB free, need 3x {big_mib} MiB")
        if "big" in parts:
            print(f"Large array ({big_mib} MiB) in {workdir} ...", flush=True)
            results["big_array"] = bench_big_array(workdir, big_mib, args.rounds)
        if "small" in parts:
            print(f"zdb per key ({n_keys} keys) ...", flush=True)
            results["small_keys"] = bench_small_keys(workdir / "small", n_keys, args.repeats)
        if "zarr-small" in parts:
            print(f"plain zarr per key ({n_keys} keys) ...", flush=True)
            results["zarr_small_keys"] = bench_zarr_small_keys(workdir / "zarr_small", n_keys)
        if "isf" in parts:
            results["isf_side_by_side"] = []
            dirs = args.isf_dirs or [workdir] + [Path("/dev/shm")] * os.path.isdir("/dev/shm")
            for where in dirs:
                print(f"small keys against ISF's layout in {where} ...", flush=True)
                scratch = Path(tempfile.mkdtemp(prefix="zdb-bench-isf-", dir=where))
                try:
                    results["isf_side_by_side"].append(
                        bench_isf_side_by_side(scratch, n_keys, args.isf_rounds)
                    )
                finally:
                    shutil.rmtree(scratch, ignore_errors=True)
        if args.profile:
            results["profile"] = profile_small_keys(workdir / "profile", n_keys, args.profile)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    print_report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        print(f"\nwrote {args.json}")
    return results


if __name__ == "__main__":
    main()
