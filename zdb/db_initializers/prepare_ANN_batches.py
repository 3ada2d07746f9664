"""Binned inputs and outputs of simulation trials for training artificial neural networks
(ISF's ``data_base.db_initializers.prepare_ANN_batches``), with ISF's names.

The functions here turn an imported campaign's tables into the arrays ISF's ANN
training read: spike times as one-hot time vectors (:func:`spike_times_to_onehot`,
:func:`compute_AP_array`) and as time since the last spike (:func:`compute_ISI_array`),
synapse activations binned along the dendrite and in time
(:func:`augment_synapse_activation_df_with_branch_bin`,
:func:`get_synapse_activation_array_weighted`), voltage traces as their maximum per
millisecond (:func:`get_max_depolarization_per_ms`).

What differs from ISF, where ISF's behaviour was a defect (each function says so too):
``spike_times_to_onehot`` counts bins from ``min_time`` (ISF from 0, which shifted or
overflowed the vector when ``min_time`` was not 0) and keeps a spike at ``min_time``;
bin centres of a section are centres (ISF truncated them to the bins' starts);
``get_synapse_activation_array_weighted`` bins with ``bin_size`` (ISF always with 1 ms)
and the synaptic weights are used when given (ISF named an undefined variable).

ISF's functions that build the cell in NEURON (``get_section_distances_df``,
``get_bin_adjacency_map_in_section``, ``get_neighboring_spatial_bins``,
``load_syn_weights`` and the batch writer ``Init``) need ISF's ``single_cell_parser``
and are not here; :func:`get_spatial_bin_names` and the binning take the section table
``get_section_distances_df`` made.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from functools import partial
from typing import Any

import numpy as np
import pandas as pd

from ..analyze import excitatory
from ..analyze.spike_detection import spike_in_interval
from ..exceptions import DataBaseWarning, InvalidArgumentError
from ..utils import convertible_to_int


class InvalidSpikeTimesError(InvalidArgumentError, AssertionError):
    """Spike times that cannot be one-hot encoded (not one-dimensional, or negative).

    Also an ``AssertionError``: ISF checked them with ``assert``, and its callers catch
    that."""


class OutsideBinsError(InvalidArgumentError, RuntimeError):
    """A value outside the bins it should fall in (ISF raised RuntimeError)."""


def get_binsize(length: float, binsize_goal: float = 50) -> tuple[float, int]:
    """The bin size and number of bins that split ``length`` into equal bins whose size
    is closest to ``binsize_goal`` (at least one bin)."""
    n_bins = length / float(binsize_goal)
    n_lower = max(np.floor(n_bins), 1)
    n_upper = max(np.ceil(n_bins), 1)
    size_lower, size_upper = length / n_lower, length / n_upper
    if abs(binsize_goal - size_lower) < abs(binsize_goal - size_upper):
        return size_lower, int(n_lower)
    return size_upper, int(n_upper)


def get_bin(value: Any, bin_min: float, bin_max: float, n_bins: int, tolerance: float = 0.1) -> Any:
    """The bin (1 to ``n_bins``) of each value among ``n_bins`` equal bins from
    ``bin_min`` to ``bin_max``; the outer edges are widened by ``tolerance`` for rounding
    errors, and a value beyond them raises :class:`OutsideBinsError`."""
    edges = np.linspace(bin_min, bin_max, n_bins + 1)
    edges[0] -= tolerance
    edges[-1] += tolerance
    if np.max(value) >= edges[-1] or np.min(value) <= edges[0]:
        raise OutsideBinsError(
            f"value outside of bin_min={bin_min} and bin_max={bin_max} "
            f"(tolerance {tolerance}): min {np.min(value)}, max {np.max(value)}"
        )
    return np.digitize(value, edges)


def spike_times_to_onehot(
    spike_times: Sequence[float],
    min_time: float = 0,
    max_time: float = 505,
    time_step: float = 1,
) -> list[bool]:
    """A list of ``len(np.arange(min_time, max_time, time_step))`` flags, True where a
    spike falls in the bin ``[min_time + k * time_step, min_time + (k + 1) * time_step)``.

    Spikes at or after ``max_time`` are left out with a :class:`DataBaseWarning`.
    Spike times that are not one-dimensional or are negative raise
    :class:`InvalidSpikeTimesError` (an ``AssertionError``, as ISF's ``assert``)."""
    times = np.asarray(spike_times, dtype=float)
    if times.ndim != 1:
        raise InvalidSpikeTimesError(
            f"spike_times must be one-dimensional, not of shape {times.shape}"
        )
    if (times < 0).any():
        raise InvalidSpikeTimesError(
            f"negative spike times {times[times < 0].tolist()}: pass spike times as the "
            "first argument"
        )
    if (times >= max_time).any():
        warnings.warn(
            f"spike times at or after max_time={max_time} are left out of the one-hot "
            f"encoding: {times[times >= max_time].tolist()}",
            DataBaseWarning,
            stacklevel=2,
        )
    n_steps = len(np.arange(min_time, max_time, time_step))
    one_hot = [False] * n_steps
    for t in times[(times >= min_time) & (times < max_time)]:
        one_hot[min(int((t - min_time) // time_step), n_steps - 1)] = True
    return one_hot


def compute_ISI_from_st_list(  # noqa: N802 (ISF's name)
    st: Sequence[float], min_time: float = 0, max_time: float = 505, time_step: float = 1
) -> list[float]:
    """For each time point of ``np.arange(min_time, max_time, time_step)``: the time
    since the last spike of the list ``st`` before it, or the time point itself when
    there is none (ISF's convention)."""
    if isinstance(st, pd.DataFrame | pd.Series):
        raise InvalidArgumentError(
            "compute_ISI_from_st_list takes a list or array; use compute_ISI_from_st for "
            "pandas objects"
        )
    spikes = np.sort(np.asarray([t for t in st if min_time <= t <= max_time], dtype=float))
    out = []
    for point in np.arange(min_time, max_time, time_step):
        before = spikes[spikes < point]
        out.append(point - before[-1] if len(before) else point)
    return out


def compute_ISI_from_st(st: pd.DataFrame, timepoint: float, fillna: float | None = None) -> Any:
    """For each trial (row of the spike-time table ``st``): ``timepoint`` minus its last
    spike at or before ``timepoint``, ``fillna`` where it has none (required, as in ISF:
    ISF suggested the temporal window's width)."""
    if fillna is None:
        raise InvalidArgumentError("compute_ISI_from_st needs fillna (ISF required it)")
    before = st.where(~(st > timepoint))
    return (timepoint - before.max(axis=1)).fillna(fillna)


def compute_ISI_array(
    st: pd.DataFrame, min_time: float, max_time: float, fillna: float = 1000, step: float = 1
) -> np.ndarray:
    """:func:`compute_ISI_from_st` at each time of ``np.arange(min_time, max_time,
    step)``: an array of trials x time points."""
    columns = [
        np.asarray(compute_ISI_from_st(st, t, fillna)).reshape(-1, 1)
        for t in np.arange(min_time, max_time, step)
    ]
    return np.concatenate(columns, axis=1)


def compute_AP_array(  # noqa: N802 (ISF's name)
    st: pd.DataFrame, min_time: int, max_time: int, fillna: float = 1000, step: int = 1
) -> np.ndarray:
    """Trials x time bins ``[t, t + step)`` for ``t`` in ``range(min_time, max_time,
    step)``: whether the trial spikes in the bin. ``fillna`` is ISF's unused keyword."""
    columns = [
        np.asarray(spike_in_interval(st, t, t + step)).reshape(-1, 1)
        for t in range(min_time, max_time, step)
    ]
    return np.concatenate(columns, axis=1)


def get_spatial_bin_names(section_distances_df: pd.DataFrame) -> list[str]:
    """The names ``'<section>/<bin>'`` of every spatial bin of the section table ISF's
    ``get_section_distances_df`` made (columns ``min_``, ``max_``, ``n_bins``,
    ``binsize``): bins count from 1, and the soma (``n_bins == 'Soma'``) is bin 0."""
    names = []
    for index, row in section_distances_df.iterrows():
        if row["n_bins"] == "Soma":
            names.append(f"{index}/0")
        else:
            names.extend(f"{index}/{n + 1}" for n in range(int(row["n_bins"])))
    return names


def get_bin_soma_distances_in_section(
    section_id: int, section_distances_df: pd.DataFrame
) -> list[float]:
    """The soma distance of the centre of each bin of the section ``section_id``. ISF
    truncated ``i + 0.5`` to ``i`` and so gave each bin's start."""
    section = section_distances_df.iloc[int(section_id)]
    n_bins = int(section["n_bins"])
    width = (section["max_"] - section["min_"]) / n_bins
    return [section["min_"] + (i + 0.5) * width for i in range(n_bins)]


def augment_synapse_activation_df_with_branch_bin(
    sa_: pd.DataFrame,
    section_distances_df: pd.DataFrame | None = None,
    synaptic_weight_dict: dict[str, float] | None = None,
    excitatory_celltypes: Iterable[str] | None = None,
) -> pd.DataFrame:
    """``sa_`` (a synapse activation table) with the columns ``branch_bin`` (the bin of
    each synapse's soma distance within its section, 0 on the soma),
    ``section/branch_bin``, ``celltype`` (``synapse_type`` before its first ``_``),
    ``EI`` (``EXC`` for ``excitatory_celltypes``, default ISF's, else ``INH``) and, when
    ``synaptic_weight_dict`` maps synapse types to weights, ``syn_weight``."""
    if section_distances_df is None:
        raise InvalidArgumentError("section_distances_df is required (the section table)")
    exc = set(excitatory if excitatory_celltypes is None else excitatory_celltypes)
    parts = []
    for section, df in sa_.groupby("section_ID"):
        row = section_distances_df.loc[section]
        df = df.copy()
        if row["n_bins"] == "Soma":
            df["branch_bin"] = 0
        else:
            df["branch_bin"] = get_bin(df.soma_distance, row["min_"], row["max_"], row["n_bins"])
        parts.append(df)
    out = pd.concat(parts).sort_values(["synapse_type", "synapse_ID"]).sort_index(kind="stable")
    out["section/branch_bin"] = out["section_ID"].astype(str) + "/" + out["branch_bin"].astype(str)
    out["celltype"] = out.synapse_type.str.split("_").str[0]
    out["EI"] = np.where(out["celltype"].isin(exc), "EXC", "INH")
    if synaptic_weight_dict:
        out["syn_weight"] = out["synapse_type"].map(synaptic_weight_dict)
    return out


def temporal_binning_augmented_sa(
    sa_augmented: pd.DataFrame,
    min_time: float,
    max_time: float,
    bin_size: float,
    use_weights: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """The bin borders ``np.arange(min_time, max_time + bin_size, bin_size)`` and the
    histogram of all activation times (the columns named by integers) of
    ``sa_augmented``, each weighted by its synapse's ``syn_weight`` with
    ``use_weights``."""
    times = sa_augmented[[c for c in sa_augmented.columns if convertible_to_int(c)]].to_numpy(
        dtype=float
    )
    present = ~np.isnan(times)
    weights = None
    if use_weights:
        weights = np.broadcast_to(
            sa_augmented.syn_weight.to_numpy(dtype=float).reshape(-1, 1), times.shape
        )[present]
    borders = np.arange(min_time, max_time + bin_size, bin_size)
    return borders, np.histogram(times[present], borders, weights=weights)[0]


def get_synapse_activation_array_weighted(
    sa_: pd.DataFrame,
    selected_stis: Sequence[Any],
    spatial_bin_names: Sequence[str],
    min_time: float = 0,
    max_time: float = 600,
    bin_size: float = 1,
    use_weights: bool = False,
) -> np.ndarray:
    """The activations of an augmented synapse table as an array of trials
    (``selected_stis``) x ``EXC``/``INH`` x spatial bins (``spatial_bin_names``) x time
    bins of ``bin_size`` from ``min_time`` to ``max_time``; zeros where a trial has no
    synapse of a group. ISF binned with 1 ms whatever ``bin_size`` said."""
    fun = partial(
        temporal_binning_augmented_sa,
        min_time=min_time,
        max_time=max_time,
        bin_size=bin_size,
        use_weights=use_weights,
    )
    n_time = len(np.arange(min_time, max_time + bin_size, bin_size)) - 1
    trials = {sti: i for i, sti in enumerate(selected_stis)}
    groups = {"EXC": 0, "INH": 1}
    bins = {name: i for i, name in enumerate(spatial_bin_names)}
    array = np.zeros((len(trials), len(groups), len(bins), n_time))
    for (sti, ei, where), df in sa_.groupby([sa_.index, "EI", "section/branch_bin"]):
        if sti in trials and ei in groups and where in bins:
            array[trials[sti], groups[ei], bins[where], :] = fun(df)[1]
    return array


def get_time_groups(vt_pandas: pd.DataFrame) -> list[int]:
    """The millisecond of each column of a voltage trace table sampled every 0.025 ms
    (40 samples a millisecond, as ISF assumes)."""
    return [lv // 40 for lv in range(len(vt_pandas.columns))]


def get_max_per_ms_on_pandas_dataframe(vt_pandas: pd.DataFrame) -> pd.DataFrame:
    """The maximum of each trial's voltage in each millisecond (see
    :func:`get_time_groups`); columns are the milliseconds."""
    return vt_pandas.T.groupby(np.asarray(get_time_groups(vt_pandas))).max().T


def get_max_depolarization_per_ms(vt_dask: Any) -> Any:
    """:func:`get_max_per_ms_on_pandas_dataframe` on each partition of a dask table."""
    meta = {t: "float64" for t in get_time_groups(vt_dask.head())}
    return vt_dask.map_partitions(get_max_per_ms_on_pandas_dataframe, meta=meta)


__all__ = [
    "InvalidSpikeTimesError",
    "OutsideBinsError",
    "augment_synapse_activation_df_with_branch_bin",
    "compute_AP_array",
    "compute_ISI_array",
    "compute_ISI_from_st",
    "compute_ISI_from_st_list",
    "get_bin",
    "get_bin_soma_distances_in_section",
    "get_binsize",
    "get_max_depolarization_per_ms",
    "get_max_per_ms_on_pandas_dataframe",
    "get_spatial_bin_names",
    "get_synapse_activation_array_weighted",
    "get_time_groups",
    "spike_times_to_onehot",
    "temporal_binning_augmented_sa",
]
