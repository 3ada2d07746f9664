"""zdb on an object store and with many writers: request counts and throughput.

Measures, against moto's S3 server on a loopback port (tests/s3_server.py), with a fixed
latency added to every S3 request on the client side (so zdb, xarray and plain fsspec
pay it alike):

1. a database of 10,000 keys: opening it and listing its keys, the metadata of a random
   sample of its keys and one ``xarray.open_zarr(db.path_of(key))`` per key of a sample
   (both extrapolated to all keys), and a plain fsspec listing of its folder; time and
   S3 requests of each;
2. 200 keys written into one database at once by 2 dask workers
   (``LocalCluster(n_workers=2, threads_per_worker=1, processes=True)``) against one
   process writing them one after another, on S3 without and with the added latency
   and on the local disk; keys/s and the ratio.

Run ``python benchmarks/bench_cluster.py --help``; see benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import os
import platform
import random
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import psutil

import zdb
from zdb import commit, key_index, metadata
from zdb.key_index import KeyIndex


def _load_s3_server() -> Any:
    """tests/s3_server.py, loaded by its path: putting the repository on sys.path would
    also decide which zdb is imported (the checkout's, not a PYTHONPATH snapshot's)."""
    path = Path(__file__).resolve().parents[1] / "tests" / "s3_server.py"
    spec = importlib.util.spec_from_file_location("zdb_bench_s3_server", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_s3_server = _load_s3_server()
make_bucket, moto_server, storage_options = (
    _s3_server.make_bucket,
    _s3_server.moto_server,
    _s3_server.storage_options,
)

#: latency added to every S3 request unless --latency says otherwise, in seconds
DEFAULT_LATENCY = 0.020
SMALL_SIZE = 1000  # float64 elements of a small key
LARGE_SIZE = 2**17  # float64 elements of a large key: 1 MiB
LARGE_EVERY = 40  # every 40th key written in part 2 is a large one


# ----------------------------------------------------------------- S3 requests


def _category(kwargs: dict[str, Any]) -> str:
    """What an S3 request touches, from its object key or listing prefix."""
    path = str(kwargs.get("Key") or kwargs.get("Prefix") or "")
    if "/.zdb/index" in path or path.startswith(".zdb/index"):
        return "index"
    if "/.zdb/blobs" in path:
        return "blob"
    if "/.zdb/staging" in path:
        return "staging"
    if "/.v" in path:
        return "value"
    if path.endswith("zarr.json"):
        return "pointer"
    return "folder"


def install_s3_hook(latency: float) -> None:
    """Count every S3 request s3fs makes and delay it by ``latency`` seconds.

    Every request of s3fs (and so of zdb, zarr, xarray and fsspec) goes through
    ``S3FileSystem._call_s3``; wrapping it adds the latency a remote object store has
    and that a loopback moto server lacks. Counts go to a Counter on the class, per
    process (dask workers install it with ``client.run``). Calling it again only
    changes the latency.
    """
    import s3fs

    cls = s3fs.S3FileSystem
    if not hasattr(cls, "_bench_state"):
        original = cls._call_s3
        state: dict[str, Any] = {"latency": 0.0, "calls": Counter()}

        async def hooked(self, method, *args, **kwargs):
            state["calls"][f"{method} {_category(kwargs)}"] += 1
            if state["latency"]:
                await asyncio.sleep(state["latency"])
            return await original(self, method, *args, **kwargs)

        cls._call_s3 = hooked
        cls._bench_state = state
    cls._bench_state["latency"] = latency


def take_s3_counts() -> dict[str, int]:
    """The requests counted in this process since the last call (then reset)."""
    import s3fs

    calls = s3fs.S3FileSystem._bench_state["calls"]
    out = dict(calls)
    calls.clear()
    return out


def _by_method(counts: dict[str, int]) -> dict[str, int]:
    out: Counter = Counter()
    for name, n in counts.items():
        out[name.split(" ")[0]] += n
    return dict(out)


def _moto_process() -> psutil.Process | None:
    """The moto server started by this process (tests/s3_server.py does not hand it out)."""
    for child in psutil.Process().children(recursive=True):
        try:
            if "moto.server" in " ".join(child.cmdline()):
                return child
        except psutil.Error:
            continue
    return None


def _cpu_seconds(proc: psutil.Process | None) -> float:
    if proc is None:
        return float("nan")
    t = proc.cpu_times()
    return t.user + t.system


@contextmanager
def measured(out: dict[str, Any], server: psutil.Process | None) -> Iterator[dict[str, Any]]:
    """Time the block: wall time, CPU of this process and of the S3 server, and the S3
    requests this process made. Results go into ``out``."""
    take_s3_counts()
    load = os.getloadavg()[0]
    s0, c0, t0 = _cpu_seconds(server), time.process_time(), time.perf_counter()
    yield out
    out["wall_s"] = time.perf_counter() - t0
    out["cpu_s"] = time.process_time() - c0
    out["server_cpu_s"] = _cpu_seconds(server) - s0
    counts = take_s3_counts()
    out.setdefault("requests_by_kind", {})
    for k, v in counts.items():
        out["requests_by_kind"][k] = out["requests_by_kind"].get(k, 0) + v
    out["requests"] = sum(out["requests_by_kind"].values())
    out["load_1min"] = [load, os.getloadavg()[0]]


# ----------------------------------------------------------------- part 1


def build_database(url: str, options: dict, n_keys: int, n_arrays: int) -> dict[str, Any]:
    """A database of ``n_keys`` keys on S3, every one complete and readable.

    Writing 10,000 keys through zdb would take 20 to 30 minutes against moto (about 15
    requests per key at about 10 ms of moto's time each), so:

    - ``n_arrays`` keys (``arr00000``...) are 1,000-element float64 arrays and one key
      (``key00000``) is an int, all written through zdb one after another;
    - the other keys (``key00001``...) are copies of the int key's pointer (an int is
      stored in its pointer alone, one object) put into the store directly, and their
      index entries are written as segments shaped as that many writers one after
      another leave them (one per set bit of their number), as tests/test_key_index.py
      does. The copies share the int key's provenance.
    """
    out: dict[str, Any] = {"n_keys": n_keys, "written_through_zdb": n_arrays + 1}
    db = zdb.DataBase(url, storage_options=options)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for i in range(n_arrays):
        db[f"arr{i:05d}"] = rng.standard_normal(SMALL_SIZE)
    db["key00000"] = 0
    out["zdb_writes_s"] = time.perf_counter() - t0

    store = db.ref.store
    pointer = store.read_bytes("key00000/zarr.json")
    n_copies = n_keys - n_arrays - 1
    names = [f"key{i:05d}" for i in range(1, n_copies + 1)]
    t0 = time.perf_counter()
    store.fs.pipe({f"{store.root}/{n}/zarr.json": pointer for n in names}, batch_size=64)
    index = KeyIndex(store, "")
    now = time.time_ns() // 1000
    start = 0
    for bit in reversed(range(n_copies.bit_length())):
        size = 1 << bit
        if n_copies & size:
            index._write([[n, "data", now, False] for n in names[start : start + size]])
            start += size
    out["copies_s"] = time.perf_counter() - t0
    out["index_segments"] = len(store.list_dir(key_index.INDEX))
    stored = json.loads(pointer)["attributes"]["zdb"]["metadata"]
    # each blob a key refers to is one more request for db.metadata[key]
    out["blobs_per_key"] = sum(1 for f in metadata.BLOB_FIELDS.values() if stored.get(f))
    listed = sorted(n for n in store.list_dir("") if not n.startswith(".") and n != "zarr.json")
    keys = db.keys()
    if len(keys) != n_keys or listed != keys:
        raise AssertionError(f"built {len(keys)} keys, listed {len(listed)}; expected {n_keys}")
    return out


def _fresh_reader_state() -> None:
    """Forget what this process has read of any key index, as a new process would."""
    key_index._SEGMENTS.clear()


def bench_reading(
    url: str,
    options: dict,
    n_keys: int,
    metadata_sample: int,
    xarray_sample: int,
    latency: float,
    server: psutil.Process | None,
) -> dict[str, Any]:
    """Open+list, metadata and xarray per key (on samples), and an fsspec listing, with
    the latency added to every request."""
    import s3fs
    import xarray as xr

    install_s3_hook(latency)
    out: dict[str, Any] = {"latency_s": latency}

    # (a) open and list, as a fresh process would (nothing of the index cached), then
    # keys() again in the same process (segments cached)
    _fresh_reader_state()
    rec = out["open"] = {}
    with measured(rec, server):
        db = zdb.DataBase(url, storage_options=options)
    rec = out["keys_cold"] = {}
    with measured(rec, server):
        keys = db.keys()
    assert len(keys) == n_keys, len(keys)
    rec = out["keys_warm"] = {}
    with measured(rec, server):
        again = db.keys()
    assert again == keys

    # (d) the naive way: list the database's folder with fsspec (paged by s3fs)
    fs = s3fs.S3FileSystem(**options, skip_instance_cache=True, use_listings_cache=False)
    rec = out["fsspec_ls"] = {}
    with measured(rec, server):
        listed = fs.ls(url.removeprefix("s3://"), detail=False, refresh=True)
    rec["entries"] = len(listed)

    # (b) db.metadata[k] for a random sample of the keys (all of them with sample 0)
    sample = keys if metadata_sample <= 0 else random.Random(1).sample(keys, metadata_sample)
    rec = out["metadata"] = {"n": len(sample)}
    with measured(rec, server):
        metas = [db.metadata[k] for k in sample]
    assert all(m["dumper"] in ("python_value", "numpy_to_zarr") for m in metas)

    # (c) xarray.open_zarr(db.path_of(k)) on array keys (ints hold no array to open)
    arrays = [k for k in keys if k.startswith("arr")]
    chosen = arrays if xarray_sample <= 0 else arrays[: min(xarray_sample, len(arrays))]
    rec = out["xarray"] = {"n": len(chosen)}
    with measured(rec, server):
        for k in chosen:
            ds = xr.open_zarr(db.path_of(k), storage_options=options)
            assert ds["data"].shape == (SMALL_SIZE,)
    # the same, telling xarray what zdb writes (Zarr v3 with consolidated metadata), so
    # that it does not probe for Zarr v2 files first
    rec = out["xarray_v3"] = {"n": len(chosen)}
    with measured(rec, server):
        for k in chosen:
            ds = xr.open_zarr(
                db.path_of(k), storage_options=options, zarr_format=3, consolidated=True
            )
            assert ds["data"].shape == (SMALL_SIZE,)
    rec = out["path_of"] = {"n": len(chosen)}
    with measured(rec, server):
        for k in chosen:
            db.path_of(k)
    out["n_keys"] = n_keys
    install_s3_hook(0.0)
    return out


# ----------------------------------------------------------------- part 2


#: databases this process has opened, by URL and storage options: a worker keeps
#: its database open across tasks (see :func:`bench_open` for what opening costs)
_DATABASES: dict[tuple[str, str], zdb.DataBase] = {}


def write_key(url: str, options: dict | None, i: int) -> int:
    """One task: write key ``i`` (a 1,000-element float64 array, every 40th one a 1 MiB
    array) into the database, opened once per process."""
    ident = (url, json.dumps(options, sort_keys=True))
    db = _DATABASES.get(ident)
    if db is None:
        db = _DATABASES[ident] = zdb.DataBase(url, storage_options=options)
    size = LARGE_SIZE if i % LARGE_EVERY == LARGE_EVERY - 1 else SMALL_SIZE
    db[f"k{i:04d}"] = np.random.default_rng(i).standard_normal(size)
    return i


def bench_open(url: str, options: dict, repeats: int = 10) -> dict[str, Any]:
    """What opening a database on S3 costs (no latency added): ``zdb.DataBase(url)``
    (one request), a new s3fs file system making one request, and one request on an
    existing file system. Medians of ``repeats``, wall and CPU time in ms."""
    import s3fs

    path = url.removeprefix("s3://") + "/zarr.json"
    existing = s3fs.S3FileSystem(**options, skip_instance_cache=True)
    cases: dict[str, Callable[[], Any]] = {
        "zdb.DataBase(url)": lambda: zdb.DataBase(url, storage_options=options),
        "new S3FileSystem + 1 GET": lambda: s3fs.S3FileSystem(
            **options, skip_instance_cache=True
        ).cat_file(path),
        "1 GET on an existing S3FileSystem": lambda: existing.cat_file(path),
    }
    out: dict[str, Any] = {}
    for name, fn in cases.items():
        fn()
        wall, cpu = [], []
        for _ in range(repeats):
            c0, t0 = time.process_time(), time.perf_counter()
            fn()
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
        out[name] = {
            "wall_median_ms": statistics.median(wall) * 1e3,
            "cpu_median_ms": statistics.median(cpu) * 1e3,
        }
    return out


def _index_shape(url: str, options: dict) -> dict[str, int]:
    """Segments of a database's key index and the highest level among them."""
    db = zdb.DataBase(url, storage_options=options, readonly=True)
    segments = db.ref.store.list_dir(key_index.INDEX)
    levels = [int(s.split("-", 1)[0]) for s in segments]
    return {"segments": len(segments), "max_level": max(levels, default=0)}


