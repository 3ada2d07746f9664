"""``DumperRoundTripTests``: what every dumper must do, checked the same way for each.

A dumper's tests subclass it, name the dumper and give example values; the suite
stores each through a real database and reads it back eagerly, lazily and as xarray
where the dumper says it can, checks that plain zarr-python opens what it wrote, that
the key's metadata names it, and that a value it refuses leaves nothing behind::

    from zdb.testing import DumperRoundTripTests

    class TestMyDumper(DumperRoundTripTests):
        dumper = "my_dumper"
        examples = {"small": MyValue(1), "empty": MyValue()}

Override :meth:`new_database` to run the suite on another store (the project's own
tests run it on S3 too), and :meth:`assert_same` for values that ``==`` cannot compare.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path
from typing import Any, ClassVar

import pytest

from ..database import DataBase
from ..dumper import Dumper
from ..dumper_registry import get_dumper
from ..exceptions import DataBaseException


class DumperRoundTripTests:
    """Round trips of one dumper; subclasses set :attr:`dumper` and :attr:`examples`."""

    #: the dumper's name (or alias)
    dumper: ClassVar[str] = ""
    #: values the dumper stores, by a short name used as the key
    examples: ClassVar[dict[str, Any]] = {}
    #: values the dumper refuses with UnsupportedValueError (or another zdb error)
    refused: ClassVar[dict[str, Any]] = {}
    #: whether ``lazy=True`` gives a value that computes to the same one
    lazy: ClassVar[bool] = False
    #: whether ``as_xarray=True`` gives an xarray object (loaded with ``.load()``)
    xarray: ClassVar[bool] = False
    #: whether the version folder is a Zarr group that zarr-python opens without zdb
    plain_zarr: ClassVar[bool] = True

    tmp_path: Path
    request: pytest.FixtureRequest

    @pytest.fixture(autouse=True)
    def _context(self, tmp_path: Path, request: pytest.FixtureRequest) -> None:
        self.tmp_path = tmp_path
        self.request = request

    # -- hooks -----------------------------------------------------------------------

    def new_database(self) -> DataBase:
        """A new, empty database to store the examples in."""
        return DataBase(self.tmp_path / "db")

    def assert_same(self, got: Any, want: Any) -> None:
        """Fail unless ``got`` (read back) is ``want`` (stored): same type and content."""
        import numpy as np

        assert type(got) is type(want), (type(got), type(want))
        if hasattr(want, "equals") and callable(want.equals):  # pandas, xarray
            assert want.equals(got), (got, want)
            if hasattr(want, "dtypes"):
                assert list(got.dtypes) == list(want.dtypes)
        elif isinstance(want, np.ndarray | np.generic):
            assert got.dtype == want.dtype and np.shape(got) == np.shape(want)
            np.testing.assert_array_equal(got, want)
        else:
            assert got == want, (got, want)

    def computed(self, lazy_value: Any) -> Any:
        """The in-memory value of what ``lazy=True`` returned."""
        return lazy_value.compute()

    def stored(self) -> tuple[DataBase, dict[str, Any]]:
        """A database holding every example under its name."""
        if not self.examples:
            pytest.fail(f"{type(self).__name__} gives no examples")
        db = self.new_database()
        for name, value in self.examples.items():
            db.set(name, value, dumper=self.dumper)
        return db, self.examples

    # -- the suite -------------------------------------------------------------------

    def test_the_dumper_is_registered(self) -> None:
        found = get_dumper(self.dumper)
        assert isinstance(found, Dumper) and found.name

    def test_every_example_reads_back_the_same(self) -> None:
        db, examples = self.stored()
        for name, want in examples.items():
            self.assert_same(db.get(name, lazy=False), want)

    def test_every_example_reads_back_from_a_new_handle(self) -> None:
        db, examples = self.stored()
        again = DataBase(db.basedir, readonly=True, allow_pickle=True, **self._options(db))
        for name, want in examples.items():
            self.assert_same(again.get(name, lazy=False), want)

    def test_lazy_reads_compute_to_the_same_value(self) -> None:
        if not self.lazy:
            pytest.skip(f"{self.dumper} has no lazy form")
        db, examples = self.stored()
        for name, want in examples.items():
            self.assert_same(self.computed(db.get(name, lazy=True)), want)

    def test_xarray_views_load(self) -> None:
        if not self.xarray:
            pytest.skip(f"{self.dumper} has no xarray view")
        import xarray as xr

        db, examples = self.stored()
        for name in examples:
            for lazy in (None, False, True):
                view = db.get(name, as_xarray=True, lazy=lazy)
                assert isinstance(view, xr.DataArray | xr.Dataset), (name, lazy, type(view))
                view.load()

    def test_metadata_names_the_dumper(self) -> None:
        db, examples = self.stored()
        name = get_dumper(self.dumper).name
        for key in examples:
            assert db.metadata[key]["dumper"] == name

    def test_plain_zarr_opens_what_it_wrote(self) -> None:
        if not self.plain_zarr:
            pytest.skip(f"{self.dumper} writes no Zarr group")
        import zarr

        db, examples = self.stored()
        for name in examples:
            node = db.node(name)
            if getattr(node, "version", None) is None:
                continue  # the whole value lives in the key's pointer
            group = zarr.open_group(db.path_of(name), mode="r", **self._options(db))
            json.dumps(dict(group.attrs))  # its attributes are plain JSON
            with warnings.catch_warnings():  # folders of other files (managed folders)
                warnings.simplefilter("ignore", zarr.errors.ZarrUserWarning)
                members = list(group.members(max_depth=None))
            for _, member in members:
                if isinstance(member, zarr.Array) and member.size and member.ndim:
                    member[(slice(0, 1),) * member.ndim]

    def test_a_refused_value_leaves_the_database_as_it_was(self) -> None:
        if not self.refused:
            pytest.skip(f"{type(self).__name__} names no refused values")
        db = self.new_database()
        db["kept"] = 1
        for name, value in self.refused.items():
            with pytest.raises(DataBaseException):
                db.set(name, value, dumper=self.dumper)
            assert name not in db
        assert db.keys() == ["kept"]

    @staticmethod
    def _options(db: DataBase) -> dict[str, Any]:
        options = getattr(db.ref.store, "storage_options", None)
        return {"storage_options": options} if options else {}
