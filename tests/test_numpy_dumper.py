"""``numpy_to_zarr``: ND numpy arrays of every supported dtype, numpy scalars and dask
arrays round trip; chunks and codecs can be chosen; lazy and xarray reads."""

from __future__ import annotations

import json
import os
import warnings

import dask
import dask.array as da
import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import xarray as xr
import zarr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zdb
from zdb.IO.LoaderDumper import numpy_to_zarr
from zdb.testing import DumperRoundTripTests

from .s3_server import OnS3

NATIVE = "="


def assert_same_array(got: object, want: np.ndarray) -> None:
    """Same type, dtype, shape and bytes."""
    assert type(got) is np.ndarray, type(got)
    assert got.dtype == want.dtype
    assert got.shape == want.shape
    # the same bytes: nan payloads, -0.0 and NaT included
    assert got.tobytes() == want.tobytes()


numeric_dtypes = (
    hnp.boolean_dtypes()
    | hnp.integer_dtypes(endianness=NATIVE)
    | hnp.unsigned_integer_dtypes(endianness=NATIVE)
    | hnp.floating_dtypes(endianness=NATIVE, sizes=(16, 32, 64))
    | hnp.complex_number_dtypes(endianness=NATIVE, sizes=(64, 128))
    | hnp.datetime64_dtypes(endianness=NATIVE)
    | hnp.timedelta64_dtypes(endianness=NATIVE)
    | hnp.unicode_string_dtypes(endianness=NATIVE, max_len=8)
)
shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=5)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(arr=hnp.arrays(numeric_dtypes, shapes))
def test_numpy_arrays_round_trip(tmp_path_factory, arr):
    db = zdb.DataBase(tmp_path_factory.mktemp("db"))
    db["a"] = arr
    assert_same_array(db["a"], arr)
    assert db.metadata["a"]["dumper"] == "numpy_to_zarr"


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    arr=hnp.arrays(numeric_dtypes, hnp.array_shapes(min_dims=1, max_dims=3, min_side=1)),
    data=st.data(),
)
def test_numpy_arrays_round_trip_in_many_chunks(tmp_path_factory, arr, data):
    chunks = tuple(data.draw(st.integers(1, max(1, s))) for s in arr.shape)
    db = zdb.DataBase(tmp_path_factory.mktemp("db"))
    db.set("a", arr, chunks=chunks)
    assert_same_array(db["a"], arr)
    assert_same_array(db.get("a", lazy=True).compute(), arr)


