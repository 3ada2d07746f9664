"""Small arrays kept in their key's pointer (format 2, deferred values): what a write
creates, how each read mode returns them, and their Zarr group written on request."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import zarr

import zdb
from zdb.format import ZARR_JSON
from zdb.IO.LoaderDumper.numpy_to_zarr import INLINE_BYTES

SMALL = np.random.default_rng(0).standard_normal(1000)  # 8,000 bytes


def _tree(path: str | os.PathLike) -> tuple[set[str], set[str]]:
    """The folders and files below ``path``, relative to it."""
    folders, files = set(), set()
    for dirpath, dirnames, filenames in os.walk(path):
        rel = os.path.relpath(dirpath, path)
        folders.update(os.path.normpath(os.path.join(rel, d)) for d in dirnames)
        files.update(os.path.normpath(os.path.join(rel, f)) for f in filenames)
    return folders, files


def _created(db: zdb.DataBase, write) -> tuple[set[str], set[str]]:
    before = _tree(db.basedir)
    write()
    after = _tree(db.basedir)
    return after[0] - before[0], after[1] - before[1]


@pytest.mark.local_files
def test_a_new_small_array_key_creates_one_folder_and_one_file(local_db):
    local_db["warm"] = SMALL  # the provenance blobs of the first write
    folders, files = _created(local_db, lambda: local_db.set("x", SMALL))
    assert folders == {"x"}
    assert files == {f"x/{ZARR_JSON}"}


@pytest.mark.local_files
def test_overwriting_a_small_array_key_keeps_one_folder_and_one_file(local_db):
    local_db["x"] = SMALL
    local_db["x"] = SMALL + 1
    assert _tree(Path(local_db.basedir) / "x") == (set(), {ZARR_JSON})
    np.testing.assert_array_equal(local_db["x"], SMALL + 1)


@pytest.mark.local_files
def test_an_array_over_the_limit_or_not_inline_writes_its_zarr_group_at_once(local_db):
    local_db["warm"] = SMALL
    big = np.zeros(INLINE_BYTES // 8 + 1)
    for key, write in [
        ("big", lambda: local_db.set("big", big)),
        ("asked", lambda: local_db.set("asked", SMALL, inline=False)),
    ]:
        folders, files = _created(local_db, write)
        v = f"{key}/{os.path.basename(local_db.path_of(key))}"
        assert folders == {key, v, f"{v}/data", f"{v}/data/c"}
        assert files == {
            f"{key}/{ZARR_JSON}",
            f"{v}/{ZARR_JSON}",
            f"{v}/data/zarr.json",
            f"{v}/data/c/0",
        }


def test_every_read_mode_gives_what_the_zarr_group_gives(db):
    arr = np.arange(12, dtype="int16").reshape(3, 4)
    db.set("deferred", arr, dimension_names=["trial", "t"])
    db.set("group", arr, dimension_names=["trial", "t"], inline=False)
    for lazy in (None, True, False):
        got = db.get("deferred", as_xarray=True, lazy=lazy)
        want = db.get("group", as_xarray=True, lazy=lazy)
        xr.testing.assert_identical(got.load(), want.load())
    lazy = db.get("deferred", lazy=True)
    assert type(lazy).__module__.startswith("dask")
    np.testing.assert_array_equal(lazy.compute(), arr)
    back = db["deferred"]
    assert back.dtype == arr.dtype and back.flags.writeable
    np.testing.assert_array_equal(back, arr)


@pytest.mark.parametrize(
    "value",
    [np.float32(1.5), np.array(True), np.zeros((0, 3)), np.array([1 + 2j, -0.0 - 0j]), SMALL],
    ids=["scalar", "0-d", "empty", "complex", "float64"],
)
def test_small_arrays_round_trip_exactly(db, value):
    db["x"] = value
    back = db["x"]
    assert type(back) is type(value) and back.dtype == value.dtype
    assert np.asarray(back).tobytes() == np.asarray(value).tobytes()


def test_path_of_writes_the_same_zarr_group_a_direct_write_has(db):
    db.set("deferred", SMALL, dimension_names=["t"])
    db.set("group", SMALL, dimension_names=["t"], inline=False)
    store = db.ref.store
    paths = {k: db.path_of(k) for k in ("deferred", "group")}
    assert db.path_of("deferred") == paths["deferred"]  # written once, same place
    for name in (ZARR_JSON, "data/zarr.json", "data/c/0"):
        contents = {
            k: store.read_bytes(f"{k}/{os.path.basename(p)}/{name}") for k, p in paths.items()
        }
        assert contents["deferred"] == contents["group"], name
    np.testing.assert_array_equal(db["deferred"], SMALL)


@pytest.mark.local_files
def test_plain_zarr_and_xarray_read_the_group_path_of_wrote(local_db):
    local_db.set("x", SMALL, dimension_names=["t"])
    path = local_db.path_of("x")
    np.testing.assert_array_equal(zarr.open_group(path, mode="r")["data"][...], SMALL)
    np.testing.assert_array_equal(xr.open_zarr(path)["data"].values, SMALL)


@pytest.mark.local_files
def test_path_of_in_a_read_only_database_raises_read_only_error_naming_the_key(local_db):
    local_db["x"] = SMALL
    reader = zdb.DataBase(local_db.basedir, readonly=True)
    with pytest.raises(zdb.exceptions.ReadOnlyError, match="'x'.*as_xarray=True"):
        reader.path_of("x")
    np.testing.assert_array_equal(reader.get("x", as_xarray=True).values, SMALL)
    local_db.path_of("x")  # once written, a reader gets the path
    assert reader.path_of("x") == local_db.path_of("x")


@pytest.mark.local_files
def test_threads_asking_for_the_path_at_once_get_one_complete_group(local_db):
    local_db["x"] = SMALL
    barrier = threading.Barrier(4)
    paths: list[str] = []

    def ask() -> None:
        barrier.wait()
        paths.append(local_db.path_of("x"))

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(paths)) == 1
    key_folder = Path(local_db.basedir) / "x"
    assert sorted(p.name for p in key_folder.iterdir()) == sorted(
        [ZARR_JSON, os.path.basename(paths[0])]
    )
    np.testing.assert_array_equal(xr.open_zarr(paths[0])["data"].values, SMALL)


def _edit_pointer(db: zdb.DataBase, key: str, change) -> None:
    path = f"{key}/{ZARR_JSON}"
    doc = json.loads(db.ref.store.read_bytes(path))
    change(doc["attributes"]["zdb"])
    db.ref.store.write_atomic(path, json.dumps(doc).encode())


@pytest.mark.parametrize(
    "damage",
    [
        lambda z: z["loader"].update(inline="not base64!"),
        lambda z: z["loader"].update(inline=z["loader"]["inline"][:-8]),
        lambda z: z["loader"]["array"].update(shape=[3, -1]),
        lambda z: z["loader"]["array"].update(data_type="string"),
        lambda z: z["loader"]["array"].update(dimension_names=[1]),
    ],
    ids=["not base64", "too short", "negative shape", "not numeric", "dimension names"],
)
def test_a_damaged_array_in_the_pointer_raises_corrupt_key_error_naming_the_key(db, damage):
    db["x"] = SMALL
    _edit_pointer(db, "x", damage)
    with pytest.raises(zdb.exceptions.CorruptKeyError, match="'x'"):
        db["x"]
    report = zdb.fsck(db)
    assert [f.problem for f in report.findings] == ["unreadable value"]


@pytest.mark.parametrize(
    "damage",
    [
        lambda z: z.update(format=1),
        lambda z: z.update(deferred="yes"),
        lambda z: z.update(version=None),
    ],
    ids=["format 1", "not a bool", "no version"],
)
def test_a_deferred_flag_where_it_cannot_be_is_damage(db, damage):
    db["x"] = SMALL
    _edit_pointer(db, "x", damage)
    with pytest.raises(zdb.exceptions.CorruptKeyError, match="'x'.*deferred"):
        db["x"]
    assert db.keys() == ["x"]  # still listed, and deletable
    del db["x"]


def test_a_format_2_pointer_is_written_only_for_deferred_values(db):
    db["small"] = SMALL
    db["large"] = np.zeros(INLINE_BYTES // 8 + 1)
    db["int"] = 3

    def fmt(key: str) -> int:
        return json.loads(db.ref.store.read_bytes(f"{key}/{ZARR_JSON}"))["attributes"]["zdb"][
            "format"
        ]

    assert (fmt("small"), fmt("large"), fmt("int")) == (2, 1, 1)


def test_fsck_and_gc_find_nothing_to_do_with_deferred_values_written_or_not(db):
    db["written"] = SMALL
    db["not_written"] = SMALL
    db["sub", "nested"] = SMALL
    path = db.path_of("written")
    report = zdb.fsck(db)
    assert report.ok and report.keys_checked == 3, report.findings
    assert zdb.gc(db).removed == []
    assert db.ref.store.exists(f"written/{os.path.basename(path)}/{ZARR_JSON}")


def test_renames_and_copies_keep_deferred_values(db, tmp_path):
    db["a"] = SMALL
    db["b"] = SMALL + 1
    db.path_of("b")
    db.rename("a", ("new", "deeper", "a"))  # into sub-databases that do not exist yet
    db.rename("b", "c")
    np.testing.assert_array_equal(db["new", "deeper", "a"], SMALL)
    np.testing.assert_array_equal(db["c"], SMALL + 1)
    other = zdb.DataBase(tmp_path / "other")
    db.copy_to("c", other)
    np.testing.assert_array_equal(other["c"], SMALL + 1)
    np.testing.assert_array_equal(xr.open_zarr(other.path_of("c"))["data"].values, SMALL + 1)
    assert zdb.fsck(db).ok and zdb.fsck(other).ok


@pytest.mark.local_files
def test_a_group_written_by_a_killed_process_is_a_leftover_gc_removes_when_stale(
    local_db, monkeypatch
):
    import time

    from zdb import commit, leftovers
    from zdb.dumper import Target
    from zdb.dumper_registry import get_dumper

    local_db["x"] = SMALL
    node = local_db.node("x")
    staged = f"x/{commit.new_version()}"  # written, never renamed into place
    get_dumper(node.dumper).write_deferred(Target(local_db.ref.store, staged), node.loader)
    monkeypatch.setattr(leftovers, "_now", lambda: time.time() + 2 * 86400)
    report = zdb.gc(local_db)
    assert [x.path for x in report.removed] == [staged]
    assert not local_db.ref.store.exists(staged)
    np.testing.assert_array_equal(xr.open_zarr(local_db.path_of("x"))["data"].values, SMALL)
