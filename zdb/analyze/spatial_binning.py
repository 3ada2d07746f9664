"""Activation counts by distance (ISF's ``data_base.analyze.spatial_binning``).

``spatial_binning`` does what ISF's documents: bins of ``spatial_bin_size`` over the
distance column, edges ``numpy.arange(0, max(distance) + size, size)``, each bin
closed on the right and the first one including 0 (``pandas.cut(...,
include_lowest=True)``), holding the number of activation times within ``[min_time,
max_time]`` of the rows in it. ISF's branches were swapped: a scalar bin size was
passed to ``pandas.cut`` as a number of bins (50 equal-width bins, then failing on its
labels), and only a sequence made ISF compute the edges above.

On a dask frame each partition counts into the bins its largest distance needs (the
edges are the same numbers for every maximum, ``i * size``); the counts are added
aligned and the edges are taken from the largest distance of all, in one pass.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._common import (
    AnalyzeError,
    compute,
    frame_times,
    is_dask_frame,
    kind_error,
    per_partition,
    time_columns,
    tree_reduce,
)


def spatial_edges(max_distance: float, spatial_bin_size: float) -> np.ndarray:
    """``numpy.arange(0, max_distance + spatial_bin_size, spatial_bin_size)``, at least
    ``[0, spatial_bin_size]`` (all distances 0 still make one bin)."""
    edges = np.arange(0, max_distance + spatial_bin_size, spatial_bin_size)
    return edges if len(edges) > 1 else np.array([0.0, spatial_bin_size])


def _counts(
    df: pd.DataFrame, min_time: float, max_time: float, size: float, column: str
) -> tuple[float, np.ndarray]:
    """``(largest distance, counts per bin of the edges it needs)`` of one frame."""
    distance = df[column].to_numpy(dtype=np.float64, na_value=np.nan)
    known = distance[~np.isnan(distance)]
    if not len(known):
        return -np.inf, np.zeros(0, dtype=np.int64)
    top = float(known.max())
    edges = spatial_edges(top, size)
    n = len(edges) - 1
    # (e_i, e_i+1] with 0 in the first bin; outside the edges (negative) is not counted
    index = np.searchsorted(edges, distance, side="left") - 1
    index[distance == edges[0]] = 0
    times = frame_times(df, [c for c in time_columns(df.columns) if c != column])
    with np.errstate(invalid="ignore"):
        per_row = ((times >= min_time) & (times <= max_time)).sum(axis=1)
    ok = (index >= 0) & (index < n)
    return top, np.bincount(index[ok], weights=per_row[ok], minlength=n).astype(np.int64)


def _merge(*results: tuple[float, np.ndarray]) -> tuple[float, np.ndarray]:
    top = max(r[0] for r in results)
    out = np.zeros(max(len(r[1]) for r in results), dtype=np.int64)
    for _, counts in results:
        out[: len(counts)] += counts
    return top, out


def _result(top: float, counts: np.ndarray, size: float) -> tuple[np.ndarray, np.ndarray]:
    if top == -np.inf:
        return np.zeros(0), np.zeros(0, dtype=np.int64)
    edges = spatial_edges(top, size)
    out = np.zeros(len(edges) - 1, dtype=np.int64)
    out[: len(counts)] = counts
    return edges, out


def spatial_binning(
    sa: Any,
    min_time: float = 0,
    max_time: float = 245 + 50,
    spatial_bin_size: float = 50,
    spatial_column: str = "soma_distance",
    *,
    client: Any = None,
    scheduler: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(edges, counts)``: per bin of ``spatial_bin_size`` over ``spatial_column``, the
    number of activation times within ``[min_time, max_time]`` (see the module
    docstring). A dask frame runs on ``client`` or ``scheduler``."""
    number = isinstance(spatial_bin_size, int | float | np.number)
    if not number or isinstance(spatial_bin_size, bool) or not spatial_bin_size > 0:
        raise AnalyzeError(
            f"spatial_bin_size must be a positive number (the width of a bin), got "
            f"{spatial_bin_size!r}; ISF's sequence form is not taken"
        )
    size = float(spatial_bin_size)
    columns = getattr(sa, "columns", ())
    if spatial_column not in columns:
        raise AnalyzeError(
            f"no distance column {spatial_column!r}; the columns are {list(columns)[:20]}"
        )
    args = (min_time, max_time, size, spatial_column)
    if isinstance(sa, pd.DataFrame):
        top, counts = _counts(sa, *args)
        return _result(top, counts, size)
    if is_dask_frame(sa):
        wanted = [spatial_column, *(c for c in time_columns(sa.columns) if c != spatial_column)]
        total = tree_reduce(per_partition(sa, _counts, *args, columns=wanted), _merge)
        top, counts = compute(total, client, scheduler)
        return _result(top, counts, size)
    raise kind_error(sa, "spatial_binning", "a pandas or dask DataFrame")
