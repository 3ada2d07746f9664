"""The registry and database paths (zdb://, reldb://, mdb://) never lead to the wrong
database or out of a managed folder: a stale entry is said to be stale, a damaged one
is named, and '..' never climbs out of a managed folder, for reading or writing."""

from __future__ import annotations

import json
import os
import shutil

import pytest

import zdb
from zdb.data_base_register import DataBaseRegister, get_db_by_unique_id
from zdb.dbopen import DbPathError, create_modular_db_path, create_reldb_path, dbopen
from zdb.exceptions import DataBaseException, StaleRegistryError


@pytest.fixture
def folder_db(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    folder = db.create_managed_folder("mf")
    with open(folder.join("cell.hoc"), "w") as f:
        f.write("morphology")
    return db


def test_a_database_replaced_at_its_registered_place_is_not_mistaken_for_it(tmp_path):
    old = zdb.DataBase(tmp_path / "db")
    folder = old.create_managed_folder("mf")
    with open(folder.join("a.txt"), "w") as f:
        f.write("old")
    path = create_modular_db_path(folder.join("a.txt"))
    old_id = old.unique_id
    shutil.rmtree(tmp_path / "db")
    new = zdb.DataBase(tmp_path / "db")
    new.create_managed_folder("mf")
    with pytest.raises(StaleRegistryError, match=f"{old_id}.*another database"):
        get_db_by_unique_id(old_id)
    with pytest.raises(DataBaseException, match="another database"):
        dbopen(path)
    shutil.rmtree(tmp_path / "db")
    with pytest.raises(StaleRegistryError, match="holds no database"):
        get_db_by_unique_id(old_id)
    assert not (tmp_path / "db").exists()  # opening by id never creates a database


@pytest.mark.parametrize(
    "inner",
    ["../../../../etc/hostname", "a/../../cell.hoc", "./cell.hoc", "..", "x/\x00/y"],
)
@pytest.mark.parametrize("scheme", ["reldb", "zdb", "mdb"])
def test_a_database_path_never_leaves_its_managed_folder(folder_db, tmp_path, scheme, inner):
    prefix = "reldb://" if scheme == "reldb" else f"{scheme}://{folder_db.unique_id}/"
    path = f"{prefix}mf/{inner}"
    for mode in ("r", "w"):
        with pytest.raises(DbPathError, match="never leaves its managed folder"):
            dbopen(path, mode, relative_to=folder_db)
    assert os.listdir(tmp_path) == ["db"]


def test_key_parts_of_a_database_path_follow_the_key_rules(folder_db):
    for path in ("reldb://../mf/cell.hoc", "reldb://.zdb/blobs/x", "reldb://zarr.json"):
        with pytest.raises(DataBaseException):
            dbopen(path, relative_to=folder_db)
    with dbopen(create_reldb_path(folder_db["mf"].join("cell.hoc")), relative_to=folder_db) as f:
        assert f.read() == "morphology"


@pytest.mark.parametrize(
    "content", [b"[1, 2]", b'{"location": 5}', b'{"location": "/x", "created": "/x"}', b"\xff"]
)
def test_a_damaged_registry_entry_is_named_with_the_fix(tmp_path, content):
    db = zdb.DataBase(tmp_path / "db")
    registry = DataBaseRegister()
    entry = registry.path / f"{db.unique_id}.json"
    entry.write_bytes(content)
    with pytest.raises(DataBaseException, match=f"{entry}.*damaged.*register it again"):
        get_db_by_unique_id(db.unique_id)
    zdb.DataBase(tmp_path / "db")  # opening by path registers it again
    assert get_db_by_unique_id(db.unique_id).unique_id == db.unique_id


def test_registry_files_that_are_no_unique_id_are_ignored(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    registry = DataBaseRegister()
    (registry.path / "..json").write_text(json.dumps({"location": "/"}))
    (registry.path / ".hidden.json").write_text(json.dumps({"location": "/"}))
    assert registry.keys() == [db.unique_id]
    with pytest.raises(DataBaseException, match="not a database unique id"):
        get_db_by_unique_id("../../etc")
