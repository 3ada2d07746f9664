"""Synapse and presynaptic cell activation files of ISF's simrun format.

``simulation_runNNNN_synapses.csv`` and ``simulation_runNNNN_presynaptic_cells.csv``, one
of each per trial: a ``#`` header line, then per synapse (cell) tab separated fixed
fields and a last field of comma separated activation (spike) times, each followed by a
comma. Parsing goes through pyarrow's CSV reader; the variable-length tail is split
with pyarrow's vectorised string kernels and padded with numpy. Writers produce the
bytes ISF writes, so every number survives a round trip exactly.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from .text import (
    PathLike,
    SimrunFormatError,
    format_floats,
    format_ints,
    read_header_and_body,
    write_rows,
)

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

#: the fixed columns of each kind of activation file
FIXED_COLUMNS: dict[str, tuple[str, ...]] = {
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


def check_kind(kind: str) -> tuple[str, ...]:
    """The fixed columns of an activation file kind; an unknown kind raises."""
    try:
        return FIXED_COLUMNS[kind]
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
        columns = check_kind(self.kind)
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
        return pad_times(self.times, self.counts, n_columns)

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
        columns = check_kind(kind)
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


def read_activation_body(path: PathLike, kind: ActivationKind) -> bytes:
    """The rows of an activation file, after its header, which is checked: ``b""`` when
    there are none, else ending in a newline, so that the bodies of many files joined
    make one body for :func:`parse_activation_rows`."""
    columns = check_kind(kind)
    header, body = read_header_and_body(path)
    if not header.startswith("#") or len(header.split("\t")) != len(columns) + 1:
        raise SimrunFormatError(
            f"{os.fspath(path)} is not a {kind} activation file: expected a header like "
            f"{_HEADERS[kind]!r}, found {header[:100]!r}"
        )
    rows = bytes(body)
    if not rows or rows.isspace():
        return b""
    return rows if rows.endswith(b"\n") else rows + b"\n"


def count_rows(body: bytes) -> int:
    """The rows :func:`parse_activation_rows` finds in a body: its non-empty lines."""
    if not body.startswith((b"\n", b"\r\n")) and b"\n\n" not in body and b"\n\r\n" not in body:
        return body.count(b"\n")
    lines = body.replace(b"\r\n", b"\n").split(b"\n")
    return sum(1 for line in lines if line)


def body_extent(body: bytes, kind: ActivationKind, source: str) -> tuple[int, int]:
    """The rows :func:`parse_activation_rows` finds in a body and the most times on one
    of them, counted without parsing where the lines are as ISF writes them (no blank
    or CR-terminated lines, each ending in a tab or in a time's comma, no empty time):
    an importer plans its tables from these before it parses. Other bodies are parsed.
    Vectorised byte comparisons: a tenth of the cost of parsing."""
    if not body:
        return 0, 0
    data = np.frombuffer(body, dtype=np.uint8)
    newline = data == 10
    comma = data == 44
    if (
        newline[-1]
        and not newline[0]
        and b"\r" not in body
        and not np.any(newline[1:] & newline[:-1])
        and not np.any(comma[1:] & comma[:-1])
    ):
        ends = np.flatnonzero(newline)
        last = data[ends - 1]
        if bool(np.all((last == 44) | (last == 9))):
            line = np.searchsorted(ends, np.flatnonzero(comma))
            counts = np.bincount(line, minlength=len(ends))
            return len(ends), int(counts.max(initial=0))
    _, _, counts = parse_activation_rows(body, kind, source, use_threads=False)
    return len(counts), int(counts.max(initial=0))


def activation_extent(path: PathLike, kind: ActivationKind) -> tuple[int, int]:
    """The rows of an activation file and the most activation times on one of them,
    as :func:`read_activation_table` would find them (see :func:`body_extent`)."""
    return body_extent(read_activation_body(path, kind), kind, os.fspath(path))


def empty_fixed_table(kind: ActivationKind) -> pa.Table:
    """The fixed columns of an activation file without rows, typed."""
    return pa.table({c: pa.array([], _COLUMN_TYPES[c]) for c in check_kind(kind)})


def parse_activation_rows(
    body: bytes, kind: ActivationKind, source: str, *, use_threads: bool = True
) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """Parse the rows of one or more activation files (:func:`read_activation_body`):
    the fixed columns as an Arrow table, every activation time (float64) row after row,
    and the number of times of each row (int64). ``source`` names the files in errors;
    ``use_threads=False`` keeps pyarrow from starting threads of its own.

    pyarrow's CSV reader splits the fixed fields; its vectorised string kernels split
    the last field, the comma separated times, each followed by a comma.
    """
    columns = check_kind(kind)
    if not body:
        return empty_fixed_table(kind), np.empty(0), np.empty(0, dtype=np.int64)
    types = {c: _COLUMN_TYPES[c] for c in columns}
    try:
        table = pcsv.read_csv(
            pa.py_buffer(body),
            read_options=pcsv.ReadOptions(column_names=[*columns, _TIMES], use_threads=use_threads),
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
            f"{source} is not a valid {kind} activation file: each line needs "
            f"{len(columns)} tab separated fields ({', '.join(columns)}) and a field of "
            f"comma separated times: {e}"
        ) from None
    fixed = table.drop_columns([_TIMES])
    return fixed, times.astype(np.float64), counts.astype(np.int64)


def pad_times(times: np.ndarray, counts: np.ndarray, width: int) -> np.ndarray:
    """Ragged activation times (``counts[i]`` for row ``i``, none above ``width``) as a
    (rows, width) float64 array padded with NaN."""
    out = np.full((len(counts), width), np.nan)
    if len(times):
        rows = np.repeat(np.arange(len(counts)), counts)
        starts = np.repeat(np.cumsum(counts) - counts, counts)
        out[rows, np.arange(len(times)) - starts] = times
    return out


def read_activation_table(path: PathLike, kind: ActivationKind) -> ActivationTable:
    """Read a ``simulation_runNNNN_synapses.csv`` (``kind='synapses'``) or
    ``simulation_runNNNN_presynaptic_cells.csv`` (``kind='presynaptic_cells'``) file."""
    body = read_activation_body(path, kind)
    fixed, times, counts = parse_activation_rows(body, kind, os.fspath(path))
    return ActivationTable(kind, fixed.to_pandas(), times, counts)


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
        return format_ints(as_int)
    return format_floats(values.to_numpy(dtype=np.float64))


def write_activation_table(path: PathLike, table: ActivationTable) -> None:
    """Write an activation file exactly as ISF's simulator does: the ``#`` header, then
    per row the tab separated fixed fields, a tab, and each time followed by a comma."""
    columns = check_kind(table.kind)
    formatted = [_format_fixed(table.fixed, c, table.kind) for c in columns]
    offsets = pa.array(table.offsets.astype(np.int32 if len(table.times) < 2**31 else np.int64))
    list_type = pa.ListArray if offsets.type == pa.int32() else pa.LargeListArray
    lists = list_type.from_arrays(offsets, format_floats(table.times))
    joined = pc.binary_join(lists, ",")
    tail = pc.if_else(
        pa.array(table.counts > 0), pc.binary_join_element_wise(joined, ",", ""), joined
    )
    write_rows(path, _HEADERS[table.kind], [*formatted, tail])


def write_synapse_activation(path: PathLike, frame: pd.DataFrame) -> None:
    """Write a table as :func:`read_synapse_activation` returns it to a synapse file."""
    write_activation_table(path, ActivationTable.from_frame(frame, "synapses"))


def write_cell_activation(path: PathLike, frame: pd.DataFrame) -> None:
    """Write a table as :func:`read_cell_activation` returns it to a presynaptic cell
    file."""
    write_activation_table(path, ActivationTable.from_frame(frame, "presynaptic_cells"))
