"""Analyses of imported simulation results (ISF's ``data_base.analyze``).

- :func:`spike_detection`: spike times from voltage-trace tables.
- :data:`excitatory`, :data:`inhibitory`: the presynaptic cell types of ISF's barrel
  cortex model by synaptic sign, the first part of a ``synapse_type`` such as
  ``L5tt_C2``.
"""

from __future__ import annotations

from .spike_detection import spike_detection, spike_in_interval, spike_times_from_arrays

#: presynaptic cell types that make excitatory synapses (ISF's ``barrel_cortex.excitatory``)
excitatory = [
    "L6cc",
    "L2",
    "VPM",
    "L4py",
    "L4ss",
    "L4sp",
    "L5st",
    "L6ct",
    "L34",
    "L6ccinv",
    "L5tt",
]
#: presynaptic cell types that make inhibitory synapses (ISF's ``barrel_cortex.inhibitory``)
inhibitory = [
    "SymLocal1",
    "SymLocal2",
    "SymLocal3",
    "SymLocal4",
    "SymLocal5",
    "SymLocal6",
    "L45Sym",
    "L1",
    "L45Peak",
    "L56Trans",
    "L23Trans",
]

__all__ = [
    "excitatory",
    "inhibitory",
    "spike_detection",
    "spike_in_interval",
    "spike_times_from_arrays",
]
