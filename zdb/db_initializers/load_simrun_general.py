"""Import the raw output of ISF simulation campaigns ("simrun" format) into a database.

:func:`init` scans a campaign folder for result folders (folders holding a
``*_vm_all_traces.csv`` file; folders whose name ends in ``_running`` are skipped),
parses their files in parallel on dask and writes these keys, with ISF's names and
meanings:

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
                               hash of the original file) and the morphologies and
                               recording-site files they reference
``parameterfiles_network_folder``  managed folder: network parameter files and the
                               synapse (``.syn``) and connection (``.con``) files
=============================  ========================================================

The sim_trial_index of a trial is ``<result folder relative to simresult_path>/<trial
number, 6 digits>``; trial numbers come from the voltage-trace header (``Vm run 05``),
which must name exactly the trials of the ``simulation_runNNNN_*.csv`` files.

All tables are indexed by ``sim_trial_index``, sorted, with known divisions. Each
partition is parsed and written by one dask task, so no table is ever collected in one
process; the work runs on the active dask scheduler, or on ``client``.

Copies of parameter files have their references to other files rewritten to
``reldb://`` paths into the managed folders, so the database stays usable when moved;
copies of the referenced files are named by the SHA-256 hash of their content.

``init(..., incremental=True)`` adds the trials of new result folders to an existing
import, parsing only their files; see :func:`init`.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import os
import re
import secrets
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ..analyze.spike_detection import padded_frame, spike_detection, spike_times_from_arrays
from ..database import DataBase
from ..dbopen import create_reldb_path
from ..exceptions import DataBaseException
from ..IO import parameter_files as pf
from ..IO import simrun_files as sf
from ..keys import normalize_key

logger = logging.getLogger(__name__)

INDEX_NAME = "sim_trial_index"
#: name of the columns Index of voltage-trace tables (the time axis of their xarray view)
TIME_NAME = "t"
CELL_FOLDER = "parameterfiles_cell_folder"
NETWORK_FOLDER = "parameterfiles_network_folder"
NEURON_PARAM_SUFFIX = "_neuron_model.param"
NETWORK_PARAM_SUFFIX = "_network_model.param"

#: tables built at once (each in parallel): one's parsing overlaps another's writing
CONCURRENT_TABLES = 2
#: a table is split into about this many partitions, so that every worker has work ...
TARGET_PARTITIONS = 8
#: ... within these bounds: float64 bytes of a parsed voltage-trace partition, and of a
#: stored one (made of consecutive parsed ones)
TRACE_PARTITION_BYTES = 64 * 2**20
#: file bytes of a synapse or cell activation partition (about 50 bytes per row; reading
#: one trial reads one partition)
ACTIVATION_PARTITION_BYTES = 2 * 2**20
#: rows per Zarr chunk of activation tables: a partition read decodes little beyond itself
ACTIVATION_CHUNK_ROWS = 2**15

_TRIAL_FILE = re.compile(r"simulation_run(\d+)_(synapses|presynaptic_cells)\.csv")
_TIMES = "_activation_times"
_KINDS = {"synapses": sf.SYNAPSE_COLUMNS, "presynaptic_cells": sf.CELL_COLUMNS}
#: Arrow types of the fixed columns of activation files (those ``zdb.IO.simrun_files``
#: reads them as)
_FIXED_TYPES = {
    "synapse_type": pa.string(),
    "synapse_ID": pa.int64(),
    "soma_distance": pa.float64(),
    "section_ID": pa.int64(),
    "section_pt_ID": pa.int64(),
    "dendrite_label": pa.string(),
    "presynaptic_cell_type": pa.string(),
    "cell_ID": pa.int64(),
}
_TABLE_OF_KIND = {"synapses": "synapse_activation", "presynaptic_cells": "cell_activation"}


class SimrunImportError(DataBaseException):
    """A campaign cannot be imported as asked; the message names the file and the fix."""


class SimrunImportWarning(UserWarning):
    """Something in a campaign was imported as it is although it looks wrong."""


# ---------------------------------------------------------------------------------------
# the campaign: result folders and trials
# ---------------------------------------------------------------------------------------


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
    names = os.listdir(folder)
    traces = sorted(n for n in names if n.endswith(sf.VM_ALL_TRACES_SUFFIX))
    if len(traces) != 1:
        raise sf.SimrunFormatError(
            f"result folder {folder} must hold exactly one '*{sf.VM_ALL_TRACES_SUFFIX}' "
            f"file, found {traces}; remove the extra files or the folder"
        )
    trace_file = traces[0]
    uid = trace_file[: -len(sf.VM_ALL_TRACES_SUFFIX)]
    trials = tuple(sf.read_voltage_trace_header(folder / trace_file).tolist())
    files: dict[str, dict[int, str]] = {"synapses": {}, "presynaptic_cells": {}}
    dendritic: dict[str, str] = {}
    for name in names:
        match = _TRIAL_FILE.fullmatch(name)
        if match:
            files[match.group(2)][int(match.group(1))] = name
        elif name.startswith(f"{uid}_") and name.endswith(sf.VM_DEND_TRACES_SUFFIX):
            dendritic[sf.dendritic_site_label(name, uid)] = name
    if check_activation and any(set(found) != set(trials) for found in files.values()):
        sf.find_trials(folder)  # raises, naming what is missing or extra
    rel = folder.relative_to(root).as_posix()
    return ResultFolder(
        path=str(folder),
        rel="" if rel == "." else rel,
        trace_file=trace_file,
        trials=trials,
        synapse_files=files["synapses"],
        cell_files=files["presynaptic_cells"],
        dendritic_files=dict(sorted(dendritic.items())),
        neuron_params=tuple(sorted(n for n in names if n.endswith(NEURON_PARAM_SUFFIX))),
        network_params=tuple(sorted(n for n in names if n.endswith(NETWORK_PARAM_SUFFIX))),
    )


def scan_campaign(simresult_path: str | os.PathLike, check_activation: bool = True) -> Campaign:
    """Find the result folders below ``simresult_path`` and their trials.

    With ``check_activation`` every folder must hold a synapse and a presynaptic cell
    activation file for exactly the trials its voltage-trace header names.
    """
    root = Path(simresult_path).absolute()
    paths = sf.find_result_folders(root)
    if not paths:
        raise SimrunImportError(
            f"{root} holds no result folder (a folder with a '*{sf.VM_ALL_TRACES_SUFFIX}' "
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


# ---------------------------------------------------------------------------------------
# partitions
# ---------------------------------------------------------------------------------------


def _bounds(sizes: Sequence[float], breaks: Sequence[bool], cap: float) -> list[int]:
    """Start positions (and the end) of partitions of consecutive items: a partition
    ends once it holds about the size aimed at, but only where ``breaks`` allows."""
    total = float(sum(sizes))
    target = min(cap, max(total / TARGET_PARTITIONS, 1.0))
    bounds, acc = [0], 0.0
    for i, size in enumerate(sizes):
        if acc >= target and breaks[i] and i > bounds[-1]:
            bounds.append(i)
            acc = 0.0
        acc += size
    return [*bounds, len(sizes)]


# ---------------------------------------------------------------------------------------
# voltage traces
# ---------------------------------------------------------------------------------------


def _parse_trace_file(path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t, trial numbers, values as trials x samples) of a voltage-trace file.

    pyarrow's CSV reader is exact, strict about the number of fields and, unlike
    pandas', runs without holding the GIL, so dask's threads parse files in parallel;
    its own threads are not used, dask's tasks already occupy the cores.
    """
    trials = sf.read_voltage_trace_header(path)
    with open(path, "rb") as f:
        data = f.read()
    body = memoryview(data)[data.find(b"\n") + 1 :] if b"\n" in data else memoryview(b"")
    names = [f"c{i}" for i in range(len(trials) + 1)]
    if not bytes(body[:4096]).strip() and not bytes(body).strip():
        return np.zeros(0), trials, np.zeros((len(trials), 0))
    try:
        table = pcsv.read_csv(
            pa.py_buffer(body),
            read_options=pcsv.ReadOptions(column_names=names, use_threads=False),
            parse_options=pcsv.ParseOptions(delimiter="\t", quote_char=False),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.float64()), null_values=[]
            ),
        )
    except pa.ArrowInvalid as e:
        raise sf.SimrunFormatError(
            f"{path}: every row must hold {len(names)} tab separated numbers (t and one "
            f"value per trial in the header): {e}"
        ) from None
    values = np.empty((len(trials), table.num_rows))
    for i in range(len(trials)):
        values[i] = table.column(i + 1).to_numpy()
    return table.column(0).to_numpy(), trials, values


