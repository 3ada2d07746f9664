"""The ``reduced_lda_model`` dumper and zdb's ReducedLdaModel: a fitted model, made as
ISF's ``simrun.reduced_model.get_kernel.ReducedLdaModel.fit`` makes it, stored and read
back exactly, without pickling and without changing it; the read model's lookup series
and static predictions checked against values worked out by hand."""

from __future__ import annotations

import json
import pickle
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import zdb
from zdb.exceptions import CorruptKeyError, DataBaseException, UnsupportedValueError
from zdb.IO.LoaderDumper.reduced_lda_model import UnnamedFunctionError
from zdb.objects.reduced_lda_model import (
    ClassifierRecord,
    ReducedLdaModel,
    ReducedModelError,
    get_lookup_series_from_lda_values_spike_data,
    spike_in_interval,
)
from zdb.testing import DumperRoundTripTests

from .s3_server import OnS3

sklearn_lda = pytest.importorskip("sklearn.discriminant_analysis", reason="needs scikit-learn")
LDA = sklearn_lda.LinearDiscriminantAnalysis
LDA_CLASS = "sklearn.discriminant_analysis.LinearDiscriminantAnalysis"


class IsfReducedLdaModel:
    """Stands for ISF's ReducedLdaModel: zdb knows it only by its attributes."""

    def apply_static(self, data, model_number=0):  # ISF's methods, cached on the instance
        raise NotImplementedError

    def apply_rolling(self):
        raise NotImplementedError


def sum_groups(values):
    """An aggfun (ISF: maps {key: activations} to (locations, arrays))."""
    return ["all"], [sum(values.values())]


def fitted(seed: int = 0, trials: int = 160, classifiers: int = 3):
    """A model fitted on random activations, and the activations. The model is made
    attribute by attribute as ISF's ``fit`` makes it (``prediction_rates`` with
    ``return_='all'``, the kernel normalisation, ``kernel_dict``, ``lda_value_dicts``,
    ``lda_values`` and ``lookup_series``)."""
    rng = np.random.default_rng(seed)
    m = IsfReducedLdaModel()
    m.synapse_activation_window_width = 6
    m.synapse_activation_window_min = 14
    m.synapse_activation_window_max = 20
    m.output_window_min = 18
    m.output_window_max = 20
    keys = ["EXC", "INH"]
    m.keys_to_synapse_activation_data = keys
    m.refractory_period = 2
    m.normalize_group_size = True
    m.test_size = 0.4
    m.verbosity = 0
    m.lookup_series_stepsize = 5
    m.aggfun = None
    m.apply_rolling = m.apply_rolling  # what ISF's cache=True leaves on the instance
    m.apply_static = m.apply_static
    data = {k: rng.integers(0, 6, size=(trials, 25)) for k in keys}
    drive = data["EXC"][:, 14:20].sum(axis=1) - data["INH"][:, 14:20].sum(axis=1)
    first = np.where(drive + rng.normal(0, 3, trials) > 0, 18.5 + rng.random(trials), np.nan)
    early = np.where(rng.random(trials) < 0.1, 16.5, np.nan)
    st = pd.DataFrame(
        np.sort(np.stack([first, early], axis=1), axis=1),
        index=pd.Index([f"run/{i:06d}" for i in range(trials)], name="sim_trial_index"),
    )
    m.db_list = ["2019-02-13_17_28_25_62a3a5e1"]  # an ISF unique id: stays an id
    m.y = np.array(spike_in_interval(st, m.output_window_min, m.output_window_max))
    m.st = st
    m.spike_before = spike_in_interval(st, m.output_window_min - 2, m.output_window_min).values
    X = np.concatenate([data[k][:, 14:20] for k in keys], axis=1)
    bounds = {"EXC": (0, 6), "INH": (6, 12)}
    Xf, yf = X[~m.spike_before], m.y[~m.spike_before]
    clfs = {k: [] for k in ("score_all", "score_0", "score_1", "score_rocauc")}
    clfs.update(score_rocauc_full_data=[], classifier_=[], value_counts=[])
    for i in range(classifiers):
        train = np.random.default_rng(i).random(len(yf)) < 0.6
        clf = LDA(n_components=1, shrinkage=None, solver="eigen").fit(Xf[train], yf[train])
        clfs["score_all"].append(clf.score(Xf[~train], yf[~train]))
        clfs["score_0"].append(float(np.mean(clf.predict(Xf[~yf]) == yf[~yf])))
        clfs["score_1"].append(np.float64(np.mean(clf.predict(Xf[yf]) == yf[yf])))
        clfs["score_rocauc"].append(np.float64(0.5 + i / 10))
        clfs["score_rocauc_full_data"].append(np.float64(0.75))
        clfs["value_counts"].append(pd.Series(yf[train]).value_counts().to_dict())
        clfs["classifier_"].append(clf)
    clfs["score"] = np.median(clfs["score_1"]) + np.median(clfs["score_0"])
    m.clfs = {k: clfs[k] for k in ("score_all", "score_0", "score_1", "score")} | {
        k: clfs[k]
        for k in ("score_rocauc", "score_rocauc_full_data", "classifier_", "value_counts")
    }
    for clf in m.clfs["classifier_"]:
        clf.coef_[0] = clf.coef_[0] * (7.260991424242837 / np.sqrt(sum(c**2 for c in clf.coef_[0])))
    m.kernel_dict = [
        {k: clf.coef_[0].squeeze()[a:b] for k, (a, b) in bounds.items()}
        for clf in m.clfs["classifier_"]
    ]
    m.lda_value_dicts, m.lookup_series, m.lda_values = [], [], []
    for kernels in m.kernel_dict:
        values = {k: np.dot(X[:, a:b], kernels[k]) for k, (a, b) in bounds.items()}
        lda_values = sum(values.values())
        m.lookup_series.append(
            get_lookup_series_from_lda_values_spike_data(
                lda_values, m.y, lookup_series_stepsize=5, spike_before=m.spike_before
            )
        )
        m.lda_value_dicts.append(values)
        m.lda_values.append(lda_values)
    return m, data


