"""Import the raw output of ISF simulation campaigns ("simrun" format) into a database.

:func:`init` scans a campaign folder for result folders (folders holding a
``*_vm_all_traces.csv`` or ``.npz`` file; folders whose name ends in ``_running`` are
skipped), parses their files in parallel on dask and writes these keys, with ISF's
names and meanings:

=============================  ========================================================
``simresult_path``             the absolute path of the campaign folder (str)
``filelist``                   the somatic voltage-trace files, relative to it (list)
``sim_trial_index``            every trial's index, sorted (pandas Index of str)
``metadata``                   per trial: ``sim_trial_index``, ``path`` (result folder
                               relative to ``simresult_path``), ``trialnr`` (the last
                               part of the index, 6 digits, str as in ISF),
                               ``voltage_traces_file_name``, ``synapses_file_name``,
                               ``cells_file_name`` (pandas DataFrame)
``voltage_traces``             somatic membrane potential: one row per trial, one
                               column per time step labelled by its float ``t``
                               (dask DataFrame; ``as_xarray=True``: a 2-D DataArray
                               with dims ``(sim_trial_index, t)``)
``synapse_activation``         one row per synapse and trial: ``synapse_type,
                               synapse_ID, soma_distance, section_ID, section_pt_ID,
                               dendrite_label`` and activation times in columns
                               ``'0'``, ``'1'``, ... padded with NaN (dask DataFrame)
``cell_activation``            the same for presynaptic cells: ``presynaptic_cell_type,
                               cell_ID``, then spike times ``'0'``, ``'1'``, ...
``spike_times``                per trial the somatic spike times (upward crossings of
                               0 mV) in integer columns ``0, 1, ...`` (pandas)
``dendritic_recordings``       sub-database: per recording site (label taken from the
                               ``*_vm_dend_traces.csv`` file names) a table like
                               ``voltage_traces``
``dendritic_spike_times``      sub-database: ``<site label>_<threshold>`` per site
``parameterfiles``             per trial the original paths and SHA-256 content hashes
                               of its neuron and network parameter files
``parameterfiles_cell_folder`` managed folder: neuron parameter files (named by the
                               SHA-256 hash of the original file)
``parameterfiles_network_folder``  managed folder: network parameter files (likewise)
``morphology``                 managed folder: the morphologies (``.hoc``/``.swc``)
                               they reference, under their original basenames
``recsites_folder``            managed folder: the recording-site files
``syn_folder``, ``con_folder`` managed folders: the synapse (``.syn``) and connection
                               (``.con``) files
=============================  ========================================================

The sim_trial_index of a trial is ``<result folder relative to simresult_path>/<trial
number, 6 digits>``; trial numbers come from the voltage-trace header (``Vm run 05``),
which must name exactly the trials of the ``simulation_runNNNN_*.csv`` files.

All tables are indexed by ``sim_trial_index``, sorted, with known divisions. Each
partition is parsed and written by one dask task, so no table is ever collected in one
process; the work runs on the active dask scheduler, or on ``client``.

Copies of parameter files have their references to other files rewritten to
``reldb://`` paths into the managed folders, so the database stays usable when moved;
copies of the referenced files keep their basenames (different files of one basename
are told apart by a content hash, see ``docs/import.md``).
:func:`load_param_files_from_db` reads a trial's parameter files back.

An incomplete result folder is skipped with a warning (``on_incomplete='skip'``) or
stops the import (``'raise'``). :func:`optimize` and :func:`reoptimize_db` rewrite
tables stored in another format natively; :func:`add_dendritic_voltage_traces` adds the
dendritic traces to an import made without them.

``init(..., incremental=True)`` adds the trials of new result folders to an existing
import, parsing only their files; see :func:`init`.

The importer lives in :mod:`zdb.db_initializers.simrun_import`, one module per stage
(``campaign``, ``partitions``, ``voltage_traces``, ``activation``, ``spike_times``,
``parameter_files``, ``run``), on the file formats of :mod:`zdb.simrun`; this module is
its public face, as in ISF.
"""

from __future__ import annotations

# this module used the readers of zdb.IO, which made them attributes of zdb.IO once it
# was imported; code written against that keeps working
from ..IO import parameter_files, simrun_files  # noqa: F401
from ..simrun.layout import NETWORK_PARAM_SUFFIX, NEURON_PARAM_SUFFIX
from .simrun_import.activation import (
    ACTIVATION_CHUNK_ROWS,
    ACTIVATION_PARTITION_BYTES,
    ActivationSource,
    ParsedActivation,
    activation_frame,
    activation_meta,
    parse_activation_partition,
)
from .simrun_import.campaign import (
    INDEX_NAME,
    Campaign,
    ResultFolder,
    Trial,
    scan_campaign,
    sim_trial_index,
)
from .simrun_import.optimize import optimize, reoptimize_db
from .simrun_import.parameter_files import (
    CELL_FOLDER,
    CON_FOLDER,
    MORPHOLOGY_FOLDER,
    NETWORK_FOLDER,
    PARAMETER_FOLDERS,
    RECSITES_FOLDER,
    SYN_FOLDER,
    ParameterTree,
    load_param_files_from_db,
)
from .simrun_import.partitions import (
    TARGET_PARTITIONS,
    TableParts,
    TableSource,
    build_table,
    hold,
)
from .simrun_import.reporting import SimrunImportError, SimrunImportWarning
from .simrun_import.run import CONCURRENT_TABLES, add_dendritic_voltage_traces, init
from .simrun_import.spike_times import add_dendritic_spike_times, parsed_spike_table
from .simrun_import.voltage_traces import (
    TIME_NAME,
    TRACE_PARTITION_BYTES,
    ParsedTraces,
    VoltageSource,
    parse_trace_partition,
    traces_frame,
)

__all__ = [
    "ACTIVATION_CHUNK_ROWS",
    "ACTIVATION_PARTITION_BYTES",
    "CELL_FOLDER",
    "CONCURRENT_TABLES",
    "CON_FOLDER",
    "MORPHOLOGY_FOLDER",
    "PARAMETER_FOLDERS",
    "RECSITES_FOLDER",
    "SYN_FOLDER",
    "ParameterTree",
    "add_dendritic_voltage_traces",
    "load_param_files_from_db",
    "optimize",
    "reoptimize_db",
    "INDEX_NAME",
    "NETWORK_FOLDER",
    "NETWORK_PARAM_SUFFIX",
    "NEURON_PARAM_SUFFIX",
    "TARGET_PARTITIONS",
    "TIME_NAME",
    "TRACE_PARTITION_BYTES",
    "ActivationSource",
    "Campaign",
    "ParsedActivation",
    "ParsedTraces",
    "ResultFolder",
    "SimrunImportError",
    "SimrunImportWarning",
    "TableParts",
    "TableSource",
    "Trial",
    "VoltageSource",
    "activation_frame",
    "activation_meta",
    "add_dendritic_spike_times",
    "build_table",
    "hold",
    "init",
    "parse_activation_partition",
    "parse_trace_partition",
    "parsed_spike_table",
    "scan_campaign",
    "sim_trial_index",
    "traces_frame",
]
