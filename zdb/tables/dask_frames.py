"""Dask frames: written in parallel by the active dask scheduler, and read lazily.

Writing: a first pass (:func:`survey`) computes what the layout needs from the index
alone where dask allows it: partition lengths, whether the index is a RangeIndex or
sorted, and the categories of categoricals whose categories dask does not know; a
caller that knows the partition lengths passes ``lengths=`` and, where dask knows the
rest, saves this pass. The second pass writes on whatever dask scheduler is active
(threads, processes or a ``distributed.Client``), never collecting the frame in one
process: in the Zarr layout every task writes whole chunks, so that no two tasks ever
write the same chunk (the chunk length divides the partitions when they are of equal
length, and a chunk straddling two partitions is written by one task from the pieces
of both); in the Parquet layout every partition is one file. A failing task marks the
version folder aborted (:func:`guarded_write`), so the others stop writing.

Reading: a stored table as a dask frame with its stored partitions. A partition's
task carries only where the table is and which columns it wants, and re-opens the
table (cached) where it runs, so the graph stays small however wide the table is.
"""

from __future__ import annotations

import functools
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .. import progress_bars
from ..exceptions import DataBaseException, UnsupportedValueError
from ..storage import Store, join
from . import parquet_layout, pool, row_ranges, zarr_layout
from .encodings import is_arrow
from .missing import AS_IS, Guard
from .plan import TablePlan, plan_table, set_partitions, unwrap_index
from .pool import run_jobs

# -- the first pass -------------------------------------------------------------------


@dataclass
class Survey:
    """What the first pass over a dask frame finds."""

    #: the frame's meta, with the categories of unknown categoricals found
    sample: Any
    lengths: list[int]
    #: the RangeIndex the partitions' indexes concatenate to, or None
    range_index: Any
    #: the divisions (an Index of the index's dtype) when known or found, else None
    divisions: Any


def survey(
    ddf: Any,
    lengths: Sequence[int] | None = None,
    scheduler: Any = None,
    divisions: Any = None,
) -> Survey:
    """Compute what a layout needs: from the index alone unless some categoricals have
    categories dask does not know (their union, in order of appearance, is what the
    frame computes to). Nothing is computed when the partitions' ``lengths`` are given,
    the divisions (of the frame, or ``divisions`` of the partitions a read gives, see
    :func:`write_zarr`) and categories are known and the index is not a RangeIndex
    (whose partitions may concatenate to one, stored without its values).
    ``scheduler``: as for ``dask.compute``, None for the active one."""
    import dask
    from dask.dataframe.utils import UNKNOWN_CATEGORIES

    meta = ddf._meta
    is_series = meta.ndim == 1
    # from the dtypes alone: a collection per column costs dask milliseconds each, and
    # voltage-trace tables have thousands of columns
    dtypes = [meta.dtype] if is_series else list(meta.dtypes)
    unknown = [
        i
        for i, dtype in enumerate(dtypes)
        if isinstance(dtype, pd.CategoricalDtype) and UNKNOWN_CATEGORIES in dtype.categories
    ]
    if lengths is not None:
        lengths = [int(n) for n in lengths]
        if len(lengths) != ddf.npartitions:
            raise DataBaseException(
                f"lengths gives {len(lengths)} partition lengths for a frame of "
                f"{ddf.npartitions} partitions: give one per partition, or none"
            )
        if not unknown and not isinstance(meta.index, pd.RangeIndex):
            if divisions is not None:
                return Survey(meta, lengths, None, pd.Index(divisions, dtype=meta.index.dtype))
            if ddf.known_divisions:
                return Survey(meta, lengths, None, _divisions(ddf, [], meta.index))
    source = ddf.index if not unknown else ddf
    facts: list[_PartitionFacts] = list(
        dask.compute(
            *[dask.delayed(_facts)(p, unknown) for p in source.to_delayed()], scheduler=scheduler
        )
    )
    if lengths is not None and [f.length for f in facts] != lengths:
        raise DataBaseException(
            f"the frame's partitions are {[f.length for f in facts]} rows long, "
            f"not {lengths} as lengths gives"
        )
    sample = meta
    for i in unknown:
        found = [f.categories[i] for f in facts]
        cats = found[0].append(found[1:]).unique() if found else dtypes[i].categories
        dtype = pd.CategoricalDtype(cats, ordered=dtypes[i].ordered)
        sample = (
            sample.astype(dtype)
            if is_series
            else _set_column(sample, i, meta.iloc[:, i].astype(dtype))
        )
    return Survey(
        sample,
        [f.length for f in facts],
        _range_index(facts, meta.index.name),
        _divisions(ddf, facts, meta.index),
    )


