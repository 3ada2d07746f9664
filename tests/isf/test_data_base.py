"""Counterparts of ISF's ``tests/test_data_base/data_base_test.py``: the same inputs and
expected values, written for zdb (the ones that do not apply are listed, with the
reason, in README.md)."""

from __future__ import annotations

import os
import shutil

import pytest

from zdb.data_base import DataBase
from zdb.exceptions import DataBaseException
from zdb.IO.LoaderDumper import get_dumper_string_by_dumper_module, to_pickle


def test_unique_id_is_set_on_initialization(empty_db):
    assert empty_db._unique_id is not None


def test_unique_id_stays_the_same_on_reload(empty_db):
    assert DataBase(empty_db.basedir)._unique_id == empty_db._unique_id


def test_get_dumper_string_by_dumper_module():
    assert get_dumper_string_by_dumper_module(to_pickle) == "to_pickle"


def test_get_dumper_string_by_savedir(empty_db):
    empty_db.set("test", 1, dumper=to_pickle)
    s1 = empty_db._detect_dumper_string_of_existing_key("test")
    assert s1 == get_dumper_string_by_dumper_module(to_pickle)


def test_new_unique_id_is_generated_if_it_is_not_set_yet(empty_db):
    empty_db._unique_id = None
    empty_db.save_db_state()
    assert empty_db._unique_id is None
    db = DataBase(empty_db.basedir)
    assert db._unique_id is not None


def test_check_working_dir_clean_for_build_works_correctly(tmp_path):
    testpath = tmp_path / "db"
    testpath.mkdir()
    (testpath / "somefile").write_text("")
    with pytest.raises(DataBaseException):
        DataBase(testpath)
    shutil.rmtree(testpath)
    DataBase(testpath)
    shutil.rmtree(testpath)
    os.makedirs(testpath / "somefolder")
    with pytest.raises(DataBaseException):
        DataBase(testpath)


def test_db_does_not_permit_writes_if_readonly(empty_db):
    empty_db.readonly = True
    with pytest.raises(DataBaseException):
        empty_db["test"] = 1


def test_db_will_not_be_created_if_nocreate(empty_db, tmp_path):
    with pytest.raises(DataBaseException):
        DataBase(tmp_path / "elsewhere", nocreate=True)
    DataBase(empty_db.basedir, nocreate=True)


def test_managed_folder_really_exists(empty_db):
    empty_db.create_managed_folder("asd")
    assert os.path.exists(empty_db["asd"])
    folder_path = empty_db["asd"]
    del empty_db["asd"]
    assert not os.path.exists(folder_path)


def test_managed_folder_does_not_overwrite_existing_keys(empty_db):
    empty_db.create_managed_folder("asd")
    with pytest.raises(DataBaseException):
        empty_db.create_managed_folder("asd")


def test_can_instantiate_sub_db(empty_db):
    empty_db.create_sub_db("test_sub_db")
    assert isinstance(empty_db["test_sub_db"], type(empty_db))


def test_cannot_set_hierarchical_key_it_is_already_used_in_hierarchy(empty_db):
    empty_db["A"] = 1
    empty_db[("B", "1")] = 2
    with pytest.raises(DataBaseException):
        empty_db["A", "1"] = 1
    with pytest.raises(DataBaseException):
        empty_db["B"] = 1
    empty_db["B", "1"] = 1
    with pytest.raises(DataBaseException):
        empty_db["B", "1", "2"] = 1


def test_keys_of_sub_dbs_can_be_called_with_a_single_tuple(empty_db):
    sub_db = empty_db.create_sub_db(("A", "1"))
    sub_db["B"] = 1
    sub_db["C", "1"] = 2
    assert empty_db["A", "1", "B"] == 1
    assert empty_db["A", "1", "C", "1"] == 2


def test_sub_db_does_not_overwrite_existing_keys(empty_db):
    empty_db.set("asd", 1)
    with pytest.raises(DataBaseException):
        empty_db.create_sub_db("asd")


def test_can_set_items_using_different_dumpers(empty_db):
    empty_db.set("test_self", 1)
    empty_db.set("test_to_pickle", 1, dumper=to_pickle)
    assert empty_db["test_self"] == empty_db["test_to_pickle"]


def test_setitem_allows_replacing_an_existing_key_while_simultaneously_using_it(empty_db):
    empty_db["test"] = 1
    empty_db["test"] = empty_db["test"] + 1
    assert empty_db["test"] == 2


def test_deleting_an_item_really_deletes_it(empty_db):
    empty_db["test"] = 1
    del empty_db["test"]
    assert len(list(empty_db.keys())) == 0


def test_overwriting_an_item_deletes_old_version(empty_db):
    def count_number_of_subfolders(key):
        return len([f for f in os.listdir(empty_db.basedir) if key in f])

    def count_versions(key):
        path = os.path.join(empty_db.basedir, key)
        return len([f for f in os.listdir(path) if f.startswith(".v")])

    assert count_number_of_subfolders("test") == 0
    empty_db["test"] = [1] * 10_000  # large enough to be kept in a version folder
    assert count_number_of_subfolders("test") == 1 and count_versions("test") == 1
    empty_db["test"] = [2] * 10_000
    assert count_number_of_subfolders("test") == 1 and count_versions("test") == 1
    del empty_db["test"]
    assert count_number_of_subfolders("test") == 0


def test_maybe_calculate_runs_calculation_the_first_time_and_gets_result_from_db_afterwards(
    empty_db,
):
    flag = []

    def fun():
        flag.append("fun_was_called")
        return 1

    assert empty_db.maybe_calculate("my_key_where_result_of_fun_should_be_stored", fun) == 1
    assert len(list(empty_db.keys())) == 1 and len(flag) == 1
    assert empty_db.maybe_calculate("my_key_where_result_of_fun_should_be_stored", fun) == 1
    assert len(list(empty_db.keys())) == 1 and len(flag) == 1
    fun()
    assert len(flag) == 2


def test_accessing_non_existent_key_raises_KeyError(empty_db):  # noqa: N802 (ISF's name)
    with pytest.raises(KeyError):
        empty_db["some_nonexistent_key"]


def test_check_if_key_exists_can_handle_str_and_tuple_keys(empty_db):
    empty_db["a"] = 1
    empty_db["b", "b"] = 1
    assert empty_db.check_if_key_exists("a")
    assert empty_db.check_if_key_exists(("a",))
    assert empty_db.check_if_key_exists(("b", "b"))
    assert not empty_db.check_if_key_exists(("a", "b"))


def test_check_if_nested_key_exists_can_handle_str(empty_db):
    empty_db["a"] = 1
    empty_db["b", "b"] = 1
    assert empty_db.check_if_key_exists("b")
