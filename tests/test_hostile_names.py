"""Names read from a database are checked before zdb joins them to a path: a damaged
or hostile database (a received folder, tarball or bucket) cannot make an ordinary
operation read, write or delete anything outside it, and one damaged key never
stops the others."""

from __future__ import annotations

import json
import os
import secrets
import warnings

import numpy as np
import pytest

import zdb
from zdb.exceptions import (
    CorruptKeyError,
    DataBaseException,
    InvalidKeyError,
    ReadOnlyError,
)
from zdb.format import ZARR_JSON


def _pointer(db: zdb.DataBase, key: tuple[str, ...]) -> dict:
    return json.loads(db.ref.store.read_bytes("/".join((*key, ZARR_JSON))))


def _plant(db: zdb.DataBase, key: tuple[str, ...], doc: dict | bytes) -> None:
    data = doc if isinstance(doc, bytes) else json.dumps(doc).encode()
    db.ref.store.write_bytes("/".join((*key, ZARR_JSON)), data)


@pytest.fixture(params=["local", "memory", "s3"])
def any_db(request, tmp_path) -> zdb.DataBase:
    """A new database on each kind of store."""
    if request.param == "local":
        return zdb.DataBase(tmp_path / "db")
    if request.param == "memory":
        return zdb.DataBase(f"memory://hostile-{secrets.token_hex(4)}")
    return _s3_db(request)


def _s3_db(request) -> zdb.DataBase:
    from .s3_server import storage_options

    endpoint = request.getfixturevalue("s3_endpoint")
    url = f"s3://zdb-tests/{secrets.token_hex(6)}"
    return zdb.DataBase(url, storage_options=storage_options(endpoint))


@pytest.mark.parametrize(
    "key",
    ["zarr.json", "ZARR.JSON", "Zarr.Json", "zarr.json.1a2b.tmp", ("sub", "zarr.json")],
)
def test_a_key_named_like_zarrs_node_document_is_refused_on_every_store(any_db, key):
    any_db["kept"] = 1
    any_db["sub", "x"] = 2
    with pytest.raises(InvalidKeyError, match="zarr.json"):
        any_db[key] = 5
    with pytest.raises(InvalidKeyError):
        del any_db[key]
    with pytest.raises(InvalidKeyError):
        any_db.rename("kept", key)
    reopened = zdb.DataBase(any_db.basedir, storage_options=_options(any_db))
    assert reopened.keys(recurse=True) == [("kept",), ("sub", "x")]


def _options(db: zdb.DataBase) -> dict | None:
    return getattr(db.ref.store, "storage_options", None)


def test_a_blob_digest_that_is_a_path_is_never_joined_to_one(local_db, tmp_path):
    victim = tmp_path / "victim.txt"
    local_db["a", "b", "k"] = 1
    doc = _pointer(local_db, ("a", "b", "k"))
    escape = os.path.relpath(victim, local_db.ref.store.local_path("a/b/.zdb/blobs"))
    doc["attributes"]["zdb"]["metadata"]["diff_blob"] = escape
    _plant(local_db, ("a", "b", "k"), doc)
    victim.write_text("private")
    meta = local_db.metadata["a", "b", "k"]
    assert meta["diff"] is None and "diff_blob" in meta["error"]
    local_db.rename(("a", "b", "k"), "k")  # copies the key's blobs to the root database
    assert local_db["k"] == 1
    assert victim.read_text() == "private"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["db", "victim.txt"]


@pytest.mark.parametrize("version", ["../../thesis", "../other", "/etc", ".v1-2/../../x", 7])
def test_a_pointer_naming_a_version_outside_its_key_is_damage_not_a_path(local_db, version):
    thesis = os.path.join(os.path.dirname(local_db.basedir), "thesis")
    os.makedirs(thesis)
    with open(os.path.join(thesis, "chapter1.tex"), "w") as f:
        f.write("years of work")
    local_db["k"] = np.arange(3)
    local_db["other"] = np.arange(4)
    doc = _pointer(local_db, ("k",))
    doc["attributes"]["zdb"]["version"] = version
    _plant(local_db, ("k",), doc)
    for attempt in (
        lambda: local_db["k"],
        lambda: local_db.path_of("k"),
        lambda: local_db.set("k", np.arange(5)),
        lambda: local_db.rename("k", "k2"),
    ):
        with pytest.raises(CorruptKeyError, match="'k'.*version"):
            attempt()
    assert os.listdir(thesis) == ["chapter1.tex"]
    np.testing.assert_array_equal(local_db["other"], np.arange(4))
    del local_db["k"]  # a damaged key stays deletable, and deleting it goes nowhere else
    assert os.listdir(thesis) == ["chapter1.tex"] and "k" not in local_db
    local_db["k"] = 1
    assert local_db["k"] == 1


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("no_kind", {"zarr_format": 3, "node_type": "group", "attributes": {"zdb": {}}}),
        ("zdb_a_list", {"zarr_format": 3, "node_type": "group", "attributes": {"zdb": []}}),
        (
            "loader_a_list",
            {
                "zarr_format": 3,
                "node_type": "group",
                "attributes": {"zdb": {"kind": "data", "dumper": "python_value", "loader": []}},
            },
        ),
        ("deep_json", b"[" * 100_000 + b"]" * 100_000),
        ("not_json", b"\xff\xfe"),
        ("format_a_str", {"zarr_format": 3, "attributes": {"zdb": {"format": "1"}}}),
    ],
)
def test_one_damaged_pointer_never_stops_listing_the_others(any_db, capsys, name, content):
    any_db["good"] = 1
    any_db["sub", "deep"] = 2
    _plant(any_db, ("sub", name), content)
    any_db["sub", "zz"] = 3
    with pytest.raises(CorruptKeyError, match=name):
        any_db["sub", name]
    if any_db.ref.indexed:  # planted by hand, so not in the key index until repaired
        report = any_db.repair_index()
        assert report["damaged"] == report["added"] == [("sub", name)]
    assert ("sub", name) in any_db.keys(recurse=True)
    assert ("sub", "zz") in any_db.keys(recurse=True)
    any_db.ls()
    out = capsys.readouterr().out
    assert f"{name}  <damaged" in out and "zz" in out and "good" in out
    assert any_db["sub", "zz"] == 3
    del any_db["sub", name]
    assert any_db.keys(recurse=True) == [("good",), ("sub", "deep"), ("sub", "zz")]


