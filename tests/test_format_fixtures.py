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
        if key in ("dask", "sharded"):
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


LDA_LAYOUTS = sorted(
    int(p.name[len("reduced_lda_model") :])
    for p in FIXTURES.glob("reduced_lda_model*")
    if p.is_dir()
)


def _expected_reduced_lda_model():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.expected_reduced_lda_model()


def test_there_is_a_fixture_for_the_reduced_lda_model_layout_this_zdb_writes():
    from zdb.IO.LoaderDumper.reduced_lda_model import LAYOUT

    assert LAYOUT in LDA_LAYOUTS


@pytest.mark.parametrize("layout", LDA_LAYOUTS)
def test_reduced_lda_model_fixture_reads_back_with_its_classifier_and_methods(layout, tmp_path):
    from zdb.objects.reduced_lda_model import ReducedLdaModel

    sklearn = pytest.importorskip("sklearn.discriminant_analysis", reason="needs scikit-learn")
    path = tmp_path / "db"
    shutil.copytree(FIXTURES / f"reduced_lda_model{layout}", path)
    got = zdb.DataBase(path, readonly=True)["model"]
    want = _expected_reduced_lda_model()
    assert isinstance(got, ReducedLdaModel) and list(vars(got)) == list(vars(want))
    for name in ("keys_to_synapse_activation_data", "db_list", "aggfun", "test_size"):
        assert getattr(got, name) == getattr(want, name)
    pd.testing.assert_frame_equal(got.st, want.st, check_exact=True)
    _assert_same(got.y, want.y)
    _assert_same(got.lda_values[0], want.lda_values[0])
    _assert_same(got.kernel_dict[0], want.kernel_dict[0])
    _assert_same(got.lda_value_dicts[0], want.lda_value_dicts[0])
    pd.testing.assert_series_equal(got.lookup_series[0], want.lookup_series[0], check_exact=True)
    assert got.clfs["value_counts"] == [{True: 2, False: 1}]
    assert type(got.clfs["score"]) is np.float64 and got.clfs["score"] == 1.5
    [clf] = got.clfs["classifier_"]
    assert type(clf) is sklearn.LinearDiscriminantAnalysis
    X = np.array([[1.0, 1.0], [0.0, 1.0]])  # 2 - 1 - 0.5 = 0.5; 0 - 1 - 0.5 = -1.5
    np.testing.assert_array_equal(clf.decision_function(X), [0.5, -1.5])
    np.testing.assert_array_equal(clf.predict(X), [True, False])
    # the trial with a spike at 9.5 in [9, 10) left out: bins -1: 0/1, 1: 1/1, 2: 1/1,
    # on -1..2 (ISF's range would end at int(2 + 0.3 * 3) = 2, before the last bin)
    [lookup] = got.get_lookup_series_for_different_refractory_period(1)
    np.testing.assert_array_equal(lookup.to_numpy(), [0.0, 0.5, 1.0, 1.0])
    pd.testing.assert_series_equal(lookup, want.lookup_series[0])
    [lookup] = got.get_lookup_series_for_different_refractory_period(0)  # 2: 1/2
    np.testing.assert_array_equal(lookup.to_numpy(), [0.0, 0.5, 1.0, 0.5])
    # A: 1 * 2, B: 2 * -1 (window [0, 1)): lda value 0, between bins -1 and 1
    result = got.apply_static({"A": np.array([[1.0, 9.0]]), "B": np.array([[2.0, 9.0]])})
    np.testing.assert_array_equal(result.lda_values, [0.0])
    assert list(result.p_spike) == [0.5]
