"""The simrun importer by stage (the public face is
:mod:`zdb.db_initializers.load_simrun_general`):

- :mod:`.campaign`: scan a campaign for result folders, their files and trials;
- :mod:`.partitions`: split trials into partitions, merge them into stored tables,
  hold parsed partitions and store a table;
- :mod:`.voltage_traces`, :mod:`.activation`: the tables parsed from the CSV files;
- :mod:`.spike_times`: spike times of the voltage traces;
- :mod:`.parameter_files`: copies of the parameter files and the files they reference;
- :mod:`.progress`, :mod:`.reporting`: the progress bar; errors, warnings, logging;
- :mod:`.run`: :func:`~.run.init`, which runs the stages.
"""