def fitted_model() -> IsfReducedLdaModel:
    return fitted()[0]


#: lda values, spikes, spikes before the window and spike times of the hand-made model
HAND_LDA = np.array([1.0, -2.0, 4.0, 6.0, 12.6, 14.0, 12.5])
HAND_SPIKE = np.array([False, False, True, False, True, True, False])
HAND_ST = pd.DataFrame(
    {0: [np.nan, np.nan, 10.5, 9.0, 10.2, 11.0, np.nan], 1: [np.nan] * 6 + [30.0]}
)
#: bins of 5, rounding halves to even (12.5 / 5 = 2.5 -> 2 -> 10): 0: 0/2, 5: 1/2, 10:
#: 0/1, 15: 2/2; spread from int(0 - 0.3 * 15) = -4 to int(15 + 4.5) = 19 (excluded),
#: 0 at -4, linear between bins, flat after the last
HAND_LOOKUP = pd.Series(
    [0, 0, 0, 0, 0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.4, 0.3, 0.2, 0.1, 0, 0.2, 0.4, 0.6, 0.8, 1, 1, 1, 1],
    index=np.arange(-4, 19),
    dtype=float,
)
#: without the trial at 6.0 (a spike at 9.0 in [8, 10)): bin 5 is 1/1
HAND_LOOKUP_REFRACTORY = pd.Series(
    [0, 0, 0, 0, 0, 0.2, 0.4, 0.6, 0.8, 1, 0.8, 0.6, 0.4, 0.2, 0, 0.2, 0.4, 0.6, 0.8, 1, 1, 1, 1],
    index=np.arange(-4, 19),
    dtype=float,
)


