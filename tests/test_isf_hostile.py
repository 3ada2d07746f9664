"""A received ISF database is untrusted input: names read from ``db_state.json``,
``Loader.json`` and folder listings are checked before they become paths, and no
symbolic link below the database is followed."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from zdb.exceptions import CorruptKeyError, InvalidKeyError, UnsafePathError
from zdb.isf_data_base import ISFDataBase
from zdb.testing import isf_writer


@pytest.fixture
def isf_db(tmp_path: Path) -> Path:
    db = Path(isf_writer.create_database(str(tmp_path / "isf")))
    isf_writer.write_key(str(db), "good", "numpy_to_npy", np.arange(3))
    return db


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file outside the database that a hostile one points at."""
    path = tmp_path / "outside" / "secret"
    path.parent.mkdir()
    path.write_bytes(b"do not read me")
    return path


def _loader(folder: Path, loader: object) -> None:
    (folder / "Loader.json").write_text(json.dumps({"Loader": loader}))


@pytest.mark.parametrize(
    "loader",
    [
        "os.system",
        "data_base.isf_data_base.IO.LoaderDumper.../../x",
        "data_base.isf_data_base.IO.LoaderDumper.a/b",
        ["data_base.isf_data_base.IO.LoaderDumper.numpy_to_npy"],
        None,
    ],
)
def test_a_loader_json_naming_no_isf_dumper_is_damage_of_that_key_only(isf_db, loader):
    folder = Path(isf_writer.key_folder(str(isf_db), "bad", "numpy_to_npy"))
    _loader(folder, loader)
    db = ISFDataBase(isf_db)
    with pytest.raises(CorruptKeyError, match="no ISF dumper module"):
        db["bad"]
    assert db.keys() == ["bad", "good"]
    np.testing.assert_array_equal(db["good"], np.arange(3))


def test_a_metadata_dumper_name_that_is_a_path_is_refused(isf_db):
    folder = isf_db / "bad"
    folder.mkdir()
    (folder / "metadata.json").write_text(json.dumps({"dumper": "../../numpy_to_npy"}))
    with pytest.raises(CorruptKeyError, match="no Loader.json"):
        ISFDataBase(isf_db)["bad"]


def test_a_unique_id_that_is_a_path_is_dropped(tmp_path):
    db = Path(isf_writer.create_database(str(tmp_path / "isf"), unique_id="../../etc/passwd"))
    assert ISFDataBase(db).unique_id is None
    (db / "db_state.json").write_text("[1, 2]")
    assert ISFDataBase(db).unique_id is None
    (db / "db_state.json").write_text("{not json")
    assert ISFDataBase(db).keys() == []


def test_entries_whose_names_are_no_keys_are_left_out_with_a_warning(isf_db):
    (isf_db / "has space").mkdir()
    (isf_db / "x.deleting.1").mkdir()  # ISF deletes in the background this way
    with pytest.warns(UserWarning, match="has space"):
        assert ISFDataBase(isf_db).keys() == ["good"]


@pytest.mark.parametrize("key", ["..", ".", "a/b", ("good", ".."), ("..", "good"), "", ()])
def test_keys_that_would_leave_the_database_are_refused(isf_db, key):
    db = ISFDataBase(isf_db)
    with pytest.raises(InvalidKeyError):
        db[key]
    assert key not in db


def test_a_key_folder_that_is_a_link_out_of_the_database_is_not_followed(isf_db, tmp_path):
    elsewhere = Path(isf_writer.create_database(str(tmp_path / "elsewhere")))
    isf_writer.write_key(str(elsewhere), "stolen", "numpy_to_npy", np.arange(5))
    os.symlink(elsewhere / "stolen", isf_db / "link")
    db = ISFDataBase(isf_db)
    assert "link" in db.keys()
    with pytest.raises(UnsafePathError, match="symbolic link"):
        db["link"]
    with pytest.raises(UnsafePathError):
        db.metadata["link"]


@pytest.mark.parametrize(
    ("dumper", "payload", "value"),
    [
        ("numpy_to_npy", "np.npy", np.arange(3)),
        ("to_pickle", "to_pickle_dump", {"a": 1}),
        ("pandas_to_parquet", "pandas_to_parquet.parquet", pd.DataFrame({"a": [1.0]})),
        ("pandas_to_msgpack", "pandas_to_msgpack", pd.DataFrame({"a": [1.0]})),
        ("to_msgpack", "to_pickle_dump", {"a": 1}),
    ],
)
def test_a_payload_file_that_is_a_link_out_of_the_database_is_not_read(
    isf_db, secret, dumper, payload, value
):
    folder = Path(isf_writer.write_key(str(isf_db), "k", dumper, value))
    os.remove(folder / payload)
    os.symlink(secret, folder / payload)
    with pytest.raises(UnsafePathError, match="symbolic link"):
        ISFDataBase(isf_db, allow_pickle=True)["k"]


