"""Crash safety: a writer killed (SIGKILL) at any moment leaves each key with its previous
value or absent, the database opens normally with no stray keys, and readers, in this
process or another, never see a half-written value; on a local disk and on S3 (moto's server)."""

from __future__ import annotations

import json
import os
import random
import secrets
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pytest

import zdb
from zdb import commit

#: the writer stores, in round i, values whose every element is ``i % MODULUS``, so that a
#: value made of two writes (or of a write and fill values) is detectable
WRITER = textwrap.dedent(
    """
    import json
    import sys
    import dask.array as da
    import numpy as np
    import pandas as pd
    import zdb

    db = zdb.DataBase(sys.argv[1], storage_options=json.loads(sys.argv[3]))
    start = int(sys.argv[2])
    i = start
    while True:
        v = i % 251
        db.set("multi", np.full((24, 24), v, dtype="i4"), chunks=(4, 4))  # 36 chunks
        db["small"] = np.full(5, v, dtype="i8")
        db["value"] = {"v": v, "items": [v] * 3, "pair": (v, str(v))}
        db["big"] = [v] * 5000  # stored in a version folder, not inline
        db["dask"] = da.full((30,), v, chunks=4, dtype="f8")
        db["sub", f"k{i % 3}"] = np.full(7, v, dtype="u2")
        db["new", f"n{i}", "x"] = v  # new sub-databases on every round
        for name in ("tmp", "tmp2"):
            if name in db:
                del db[name]
        db["tmp"] = np.full(3, v)
        db.rename("tmp", "tmp2")
        db["frame"] = pd.DataFrame(
            {"a": np.full(3000, v), "s": pd.Series([str(v)] * 3000, dtype="string")}
        )
        if "mv" in db:  # a killed move into new sub-databases may leave both names
            del db["mv"]
        db["mv"] = np.full(4, v)
        db.rename("mv", ("moved", f"r{i}", "mv"))
        db.create_sub_db(("made", f"m{i % 4}"))
        if ("made", f"m{(i + 2) % 4}") in db:
            del db["made", f"m{(i + 2) % 4}"]
        if i == start:
            print("ready", flush=True)
        i += 1
    """
)


@dataclass
class Location:
    """Where the database under test lives: a local folder or an S3 URL."""

    url: str
    options: dict = field(default_factory=dict)
    #: longest wait before a kill: about one round of the writer, which is slower on S3
    kill_window: float = 0.4
    #: rounds of reads in the readers' test (a few writer rounds' worth)
    reads: int = 150

    def open(self, readonly: bool = False) -> zdb.DataBase:
        return zdb.DataBase(self.url, readonly=readonly, storage_options=self.options)


@pytest.fixture(params=["local", "s3"])
def location(request: pytest.FixtureRequest, tmp_path) -> Location:
    """A new database location: a temporary folder, and a prefix of the S3 test bucket."""
    if request.param == "local":
        return Location(str(tmp_path / "db"))
    from .s3_server import storage_options

    endpoint = request.getfixturevalue("s3_endpoint")
    url = f"s3://zdb-tests/{secrets.token_hex(6)}"
    return Location(url, storage_options(endpoint), kill_window=2.0, reads=40)


#: kills per run; CI keeps the default, ZDB_CRASH_ROUNDS=200 makes a long run
ROUNDS = int(os.environ.get("ZDB_CRASH_ROUNDS", "6"))

SINGLE_VALUED_KEYS = {
    ("multi",),
    ("small",),
    ("big",),
    ("dask",),
    ("tmp",),
    ("tmp2",),
    ("frame",),
    ("mv",),
}


def _single_value(value: Any) -> int:
    """The one value every element of ``value`` equals; fails for a mixed value."""
    if isinstance(value, pd.DataFrame):
        v = _single_value(value["a"].to_numpy())
        assert len(value) == 3000 and (value["s"] == str(v)).all(), value
        return v
    if isinstance(value, dict):
        v = value["v"]
        assert value == {"v": v, "items": [v] * 3, "pair": (v, str(v))}, value
        return v
    arr = np.asarray(value)
    assert arr.size > 0
    distinct = np.unique(arr)
    assert len(distinct) == 1, f"a value mixing several writes: {distinct}"
    return int(distinct[0])


