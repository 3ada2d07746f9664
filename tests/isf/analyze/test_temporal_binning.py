"""ISF's ``tests/test_data_base/analyze/temporal_binning_test.py`` on zdb, with its
inputs and expected values."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd

from zdb.analyze.temporal_binning import temporal_binning_dask, temporal_binning_pd, universal

npartitions = 80

PDF = pd.DataFrame({"blabla": ["a", 1, 3], "1": [1, 5, 10], "2": [15, 1, 30], "3": [np.nan, 1, 45]})


def test_temporal_binning_pandas():
    bins, hist = temporal_binning_pd(PDF, bin_size=10, min_time=0, normalize=False)
    np.testing.assert_array_equal(bins, np.array([0, 10, 20, 30, 40, 50]))
    np.testing.assert_array_equal(hist, np.array([4, 2, 0, 1, 1]))

    bins, hist = temporal_binning_pd(PDF, bin_size=10, min_time=0, normalize=True)
    np.testing.assert_array_equal(bins, np.array([0, 10, 20, 30, 40, 50]))
    np.testing.assert_array_equal(hist, np.array([4 / 3.0, 2 / 3.0, 0 / 3.0, 1 / 3.0, 1 / 3.0]))


def test_temporal_binning_dask(client):
    ddf = dd.from_pandas(PDF, npartitions=3)
    bins, hist = temporal_binning_dask(
        ddf, bin_size=10, min_time=0, max_time=50, normalize=False, client=client
    )
    np.testing.assert_array_equal(bins, np.array([0, 10, 20, 30, 40, 50]))
    np.testing.assert_array_equal(hist, np.array([4, 2, 0, 1, 1]))


def test_temporal_binning_dask_without_a_client():
    ddf = dd.from_pandas(PDF, npartitions=3)
    assert ddf.npartitions == 3
    bins, hist = universal(ddf, bin_size=10, min_time=0, max_time=50, normalize=True)
    np.testing.assert_array_equal(bins, np.array([0, 10, 20, 30, 40, 50]))
    np.testing.assert_array_equal(hist, np.array([4, 2, 0, 1, 1]) / 3.0)


def test_binning_real_data(client, fresh_db):
    pdf = fresh_db["spike_times"]
    ddf = dd.from_pandas(pdf, npartitions=npartitions)
    t_bins_pandas, data_pandas = temporal_binning_pd(pdf, 1, 0, 300)
    t_bins_dask, data_dask = temporal_binning_dask(ddf, 1, 0, 300, client=client)
    np.testing.assert_equal(t_bins_pandas, t_bins_dask)
    np.testing.assert_equal(data_pandas, data_dask)
    assert data_pandas.sum() > 0  # the example's trials spike before 300 ms