def _trace_frame(values: np.ndarray, index: Sequence[str], t: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        values,
        index=pd.Index(list(index), dtype="str", name=INDEX_NAME),
        columns=pd.Index(t, dtype=np.float64, name=TIME_NAME),
        copy=False,
    )


class ParsedTraces(NamedTuple):
    """A partition of a voltage-trace table as parsed: one row of ``values`` per trial
    of ``index``, sampled at ``t`` (as in ``path``, its first file). Held between tasks
    in this compact form: a DataFrame of thousands of columns costs dask much more to
    pass around (to size it, for one) than its data."""

    values: np.ndarray
    index: list[str]
    t: np.ndarray
    path: str


def _different_time_axes(path: str, t: np.ndarray, other: str, t_other: np.ndarray) -> str:
    def axis(x: np.ndarray) -> str:
        return f"{len(x)} samples from {x[0]}" if len(x) else "no samples"

    return (
        f"{path}: its time axis ({axis(t)}) differs from that of {other} ({axis(t_other)}); "
        "a table has one time axis: import campaigns with different time axes into "
        "separate databases"
    )


def parse_trace_partition(
    sources: Sequence[tuple[str, Sequence[int], Sequence[str]]],
) -> ParsedTraces:
    """One partition of a voltage-trace table: for each ``(file, trial numbers,
    sim_trial_indexes)`` the traces of those trials, one row each, in that order."""
    blocks = []
    labels: list[str] = []
    t = np.zeros(0)
    for i, (path, numbers, indexes) in enumerate(sources):
        file_t, trials, values = _parse_trace_file(path)
        if i == 0:
            t = file_t
        elif not np.array_equal(file_t, t):
            raise SimrunImportError(_different_time_axes(path, file_t, sources[0][0], t))
        position = {n: i for i, n in enumerate(trials.tolist())}
        rows = [position[n] for n in numbers]
        blocks.append(values if rows == list(range(len(trials))) else values[rows])
        labels.extend(indexes)
    values = blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
    return ParsedTraces(values, labels, t, sources[0][0])


def _time_axis(parsed: ParsedTraces) -> tuple[np.ndarray, str, int]:
    return parsed.t, parsed.path, len(parsed.index)


def traces_frame(*parsed: ParsedTraces) -> pd.DataFrame:
    """The voltage-trace table of parsed partitions (one after the other): float ``t``
    labels the columns."""
    if len(parsed) == 1:
        return _trace_frame(parsed[0].values, parsed[0].index, parsed[0].t)
    values = np.concatenate([p.values for p in parsed])
    return _trace_frame(values, [i for p in parsed for i in p.index], parsed[0].t)


def _parsed_spikes(parsed: ParsedTraces, threshold: float) -> tuple:
    counts, times = spike_times_from_arrays(parsed.t, parsed.values, threshold)
    return pd.Index(parsed.index, dtype="str", name=INDEX_NAME), counts, times


def _trace_sources(
    campaign: Campaign, trials: Sequence[Trial], file_of: Callable[[ResultFolder], str]
) -> list[tuple[str, list[int], list[str]]]:
    out: list[tuple[str, list[int], list[str]]] = []
    for trial in trials:
        path = campaign.folder_of(trial).file(file_of(campaign.folder_of(trial)))
        if not out or out[-1][0] != path:
            out.append((path, [], []))
        out[-1][1].append(trial.number)
        out[-1][2].append(trial.index)
    return out


# ---------------------------------------------------------------------------------------
# synapse and presynaptic cell activation
# ---------------------------------------------------------------------------------------


def _read_body(path: str, kind: str) -> bytes:
    """The rows of an activation file (after its checked header), ending in a newline."""
    columns = _KINDS[kind]
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise sf.SimrunFormatError(f"{path} does not exist") from None
    end = data.find(b"\n")
    header = data[: end if end >= 0 else len(data)].decode("utf-8", "replace").rstrip("\r")
    if not header.startswith("#") or len(header.split("\t")) != len(columns) + 1:
        sf.read_activation_table(path, kind)  # raises, naming the expected header
    body = data[end + 1 :] if end >= 0 else b""
    if body and not body.endswith(b"\n"):
        body += b"\n"
    return body


def _n_rows(body: bytes) -> int:
    """The rows pyarrow's CSV reader finds in a file body: its non-empty lines."""
    if not body.startswith((b"\n", b"\r\n")) and b"\n\n" not in body and b"\n\r\n" not in body:
        return body.count(b"\n")
    lines = body.replace(b"\r\n", b"\n").split(b"\n")
    return sum(1 for line in lines if line)


class ParsedActivation(NamedTuple):
    """A partition of an activation table as parsed, before padding: the fixed columns
    with the sim_trial_index, and every row's activation times in ragged form."""

    fixed: pd.DataFrame
    times: np.ndarray
    counts: np.ndarray

    @property
    def width(self) -> int:
        return int(self.counts.max(initial=0))


def _empty_fixed(kind: str) -> pa.Table:
    return pa.table({c: pa.array([], _FIXED_TYPES[c]) for c in _KINDS[kind]})


def _fixed_frame(table: pa.Table, labels: Sequence[str], rows: Sequence[int]) -> pd.DataFrame:
    # the index built in Arrow: a take of the labels, no Python str per row
    positions = np.repeat(np.arange(len(labels)), rows)
    index = pa.array(list(labels), pa.string()).take(pa.array(positions))
    frame = table.to_pandas()
    frame.index = pd.Index(pd.array(index, dtype="str"), name=INDEX_NAME)
    return frame


