"""ISF's other DataBase methods, registry functions and path resolvers, with ISF's
signatures and meanings (and zdb's documented differences where ISF was broken)."""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

import pytest

import zdb
from zdb import data_base_register, dbopen
from zdb.data_base_register import DataBaseRegister, get_db_by_unique_id
from zdb.exceptions import (
    DataBaseException,
    KeyKindError,
    ManagedFolderError,
    ReadOnlyError,
    UnknownDumperError,
)


def test_getitem_passes_loader_keywords_like_get(tmp_path):
    import pandas as pd

    db = zdb.DataBase(tmp_path / "db")
    db["t"] = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
    assert list(db.getitem("t", columns=["b"]).columns) == ["b"]


def test_get_managed_folder_gets_or_creates_and_says_it_is_deprecated(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    with pytest.deprecated_call():
        first = db.get_managed_folder("mf")
    with pytest.deprecated_call():
        assert db.get_managed_folder("mf") == first
    assert os.path.isdir(first)


def test_get_readonly_is_the_same_database_refusing_writes(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db["a"] = 1
    ro = db.get_readonly()
    assert ro.readonly and ro["a"] == 1 and ro.unique_id == db.unique_id
    with pytest.raises(ReadOnlyError):
        ro["b"] = 2
    assert not db.readonly


def test_readonly_can_be_set_and_warning_is_read_only(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db.readonly = True
    with pytest.raises(ReadOnlyError, match="'x'"):
        db["x"] = 1
    db.readonly = "warning"
    assert db.readonly is True
    with pytest.raises(DataBaseException):
        db["x"] = 1
    db.readonly = False
    db["x"] = 1
    with pytest.raises(DataBaseException, match="True, False or 'warning'"):
        db.readonly = "yes"


def test_a_database_opened_read_only_can_be_made_writable(tmp_path):
    zdb.DataBase(tmp_path / "db")["a"] = 1
    db = zdb.DataBase(tmp_path / "db", readonly=True)
    db.readonly = False
    db["b"] = 2
    assert db.keys() == ["a", "b"]


def test_a_database_on_read_only_storage_stays_read_only(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db["a"] = 1
    archive = tmp_path / "db.zip"
    zdb.export_zip(db, archive)
    ro = zdb.DataBase(archive)
    with pytest.raises(ReadOnlyError, match="read-only storage"):
        ro.readonly = False


def test_detect_dumper_string_of_existing_key_names_its_dumper(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db.set("n", 1)
    db.set("p", 1, dumper="to_cloudpickle")
    assert db._detect_dumper_string_of_existing_key("n") == "python_value"
    assert db._detect_dumper_string_of_existing_key("p") == "to_cloudpickle"
    with pytest.raises(KeyError):
        db._detect_dumper_string_of_existing_key("missing")
    db.create_sub_db("s")
    with pytest.raises(DataBaseException, match="'s'.*database"):
        db._detect_dumper_string_of_existing_key("s")


def test_register_dumper_makes_it_chosen_by_type(tmp_path):
    from tests.dumper_plugin import Doubled

    class Handles(Doubled):
        name = "register_dumper_test"
        priority = 100

        def handles(self, value):
            return isinstance(value, int) and value == 21

    db = zdb.DataBase(tmp_path / "db")
    try:
        db.register_dumper(Handles)
        db["x"] = 21
        assert db.metadata["x"]["dumper"] == "register_dumper_test" and db["x"] == 21
    finally:
        zdb.dumper_registry.unregister("register_dumper_test")
    with pytest.raises(UnknownDumperError):
        db.register_dumper("no_such_dumper")


def test_db_state_reads_the_id_and_the_registered_place(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    state = db.read_db_state()
    assert state == {"_unique_id": db.unique_id, "_registered_to_path": db.basedir}
    assert db._unique_id == db.unique_id == db.get_id()
    data_base_register.deregister_db(db.unique_id)
    assert db.read_db_state()["_registered_to_path"] is None
    db.save_db_state()
    assert db.read_db_state()["_registered_to_path"] == db.basedir


def test_registering_fails_loudly_or_with_suppress_errors_as_a_warning(tmp_path, monkeypatch):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("")
    db = zdb.DataBase(tmp_path / "db")
    monkeypatch.setenv("ZDB_REGISTRY", str(blocker / "registry"))
    with pytest.raises(DataBaseException, match="could not register.*ZDB_REGISTRY"):
        db._register_this_database()
    with pytest.warns(UserWarning, match="could not register database"):
        quiet = zdb.DataBase(tmp_path / "db", suppress_errors=True)
    with pytest.warns(UserWarning, match="could not register"):
        quiet._register_this_database()


def test_check_if_key_exists_takes_keys_and_paths(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db["a"] = 1
    db["b", "b"] = 1
    assert db.check_if_key_exists("a") and db.check_if_key_exists(("a",))
    assert db.check_if_key_exists(("b", "b")) and db.check_if_key_exists("b")
    assert not db.check_if_key_exists(("a", "b"))
    assert db.check_if_key_exists(Path("a")) and db.check_if_key_exists(Path("b/b"))
    assert db.check_if_key_exists(Path(db.basedir) / "b" / "b")
    assert not db.check_if_key_exists(Path("missing"))
    assert not db.check_if_key_exists(tmp_path / "elsewhere")
    assert not db.check_if_key_exists(Path("../db/a"))


def test_ls_takes_isf_parameters_positionally(tmp_path, capsys):
    db = zdb.DataBase(tmp_path / "db")
    for i in range(5):
        db[f"k{i}"] = i
    db.ls(0, 2, 3)
    shown = capsys.readouterr().out
    assert "k0" in shown and "k4" not in shown


def test_create_sub_db_returns_an_existing_one_and_refuses_a_value(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    sub = db.create_sub_db("s")
    sub["x"] = 1
    again = db.create_sub_db("s", raise_=False)
    assert again["x"] == 1 and again.unique_id == sub.unique_id
    assert db.create_sub_db("s", raise_=True).unique_id == sub.unique_id
    db["v"] = 1
    with pytest.raises(KeyKindError):
        db.create_sub_db("v", raise_=False)
    with pytest.raises(DataBaseException, match="register must be"):
        db.create_sub_db("t", register="yes")


def test_sub_databases_are_registered_as_their_parent_and_open_by_id(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    sub = db.create_sub_db(("a", "b"))
    assert get_db_by_unique_id(sub.unique_id).basedir == sub.basedir
    hidden = db.create_sub_db("hidden", register=False)
    with pytest.raises(KeyError):
        get_db_by_unique_id(hidden.unique_id)
    data_base_register.deregister_db(db.unique_id)
    unregistered_parent = db.create_sub_db("c")
    with pytest.raises(KeyError):
        get_db_by_unique_id(unregistered_parent.unique_id)
    forced = db.create_sub_db("d", register=True)
    assert get_db_by_unique_id(forced.unique_id).basedir == forced.basedir


def test_parent_db_is_the_database_a_sub_database_was_reached_from(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    assert db.parent_db is None
    inner = db.create_sub_db(("a", "b"))
    assert inner.parent_db.basedir == db["a"].basedir
    assert inner.parent_db.parent_db.basedir == db.basedir
    assert db["a"]["b"].parent_db.basedir == db["a"].basedir
    assert zdb.DataBase(inner.basedir).parent_db is None


def test_remove_deletes_the_database_and_its_registration(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db["a"] = 1
    sub = db.create_sub_db("s")
    uid, sub_uid = db.unique_id, sub.unique_id
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("kept")
    mf = db.create_managed_folder("mf")
    os.symlink(outside, os.path.join(mf, "link"))
    sub.remove().join()
    assert db.keys() == ["a", "mf"] and sub_uid not in DataBaseRegister()
    thread = db.remove()
    assert not (tmp_path / "db").exists()  # the path is free at once
    thread.join()
    assert list(tmp_path.iterdir()) == [outside]  # nothing left aside, the link not followed
    assert (outside / "keep").read_text() == "kept"
    assert uid not in DataBaseRegister()
    assert zdb.DataBase(tmp_path / "db").keys() == []


def test_remove_deletes_a_database_on_s3(s3_endpoint):
    from .s3_server import storage_options

    url = f"s3://zdb-tests/{secrets.token_hex(6)}"
    db = zdb.DataBase(url, storage_options=storage_options(s3_endpoint))
    db["a"] = 1
    db.remove().join()
    with pytest.raises(zdb.exceptions.NotADataBaseError):
        zdb.DataBase(url, nocreate=True, storage_options=storage_options(s3_endpoint))


def test_a_read_only_database_is_not_removed(tmp_path):
    zdb.DataBase(tmp_path / "db")["a"] = 1
    with pytest.raises(ReadOnlyError):
        zdb.DataBase(tmp_path / "db", readonly=True).remove()
    assert zdb.DataBase(tmp_path / "db")["a"] == 1


def test_managed_folder_get_file_finds_the_one_file_with_a_suffix(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    folder = db.create_managed_folder("mf")
    Path(folder.join("cell.hoc")).write_text("")
    Path(folder.join("a.syn")).write_text("")
    Path(folder.join("b.syn")).write_text("")
    assert folder.get_file(".hoc") == os.path.join(folder, "cell.hoc")
    with pytest.raises(ManagedFolderError, match=r"2 files ending with '\.syn' \(a\.syn, b\.syn"):
        folder.get_file(".syn")
    with pytest.raises(ValueError, match="no files ending with '.con'"):
        folder.get_file(".con")


def test_register_db_takes_isf_arguments_and_deregister_db_forgets(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    moved = tmp_path / "moved"
    os.rename(db.basedir, moved)
    data_base_register.register_db(db.unique_id, str(moved))
    assert get_db_by_unique_id(db.unique_id).basedir == str(moved)
    assert data_base_register._get_db_register().location(db.unique_id) == str(moved)
    data_base_register.deregister_db(db.unique_id)
    with pytest.raises(KeyError):
        get_db_by_unique_id(db.unique_id)
    with pytest.raises(KeyError):
        data_base_register.deregister_db(db.unique_id)
    with pytest.raises(DataBaseException, match="db_basedir"):
        data_base_register.register_db(db.unique_id)


def test_assimilating_a_remote_registry_takes_existing_places_but_no_trust(tmp_path):
    remote = DataBaseRegister(tmp_path / "remote")
    local = DataBaseRegister(tmp_path / "local")
    there = zdb.DataBase(tmp_path / "there")
    remote.register(there.unique_id, there.basedir, created_at=there.basedir)
    remote.register("gone_1", str(tmp_path / "gone"))
    remote.register("s3_1", "s3://bucket/db")
    local.register("mine_1", str(tmp_path))
    remote.register("mine_1", str(tmp_path / "theirs"))
    taken = data_base_register.assimilate_remote_register(remote.path, local.path)
    assert sorted(taken) == sorted([there.unique_id, "s3_1"])
    assert local.location(there.unique_id) == there.basedir
    assert not local.created_at(there.unique_id, there.basedir)
    assert local.location("mine_1") == str(tmp_path) and "gone_1" not in local


def test_assimilating_skips_a_damaged_remote_entry_with_a_warning(tmp_path):
    remote = DataBaseRegister(tmp_path / "remote")
    remote.register("good_1", "s3://bucket/db")
    (remote.path / "bad_1.json").write_text(json.dumps({"location": 5}))
    with pytest.warns(UserWarning, match="bad_1"):
        taken = data_base_register.assimilate_remote_register(remote.path, tmp_path / "local")
    assert taken == ["good_1"]


@pytest.fixture
def morphology_db(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    folder = db.create_managed_folder("morphology")
    Path(folder.join("cell.hoc")).write_text("")
    Path(folder.join("sites.landmarkAscii")).write_text("")
    syn = db.create_managed_folder("syn_folder")
    Path(syn.join("L5tt.syn")).write_text("")
    Path(syn.join("L5tt.con")).write_text("")
    return db


def test_resolve_db_path_takes_isf_db_basedir(morphology_db):
    path = dbopen.resolve_db_path("reldb://morphology/cell.hoc", db_basedir=morphology_db.basedir)
    assert path == os.path.join(morphology_db["morphology"], "cell.hoc")


def test_resolve_reldb_and_modular_paths_leave_other_paths_alone(morphology_db):
    uid = morphology_db.unique_id
    hoc = os.path.join(morphology_db["morphology"], "cell.hoc")
    assert dbopen.resolve_reldb_path("reldb://morphology/cell.hoc", morphology_db.basedir) == hoc
    assert dbopen.resolve_reldb_path(f"mdb://{uid}/morphology/cell.hoc") == (
        f"mdb://{uid}/morphology/cell.hoc"
    )
    assert dbopen.resolve_modular_db_path(f"mdb://{uid}/morphology/cell.hoc") == hoc
    assert dbopen.resolve_modular_db_path("/plain/cell.hoc") == "/plain/cell.hoc"
    assert dbopen.resolve_modular_db_path("reldb://morphology/x") == "reldb://morphology/x"


def test_parameter_sets_have_their_reldb_paths_resolved_in_place(morphology_db):
    base = morphology_db.basedir
    neup = {
        "neuron": {"filename": "reldb://morphology/cell.hoc"},
        "sim": {"recordingSites": ["reldb://morphology/sites.landmarkAscii", "/abs/x"]},
    }
    assert dbopen.resolve_neup_reldb_paths(neup, base) is neup
    assert neup["neuron"]["filename"] == os.path.join(morphology_db["morphology"], "cell.hoc")
    assert neup["sim"]["recordingSites"][1] == "/abs/x"
    assert neup["sim"]["recordingSites"][0].endswith("sites.landmarkAscii")
    netp = {
        "network": {
            "L5tt_C2": {
                "synapses": {
                    "connectionFile": "reldb://syn_folder/L5tt.con",
                    "distributionFile": "reldb://syn_folder/L5tt.syn",
                }
            },
            "other": {"celltype": "spiketrain"},
        }
    }
    assert dbopen.resolve_netp_reldb_paths(netp, base) is netp
    synapses = netp["network"]["L5tt_C2"]["synapses"]
    assert synapses["connectionFile"] == os.path.join(morphology_db["syn_folder"], "L5tt.con")
    assert synapses["distributionFile"] == os.path.join(morphology_db["syn_folder"], "L5tt.syn")


def test_a_saved_unique_id_is_kept_and_a_bad_one_refused(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    sub = db.create_sub_db("s")
    with pytest.raises(DataBaseException, match="not a database unique id"):
        db._unique_id = "../x"
    db._unique_id = "chosen_id_1"
    db.save_db_state()
    assert zdb.DataBase(tmp_path / "db").unique_id == "chosen_id_1"
    assert get_db_by_unique_id("chosen_id_1").basedir == db.basedir
    old = sub.unique_id
    sub._unique_id = None
    sub.save_db_state()  # a sub-database is not reopened for writing: a new id at once
    assert sub.unique_id not in (None, old) and db["s"].unique_id == sub.unique_id
    with pytest.raises(ReadOnlyError):
        db.get_readonly().save_db_state()