string_lists = st.lists(st.text(max_size=6), max_size=12)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(strings=string_lists, kind=st.sampled_from(["T", "O"]))
def test_variable_length_string_arrays_round_trip(tmp_path_factory, strings, kind):
    dtype = np.dtypes.StringDType() if kind == "T" else object
    arr = np.array(strings, dtype=dtype).reshape(-1) if strings else np.array([], dtype=dtype)
    db = zdb.DataBase(tmp_path_factory.mktemp("db"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no fallback to pickle
        db["s"] = arr
    got = db["s"]
    assert type(got) is np.ndarray
    assert got.dtype == arr.dtype
    assert got.tolist() == strings
    assert db.metadata["s"]["dumper"] == "numpy_to_zarr"


@pytest.mark.parametrize(
    "arr",
    [
        np.array(5),
        np.array(1.5, dtype="f2"),
        np.array("x"),
        np.array("x", dtype=object),
        np.array("ü", dtype=np.dtypes.StringDType()),
        np.array("2020-01-01", dtype="M8[D]"),
        np.array(3 + 4j),
    ],
    ids=lambda a: str(a.dtype),
)
def test_zero_dimensional_arrays_come_back_as_arrays(db, arr):
    db["a"] = arr
    got = db["a"]
    assert type(got) is np.ndarray
    assert got.shape == ()
    assert got.dtype == arr.dtype
    assert got[()] == arr[()]
    db.set("b", arr, chunks=())
    assert type(db["b"]) is np.ndarray


@pytest.mark.parametrize(
    "arr",
    [
        np.zeros((0,), "f8"),
        np.zeros((3, 0, 2), "i2"),
        np.zeros((0,), "U3"),
        np.zeros((0, 4), object),
        np.array([], dtype=np.dtypes.StringDType()),
        np.zeros((0,), "M8[ns]"),
    ],
    ids=lambda a: f"{a.dtype}{a.shape}",
)
def test_empty_arrays_round_trip(db, arr):
    db["a"] = arr
    got = db["a"]
    assert type(got) is np.ndarray
    assert got.dtype == arr.dtype
    assert got.shape == arr.shape


@pytest.mark.parametrize(
    "scalar",
    [
        np.int8(-3),
        np.uint64(2**64 - 1),
        np.float16(1.5),
        np.float32("nan"),
        np.float64(-0.0),
        np.complex64(1 - 2j),
        np.bool_(True),
        np.datetime64("2020-01-01T12:00", "m"),
        np.timedelta64(5, "s"),
        np.str_("hi"),
    ],
    ids=lambda s: type(s).__name__,
)
def test_numpy_scalars_come_back_as_the_same_scalar_type(db, scalar):
    db["s"] = scalar
    got = db["s"]
    assert type(got) is type(scalar)
    assert got.dtype == scalar.dtype
    np.testing.assert_array_equal(np.asarray(got), np.asarray(scalar))
    assert db.metadata["s"]["dumper"] == "numpy_to_zarr"


def _array_meta(db: zdb.DataBase, key: str) -> dict:
    with open(os.path.join(db.path_of(key), "data", "zarr.json")) as f:
        return json.load(f)


@pytest.mark.local_files
def test_chunks_and_codecs_can_be_chosen(db):
    arr = np.arange(100, dtype="i4").reshape(10, 10)
    db.set("a", arr, chunks=(3, 4), compressors=None)
    meta = _array_meta(db, "a")
    assert meta["chunk_grid"]["configuration"]["chunk_shape"] == [3, 4]
    assert [c["name"] for c in meta["codecs"]] == ["bytes"]
    assert_same_array(db["a"], arr)
    db.set("b", arr, chunks=(5, 5), compressors=zarr.codecs.GzipCodec(level=1))
    assert [c["name"] for c in _array_meta(db, "b")["codecs"]] == ["bytes", "gzip"]
    assert_same_array(db["b"], arr)
    db.set("c", arr, chunks=(2, 2), shards=(4, 4))
    assert _array_meta(db, "c")["codecs"][0]["name"] == "sharding_indexed"
    assert_same_array(db["c"], arr)


@pytest.mark.local_files
def test_default_codecs_are_bytes_and_zstd(db):
    db["a"] = np.arange(10.0)
    meta = _array_meta(db, "a")
    assert [c["name"] for c in meta["codecs"]] == ["bytes", "zstd"]
    assert meta["dimension_names"] == ["dim_0"]


def test_dimension_names_can_be_given(db):
    db.set("a", np.zeros((2, 3)), dimension_names=["trial", "time"])
    assert db.get("a", as_xarray=True).dims == ("trial", "time")
    with pytest.raises(zdb.exceptions.DataBaseException, match="dimension_names"):
        db.set("b", np.zeros((2, 3)), dimension_names=["x"])
    assert "b" not in db


def test_the_dumper_can_be_named_or_given_as_its_module(db):
    db.set("a", np.arange(3), dumper="numpy_to_zarr")
    db.set("b", np.arange(3), dumper=numpy_to_zarr)
    assert db.metadata["a"]["dumper"] == db.metadata["b"]["dumper"] == "numpy_to_zarr"


class _CountingArray:
    """A numpy-like source that records which rows dask asked it for."""

    def __init__(self, arr: np.ndarray) -> None:
        self.arr, self.shape, self.dtype, self.ndim = arr, arr.shape, arr.dtype, arr.ndim
        self.requests: list[tuple] = []

    def __getitem__(self, item: tuple) -> np.ndarray:
        self.requests.append(item)
        return self.arr[item]


@pytest.mark.local_files
def test_a_dask_array_is_stored_chunk_by_chunk_by_default(db):
    source = np.arange(60, dtype="f8").reshape(12, 5)
    counting = _CountingArray(source)
    arr = da.from_array(counting, chunks=(4, 5), asarray=True)
    counting.requests.clear()  # dask's probe of the dtype
    with dask.config.set(scheduler="synchronous"):
        db["d"] = arr
    assert db.metadata["d"]["dumper"] == "numpy_to_zarr"
    # one read per dask chunk, never the whole array
    assert sorted(r[0].start for r in counting.requests) == [0, 4, 8]
    assert _array_meta(db, "d")["chunk_grid"]["configuration"]["chunk_shape"] == [4, 5]
    assert_same_array(db["d"], source)


def test_a_dask_array_with_irregular_chunks_is_rechunked(db):
    source = np.arange(30, dtype="i8")
    db["d"] = da.from_array(source, chunks=((7, 3, 20),))
    assert_same_array(db["d"], source)


@pytest.mark.local_files
def test_lazy_reads_only_the_chunks_a_computation_touches(db):
    arr = np.arange(100, dtype="i8")
    db.set("a", arr, chunks=(10,))
    # damage the last chunk: a computation that does not touch it still works
    with open(os.path.join(db.path_of("a"), "data", "c", "9"), "wb") as f:
        f.write(b"not a zstd frame")
    lazy = db.get("a", lazy=True)
    assert isinstance(lazy, da.Array)
    np.testing.assert_array_equal(lazy[:90].compute(), arr[:90])
    assert int(lazy[10:20].sum().compute()) == int(arr[10:20].sum())
    with pytest.raises(Exception):  # noqa: B017  (the damaged chunk is read now)
        lazy[95:].compute()


def test_lazy_read_of_a_small_array_is_a_dask_array(db):
    db["a"] = np.arange(6).reshape(2, 3)
    lazy = db.get("a", lazy=True)
    assert isinstance(lazy, da.Array)
    np.testing.assert_array_equal(lazy.compute(), np.arange(6).reshape(2, 3))


def test_as_xarray_returns_a_lazily_loaded_data_array(db):
    arr = np.arange(24.0).reshape(4, 6)
    db.set("a", arr, chunks=(2, 3))
    view = db.get("a", as_xarray=True)
    assert isinstance(view, xr.DataArray)
    assert view.dims == ("dim_0", "dim_1")
    assert not view.variable._in_memory
    np.testing.assert_array_equal(view.values, arr)
    lazy_view = db.get("a", as_xarray=True, lazy=True)
    assert isinstance(lazy_view.data, da.Array)
    np.testing.assert_array_equal(lazy_view.values, arr)


@pytest.mark.local_files
def test_an_object_array_of_non_str_falls_back_to_pickle_with_a_warning(db):
    arr = np.array([1, "a", None], dtype=object)
    with pytest.warns(UserWarning, match="to_cloudpickle"):
        db["o"] = arr
    assert db["o"].tolist() == [1, "a", None]
    assert db.metadata["o"]["dumper"] == "to_cloudpickle"
    with pytest.raises(zdb.exceptions.DataBaseException, match="'p'"):
        db.set("p", arr, dumper="numpy_to_zarr")
    assert "p" not in db


@pytest.mark.local_files
def test_a_dtype_zarr_cannot_store_falls_back_to_pickle(db):
    arr = np.array([1.5, 2.5], dtype=np.longdouble)
    if arr.dtype == np.float64:
        pytest.skip("long double is float64 on this platform")
    with pytest.warns(UserWarning, match="to_cloudpickle"):
        db["ld"] = arr
    got = db["ld"]
    assert got.dtype == arr.dtype
    np.testing.assert_array_equal(got, arr)
    with pytest.raises(zdb.exceptions.UnsupportedValueError, match="'ld2'"):
        db.set("ld2", arr, dumper="numpy_to_zarr")
    assert "ld2" not in db


def test_an_unknown_loader_keyword_raises_a_database_exception(db):
    db["a"] = np.arange(3)
    with pytest.raises(zdb.exceptions.DataBaseException, match="bogus"):
        db.get("a", bogus=1)


@pytest.mark.parametrize("chunks", ["auto", (2,)], ids=["one chunk", "many chunks"])
def test_chunks_equal_to_the_fill_value_keep_the_sign_of_zero(db, chunks):
    arr = np.array([-0.0, -0.0, 0.0, 0.0, -0.0])
    db.set("z", arr, chunks=chunks)
    assert db["z"].tobytes() == arr.tobytes()
    carr = np.array([0 - 0j, -0.0 + 0j], dtype="c8")
    db.set("c", carr, chunks=(1,) if chunks != "auto" else "auto")
    assert db["c"].tobytes() == carr.tobytes()


@pytest.mark.parametrize(
    "kwargs",
    [{"inline": False}, {"chunks": (3, 2)}, {"chunks": (2, 2), "shards": (4, 4)}],
    ids=str,
)
@pytest.mark.local_files
def test_a_missing_chunk_raises_corrupt_key_error_naming_the_key_in_every_read_mode(db, kwargs):
    arr = np.zeros((8, 8))  # every chunk equals the fill value, yet all are written
    db.set("a", arr, **kwargs)
    db["b"] = np.arange(3)
    chunk_dir = os.path.join(db.path_of("a"), "data", "c")
    first = os.path.join(chunk_dir, *["0"] * arr.ndim)
    assert os.path.exists(first)
    os.remove(first)
    with pytest.raises(zdb.exceptions.CorruptKeyError, match="'a'"):
        db["a"]
    with pytest.raises(zdb.exceptions.CorruptKeyError, match="'a'"):
        db.get("a", lazy=True).compute()
    with pytest.raises(zdb.exceptions.CorruptKeyError, match="'a'"):
        db.get("a", as_xarray=True, lazy=False)
    with pytest.raises(zdb.exceptions.CorruptKeyError, match="'a'"):
        np.asarray(db.get("a", as_xarray=True))
    np.testing.assert_array_equal(db["b"], np.arange(3))
    assert db.keys() == ["a", "b"]


def test_a_lazy_or_xarray_view_opened_before_an_overwrite_raises_key_changed_not_zeros(db):
    db.set("a", np.ones((4, 4)), chunks=(2, 2))
    lazy = db.get("a", lazy=True)
    view = db.get("a", as_xarray=True)
    db.set("a", np.full((4, 4), 2.0), chunks=(2, 2))
    with pytest.raises(zdb.exceptions.KeyChangedError, match="'a'.*read the key again"):
        lazy.compute()
    with pytest.raises(zdb.exceptions.KeyChangedError, match="'a'"):
        np.asarray(view)
    np.testing.assert_array_equal(db["a"], np.full((4, 4), 2.0))


class TestNumpyRoundTrip(DumperRoundTripTests):
    dumper = "numpy_to_zarr"
    examples = {
        "floats": np.linspace(0, 1, 7),
        "ints_3d": np.arange(24, dtype="i2").reshape(2, 3, 4),
        "bools": np.array([True, False]),
        "complex": np.array([1 + 2j, -0.0 - 1j]),
        "empty": np.zeros((0, 3)),
        "strings": np.array(["a", "bc", ""]),
        "large": np.arange(600_000, dtype="f8"),  # written by zarr-python, in chunks
    }
    refused = {"structured": np.zeros(2, dtype=[("a", "i4"), ("b", "f8")])}
    lazy = True
    xarray = True

    def computed(self, lazy_value):
        return np.asarray(lazy_value.compute())


class TestNumpyRoundTripOnS3(OnS3, TestNumpyRoundTrip):
    pass
