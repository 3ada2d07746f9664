"""What the analyses share: their errors, recognising pandas, dask and xarray inputs,
the exact histogram they all count with, and summing per-partition results on dask.

Per-partition results are combined with dask's own tree reductions (``dask.array``
sums) or, where partitions give arrays of different shapes, with a pairwise tree of
delayed calls: only small histograms travel between workers, never a table.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ..exceptions import DataBaseException, MissingDependencyError

#: how many partial results one task of a tree reduction combines
SPLIT_EVERY = 8
#: values binned at a time (256 KiB of float64, in buffers each thread keeps)
BLOCK = 32768
#: a block with more values than this (not NaN) is binned whole, NaN counted in a slot
#: that is dropped, rather than compressed: the index ``numpy.compress`` makes would
#: reach glibc's 128 KiB mmap threshold, which a dask worker's nanny fixes
COMPRESS_MAX = 15360


class AnalyzeError(DataBaseException, ValueError):
    """An analysis cannot run on the input it was given (wrong type, missing column,
    inconsistent bins); the message names what is wrong and how to fix it."""


def require(module: str, extra: str, purpose: str) -> Any:
    """Import ``module`` or raise :class:`MissingDependencyError` naming the extra."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{purpose} needs the package {module!r}: pip install 'zdb[{extra}]'"
        ) from exc


def is_dask_frame(obj: Any) -> bool:
    """True for a dask DataFrame (without importing dask for pandas inputs)."""
    module = type(obj).__module__
    if not module.startswith("dask"):
        return False
    import dask.dataframe as dd

    return isinstance(obj, dd.DataFrame)


def is_data_array(obj: Any) -> bool:
    """True for an ``xarray.DataArray``."""
    if not type(obj).__module__.startswith("xarray"):
        return False
    import xarray as xr

    return isinstance(obj, xr.DataArray)


def kind_error(obj: Any, function: str, accepted: str) -> AnalyzeError:
    return AnalyzeError(
        f"{function} takes {accepted}, got {type(obj).__module__}.{type(obj).__name__}"
    )


def int_like(label: Any) -> bool:
    """ISF's ``is_int``: whether ``int(label)`` works (``'3'``, ``3``, ``2.5``; not
    ``'soma_distance'``, ``'2.5'`` or NaN)."""
    try:
        int(label)
    except (TypeError, ValueError, OverflowError):
        return False
    return True


def time_columns(columns: Sequence[Any]) -> list[Any]:
    """The columns that hold times (spike or activation times, or voltage samples at a
    time): those whose label converts to int, as ISF selects them."""
    return [c for c in columns if int_like(c)]


