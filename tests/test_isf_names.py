"""ISF's module paths and names that its code and tests import exist in zdb."""

from __future__ import annotations

import warnings

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
