"""Readers and writers of the raw text files an ISF simulation campaign ("simrun") leaves.

One result folder of a campaign holds, for a uid such as ``20240`` or ``seed12_pid34``:

- ``<uid>_vm_all_traces.csv``: somatic membrane potential, tab separated, header
  ``t``, ``Vm run 00``, ``Vm run 01``, ...; one row per time step.
- ``<uid>_<site label>_vm_dend_traces.csv``: the same for each dendritic recording site.
- ``simulation_runNNNN_synapses.csv`` and ``simulation_runNNNN_presynaptic_cells.csv``
  per trial: a ``#`` header line, then per synapse (cell) tab separated fixed fields and a
  last field of comma separated activation (spike) times, each followed by a comma.

Parsing goes through pyarrow's multithreaded CSV reader; the variable-length tail of the
activation files is split with pyarrow's vectorised string kernels and padded with numpy.
Writers produce the same bytes ISF writes (Python's ``str`` of each number), so a file
read and written again is unchanged and every number survives the round trip exactly.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ..exceptions import DataBaseException

PathLike = str | os.PathLike

VM_ALL_TRACES_SUFFIX = "_vm_all_traces.csv"
VM_DEND_TRACES_SUFFIX = "_vm_dend_traces.csv"
RUNNING_SUFFIX = "_running"

ActivationKind = Literal["synapses", "presynaptic_cells"]

SYNAPSE_COLUMNS = (
    "synapse_type",
    "synapse_ID",
    "soma_distance",
    "section_ID",
    "section_pt_ID",
    "dendrite_label",
)
CELL_COLUMNS = ("presynaptic_cell_type", "cell_ID")

SYNAPSE_HEADER = (
    "# synapse type\tsynapse ID\tsoma distance\tsection ID\tsection pt ID\t"
    "dendrite label\tactivation times"
)
CELL_HEADER = "# presynaptic cell type\tcell ID\tspike times"

_FIXED_COLUMNS: dict[str, tuple[str, ...]] = {
    "synapses": SYNAPSE_COLUMNS,
    "presynaptic_cells": CELL_COLUMNS,
}
_HEADERS = {"synapses": SYNAPSE_HEADER, "presynaptic_cells": CELL_HEADER}
_COLUMN_TYPES: dict[str, pa.DataType] = {
    "synapse_type": pa.string(),
    "synapse_ID": pa.int64(),
    "soma_distance": pa.float64(),
    "section_ID": pa.int64(),
    "section_pt_ID": pa.int64(),
    "dendrite_label": pa.string(),
    "presynaptic_cell_type": pa.string(),
    "cell_ID": pa.int64(),
}
_TIMES = "_activation_times"
_TRACE_COLUMN = re.compile(r"Vm run (\d+)")
_TRIAL_FILE = re.compile(r"simulation_run(\d+)_(synapses|presynaptic_cells)\.csv")


class SimrunFormatError(DataBaseException):
    """A raw simulation output file or result folder does not have the simrun layout."""


# ---------------------------------------------------------------------------------------
# number formatting
# ---------------------------------------------------------------------------------------


def format_floats(values: np.ndarray) -> pa.StringArray:
    """Format float64 values exactly as Python's ``repr`` (ISF writes ``str(float)``).

    pyarrow's cast gives the same shortest round-trip digits about ten times faster than
    ``repr``; it differs only in notation (``100`` for ``100.0``, exponents chosen by a
    different rule), so those few values are mended or formatted by ``repr`` itself.
    """
    x = np.ascontiguousarray(values, dtype=np.float64).ravel()
    s = pc.cast(pa.array(x), pa.string())
    mags = np.abs(x)
    with np.errstate(invalid="ignore"):
        odd = ~np.isfinite(x) | (mags >= 1e16) | ((mags < 1e-4) & (x != 0))
        integral = ~odd & (x == np.trunc(x))
    odd |= pc.match_substring(s, "e").to_numpy(zero_copy_only=False)
    integral &= ~odd
    fix = odd | integral
    if fix.any():
        idx = np.flatnonzero(fix)
        s = pc.replace_with_mask(s, pa.array(fix), pa.array([repr(v) for v in x[idx].tolist()]))
    return s


def _format_ints(values: np.ndarray) -> pa.StringArray:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def _write_rows(path: PathLike, header: str, columns: Sequence[pa.Array]) -> None:
    """Write a header line and tab separated string columns, without quoting."""
    table = pa.table(columns, names=[f"c{i}" for i in range(len(columns))])
    options = pcsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")
    try:
        with pa.OSFile(os.fspath(path), "wb") as sink:
            sink.write((header + "\n").encode())
            if table.num_rows:
                pcsv.write_csv(table, sink, options)
    except pa.ArrowInvalid as e:
        raise SimrunFormatError(
            f"cannot write {os.fspath(path)}: a value contains a tab, newline or quote, "
            f"which the simrun format cannot hold ({e})"
        ) from None


def _read_bytes(path: PathLike) -> tuple[str, memoryview]:
    """The file's first line (without line end) and a view of the rest."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise SimrunFormatError(f"{os.fspath(path)} does not exist") from None
    end = data.find(b"\n")
    if end < 0:
        end = len(data)
    header = data[:end].decode("utf-8", errors="replace").rstrip("\r")
    return header, memoryview(data)[end + 1 :]


