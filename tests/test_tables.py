"""``pandas_to_zarr``: pandas tables of every supported dtype, index and column labels
round trip exactly (``assert_frame_equal`` at default strictness) through eager and lazy
reads; the stored layout is plain Zarr that xarray reads without zdb.

The hypothesis strategies here (``frames``) are shared by the other table tests."""

from __future__ import annotations

import datetime
import json
import os
import secrets
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import zdb
from zdb import tables
from zdb.exceptions import DataBaseException, UnsupportedValueError
from zdb.storage import LocalStore
from zdb.tables import ColumnNotFoundError
from zdb.tables import plan as table_plan
from zdb.testing import DumperRoundTripTests

from .s3_server import OnS3

NUMPY_DTYPES = [
    *(f"int{b}" for b in (8, 16, 32, 64)),
    *(f"uint{b}" for b in (8, 16, 32, 64)),
    "float16",
    "float32",
    "float64",
    "longdouble",
    "bool",
    "complex64",
    "complex128",
]
NULLABLE_DTYPES = [
    *(f"Int{b}" for b in (8, 16, 32, 64)),
    *(f"UInt{b}" for b in (8, 16, 32, 64)),
    "Float32",
    "Float64",
    "boolean",
]
STRING_DTYPES = [
    "str",
    pd.StringDtype("python"),
    pd.StringDtype("pyarrow"),
    pd.StringDtype("python", na_value=np.nan),
]
UNITS = ["s", "ms", "us", "ns"]
TIMEZONES = [
    "UTC",
    "Europe/Berlin",
    "America/New_York",
    datetime.timezone(datetime.timedelta(hours=3)),
]

texts = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)


def _numpy_column(n: int) -> st.SearchStrategy:
    def build(dtype: str) -> st.SearchStrategy:
        return hnp.arrays(np.dtype(dtype), n).map(pd.Series)

    return st.sampled_from(NUMPY_DTYPES).flatmap(build)


def _nullable_column(n: int) -> st.SearchStrategy:
    def build(dtype: str) -> st.SearchStrategy:
        np_dtype = pd.api.types.pandas_dtype(dtype).numpy_dtype
        values = hnp.arrays(np_dtype, n, elements=hnp.from_dtype(np_dtype, allow_nan=False))
        mask = hnp.arrays(bool, n)
        return st.tuples(values, mask).map(
            lambda vm: pd.Series(pd.array(vm[0], dtype=dtype)).mask(vm[1])
        )

    return st.sampled_from(NULLABLE_DTYPES).flatmap(build)


def _string_column(n: int) -> st.SearchStrategy:
    items = st.lists(st.one_of(texts, st.none()), min_size=n, max_size=n)
    return st.tuples(st.sampled_from(STRING_DTYPES), items).map(
        lambda di: pd.Series(di[1], dtype=di[0])
    )


def _object_column(n: int) -> st.SearchStrategy:
    items = st.lists(
        st.one_of(texts, st.none(), st.just(float("nan")), st.just(pd.NA)), min_size=n, max_size=n
    )
    return items.map(lambda v: pd.Series(np.array(v + [None], dtype=object)[:-1], dtype=object))


def _category_column(n: int) -> st.SearchStrategy:
    categories = st.one_of(
        st.lists(texts, min_size=1, max_size=5, unique=True),
        st.lists(st.integers(-5, 5), min_size=1, max_size=5, unique=True),
        st.lists(st.floats(allow_nan=False), min_size=1, max_size=5, unique=True),
    )

    def build(cats_ordered: tuple[list, bool]) -> st.SearchStrategy:
        cats, ordered = cats_ordered
        codes = st.lists(st.integers(-1, len(cats) - 1), min_size=n, max_size=n)
        dtype = pd.CategoricalDtype(cats, ordered=ordered)
        return codes.map(lambda c: pd.Series(pd.Categorical.from_codes(c, dtype=dtype)))

    return st.tuples(categories, st.booleans()).flatmap(build)


def _datetime_column(n: int) -> st.SearchStrategy:
    values = st.lists(st.one_of(st.integers(-(2**40), 2**40), st.none()), min_size=n, max_size=n)

    def build(args: tuple) -> pd.Series:
        unit, tz, ints = args
        arr = np.array([np.iinfo(np.int64).min if v is None else v for v in ints], dtype="int64")
        series = pd.Series(arr.view(f"M8[{unit}]"))
        return series.dt.tz_localize("UTC").dt.tz_convert(tz) if tz is not None else series

    return st.tuples(st.sampled_from(UNITS), st.sampled_from([None, *TIMEZONES]), values).map(build)


