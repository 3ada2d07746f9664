"""ISF's ``data_base.IO.roberts_formats``: the synapse and presynaptic cell activation
files of a simulation ("Robert's format") as pandas tables, and the summary tables of
ISF's single cell input mapper.

The files are parsed and written by :mod:`zdb.simrun.activation`, the reader and writer
the simrun importer uses; this module gives them ISF's names, signatures and table
shape: the fixed columns, activation-time columns ``'0'``, ``'1'``, ... padded with NaN
(at least one, as ISF's reader gave), and the trial in ``sim_trial_index``. Paths may be
``zdb://`` or ``reldb://`` paths (:func:`zdb.dbopen.resolve_db_path`).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import IO, Any

import numpy as np
import pandas as pd

from ..dbopen import dbopen, resolve_db_path
from ..exceptions import InvalidArgumentError
from ..simrun.activation import (
    FIXED_COLUMNS,
    ActivationKind,
    read_activation_table,
    write_synapse_activation,
)
from ..utils import convertible_to_int, first_line_to_key, split_file_to_buffers

__all__ = [
    "read_InputMapper_summary",
    "read_pandas_cell_activation_from_roberts_format",
    "read_pandas_synapse_activation_from_roberts_format",
    "synapse_activation_df_to_roberts_synapse_activation",
    "write_pandas_synapse_activation_to_roberts_format",
]

NO_TRIAL = "no_sim_trial_assigned"


def _read(
    path: Any, kind: ActivationKind, sim_trial_index: Any, max_commas: int | None, set_index: bool
) -> pd.DataFrame:
    """The activation files ``path`` (one, or a list with a list of trial indices) as
    one table, every file padded to the same number of time columns."""
    if isinstance(path, list | tuple):
        if not isinstance(sim_trial_index, list | tuple) or len(sim_trial_index) != len(path):
            raise InvalidArgumentError(
                f"for a list of {len(path)} files, pass sim_trial_index as a list of as many "
                "trial indices"
            )
        paths, trials = list(path), list(sim_trial_index)
    else:
        paths, trials = [path], [sim_trial_index]
    tables = [read_activation_table(resolve_db_path(p), kind) for p in paths]
    if max_commas is None:  # ISF counted the header's fields too: at least one column
        width = max([1] + [int(t.counts.max(initial=0)) for t in tables])
    else:  # ISF's count of delimiters in the longest line
        width = max_commas - len(FIXED_COLUMNS[kind])
    frames = []
    for table, trial in zip(tables, trials, strict=True):
        frame = table.to_frame(width)
        frame["sim_trial_index"] = trial
        frames.append(frame)
    out = pd.concat(frames)
    return out.set_index("sim_trial_index") if set_index else out


def read_pandas_synapse_activation_from_roberts_format(
    path: Any,
    sim_trial_index: Any = NO_TRIAL,
    max_commas: int | None = None,
    set_index: bool = True,
) -> pd.DataFrame:
    """A synapse activation file (``simulation_runNNNN_synapses.csv``) as ISF's table:
    ``synapse_type``, ``synapse_ID``, ``soma_distance``, ``section_ID``,
    ``section_pt_ID``, ``dendrite_label``, then the activation times in ``'0'``,
    ``'1'``, ..., indexed by ``sim_trial_index``. A list of paths with a list of trial
    indices gives one table of all."""
    return _read(path, "synapses", sim_trial_index, max_commas, set_index)


def read_pandas_cell_activation_from_roberts_format(
    path: Any,
    sim_trial_index: Any = NO_TRIAL,
    max_commas: int | None = None,
    set_index: bool = True,
) -> pd.DataFrame:
    """A presynaptic cell activation file (``simulation_runNNNN_presynaptic_cells.csv``)
    as ISF's table: ``presynaptic_cell_type``, ``cell_ID``, then the spike times in
    ``'0'``, ``'1'``, ..., as :func:`read_pandas_synapse_activation_from_roberts_format`."""
    return _read(path, "presynaptic_cells", sim_trial_index, max_commas, set_index)


def write_pandas_synapse_activation_to_roberts_format(
    path: str | os.PathLike, syn_activation: pd.DataFrame
) -> None:
    """Write a synapse activation table (as the reader gives it) as a synapse activation
    file, byte for byte as ISF's simulator writes them. A NaN before a time in a row
    raises (ISF's writer dropped the times after it)."""
    write_synapse_activation(resolve_db_path(path), syn_activation)


def synapse_activation_df_to_roberts_synapse_activation(
    sa: pd.DataFrame,
) -> dict[str, list[tuple[Any, Any, Any, list[float], Any]]]:
    """A synapse activation table as ISF's simulator takes it: for each synapse type,
    ``(synapse_ID, section_ID, section_pt_ID, [activation times], soma_distance)`` per
    row, in the table's order."""
    time_columns = [c for c in sa.columns if convertible_to_int(c)]
    times = sa[time_columns].to_numpy(dtype=np.float64)
    synapses: dict[str, list[tuple[Any, Any, Any, list[float], Any]]] = {}
    columns = ("synapse_type", "synapse_ID", "section_ID", "section_pt_ID")
    rows = zip(*(sa[c] for c in columns), strict=True)
    for i, (kind, synapse, section, point) in enumerate(rows):
        row = times[i]
        spikes = row[~np.isnan(row)].tolist()
        synapses.setdefault(kind, []).append(
            (synapse, section, point, spikes, sa["soma_distance"].iat[i])
        )
    return synapses


def read_InputMapper_summary(
    pathOrBuffer: str | os.PathLike | IO[str] | Sequence[str], sep: str = "\t"
) -> dict[str, pd.DataFrame]:
    """The tables of a summary file of ISF's single cell input mapper, by the title line
    (starting with ``#``) that opens each; a path or an open text file."""

    def tables(f: Any) -> dict[str, pd.DataFrame]:
        buffers = first_line_to_key(split_file_to_buffers(f))
        return {name: pd.read_csv(buffer, sep=sep) for name, buffer in buffers.items()}

    if isinstance(pathOrBuffer, str | os.PathLike):
        with dbopen(pathOrBuffer) as f:
            return tables(f)
    return tables(pathOrBuffer)
