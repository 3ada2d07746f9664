"""Voltage densities: at each time point, the histogram of the membrane potential over
all trials (ISF's ``data_base.analyze.voltage_binning``).

The result is a (voltage bins x time points) int64 matrix: row ``i`` counts the samples
in ``[bins[i], bins[i + 1])`` (the last bin closed), ``bins = get_bins(bin_size, ymin,
ymax)``; column ``j`` is the ``j``-th time column of the voltage-trace table (columns
whose label converts to int, as in ISF; every float time does). NaN samples are not
counted. ``xmin`` and ``xmax``, unused by ISF, choose the time points in ``[xmin,
xmax]`` here.

A dask frame gives a lazy dask array (ISF's dask variant returned a lazy object too,
but fails on current dask): each partition is binned where it lives and the matrices
are summed by dask's tree reduction. A ``(sim_trial_index, t)`` DataArray, such as
``db.get('voltage_traces', as_xarray=True)``, gives a ``(voltage, t)`` DataArray, lazy
when the input is; ``voltage`` holds the lower edge of each bin.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._common import (
    AnalyzeError,
    Scratch,
    bin_lookup,
    is_dask_frame,
    is_data_array,
    kind_error,
    per_partition,
    time_columns,
    tree_reduce,
)

#: samples binned at a time (256 KiB of float64: its buffers are allocated once per call)
DENSITY_BLOCK = 32768


def get_bins(
    bin_size: float | None = None, min_: float | None = None, max_: float | None = None
) -> np.ndarray:
    """Bin edges ``numpy.arange(min_, max_ + bin_size, bin_size)``."""
    if bin_size is None or min_ is None or max_ is None:
        raise AnalyzeError(
            f"get_bins needs bin_size, min_ and max_, got {bin_size!r}, {min_!r}, {max_!r}"
        )
    if not bin_size > 0:
        raise AnalyzeError(f"bin_size must be a positive number, got {bin_size!r}")
    return np.arange(min_, max_ + bin_size, bin_size)


def density(values: np.ndarray, bins: np.ndarray, block: int = DENSITY_BLOCK) -> np.ndarray:
    """The (voltage bins x columns) histogram of a (trials x time points) matrix.

    Counted about ``block`` values (whole columns) at a time: each block is copied
    into a buffer as float64, time point by time point, its bins are looked up into
    buffers and counted into the result with ``numpy.add.at``, so that no block
    allocates memory (see :meth:`~zdb.analyze._common.BinLookup.into`). Each time
    point has a slot past the bins for the samples outside them (and NaN)."""
    values = np.asarray(values)
    rows, n_t = values.shape
    n_bins = len(bins) - 1
    if n_bins < 1 or not n_t:
        return np.zeros((max(n_bins, 0), n_t), dtype=np.int64)
    slots = np.zeros((n_bins + 1, n_t), dtype=np.int64)
    counts = slots.reshape(-1)
    lookup = bin_lookup(bins)
    width = min(n_t, max(1, block // max(1, rows)))  # time points per block
    shape = (width, rows)
    samples, index = np.empty(shape, dtype=np.float64), np.empty(shape, dtype=np.intp)
    scratch = Scratch.of(shape)
    offsets = np.arange(n_t, dtype=np.intp)[:, None]
    for lo in range(0, n_t, width):
        w = min(width, n_t - lo)
        here, at = samples[:w], index[:w]
        np.copyto(here, values[:, lo : lo + w].T)
        lookup.into(here, at, scratch.head(w))
        np.multiply(at, n_t, out=at)
        np.add(at, offsets[lo : lo + w], out=at)
        np.add.at(counts, at.reshape(-1), 1)
    return slots[:n_bins]


def _selected(columns: Any, xmin: float | None, xmax: float | None) -> list[Any]:
    chosen = time_columns(columns)
    if xmin is not None:
        chosen = [c for c in chosen if float(c) >= xmin]
    if xmax is not None:
        chosen = [c for c in chosen if float(c) <= xmax]
    return chosen


def _frame_density(v: pd.DataFrame, bins: np.ndarray, columns: list[Any] | None) -> np.ndarray:
    """The density of ``v``'s ``columns`` (None: all of them, in order)."""
    v = v if columns is None else v[columns]
    return density(v.to_numpy(dtype=np.float64, na_value=np.nan), bins)


