"""ISF's ``tests/test_data_base/IO/LoaderDumper/dumpers_real_data_test.py``, for zdb:
the example campaign's voltage traces and synapse activations, written again with
ISF's dask msgpack dumpers on a dask client, read back equal."""

from __future__ import annotations

import warnings

import pytest
from pandas.testing import assert_frame_equal

import zdb
from zdb.IO.LoaderDumper import dask_to_categorized_msgpack, dask_to_msgpack

from ...conftest import EXAMPLE_PREFIX, TEST_DATA_FOLDER, TEST_SIMULATION_DATA_FOLDER


@pytest.fixture(scope="module")
def fresh_db(tmp_path_factory):
    """ISF's ``fresh_db`` (conftest.py), imported once for this module: each test
    writes keys of its own dumper's name."""
    if not TEST_SIMULATION_DATA_FOLDER.is_dir():
        pytest.skip(f"the real ISF example data is not at {TEST_DATA_FOLDER} (../shared)")
    from zdb.db_initializers import load_simrun_general

    db = zdb.DataBase(tmp_path_factory.mktemp("real") / "db")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the example's known oddities are tested elsewhere
        load_simrun_general.init(
            db,
            TEST_SIMULATION_DATA_FOLDER,
            parameterfiles=False,
            dendritic_voltage_traces=False,
            path_map={EXAMPLE_PREFIX: str(TEST_DATA_FOLDER)},
            progress=False,
        )
    return db


def real_data_generic(db, dumper, client=None):
    """Write ``voltage_traces`` and ``synapse_activation`` again with ``dumper`` and
    compare what comes back with the originals."""
    extra = {} if client is None else {"client": client}
    keys = (("voltage_traces", {"check_column_type": False}), ("synapse_activation", {}))
    for key, options in keys:
        db.set(f"{key}2", db[key], dumper=dumper, **extra)
        a = db[f"{key}2"].compute()
        b = db[key].compute()
        assert_frame_equal(a, b, **options)


def test_dask_to_categorized_msgpack_real_data(client, fresh_db):
    real_data_generic(fresh_db, dask_to_categorized_msgpack, client=client)


def test_dask_to_msgpack_real_data(client, fresh_db):
    real_data_generic(fresh_db, dask_to_msgpack, client=client)
