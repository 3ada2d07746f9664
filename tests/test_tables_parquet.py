"""``pandas_to_parquet`` and ``dask_to_parquet``: the same round trips as the Zarr
dumpers, stored as Parquet files of natural Arrow types."""

from __future__ import annotations

import os

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import zdb
from zdb.exceptions import DataBaseException
from zdb.tables import ColumnNotFoundError
from zdb.tables import plan as table_plan
from zdb.testing import DumperRoundTripTests

from .s3_server import OnS3
from .test_tables import ISF_FRAME, assert_same, columns, frames, isf_frames, labels, table_examples
from .test_tables_dask import flat_frames, uneven


def parquet_round_trip(db: zdb.DataBase, value, **kwargs) -> None:
    dumper = (
        "dask_to_parquet" if isinstance(value, dd.DataFrame | dd.Series) else "pandas_to_parquet"
    )
    want = value.compute() if dumper == "dask_to_parquet" else value
    db.set("t", value, dumper=dumper, **kwargs)
    got = db["t"]
    if dumper == "dask_to_parquet":
        assert got.npartitions == value.npartitions
        if value.known_divisions:
            assert got.divisions == value.divisions
        got = got.compute()
    assert_same(got, want)
    assert_same(db.get("t", lazy=True).compute(), want)
    assert_same(db.get("t", lazy=False), want)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames())
def test_generated_frames_round_trip_through_parquet(tmp_path_factory, frame):
    parquet_round_trip(zdb.DataBase(tmp_path_factory.mktemp("db")), frame)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(column=st.integers(0, 6).flatmap(columns), name=st.one_of(st.none(), labels))
def test_generated_series_round_trip_through_parquet(tmp_path_factory, column, name):
    parquet_round_trip(zdb.DataBase(tmp_path_factory.mktemp("db")), column.rename(name))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=flat_frames(), npartitions=st.integers(1, 4), sort=st.booleans())
def test_generated_dask_frames_round_trip_through_parquet(
    tmp_path_factory, frame, npartitions, sort
):
    try:
        ddf = dd.from_pandas(frame, npartitions=npartitions, sort=sort)
        ddf.compute()
    except Exception:  # dtypes, labels or indexes dask itself does not handle
        assume(False)
    parquet_round_trip(zdb.DataBase(tmp_path_factory.mktemp("db")), ddf)


@pytest.mark.parametrize("npartitions", [0, 1, 2, 3])
@pytest.mark.parametrize(
    "frame", isf_frames(), ids=["ints", "ints-set_index", "bools", "bools-set_index"]
)
def test_isf_mixed_label_fixture_round_trips_through_parquet(db, frame, npartitions):
    value = frame if npartitions == 0 else dd.from_pandas(frame, npartitions=npartitions)
    parquet_round_trip(db, value)


@pytest.mark.local_files
def test_uneven_dask_partitions_become_one_file_each(db):
    ddf = uneven()
    parquet_round_trip(db, ddf)
    files = sorted(f for f in os.listdir(db.path_of("t")) if f.endswith(".parquet"))
    assert files == [f"part.{i}.parquet" for i in range(ddf.npartitions)]


@pytest.mark.local_files
def test_the_parquet_file_is_plain_parquet_with_natural_types(db):
    frame = ISF_FRAME.assign(
        f=np.arange(6.0),
        n=pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
        c=pd.Categorical(list("abcabc")),
    )
    db.set("t", frame, dumper="pandas_to_parquet")
    plain = pd.read_parquet(os.path.join(db.path_of("t"), "data.parquet"))
    assert plain["f"].tolist() == frame["f"].tolist()
    assert plain["myname"].tolist() == ["bla"] * 6
    assert plain["n"].isna().tolist() == [False, True, False, False, False, False]
    assert plain["c"].astype(str).tolist() == list("abcabc")


def test_categories_survive_a_dictionary_parquet_did_not_keep(db):
    categories = [f"category number {i:07d}" for i in range(60_000)]  # > 1 MB dictionary
    codes = np.random.default_rng(0).integers(-1, len(categories), 70_000)
    frame = pd.DataFrame({"c": pd.Categorical.from_codes(codes, categories=categories[::-1])})
    parquet_round_trip(db, frame)
    assert_same(db.get("t", columns=["c"]).iloc[:0], frame.iloc[:0])


def test_parquet_reads_take_columns_and_refuse_xarray(db):
    db.set("t", ISF_FRAME, dumper="pandas_to_parquet")
    assert_same(db.get("t", columns=["myname", 0]), ISF_FRAME[["myname", 0]])
    assert_same(db.get("t", lazy=True, columns=[1]).compute(), ISF_FRAME[[1]])
    with pytest.raises(ColumnNotFoundError):
        db.get("t", columns=["nope"])
    with pytest.raises(DataBaseException, match="pandas_to_zarr"):
        db.get("t", as_xarray=True)


def test_parquet_dumpers_are_chosen_only_by_name(db):
    db["t"] = ISF_FRAME
    db["d"] = dd.from_pandas(ISF_FRAME, npartitions=2)
    assert db.metadata["t"]["dumper"] == "pandas_to_zarr"
    assert db.metadata["d"]["dumper"] == "dask_to_zarr"


@pytest.mark.local_files
def test_a_large_frame_is_written_in_row_groups_that_read_as_partitions(db, monkeypatch):
    monkeypatch.setattr(table_plan, "PARTITION_BYTES", 4000)
    frame = pd.DataFrame({"x": np.arange(1000.0)}, index=np.arange(1000) * 3)
    db.set("t", frame, dumper="pandas_to_parquet", compression="zstd")
    meta = pq.ParquetFile(os.path.join(db.path_of("t"), "data.parquet")).metadata
    lazy = db.get("t", lazy=True)
    assert meta.num_row_groups == lazy.npartitions > 1 and lazy.known_divisions
    assert_same(lazy.loc[300:330].compute(), frame.loc[300:330])


class TestPandasToParquetRoundTrip(DumperRoundTripTests):
    dumper = "pandas_to_parquet"
    examples = {k: v for k, v in table_examples().items() if k not in ("index", "traces")}
    refused = {"intervals": pd.DataFrame({"x": pd.interval_range(0, 3)})}
    lazy = True

    def assert_same(self, got, want):
        assert_same(got, want)


class TestDaskToParquetRoundTrip(TestPandasToParquetRoundTrip):
    dumper = "dask_to_parquet"
    examples = {
        name: dd.from_pandas(frame, npartitions=2)
        for name, frame in table_examples().items()
        if name in ("mixed", "series", "isf")
    }
    refused = {}

    def assert_same(self, got, want):
        assert_same(got, want.compute())


class TestDaskToParquetRoundTripOnS3(OnS3, TestDaskToParquetRoundTrip):
    pass
