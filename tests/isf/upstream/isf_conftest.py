"""The minimal conftest of ISF's data_base tests run against zdb (written to
``tests/conftest.py`` next to them): ISF's fixtures ``client``, ``pdf``, ``ddf``,
``empty_db`` and ``fresh_db``, made as ISF's conftest made them, with zdb.

ISF's tests connected to a dask scheduler started outside; here ``client`` is a cluster
in this process. The example data is read from the folder in ``ZDB_ISF_EXAMPLE_DATA``.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import dask
import dask.dataframe as dd
import pandas as pd
import pytest

from zdb.data_base import DataBase
from zdb.db_initializers.load_simrun_general import init
from zdb.utils import silence_stdout

#: ISF's TEST_DATA_FOLDER: its getting_started/example_data
TEST_DATA_FOLDER = os.environ["ZDB_ISF_EXAMPLE_DATA"]

# ISF's tests compare frames read back with the pandas frames they wrote through
# ``dd.from_pandas``; the dask they were written for kept the column types there, today's
# turns string columns into pyarrow strings (``dataframe.convert-string``) unless told not to
dask.config.set({"dataframe.convert-string": False})


@pytest.fixture(scope="session")
def client() -> Iterator[object]:
    """A dask client on a cluster of threads in this process."""
    from distributed import Client, LocalCluster

    with (
        LocalCluster(processes=False, dashboard_address=":0") as cluster,
        Client(cluster) as c,
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
def ddf(pdf: pd.DataFrame) -> dd.DataFrame:
    return dd.from_pandas(pdf, npartitions=2)


@pytest.fixture
def empty_db(tmp_path: object) -> DataBase:
    """A database in a new temporary folder."""
    return DataBase(tempfile.mkdtemp(dir=str(tmp_path)))


@pytest.fixture
def fresh_db(tmp_path: object) -> DataBase:
    """ISF's example simulation data imported into a new database, with ISF's arguments."""
    db = DataBase(tempfile.mkdtemp(dir=str(tmp_path)))
    with silence_stdout:
        init(
            db,
            TEST_DATA_FOLDER,
            rewrite_in_optimized_format=False,
            parameterfiles=False,
            dendritic_voltage_traces=False,
        )
    return db