def hand_model() -> IsfReducedLdaModel:
    """A model small enough to work out by hand: two synapse groups with kernels of two
    bins (window [1, 3)), no classifiers."""
    m = IsfReducedLdaModel()
    for name, value in dict(
        synapse_activation_window_width=2,
        synapse_activation_window_min=1,
        synapse_activation_window_max=3,
        output_window_min=10,
        output_window_max=12,
        keys_to_synapse_activation_data=["A", "B"],
        refractory_period=0,
        normalize_group_size=False,
        test_size=0.5,
        verbosity=0,
        lookup_series_stepsize=5,
        aggfun=sum_groups,
    ).items():
        setattr(m, name, value)
    m.st = HAND_ST
    m.y = HAND_SPIKE.copy()
    m.spike_before = np.zeros(7, dtype=bool)
    m.clfs = {"score": 1.0, "classifier_": [], "value_counts": [{False: 3, True: 4}]}
    m.kernel_dict = [{"A": np.array([1.0, -1.0]), "B": np.array([0.5, 2.0])}]
    m.lda_value_dicts = [{"A": HAND_LDA / 2, "B": HAND_LDA / 2}]
    m.lda_values = [HAND_LDA.copy()]
    m.lookup_series = [HAND_LOOKUP.copy()]
    return m


# -- comparing models attribute by attribute, types included ------------------------------


def assert_identical(got, want, where="model"):
    if isinstance(want, (IsfReducedLdaModel, ReducedLdaModel)):
        assert isinstance(got, ReducedLdaModel), where
        names = [n for n in vars(want) if n not in ("apply_static", "apply_rolling")]
        assert list(vars(got)) == names, where
        for name in names:
            assert_identical(getattr(got, name), getattr(want, name), f"{where}.{name}")
    elif isinstance(want, pd.DataFrame):
        pd.testing.assert_frame_equal(got, want, check_exact=True, obj=where)
        assert list(map(type, got.columns)) == list(map(type, want.columns)), where
    elif isinstance(want, pd.Series):
        pd.testing.assert_series_equal(
            got, want, check_exact=True, check_index_type=True, obj=where
        )
    elif isinstance(want, np.ndarray):
        assert type(got) is np.ndarray and got.dtype == want.dtype, where
        np.testing.assert_array_equal(got, want, err_msg=where)
    elif isinstance(want, dict):
        assert type(got) is dict and list(got) == list(want), where
        assert [type(k) for k in got] == [type(k) for k in want], where
        for k in want:
            assert_identical(got[k], want[k], f"{where}[{k!r}]")
    elif isinstance(want, list | tuple):
        assert type(got) is type(want) and len(got) == len(want), where
        for i, (g, w) in enumerate(zip(got, want, strict=True)):
            assert_identical(g, w, f"{where}[{i}]")
    elif isinstance(want, (LDA, ClassifierRecord)):
        assert type(got) is type(want), where
        assert got.get_params() == want.get_params(), where
        assert list(vars(got)) == list(vars(want)) or isinstance(want, ClassifierRecord), where
        for k, v in vars(want).items():
            assert_identical(getattr(got, k), v, f"{where}.{k}")
    elif isinstance(want, zdb.DataBase):
        assert isinstance(got, zdb.DataBase) and got.unique_id == want.unique_id, where
    else:
        assert type(got) is type(want) and got == want, (where, got, want)


def snapshot(model):
    """Everything a model holds, deeply, as bytes, and which objects its attributes are:
    equal snapshots, unchanged model."""
    import cloudpickle

    state = {k: v for k, v in vars(model).items() if k not in ("apply_static", "apply_rolling")}
    return cloudpickle.dumps(state), {k: id(v) for k, v in vars(model).items()}


# -- the conformance suite ------------------------------------------------------------------


class TestReducedLdaModelDumper(DumperRoundTripTests):
    dumper = "reduced_lda_model"
    examples = {"fitted": fitted_model(), "hand": hand_model()}
    refused = {"lambda_aggfun": hand_model()}
    refused["lambda_aggfun"].aggfun = lambda values: (["all"], [sum(values.values())])

    def assert_same(self, got, want):
        assert_identical(got, want)


class TestReducedLdaModelDumperOnS3(OnS3, TestReducedLdaModelDumper):
    pass


# -- writing ----------------------------------------------------------------------------------


def test_a_model_given_without_a_dumper_is_stored_natively_and_nothing_is_pickled(local_db):
    model = fitted_model()
    local_db["rm"] = model
    assert local_db.metadata["rm"]["dumper"] == "reduced_lda_model"
    assert not [p for p in Path(local_db.basedir).rglob("*") if "pickle" in p.name]
    assert_identical(local_db["rm"], model)


