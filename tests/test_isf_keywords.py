"""ISF's dumper and loader keywords: ``client=``, ``scheduler=``, ``repartition=``,
``categorize=``, ``schema=`` and ``rows_per_file=`` with ISF's meaning where zdb's
dumper has one, ``verbose=`` on the dask loaders; the rest ignored with one warning
naming the keyword (docs/tables.md, "ISF's keywords")."""

from __future__ import annotations

import warnings
from collections.abc import Iterator

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import zarr

from zdb.exceptions import UnknownDumperError, UnsupportedValueError

from .test_tables import assert_same

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def client() -> Iterator[distributed.Client]:
    """A client on an in-process cluster that is not the default scheduler: work runs
    there only when it is asked for."""
    with (
        distributed.LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster, set_as_default=False) as c,
    ):
        yield c


def on_worker() -> bool:
    try:
        distributed.get_worker()
    except ValueError:
        return False
    return True


#: for each partition computed, whether a distributed worker computed it (the workers
#: run in this process, and the partition function is pickled by reference)
WHERE: list[bool] = []


def recorded_part(i: int) -> pd.DataFrame:
    WHERE.append(on_worker())
    return pd.DataFrame({"x": np.arange(3.0) + 3 * i}, index=np.arange(3) + 3 * i)


def recorded_frame(n: int = 4) -> dd.DataFrame:
    """A dask frame whose partitions record in WHERE whether a worker computed them."""
    WHERE.clear()
    return dd.from_map(
        recorded_part,
        range(n),
        meta=recorded_part(0).iloc[:0],
        divisions=tuple(range(0, 3 * n, 3)) + (3 * n - 1,),
    )


@pytest.mark.parametrize("dumper", ["dask_to_zarr", "dask_to_parquet"])
def test_client_runs_the_dask_write_on_its_cluster(local_db, client, dumper):
    ddf = recorded_frame()
    WHERE.clear()
    local_db.set("t", ddf, dumper=dumper, client=client)
    assert WHERE and all(WHERE)
    assert_same(local_db["t"].compute(), ddf.compute(scheduler="sync"))
    WHERE.clear()
    local_db.set("u", ddf, dumper=dumper)  # the active scheduler
    assert WHERE and not any(WHERE)


def test_scheduler_is_where_the_write_runs(local_db, client):
    calls = []

    def counting_get(dsk, keys, **kwargs):
        calls.append(keys)
        return dask.get(dsk, keys, **kwargs)

    ddf = dd.from_pandas(pd.DataFrame({"x": np.arange(10)}), npartitions=3)
    local_db.set("t", ddf, scheduler=counting_get)
    assert calls
    assert_same(local_db["t"].compute(), ddf.compute())
    ddf2 = recorded_frame()
    WHERE.clear()
    local_db.set("u", ddf2, scheduler=client)
    assert WHERE and all(WHERE)
    local_db.set("v", ddf, dumper="dask_to_parquet", scheduler="synchronous")
    assert_same(local_db["v"].compute(), ddf.compute())


@pytest.mark.parametrize("dumper", ["dask_to_zarr", "dask_to_parquet"])
def test_repartition_writes_at_most_that_many_partitions(db, dumper):
    pdf = pd.DataFrame({"x": np.arange(60), "s": [f"c{i % 7}" for i in range(60)]})
    ddf = dd.from_pandas(pdf, npartitions=12)
    pdf = ddf.compute()  # dask's string dtype
    db.set("t", ddf, dumper=dumper, repartition=5)
    assert db["t"].npartitions == 5 and db["t"].known_divisions
    assert_same(db["t"].compute(), pdf)
    db.set("u", ddf.clear_divisions(), dumper=dumper, repartition=5)
    assert db["u"].npartitions == 5
    assert_same(db["u"].compute(), pdf)
    db.set("v", ddf, dumper=dumper, repartition=True)  # ISF's dask_to_msgpack: 10000
    assert db["v"].npartitions == 12
    db.set("w", ddf, dumper=dumper, repartition=False)
    assert db["w"].npartitions == 12


def test_repartition_with_lengths_of_the_partitions_it_merges_is_refused(local_db):
    ddf = dd.from_pandas(pd.DataFrame({"x": np.arange(6)}), npartitions=3)
    with pytest.raises(UnknownDumperError, match="lengths"):
        local_db.set("t", ddf, repartition=2, lengths=[2, 2, 2])
    with pytest.raises(UnknownDumperError, match="repartition"):
        local_db.set("t", ddf, repartition="all")
    assert "t" not in local_db


def string_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "celltype": np.array(["L5tt", "VPM", "L5tt", None], dtype=object),
            "label": pd.array(["a", "b", "a", "b"], dtype="string"),
            "t": [1.0, 2.0, 3.0, 4.0],
        },
        index=pd.Index(["r0", "r1", "r2", "r3"], dtype=object),
    )