def parse_activation_partition(sources: Sequence[tuple[str, str]], kind: str) -> ParsedActivation:
    """Parse the synapse (``kind='synapses'``) or presynaptic cell
    (``'presynaptic_cells'``) activation files of one partition: ``(file,
    sim_trial_index)`` pairs, whose rows come out in that order.

    The files are parsed together in one call of pyarrow's CSV reader: reading many
    small files one by one costs more in per-call overhead than in parsing.
    """
    columns = _KINDS[kind]
    bodies = [_read_body(path, kind) for path, _ in sources]
    rows = [_n_rows(body) for body in bodies]
    labels = [label for _, label in sources]
    if not sum(rows):
        fixed = _fixed_frame(_empty_fixed(kind), labels, rows)
        return ParsedActivation(fixed, np.zeros(0), np.zeros(0, dtype=np.int64))
    types = {c: _FIXED_TYPES[c] for c in columns}
    try:
        table = pcsv.read_csv(
            pa.py_buffer(b"".join(bodies)),
            read_options=pcsv.ReadOptions(column_names=[*columns, _TIMES], use_threads=False),
            parse_options=pcsv.ParseOptions(delimiter="\t", quote_char=False),
            convert_options=pcsv.ConvertOptions(
                column_types={**types, _TIMES: pa.string()}, null_values=[]
            ),
        )
        tail = pc.utf8_rtrim(pc.utf8_trim_whitespace(table.column(_TIMES)), ",")
        tail = pc.if_else(pc.equal(tail, ""), pa.scalar(None, pa.string()), tail)
        lists = pc.split_pattern(tail, ",")
        times = pc.cast(pc.list_flatten(lists), pa.float64()).to_numpy(zero_copy_only=False)
        counts = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    except pa.ArrowInvalid:
        for path, _ in sources:  # find the file at fault; its reader names the line
            sf.read_activation_table(path, kind)
        raise
    if table.num_rows != sum(rows):
        raise SimrunImportError(
            f"the {kind} files {sources[0][0]} ... {sources[-1][0]} hold {table.num_rows} "
            f"rows, but counting lines gave {sum(rows)}; a file changed during the import"
        )
    fixed = _fixed_frame(table.drop_columns([_TIMES]), labels, rows)
    return ParsedActivation(fixed, times.astype(np.float64), counts.astype(np.int64))


def activation_frame(parsed: ParsedActivation, width: int) -> pd.DataFrame:
    """ISF's activation table of a parsed partition: the fixed columns, then the times in
    columns ``'0'``, ``'1'``, ... up to ``width``, padded with NaN."""
    counts, times = parsed.counts, parsed.times
    if parsed.width > width:
        raise SimrunImportError(f"a row holds {parsed.width} times, more than {width}")
    padded = np.full((len(counts), width), np.nan)
    if len(times):
        row_of = np.repeat(np.arange(len(counts)), counts)
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        padded[row_of, np.arange(len(times)) - starts] = times
    labels = [str(i) for i in range(width)]
    padded_frame = pd.DataFrame(padded, index=parsed.fixed.index, columns=labels, copy=False)
    return pd.concat([parsed.fixed, padded_frame], axis=1)


def activation_meta(kind: str, width: int) -> pd.DataFrame:
    """The empty frame a synapse (cell) activation table of ``width`` times looks like."""
    fixed = _fixed_frame(_empty_fixed(kind), [], [])
    return activation_frame(ParsedActivation(fixed, np.zeros(0), np.zeros(0, np.int64)), width)


def _activation_sources(
    campaign: Campaign, trials: Sequence[Trial], kind: str
) -> list[tuple[str, str]]:
    out = []
    for trial in trials:
        folder = campaign.folder_of(trial)
        files = folder.synapse_files if kind == "synapses" else folder.cell_files
        out.append((folder.file(files[trial.number]), trial.index))
    return out


# ---------------------------------------------------------------------------------------
# building a table: fresh, or merged into the one stored
# ---------------------------------------------------------------------------------------


class TableSource:
    """Where the rows of one table come from: the trials whose files are parsed, how they
    are split into partitions, how a partition is parsed (into a compact, picklable
    object) and how a parsed partition becomes a frame of the table."""

    def __init__(self, key: tuple[str, ...], trials: Sequence[Trial]) -> None:
        self.key = key
        self.trials = list(trials)
        self.meta: pd.DataFrame = pd.DataFrame()
        #: the rows of each parsed partition, known after :meth:`parsed`
        self.lengths: list[int] = []

    def plan(self, trials: Sequence[Trial]) -> list[Sequence[Trial]]:
        """Split sorted trials into partitions."""
        raise NotImplementedError

    def parse(self, part: Sequence[Trial]) -> Any:
        """The delayed parsed form of one partition."""
        raise NotImplementedError

    def group(self, parts: list[Sequence[Trial]]) -> list[list[Sequence[Trial]]]:
        """Consecutive parsed partitions that make one stored partition (the frame
        function takes them all)."""
        return [[p] for p in parts]

    def parsed(self, held: Sequence[Any]) -> None:
        """Called with every partition parsed (held by the scheduler), before
        :meth:`frame_function`; the width of activation tables is known only then."""

    def frame_function(self) -> Callable[..., pd.DataFrame]:
        """The (picklable) function making a frame of parsed partitions (a group)."""
        raise NotImplementedError

    def chunk_rows(self, merged: bool) -> int | None:
        """Rows per Zarr chunk to store the table with (None: the dumper chooses);
        ``merged``: the table holds stored partitions, whose lengths are unknown."""
        return None