def test_writing_leaves_the_model_unchanged(local_db):
    model = fitted_model()
    before, kernels = snapshot(model), [dict(k) for k in model.kernel_dict]
    local_db["rm"] = model
    assert snapshot(model) == before
    # ISF's kernels are views of the classifiers' coefficients: still the same objects
    assert all(
        k1[g] is k2[g] for k1, k2 in zip(model.kernel_dict, kernels, strict=True) for g in k1
    )


def test_a_failing_write_leaves_the_model_and_the_database_unchanged(local_db, monkeypatch):
    model = fitted_model()
    before = snapshot(model)
    store = local_db.ref.store
    write = store.write_bytes
    calls = []

    def failing(path, data, *args, **kwargs):
        calls.append(path)
        if len(calls) == 12:
            raise OSError(28, "No space left on device")
        return write(path, data, *args, **kwargs)

    monkeypatch.setattr(store, "write_bytes", failing)
    with pytest.raises(DataBaseException, match="No space left"):
        local_db["rm"] = model
    monkeypatch.undo()
    assert len(calls) == 12 and "/.v" in calls[-1]  # inside the model's version folder
    assert "rm" not in local_db and local_db.keys() == []
    assert snapshot(model) == before


@pytest.mark.parametrize("named", [True, False], ids=["dumper named", "no dumper named"])
def test_an_unnamed_aggfun_is_refused_with_a_clear_error_and_not_pickled(local_db, named):
    model = hand_model()
    model.aggfun = lambda values: (["all"], [sum(values.values())])
    before = snapshot(model)
    with pytest.raises(UnnamedFunctionError, match="aggfun by its name.*lambda") as e:
        local_db.set("rm", model, dumper="reduced_lda_model" if named else None)
    assert isinstance(e.value, DataBaseException)
    assert "rm" not in local_db and snapshot(model) == before
    assert local_db.keys() == []


def test_only_objects_with_a_models_attributes_are_chosen_for_it():
    import types

    from zdb.dumper_registry import choose_dumper

    assert choose_dumper(hand_model()).name == "reduced_lda_model"
    assert choose_dumper(ReducedLdaModel.from_state(vars(hand_model()))).name == (
        "reduced_lda_model"
    )
    names = dict.fromkeys(
        ("kernel_dict", "lda_values", "lookup_series", "keys_to_synapse_activation_data"), []
    )
    assert choose_dumper(types.SimpleNamespace(**names, clfs=None)).name == "to_cloudpickle"
    assert choose_dumper(types.SimpleNamespace(**names)).name == "to_cloudpickle"


def test_values_that_are_no_model_are_refused(local_db):
    with pytest.raises(UnsupportedValueError, match="ReducedLdaModel"):
        local_db.set("x", {"kernel_dict": []}, dumper="reduced_lda_model")
    model = hand_model()
    model.extra = object()
    with pytest.raises(UnsupportedValueError, match="model's extra"):
        local_db.set("x", model, dumper="reduced_lda_model")


# -- reading ----------------------------------------------------------------------------------


def test_named_aggfun_comes_back_as_the_function_and_as_its_name_where_unimported(local_db):
    local_db["rm"] = hand_model()
    assert local_db["rm"].aggfun is sum_groups
    doc_path = Path(local_db.path_of("rm")) / "zarr.json"
    doc = json.loads(doc_path.read_text())
    doc["attributes"]["reduced_lda_model"]["aggfun"] = "not_imported_module_xyz:sum_groups"
    doc_path.write_text(json.dumps(doc))
    assert local_db["rm"].aggfun == "not_imported_module_xyz:sum_groups"
    assert "not_imported_module_xyz" not in sys.modules


def test_db_list_opens_the_databases_the_registry_knows(tmp_path, local_db):
    source = zdb.DataBase(tmp_path / "simulations")
    model = hand_model()
    model.db_list = [source, "2019-02-13_17_28_25_62a3a5e1"]
    local_db["rm"] = model
    got = local_db["rm"].db_list
    assert isinstance(got[0], zdb.DataBase) and got[0].unique_id == source.unique_id
    assert got[1] == "2019-02-13_17_28_25_62a3a5e1"


