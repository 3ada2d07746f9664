"""The key rules: what a key may look like, nesting through sub-databases, and the
errors for keys that break the rules or change a key's kind."""

from __future__ import annotations

import string

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zdb
from zdb.exceptions import DataBaseException, InvalidKeyError, KeyKindError
from zdb.keys import normalize_key

VALID_CHARS = string.ascii_letters + string.digits + "_.-"


@pytest.mark.parametrize(
    "key",
    ["a", "A_b-c.d", "0", "x" * 120, "a..b", "a.", ("a", "b"), ("a", "b", "c"), "-", "_"],
)
def test_valid_keys_can_be_written_and_read(db, key):
    db[key] = 1
    assert db[key] == 1
    assert key in db


@pytest.mark.parametrize(
    ("key", "rule"),
    [
        ("", "empty"),
        ("x" * 121, "at most 120"),
        (".", "start with '.'"),
        ("..", "start with '.'"),
        (".hidden", "start with '.'"),
        ("a/b", "A-Z a-z 0-9"),
        ("a b", "A-Z a-z 0-9"),
        ("ä", "A-Z a-z 0-9"),
        ("a\\b", "A-Z a-z 0-9"),
        ("a\x00", "A-Z a-z 0-9"),
        ((), "at least one part"),
        (("a", ""), "empty"),
        (("a", ".."), "start with '.'"),
        (("a", 1), "must be a str"),
        (1, "str or a tuple"),
        (["a"], "str or a tuple"),
        (b"a", "str or a tuple"),
        (None, "str or a tuple"),
    ],
)
def test_a_bad_key_raises_naming_the_key_and_the_rule(db, snapshot, key, rule):
    before = snapshot(db.basedir)
    with pytest.raises(DataBaseException) as info:
        db[key] = 1
    assert isinstance(info.value, InvalidKeyError)
    message = str(info.value)
    # the key is named, a long one shortened but keeping at least its first 20 characters
    assert repr(key) in message or (len(repr(key)) > 80 and repr(key)[:20] in message)
    assert rule in message
    with pytest.raises(DataBaseException):
        db[key]
    with pytest.raises(DataBaseException):
        del db[key]
    assert key not in db
    assert snapshot(db.basedir) == before


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=130))
def test_normalize_key_accepts_exactly_the_documented_parts(part):
    valid = (
        1 <= len(part) <= 120 and all(c in VALID_CHARS for c in part) and not part.startswith(".")
    )
    if valid:
        assert normalize_key(part) == (part,)
        assert normalize_key(("a", part)) == ("a", part)
    else:
        with pytest.raises(InvalidKeyError):
            normalize_key(part)
        with pytest.raises(InvalidKeyError):
            normalize_key(("a", part))


def test_a_tuple_key_nests_through_sub_databases(db):
    db["a", "b", "c"] = 1
    assert zdb.is_sub_data_base(db, "a")
    assert zdb.is_sub_data_base(db, ("a", "b"))
    assert not zdb.is_sub_data_base(db, ("a", "b", "c"))
    assert isinstance(db["a"], zdb.DataBase)
    assert db["a"]["b", "c"] == 1
    assert db["a"]["b"]["c"] == 1
    assert ("a", "b", "c") in db
    assert ("a", "b") in db
    assert db.keys() == ["a"]
    assert db.keys(recurse=True) == [("a", "b", "c")]


def test_a_one_part_tuple_is_the_same_key_as_the_str(db):
    db[("x",)] = 5
    assert db["x"] == 5
    assert db.keys() == ["x"]


def test_storing_under_a_data_key_raises_and_keeps_the_data(db, snapshot):
    db["a"] = 1
    before = snapshot(db.basedir)
    with pytest.raises(KeyKindError, match="'a'"):
        db["a", "b"] = 2
    with pytest.raises(KeyKindError, match="'a'"):
        db.create_sub_db("a")
    with pytest.raises(KeyKindError, match="'a'"):
        db.create_sub_db(("a", "b"))
    assert db["a"] == 1
    assert snapshot(db.basedir) == before


def test_a_key_below_a_data_key_is_missing_as_for_a_dict(db):
    db["a"] = 1
    with pytest.raises(KeyError, match="'a' holds data"):
        db["a", "b"]
    with pytest.raises(KeyError, match="'a' holds data"):
        del db["a", "b"]
    assert ("a", "b") not in db
    assert db.get("a") == 1


def test_storing_data_over_a_sub_database_raises_and_keeps_it(db, snapshot):
    db["a", "b"] = 1
    before = snapshot(db.basedir)
    with pytest.raises(KeyKindError, match="'a'"):
        db["a"] = 2
    with pytest.raises(KeyKindError, match="'a'"):
        db.set("a", np.arange(3))
    assert db["a", "b"] == 1
    assert snapshot(db.basedir) == before


def test_overwriting_data_with_data_is_allowed_across_dumpers(db):
    db["a"] = 1
    db["a"] = np.arange(3)
    np.testing.assert_array_equal(db["a"], np.arange(3))
    db["a"] = "text"
    assert db["a"] == "text"
    assert db.keys() == ["a"]


def test_a_missing_key_raises_key_error_on_read_and_delete(db):
    db["present"] = 1
    for key in ("missing", ("missing", "x"), ("present_sub", "x")):
        with pytest.raises(KeyError):
            db[key]
        with pytest.raises(KeyError):
            del db[key]
        assert key not in db
    db.create_sub_db("sub")
    with pytest.raises(KeyError):
        db["sub", "missing"]
    with pytest.raises(KeyError):
        del db["sub", "missing"]


def test_keys_that_differ_only_in_case_are_different_keys(db, tmp_path):
    probe = tmp_path / "case_probe"
    probe.mkdir()
    (probe / "a").touch()
    if (probe / "A").exists():
        pytest.skip("the file system is case-insensitive")
    db["a"] = 1
    db["A"] = 2
    assert (db["a"], db["A"]) == (1, 2)
    assert db.keys() == ["A", "a"]