@pytest.mark.parametrize("dumper", ["pandas_to_zarr", "pandas_to_parquet"])
def test_categorize_stores_string_columns_as_categoricals(db, dumper):
    frame = string_frame()
    db.set("t", frame, dumper=dumper, categorize=True)
    back = db["t"]
    assert isinstance(back["celltype"].dtype, pd.CategoricalDtype)
    assert isinstance(back["label"].dtype, pd.CategoricalDtype)
    assert back["t"].dtype == np.float64 and back.index.dtype == object
    assert back["celltype"].astype(object).tolist()[:3] == ["L5tt", "VPM", "L5tt"]
    assert back["celltype"].isna().tolist() == [False, False, False, True]
    assert back["label"].astype(str).tolist() == ["a", "b", "a", "b"]
    db.set("u", frame, dumper=dumper)  # without it: the dtypes as they were
    assert_same(db["u"], frame)


@pytest.mark.parametrize("dumper", ["dask_to_zarr", "dask_to_parquet"])
def test_categorize_on_dask_frames_finds_the_categories_of_all_partitions(db, dumper):
    frame = string_frame()
    with dask.config.set({"dataframe.convert-string": False}):
        ddf = dd.from_pandas(frame, npartitions=2, sort=False)
    db.set("t", ddf, dumper=dumper, categorize=True)
    back = db["t"].compute()
    assert list(back["celltype"].cat.categories) == ["L5tt", "VPM"]
    assert list(back["label"].cat.categories) == ["a", "b"]
    assert back["label"].astype(str).tolist() == ["a", "b", "a", "b"]


@pytest.mark.parametrize("dumper", ["pandas_to_parquet", "dask_to_parquet"])
def test_schema_casts_the_named_columns_for_parquet(db, dumper):
    pa = pytest.importorskip("pyarrow")
    frame = pd.DataFrame({"a": [1, 2, 3], "b": [0.5, 1.5, 2.5], "s": ["x", "y", "x"]})
    value = frame if dumper == "pandas_to_parquet" else dd.from_pandas(frame, npartitions=2)
    schema = pa.schema([("a", pa.int32()), ("s", pa.dictionary(pa.int8(), pa.string()))])
    db.set("t", value, dumper=dumper, schema=schema)
    back = db["t"]
    back = back if isinstance(back, pd.DataFrame) else back.compute()
    assert back["a"].dtype == np.int32 and back["b"].dtype == np.float64
    assert isinstance(back["s"].dtype, pd.CategoricalDtype)
    assert back["a"].tolist() == [1, 2, 3]
    db.set("u", value, dumper=dumper, schema={"b": "float32"})
    assert (db["u"] if dumper == "pandas_to_parquet" else db["u"].compute())[
        "b"
    ].dtype == np.float32
    with pytest.raises(UnsupportedValueError, match="missing_column"):
        db.set("v", value, dumper=dumper, schema=pa.schema([("missing_column", pa.int8())]))
    assert "v" not in db


@pytest.mark.local_files
def test_rows_per_file_is_the_rows_of_each_chunk_file(local_db):
    frame = pd.DataFrame({"x": np.arange(10.0), "y": np.arange(10)})
    local_db.set("t", frame, dumper="pandas_to_msgpack", rows_per_file=3)
    assert_same(local_db["t"], frame)
    group = zarr.open_group(local_db.path_of("t"), mode="r")
    columns = [
        a
        for _, a in group.members(max_depth=None)
        if isinstance(a, zarr.Array) and a.shape[:1] == (10,)
    ]
    assert columns and {a.chunks[0] for a in columns} == {3}
    ddf = dd.from_pandas(frame, npartitions=2)
    local_db.set("d", ddf, rows_per_file=5)
    group = zarr.open_group(local_db.path_of("d"), mode="r")
    columns = [
        a
        for _, a in group.members(max_depth=None)
        if isinstance(a, zarr.Array) and a.shape[:1] == (10,)
    ]
    assert columns and {a.chunks[0] for a in columns} == {5}
    with pytest.raises(UnknownDumperError, match="disagree"):
        local_db.set("t", frame, rows_per_file=3, chunk_rows=4)


def test_isf_keywords_a_dumper_has_no_use_for_are_ignored_with_one_warning(db, client):
    with pytest.warns(UserWarning, match=r"numpy_to_zarr.*categorize, client") as record:
        db.set("a", np.arange(3), client=client, categorize=True)
    assert len(record) == 1 and record[0].filename == __file__
    np.testing.assert_array_equal(db["a"], np.arange(3))
    with pytest.warns(UserWarning, match="'pandas_to_zarr'.*client"):
        db.set("p", pd.DataFrame({"x": [1]}), client=client)
    with pytest.warns(UserWarning, match="schema"):
        db.set("q", pd.DataFrame({"x": [1]}), schema=None)
    with pytest.raises(UnknownDumperError, match="bogus"):
        db.set("b", np.arange(3), client=client, bogus=1)
    assert "b" not in db


def test_verbose_reports_divisions_on_dask_keys_and_is_ignored_elsewhere(db, capsys):
    db["d"] = dd.from_pandas(pd.DataFrame({"x": np.arange(4)}), npartitions=2)
    db.get("d", verbose=True)
    assert capsys.readouterr().out == "loaded dask dataframe with known divisions\n"
    db.get("d", verbose=False)
    assert capsys.readouterr().out == ""
    db["a"] = np.arange(3)
    with pytest.warns(UserWarning, match="loader of 'numpy_to_zarr'.*columns, verbose"):
        np.testing.assert_array_equal(db.get("a", verbose=True, columns=["x"]), np.arange(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        db.get("d", columns=["x"], verbose=False)  # both taken: no warning
