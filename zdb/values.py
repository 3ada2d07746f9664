"""Plain Python values as JSON, losslessly and without pickle.

JSON alone loses tuples, non-str dict keys and non-finite floats, so those are written
as tagged objects ``{"__zdb__": <tag>, ...}``. A dict whose keys are all str (and none
is ``"__zdb__"``) stays a plain JSON object, so the stored form stays readable by other
tools. Only exact builtin types count as plain: a subclass (a numpy float, a bool
subclass, an OrderedDict) is not plain and goes to another dumper, so that it comes
back with its own type.
"""

from __future__ import annotations

import math
from typing import Any

TAG = "__zdb__"
_SCALARS = (type(None), bool, int, str)


def is_plain(value: Any, _depth: int = 0) -> bool:
    """True if ``value`` is None, bool, int, float, str, or a list, tuple or dict of them."""
    t = type(value)
    if t in _SCALARS or t is float:
        return True
    if _depth > 100:
        return False
    if t is list or t is tuple:
        return all(is_plain(v, _depth + 1) for v in value)
    if t is dict:
        return all(is_plain(k, _depth + 1) and is_plain(v, _depth + 1) for k, v in value.items())
    return False


def encode(value: Any) -> Any:
    """Turn a plain value into a JSON-serialisable structure that :func:`decode` inverts."""
    t = type(value)
    if t in _SCALARS:
        return value
    if t is float:
        if math.isfinite(value):
            return value
        return {TAG: "float", "value": repr(value)}  # 'nan', 'inf', '-inf'
    if t is list:
        return [encode(v) for v in value]
    if t is tuple:
        return {TAG: "tuple", "items": [encode(v) for v in value]}
    if t is dict:
        if all(type(k) is str for k in value) and TAG not in value:
            return {k: encode(v) for k, v in value.items()}
        return {TAG: "dict", "items": [[encode(k), encode(v)] for k, v in value.items()]}
    raise TypeError(f"{t.__name__} is not a plain value")


def decode(data: Any) -> Any:
    """Invert :func:`encode`."""
    t = type(data)
    if t is list:
        return [decode(v) for v in data]
    if t is dict:
        tag = data.get(TAG)
        if tag is None:
            return {k: decode(v) for k, v in data.items()}
        if tag == "tuple":
            return tuple(decode(v) for v in data["items"])
        if tag == "dict":
            return {decode(k): decode(v) for k, v in data["items"]}
        if tag == "float":
            return float(data["value"])
        raise ValueError(f"unknown value tag {tag!r}")
    return data
