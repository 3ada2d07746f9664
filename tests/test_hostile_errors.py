"""Bad input and damaged storage give zdb errors that name the key or path and the fix,
never raw Python errors: odd paths and URLs, archives that are no zip, folders where
files belong, sizes that do not fit, and a file system that refuses writes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import zdb
from zdb.exceptions import (
    CorruptKeyError,
    DataBaseException,
    NotADataBaseError,
    StorageError,
)


@pytest.mark.parametrize(
    ("where", "match"),
    [
        ("db\x00x", "cannot open"),
        ("nosuchscheme://bucket/db", "nosuchscheme"),
    ],
)
def test_an_unusable_path_or_url_says_so(tmp_path, where, match):
    with pytest.raises(NotADataBaseError, match=match):
        zdb.DataBase(str(tmp_path / where) if "://" not in where else where)


def test_an_archive_that_is_no_zip_says_so(tmp_path):
    (tmp_path / "fake.zip").write_bytes(b"this is no zip archive")
    with pytest.raises(NotADataBaseError, match="fake.zip"):
        zdb.DataBase(tmp_path / "fake.zip")


def test_a_folder_named_zarr_json_is_no_database_and_no_key(tmp_path):
    (tmp_path / "a" / "zarr.json").mkdir(parents=True)
    with pytest.raises(NotADataBaseError, match="folder named zarr.json"):
        zdb.DataBase(tmp_path / "a")
    db = zdb.DataBase(tmp_path / "db")
    db["ok"] = 1
    (tmp_path / "db" / "k" / "zarr.json").mkdir(parents=True)
    with pytest.raises(CorruptKeyError, match="'k'.*folder"):
        db["k"]
    assert db.keys() == ["k", "ok"] and db["ok"] == 1
    del db["k"]
    assert db.keys() == ["ok"]


@pytest.mark.local_files
def test_a_key_declaring_a_huge_shape_is_a_zdb_error_naming_it(local_db):
    local_db.set("big", np.arange(10.0), chunks=(5,))
    local_db["small"] = np.arange(3.0)
    meta_path = Path(local_db.path_of("big")) / "data" / "zarr.json"
    meta = json.loads(meta_path.read_text())
    meta["shape"] = [2**50]
    meta["chunk_grid"]["configuration"]["chunk_shape"] = [2**50]
    meta_path.write_text(json.dumps(meta))
    group = Path(local_db.path_of("big")) / "zarr.json"
    doc = json.loads(group.read_text())
    doc["consolidated_metadata"]["metadata"]["data"] = meta
    group.write_text(json.dumps(doc))
    with pytest.raises(DataBaseException, match="'big'"):
        local_db["big"]
    pointer = Path(local_db.basedir) / "small" / "zarr.json"
    doc = json.loads(pointer.read_text())
    copy = doc["attributes"]["zdb"]["loader"]["array"]  # read without zarr-python
    copy["shape"] = [2**40]
    copy["chunk_grid"]["configuration"]["chunk_shape"] = [2**40]
    pointer.write_text(json.dumps(doc))
    with pytest.raises(DataBaseException, match="'small'"):
        local_db["small"]


@pytest.fixture
def read_only_mount(tmp_path):
    """A small file system that can be switched to read-only (needs root to mount)."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("needs root to mount a read-only file system")
    where = tmp_path / f"mnt-{uuid.uuid4().hex[:6]}"
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(where)]).returncode:
        pytest.skip("mounting a tmpfs is not permitted here")

    def read_only() -> None:
        subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)

    yield where, read_only
    subprocess.run(["umount", "-l", str(where)], check=False)


def test_every_write_on_a_read_only_file_system_is_a_storage_error(read_only_mount):
    where, read_only = read_only_mount
    db = zdb.DataBase(where / "db")
    db["a"] = 1
    db["sub", "b"] = np.arange(3)
    db.create_managed_folder("mf")
    read_only()
    db = zdb.DataBase(where / "db")
    assert db["a"] == 1 and db.keys(recurse=True) == [("a",), ("mf",), ("sub", "b")]
    attempts = {
        "'a'": lambda: db.set("a", 2),
        "'arr'": lambda: db.set("arr", np.arange(5)),
        "'frame'": lambda: db.set("frame", pd.DataFrame({"x": [1, 2]})),
        "'new'": lambda: db.create_sub_db("new"),
        "('x', 'y')": lambda: db.set(("x", "y"), 1),
        "'mf2'": lambda: db.create_managed_folder("mf2"),
    }
    for key, attempt in attempts.items():
        with pytest.raises(StorageError) as info:
            attempt()
        assert key in str(info.value) and str(where) in str(info.value), info.value
    for attempt in (lambda: db.__delitem__("a"), lambda: db.rename("a", "c")):
        with pytest.raises(StorageError, match="'a'.*Read-only file system"):
            attempt()
    with pytest.raises(StorageError, match="temporary folder"):
        db.get_mkdtemp()
    assert db["a"] == 1 and db.keys(recurse=True) == [("a",), ("mf",), ("sub", "b")]