def _timedelta_column(n: int) -> st.SearchStrategy:
    values = st.lists(st.integers(-(2**40), 2**40), min_size=n, max_size=n)
    return st.tuples(st.sampled_from(UNITS), values).map(
        lambda uv: pd.Series(np.array(uv[1], dtype="int64").view(f"m8[{uv[0]}]"))
    )


def _period_column(n: int) -> st.SearchStrategy:
    values = st.lists(st.one_of(st.integers(0, 10_000), st.none()), min_size=n, max_size=n)
    return st.tuples(st.sampled_from(["D", "M", "h", "Y"]), values).map(
        lambda fv: pd.Series(
            pd.PeriodIndex(
                [None if v is None else pd.Period(ordinal=v, freq=fv[0]) for v in fv[1]],
                freq=fv[0],
            )
        )
    )


def columns(n: int) -> st.SearchStrategy:
    """A column (Series) of length ``n`` of any supported dtype."""
    return st.one_of(
        _numpy_column(n),
        _nullable_column(n),
        _string_column(n),
        _object_column(n),
        _category_column(n),
        _datetime_column(n),
        _timedelta_column(n),
        _period_column(n),
    )


def indexes(n: int) -> st.SearchStrategy:
    """An index of length ``n``: range, int, str, float, datetime with freq, MultiIndex."""
    names = st.one_of(st.none(), texts, st.integers(0, 3))
    ints = st.lists(st.integers(-3, 3), min_size=n, max_size=n)
    floats = st.lists(st.floats(allow_nan=False), min_size=n, max_size=n)
    strs = st.lists(texts, min_size=n, max_size=n)
    return st.one_of(
        st.tuples(st.integers(-5, 5), st.integers(1, 3), names).map(
            lambda a: pd.RangeIndex(a[0], a[0] + n * a[1], a[1], name=a[2])
        ),
        st.tuples(ints, names).map(lambda a: pd.Index(a[0], dtype="int64", name=a[1])),
        st.tuples(floats, names).map(lambda a: pd.Index(a[0], dtype="float64", name=a[1])),
        st.tuples(strs, names).map(lambda a: pd.Index(a[0], name=a[1])),
        st.tuples(st.sampled_from(["D", "h", "min", None]), st.sampled_from(UNITS), names).map(
            lambda a: (
                pd.date_range("2020-01-01", periods=n, freq=a[0] or "D", unit=a[1], name=a[2])
                if a[0]
                else pd.DatetimeIndex(
                    pd.date_range("2020-01-01", periods=n, unit=a[1])[::-1], name=a[2]
                )
            )
        ),
        st.tuples(ints, strs, names).map(
            lambda a: pd.MultiIndex.from_arrays([a[0], a[1]], names=[a[2], "second"])
        ),
    )


labels = st.one_of(
    st.integers(-3, 1000),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    texts,
    st.sampled_from(["index", "data", "a", "A", ".zdb", "__x", "columns", "level_1"]),
)


@st.composite
def frames(draw: st.DrawFn, max_rows: int = 8, max_columns: int = 6) -> pd.DataFrame:
    """A DataFrame with columns of mixed dtypes, mixed labels (or a MultiIndex of
    tuples) and any index."""
    n = draw(st.integers(0, max_rows))
    k = draw(st.integers(0, max_columns))
    data = [draw(columns(n)).reset_index(drop=True) for _ in range(k)]
    if draw(st.booleans()):
        names = draw(st.lists(labels, min_size=k, max_size=k))
        col_index = pd.Index(names, dtype=object) if names else pd.RangeIndex(0)
    else:
        tuples = draw(st.lists(st.tuples(texts, st.integers(0, 3)), min_size=k, max_size=k))
        col_index = pd.MultiIndex.from_tuples(tuples) if tuples else pd.RangeIndex(0)
    frame = pd.concat(data, axis=1) if data else pd.DataFrame(index=range(n))
    frame.columns = col_index
    frame.index = draw(indexes(n))
    return frame


# -- helpers ----------------------------------------------------------------------------


