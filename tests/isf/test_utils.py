"""ISF's tests of ``data_base.utils`` (``tests/test_data_base/utils_test.py``), written
for zdb with the same inputs and expected values."""

from __future__ import annotations

from collections.abc import Iterator

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from zdb.utils import cache, myrepartition, pandas_to_array


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    """A dask client on an in-process cluster, as ISF's test fixture."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c


def test_pandas_to_array_takes_a_dict_a_series_and_a_dataframe():
    dict_ = {"x_1_y_1": 10, "x_2_y_1": 15, "x_3_y_1": 7, "x_1_y_2": 2, "x_2_y_2": 0, "x_3_y_2": -1}
    s = pd.Series(dict_)
    pdf = s.to_frame(name="bla")

    def x(index, values):
        return index.split("_")[1]

    def y(index, values):
        return index.split("_")[-1]

    out_dict = pandas_to_array(dict_, x, y, lambda index, values: values)
    out_s = pandas_to_array(s, x, y, lambda index, values: values)
    out_pdf = pandas_to_array(pdf, x, y, lambda index, values: values.bla)

    expected = pd.DataFrame(
        {"1": [10, 2], "2": [15, 0], "3": [7, -1], "index": ["1", "2"]}
    ).set_index("index")
    expected.index.name = None
    assert_frame_equal(expected, out_dict)
    assert_frame_equal(expected, out_s)
    assert_frame_equal(expected, out_pdf)


def test_cache_stores_values_and_takes_functions_as_arguments():
    flag = []

    @cache
    def fun(x):
        flag.append(x)
        return x

    assert len(flag) == 0
    fun(1)
    assert len(flag) == 1
    fun(1)
    assert len(flag) == 1
    fun(fun)
    assert len(flag) == 2


def test_myrepartition_computes_to_the_same_frame_with_known_and_unknown_divisions(client):
    pdf = pd.DataFrame(np.random.default_rng(0).integers(100, size=(1000, 3)))
    ddf = dd.from_pandas(pdf, npartitions=10)
    assert_frame_equal(pdf, client.compute(myrepartition(ddf, 4)).result())
    ddf = ddf.clear_divisions()
    assert_frame_equal(pdf, client.compute(myrepartition(ddf, 4)).result())