def test_loader_json_and_metadata_json_links_are_not_followed(isf_db, secret):
    folder = Path(isf_writer.write_key(str(isf_db), "k", "numpy_to_npy", np.arange(3)))
    os.remove(folder / "metadata.json")
    os.symlink(secret, folder / "metadata.json")
    db = ISFDataBase(isf_db)
    with pytest.raises(UnsafePathError):
        db.metadata["k"]
    os.remove(folder / "Loader.json")
    os.symlink(secret, folder / "Loader.json")
    with pytest.raises(UnsafePathError):
        db["k"]


def test_a_db_state_json_link_is_not_followed(tmp_path, secret):
    db = tmp_path / "isf"
    db.mkdir()
    os.symlink(secret, db / "db_state.json")
    with pytest.raises(UnsafePathError):
        ISFDataBase(db)


def test_a_sub_database_folder_that_is_a_link_is_not_followed(isf_db, tmp_path):
    elsewhere = Path(isf_writer.create_database(str(tmp_path / "elsewhere")))
    isf_writer.write_key(str(elsewhere), "stolen", "numpy_to_npy", np.arange(5))
    folder = Path(isf_writer.key_folder(str(isf_db), "sub", "just_create_isf_db"))
    os.symlink(elsewhere, folder / "db")
    db = ISFDataBase(isf_db)
    with pytest.raises(UnsafePathError):
        db["sub", "stolen"]
    with pytest.raises(UnsafePathError):
        db["sub"].keys()


def test_partitions_and_arrays_that_are_links_are_not_read(isf_db, secret):
    parts = [pd.DataFrame({"a": [1.0, 2.0]}), pd.DataFrame({"a": [3.0]})]
    folder = Path(isf_writer.write_key(str(isf_db), "dask", "dask_to_msgpack", partitions=parts))
    os.remove(folder / "dask_to_msgpack.1.csv")
    os.symlink(secret, folder / "dask_to_msgpack.1.csv")
    with pytest.raises(UnsafePathError):
        ISFDataBase(isf_db).get("dask", lazy=False)
    store = Path(
        isf_writer.write_key(str(isf_db), "store", "shared_numpy_store", {"vm": np.arange(3.0)})
    )
    os.remove(store / "vm__3__float64")
    os.symlink(secret, store / "vm__3__float64")
    for mode in ("memory", "memmap"):
        with pytest.raises(UnsafePathError):
            ISFDataBase(isf_db)["store"].load("vm", mode=mode)
    array = Path(isf_writer.write_key(str(isf_db), "z", "numpy_to_zarr", np.arange(4.0)))
    chunk = next(p for p in (array / "obj.zarr").iterdir() if not p.name.startswith("."))
    os.remove(chunk)
    os.symlink(secret, chunk)
    with pytest.raises(UnsafePathError):
        ISFDataBase(isf_db)["z"]


def test_a_shared_numpy_store_ignores_files_that_promise_object_arrays(isf_db):
    folder = Path(
        isf_writer.write_key(str(isf_db), "store", "shared_numpy_store", {"vm": np.arange(3.0)})
    )
    (folder / "evil__3__object").write_bytes(b"\0" * 24)
    (folder / "short__100__float64").write_bytes(b"\0" * 8)
    store = ISFDataBase(isf_db)["store"]
    assert sorted(store) == ["short", "vm"]
    with pytest.raises(CorruptKeyError, match="damaged"):
        store.load("short", mode="memory")
    with pytest.raises(CorruptKeyError, match="damaged"):
        store.load("short", mode="memmap")


def test_damaged_table_descriptions_are_refused(isf_db):
    parts = [pd.DataFrame({"a": [1.0]}), pd.DataFrame({"a": [2.0]})]
    folder = Path(
        isf_writer.write_key(
            str(isf_db), "pq", "dask_to_parquet", partitions=parts, divisions=[0, 1, 2]
        )
    )
    (folder / "divisions.json").write_text("[0, 1]")
    with pytest.raises(CorruptKeyError, match="divisions"):
        ISFDataBase(isf_db)["pq"]
    os.remove(folder / "pandas_to_parquet.2.1.parquet")
    with pytest.raises(CorruptKeyError, match="incomplete"):
        ISFDataBase(isf_db)["pq"]
    (folder / "object_meta.json").write_text(json.dumps({"columns": "a"}))
    isf_writer.write_key(str(isf_db), "p", "pandas_to_parquet", pd.DataFrame({"a": [1.0]}))
    (isf_db / "p" / "object_meta.json").write_text(json.dumps({"columns": ["a"], "dtypes": []}))
    with pytest.raises(CorruptKeyError, match="dtypes"):
        ISFDataBase(isf_db)["p"]
