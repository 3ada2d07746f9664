"""Labels and indexes as JSON: column labels, Series names and index descriptions.

A label (a column's, a Series' or an index level's name) is kept as JSON in the
group's attributes, tagged like :mod:`zdb.values` (tuples, non-finite floats). An
Index is described either by its labels (when they are plain JSON values and rebuild
it exactly) or by the stored arrays of its levels (docs/format.md, "index
description"). This module also picks the columns a reader asked for by label.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from .. import values as plain_values
from ..exceptions import DataBaseException, DataBaseKeyError, FormatVersionError


class ColumnNotFoundError(DataBaseKeyError):
    """``columns=`` names a column the stored table does not have."""


def _plain_scalar(value: Any) -> Any:
    """``value`` as a plain Python value (numpy numbers unwrapped); TypeError if none."""
    if isinstance(value, np.bool_ | np.integer | np.floating | np.str_):
        value = value.item()
    if isinstance(value, tuple):
        return tuple(_plain_scalar(v) for v in value)
    if value is None or type(value) in (bool, int, float, str):
        return value
    raise TypeError(f"{type(value).__qualname__} is not a plain label")


def label_to_json(label: Any) -> Any:
    """A label as JSON (tuples and non-finite floats tagged, see :mod:`zdb.values`)."""
    return plain_values.encode(_plain_scalar(label))


def label_from_json(data: Any) -> Any:
    """Invert :func:`label_to_json`."""
    return plain_values.decode(data)


def json_or_none(label: Any) -> Any:
    try:
        return label_to_json(label)
    except TypeError:
        return None


def as_index(arr: Any, name: Any = None) -> pd.Index:
    """An Index of exactly ``arr``'s dtype (no inference from object values)."""
    return pd.Index(arr, dtype=arr.dtype, name=name, copy=False)


def _index_equal(a: pd.Index, b: pd.Index) -> bool:
    try:
        pd.testing.assert_index_equal(a, b, exact=True, check_exact=True, check_categorical=True)
    except AssertionError:
        return False
    return True


def labels_description(idx: pd.Index) -> dict[str, Any] | None:
    """A JSON description of an Index of plain labels (ints, floats, str, tuples of
    them) that :func:`index_from_labels` rebuilds exactly; None when there is none."""
    try:
        if isinstance(idx, pd.RangeIndex):
            desc: dict[str, Any] = {
                "kind": "range",
                "start": idx.start,
                "stop": idx.stop,
                "step": idx.step,
                "name": label_to_json(idx.name),
            }
        elif isinstance(idx, pd.MultiIndex):
            desc = {
                "kind": "multi_labels",
                "names": [label_to_json(n) for n in idx.names],
                "levels": [
                    {"dtype": str(lev.dtype), "labels": [label_to_json(v) for v in lev]}
                    for lev in (level_values(idx, i) for i in range(idx.nlevels))
                ],
            }
        else:
            desc = {
                "kind": "labels",
                "dtype": str(idx.dtype),
                "name": label_to_json(idx.name),
                "labels": [label_to_json(v) for v in idx],
            }
        rebuilt = index_from_labels(desc)
    except (TypeError, ValueError):
        return None
    return desc if _index_equal(idx, rebuilt) else None


def index_from_labels(desc: dict[str, Any]) -> pd.Index:
    """The Index described by :func:`labels_description`."""
    kind = desc["kind"]
    if kind == "range":
        return pd.RangeIndex(
            desc["start"], desc["stop"], desc["step"], name=label_from_json(desc["name"])
        )
    if kind == "multi_labels":
        levels = [
            pd.Index([label_from_json(v) for v in lev["labels"]], dtype=lev["dtype"])
            for lev in desc["levels"]
        ]
        return pd.MultiIndex.from_arrays(levels, names=[label_from_json(n) for n in desc["names"]])
    if kind == "labels":
        labels = [label_from_json(v) for v in desc["labels"]]
        return pd.Index(labels, dtype=desc["dtype"], name=label_from_json(desc["name"]))
    raise FormatVersionError(f"unknown index description {kind!r}; upgrade zdb to read it")


def level_values(index: pd.Index, j: int) -> pd.Index:
    """Level ``j`` (a position) of a MultiIndex, or the Index itself.

    ``get_level_values`` takes a level's name before its position, so the levels are
    renamed to their positions first (a cheap copy).
    """
    if not isinstance(index, pd.MultiIndex):
        return index
    return index.set_names(list(range(index.nlevels))).get_level_values(j)


def index_freq(idx: pd.Index) -> str | None:
    freq = getattr(idx, "freq", None)
    return None if freq is None or isinstance(idx, pd.PeriodIndex) else freq.freqstr


def build_index(desc: dict[str, Any], levels: list[Any]) -> pd.Index:
    """The Index an ``"arrays"`` description stands for, from its decoded levels."""
    names = [label_from_json(n) for n in desc["names"]]
    if desc["multi"]:
        index = pd.MultiIndex.from_arrays(
            [as_index(lev, n) for lev, n in zip(levels, names, strict=True)], names=names
        )
        freqs = desc.get("level_freqs")
        if freqs:
            index = index.set_levels(
                [
                    lev if f is None else type(lev)(lev, freq=f)
                    for lev, f in zip(index.levels, freqs, strict=True)
                ]
            )
        return index
    index = as_index(levels[0], names[0])
    if desc.get("freq"):
        index = type(index)(index, freq=desc["freq"])
    return index


def check_has_columns(table: dict[str, Any], where: str) -> None:
    """Refuse ``columns=`` for a stored Series or Index."""
    if table["type"] != "DataFrame":
        raise DataBaseException(
            f"the value at {where} is of type {table['type']}; columns= applies to DataFrames only"
        )


def column_positions(index: pd.Index, columns: Any, where: str) -> list[int]:
    """Positions in the columns ``index`` of the labels ``columns``, in that order (a
    label held by several columns gives all of them); ColumnNotFoundError if missing."""
    if isinstance(columns, str | tuple) or not isinstance(columns, Iterable):
        columns = [columns]
    out: list[int] = []
    missing = []
    for label in columns:
        try:
            hit = index.get_loc(label)
        except (KeyError, TypeError):
            missing.append(label)
            continue
        if isinstance(hit, slice):
            out.extend(range(len(index))[hit])
        elif isinstance(hit, np.ndarray):
            out.extend(np.flatnonzero(hit).tolist())
        else:
            out.append(int(hit))
    if missing:
        raise ColumnNotFoundError(
            f"the table at {where} has no column(s) {missing}; its columns are "
            f"{list(index)[:20]}{' ...' if len(index) > 20 else ''}"
        )
    return out
