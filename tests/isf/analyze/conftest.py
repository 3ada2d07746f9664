"""Fixtures of the ported ISF analyze tests: ISF's ``client`` (a dask cluster in this
process) and ``fresh_db`` (ISF's example campaign imported with zdb)."""

from __future__ import annotations

from pathlib import Path

import pytest

import zdb
from zdb.db_initializers import load_simrun_general

EXAMPLE = Path(__file__).parents[4] / "shared" / "data" / "isf_example"
CAMPAIGN = EXAMPLE / "simulation_data" / "C2_evoked_UpState_INH_PW_1.0_SuW_0.5_C2center"


@pytest.fixture(scope="package")
def client():
    """A ``distributed.Client`` on two in-process workers, as ISF's tests use (not the
    default scheduler: other tests keep theirs)."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster, set_as_default=False) as c,
    ):
        yield c


@pytest.fixture(scope="package")
def fresh_db(tmp_path_factory):
    """ISF's example campaign (6 trials) imported into a new database."""
    if not CAMPAIGN.is_dir():
        pytest.skip(f"the real ISF example data is not at {EXAMPLE} (../shared/data/isf_example)")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZDB_REGISTRY", str(tmp_path_factory.mktemp("registry")))
        db = zdb.DataBase(tmp_path_factory.mktemp("fresh") / "db")
        load_simrun_general.init(db, CAMPAIGN, parameterfiles=False, progress=False)
        yield db
