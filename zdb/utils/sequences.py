"""Helpers on sequences and dicts with ISF's names: :func:`chunkIt`, :func:`flatten`,
:func:`unique`, :func:`convertible_to_int`, :func:`fancy_dict_compare`."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import InvalidArgumentError


def chunkIt(seq: Sequence[Any], num: int) -> list[Any]:  # noqa: N802 (ISF's name)
    """Split ``seq`` into ``num`` consecutive slices of about equal length, in order;
    fewer when ``seq`` is shorter than ``num`` (empty slices are left out). Slice ``k``
    starts at ``floor(k * len(seq) / num)``, the bounds ISF meant: ISF summed floats,
    which sometimes gave ``num + 1`` slices (11 items in 10 gave 11), and tested slices
    for truth, which failed on numpy arrays."""
    if num < 1:
        raise InvalidArgumentError(f"chunkIt: num must be at least 1, not {num!r}")
    n = len(seq)
    bounds = [k * n // num for k in range(num + 1)]
    return [seq[lo:hi] for lo, hi in zip(bounds, bounds[1:], strict=False) if hi > lo]


def flatten(l: Iterable[Any]) -> Iterator[Any]:  # noqa: E741 (ISF's signature)
    """Yield the items of a nested iterable depth first; strings and bytes are items,
    not nested. ISF's used ``collections.Iterable``, which Python 3.10 removed: it
    raised AttributeError on every call."""
    for el in l:
        if isinstance(el, Iterable) and not isinstance(el, str | bytes):
            yield from flatten(el)
        else:
            yield el


def unique(list_: Iterable[Any]) -> list[Any]:
    """The distinct items of ``list_`` in the order of their first appearance."""
    return list(pd.Series(list(list_)).drop_duplicates())


def convertible_to_int(x: Any) -> bool:
    """True if ``int(x)`` works (numbers, numeric strings), False otherwise."""
    try:
        int(x)
    except (TypeError, ValueError, OverflowError):
        return False
    return True


def _differ(a: Any, b: Any) -> bool:
    """Whether two values differ; arrays and frames compare as wholes (plain ``!=``
    would give an array, whose truth is an error)."""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return not np.array_equal(np.asarray(a), np.asarray(b))
    if isinstance(a, pd.DataFrame | pd.Series | pd.Index):
        return not (type(a) is type(b) and a.equals(b))
    result = a != b
    try:
        return bool(result)
    except (TypeError, ValueError):
        return bool(np.asarray(result).any())


def fancy_dict_compare(
    dict_1: Mapping[Any, Any],
    dict_2: Mapping[Any, Any],
    dict_1_name: str = "d1",
    dict_2_name: str = "d2",
    path: str = "",
) -> str:
    """Describe, one line each, how two nested dicts differ: keys missing from either,
    then values that differ, then the same for nested dicts; ``""`` when they are
    equal. The lines use ``dict_1_name`` and ``dict_2_name`` at every depth (ISF named
    a key missing from ``dict_2`` by ``dict_2``'s name and fell back to ``d1``/``d2``
    in nested dicts), and arrays compare as wholes (ISF raised on them)."""
    key_err = ""
    value_err = ""
    err = ""
    for k in dict_1:
        key_path = f"{path}[{k}]"
        if k not in dict_2:
            key_err += f"Key {dict_1_name}{key_path} not in {dict_2_name}\n"
        elif isinstance(dict_1[k], Mapping) and isinstance(dict_2[k], Mapping):
            err += fancy_dict_compare(dict_1[k], dict_2[k], dict_1_name, dict_2_name, key_path)
        elif _differ(dict_1[k], dict_2[k]):
            value_err += (
                f"Value of {dict_1_name}{key_path} ({dict_1[k]}) not same as "
                f"{dict_2_name}{key_path} ({dict_2[k]})\n"
            )
    for k in dict_2:
        if k not in dict_1:
            key_err += f"Key {dict_2_name}{path}[{k}] not in {dict_1_name}\n"
    return key_err + value_err + err