def test_a_root_whose_unique_id_is_not_a_string_opens_and_is_repaired(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db["a"] = 1
    doc = json.loads((tmp_path / "db" / ZARR_JSON).read_text())
    doc["attributes"]["zdb"]["unique_id"] = {"not": "a string"}
    (tmp_path / "db" / ZARR_JSON).write_text(json.dumps(doc))
    ro = zdb.DataBase(tmp_path / "db", readonly=True)
    assert ro["a"] == 1 and ro.unique_id is None
    with pytest.warns(UserWarning, match="damaged.*new unique id"):
        repaired = zdb.DataBase(tmp_path / "db")
    assert isinstance(repaired.unique_id, str) and repaired["a"] == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert zdb.DataBase(tmp_path / "db").unique_id == repaired.unique_id


def test_get_mkdtemp_on_a_read_only_database_raises_read_only(local_db):
    ro = zdb.DataBase(local_db.basedir, readonly=True)
    with pytest.raises(ReadOnlyError, match="read-only"):
        ro.get_mkdtemp()
    assert not os.path.exists(os.path.join(local_db.basedir, ".zdb", "tmp"))


def test_a_write_that_fails_leaves_no_empty_key_folder(local_db, snapshot):
    before = sorted(os.listdir(local_db.basedir))
    with pytest.raises(DataBaseException):
        local_db.set("d1", np.arange(3), chunks=(0,))
    assert sorted(os.listdir(local_db.basedir)) == before
    assert "d1" not in local_db and local_db.keys() == []


def test_a_key_too_long_for_the_file_system_or_s3_is_an_invalid_key(db):
    key = tuple(f"p{i:02d}" + "x" * 110 for i in range(40))
    for attempt in (lambda: db.set(key, 1), lambda: db.create_sub_db(key)):
        with pytest.raises(InvalidKeyError, match="bytes") as info:
            attempt()
        assert repr(key)[:20] in str(info.value)
    assert db.keys() == []


def test_s3_refuses_keys_whose_object_names_exceed_1024_bytes(request):
    db = _s3_db(request)
    key = tuple("y" * 100 for _ in range(8))  # 808 bytes: no room for the value's files
    with pytest.raises(InvalidKeyError, match="1024|bytes"):
        db[key] = np.arange(2)
    db[key[:6]] = np.arange(2)
    np.testing.assert_array_equal(db[key[:6]], np.arange(2))


def test_key_index_entries_that_break_the_key_rules_are_left_out_with_a_warning():
    import zlib

    from zdb.key_index import INDEX, SUFFIX

    db = zdb.DataBase(f"memory://hostile-{secrets.token_hex(4)}")
    db["a"] = 1
    bad = [["../../etc", "data", 1, False], ["zarr.json", "data", 1, False], ["b", 3, 1, 0]]
    db.ref.store.write_bytes(
        f"{INDEX}/00-00000000000001-deadbeef{SUFFIX}", zlib.compress(json.dumps(bad).encode())
    )
    db.ref.store.write_bytes(f"{INDEX}/00-00000000000002-deadbeef{SUFFIX}", b"garbage")
    reader = zdb.DataBase(db.basedir, readonly=True)
    with pytest.warns(UserWarning, match="damaged.*repair_index"):
        assert reader.keys() == ["a"]


def test_a_database_whose_root_document_is_garbage_opens_for_repair(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db["a"] = 1
    db["s", "b"] = 2
    (tmp_path / "db" / ZARR_JSON).write_bytes(b"\x00garbage")
    ro = zdb.DataBase(tmp_path / "db", readonly=True)
    assert ro.keys(recurse=True) == [("a",), ("s", "b")] and ro.unique_id is None
    with pytest.warns(UserWarning, match="damaged.*unreadable.*new unique id"):
        repaired = zdb.DataBase(tmp_path / "db")
    assert repaired["s", "b"] == 2 and repaired.unique_id
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / ZARR_JSON).write_bytes(b"garbage")
    with pytest.raises(zdb.exceptions.NotADataBaseError, match="no zdb database"):
        zdb.DataBase(tmp_path / "other")
