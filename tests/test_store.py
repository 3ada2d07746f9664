"""The storage layer's contract, for every kind of store: a local folder, fsspec's
memory file system and S3 (moto's server)."""

from __future__ import annotations

import secrets

import pytest

from zdb.storage import FsspecStore, LocalStore, Store


@pytest.fixture(params=["local", "memory", "s3"])
def store(request: pytest.FixtureRequest, tmp_path) -> Store:
    if request.param == "local":
        return LocalStore(tmp_path / "root")
    if request.param == "memory":
        return FsspecStore(f"memory://zdb-store-tests/{secrets.token_hex(6)}")
    from .s3_server import storage_options

    endpoint = request.getfixturevalue("s3_endpoint")
    url = f"s3://zdb-tests/{secrets.token_hex(6)}"
    return FsspecStore(url, storage_options(endpoint))


def _tree(store: Store) -> None:
    store.write_bytes("a/zarr.json", b"pointer")
    store.write_bytes("a/.v1/zarr.json", b"group")
    store.write_bytes("a/.v1/data/c/0", b"chunk")


def test_copy_copies_a_tree_and_keeps_the_source(store):
    _tree(store)
    store.copy("a", "b/c")
    assert store.files("b") == ["b/c/.v1/data/c/0", "b/c/.v1/zarr.json", "b/c/zarr.json"]
    assert store.read_bytes("b/c/.v1/data/c/0") == b"chunk"
    assert store.read_bytes("a/zarr.json") == b"pointer"


def test_copy_and_rename_refuse_an_existing_destination(store):
    _tree(store)
    store.write_bytes("b/other", b"x")
    with pytest.raises(FileExistsError):
        store.copy("a", "b")
    with pytest.raises(FileExistsError):
        store.rename("a", "b")
    assert store.read_bytes("b/other") == b"x"


def test_rename_moves_a_tree(store):
    _tree(store)
    store.rename("a", "z")
    assert not store.exists("a")
    assert store.files("z") == ["z/.v1/data/c/0", "z/.v1/zarr.json", "z/zarr.json"]


def test_a_missing_source_raises_file_not_found(store):
    with pytest.raises(FileNotFoundError):
        store.copy("missing", "b")


def test_read_many_reads_every_file_and_raises_for_a_missing_one(store):
    _tree(store)
    assert store.read_many(["a/zarr.json", "a/.v1/data/c/0"]) == {
        "a/zarr.json": b"pointer",
        "a/.v1/data/c/0": b"chunk",
    }
    with pytest.raises(FileNotFoundError):
        store.read_many(["a/zarr.json", "a/missing"])


def test_remove_file_removes_a_file_and_ignores_a_missing_one(store):
    _tree(store)
    store.remove_file("a/zarr.json")
    store.remove_file("a/zarr.json")
    assert store.files("a") == ["a/.v1/data/c/0", "a/.v1/zarr.json"]