def _check_written(url: str, options: dict | None, n: int) -> None:
    db = zdb.DataBase(url, storage_options=options, readonly=True)
    keys = db.keys()
    expected = [f"k{i:04d}" for i in range(n)]
    if keys != expected:
        raise AssertionError(f"{url}: {len(keys)} keys written, expected {n}")
    if not db.ref.store.cheap_listing and commit.listed_names(db.ref) != expected:
        raise AssertionError(f"{url}: the key index and the listing disagree")
    for i in (0, n - 1):
        size = LARGE_SIZE if i % LARGE_EVERY == LARGE_EVERY - 1 else SMALL_SIZE
        np.testing.assert_array_equal(
            db[f"k{i:04d}"], np.random.default_rng(i).standard_normal(size)
        )


def bench_writers(
    client: Any,
    n_keys: int,
    locations: dict[str, Callable[[], tuple[str, dict | None]]],
    latency: float,
    server: psutil.Process | None,
) -> dict[str, Any]:
    """Write ``n_keys`` keys into a fresh database with the dask workers at once, and
    in this process one after another, for each location; alternating who goes first
    between locations."""
    out: dict[str, Any] = {}
    for j, (name, new_location) in enumerate(locations.items()):
        lat = latency if name.endswith("latency") else 0.0
        install_s3_hook(lat)
        client.run(install_s3_hook, lat)
        client.run(take_s3_counts)
        res: dict[str, Any] = {"latency_s": lat}
        order = ["dask", "sequential"] if j % 2 == 0 else ["sequential", "dask"]
        for mode in order:
            url, options = new_location()
            zdb.DataBase(url, storage_options=options)  # created before the writers start
            rec = res[mode] = {"n_keys": n_keys}
            with measured(rec, server):
                if mode == "dask":
                    futures = client.map(
                        write_key, [url] * n_keys, [options] * n_keys, range(n_keys), pure=False
                    )
                    client.gather(futures)
                else:
                    for i in range(n_keys):
                        write_key(url, options, i)
            if mode == "dask":
                for counts in client.run(take_s3_counts).values():
                    for k, v in counts.items():
                        rec["requests_by_kind"][k] = rec["requests_by_kind"].get(k, 0) + v
                rec["requests"] = sum(rec["requests_by_kind"].values())
            rec["keys_per_s"] = n_keys / rec["wall_s"]
            install_s3_hook(0.0)
            _check_written(url, options, n_keys)
            if options is not None:
                rec["index_after"] = _index_shape(url, options)
            install_s3_hook(lat)
            print(
                f"  {name:22} {mode:10} {rec['wall_s']:7.2f} s  {rec['keys_per_s']:7.1f} keys/s"
                f"  {rec['requests']:6d} requests  load {rec['load_1min'][1]:.1f}",
                flush=True,
            )
        res["ratio_dask_over_sequential"] = (
            res["dask"]["keys_per_s"] / res["sequential"]["keys_per_s"]
        )
        out[name] = res
    install_s3_hook(0.0)
    client.run(install_s3_hook, 0.0)
    return out


