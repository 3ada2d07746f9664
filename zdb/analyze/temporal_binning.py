"""Histograms of the times in spike-time and synapse-activation tables (ISF's
``data_base.analyze.temporal_binning``; ``universal`` is ISF's ``I.temporal_binning``).

A table's times are the values of its columns whose label converts to int (``'0'``,
``'1'``, ... of ``synapse_activation``, ``0, 1, ...`` of ``spike_times``), NaN ignored.
The bins are ``numpy.arange(min_time, max_time + bin_size, bin_size)``, half-open
except the last, as ``numpy.histogram`` counts. ``normalize`` divides by the number of
rows (trials of a spike-time table), ``rate`` by the bins' widths.

On a dask frame each partition is binned where it lives, reading only the time
columns, and the histograms are summed in a tree: the frame is computed once and no
table is gathered anywhere. An ``xarray.DataArray`` counts all its values, per entry
of its first dimension (its rows).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._common import (
    AnalyzeError,
    compute,
    grouped_histogram,
    histogram,
    is_dask_frame,
    is_data_array,
    kind_error,
    per_partition,
    time_arrays,
    time_columns,
    tree_reduce,
)


def make_edges(min_time: float, max_time: float, bin_size: float) -> np.ndarray:
    """ISF's bin borders: ``numpy.arange(min_time, max_time + bin_size, bin_size)``."""
    if not bin_size or bin_size <= 0 or not np.isfinite(bin_size):
        raise AnalyzeError(f"bin_size must be a positive number, got {bin_size!r}")
    if not (np.isfinite(min_time) and np.isfinite(max_time)):
        raise AnalyzeError(f"min_time and max_time must be finite, got {min_time!r}, {max_time!r}")
    return np.arange(min_time, max_time + bin_size, bin_size)


def checked_edges(bin_borders: Any) -> np.ndarray:
    """``bin_borders`` as a float array, refused unless increasing with two or more."""
    edges = np.asarray(bin_borders, dtype=np.float64)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise AnalyzeError(
            f"bin_borders must be at least two increasing numbers, got {bin_borders!r}"
        )
    return edges


def _scaled(
    counts: np.ndarray, rows: int, edges: np.ndarray, normalize: bool, rate: bool
) -> np.ndarray:
    data: np.ndarray = counts
    if normalize:
        data = data / float(rows)
    if rate:
        data = data / np.diff(edges)
    return data


