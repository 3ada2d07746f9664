import shutil
from pathlib import Path

import pytest

import zdb
from zdb.data_base_register import DataBaseRegister
from zdb.dbopen import (
    DbPathError,
    create_modular_db_path,
    create_reldb_path,
    dbopen,
    resolve_db_path,
)


@pytest.fixture
def db(tmp_path):
    return zdb.DataBase(tmp_path / "db")


def _folder_with_file(db, key, name="cell.hoc", text="soma"):
    folder = db.create_managed_folder(key)
    with open(folder.join(name), "w") as f:
        f.write(text)
    return folder.join(name)


def test_opening_a_database_registers_it_outside_the_package(db, tmp_path, monkeypatch):
    registry = DataBaseRegister()
    package_dir = str(Path(zdb.__file__).parent)
    assert not str(registry.path).startswith(package_dir)
    assert registry[db.unique_id] == db.basedir
    assert zdb.get_db_by_unique_id(db.unique_id).basedir == db.basedir


def test_opening_a_moved_database_updates_its_entry(db, tmp_path):
    uid = db.unique_id
    shutil.move(db.basedir, tmp_path / "moved")
    moved = zdb.DataBase(tmp_path / "moved", nocreate=True)
    assert moved.unique_id == uid
    assert DataBaseRegister()[uid] == str(tmp_path / "moved")


def test_unknown_unique_id_raises_key_error_naming_it():
    with pytest.raises(KeyError, match="no-such-id"):
        zdb.get_db_by_unique_id("no-such-id")


def test_registry_location_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ZDB_REGISTRY", str(tmp_path / "elsewhere"))
    db = zdb.DataBase(tmp_path / "db2")
    assert (tmp_path / "elsewhere" / f"{db.unique_id}.json").exists()


def test_zdb_path_of_a_file_in_a_managed_folder_survives_moving_the_database(db, tmp_path):
    path = _folder_with_file(db, ("morph", "cell"))
    zpath = create_modular_db_path(path)
    assert zpath == f"zdb://{db.unique_id}/morph/cell/cell.hoc"
    shutil.move(db.basedir, tmp_path / "moved")
    zdb.DataBase(tmp_path / "moved")  # re-registers the new location
    with dbopen(zpath) as f:
        assert f.read() == "soma"


def test_reldb_path_resolves_relative_to_the_database_or_a_file_in_it(db):
    path = _folder_with_file(db, "params", "neuron.param", "{}")
    other = _folder_with_file(db, "morph", "cell.hoc", "soma")
    rel = create_reldb_path(other)
    assert rel == "reldb://morph/cell.hoc"
    with dbopen(rel, relative_to=path) as f:
        assert f.read() == "soma"
    assert resolve_db_path(rel, relative_to=db) == other


def test_plain_paths_pass_through(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("hi")
    with dbopen(str(target)) as f:
        assert f.read() == "hi"


@pytest.mark.parametrize(
    "bad",
    ["zdb://", "zdb://only-id", "reldb://morph/cell.hoc", "ftp://x/y"],
)
def test_bad_db_paths_raise_errors_naming_them(bad):
    with pytest.raises((DbPathError, KeyError), match=bad.split("//")[0]):
        resolve_db_path(bad)


def test_path_to_a_key_that_is_not_a_managed_folder_raises(db):
    db["x"] = 1
    with pytest.raises(DbPathError, match="not a managed folder"):
        resolve_db_path("reldb://x/file", relative_to=db)


def test_file_outside_managed_folders_has_no_db_path(tmp_path):
    (tmp_path / "f.txt").write_text("")
    with pytest.raises(DbPathError, match="managed folder"):
        create_modular_db_path(tmp_path / "f.txt")