def assert_same(got: object, want: pd.DataFrame | pd.Series) -> None:
    """Equal under pandas' default strictness (dtypes, index type, freq, names)."""
    if isinstance(want, pd.Series):
        pd.testing.assert_series_equal(got, want)
    else:
        pd.testing.assert_frame_equal(got, want)


def round_trip(db: zdb.DataBase, value: pd.DataFrame | pd.Series, **kwargs) -> None:
    """Store ``value`` and check the eager and the lazy read."""
    db.set("t", value, **kwargs)
    assert db.metadata["t"]["dumper"] == "pandas_to_zarr"
    assert_same(db["t"], value)
    assert_same(db.get("t", lazy=True).compute(), value)


ISF_FRAME = pd.DataFrame(
    {
        0: [1, 2, 3, 4, 5, 6],
        1: ["1", "2", "3", "1", "2", "3"],
        "2": [1, 2, 3, 1, 2, 3],
        "myname": ["bla", "bla", "bla", "bla", "bla", "bla"],
    }
)


def isf_frames() -> list[pd.DataFrame]:
    """ISF's mixed-label fixture, with column '2' of ints or bools, with the default
    index and after ``set_index(0)``."""
    with_bools = ISF_FRAME.assign(**{"2": [True, False, True, True, False, False]})
    return [f for base in (ISF_FRAME, with_bools) for f in (base, base.set_index(0))]


# -- the round trips --------------------------------------------------------------------


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frame=frames())
def test_generated_frames_round_trip_eagerly_and_lazily(tmp_path_factory, frame):
    round_trip(zdb.DataBase(tmp_path_factory.mktemp("db")), frame)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(column=st.integers(0, 6).flatmap(columns), name=st.one_of(st.none(), labels))
def test_generated_series_round_trip_with_their_name(tmp_path_factory, column, name):
    round_trip(zdb.DataBase(tmp_path_factory.mktemp("db")), column.rename(name))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    index=st.integers(0, 6).flatmap(
        lambda n: st.one_of(
            indexes(n),
            # pandas has no float16 Index
            columns(n).filter(lambda c: c.dtype != np.float16).map(pd.Index),
        )
    ),
    dumper=st.sampled_from(["pandas_to_zarr", "pandas_to_parquet"]),
)
def test_generated_indexes_round_trip_through_both_dumpers(tmp_path_factory, index, dumper):
    db = zdb.DataBase(tmp_path_factory.mktemp("db"))
    db.set("i", index, dumper=dumper)
    pd.testing.assert_index_equal(db["i"], index, exact=True)
    pd.testing.assert_index_equal(db.get("i", lazy=True).compute(), index, exact=True)


def test_an_index_is_stored_as_a_table_and_refuses_columns(db):
    index = pd.Index(["a/000001", "a/000002"], name="sim_trial_index")
    db["i"] = index
    assert db.metadata["i"]["dumper"] == "pandas_to_zarr"
    assert "a/000001" in db["i"]
    ds = db.get("i", as_xarray=True)
    assert list(ds["sim_trial_index"].values) == list(index)
    with pytest.raises(DataBaseException, match="of type Index; columns="):
        db.get("i", columns=["x"])


@pytest.mark.parametrize(
    "frame", isf_frames(), ids=["ints", "ints-set_index", "bools", "bools-set_index"]
)
def test_isf_mixed_label_fixture_round_trips(db, frame):
    round_trip(db, frame)


def test_the_dumper_is_chosen_for_frames_and_series(db):
    db["f"] = ISF_FRAME
    db["s"] = ISF_FRAME["myname"]
    assert db.metadata["f"]["dumper"] == "pandas_to_zarr"
    assert db.metadata["s"]["dumper"] == "pandas_to_zarr"


def test_each_dtype_round_trips_with_missing_values(db):
    columns = {}
    for dtype in [*NUMPY_DTYPES, *NULLABLE_DTYPES, *STRING_DTYPES, "category", "object"]:
        if dtype in NUMPY_DTYPES:
            values = pd.Series(np.arange(5) % 2, dtype=dtype)
        elif dtype in NULLABLE_DTYPES:
            values = pd.Series([1, 0, None, 1, None], dtype=dtype)
        elif dtype == "category":
            values = pd.Series(["a", None, "b", "a", "c"], dtype="category")
        else:
            values = pd.Series(["a", None, "", "ä", "x" * 100], dtype=dtype)
        columns[repr(dtype)] = values
    frame = pd.DataFrame(columns)
    assert len(set(frame.dtypes.astype(str))) >= 25
    round_trip(db, frame)
    round_trip(db, frame.iloc[:, ::-1].copy())  # and each dtype as the first column


