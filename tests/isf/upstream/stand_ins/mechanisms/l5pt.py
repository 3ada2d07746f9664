"""Stand-in for ISF's ``mechanisms.l5pt``: importing it loads NEURON channel models into
NEURON, which ISF's ``tests/test_data_base/__init__.py`` does for ISF's other tests.
No data_base test uses NEURON, so the stand-in is empty."""
