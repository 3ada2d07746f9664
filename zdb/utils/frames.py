"""Helpers on pandas and dask frames with ISF's names: :func:`pandas_to_array`,
:func:`select`, :func:`pooled_std`, :func:`df_colnames_to_str`, :func:`myrepartition`."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import InvalidArgumentError

logger = logging.getLogger(__name__)


def pandas_to_array(
    pdf: pd.DataFrame | pd.Series | Mapping[Any, Any],
    x_component_fun: Callable[[Any, Any], Any],
    y_component_fun: Callable[[Any, Any], Any],
    value_fun: Callable[[Any, Any], Any],
) -> pd.DataFrame:
    """Turn a long table into a 2-D one: every row ``(index, values)`` of ``pdf`` (a
    DataFrame's rows, a Series' or a dict's items) puts ``value_fun(index, values)`` in
    the column ``x_component_fun(index, values)`` and the row ``y_component_fun(index,
    values)``. Two rows for one cell raise, naming the cell. ISF's used
    ``Series.iteritems``, which pandas 2 removed: it failed on Series and dicts."""
    if isinstance(pdf, pd.DataFrame):
        rows: Any = pdf.iterrows()
    elif isinstance(pdf, pd.Series):
        rows = pdf.items()
    elif isinstance(pdf, Mapping):
        rows = pd.Series(pdf).items()
    else:
        raise InvalidArgumentError(
            f"pandas_to_array takes a DataFrame, a Series or a dict, not {type(pdf).__qualname__}"
        )
    out: dict[Any, dict[Any, Any]] = {}
    for index, values in rows:
        x = x_component_fun(index, values)
        y = y_component_fun(index, values)
        column = out.setdefault(x, {})
        if y in column:
            raise InvalidArgumentError(
                f"pandas_to_array: the rows {index!r} and an earlier one both give the cell "
                f"(column {x!r}, row {y!r}); the component functions must give each row its "
                "own cell"
            )
        column[y] = value_fun(index, values)
    return pd.DataFrame.from_dict(out)


def select(df: Any, **kwargs: Any) -> Any:
    """The rows of ``df`` (pandas or dask) whose column ``k`` equals ``v`` for every
    keyword ``k=v``."""
    for column, value in kwargs.items():
        df = df[df[column] == value]
    return df


def pooled_std(m: Sequence[float], s: Sequence[float], n: Sequence[float]) -> tuple[float, float]:
    """The mean and the unbiased standard deviation of the union of groups, from each
    group's mean ``m``, unbiased standard deviation ``s`` (normalized by N - 1) and
    size ``n``, as ISF computed them. Empty groups are left out; a group of one sample
    (whose ``s`` pandas gives as NaN) counts with a spread of 0 (ISF made the result
    NaN); fewer than two samples in all give a NaN deviation (ISF raised
    ZeroDivisionError)."""
    if not len(m) == len(s) == len(n) > 0:
        raise InvalidArgumentError(
            f"pooled_std: m, s and n must be of one length > 0, not {len(m)}, {len(s)}, {len(n)}"
        )
    m_, s_, n_ = (np.asarray(a, dtype=float) for a in (m, s, n))
    total = n_.sum()
    mean = float(np.dot(m_, n_) / total) if total else float("nan")
    keep = n_ >= 1
    m_, s_, n_ = m_[keep], s_[keep], n_[keep]
    if total <= 1:
        return mean, float("nan")
    biased = np.where(n_ > 1, s_ * np.sqrt((n_ - 1) / n_), 0.0)
    var = np.dot(n_, biased**2 + m_**2) / total - mean**2
    return mean, float(np.sqrt(max(var, 0.0)) * np.sqrt(total / (total - 1)))


def df_colnames_to_str(df: Any) -> Any:
    """Make the column labels and the index name of ``df`` (pandas or dask) strings, in
    place, logging a warning naming what it converts, and return ``df``: what Parquet
    needs (zdb's Parquet dumpers store labels of any type without it)."""
    if not all(isinstance(c, str) for c in df.columns):
        logger.warning("Converting the column names %s to str for Parquet", list(df.columns))
        df.columns = df.columns.astype(str)
    if df.index.name is not None and not isinstance(df.index.name, str):
        logger.warning("Converting the index name %r to str for Parquet", df.index.name)
        df.index.name = str(df.index.name)
    return df


def myrepartition(ddf: Any, N: int) -> Any:  # noqa: N803 (ISF's signature)
    """``ddf`` as a dask frame of ``N`` partitions computing to the same frame, with the
    divisions known when ``ddf``'s are. Dask's own ``repartition`` does this now without
    the graph growth ISF worked around; ISF's wrote a pickle of the frame to a temporary
    folder it never removed, this leaves no files behind."""
    if int(N) < 1:
        raise InvalidArgumentError(f"myrepartition: N must be at least 1, not {N!r}")
    return ddf.repartition(npartitions=int(N))