def _check_database(location: Location) -> None:
    """The database opens, lists only keys the writer writes, and every key is whole."""
    db = location.open()
    keys = db.keys(recurse=True)
    for key in keys:
        if key in SINGLE_VALUED_KEYS or key == ("value",):
            pass
        elif key[0] == "sub":
            assert key in {("sub", "k0"), ("sub", "k1"), ("sub", "k2")}, key
        elif key[0] == "new":
            assert len(key) == 3 and key[1].startswith("n") and key[2] == "x", key
        elif key[0] == "moved":
            assert len(key) == 3 and key[1].startswith("r") and key[2] == "mv", key
        else:
            raise AssertionError(f"stray key {key!r}")
        value = db[key]
        assert 0 <= _single_value(value) < 251
    assert "multi" in db and "value" in db  # written before the first kill
    for name in db["new"].keys():  # no sub-database left half made
        assert db["new", name].keys() == ["x"], name
    for name in db["moved"].keys() if "moved" in db else []:  # moves leave none empty
        assert db["moved", name].keys() == ["mv"], name
    if "made" in db:  # sub-databases created and deleted: whole, empty ones
        assert set(db["made"].keys()) <= {"m0", "m1", "m2", "m3"}
        for name in db["made"].keys():
            assert zdb.is_sub_data_base(db["made"], name) and db["made", name].keys() == []
    assert not {"tmp", "tmp2"} <= set(db.keys())


def _check_repair(location: Location) -> None:
    """The index lists no key that is gone; repair_index lists every key the folder holds
    but those whose deletion the killed writer had recorded, and then has nothing to do."""
    db = location.open()
    report = db.repair_index()
    assert report["removed"] == [], report
    assert db.repair_index() == {"added": [], "removed": [], "left": report["left"], "damaged": []}
    left = {key[0] for key in report["left"] if len(key) == 1}
    listed = set(commit.listed_names(db.ref))
    assert set(db.keys()) <= listed and listed - set(db.keys()) == left, report


def _start_writer(location: Location, start: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", WRITER, location.url, str(start), json.dumps(location.options)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline()
    if line.strip() != "ready":
        proc.kill()
        raise AssertionError(f"the writer did not start: {proc.stderr.read()}")
    return proc


def test_a_writer_killed_at_random_moments_leaves_whole_keys(location):
    rng = random.Random()
    seed = rng.randrange(2**32)
    rng.seed(seed)
    for round_ in range(ROUNDS):
        proc = _start_writer(location, start=round_ * 1000)
        time.sleep(rng.uniform(0.0, location.kill_window))
        proc.kill()  # SIGKILL
        proc.wait(timeout=30)
        assert proc.returncode == -9, proc.stderr.read()
        try:
            _check_database(location)
            _check_repair(location)
        except AssertionError as e:
            raise AssertionError(f"after round {round_} (random seed {seed}): {e}") from e
    # the database is fully usable after the kills
    db = location.open()
    for key in db.keys(recurse=True):
        db[key] = 1
        assert db[key] == 1
    for key in db.keys():
        del db[key]
    assert db.keys() == []


READER = textwrap.dedent(
    """
    import json
    import sys
    import numpy as np
    import zdb

    db = zdb.DataBase(sys.argv[1], readonly=True, storage_options=json.loads(sys.argv[3]))
    seen = {"multi": set(), "small": set(), "value": set(), "big": set()}
    for _ in range(int(sys.argv[2])):
        for key in seen:
            value = db[key]
            if key == "value":
                v = value["v"]
                assert value == {"v": v, "items": [v] * 3, "pair": (v, str(v))}, value
            else:
                distinct = np.unique(np.asarray(value))
                assert len(distinct) == 1, (key, distinct)
                v = int(distinct[0])
            seen[key].add(v)
    print(" ".join(f"{k}={len(s)}" for k, s in seen.items()), flush=True)
    """
)


@pytest.mark.parametrize("reader", ["other process", "this process"])
def test_readers_never_see_a_half_written_value(location, reader):
    writer = _start_writer(location, start=0)
    try:
        if reader == "other process":
            result = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    READER,
                    location.url,
                    str(location.reads),
                    json.dumps(location.options),
                ],
                capture_output=True,
                text=True,
                timeout=300,
            )
            assert result.returncode == 0, result.stderr
            counts = dict(item.split("=") for item in result.stdout.split())
            distinct_multi = int(counts["multi"])
        else:
            db = location.open(readonly=True)
            seen = set()
            for _ in range(location.reads):
                seen.add(_single_value(db["multi"]))
                _single_value(db["value"])
                _single_value(db["small"])
            distinct_multi = len(seen)
        assert writer.poll() is None, writer.stderr.read()
    finally:
        writer.kill()
        writer.wait(timeout=30)
    # the reads overlapped the writes: several versions were seen, each whole
    assert distinct_multi > 1
