"""Peri-stimulus time histograms and spike rasters of a campaign's spike times.

``psth`` bins the spike times of all trials (a spike-time table such as
``db['spike_times']``, pandas or dask, or a DataArray of spike times) and returns the
mean number of spikes per trial in each bin, or the rate in Hz, as a 1-D
``xarray.DataArray`` whose coordinate ``t`` is the start of each bin (spaced
``bin_size``, in the times' unit, ms for ISF). ``spike_raster`` lists each spike as a
(trial, time) pair, what a raster plot draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ._common import AnalyzeError, frame_times, is_dask_frame, is_data_array, kind_error
from .temporal_binning import universal as temporal_binning


def psth(
    spike_times: Any,
    bin_size: float = 1.0,
    min_time: float | None = None,
    max_time: float | None = None,
    rate: bool = False,
    *,
    client: Any = None,
) -> Any:
    """The PSTH of ``spike_times`` (one row per trial): per bin ``[t, t + bin_size)`` of
    ``numpy.arange(min_time, max_time + bin_size, bin_size)``, the spikes per trial,
    or with ``rate`` spikes per second for times in ms. A dask frame needs
    ``min_time`` and ``max_time``; a pandas one defaults to its first and last spike."""
    import xarray as xr

    kwargs: dict[str, Any] = {"bin_size": bin_size, "min_time": min_time, "max_time": max_time}
    if is_dask_frame(spike_times) or is_data_array(spike_times):
        kwargs["client"] = client
    elif not isinstance(spike_times, pd.DataFrame):
        raise kind_error(spike_times, "psth", "a pandas or dask DataFrame or a DataArray")
    edges, per_trial = temporal_binning(spike_times, normalize=True, **kwargs)
    values = per_trial / np.diff(edges) * 1000.0 if rate else per_trial
    return xr.DataArray(
        values,
        dims=("t",),
        coords={"t": edges[:-1]},
        name="rate" if rate else "spikes_per_trial",
        attrs={
            "bin_size": bin_size,
            "units": "Hz" if rate else "spikes per trial",
            "t": "start of each bin",
        },
    )


def spike_raster(spike_times: Any) -> pd.DataFrame:
    """Every spike of a spike-time table (pandas or dask) as a row ``(trial, t)``:
    ``trial`` is the row's position (0, 1, ...), ``sim_trial_index`` its index label."""
    if is_dask_frame(spike_times):
        spike_times = spike_times.compute()
    if not isinstance(spike_times, pd.DataFrame):
        raise kind_error(spike_times, "spike_raster", "a pandas or dask DataFrame")
    times = frame_times(spike_times)
    rows, cols = np.nonzero(~np.isnan(times))
    if times.shape[1] == 0 and len(spike_times.columns):
        raise AnalyzeError(
            "the table has no spike-time columns (labels that convert to int); "
            f"its columns are {list(spike_times.columns)[:20]}"
        )
    return pd.DataFrame(
        {
            "trial": rows,
            "sim_trial_index": np.asarray(spike_times.index)[rows],
            "t": times[rows, cols],
        }
    )