def temporal_binning_pd(
    df: pd.DataFrame,
    bin_size: float | None = None,
    min_time: float | None = None,
    max_time: float | None = None,
    normalize: bool = True,
    bin_borders: Any = None,
    rate: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """``(bin_borders, histogram)`` of the times in a pandas DataFrame.

    Without ``bin_borders`` the bins are ``bin_size`` wide (default 1) from ``min_time``
    to ``max_time`` (default: the smallest and largest time); with ``bin_borders``,
    ``bin_size``, ``min_time`` and ``max_time`` must be None.
    """
    if not isinstance(df, pd.DataFrame):
        raise kind_error(df, "temporal_binning_pd", "a pandas DataFrame")
    times = time_arrays(df)
    edges = _edges(times, bin_size, min_time, max_time, bin_borders)
    counts = grouped_histogram(times, edges)[0]
    return edges, _scaled(counts, len(df), edges, normalize, rate)


def _edges(
    times: Sequence[np.ndarray] | None,
    bin_size: float | None,
    min_time: float | None,
    max_time: float | None,
    bin_borders: Any,
) -> np.ndarray:
    if bin_borders is not None:
        given = {"bin_size": bin_size, "min_time": min_time, "max_time": max_time}
        clash = [name for name, value in given.items() if value is not None]
        if clash:
            raise AnalyzeError(f"give either bin_borders or {', '.join(clash)}, not both")
        return checked_edges(bin_borders)
    if min_time is None or max_time is None:
        finite = [t[~np.isnan(t)] for t in times or ()]
        finite = [t for t in finite if len(t)]
        if not finite:
            raise AnalyzeError(
                "the table holds no times to take min_time or max_time from; give both"
            )
        min_time = float(min(t.min() for t in finite)) if min_time is None else min_time
        max_time = float(max(t.max() for t in finite)) if max_time is None else max_time
    return make_edges(min_time, max_time, 1 if bin_size is None else bin_size)


def _partition_histogram(part: pd.DataFrame, edges: np.ndarray) -> tuple[np.ndarray, int]:
    return grouped_histogram(time_arrays(part), edges)[0], len(part)


def _sum_histograms(*results: tuple[np.ndarray, int]) -> tuple[np.ndarray, int]:
    counts = np.sum([r[0] for r in results], axis=0)
    return counts, sum(r[1] for r in results)


def lazy_histogram(ddf: Any, edges: np.ndarray) -> Any:
    """A delayed ``(counts, rows)`` of the times of a dask frame: one task per
    partition, reading only the time columns (none: rows are still counted), summed in
    a tree."""
    columns = time_columns(ddf.columns)
    parts = per_partition(ddf, _partition_histogram, edges, columns=columns)
    return tree_reduce(parts, _sum_histograms)


GroupBy = str | Callable[[pd.DataFrame], Any]
Relabel = Callable[[Any], Any]


def _partition_groups(
    part: pd.DataFrame, by: GroupBy, edges: np.ndarray, relabel: Relabel | None = None
) -> dict[Any, tuple[np.ndarray, int]]:
    """``{group: (counts, rows)}`` of one frame; rows without a group are left out."""
    if callable(by):
        labels = np.asarray(by(part))
        if len(labels) != len(part):
            raise AnalyzeError(f"by gave {len(labels)} labels for a partition of {len(part)} rows")
        codes, groups = pd.factorize(labels)
    else:  # the column itself: strings are hashed by pyarrow, categoricals give their codes
        codes, groups = pd.factorize(part[by])
    if relabel is not None:
        merged, groups = pd.factorize(np.array([relabel(g) for g in groups] + [None], object))
        codes = merged[codes]  # code -1 takes the last entry, None: no group
    counts = grouped_histogram(time_arrays(part), edges, codes, len(groups))
    rows = np.bincount(codes[codes >= 0], minlength=len(groups))
    return {g: (counts[k], int(rows[k])) for k, g in enumerate(groups)}


def _merge_groups(*results: dict[Any, tuple[np.ndarray, int]]) -> dict[Any, tuple[np.ndarray, int]]:
    out: dict[Any, tuple[np.ndarray, int]] = {}
    for result in results:
        for group, (counts, rows) in result.items():
            if group in out:
                out[group] = (out[group][0] + counts, out[group][1] + rows)
            else:
                out[group] = (counts, rows)
    return out


def by_group(
    df: Any,
    by: GroupBy,
    bin_size: float | None = None,
    min_time: float | None = None,
    max_time: float | None = None,
    normalize: bool = True,
    bin_borders: Any = None,
    rate: bool = False,
    *,
    relabel: Relabel | None = None,
    client: Any = None,
    scheduler: Any = None,
) -> dict[Any, tuple[np.ndarray, np.ndarray]]:
    """``{group: (bin_borders, histogram)}``: what :func:`temporal_binning_pd` gives for
    the rows of each group, all groups in one pass over a pandas or dask frame.

    ``by`` names the column holding each row's group, or is a function of a frame
    returning one label per row; rows without a group (NaN) are left out. ``relabel``
    maps each distinct value of ``by`` to its group (e.g. a synapse type to its cell
    type, ``lambda t: t.split('_')[0]``; None leaves it out): called once per distinct
    value, not per row. Every group has the same bins: without ``bin_borders`` and
    ``min_time``/``max_time``, those of all the frame's times (a dask frame needs them
    given). ``normalize`` divides by the group's number of rows. On dask, one task per
    partition bins every group (reading the time columns and ``by``'s column, or every
    column for a function); the per-group histograms are summed in a tree.
    """
    if isinstance(df, pd.DataFrame):
        edges = _edges(time_arrays(df), bin_size, min_time, max_time, bin_borders)
        result = _partition_groups(df, by, edges, relabel)
    elif is_dask_frame(df):
        if bin_borders is None and (min_time is None or max_time is None):
            raise AnalyzeError(
                "by_group on a dask frame needs min_time and max_time (or bin_borders)"
            )
        edges = _edges(None, bin_size, min_time, max_time, bin_borders)
        columns = None if callable(by) else [by, *(c for c in time_columns(df.columns) if c != by)]
        parts = per_partition(df, _partition_groups, by, edges, relabel, columns=columns)
        result = compute(tree_reduce(parts, _merge_groups), client, scheduler)
    else:
        raise kind_error(df, "temporal_binning.by_group", "a pandas or dask DataFrame")
    keys = sorted(result, key=lambda g: (str(type(g)), g))
    return {g: (edges, _scaled(result[g][0], result[g][1], edges, normalize, rate)) for g in keys}


def temporal_binning_dask(
    ddf: Any,
    bin_size: float = 1,
    min_time: float | None = None,
    max_time: float | None = None,
    normalize: bool = True,
    client: Any = None,
    *,
    bin_borders: Any = None,
    rate: bool = False,
    scheduler: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(bin_borders, histogram)`` of the times in a dask DataFrame, as
    :func:`temporal_binning_pd` gives for the computed frame.

    ``min_time`` and ``max_time`` are required (as in ISF: finding them would read the
    frame twice), or ``bin_borders``. Runs on ``client`` if given, else on
    ``scheduler`` (default: the active dask scheduler).
    """
    if not is_dask_frame(ddf):
        raise kind_error(ddf, "temporal_binning_dask", "a dask DataFrame")
    if bin_borders is None and (min_time is None or max_time is None):
        raise AnalyzeError(
            "temporal_binning_dask needs min_time and max_time (or bin_borders): finding "
            "them would read the whole frame an extra time"
        )
    if bin_borders is not None:
        edges = _edges(None, None, min_time, max_time, bin_borders)
    else:
        edges = _edges(None, bin_size, min_time, max_time, None)
    counts, rows = compute(lazy_histogram(ddf, edges), client, scheduler)
    return edges, _scaled(counts, rows, edges, normalize, rate)


def temporal_binning_xarray(
    da: Any,
    bin_size: float | None = None,
    min_time: float | None = None,
    max_time: float | None = None,
    normalize: bool = True,
    bin_borders: Any = None,
    rate: bool = False,
    client: Any = None,
    scheduler: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(bin_borders, histogram)`` of all values of a DataArray (NaN ignored), one row
    per entry of its first dimension; a dask-backed array is binned block by block."""
    if not is_data_array(da):
        raise kind_error(da, "temporal_binning_xarray", "an xarray DataArray")
    rows = da.shape[0] if da.ndim else 1
    if not hasattr(da.data, "dask"):
        times = np.asarray(da.values, dtype=np.float64).ravel()
        edges = _edges([times], bin_size, min_time, max_time, bin_borders)
        return edges, _scaled(histogram(times, edges), rows, edges, normalize, rate)
    if bin_borders is None and (min_time is None or max_time is None):
        raise AnalyzeError("a dask-backed DataArray needs min_time and max_time (or bin_borders)")
    edges = _edges(None, bin_size, min_time, max_time, bin_borders)
    import dask
    import dask.array

    flat = [dask.delayed(histogram, pure=True)(b, edges) for b in da.data.to_delayed().ravel()]
    total = dask.array.stack(
        [dask.array.from_delayed(f, (len(edges) - 1,), np.int64) for f in flat]
    ).sum(axis=0)
    counts = compute(total, client, scheduler)
    return edges, _scaled(counts, rows, edges, normalize, rate)


def universal(*args: Any, **kwargs: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(bin_borders, histogram)`` of a pandas or dask DataFrame's times, or of an
    ``xarray.DataArray``'s values (see :func:`temporal_binning_pd`,
    :func:`temporal_binning_dask`, :func:`temporal_binning_xarray`)."""
    if not args:
        raise AnalyzeError("temporal_binning takes the table to bin as its first argument")
    first = args[0]
    if isinstance(first, pd.DataFrame):
        return temporal_binning_pd(*args, **kwargs)
    if is_dask_frame(first):
        return temporal_binning_dask(*args, **kwargs)
    if is_data_array(first):
        return temporal_binning_xarray(*args, **kwargs)
    raise kind_error(first, "temporal_binning", "a pandas or dask DataFrame or a DataArray")
