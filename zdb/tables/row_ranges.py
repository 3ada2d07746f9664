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
    ``ranges`` are its partitions' rows."""

    reader: Any
    ranges: tuple[tuple[int, int], ...]


_known: OrderedDict[str, LazyTable] = OrderedDict()
_lock = threading.Lock()


def remember(frame: Any, reader: Any, ranges: Sequence[tuple[int, int]]) -> None:
    """Note that the dask frame ``frame`` reads ``ranges`` with ``reader``."""
    with _lock:
        _known[frame._name] = LazyTable(reader, tuple((int(a), int(b)) for a, b in ranges))
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
    return [
        task(reader, rows, columns, func, *args, dask_key_name=(f"{name}-{token}", i))
        for i, rows in enumerate(ranges)
    ]


def _read_and_apply(
    reader: Any, rows: tuple[int, int], columns: list[Any] | None, func: Callable, *args: Any
) -> Any:
    return func(reader(rows, columns), *args)


def tasks(frame: Any, columns: list[Any] | None, ranges: Sequence[tuple[int, int]]) -> int:
    """How many row ranges to read ``columns`` of ``frame`` (whose partitions are
    ``ranges``) in: about :data:`TASK_BYTES` each, but at least
    :data:`TASKS_PER_THREAD` per thread computing, and at most a partition each."""
    rows = ranges[-1][1] - ranges[0][0]
    chosen = frame.columns if columns is None else columns
    dtypes = [frame.dtype] if frame.ndim == 1 else list(frame.dtypes[chosen])
    row_bytes = sum(
        d.itemsize if isinstance(d, np.dtype) and d.kind != "O" else OBJECT_BYTES for d in dtypes
    )
    wanted = max(math.ceil(rows * row_bytes / TASK_BYTES), TASKS_PER_THREAD * threads())
    return max(1, min(len(ranges), wanted))


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
