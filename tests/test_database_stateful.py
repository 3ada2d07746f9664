"""A database behaves like a tree of dicts: hypothesis runs random sequences of writes,
deletions, renames and sub-database creations against a model and checks, after every
step, that keys, sub-databases and values agree (on a local disk and on ``memory://``,
which keeps the key index of object stores)."""

from __future__ import annotations

import secrets
import shutil
import tempfile
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

import zdb
from zdb.exceptions import DataBaseException, KeyKindError

PARTS = st.sampled_from(["a", "b", "c"])
KEYS = st.lists(PARTS, min_size=1, max_size=3).map(tuple)
VALUES = st.one_of(
    st.integers(-5, 5),
    st.text(max_size=5),
    st.lists(st.integers(0, 9), max_size=4).map(lambda v: np.array(v, dtype="i4")),
    st.lists(st.floats(allow_nan=False, width=32), min_size=1, max_size=3).map(
        lambda v: pd.DataFrame({"x": v, "y": [str(i) for i in range(len(v))]})
    ),
)
SUB = "sub-database"


def same(got: Any, want: Any) -> bool:
    if isinstance(want, pd.DataFrame):
        pd.testing.assert_frame_equal(got, want)
        return True
    if isinstance(want, np.ndarray):
        return isinstance(got, np.ndarray) and got.dtype == want.dtype and (got == want).all()
    return type(got) is type(want) and got == want


class DataBaseModel(RuleBasedStateMachine):
    """The model: a dict from key tuples to values, with SUB marking sub-databases."""

    def __init__(self) -> None:
        super().__init__()
        self.db = zdb.DataBase(self.make_url())
        self.model: dict[tuple[str, ...], Any] = {}

    def make_url(self) -> str:
        raise NotImplementedError

    # -- the model's rules -------------------------------------------------------------

    def _data_above(self, key: tuple[str, ...]) -> bool:
        return any(self.model.get(key[:i], SUB) is not SUB for i in range(1, len(key)))

    def _exists(self, key: tuple[str, ...]) -> bool:
        return key in self.model

    def _subtree(self, key: tuple[str, ...]) -> list[tuple[str, ...]]:
        return [k for k in self.model if k[: len(key)] == key]

    def _make_parents(self, key: tuple[str, ...]) -> None:
        for i in range(1, len(key)):
            self.model[key[:i]] = SUB

    @rule(key=KEYS, value=VALUES)
    def set_value(self, key: tuple[str, ...], value: Any) -> None:
        if self._data_above(key) or self.model.get(key) is SUB:
            try:
                self.db[key] = value
            except KeyKindError:
                return
            raise AssertionError(f"storing {key} should have raised KeyKindError")
        self.db[key] = value
        self._make_parents(key)
        self.model[key] = value

    @rule(key=KEYS)
    def create_sub_db(self, key: tuple[str, ...]) -> None:
        if self._data_above(key) or (key in self.model and self.model[key] is not SUB):
            try:
                self.db.create_sub_db(key)
            except KeyKindError:
                return
            raise AssertionError(f"creating sub-database {key} should have raised")
        self.db.create_sub_db(key)
        self._make_parents(key)
        self.model[key] = SUB

    @rule(key=KEYS)
    def delete(self, key: tuple[str, ...]) -> None:
        if not self._exists(key):
            try:
                del self.db[key]
            except KeyError:
                return
            raise AssertionError(f"deleting missing {key} should have raised KeyError")
        del self.db[key]
        for k in self._subtree(key):
            del self.model[k]

    @precondition(lambda self: bool(self.model))
    @rule(data=st.data())
    def rename(self, data: st.DataObject) -> None:
        src = data.draw(st.sampled_from(sorted(self.model)))
        dst = data.draw(KEYS)
        if dst[: len(src)] == src or self._exists(dst) or self._data_above(dst):
            try:
                self.db.rename(src, dst)
            except (DataBaseException, KeyError):
                return
            raise AssertionError(f"renaming {src} to {dst} should have raised")
        self.db.rename(src, dst)
        moved = {dst + k[len(src) :]: self.model.pop(k) for k in self._subtree(src)}
        self._make_parents(dst)
        self.model.update(moved)

    # -- what must hold after every step ------------------------------------------------

    @invariant()
    def keys_agree(self) -> None:
        assert self.db.keys() == sorted({k[0] for k in self.model})
        leaves = sorted(k for k, v in self.model.items() if v is not SUB)
        assert self.db.keys(recurse=True) == leaves

    @invariant()
    def values_and_sub_databases_agree(self) -> None:
        for key, want in self.model.items():
            assert key in self.db, key
            got = self.db[key]
            if want is SUB:
                assert isinstance(got, zdb.DataBase), key
            else:
                assert same(got, want), (key, got, want)


class LocalDataBase(DataBaseModel):
    def make_url(self) -> str:
        self.folder = tempfile.mkdtemp(prefix="zdb-stateful-")
        return self.folder + "/db"

    def teardown(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


class MemoryDataBase(DataBaseModel):
    def make_url(self) -> str:
        return f"memory://zdb-stateful-{secrets.token_hex(6)}"


STATEFUL = settings(
    max_examples=25,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestLocalDataBase = LocalDataBase.TestCase
TestLocalDataBase.settings = STATEFUL
TestMemoryDataBase = MemoryDataBase.TestCase
TestMemoryDataBase.settings = STATEFUL