def _warm_up_workers(client: Any, url: str, options: dict | None) -> None:
    """First-call costs (imports, the first git query of the provenance) in every worker
    process and here, outside the timings."""
    n = 2 * len(client.scheduler_info()["workers"])
    client.gather(client.map(write_key, [url] * n, [options] * n, range(n), pure=False))
    write_key(url, options, n)


# ----------------------------------------------------------------- report


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


def _kinds(counts: dict[str, int], per: float = 1.0) -> str:
    items = sorted(counts.items(), key=lambda kv: -kv[1])
    return ", ".join(f"{k} {v / per:.3g}" for k, v in items)


def _index_share(counts: dict[str, int]) -> float:
    total = sum(counts.values())
    return sum(v for k, v in counts.items() if k.endswith(" index")) / total if total else 0.0


def print_report(results: dict[str, Any]) -> None:
    m = results["machine"]
    print(
        f"\nzdb {m['zdb']} ({m['zdb_revision']}), Python {m['python']}, {m['cpus']} CPUs; "
        f"load average (1 min) {m['load_average_at_start'][0]:.1f} at the start, "
        f"{m['load_average_at_end'][0]:.1f} at the end; "
        + ", ".join(f"{k} {v:.0f} s" for k, v in results["elapsed_s"].items())
    )
    oc = results["open_cost"]
    print("\n== Opening a database on S3 (moto, no latency added; median of 10, ms) ==")
    for name, r in oc.items():
        print(f"  {name:40}{r['wall_median_ms']:8.1f} wall {r['cpu_median_ms']:8.1f} cpu")
    rd = results.get("reading")
    if rd:
        b = results["build"]
        lat_ms = rd["latency_s"] * 1e3
        n = rd["n_keys"]
        get_ms = oc["1 GET on an existing S3FileSystem"]["wall_median_ms"]
        print(
            f"\n== Reading a database of {n:,} keys on S3 (moto, +{lat_ms:g} ms per request "
            f"on top of moto's own {get_ms:.0f} ms) =="
        )
        print(
            f"  built: {b['written_through_zdb']} keys written through zdb "
            f"({b['written_through_zdb'] - 1} arrays of {SMALL_SIZE} float64, 1 int) in "
            f"{b['zdb_writes_s']:.0f} s; {n - b['written_through_zdb']:,} copies of the int "
            f"key's pointer plus their index segments put in {b['copies_s']:.0f} s; the index "
            f"has {b['index_segments']} segments"
        )
        print(f"{'':54}{'requests':>9}{'req/key':>9}{'wall s':>9}{'ms/key':>8}{'all keys s':>11}")
        rows = [
            ("(a) zdb.DataBase(url)", "open", False),
            ("(a) db.keys() (index not cached: a new process)", "keys_cold", False),
            ("(a) db.keys() again (index segments cached)", "keys_warm", False),
            (
                f"(d) fsspec fs.ls(prefix) ({rd['fsspec_ls']['entries']:,} entries)",
                "fsspec_ls",
                False,
            ),
            (f"(b) db.metadata[k], {rd['metadata']['n']} random keys", "metadata", True),
            (f"(c) xr.open_zarr(db.path_of(k)), {rd['xarray']['n']} keys", "xarray", True),
            ("    the same, zarr_format=3, consolidated=True", "xarray_v3", True),
            ("    db.path_of(k) alone (part of both)", "path_of", True),
        ]
        for label, name, per_key in rows:
            rec = rd[name]
            k = rec["n"] if per_key else 0
            per = f"{rec['requests'] / k:9.2f}{rec['wall_s'] / k * 1e3:8.1f}" if k else " " * 17
            total = f"{rec['wall_s'] / k * n:11.0f}" if k else ""
            print(f"  {label:52}{rec['requests']:9d}{per[:9]}{rec['wall_s']:9.2f}{per[9:]}{total}")
        listing = rd["open"]["requests"] + rd["keys_cold"]["requests"]
        print(
            f"  opening and listing {n:,} keys: {listing} requests. 'all keys s': the sample's "
            f"time per key times {n:,} (extrapolated, not measured)"
        )
        for label, name in (("keys() (cold)", "keys_cold"), ("metadata", "metadata")):
            rec = rd[name]
            print(f"  requests of {label}: {_kinds(rec['requests_by_kind'], rec.get('n', 1))}")
        print(
            f"  metadata: 1 request for the key's pointer + 1 per shared blob it refers to "
            f"({b['blobs_per_key']} here: module versions, and the uncommitted diff when the "
            "writer's git checkout had changes)"
        )
        for label, name in (("xarray", "xarray"), ("xarray (v3, consolidated)", "xarray_v3")):
            rec = rd[name]
            print(f"  requests of {label} per key: {_kinds(rec['requests_by_kind'], rec['n'])}")
    wr = results.get("writers")
    if wr:
        n = next(iter(wr.values()))["dask"]["n_keys"]
        print(
            f"\n== {n} keys written into one new database: 2 dask worker processes at once vs "
            "one process in turn =="
        )
        print(
            f"  {SMALL_SIZE} float64 each, every {LARGE_EVERY}th {LARGE_SIZE * 8 // 2**20} MiB; "
            "each process opens the database once"
        )
        print(
            f"{'':24}{'dask':>8}{'seq':>8}{'ratio':>7}{'dask':>8}{'seq':>8}{'dask':>8}{'seq':>8}"
            f"{'index':>7}{'segments':>10}{'moto cpu s':>12}{'load':>6}"
        )
        print(
            f"{'':24}{'keys/s':>8}{'keys/s':>8}{'':>7}{'s':>8}{'s':>8}{'req/key':>8}"
            f"{'req/key':>8}{'share':>7}{'(level)':>10}{'dask/seq':>12}"
        )
        for name, res in wr.items():
            d, s = res["dask"], res["sequential"]
            if "index_after" in d:
                req = f"{d['requests'] / n:8.1f}{s['requests'] / n:8.1f}"
                share = f"{_index_share(d['requests_by_kind']):7.0%}"
                ia = d["index_after"]
                segs = f"{ia['segments']:>5} ({ia['max_level']})"
                cpu = f"{d['server_cpu_s']:.0f}/{s['server_cpu_s']:.0f}"
            else:
                req, share, segs, cpu = f"{'-':>8}{'-':>8}", f"{'-':>7}", "-", "-"
            load = max(d["load_1min"][1], s["load_1min"][1])
            print(
                f"  {name:22}{d['keys_per_s']:8.1f}{s['keys_per_s']:8.1f}"
                f"{res['ratio_dask_over_sequential']:7.2f}{d['wall_s']:8.1f}{s['wall_s']:8.1f}"
                f"{req}{share}{segs:>10}{cpu:>12}{load:6.1f}"
            )
        print(
            "  ratio: dask keys/s over one process's; index share: requests of the key index "
            "among the dask run's; segments (level): the index after the dask run, and its "
            "highest segment level; moto cpu: the S3 server's CPU time"
        )
        for name, res in wr.items():
            if "index_after" in res["sequential"]:
                for mode in ("sequential", "dask"):
                    rec = res[mode]
                    print(
                        f"  {name}, {mode}, requests per key: {_kinds(rec['requests_by_kind'], n)}"
                    )


