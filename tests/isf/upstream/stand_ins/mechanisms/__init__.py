"""Stand-in for ISF's ``mechanisms`` package (compiled NEURON channel models)."""
