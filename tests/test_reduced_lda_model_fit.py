"""ReducedLdaModel.fit: ISF's reduced model fitted in zdb on databases holding binned
synapse activations and spike times, with ISF's test data (``get_test_X_y`` of ISF's
``tests/test_simrun/reduced_model/get_kernel_test.py``: a spike is likely where the
middle 50 of 100 time bins hold many activations), and ISF's helper functions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from zdb.objects.reduced_lda_model import (
    KERNEL_NORM,
    ReducedLdaModel,
    ReducedModelError,
    compare_lists_by_none_values,
    concatenate_return_boundaries,
)

pytest.importorskip("sklearn", reason="fitting needs scikit-learn")


def isf_test_data(n_samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """ISF's get_test_X_y, seeded."""
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 21, size=(n_samples, 100))
    v1 = np.array([0] * 25 + [1] * 50 + [0] * 25)
    y = (X @ v1 - 500) / 20.0 > rng.random(n_samples)
    return X, y


@pytest.fixture
def fitted(local_db) -> ReducedLdaModel:
    X, y = isf_test_data(3000, seed=1)
    local_db["test_synapse_activation"] = X
    local_db["spike_times"] = pd.DataFrame(y).astype("f8").replace(0, np.nan).replace(1, 100)
    np.random.seed(0)  # prediction_rates subsamples with numpy's global state, as ISF
    model = ReducedLdaModel(
        ["test_synapse_activation"],
        output_window_min=99,
        output_window_max=101,
        synapse_activation_window_width=50,
        verbosity=0,
    )
    model.fit([local_db])
    return model


def test_fit_gives_one_kernel_per_split_over_the_activation_window(fitted):
    assert (fitted.synapse_activation_window_min, fitted.synapse_activation_window_max) == (51, 101)
    assert len(fitted.kernel_dict) == len(fitted.clfs["classifier_"]) == 5
    for kernels in fitted.kernel_dict:
        assert list(kernels) == ["test_synapse_activation"]
        kernel = kernels["test_synapse_activation"]
        assert kernel.shape == (49,)  # the window ends after the last of the 100 bins
        assert np.linalg.norm(kernel) == pytest.approx(KERNEL_NORM)
        # columns 51..74 carry the signal (ISF's v1), 75..99 none
        assert kernel[:24].mean() > kernel[24:].mean() + 3 * kernel[24:].std()


def test_fit_maps_lda_values_to_spike_probabilities_that_rise(fitted):
    assert fitted.y.shape == (3000,) and fitted.spike_before.sum() == 0
    for lda_values, lookup in zip(fitted.lda_values, fitted.lookup_series, strict=True):
        assert lda_values.shape == (3000,)
        assert lookup.iloc[0] == 0 and lookup.iloc[-1] == 1
        low, high = np.percentile(lda_values, [10, 90])
        assert lookup.loc[int(low) :].iloc[0] < lookup.loc[int(high) :].iloc[0]
    result = fitted.apply_static(
        {"test_synapse_activation": fitted.db_list[0]["test_synapse_activation"]}
    )
    np.testing.assert_allclose(result.lda_values, fitted.lda_values[0])


def test_the_fitted_model_is_stored_and_read_back_with_its_kernels(fitted, local_db):
    local_db.set("rm", fitted, dumper="reduced_lda_model")
    back = local_db["rm"]
    for a, b in zip(fitted.kernel_dict, back.kernel_dict, strict=True):
        np.testing.assert_array_equal(a["test_synapse_activation"], b["test_synapse_activation"])
    assert len(back.get_lookup_series_for_different_refractory_period(10)) == 5


def test_fit_with_given_classifiers_uses_them(fitted, local_db):
    again = ReducedLdaModel(
        ["test_synapse_activation"],
        output_window_min=99,
        output_window_max=101,
        synapse_activation_window_width=50,
    )
    again.fit([local_db], clfs=fitted.clfs)
    assert again.clfs is fitted.clfs
    np.testing.assert_allclose(
        again.kernel_dict[0]["test_synapse_activation"],
        fitted.kernel_dict[0]["test_synapse_activation"],
    )


def test_fit_without_databases_is_an_error():
    model = ReducedLdaModel(["x"], synapse_activation_window_width=10)
    with pytest.raises(ReducedModelError, match="db_list"):
        model.fit([])


def test_concatenate_return_boundaries():
    a = np.array([[1, 2, 3], [2, 3, 4]])
    b = a + 1
    c = (b + 1)[:, :2]
    values = [a, b, c]
    X, boundaries = concatenate_return_boundaries(values, axis=1)
    for lv, v in enumerate(values):
        np.testing.assert_equal(v, X[:, boundaries[lv][0] : boundaries[lv][1]])
    X_2, boundaries_2 = concatenate_return_boundaries([v.T for v in values], axis=0)
    assert boundaries == boundaries_2 == [(0, 3), (3, 6), (6, 8)]


def test_compare_lists_by_none_values():
    assert compare_lists_by_none_values(["", None, None], [1, None, None])
    assert not compare_lists_by_none_values(["", None, None], [None, None, None])
    assert not compare_lists_by_none_values(["", None, None], [None, "", None])