# ----------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="small sizes: 1,000 keys to read, 20 to write"
    )
    parser.add_argument(
        "--latency",
        type=float,
        default=DEFAULT_LATENCY,
        help=f"seconds added to every S3 request ({DEFAULT_LATENCY})",
    )
    parser.add_argument("--keys", type=int, help="keys of the database read in part 1 (10000)")
    parser.add_argument("--arrays", type=int, help="of them, array keys written through zdb (200)")
    parser.add_argument(
        "--metadata-sample",
        type=int,
        help="keys whose metadata is read, extrapolated to all; 0 for all (300)",
    )
    parser.add_argument(
        "--xarray-sample",
        type=int,
        help="array keys opened with xarray (each way); 0 for all (100)",
    )
    parser.add_argument("--write-keys", type=int, help="keys written in part 2 (200)")
    parser.add_argument(
        "--only", choices=["read", "write"], action="append", help="run only these parts"
    )
    parser.add_argument("--dir", type=Path, help="parent of the local scratch folder (system temp)")
    parser.add_argument("--json", type=Path, help="write the results as JSON to this path")
    args = parser.parse_args(argv)
    n_keys = args.keys or (1000 if args.quick else 10_000)
    n_arrays = args.arrays or (50 if args.quick else 200)
    meta_sample = (
        args.metadata_sample if args.metadata_sample is not None else (100 if args.quick else 300)
    )
    xr_sample = (
        args.xarray_sample if args.xarray_sample is not None else (30 if args.quick else 100)
    )
    n_write = args.write_keys or (20 if args.quick else 200)
    parts = set(args.only or ["read", "write"])

    results: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "zdb": zdb.__version__,
            "zdb_revision": _zdb_revision(),
            "load_average_at_start": os.getloadavg(),
        },
    }
    workdir = Path(tempfile.mkdtemp(prefix="zdb-bench-cluster-", dir=args.dir))
    # the databases created here stay out of the user's registry of databases
    os.environ["ZDB_REGISTRY"] = str(workdir / "registry")
    install_s3_hook(0.0)
    elapsed = results["elapsed_s"] = {}
    try:
        with moto_server() as endpoint:
            options = storage_options(endpoint)
            server = _moto_process()
            make_bucket(endpoint, "bench-open")
            zdb.DataBase("s3://bench-open/db", storage_options=options)
            results["open_cost"] = bench_open("s3://bench-open/db", options)
            if "read" in parts:
                make_bucket(endpoint, "bench-read")
                url = "s3://bench-read/db"
                print(f"Building a database of {n_keys:,} keys on S3 ...", flush=True)
                t0 = time.perf_counter()
                results["build"] = build_database(url, options, n_keys, n_arrays)
                print(f"Reading it with +{args.latency * 1e3:g} ms per request ...", flush=True)
                t1 = time.perf_counter()
                results["reading"] = bench_reading(
                    url, options, n_keys, meta_sample, xr_sample, args.latency, server
                )
                elapsed["build"], elapsed["reading"] = t1 - t0, time.perf_counter() - t1
            if "write" in parts:
                t0 = time.perf_counter()
                results["writers"] = _run_writers(endpoint, options, workdir, n_write, args, server)
                elapsed["writers"] = time.perf_counter() - t0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    results["machine"]["load_average_at_end"] = os.getloadavg()
    print_report(results)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
        print(f"\nwrote {args.json}")
    return results


