"""ISF's ``tests/test_data_base/IO/LoaderDumper/dumpers_small_test.py``, for zdb: each
of ISF's dumpers stores ISF's small frame (and arrays) and gives them back equal.

ISF's dumper modules name the zdb dumper that takes their place (``docs/isf.md``); the
values must come back the same whichever stores them."""

from __future__ import annotations

import dask
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from pandas.testing import assert_frame_equal

from zdb.IO.LoaderDumper import (
    dask_to_categorized_msgpack,
    dask_to_msgpack,
    dask_to_parquet,
    numpy_to_npy,
    numpy_to_zarr,
    pandas_to_msgpack,
    pandas_to_parquet,
    pandas_to_pickle,
    reduced_lda_model,
    to_cloudpickle,
    to_pickle,
)


def clean_up(db):
    for key in ("synapse_activation2", "voltage_traces2", "test"):
        if key in db:
            del db[key]


def small_numpy_dump(x, db, dumper):
    clean_up(db)
    db.set("test", x, dumper=dumper)
    assert_array_equal(db["test"], x)


def small_data_frame_test(db, pdf, ddf, dumper, client=None):
    """ISF's check of a frame dumper: the frame without an index, then with its sorted
    column 0 as the index, comes back equal. The expected frame is ISF's ``pdf`` with
    the dtypes ``ddf`` has: dask holds strings as pandas' ``string`` dtype."""
    extra = {} if client is None else {"client": client}
    pdf = pdf.astype(ddf.dtypes.to_dict())
    clean_up(db)
    db.set("test", ddf, dumper=dumper, **extra)
    a = dask.compute(db["test"])[0].reset_index(drop=True)
    assert_frame_equal(a, pdf.reset_index(drop=True))

    clean_up(db)
    db.set("test", ddf.set_index(0), dumper=dumper, **extra)
    assert_frame_equal(dask.compute(db["test"])[0], pdf.set_index(0))


def test_dask_to_msgpack_small(empty_db, pdf, ddf, client):
    small_data_frame_test(empty_db, pdf, ddf, dask_to_msgpack, client=client)


def test_dask_to_categorized_msgpack_small(empty_db, pdf, ddf, client):
    small_data_frame_test(empty_db, pdf, ddf, dask_to_categorized_msgpack, client=client)


def test_pandas_to_msgpack_small(empty_db, pdf):
    small_data_frame_test(empty_db, pdf, pdf.copy(), pandas_to_msgpack)


def test_pandas_to_parquet_small(empty_db, pdf):
    small_data_frame_test(empty_db, pdf, pdf.copy(), pandas_to_parquet)


def test_dask_to_parquet_small(empty_db, pdf, ddf, client):
    small_data_frame_test(empty_db, pdf, ddf, dask_to_parquet, client=client)


def test_pandas_to_pickle_small(empty_db, pdf):
    small_data_frame_test(empty_db, pdf, pdf.copy(), pandas_to_pickle)


def test_to_pickle_small(empty_db, pdf):
    small_data_frame_test(empty_db, pdf, pdf.copy(), to_pickle)


def test_to_cloudpickle_small(empty_db, pdf):
    small_data_frame_test(empty_db, pdf, pdf.copy(), to_cloudpickle)


def test_default_small(empty_db, pdf):
    small_data_frame_test(empty_db, pdf, pdf.copy(), None)


def test_numpy_to_npy(empty_db):
    small_numpy_dump(np.random.randint(5, size=(100, 100)), empty_db, numpy_to_npy)
    small_numpy_dump(np.random.randint(5, size=(100,)), empty_db, numpy_to_npy)
    small_numpy_dump(np.array([]), empty_db, numpy_to_npy)


def test_numpy_to_zarr(empty_db):
    small_numpy_dump(np.random.randint(5, size=(100, 100)), empty_db, numpy_to_zarr)
    small_numpy_dump(np.random.randint(5, size=(100,)), empty_db, numpy_to_zarr)
    small_numpy_dump(np.array([]), empty_db, numpy_to_zarr)


def test_reduced_lda_model(empty_db):
    """ISF fits its model with ISF's ``ReducedLdaModel.fit``; zdb's tests build the same
    attributes without ISF (``tests/test_reduced_lda_model_dumper.py``)."""
    pytest.importorskip("sklearn")
    from tests.test_reduced_lda_model_dumper import fitted_model

    Rm = fitted_model()
    st, lda_values, lda_value_dicts, db_list = (
        Rm.st,
        Rm.lda_values,
        Rm.lda_value_dicts,
        Rm.db_list,
    )
    empty_db.set("rm", Rm, dumper=reduced_lda_model)
    # does not change the original object
    assert st is Rm.st
    assert lda_values is Rm.lda_values
    assert lda_value_dicts is Rm.lda_value_dicts
    assert db_list is Rm.db_list
    # can be loaded, and is functional
    Rm_reloaded = empty_db["rm"]
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    Rm_reloaded.plot()
    empty_db.set("rm2", Rm_reloaded, dumper=reduced_lda_model)
    Rm_reloaded.get_lookup_series_for_different_refractory_period(10)
