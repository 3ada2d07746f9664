"""The key index (zdb/key_index.py): complete, small, and cheap to read on S3."""

from __future__ import annotations

import secrets
from contextlib import contextmanager
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zdb
from zdb import commit, key_index, metadata
from zdb.key_index import INDEX, KeyIndex

from .s3_server import make_bucket, moto_server, storage_options

NAMES = st.sampled_from(["a", "b", "c", "d"])
OPS = st.lists(
    st.one_of(
        st.tuples(st.just("set"), NAMES),
        st.tuples(st.just("del"), NAMES),
        st.tuples(st.just("sub"), NAMES),
        st.tuples(st.just("rename"), NAMES, NAMES),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(ops=OPS)
def test_index_agrees_with_the_folder_after_any_sequence_of_changes(ops):
    db = zdb.DataBase(f"memory://zdb-{secrets.token_hex(4)}")
    for op, name, *rest in ops:
        try:
            if op == "set":
                db[name] = 1
            elif op == "del":
                del db[name]
            elif op == "sub":
                db.create_sub_db(name)
            else:
                db.rename(name, rest[0])
        except (KeyError, zdb.exceptions.DataBaseException):
            pass
    assert sorted(KeyIndex(db.ref.store, "").names()) == commit.listed_names(db.ref)


def test_local_databases_list_their_folder_and_keep_no_index(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db["a"] = 1
    assert not (tmp_path / "db" / INDEX).exists()


def test_segments_stay_logarithmic_in_the_number_of_writes():
    db = zdb.DataBase(f"memory://zdb-{secrets.token_hex(4)}")
    for i in range(300):
        db[f"k{i}"] = i
    segments = db.ref.store.list_dir(INDEX)
    assert len(segments) <= (300).bit_length() + 1
    assert len(KeyIndex(db.ref.store, "").names()) == 300


def test_readers_of_an_object_store_see_keys_written_by_others_at_once():
    url = f"memory://zdb-{secrets.token_hex(4)}"
    reader = zdb.DataBase(url)
    writer = zdb.DataBase(url)
    assert reader.keys() == []
    writer["x"] = 1
    assert reader.keys() == ["x"]
    del writer["x"]
    writer["y", "z"] = 2
    assert reader.keys() == ["y"]
    assert reader.keys(recurse=True) == [("y", "z")]


def test_a_database_copied_to_an_object_store_gets_an_index_when_opened_for_writing():
    import fsspec

    fixture = Path(__file__).parent / "fixtures" / "format1"
    url = f"memory://zdb-{secrets.token_hex(4)}"
    fsspec.filesystem("memory").put(str(fixture), url[len("memory://") :], recursive=True)
    db = zdb.DataBase(url)
    assert db.ref.indexed
    assert sorted(KeyIndex(db.ref.store, "").names()) == commit.listed_names(db.ref)
    assert (
        db.keys()
        == commit.listed_names(db.ref)
        == sorted(p.name for p in fixture.iterdir() if not p.name.startswith(".") and p.is_dir())
    )


@contextmanager
def count_s3_requests():
    """Count the S3 API calls s3fs makes (every store request goes through _call_s3)."""
    import s3fs

    calls: list[str] = []
    original = s3fs.S3FileSystem._call_s3

    async def counting(self, method, *args, **kwargs):
        calls.append(method)
        return await original(self, method, *args, **kwargs)

    s3fs.S3FileSystem._call_s3 = counting
    try:
        yield calls
    finally:
        s3fs.S3FileSystem._call_s3 = original


@pytest.fixture(scope="module")
def s3():
    pytest.importorskip("s3fs")
    with moto_server() as endpoint:
        make_bucket(endpoint, "index-tests")
        yield endpoint


def _fill_index(db: zdb.DataBase, n: int) -> None:
    """Index entries for n keys, in segments shaped as n writers one after another
    leave them (one per set bit of n), without writing n values."""
    index = KeyIndex(db.ref.store, "")
    start = 0
    for bit in reversed(range(n.bit_length())):
        size = 1 << bit
        if n & size:
            index._write([[f"key{i:06d}", "data", 1, False] for i in range(start, start + size)])
            start += size


@pytest.mark.parametrize("n", [20, 100_000])
def test_open_list_len_contains_and_metadata_take_a_bounded_number_of_s3_requests(s3, n):
    url, options = f"s3://index-tests/{secrets.token_hex(4)}", storage_options(s3)
    db = zdb.DataBase(url, storage_options=options)
    _fill_index(db, n - 1)
    db["probe"] = 1
    key_index._SEGMENTS.clear()  # read as another process would
    with count_s3_requests() as calls:
        opened = zdb.DataBase(url, storage_options=options, readonly=True)
        keys = opened.keys()
        assert len(opened) == n
        assert "probe" in opened
        assert opened.metadata["probe"]["dumper"] == "python_value"
    assert len(keys) == n
    assert len(calls) <= 25, calls


def test_metadata_of_keys_sharing_provenance_blobs_reads_each_blob_once(s3):
    url, options = f"s3://index-tests/{secrets.token_hex(4)}", storage_options(s3)
    db = zdb.DataBase(url, storage_options=options)
    for name in ("a", "b", "c"):
        db[name] = 1
    metadata._texts.clear()  # read as another process would
    opened = zdb.DataBase(url, storage_options=options, readonly=True)
    with count_s3_requests() as first:
        want = opened.metadata["a"]
    with count_s3_requests() as others:
        got = [opened.metadata[name] for name in ("b", "c")]
    assert want["module_versions"] and first.count("get_object") >= 2  # pointer + blobs
    assert others == ["get_object", "get_object"]  # the two pointers only
    for meta in got:
        assert meta["module_versions"] == want["module_versions"]
    got[0]["module_versions"].clear()  # a caller's change does not reach the cache
    assert opened.metadata["c"]["module_versions"] == want["module_versions"]


def test_writing_and_reading_a_key_take_a_bounded_number_of_s3_requests(s3):
    import numpy as np

    url, options = f"s3://index-tests/{secrets.token_hex(4)}", storage_options(s3)
    db = zdb.DataBase(url, storage_options=options)
    _fill_index(db, 5000)
    db["warm"] = 0  # the shared provenance blobs exist from here on
    budgets = {}
    for name, value in (("int", 7), ("array", np.arange(1000.0))):
        with count_s3_requests() as writes:
            db[name] = value
        with count_s3_requests() as reads:
            got = db[name]
        np.testing.assert_array_equal(got, value)
        budgets[name] = (len(writes), len(reads))
    with count_s3_requests() as overwrite:
        db["array"] = np.arange(1000.0) + 1
    # a new key's write includes its index segment and, now and then, a merge
    assert budgets["int"][0] <= 16 and budgets["int"][1] == 1
    assert budgets["array"][0] <= 16 and budgets["array"][1] <= 3
    assert len(overwrite) <= 16


class Killed(BaseException):
    """Stands for a SIGKILL at a chosen moment (nothing after it runs)."""


def _kill_at(monkeypatch: pytest.MonkeyPatch, target: object, name: str) -> None:
    def killed(*args, **kwargs):
        raise Killed(name)

    monkeypatch.setattr(target, name, killed)


def test_repair_index_lists_keys_whose_writer_was_killed_before_recording_them(monkeypatch):
    db = zdb.DataBase(f"memory://zdb-{secrets.token_hex(4)}")
    db["kept"] = 1
    db.create_sub_db("sub")
    with monkeypatch.context() as m:
        _kill_at(m, KeyIndex, "record_many")  # after the commit, before the index
        with pytest.raises(Killed):
            db["lost"] = 2
        with pytest.raises(Killed):
            db["sub", "deep"] = 3
    assert db.keys() == ["kept", "sub"] and db["lost"] == 2  # it exists but is unlisted
    assert db["sub"].keys() == [] and db["sub", "deep"] == 3
    report = db.repair_index()
    assert report == {
        "added": [("lost",), ("sub", "deep")],
        "removed": [],
        "left": [],
        "damaged": [],
    }
    assert db.keys() == ["kept", "lost", "sub"]
    assert db.keys(recurse=True) == [("kept",), ("lost",), ("sub", "deep")]
    assert db.repair_index() == {"added": [], "removed": [], "left": [], "damaged": []}


def test_repair_index_unlists_keys_removed_by_another_tool_and_recurses():
    db = zdb.DataBase(f"memory://zdb-{secrets.token_hex(4)}")
    db["a"] = 1
    db["sub", "b"] = 2
    db.ref.store.remove("a")
    db.ref.store.remove("sub/b")
    assert db.repair_index() == {
        "added": [],
        "removed": [("a",), ("sub", "b")],
        "left": [],
        "damaged": [],
    }
    assert db.keys(recurse=True) == [] and "a" not in db


def test_repair_index_leaves_a_key_whose_deletion_was_recorded_after_it_was_written(
    monkeypatch,
):
    db = zdb.DataBase(f"memory://zdb-{secrets.token_hex(4)}")
    db["x"] = 1
    with monkeypatch.context() as m:
        _kill_at(m, zdb.commit, "remove_key")  # deletion recorded, pointer still there
        with pytest.raises(Killed):
            del db["x"]
    assert db.repair_index() == {"added": [], "removed": [], "left": [("x",)], "damaged": []}
    assert db.keys() == [] and db["x"] == 1
    del db["x"]  # deleting it again finishes the deletion
    assert "x" not in db and db.repair_index()["left"] == []


def test_repair_index_of_a_local_database_has_nothing_to_do(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db["a", "b"] = 1
    assert db.repair_index() == {"added": [], "removed": [], "left": [], "damaged": []}
    with pytest.raises(zdb.exceptions.ReadOnlyError):
        zdb.DataBase(tmp_path / "db", readonly=True).repair_index()
