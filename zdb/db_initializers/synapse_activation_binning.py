"""Binned synapse activation: per trial, a histogram over time of the activations of
each group of synapses (ISF's ``data_base.db_initializers.synapse_activation_binning``).

For ``groupby='EI'`` and the defaults, :func:`init` stores under the sub-database
``('synapse_activation_binned', 't1', 'EI')`` one array per group (``EXC``, ``INH``):
row ``i`` is trial ``db['sim_trial_index'][i]``, column ``j`` the number of activation
times ``t`` of that trial's synapses of the group with ``j <= t < j + 1`` ms, for
``0 <= t <= maxtime`` (the last bin includes ``maxtime``, as ``numpy.histogram`` counts).

What ISF computed, and what differs:

- groups: the columns of ``synapse_activation`` or those :func:`prefun` derives from
  them: ``celltype`` and ``presynaptic_column`` (the two parts of ``synapse_type`` such
  as ``L5tt_C2``), ``proximal`` (``prox`` for ``soma_distance < 500`` um, else
  ``dist``), ``EI`` (``EXC`` for the cell types in :data:`zdb.analyze.excitatory`, else
  ``INH``) and ``binned_somadist`` (``0to50``, ``50to100``, ... um). A list groups by
  several columns; each key is then a tuple (nested sub-databases), as in ISF.
- bins: ISF binned with 1 ms from 0 to ``maxtime`` (400); ``bin_size`` and ``min_time``
  generalise this, and the sub-database is named ``t<bin_size>`` (``t1`` as in ISF).
- rows: ISF had one row per trial present in ``synapse_activation``; zdb has one row per
  entry of ``db['sim_trial_index']`` (the same, unless a trial has an empty synapse
  file: its row is zeros instead of missing, so rows stay aligned with the trials).
- values: float64 counts (ISF's arrays were float64 whenever a trial lacked a group).
- ISF's ``applyfun`` (bins one trial's synapses of one group) and ``postfun`` (stacks
  a group's per-trial results, zeros where a trial lacks the group) hooks: with the
  defaults, :func:`applyfun` and :func:`postfun`, the binning is vectorised over whole
  partitions (the same counts, much faster); passing either runs ISF's per-trial and
  per-group computation with them, whose rows are then the trials present in
  ``synapse_activation``, as in ISF. Both are called with ``maxtime=`` as in ISF.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from contextlib import nullcontext
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from ..analyze import excitatory
from ..database import DataBase
from ..exceptions import DataBaseException
from ..keys import normalize_key

#: columns :func:`prefun` can derive from a synapse activation table
DERIVED_COLUMNS = ("celltype", "presynaptic_column", "proximal", "EI", "binned_somadist")
#: soma distance (um) below which a synapse is ``prox``
PROXIMAL_DISTANCE = 500.0
#: width (um) of the soma-distance bins of ``binned_somadist``
SOMADIST_BIN = 50


class BinningError(DataBaseException):
    """Synapse activation cannot be binned as asked."""


def prefun(df: pd.DataFrame, columns: Sequence[str] | None = None) -> pd.DataFrame:
    """``df`` with the derived grouping columns (all of :data:`DERIVED_COLUMNS`, or only
    ``columns`` of them) added, computed as ISF's ``prefun`` does."""
    wanted = DERIVED_COLUMNS if columns is None else [c for c in columns if c in DERIVED_COLUMNS]
    if not wanted:
        return df
    df = df.copy()
    parts = df["synapse_type"].astype("str").str.split("_")
    celltype = parts.str[0]
    if "celltype" in wanted:
        df["celltype"] = celltype
    if "presynaptic_column" in wanted:
        df["presynaptic_column"] = parts.str[1]
    if "proximal" in wanted:
        df["proximal"] = np.where(df["soma_distance"] < PROXIMAL_DISTANCE, "prox", "dist")
    if "EI" in wanted:
        df["EI"] = np.where(celltype.isin(excitatory), "EXC", "INH")
    if "binned_somadist" in wanted:
        low = (np.floor(df["soma_distance"].to_numpy() / SOMADIST_BIN) * SOMADIST_BIN).astype(int)
        df["binned_somadist"] = [f"{a}to{a + SOMADIST_BIN}" for a in low.tolist()]
    return df


