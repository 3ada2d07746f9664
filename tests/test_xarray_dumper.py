import dask.array as da
import numpy as np
import pytest
import xarray as xr

import zdb
from zdb.testing import DumperRoundTripTests

from .s3_server import OnS3


@pytest.fixture
def db(tmp_path):
    return zdb.DataBase(tmp_path / "db")


def _traces() -> xr.DataArray:
    return xr.DataArray(
        np.random.default_rng(0).normal(size=(3, 5)),
        dims=("trial", "t"),
        coords={"trial": ["a", "b", "c"], "t": 100 + np.arange(5) * 0.025},
        attrs={"units": "mV", "cell": "L5tt"},
        name="vm",
    )


@pytest.mark.parametrize("name", ["vm", None])
def test_dataarray_round_trips_with_dims_coords_name_and_attrs(db, name):
    value = _traces().rename(name)
    db["x"] = value
    assert db.metadata["x"]["dumper"] == "xarray_to_zarr"
    xr.testing.assert_identical(db["x"], value)


def test_dataset_round_trips_with_coords_and_attrs(db):
    value = xr.Dataset(
        {"vm": _traces(), "stim": ("t", np.arange(5, dtype="int32"))}, attrs={"seed": 3}
    )
    db["ds"] = value
    xr.testing.assert_identical(db["ds"], value)


def test_dask_backed_dataset_is_written_and_read_back_lazily(db):
    value = _traces().chunk({"t": 2}).to_dataset()
    db["ds"] = value
    lazy = db.get("ds", lazy=True)
    assert isinstance(lazy["vm"].data, da.Array)
    xr.testing.assert_identical(lazy.compute(), value.compute())


def test_eager_read_holds_numpy_data(db):
    db["x"] = _traces()
    assert isinstance(db["x"].data, np.ndarray)


def test_plain_xarray_opens_the_key_group(db):
    db["x"] = _traces()
    opened = xr.open_zarr(db.path_of("x"))
    np.testing.assert_array_equal(opened["vm"].values, _traces().values)


def test_dataarray_named_like_a_coordinate_raises_before_writing(db):
    value = _traces().rename("t")
    with pytest.raises(zdb.exceptions.DataBaseException, match="coordinate"):
        db.set("x", value, dumper="xarray_to_zarr")
    assert "x" not in db


@pytest.mark.parametrize(
    "value,name",
    [
        (xr.Dataset({"vm/soma": ("t", np.arange(3.0))}), "vm/soma"),
        (xr.Dataset({"vm": ("t", np.arange(3.0))}, coords={"t/ms": ("t", [0, 1, 2])}), "t/ms"),
        (xr.DataArray(np.arange(3.0), dims="t", name="a/b"), "a/b"),
    ],
    ids=["data variable", "coordinate", "DataArray"],
)
def test_a_variable_name_with_a_slash_is_refused_before_anything_is_written(
    db, tmp_path, value, name
):
    from zdb.dumper import Target
    from zdb.exceptions import UnsupportedValueError
    from zdb.IO.LoaderDumper import xarray_to_zarr
    from zdb.storage import LocalStore

    with pytest.raises(UnsupportedValueError, match=f"'{name}'.*rename"):
        db.set("x", value, dumper="xarray_to_zarr")
    assert "x" not in db
    folder = tmp_path / "version"
    with pytest.raises(UnsupportedValueError, match=f"'{name}'"):
        xarray_to_zarr.dumper.dump(value, Target(LocalStore(folder), "v"))
    assert not folder.exists() or list(folder.iterdir()) == []
    with pytest.warns(UserWarning, match="to_cloudpickle"):  # chosen by type: pickled
        db["x"] = value
    xr.testing.assert_identical(db["x"], value)


class TestXarrayRoundTrip(DumperRoundTripTests):
    dumper = "xarray_to_zarr"
    examples = {
        "traces": _traces(),
        "unnamed": xr.DataArray(np.arange(6.0).reshape(2, 3), dims=("a", "b")),
        "dataset": xr.Dataset(
            {"v": (("t",), np.arange(4.0)), "w": (("t",), np.arange(4))},
            coords={"t": [0.0, 0.5, 1.0, 1.5]},
            attrs={"units": "mV"},
        ),
    }
    refused = {"slashed": xr.Dataset({"a/b": (("t",), np.arange(3.0))})}
    lazy = True
    xarray = True

    def assert_same(self, got, want):
        assert type(got) is type(want)
        xr.testing.assert_identical(got, want)

    def computed(self, lazy_value):
        return lazy_value.compute()


class TestXarrayRoundTripOnS3(OnS3, TestXarrayRoundTrip):
    pass
