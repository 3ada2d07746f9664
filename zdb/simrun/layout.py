"""The file naming and folder layout of an ISF simulation campaign ("simrun").

A campaign folder holds result folders (any depth below it); one result folder holds,
for a uid such as ``20240`` or ``seed12_pid34``:

- ``<uid>_vm_all_traces.csv``: the somatic voltage traces, whose header names the
  trials (:mod:`zdb.simrun.voltage_traces`), or ``<uid>_vm_all_traces.npz`` (trials
  numbered 0, 1, ...);
- ``<uid>_<site label>_vm_dend_traces.csv``: the traces of each dendritic recording site;
- ``simulation_runNNNN_synapses.csv`` and ``simulation_runNNNN_presynaptic_cells.csv``
  per trial (:mod:`zdb.simrun.activation`);
- ``<uid>_neuron_model.param`` and ``<uid>_network_model.param``
  (:mod:`zdb.simrun.parameter_files`).

A simulation still running writes to a folder ending in ``_running``; such folders and
everything below them are no result folders.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from .activation import FIXED_COLUMNS, ActivationKind, check_kind
from .text import PathLike, SimrunFormatError
from .voltage_traces import read_voltage_trace_header

VM_ALL_TRACES_SUFFIX = "_vm_all_traces.csv"
VM_ALL_TRACES_NPZ_SUFFIX = "_vm_all_traces.npz"
#: the somatic voltage-trace file of a result folder ends in one of these
TRACE_SUFFIXES = (VM_ALL_TRACES_SUFFIX, VM_ALL_TRACES_NPZ_SUFFIX)
VM_DEND_TRACES_SUFFIX = "_vm_dend_traces.csv"
RUNNING_SUFFIX = "_running"
NEURON_PARAM_SUFFIX = "_neuron_model.param"
NETWORK_PARAM_SUFFIX = "_network_model.param"

_TRIAL_FILE = re.compile(r"simulation_run(\d+)_(synapses|presynaptic_cells)\.csv")


def trial_file(folder: PathLike, trial: int, kind: ActivationKind) -> Path:
    """The path of one trial's activation file: ``simulation_run{trial:04d}_{kind}.csv``."""
    check_kind(kind)
    return Path(folder) / f"simulation_run{int(trial):04d}_{kind}.csv"


@dataclass(frozen=True)
class ResultFolderFiles:
    """The files of one result folder by role (names, not paths)."""

    #: the ``<uid>_vm_all_traces.csv`` (or ``.npz``) file
    trace_file: str
    #: the activation files by kind (``synapses``, ``presynaptic_cells``) and trial
    trial_files: Mapping[str, Mapping[int, str]]
    #: the dendritic voltage-trace files by recording-site label, sorted by label
    dendritic_files: Mapping[str, str]
    #: the ``*_neuron_model.param`` and ``*_network_model.param`` files, sorted
    neuron_params: tuple[str, ...]
    network_params: tuple[str, ...]

    @property
    def uid(self) -> str:
        """The uid prefixing the folder's files (``20240``, ``seed12_pid34``)."""
        return _trace_uid(self.trace_file)


def _trace_uid(trace_file: str) -> str:
    return trace_file[: -len(next(s for s in TRACE_SUFFIXES if trace_file.endswith(s)))]


def list_result_folder(folder: PathLike) -> ResultFolderFiles:
    """The files of a result folder by role, from one listing of the folder."""
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        raise SimrunFormatError(f"result folder {os.fspath(folder)} does not exist") from None
    traces = sorted(n for n in names if n.endswith(TRACE_SUFFIXES))
    if len(traces) != 1:
        raise SimrunFormatError(
            f"result folder {os.fspath(folder)} must hold exactly one "
            f"'*{VM_ALL_TRACES_SUFFIX}' or '*{VM_ALL_TRACES_NPZ_SUFFIX}' file, found "
            f"{len(traces)}: {traces}; remove the extra files or the folder"
        )
    uid = _trace_uid(traces[0])
    trial_files: dict[str, dict[int, str]] = {kind: {} for kind in FIXED_COLUMNS}
    dendritic: dict[str, str] = {}
    for name in names:
        match = _TRIAL_FILE.fullmatch(name)
        if match:
            trial_files[match.group(2)][int(match.group(1))] = name
        elif name.startswith(f"{uid}_") and name.endswith(VM_DEND_TRACES_SUFFIX):
            dendritic[dendritic_site_label(name, uid)] = name
    return ResultFolderFiles(
        trace_file=traces[0],
        trial_files=trial_files,
        dendritic_files=dict(sorted(dendritic.items())),
        neuron_params=tuple(sorted(n for n in names if n.endswith(NEURON_PARAM_SUFFIX))),
        network_params=tuple(sorted(n for n in names if n.endswith(NETWORK_PARAM_SUFFIX))),
    )