def test_object_columns_keep_each_missing_marker(db):
    col = pd.Series(np.array(["a", None, float("nan"), pd.NA, pd.NaT, "b"], dtype=object))
    round_trip(db, pd.DataFrame({"c": col}))
    back = db["t"]["c"].tolist()
    assert back[1] is None and isinstance(back[2], float) and back[3] is pd.NA
    assert back[4] is pd.NaT


@pytest.mark.parametrize("tz", [None, "UTC", "Europe/Berlin", datetime.UTC])
def test_datetimes_of_every_unit_and_time_zone_round_trip(db, tz):
    columns = {}
    for unit in ["s", "ms", "us", "ns"]:
        times = pd.Series(pd.date_range("1900-01-01", periods=4, freq="37D", unit=unit, tz=tz))
        times[2] = pd.NaT
        columns[f"t_{unit}"] = times
        columns[f"d_{unit}"] = times - times.iloc[0]
    frame = pd.DataFrame(columns)
    times = columns["t_ms"]
    frame.index = pd.DatetimeIndex(pd.concat([times[:1], times[3:], times[:2]]), name="when")
    round_trip(db, frame)


def test_periods_and_categoricals_of_any_dtype_round_trip(db):
    frame = pd.DataFrame(
        {
            "p": pd.period_range("2020-01", periods=4, freq="M"),
            "ordered": pd.Categorical([3, 1, None, 3], categories=[3, 1, 2], ordered=True),
            "times": pd.Categorical(pd.date_range("2020", periods=4, tz="Europe/Berlin")),
            "objects": pd.Categorical(
                ["a", "b", "a", None], categories=pd.Index(["b", "a"], dtype=object)
            ),
            "periods": pd.Categorical(pd.period_range("2020", periods=4, freq="D")),
        }
    )
    round_trip(db, frame)


@pytest.mark.parametrize(
    "index",
    [
        pd.RangeIndex(10, 0, -2, name="r"),
        pd.Index([3, 1, 3, 2, 1], name="non-unique"),
        pd.Index(["b", "a", "b", "c", "d"], name=("a", "tuple")),
        pd.Index([0.5, -1.0, np.nan, 2.0, 0.5]),
        pd.date_range("2020-01-01", periods=5, freq="h", tz="Europe/Berlin", name="time"),
        pd.timedelta_range(0, periods=5, freq="s"),
        pd.period_range("2020", periods=5, freq="Q"),
        pd.CategoricalIndex(["a", "b", "a", "b", "a"]),
        pd.Index([True, False, True, False, True]),
        pd.Index(pd.array([1, None, 3, 4, 5], dtype="Int64")),
        pd.MultiIndex.from_arrays(
            [[1, 1, 2, 2, 3], ["a", "b", "a", None, "b"], pd.date_range("2020", periods=5)],
            names=["n", None, "index"],
        ),
    ],
    ids=lambda i: type(i).__name__ + "-" + str(i.dtype),
)
def test_every_kind_of_index_round_trips(db, index):
    frame = pd.DataFrame({"index": np.arange(5.0), "x": list("vwxyz")}, index=index)
    round_trip(db, frame)


@pytest.mark.local_files
def test_mixed_column_labels_keep_their_types_order_dtype_and_name(db):
    labels = pd.Index(
        [3, 1.5, "a", "A", "two words", "", "__x", ".zdb", None, 100.025, "a"]
        + ["a/b", "x\\y", "t\tab", ".", "..", ".hidden", "é" * 150, "\ud800", "Ä"]
    )
    labels.name = "quantity"
    frame = pd.DataFrame(np.arange(60.0).reshape(3, 20), columns=labels)
    frame = frame.astype({1.5: "int8"})  # not one block: one array per column
    round_trip(db, frame)
    names = json.loads(open(os.path.join(db.path_of("t"), "zarr.json")).read())
    arrays = names["attributes"]["zdb"]["table"]["arrays"]
    assert len(set(a.lower() for a in arrays)) == len(arrays)
    assert "a" in arrays and "two words" in arrays and ".hidden" in arrays and "Ä" in arrays
    assert "__x" not in arrays and ".zdb" not in arrays and "." not in arrays