def _set_column(frame: Any, i: int, column: Any) -> Any:
    out = frame.copy()
    out.isetitem(i, column)
    return out


def _range_index(facts: list[_PartitionFacts], name: Any) -> Any:
    """The RangeIndex the partitions concatenate to, or None when they do not."""

    if not facts or any(f.range is None for f in facts):
        return None
    ranges = [pd.RangeIndex(*f.range) for f in facts]
    combined = ranges[0].append(ranges[1:])
    return combined.rename(name) if isinstance(combined, pd.RangeIndex) else None


def _divisions(ddf: Any, facts: list[_PartitionFacts], meta_index: Any) -> Any:
    """The divisions to store, as an Index of the index's dtype, or None."""

    if ddf.known_divisions:
        try:
            divisions = pd.Index(list(ddf.divisions), dtype=meta_index.dtype)
        except (TypeError, ValueError):
            divisions = None
        if divisions is not None and tuple(divisions) == tuple(ddf.divisions):
            return divisions
    if not facts or any(f.length == 0 or not f.sorted for f in facts):
        return None
    for before, after in zip(facts, facts[1:], strict=False):
        if not before.last[0] < after.first[0]:
            return None
    firsts = facts[0].first.append([f.first for f in facts[1:]])
    return firsts.append(facts[-1].last)


@dataclass
class _PartitionFacts:
    """What the first pass learns about one partition."""

    length: int
    range: tuple[int, int, int] | None
    first: Any  # the first and last index label, as Index of length 0 or 1
    last: Any
    sorted: bool
    categories: dict[int, Any]


def _facts(part: Any, unknown: list[int]) -> _PartitionFacts:

    index = part if isinstance(part, pd.Index) else part.index
    rng = (index.start, index.stop, index.step) if isinstance(index, pd.RangeIndex) else None
    cats = {}
    for i in unknown:
        col = part if part.ndim == 1 else part.iloc[:, i]
        cats[i] = col.cat.categories
    return _PartitionFacts(
        len(part), rng, index[:1], index[-1:], bool(index.is_monotonic_increasing), cats
    )


def _slice(part: Any, start: int, stop: int) -> Any:
    return part.iloc[start:stop]


# -- guarded parallel writes ---------------------------------------------------------

#: written into a version folder by a failed write task: the others skip their work
ABORT = ".zdb/.abort"
_active: dict[str, int] = {}
_active_lock = threading.Lock()


@dataclass
class Failed:
    """What a write task returns instead of raising (None: skipped after an abort)."""

    error: BaseException | None


@contextmanager
def _writing(key: str) -> Iterator[None]:
    with _active_lock:
        _active[key] = _active.get(key, 0) + 1
    try:
        yield
    finally:
        with _active_lock:
            _active[key] -= 1


def guarded_write(store: Store, root: str, write: Callable[[], int]) -> int | Failed:
    """Run one write task so that a failure never leaves other tasks writing behind the
    caller's back: it returns the error (to be raised once every task is done) and
    marks the folder aborted, so tasks that start later write nothing."""
    if store.exists(join(root, ABORT)):
        return Failed(None)
    with _writing(store.full(root)):
        try:
            return write()
        except Exception as e:
            store.write_bytes(join(root, ABORT), b"")
            return Failed(e)


def run_writes(store: Store, root: str, tasks: list[Any], scheduler: Any = None) -> int:
    """Compute write tasks on ``scheduler`` (as for ``dask.compute``; None: the active
    one); raise the first task's error only after all tasks have finished, and the
    number of rows written otherwise."""
    import dask

    try:
        with progress_bars.dask_tasks("writing"):
            results = dask.compute(*tasks, scheduler=scheduler)
    except BaseException:
        # a partition failed to compute: stop the tasks of this process still writing
        store.write_bytes(join(root, ABORT), b"")
        key = store.full(root)
        deadline = time.monotonic() + 60
        while _active.get(key) and time.monotonic() < deadline:
            time.sleep(0.01)
        raise
    errors = [r.error for r in results if isinstance(r, Failed) and r.error is not None]
    if errors:
        raise errors[0]
    return sum(r for r in results if not isinstance(r, Failed))


