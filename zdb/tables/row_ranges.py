"""Row ranges of a lazy table for an analysis: fewer, larger tasks than its partitions.

A lazy table's partitions are sized for lookups: the importer's activation tables
have a partition per chunk (32,768 rows), so that ``ddf.loc[trial]`` reads one chunk
of each column; a terabyte table has hundreds of thousands of them. An analysis that
reads every row pays dask's cost per partition for each (a task to schedule, a frame
to build, a file to open per column): on 2 worker processes, binning a campaign's 16
partitions in 4 tasks takes two thirds of the time 16 take. :func:`map_ranges` reads
consecutive partitions of a lazy zdb table as one row range per task instead (zdb's
reader reads a range of any length, chunk by chunk).

Which frames are zdb's own lazy tables is remembered by the frame's dask name when
:func:`remember` is told (by :func:`.dask_frames.read_lazy`): a frame derived from one
(rows filtered, columns computed) has another name and is not recognised, so its
computation stays dask's.

An analysis whose result has a part per column (a voltage density: a histogram per
time point) reads :func:`column_groups` instead: groups of whole stored chunks of
columns, each in row ranges only as long as a task's bytes demand. Its tasks then
give disjoint parts of the result, none to be summed or sent to another worker, and
no task holds a result the size of the whole.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from . import pool

#: bytes of the chosen columns one task reads at most (unless fewer tasks than
#: :data:`TASKS_PER_THREAD` per thread would be left)
TASK_BYTES = 64 * 2**20
#: tasks per thread of the computing scheduler at least (when the table has as many
#: partitions): a little slack for threads that finish early
TASKS_PER_THREAD = 2
#: bytes assumed per value of a string or object column
OBJECT_BYTES = 32
#: lazy tables remembered (the most recently read)
REMEMBERED = 256


@dataclass(frozen=True)
class LazyTable:
    """What a lazy table frame reads: ``reader(rows, columns)`` gives the rows
    ``rows`` (a ``(start, stop)`` range) of the columns ``columns`` (None: the frame's),
    ``ranges`` are its partitions' rows, ``chunks`` the stored chunk (along the
    columns) of each of its columns."""

    reader: Any
    ranges: tuple[tuple[int, int], ...]
    chunks: tuple[int, ...] = ()


_known: OrderedDict[str, LazyTable] = OrderedDict()
_lock = threading.Lock()


def remember(
    frame: Any,
    reader: Any,
    ranges: Sequence[tuple[int, int]],
    chunks: Sequence[int] = (),
) -> None:
    """Note that the dask frame ``frame`` reads ``ranges`` with ``reader``, and that
    its columns are stored in the column ``chunks`` (one per column)."""
    rows = tuple((int(a), int(b)) for a, b in ranges)
    with _lock:
        _known[frame._name] = LazyTable(reader, rows, tuple(int(c) for c in chunks))
        _known.move_to_end(frame._name)
        while len(_known) > REMEMBERED:
            _known.popitem(last=False)


def lazy_table(frame: Any) -> LazyTable | None:
    """The lazy table ``frame`` is, as read (not derived from it), or None."""
    with _lock:
        return _known.get(getattr(frame, "_name", None))


def map_ranges(
    frame: Any,
    func: Callable[..., Any],
    *args: Any,
    columns: list[Any] | None = None,
    name: str,
) -> list[Any] | None:
    """``func(rows, *args)`` for the rows (``columns`` of them; None: all) of each of
    a few row ranges that together make the lazy table ``frame``, as delayed objects
    named ``name``; None when ``frame`` is not a lazy zdb table as read."""
    import dask
    from dask.base import tokenize

    table = lazy_table(frame)
    if table is None or not table.ranges:
        return None
    ranges = coarser(table.ranges, tasks(frame, columns, table.ranges))
    reader = table.reader.for_partitions(len(ranges))
    token = tokenize(frame._name, func, columns, ranges, args)
    task = dask.delayed(_read_and_apply, pure=True)
    held = None if columns is None else _Labels(columns)
    return [
        task(reader, rows, held, func, *args, dask_key_name=(f"{name}-{token}", i))
        for i, rows in enumerate(ranges)
    ]


def column_groups(
    frame: Any,
    func: Callable[..., Any],
    *args: Any,
    columns: list[Any] | None = None,
    name: str,
) -> list[tuple[list[Any], list[Any]]] | None:
    """``func(rows, *args)`` for tiles of the lazy table ``frame`` (``columns`` of it;
    None: all), as ``(labels, parts)`` per group of consecutive columns: ``parts`` are
    delayed objects, one per row range of the group's columns ``labels``. Groups are
    whole stored chunks of columns, as many as there are tasks to make (see
    :func:`tasks`) and chunks to make them of; a group is read in more than one row
    range only where its bytes or the threads ask for it. None when ``frame`` is not
    a lazy zdb table as read, or not a DataFrame."""
    import dask
    from dask.base import tokenize

    table = lazy_table(frame)
    if table is None or not table.ranges or frame.ndim != 2 or not table.chunks:
        return None
    labels = list(frame.columns) if columns is None else list(columns)
    where = frame.columns.get_indexer(labels) if frame.columns.is_unique else None
    if where is None or not len(labels) or (where < 0).any():
        return None
    # the positions (in ``labels``) of the columns of each stored chunk, as ranges
    starts = np.flatnonzero(np.diff(np.asarray(table.chunks)[where])) + 1
    bounds = [0, *starts.tolist(), len(labels)]
    units = list(zip(bounds[:-1], bounds[1:], strict=True))
    rows = table.ranges[-1][1] - table.ranges[0][0]
    column_bytes = rows * _item_bytes(frame)[where]
    wanted = _wanted(int(column_bytes.sum()))
    groups = coarser(units, wanted)  # whole chunks of columns, as rows are whole ranges
    tiles = []
    for start, stop in groups:
        size = int(column_bytes[start:stop].sum())
        split = max(math.ceil(wanted / len(groups)), math.ceil(size / TASK_BYTES))
        tiles.append((labels[start:stop], coarser(table.ranges, split)))
    task = dask.delayed(_read_and_apply, pure=True)
    token = tokenize(frame._name, func, labels, table.ranges, args)
    reader = table.reader.for_partitions(sum(len(ranges) for _, ranges in tiles))
    out = []
    for g, (chosen, ranges) in enumerate(tiles):
        held, key = _Labels(chosen), f"{name}-{token}"
        parts = [
            task(reader, rows, held, func, *args, dask_key_name=(key, g, i))
            for i, rows in enumerate(ranges)
        ]
        out.append((chosen, parts))
    return out


class _Labels:
    """Column labels a task reads, in an object dask passes on as it is: it looks into
    a list for collections, item by item, for each task (7 ms per task for 1,000
    labels)."""

    __slots__ = ("labels",)

    def __init__(self, labels: list[Any]) -> None:
        self.labels = labels


def _read_and_apply(
    reader: Any, rows: tuple[int, int], columns: _Labels | None, func: Callable, *args: Any
) -> Any:
    return func(reader(rows, None if columns is None else columns.labels), *args)


def tasks(frame: Any, columns: list[Any] | None, ranges: Sequence[tuple[int, int]]) -> int:
    """How many row ranges to read ``columns`` of ``frame`` (whose partitions are
    ``ranges``) in: about :data:`TASK_BYTES` each, but at least
    :data:`TASKS_PER_THREAD` per thread computing, and at most a partition each."""
    return max(1, min(len(ranges), _wanted(nbytes(frame, columns, ranges))))


def _wanted(size: int) -> int:
    """Tasks for ``size`` bytes: about :data:`TASK_BYTES` each, and at least
    :data:`TASKS_PER_THREAD` per thread computing."""
    return max(math.ceil(size / TASK_BYTES), TASKS_PER_THREAD * threads())


def nbytes(frame: Any, columns: list[Any] | None, ranges: Sequence[tuple[int, int]]) -> int:
    """About how many bytes ``columns`` (None: all) of ``frame``'s rows ``ranges`` hold."""
    rows = ranges[-1][1] - ranges[0][0]
    if frame.ndim == 1 or columns is None:
        return rows * int(_item_bytes(frame).sum())
    return rows * int(_item_bytes(frame[columns]).sum())