def _blank(body: memoryview) -> bool:
    """True if the rest of a file holds only whitespace (a header without rows)."""
    return not bytes(body[:4096]).strip() and not bytes(body).strip()


# ---------------------------------------------------------------------------------------
# voltage traces
# ---------------------------------------------------------------------------------------


class VoltageTraceArrays(NamedTuple):
    """The content of a voltage-trace file as plain arrays."""

    #: time of each sample (ms), float64, shape (n_samples,)
    t: np.ndarray
    #: trial numbers from the header (``Vm run 05`` -> 5), int64, shape (n_trials,)
    trials: np.ndarray
    #: membrane potential (mV), float64, shape (n_trials, n_samples)
    values: np.ndarray


def _trials_from_header(header: str, path: PathLike) -> np.ndarray:
    fields = header.split("\t")
    if fields[0].strip() != "t":
        raise SimrunFormatError(
            f"{os.fspath(path)} is not a voltage-trace file: its header must start with "
            f"'t' followed by 'Vm run NN' columns, found {header[:80]!r}"
        )
    trials = []
    for field in fields[1:]:
        match = _TRACE_COLUMN.fullmatch(field.strip())
        if match is None:
            raise SimrunFormatError(
                f"{os.fspath(path)}: header column {field!r} is not of the form 'Vm run NN'"
            )
        trials.append(int(match.group(1)))
    if len(set(trials)) != len(trials):
        raise SimrunFormatError(f"{os.fspath(path)}: a trial number repeats in the header")
    return np.array(trials, dtype=np.int64)


def read_voltage_trace_header(path: PathLike) -> np.ndarray:
    """The trial numbers named in a voltage-trace file's header, reading only that line."""
    try:
        with open(path, encoding="utf-8") as f:
            header = f.readline().rstrip("\r\n")
    except FileNotFoundError:
        raise SimrunFormatError(f"{os.fspath(path)} does not exist") from None
    return _trials_from_header(header, path)


def read_voltage_trace_arrays(path: PathLike) -> VoltageTraceArrays:
    """Read a ``*_vm_all_traces.csv`` or ``*_vm_dend_traces.csv`` file into arrays.

    The fast path for importers: no DataFrame is built. ``values[i]`` is the trace of
    trial ``trials[i]``.
    """
    header, body = _read_bytes(path)
    trials = _trials_from_header(header, path)
    n_columns = 1 + len(trials)
    if _blank(body):
        return VoltageTraceArrays(np.empty(0), trials, np.empty((len(trials), 0)))
    names = [f"c{i}" for i in range(n_columns)]
    try:
        table = pcsv.read_csv(
            pa.py_buffer(body),
            read_options=pcsv.ReadOptions(column_names=names),
            parse_options=pcsv.ParseOptions(delimiter="\t", quote_char=False),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.float64()), null_values=[]
            ),
        )
    except pa.ArrowInvalid as e:
        raise SimrunFormatError(
            f"{os.fspath(path)}: every row must hold {n_columns} tab separated numbers "
            f"(t and one value per trial in the header): {e}"
        ) from None
    t = table.column(0).to_numpy()
    values = np.empty((len(trials), table.num_rows), dtype=np.float64)
    for i in range(len(trials)):
        values[i] = table.column(i + 1).to_numpy()
    return VoltageTraceArrays(t, trials, values)


