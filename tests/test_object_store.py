"""zdb on fsspec URLs: ``memory://`` and a real S3 endpoint (moto's server)."""

from __future__ import annotations

import fractions
import multiprocessing
import secrets

import numpy as np
import pytest
import xarray as xr

import zdb
from zdb.exceptions import DataBaseException, PickleRefusedError, UnsupportedValueError

from .s3_server import make_bucket, moto_server, storage_options

pytest.importorskip("s3fs", reason="s3fs is needed for the S3 tests")


@pytest.fixture(scope="module")
def s3_endpoint():
    with moto_server() as endpoint:
        make_bucket(endpoint, "zdb-tests")
        yield endpoint


@pytest.fixture(params=["memory", "s3"])
def location(request):
    """(URL of a fresh database, storage options)."""
    name = secrets.token_hex(4)
    if request.param == "memory":
        return f"memory://zdb-{name}", {}
    endpoint = request.getfixturevalue("s3_endpoint")
    return f"s3://zdb-tests/{name}", storage_options(endpoint)


@pytest.fixture
def db(location):
    url, options = location
    return zdb.DataBase(url, storage_options=options)


def test_values_round_trip(db):
    values = {
        "int": 3,
        "plain": {"a": (1, 2.5), 4: None},
        "small": np.arange(12.0).reshape(3, 4),
        "big": np.arange(300_000, dtype="int32"),
        "xr": xr.DataArray(np.arange(4.0), dims="t", coords={"t": [0.0, 0.1, 0.2, 0.3]}),
    }
    for key, value in values.items():
        db[key] = value
    assert db.keys() == sorted(values)
    assert db["int"] == 3 and db["plain"] == values["plain"]
    np.testing.assert_array_equal(db["small"], values["small"])
    np.testing.assert_array_equal(db["big"], values["big"])
    np.testing.assert_array_equal(db.get("big", lazy=True)[-5:].compute(), values["big"][-5:])
    xr.testing.assert_identical(db["xr"], values["xr"])


def test_overwrite_delete_and_rename(db):
    db["x"] = np.zeros(10)
    db["x"] = db["x"] + 1
    np.testing.assert_array_equal(db["x"], np.ones(10))
    db["sub", "y"] = 5
    db.rename("x", ("sub", "x"))
    db.rename("sub", "moved")
    assert db.keys(recurse=True) == [("moved", "x"), ("moved", "y")]
    assert db.metadata["moved", "x"]["dumper"] == "numpy_to_zarr"
    del db["moved", "x"]
    assert db.keys(recurse=True) == [("moved", "y")]
    with pytest.raises(KeyError):
        db["moved", "x"]


def test_reopening_finds_the_same_database(db, location):
    url, options = location
    db["k"] = 1
    again = zdb.DataBase(url, storage_options=options, readonly=True)
    assert again.unique_id == db.unique_id
    assert again["k"] == 1
    with pytest.raises(DataBaseException, match="read-only"):
        again["k"] = 2


def test_path_of_opens_with_plain_xarray(db, location):
    _, options = location
    db["a"] = np.arange(6.0).reshape(2, 3)
    opened = xr.open_zarr(db.path_of("a"), storage_options=options or None)
    np.testing.assert_array_equal(opened["data"].values, np.arange(6.0).reshape(2, 3))


def test_remote_pickles_need_allow_pickle(db, location):
    url, options = location
    db["p"] = fractions.Fraction(1, 3)
    with pytest.raises(PickleRefusedError, match="allow_pickle"):
        db["p"]
    trusting = zdb.DataBase(url, storage_options=options, allow_pickle=True)
    assert trusting["p"] == fractions.Fraction(1, 3)


def test_managed_folders_need_a_local_database(db):
    with pytest.raises(UnsupportedValueError, match="local"):
        db.create_managed_folder("f")
    assert "f" not in db


def test_missing_database_with_nocreate_raises(location):
    url, options = location
    with pytest.raises(DataBaseException, match="nocreate"):
        zdb.DataBase(url + "-missing", storage_options=options, nocreate=True)


def _write_keys(url: str, options: dict, writer: int, n: int) -> None:
    db = zdb.DataBase(url, storage_options=options)
    for i in range(n):
        db[f"w{writer}-{i}"] = np.full(50, writer)
        db["shared"] = np.full(1000, writer)


def test_processes_writing_at_once_lose_nothing_on_s3(s3_endpoint):
    url, options = f"s3://zdb-tests/{secrets.token_hex(4)}", storage_options(s3_endpoint)
    zdb.DataBase(url, storage_options=options)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_write_keys, args=(url, options, w, 3)) for w in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    db = zdb.DataBase(url, storage_options=options)
    assert db.keys() == sorted([f"w{w}-{i}" for w in range(2) for i in range(3)] + ["shared"])
    shared = db["shared"]
    assert len(set(shared.tolist())) == 1  # one complete value, never a mix