def check_trials(folder: PathLike, header_trials: Sequence[int], files: ResultFolderFiles) -> None:
    """Raise unless the trials of the voltage-trace header are exactly those with both a
    ``simulation_runNNNN_synapses.csv`` and a ``simulation_runNNNN_presynaptic_cells.csv``
    file: anything else means an incomplete or mixed-up folder."""
    expected = set(header_trials)
    problems = []
    for kind, by_trial in files.trial_files.items():
        found = set(by_trial)
        if found - expected:
            problems.append(
                f"{kind} files of trials {sorted(found - expected)[:10]} not in the header"
            )
        if expected - found:
            problems.append(f"no {kind} file for trials {sorted(expected - found)[:10]}")
    if problems:
        raise SimrunFormatError(
            f"result folder {os.fspath(folder)}: the voltage-trace header names "
            f"{len(expected)} trials but {'; '.join(problems)}. Complete or remove the folder "
            f"(a simulation still running writes to a folder ending in '{RUNNING_SUFFIX}')."
        )


def soma_trace_file(folder: PathLike) -> Path:
    """The one ``<uid>_vm_all_traces.csv`` (or ``.npz``) file of a result folder."""
    return Path(folder) / list_result_folder(folder).trace_file


def result_folder_uid(folder: PathLike) -> str:
    """The uid prefixing a result folder's files (``20240``, ``seed12_pid34``), taken from
    its voltage-trace file name."""
    return list_result_folder(folder).uid


def dendritic_site_label(path: PathLike, uid: str) -> str:
    """The recording-site label in a dendritic trace file name: the part between
    ``<uid>_`` and ``_vm_dend_traces.csv``."""
    name = Path(path).name
    prefix = f"{uid}_"
    if not (name.startswith(prefix) and name.endswith(VM_DEND_TRACES_SUFFIX)):
        raise SimrunFormatError(
            f"{os.fspath(path)} is not named '{prefix}<site label>{VM_DEND_TRACES_SUFFIX}'"
        )
    label = name[len(prefix) : -len(VM_DEND_TRACES_SUFFIX)]
    if not label:
        raise SimrunFormatError(f"{os.fspath(path)} names no recording site")
    return label


def dendritic_trace_files(folder: PathLike) -> dict[str, Path]:
    """The dendritic voltage-trace files of a result folder by recording-site label,
    sorted by label."""
    files = list_result_folder(folder).dendritic_files
    return {label: Path(folder) / name for label, name in files.items()}


def find_trials(folder: PathLike) -> list[int]:
    """The trial numbers of a result folder, in the order of the voltage-trace header.

    The header's ``Vm run NN`` columns must name exactly the trials that have both a
    ``simulation_runNNNN_synapses.csv`` and a ``simulation_runNNNN_presynaptic_cells.csv``
    file; anything else means an incomplete or mixed-up folder and raises.
    """
    files = list_result_folder(folder)
    header_trials = read_voltage_trace_header(Path(folder) / files.trace_file).tolist()
    check_trials(folder, header_trials, files)
    return header_trials


def find_result_folders(campaign: PathLike) -> list[Path]:
    """Every result folder (a folder holding a ``*_vm_all_traces.csv`` or ``.npz`` file) below a
    campaign folder, sorted, skipping folders whose name ends in ``_running`` and
    everything below them."""
    campaign = Path(campaign)
    if not campaign.is_dir():
        raise SimrunFormatError(f"campaign folder {campaign} does not exist")
    found = []
    for root, dirs, files in os.walk(campaign):
        dirs[:] = sorted(d for d in dirs if not d.endswith(RUNNING_SUFFIX))
        if any(f.endswith(TRACE_SUFFIXES) for f in files):
            found.append(Path(root))
    return sorted(found)
