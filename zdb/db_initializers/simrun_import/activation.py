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

from ...simrun import activation as formats
from ...simrun.text import SimrunFormatError
from .campaign import INDEX_NAME, Campaign, Trial
from .partitions import TARGET_PARTITIONS, TableSource, WritePlan, bounds
from .reporting import SimrunImportError

#: file bytes of a synapse or cell activation partition (about 50 bytes per row; reading
#: one trial reads one partition)
ACTIVATION_PARTITION_BYTES = 2 * 2**20
#: rows per Zarr chunk of activation tables: a partition read decodes little beyond itself
ACTIVATION_CHUNK_ROWS = 2**15
#: rows parsed up front, from files spread over the campaign, to choose the compressors
#: of the activation tables' columns: the realistic campaign's choices are those of 4
#: times as many rows, and its table is no larger than with choices from 16 times
SAMPLE_ROWS = 2**13

TABLE_OF_KIND = {"synapses": "synapse_activation", "presynaptic_cells": "cell_activation"}


class ParsedActivation(NamedTuple):
    """A partition of an activation table as parsed, before padding: the fixed columns
    with the sim_trial_index, and every row's activation times in ragged form."""

    fixed: pd.DataFrame
    times: np.ndarray
    counts: np.ndarray

    @property
    def width(self) -> int:
        return int(self.counts.max(initial=0))


def _fixed_frame(table: pa.Table, labels: Sequence[str], rows: Sequence[int]) -> pd.DataFrame:
    # the index built in Arrow: a take of the labels, no Python str per row
    positions = np.repeat(np.arange(len(labels)), rows)
    index = pa.array(list(labels), pa.string()).take(pa.array(positions))
    frame = table.to_pandas()
    frame.index = pd.Index(pd.array(index, dtype="str"), name=INDEX_NAME)
    return frame


def parse_activation_partition(
    sources: Sequence[tuple[str, str]], kind: str, rows: Sequence[int] | None = None
) -> ParsedActivation:
    """Parse the synapse (``kind='synapses'``) or presynaptic cell
    (``'presynaptic_cells'``) activation files of one partition: ``(file,
    sim_trial_index)`` pairs, whose rows come out in that order; ``rows``: the rows of
    each file when counted before (else they are counted here).

    The files are parsed together in one call of pyarrow's CSV reader: reading many
    small files one by one costs more in per-call overhead than in parsing.
    """
    bodies = [formats.read_activation_body(path, kind) for path, _ in sources]
    if rows is None:
        rows = [formats.count_rows(body) for body in bodies]
    labels = [label for _, label in sources]
    files = f"{sources[0][0]} ... {sources[-1][0]}" if sources else "no files"
    try:
        table, times, counts = formats.parse_activation_rows(
            b"".join(bodies), kind, files, use_threads=False
        )
    except SimrunFormatError:
        for path, _ in sources:  # find the file at fault; its reader names the line
            formats.read_activation_table(path, kind)
        raise
    if table.num_rows != sum(rows):
        raise SimrunImportError(
            f"the {kind} files {files} hold {table.num_rows} rows, but counting lines gave "
            f"{sum(rows)}; a file changed during the import"
        )
    return ParsedActivation(_fixed_frame(table, labels, rows), times, counts)


def activation_frame(parsed: ParsedActivation, width: int) -> pd.DataFrame:
    """ISF's activation table of a parsed partition: the fixed columns, then the times in
    columns ``'0'``, ``'1'``, ... up to ``width``, padded with NaN."""
    counts, times = parsed.counts, parsed.times
    if parsed.width > width:
        raise SimrunImportError(f"a row holds {parsed.width} times, more than {width}")
    padded = formats.pad_times(times, counts, width)
    labels = [str(i) for i in range(width)]
    padded_frame = pd.DataFrame(padded, index=parsed.fixed.index, columns=labels, copy=False)
    return pd.concat([parsed.fixed, padded_frame], axis=1)


def activation_rows(
    sources: Sequence[tuple[str, str]],
    rows: Sequence[int],
    kind: str,
    width: int,
    skip: int,
    nrows: int,
) -> pd.DataFrame:
    """Rows ``skip`` to ``skip + nrows`` of the activation table of ``sources`` (as for
    :func:`parse_activation_partition`, whose files hold ``rows`` rows each), padded to
    ``width`` times: a task's row range, whose first and last file it may share with the
    neighbouring ranges."""
    frame = activation_frame(parse_activation_partition(sources, kind, rows), width)
    return frame if (skip, nrows) == (0, len(frame)) else frame.iloc[skip : skip + nrows]


