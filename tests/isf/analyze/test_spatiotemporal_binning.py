"""ISF's ``tests/test_data_base/analyze/spatiotemporal_binning_test.py`` on zdb, with
its inputs and expected values."""

from __future__ import annotations

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from zdb.analyze.spatiotemporal_binning import universal

FRAME = pd.DataFrame(
    {
        "distance": [0, 0, 1, 4, 5, 5.3, 5.4],
        "1": [10, np.nan, 10, 11, 20, 20, 20],
        "2": [15, np.nan, 11, 12, 21, 30, 30],
        "3": [np.nan, np.nan, 11.5, 30, np.nan, np.nan, np.nan],
    }
)
EXPECTED = np.array([[0, 0, 6, 1, 0, 1], [0, 0, 0, 0, 4, 2]])


def test_binning_small_pandas_df():
    np.testing.assert_array_equal(universal(FRAME, "distance", 5, 0, 30, 5), EXPECTED)


@pytest.mark.parametrize("npartitions", [2, 1, 3])
def test_binning_dask_dataframe(npartitions):
    ddf = dd.from_pandas(FRAME, npartitions=npartitions)
    np.testing.assert_array_equal(universal(ddf, "distance", 5, 0, 30, 5), EXPECTED)


def test_binning_real_data(fresh_db, client):
    assert "synapse_activation" in list(fresh_db.keys())
    x = universal(client.compute(fresh_db["synapse_activation"]).result(), "soma_distance")
    y = universal(fresh_db["synapse_activation"], "soma_distance")
    np.testing.assert_equal(x, y)
    assert x.sum() > 0
