"""``zdb export``, ``zdb cp`` and ``zdb rm`` on a local database and on S3, and the
conventions every command follows (exit status, errors on stderr, a real process)."""

from __future__ import annotations

import json
import secrets
import subprocess
import sys

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
    db["params", "run2"] = {"seed": 2}
    db["n"] = 5
    return place


def test_export_to_a_zip_archive_leaves_out_leftovers(capsys, place, tmp_path):
    db = place.db()
    plant.retired_version(db, "vm")
    out = tmp_path / "out.zip"
    result = run(capsys, "export", place.url, str(out), *place.args, "--json")
    assert result.code == 0, result.err
    assert result.json()["kind"] == "zip"
    archive = zdb.DataBase(out)
    assert archive.readonly and archive.unique_id == db.unique_id
    assert archive.keys(recurse=True) == db.keys(recurse=True)
    assert np.array_equal(archive["vm"], db["vm"])
    assert zdb.fsck(archive).ok
    assert run(capsys, "export", place.url, str(out), *place.args).code == 1  # exists


def test_export_copies_a_database_to_another_location(capsys, place):
    db = place.db()
    plant.stray_staging_folder(db)
    other = place.beside("copy")
    result = run(capsys, "export", place.url, other.url, *place.args, "--json")
    assert result.code == 0, result.err
    copy = other.db()
    assert copy.unique_id == db.unique_id
    assert copy.keys(recurse=True) == db.keys(recurse=True)
    assert copy.metadata["vm"] == db.metadata["vm"]
    assert np.array_equal(copy["vm"], db["vm"])
    report = zdb.fsck(copy)
    assert report.ok and report.in_progress == []  # the staging folder stayed behind
    again = run(capsys, "export", place.url, other.url, *place.args)
    assert again.code == 1 and "not empty" in again.err


def test_export_from_a_local_database_to_s3(capsys, tmp_path, s3_endpoint):
    from .s3_server import storage_options

    local = zdb.DataBase(tmp_path / "db")
    local["x"] = np.arange(5)
    local["s", "y"] = "text"
    remote = Place(f"s3://zdb-tests/exported-{secrets.token_hex(6)}", [], None)
    remote.options = storage_options(s3_endpoint)
    args = [f"--storage-option={k}={json.dumps(v)}" for k, v in remote.options.items()]
    result = run(capsys, "export", str(tmp_path / "db"), remote.url, *args)
    assert result.code == 0, result.err
    copy = remote.db()
    assert copy.keys(recurse=True) == [("s", "y"), ("x",)]
    assert copy["s", "y"] == "text" and copy.ref.indexed  # an object store gets its index


def test_cp_copies_a_key_with_its_provenance(capsys, place):
    db = place.db()
    other = place.beside("other")
    result = run(capsys, "cp", place.url, "vm", other.url, "copied/vm", *place.args, "--json")
    assert result.code == 0, result.err
    assert result.json()["new_key"] == ["copied", "vm"]
    target = other.db()
    assert np.array_equal(target["copied", "vm"], db["vm"])
    assert target.metadata["copied", "vm"] == db.metadata["vm"]
    assert zdb.fsck(target).ok
    sub = run(capsys, "cp", place.url, "params", other.url, *place.args)
    assert sub.code == 0 and "copied params" in sub.out
    assert other.db()["params"].keys() == ["run1", "run2"]
    assert other.db()["params", "run2"] == {"seed": 2}


def test_rm_deletes_a_key(capsys, place):
    result = run(capsys, "rm", place.url, "params/run1", *place.args, "--json")
    assert result.code == 0, result.err
    assert result.json()["removed"] == ["params", "run1"]
    assert place.db()["params"].keys() == ["run2"]
    missing = run(capsys, "rm", place.url, "params/run1", *place.args)
    assert missing.code == 1 and "zdb ls" in missing.err and missing.out == ""


def test_errors_go_to_stderr_with_exit_status_1_and_say_what_to_do(capsys, tmp_path):
    nothing = run(capsys, "ls", str(tmp_path / "nothing"))
    assert nothing.code == 1 and "holds no database; check the path" in nothing.err
    assert not (tmp_path / "nothing").exists()  # inspecting never creates a database
    usage = run(capsys, "ls")
    assert usage.code == 1 and "zdb ls --help" in usage.err
    zdb.DataBase(tmp_path / "db")["x"] = 1
    bad_key = run(capsys, "info", str(tmp_path / "db"), "../x")
    assert bad_key.code == 1 and "'..'" in bad_key.err
    option = run(capsys, "ls", str(tmp_path), "--storage-option", "novalue")
    assert option.code == 1 and "KEY=VALUE" in option.err
    creds = run(capsys, "ls", "memory://zdb-cli-nothing")
    assert creds.code == 1 and creds.out == ""


def test_the_zdb_command_runs_as_a_process_without_progress_bars(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db["x"] = 1
    proc = subprocess.run(
        [sys.executable, "-m", "zdb", "fsck", str(tmp_path / "db"), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["keys_checked"] == 1
    assert proc.stderr == ""  # not a terminal: no progress bar
    broken = subprocess.run(
        [sys.executable, "-m", "zdb", "meta", str(tmp_path / "db"), "missing"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert broken.returncode == 1 and broken.stdout == ""
    assert "no key 'missing'" in broken.stderr


def test_storage_options_are_read_as_json_and_nest_with_dots():
    import argparse

    from zdb.cli.common import CommandError, storage_options

    args = argparse.Namespace(
        storage_option=[
            "anon=true",
            "endpoint_url=http://127.0.0.1:9000",
            "client_kwargs.region_name=eu-west-1",
            "client_kwargs.retries=3",
        ]
    )
    assert storage_options(args) == {
        "anon": True,
        "endpoint_url": "http://127.0.0.1:9000",
        "client_kwargs": {"region_name": "eu-west-1", "retries": 3},
    }
    assert storage_options(argparse.Namespace(storage_option=[])) is None
    with pytest.raises(CommandError, match="set twice"):
        storage_options(argparse.Namespace(storage_option=["a=1", "a.b=2"]))