class VoltageSource(TableSource):
    """Somatic (``label`` None) or dendritic voltage traces: one row per trial. The time
    axis is that of the parsed files (all the same; in an incremental import, that of
    the stored table, ``t``)."""

    def __init__(
        self,
        campaign: Campaign,
        key: tuple[str, ...],
        trials: Sequence[Trial],
        label: str | None,
        t: np.ndarray | None = None,
    ) -> None:
        self.campaign = campaign
        self.label = label
        chosen = [
            t for t in trials if label is None or label in campaign.folder_of(t).dendritic_files
        ]
        super().__init__(key, chosen)
        self.t = t
        self.stored_t = t

    def file_of(self, folder: ResultFolder) -> str:
        return folder.trace_file if self.label is None else folder.dendritic_files[self.label]

    def _weights(self, trials: Sequence[Trial]) -> list[float]:
        """Per trial its share of its file, about twice its values as float64."""
        weight: dict[int, float] = {}
        for trial in trials:
            if trial.folder not in weight:
                folder = self.campaign.folders[trial.folder]
                size = os.path.getsize(folder.file(self.file_of(folder)))
                weight[trial.folder] = size / max(1, len(folder.trials))
        return [weight[t.folder] for t in trials]

    def plan(self, trials: Sequence[Trial]) -> list[Sequence[Trial]]:
        # a partition holds whole runs of one folder's trials: a file is parsed only once
        breaks = [i == 0 or trials[i].folder != trials[i - 1].folder for i in range(len(trials))]
        b = _bounds(self._weights(trials), breaks, 2 * TRACE_PARTITION_BYTES)
        return [trials[b[i] : b[i + 1]] for i in range(len(b) - 1)]

    def group(self, parts: list[Sequence[Trial]]) -> list[list[Sequence[Trial]]]:
        # stored partitions are larger than parsed ones: few partitions read faster, and
        # dask's cost per partition of a frame of thousands of columns is high
        groups: list[list[Sequence[Trial]]] = []
        size = 0.0
        for part in parts:
            weight = sum(self._weights(part))
            if not groups or size + weight > 2 * TRACE_PARTITION_BYTES:
                groups.append([])
                size = 0.0
            groups[-1].append(part)
            size += weight
        return groups

    def parse(self, part: Sequence[Trial]) -> Any:
        import dask

        sources = _trace_sources(self.campaign, part, self.file_of)
        return dask.delayed(parse_trace_partition)(sources)

    def parsed(self, held: Sequence[Any]) -> None:
        import dask

        axes = dask.compute(*[dask.delayed(_time_axis)(h) for h in held])
        self.lengths = [n for _, _, n in axes]
        first_t, first_path, _ = axes[0]
        if self.stored_t is not None and not np.array_equal(first_t, self.stored_t):
            stored = f"the stored table {'/'.join(self.key)!r}"
            raise SimrunImportError(
                _different_time_axes(first_path, first_t, stored, self.stored_t)
            )
        for t, path, _ in axes[1:]:
            if not np.array_equal(t, first_t):
                raise SimrunImportError(_different_time_axes(path, t, first_path, first_t))
        self.t = first_t
        self.meta = _trace_frame(np.zeros((0, len(first_t))), [], first_t)

    def frame_function(self) -> Callable[..., pd.DataFrame]:
        return traces_frame


class ActivationSource(TableSource):
    """Synapse or presynaptic cell activation: one row per synapse (cell) and trial.

    The width of the table (the most times on a row) is known once every file is parsed:
    the parsed partitions are padded to it when made frames."""

    def __init__(
        self, campaign: Campaign, kind: str, trials: Sequence[Trial], min_width: int
    ) -> None:
        super().__init__((_TABLE_OF_KIND[kind],), trials)
        self.campaign = campaign
        self.kind = kind
        self.width = min_width
        self.meta = activation_meta(kind, min_width)

    def sources(self, trials: Sequence[Trial]) -> list[tuple[str, str]]:
        return _activation_sources(self.campaign, trials, self.kind)

    def plan(self, trials: Sequence[Trial]) -> list[Sequence[Trial]]:
        sizes = [os.path.getsize(p) for p, _ in self.sources(trials)]
        b = _bounds(sizes, [True] * len(trials), ACTIVATION_PARTITION_BYTES)
        return [trials[b[i] : b[i + 1]] for i in range(len(b) - 1)]

    def parse(self, part: Sequence[Trial]) -> Any:
        import dask

        return dask.delayed(parse_activation_partition)(self.sources(part), self.kind)

    def parsed(self, held: Sequence[Any]) -> None:
        import dask

        facts = dask.compute(*[dask.delayed(_shape)(h) for h in held])
        self.lengths = [n for n, _ in facts]
        self.width = max([self.width, *(w for _, w in facts)])
        self.meta = activation_meta(self.kind, self.width)

    def frame_function(self) -> Callable[..., pd.DataFrame]:
        return partial(activation_frame, width=self.width)

    def chunk_rows(self, merged: bool) -> int | None:
        # partitions of one length: chunks the dumper aligns to them; else small chunks,
        # so that reading a partition decodes little beyond it
        if not merged and len(set(self.lengths[:-1])) <= 1 and self.lengths[:1] != [0]:
            return None
        return ACTIVATION_CHUNK_ROWS


def _shape(parsed: ParsedActivation) -> tuple[int, int]:
    return len(parsed.counts), parsed.width


def _conform(frame: pd.DataFrame, meta: pd.DataFrame, drop: Sequence[str]) -> pd.DataFrame:
    """A partition of a stored table without the rows of ``drop`` and with the columns
    of ``meta`` (missing activation-time columns added as NaN)."""
    if len(drop):
        frame = frame[~frame.index.isin(list(drop))]
    if not frame.columns.equals(meta.columns):
        frame = frame.reindex(columns=meta.columns)
    frame = frame.astype(meta.dtypes.to_dict())
    if frame.index.dtype != meta.index.dtype:
        # dask may read a str index back as its own string dtype
        frame.index = frame.index.astype(meta.index.dtype)
    return frame


def _merge(
    old: pd.DataFrame, make: Callable[..., pd.DataFrame], meta: pd.DataFrame, *parsed: Any
) -> pd.DataFrame:
    new = make(*parsed)
    old = _conform(old, meta, new.index.unique())
    # a stable sort keeps the rows of each trial in file order
    return pd.concat([old, new]).sort_index(kind="stable")


@dataclass
class TableParts:
    """The partitions of a table to write: each made of new partitions of trials to
    parse, of a partition of the stored table (delayed), or of both (merged)."""

    source: TableSource
    #: per partition: (partitions of trials to parse, stored partition or None)
    parts: list[tuple[list[Sequence[Trial]], Any]]
    divisions: tuple[str, ...]

    def new(self) -> list[Sequence[Trial]]:
        return [trials for group, _ in self.parts for trials in group]


def build_table(source: TableSource, old: Any = None) -> TableParts:
    """The partitions of ``source``'s trials, or, with ``old`` (the stored table as a
    dask DataFrame with known divisions), of the stored rows plus those trials.

    A new trial that falls into the range of a stored partition is merged into it (the
    rows stored for it before are replaced); the others make new partitions. Only the
    new trials' files are parsed.
    """

    def fresh(trials: list[Trial]) -> list[tuple[list[Sequence[Trial]], Any]]:
        return [(group, None) for group in source.group(source.plan(trials))] if trials else []

    if old is None or old.npartitions == 0 or not old.known_divisions:
        parts = fresh(source.trials)
        last = parts[-1][0][-1][-1].index
        return TableParts(source, parts, (*(g[0][0].index for g, _ in parts), last))
    divisions = list(old.divisions)
    n_old = old.npartitions
    before: list[Trial] = []
    after: list[Trial] = []
    inside: dict[int, list[Trial]] = {}
    for trial in source.trials:
        if trial.index < divisions[0]:
            before.append(trial)
        elif trial.index > divisions[-1]:
            after.append(trial)
        else:
            i = min(bisect.bisect_right(divisions, trial.index) - 1, n_old - 1)
            inside.setdefault(i, []).append(trial)
    head, tail = fresh(before), fresh(after)
    old_parts = old.to_delayed()
    middle = [([inside[i]] if i in inside else [], old_parts[i]) for i in range(n_old)]
    firsts = [g[0][0].index for g, _ in head] + divisions[:-1] + [g[0][0].index for g, _ in tail]
    last = divisions[-1]
    if inside.get(n_old - 1):
        last = max(last, inside[n_old - 1][-1].index)
    if tail:
        last = tail[-1][0][-1][-1].index
    return TableParts(source, [*head, *middle, *tail], (*firsts, last))


