"""``zdb fsck`` (and ``zdb.fsck``) on a local database and on S3: planted damage is
found and named, ``--repair`` fixes what is safe and never touches a damaged key."""

from __future__ import annotations

import os
import sys

import numpy as np
import pandas as pd
import pytest

import zdb
from zdb import check

from . import cli_plant as plant
from .cli_helpers import Place, new_place, run


@pytest.fixture(params=["local", "s3"])
def place(request: pytest.FixtureRequest, tmp_path) -> Place:
    place = new_place(request, tmp_path, request.param)
    db = place.db()
    db.set("vm", np.arange(200.0).reshape(20, 10), chunks=(4, 5))
    db["spikes"] = pd.DataFrame({"cell": [3, 7, 9], "t": [12.5, 40.0, 41.0]})
    db["params", "run1"] = {"seed": 1}
    db["n"] = 5
    return place


@pytest.fixture
def later(monkeypatch):
    """Measure leftovers' ages two days from now: everything planted is stale."""
    import zdb.leftovers

    real = zdb.leftovers._now
    monkeypatch.setattr(zdb.leftovers, "_now", lambda: real() + 2 * 24 * 3600.0)


def fsck_json(capsys, place: Place, *extra: str) -> tuple[int, dict]:
    result = run(capsys, "fsck", place.url, *place.args, "--json", *extra)
    return result.code, result.json()


def problems(report: dict) -> dict[tuple, str]:
    return {
        (tuple(f["key"]) if f["key"] is not None else f["path"]): f["problem"]
        for f in report["findings"]
    }


def test_a_healthy_database_passes_with_exit_status_0(capsys, place):
    code, report = fsck_json(capsys, place)
    assert code == 0
    assert report["ok"] is True and report["findings"] == []
    assert report["keys_checked"] == 4
    text = run(capsys, "fsck", place.url, *place.args)
    assert text.code == 0 and "4 keys checked" in text.out and "nothing wrong" in text.out


def test_a_missing_chunk_is_found_naming_the_key_and_repair_leaves_the_key(capsys, place):
    db = place.db()
    chunk = plant.remove_a_chunk(db, "vm")
    before = {f: db.ref.store.read_bytes(f) for f in db.ref.store.files(db.ref.path("vm"))}
    code, report = fsck_json(capsys, place)
    assert code == 1
    assert problems(report) == {("vm",): check.UNREADABLE_VALUE}
    [finding] = report["findings"]
    assert chunk.rpartition("/")[2] in finding["message"] and "delete" in finding["message"]
    assert finding["repairable"] is False
    code, report = fsck_json(capsys, place, "--repair")
    assert code == 1 and problems(report) == {("vm",): check.UNREADABLE_VALUE}
    after = {f: db.ref.store.read_bytes(f) for f in db.ref.store.files(db.ref.path("vm"))}
    assert after == before


def test_truncated_zarr_json_documents_are_found_and_never_rewritten(capsys, place):
    db = place.db()
    pointer = db.ref.path("n", "zarr.json")
    table = f"{version_path(db, 'spikes')}/zarr.json"
    plant.truncate(db, pointer)
    plant.truncate(db, table)
    damaged = {p: db.ref.store.read_bytes(p) for p in (pointer, table)}
    code, report = fsck_json(capsys, place)
    assert code == 1
    assert problems(report) == {
        ("n",): check.DAMAGED_POINTER,
        ("spikes",): check.UNREADABLE_VALUE,
    }
    code, report = fsck_json(capsys, place, "--repair")
    assert code == 1 and len(report["findings"]) == 2
    assert {p: db.ref.store.read_bytes(p) for p in damaged} == damaged
    text = run(capsys, "fsck", place.url, *place.args)
    assert "damaged pointer: " in text.out and "'n'" in text.out


def version_path(db: zdb.DataBase, key: str) -> str:
    return plant.version_path(db, key)


def test_an_unlisted_key_is_found_and_repair_lists_it(capsys, place):
    db = place.db()
    if db.ref.store.cheap_listing:
        pytest.skip("a local database lists its folder: it keeps no index to miss a key")
    db.ref.store.copy(db.ref.path("n"), db.ref.path("copied"))  # committed, never indexed
    assert "copied" not in db.keys()
    code, report = fsck_json(capsys, place)
    assert code == 1
    assert problems(report) == {("copied",): check.UNLISTED_KEY}
    assert report["findings"][0]["repairable"] is True
    code, report = fsck_json(capsys, place, "--repair")
    assert code == 0 and report["findings"][0]["repaired"] is True
    assert "copied" in place.db().keys()
    assert fsck_json(capsys, place)[0] == 0