def test_db_list_keeps_the_ids_of_databases_the_registry_does_not_know(
    tmp_path, local_db, monkeypatch
):
    model = hand_model()
    model.db_list = [zdb.DataBase(tmp_path / "simulations")]
    local_db["rm"] = model
    monkeypatch.setenv("ZDB_REGISTRY", str(tmp_path / "another_registry"))
    assert local_db["rm"].db_list == [model.db_list[0].unique_id]


def test_classifiers_load_as_lda_whose_predictions_equal_the_originals(local_db):
    model, data = fitted()
    local_db["rm"] = model
    X = np.concatenate([data[k][:, 14:20] for k in ("EXC", "INH")], axis=1)
    for got, want in zip(
        local_db["rm"].clfs["classifier_"], model.clfs["classifier_"], strict=True
    ):
        assert type(got) is LDA
        np.testing.assert_array_equal(got.predict(X), want.predict(X))
        np.testing.assert_array_equal(got.decision_function(X), want.decision_function(X))
        np.testing.assert_array_equal(got.predict_proba(X), want.predict_proba(X))
        np.testing.assert_array_equal(got.transform(X), want.transform(X))


def test_without_scikit_learn_classifiers_load_as_records_of_the_same_arrays(local_db, monkeypatch):
    model = fitted_model()
    local_db["rm"] = model
    for name in [m for m in sys.modules if m == "sklearn" or m.startswith("sklearn.")]:
        monkeypatch.setitem(sys.modules, name, None)
    with pytest.raises(ImportError):
        import sklearn.discriminant_analysis  # noqa: F401
    read = local_db["rm"]
    for got, want in zip(read.clfs["classifier_"], model.clfs["classifier_"], strict=True):
        assert type(got) is ClassifierRecord and got.class_path == LDA_CLASS
        assert got.get_params() == want.get_params()
        for name in ("coef_", "intercept_", "classes_", "means_", "priors_", "scalings_"):
            assert_identical(getattr(got, name), getattr(want, name), name)
        assert_identical(got.explained_variance_ratio_, want.explained_variance_ratio_)
        assert_identical(got.covariance_, want.covariance_)
    local_db["again"] = read  # a model read without scikit-learn is stored as it was
    monkeypatch.undo()
    assert_identical(local_db["again"], model)


def test_large_stacks_are_written_one_chunk_per_entry_and_read_back_the_same(local_db, monkeypatch):
    import xarray as xr

    from zdb.IO.LoaderDumper import reduced_lda_model as dumper_module

    monkeypatch.setattr(dumper_module, "PART_BYTES", 0)
    model = fitted_model()
    local_db["rm"] = model
    chunks = {
        name: json.loads((Path(local_db.path_of("rm")) / name / "zarr.json").read_text())[
            "chunk_grid"
        ]["configuration"]["chunk_shape"]
        for name in ("lda_values", "lda_value_dicts", "classifier_coef_", "y")
    }
    assert chunks == {
        "lda_values": [1, 160],
        "lda_value_dicts": [1, 1, 160],
        "classifier_coef_": [1, 1, 12],
        "y": [160],
    }
    assert_identical(local_db["rm"], model)
    ds = xr.open_zarr(local_db.path_of("rm"))
    np.testing.assert_array_equal(
        ds["lda_value_dicts"][2, 1].values, model.lda_value_dicts[2]["INH"]
    )


def test_the_arrays_open_in_xarray_with_dimension_names(local_db):
    import xarray as xr

    model = fitted_model()
    local_db["rm"] = model
    ds = xr.open_zarr(local_db.path_of("rm"))
    assert ds["lda_values"].dims == ("model", "trial")
    assert ds["lda_value_dicts"].dims == ("model", "group", "trial")
    assert ds["kernel"].dims == ("model", "kernel_bin")
    assert ds["y"].dtype == bool and ds.sizes["trial"] == 160
    np.testing.assert_array_equal(ds["lda_values"].values, np.stack(model.lda_values))
    assert ds["classifier_coef_"].shape == (3, 1, 12)


# -- the methods, against values worked out by hand -------------------------------------------


def test_the_lookup_series_is_what_hand_binning_gives():
    got = get_lookup_series_from_lda_values_spike_data(
        HAND_LDA, HAND_SPIKE, lookup_series_stepsize=5
    )
    pd.testing.assert_series_equal(got, HAND_LOOKUP, check_exact=False, rtol=0, atol=1e-12)