def _item_bytes(frame: Any) -> np.ndarray:
    """The bytes of a value of each column of ``frame`` (of the Series)."""
    dtypes = [frame.dtype] if frame.ndim == 1 else list(frame.dtypes)
    return np.array(
        [d.itemsize if isinstance(d, np.dtype) and d.kind != "O" else OBJECT_BYTES for d in dtypes],
        dtype=np.int64,
    )


def coarser(ranges: Sequence[tuple[int, int]], n: int) -> list[tuple[int, int]]:
    """Consecutive ``ranges`` joined into ``n`` ranges of about equal rows (each made
    of whole ranges)."""
    ranges = list(ranges)
    if n >= len(ranges):
        return ranges
    first = ranges[0][0]
    rows = ranges[-1][1] - first
    ends = np.array([stop for _, stop in ranges])
    # the range ending closest to each n-th of the rows closes a group
    cuts = sorted({int(np.abs(ends - first - rows * k / n).argmin()) for k in range(1, n)})
    out, start = [], first
    for cut in [*cuts, len(ranges) - 1]:
        if ends[cut] > start:
            out.append((start, int(ends[cut])))
            start = int(ends[cut])
    return out or [(first, first)]  # no rows: one empty range


def threads() -> int:
    """The threads the active dask scheduler computes on: a ``distributed`` client's
    workers' threads, else this process's cores."""
    client = pool.active_client()
    if client is not None:
        return max(1, sum(client.nthreads().values()))
    return pool.cores()
