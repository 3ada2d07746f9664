"""Partitions of the imported tables: splitting trials into partitions, writing a new
table in row ranges that each task parses and writes itself, merging new trials into
stored partitions, holding parsed partitions and storing a table."""

from __future__ import annotations

import bisect
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from ...database import DataBase
from ...tables.pool import active_client
from .campaign import Trial

#: a table is split into about this many partitions, so that every worker has work ...
TARGET_PARTITIONS = 8


def bounds(sizes: Sequence[float], breaks: Sequence[bool], cap: float) -> list[int]:
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

    def parsed(self, held: Sequence[Any]) -> None:
        """Called with every partition parsed (held by the scheduler), before
        :meth:`frame_function`; the width of activation tables is known only then."""

    def frame_function(self) -> Callable[..., pd.DataFrame]:
        """The (picklable) function making the frame of a parsed partition."""
        raise NotImplementedError

    def chunk_rows(self, merged: bool) -> int | None:
        """Rows per Zarr chunk to store the table with (None: the dumper chooses);
        ``merged``: the table holds stored partitions, whose lengths are unknown."""
        return None

    def write_plan(self) -> WritePlan | None:
        """How a new table of :attr:`trials` is written in row ranges that each task
        parses from the files and writes itself (None: hold the parsed partitions, see
        :func:`store_table`)."""
        return None


@dataclass
class WritePlan:
    """A new table written by tasks that each parse the files of one row range and
    write its chunks: only paths go to the workers and no parsed data moves between
    them. The ranges are whole chunks (``chunk_rows``, None: the dumper aligns them to
    ``lengths``); a lazy read gives the partitions ``read_lengths``, which hold whole
    trials (``divisions``: the first trial of each, and the last trial). With
    ``shard_rows`` (the ranges' length), each range is stored as one shard per array.
    ``sample``: some rows of the table, made up front, from which the compressors of
    its numeric columns are chosen (``dask_to_zarr``'s ``sample``)."""

    key: tuple[str, ...]
    meta: pd.DataFrame
    #: how each row range's frame is made, ``(function, arguments)``, and their lengths
    frames: list[tuple[Callable[..., pd.DataFrame], tuple[Any, ...]]]
    lengths: list[int]
    chunk_rows: int | None
    read_lengths: list[int]
    divisions: list[str]
    shard_rows: int | None = None
    sample: pd.DataFrame | None = None


def _made(recipe: tuple[Callable[..., pd.DataFrame], tuple[Any, ...]]) -> pd.DataFrame:
    function, args = recipe
    return function(*args)


def store_planned(db: DataBase, plan: WritePlan) -> None:
    """Store the table of ``plan``: each range's frame is made and written by one task
    (the frame is read with ``from_map``, which dask fuses with the write), so it is
    never held, sized or moved between workers."""
    from ...tables.dask_frames import dask_frame

    ddf = dask_frame(_made, plan.frames, plan.meta, None, "zdb-import")
    db.set(
        plan.key,
        ddf,
        dumper="dask_to_zarr",
        chunk_rows=plan.chunk_rows,
        lengths=plan.lengths,
        read_partitions=(plan.read_lengths, plan.divisions),
        shard_rows=plan.shard_rows,
        sample=plan.sample,
    )


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
    old: pd.DataFrame, make: Callable[..., pd.DataFrame], meta: pd.DataFrame, parsed: Any
) -> pd.DataFrame:
    new = make(parsed)
    old = _conform(old, meta, new.index.unique())
    # a stable sort keeps the rows of each trial in file order
    return pd.concat([old, new]).sort_index(kind="stable")


@dataclass
class TableParts:
    """The partitions of a table to write: each made of new trials to parse, of a
    partition of the stored table (delayed), or of both (merged)."""

    source: TableSource
    #: per partition: (trials to parse or None, stored partition or None)
    parts: list[tuple[Sequence[Trial] | None, Any]]
    divisions: tuple[str, ...]

    def new(self) -> list[Sequence[Trial]]:
        return [trials for trials, _ in self.parts if trials is not None]


def build_table(source: TableSource, old: Any = None) -> TableParts:
    """The partitions of ``source``'s trials, or, with ``old`` (the stored table as a
    dask DataFrame with known divisions), of the stored rows plus those trials.

    A new trial that falls into the range of a stored partition is merged into it (the
    rows stored for it before are replaced); the others make new partitions. Only the
    new trials' files are parsed.
    """

    def fresh(trials: list[Trial]) -> list[tuple[Sequence[Trial] | None, Any]]:
        return [(part, None) for part in source.plan(trials)] if trials else []

    def firsts(parts: list[tuple[Sequence[Trial] | None, Any]]) -> list[str]:
        return [trials[0].index for trials, _ in parts if trials]

    if old is None or old.npartitions == 0 or not old.known_divisions:
        parts = fresh(source.trials)
        return TableParts(source, parts, (*firsts(parts), source.trials[-1].index))
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
    middle = [(inside.get(i), old_parts[i]) for i in range(n_old)]
    last = divisions[-1]
    if inside.get(n_old - 1):
        last = max(last, inside[n_old - 1][-1].index)
    if tail:
        last = after[-1].index
    starts = firsts(head) + divisions[:-1] + firsts(tail)
    return TableParts(source, [*head, *middle, *tail], (*starts, last))


def hold(parts: Sequence[Any]) -> list[Any]:
    """Compute delayed objects and keep their values where they are: on a cluster as
    futures on the workers (``persist``); with a local scheduler in this process, as
    delayed leaves named without hashing their content (dask would hash every value of
    a persisted graph when it is used again)."""
    import dask

    if active_client() is not None:  # on a distributed cluster
        return list(dask.persist(*parts))
    token = secrets.token_hex(8)
    values = dask.compute(*parts)
    return [dask.delayed(v, name=f"zdb-held-{token}-{i}") for i, v in enumerate(values)]


def store_table(db: DataBase, table: TableParts, merged: bool) -> list[Any]:
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
    for trials, stored in table.parts:
        mine = None if trials is None else next(parsed)
        if stored is None:
            frames.append(dask.delayed(make)(mine))
        elif mine is None:
            frames.append(dask.delayed(_conform)(stored, source.meta, []))
        else:
            frames.append(dask.delayed(_merge)(stored, make, source.meta, mine))
    # a table of new partitions alone: their lengths are those parsed
    lengths = None if any(stored is not None for _, stored in table.parts) else source.lengths
    ddf = dd.from_delayed(frames, meta=source.meta, divisions=table.divisions, verify_meta=False)
    db.set(
        source.key,
        ddf,
        dumper="dask_to_zarr",
        chunk_rows=source.chunk_rows(merged),
        lengths=lengths,
    )
    return held


def stored_table(db: DataBase, key: tuple[str, ...]) -> Any:
    """The stored table at ``key`` as a dask DataFrame, or None when there is none."""
    if key not in db:
        return None
    return db.get(key, lazy=True)
