"""Analyses of imported simulation results (ISF's ``data_base.analyze``), on pandas,
dask and, where it makes sense, xarray inputs, with the same numbers for each.

- :mod:`temporal_binning` (``temporal_binning`` here, ISF's ``I.temporal_binning``),
  :mod:`spatiotemporal_binning`, :mod:`spatial_binning`: histograms of spike and
  activation times, by time, distance and time, or distance;
- :mod:`voltage_binning`: voltage densities of voltage traces;
- :func:`spike_detection`, :func:`spike_in_interval`: spike times from voltage traces;
- :func:`split_synapse_activation` with the cell-type lists :data:`excitatory`,
  :data:`inhibitory` (also ``EXCITATORY``, ``INHIBITORY``);
- :func:`psth`, :func:`spike_raster` and, on matplotlib, :mod:`zdb.analyze.plot`;
- :mod:`LDA` (on scikit-learn), :mod:`_add_nparray_aligned`, :mod:`_helper_functions`.

``docs/analyze.md`` lists every function with its differences to ISF.
"""

from __future__ import annotations

from . import (
    LDA,
    _add_nparray_aligned,
    _helper_functions,
    plot,
    spatial_binning,
    spatiotemporal_binning,
    temporal_binning,
    voltage_binning,
)
from ._common import AnalyzeError, MissingDependencyError
from .cell_types import (
    EXCITATORY,
    INHIBITORY,
    UnknownCellTypeError,
    excitatory,
    inhibitory,
    split_synapse_activation,
)
from .psth import psth, spike_raster
from .spike_detection import spike_detection, spike_in_interval, spike_times_from_arrays

__all__ = [
    "EXCITATORY",
    "INHIBITORY",
    "LDA",
    "AnalyzeError",
    "MissingDependencyError",
    "UnknownCellTypeError",
    "_add_nparray_aligned",
    "_helper_functions",
    "excitatory",
    "inhibitory",
    "plot",
    "psth",
    "spatial_binning",
    "spatiotemporal_binning",
    "spike_detection",
    "spike_in_interval",
    "spike_raster",
    "spike_times_from_arrays",
    "split_synapse_activation",
    "temporal_binning",
    "voltage_binning",
]
