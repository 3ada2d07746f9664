"""Plain Python values (None, bool, int, float, str, and lists, tuples and dicts of
them) are stored natively, without pickle, and come back with their exact types."""

from __future__ import annotations

import math
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zdb
from zdb import values
from zdb.testing import DumperRoundTripTests

from .s3_server import OnS3


def assert_identical(got: Any, want: Any) -> None:
    """``got`` equals ``want`` with the same types all the way down (nan equals nan,
    -0.0 differs from 0.0)."""
    assert type(got) is type(want), (got, want)
    if type(want) is float:
        if math.isnan(want):
            assert math.isnan(got)
        else:
            assert got == want
            assert math.copysign(1.0, got) == math.copysign(1.0, want)
    elif type(want) in (list, tuple):
        assert len(got) == len(want)
        for g, w in zip(got, want, strict=True):
            assert_identical(g, w)
    elif type(want) is dict:
        assert list(got) == list(want)  # same keys, same order
        for (gk, gv), (wk, wv) in zip(got.items(), want.items(), strict=True):
            assert_identical(gk, wk)
            assert_identical(gv, wv)
    else:
        assert got == want


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.sampled_from([-0.0, 0.0, math.inf, -math.inf, math.nan])
    | st.text(max_size=20)
    | st.sampled_from(["__zdb__", "", "tuple", "{}", "null"])
)
# dict keys must be hashable and compare equal to themselves (nan keys would not)
hashable = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False)
    | st.text(max_size=10)
    | st.just("__zdb__"),
    lambda children: st.lists(children, max_size=3).map(tuple),
    max_leaves=5,
)
plain_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.lists(children, max_size=5).map(tuple)
        | st.dictionaries(st.text(max_size=10), children, max_size=5)
        | st.dictionaries(hashable, children, max_size=5)
    ),
    max_leaves=25,
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=plain_values)
def test_plain_values_round_trip_with_their_types(tmp_path_factory, value):
    db = zdb.DataBase(tmp_path_factory.mktemp("db"))
    db["v"] = value
    assert_identical(db["v"], value)
    assert db.metadata["v"]["dumper"] == "python_value"


@settings(max_examples=100, deadline=None)
@given(value=plain_values)
def test_encoding_is_json_and_decodes_to_the_same_value(value):
    import json

    text = json.dumps(values.encode(value), allow_nan=False)
    assert_identical(values.decode(json.loads(text)), value)


@pytest.mark.parametrize(
    "value",
    [
        None,
        True,
        False,
        0,
        -(2**100),
        1.5,
        math.nan,
        math.inf,
        -math.inf,
        -0.0,
        "",
        "ünïcödé \n\t \x00",
        [],
        (),
        {},
        [1, (2, 3), {"a": [None]}],
        {1: "int key", "1": "str key"},
        {(1, "a"): "tuple key", (): "empty tuple key"},
        {True: 1, None: 2, 1.5: 3},
        {"__zdb__": "a str key that is the tag"},
        {"__zdb__": "tuple", "items": [1, 2]},
        ((((),),),),
        [[[[[]]]]],
    ],
    ids=repr,
)
def test_edge_case_values_round_trip(db, value):
    db["v"] = value
    assert_identical(db["v"], value)


def test_values_are_not_pickled(db):
    db["small"] = {"a": (1, 2)}
    db["large"] = list(range(10_000))
    for key in ("small", "large"):
        assert db.metadata[key]["dumper"] == "python_value"
    for dirpath, _, files in os.walk(db.basedir):
        assert not any(f.endswith(".pickle") for f in files), dirpath


@pytest.mark.local_files
def test_a_large_value_goes_to_a_version_folder_and_round_trips(db):
    value = {"trace": [float(i) / 7 for i in range(5_000)], "name": "x" * 20_000}
    db["big"] = value
    assert_identical(db["big"], value)
    assert db.path_of("big") != os.path.join(db.basedir, "big")
    assert os.path.isdir(db.path_of("big"))


@pytest.mark.local_files
def test_subclasses_of_plain_types_keep_their_type(db):
    from collections import OrderedDict

    db["od"] = OrderedDict(b=1, a=2)
    got = db["od"]
    assert type(got) is OrderedDict
    assert list(got.items()) == [("b", 1), ("a", 2)]
    assert db.metadata["od"]["dumper"] == "to_cloudpickle"


class TestPythonValueRoundTrip(DumperRoundTripTests):
    dumper = "python_value"
    examples = {
        "none": None,
        "nested": {"a": [1, 2.5, "x"], "b": (True, None), 3: {"__zdb__": 1}},
        "tuple": (1, (2, (3,))),
        "infinite": [float("inf"), -0.0],
        "large": list(range(10_000)),  # in a version folder
    }
    refused = {"a_set": {1, 2}, "an_object": object()}

    def assert_same(self, got, want):
        assert_identical(got, want)


class TestPythonValueRoundTripOnS3(OnS3, TestPythonValueRoundTrip):
    pass