def _run_writers(
    endpoint: str,
    options: dict,
    workdir: Path,
    n_write: int,
    args: argparse.Namespace,
    server: psutil.Process | None,
) -> dict[str, Any]:
    """Part 2 on a LocalCluster of 2 worker processes of one thread each."""
    from distributed import Client, LocalCluster

    def s3_location() -> tuple[str, dict]:
        # a bucket per database: moto lists a prefix by scanning its whole bucket
        bucket = f"bench-write-{secrets.token_hex(4)}"
        make_bucket(endpoint, bucket)
        return f"s3://{bucket}/db", options

    def local_location() -> tuple[str, None]:
        return str(workdir / f"db-{secrets.token_hex(4)}"), None

    print(f"Writing {n_write} keys with 2 dask workers and with one process ...", flush=True)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(install_s3_hook, 0.0)
        for url, opts in (s3_location(), local_location()):
            zdb.DataBase(url, storage_options=opts)
            _warm_up_workers(client, url, opts)
        return bench_writers(
            client,
            n_write,
            {
                "S3": s3_location,
                f"S3 +{args.latency * 1e3:g} ms latency": s3_location,
                "local disk": local_location,
            },
            args.latency,
            server,
        )


if __name__ == "__main__":
    # run as the module bench_cluster (this folder is on sys.path), so that dask workers
    # import write_key by name and keep its cache of open databases between tasks
    import bench_cluster

    bench_cluster.main()