def test_the_read_model_gives_the_lookup_series_of_another_refractory_period(local_db):
    local_db["rm"] = hand_model()
    read = local_db["rm"]
    pd.testing.assert_series_equal(
        read.get_lookup_series_for_different_refractory_period(0)[0], HAND_LOOKUP, atol=1e-12
    )
    [got] = read.get_lookup_series_for_different_refractory_period(2)
    pd.testing.assert_series_equal(got, HAND_LOOKUP_REFRACTORY, atol=1e-12)


def test_the_read_static_model_maps_activations_to_lda_values_and_probabilities(local_db):
    local_db["rm"] = hand_model()
    static = local_db["rm"].get_minimodel_static(0)
    data = {
        "A": np.array([[9, 3, 1, 0], [0, 10, 2, 7]]),  # kernel [1, -1] on bins 1, 2: 2, 8
        "B": np.array([[0, 2, 1, 5], [1, 1, 1, 1]]),  # kernel [0.5, 2]: 3, 2.5
    }
    result = pickle.loads(pickle.dumps(static))(data)
    np.testing.assert_allclose(result.lda_dict["A"], [2, 8], rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.lda_dict["B"], [3, 2.5], rtol=0, atol=1e-12)
    np.testing.assert_allclose(result.lda_values, [5, 10.5], rtol=0, atol=1e-12)
    # 5 -> 0.5; 10.5 rounds (halves to even) to 10 -> 0
    assert list(result.p_spike.index) == [5, 10]
    np.testing.assert_allclose(result.p_spike.to_numpy(), [0.5, 0.0], rtol=0, atol=1e-12)
    assert result.RM is None


def test_static_lda_values_outside_the_lookup_series_are_clipped_with_a_warning(local_db):
    local_db["rm"] = hand_model()
    data = {"A": np.array([[0, 100, 0], [0, 0, 60]]), "B": np.zeros((2, 3))}  # 100, -60
    with pytest.warns(UserWarning, match="leave range of training data"):
        result = local_db["rm"].apply_static(data)
    assert list(result.p_spike.index) == [18, -4]
    np.testing.assert_array_equal(result.p_spike.to_numpy(), [1.0, 0.0])


def test_a_fitted_models_static_predictions_are_its_own_lda_values(local_db):
    model, data = fitted()
    local_db["rm"] = model
    read = local_db["rm"]
    for number in range(3):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            result = read.apply_static(data, model_number=number)
        np.testing.assert_allclose(result.lda_values, model.lda_values[number], rtol=0, atol=1e-12)
        lookup = model.lookup_series[number]
        want = lookup.loc[np.round(model.lda_values[number]).astype(int)].to_numpy()
        np.testing.assert_array_equal(result.p_spike.to_numpy(), want)
    with pytest.raises(ReducedModelError, match="3 fitted models"):
        read.get_minimodel_static(3)


def test_a_lookup_series_of_one_bin_keeps_it():
    got = get_lookup_series_from_lda_values_spike_data(
        [1.0, 2.0], [True, False], lookup_series_stepsize=5
    )
    pd.testing.assert_series_equal(got, pd.Series([0.5], index=np.arange(0, 1)))


def test_the_rolling_model_is_made_by_isf_where_it_is_installed(local_db, monkeypatch):
    import types

    local_db["rm"] = hand_model()
    read = local_db["rm"]
    monkeypatch.setitem(sys.modules, "simrun", None)
    with pytest.raises(ReducedModelError, match="needs ISF's simrun.reduced_model.spiking"):
        read.get_minimodel_rolling(2)
    calls = []
    spiking_output = types.ModuleType("simrun.reduced_model.spiking_output")
    spiking_output.get_reduced_model = lambda *args, **kwargs: calls.append((args, kwargs))
    package = types.ModuleType("simrun.reduced_model")
    package.spiking_output = spiking_output
    monkeypatch.setitem(sys.modules, "simrun", types.ModuleType("simrun"))
    monkeypatch.setitem(sys.modules, "simrun.reduced_model", package)
    monkeypatch.setitem(sys.modules, "simrun.reduced_model.spiking_output", spiking_output)
    read.get_minimodel_rolling(2, model_number=0)
    [(args, kwargs)] = calls
    assert args[0] is read.kernel_dict[0] and args[2] == 2 and list(args[1]) == [2]
    pd.testing.assert_series_equal(args[1][2], HAND_LOOKUP_REFRACTORY, atol=1e-12)
    assert kwargs == {"combine_fun": sum, "LUT_resolution": 1}


