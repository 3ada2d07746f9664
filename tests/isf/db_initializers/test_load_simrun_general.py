"""ISF's ``tests/test_data_base/db_initializers/load_simrun_general_test.py`` for zdb:
the same inputs (the real example campaign, ISF's ``fresh_db``) and expectations."""

from __future__ import annotations

import warnings

import cloudpickle
import numpy as np

from zdb.db_initializers.load_simrun_general import optimize


def test_optimization_works_dumpers_default(fresh_db, client):
    optimize(fresh_db, dumper=None, client=client)


def test_optimization_works_dumpers_msgpack(fresh_db, client):
    # ISF passes its dumper module; optimize ignores the dumper, in ISF as in zdb
    optimize(fresh_db, dumper="dask_to_msgpack", client=client)


def test_optimization_works_dumpers_categorized_msgpack(fresh_db, client):
    optimize(fresh_db, dumper="dask_to_categorized_msgpack", client=client)


def test_dataintegrity_no_empty_rows(fresh_db):
    synapse_activation = fresh_db["synapse_activation"]
    cell_activation = fresh_db["cell_activation"]
    voltage_traces = fresh_db["voltage_traces"]
    with warnings.catch_warnings():
        synapse_activation["isnan"] = synapse_activation.soma_distance.apply(
            np.isnan, meta=("soma_distance", bool)
        )
        cell_activation["isnan"] = cell_activation["0"].apply(np.isnan, meta=("0", bool))
        first_column = fresh_db["voltage_traces"].columns[0]
        voltage_traces["isnan"] = voltage_traces[first_column].apply(
            np.isnan, meta=(first_column, bool)
        )
        assert len(synapse_activation[synapse_activation.isnan]) == 0
        assert len(cell_activation[cell_activation.isnan]) == 0
        assert len(voltage_traces[voltage_traces.isnan]) == 0


def test_voltage_traces_have_float_indices(fresh_db):
    assert isinstance(fresh_db["voltage_traces"].columns[0], float)
    assert isinstance(fresh_db["voltage_traces"].head().columns[0], float)


def test_every_entry_in_initialized_db_can_be_serialized(fresh_db):
    for key in fresh_db.keys():
        cloudpickle.dumps(fresh_db[key])  # raises if a value cannot be pickled
