"""ISF's module paths and names that its code and tests import exist in zdb."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import zdb


def test_data_base_module_has_isf_names(tmp_path):
    from zdb.data_base import DataBase, get_db_by_unique_id, is_data_base

    db = DataBase(tmp_path / "db")
    assert DataBase is zdb.DataBase and is_data_base(tmp_path / "db")
    assert get_db_by_unique_id(db.get_id()).basedir == db.basedir


def test_get_versions_reports_this_zdb():
    from zdb._version import get_versions

    versions = get_versions()
    assert versions["version"] == zdb.__version__
    assert set(versions) == {"version", "full-revisionid", "dirty", "error", "date"}
    if versions["full-revisionid"] is not None:  # running from a git checkout
        assert len(versions["full-revisionid"]) == 40 and isinstance(versions["dirty"], bool)


@pytest.mark.parametrize("name", ["ModelDataBaseException", "ISFDataBaseException"])
def test_isf_exception_classes_are_data_base_exceptions(name):
    cls = getattr(zdb.exceptions, name)
    assert issubclass(cls, zdb.exceptions.DataBaseException)
    with pytest.raises(zdb.exceptions.DataBaseException, match="why"):
        raise cls("why")


def test_isf_warning_class_can_be_filtered_and_raised():
    with warnings.catch_warnings():
        warnings.simplefilter("error", zdb.exceptions.DataBaseWarning)
        with pytest.raises(zdb.exceptions.DataBaseWarning, match="careful"):
            warnings.warn("careful", zdb.exceptions.DataBaseWarning, stacklevel=1)


def test_loader_dumper_functions_read_a_key_by_its_folder(tmp_path):
    from zdb.IO import LoaderDumper

    db = zdb.DataBase(tmp_path / "db", allow_pickle=True)
    db["sub", "arr"] = np.arange(5)
    db.set("p", {"a": (1, 2)}, dumper=LoaderDumper.to_pickle)
    for folder in (db.path_of(("sub", "arr")), str(tmp_path / "db" / "sub" / "arr")):
        assert LoaderDumper.get_dumper_string_by_savedir(folder) == "numpy_to_zarr"
        np.testing.assert_array_equal(LoaderDumper.load(folder), np.arange(5))
    assert LoaderDumper.load(db.path_of("p")) == {"a": (1, 2)}
    assert db.metadata["p"]["dumper"] == "to_pickle"
    assert LoaderDumper.load(db.path_of("p"), load_data=False).name == "to_pickle"
    assert LoaderDumper.get_dumper_string_by_dumper_module(LoaderDumper.numpy_to_zarr) == (
        "numpy_to_zarr"
    )
    with pytest.raises(zdb.exceptions.NotADataBaseError, match="not the folder of a key"):
        LoaderDumper.load(tmp_path)
    with pytest.raises(zdb.exceptions.DataBaseException, match="not a dumper module"):
        LoaderDumper.get_dumper_string_by_dumper_module(np)


def test_to_pickle_is_never_chosen_by_itself(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db["f"] = lambda x: x
    assert db.metadata["f"]["dumper"] == "to_cloudpickle"