# -- the Zarr layout -----------------------------------------------------------------


class RowWriter:
    """Writes rows of the table (whole chunks) in a dask task: the plan's row arrays."""

    def __init__(self, plan: TablePlan, store: Store, root: str, level: int) -> None:
        self.plan = plan.rows_only()
        self.store = store
        self.root = root
        self.level = level

    def write(self, row_start: int, expected: int, *pieces: Any) -> int | Failed:
        """Encode and write the rows ``pieces`` (slices of consecutive partitions) hold.

        The pieces are encoded one by one and their arrays joined: concatenating the
        frames first would let pandas change dtypes (categoricals of other categories).
        """
        return guarded_write(
            self.store, self.root, lambda: self._write(row_start, expected, pieces)
        )

    def _write(self, row_start: int, expected: int, pieces: tuple[Any, ...]) -> int:
        length = sum(len(p) for p in pieces)
        if length != expected:
            raise DataBaseException(
                f"writing {self.store.full(self.root)}: rows {row_start}.. came out "
                f"{length} long, not {expected} as in the first pass or the lengths given; "
                "the lengths must be right, and the dask frame must compute the same data "
                "every time (persist it, or fix its random seeds)"
            )
        encoded = [self.plan.encode_rows(p) for p in pieces]
        jobs = []
        for path, node in self.plan.nodes.items():
            found = [e.get(path) for e in encoded]
            if all(a is None for a in found):
                continue
            filled = [
                a if a is not None else np.zeros(len(p), dtype=node.dtype)
                for a, p in zip(found, pieces, strict=True)
            ]
            if len(filled) == 1:
                data = filled[0]
            elif is_arrow(filled[0]):
                import pyarrow as pa

                data = pa.concat_arrays(filled)
            else:
                data = np.concatenate(filled)
            jobs += zarr_layout.chunk_jobs(self.store, self.root, node, data, row_start, self.level)
        run_jobs(jobs, self.store)
        return length


