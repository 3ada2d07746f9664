"""ISF's test fixtures, for the counterparts of ISF's ``tests/test_data_base`` here.

The names are ISF's (``empty_db``, ``fresh_db``, ``client``, ``pdf``, ``ddf``); the
tests in this folder are written for zdb with the inputs and expected values of ISF's.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

import zdb

#: the real ISF example data (``getting_started/example_data`` of ISF), read in place
TEST_DATA_FOLDER = Path(__file__).parents[3] / "shared" / "data" / "isf_example"
TEST_SIMULATION_DATA_FOLDER = (
    TEST_DATA_FOLDER / "simulation_data" / "C2_evoked_UpState_INH_PW_1.0_SuW_0.5_C2center"
)
#: where the parameter files of the example say their files are
EXAMPLE_PREFIX = (
    "/gpfs/soma_fs/scratch/meulemeester/project_src/in_silico_framework/"
    "getting_started/example_data"
)


def need_example_data() -> None:
    """Skip the calling test when the shared ISF example data is absent."""
    if not TEST_SIMULATION_DATA_FOLDER.is_dir():
        pytest.skip(f"the real ISF example data is not at {TEST_DATA_FOLDER} (../shared)")


@pytest.fixture(scope="session")
def client() -> Iterator[object]:
    """A dask client on an in-process cluster (ISF's tests used a running scheduler),
    passed as ``client=``; not the default scheduler, which the other tests keep."""
    distributed = pytest.importorskip("distributed")
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as c,
    ):
        yield c


@pytest.fixture
def pdf() -> pd.DataFrame:
    """ISF's frame of mixed column types (no column mixes value types)."""
    return pd.DataFrame(
        {
            0: [1, 2, 3, 4, 5, 6],
            1: ["1", "2", "3", "1", "2", "3"],
            "2": [False, True, True, False, True, False],
            "myname": ["bla", "bla", "bla", "bla", "bla", "bla"],
        }
    )


@pytest.fixture
def ddf(pdf: pd.DataFrame) -> object:
    import dask.dataframe as dd

    return dd.from_pandas(pdf, npartitions=2)


@pytest.fixture
def empty_db(tmp_path: Path) -> zdb.DataBase:
    """A new, empty database."""
    return zdb.DataBase(tmp_path / "db")


@pytest.fixture
def fresh_db(tmp_path: Path) -> zdb.DataBase:
    """A database with the example campaign imported, without parameter files and
    dendritic traces (as ISF's fixture)."""
    return import_example(tmp_path / "db")


def import_example(path: Path) -> zdb.DataBase:
    """A database at ``path`` with the example campaign imported, without parameter
    files and dendritic traces (as ISF's ``fresh_db``); skips where the data is absent."""
    need_example_data()
    from zdb.db_initializers import load_simrun_general

    db = zdb.DataBase(path)
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
