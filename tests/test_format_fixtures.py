"""Databases written by earlier zdb versions stay readable (tests/fixtures/format<N>)."""

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import zdb
from zdb.format import FORMAT_VERSION

FIXTURES = Path(__file__).parent / "fixtures"
VERSIONS = sorted(int(p.name[len("format") :]) for p in FIXTURES.glob("format*") if p.is_dir())


def _expected():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.expected()


def _assert_same(got, want):
    if isinstance(want, xr.DataArray):
        xr.testing.assert_identical(got, want)
    elif isinstance(want, np.ndarray | np.generic):
        assert type(got) is type(want)
        assert got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    elif isinstance(want, dict):
        assert got.keys() == want.keys()
        for k in want:
            _assert_same(got[k], want[k])
    elif isinstance(want, float) and math.isnan(want):
        assert math.isnan(got)
    else:
        assert got == want
        assert type(got) is type(want)


def test_there_is_a_fixture_for_the_format_this_zdb_writes():
    assert FORMAT_VERSION in VERSIONS


@pytest.mark.parametrize("version", VERSIONS)
def test_fixture_database_reads_back_every_value(version, tmp_path):
    path = tmp_path / "db"
    shutil.copytree(FIXTURES / f"format{version}", path)
    # a database received, not created here: its pickle is read only when trusted
    with pytest.raises(zdb.exceptions.PickleRefusedError, match="did not create"):
        zdb.DataBase(path, readonly=True)["pickled"]
    db = zdb.DataBase(path, readonly=True, allow_pickle=True)
    for key, want in _expected().items():
        _assert_same(db[key], want)
        assert db.metadata[key]["metadata_creation_time"] == "together_with_new_key"
    with open(db["folder"].join("cell.hoc")) as f:
        assert f.read() == "/* morphology */\n"
    assert db.keys(recurse=True) == sorted(
        [(k,) if isinstance(k, str) else k for k in _expected()] + [("folder",)]
    )


@pytest.mark.parametrize("version", VERSIONS)
def test_fixture_database_accepts_new_writes(version, tmp_path):
    path = tmp_path / "db"
    shutil.copytree(FIXTURES / f"format{version}", path)
    db = zdb.DataBase(path)
    db["int"] = db["int"] + 1
    assert db["int"] == 43


TABLE_VERSIONS = sorted(
    int(p.name[len("tables") :]) for p in FIXTURES.glob("tables*") if p.is_dir()
)


def _expected_tables():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.expected_tables()


def test_there_is_a_fixture_for_the_table_format_this_zdb_writes():
    from zdb.tables import TABLE_FORMAT

    assert TABLE_FORMAT in TABLE_VERSIONS


@pytest.mark.parametrize("version", TABLE_VERSIONS)
def test_table_fixture_reads_back_every_table_eagerly_and_lazily(version, tmp_path):
    path = tmp_path / "db"
    shutil.copytree(FIXTURES / f"tables{version}", path)
    db = zdb.DataBase(path, readonly=True)
    for key, want in _expected_tables().items():
        if key == "dask":
            want, npartitions = want
            assert db[key].npartitions == npartitions and db[key].known_divisions
        if isinstance(want, pd.Index):
            pd.testing.assert_index_equal(db[key], want, exact=True)
            pd.testing.assert_index_equal(db.get(key, lazy=True).compute(), want, exact=True)
        elif isinstance(want, pd.Series):
            pd.testing.assert_series_equal(db.get(key, lazy=False), want)
            pd.testing.assert_series_equal(db.get(key, lazy=True).compute(), want)
        else:
            pd.testing.assert_frame_equal(db.get(key, lazy=False), want)
            pd.testing.assert_frame_equal(db.get(key, lazy=True).compute(), want)
    assert xr.open_zarr(db.path_of("traces"))["data"].shape == (3, 120)


CELL_VERSIONS = sorted(int(p.name[len("cell") :]) for p in FIXTURES.glob("cell*") if p.is_dir())


def _expected_cells():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.expected_cells()


def test_there_is_a_fixture_for_the_cell_format_this_zdb_writes():
    from zdb.objects.cell import CELL_FORMAT

    assert CELL_FORMAT in CELL_VERSIONS


@pytest.mark.parametrize("version", CELL_VERSIONS)
def test_cell_fixture_reads_back_exactly_and_as_xarray(version, tmp_path):
    from .test_cell_dumper import assert_cell_equal

    path = tmp_path / "db"
    shutil.copytree(FIXTURES / f"cell{version}", path)
    db = zdb.DataBase(path, readonly=True, allow_pickle=False)
    for key, want in _expected_cells().items():
        assert db.metadata[key]["dumper"] == "cell"
        assert_cell_equal(db[key], want)
        ds = db.get(key, as_xarray=True, lazy=False)
        voltage = np.concatenate([np.stack(s["recVList"]) for s in want["sections"]])
        np.testing.assert_array_equal(ds["voltage"].values, voltage)
        np.testing.assert_array_equal(ds["t"].values, want["tVec"])
        plain = xr.open_zarr(db.path_of(key))
        assert plain["voltage"].dims == ("segment", "t")