def write_tasks(lengths: list[int], rows: int, parts: list[Any], write: Any) -> list[Any]:
    """Delayed calls ``write(row_start, nrows, *pieces)`` covering every row once, each
    with whole files (chunks or shards) of ``rows`` rows (the last may be short): a
    partition's inner files in one call, a file straddling partitions with the slices
    of each."""
    import dask

    nrows = sum(lengths)
    offsets = [sum(lengths[:i]) for i in range(len(lengths))]
    tasks = []
    straddling: set[int] = set()
    for i, (offset, length) in enumerate(zip(offsets, lengths, strict=True)):
        end = offset + length
        start = -(-offset // rows) * rows
        stop = end if end == nrows else end // rows * rows
        if offset % rows:
            straddling.add(offset // rows)
        if end % rows and end != nrows:
            straddling.add(end // rows)
        if start < stop:
            piece = parts[i]
            if (start, stop) != (offset, end):
                piece = dask.delayed(_slice)(parts[i], start - offset, stop - offset)
            tasks.append(dask.delayed(write)(start, stop - start, piece))
    for k in sorted(straddling):
        lo, hi = k * rows, min(nrows, (k + 1) * rows)
        pieces = []
        for i, (offset, length) in enumerate(zip(offsets, lengths, strict=True)):
            a, b = max(lo, offset), min(hi, offset + length)
            if a < b:
                pieces.append(dask.delayed(_slice)(parts[i], a - offset, b - offset))
        tasks.append(dask.delayed(write)(lo, hi - lo, *pieces))
    return tasks


class _WritePartition:
    """The function of :func:`fused_writes`: writes partition ``i`` at its offset."""

    def __init__(self, write: Callable[..., Any], offsets: list[int], lengths: list[int]) -> None:
        self.write = write
        self.offsets = offsets
        self.lengths = lengths
        self.token = secrets.token_hex(16)

    def __dask_tokenize__(self) -> str:
        # one write: a name of its own (the store it writes to need not hash)
        return self.token

    def __call__(self, part: Any, partition_info: dict[str, Any] | None = None) -> Any:
        i = (partition_info or {})["number"]
        return self.write(self.offsets[i], self.lengths[i], part)


def fused_writes(value: Any, lengths: list[int], rows: int, write: Any) -> list[Any] | None:
    """One task per partition that makes it and writes it, ``write(row_start, nrows,
    part)``, when every partition starts on a file boundary (whole files of ``rows``
    rows; else None: see :func:`write_tasks`). Written through ``map_partitions``, which
    dask fuses with the step making each partition (a ``from_map`` read, say): the
    partition is never a task's result, so it is neither held nor sized nor moved
    between workers."""
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(int).tolist()
    if any(offset % rows for offset in offsets):
        return None
    writer = _WritePartition(write, offsets, [int(n) for n in lengths])
    with _dask_config_lock, _no_string_conversion():
        written = value.map_partitions(
            writer,
            meta=pd.Series([], dtype=object),
            enforce_metadata=False,
            token="zdb-write",
        )
        return list(written.to_delayed())


def _no_string_conversion() -> Any:
    import dask

    return dask.config.set({"dataframe.convert-string": False})


def write_zarr(
    store: Store,
    root: str,
    value: Any,
    *,
    layout: str = "auto",
    chunk_rows: int | None = None,
    level: int | None = None,
    lengths: Sequence[int] | None = None,
    scheduler: Any = None,
    read_partitions: tuple[Sequence[int], Sequence[Any]] | None = None,
    shard_rows: int | None = None,
    sample: pd.DataFrame | pd.Series | None = None,
) -> dict[str, Any]:
    """Write the frame ``value`` computes to in the Zarr layout, in parallel; returns the
    table description. ``lengths``: the rows of each partition, when the caller knows
    them: with known divisions and categories this saves the first pass, which computes
    every partition whose index dask cannot compute alone. A partition that comes out
    of another length raises. ``scheduler``: where both passes run (a
    ``distributed.Client``, a scheduler name or function; None: the active one).
    ``read_partitions``: ``(lengths, divisions)`` of the partitions a lazy read gives,
    when they differ from the frame's: its partitions then only split the writing (each
    task writes whole chunks of one partition when ``chunk_rows`` divides them), and
    ``divisions`` (sorted index labels) stand for the frame's in the first pass.
    ``shard_rows``: the chunks of every ``shard_rows`` rows in one file, a Zarr shard (a
    multiple of the chunk rows; see :mod:`zdb.zarr_shards`): fewer files, which is
    what writing costs most on a disk or a cluster file system; a task then writes
    whole shards, best when the partitions are whole shards too. ``sample``: pandas rows
    like the frame's (its columns and dtypes), from which each numeric array's
    compressor is chosen as for a pandas write (:mod:`.codecs`); without it, from the
    dtypes alone."""

    level = zarr_layout.ZSTD_LEVEL if level is None else level
    stored = None if read_partitions is None else read_partitions[1]
    found = survey(value, lengths, scheduler, stored)
    if read_partitions is not None:
        read_lengths = [int(n) for n in read_partitions[0]]
        if sum(read_lengths) != sum(found.lengths) or len(stored) != len(read_lengths) + 1:
            raise DataBaseException(
                f"read_partitions gives {len(read_lengths)} partitions of "
                f"{sum(read_lengths)} rows and {len(stored)} divisions for a frame of "
                f"{sum(found.lengths)} rows: give one division more than partitions"
            )
    lengths, range_index = found.lengths, found.range_index
    nrows = sum(lengths)
    plan = plan_table(
        found.sample,
        nrows,
        range_index=range_index,
        layout=layout,
        chunk_rows=chunk_rows,
        partitions=lengths,
        source="dask",
        shard_rows=shard_rows,
    )
    if read_partitions is None:
        set_partitions(plan, lengths, found.divisions)
    else:
        set_partitions(plan, read_lengths, found.divisions)
    if sample is not None:
        plan.choose_compressors(_sample_arrays(plan, sample, found.sample), level)
    zarr_layout.write_metadata(store, root, plan, level, {"zdb": {"table": plan.table}})
    jobs = []
    for path, data in plan.static.items():
        node = plan.nodes.get(path)
        if node is not None and data is not None:
            jobs += zarr_layout.chunk_jobs(store, root, node, data, 0, level)
    run_jobs(jobs, store)
    # the writer travels inside each task (not as a task of its own that every write
    # would depend on), so that a write depends on its partition alone
    writer = RowWriter(plan, store, root, level)
    rows = plan.shard_rows or plan.chunk_rows
    tasks = fused_writes(value, lengths, rows, writer.write)
    if tasks is None:
        tasks = write_tasks(lengths, rows, value.to_delayed(), writer.write)
    written = run_writes(store, root, tasks, scheduler)
    if written != nrows:
        raise DataBaseException(
            f"writing {store.full(root)}: {written} rows written, {nrows} expected"
        )
    return plan.table


def _sample_arrays(plan: TablePlan, sample: Any, meta: Any) -> dict[str, Any]:
    """The arrays of ``sample`` (rows like the frame's empty ``meta``) as ``plan`` stores
    them; a sample of other columns or dtypes raises."""

    def columns(frame: Any) -> list[tuple[Any, str]]:
        if frame.ndim == 1:
            return [(frame.name, str(frame.dtype))]
        return [(name, str(dtype)) for name, dtype in frame.dtypes.items()]

    if not isinstance(sample, pd.DataFrame | pd.Series):
        raise UnsupportedValueError(
            f"sample= takes a pandas DataFrame or Series of some of the frame's rows, not "
            f"{type(sample).__qualname__}: compute one, e.g. from a partition"
        )
    if sample.ndim != meta.ndim or columns(sample) != columns(meta):
        raise UnsupportedValueError(
            f"sample= takes rows like the frame's, with its columns and dtypes "
            f"({columns(meta)[:5]}...), not {columns(sample)[:5]}...: give some of its "
            "rows, e.g. computed from a partition"
        )
    return plan.encode_rows(sample)


# -- the Parquet layout --------------------------------------------------------------


class PartitionWriter:
    """Writes one partition as ``part.<i>.parquet`` in a dask task."""

    def __init__(self, plan: TablePlan, store: Store, root: str, compression: str) -> None:
        self.plan = plan
        self.store = store
        self.root = root
        self.compression = compression

    def write(self, part: Any, i: int, expected: int) -> int | Failed:
        return guarded_write(self.store, self.root, lambda: self._write(part, i, expected))

    def _write(self, part: Any, i: int, expected: int) -> int:
        if len(part) != expected:
            raise DataBaseException(
                f"writing {self.store.full(self.root)}: partition {i} came out {len(part)} "
                f"rows long, not {expected} as in the first pass or the lengths given; the "
                "lengths must be right, and the dask frame must compute the same data every "
                "time (persist it, or fix its random seeds)"
            )
        arrays = self.plan.encode_rows(part)
        slots, labels = parquet_layout.row_slots(self.plan)
        table = parquet_layout.to_arrow(self.plan, arrays, slots, labels)
        parquet_layout.write_parquet(
            self.store, join(self.root, file_name(i)), table, compression=self.compression
        )
        return len(part)


def file_name(i: int) -> str:
    return f"part.{i}.parquet"


def write_parquet(
    store: Store,
    root: str,
    value: Any,
    *,
    compression: str = "snappy",
    lengths: Sequence[int] | None = None,
    scheduler: Any = None,
) -> dict[str, Any]:
    """Write the frame ``value`` computes to in the Parquet layout, a file per
    partition, each written by the task computing it; ``lengths`` and ``scheduler`` as
    for :func:`write_zarr`. Returns the table description."""
    import dask

    found = survey(value, lengths, scheduler)
    nrows = sum(found.lengths)
    plan = plan_table(
        found.sample, nrows, range_index=found.range_index, layout="columns", source="dask"
    )
    set_partitions(plan, found.lengths, found.divisions)
    writer = dask.delayed(PartitionWriter(plan, store, root, compression).write)
    tasks = [
        writer(part, i, n)
        for i, (part, n) in enumerate(zip(value.to_delayed(), found.lengths, strict=True))
    ]
    written = run_writes(store, root, tasks, scheduler)
    if written != nrows:
        raise DataBaseException(
            f"writing {store.full(root)}: {written} rows written, {nrows} expected"
        )
    files = [file_name(i) for i in range(len(found.lengths))]
    parquet_layout.finish_table(store, root, plan, files, compression)
    return plan.table


# -- reading -------------------------------------------------------------------------


#: how a partition's task opens the table of each layout (cached per process)
_OPENERS = {"zarr": zarr_layout.open_table, "parquet": parquet_layout.open_parquet_table}


class PartitionReader:
    """Reads one partition (a row range) of a stored table: the function of a lazy dask
    frame. It carries only the layout, the store, the path and the chosen columns and
    re-opens the table (cached) where it runs, so the graph stays small however wide
    the table is. Its ``columns=`` keyword lets dask read only the columns a
    computation uses. A frame of ``partitions`` at least the cores of the process
    reading decompresses each partition in its task's thread (see
    :func:`.pool.in_this_thread`)."""

    def __init__(
        self,
        store: Store,
        root: str,
        columns: list[Any] | None = None,
        layout: str = "zarr",
        guard: Guard = AS_IS,
        partitions: int = 1,
    ) -> None:
        self.store = store
        self.root = root
        self.default_columns = columns
        self.layout = layout
        self.guard = guard
        self.partitions = partitions

    def for_partitions(self, partitions: int) -> PartitionReader:
        """This reader, for a frame of ``partitions`` partitions."""
        return PartitionReader(
            self.store, self.root, self.default_columns, self.layout, self.guard, partitions
        )

    def __call__(
        self, rows: tuple[int, int], columns: list[Any] | None = None
    ) -> pd.DataFrame | pd.Series:
        chosen = self.default_columns if columns is None else columns
        table = _OPENERS[self.layout](self.store, self.root, self.guard)
        if self.partitions < pool.cores():
            return table.read(rows=rows, columns=chosen)
        with pool.in_this_thread():
            return table.read(rows=rows, columns=chosen)


def read_lazy(
    store: Store, root: str, columns: Any = None, layout: str = "zarr", guard: Guard = AS_IS
) -> Any:
    """The table at ``root`` (in the Zarr or the Parquet ``layout``) as a dask DataFrame
    (or Series) with its stored partitions, and known divisions when its index is
    sorted; only what is computed is read. A file found missing when a partition is
    computed raises ``guard``'s error (see :mod:`.missing`).

    The frame is made once per table and columns, as the table is opened once (a
    table's folder is never changed once written): dask builds a frame's meta column
    by column, 0.04 s for a voltage-trace table of 4,000 columns. Each call gets its
    own copy of it (the same expression): assigning a column changes a dask frame in
    place."""
    labels = None
    if columns is not None:  # one label (a tuple is one too), or several
        one = isinstance(columns, str | tuple) or not isinstance(columns, Iterable)
        labels = (columns,) if one else tuple(columns)
    return _lazy_frame(store, root, labels, layout, guard).copy()


@functools.lru_cache(maxsize=32)
def _lazy_frame(
    store: Store, root: str, labels: tuple[Any, ...] | None, layout: str, guard: Guard
) -> Any:
    table = _OPENERS[layout](store, root, guard)
    wanted = None if labels is None else list(labels)
    positions = table.positions(wanted)
    if positions is not None:
        wanted = list(table.columns.take(positions))
    meta = table.read(rows=(0, 0), columns=wanted)
    bounds = np.concatenate([[0], np.cumsum(table.table["partitions"])]).astype(int).tolist()
    ranges = [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
    reader = PartitionReader(store, root, wanted, layout, guard, len(ranges))
    label = "zdb-read" if layout == "zarr" else f"zdb-read-{layout}"
    frame = dask_frame(reader, ranges, meta, table.divisions, label)
    if table.table["type"] != "Index":
        frame_type = table.table["type"] == "DataFrame"
        chunks = table.column_chunks(positions) if frame_type else []
        row_ranges.remember(frame, reader, ranges, chunks)
    return unwrap_index(table.table, frame)


#: zdb's own changes of dask's process-wide config take turns (see :func:`dask_frame`)
_dask_config_lock = threading.Lock()


def dask_frame(
    reader: Callable[..., Any],
    ranges: list[Any],
    meta: pd.DataFrame | pd.Series,
    divisions: tuple[Any, ...] | None,
    label: str = "zdb-read",
) -> Any:
    """A dask frame of the partitions ``reader(rng)`` gives for each of ``ranges`` (row
    ranges of zdb's tables, or whatever else names a partition), with the stored dtypes:
    dask would turn object columns into pyarrow strings, so it is built with that
    conversion off. ``dask.config.set`` changes the config of the whole process, and
    threads entering and leaving it at once could leave it off for good: the lock makes
    zdb's own changes take turns."""
    import dask.dataframe as dd

    with _dask_config_lock, _no_string_conversion():
        return dd.from_map(
            reader,
            ranges,
            meta=meta,
            divisions=divisions,
            label=label,
            enforce_metadata=False,
        )
