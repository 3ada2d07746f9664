"""Counterparts of ISF's ``tests/test_data_base/data_base_register_test.py``."""

from __future__ import annotations

import pytest

from zdb.data_base import DataBase, get_db_by_unique_id
from zdb.data_base_register import DataBaseRegister


def test_added_db_can_be_found_by_id(tmp_path):
    p1 = tmp_path / "test1"
    p2 = tmp_path / "test1" / "test2"
    p3 = tmp_path / "test2" / "test2"
    dbs = [DataBase(p1), DataBase(p2), DataBase(p3)]
    for db in dbs:
        db._register_this_database()
    for db, path in zip(dbs, (p1, p2, p3), strict=True):
        assert get_db_by_unique_id(db.get_id()).basedir == str(path)
    db4 = DataBase(tmp_path / "test4")
    db4._register_this_database()
    assert get_db_by_unique_id(db4.get_id()).basedir == db4.basedir
    assert all(isinstance(k, str) for k in DataBaseRegister().keys())


def test_unknown_id_raises_KeyError():  # noqa: N802 (ISF's name)
    with pytest.raises(KeyError):
        get_db_by_unique_id("bla")