def _on_cluster() -> bool:
    """True when dask computes on a ``distributed`` cluster (a client is the scheduler)."""
    from dask.base import get_scheduler

    owner = getattr(get_scheduler(), "__self__", None)
    return type(owner).__name__ == "Client"


def hold(parts: Sequence[Any]) -> list[Any]:
    """Compute delayed objects and keep their values where they are: on a cluster as
    futures on the workers (``persist``); with a local scheduler in this process, as
    delayed leaves named without hashing their content (dask would hash every value of
    a persisted graph when it is used again)."""
    import dask

    if _on_cluster():
        return list(dask.persist(*parts))
    token = secrets.token_hex(8)
    values = dask.compute(*parts)
    return [dask.delayed(v, name=f"zdb-held-{token}-{i}") for i, v in enumerate(values)]


def _store_table(db: DataBase, table: TableParts, merged: bool) -> list[Any]:
    """Parse the new partitions of ``table`` (held, see :func:`hold`: each file is parsed
    once), store the table and return the held parsed partitions.

    The partition lengths of a table made of new partitions alone are known from the
    parsed ones, which saves ``dask_to_zarr`` its first pass (making every frame to
    learn its length); partitions merged with stored ones are made twice.
    """
    import dask
    import dask.dataframe as dd

    source = table.source
    held = hold([source.parse(trials) for trials in table.new()])
    source.parsed(held)
    make = source.frame_function()
    frames = []
    parsed = iter(held)
    for group, stored in table.parts:
        mine = [next(parsed) for _ in group]
        if stored is None:
            frames.append(dask.delayed(make)(*mine))
        elif not mine:
            frames.append(dask.delayed(_conform)(stored, source.meta, []))
        else:
            frames.append(dask.delayed(_merge)(stored, make, source.meta, *mine))
    lengths = None
    if all(stored is None for _, stored in table.parts):
        sizes = iter(source.lengths)
        lengths = [sum(next(sizes) for _ in group) for group, _ in table.parts]
    ddf = dd.from_delayed(frames, meta=source.meta, divisions=table.divisions, verify_meta=False)
    db.set(
        source.key,
        ddf,
        dumper="dask_to_zarr",
        chunk_rows=source.chunk_rows(merged),
        lengths=lengths,
    )
    return held


def _stored_table(db: DataBase, key: tuple[str, ...]) -> Any:
    """The stored table at ``key`` as a dask DataFrame, or None when there is none."""
    if key not in db:
        return None
    return db.get(key, lazy=True)


# ---------------------------------------------------------------------------------------
# spike times
# ---------------------------------------------------------------------------------------


def _spike_frame(results: Sequence[tuple[pd.Index, np.ndarray, np.ndarray]]) -> pd.DataFrame:
    if not results:
        return padded_frame(pd.Index([], dtype="str", name=INDEX_NAME), np.zeros(0, int), [])
    index = results[0][0].append([r[0] for r in results[1:]])
    counts = np.concatenate([r[1] for r in results])
    times = np.concatenate([r[2] for r in results])
    return padded_frame(index, counts, times)


def parsed_spike_table(held: Sequence[Any], threshold: float) -> pd.DataFrame:
    """Spike times of held parsed voltage-trace partitions (see :func:`hold`)."""
    import dask

    parts = [dask.delayed(_parsed_spikes)(h, threshold) for h in held]
    return _spike_frame(dask.compute(*parts))


def _store_spike_times(
    db: DataBase, table: pd.DataFrame, target: tuple[str, ...], merge: bool
) -> None:
    """Store spike times at ``target``; with ``merge``, the rows of ``table`` replace or
    join those stored there."""
    old = db[target] if merge and target in db else None
    if old is not None:
        table = pd.concat([old[~old.index.isin(table.index)], table]).sort_index(kind="stable")
        table = table.reindex(columns=pd.RangeIndex(max(old.shape[1], table.shape[1])))
        table = table.astype(np.float64)
    db.set(target, table, dumper="pandas_to_zarr")


# ---------------------------------------------------------------------------------------
# parameter files
# ---------------------------------------------------------------------------------------


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            h.update(block)
    return h.hexdigest()


def _one_param_file(folder: ResultFolder, names: tuple[str, ...], suffix: str) -> str:
    if len(names) != 1:
        raise SimrunImportError(
            f"result folder {folder.path} must hold exactly one '*{suffix}' file, found "
            f"{list(names)}; add or remove files, or import with parameterfiles=False"
        )
    return folder.file(names[0])


#: where neuron and network parameter files reference other files: a path of keys
#: (``None`` stands for every entry of a dict or list), and the kind of file
_REFERENCES = {
    "neuron": [(("neuron", "filename"), "hoc"), (("sim", "recordingSites", None), "landmark")],
    "network": [
        (("network", None, "synapses", "distributionFile"), "syn"),
        (("network", None, "synapses", "connectionFile"), "con"),
    ],
}
_FOLDER_OF_KIND = {
    "hoc": CELL_FOLDER,
    "landmark": CELL_FOLDER,
    "neuron": CELL_FOLDER,
    "syn": NETWORK_FOLDER,
    "con": NETWORK_FOLDER,
    "network": NETWORK_FOLDER,
}


def _locations(value: Any, pattern: tuple[Any, ...], at: tuple[Any, ...] = ()) -> Iterator:
    """The locations in a parameter structure matching ``pattern`` that hold a str."""
    if not pattern:
        if isinstance(value, str):
            yield at
        return
    head, rest = pattern[0], pattern[1:]
    if head is None:
        items = value.items() if isinstance(value, dict) else enumerate(value)
        if isinstance(value, dict | list | tuple):
            for k, item in items:
                yield from _locations(item, rest, (*at, k))
    elif isinstance(value, dict) and head in value:
        yield from _locations(value[head], rest, (*at, head))


def _get(value: Any, location: tuple[Any, ...]) -> Any:
    for part in location:
        value = value[part]
    return value


def _put(value: Any, location: tuple[Any, ...], new: Any) -> None:
    for part in location[:-1]:
        value = value[part]
    value[location[-1]] = new


@dataclass
class _ParamFile:
    kind: str  # "neuron" or "network"
    path: str
    digest: str
    params: dict[str, Any]
    #: (location, kind of the referenced file, its resolved path)
    refs: list[tuple[tuple[Any, ...], str, str]]


def _resolve(reference: str, referring: str) -> str:
    path = os.path.expanduser(reference)
    if not os.path.isabs(path):
        path = os.path.join(os.path.dirname(referring), path)
    return os.path.normpath(path)


