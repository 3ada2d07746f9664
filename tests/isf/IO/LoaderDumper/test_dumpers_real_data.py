"""ISF's ``tests/test_data_base/IO/LoaderDumper/dumpers_real_data_test.py``, for zdb:
the example campaign's voltage traces and synapse activations, written again with
ISF's dask msgpack dumpers on a dask client, read back equal."""

from __future__ import annotations

import pytest
from pandas.testing import assert_frame_equal

from zdb.IO.LoaderDumper import dask_to_categorized_msgpack, dask_to_msgpack

from ...conftest import import_example


@pytest.fixture(scope="module")
def fresh_db(tmp_path_factory):
    """ISF's ``fresh_db`` (conftest.py), imported once for this module: each test
    writes keys of its own dumper's name."""
    return import_example(tmp_path_factory.mktemp("real") / "db")


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
