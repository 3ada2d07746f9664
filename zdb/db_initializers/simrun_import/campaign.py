"""The campaign an import reads: its result folders, their files and trials."""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ...exceptions import DataBaseException
from ...keys import normalize_key
from ...simrun import layout
from ...simrun.voltage_traces import read_voltage_trace_header
from .reporting import SimrunImportError

INDEX_NAME = "sim_trial_index"


@dataclass(frozen=True)
class ResultFolder:
    """One result folder of a campaign and the files it holds (names, not paths)."""

    path: str
    #: the folder relative to the campaign folder, with ``/``; ``""`` for the campaign
    #: folder itself
    rel: str
    trace_file: str
    #: trial numbers in the order of the voltage-trace header
    trials: tuple[int, ...]
    synapse_files: Mapping[int, str]
    cell_files: Mapping[int, str]
    #: dendritic voltage-trace files by recording-site label
    dendritic_files: Mapping[str, str]
    neuron_params: tuple[str, ...]
    network_params: tuple[str, ...]

    def file(self, name: str) -> str:
        return os.path.join(self.path, name)


@dataclass(frozen=True)
class Trial:
    """One trial: its sim_trial_index, its folder (position in the campaign's list) and
    its trial number."""

    index: str
    folder: int
    number: int


@dataclass(frozen=True)
class Campaign:
    """The complete result folders of a campaign and their trials, sorted by index."""

    path: str
    folders: tuple[ResultFolder, ...]
    trials: tuple[Trial, ...]

    def folder_of(self, trial: Trial) -> ResultFolder:
        return self.folders[trial.folder]

    @property
    def dendritic_labels(self) -> list[str]:
        return sorted({label for f in self.folders for label in f.dendritic_files})


def sim_trial_index(rel: str, number: int) -> str:
    """The sim_trial_index of trial ``number`` of the result folder ``rel``."""
    return f"{rel}/{number:06d}" if rel else f"{number:06d}"


def _scan_folder(folder: Path, root: Path, check_activation: bool) -> ResultFolder:
    """One result folder: its files, and its trials from the voltage-trace header."""
    files = layout.list_result_folder(folder)
    trials = tuple(read_voltage_trace_header(folder / files.trace_file).tolist())
    if check_activation:
        layout.check_trials(folder, trials, files)
    rel = folder.relative_to(root).as_posix()
    return ResultFolder(
        path=str(folder),
        rel="" if rel == "." else rel,
        trace_file=files.trace_file,
        trials=trials,
        synapse_files=files.trial_files["synapses"],
        cell_files=files.trial_files["presynaptic_cells"],
        dendritic_files=files.dendritic_files,
        neuron_params=files.neuron_params,
        network_params=files.network_params,
    )


def scan_campaign(simresult_path: str | os.PathLike, check_activation: bool = True) -> Campaign:
    """Find the result folders below ``simresult_path`` and their trials.

    With ``check_activation`` every folder must hold a synapse and a presynaptic cell
    activation file for exactly the trials its voltage-trace header names.
    """
    root = Path(simresult_path).absolute()
    paths = layout.find_result_folders(root)
    if not paths:
        raise SimrunImportError(
            f"{root} holds no result folder (a folder with a '*{layout.VM_ALL_TRACES_SUFFIX}' "
            "file, not ending in '_running'); check the path"
        )
    # reading folder listings and header lines is IO: threads overlap its latency
    with ThreadPoolExecutor(8) as pool:
        folders = list(pool.map(lambda p: _scan_folder(p, root, check_activation), paths))
    trials = [
        Trial(sim_trial_index(f.rel, n), i, n) for i, f in enumerate(folders) for n in f.trials
    ]
    trials.sort(key=lambda t: t.index)
    return Campaign(str(root), tuple(folders), tuple(trials))


def check_key_part(label: str, what: str) -> None:
    """Raise unless ``label`` (taken from file names, such as a recording-site label)
    can be a part of a database key; ``what`` names it in the message."""
    try:
        normalize_key(label)
    except DataBaseException as e:
        raise SimrunImportError(
            f"{what} {label!r} cannot be a key of the database ({e}); rename the files"
        ) from None
