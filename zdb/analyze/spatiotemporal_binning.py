"""2-D histograms of activation times by distance and time (ISF's
``data_base.analyze.spatiotemporal_binning``).

Row ``i`` of the result counts the times of the rows whose ``distance_column`` lies in
``[i * spatial_distance_bins, (i + 1) * spatial_distance_bins)``, up to the bin of the
largest distance (bins in between without rows are zeros); its columns are the time
bins ``numpy.arange(min_time, max_time + time_distance_bins, time_distance_bins)``,
half-open except the last. The times are the values of the columns whose label
converts to int, NaN ignored.

On a dask frame each partition gives its own array (as many rows as its largest
distance needs), and these are added aligned at the top left corner
(:func:`~zdb.analyze._add_nparray_aligned.add_aligned`) in a tree, on any scheduler.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._add_nparray_aligned import add_aligned
from ._common import (
    AnalyzeError,
    compute,
    grouped_histogram,
    is_dask_frame,
    kind_error,
    per_partition,
    time_arrays,
    time_columns,
    tree_reduce,
)
from ._helper_functions import map_return_to_series, pd_to_array, time_list_from_pd
from .temporal_binning import make_edges

__all__ = ["map_return_to_series", "pd_to_array", "time_list_from_pd", "universal", "universal_pd"]


def _distance_bins(df: pd.DataFrame, distance_column: str, size: float) -> np.ndarray:
    if distance_column not in df.columns:
        raise AnalyzeError(
            f"no distance column {distance_column!r}; the columns are {list(df.columns)[:20]}"
        )
    if not size or size <= 0:
        raise AnalyzeError(f"spatial_distance_bins must be a positive number, got {size!r}")
    distance = df[distance_column].to_numpy(dtype=np.float64, na_value=np.nan)
    bad = np.isnan(distance) | (distance < 0)
    if bad.any():
        raise AnalyzeError(
            f"{distance_column!r} holds {int(bad.sum())} missing or negative distances "
            f"(first: {distance[bad][0]}); drop those rows before binning"
        )
    return np.floor(distance / size).astype(np.int64)


def universal_pd(
    df: pd.DataFrame,
    distance_column: str,
    spatial_distance_bins: float = 50,
    min_time: float = 0,
    max_time: float = 300,
    time_distance_bins: float = 1,
) -> np.ndarray:
    """The (distance bins x time bins) int64 histogram of a pandas DataFrame."""
    if not isinstance(df, pd.DataFrame):
        raise kind_error(df, "spatiotemporal_binning.universal_pd", "a pandas DataFrame")
    edges = make_edges(min_time, max_time, time_distance_bins)
    n_time = len(edges) - 1
    zbins = _distance_bins(df, distance_column, spatial_distance_bins)
    if not len(zbins):
        return np.zeros((0, n_time), dtype=np.int64)
    n_space = int(zbins.max()) + 1
    times = time_arrays(df, [c for c in time_columns(df.columns) if c != distance_column])
    return grouped_histogram(times, edges, zbins, n_space)


def _add(*arrays: np.ndarray) -> np.ndarray:
    return add_aligned(*arrays)


def lazy_universal(
    ddf: Any,
    distance_column: str,
    spatial_distance_bins: float = 50,
    min_time: float = 0,
    max_time: float = 300,
    time_distance_bins: float = 1,
) -> Any:
    """The delayed result of :func:`universal` on a dask frame (one task per partition
    reading the distance and time columns only, added aligned in a tree)."""
    if distance_column not in ddf.columns:
        raise AnalyzeError(
            f"no distance column {distance_column!r}; the columns are {list(ddf.columns)[:20]}"
        )
    columns = [distance_column, *(c for c in time_columns(ddf.columns) if c != distance_column)]
    args = (distance_column, spatial_distance_bins, min_time, max_time, time_distance_bins)
    return tree_reduce(per_partition(ddf, universal_pd, *args, columns=columns), _add)


def universal(
    df: Any,
    distance_column: str,
    spatial_distance_bins: float = 50,
    min_time: float = 0,
    max_time: float = 300,
    time_distance_bins: float = 1,
    *,
    client: Any = None,
    scheduler: Any = None,
) -> np.ndarray:
    """The (distance bins x time bins) histogram of a pandas or dask DataFrame; a dask
    frame runs on ``client`` or ``scheduler`` (default: the active scheduler)."""
    args = (distance_column, spatial_distance_bins, min_time, max_time, time_distance_bins)
    if isinstance(df, pd.DataFrame):
        return universal_pd(df, *args)
    if is_dask_frame(df):
        return compute(lazy_universal(df, *args), client, scheduler)
    raise kind_error(df, "spatiotemporal_binning", "a pandas or dask DataFrame")