#: labels named like the format's own files (Zarr v3 and v2 metadata), in any case
METADATA_FILE_LABELS = ["zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata", "ZARR.JSON"]


@pytest.fixture(params=["local", "memory", "s3"])
def any_store_db(request, tmp_path):
    """A new database on a local disk, on memory:// and on S3, with the fsspec options
    that read its files."""
    if request.param == "local":
        return zdb.DataBase(tmp_path / "db"), {}
    if request.param == "memory":
        return zdb.DataBase(f"memory://zdb-tables-{secrets.token_hex(6)}"), {}
    from .s3_server import storage_options

    options = storage_options(request.getfixturevalue("s3_endpoint"))
    url = f"s3://zdb-tests/{secrets.token_hex(6)}"
    return zdb.DataBase(url, storage_options=options), options


def stored_names(db: zdb.DataBase, options: dict, key: str) -> list[str]:
    """The names of a stored table's column and index arrays, from its files."""
    import fsspec

    with fsspec.open(db.path_of(key) + "/zarr.json", "rb", **options) as f:
        table = json.load(f)["attributes"]["zdb"]["table"]
    return table.get("arrays", []) + table["index"].get("arrays", [])


def test_labels_named_like_metadata_files_get_encoded_names_on_every_store(any_store_db):
    db, options = any_store_db
    reserved = {label.lower() for label in METADATA_FILE_LABELS}
    frame = pd.DataFrame({label: [i, i + 1] for i, label in enumerate(METADATA_FILE_LABELS)})
    frame.index = pd.MultiIndex.from_tuples([(1, "a"), (2, "b")], names=[".zattrs", "zarr.json"])
    round_trip(db, frame)
    series = pd.Series([1.5, 2.5], name="zarr.json", index=pd.Index([3, 4], name=".zgroup"))
    db["s"] = series
    assert_same(db["s"], series)
    for key in ("t", "s"):
        names = stored_names(db, options, key)
        assert not {name.lower() for name in names} & reserved, names
    assert sorted(db.get("t", as_xarray=True).data_vars) == sorted(METADATA_FILE_LABELS)


def test_multiindex_columns_round_trip(db):
    columns = pd.MultiIndex.from_tuples([("v", 1), ("v", 2), ("i", 1)], names=["what", "n"])
    frame = pd.DataFrame(np.arange(9.0).reshape(3, 3), columns=columns)
    frame[("s", 0)] = ["x", "y", None]
    round_trip(db, frame)


def test_thousands_of_columns_round_trip_in_both_layouts(local_db):
    db = local_db  # thousands of objects: too slow for the S3 test server
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(rng.random((20, 3000)), columns=np.arange(3000) * 0.025 + 100)
    round_trip(db, wide)
    assert db.get("t", as_xarray=True).dims == ("index", "columns")
    mixed = wide.iloc[:, :1500].copy()
    mixed.columns = [f"c{i}" if i % 2 else i for i in range(1500)]
    mixed["s"] = "text"
    round_trip(db, mixed)


@pytest.mark.parametrize(
    "value",
    [
        pd.DataFrame(),
        pd.DataFrame(index=pd.Index(["a", "b"], name="only index")),
        pd.DataFrame({"a": pd.Series([], dtype="Int64"), "b": pd.Series([], dtype="str")}),
        pd.DataFrame({"nan": [np.nan] * 4, "none": pd.Series([None] * 4, dtype=object)}),
        pd.Series([], dtype="float32", name="empty"),
        pd.Series([1.5, np.nan], name=("a", 1)),
        pd.Series(["x", None], index=pd.date_range("2020", periods=2, freq="D")),
    ],
    ids=[
        "empty",
        "no-columns",
        "no-rows",
        "all-missing",
        "empty-series",
        "named-series",
        "str-series",
    ],
)
def test_empty_and_degenerate_tables_round_trip(db, value):
    round_trip(db, value)


# -- what cannot be stored --------------------------------------------------------------