def _read_param(kind: str, path: str, digest: str, path_map: Mapping[str, str]) -> _ParamFile:
    params = pf.read_param_file(path)
    if path_map:
        params = pf.rewrite_path_prefixes(params, path_map)
    refs = []
    for pattern, ref_kind in _REFERENCES[kind]:
        for location in _locations(params, pattern):
            refs.append((location, ref_kind, _resolve(_get(params, location), path)))
    return _ParamFile(kind, path, digest, params, refs)


def _replace_reference(
    text: str, line_no: int, suffix: str, here: str, targets: Mapping[str, str], what: str
) -> str:
    """Rewrite the file name ending in ``suffix`` on comment line ``line_no`` of a
    ``.syn``/``.con`` file to the reldb path of its copy; keep the line, with a warning,
    when that name is not one of the copied files."""
    lines = text.splitlines(keepends=True)
    if len(lines) <= line_no or not lines[line_no].startswith("#"):
        return text
    match = re.search(rf"[^\s#]+{re.escape(suffix)}(?=\s|$)", lines[line_no])
    if match is None:
        return text
    named = match.group(0)
    target = targets.get(_resolve(named, here))
    if target is None:
        warnings.warn(
            f"{here}: line {line_no + 1} names {named!r}, which is none of the {suffix} "
            f"files the parameter files reference ({sorted(targets) or 'none'}); the line is "
            "kept unchanged in the copy",
            SimrunImportWarning,
            stacklevel=2,
        )
        return text
    line = lines[line_no]
    lines[line_no] = line[: match.start()] + target + line[match.end() :]
    logger.debug("%s: %s %s -> %s", here, what, named, target)
    return "".join(lines)


def _write_file(folder: str, name: str, data: bytes, overwrite: bool) -> None:
    """Write a file of a managed folder atomically (other readers may use the folder)."""
    path = os.path.join(folder, name)
    if not overwrite and os.path.exists(path):
        return
    tmp = f"{path}.{secrets.token_hex(6)}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _managed_folder(db: DataBase, key: str) -> str:
    if key in db:
        return str(db[key])
    return str(db.create_managed_folder(key))


def _import_parameterfiles(
    db: DataBase,
    campaign: Campaign,
    trials: Sequence[Trial],
    path_map: Mapping[str, str],
    old: pd.DataFrame | None,
    prune: bool,
) -> None:
    """Hash, copy and rewrite the parameter files of ``trials`` and the files they
    reference; store the ``parameterfiles`` table (merged into ``old``)."""
    per_folder: dict[int, tuple[str, str]] = {}
    for trial in trials:
        if trial.folder not in per_folder:
            folder = campaign.folders[trial.folder]
            per_folder[trial.folder] = (
                _one_param_file(folder, folder.neuron_params, NEURON_PARAM_SUFFIX),
                _one_param_file(folder, folder.network_params, NETWORK_PARAM_SUFFIX),
            )
    paths = sorted({p for pair in per_folder.values() for p in pair})
    with ThreadPoolExecutor(8) as pool:
        digests = dict(zip(paths, pool.map(_sha256, paths), strict=True))
    table = pd.DataFrame(
        {
            "path_neuron": [per_folder[t.folder][0] for t in trials],
            "path_network": [per_folder[t.folder][1] for t in trials],
            "hash_neuron": [digests[per_folder[t.folder][0]] for t in trials],
            "hash_network": [digests[per_folder[t.folder][1]] for t in trials],
        },
        index=pd.Index([t.index for t in trials], dtype="str", name=INDEX_NAME),
    ).astype("str")
    unique: dict[str, tuple[str, str]] = {}
    for neuron, network in per_folder.values():
        unique.setdefault(digests[neuron], ("neuron", neuron))
        unique.setdefault(digests[network], ("network", network))
    params = [_read_param(kind, p, d, path_map) for d, (kind, p) in unique.items()]
    missing = sorted(
        {(path, p.path) for p in params for _, _, path in p.refs if not os.path.isfile(path)}
    )
    if missing:
        listed = "; ".join(f"{m} (referenced by {by})" for m, by in missing[:5])
        raise SimrunImportError(
            f"{len(missing)} file(s) referenced by parameter files cannot be found: {listed}"
            f"{' ...' if len(missing) > 5 else ''}. Give path_map={{old prefix: new "
            "prefix}} to say where they are now, or import with parameterfiles=False"
        )
    folders = {k: _managed_folder(db, k) for k in (CELL_FOLDER, NETWORK_FOLDER)}
    prefixes = {k: create_reldb_path(os.path.join(f, "_"))[:-1] for k, f in folders.items()}
    written: dict[str, set[str]] = {k: set() for k in folders}
    copies: dict[str, dict[str, str]] = {}  # kind -> resolved original -> reldb path

    def copy(kind: str, path: str, data: bytes) -> None:
        key = _FOLDER_OF_KIND[kind]
        name = hashlib.sha256(data).hexdigest() + (Path(path).suffix or f".{kind}")
        _write_file(folders[key], name, data, overwrite=False)
        written[key].add(name)
        copies.setdefault(kind, {})[path] = prefixes[key] + name

    referenced: dict[str, set[str]] = {}
    for p in params:
        for _, kind, path in p.refs:
            referenced.setdefault(kind, set()).add(path)
    for kind in ("hoc", "landmark"):
        for path in sorted(referenced.get(kind, ())):
            copy(kind, path, Path(path).read_bytes())
    for path in sorted(referenced.get("syn", ())):
        text = Path(path).read_text(encoding="utf-8")
        text = _replace_reference(text, 1, ".hoc", path, copies.get("hoc", {}), "morphology")
        copy("syn", path, text.encode("utf-8"))
    for path in sorted(referenced.get("con", ())):
        text = Path(path).read_text(encoding="utf-8")
        text = _replace_reference(text, 1, ".syn", path, copies.get("syn", {}), "synapses")
        copy("con", path, text.encode("utf-8"))
    for p in params:
        for location, kind, path in p.refs:
            _put(p.params, location, copies[kind][path])
        key = _FOLDER_OF_KIND[p.kind]
        # named by the hash of the original file, as ISF does; rewritten every time, since
        # the copy depends on path_map
        _write_file(folders[key], p.digest, pf.format_params(p.params).encode(), overwrite=True)
        written[key].add(p.digest)
    if old is not None:
        table = pd.concat([old[~old.index.isin(table.index)], table]).sort_index(kind="stable")
    db.set("parameterfiles", table, dumper="pandas_to_zarr")
    if prune:
        for key, folder in folders.items():
            for name in os.listdir(folder):
                if name not in written[key]:
                    os.remove(os.path.join(folder, name))


# ---------------------------------------------------------------------------------------
# progress
# ---------------------------------------------------------------------------------------