def read_voltage_traces(path: PathLike) -> pd.DataFrame:
    """Read a voltage-trace file into a DataFrame: one row per trial (index ``trial``,
    the numbers of the header), one column per time step labelled by its float time."""
    t, trials, values = read_voltage_trace_arrays(path)
    return pd.DataFrame(
        values,
        index=pd.Index(trials, name="trial"),
        columns=pd.Index(t, dtype=np.float64),
    )


def write_voltage_trace_arrays(
    path: PathLike, t: np.ndarray, trials: Sequence[int] | np.ndarray, values: np.ndarray
) -> None:
    """Write a voltage-trace file as ISF does: header ``t``, ``Vm run NN`` (two digits at
    least), then one tab separated row per time step."""
    t = np.asarray(t, dtype=np.float64)
    trials = np.asarray(trials)
    if trials.size == 0:
        trials = trials.astype(np.int64)
    values = np.asarray(values, dtype=np.float64)
    if trials.dtype.kind not in "iu" or (trials < 0).any():
        raise SimrunFormatError(
            f"cannot write {os.fspath(path)}: trial numbers must be non-negative integers"
        )
    if values.shape != (len(trials), len(t)):
        raise SimrunFormatError(
            f"cannot write {os.fspath(path)}: values have shape {values.shape}, expected "
            f"(n_trials, n_samples) = ({len(trials)}, {len(t)})"
        )
    header = "t" + "".join(f"\tVm run {int(i):02d}" for i in trials)
    n = len(t)
    formatted = format_floats(values)
    columns = [format_floats(t)] + [formatted.slice(i * n, n) for i in range(len(trials))]
    _write_rows(path, header, columns)


def write_voltage_traces(path: PathLike, traces: pd.DataFrame) -> None:
    """Write a DataFrame as :func:`read_voltage_traces` returns it (rows are trials with
    integer labels, columns are float times) to a voltage-trace file."""
    try:
        t = np.asarray(traces.columns, dtype=np.float64)
        trials = np.asarray(traces.index, dtype=np.int64)
    except (TypeError, ValueError):
        raise SimrunFormatError(
            f"cannot write {os.fspath(path)}: the DataFrame needs integer trial numbers as "
            "index and float times as column labels"
        ) from None
    write_voltage_trace_arrays(path, t, trials, traces.to_numpy(dtype=np.float64))


# ---------------------------------------------------------------------------------------
# synapse and presynaptic cell activation files
# ---------------------------------------------------------------------------------------


def _check_kind(kind: str) -> tuple[str, ...]:
    try:
        return _FIXED_COLUMNS[kind]
    except KeyError:
        raise SimrunFormatError(
            f"unknown activation file kind {kind!r}; use 'synapses' or 'presynaptic_cells'"
        ) from None


