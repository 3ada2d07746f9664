"""The shared numpy store: ISF's folder of raw arrays named ``<name>__<shape>__<dtype>``,
written and read by zdb (``zdb.IO.LoaderDumper.shared_numpy_store``), its dumper, the
shared memory it loads arrays into, and its safety on hostile folders."""

from __future__ import annotations

import multiprocessing
import os
import threading

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import zdb
from zdb.exceptions import (
    DataBaseException,
    InvalidArgumentError,
    ReadOnlyError,
    UnsafePathError,
    UnsupportedValueError,
)
from zdb.IO.LoaderDumper.shared_numpy_store import (
    SharedNumpyStore,
    Uninterruptible,
    file_name,
    parse_file_name,
)
from zdb.isf_data_base import ISFDataBase
from zdb.testing import DumperRoundTripTests, isf_writer

NAME_RULE = r"[A-Za-z0-9.\-]([A-Za-z0-9_.\-]{0,20}[A-Za-z0-9.\-])?"
NAMES = st.from_regex(NAME_RULE, fullmatch=True).filter(lambda n: "__" not in n)
DTYPES = st.sampled_from(
    ["bool", "int8", "uint16", "int32", "int64", "float32", "float64", "complex128"]
)


@given(NAMES, st.lists(st.integers(0, 10**12), min_size=1, max_size=5), DTYPES)
def test_every_file_name_written_parses_back_to_its_name_shape_and_dtype(name, shape, dtype):
    entry = file_name(name, tuple(shape), dtype)
    assert entry == f"{name}__{'_'.join(map(str, shape))}__{np.dtype(dtype)}"  # ISF's rule
    assert parse_file_name(entry) == (name, tuple(shape), np.dtype(dtype))


@pytest.mark.parametrize(
    "entry",
    [
        "../vm__3__float64",
        "a/b__3__float64",
        "vm__3__object",
        "vm__3__float64.saving",
        "vm__x__float64",
        "vm__3__Float64",
        "Loader.pickle",
        "metadata.json",
        "a___3__float64",
    ],
)
def test_names_that_are_no_array_file_are_not_parsed(entry):
    assert parse_file_name(entry) is None


@pytest.mark.parametrize("name", ["", "a__b", "../x", "a/b", "x_", "_x", "Loader.json", "é"])
def test_names_isfs_reader_could_not_read_back_are_refused(tmp_path, name):
    store = SharedNumpyStore(tmp_path / "store")
    with pytest.raises(InvalidArgumentError, match="cannot name an array"):
        store.save(np.arange(3), name)
    assert os.listdir(tmp_path) == ["store"] and os.listdir(tmp_path / "store") == []


@pytest.mark.parametrize(
    "value", [np.array([None, 1]), np.arange(3).astype("datetime64[s]"), np.float64(1.0)]
)
def test_arrays_whose_bytes_are_not_their_values_are_refused(tmp_path, value):
    store = SharedNumpyStore(tmp_path / "store")
    with pytest.raises(DataBaseException):
        store.save(value, "x")
    assert os.listdir(tmp_path / "store") == []


def test_files_are_isfs_raw_bytes_in_c_order_and_readable_in_every_mode(tmp_path):
    arr = np.arange(12.0).reshape(4, 3)
    store = SharedNumpyStore(tmp_path / "store")
    store.save(np.asfortranarray(arr), "vm")
    store.save(np.arange(3, dtype=">i4"), "ids")  # big-endian: stored in native order
    assert sorted(os.listdir(store.working_dir)) == ["ids__3__int32", "vm__4_3__float64"]
    assert (tmp_path / "store" / "vm__4_3__float64").read_bytes() == arr.tobytes()
    try:
        for mode in ("memory", "memmap", "shared_memory"):
            got = store.load("vm", mode=mode, start_row=1, end_row=3, allow_create_shm=True)
            np.testing.assert_array_equal(got, arr[1:3])
    finally:
        store.close()
    assert dict(store).keys() == {"ids", "vm"} and store["ids"].tolist() == [0, 1, 2]
    with pytest.raises(KeyError, match="absent"):
        store.load("absent")
    with pytest.raises(InvalidArgumentError, match="rows"):
        store.load("vm", mode="memory", start_row=3, end_row=9)


def test_saving_another_shape_replaces_the_file_and_appending_checks_the_shape(tmp_path):
    store = SharedNumpyStore(tmp_path / "store")
    store.save(np.zeros((2, 3)), "vm")
    store.save(np.ones((1, 3)), "vm")
    assert os.listdir(store.working_dir) == ["vm__1_3__float64"]
    store.append_save(np.ones((1, 3)), "vm", autoflush=False)
    store.append_save(np.full((2, 3), 2.0), "vm", autoflush=False)  # before the flush
    assert store.load("vm", mode="memory").shape == (1, 3)
    store.flush()
    assert os.listdir(store.working_dir) == ["vm__4_3__float64"]
    np.testing.assert_array_equal(store["vm"][:, 0], [1.0, 1.0, 2.0, 2.0])
    with pytest.raises(InvalidArgumentError, match="cannot append"):
        store.append_save(np.ones((1, 2)), "vm")
    with pytest.raises(InvalidArgumentError, match="cannot append"):
        store.append_save(np.ones((1, 3), dtype="int64"), "vm")


