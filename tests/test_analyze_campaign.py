"""zdb.analyze on a campaign: splitting synapse activation by sign, PSTHs, spike
rasters, plots and LDA, on pandas and dask; optional extras missing raise clearly."""

from __future__ import annotations

import sys

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import xarray as xr

import zdb.analyze as analyze
from zdb.analyze import (
    AnalyzeError,
    MissingDependencyError,
    UnknownCellTypeError,
    psth,
    spike_raster,
    split_synapse_activation,
)

SA = pd.DataFrame(
    {
        "synapse_type": ["L5tt_C2", "SymLocal3_C2", "VPM_C2", "L1_D2", "L23Trans_B1"],
        "soma_distance": [10.0, 20.0, 30.0, 40.0, 50.0],
        "0": [1.0, 2.0, 3.0, 4.0, 5.0],
    },
    index=pd.Index(["a/000000"] * 3 + ["a/000001"] * 2, name="sim_trial_index"),
)
SPIKES = pd.DataFrame(
    [[10.0, 12.5, np.nan], [11.0, np.nan, np.nan], [30.0, 31.0, 49.0]],
    index=pd.Index(["f/000000", "f/000001", "f/000002"], name="sim_trial_index"),
)


def test_split_synapse_activation_returns_new_frames_with_ei_and_leaves_the_input():
    before = SA.copy()
    exc, inh = split_synapse_activation(SA)
    pd.testing.assert_frame_equal(SA, before)  # ISF added 'EI' to the caller's frame
    assert exc["synapse_type"].tolist() == ["L5tt_C2", "VPM_C2"]
    assert inh["synapse_type"].tolist() == ["SymLocal3_C2", "L1_D2", "L23Trans_B1"]
    assert set(exc["EI"]) == {"EXC"} and set(inh["EI"]) == {"INH"}


def test_the_default_lists_are_the_barrel_cortex_lists_under_both_names():
    assert analyze.EXCITATORY == analyze.excitatory and "L5tt" in analyze.excitatory
    assert analyze.INHIBITORY == analyze.inhibitory and "L1" in analyze.inhibitory
    assert not set(analyze.excitatory) & set(analyze.inhibitory)


def test_an_unknown_cell_type_is_named_unless_selfcheck_is_off():
    sa = pd.concat([SA, SA.iloc[:1].assign(synapse_type="Martinotti_C2")])
    with pytest.raises(UnknownCellTypeError, match="Martinotti"):
        split_synapse_activation(sa)
    exc, inh = split_synapse_activation(sa, selfcheck=False)
    assert "Martinotti_C2" in inh["synapse_type"].tolist() and len(exc) == 2


def test_split_synapse_activation_with_own_lists():
    exc, inh = split_synapse_activation(SA, excitatory=["L1"], inhibitory=["L5tt"], selfcheck=False)
    assert exc["synapse_type"].tolist() == ["L1_D2"]
    assert len(inh) == 4


def test_split_synapse_activation_on_dask_is_lazy_and_equals_pandas():
    ddf = dd.from_pandas(SA, npartitions=2)
    exc, inh = split_synapse_activation(ddf)
    assert isinstance(exc, dd.DataFrame)
    expected = split_synapse_activation(ddf.compute())
    pd.testing.assert_frame_equal(exc.compute(), expected[0])
    pd.testing.assert_frame_equal(inh.compute(), expected[1])
    bad = dd.from_pandas(SA.assign(synapse_type="X_C2"), npartitions=1)
    with pytest.raises(UnknownCellTypeError, match="'X'"):
        split_synapse_activation(bad)[0].compute()


def test_psth_is_a_data_array_of_spikes_per_trial_over_bin_starts():
    out = psth(SPIKES, bin_size=10, min_time=0, max_time=50)
    assert isinstance(out, xr.DataArray) and out.dims == ("t",)
    np.testing.assert_array_equal(out["t"], [0, 10, 20, 30, 40])
    np.testing.assert_allclose(out.values, np.array([0, 3, 0, 2, 1]) / 3)
    rate = psth(SPIKES, bin_size=10, min_time=0, max_time=50, rate=True)
    np.testing.assert_allclose(rate.values, out.values * 100)  # per 10 ms -> Hz
    assert rate.attrs["units"] == "Hz"


