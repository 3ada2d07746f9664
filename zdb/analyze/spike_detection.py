"""Spike times from voltage-trace tables (ISF's ``data_base.analyze.spike_detection``).

A spike is an upward crossing of the threshold: its time is the ``t`` of the first
sample at or above the threshold that follows a sample below it, without interpolation
(ISF's ``simple_spike_detection`` in mode ``regular``). Samples that are NaN never
cross.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._common import AnalyzeError, is_data_array, per_partition


def spike_times_from_arrays(
    t: np.ndarray, values: np.ndarray, threshold: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """Upward threshold crossings of each row of ``values`` (trials x samples at ``t``).

    Returns ``(counts, times)``: the number of spikes of each row and all spike times,
    row after row (ragged form, so that wide padded tables are built only once).
    """
    values = np.asarray(values, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    if values.ndim != 2 or values.shape[1] != len(t):
        raise ValueError(
            f"values must have shape (n_trials, {len(t)}) to match t, got {values.shape}"
        )
    with np.errstate(invalid="ignore"):
        up = (values[:, 1:] >= threshold) & (values[:, :-1] < threshold)
    rows, cols = np.nonzero(up)
    counts = np.bincount(rows, minlength=values.shape[0]).astype(np.int64)
    return counts, t[1:][cols]


def padded_frame(index: pd.Index, counts: np.ndarray, times: np.ndarray) -> pd.DataFrame:
    """ISF's spike-time table: one row per entry of ``index``, integer columns ``0, 1,
    ...`` up to the largest count, each row's times first and NaN after them."""
    width = int(counts.max(initial=0))
    out = np.full((len(counts), width), np.nan)
    if len(times):
        rows = np.repeat(np.arange(len(counts)), counts)
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        out[rows, np.arange(len(times)) - starts] = times
    return pd.DataFrame(out, index=index, columns=pd.RangeIndex(width))


def _partition_spikes(frame: pd.DataFrame, threshold: float) -> tuple[pd.Index, Any, Any]:
    t = np.asarray(frame.columns, dtype=np.float64)
    counts, times = spike_times_from_arrays(t, frame.to_numpy(dtype=np.float64), threshold)
    return frame.index, counts, times


def spike_detection(ddf: Any, scheduler: Any = None, threshold: float = 0.0) -> pd.DataFrame:
    """Spike times of every trial of a voltage-trace table.

    ``ddf`` (ISF's keyword) is a pandas or dask DataFrame with one row per trial and
    one column per time step, labelled by its time (as ``db['voltage_traces']``), or a
    2-D (trials, t) DataArray (as ``db.get('voltage_traces', as_xarray=True)``), lazy or
    not. Returns a pandas DataFrame with the same index, in the same order, and integer columns ``0,
    1, ...`` up to the largest number of spikes of a trial, padded with NaN. Partitions
    of a dask frame (blocks of trials of a DataArray) are processed in parallel with
    ``scheduler`` (the active dask scheduler when None).
    """
    vt = ddf
    if isinstance(vt, pd.DataFrame):
        index, counts, times = _partition_spikes(vt, threshold)
        return padded_frame(index, counts, times)
    import dask

    if is_data_array(vt):
        return _data_array_spikes(vt, scheduler, threshold)

    results = dask.compute(*per_partition(vt, _partition_spikes, threshold), scheduler=scheduler)
    if not results:
        return padded_frame(vt._meta.index, np.zeros(0, np.int64), np.zeros(0))
    index = results[0][0].append([r[0] for r in results[1:]])
    counts = np.concatenate([r[1] for r in results])
    times = np.concatenate([r[2] for r in results])
    return padded_frame(index, counts, times)


def _data_array_spikes(vt: Any, scheduler: Any, threshold: float) -> pd.DataFrame:
    """Spikes of a 2-D (trials, t) DataArray, one task per block of trials."""
    import dask

    if vt.ndim != 2:
        raise AnalyzeError(f"spike_detection takes a 2-D (trials, t) DataArray, got {vt.dims}")
    trials, t_dim = vt.dims
    t = vt[t_dim].values if t_dim in vt.coords else np.arange(vt.shape[1], dtype=np.float64)
    if hasattr(vt.data, "dask"):
        blocks = list(vt.data.rechunk({1: -1}).to_delayed().ravel())
    else:
        blocks = [vt.values]
    task = dask.delayed(spike_times_from_arrays, pure=True)
    results = dask.compute(*[task(t, b, threshold) for b in blocks], scheduler=scheduler)
    index = pd.Index(vt[trials].values if trials in vt.coords else range(vt.shape[0]), name=trials)
    counts = np.concatenate([r[0] for r in results])
    times = np.concatenate([r[1] for r in results])
    return padded_frame(index, counts, times)


def spike_in_interval(st: pd.DataFrame | np.ndarray, tmin: float, tmax: float) -> np.ndarray:
    """For each trial (row of a spike-time table), whether it spikes in [tmin, tmax)."""
    st = np.asarray(st, dtype=np.float64)
    return np.asarray(((st >= tmin) & (st < tmax)).any(axis=1))