_DEFAULT_PREFUN = prefun


def _groupby_list(groupby: str | Sequence[str]) -> list[str]:
    out = [groupby] if isinstance(groupby, str) else list(groupby)
    if not out or any(not isinstance(g, str) or not g for g in out):
        raise BinningError(
            f"groupby must name one or more columns (e.g. 'EI' or ['EI', 'proximal']), "
            f"got {groupby!r}"
        )
    return out


def bin_edges(min_time: float, max_time: float, bin_size: float) -> np.ndarray:
    """The bin borders ISF's temporal binning uses: ``arange(min, max + size, size)``."""
    return np.arange(min_time, max_time + bin_size, bin_size)


def synapse_activation_postprocess_pandas(
    pdf: pd.DataFrame,
    groupby: str | Sequence[str] = "EI",
    prefun: Callable[..., pd.DataFrame] = prefun,
    edges: np.ndarray | None = None,
    trials: Sequence[str] | None = None,
) -> dict[Any, np.ndarray]:
    """Bin one synapse activation frame: ``{group: array (trials x bins)}``.

    ``trials`` are the rows of the arrays (default: the frame's trials in order of
    appearance); ``edges`` the bin borders (default: 1 ms bins from 0 to 400 ms).
    """
    columns = _groupby_list(groupby)
    edges = bin_edges(0, 400, 1) if edges is None else np.asarray(edges, dtype=np.float64)
    n_bins = len(edges) - 1
    df = prefun(pdf, columns) if prefun is _DEFAULT_PREFUN else prefun(pdf)
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise BinningError(
            f"cannot group synapse activation by {missing}: no such column (derived columns "
            f"are {list(DERIVED_COLUMNS)}); columns are {list(df.columns)[:20]}"
        )
    rows = pd.Index(pd.unique(df.index) if trials is None else list(trials))
    row_of = rows.get_indexer(df.index)
    if (row_of < 0).any():
        raise BinningError("the synapse activation table holds trials outside its divisions")
    if len(columns) == 1:
        group_of, groups = pd.factorize(df[columns[0]], sort=True)
        keys = list(groups)
    else:
        mi = pd.MultiIndex.from_frame(df[columns])
        group_of, groups = mi.factorize(sort=True)
        keys = list(groups)
    time_columns = [c for c in df.columns if str(c).isdigit()]
    times = df[time_columns].to_numpy(dtype=np.float64)
    bins = np.searchsorted(edges, times, side="right") - 1
    bins[times == edges[-1]] = n_bins - 1  # numpy.histogram's last bin is closed
    ok = ~np.isnan(times) & (bins >= 0) & (bins < n_bins)
    line = np.broadcast_to(((row_of * len(keys)) + group_of)[:, None], times.shape)
    flat = line[ok] * n_bins + bins[ok]
    counts = np.bincount(flat, minlength=len(rows) * len(keys) * n_bins).astype(np.float64)
    counts = counts.reshape(len(rows), len(keys), n_bins)
    return {key: counts[:, k, :] for k, key in enumerate(keys)}


def merge_results_together(
    dicts: Sequence[dict[Any, np.ndarray]], shapes: Sequence[tuple[int, int]] | None = None
) -> dict[Any, np.ndarray]:
    """Stack per-partition results row-wise; a group missing from a partition gets zeros
    (of that partition's ``shapes`` entry, or the shape of its other groups)."""
    keys = sorted({k for d in dicts for k in d}, key=lambda k: (str(type(k)), k))
    if shapes is None:
        shapes = [next(iter(d.values())).shape if d else (0, 0) for d in dicts]
    out = {}
    for key in keys:
        pairs = zip(dicts, shapes, strict=True)
        blocks = [d[key] if key in d else np.zeros(shape) for d, shape in pairs]
        out[key] = np.vstack(blocks)
    return out


