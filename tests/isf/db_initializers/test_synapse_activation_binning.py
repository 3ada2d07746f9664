"""ISF's ``tests/test_data_base/db_initializers/synapse_activation_binning_test.py`` for
zdb: the same inputs (the real example campaign, ISF's ``fresh_db``), and the binned
arrays ISF's ``test_API`` stores."""

from __future__ import annotations

from zdb.db_initializers.load_simrun_general import optimize as optimize_simrun_general
from zdb.db_initializers.synapse_activation_binning import init as init_synapse_activation


def test_API(fresh_db, client):
    optimize_simrun_general(fresh_db, client=client)
    init_synapse_activation(fresh_db, groupby="EI")
    init_synapse_activation(fresh_db, groupby=["EI"])
    init_synapse_activation(fresh_db, groupby=["EI", "proximal"])
    binned = fresh_db["synapse_activation_binned"]["t1"]
    n_trials = len(fresh_db["sim_trial_index"])
    assert sorted(binned["EI"].keys()) == ["EXC", "INH"]
    assert binned["EI"]["EXC"].shape == (n_trials, 400)
    by_distance = binned["EI__proximal"]
    total = sum(
        by_distance[ei][d].sum() for ei in by_distance.keys() for d in by_distance[ei].keys()
    )
    assert total == binned["EI"]["EXC"].sum() + binned["EI"]["INH"].sum() > 0