@dataclass(frozen=True)
class ActivationTable:
    """An activation file in ragged form: the fixed fields, and all activation times in
    file order with the number belonging to each row.

    Row ``i`` owns ``times[offsets[i]:offsets[i + 1]]``. This form is what an importer
    wants for long tables; :meth:`to_frame` gives ISF's padded wide table.
    """

    kind: ActivationKind
    #: the fixed columns (:data:`SYNAPSE_COLUMNS` or :data:`CELL_COLUMNS`), one row per line
    fixed: pd.DataFrame
    #: every activation time, float64, row after row
    times: np.ndarray
    #: number of activation times of each row, int64
    counts: np.ndarray

    def __post_init__(self) -> None:
        columns = _check_kind(self.kind)
        if tuple(self.fixed.columns) != columns:
            raise SimrunFormatError(
                f"a {self.kind} table needs the columns {list(columns)}, "
                f"got {list(self.fixed.columns)}"
            )
        if len(self.counts) != len(self.fixed) or int(np.sum(self.counts)) != len(self.times):
            raise SimrunFormatError(
                f"a {self.kind} table needs one count per row ({len(self.fixed)} rows, "
                f"{len(self.counts)} counts) summing to the number of times ({len(self.times)})"
            )

    @property
    def offsets(self) -> np.ndarray:
        """Start of each row's times in :attr:`times`, with the total appended."""
        out = np.zeros(len(self.counts) + 1, dtype=np.int64)
        np.cumsum(self.counts, out=out[1:])
        return out

    def padded(self, n_columns: int | None = None) -> np.ndarray:
        """The times as a (rows, n_columns) float64 array padded with NaN.

        ``n_columns`` defaults to the longest row; a smaller value raises (pass the
        maximum over many files to give them all the same width).
        """
        longest = int(self.counts.max(initial=0))
        if n_columns is None:
            n_columns = longest
        elif n_columns < longest:
            raise SimrunFormatError(
                f"a row holds {longest} activation times, more than the "
                f"{n_columns} columns asked for"
            )
        out = np.full((len(self.counts), n_columns), np.nan)
        rows = np.repeat(np.arange(len(self.counts)), self.counts)
        cols = np.arange(len(self.times)) - np.repeat(self.offsets[:-1], self.counts)
        out[rows, cols] = self.times
        return out

    def to_frame(self, n_columns: int | None = None) -> pd.DataFrame:
        """The fixed columns followed by activation-time columns ``'0'``, ``'1'``, ...
        (str labels, as ISF names them), padded with NaN."""
        padded = self.padded(n_columns)
        times = pd.DataFrame(
            padded, columns=[str(i) for i in range(padded.shape[1])], index=self.fixed.index
        )
        return pd.concat([self.fixed, times], axis=1)

    @classmethod
    def from_frame(cls, frame: pd.DataFrame, kind: ActivationKind) -> ActivationTable:
        """The ragged form of a padded table such as :meth:`to_frame` returns.

        Activation-time columns are those whose label is a non-negative integer (``'0'``
        or ``0``), in numeric order. Each row's times must fill its first columns; a NaN
        followed by a time cannot be written in the simrun format and raises.
        """
        columns = _check_kind(kind)
        missing = [c for c in columns if c not in frame.columns]
        if missing:
            raise SimrunFormatError(f"a {kind} table lacks the columns {missing}")
        time_columns = sorted(
            (c for c in frame.columns if str(c).isdigit()), key=lambda c: int(str(c))
        )
        padded = frame[time_columns].to_numpy(dtype=np.float64) if time_columns else None
        if padded is None:
            padded = np.empty((len(frame), 0))
        present = ~np.isnan(padded)
        gaps = present[:, 1:] & ~present[:, :-1]
        if gaps.any():
            row = int(np.flatnonzero(gaps.any(axis=1))[0])
            raise SimrunFormatError(
                f"row {row} of the {kind} table has a NaN before an activation time; the "
                "simrun format lists times without gaps"
            )
        fixed = frame[list(columns)].reset_index(drop=True)
        return cls(kind, fixed, padded[present], present.sum(axis=1).astype(np.int64))


