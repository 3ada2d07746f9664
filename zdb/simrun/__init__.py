"""ISF's raw simulation output ("simrun" format): one module per file format.

- :mod:`.voltage_traces`: ``*_vm_all_traces.csv`` and ``*_vm_dend_traces.csv``;
- :mod:`.activation`: ``simulation_runNNNN_synapses.csv`` and
  ``simulation_runNNNN_presynaptic_cells.csv``;
- :mod:`.parameter_files`: ``.param`` files (parsed safely, never executed);
- :mod:`.references`: which parameter fields reference which files, and moving them;
- :mod:`.layout`: file naming and the folders of a campaign;
- :mod:`.text`: the tab separated text and number formatting they share.

These modules read and write files and know no database; the importer
(:mod:`zdb.db_initializers.load_simrun_general`) builds on them.
"""