def _bin_partition(
    pdf: pd.DataFrame,
    groupby: str | Sequence[str],
    prefun: Callable[..., pd.DataFrame],
    edges: np.ndarray,
    trials: Sequence[str] | None,
) -> tuple[dict[Any, np.ndarray], tuple[int, int]]:
    result = synapse_activation_postprocess_pandas(pdf, groupby, prefun, edges, trials)
    rows = len(pd.unique(pdf.index)) if trials is None else len(trials)
    return result, (rows, len(edges) - 1)


def _partition_trials(trials: Sequence[str], divisions: Sequence[str], i: int) -> list[str]:
    """The trials of ``trials`` (sorted) in partition ``i`` of a frame with ``divisions``."""
    lo = bisect.bisect_left(trials, divisions[i])
    last = i == len(divisions) - 2
    hi = (
        bisect.bisect_right(trials, divisions[-1])
        if last
        else bisect.bisect_left(trials, divisions[i + 1])
    )
    return list(trials[lo:hi])


def applyfun(pdf: pd.DataFrame, maxtime: float | None = None) -> np.ndarray:
    """ISF's default ``applyfun``: the activation times of ``pdf`` (one trial's synapses
    of one group) counted in 1 ms bins from 0 to ``maxtime`` (default 400)."""
    edges = bin_edges(0, 400 if maxtime is None else maxtime, 1)
    times = pdf[[c for c in pdf.columns if str(c).isdigit()]].to_numpy(dtype=np.float64)
    return np.histogram(times[~np.isnan(times)], bins=edges)[0].astype(np.float64)


def postfun(s: pd.Series, maxtime: float | None = None) -> np.ndarray:
    """ISF's default ``postfun``: stack a group's per-trial arrays into trials x bins,
    with zeros (``maxtime`` of them) for trials that lack the group."""
    zeros = np.zeros(int(400 if maxtime is None else maxtime))
    filled = [zeros if x is None or (isinstance(x, float) and np.isnan(x)) else x for x in s]
    return np.vstack(filled)


def _hooked_partition(
    pdf: pd.DataFrame,
    groupby: str | Sequence[str],
    prefun: Callable[..., pd.DataFrame],
    applyfun: Callable[[pd.DataFrame], Any],
    postfun: Callable[[pd.Series], np.ndarray],
) -> tuple[dict[Any, np.ndarray], tuple[int, int]]:
    """One partition binned as ISF did, by ``applyfun`` per trial and group and
    ``postfun`` per group; rows are the partition's trials, sorted."""
    columns = _groupby_list(groupby)
    df = prefun(pdf, columns) if prefun is _DEFAULT_PREFUN else prefun(pdf)
    if df.empty:
        return {}, (0, 0)
    groups = df.groupby([df.index, *[df[c] for c in columns]]).apply(applyfun)
    for _ in columns:
        groups = groups.unstack(1)
    out = {key: np.asarray(postfun(groups[key])) for key in groups.columns}
    first = next(iter(out.values()))
    return out, (len(first), first.shape[1] if first.ndim > 1 else 1)


