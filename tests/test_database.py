"""The ``DataBase`` contract: opening and creating, the mapping protocol, dumpers,
sub-databases, managed folders, renames, metadata, listings and errors."""

from __future__ import annotations

import json
import os
import re
import secrets
import socket
import subprocess
import threading
from datetime import UTC, datetime
from pathlib import Path

import dask.array as da
import numpy as np
import pandas as pd
import pytest
import xarray as xr
import zarr

import zdb
from zdb import provenance
from zdb.exceptions import (
    CorruptKeyError,
    DataBaseException,
    FormatVersionError,
    NotADataBaseError,
    ReadOnlyError,
    UnknownDumperError,
    UnsupportedValueError,
)
from zdb.IO import LoaderDumper

METADATA_FIELDS = {
    "dumper",
    "time",
    "hostname",
    "zdb_version",
    "version",
    "full-revisionid",
    "dirty",
    "diff",
    "module_versions",
    "history",
    "metadata_creation_time",
    "error",
}


def key_document(db: zdb.DataBase, *parts: str) -> dict:
    """The parsed ``zarr.json`` (pointer) of a key."""
    with open(os.path.join(db.basedir, *parts, "zarr.json")) as f:
        return json.load(f)


# -- opening and creating --------------------------------------------------------------


def test_a_database_is_created_with_missing_parent_folders(tmp_path):
    db = zdb.DataBase(tmp_path / "a" / "b" / "db")
    db["x"] = 1
    assert zdb.is_data_base(tmp_path / "a" / "b" / "db")
    assert zdb.DataBase(tmp_path / "a" / "b" / "db", nocreate=True)["x"] == 1


