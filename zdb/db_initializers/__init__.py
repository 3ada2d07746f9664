"""Building databases from raw simulation output (ISF's ``data_base.db_initializers``).

- :mod:`.load_simrun_general`: import a campaign of ISF simulations ("simrun" format:
  voltage traces, synapse and presynaptic cell activations, parameter files) into
  queryable tables, in parallel on dask.
- :mod:`.synapse_activation_binning`: per-trial histograms of synapse activations per
  group of synapses (excitatory/inhibitory, proximal/distal, cell type, ...).
- :mod:`.prepare_ANN_batches`: spike times, synapse activations and voltage traces
  binned into the arrays ISF's artificial neural network training reads.

The importer's stages are in :mod:`.simrun_import`; the raw file formats it reads, which
know no database, in :mod:`zdb.simrun`.
"""

from __future__ import annotations

from . import load_simrun_general, prepare_ANN_batches, synapse_activation_binning

__all__ = ["load_simrun_general", "prepare_ANN_batches", "synapse_activation_binning"]
