"""The campaign an import reads: its result folders, their files and trials."""

from __future__ import annotations

import os
import warnings
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ...exceptions import DataBaseException
from ...keys import normalize_key
from ...simrun import layout
from ...simrun.text import SimrunFormatError
from ...simrun.voltage_traces import read_voltage_trace_header
from .reporting import SimrunImportError, SimrunImportWarning

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


#: what :func:`scan_campaign` does with an incomplete result folder
ON_INCOMPLETE = ("skip", "raise")


def _check_param_files(folder: Path, files: layout.ResultFolderFiles) -> None:
    for names, suffix in (
        (files.neuron_params, layout.NEURON_PARAM_SUFFIX),
        (files.network_params, layout.NETWORK_PARAM_SUFFIX),
    ):
        if len(names) != 1:
            raise SimrunFormatError(
                f"result folder {folder} must hold exactly one '*{suffix}' file, found "
                f"{list(names)}; add or remove files, or import with parameterfiles=False"
            )


def _scan_folder(
    folder: Path, root: Path, check_activation: bool, check_params: bool
) -> ResultFolder:
    """One result folder: its files, and its trials from the voltage-trace header."""
    files = layout.list_result_folder(folder)
    trials = tuple(read_voltage_trace_header(folder / files.trace_file).tolist())
    if check_activation:
        layout.check_trials(folder, trials, files)
    if check_params:
        _check_param_files(folder, files)
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


def scan_campaign(
    simresult_path: str | os.PathLike,
    check_activation: bool = True,
    *,
    check_params: bool = False,
    on_incomplete: str = "raise",
) -> Campaign:
    """Find the result folders below ``simresult_path`` and their trials.

    With ``check_activation`` every folder must hold a synapse and a presynaptic cell
    activation file for exactly the trials its voltage-trace header names; with
    ``check_params`` one neuron and one network parameter file. A folder that does not
    (or whose voltage-trace header cannot be read) is incomplete: ``on_incomplete='raise'``
    raises its :class:`~zdb.simrun.text.SimrunFormatError`, ``'skip'`` leaves it out with
    a :class:`SimrunImportWarning` naming it and why.
    """
    if on_incomplete not in ON_INCOMPLETE:
        raise SimrunImportError(
            f"on_incomplete must be one of {ON_INCOMPLETE}, not {on_incomplete!r}"
        )
    root = Path(simresult_path).absolute()
    paths = layout.find_result_folders(root)
    if not paths:
        raise SimrunImportError(
            f"{root} holds no result folder (a folder with a '*{layout.VM_ALL_TRACES_SUFFIX}' "
            f"or '*{layout.VM_ALL_TRACES_NPZ_SUFFIX}' file, not ending in '_running'); check "
            "the path"
        )

    def scan(path: Path) -> ResultFolder | SimrunFormatError:
        try:
            return _scan_folder(path, root, check_activation, check_params)
        except SimrunFormatError as e:
            if on_incomplete == "raise":
                raise
            return e

    # reading folder listings and header lines is IO: threads overlap its latency
    with ThreadPoolExecutor(8) as pool:
        scanned = list(pool.map(scan, paths))
    folders = []
    for path, result in zip(paths, scanned, strict=True):
        if isinstance(result, ResultFolder):
            folders.append(result)
            continue
        warnings.warn(
            f"skipping the incomplete result folder {path}: {result} (on_incomplete='skip'; "
            "on_incomplete='raise' stops the import instead)",
            SimrunImportWarning,
            stacklevel=3,
        )
    if not folders:
        raise SimrunImportError(
            f"every result folder below {root} is incomplete ({len(paths)} skipped, see the "
            "warnings); complete them, or check the path"
        )
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