def test_reopening_keeps_the_keys_and_the_unique_id(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db["x"] = 1
    db["s", "y"] = 2
    again = zdb.DataBase(tmp_path / "db")
    assert again.unique_id == db.unique_id
    assert again["s"].unique_id == db["s"].unique_id != db.unique_id
    assert zdb.DataBase(tmp_path / "db", readonly=True).unique_id == db.unique_id
    assert again.keys(recurse=True) == [("s", "y"), ("x",)]


def test_the_unique_id_is_generated_when_missing_and_then_kept(tmp_path):
    path = tmp_path / "db"
    zarr.open_group(path, mode="w", attributes={"zdb": {"kind": "database", "format": 1}})
    assert zdb.DataBase(path, readonly=True).unique_id is None
    first = zdb.DataBase(path).unique_id
    assert first
    assert zdb.DataBase(path).unique_id == first


def test_basedir_is_the_absolute_local_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    db = zdb.DataBase("rel")
    assert db.basedir == str(tmp_path / "rel")
    assert os.path.isabs(db["sub"].basedir if "sub" in db else db.create_sub_db("sub").basedir)
    assert db["sub"].basedir == str(tmp_path / "rel" / "sub")


@pytest.mark.parametrize("content", ["file", "folder", ".hidden", "zarr.json.txt"])
def test_creating_a_database_in_a_non_empty_folder_raises(tmp_path, snapshot, content):
    path = tmp_path / "occupied"
    path.mkdir()
    if content == "folder":
        (path / "folder").mkdir()
    else:
        (path / content).write_text("user data")
    before = snapshot(path)
    with pytest.raises(NotADataBaseError, match="not empty"):
        zdb.DataBase(path)
    assert snapshot(path) == before


@pytest.mark.parametrize("flag", ["readonly", "nocreate"])
@pytest.mark.parametrize("exists", [False, True], ids=["missing", "empty folder"])
def test_readonly_or_nocreate_on_a_path_without_database_raises(tmp_path, flag, exists):
    path = tmp_path / "none"
    if exists:
        path.mkdir()
    with pytest.raises(NotADataBaseError, match=flag):
        zdb.DataBase(path, **{flag: True})
    assert os.listdir(path) == [] if exists else not path.exists()


def test_a_path_that_is_a_file_raises(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(NotADataBaseError, match="file"):
        zdb.DataBase(path)
    with pytest.raises(NotADataBaseError, match="file"):
        zdb.DataBase(path / "db")
    assert path.read_text() == "x"


@pytest.mark.local_files
def test_a_key_or_a_plain_zarr_group_is_not_a_database(db, tmp_path):
    db["x"] = np.arange(3)
    with pytest.raises(NotADataBaseError):
        zdb.DataBase(os.path.join(db.basedir, "x"))
    zarr.open_group(tmp_path / "plain", mode="w")
    with pytest.raises(NotADataBaseError):
        zdb.DataBase(tmp_path / "plain")


@pytest.mark.local_files
def test_is_data_base(db, tmp_path):
    db["x"] = 1
    db.create_sub_db("s")
    assert zdb.is_data_base(db.basedir)
    assert zdb.is_data_base(os.path.join(db.basedir, "s"))
    assert not zdb.is_data_base(os.path.join(db.basedir, "x"))
    assert not zdb.is_data_base(tmp_path / "missing")
    assert not zdb.is_data_base(tmp_path)


# -- readonly --------------------------------------------------------------------------


def test_readonly_blocks_every_mutation_and_allows_reads(tmp_path, snapshot):
    db = zdb.DataBase(tmp_path / "db")
    db["x"] = 1
    db["s", "y"] = np.arange(3)
    before = snapshot(db.basedir)
    ro = zdb.DataBase(tmp_path / "db", readonly=True)
    assert ro.readonly and not db.readonly
    sub = ro["s"]
    assert sub.readonly
    mutations = [
        lambda: ro.__setitem__("x", 2),
        lambda: ro.__setitem__("new", 2),
        lambda: ro.set("new", 2, dumper="python_value"),
        lambda: ro.__delitem__("x"),
        lambda: ro.rename("x", "z"),
        lambda: ro.create_sub_db("t"),
        lambda: ro.create_sub_db("s"),
        lambda: ro.create_managed_folder("f"),
        lambda: ro.maybe_calculate("new", lambda: 3),
        lambda: ro.set("t", None, dumper="just_create_isf_db"),
        lambda: sub.__setitem__("y", 5),
        lambda: sub.__setitem__("z", 5),
        lambda: sub.__delitem__("y"),
        lambda: ro.__setitem__(("s", "z"), 5),
        lambda: ro.__delitem__(("s", "y")),
    ]
    for mutate in mutations:
        with pytest.raises(ReadOnlyError, match="read-only"):
            mutate()
    assert ro["x"] == 1
    np.testing.assert_array_equal(ro["s", "y"], np.arange(3))
    assert ro.maybe_calculate("x", lambda: 3) == 1
    assert ro.metadata["x"]["dumper"] == "python_value"
    ro.ls()
    assert snapshot(db.basedir) == before


# -- mapping protocol ------------------------------------------------------------------


def test_the_mapping_protocol(db):
    assert len(db) == 0 and db.keys() == [] and list(db) == []
    db["b"] = 2
    db["a"] = [1]
    db["c", "d"] = 3
    assert db.keys() == ["a", "b", "c"]
    assert all(type(k) is str for k in db.keys())
    assert list(db) == ["a", "b", "c"]
    assert len(db) == 3
    assert "a" in db and "z" not in db and ("c", "d") in db
    items = db.items()
    assert [k for k, _ in items] == ["a", "b", "c"]
    assert items[0] == ("a", [1]) and items[1] == ("b", 2)
    assert isinstance(items[2][1], zdb.DataBase)
    del db["b"]
    assert db.keys() == ["a", "c"]
    with pytest.raises(KeyError):
        db["b"]
    del db["c", "d"]
    assert db.keys(recurse=True) == [("a",)]
    del db["c"]
    assert db.keys() == ["a"]
    assert not os.path.exists(os.path.join(db.basedir, "c"))


def test_keys_recurse_lists_sorted_leaf_tuples(db):
    for key in [("b", "z"), ("b", "a", "x"), "c", ("a0", "q"), "a"]:
        db[key] = 1
    assert db.keys() == ["a", "a0", "b", "c"]
    expected = [("a",), ("a0", "q"), ("b", "a", "x"), ("b", "z"), ("c",)]
    assert db.keys(recurse=True) == expected
    assert db["b"].keys(recurse=True) == [("a", "x"), ("z",)]


@pytest.mark.local_files
def test_a_value_can_be_computed_from_its_previous_value(db):
    db["x"] = np.arange(5)
    db["x"] = db["x"] + 1
    np.testing.assert_array_equal(db["x"], np.arange(1, 6))
    db.set("y", np.arange(20), chunks=(3,))
    db["y"] = db.get("y", lazy=True) * 2
    np.testing.assert_array_equal(db["y"], np.arange(20) * 2)
    db["n"] = 1
    db["n"] = db["n"] + 1
    assert db["n"] == 2
    assert [v for v in os.listdir(os.path.join(db.basedir, "y")) if v.startswith(".v")] == [
        os.path.basename(db.path_of("y"))
    ]


# -- set, dumpers ----------------------------------------------------------------------


@pytest.mark.local_files
def test_a_dumper_is_chosen_by_type_or_given_by_name_or_module(db):
    db["arr"] = np.arange(3)
    db["val"] = {"a": 1}
    db["obj"] = threading  # a module: only pickle can store it
    db.set("named", [1, 2], dumper="to_cloudpickle")
    db.set("module", np.arange(2), dumper=LoaderDumper.to_cloudpickle)
    dumpers = {k: db.metadata[k]["dumper"] for k in db.keys()}
    assert dumpers == {
        "arr": "numpy_to_zarr",
        "val": "python_value",
        "obj": "to_cloudpickle",
        "named": "to_cloudpickle",
        "module": "to_cloudpickle",
    }
    assert db["named"] == [1, 2]
    assert db["obj"] is threading


def test_an_unknown_dumper_or_keyword_raises_before_anything_is_written(db, snapshot):
    db["x"] = 1
    before = snapshot(db.basedir)
    for key, call in [
        ("y", lambda: db.set("y", 1, dumper="no_such_dumper")),
        (("new", "y"), lambda: db.set(("new", "y"), 1, dumper="no_such_dumper")),
        ("y", lambda: db.set("y", 1, dumper=os)),
        ("y", lambda: db.set("y", np.arange(3), no_such_keyword=1)),
        (("new", "y"), lambda: db.set(("new", "y"), [1], dumper="numpy_to_zarr", chunk=(1,))),
        ("x", lambda: db.set("x", 2, dumper="python_value", protocol=4)),
    ]:
        with pytest.raises(UnknownDumperError) as info:
            call()
        assert repr(key) in str(info.value)
        assert "known dumpers" in str(info.value) or "takes" in str(info.value)
    assert snapshot(db.basedir) == before
    assert db["x"] == 1


def test_a_value_that_cannot_be_stored_raises_and_leaves_the_database_as_it_was(db, snapshot):
    db["x"] = 1
    before = snapshot(db.basedir)
    for key in ["y", "x", ("new", "deeper", "y")]:
        with pytest.raises(UnsupportedValueError) as info:
            db[key] = threading.Lock()
        assert repr(key) in str(info.value)
    with pytest.raises(UnsupportedValueError):
        db.set(("new", "y"), {"a": 1}, dumper="numpy_to_zarr")
    assert snapshot(db.basedir) == before
    assert db["x"] == 1


def test_a_write_that_fails_midway_keeps_the_old_value(db, snapshot):
    db.set("x", np.arange(10), chunks=(2,))
    before = snapshot(db.basedir)

    def fail(block: np.ndarray) -> np.ndarray:
        if block[0] >= 6:
            raise RuntimeError("simulation crashed")
        return block

    failing = da.from_array(np.arange(10), chunks=2).map_blocks(fail)
    with pytest.raises(DataBaseException, match="simulation crashed"):
        db["x"] = failing
    with pytest.raises(DataBaseException, match="simulation crashed") as info:
        db["new", "y"] = failing
    assert f"'y' in {os.path.join(db.basedir, 'new')} " in str(info.value)
    assert snapshot(db.basedir) == before
    np.testing.assert_array_equal(db["x"], np.arange(10))


def test_the_sub_database_dumper_is_reachable_as_just_create_isf_db(db):
    db.set("s", None, dumper="just_create_isf_db")
    db.set("t", None, dumper=LoaderDumper.just_create_isf_db)
    assert zdb.is_sub_data_base(db, "s") and zdb.is_sub_data_base(db, "t")
    with pytest.raises(UnsupportedValueError):
        db.set("u", 1, dumper="just_create_isf_db")
    assert "u" not in db


# -- sub-databases ---------------------------------------------------------------------


def test_create_sub_db_returns_the_new_or_existing_sub_database(db):
    sub = db.create_sub_db("s")
    assert isinstance(sub, zdb.DataBase)
    sub["x"] = 1
    again = db.create_sub_db("s")
    assert again["x"] == 1
    assert again.unique_id == sub.unique_id
    nested = db.create_sub_db(("s", "t", "u"))
    nested["y"] = 2
    assert db["s", "t", "u", "y"] == 2
    assert zdb.is_sub_data_base(db, "s")
    assert zdb.is_sub_data_base(db["s"], ("t", "u"))
    assert not zdb.is_sub_data_base(db, ("s", "x"))
    assert not zdb.is_sub_data_base(db, "missing")


def test_a_sub_database_inherits_readonly_and_allow_pickle(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db["s", "p"] = threading  # pickled
    ro = zdb.DataBase(tmp_path / "db", readonly=True, allow_pickle=False)
    with pytest.raises(ReadOnlyError):
        ro["s"]["q"] = 1
    with pytest.raises(zdb.exceptions.PickleRefusedError):
        ro["s"]["p"]


# -- managed folders -------------------------------------------------------------------


@pytest.mark.local_files
def test_a_managed_folder_is_a_path_filled_by_the_user_and_removed_with_the_key(db):
    folder = db.create_managed_folder("morph")
    assert isinstance(folder, str)
    assert isinstance(folder, zdb.ManagedFolder)
    assert os.path.isdir(folder) and os.listdir(folder) == []
    assert folder.startswith(db.basedir)
    with open(folder.join("cell.hoc"), "w") as f:
        f.write("create soma\n")
    os.makedirs(os.path.join(folder, "sub"))
    assert db["morph"] == folder
    assert sorted(db["morph"].listdir()) == ["cell.hoc", "sub"]
    assert db.metadata["morph"]["dumper"] == "just_create_folder"
    with pytest.raises(DataBaseException, match="'morph'"):
        db.create_managed_folder("morph")
    assert os.path.exists(os.path.join(folder, "cell.hoc"))
    del db["morph"]
    assert not os.path.exists(folder)
    assert "morph" not in db
    nested = db.create_managed_folder(("s", "f"))
    assert os.path.isdir(nested)


# -- maybe_calculate -------------------------------------------------------------------


def test_maybe_calculate_computes_once_unless_forced(db):
    calls = []

    def fun() -> np.ndarray:
        calls.append(1)
        return np.arange(len(calls) * 3)

    first = db.maybe_calculate("x", fun)
    np.testing.assert_array_equal(first, np.arange(3))
    np.testing.assert_array_equal(db.maybe_calculate("x", fun), np.arange(3))
    assert len(calls) == 1
    forced = db.maybe_calculate("x", fun, force_calculation=True)
    np.testing.assert_array_equal(forced, np.arange(6))
    np.testing.assert_array_equal(db["x"], np.arange(6))
    db.maybe_calculate(("s", "y"), lambda: [1, 2], dumper="to_cloudpickle")
    assert db.metadata["s", "y"]["dumper"] == "to_cloudpickle"


# -- rename ----------------------------------------------------------------------------


def test_rename_keeps_the_value_and_the_metadata(db):
    db["a"] = np.arange(3)
    meta = db.metadata["a"]
    db.rename("a", "b")
    assert db.keys() == ["b"]
    np.testing.assert_array_equal(db["b"], np.arange(3))
    assert db.metadata["b"] == meta


def test_rename_across_sub_databases_keeps_the_metadata(db):
    db["a"] = {"x": 1}
    meta = db.metadata["a"]
    db.rename("a", ("s", "t", "a"))
    assert db.keys(recurse=True) == [("s", "t", "a")]
    assert db["s", "t", "a"] == {"x": 1}
    assert db.metadata["s", "t", "a"] == meta
    db.rename(("s", "t", "a"), "back")
    assert db.metadata["back"] == meta


def test_a_sub_database_can_be_renamed_into_another_sub_database(db):
    db["s", "x"] = 1
    db["s", "y", "z"] = np.arange(2)
    meta = db.metadata["s", "y", "z"]
    unique_id = db["s"].unique_id
    db.rename("s", ("t", "s2"))
    assert db.keys(recurse=True) == [("t", "s2", "x"), ("t", "s2", "y", "z")]
    assert db["t", "s2", "x"] == 1
    assert db.metadata["t", "s2", "y", "z"] == meta
    assert db["t", "s2"].unique_id == unique_id


@pytest.mark.parametrize("kind", ["data", "sub-database"])
def test_rename_onto_the_remains_of_a_killed_writer_replaces_them(db, kind):
    # what a writer of "b" (or a rename to "b") killed before its commit leaves: files
    # under b/ but no pointer b/zarr.json, so "b" is no key
    db.ref.store.write_bytes("b/.v5f0000000000-0badf00d/zarr.json", b"{}")
    db.ref.store.write_bytes("b/stray/zarr.json", b"{}")
    assert "b" not in db
    if kind == "data":
        db["a"] = np.arange(3)
    else:
        db["a", "x"] = 1
    db.rename("a", "b")
    assert db.keys() == ["b"]
    if kind == "data":
        np.testing.assert_array_equal(db["b"], np.arange(3))
    else:
        assert db.keys(recurse=True) == [("b", "x")]
        assert db["b", "x"] == 1
    assert not db.ref.store.exists("b/stray")


def test_rename_errors(db, snapshot):
    db["a"] = 1
    db["b"] = 2
    db["s", "x"] = 3
    before = snapshot(db.basedir)
    with pytest.raises(KeyError):
        db.rename("missing", "c")
    with pytest.raises(DataBaseException, match="exists"):
        db.rename("a", "b")
    with pytest.raises(DataBaseException):
        db.rename("s", ("s", "inner"))
    with pytest.raises(DataBaseException):
        db.rename("b", ("a", "inner"))
    with pytest.raises(DataBaseException):
        db.rename("a", "bad key")
    assert snapshot(db.basedir) == before


# -- metadata --------------------------------------------------------------------------


def test_metadata_has_every_field(db):
    db["x"] = np.arange(3)
    db["s", "y"] = "text"
    for key in ("x", ("s", "y")):
        meta = db.metadata[key]
        assert set(meta) == METADATA_FIELDS
        written = datetime.fromisoformat(meta["time"])
        assert written.utcoffset().total_seconds() == 0
        assert abs((datetime.now(UTC) - written).total_seconds()) < 3600
        assert meta["hostname"] == socket.gethostname()
        assert meta["zdb_version"] == zdb.__version__
        assert meta["metadata_creation_time"] == "together_with_new_key"
        assert isinstance(meta["module_versions"], dict)
        assert meta["module_versions"].get("numpy") == np.__version__
    assert db.metadata["x"]["dumper"] == "numpy_to_zarr"
    assert db.metadata["s", "y"]["dumper"] == "python_value"
    assert set(db.metadata) == {"s", "x"}
    with pytest.raises(KeyError):
        db.metadata["missing"]


def test_metadata_is_written_once_and_never_rewritten_by_opening(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db["x"] = 1
    db["s", "y"] = np.arange(2)
    pointer = (tmp_path / "db" / "x" / "zarr.json").read_bytes()
    sub_pointer = (tmp_path / "db" / "s" / "y" / "zarr.json").read_bytes()
    meta = db.metadata["x"]
    for _ in range(2):
        again = zdb.DataBase(tmp_path / "db")
        again.ls()
        again.keys(recurse=True)
        assert again.metadata["x"] == meta
        zdb.DataBase(tmp_path / "db", readonly=True)["s", "y"]
    assert (tmp_path / "db" / "x" / "zarr.json").read_bytes() == pointer
    assert (tmp_path / "db" / "s" / "y" / "zarr.json").read_bytes() == sub_pointer


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with a fixed identity."""
    return subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


@pytest.fixture
def dirty_repo(tmp_path, monkeypatch):
    """A git repository with an uncommitted change, used for the provenance of writes."""
    repo = tmp_path / "repo"
    repo.mkdir()
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    git(repo, "init", "-q")
    (repo / "sim.py").write_text("x = 1\n")
    git(repo, "add", "sim.py")
    git(repo, "commit", "-q", "-m", "initial")
    (repo / "sim.py").write_text("x = 2\n")
    monkeypatch.setenv("ZDB_GIT_REPO", str(repo))
    provenance.clear_caches()
    yield repo
    provenance.clear_caches()


@pytest.mark.local_files
def test_a_dirty_diff_is_stored_once_and_shared_between_keys(db, dirty_repo):
    db["a"] = 1
    db["b"] = np.arange(3)
    db["c", "d"] = 2
    meta_a, meta_b = db.metadata["a"], db.metadata["b"]
    assert meta_a["dirty"] is True
    assert "+x = 2" in meta_a["diff"]
    assert meta_b["diff"] == meta_a["diff"]
    assert meta_a["full-revisionid"] == git(dirty_repo, "rev-parse", "HEAD").strip()
    stored_a = key_document(db, "a")["attributes"]["zdb"]["metadata"]
    stored_b = key_document(db, "b")["attributes"]["zdb"]["metadata"]
    assert stored_a["diff_blob"] == stored_b["diff_blob"]
    assert stored_a["module_versions_blob"] == stored_b["module_versions_blob"]
    blobs = sorted(os.listdir(os.path.join(db.basedir, ".zdb", "blobs")))
    referenced = sorted(
        {
            stored[f]
            for stored in (stored_a, stored_b)
            for f in ("diff_blob", "module_versions_blob")
        }
    )
    assert blobs == referenced  # one file per distinct diff and module list
    assert db.metadata["c", "d"]["diff"] == meta_a["diff"]  # the sub-database has its own copy


def test_metadata_of_a_re_created_sub_database_is_complete(db):
    db["s", "x"] = 1
    del db["s"]
    db["s", "x"] = 2
    meta = db.metadata["s", "x"]
    assert meta["error"] is None or "blob" not in meta["error"]
    assert isinstance(meta["module_versions"], dict) and meta["module_versions"]


# -- keys written by other tools -------------------------------------------------------


@pytest.mark.local_files
def test_plain_zarr_nodes_inside_a_database_are_readable_post_hoc_keys(db):
    group = zarr.open_group(os.path.join(db.basedir, "ds"), mode="w")
    group.create_array("v", shape=(3,), dtype="f8", dimension_names=["t"])[:] = [1, 2, 3]
    array = zarr.open_array(os.path.join(db.basedir, "arr"), mode="w", shape=(2,), dtype="i4")
    array[:] = [7, 8]
    bare = zarr.open_group(os.path.join(db.basedir, "bare"), mode="w")
    bare.create_array("w", shape=(2, 2), dtype="i2")[:] = 5
    db["own"] = 1
    assert db.keys() == ["arr", "bare", "ds", "own"]
    for key in ("ds", "arr", "bare"):
        meta = db.metadata[key]
        assert set(meta) == METADATA_FIELDS
        assert meta["metadata_creation_time"] == "post_hoc"
        datetime.fromisoformat(meta["time"])
    ds = db["ds"]
    assert isinstance(ds, xr.Dataset)
    np.testing.assert_array_equal(ds["v"].values, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(db["arr"], [7, 8])
    assert isinstance(db["arr"], np.ndarray)
    np.testing.assert_array_equal(db["bare"]["w"][...], np.full((2, 2), 5, "i2"))
    assert isinstance(db.get("ds", lazy=True)["v"].data, da.Array)
    np.testing.assert_array_equal(db.get("arr", lazy=True).compute(), [7, 8])
    zarr.open_array(os.path.join(db.basedir, "scalar"), mode="w", shape=(), dtype="f4")[...] = 2
    assert type(db["scalar"]) is np.ndarray and db["scalar"].dtype == np.float32
    _corrupt(os.path.join(db.basedir, "arr", "c", "0"))
    with pytest.raises(CorruptKeyError, match="'arr'"):
        db["arr"]
    assert "arr" in db
    db.ls()
    del db["arr"]
    assert db.keys() == ["bare", "ds", "own", "scalar"]


# -- path_of ---------------------------------------------------------------------------


@pytest.mark.local_files
def test_path_of_an_array_key_opens_with_plain_zarr_and_xarray(db):
    arr = np.arange(12.0).reshape(3, 4)
    db["small"] = arr
    db.set("chunked", arr, chunks=(2, 2))
    db["s", "nested"] = arr
    for key in ("small", "chunked", ("s", "nested")):
        path = db.path_of(key)
        assert os.path.isabs(path)
        np.testing.assert_array_equal(zarr.open_group(path, mode="r")["data"][...], arr)
        ds = xr.open_zarr(path)
        assert list(ds.data_vars) == ["data"]
        np.testing.assert_array_equal(ds["data"].values, arr)
    with pytest.raises(KeyError):
        db.path_of("missing")


# -- ls and repr -----------------------------------------------------------------------


@pytest.mark.local_files
def test_ls_and_repr_show_the_tree_of_keys(db, capsys):
    db["voltage"] = np.zeros((3, 4), dtype="f4")
    db["params"] = {"a": 1}
    db["s", "inner"] = np.arange(5)
    db.ls()
    out = capsys.readouterr().out
    assert db.basedir in out
    lines = out.splitlines()
    voltage = next(line for line in lines if "voltage" in line)
    for part in ("numpy_to_zarr", "numpy.ndarray", "float32", "(3, 4)"):
        assert part in voltage, part
    assert re.search(r"  \d+(\.\d)? [kMG]?B  ", voltage)
    written = datetime.fromisoformat(db.metadata["voltage"]["time"])
    assert f"{written:%Y-%m-%d %H:%M:%S}" in voltage
    assert "python_value" in next(line for line in lines if "params" in line)
    sub = lines.index(next(line for line in lines if "s/" in line))
    assert "inner" in lines[sub + 1] and "int64" in lines[sub + 1]
    assert lines[sub + 1].index("inner") > lines[sub].index("s/")
    assert repr(db) == out.rstrip("\n")


# -- damaged keys ----------------------------------------------------------------------


def _corrupt(path: str, content: bytes = b"\x00\xffgarbage") -> None:
    with open(path, "wb") as f:
        f.write(content)


@pytest.mark.local_files
def test_a_key_with_a_garbage_pointer_is_listed_and_reported_without_stopping_others(db, capsys):
    db["bad"] = 1
    db["good"] = np.arange(3)
    db["s", "x"] = 2
    _corrupt(os.path.join(db.basedir, "bad", "zarr.json"))
    assert db.keys() == ["bad", "good", "s"]
    assert db.keys(recurse=True) == [("bad",), ("good",), ("s", "x")]
    assert "bad" in db
    with pytest.raises(CorruptKeyError, match="'bad'") as info:
        db["bad"]
    assert "delete" in str(info.value)
    with pytest.raises(CorruptKeyError, match="'bad'"):
        db.metadata["bad"]
    np.testing.assert_array_equal(db["good"], np.arange(3))
    assert db["s", "x"] == 2
    db.ls()
    out = capsys.readouterr().out
    assert "good" in out and "bad" in out and "inner" not in out
    del db["bad"]
    assert db.keys() == ["good", "s"]
    db["bad"] = 3
    assert db["bad"] == 3


@pytest.mark.parametrize(
    "damage",
    [
        "garbage chunk",
        "garbage array metadata",
        "missing chunk",
        "missing version",
        "garbage large value",
    ],
)
@pytest.mark.local_files
def test_a_damaged_key_raises_corrupt_key_error_and_others_stay_readable(db, damage):
    if damage == "garbage large value":
        db["bad"] = list(range(10_000))
    elif damage in ("garbage array metadata", "garbage chunk"):
        db.set("bad", np.arange(20), chunks=(5,))
    else:  # stored in its Zarr group, not kept in the pointer (test_deferred_values)
        db.set("bad", np.arange(20), inline=False)
    db["good"] = np.arange(3)
    version = db.path_of("bad")
    target = {
        "garbage chunk": os.path.join(version, "data", "c", "1"),
        "garbage array metadata": os.path.join(version, "data", "zarr.json"),
        "missing chunk": os.path.join(version, "data", "c", "0"),
        "missing version": version,
        "garbage large value": os.path.join(version, "zarr.json"),
    }[damage]
    if damage.startswith("missing"):
        if os.path.isdir(target):
            import shutil

            shutil.rmtree(target)
        else:
            os.remove(target)
    else:
        _corrupt(target)
        if damage == "garbage array metadata":  # the consolidated copy too
            _corrupt(os.path.join(version, "zarr.json"))
    with pytest.raises(CorruptKeyError, match="'bad'"):
        db["bad"]
    np.testing.assert_array_equal(db["good"], np.arange(3))
    assert db.keys() == ["bad", "good"]
    db.ls()


@pytest.mark.local_files
def test_a_damaged_sub_database_does_not_stop_its_parent(db):
    db["s", "x"] = 1
    db["y"] = 2
    _corrupt(os.path.join(db.basedir, "s", "zarr.json"))
    assert db.keys() == ["s", "y"]
    assert db.keys(recurse=True) == [("s",), ("y",)]
    with pytest.raises(CorruptKeyError, match="'s'"):
        db["s", "x"]
    assert db["y"] == 2
    db.ls()


@pytest.mark.local_files
def test_a_key_from_a_newer_format_raises_format_version_error(db):
    db["x"] = 1
    doc = key_document(db, "x")
    doc["attributes"]["zdb"]["format"] = 99
    with open(os.path.join(db.basedir, "x", "zarr.json"), "w") as f:
        json.dump(doc, f)
    with pytest.raises(FormatVersionError, match="upgrade zdb"):
        db["x"]
    assert db.keys() == ["x"]


@pytest.mark.parametrize(
    "isf_name, value, zdb_name",
    [
        ("numpy_to_npy", np.arange(3), "numpy_to_zarr"),
        ("pandas_to_msgpack", pd.DataFrame({"x": [1, 2]}), "pandas_to_zarr"),
        ("to_pickle", {1, 2}, "to_pickle"),
    ],
)
def test_isf_dumper_names_still_work_as_modules_and_names(local_db, isf_name, value, zdb_name):
    from zdb.IO import LoaderDumper

    local_db.set("by_module", value, dumper=getattr(LoaderDumper, isf_name))
    local_db.set("by_name", value, dumper=isf_name)
    for key in ("by_module", "by_name"):
        assert local_db.metadata[key]["dumper"] == zdb_name
        back = local_db[key]
        if isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(back, value)
        elif isinstance(value, np.ndarray):
            np.testing.assert_array_equal(back, value)
        else:
            assert back == value


@pytest.mark.parametrize("value", [1, pd.DataFrame({"x": [1, 2]}), np.arange(3)])
def test_an_unknown_loader_keyword_raises_naming_the_key_for_every_dumper(local_db, value):
    local_db["k"] = value
    with pytest.raises(zdb.exceptions.UnknownDumperError, match="'k'.*bogus"):
        local_db.get("k", bogus=1)


def test_a_write_asks_the_store_about_its_version_folder_only_for_dumpers_that_cannot_tell(
    db, monkeypatch
):
    import numpy as np

    from zdb.dumper import Dumper
    from zdb.dumper_registry import get_dumper, register, unregister

    asked: list[str] = []
    store_type = type(db.ref.store)
    exists = store_type.exists
    monkeypatch.setattr(
        store_type, "exists", lambda self, path: asked.append(path) or exists(self, path)
    )
    db["array"] = np.arange(3)
    db["small"] = 1  # kept in the pointer
    db["large"] = list(range(5_000))  # in a version folder
    assert not [p for p in asked if "/.v" in p], asked
    assert db["array"].tolist() == [0, 1, 2] and db["small"] == 1
    assert db["large"] == list(range(5_000))

    class Quiet(Dumper):  # a plugin that does not say: the store is asked
        name = "quiet_test_dumper"

        def dump(self, value, target):
            return {"type": "int", "summary": str(value), "value": value}

        def load(self, target, info, *, lazy=False, as_xarray=False):
            return info["value"]

    register(Quiet())
    try:
        db.set("q", 5, dumper="quiet_test_dumper")
        assert [p for p in asked if "/.v" in p] and db["q"] == 5
    finally:
        unregister("quiet_test_dumper")
    assert get_dumper("python_value").wrote_files({"value": 1}) is False


def test_isf_method_names_work_after_changing_the_import(db, capsys):
    lock = threading.Lock()
    db.setitem("a", 1)
    assert db.itemexists("a") and db.check_if_key_exists("a")
    assert not db.check_if_key_exists("b")
    assert db.get_id() == db.unique_id
    db.set("b", [1, 2], lock=lock)  # ISF's lock= is held during the write
    assert db.get("b", lock=lock) == [1, 2] and not lock.locked()
    with pytest.raises(KeyError, match="overwrite=False"):
        db.set("b", [3], overwrite=False)
    assert db["b"] == [1, 2]
    assert db.maybe_calculate("c", lambda: 3, overwrite=False, lock=lock) == 3
    db["s", "t", "u"] = 1
    db.ls(max_depth=1, depth=0, all_files=False, max_lines_per_key=3, color=True)
    tree = capsys.readouterr().out
    assert "s/" in tree and "t/" in tree and "u " not in tree


def test_a_lock_is_released_when_the_write_fails(db):
    lock = threading.Lock()
    with pytest.raises(DataBaseException):
        db.set("x", object(), dumper="python_value", lock=lock)
    assert not lock.locked() and "x" not in db


@pytest.mark.local_files
def test_managed_folders_and_temporary_folders_as_in_isf(db):
    folder = db.create_managed_folder("f")
    assert db.create_managed_folder("f", raise_=False) == folder
    with pytest.raises(DataBaseException, match="already exists"):
        db.create_managed_folder("f")
    path, rel = db.get_mkdtemp(prefix="run", suffix="x")
    assert path.is_dir() and path == Path(db.basedir) / rel
    assert path.name.startswith("run_") and path.name.endswith("_x")
    assert db.keys() == ["f"]  # a scratch folder is not a key


def test_get_mkdtemp_on_an_object_store_says_what_to_use_instead():
    db = zdb.DataBase(f"memory://zdb-{secrets.token_hex(4)}")
    with pytest.raises(DataBaseException, match="tempfile.mkdtemp"):
        db.get_mkdtemp()


class _Killed(BaseException):
    """Stands for a SIGKILL at one step of a rename."""


@pytest.mark.parametrize("step", ["_move_into_place", "remove_key"])
def test_a_rename_into_new_sub_databases_killed_midway_leaves_no_empty_sub_database(
    db, monkeypatch, step
):
    db["a"] = np.arange(3)

    def killed(*args, **kwargs):
        raise _Killed(step)

    with monkeypatch.context() as m:
        m.setattr(zdb.commit, step, killed)
        with pytest.raises(_Killed):
            db.rename("a", ("new", "sub", "b"))
    np.testing.assert_array_equal(db["a"], np.arange(3))  # the source is never lost
    if step == "_move_into_place":  # before the sub-databases appear: nothing changed
        assert "new" not in db and db.keys(recurse=True) == [("a",)]
    else:  # after: the key under both names, whole
        np.testing.assert_array_equal(db["new", "sub", "b"], np.arange(3))
        assert db["new"].keys() == ["sub"] and db["new", "sub"].keys() == ["b"]
    del db["a"]
    if "new" in db:
        del db["new"]
    db["a"] = 1
    db.rename("a", ("new", "sub", "b"))
    assert db.keys(recurse=True) == [("new", "sub", "b")] and db["new", "sub", "b"] == 1
