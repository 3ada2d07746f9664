"""The voltage-trace tables: ``voltage_traces`` and ``dendritic_recordings/<site>``, one
row per trial and one column per time step."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from ...simrun.voltage_traces import read_time_axis, read_voltage_trace_arrays
from .campaign import INDEX_NAME, Campaign, ResultFolder, Trial
from .partitions import TableSource, WritePlan, bounds
from .reporting import SimrunImportError

#: name of the columns Index of voltage-trace tables (the time axis of their xarray view)
TIME_NAME = "t"
#: float64 bytes of a voltage-trace partition, as parsed and as stored, at most (about):
#: smaller tables are split into about TARGET_PARTITIONS (see :func:`.partitions.bounds`)
TRACE_PARTITION_BYTES = 64 * 2**20


def _trace_frame(values: np.ndarray, index: Sequence[str], t: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame(
        values,
        index=pd.Index(list(index), dtype="str", name=INDEX_NAME),
        columns=pd.Index(t, dtype=np.float64, name=TIME_NAME),
        copy=False,
    )


class ParsedTraces(NamedTuple):
    """A partition of a voltage-trace table as parsed: one row of ``values`` per trial
    of ``index``, sampled at ``t`` (as in ``path``, its first file). Held between tasks
    in this compact form: a DataFrame of thousands of columns costs dask much more to
    pass around (to size it, for one) than its data."""

    values: np.ndarray
    index: list[str]
    t: np.ndarray
    path: str


def _different_time_axes(path: str, t: np.ndarray, other: str, t_other: np.ndarray) -> str:
    def axis(x: np.ndarray) -> str:
        return f"{len(x)} samples from {x[0]}" if len(x) else "no samples"

    return (
        f"{path}: its time axis ({axis(t)}) differs from that of {other} ({axis(t_other)}); "
        "a table has one time axis: import campaigns with different time axes into "
        "separate databases"
    )


def parse_trace_partition(
    sources: Sequence[tuple[str, Sequence[int], Sequence[str]]],
) -> ParsedTraces:
    """One partition of a voltage-trace table: for each ``(file, trial numbers,
    sim_trial_indexes)`` the traces of those trials, one row each, in that order."""
    blocks = []
    labels: list[str] = []
    t = np.zeros(0)
    for i, (path, numbers, indexes) in enumerate(sources):
        file_t, trials, values = read_voltage_trace_arrays(path, use_threads=False)
        if i == 0:
            t = file_t
        elif not np.array_equal(file_t, t):
            raise SimrunImportError(_different_time_axes(path, file_t, sources[0][0], t))
        position = {n: i for i, n in enumerate(trials.tolist())}
        rows = [position[n] for n in numbers]
        blocks.append(values if rows == list(range(len(trials))) else values[rows])
        labels.extend(indexes)
    values = blocks[0] if len(blocks) == 1 else np.concatenate(blocks)
    return ParsedTraces(values, labels, t, sources[0][0])


def _time_axis(parsed: ParsedTraces) -> tuple[np.ndarray, str, int]:
    return parsed.t, parsed.path, len(parsed.index)


def traces_frame(parsed: ParsedTraces) -> pd.DataFrame:
    """The voltage-trace table of a parsed partition: float ``t`` labels the columns."""
    return _trace_frame(parsed.values, parsed.index, parsed.t)


def trace_rows(
    sources: Sequence[tuple[str, Sequence[int], Sequence[str]]], t: np.ndarray
) -> pd.DataFrame:
    """The voltage-trace table of one row range (as for :func:`parse_trace_partition`),
    whose files must all have the time axis ``t``."""
    parsed = parse_trace_partition(sources)
    if not np.array_equal(parsed.t, t):
        raise SimrunImportError(_different_time_axes(parsed.path, parsed.t, "the first file", t))
    return traces_frame(parsed)


def _trace_sources(
    campaign: Campaign, trials: Sequence[Trial], file_of: Callable[[ResultFolder], str]
) -> list[tuple[str, list[int], list[str]]]:
    out: list[tuple[str, list[int], list[str]]] = []
    for trial in trials:
        path = campaign.folder_of(trial).file(file_of(campaign.folder_of(trial)))
        if not out or out[-1][0] != path:
            out.append((path, [], []))
        out[-1][1].append(trial.number)
        out[-1][2].append(trial.index)
    return out


class VoltageSource(TableSource):
    """Somatic (``label`` None) or dendritic voltage traces: one row per trial. The time
    axis is that of the parsed files (all the same; in an incremental import, that of
    the stored table, ``t``)."""

    def __init__(
        self,
        campaign: Campaign,
        key: tuple[str, ...],
        trials: Sequence[Trial],
        label: str | None,
        t: np.ndarray | None = None,
    ) -> None:
        self.campaign = campaign
        self.label = label
        chosen = [
            t for t in trials if label is None or label in campaign.folder_of(t).dendritic_files
        ]
        super().__init__(key, chosen)
        self.t = t
        self.stored_t = t

    def file_of(self, folder: ResultFolder) -> str:
        return folder.trace_file if self.label is None else folder.dendritic_files[self.label]

    def _weights(self, trials: Sequence[Trial]) -> list[float]:
        """Per trial its share of its file, about twice its values as float64."""
        weight: dict[int, float] = {}
        for trial in trials:
            if trial.folder not in weight:
                folder = self.campaign.folders[trial.folder]
                size = os.path.getsize(folder.file(self.file_of(folder)))
                weight[trial.folder] = size / max(1, len(folder.trials))
        return [weight[t.folder] for t in trials]

    def plan(self, trials: Sequence[Trial]) -> list[Sequence[Trial]]:
        # a partition holds whole runs of one folder's trials: a file is parsed only once
        breaks = [i == 0 or trials[i].folder != trials[i - 1].folder for i in range(len(trials))]
        b = bounds(self._weights(trials), breaks, 2 * TRACE_PARTITION_BYTES)
        return [trials[b[i] : b[i + 1]] for i in range(len(b) - 1)]

    def parse(self, part: Sequence[Trial]) -> Any:
        import dask

        sources = _trace_sources(self.campaign, part, self.file_of)
        return dask.delayed(parse_trace_partition)(sources)

    def parsed(self, held: Sequence[Any]) -> None:
        import dask

        axes = dask.compute(*[dask.delayed(_time_axis)(h) for h in held])
        self.lengths = [n for _, _, n in axes]
        first_t, first_path, _ = axes[0]
        if self.stored_t is not None and not np.array_equal(first_t, self.stored_t):
            stored = f"the stored table {'/'.join(self.key)!r}"
            raise SimrunImportError(
                _different_time_axes(first_path, first_t, stored, self.stored_t)
            )
        for t, path, _ in axes[1:]:
            if not np.array_equal(t, first_t):
                raise SimrunImportError(_different_time_axes(path, t, first_path, first_t))
        self.t = first_t
        self.meta = _trace_frame(np.zeros((0, len(first_t))), [], first_t)

    def frame_function(self) -> Callable[..., pd.DataFrame]:
        return traces_frame

    def write_plan(self) -> WritePlan | None:
        """Each parsed partition (whole runs of one folder's trials, each file parsed
        once) is written by the task parsing it; the chunks divide the partitions when
        they are of one length, and a lazy read gives the same partitions.
        The time axis, which the columns need before anything is written, is read from
        the first file alone; each task checks its files against it."""

        parts = self.plan(self.trials)
        first = _trace_sources(self.campaign, parts[0], self.file_of)[0][0]
        t = read_time_axis(first)
        self.t = t
        self.meta = _trace_frame(np.zeros((0, len(t))), [], t)
        frames = [
            (trace_rows, (_trace_sources(self.campaign, part, self.file_of), t)) for part in parts
        ]
        lengths = [len(part) for part in parts]
        return WritePlan(
            key=self.key,
            meta=self.meta,
            frames=frames,
            lengths=lengths,
            chunk_rows=None,
            read_lengths=lengths,
            divisions=[part[0].index for part in parts] + [self.trials[-1].index],
        )