@contextmanager
def _progress(enabled: bool, distributed: bool) -> Iterator[Callable[[str], None]]:
    """A tqdm progress bar: dask tasks done (local schedulers), or import steps done (on
    a distributed cluster, whose tasks local callbacks do not see). Yields a function
    that names the current step."""
    from tqdm.auto import tqdm

    bar = tqdm(total=0, unit="step" if distributed else "task", disable=not enabled, desc="import")

    def step(name: str) -> None:
        logger.info("simrun import: %s", name)
        bar.set_description(f"import: {name}")
        if distributed:
            bar.total += 1
            bar.update(1)

    if distributed or not enabled:
        try:
            yield step
        finally:
            bar.close()
        return
    from dask.callbacks import Callback

    class _TaskCounter(Callback):
        def _start_state(self, dsk: Any, state: dict) -> None:
            bar.total += sum(len(state[k]) for k in ("ready", "waiting", "running"))
            bar.refresh()

        def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
            bar.update(1)

    try:
        with _TaskCounter():
            yield step
    finally:
        bar.close()


# ---------------------------------------------------------------------------------------
# the import
# ---------------------------------------------------------------------------------------


def _check_key_part(label: str, what: str) -> None:
    try:
        normalize_key(label)
    except DataBaseException as e:
        raise SimrunImportError(
            f"{what} {label!r} cannot be a key of the database ({e}); rename the files"
        ) from None


def _metadata(campaign: Campaign, trials: Sequence[Trial]) -> pd.DataFrame:
    def name(files: Mapping[int, str], trial: Trial) -> Any:
        return files.get(trial.number, np.nan)

    folders = [campaign.folder_of(t) for t in trials]
    return pd.DataFrame(
        {
            "sim_trial_index": pd.array([t.index for t in trials], dtype="str"),
            "path": pd.array([f.rel for f in folders], dtype="str"),
            "trialnr": pd.array([f"{t.number:06d}" for t in trials], dtype="str"),
            "voltage_traces_file_name": pd.array([f.trace_file for f in folders], dtype="str"),
            "synapses_file_name": pd.array(
                [name(f.synapse_files, t) for f, t in zip(folders, trials, strict=True)],
                dtype="str",
            ),
            "cells_file_name": pd.array(
                [name(f.cell_files, t) for f, t in zip(folders, trials, strict=True)],
                dtype="str",
            ),
        }
    )


def _previous_import(db: DataBase, simresult_path: str) -> pd.DataFrame:
    """The metadata of the import an incremental import adds to."""
    if "metadata" not in db or "simresult_path" not in db:
        raise SimrunImportError(
            f"the database {db.basedir} holds no complete import (keys 'metadata' and "
            "'simresult_path'); run init without incremental=True first"
        )
    previous = db["simresult_path"]
    if os.path.abspath(previous) != simresult_path:
        raise SimrunImportError(
            f"the database {db.basedir} holds an import of {previous}, not of "
            f"{simresult_path}; an incremental import adds result folders of the same "
            "campaign folder: import other campaigns into another database"
        )
    return db["metadata"]


#: ISF's keywords of ``init`` that zdb takes for compatibility and ignores
_ISF_IGNORED = ("repartition", "n_chunks", "dumper")


def _columns(table: Any) -> np.ndarray | None:
    """The time axis of a stored voltage-trace table (None for no table)."""
    return None if table is None else np.asarray(table.columns, dtype=np.float64)


class _Import:
    """One run of :func:`init`: the campaign, what was imported before, and the steps."""

    def __init__(
        self,
        db: DataBase,
        campaign: Campaign,
        old_meta: pd.DataFrame | None,
        step: Callable[[str], None],
    ) -> None:
        self.db = db
        self.campaign = campaign
        self.old_meta = old_meta
        self.incremental = old_meta is not None
        self.step = step
        known = set() if old_meta is None else set(old_meta["sim_trial_index"].tolist())
        self.new_trials = [t for t in campaign.trials if t.index not in known]
        #: trials to add to stored tables (None: tables are built from all trials)
        self.new = {t.index for t in self.new_trials} if self.incremental else None

    def _old(self, key: tuple[str, ...]) -> Any:
        """The stored table an incremental import merges into (None: build it anew)."""
        return _stored_table(self.db, key) if self.incremental else None

    def _trials(self, old: Any) -> list[Trial]:
        return list(self.campaign.trials) if old is None else self.new_trials

    def table(self, source: TableSource, old: Any) -> list[Any] | None:
        """Build and store one table; return its held parsed new partitions (None when
        nothing changes)."""
        if not source.trials:
            return None
        self.step("/".join(source.key))
        return _store_table(self.db, build_table(source, old), merged=old is not None)

    def spikes(
        self,
        held: list[Any] | None,
        key: tuple[str, ...],
        target: tuple[str, ...],
        threshold: float,
    ) -> None:
        """Spike times of the traces at ``key``: of the partitions this run parsed
        (``held``), merged into those stored at ``target`` when the traces were merged
        into stored ones; else of the stored traces."""
        if held is None and self.incremental and target in self.db:
            return  # neither the traces nor the spike times change
        self.step("/".join(target))
        merge = self.incremental and target in self.db
        if held is not None and (merge or not self.incremental):
            table = parsed_spike_table(held, threshold)
        else:
            vt = _stored_table(self.db, key)
            if vt is None:
                raise SimrunImportError(
                    f"spike times need the voltage traces at key {key!r}, which the "
                    f"database {self.db.basedir} does not hold; import them first"
                )
            table, merge = spike_detection(vt, threshold=threshold), False
        _store_spike_times(self.db, table, target, merge)

    def voltage_traces(self, spike_times: bool) -> None:
        key = ("voltage_traces",)
        old = self._old(key)
        source = VoltageSource(self.campaign, key, self._trials(old), None, _columns(old))
        held = self.table(source, old)
        if spike_times:
            self.spikes(held, key, ("spike_times",), 0.0)

    def activation(self, kind: str) -> None:
        key = (_TABLE_OF_KIND[kind],)
        old = self._old(key)
        trials = self._trials(old)
        width = 0 if old is None else len(old.columns) - len(_KINDS[kind])
        self.table(ActivationSource(self.campaign, kind, trials, width), old)

    def dendritic_labels(self, threshold: float | None) -> list[str]:
        """The recording sites, checked to make keys; their sub-databases are created
        (here, before tables are written into them in parallel) and, in a new import,
        emptied of sites it does not have."""
        labels = self.campaign.dendritic_labels
        for label in labels:
            _check_key_part(label, "the recording-site label")
            if threshold is not None:
                _check_key_part(f"{label}_{threshold}", "the dendritic spike-time key")
        subs = [("dendritic_recordings", lambda k: k in labels)]
        if threshold is not None:
            subs.append(
                ("dendritic_spike_times", lambda k: any(k.startswith(f"{x}_") for x in labels))
            )
        for name, keep in subs if labels else []:
            sub = self.db.create_sub_db(name)
            if not self.incremental:
                for stale in [k for k in sub.keys() if not keep(k)]:
                    del sub[stale]
        return labels

    def dendritic(self, label: str, threshold: float | None) -> None:
        key = ("dendritic_recordings", label)
        old = self._old(key)
        source = VoltageSource(self.campaign, key, self._trials(old), label, _columns(old))
        held = self.table(source, old)
        if threshold is not None:
            target = ("dendritic_spike_times", f"{label}_{threshold}")
            self.spikes(held, key, target, threshold)

    def parameterfiles(self, path_map: Mapping[str, str]) -> None:
        self.step("parameterfiles")
        stored = None
        if self.incremental and "parameterfiles" in self.db:
            stored = self.db["parameterfiles"]
            if not self.new_trials:
                return
        trials = self.new_trials if stored is not None else list(self.campaign.trials)
        _import_parameterfiles(
            self.db, self.campaign, trials, path_map, stored, prune=not self.incremental
        )

    def core(self) -> None:
        """``filelist``, ``sim_trial_index`` and, last, ``metadata``: the record of what
        is imported, which an incremental import reads."""
        self.step("metadata")
        campaign = self.campaign
        metadata = _metadata(campaign, self.new_trials)
        filelist = {os.path.join(f.rel, f.trace_file) for f in campaign.folders}
        if self.old_meta is not None:
            metadata = pd.concat([self.old_meta, metadata], ignore_index=True)
            metadata = metadata.sort_values("sim_trial_index", kind="stable")
            metadata = metadata.reset_index(drop=True)
            if "filelist" in self.db:
                filelist |= set(self.db["filelist"])
        self.db["filelist"] = sorted(filelist)
        self.db["sim_trial_index"] = pd.Index(
            metadata["sim_trial_index"].to_numpy(), dtype="str", name=INDEX_NAME
        )
        self.db.set("metadata", metadata, dumper="pandas_to_zarr")


