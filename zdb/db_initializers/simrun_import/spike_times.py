"""Spike times: ``spike_times`` and ``dendritic_spike_times/<site>_<threshold>``, the
upward threshold crossings of the voltage traces."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ...analyze.spike_detection import padded_frame, spike_detection, spike_times_from_arrays
from ...database import DataBase
from .campaign import INDEX_NAME, check_key_part
from .partitions import stored_table
from .reporting import SimrunImportError
from .voltage_traces import ParsedTraces


def _parsed_spikes(parsed: ParsedTraces, threshold: float) -> tuple:
    counts, times = spike_times_from_arrays(parsed.t, parsed.values, threshold)
    return pd.Index(parsed.index, dtype="str", name=INDEX_NAME), counts, times


def _spike_frame(results: Sequence[tuple[pd.Index, np.ndarray, np.ndarray]]) -> pd.DataFrame:
    if not results:
        return padded_frame(pd.Index([], dtype="str", name=INDEX_NAME), np.zeros(0, int), [])
    index = results[0][0].append([r[0] for r in results[1:]])
    counts = np.concatenate([r[1] for r in results])
    times = np.concatenate([r[2] for r in results])
    return padded_frame(index, counts, times)


def parsed_spike_table(held: Sequence[Any], threshold: float) -> pd.DataFrame:
    """Spike times of held parsed voltage-trace partitions (see :func:`hold`)."""
    import dask

    parts = [dask.delayed(_parsed_spikes)(h, threshold) for h in held]
    return _spike_frame(dask.compute(*parts))


def store_spike_times(
    db: DataBase, table: pd.DataFrame, target: tuple[str, ...], merge: bool
) -> None:
    """Store spike times at ``target``; with ``merge``, the rows of ``table`` replace or
    join those stored there."""
    old = db[target] if merge and target in db else None
    if old is not None:
        table = pd.concat([old[~old.index.isin(table.index)], table]).sort_index(kind="stable")
        table = table.reindex(columns=pd.RangeIndex(max(old.shape[1], table.shape[1])))
        table = table.astype(np.float64)
    db.set(target, table, dumper="pandas_to_zarr")


def add_dendritic_spike_times(db: DataBase, dendritic_spike_times_threshold: float = -30.0) -> None:
    """Store the spike times of every table in ``db['dendritic_recordings']`` at another
    threshold, as ``dendritic_spike_times/<site label>_<threshold>`` (as ISF does)."""
    if "dendritic_recordings" not in db:
        raise SimrunImportError(
            f"the database {db.basedir} has no dendritic recordings; import them first"
        )
    for label in db["dendritic_recordings"].keys():
        target = ("dendritic_spike_times", f"{label}_{dendritic_spike_times_threshold}")
        check_key_part(target[1], "the dendritic spike-time key")
        vt = stored_table(db, ("dendritic_recordings", label))
        table = spike_detection(vt, threshold=dendritic_spike_times_threshold)
        store_spike_times(db, table, target, merge=False)
