"""Zip archives of databases: export, and open read-only."""

import os
import shutil

import numpy as np
import pytest
import xarray as xr

import zdb
from zdb.data_base_register import DataBaseRegister
from zdb.exceptions import DataBaseException, ReadOnlyError


@pytest.fixture
def db(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db["a"] = np.arange(5.0)
    db["a"] = np.arange(6.0)  # the replaced version is not archived
    db["big"] = np.arange(300_000, dtype="int32")
    db["sub", "c"] = {"x": (1, 2)}
    return db


def test_an_exported_archive_opens_read_only_with_every_key(db, tmp_path):
    path = zdb.export_zip(db, tmp_path / "db.zip")
    archive = zdb.DataBase(path)
    assert archive.readonly
    assert archive.unique_id == db.unique_id
    assert archive.keys(recurse=True) == db.keys(recurse=True)
    np.testing.assert_array_equal(archive["a"], np.arange(6.0))
    np.testing.assert_array_equal(archive["big"], db["big"])
    assert archive.get("big", lazy=True).sum().compute() == db["big"].sum()
    assert archive["sub", "c"] == {"x": (1, 2)}
    assert archive.metadata["a"]["dumper"] == "numpy_to_zarr"
    with pytest.raises(ReadOnlyError):
        archive["new"] = 1


def test_a_sub_database_exports_on_its_own(db, tmp_path):
    archive = zdb.DataBase(zdb.export_zip(db["sub"], tmp_path / "sub.zip"))
    assert archive.keys() == ["c"]


def test_plain_xarray_opens_keys_inside_an_archive(db, tmp_path):
    archive = zdb.DataBase(zdb.export_zip(db, tmp_path / "db.zip"))
    path = archive.path_of("a")
    assert path.startswith("zip://") and path.endswith("db.zip")
    np.testing.assert_array_equal(xr.open_zarr(path)["data"].values, np.arange(6.0))


def test_an_archive_holds_only_current_versions(db, tmp_path):
    import zipfile

    names = zipfile.ZipFile(zdb.export_zip(db, tmp_path / "db.zip")).namelist()
    versions = {n.split("/")[1] for n in names if n.startswith("a/.v")}
    assert len(versions) == 1
    assert not [n for n in names if n.endswith(".tmp") or "/trash/" in n]


def test_export_refuses_to_overwrite(db, tmp_path):
    (tmp_path / "db.zip").write_bytes(b"")
    with pytest.raises(DataBaseException, match="exists"):
        zdb.export_zip(db, tmp_path / "db.zip")


def test_opening_a_copy_keeps_the_registry_on_the_original(db, tmp_path):
    archive = zdb.DataBase(zdb.export_zip(db, tmp_path / "db.zip"))
    shutil.copytree(db.basedir, tmp_path / "copy")
    zdb.DataBase(tmp_path / "copy")
    assert archive.unique_id == db.unique_id
    assert DataBaseRegister()[db.unique_id] == db.basedir


def test_an_archive_keeps_every_user_file_of_a_managed_folder(db, tmp_path):
    import zipfile

    folder = db.create_managed_folder("mf")
    for name in ("run.tmp", "zarr.json.1a2b.tmp", ".vimrc", ".v661f5939e6847-99b23bdd"):
        with open(folder.join(name), "w") as f:
            f.write(name)
    db.ref.store.write_bytes("zarr.json.0badf00d.tmp", b"a killed writer's temporary file")
    names = zipfile.ZipFile(zdb.export_zip(db, tmp_path / "db.zip")).namelist()
    kept = sorted(n.rsplit("/", 1)[1] for n in names if "/files/" in n)
    assert kept == sorted(["run.tmp", "zarr.json.1a2b.tmp", ".vimrc", ".v661f5939e6847-99b23bdd"])
    assert "zarr.json.0badf00d.tmp" not in names


def test_an_archive_stores_links_as_links_and_never_what_they_point_to(db, tmp_path):
    import stat
    import zipfile

    secret = tmp_path / "secret.txt"
    secret.write_text("private")
    (tmp_path / "secrets").mkdir()
    folder = db.create_managed_folder("mf")
    os.symlink(secret, folder.join("linked.txt"))
    os.symlink(tmp_path / "secrets", folder.join("linked_folder"))
    path = zdb.export_zip(db, tmp_path / "db.zip")
    with zipfile.ZipFile(path) as z:
        links = {
            i.filename.rsplit("/", 1)[1]: z.read(i).decode()
            for i in z.infolist()
            if stat.S_ISLNK(i.external_attr >> 16)
        }
        assert not any(b"private" in z.read(i) for i in z.infolist())
    assert links == {"linked.txt": str(secret), "linked_folder": str(tmp_path / "secrets")}