def read_activation_table(path: PathLike, kind: ActivationKind) -> ActivationTable:
    """Read a ``simulation_runNNNN_synapses.csv`` (``kind='synapses'``) or
    ``simulation_runNNNN_presynaptic_cells.csv`` (``kind='presynaptic_cells'``) file."""
    columns = _check_kind(kind)
    header, body = _read_bytes(path)
    n_header_fields = len(header.split("\t"))
    if not header.startswith("#") or n_header_fields != len(columns) + 1:
        raise SimrunFormatError(
            f"{os.fspath(path)} is not a {kind} activation file: expected a header like "
            f"{_HEADERS[kind]!r}, found {header[:100]!r}"
        )
    types = {c: _COLUMN_TYPES[c] for c in columns}
    if _blank(body):
        fixed = pa.table({c: pa.array([], t) for c, t in types.items()}).to_pandas()
        return ActivationTable(kind, fixed, np.empty(0), np.empty(0, dtype=np.int64))
    try:
        table = pcsv.read_csv(
            pa.py_buffer(body),
            read_options=pcsv.ReadOptions(column_names=[*columns, _TIMES]),
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
    except pa.ArrowInvalid as e:
        raise SimrunFormatError(
            f"{os.fspath(path)} is not a valid {kind} activation file: each line needs "
            f"{len(columns)} tab separated fields ({', '.join(columns)}) and a field of "
            f"comma separated times: {e}"
        ) from None
    fixed = table.drop_columns([_TIMES]).to_pandas()
    return ActivationTable(kind, fixed, times.astype(np.float64), counts.astype(np.int64))


def read_synapse_activation(path: PathLike, n_columns: int | None = None) -> pd.DataFrame:
    """Read a ``simulation_runNNNN_synapses.csv`` file into ISF's padded table.

    Columns: ``synapse_type`` (str), ``synapse_ID`` (int64), ``soma_distance`` (float64),
    ``section_ID``, ``section_pt_ID`` (int64), ``dendrite_label`` (str), then the
    activation times in columns ``'0'``, ``'1'``, ... padded with NaN to ``n_columns``
    (default: the longest row of this file).
    """
    return read_activation_table(path, "synapses").to_frame(n_columns)


def read_cell_activation(path: PathLike, n_columns: int | None = None) -> pd.DataFrame:
    """Read a ``simulation_runNNNN_presynaptic_cells.csv`` file into ISF's padded table:
    ``presynaptic_cell_type`` (str), ``cell_ID`` (int64), then spike-time columns ``'0'``,
    ``'1'``, ... as in :func:`read_synapse_activation`."""
    return read_activation_table(path, "presynaptic_cells").to_frame(n_columns)


def _format_fixed(fixed: pd.DataFrame, column: str, kind: str) -> pa.Array:
    values = fixed[column]
    expected = _COLUMN_TYPES[column]
    if expected == pa.string():
        if values.isna().any():
            raise SimrunFormatError(f"the {kind} column {column!r} holds missing values")
        return pa.array(values.astype(str).to_numpy(dtype=object), pa.string())
    if values.isna().any():
        raise SimrunFormatError(f"the {kind} column {column!r} holds missing values")
    if expected == pa.int64():
        as_int = values.to_numpy(dtype=np.int64)
        if not np.array_equal(as_int, values.to_numpy(dtype=np.float64)):
            raise SimrunFormatError(f"the {kind} column {column!r} must hold integers")
        return _format_ints(as_int)
    return format_floats(values.to_numpy(dtype=np.float64))


def write_activation_table(path: PathLike, table: ActivationTable) -> None:
    """Write an activation file exactly as ISF's simulator does: the ``#`` header, then
    per row the tab separated fixed fields, a tab, and each time followed by a comma."""
    columns = _check_kind(table.kind)
    formatted = [_format_fixed(table.fixed, c, table.kind) for c in columns]
    offsets = pa.array(table.offsets.astype(np.int32 if len(table.times) < 2**31 else np.int64))
    list_type = pa.ListArray if offsets.type == pa.int32() else pa.LargeListArray
    lists = list_type.from_arrays(offsets, format_floats(table.times))
    joined = pc.binary_join(lists, ",")
    tail = pc.if_else(
        pa.array(table.counts > 0), pc.binary_join_element_wise(joined, ",", ""), joined
    )
    _write_rows(path, _HEADERS[table.kind], [*formatted, tail])


def write_synapse_activation(path: PathLike, frame: pd.DataFrame) -> None:
    """Write a table as :func:`read_synapse_activation` returns it to a synapse file."""
    write_activation_table(path, ActivationTable.from_frame(frame, "synapses"))


def write_cell_activation(path: PathLike, frame: pd.DataFrame) -> None:
    """Write a table as :func:`read_cell_activation` returns it to a presynaptic cell
    file."""
    write_activation_table(path, ActivationTable.from_frame(frame, "presynaptic_cells"))


# ---------------------------------------------------------------------------------------
# result folders
# ---------------------------------------------------------------------------------------


def trial_file(folder: PathLike, trial: int, kind: ActivationKind) -> Path:
    """The path of one trial's activation file: ``simulation_run{trial:04d}_{kind}.csv``."""
    _check_kind(kind)
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