@pytest.mark.parametrize(
    "column",
    [
        pd.Series([1, "a"], dtype=object),
        pd.Series([b"bytes", b"x"], dtype=object),
        pd.Series([{"a": 1}, None], dtype=object),
        pd.Series(pd.arrays.IntervalArray.from_breaks([0, 1, 2])),
    ],
    ids=["mixed", "bytes", "dict", "interval"],
)
@pytest.mark.local_files
def test_unsupported_columns_raise_or_fall_back_to_pickle_with_a_warning(db, column):
    frame = pd.DataFrame({"bad": column, "good": [1, 2]})
    with pytest.raises(UnsupportedValueError, match="bad"):
        db.set("t", frame, dumper="pandas_to_zarr")
    assert "t" not in db
    with pytest.warns(UserWarning, match="to_cloudpickle"):
        db["t"] = frame
    assert db.metadata["t"]["dumper"] == "to_cloudpickle"
    assert_same(db["t"], frame)


# -- partial and other reads ------------------------------------------------------------


def test_columns_are_read_in_the_order_given_eagerly_lazily_and_as_xarray(db):
    frame = ISF_FRAME.assign(f=np.arange(6.0))
    db["t"] = frame
    want = frame[["f", 0, "myname"]]
    assert_same(db.get("t", columns=["f", 0, "myname"]), want)
    assert_same(db.get("t", lazy=True, columns=["f", 0, "myname"]).compute(), want)
    ds = db.get("t", as_xarray=True, columns=["f", "myname"])
    assert list(ds.data_vars) == ["f", "myname"]
    with pytest.raises(ColumnNotFoundError, match="nope"):
        db.get("t", columns=["f", "nope"])


def test_a_lazy_frame_reads_only_the_columns_a_computation_uses(db, monkeypatch):
    frame = pd.DataFrame({"a": np.arange(10), "b": np.arange(10.0)})
    db["t"] = frame
    lazy = db.get("t", lazy=True)
    read = []
    original = zdb.tables.StoredTable.read

    def spy(self, rows=None, columns=None):
        read.append(columns)
        return original(self, rows=rows, columns=columns)

    monkeypatch.setattr(zdb.tables.StoredTable, "read", spy)
    assert lazy["b"].sum().compute() == 45.0
    assert read == [["b"]]


def test_a_sorted_index_gives_known_divisions_so_loc_reads_one_partition(db, monkeypatch):
    monkeypatch.setattr(table_plan, "PARTITION_BYTES", 1000)
    frame = pd.DataFrame({"x": np.arange(1000.0)}, index=np.repeat(np.arange(100), 10))
    db.set("t", frame, chunk_rows=30)
    lazy = db.get("t", lazy=True)
    assert lazy.npartitions > 5 and lazy.known_divisions
    assert_same(lazy.compute(), frame)
    assert_same(lazy.loc[42].compute(), frame.loc[[42]])
    assert lazy.loc[42].optimize().npartitions == 1


def test_xarray_views_are_lazy_datasets_or_a_data_array_for_a_block(db):
    db["t"] = pd.DataFrame(
        {"a": np.arange(4.0), "b": [1, 2, 3, 4]}, index=pd.Index([5, 6, 7, 8], name="trial")
    )
    ds = db.get("t", as_xarray=True)
    assert list(ds.data_vars) == ["a", "b"] and list(ds.coords) == ["trial"]
    assert ds["a"].variable._in_memory is False
    np.testing.assert_array_equal(ds["b"].values, [1, 2, 3, 4])
    db["w"] = pd.DataFrame(np.ones((3, 200)), columns=np.arange(200) * 0.5)
    arr = db.get("w", as_xarray=True, lazy=True)
    assert arr.shape == (3, 200) and arr.chunks is not None


@pytest.mark.local_files
def test_xarray_reads_numeric_columns_without_zdb(db):
    frame = ISF_FRAME.set_index(0).assign(f=[0.5] * 6)
    frame.index = pd.Index([5, 3, 8, 1, 9, 2], name="trial")
    frame["n"] = pd.array([1, None, 3, 4, 5, 6], dtype="Int64")
    db["t"] = frame
    db["w"] = pd.DataFrame(np.arange(600.0).reshape(3, 200), columns=np.arange(200) * 0.025 + 100)
    code = (
        "import json, sys, xarray as xr\n"
        f"ds = xr.open_zarr({db.path_of('t')!r})\n"
        f"w = xr.open_zarr({db.path_of('w')!r})\n"
        "assert 'zdb' not in sys.modules\n"
        "print(json.dumps({'2': ds['2'].values.tolist(), 'f': ds['f'].values.tolist(),\n"
        "    'trial': ds['trial'].values.tolist(), 'n': ds['n'].values[2:].tolist(),\n"
        "    'coords': list(ds.coords), 'w': float(w['data'].sel(columns=100.025).sum())}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == {
        "2": [1, 2, 3, 1, 2, 3],
        "f": [0.5] * 6,
        "trial": [5, 3, 8, 1, 9, 2],
        "n": [3, 4, 5, 6],
        "coords": ["trial"],
        "w": 1.0 + 201.0 + 401.0,
    }