def test_a_write_killed_before_its_rename_or_its_cleanup_leaves_the_newer_array(tmp_path):
    folder = tmp_path / "store"
    folder.mkdir()
    np.arange(3.0).tofile(folder / "vm__3__float64")
    (folder / "vm__5__float64.saving").write_bytes(b"partial")
    np.arange(2.0).tofile(folder / "vm__2__float64")
    os.utime(folder / "vm__3__float64", (1, 1))
    store = SharedNumpyStore(folder)
    assert store["vm"].tolist() == [0.0, 1.0]


def test_links_in_a_store_are_never_followed(tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(np.arange(3.0).tobytes())
    store = SharedNumpyStore(tmp_path / "store")
    os.symlink(secret, tmp_path / "store" / "vm__3__float64")
    os.symlink(secret, tmp_path / "store" / "ids__3__float64")
    store.update()
    for mode in ("memory", "memmap", "shared_memory"):
        with pytest.raises(UnsafePathError):
            store.load("vm", mode=mode, allow_create_shm=True)
    with pytest.raises(UnsafePathError):
        store.append_save(np.arange(3.0), "vm")
    with pytest.raises(UnsafePathError):
        store.load("ids", mode="memory")
    store.save(np.ones(3), "ids")  # replaces the link itself
    assert not os.path.islink(tmp_path / "store" / "ids__3__float64")
    assert store["ids"].tolist() == [1.0, 1.0, 1.0]
    assert secret.read_bytes() == np.arange(3.0).tobytes()


class TestSharedNumpyStoreRoundTrip(DumperRoundTripTests):
    dumper = "shared_numpy_store"
    examples = {"empty": None, "arrays": {"vm": np.arange(6.0).reshape(2, 3), "n": np.arange(2)}}
    refused = {"a_list": [1, 2], "a_bad_name": {"a__b": np.arange(2)}}

    def assert_same(self, got, want):
        assert isinstance(got, SharedNumpyStore)
        assert {k: v.tolist() for k, v in got.items()} == {
            k: v.tolist() for k, v in (want or {}).items()
        }


def test_a_database_key_holds_a_store_in_isfs_layout(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    store = db.create_shared_numpy_store("sns")
    store.save(np.arange(4, dtype="int16"), "ids")
    assert db.create_shared_numpy_store("sns", raise_=False)["ids"].tolist() == [0, 1, 2, 3]
    with pytest.raises(DataBaseException, match="already exists"):
        db.create_shared_numpy_store("sns")
    assert os.listdir(db["sns"].working_dir) == ["ids__4__int16"]
    assert db.metadata["sns"]["dumper"] == "shared_numpy_store"
    del db["sns"]
    assert "sns" not in db


def test_isfs_stores_are_written_in_place_and_read_by_the_isf_reader(tmp_path):
    """ISF's code opens a store by the path of its key folder; what zdb writes there is
    what zdb's reader of ISF databases reads, and a store ISF wrote appends as zdb's."""
    isf = isf_writer.create_database(str(tmp_path / "isf"))
    folder = isf_writer.write_key(
        isf, "store", "shared_numpy_store", {"vm": np.arange(6.0).reshape(3, 2)}
    )
    writer = SharedNumpyStore(folder)
    writer.append_save(np.ones((1, 2)), "vm")
    writer.save(np.arange(3, dtype="uint8"), "ids")
    reader = ISFDataBase(tmp_path / "isf")["store"]
    assert sorted(reader) == ["ids", "vm"]
    np.testing.assert_array_equal(reader["vm"], np.vstack([np.arange(6.0).reshape(3, 2), [[1, 1]]]))
    assert reader["ids"].tolist() == [0, 1, 2]
    with pytest.raises(ReadOnlyError):
        reader.save(np.arange(2), "new")


def _attach_and_write(db_path: str, done) -> None:
    store = zdb.DataBase(db_path)["sns"]
    shared = store.load("vm")  # attaches: never creates
    shared[0] = 42.0
    store.close()  # a block it only attached to stays
    done.set()


def test_processes_share_the_memory_the_first_one_loaded(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db.set("sns", {"vm": np.zeros(4)}, dumper="shared_numpy_store")
    store = db["sns"]
    with pytest.raises(ValueError, match="not in shared memory yet"):
        store.load("vm")
    shared = store.load("vm", allow_create_shm=True)
    try:
        ctx = multiprocessing.get_context("spawn")
        done = ctx.Event()
        child = ctx.Process(target=_attach_and_write, args=(str(tmp_path / "db"), done))
        child.start()
        child.join(120)
        assert child.exitcode == 0 and done.is_set()
        assert shared[0] == 42.0  # written by the other process
        assert db["sns"].load("vm")[0] == 42.0  # the block is still there
        assert db["sns"]["vm"][0] == 0.0  # the file is not changed
    finally:
        store.close()
    with pytest.raises(ValueError, match="not in shared memory yet"):
        db["sns"].load("vm")  # unlinked by the store that created it
    assert shared[0] == 42.0  # this process's mapping outlives the name


def test_uninterruptible_does_nothing_outside_the_main_thread():
    errors = []

    def work():
        try:
            with Uninterruptible():
                pass
        except Exception as e:  # noqa: BLE001  (reported below)
            errors.append(e)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert errors == []


def test_remote_databases_refuse_stores(tmp_path):
    with pytest.raises(UnsupportedValueError, match="local"):
        zdb.DataBase(f"memory://{tmp_path.name}/db").create_shared_numpy_store("sns")
