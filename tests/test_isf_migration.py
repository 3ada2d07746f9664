"""``zdb migrate``: ISF databases converted into zdb databases key by key, undecodable
keys kept byte for byte, unique ids and metadata kept, the old folder untouched, and a
migration killed at any point finished by running it again."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import zdb
from zdb import isf_migration
from zdb.__main__ import main
from zdb.exceptions import CorruptKeyError, DataBaseException, NotADataBaseError
from zdb.format import DatabaseNode, KeyNode
from zdb.isf_data_base import ISFDataBase, SharedNumpyStore, migrate
from zdb.testing import isf_writer

from .test_cell_dumper import synthetic_cell
from .test_isf_data_base import frame, partitions, shared, snapshot


def assert_same(old, new) -> None:
    """The value read from the ISF database equals the one read from the zdb one."""
    if hasattr(old, "npartitions"):
        assert new.npartitions == old.npartitions and new.divisions == old.divisions
        old, new = old.compute(), new.compute()
    if isinstance(old, pd.DataFrame):
        pd.testing.assert_frame_equal(new, old)
    elif isinstance(old, pd.Series):
        pd.testing.assert_series_equal(new, old)
    elif isinstance(old, np.ndarray):
        np.testing.assert_array_equal(new, old)
        assert new.dtype == old.dtype
    elif isinstance(old, dict):
        assert type(new) is dict and list(new) == list(old)
        for k in old:
            assert_same(old[k], new[k])
    elif isinstance(old, list | tuple):
        assert type(new) is type(old) and len(new) == len(old)
        for a, b in zip(old, new, strict=True):
            assert_same(a, b)
    elif isinstance(old, float) and np.isnan(old):
        assert np.isnan(new)
    else:
        assert new == old


def files_of(folder: str) -> dict[str, bytes]:
    out = {}
    for root, _, names in os.walk(folder):
        for name in names:
            full = os.path.join(root, name)
            out[os.path.relpath(full, folder)] = Path(full).read_bytes()
    return out


def assert_migrated(old_path: Path, new_path: Path, allow_pickle: bool = True) -> None:
    """Every key of the ISF database is in the zdb one with an equal value, or kept
    opaque with the reason its reading gave; ids and metadata kept."""
    old = ISFDataBase(old_path, allow_pickle=allow_pickle)
    new = zdb.DataBase(new_path, readonly=True)
    assert new.unique_id == old.unique_id
    assert new.keys(recurse=True) == old.keys(recurse=True)
    for key in old.keys(recurse=True):
        for depth in range(1, len(key)):
            assert new[key[:depth]].unique_id == old[key[:depth]].unique_id
        raw = json.loads((Path(old.path_of(key)) / "metadata.json").read_text())
        meta = new.metadata[key]
        assert meta["isf"] == raw and meta["metadata_creation_time"] == "migrated"
        try:
            value = old[key]
        except DataBaseException as e:
            assert new.node(key).dumper == "isf_opaque"
            with pytest.raises(CorruptKeyError, match="kept as ISF wrote it") as info:
                new[key]
            assert str(e)[:60] in str(info.value)
            kept = files_of(os.path.join(new.path_of(key), "files"))
            assert kept == files_of(old.path_of(key))  # byte for byte
            continue
        if isinstance(value, zdb.ManagedFolder | SharedNumpyStore):
            expected = files_of(getattr(value, "working_dir", value))
            for isf_file in ("Loader.json", "metadata.json", "Loader.pickle"):
                expected.pop(isf_file, None)
            assert type(new[key]) is type(value)  # a store stays a store
            assert files_of(getattr(new[key], "working_dir", new[key])) == expected
            continue
        assert_same(value, new[key])


@pytest.mark.parametrize("name", ["18k_trials", "voltage_traces", "biophysics"])
def test_the_shared_databases_migrate_key_by_key_and_stay_byte_identical(name, tmp_path):
    source = shared(name)
    before = snapshot(source)
    report = migrate(source, tmp_path / "new", allow_pickle=True, progress=False)
    assert snapshot(source) == before
    assert_migrated(source, tmp_path / "new")
    old = ISFDataBase(source)
    assert sorted(report.converted + list(report.opaque)) == sorted(
        "/".join(k) for k in old.keys(recurse=True)
    )
    assert report.failed == {} and report.bytes_before == sum(v[0] for v in before.values())
    assert report.bytes_after > 0
    if name == "biophysics":
        assert sorted(report.opaque) == [
            "89/get_Combiner",
            "89/get_Evaluator",
            "89/get_Simulator",
            "89/get_fixed_params",
            "simulator",
        ]
    registered = zdb.get_db_by_unique_id(old.unique_id)
    assert registered.basedir == str(tmp_path / "new")


def test_without_allow_pickle_pickled_keys_are_kept_opaque_and_said_why(tmp_path):
    source = shared("voltage_traces")
    report = migrate(source, tmp_path / "new", progress=False)
    assert report.converted == [] and len(report.opaque) == 4
    assert all("--allow-pickle" in reason for reason in report.opaque.values())
    assert_migrated(source, tmp_path / "new", allow_pickle=False)


@pytest.fixture
def isf_db(tmp_path: Path) -> Path:
    """An ISF database with a key of every dumper, written as ISF wrote them."""
    db = isf_writer.create_database(str(tmp_path / "isf"))
    array = np.arange(24, dtype="float32").reshape(4, 6)
    for dumper in ("numpy_to_npy", "numpy_to_npz", "numpy_to_zarr", "numpy_to_msgpack"):
        isf_writer.write_key(db, dumper, dumper, array)
    for dumper in ("pandas_to_pickle", "pandas_to_msgpack", "pandas_to_parquet"):
        isf_writer.write_key(db, dumper, dumper, frame())
    divisions = [100, 103, 106, 108]
    for dumper in ("dask_to_parquet", "dask_to_msgpack", "dask_to_categorized_msgpack"):
        isf_writer.write_key(db, dumper, dumper, partitions=partitions(), divisions=divisions)
    isf_writer.write_key(db, "to_pickle", "to_pickle", {"seed": 1, "vm": np.arange(3.0)})
    isf_writer.write_key(db, "to_cloudpickle", "to_cloudpickle", (np.arange(2), "a"))
    isf_writer.write_key(db, "to_msgpack", "to_msgpack", {"seed": 1, "cells": ["a", "b"]})
    isf_writer.write_key(db, "folder", "just_create_folder", {"a.hoc": b"soma", "b.txt": b"x"})
    isf_writer.write_key(db, "store", "shared_numpy_store", {"vm": np.arange(6.0)})
    isf_writer.write_key(db, "cell", "cell", synthetic_cell())
    isf_writer.key_folder(db, "model", "reduced_lda_model")
    isf_writer.write_key(db, "sub", "just_create_isf_db", unique_id="2024-01-01_1_subdb")
    isf_writer.write_key(f"{db}/sub/db", "inner", "numpy_to_npy", np.arange(5))
    broken = isf_writer.write_key(db, "broken", "numpy_to_npy", np.arange(3))
    os.remove(os.path.join(broken, "np.npy"))
    return Path(db)


def test_every_isf_dumper_migrates_into_zdbs_format_for_its_type(isf_db, tmp_path):
    before = snapshot(isf_db)
    report = migrate(isf_db, tmp_path / "new", allow_pickle=True, jobs=2, progress=False)
    assert snapshot(isf_db) == before
    assert sorted(report.opaque) == ["broken", "model"]
    assert "is missing" in report.opaque["broken"] and "ModelDataBase" in report.opaque["model"]
    assert_migrated(isf_db, tmp_path / "new")
    new = zdb.DataBase(tmp_path / "new")
    dumpers = {k: new.node(k).dumper for k in new.keys() if isinstance(new.node(k), KeyNode)}
    assert dumpers["numpy_to_npz"] == "numpy_to_zarr"
    assert dumpers["pandas_to_msgpack"] == "pandas_to_zarr"
    assert dumpers["dask_to_categorized_msgpack"] == "dask_to_zarr"
    assert dumpers["to_msgpack"] == "python_value"
    assert dumpers["cell"] == "cell"
    assert dumpers["folder"] == "just_create_folder"
    assert dumpers["store"] == "shared_numpy_store"
    assert os.listdir(new["store"].working_dir) == ["vm__6__float64"]
    assert new["store"]["vm"].tolist() == list(np.arange(6.0))
    new["new_key"] = 1  # the migrated database is an ordinary zdb database
    assert new.created_here and new["to_cloudpickle"][1] == "a"


def test_a_migrated_folder_copy_interrupted_is_redone_whole(isf_db, tmp_path, monkeypatch):
    copy = isf_migration._copy_folder

    def copy_then_die(store, path, into):
        copy(store, path, into)
        os.remove(os.path.join(into, "b.txt"))  # as if killed half-way through
        raise KeyboardInterrupt

    monkeypatch.setattr(isf_migration, "_copy_folder", copy_then_die)
    with pytest.raises(KeyboardInterrupt):
        migrate(isf_db, tmp_path / "new", allow_pickle=True, jobs=1, progress=False)
    monkeypatch.setattr(isf_migration, "_copy_folder", copy)
    migrate(isf_db, tmp_path / "new", allow_pickle=True, jobs=1, progress=False)
    assert sorted(os.listdir(zdb.DataBase(tmp_path / "new")["folder"])) == ["a.hoc", "b.txt"]
    assert_migrated(isf_db, tmp_path / "new")


_CHILD = """
import sys
from zdb.isf_data_base import migrate
migrate(sys.argv[1], sys.argv[2], allow_pickle=True, jobs=1, progress=False)
"""


def _journal_keys(path: Path) -> int:
    try:
        return (path / ".zdb" / "isf_migration.jsonl").read_text().count('"state":"converted"')
    except FileNotFoundError:
        return 0


@pytest.mark.parametrize("after_keys", [0, 3, 9])
def test_a_migration_killed_with_sigkill_finishes_when_run_again(isf_db, tmp_path, after_keys):
    new = tmp_path / "new"
    before = snapshot(isf_db)
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(isf_db), str(new)])
    try:
        deadline = time.monotonic() + 120
        while _journal_keys(new) < after_keys or not (new / "zarr.json").exists():
            assert child.poll() is None, "the migration ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.01)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    written = {}
    if (new / "zarr.json").exists():
        done = zdb.DataBase(new, readonly=True)
        written = {
            k: done.node(k).version for k in done.keys() if isinstance(done.node(k), KeyNode)
        }
    report = migrate(isf_db, new, allow_pickle=True, jobs=1, progress=False)
    assert snapshot(isf_db) == before
    assert_migrated(isf_db, new)
    again = zdb.DataBase(new, readonly=True)
    for key, version in written.items():  # never converted twice
        if key not in ("folder", "store"):
            assert again.node(key).version == version
    total = len(ISFDataBase(isf_db).keys(recurse=True))
    assert len(report.converted) + len(report.opaque) == total
    assert not os.listdir(new / ".zdb" / "staging") if (new / ".zdb" / "staging").exists() else True


def test_the_command_line_prints_a_json_report_and_exits_0(isf_db, tmp_path, capsys):
    status = main(["migrate", str(isf_db), str(tmp_path / "new"), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert status == 0
    assert set(out) >= {"converted", "opaque", "bytes_before", "bytes_after"}
    assert "sub/inner" in out["converted"] and "to_pickle" in out["opaque"]
    assert out["bytes_before"] == sum(v[0] for v in snapshot(isf_db).values())
    status = main(["migrate", str(isf_db), str(tmp_path / "new"), "--quiet", "--allow-pickle"])
    assert status == 0 and "keys converted" in capsys.readouterr().out


def test_migrating_into_a_folder_that_holds_something_else_is_refused(isf_db, tmp_path, capsys):
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(NotADataBaseError, match="not empty"):
        migrate(isf_db, other, progress=False)
    zdb.DataBase(tmp_path / "zdb")["x"] = 1
    with pytest.raises(DataBaseException, match="no migration of"):
        migrate(isf_db, tmp_path / "zdb", progress=False)
    with pytest.raises(DataBaseException, match="never written to"):
        migrate(isf_db, isf_db / "inside", progress=False)
    assert main(["migrate", str(isf_db), str(other)]) == 1
    assert "not empty" in capsys.readouterr().err
    mdb = tmp_path / "mdb"
    mdb.mkdir()
    (mdb / "sqlitedict.db").write_bytes(b"")
    with pytest.raises(NotADataBaseError, match="ModelDataBase"):
        migrate(mdb, tmp_path / "from_mdb", progress=False)
    assert not (tmp_path / "from_mdb").exists()


def test_a_key_zdb_cannot_name_is_reported_as_failed_and_the_rest_migrates(tmp_path, capsys):
    db = isf_writer.create_database(str(tmp_path / "isf"))
    isf_writer.write_key(db, ".hidden", "numpy_to_npy", np.arange(3))  # ISF allowed it
    isf_writer.write_key(db, "good", "numpy_to_npy", np.arange(3))
    report = migrate(db, tmp_path / "new", progress=False)
    assert report.converted == ["good"] and list(report.failed) == [".hidden"]
    assert "InvalidKeyError" in report.failed[".hidden"]
    assert main(["migrate", db, str(tmp_path / "again"), "--quiet"]) == 1
    assert "failed:" in capsys.readouterr().out


def test_a_target_a_kill_left_unregistered_is_adopted_and_registered(isf_db, tmp_path):
    new = tmp_path / "new"
    new.mkdir()  # as a run killed right after it created the new root leaves it
    node = DatabaseNode(unique_id=ISFDataBase(isf_db).unique_id, created="2024-01-01T00:00:00")
    (new / "zarr.json").write_bytes(node.document())
    migrate(isf_db, new, allow_pickle=True, progress=False)
    assert zdb.DataBase(new).created_here  # its pickles are trusted like any it created
    assert_migrated(isf_db, new)
