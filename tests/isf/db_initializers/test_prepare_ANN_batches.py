"""ISF's ``tests/test_data_base/db_initializers/prepare_ANN_batches_test.py`` for zdb:
the same inputs (the real example campaign, ISF's spike times and time steps) and the
same expected values, and the other functions of the module on small tables whose
answers are counted by hand."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from zdb.db_initializers.load_simrun_general import optimize as optimize_simrun_general
from zdb.db_initializers.prepare_ANN_batches import (
    InvalidSpikeTimesError,
    OutsideBinsError,
    augment_synapse_activation_df_with_branch_bin,
    compute_AP_array,
    compute_ISI_array,
    compute_ISI_from_st_list,
    get_bin,
    get_bin_soma_distances_in_section,
    get_binsize,
    get_max_depolarization_per_ms,
    get_spatial_bin_names,
    get_synapse_activation_array_weighted,
    spike_times_to_onehot,
)
from zdb.db_initializers.synapse_activation_binning import init as init_synapse_activation
from zdb.exceptions import DataBaseWarning

SPIKE_TIMES = [
    15.999999999999625,
    23.724999999999188,
    30.449999999998806,
    165.79999999998614,
    181.62499999997175,
    298.3249999998656,
    319.37499999984647,
]


def test_API(fresh_db, client):
    optimize_simrun_general(fresh_db, client=client)
    init_synapse_activation(fresh_db, groupby="EI")
    init_synapse_activation(fresh_db, groupby=["EI"])
    init_synapse_activation(fresh_db, groupby=["EI", "proximal"])
    binned = fresh_db["synapse_activation_binned"]["t1"]
    assert sorted(binned["EI"].keys()) == ["EXC", "INH"]
    assert binned["EI"]["EXC"].shape == (len(fresh_db["sim_trial_index"]), 400)


@pytest.mark.parametrize("time_step", [1, 13])
def test_onehot_encoding_marks_the_bin_of_each_spike(time_step):
    one_hot = spike_times_to_onehot(SPIKE_TIMES, min_time=0, max_time=505, time_step=time_step)
    expected = sorted({int(st // time_step) for st in SPIKE_TIMES})
    assert np.flatnonzero(one_hot).tolist() == expected
    assert len(one_hot) == len(np.arange(0, 505, time_step))


def test_onehot_encoding_refuses_negative_spike_times_as_ISF_asserted():
    with pytest.raises(AssertionError):
        spike_times_to_onehot([-1, -200])
    with pytest.raises(InvalidSpikeTimesError, match="negative"):
        spike_times_to_onehot([-1, -200])
    with pytest.raises(InvalidSpikeTimesError, match="one-dimensional"):
        spike_times_to_onehot([[1.0, 2.0]])


def test_onehot_encoding_counts_bins_from_min_time_and_warns_about_late_spikes():
    with pytest.warns(DataBaseWarning, match="max_time"):
        one_hot = spike_times_to_onehot([100, 104.5, 130], min_time=100, max_time=110)
    assert np.flatnonzero(one_hot).tolist() == [0, 4]
    assert len(one_hot) == 10


def test_get_binsize_picks_the_bin_count_closest_to_the_goal():
    assert get_binsize(110) == (55.0, 2)  # 55 is closer to 50 than 36.7
    assert get_binsize(140) == (46.666666666666664, 3)
    assert get_binsize(20) == (20.0, 1)


def test_get_bin_counts_from_one_and_refuses_values_outside():
    np.testing.assert_array_equal(get_bin(np.array([0.0, 9.9, 10.1, 30.0]), 0, 30, 3), [1, 1, 2, 3])
    with pytest.raises(OutsideBinsError, match="bin_max=30"):
        get_bin(np.array([31.0]), 0, 30, 3)


def test_ISI_is_the_time_since_the_last_spike():
    assert compute_ISI_from_st_list([2.0, 5.0], min_time=0, max_time=8) == [0, 1, 2, 1, 2, 3, 1, 2]
    st = pd.DataFrame({"0": [2.0, np.nan], "1": [5.0, np.nan]}, index=["a", "b"])
    np.testing.assert_array_equal(
        compute_ISI_array(st, 0, 4, fillna=1000), [[1000, 1000, 0, 1], [1000, 1000, 1000, 1000]]
    )
    np.testing.assert_array_equal(
        compute_AP_array(st, 0, 6), [[0, 0, 1, 0, 0, 1], [0, 0, 0, 0, 0, 0]]
    )


SECTIONS = pd.DataFrame(
    {"min_": [0.0, 0.0, 30.0], "max_": [0.0, 30.0, 130.0], "n_bins": ["Soma", 1, 2]}
)


def test_spatial_bins_are_named_by_section_and_bin():
    assert get_spatial_bin_names(SECTIONS) == ["0/0", "1/1", "2/1", "2/2"]
    assert get_bin_soma_distances_in_section(2, SECTIONS) == [55.0, 105.0]


def test_synapse_activations_are_binned_by_trial_group_place_and_time():
    sa = pd.DataFrame(
        {
            "synapse_type": ["L5tt_C2", "VPM_C2", "L1_C2"],
            "synapse_ID": [0, 1, 2],
            "section_ID": [2, 0, 2],
            "soma_distance": [120.0, 0.0, 40.0],
            "0": [1.5, 3.2, 0.5],
            "1": [2.5, np.nan, np.nan],
        },
        index=["t0", "t0", "t1"],
    )
    out = augment_synapse_activation_df_with_branch_bin(sa, SECTIONS, {"L5tt_C2": 0.5})
    assert out["section/branch_bin"].tolist() == ["2/2", "0/0", "2/1"]
    assert out["EI"].tolist() == ["EXC", "EXC", "INH"]
    assert out["syn_weight"].fillna(0).tolist() == [0.5, 0, 0]
    array = get_synapse_activation_array_weighted(
        out, ["t0", "t1"], get_spatial_bin_names(SECTIONS), min_time=0, max_time=4, bin_size=2
    )
    assert array.shape == (2, 2, 4, 2)
    np.testing.assert_array_equal(array[0, 0, 3], [1, 1])  # t0, EXC, 2/2: 1.5 and 2.5
    np.testing.assert_array_equal(array[0, 0, 0], [0, 1])  # t0, EXC, soma: 3.2
    np.testing.assert_array_equal(array[1, 1, 2], [1, 0])  # t1, INH, 2/1: 0.5
    assert array.sum() == 4


def test_max_depolarization_per_ms_takes_40_samples_a_millisecond():
    vt = pd.DataFrame(np.arange(160.0).reshape(2, 80))
    out = get_max_depolarization_per_ms(dd.from_pandas(vt, npartitions=1)).compute()
    np.testing.assert_array_equal(out.to_numpy(), [[39, 79], [119, 159]])
