"""``to_cloudpickle`` is the fallback for values nothing else stores; reading a pickle
runs code, so ``allow_pickle`` decides: None (default) only from a local database owned
by the current user, True always, False never."""

from __future__ import annotations

import os
import threading
from fractions import Fraction

import pytest

import zdb
from zdb.exceptions import (
    DataBaseException,
    MissingDependencyError,
    PickleRefusedError,
    UnsupportedValueError,
)
from zdb.testing import DumperRoundTripTests


class Point:
    """A user-defined class, which only pickle can store."""

    def __init__(self, x: int, y: int) -> None:
        self.x, self.y = x, y

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Point) and (self.x, self.y) == (other.x, other.y)


def _pickle_files(db: zdb.DataBase) -> list[str]:
    return [
        os.path.join(dirpath, f)
        for dirpath, _, files in os.walk(db.basedir)
        for f in files
        if f.endswith(".pickle")
    ]


@pytest.mark.local_files
def test_values_nothing_else_stores_are_pickled_and_read_back(db):
    db["point"] = Point(1, 2)
    db["fraction"] = Fraction(1, 3)
    db["function"] = lambda x: x + 1
    assert db["point"] == Point(1, 2)
    assert db["fraction"] == Fraction(1, 3)
    assert db["function"](1) == 2
    assert {db.metadata[k]["dumper"] for k in db.keys()} == {"to_cloudpickle"}
    assert len(_pickle_files(db)) == 3


def test_allow_pickle_true_always_reads(tmp_path):
    zdb.DataBase(tmp_path / "db")["p"] = Point(3, 4)
    assert zdb.DataBase(tmp_path / "db", allow_pickle=True)["p"] == Point(3, 4)


def test_allow_pickle_false_refuses_naming_allow_pickle(tmp_path):
    zdb.DataBase(tmp_path / "db")["s", "p"] = Point(3, 4)
    db = zdb.DataBase(tmp_path / "db", allow_pickle=False)
    with pytest.raises(PickleRefusedError, match="allow_pickle") as info:
        db["s", "p"]
    assert isinstance(info.value, DataBaseException)
    assert "'p'" in str(info.value) or os.path.join("s", "p") in str(info.value)
    with pytest.raises(PickleRefusedError, match="allow_pickle"):
        db["s"]["p"]
    # writing pickles is not reading them: allowed, and other keys still read
    db["q"] = 5
    assert db["q"] == 5


@pytest.mark.skipif(os.getuid() != 0, reason="changing a file's owner needs root")
def test_default_refuses_a_pickle_owned_by_another_user(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db["p"] = Point(1, 1)
    (path,) = _pickle_files(db)
    os.chown(path, 4242, 4242)
    with pytest.raises(PickleRefusedError, match="allow_pickle=True") as info:
        zdb.DataBase(tmp_path / "db")["p"]
    assert "4242" in str(info.value)
    assert zdb.DataBase(tmp_path / "db", allow_pickle=True)["p"] == Point(1, 1)


def test_default_reads_a_pickle_owned_by_the_current_user(tmp_path):
    zdb.DataBase(tmp_path / "db")["p"] = Point(5, 6)
    assert zdb.DataBase(tmp_path / "db")["p"] == Point(5, 6)
    assert zdb.DataBase(tmp_path / "db", readonly=True)["p"] == Point(5, 6)


def test_a_value_that_cannot_be_pickled_raises_naming_the_key(db, snapshot):
    before = snapshot(db.basedir)
    with pytest.raises(UnsupportedValueError, match="'lock'") as info:
        db["lock"] = threading.Lock()
    assert "pickle" in str(info.value)
    with pytest.raises(UnsupportedValueError, match="'lock'"):
        db.set("lock", threading.Lock(), dumper="to_cloudpickle")
    assert snapshot(db.basedir) == before


@pytest.mark.local_files
def test_the_pickle_protocol_can_be_chosen(db):
    import pickletools

    db.set("p", Point(1, 2), dumper="to_cloudpickle", protocol=2)
    (path,) = _pickle_files(db)
    with open(path, "rb") as f:
        first_op = next(pickletools.genops(f.read()))
    assert first_op[0].name == "PROTO" and first_op[1] == 2
    assert db["p"] == Point(1, 2)


class TestCloudpickleRoundTrip(DumperRoundTripTests):
    dumper = "to_cloudpickle"
    examples = {"point": Point(1, 2), "fraction": Fraction(1, 3), "a_set": {1, 2, 3}}
    refused = {"a_lock": threading.Lock()}


def test_a_pickle_of_a_module_not_installed_says_so_not_damaged(tmp_path, monkeypatch):
    import importlib
    import sys

    (tmp_path / "lab_models_zdbtest.py").write_text("class Model:\n    pass\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("lab_models_zdbtest")
    db = zdb.DataBase(tmp_path / "db")
    db["model"] = module.Model()
    monkeypatch.delitem(sys.modules, "lab_models_zdbtest")
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p != str(tmp_path)])
    with pytest.raises(MissingDependencyError, match=r"'model'.*lab_models_zdbtest.*install"):
        db["model"]