def test_a_stray_staging_folder_is_found_and_repair_removes_it(capsys, place):
    db = place.db()
    stray = plant.stray_staging_folder(db)
    code, report = fsck_json(capsys, place)
    assert code == 1
    assert problems(report) == {db.ref.store.full(stray): check.LEFTOVER}
    code, report = fsck_json(capsys, place, "--repair")
    assert code == 0 and report["findings"][0]["repaired"] is True
    assert not db.ref.store.exists(stray)
    assert fsck_json(capsys, place)[0] == 0


def test_a_young_staging_folder_may_be_a_live_writer_and_is_no_problem(capsys, place):
    db = place.db()
    young = plant.stray_staging_folder(db, age=60)
    code, report = fsck_json(capsys, place, "--repair")
    assert code == 0
    assert [x["full"] for x in report["in_progress"]] == [db.ref.store.full(young)]
    assert db.ref.store.exists(young)


def test_stale_temporary_files_are_found_and_repair_removes_them(capsys, place, later):
    db = place.db()
    paths = [plant.temporary_file(db), plant.temporary_file(db, "n")]
    code, report = fsck_json(capsys, place)
    assert code == 1
    assert problems(report) == {db.ref.store.full(p): check.LEFTOVER for p in paths}
    code, report = fsck_json(capsys, place, "--repair")
    assert code == 0
    assert not any(db.ref.store.exists(p) for p in paths)
    assert place.db()["n"] == 5


@pytest.mark.local_files
def test_a_temporary_file_is_stale_by_its_modification_time(capsys, place):
    db = place.db()
    path = plant.temporary_file(db)
    code, _ = fsck_json(capsys, place)
    assert code == 0  # fresh: maybe a live writer's
    full = db.ref.store.full(path)
    os.utime(full, (1e9, 1e9))
    code, report = fsck_json(capsys, place, "--repair")
    assert code == 0 and report["findings"][0]["repaired"] is True
    assert not os.path.exists(full)


def test_the_library_function_returns_a_report(place):
    db = place.db()
    plant.remove_a_chunk(db, "vm")
    report = zdb.fsck(db)
    assert not report.ok
    assert [(f.key, f.problem) for f in report.findings] == [(("vm",), check.UNREADABLE_VALUE)]
    assert report.to_dict()["findings"][0]["key"] == ["vm"]


def test_repair_of_a_read_only_database_is_refused(tmp_path, capsys):
    db = zdb.DataBase(tmp_path / "db")
    db["x"] = 1
    zdb.export_zip(db, tmp_path / "db.zip")
    result = run(capsys, "fsck", str(tmp_path / "db.zip"), "--repair")
    assert result.code == 1 and "read-only" in result.err
    assert run(capsys, "fsck", str(tmp_path / "db.zip")).code == 0


def test_progress_is_shown_on_a_terminal_only(capsys, tmp_path, monkeypatch):
    db = zdb.DataBase(tmp_path / "db")
    db["x"] = 1
    assert run(capsys, "fsck", str(tmp_path / "db")).err == ""
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert "checking keys" in run(capsys, "fsck", str(tmp_path / "db")).err
    assert run(capsys, "fsck", str(tmp_path / "db"), "--json").err == ""
    assert run(capsys, "fsck", str(tmp_path / "db"), "--quiet").err == ""


def test_a_damaged_database_node_is_found_and_repair_gives_a_new_unique_id(capsys, tmp_path):
    import json as json_

    db = zdb.DataBase(tmp_path / "db")
    db["x"] = 1
    root = tmp_path / "db" / "zarr.json"
    doc = json_.loads(root.read_text())
    doc["attributes"]["zdb"]["unique_id"] = "../../elsewhere"
    root.write_text(json_.dumps(doc))
    result = run(capsys, "fsck", str(tmp_path / "db"), "--json")
    assert result.code == 1
    assert problems(result.json()) == {(): check.DAMAGED_DATABASE}
    with pytest.warns(UserWarning, match="new unique id"):
        assert run(capsys, "fsck", str(tmp_path / "db"), "--repair").code == 0
    assert zdb.DataBase(tmp_path / "db").unique_id != "../../elsewhere"
    assert run(capsys, "fsck", str(tmp_path / "db")).code == 0


def test_values_too_large_to_read_whole_are_checked_chunk_by_chunk(place, monkeypatch):
    monkeypatch.setattr(check, "_EAGER_BYTES", 0)  # every value is "large"
    db = place.db()
    db.set("frame", pd.DataFrame({"a": np.arange(1000)}), chunk_rows=100)
    assert zdb.fsck(db).ok
    plant.remove_a_chunk(db, "vm")
    plant.remove_a_chunk(db, "frame")
    found = {f.key: f.problem for f in zdb.fsck(db).findings}
    assert found == {("vm",): check.UNREADABLE_VALUE, ("frame",): check.UNREADABLE_VALUE}
