"""The file naming and folder layout of an ISF simulation campaign ("simrun").

A campaign folder holds result folders (any depth below it); one result folder holds,
for a uid such as ``20240`` or ``seed12_pid34``:

- ``<uid>_vm_all_traces.csv``: the somatic voltage traces, whose header names the
  trials (:mod:`zdb.simrun.voltage_traces`);
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
from pathlib import Path

from .activation import ActivationKind, check_kind
from .text import PathLike, SimrunFormatError
from .voltage_traces import read_voltage_trace_header

VM_ALL_TRACES_SUFFIX = "_vm_all_traces.csv"
VM_DEND_TRACES_SUFFIX = "_vm_dend_traces.csv"
RUNNING_SUFFIX = "_running"

_TRIAL_FILE = re.compile(r"simulation_run(\d+)_(synapses|presynaptic_cells)\.csv")


def trial_file(folder: PathLike, trial: int, kind: ActivationKind) -> Path:
    """The path of one trial's activation file: ``simulation_run{trial:04d}_{kind}.csv``."""
    check_kind(kind)
    return Path(folder) / f"simulation_run{int(trial):04d}_{kind}.csv"


def soma_trace_file(folder: PathLike) -> Path:
    """The one ``<uid>_vm_all_traces.csv`` file of a result folder."""
    folder = Path(folder)
    try:
        found = sorted(p for p in folder.iterdir() if p.name.endswith(VM_ALL_TRACES_SUFFIX))
    except FileNotFoundError:
        raise SimrunFormatError(f"result folder {folder} does not exist") from None
    if len(found) != 1:
        raise SimrunFormatError(
            f"result folder {folder} must hold exactly one '*{VM_ALL_TRACES_SUFFIX}' file, "
            f"found {len(found)}: {[p.name for p in found]}"
        )
    return found[0]


def result_folder_uid(folder: PathLike) -> str:
    """The uid prefixing a result folder's files (``20240``, ``seed12_pid34``), taken from
    its voltage-trace file name."""
    return soma_trace_file(folder).name[: -len(VM_ALL_TRACES_SUFFIX)]


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
    folder = Path(folder)
    uid = result_folder_uid(folder)
    found = {
        dendritic_site_label(p, uid): p
        for p in folder.iterdir()
        if p.name.startswith(f"{uid}_") and p.name.endswith(VM_DEND_TRACES_SUFFIX)
    }
    return dict(sorted(found.items()))


def find_trials(folder: PathLike) -> list[int]:
    """The trial numbers of a result folder, in the order of the voltage-trace header.

    The header's ``Vm run NN`` columns must name exactly the trials that have both a
    ``simulation_runNNNN_synapses.csv`` and a ``simulation_runNNNN_presynaptic_cells.csv``
    file; anything else means an incomplete or mixed-up folder and raises.
    """
    folder = Path(folder)
    header_trials = read_voltage_trace_header(soma_trace_file(folder)).tolist()
    by_kind: dict[str, set[int]] = {"synapses": set(), "presynaptic_cells": set()}
    for entry in os.scandir(folder):
        match = _TRIAL_FILE.fullmatch(entry.name)
        if match:
            by_kind[match.group(2)].add(int(match.group(1)))
    expected = set(header_trials)
    problems = []
    for kind, found in by_kind.items():
        if found - expected:
            problems.append(
                f"{kind} files of trials {sorted(found - expected)[:10]} not in the header"
            )
        if expected - found:
            problems.append(f"no {kind} file for trials {sorted(expected - found)[:10]}")
    if problems:
        raise SimrunFormatError(
            f"result folder {folder}: the voltage-trace header names {len(expected)} trials "
            f"but {'; '.join(problems)}. Complete or remove the folder (a simulation still "
            f"running writes to a folder ending in '{RUNNING_SUFFIX}')."
        )
    return header_trials


def find_result_folders(campaign: PathLike) -> list[Path]:
    """Every result folder (a folder holding a ``*_vm_all_traces.csv`` file) below a
    campaign folder, sorted, skipping folders whose name ends in ``_running`` and
    everything below them."""
    campaign = Path(campaign)
    if not campaign.is_dir():
        raise SimrunFormatError(f"campaign folder {campaign} does not exist")
    found = []
    for root, dirs, files in os.walk(campaign):
        dirs[:] = sorted(d for d in dirs if not d.endswith(RUNNING_SUFFIX))
        if any(f.endswith(VM_ALL_TRACES_SUFFIX) for f in files):
            found.append(Path(root))
    return sorted(found)