def test_the_constructor_settles_the_window_as_isf_does():
    m = ReducedLdaModel(["A"], synapse_activation_window_width=50, output_window_max=101)
    assert (m.synapse_activation_window_min, m.synapse_activation_window_max) == (51, 101)
    m = ReducedLdaModel(["A"], synapse_activation_window_min=10)
    assert m.synapse_activation_window_max == 90
    with pytest.raises(ReducedModelError, match="not sufficiently defined"):
        ReducedLdaModel(["A"], synapse_activation_window_width=None)


def test_plot_draws_the_kernels_and_lookup_series(local_db):
    pytest.importorskip("matplotlib", reason="plot needs matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    local_db["rm"] = hand_model()
    read = local_db["rm"]
    kernels, lookup = read.plot(return_fig=True, min_items=0)
    lines = kernels.axes[0].get_lines()
    np.testing.assert_array_equal(lines[0].get_ydata(), [1.0, -1.0])
    assert [t.get_text() for t in kernels.axes[0].get_legend().get_texts()] == ["A", "B"]
    ax, counts = lookup.axes
    np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), HAND_LOOKUP.to_numpy())
    np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), HAND_LOOKUP.index)
    assert (ax.get_ylabel(), counts.get_ylabel()) == ("p_spike", "# datapoints")
    assert "[10:12]" in ax.get_title()
    assert read.plot() is None
    plt.close("all")


# -- damaged databases ------------------------------------------------------------------------


def _damage(doc, change):
    attrs = doc["attributes"]["reduced_lda_model"]
    change(attrs, doc["consolidated_metadata"]["metadata"])


DAMAGES = {
    "models": lambda a, m: a.update(models="three"),
    "layout": lambda a, m: a.update(layout=99),
    "attributes": lambda a, m: a["attributes"].append("__class__"),
    "kernel_offsets": lambda a, m: m["kernel_offsets"].update(shape=[7]),
    "lookup_names": lambda a, m: a.update(lookup_names={"__zdb__": "nonsense"}),
    "test_size": lambda a, m: a["settings"].update(test_size={"__zdb__": "numpy", "dtype": "O"}),
    "clfs": lambda a, m: a["clfs"]["classifier_"]["arrays"].append("../../escape"),
    "y": lambda a, m: m["y"].update(dimension_names=["other"]),
    "lda_values": lambda a, m: m["lda_values"]["chunk_grid"]["configuration"].update(
        chunk_shape=[2, 1]
    ),
    "spike_before": lambda a, m: m["spike_before"].update(data_type="string"),
}


def test_a_group_document_that_is_no_json_is_an_error_naming_it(local_db):
    local_db["rm"] = hand_model()
    (Path(local_db.path_of("rm")) / "zarr.json").write_text("{not json")
    with pytest.raises(CorruptKeyError, match="'zarr.json' is no JSON"):
        local_db["rm"]


@pytest.mark.parametrize("name", sorted(DAMAGES))
def test_damaged_attributes_are_errors_naming_them(local_db, name):
    local_db["rm"] = fitted_model()
    doc_path = Path(local_db.path_of("rm")) / "zarr.json"
    doc = json.loads(doc_path.read_text())
    _damage(doc, DAMAGES[name])
    doc_path.write_text(json.dumps(doc))
    with pytest.raises(CorruptKeyError, match=f"'{name}'.*delete the key"):
        local_db["rm"]


def test_recognising_a_model_never_raises_on_objects_whose_attributes_cannot_be_asked_for():
    from zdb.dumper_registry import get_dumper

    class Unaskable:
        def __getattr__(self, name):
            raise RuntimeError(f"no {name}")

    assert not get_dumper("reduced_lda_model").handles(Unaskable())
