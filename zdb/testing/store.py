"""``StoreTests``: the conformance suite of the :class:`zdb.storage.Store` contract.

Every backend zdb ships runs it (tests/test_store.py: a local folder, ``memory://``,
S3 through moto's server, zip archives), and a third party checks its own store by
subclassing it, as zarr-python's ``zarr.testing.store.StoreTests``::

    from zdb.testing import StoreTests

    class TestMyStore(StoreTests):
        def new_store(self):
            return MyStore(self.tmp_path / "root")

A read-only store overrides :meth:`StoreTests.store_with` to build its content by
other means (the "bypass hook"); the tests that write then check that it refuses.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from ..exceptions import ReadOnlyError, UnsafePathError
from ..storage import Store

TREE = {
    "a/zarr.json": b"pointer",
    "a/.v1/zarr.json": b"group",
    "a/.v1/data/c/0": b"chunk",
    "b": b"a file at the top",
}


class StoreTests:
    """Tests of every method and capability of a :class:`~zdb.storage.Store`.

    Subclasses implement :meth:`new_store`; ``self.tmp_path`` (a fresh folder) and
    ``self.request`` (pytest's request, for other fixtures) are set for each test.
    """

    tmp_path: Path
    request: pytest.FixtureRequest

    @pytest.fixture(autouse=True)
    def _context(self, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        self.tmp_path = tmp_path
        self.request = request

    # -- hooks -----------------------------------------------------------------------

    def new_store(self) -> Store:
        """A new, empty store (read-only stores may return one that holds nothing)."""
        raise NotImplementedError

    def store_with(self, files: dict[str, bytes]) -> Store:
        """A new store holding ``files`` (path -> content); writes them by default."""
        store = self.new_store()
        for path, data in files.items():
            store.write_bytes(path, data)
        return store

    def writable(self) -> Store:
        """A new, empty store for a test that writes; skips for read-only stores after
        checking that they refuse a write."""
        store = self.new_store()
        if store.read_only:
            with pytest.raises(ReadOnlyError):
                store.write_bytes("x", b"x")
            pytest.skip("the store is read-only")
        return store

    # -- capabilities ----------------------------------------------------------------

    def test_capabilities_are_declared(self) -> None:
        store = self.new_store()
        for name in ("atomic_rename", "atomic_create", "cheap_listing", "remote", "read_only"):
            assert isinstance(getattr(store, name), bool), name
        assert isinstance(store.max_path_bytes, int) and store.max_path_bytes > 255
        assert isinstance(store.full("a/b"), str) and "a/b" in store.full("a/b")

    def test_local_path_is_none_or_the_file_on_this_machine(self) -> None:
        store = self.store_with(TREE)
        local = store.local_path("a/.v1/data/c/0")
        if local is not None:
            assert Path(local).read_bytes() == b"chunk"

    # -- reading ---------------------------------------------------------------------

    def test_read_bytes_returns_what_was_written(self) -> None:
        store = self.store_with(TREE)
        for path, data in TREE.items():
            assert store.read_bytes(path) == data

    def test_reading_a_missing_file_raises_file_not_found(self) -> None:
        store = self.store_with(TREE)
        for path in ("missing", "a/missing", "b/below_a_file"):
            with pytest.raises(FileNotFoundError):
                store.read_bytes(path)
        with pytest.raises((FileNotFoundError, IsADirectoryError)):
            store.read_bytes("a/.v1/data/c")  # a folder

    def test_read_many_reads_every_file_and_raises_for_a_missing_one(self) -> None:
        store = self.store_with(TREE)
        assert store.read_many(list(TREE)) == TREE
        assert store.read_many([]) == {}
        with pytest.raises(FileNotFoundError):
            store.read_many(["a/zarr.json", "a/missing"])

    def test_read_range_reads_a_part_or_the_end_of_a_file(self) -> None:
        data = bytes(range(256)) * 4
        store = self.store_with({**TREE, "a/.v1/data/c/9": data})
        path = "a/.v1/data/c/9"
        assert store.read_range(path, 0, 10) == data[:10]
        assert store.read_range(path, 100, 300) == data[100:300]
        assert store.read_range(path, 1000) == data[1000:]
        assert store.read_range(path, -20) == data[-20:]
        assert store.read_range(path, 1000, 2000) == data[1000:]  # beyond the end: short
        with pytest.raises(FileNotFoundError):
            store.read_range("a/missing", 0, 4)

    def test_read_with_stat_describes_the_local_file_or_none(self) -> None:
        store = self.store_with(TREE)
        data, st = store.read_with_stat("a/.v1/data/c/0")
        assert data == b"chunk"
        if st is not None:
            assert st.st_size >= 0 and isinstance(st.st_uid, int)

    def test_exists_and_is_dir_tell_files_from_folders(self) -> None:
        store = self.store_with(TREE)
        assert store.exists("a") and store.exists("a/zarr.json") and store.exists("b")
        assert store.is_dir("a") and store.is_dir("a/.v1/data")
        assert not store.is_dir("a/zarr.json") and not store.is_dir("b")
        assert not store.exists("missing") and not store.is_dir("missing")

    def test_list_dir_names_the_children_and_nothing_for_a_missing_folder(self) -> None:
        store = self.store_with(TREE)
        assert sorted(store.list_dir("")) == ["a", "b"]
        assert sorted(store.list_dir("a")) == [".v1", "zarr.json"]
        assert store.list_dir("a/.v1/data/c") == ["0"]
        assert store.list_dir("missing") == []

    def test_children_with_names_the_folders_holding_a_file(self) -> None:
        store = self.store_with({**TREE, "c/.v2/zarr.json": b"", ".hidden/zarr.json": b""})
        assert sorted(store.children_with("", "zarr.json")) == ["a"]
        assert sorted(store.children_with("a", "zarr.json")) == []
        assert sorted(store.children_with("a", "zarr.json", skip="-")) == [".v1"]
        assert store.children_with("missing", "zarr.json") == []

    def test_files_lists_every_file_below_a_folder_sorted(self) -> None:
        store = self.store_with(TREE)
        assert store.files("a") == ["a/.v1/data/c/0", "a/.v1/zarr.json", "a/zarr.json"]
        assert store.files("") == sorted(TREE)
        assert store.files("missing") == []

    def test_size_counts_a_file_or_a_tree_and_zero_for_nothing(self) -> None:
        store = self.store_with(TREE)
        assert store.size("a/zarr.json") == len(b"pointer")
        assert store.size("a") == len(b"pointer") + len(b"group") + len(b"chunk")
        assert store.size("missing") == 0

    def test_mtime_is_a_time_and_missing_raises(self) -> None:
        store = self.store_with(TREE)
        assert store.mtime("a/zarr.json") > 1e9
        with pytest.raises(FileNotFoundError):
            store.mtime("missing")

    def test_paths_leaving_the_root_are_refused(self) -> None:
        store = self.store_with(TREE)
        for path in ("../outside", "a/../../outside", "/etc/passwd", "a/./zarr.json"):
            with pytest.raises(UnsafePathError):
                store.read_bytes(path)

    # -- writing ---------------------------------------------------------------------

    def test_write_bytes_creates_parent_folders_and_replaces_content(self) -> None:
        store = self.writable()
        store.write_bytes("x/y/z", b"1")
        store.write_bytes("x/y/z", b"22")
        assert store.read_bytes("x/y/z") == b"22"
        assert store.files("x") == ["x/y/z"]

    def test_write_atomic_readers_see_the_old_or_the_new_content_whole(self) -> None:
        store = self.writable()
        old, new = b"o" * 200_000, b"n" * 300_000
        store.write_atomic("p", old)
        seen: set[bytes] = set()
        stop = threading.Event()

        def read() -> None:
            while not stop.is_set():
                data = store.read_bytes("p")
                seen.add(data[:1] + str(len(data)).encode())

        readers = [threading.Thread(target=read) for _ in range(2)]
        for t in readers:
            t.start()
        for i in range(20):
            store.write_atomic("p", new if i % 2 == 0 else old)
        stop.set()
        for t in readers:
            t.join()
        assert seen <= {b"o200000", b"n300000"}, seen
        assert store.read_bytes("p") == old
        assert store.list_dir("") == ["p"]  # no temporary file is left

    def test_create_exclusive_creates_once_and_never_replaces(self) -> None:
        store = self.writable()
        assert store.create_exclusive("d/node", b"first") is True
        assert store.create_exclusive("d/node", b"second") is False
        assert store.read_bytes("d/node") == b"first"
        assert store.list_dir("d") == ["node"]

    def test_racing_exclusive_creates_agree_where_the_store_says_they_are_atomic(self) -> None:
        store = self.writable()
        results: dict[int, bool] = {}

        def create(i: int) -> None:
            results[i] = store.create_exclusive("node", f"writer {i}".encode())

        threads = [threading.Thread(target=create, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        winners = [i for i, created in results.items() if created]
        assert winners, results
        if store.atomic_create:
            assert len(winners) == 1, results
            assert store.read_bytes("node") == f"writer {winners[0]}".encode()
        else:
            assert store.read_bytes("node") in {f"writer {i}".encode() for i in winners}

    def test_remove_removes_a_file_or_a_tree_and_ignores_nothing(self) -> None:
        store = self.writable()
        for path, data in TREE.items():
            store.write_bytes(path, data)
        store.remove("a/.v1")
        assert store.files("a") == ["a/zarr.json"]
        store.remove("b")
        store.remove("missing")
        store.remove("a")
        assert store.files("") == [] and not store.exists("a")

    def test_remove_file_removes_a_file_and_ignores_a_missing_one(self) -> None:
        store = self.writable()
        for path, data in TREE.items():
            store.write_bytes(path, data)
        store.remove_file("a/zarr.json")
        store.remove_file("a/zarr.json")
        assert store.files("a") == ["a/.v1/data/c/0", "a/.v1/zarr.json"]

    def test_remove_empty_folder_removes_only_an_empty_folder(self) -> None:
        store = self.writable()
        store.write_bytes("full/f", b"1")
        store.remove_empty_folder("full")
        store.remove_empty_folder("missing")
        assert store.read_bytes("full/f") == b"1"

    def test_rename_moves_a_tree_and_refuses_an_existing_destination(self) -> None:
        store = self.writable()
        for path, data in TREE.items():
            store.write_bytes(path, data)
        store.rename("a", "z/a2")
        assert not store.exists("a")
        assert store.files("z") == ["z/a2/.v1/data/c/0", "z/a2/.v1/zarr.json", "z/a2/zarr.json"]
        with pytest.raises(FileExistsError):
            store.rename("z/a2", "b")
        assert store.read_bytes("b") == TREE["b"]
        with pytest.raises(FileNotFoundError):
            store.rename("missing", "elsewhere")

    def test_copy_copies_a_tree_keeps_the_source_and_refuses_an_existing_destination(
        self,
    ) -> None:
        store = self.writable()
        for path, data in TREE.items():
            store.write_bytes(path, data)
        store.copy("a", "c/a")
        assert store.files("c") == ["c/a/.v1/data/c/0", "c/a/.v1/zarr.json", "c/a/zarr.json"]
        assert store.read_bytes("c/a/.v1/data/c/0") == b"chunk"
        assert store.read_bytes("a/zarr.json") == b"pointer"
        with pytest.raises(FileExistsError):
            store.copy("a", "b")
        with pytest.raises(FileNotFoundError):
            store.copy("missing", "elsewhere")

    def test_copy_for_move_copies_a_tree_the_source_then_goes(self) -> None:
        store = self.writable()
        for path, data in TREE.items():
            store.write_bytes(path, data)
        store.copy_for_move("a", "m/a")
        assert store.files("m") == ["m/a/.v1/data/c/0", "m/a/.v1/zarr.json", "m/a/zarr.json"]
        store.remove("a")
        assert store.read_bytes("m/a/.v1/data/c/0") == b"chunk"
        with pytest.raises(FileExistsError):
            store.copy_for_move("m/a", "b")

    def test_writes_leaving_the_root_are_refused(self) -> None:
        store = self.writable()
        for attempt in (
            lambda: store.write_bytes("../outside", b"x"),
            lambda: store.write_atomic("a/../../outside", b"x"),
            lambda: store.remove("../"),
            lambda: store.rename("a", "../outside"),
        ):
            with pytest.raises(UnsafePathError):
                attempt()

    # -- zarr ------------------------------------------------------------------------

    def test_zarr_reads_and_writes_arrays_through_the_store(self) -> None:
        import numpy as np
        import zarr

        data = np.arange(12.0).reshape(3, 4)
        store = self.new_store()
        if store.read_only:
            pytest.skip("writing arrays needs a writable store")
        z = zarr.create_array(store.zarr_store("k/.v1"), shape=(3, 4), chunks=(2, 2), dtype="f8")
        z[...] = data
        reread = zarr.open_array(store.zarr_store("k/.v1"), mode="r")
        np.testing.assert_array_equal(reread[...], data)
        assert "k/.v1/zarr.json" in store.files("k")

    def test_a_pickled_store_reads_the_same_content(self) -> None:
        import pickle

        store = self.store_with(TREE)
        clone: Any = pickle.loads(pickle.dumps(store))
        assert clone.read_bytes("a/.v1/data/c/0") == b"chunk"
        assert clone.full("a") == store.full("a")
