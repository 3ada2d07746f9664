"""``zdb gc`` (and ``zdb.gc``) on a local database and on S3: it removes exactly what
``--dry-run`` lists, nothing younger than the format's age limit, never a live key,
and is safe while another process writes."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import zdb

from . import cli_plant as plant
from .cli_helpers import Place, new_place, run


@pytest.fixture(params=["local", "s3"])
def place(request: pytest.FixtureRequest, tmp_path) -> Place:
    place = new_place(request, tmp_path, request.param)
    db = place.db()
    db.set("vm", np.arange(200.0).reshape(20, 10), chunks=(4, 5))
    db["params", "run1"] = {"seed": 1}
    db["n"] = 5
    return place


@pytest.fixture
def later(monkeypatch):
    """Measure leftovers' ages two days from now: everything planted is stale."""
    import zdb.leftovers

    real = zdb.leftovers._now
    monkeypatch.setattr(zdb.leftovers, "_now", lambda: real() + 2 * 24 * 3600.0)


def plant_everything(db: zdb.DataBase) -> set[str]:
    """One leftover of each kind; the store paths gc must remove."""
    sub = db["params"]
    paths = {
        plant.stray_staging_folder(db),
        plant.stray_staging_folder(sub),
        plant.retired_version(db, "vm"),
        plant.retired_version(sub, "run1"),
        plant.uncommitted_key(db, "never_committed"),
        plant.temporary_file(db),
        plant.temporary_file(db, "n"),
    }
    trash = db.ref.path(".zdb/trash/0123456789abcdef")
    db.ref.store.write_bytes(f"{trash}/zarr.json", b"{}")
    return paths | {trash}


def test_dry_run_lists_every_path_and_gc_removes_only_those(capsys, place, later):
    db = place.db()
    planted = plant_everything(db)
    files_before = set(db.ref.store.files(""))
    dry = run(capsys, "gc", place.url, *place.args, "--dry-run", "--json")
    assert dry.code == 0, dry.err
    listed = {x["path"] for x in dry.json()["removed"]}
    assert listed == planted
    assert set(db.ref.store.files("")) == files_before  # a dry run removes nothing
    text = run(capsys, "gc", place.url, *place.args, "--dry-run")
    for path in planted:
        assert f"would remove {db.ref.store.full(path)}" in text.out
    done = run(capsys, "gc", place.url, *place.args, "--json")
    assert done.code == 0
    assert {x["path"] for x in done.json()["removed"]} == listed
    gone = {f for f in files_before if any(f == p or f.startswith(f"{p}/") for p in planted)}
    assert set(db.ref.store.files("")) == files_before - gone
    assert not db.ref.store.exists(db.ref.path("never_committed"))
    fresh = place.db()
    assert fresh["n"] == 5 and fresh["params", "run1"] == {"seed": 1}
    assert np.array_equal(fresh["vm"], np.arange(200.0).reshape(20, 10))
    assert zdb.fsck(fresh).ok
    again = run(capsys, "gc", place.url, *place.args, "--json").json()
    assert again["removed"] == []


def test_nothing_younger_than_the_age_limit_is_touched(capsys, place):
    db = place.db()
    young = {
        plant.stray_staging_folder(db, age=3600),
        plant.retired_version(db, "vm", age=3600),
        plant.uncommitted_key(db, "being_written", age=60),
        plant.temporary_file(db),
    }
    files_before = set(db.ref.store.files(""))
    result = run(capsys, "gc", place.url, *place.args, "--json")
    assert result.code == 0
    report = result.json()
    assert report["removed"] == []
    assert {x["path"] for x in report["kept"]} == young
    assert set(db.ref.store.files("")) == files_before
    assert "kept " in run(capsys, "gc", place.url, *place.args).out


def test_a_damaged_key_is_never_touched(capsys, place, later):
    db = place.db()
    old = plant.retired_version(db, "n")
    plant.truncate(db, db.ref.path("n", "zarr.json"))
    before = set(db.ref.store.files(db.ref.path("n")))
    report = zdb.gc(place.db())
    assert old not in {x.path for x in report.removed}
    assert set(db.ref.store.files(db.ref.path("n"))) == before


def test_gc_of_a_read_only_database_is_refused_but_a_dry_run_is_not(tmp_path, capsys):
    db = zdb.DataBase(tmp_path / "db")
    db["x"] = 1
    zdb.export_zip(db, tmp_path / "db.zip")
    result = run(capsys, "gc", str(tmp_path / "db.zip"))
    assert result.code == 1 and "read-only" in result.err
    assert run(capsys, "gc", str(tmp_path / "db.zip"), "--dry-run").code == 0


WRITER = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import zdb
    url, options, rounds = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    db = zdb.DataBase(url, storage_options=options)
    print("ready", flush=True)
    for i in range(rounds):
        db["vm"] = np.full((20, 10), float(i))
        db["counter"] = i
        db["runs", f"r{i}"] = {"i": i}
        db["nested", f"n{i}", "x"] = i
        if i >= 2:
            del db["runs", f"r{i - 2}"]
    print("done", flush=True)
    """
)


def test_gc_is_safe_while_another_process_writes(place):
    db = place.db()
    stale = {
        plant.stray_staging_folder(db),
        plant.retired_version(db, "vm"),
        plant.retired_version(db, "n"),
    }
    rounds = 25
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, place.url, json.dumps(place.options), str(rounds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline().strip() == "ready"
        removed: set[str] = set()
        passes = 0
        while writer.poll() is None or passes == 0:
            report = zdb.gc(place.db())
            removed |= {x.path for x in report.removed}
            assert all(x.stale for x in report.removed)
            passes += 1
        assert writer.wait(timeout=120) == 0
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert removed == stale
    fresh = place.db()
    assert fresh["counter"] == rounds - 1
    assert np.array_equal(fresh["vm"], np.full((20, 10), float(rounds - 1)))
    assert fresh["runs"].keys() == [f"r{rounds - 2}", f"r{rounds - 1}"]
    assert [fresh["nested", f"n{i}", "x"] for i in range(rounds)] == list(range(rounds))
    report = zdb.fsck(fresh)
    assert report.ok, report.to_dict()
