"""The activation tables: ``synapse_activation`` and ``cell_activation``, one row per
synapse (presynaptic cell) and trial, activation times padded with NaN."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ...simrun import activation as formats
from ...simrun.text import SimrunFormatError
from .campaign import INDEX_NAME, Campaign, Trial
from .partitions import TableSource, bounds
from .reporting import SimrunImportError

#: file bytes of a synapse or cell activation partition (about 50 bytes per row; reading
#: one trial reads one partition)
ACTIVATION_PARTITION_BYTES = 2 * 2**20
#: rows per Zarr chunk of activation tables: a partition read decodes little beyond itself
ACTIVATION_CHUNK_ROWS = 2**15

_TIMES = "_activation_times"
KINDS = {"synapses": formats.SYNAPSE_COLUMNS, "presynaptic_cells": formats.CELL_COLUMNS}
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
TABLE_OF_KIND = {"synapses": "synapse_activation", "presynaptic_cells": "cell_activation"}


def _read_body(path: str, kind: str) -> bytes:
    """The rows of an activation file (after its checked header), ending in a newline."""
    columns = KINDS[kind]
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise SimrunFormatError(f"{path} does not exist") from None
    end = data.find(b"\n")
    header = data[: end if end >= 0 else len(data)].decode("utf-8", "replace").rstrip("\r")
    if not header.startswith("#") or len(header.split("\t")) != len(columns) + 1:
        formats.read_activation_table(path, kind)  # raises, naming the expected header
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
    return pa.table({c: pa.array([], _FIXED_TYPES[c]) for c in KINDS[kind]})


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
    columns = KINDS[kind]
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
            formats.read_activation_table(path, kind)
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


def activation_sources(
    campaign: Campaign, trials: Sequence[Trial], kind: str
) -> list[tuple[str, str]]:
    out = []
    for trial in trials:
        folder = campaign.folder_of(trial)
        files = folder.synapse_files if kind == "synapses" else folder.cell_files
        out.append((folder.file(files[trial.number]), trial.index))
    return out


class ActivationSource(TableSource):
    """Synapse or presynaptic cell activation: one row per synapse (cell) and trial.

    The width of the table (the most times on a row) is known once every file is parsed:
    the parsed partitions are padded to it when made frames."""

    def __init__(
        self, campaign: Campaign, kind: str, trials: Sequence[Trial], min_width: int
    ) -> None:
        super().__init__((TABLE_OF_KIND[kind],), trials)
        self.campaign = campaign
        self.kind = kind
        self.width = min_width
        self.meta = activation_meta(kind, min_width)

    def sources(self, trials: Sequence[Trial]) -> list[tuple[str, str]]:
        return activation_sources(self.campaign, trials, self.kind)

    def plan(self, trials: Sequence[Trial]) -> list[Sequence[Trial]]:
        sizes = [os.path.getsize(p) for p, _ in self.sources(trials)]
        b = bounds(sizes, [True] * len(trials), ACTIVATION_PARTITION_BYTES)
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