def histogram(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """``numpy.histogram(values, edges)[0]`` with NaN ignored, as int64.

    Written out because ``numpy.histogram`` sorts its input when given edges; looking
    each value up in the edges (:func:`bin_lookup`) and counting with ``bincount`` gives
    the same bins (half-open, the last one closed) in linear time."""
    return grouped_histogram([np.asarray(values, dtype=np.float64).ravel()], edges)[0]


def grouped_histogram(
    columns: Sequence[np.ndarray],
    edges: np.ndarray,
    groups: np.ndarray | None = None,
    n_groups: int = 1,
    block: int = BLOCK,
    compress_max: int = COMPRESS_MAX,
) -> np.ndarray:
    """``counts[g, b]``: how many values of ``columns`` (float64 arrays of one length,
    e.g. a table's time columns) in rows of group ``g`` fall in bin ``b`` of ``edges``
    (as :func:`histogram`); ``groups`` gives each row's group (negative: none), None
    puts every row in group 0.

    Counted in blocks of ``block`` rows, NaN dropped first (in a block of more than
    ``compress_max`` values, counted in a slot that is dropped): bins are looked up
    in buffers each thread keeps and counted with ``numpy.add.at`` into one array of
    the result's size (a ``bincount`` per block made and added a result-sized array
    each, 1.2 MB for 375 cell types x 400 bins). A dask worker's nanny sets
    ``MALLOC_TRIM_THRESHOLD_``, which fixes glibc's mmap threshold, so each fresh
    buffer of 128 KiB or more is mapped afresh and faulted in again.
    """
    n = len(edges) - 1
    if n < 1 or not n_groups:
        return np.zeros((n_groups, max(n, 0)), dtype=np.int64)
    groups = None if groups is None else np.asarray(groups, dtype=np.intp)
    slots = n + 1  # per group: its bins, then a slot for values outside them
    total = np.zeros(n_groups * slots + 1, dtype=np.int64)  # last: rows of no group
    lookup = bin_lookup(edges)
    length = max((len(v) for v in columns), default=0)
    step = max(1, min(block, length))
    values_at, index, group_at, present, scratch = _block_buffers(step)
    for column in columns:
        for lo in range(0, len(column), step):
            part = column[lo : lo + step]
            here = present[: len(part)]
            np.isnan(part, out=here)
            np.logical_not(here, out=here)
            k = int(np.count_nonzero(here))
            if not k:  # an empty stretch of a mostly empty time column
                continue
            dense = k > compress_max  # every value, NaN into the bins' outside slot
            found = part if dense else np.compress(here, part, out=values_at[:k])
            at = index[: len(found)]
            lookup.into(found, at, scratch.head(len(found)))
            if groups is not None:
                group, rows = group_at[: len(found)], groups[lo : lo + step]
                if dense:
                    np.copyto(group, rows)
                else:
                    np.compress(here, rows, out=group)
                none = np.less(group, 0, out=here[: len(found)])  # ``here`` is spent
                np.multiply(group, slots, out=group)
                np.add(at, group, out=at)
                np.copyto(at, len(total) - 1, where=none)
            np.add.at(total, at, 1)
    return np.ascontiguousarray(total[:-1].reshape(n_groups, slots)[:, :n])


_held = threading.local()


def _block_buffers(step: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, Scratch]:
    """:func:`grouped_histogram`'s buffers for blocks of ``step`` values: float64 values,
    intp bins and groups, bool presence, and a :class:`Scratch`. Each thread keeps its
    own, so that a worker's task after task reuses memory already faulted in."""
    held = getattr(_held, "buffers", None)
    if held is None or len(held[0]) < step:
        size = max(step, BLOCK)
        held = (
            np.empty(size, dtype=np.float64),
            np.empty(size, dtype=np.intp),
            np.empty(size, dtype=np.intp),
            np.empty(size, dtype=bool),
            Scratch.of((size,)),
        )
        _held.buffers = held
    values_at, index, group_at, present, scratch = held
    return values_at[:step], index[:step], group_at[:step], present[:step], scratch.head(step)


class BinLookup:
    """The histogram bin of each of an array of values in ``edges`` (half-open bins,
    the last one closed, as ``numpy.histogram``), for many blocks of values: evenly
    spaced edges (``numpy.arange``'s, which every binning of zdb.analyze makes) are
    looked up arithmetically, four to six times faster than ``searchsorted``, and
    checked against the edges themselves; whether they are is decided once."""

    def __init__(self, edges: np.ndarray) -> None:
        self.edges = np.asarray(edges, dtype=np.float64)
        self.n = len(self.edges) - 1
        self.even = _evenly_spaced(self.edges)

    def __call__(self, values: np.ndarray) -> np.ndarray:
        """The bins of ``values``, ``-1`` for none (outside the edges, or NaN)."""
        values = np.asarray(values, dtype=np.float64)
        if not self.even:
            return _searched_bin_index(values, self.edges)
        index = np.empty(values.shape, dtype=np.intp)
        self.into(values, index, Scratch.of(values.shape))
        index[index == self.n] = -1
        return index

    def into(self, values: np.ndarray, out: np.ndarray, scratch: Scratch) -> None:
        """Write the bins of ``values`` (float64) into ``out`` (intp, of the same
        shape), ``n`` (the number of bins) for none: a slot past the bins to count
        them in and drop. With evenly spaced edges nothing is allocated: in dask's
        workers each fresh buffer of 64 KiB or more would be faulted in anew (see
        :func:`grouped_histogram`)."""
        if not self.even:
            out[...] = _searched_bin_index(values, self.edges)
            out[out < 0] = self.n
            return
        _even_bins_into(values, self.edges, out, scratch)


class Scratch(NamedTuple):
    """Buffers for :meth:`BinLookup.into` on values of one shape: one float64, three
    bool."""

    floats: np.ndarray
    inside: np.ndarray
    outside: np.ndarray
    moved: np.ndarray

    @classmethod
    def of(cls, shape: tuple[int, ...]) -> Scratch:
        return cls(np.empty(shape, dtype=np.float64), *(np.empty(shape, bool) for _ in "abc"))

    def head(self, rows: int) -> Scratch:
        """The same buffers, their first ``rows`` rows (for a last, shorter block)."""
        return Scratch(*(buffer[:rows] for buffer in self))


def bin_lookup(edges: np.ndarray) -> BinLookup:
    """The :class:`BinLookup` of ``edges``: call it on an array of values for their
    bins (``-1`` for none)."""
    return BinLookup(edges)


def _searched_bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    n = len(edges) - 1
    index = np.searchsorted(edges, values, side="right") - 1
    index[values == edges[-1]] = n - 1
    index[(index >= n) | np.isnan(values)] = -1
    return index


def _evenly_spaced(edges: np.ndarray) -> bool:
    """Whether increasing ``edges`` lie within a quarter bin of equal spacing: then a
    value's arithmetic bin is off by at most one, which one comparison per side mends."""
    n = len(edges) - 1
    if n < 1 or not np.isfinite(edges).all():
        return False
    width = (edges[-1] - edges[0]) / n
    even = edges[0] + np.arange(n + 1) * width
    return bool(
        width > 0 and (np.diff(edges) > 0).all() and np.abs(edges - even).max() <= width / 4
    )


def _even_bins_into(
    values: np.ndarray, edges: np.ndarray, out: np.ndarray, scratch: Scratch
) -> None:
    # the way numpy.histogram bins evenly spaced edges: a guess from the spacing, moved
    # by one where the edges themselves say otherwise; every step writes into a buffer
    n = len(edges) - 1
    guess, inside, outside, moved = scratch
    np.greater_equal(values, edges[0], out=inside)
    np.less_equal(values, edges[-1], out=outside)
    np.logical_and(inside, outside, out=inside)  # False for NaN
    np.logical_not(inside, out=outside)
    np.subtract(values, edges[0], out=guess)
    np.multiply(guess, n / (edges[-1] - edges[0]), out=guess)
    np.copyto(guess, 0.0, where=outside)
    np.minimum(guess, n - 1, out=guess)
    np.copyto(out, guess, casting="unsafe")  # truncation: the floor of a guess >= 0
    np.take(edges, out, out=guess, mode="clip")  # clip: no buffered copy; all valid
    np.less(values, guess, out=moved)
    np.subtract(out, moved, out=out)
    np.add(out, 1, out=out)
    np.take(edges, out, out=guess, mode="clip")
    np.greater_equal(values, guess, out=moved)  # at or above the upper edge...
    np.less(out, n, out=inside)  # ...of a bin but the last (``inside`` is spent)
    np.logical_and(moved, inside, out=moved)
    np.subtract(out, 1, out=out)
    np.add(out, moved, out=out)
    np.copyto(out, n, where=outside)


def time_arrays(df: pd.DataFrame, columns: Sequence[Any] | None = None) -> list[np.ndarray]:
    """The time columns of ``df`` (or ``columns``), each a float64 array with NaN for
    none: the frame's own arrays where they are float64, never joined into a matrix."""
    columns = time_columns(df.columns) if columns is None else columns
    chosen = set(columns)
    return [
        df.iloc[:, i].to_numpy(dtype=np.float64, na_value=np.nan)
        for i, c in enumerate(df.columns)
        if c in chosen
    ]


def frame_times(df: pd.DataFrame, columns: Sequence[Any] | None = None) -> np.ndarray:
    """The time columns of ``df`` as a float64 matrix (rows x columns, NaN for none)."""
    columns = time_columns(df.columns) if columns is None else columns
    if not len(columns):
        return np.zeros((len(df), 0))
    return df[list(columns)].to_numpy(dtype=np.float64, na_value=np.nan)


def partitions(ddf: Any) -> list[Any]:
    """The partitions of a dask frame as delayed objects, one task each. The frame's
    expression is optimised first, so that a column selection reaches the reader and
    only those columns are read; its graph is not optimised again (``to_delayed``'s
    ``optimize_graph=True`` takes 60 ms for a 16-partition table, 15 times this)."""
    return list(ddf.optimize().to_delayed(optimize_graph=False))


def per_partition(
    ddf: Any, func: Callable[..., Any], *args: Any, columns: list[Any] | None = None
) -> list[Any]:
    """``func(part, *args)`` for each part of ``ddf`` (its ``columns``, None: all), as
    delayed objects; each task makes its part and applies ``func`` to it, so that no
    part is a task's result: a worker would hold it and size it (0.1 s for a
    4,000-column partition). A lazy zdb table is read in row ranges of several
    partitions (:func:`zdb.tables.row_ranges.map_ranges`), any other frame by
    partition (dask fuses the partition with ``func``)."""
    from ..tables import row_ranges

    name = f"zdb-{func.__name__.strip('_')}"
    ranges = row_ranges.map_ranges(ddf, func, *args, columns=columns, name=name)
    if ranges is not None:
        return ranges
    if columns is not None:
        ddf = ddf[columns]
    mapped = ddf.map_partitions(
        func,
        *args,
        meta=pd.Series([], dtype=object),
        enforce_metadata=False,
        align_dataframes=False,
        token=func.__name__.strip("_"),
    )
    return partitions(mapped)


def tree_reduce(parts: list[Any], combine: Callable[..., Any]) -> Any:
    """Combine delayed partial results ``SPLIT_EVERY`` at a time into one delayed."""
    import dask
    from dask.base import tokenize

    if not parts:
        raise AnalyzeError("the dask frame has no partitions")
    task = dask.delayed(combine, pure=True)
    level = 0
    while len(parts) > 1:
        name = f"zdb-{combine.__name__.strip('_')}-{level}-{tokenize([p.key for p in parts])}"
        groups = range(0, len(parts), SPLIT_EVERY)
        parts = [task(*parts[i : i + SPLIT_EVERY], dask_key_name=(name, i)) for i in groups]
        level += 1
    return parts[0]


def compute(obj: Any, client: Any = None, scheduler: Any = None) -> Any:
    """Compute one dask object on ``client`` (a ``distributed.Client``), else on
    ``scheduler`` (a name, a client or None for the active scheduler)."""
    import dask

    if client is not None:
        return client.compute(obj).result()
    return dask.compute(obj, scheduler=scheduler)[0]