def synapse_activation_postprocess_dask(
    ddf: Any,
    groupby: str | Sequence[str] = "EI",
    prefun: Callable[..., pd.DataFrame] = prefun,
    edges: np.ndarray | None = None,
    trials: Sequence[str] | None = None,
    scheduler: Any = None,
) -> dict[Any, np.ndarray]:
    """Bin a dask synapse activation table, one task per partition: ``{group: array}``.

    With ``trials`` (sorted) and known divisions, the arrays have one row per trial of
    ``trials``; otherwise one per trial present in the table.
    """
    import dask

    _groupby_list(groupby)
    edges = bin_edges(0, 400, 1) if edges is None else np.asarray(edges, dtype=np.float64)
    use_trials = trials is not None and ddf.known_divisions
    parts = ddf.to_delayed()
    tasks = []
    for i, part in enumerate(parts):
        rows = _partition_trials(trials, ddf.divisions, i) if use_trials else None
        tasks.append(dask.delayed(_bin_partition)(part, groupby, prefun, edges, rows))
    results = dask.compute(*tasks, scheduler=scheduler)
    return merge_results_together([r for r, _ in results], [shape for _, shape in results])


def _group_key(key: Any) -> tuple[str, ...]:
    parts = tuple(str(k) for k in (key if isinstance(key, tuple) else (key,)))
    try:
        return normalize_key(parts)
    except DataBaseException as e:
        raise BinningError(
            f"the group {key!r} cannot name a key ({e}); group by a column whose values "
            "are valid key names, or derive one with prefun"
        ) from None


def save_groupby(
    db: DataBase, result: dict[Any, np.ndarray], groupby: str | Sequence[str], bin_size: float = 1
) -> None:
    """Store ``result`` in the sub-database ``('synapse_activation_binned', 't<bin_size>',
    '<groupby joined by __>')``, replacing what was there."""
    columns = _groupby_list(groupby)
    identifier = ("synapse_activation_binned", f"t{bin_size:g}", "__".join(columns))
    normalize_key(identifier)
    keys = {k: _group_key(k) for k in result}
    if identifier in db:
        del db[identifier]
    sub = db.create_sub_db(identifier)
    for key, array in result.items():
        sub.set(keys[key], np.ascontiguousarray(array), dumper="numpy_to_zarr")


def init(
    db: DataBase,
    groupby: str | Sequence[str] = "EI",
    scheduler: Any = None,
    prefun: Callable[..., pd.DataFrame] = prefun,
    maxtime: float = 400,
    *,
    applyfun: Callable[..., Any] = applyfun,
    postfun: Callable[..., np.ndarray] = postfun,
    bin_size: float = 1,
    min_time: float = 0,
    client: Any = None,
) -> None:
    """Bin ``db['synapse_activation']`` per trial and group and store the arrays (see the
    module docstring). ``scheduler`` or ``client`` choose where dask runs the binning;
    ``applyfun``/``postfun`` other than the defaults are ISF's hooks, called with
    ``maxtime=``."""
    import dask

    if "synapse_activation" not in db:
        raise BinningError(
            f"the database {db.basedir} has no key 'synapse_activation'; import a campaign "
            "first (zdb.db_initializers.load_simrun_general.init)"
        )
    ddf = db.get("synapse_activation", lazy=True)
    trials = None
    if "sim_trial_index" in db:
        trials = sorted(db["sim_trial_index"].tolist())
    edges = bin_edges(min_time, maxtime, bin_size)
    context = dask.config.set(scheduler=client) if client is not None else nullcontext()
    with context:
        if applyfun is _DEFAULT_APPLYFUN and postfun is _DEFAULT_POSTFUN:
            result = synapse_activation_postprocess_dask(
                ddf, groupby, prefun, edges, trials, scheduler=scheduler
            )
        else:
            _groupby_list(groupby)
            hooks = (partial(applyfun, maxtime=maxtime), partial(postfun, maxtime=maxtime))
            tasks = [
                dask.delayed(_hooked_partition)(part, groupby, prefun, *hooks)
                for part in ddf.to_delayed()
            ]
            done = [r for r in dask.compute(*tasks, scheduler=scheduler) if r[0]]
            result = merge_results_together([r for r, _ in done], [shape for _, shape in done])
    save_groupby(db, result, groupby, bin_size)


_DEFAULT_APPLYFUN = applyfun
_DEFAULT_POSTFUN = postfun