@pytest.mark.parametrize("dtype", ["str", pd.StringDtype("pyarrow"), pd.StringDtype("python")])
def test_string_columns_read_back_from_any_row_range(tmp_path, dtype):
    texts = [
        None if i % 11 == 3 else "" if i % 13 == 0 else f"zeile {i} ä{'x' * (i % 5)}"
        for i in range(300)
    ]
    frame = pd.DataFrame({"s": pd.Series(texts, dtype=dtype)})
    store = LocalStore(tmp_path)
    tables.write_table(store, "t", frame, chunk_rows=7)
    stored = tables.StoredTable(store, "t")
    for start, stop in [(0, 300), (0, 0), (6, 8), (7, 14), (3, 299), (299, 300), (150, 151)]:
        assert_same(stored.read(rows=(start, stop)), frame.iloc[start:stop])


def test_importing_zdb_and_storing_other_values_imports_no_table_library(tmp_path):
    code = (
        "import sys, zdb\n"
        f"db = zdb.DataBase({str(tmp_path / 'db')!r})\n"
        "db['a'] = 1\n"
        "print(sorted(m for m in ('pandas', 'dask', 'pyarrow') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.local_files
@pytest.mark.parametrize("dumper", ["pandas_to_zarr", "pandas_to_parquet"])
def test_a_table_of_a_newer_format_or_without_description_is_refused(db, dumper):
    from zdb.exceptions import CorruptKeyError, FormatVersionError

    for key, change in [("newer", {"format": 99}), ("other", {"storage": "elsewhere"})]:
        db.set(key, ISF_FRAME, dumper=dumper)
        path = os.path.join(db.path_of(key), "zarr.json")
        with open(path) as f:
            doc = json.load(f)
        doc["attributes"]["zdb"]["table"].update(change)
        with open(path, "w") as f:
            json.dump(doc, f)
    with pytest.raises(FormatVersionError, match="upgrade zdb"):
        db["newer"]
    with pytest.raises(CorruptKeyError, match="no zdb .*table description"):
        db["other"]


def table_examples() -> dict[str, object]:
    """Tables of the shapes users store: mixed dtypes with missing values, a wide block
    of traces, a Series, an Index, a MultiIndex, and ISF's mixed-label fixture."""
    n = 50
    mixed = pd.DataFrame(
        {
            "i": np.arange(n, dtype="int64"),
            "f": np.where(np.arange(n) % 7 == 0, np.nan, np.linspace(0, 1, n)),
            "s": pd.Series([None if i % 5 == 0 else f"s{i}" for i in range(n)], dtype="string"),
            "c": pd.Categorical([f"L{i % 3}" for i in range(n)]),
            "t": pd.date_range("2024-01-01", periods=n, freq="h", tz="UTC"),
        },
        index=pd.Index([f"trial/{i:06d}" for i in range(n)], name="sim_trial_index"),
    )
    traces = pd.DataFrame(
        np.random.default_rng(0).normal(size=(6, 120)), columns=np.arange(120) * 0.025
    )
    multi = mixed.set_index(["c", "i"])[["f"]]
    return {
        "mixed": mixed,
        "traces": traces,
        "series": mixed["f"].rename("f"),
        "index": pd.Index([3, 1, 2], name="i"),
        "multi": multi,
        "isf": ISF_FRAME,
    }


class TestPandasToZarrRoundTrip(DumperRoundTripTests):
    dumper = "pandas_to_zarr"
    examples = table_examples()
    refused = {"intervals": pd.DataFrame({"x": pd.interval_range(0, 3)})}
    lazy = True
    xarray = True

    def assert_same(self, got, want):
        if isinstance(want, pd.Index):
            pd.testing.assert_index_equal(got, want)
        else:
            assert_same(got, want)

    def computed(self, lazy_value):
        return lazy_value.compute() if hasattr(lazy_value, "compute") else lazy_value


class TestPandasToZarrRoundTripOnS3(OnS3, TestPandasToZarrRoundTrip):
    pass
