"""ISF's fixtures for its db_initializers tests: ``fresh_db``, the real example campaign
imported as ISF's conftest imports it, and ``client``, a local dask cluster."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import zdb
from zdb.db_initializers.load_simrun_general import init

EXAMPLE = Path(__file__).parents[4] / "shared" / "data" / "isf_example"
#: ISF's TEST_DATA_FOLDER: the example campaign's one result folder's campaign
TEST_DATA_FOLDER = EXAMPLE / "simulation_data" / "C2_evoked_UpState_INH_PW_1.0_SuW_0.5_C2center"


@pytest.fixture
def fresh_db(tmp_path) -> zdb.DataBase:
    """The example campaign imported with ISF's arguments (no parameter files, no
    dendritic traces, rewrite_in_optimized_format=False)."""
    if not TEST_DATA_FOLDER.is_dir():
        pytest.skip(f"the real ISF example data is not at {EXAMPLE} (../shared/data/isf_example)")
    db = zdb.DataBase(tmp_path / "db")
    init(
        db,
        str(TEST_DATA_FOLDER),
        rewrite_in_optimized_format=False,
        parameterfiles=False,
        dendritic_voltage_traces=False,
        progress=False,
    )
    return db


@pytest.fixture(scope="module")
def client() -> Iterator[object]:
    """A dask client on a local cluster of threads, as ISF's tests use one."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(processes=False, n_workers=1, threads_per_worker=2) as cluster,
        distributed.Client(cluster) as c,
    ):
        yield c
