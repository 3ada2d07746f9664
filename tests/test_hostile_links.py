"""Symbolic links planted in a database folder (a received tarball, a group-writable
folder) never lead zdb outside it: in every bookkeeping folder, in keys, versions and
chunks, zdb refuses to follow a link with UnsafePathError, and removing a key that
holds a link removes the link, never what it points to."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import zdb
from zdb.exceptions import UnsafePathError

pytestmark = pytest.mark.local_files


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder beside the database holding a user's precious files."""
    folder = tmp_path / "precious"
    folder.mkdir()
    (folder / "thesis.tex").write_text("years of work")
    (folder / "sub").mkdir()
    (folder / "sub" / "data.txt").write_text("more work")
    return folder


def _intact(folder: Path) -> bool:
    return (
        sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))
        == ["sub", "sub/data.txt", "thesis.tex"]
        and (folder / "thesis.tex").read_text() == "years of work"
    )


def _reopened(db: zdb.DataBase) -> zdb.DataBase:
    """The database as another process opens it. A process checks each folder once,
    so links planted while it runs are found by the processes that open it later."""
    return zdb.DataBase(db.basedir)


def _link(link: Path, target: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    if link.exists():
        import shutil

        shutil.rmtree(link)
    link.symlink_to(target, target_is_directory=True)


def test_a_linked_trash_folder_never_empties_what_it_points_to(local_db, outside):
    local_db["k"] = np.arange(3)
    local_db["other"] = 1
    _link(Path(local_db.basedir) / ".zdb" / "trash", outside)
    with pytest.raises(UnsafePathError, match="trash.*symbolic link"):
        del local_db["k"]
    assert _intact(outside)
    np.testing.assert_array_equal(local_db["k"], np.arange(3))
    assert local_db["other"] == 1


def test_a_linked_staging_folder_is_never_written_into(local_db, outside):
    _link(Path(local_db.basedir) / ".zdb" / "staging", outside)
    with pytest.raises(UnsafePathError, match="staging"):
        local_db["new", "sub", "k"] = 1
    assert _intact(outside)
    assert "new" not in local_db


def test_a_linked_blob_folder_is_never_written_into(local_db, outside):
    local_db["first"] = 1
    _link(Path(local_db.basedir) / ".zdb" / "blobs", outside)
    zdb.metadata._known.clear()  # as a new process would: check the blobs on disk
    with pytest.raises(UnsafePathError, match="blobs"):
        _reopened(local_db)["k"] = 2
    assert _intact(outside)


def test_a_linked_bookkeeping_folder_is_refused_whole(local_db, outside):
    local_db["a", "b"] = 1
    import shutil

    shutil.rmtree(Path(local_db.basedir) / ".zdb", ignore_errors=True)
    _link(Path(local_db.basedir) / ".zdb", outside)
    local_db = _reopened(local_db)
    for attempt in (
        lambda: local_db.__delitem__("a"),
        lambda: local_db.get_mkdtemp(),
        lambda: local_db.__setitem__(("x", "y"), 1),
    ):
        with pytest.raises(UnsafePathError):
            attempt()
    assert _intact(outside)


def test_a_linked_tmp_folder_gets_no_temporary_folder(local_db, outside):
    _link(Path(local_db.basedir) / ".zdb" / "tmp", outside)
    with pytest.raises(UnsafePathError, match="tmp"):
        local_db.get_mkdtemp()
    assert _intact(outside)


def test_a_key_folder_that_is_a_link_is_not_read_written_or_followed(local_db, outside, tmp_path):
    other = zdb.DataBase(tmp_path / "other_db")
    other["k"] = np.arange(5)
    local_db["kept"] = 1
    os.symlink(Path(other.basedir) / "k", Path(local_db.basedir) / "k")
    for attempt in (
        lambda: local_db["k"],
        lambda: local_db.__setitem__("k", 2),
        lambda: local_db.metadata["k"],
        lambda: local_db.path_of("k"),
    ):
        with pytest.raises(UnsafePathError, match="symbolic link"):
            attempt()
    np.testing.assert_array_equal(other["k"], np.arange(5))
    assert local_db["kept"] == 1


def test_a_version_folder_that_is_a_link_is_refused_and_replaced_without_following(
    local_db, outside
):
    local_db.set("k", np.arange(3), inline=False)  # a version folder zdb reads
    version = Path(local_db.path_of("k"))
    import shutil

    shutil.rmtree(version)
    (outside / "data" / "c").mkdir(parents=True)  # what the link leads to has the file
    (outside / "data" / "c" / "0").write_bytes(b"private")
    version.symlink_to(outside, target_is_directory=True)
    local_db = _reopened(local_db)
    with pytest.raises(UnsafePathError):
        local_db["k"]
    shutil.rmtree(outside / "data")
    local_db["k"] = np.arange(4)  # retiring the old version removes the link only
    np.testing.assert_array_equal(local_db["k"], np.arange(4))
    assert not version.exists() and not version.is_symlink()
    assert _intact(outside)


@pytest.mark.parametrize(
    ("value", "kwargs", "inner"),
    [
        (np.arange(4.0), {"inline": False}, "data/c/0"),  # read without zarr-python
        (np.arange(8.0), {"chunks": (4,)}, "data/c/1"),  # read by zarr-python
        (pd.DataFrame({"a": np.arange(4.0)}), {}, "a/c/0"),  # a table column
    ],
    ids=["direct", "zarr", "table"],
)
def test_a_chunk_that_is_a_link_is_never_read(local_db, tmp_path, value, kwargs, inner):
    secret = tmp_path / "secret.bin"
    secret.write_bytes(b"\x28\xb5\x2f\xfd" + b"private key material" * 10)
    local_db.set("k", value, **kwargs)
    chunk = Path(local_db.path_of("k")) / inner
    assert chunk.exists(), list(Path(local_db.path_of("k")).rglob("*"))
    chunk.unlink()
    chunk.symlink_to(secret)
    with pytest.raises(zdb.exceptions.DataBaseException) as info:
        local_db["k"]
    assert "symbolic link" in str(info.value) or isinstance(info.value, UnsafePathError)
    with pytest.raises(zdb.exceptions.DataBaseException):
        local_db.get("k", as_xarray=True).load()
    del local_db["k"]
    assert secret.exists()


def test_a_pickle_that_is_a_link_is_never_read(local_db, tmp_path):
    mine = tmp_path / "mine.pickle"
    import pickle

    mine.write_bytes(pickle.dumps({"owned": "by me"}))
    local_db.set("p", {1, 2}, dumper="to_cloudpickle")
    payload = Path(local_db.path_of("p")) / "value.pickle"
    payload.unlink()
    payload.symlink_to(mine)
    with pytest.raises(UnsafePathError):
        local_db["p"]


def test_a_root_pointer_that_is_a_link_is_refused(tmp_path):
    db = zdb.DataBase(tmp_path / "a")
    db["x"] = 1
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "zarr.json").symlink_to(tmp_path / "a" / "zarr.json")
    with pytest.raises(UnsafePathError):
        zdb.DataBase(tmp_path / "b")


def test_a_database_reached_through_a_linked_root_works(tmp_path):
    """The database's own path may be a link (a user's ~/results -> /scratch/results):
    only links below its root are refused."""
    real = zdb.DataBase(tmp_path / "scratch" / "db")
    real["x"] = np.arange(3)
    (tmp_path / "results").symlink_to(tmp_path / "scratch" / "db", target_is_directory=True)
    db = zdb.DataBase(tmp_path / "results")
    np.testing.assert_array_equal(db["x"], np.arange(3))
    db["y", "z"] = 2
    del db["x"]
    assert db.keys(recurse=True) == [("y", "z")]
