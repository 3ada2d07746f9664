"""Many writers on dask.distributed: a LocalCluster of 2 worker processes writing one
database at once, on the local disk and on S3."""

from __future__ import annotations

import secrets

import dask.array as da
import numpy as np
import pytest

import zdb
from zdb.key_index import INDEX

from .s3_server import make_bucket, moto_server, storage_options

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


@pytest.fixture(scope="module")
def s3():
    pytest.importorskip("s3fs")
    with moto_server() as endpoint:
        make_bucket(endpoint, "cluster-tests")
        yield endpoint


@pytest.fixture(params=["local", "s3"])
def location(request, tmp_path):
    if request.param == "local":
        return str(tmp_path / "db"), None
    endpoint = request.getfixturevalue("s3")
    return f"s3://cluster-tests/{secrets.token_hex(4)}", storage_options(endpoint)


def _write(url: str, options: dict | None, worker: int, n: int) -> int:
    db = zdb.DataBase(url, storage_options=options)
    for i in range(n):
        db[f"w{worker}", f"k{i}"] = np.full(20, worker)
        db["shared"] = np.full(2000, worker)
    return worker


def test_workers_writing_different_keys_at_once_lose_nothing(client, location):
    url, options = location
    zdb.DataBase(url, storage_options=options)
    futures = client.map(_write, [url] * 4, [options] * 4, range(4), [8] * 4)
    assert sorted(client.gather(futures)) == [0, 1, 2, 3]
    db = zdb.DataBase(url, storage_options=options, readonly=True)
    assert db.keys() == ["shared", "w0", "w1", "w2", "w3"]
    for w in range(4):
        assert db[f"w{w}"].keys() == sorted(f"k{i}" for i in range(8))
        np.testing.assert_array_equal(db[f"w{w}", "k7"], np.full(20, w))
    assert len(set(db["shared"].tolist())) == 1  # one writer's complete value
    if db.ref.indexed:  # racing writers merge each pair of index segments once
        assert len(db.ref.store.list_dir(INDEX)) <= (33).bit_length() + 1


def test_workers_write_a_dask_array_straight_into_the_store(client, location):
    url, options = location
    db = zdb.DataBase(url, storage_options=options)
    arr = da.random.default_rng(0).random((300, 200), chunks=(70, 90))  # irregular
    expected = arr.compute()
    db.set("x", arr, chunks=(100, 100))
    np.testing.assert_array_equal(db["x"], expected)
    lazy = db.get("x", lazy=True)
    assert lazy.chunks == ((100, 100, 100), (100, 100))


def test_workers_write_a_sharded_dask_array_shard_aligned(client, location):
    url, options = location
    db = zdb.DataBase(url, storage_options=options)
    arr = da.arange(4000, chunks=300).reshape(40, 100)
    db.set("x", arr, chunks=(10, 10), shards=(20, 50))
    np.testing.assert_array_equal(db["x"], np.arange(4000).reshape(40, 100))
