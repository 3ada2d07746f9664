"""Readers and writers of the raw text files an ISF simulation campaign ("simrun") leaves.

The code lives in :mod:`zdb.simrun` (one module per file format); this module keeps the
names importable from here.
"""

from __future__ import annotations

from ..simrun.activation import (
    CELL_COLUMNS,
    CELL_HEADER,
    SYNAPSE_COLUMNS,
    SYNAPSE_HEADER,
    ActivationKind,
    ActivationTable,
    read_activation_table,
    read_cell_activation,
    read_synapse_activation,
    write_activation_table,
    write_cell_activation,
    write_synapse_activation,
)
from ..simrun.layout import (
    RUNNING_SUFFIX,
    VM_ALL_TRACES_SUFFIX,
    VM_DEND_TRACES_SUFFIX,
    dendritic_site_label,
    dendritic_trace_files,
    find_result_folders,
    find_trials,
    result_folder_uid,
    soma_trace_file,
    trial_file,
)
from ..simrun.text import PathLike, SimrunFormatError, format_floats
from ..simrun.voltage_traces import (
    VoltageTraceArrays,
    read_npz_voltage_trace_arrays,
    read_voltage_trace_arrays,
    read_voltage_trace_header,
    read_voltage_traces,
    write_npz_voltage_trace_arrays,
    write_voltage_trace_arrays,
    write_voltage_traces,
)

__all__ = [
    "read_npz_voltage_trace_arrays",
    "write_npz_voltage_trace_arrays",
    "CELL_COLUMNS",
    "CELL_HEADER",
    "RUNNING_SUFFIX",
    "SYNAPSE_COLUMNS",
    "SYNAPSE_HEADER",
    "VM_ALL_TRACES_SUFFIX",
    "VM_DEND_TRACES_SUFFIX",
    "ActivationKind",
    "ActivationTable",
    "PathLike",
    "SimrunFormatError",
    "VoltageTraceArrays",
    "dendritic_site_label",
    "dendritic_trace_files",
    "find_result_folders",
    "find_trials",
    "format_floats",
    "read_activation_table",
    "read_cell_activation",
    "read_synapse_activation",
    "read_voltage_trace_arrays",
    "read_voltage_trace_header",
    "read_voltage_traces",
    "result_folder_uid",
    "soma_trace_file",
    "trial_file",
    "write_activation_table",
    "write_cell_activation",
    "write_synapse_activation",
    "write_voltage_trace_arrays",
    "write_voltage_traces",
]