def init(
    db: DataBase,
    simresult_path: str | os.PathLike,
    core: bool = True,
    voltage_traces: bool = True,
    synapse_activation: bool = True,
    dendritic_voltage_traces: bool = True,
    parameterfiles: bool = True,
    spike_times: bool = True,
    dendritic_spike_times: bool = True,
    dendritic_spike_times_threshold: float = -30.0,
    client: Any = None,
    path_map: Mapping[str, str] | None = None,
    *,
    incremental: bool = False,
    progress: bool = True,
    scheduler: Any = None,
    **isf_options: Any,
) -> None:
    """Import the simulation campaign at ``simresult_path`` into ``db`` (the keys are
    listed in the module docstring).

    ``core``: the keys ``simresult_path``, ``filelist``, ``sim_trial_index`` and
    ``metadata``; ``voltage_traces``, ``synapse_activation`` (with ``cell_activation``),
    ``dendritic_voltage_traces``, ``parameterfiles``, ``spike_times`` and
    ``dendritic_spike_times`` (at ``dendritic_spike_times_threshold`` mV; only with
    dendritic traces) choose the other steps. ``client``: a ``distributed.Client`` to run
    on (or ``scheduler``, any dask scheduler; default: the active one). ``path_map``:
    ``{old prefix: new prefix}`` for absolute paths in parameter files, such as those of
    the cluster that ran the simulations; a file they reference that cannot be found
    raises, naming it. ``progress`` shows a tqdm progress bar.

    Every key is replaced atomically; ``metadata`` is removed first and written last, so
    a database without it holds no complete import, and an interrupted import can simply
    be run again. With ``incremental=True`` the trials missing from
    the stored ``metadata`` (those of new result folders) are parsed and merged into the
    stored tables, which keep sorted, known divisions; imported trials stay as they
    are. ISF's keywords ``repartition``, ``n_chunks`` and ``dumper`` are accepted and
    ignored (zdb chooses partitions and stores every table with its own dumpers).
    """
    import dask

    unknown = sorted(
        set(isf_options) - {*_ISF_IGNORED, "rewrite_in_optimized_format", "burst_times"}
    )
    if unknown:
        raise TypeError(f"init() got unexpected keyword arguments {unknown}")
    if isf_options.get("burst_times"):
        raise SimrunImportError("burst_times is not supported (ISF deprecated it as well)")
    if isf_options.get("rewrite_in_optimized_format", True) is False:
        raise SimrunImportError(
            "rewrite_in_optimized_format=False (tables that point at the raw files) is not "
            "supported: zdb always stores the data, which is what makes it fast"
        )
    if incremental and not core:
        raise SimrunImportError("an incremental import needs core=True (it updates metadata)")
    root = str(Path(simresult_path).absolute())
    old_meta = _previous_import(db, root) if incremental else None
    chosen = client if client is not None else scheduler
    context = dask.config.set(scheduler=chosen) if chosen is not None else nullcontext()
    distributed = chosen is not None and "Client" in type(chosen).__name__
    with context, _progress(progress, distributed) as step:
        step("scanning result folders")
        campaign = scan_campaign(root, check_activation=synapse_activation)
        run = _Import(db, campaign, old_meta, step)
        if run.incremental and not run.new_trials:
            logger.info("simrun import: no new trials in %s", root)
        if not run.incremental:
            db["simresult_path"] = root
            if core and "metadata" in db:
                # written again last: until then the database shows no complete import
                del db["metadata"]
        # tables are built by concurrent jobs, so that one's parsing overlaps another's
        # writing and the cores stay busy; the largest first
        jobs: list[Callable[[], None]] = []
        if synapse_activation:
            jobs += [partial(run.activation, kind) for kind in _KINDS]
        if voltage_traces:
            jobs.append(partial(run.voltage_traces, spike_times))
        elif spike_times:
            spikes = partial(run.spikes, None, ("voltage_traces",), ("spike_times",), 0.0)
            jobs.append(spikes)
        if dendritic_voltage_traces:
            threshold = dendritic_spike_times_threshold if dendritic_spike_times else None
            for label in run.dendritic_labels(threshold):
                jobs.append(partial(run.dendritic, label, threshold))
        if parameterfiles:
            jobs.append(partial(run.parameterfiles, path_map or {}))
        with ThreadPoolExecutor(CONCURRENT_TABLES) as pool:
            for future in [pool.submit(job) for job in jobs]:
                future.result()
        if core:
            run.core()
        step("done")


def add_dendritic_spike_times(db: DataBase, dendritic_spike_times_threshold: float = -30.0) -> None:
    """Store the spike times of every table in ``db['dendritic_recordings']`` at another
    threshold, as ``dendritic_spike_times/<site label>_<threshold>`` (as ISF does)."""
    if "dendritic_recordings" not in db:
        raise SimrunImportError(
            f"the database {db.basedir} has no dendritic recordings; import them first"
        )
    for label in db["dendritic_recordings"].keys():
        target = ("dendritic_spike_times", f"{label}_{dendritic_spike_times_threshold}")
        _check_key_part(target[1], "the dendritic spike-time key")
        vt = _stored_table(db, ("dendritic_recordings", label))
        table = spike_detection(vt, threshold=dendritic_spike_times_threshold)
        _store_spike_times(db, table, target, merge=False)