def test_psth_is_the_same_on_dask_and_xarray():
    expected = psth(SPIKES, bin_size=5, min_time=0, max_time=50)
    on_dask = psth(dd.from_pandas(SPIKES, npartitions=2), bin_size=5, min_time=0, max_time=50)
    da = xr.DataArray(SPIKES.to_numpy(), dims=("sim_trial_index", "spike"))
    on_xarray = psth(da.chunk({"sim_trial_index": 1}), bin_size=5, min_time=0, max_time=50)
    xr.testing.assert_allclose(on_dask, expected)
    xr.testing.assert_allclose(on_xarray, expected)


def test_spike_raster_lists_each_spike_with_its_trial():
    raster = spike_raster(SPIKES)
    assert raster["trial"].tolist() == [0, 0, 1, 2, 2, 2]
    assert raster["t"].tolist() == [10.0, 12.5, 11.0, 30.0, 31.0, 49.0]
    assert raster["sim_trial_index"].iloc[2] == "f/000001"
    pd.testing.assert_frame_equal(spike_raster(dd.from_pandas(SPIKES, npartitions=2)), raster)


def test_plots_draw_the_psth_raster_and_voltage_density():
    pytest.importorskip("matplotlib", reason="matplotlib is the optional extra 'plot'")
    import matplotlib

    matplotlib.use("Agg")
    from zdb.analyze import plot, voltage_binning

    ax = plot.plot_psth(psth(SPIKES, bin_size=10, min_time=0, max_time=50))
    assert len(ax.lines) == 1 and ax.lines[0].get_ydata().max() == pytest.approx(1.0)
    ax = plot.plot_raster(SPIKES)
    assert ax.collections[0].get_offsets().shape == (6, 2)
    traces = xr.DataArray(
        np.full((2, 3), -70.0), dims=("sim_trial_index", "t"), coords={"t": [0.0, 1.0, 2.0]}
    )
    ax = plot.plot_vdensity(voltage_binning.calculate_vdensity_array(traces, 10, -100, 50))
    assert len(ax.collections) == 1


def test_missing_optional_extras_raise_naming_the_extra(monkeypatch):
    from zdb.analyze import LDA, plot

    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(MissingDependencyError, match=r"zdb\[plot\]"):
        plot.plot_raster(SPIKES)
    monkeypatch.setitem(sys.modules, "sklearn", None)
    with pytest.raises(MissingDependencyError, match=r"zdb\[lda\]"):
        LDA.prediction_rates(np.zeros((4, 2)), np.array([0, 0, 1, 1]))


def test_lda_separates_separable_classes():
    pytest.importorskip("sklearn", reason="scikit-learn is the optional extra 'lda'")
    from zdb.analyze.LDA import make_groups_equal_size, prediction_rates

    rng = np.random.default_rng(0)
    y = np.array([0] * 60 + [1] * 40)
    X = rng.normal(size=(100, 3)) + y[:, None] * 6
    assert prediction_rates(X, y, n=3) == pytest.approx(2.0)
    result = prediction_rates(X, y, n=2, return_="all")
    assert len(result["classifier_"]) == 2 and result["score"] == pytest.approx(2.0)
    Xs, ys = make_groups_equal_size(X, y, rng=1)
    assert (ys == 1).sum() == (ys == 0).sum() == 40
    with pytest.raises(AnalyzeError, match="classifier=None"):
        prediction_rates(X, y, classifier=object())


def test_spike_detection_on_a_data_array_equals_the_frame():
    from zdb.analyze import spike_detection

    t = np.arange(6) * 0.5 + 100
    values = np.array([[-70, 10, -70, 20, -70, -70], [-70] * 6, [5, 5, -1, 0, -3, 1.0]])
    frame = pd.DataFrame(values, columns=list(t), index=pd.Index(["a", "b", "c"], name="trial"))
    expected = spike_detection(frame)
    da = xr.DataArray(values, dims=("trial", "t"), coords={"trial": ["a", "b", "c"], "t": t})
    pd.testing.assert_frame_equal(spike_detection(da), expected)
    pd.testing.assert_frame_equal(spike_detection(da.chunk({"trial": 2, "t": 4})), expected)
    assert expected.loc["a"].tolist() == [100.5, 101.5]
