"""One run of the import: :func:`init` orchestrates the stages (scan the campaign, build
the tables two at a time, copy the parameter files, write the metadata last)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ...analyze._common import is_data_array
from ...analyze.spike_detection import spike_detection
from ...database import DataBase
from ...simrun.activation import FIXED_COLUMNS
from .activation import TABLE_OF_KIND, ActivationSource
from .campaign import INDEX_NAME, Campaign, Trial, check_key_part, scan_campaign
from .parameter_files import import_parameterfiles
from .partitions import TableSource, build_table, store_planned, store_table, stored_table
from .progress import progress_bar
from .reporting import SimrunImportError, logger
from .spike_times import parsed_spike_table, store_spike_times
from .voltage_traces import VoltageSource

#: tables built at once (each in parallel): one's parsing overlaps another's writing
CONCURRENT_TABLES = 2


def _metadata(campaign: Campaign, trials: Sequence[Trial]) -> pd.DataFrame:
    def name(files: Mapping[int, str], trial: Trial) -> Any:
        return files.get(trial.number, np.nan)

    folders = [campaign.folder_of(t) for t in trials]
    return pd.DataFrame(
        {
            "sim_trial_index": pd.array([t.index for t in trials], dtype="str"),
            "path": pd.array([f.rel for f in folders], dtype="str"),
            "trialnr": pd.array([f"{t.number:06d}" for t in trials], dtype="str"),
            "voltage_traces_file_name": pd.array([f.trace_file for f in folders], dtype="str"),
            "synapses_file_name": pd.array(
                [name(f.synapse_files, t) for f, t in zip(folders, trials, strict=True)],
                dtype="str",
            ),
            "cells_file_name": pd.array(
                [name(f.cell_files, t) for f, t in zip(folders, trials, strict=True)],
                dtype="str",
            ),
        }
    )


def _previous_import(db: DataBase, simresult_path: str) -> pd.DataFrame:
    """The metadata of the import an incremental import adds to."""
    if "metadata" not in db or "simresult_path" not in db:
        raise SimrunImportError(
            f"the database {db.basedir} holds no complete import (keys 'metadata' and "
            "'simresult_path'); run init without incremental=True first"
        )
    previous = db["simresult_path"]
    if os.path.abspath(previous) != simresult_path:
        raise SimrunImportError(
            f"the database {db.basedir} holds an import of {previous}, not of "
            f"{simresult_path}; an incremental import adds result folders of the same "
            "campaign folder: import other campaigns into another database"
        )
    return db["metadata"]


#: ISF's keywords of ``init`` that zdb takes for compatibility and ignores
_ISF_IGNORED = ("repartition", "n_chunks", "dumper")


def _columns(table: Any) -> np.ndarray | None:
    """The time axis of a stored voltage-trace table (None for no table)."""
    return None if table is None else np.asarray(table.columns, dtype=np.float64)


#: a stored voltage-trace table up to this size is read into memory to detect spikes
EAGER_TRACE_BYTES = 256 * 2**20


def _stored_traces(db: DataBase, key: tuple[str, ...]) -> Any:
    """A stored voltage-trace table to detect spikes in: read into this process when it
    is small (a dask frame of thousands of columns costs dask more to build than
    reading it, and nothing then moves between workers), else its dask frame; None when
    there is none."""
    if key not in db:
        return None
    view = db.get(key, as_xarray=True, lazy=True)
    if is_data_array(view) and view.nbytes <= EAGER_TRACE_BYTES:
        return db.get(key, lazy=False)
    return stored_table(db, key)


class _Import:
    """One run of :func:`init`: the campaign, what was imported before, and the steps."""

    def __init__(
        self,
        db: DataBase,
        campaign: Campaign,
        old_meta: pd.DataFrame | None,
        step: Callable[[str], None],
    ) -> None:
        self.db = db
        self.campaign = campaign
        self.old_meta = old_meta
        self.incremental = old_meta is not None
        self.step = step
        known = set() if old_meta is None else set(old_meta["sim_trial_index"].tolist())
        self.new_trials = [t for t in campaign.trials if t.index not in known]
        #: trials to add to stored tables (None: tables are built from all trials)
        self.new = {t.index for t in self.new_trials} if self.incremental else None

    def _old(self, key: tuple[str, ...]) -> Any:
        """The stored table an incremental import merges into (None: build it anew)."""
        return stored_table(self.db, key) if self.incremental else None

    def _trials(self, old: Any) -> list[Trial]:
        return list(self.campaign.trials) if old is None else self.new_trials

    def table(self, source: TableSource, old: Any) -> tuple[bool, list[Any] | None]:
        """Build and store one table; return whether it changed and its held parsed new
        partitions (None when none are held: a new table is written by tasks that parse
        and write a row range each)."""
        if not source.trials:
            return False, None
        self.step("/".join(source.key))
        if old is None:
            plan = source.write_plan()
            if plan is not None:
                store_planned(self.db, plan)
                return True, None
        return True, store_table(self.db, build_table(source, old), merged=old is not None)

    def spikes(
        self,
        changed: bool,
        held: list[Any] | None,
        key: tuple[str, ...],
        target: tuple[str, ...],
        threshold: float,
    ) -> None:
        """Spike times of the traces at ``key``: of the partitions this run parsed and
        holds (``held``), merged into those stored at ``target`` when the traces were
        merged into stored ones; else of the stored traces."""
        if not changed and self.incremental and target in self.db:
            return  # neither the traces nor the spike times change
        self.step("/".join(target))
        merge = self.incremental and target in self.db
        if held is not None and (merge or not self.incremental):
            table = parsed_spike_table(held, threshold)
        else:
            vt = _stored_traces(self.db, key)
            if vt is None:
                raise SimrunImportError(
                    f"spike times need the voltage traces at key {key!r}, which the "
                    f"database {self.db.basedir} does not hold; import them first"
                )
            table, merge = spike_detection(vt, threshold=threshold), False
        store_spike_times(self.db, table, target, merge)

    def voltage_traces(self, spike_times: bool) -> None:
        key = ("voltage_traces",)
        old = self._old(key)
        source = VoltageSource(self.campaign, key, self._trials(old), None, _columns(old))
        changed, held = self.table(source, old)
        if spike_times:
            self.spikes(changed, held, key, ("spike_times",), 0.0)

    def activation(self, kind: str) -> None:
        key = (TABLE_OF_KIND[kind],)
        old = self._old(key)
        trials = self._trials(old)
        width = 0 if old is None else len(old.columns) - len(FIXED_COLUMNS[kind])
        self.table(ActivationSource(self.campaign, kind, trials, width), old)

    def dendritic_labels(self, threshold: float | None) -> list[str]:
        """The recording sites, checked to make keys; their sub-databases are created
        (here, before tables are written into them in parallel) and, in a new import,
        emptied of sites it does not have."""
        labels = self.campaign.dendritic_labels
        for label in labels:
            check_key_part(label, "the recording-site label")
            if threshold is not None:
                check_key_part(f"{label}_{threshold}", "the dendritic spike-time key")
        subs = [("dendritic_recordings", lambda k: k in labels)]
        if threshold is not None:
            subs.append(
                ("dendritic_spike_times", lambda k: any(k.startswith(f"{x}_") for x in labels))
            )
        for name, keep in subs if labels else []:
            sub = self.db.create_sub_db(name)
            if not self.incremental:
                for stale in [k for k in sub.keys() if not keep(k)]:
                    del sub[stale]
        return labels

    def dendritic(self, label: str, threshold: float | None) -> None:
        key = ("dendritic_recordings", label)
        old = self._old(key)
        source = VoltageSource(self.campaign, key, self._trials(old), label, _columns(old))
        changed, held = self.table(source, old)
        if threshold is not None:
            target = ("dendritic_spike_times", f"{label}_{threshold}")
            self.spikes(changed, held, key, target, threshold)

    def parameterfiles(self, path_map: Mapping[str, str]) -> None:
        self.step("parameterfiles")
        stored = None
        if self.incremental and "parameterfiles" in self.db:
            stored = self.db["parameterfiles"]
            if not self.new_trials:
                return
        trials = self.new_trials if stored is not None else list(self.campaign.trials)
        import_parameterfiles(
            self.db, self.campaign, trials, path_map, stored, prune=not self.incremental
        )

    def core(self) -> None:
        """``filelist``, ``sim_trial_index`` and, last, ``metadata``: the record of what
        is imported, which an incremental import reads."""
        self.step("metadata")
        campaign = self.campaign
        metadata = _metadata(campaign, self.new_trials)
        filelist = {os.path.join(f.rel, f.trace_file) for f in campaign.folders}
        if self.old_meta is not None:
            metadata = pd.concat([self.old_meta, metadata], ignore_index=True)
            metadata = metadata.sort_values("sim_trial_index", kind="stable")
            metadata = metadata.reset_index(drop=True)
            if "filelist" in self.db:
                filelist |= set(self.db["filelist"])
        self.db["filelist"] = sorted(filelist)
        self.db["sim_trial_index"] = pd.Index(
            metadata["sim_trial_index"].to_numpy(), dtype="str", name=INDEX_NAME
        )
        self.db.set("metadata", metadata, dumper="pandas_to_zarr")


@contextmanager
def _shared_threads() -> Iterator[None]:
    """With dask's threaded scheduler, one pool of its threads for the tables built at
    once: each computing in its own thread, they would each get a pool of their own,
    more threads than cores, which made the import slower than building one table
    at a time. Other schedulers (and a pool already configured) are left as they are."""
    import dask
    from dask import threaded
    from dask.base import get_scheduler
    from dask.system import CPU_COUNT

    # None: no scheduler set and no distributed client, so dask's default, threads
    if get_scheduler() not in (None, threaded.get) or dask.config.get("pool", None) is not None:
        yield
        return
    with ThreadPoolExecutor(dask.config.get("num_workers", None) or CPU_COUNT) as pool:
        with dask.config.set(pool=pool):
            yield


def init(
    db: DataBase,
    simresult_path: str | os.PathLike,
    core: bool = True,
    voltage_traces: bool = True,
    synapse_activation: bool = True,
    dendritic_voltage_traces: bool = True,
    parameterfiles: bool = True,
    spike_times: bool = True,
    dendritic_spike_times: bool = True,
    dendritic_spike_times_threshold: float = -30.0,
    client: Any = None,
    path_map: Mapping[str, str] | None = None,
    *,
    incremental: bool = False,
    on_incomplete: str = "skip",
    progress: bool = True,
    scheduler: Any = None,
    rewrite_in_optimized_format: bool = True,
    **isf_options: Any,
) -> None:
    """Import the simulation campaign at ``simresult_path`` into ``db`` (the keys are
    listed in the docstring of :mod:`zdb.db_initializers.load_simrun_general`).

    ``core``: the keys ``simresult_path``, ``filelist``, ``sim_trial_index`` and
    ``metadata``; ``voltage_traces``, ``synapse_activation`` (with ``cell_activation``),
    ``dendritic_voltage_traces``, ``parameterfiles``, ``spike_times`` and
    ``dendritic_spike_times`` (at ``dendritic_spike_times_threshold`` mV; only with
    dendritic traces) choose the other steps. ``client``: a ``distributed.Client`` to run
    on (or ``scheduler``, any dask scheduler; default: the active one). ``path_map``:
    ``{old prefix: new prefix}`` for absolute paths in parameter files, such as those of
    the cluster that ran the simulations; a file they reference that cannot be found
    raises, naming it. ``progress`` shows a tqdm progress bar. An incomplete result
    folder (activation or parameter files missing for the trials of its voltage traces,
    an unreadable voltage-trace file) is left out with a ``SimrunImportWarning`` naming it
    (``on_incomplete='skip'``) or stops the import (``'raise'``).

    Every key is replaced atomically; ``metadata`` is removed first and written last, so
    a database without it holds no complete import, and an interrupted import can simply
    be run again. With ``incremental=True`` the trials missing from
    the stored ``metadata`` (those of new result folders) are parsed and merged into the
    stored tables, which keep sorted, known divisions; imported trials stay as they
    are. ISF's keywords ``repartition``, ``n_chunks`` and ``dumper`` are accepted and
    ignored (zdb chooses partitions and stores every table with its own dumpers), and so
    is ``rewrite_in_optimized_format``: zdb always stores the data in its native format
    (ISF's ``False`` stored tables that point at the raw files).
    """
    import dask

    unknown = sorted(set(isf_options) - {*_ISF_IGNORED, "burst_times"})
    if unknown:
        raise TypeError(f"init() got unexpected keyword arguments {unknown}")
    if isf_options.get("burst_times"):
        raise SimrunImportError("burst_times is not supported (ISF deprecated it as well)")
    del rewrite_in_optimized_format  # accepted for ISF's callers: zdb always stores the data
    if incremental and not core:
        raise SimrunImportError("an incremental import needs core=True (it updates metadata)")
    root = str(Path(simresult_path).absolute())
    old_meta = _previous_import(db, root) if incremental else None
    chosen = client if client is not None else scheduler
    context = dask.config.set(scheduler=chosen) if chosen is not None else nullcontext()
    distributed = chosen is not None and "Client" in type(chosen).__name__
    with context, _shared_threads(), progress_bar(progress, distributed) as step:
        step("scanning result folders")
        campaign = scan_campaign(
            root,
            check_activation=synapse_activation,
            check_params=parameterfiles,
            on_incomplete=on_incomplete,
        )
        run = _Import(db, campaign, old_meta, step)
        if run.incremental and not run.new_trials:
            logger.info("simrun import: no new trials in %s", root)
        if not run.incremental:
            db["simresult_path"] = root
            if core and "metadata" in db:
                # written again last: until then the database shows no complete import
                del db["metadata"]
        # tables are built by concurrent jobs, so that one's parsing overlaps another's
        # writing and the cores stay busy; the largest first
        jobs: list[Callable[[], None]] = []
        if synapse_activation:
            jobs += [partial(run.activation, kind) for kind in FIXED_COLUMNS]
        if voltage_traces:
            jobs.append(partial(run.voltage_traces, spike_times))
        elif spike_times:
            spikes = partial(run.spikes, False, None, ("voltage_traces",), ("spike_times",), 0.0)
            jobs.append(spikes)
        if dendritic_voltage_traces:
            threshold = dendritic_spike_times_threshold if dendritic_spike_times else None
            for label in run.dendritic_labels(threshold):
                jobs.append(partial(run.dendritic, label, threshold))
        if parameterfiles:
            jobs.append(partial(run.parameterfiles, path_map or {}))
        with ThreadPoolExecutor(CONCURRENT_TABLES) as pool:
            for future in [pool.submit(job) for job in jobs]:
                future.result()
        if core:
            run.core()
        step("done")


def add_dendritic_voltage_traces(
    db: DataBase,
    rewrite_in_optimized_format: bool = True,
    dendritic_spike_times: bool = True,
    repartition: bool = True,
    dendritic_spike_times_threshold: float = -30.0,
    scheduler: Any = None,
    client: Any = None,
) -> None:
    """Import the dendritic voltage traces (and, with ``dendritic_spike_times``, their
    spike times at ``dendritic_spike_times_threshold`` mV) of the trials of an import
    into ``db`` (ISF's ``add_dendritic_voltage_traces``), for a database imported with
    ``dendritic_voltage_traces=False``. Only the trials in the stored ``metadata`` are
    read; the keys of each recording site are replaced. ``rewrite_in_optimized_format``
    and ``repartition`` are accepted for ISF's callers (zdb always stores the data)."""
    del rewrite_in_optimized_format, repartition
    if "metadata" not in db or "simresult_path" not in db:
        raise SimrunImportError(
            f"the database {db.basedir} holds no complete import (keys 'metadata' and "
            "'simresult_path'); run init first"
        )
    imported = set(db["metadata"]["sim_trial_index"].tolist())
    root = str(db["simresult_path"])
    chosen = client if client is not None else scheduler
    import dask

    context = dask.config.set(scheduler=chosen) if chosen is not None else nullcontext()
    with context:
        scanned = scan_campaign(root, check_activation=False, on_incomplete="skip")
        trials = tuple(t for t in scanned.trials if t.index in imported)
        campaign = Campaign(scanned.path, scanned.folders, trials)
        run = _Import(db, campaign, None, lambda _: None)
        threshold = dendritic_spike_times_threshold if dendritic_spike_times else None
        for label in run.dendritic_labels(threshold):
            run.dendritic(label, threshold)
