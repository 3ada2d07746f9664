"""Plots of a campaign's analyses on matplotlib, an optional extra
(``pip install 'zdb[plot]'``; without it these raise
:class:`~zdb.analyze.MissingDependencyError`). Each function draws on ``ax`` (a new
figure's axes when None) and returns the axes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import is_dask_frame, require
from .psth import psth as make_psth
from .psth import spike_raster


def _axes(ax: Any) -> Any:
    if ax is not None:
        return ax
    plt = require("matplotlib.pyplot", "plot", "zdb.analyze.plot")
    return plt.subplots()[1]


def plot_psth(psth: Any, ax: Any = None, bin_size: float = 1.0, **kwargs: Any) -> Any:
    """Draw a PSTH as steps: ``psth`` is the DataArray of :func:`zdb.analyze.psth`, or
    a spike-time table binned with ``bin_size`` first. ``kwargs`` go to ``ax.step``."""
    require("matplotlib", "plot", "zdb.analyze.plot")
    if not hasattr(psth, "dims"):
        psth = make_psth(psth, bin_size=bin_size)
    ax = _axes(ax)
    t = np.asarray(psth["t"])
    width = float(psth.attrs.get("bin_size", bin_size))
    edges = np.append(t, t[-1] + width) if len(t) else t
    values = np.append(psth.values, psth.values[-1]) if len(t) else psth.values
    ax.step(edges, values, where="post", **kwargs)
    ax.set_xlabel("t (ms)")
    ax.set_ylabel(psth.attrs.get("units", ""))
    return ax


def plot_raster(spike_times: Any, ax: Any = None, **kwargs: Any) -> Any:
    """Draw a spike raster: one row per trial of a spike-time table, one tick per
    spike. ``kwargs`` go to ``ax.scatter`` (default: small black ticks)."""
    require("matplotlib", "plot", "zdb.analyze.plot")
    if is_dask_frame(spike_times):  # one row per trial: small
        spike_times = spike_times.compute()
    raster = spike_raster(spike_times)
    ax = _axes(ax)
    style = {"marker": "|", "s": 20, "color": "k", "linewidths": 0.8, **kwargs}
    ax.scatter(raster["t"], raster["trial"], **style)
    ax.set_xlabel("t (ms)")
    ax.set_ylabel("trial")
    ax.set_ylim(-0.5, max(len(spike_times), 1) - 0.5)
    return ax


def plot_vdensity(density: Any, ax: Any = None, **kwargs: Any) -> Any:
    """Draw a voltage density (the DataArray of
    :func:`~zdb.analyze.voltage_binning.calculate_vdensity_array` on a DataArray) as an
    image, voltage upwards. ``kwargs`` go to ``ax.pcolormesh``."""
    require("matplotlib", "plot", "zdb.analyze.plot")
    ax = _axes(ax)
    t_dim = density.dims[1]
    ax.pcolormesh(
        np.asarray(density[t_dim]),
        np.asarray(density["voltage"]),
        np.asarray(density),
        shading="nearest",
        **kwargs,
    )
    ax.set_xlabel(f"{t_dim} (ms)")
    ax.set_ylabel("membrane potential (mV)")
    return ax