def file_extents(paths: Sequence[str], kind: str) -> np.ndarray:
    """Rows and most times on a row of each activation file, a row per file."""
    out = np.zeros((len(paths), 2), dtype=np.int64)
    for i, path in enumerate(paths):
        out[i] = formats.activation_extent(path, kind)
    return out


def activation_meta(kind: str, width: int) -> pd.DataFrame:
    """The empty frame a synapse (cell) activation table of ``width`` times looks like."""
    fixed = _fixed_frame(formats.empty_fixed_table(kind), [], [])
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
        return _activation_sources(self.campaign, trials, self.kind)

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

    def write_plan(self) -> WritePlan | None:
        """Count the rows and times of every file (tasks given paths, returning two
        numbers a file), then write ranges of whole chunks of ``ACTIVATION_CHUNK_ROWS``
        rows, each parsed from its files by the task writing it (a file on a boundary is
        parsed by both neighbours). A read partition starts at the first trial starting
        in a chunk, so reading one trial reads one partition of about a chunk (exactly
        one chunk when every file holds as many rows: chunks are then whole trials)."""
        import dask

        sources = self.sources(self.trials)
        paths = [path for path, _ in sources]
        step = max(1, -(-len(paths) // (2 * TARGET_PARTITIONS)))
        batches = [paths[i : i + step] for i in range(0, len(paths), step)]
        found = dask.compute(*[dask.delayed(file_extents)(b, self.kind) for b in batches])
        extents = np.concatenate(found) if found else np.zeros((0, 2), np.int64)
        rows = extents[:, 0]
        nrows = int(rows.sum())
        if nrows == 0:
            return None
        self.width = max(self.width, int(extents[:, 1].max(initial=0)))
        self.meta = activation_meta(self.kind, self.width)
        starts = np.concatenate([[0], np.cumsum(rows)[:-1]])
        ends = starts + rows
        chunk = ACTIVATION_CHUNK_ROWS
        if len(set(rows.tolist())) == 1 and 0 < rows[0] <= chunk:
            # trials of one length: chunks of whole trials, so that a read partition is
            # exactly one chunk
            chunk = chunk // int(rows[0]) * int(rows[0])
        per_task = chunk * max(1, -(-nrows // (TARGET_PARTITIONS * chunk)))
        frames, lengths = [], []
        for a in range(0, nrows, per_task):
            b = min(nrows, a + per_task)
            first = int(np.searchsorted(ends, a, side="right"))
            last = int(np.searchsorted(starts, b, side="left"))
            skip = a - int(starts[first])
            part, counts = sources[first:last], rows[first:last].tolist()
            frames.append((activation_rows, (part, counts, self.kind, self.width, skip, b - a)))
            lengths.append(b - a)
        # the first trial starting at or after each chunk's start begins a read partition
        firsts = np.unique(np.searchsorted(starts, np.arange(0, nrows, chunk), side="left"))
        firsts = firsts[(firsts == 0) | (starts[np.minimum(firsts, len(starts) - 1)] < nrows)]
        firsts = firsts[firsts < len(starts)]
        bounds_ = [*starts[firsts].tolist(), nrows]
        labels = [label for _, label in sources]
        return WritePlan(
            key=self.key,
            meta=self.meta,
            frames=frames,
            lengths=lengths,
            chunk_rows=chunk,
            read_lengths=np.diff(bounds_).tolist(),
            divisions=[labels[i] for i in firsts.tolist()] + [labels[-1]],
            shard_rows=per_task,
            sample=_sample(sources, rows, self.kind, self.width),
        )


def _sample(
    sources: Sequence[tuple[str, str]], rows: np.ndarray, kind: str, width: int
) -> pd.DataFrame:
    """About :data:`SAMPLE_ROWS` rows, from files spread over the campaign: the sample
    from which the table's compressors are chosen (:mod:`zdb.tables.codecs`)."""
    per_file = max(1, int(rows.mean()))
    count = min(len(sources), -(-SAMPLE_ROWS // per_file))
    picked = np.unique(np.linspace(0, len(sources) - 1, count).round().astype(int))
    counts = rows[picked]
    chosen = [sources[i] for i in picked.tolist()]
    return activation_rows(chosen, counts.tolist(), kind, width, 0, int(counts.sum()))


def _shape(parsed: ParsedActivation) -> tuple[int, int]:
    return len(parsed.counts), parsed.width