def calculate_vdensity_array_pd(
    v: pd.DataFrame,
    bin_size: float = 0.05,
    ymin: float = -100,
    ymax: float = 50,
    xmin: float | None = None,
    xmax: float | None = None,
) -> np.ndarray:
    """The voltage-density matrix of a pandas voltage-trace table (trials x times)."""
    if not isinstance(v, pd.DataFrame):
        raise kind_error(v, "calculate_vdensity_array_pd", "a pandas DataFrame")
    bins = get_bins(bin_size, ymin, ymax)
    return _frame_density(v, bins, _selected(v.columns, xmin, xmax))


def calculate_vdensity_array_dask(
    v: Any,
    bin_size: float = 0.05,
    ymin: float = -100,
    ymax: float = 50,
    xmin: float | None = None,
    xmax: float | None = None,
) -> Any:
    """The voltage-density matrix of a dask voltage-trace table, as a lazy dask array
    (``.compute()`` or ``numpy.asarray`` it)."""
    import dask.array

    from ..tables import row_ranges

    if not is_dask_frame(v):
        raise kind_error(v, "calculate_vdensity_array_dask", "a dask DataFrame")
    bins = get_bins(bin_size, ymin, ymax)
    columns = _selected(v.columns, xmin, xmax)
    n_bins = len(bins) - 1
    groups = row_ranges.column_groups(
        v, _frame_density, bins, None, columns=columns, name="zdb-frame_density"
    )
    if groups is not None:  # a lazy zdb table: disjoint parts of the result
        blocks = [
            dask.array.from_delayed(tree_reduce(parts, _sum), (n_bins, len(labels)), np.int64)
            for labels, parts in groups
        ]
        return dask.array.concatenate(blocks, axis=1)
    # a trace table has thousands of columns: select only to drop some
    chosen = columns if columns != list(v.columns) else None
    parts = per_partition(v, _frame_density, bins, None, columns=chosen)
    if not parts:
        return dask.array.zeros((n_bins, len(columns)), dtype=np.int64)
    return dask.array.from_delayed(tree_reduce(parts, _sum), (n_bins, len(columns)), np.int64)


def _sum(*counts: np.ndarray) -> np.ndarray:
    """The sum of densities in one new array (a density is 8 bytes per bin and time
    point; stacking them would copy each), the inputs unchanged: a scheduler holds them."""
    if len(counts) == 1:
        return counts[0]
    total = counts[0] + counts[1]
    for more in counts[2:]:
        total += more
    return total


def calculate_vdensity_array_xarray(
    v: Any,
    bin_size: float = 0.05,
    ymin: float = -100,
    ymax: float = 50,
    xmin: float | None = None,
    xmax: float | None = None,
) -> Any:
    """The voltage density of a 2-D DataArray whose last dimension is time, as a
    ``(voltage, <time dim>)`` DataArray (lazy if the input is dask-backed)."""
    import xarray as xr

    if not is_data_array(v) or v.ndim != 2:
        raise kind_error(v, "calculate_vdensity_array_xarray", "a 2-D (trials, t) DataArray")
    bins = get_bins(bin_size, ymin, ymax)
    trials_dim, t_dim = v.dims
    if xmin is not None or xmax is not None:
        v = v.sel({t_dim: slice(xmin, xmax)})
    if hasattr(v.data, "dask"):
        data = v.data
        n_bins = len(bins) - 1
        per_block = data.map_blocks(
            lambda block: density(block, bins)[None],
            new_axis=1,
            chunks=((1,) * len(data.chunks[0]), (n_bins,), data.chunks[1]),
            dtype=np.int64,
            meta=np.zeros((0, 0, 0), dtype=np.int64),
        )
        result = per_block.sum(axis=0)
    else:
        result = density(v.values, bins)
    coords = {"voltage": bins[:-1]}
    if t_dim in v.coords:
        coords[t_dim] = v.coords[t_dim].values
    out = xr.DataArray(result, dims=("voltage", t_dim), coords=coords)
    out.attrs.update(bin_size=bin_size, ymin=ymin, ymax=ymax, trials_dim=str(trials_dim))
    return out


def calculate_vdensity_array(*args: Any, **kwargs: Any) -> Any:
    """The voltage-density matrix of a pandas (numpy array) or dask (lazy dask array)
    voltage-trace table, or of a 2-D DataArray (DataArray)."""
    if not args:
        raise AnalyzeError("calculate_vdensity_array takes the voltage traces first")
    first = args[0]
    if isinstance(first, pd.DataFrame):
        return calculate_vdensity_array_pd(*args, **kwargs)
    if is_dask_frame(first):
        return calculate_vdensity_array_dask(*args, **kwargs)
    if is_data_array(first):
        return calculate_vdensity_array_xarray(*args, **kwargs)
    raise kind_error(first, "calculate_vdensity_array", "a pandas or dask DataFrame or a DataArray")
