"""Synthetic ISF simulation campaigns in the exact raw ("simrun") format, of any size.

Real campaigns are large and private; tests and benchmarks of the importer need the same
files, headers, separators, trailing commas and naming, with known content. A campaign
made by :func:`generate_campaign` looks like this::

    campaign/
        20150815-1530_10422/                      (naming="uid")
            10422_vm_all_traces.csv
            10422_<site label>_vm_dend_traces.csv   (one per dendritic site)
            simulation_run0000_synapses.csv, simulation_run0000_presynaptic_cells.csv, ...
            10422_neuron_model.param, 10422_network_model.param
        20150815-1543_seed1234_pid56789/          (naming="seed_pid")
            seed1234_pid56789_vm_all_traces.csv, ...
        20150815-1556_33333_running/              (an unfinished run an importer must skip)
    campaign_model_files/                         (beside the campaign)
        anatomical_constraints/synthetic_cell.hoc
        anatomical_constraints/synthetic_embedding/synthetic_embedding.syn, .con
        recording_sites.landmarkAscii

The ``.param`` files reference the model files by absolute paths, as on a cluster.
Somatic traces hold action potentials whose upward crossings of 0 mV are listed in the
returned :class:`CampaignInfo`, so spike detection can be checked exactly. The output is
a function of the arguments and ``seed`` alone.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from .exceptions import DataBaseException
from .simrun.activation import ActivationTable, write_activation_table
from .simrun.layout import RUNNING_SUFFIX, VM_ALL_TRACES_SUFFIX, VM_DEND_TRACES_SUFFIX, trial_file
from .simrun.parameter_files import write_param_file
from .simrun.voltage_traces import write_voltage_trace_arrays

Naming = Literal["uid", "seed_pid", "both"]

CELL_TYPES = (
    "L1_C2",
    "L23Trans_C2",
    "L2_C2",
    "L34_C2",
    "L45Peak_C2",
    "L45Sym_C2",
    "L5st_C2",
    "L5tt_C2",
    "L6cc_C2",
    "L6ct_C2",
    "VPM_C2",
    "L5tt_D2",
)
_INHIBITORY = ("L1_C2", "L45Sym_C2")
#: ISF's presynaptic cell types and barrel-cortex columns: realistic campaigns name
#: their synapses ``<type>_<column>`` (``L5tt_C2``, ``L1_B1``, ``VPM_C2``)
ISF_CELL_TYPES = (
    "L1", "L2", "L23Trans", "L34", "L45Peak", "L45Sym", "L4py", "L4sp", "L4ss",
    "L56Trans", "L5st", "L5tt", "L6cc", "L6ccinv", "L6ct", "VPM",
)  # fmt: skip
ISF_COLUMNS = (
    "A1", "A2", "A3", "A4", "Alpha", "B1", "B2", "B3", "B4", "Beta", "C1", "C2",
    "C3", "C4", "D1", "D2", "D3", "D4", "Delta", "E1", "E2", "E3", "E4", "Gamma",
)  # fmt: skip
#: inhibitory types of the realistic names (the rest are excitatory)
_ISF_INHIBITORY = ("L1", "L23Trans", "L45Sym", "L56Trans")
_N_DEND, _N_APICAL, _N_PTS = 8, 16, 11
_DEND_LENGTH, _APICAL_LENGTH = 60.0, 90.0
_DECIMALS = 10  # ISF's files hold about 12 significant digits


class CampaignGenerationError(DataBaseException):
    """The arguments of :func:`generate_campaign` cannot produce a campaign."""


@dataclass(frozen=True)
class ResultFolderInfo:
    """What one generated result folder holds."""

    path: Path
    #: prefix of the folder's files: ``10422`` or ``seed1234_pid56789``
    uid: str
    trials: tuple[int, ...]
    #: rows of each trial's ``simulation_runNNNN_synapses.csv``
    synapse_rows: tuple[int, ...]
    #: rows of each trial's ``simulation_runNNNN_presynaptic_cells.csv``
    cell_rows: tuple[int, ...]
    #: activation times in each trial's synapse file
    synapse_activations: tuple[int, ...]
    #: spike times in each trial's presynaptic cell file
    cell_spikes: tuple[int, ...]
    #: recording-site labels of the dendritic trace files, sorted
    dendritic_sites: tuple[str, ...]
    #: per trial, the times of the first samples at or above 0 mV after a sample below
    spike_times: tuple[tuple[float, ...], ...]
    neuron_param: Path
    network_param: Path


@dataclass(frozen=True)
class CampaignInfo:
    """Everything :func:`generate_campaign` wrote, for checking an importer against."""

    path: Path
    model_dir: Path
    #: the complete result folders, in name order
    folders: tuple[ResultFolderInfo, ...]
    #: the unfinished folder ending in ``_running``, if one was written
    running_folder: Path | None
    #: the files the parameter files reference: ``hoc``, ``landmark``, ``syn``, ``con``
    model_files: dict[str, Path]
    #: every file written, the running folder's and the model files included
    files: tuple[Path, ...]
    t_start: float
    dt: float
    n_samples: int

    @property
    def t(self) -> np.ndarray:
        """The time of each sample, as written in the first column of the trace files."""
        return _time_axis(self.t_start, self.dt, self.n_samples)

    @property
    def n_trials(self) -> int:
        """Trials in the complete result folders."""
        return sum(len(f.trials) for f in self.folders)

    @property
    def n_synapse_rows(self) -> int:
        return sum(sum(f.synapse_rows) for f in self.folders)

    @property
    def n_cell_rows(self) -> int:
        return sum(sum(f.cell_rows) for f in self.folders)

    @property
    def n_bytes(self) -> int:
        """Total size of the written files."""
        return sum(p.stat().st_size for p in self.files)


def _time_axis(t_start: float, dt: float, n_samples: int) -> np.ndarray:
    return np.round(t_start + dt * np.arange(n_samples), _DECIMALS)


# ---------------------------------------------------------------------------------------
# the model: morphology, recording sites, network embedding
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cell:
    labels: tuple[str, ...]  # per section
    start_distance: np.ndarray  # soma distance of each section's first point
    length: np.ndarray  # length of each section
    points: list[np.ndarray]  # 3-d points of each section, (_N_PTS, 3)

    def distance(self, section: np.ndarray, point: np.ndarray) -> np.ndarray:
        """Path distance to the soma of the given points of the given sections."""
        along = self.length[section] * point / (_N_PTS - 1)
        return np.where(section == 0, 0.0, self.start_distance[section] + along)


def _build_cell(rng: np.random.Generator) -> tuple[_Cell, list[str], list]:
    """A soma, basal dendrites around it and an apical trunk with side branches; also the
    section names and (parent, position) of each section for the ``.hoc`` file."""
    names = ["soma"]
    labels = ["Soma"]
    parents: list = [None]
    starts = [0.0]
    lengths = [20.0]
    soma_axis = np.linspace(-10.0, 10.0, _N_PTS)
    points = [np.column_stack([np.zeros(_N_PTS), soma_axis, np.zeros(_N_PTS)])]

    def add(name: str, label: str, parent: int, at: float, direction, length: float) -> int:
        origin = points[parent][int(round(at * (_N_PTS - 1)))]
        direction = np.asarray(direction, dtype=float)
        direction = direction / np.linalg.norm(direction)
        points.append(origin + np.linspace(0.0, length, _N_PTS)[:, None] * direction)
        names.append(name)
        labels.append(label)
        parents.append((parent, at))
        starts.append(0.0 if parent == 0 else starts[parent] + lengths[parent] * at)
        lengths.append(length)
        return len(names) - 1

    for i in range(_N_DEND):
        angle = 2 * np.pi * i / _N_DEND
        direction = [np.cos(angle), -1.0, np.sin(angle)]
        add(f"dend_{i + 1}", "Dendrite", 0, 0.0, direction, _DEND_LENGTH * rng.uniform(0.7, 1.3))
    trunk = 0
    for i in range(_N_APICAL):
        if i % 2 == 0:
            trunk = add(f"apical_{i + 1}", "ApicalDendrite", trunk, 1.0, [0, 1, 0], _APICAL_LENGTH)
        else:
            side = rng.normal(size=3)
            side[1] = abs(side[1])
            add(f"apical_{i + 1}", "ApicalDendrite", trunk, 0.5, side, 0.6 * _APICAL_LENGTH)
    cell = _Cell(tuple(labels), np.array(starts), np.array(lengths), points)
    return cell, names, parents


def _hoc_text(cell: _Cell, names: list[str], parents: list) -> str:
    """A NEURON ``.hoc`` morphology in the layout of ISF's files."""
    out = []
    for i, name in enumerate(names):
        out.append(f"{{create {name}}}\n")
        if parents[i] is not None:
            parent, at = parents[i]
            out.append(f"{{connect {name}(0), {names[parent]}({at:.6f})}}\n")
        out.append(f"{{access {name}}}\n{{nseg = 1}}\n{{pt3dclear()}}\n")
        diameter = 12.0 if i == 0 else 1.0
        for x, y, z in cell.points[i]:
            out.append(f"{{pt3dadd({x:.6f},{y:.6f},{z:.6f},{diameter:.6f})}}\n")
        out.append("\n")
    return "".join(out)


def _landmark_text(coordinates: np.ndarray) -> str:
    """An Amira landmark file (ISF's recording-site format)."""
    rows = "".join(f"{x:.15e} {y:.15e} {z:.15e}  \n" for x, y, z in coordinates)
    return (
        "# AmiraMesh 3D ASCII 2.0\n\n\n"
        f"define Markers {len(coordinates)}\n\n"
        'Parameters {\n    NumSets 1,\n    ContentType "LandmarkSet"\n}\n\n'
        "Markers { float[3] Coordinates } @1\n\n"
        f"# Data section follows\n@1\n{rows}\n"
    )


@dataclass(frozen=True)
class _Embedding:
    synapses: pd.DataFrame  # the fixed columns of the synapse files
    cells: pd.DataFrame  # the fixed columns of the presynaptic cell files
    synapse_x: np.ndarray
    synapse_cell: np.ndarray  # cell ID (within type) each synapse connects to


def cell_type_names(n: int) -> tuple[str, ...]:
    """``n`` distinct realistic presynaptic cell type names (``L5tt_C2``, ``L1_B1``,
    ``VPM_C2``, ...; at most 384), the columns nearest C2 first, in name order."""
    by_distance = sorted(
        ISF_COLUMNS, key=lambda c: (abs(ISF_COLUMNS.index(c) - ISF_COLUMNS.index("C2")), c)
    )
    names = [f"{t}_{c}" for c in by_distance for t in ISF_CELL_TYPES]
    if not 0 < n <= len(names):
        raise CampaignGenerationError(f"n_cell_types must be between 1 and {len(names)}, got {n!r}")
    return tuple(sorted(names[:n]))


def _build_embedding(
    rng: np.random.Generator,
    cell: _Cell,
    n_synapses: int,
    n_cells: int,
    cell_types: tuple[str, ...] = CELL_TYPES,
) -> _Embedding:
    """Synapses spread over the cell's sections and presynaptic cells, both grouped by
    cell type in name order (as ISF lists them), each synapse wired to a cell of its
    type; every type used has at least one cell."""
    n_types = len(cell_types) if n_cells == 0 else min(len(cell_types), n_cells)
    types = np.array(sorted(cell_types[:n_types]))
    even = [1 / n_types] * n_types
    cells_per_type = np.full(n_types, 1 if n_cells else 0) + rng.multinomial(
        max(n_cells - n_types, 0) if n_cells else 0, even
    )
    synapses_per_type = rng.multinomial(n_synapses, even)
    syn_type_index = np.repeat(np.arange(n_types), synapses_per_type)
    labels = np.array(cell.labels)
    weights = np.where(labels == "Soma", 0.2, np.where(labels == "Dendrite", 1.0, 1.2))
    section = rng.choice(len(labels), size=n_synapses, p=weights / weights.sum())
    point = rng.integers(0, _N_PTS, size=n_synapses)
    distance = np.round(cell.distance(section, point) + rng.uniform(0, 1, n_synapses), 8)
    synapses = pd.DataFrame(
        {
            "synapse_type": pd.array(types[syn_type_index], dtype="str"),
            "synapse_ID": np.concatenate([np.arange(k) for k in synapses_per_type]),
            "soma_distance": distance,
            "section_ID": section.astype(np.int64),
            "section_pt_ID": point.astype(np.int64),
            "dendrite_label": pd.array(labels[section], dtype="str"),
        }
    )
    cells = pd.DataFrame(
        {
            "presynaptic_cell_type": pd.array(np.repeat(types, cells_per_type), dtype="str"),
            "cell_ID": np.concatenate([np.arange(k) for k in cells_per_type]),
        }
    )
    synapse_cell = rng.integers(0, np.maximum(cells_per_type[syn_type_index], 1))
    return _Embedding(synapses, cells, point / (_N_PTS - 1), synapse_cell)


def _syn_text(embedding: _Embedding, cell_name: str) -> str:
    s = embedding.synapses
    rows = "".join(
        f"{t}\t{sec}\t{x!r}\n"
        for t, sec, x in zip(
            s["synapse_type"], s["section_ID"].tolist(), embedding.synapse_x.tolist(), strict=True
        )
    )
    return (
        "# Synapse distribution file\n"
        f"# corresponding to cell: {cell_name}\n"
        "# Type - section - section.x\n\n" + rows
    )


def _con_text(embedding: _Embedding, syn_name: str) -> str:
    s = embedding.synapses
    rows = "".join(
        f"{t}\t{c}\t{i}\n"
        for t, c, i in zip(
            s["synapse_type"],
            embedding.synapse_cell.tolist(),
            s["synapse_ID"].tolist(),
            strict=True,
        )
    )
    return (
        "# Anatomical connectivity realization file; only valid with synapse realization:\n"
        f"# {syn_name}\n"
        "# Type - cell ID - synapse ID\n\n" + rows
    )


def _neuron_params(hoc: Path, landmark: Path, t_stop: float, dt: float) -> dict:
    def section(cm: float, mechanisms: dict) -> dict:
        return {
            "properties": {"Ra": 100.0, "cm": cm, "ions": {"ek": -85.0, "ena": 50.0}},
            "mechanisms": {"global": {}, "range": mechanisms},
        }

    passive = {"spatial": "uniform", "g": 3.26e-05, "e": -90}
    return {
        "info": {"name": "synthetic_cell", "author": "zdb.synthetic", "date": "15Aug2015"},
        "NMODL_mechanisms": {"channels": "/"},
        "mech_globals": {},
        "neuron": {
            "filename": str(hoc),
            "Soma": section(
                1.0,
                {"pas": passive, "NaTa_t": {"spatial": "uniform", "gNaTa_tbar": 2.43}},
            ),
            "Dendrite": section(2.0, {"pas": passive}),
            "ApicalDendrite": section(
                2.0,
                {
                    "pas": passive,
                    "Ih": {
                        "spatial": "exponential",
                        "distance": "relative",
                        "gIhbar": 0.0002,
                        "offset": -0.8696,
                        "linScale": 2.087,
                        "_lambda": 3.6161,
                        "xOffset": 0.0,
                    },
                },
            ),
        },
        "sim": {
            "Vinit": -75.0,
            "tStart": 0.0,
            "tStop": t_stop,
            "dt": dt,
            "T": 34.0,
            "recordingSites": [str(landmark)],
        },
    }


def _network_params(embedding: _Embedding, syn: Path, con: Path, t_stop: float) -> dict:
    counts = embedding.cells["presynaptic_cell_type"].value_counts()
    network = {}
    for cell_type in sorted(counts.index):
        inhibitory = cell_type in _INHIBITORY or (
            cell_type not in CELL_TYPES and cell_type.split("_")[0] in _ISF_INHIBITORY
        )
        if inhibitory:
            parameter = {"decaytime": 20.0, "risetime": 1.0, "e": -80.0}
            receptor = {"gaba_syn": {"threshold": 0.0, "delay": 0.0, "weight": 1.0}}
            receptor["gaba_syn"]["parameter"] = parameter
        else:
            parameter = {"tau1": 26.0, "tau2": 2.0, "tau3": 2.0, "tau4": 0.1}
            receptor = {"glutamate_syn": {"threshold": 0.0, "delay": 0.0, "weight": [1.68, 1.68]}}
            receptor["glutamate_syn"]["parameter"] = parameter
        network[cell_type] = {
            "synapses": {
                "releaseProb": 0.25 if inhibitory else 0.6,
                "distributionFile": str(syn),
                "receptors": receptor,
                "connectionFile": str(con),
            },
            "cellNr": int(counts[cell_type]),
            "celltype": {
                "pointcell": {
                    "distribution": "PSTH",
                    "intervals": [(0.0, 1.0), (2.0, 3.0)],
                    "probabilities": [0.01, 0.02],
                    "offset": t_stop - 100.0,
                },
                "spiketrain": {"interval": 142.9},
            },
        }
    return {
        "info": {"name": "synthetic_network", "author": "zdb.synthetic", "date": "15Aug2015"},
        "network": network,
        "NMODL_mechanisms": {"synapses": "/", "VecStim": "/"},
    }


def _write_model(
    model_dir: Path,
    rng: np.random.Generator,
    n_sites: int,
    n_synapses: int,
    n_cells: int,
    cell_types: tuple[str, ...],
) -> tuple[dict[str, Path], _Embedding, tuple[str, ...]]:
    """Write the morphology, recording sites and embedding; return what the folders need."""
    cell, names, parents = _build_cell(rng)
    anatomy = model_dir / "anatomical_constraints"
    embedding_dir = anatomy / "synthetic_embedding"
    embedding_dir.mkdir(parents=True, exist_ok=True)
    files = {
        "hoc": anatomy / "synthetic_cell.hoc",
        "landmark": model_dir / "recording_sites.landmarkAscii",
        "syn": embedding_dir / "synthetic_embedding.syn",
        "con": embedding_dir / "synthetic_embedding.con",
    }
    embedding = _build_embedding(rng, cell, n_synapses, n_cells, cell_types)
    apical = [i for i, label in enumerate(cell.labels) if label == "ApicalDendrite"]
    sites, coordinates = [], []
    for i in range(n_sites):
        sec = apical[(i * 5) % len(apical)]
        x = round(float(rng.uniform(0.05, 0.95)), 3)
        distance = cell.start_distance[sec] + cell.length[sec] * x
        sites.append(
            f"{files['landmark'].stem}_ID_{i:03d}_sec_{sec:03d}_seg_{int(x * 50):03d}"
            f"_x_{x:.3f}_somaDist_{distance:.1f}"
        )
        coordinates.append(cell.points[sec][int(round(x * (_N_PTS - 1)))])
    files["hoc"].write_text(_hoc_text(cell, names, parents))
    files["landmark"].write_text(_landmark_text(np.array(coordinates).reshape(-1, 3)))
    files["syn"].write_text(_syn_text(embedding, files["hoc"].stem))
    files["con"].write_text(_con_text(embedding, files["syn"].name))
    return files, embedding, tuple(sorted(sites))


# ---------------------------------------------------------------------------------------
# traces and activations
# ---------------------------------------------------------------------------------------


def _spike_template(dt: float) -> np.ndarray:
    """An action potential added to the resting potential: ~95 mV up within 0.2 ms, back
    within a millisecond, then an afterhyperpolarisation of ~8 mV decaying over 10 ms."""
    tau = np.arange(int(round(12.0 / dt))) * dt
    spike = np.exp(-tau / 0.5) - np.exp(-tau / 0.1)
    ahp = np.exp(-tau / 4.0) - np.exp(-tau / 0.8)
    return 95.0 * spike / spike.max() - 8.0 * ahp / ahp.max()


def _voltage_traces(
    rng: np.random.Generator, n_trials: int, n_samples: int, dt: float, spikes_per_trial: float
) -> np.ndarray:
    """Somatic traces: resting potential, smoothed noise, slow drift and spikes."""
    width = max(int(round(1.0 / dt)), 1)
    walk = np.cumsum(rng.standard_normal((n_trials, n_samples + width)), axis=1)
    noise = (walk[:, width:] - walk[:, :-width]) / np.sqrt(width)
    time = np.arange(n_samples) * dt
    phase = rng.uniform(0, 2 * np.pi, (n_trials, 1))
    drift = 2.0 * np.sin(2 * np.pi * time / rng.uniform(80, 300, (n_trials, 1)) + phase)
    v = rng.normal(-65.0, 2.0, (n_trials, 1)) + noise + drift
    template = _spike_template(dt)
    refractory = int(round(15.0 / dt))
    last_onset = n_samples - int(round(1.5 / dt))
    for trial, count in enumerate(rng.poisson(spikes_per_trial, n_trials)):
        if last_onset <= 1 or count == 0:
            continue
        onsets = np.sort(rng.integers(1, last_onset, count))
        kept = [onsets[0]]
        for onset in onsets[1:]:
            if onset - kept[-1] >= refractory:
                kept.append(onset)
        for onset in kept:
            stop = min(n_samples, onset + len(template))
            v[trial, onset:stop] += template[: stop - onset]
    return np.round(v, _DECIMALS)


def _dendritic_traces(rng: np.random.Generator, soma: np.ndarray, dt: float) -> np.ndarray:
    """A dendritic site: attenuated, delayed soma potential with its own noise."""
    if soma.size == 0:
        return soma.copy()
    gain = rng.uniform(0.3, 0.9)
    delay = int(round(rng.uniform(0.1, 1.0) / dt))
    rest = np.median(soma, axis=1, keepdims=True)
    shifted = np.concatenate([np.repeat(soma[:, :1], delay, axis=1), soma], axis=1)
    shifted = shifted[:, : soma.shape[1]]
    noise = 0.3 * rng.standard_normal(soma.shape)
    return np.round(rest + rng.uniform(-3, 3) + gain * (shifted - rest) + noise, _DECIMALS)


def _crossings(t: np.ndarray, v: np.ndarray) -> tuple[tuple[float, ...], ...]:
    up = (v[:, 1:] >= 0.0) & (v[:, :-1] < 0.0)
    return tuple(tuple(t[1:][row].tolist()) for row in up)


#: share of rows of a trial that burst (1 to ``max_activations_per_synapse`` times)
_BURST_FRACTION = 1e-3


def _activations(
    rng: np.random.Generator,
    fixed: pd.DataFrame,
    kind: str,
    mean: float,
    t_stop: float,
    empty_fraction: float,
    max_count: int | None = None,
) -> ActivationTable:
    n = len(fixed)
    if max_count is None:
        counts = 1 + rng.poisson(max(mean - 1.0, 0.0), n)
    else:
        # most synapses are active once or twice, a few burst (ISF's files: 1 time on
        # 83 % of the rows, 2 on 14 %, ...)
        counts = np.minimum(rng.geometric(1.0 / max(mean, 1.0), n), max_count)
        burst = rng.random(n) < _BURST_FRACTION
        counts[burst] = rng.integers(1, max_count + 1, int(burst.sum()))
    if empty_fraction > 0:
        counts[rng.random(n) < empty_fraction] = 0
    rows = np.repeat(np.arange(n), counts)
    times = np.round(rng.uniform(0.0, t_stop, len(rows)), _DECIMALS)
    times = times[np.lexsort((times, rows))]
    return ActivationTable(kind, fixed, times, counts.astype(np.int64))


# ---------------------------------------------------------------------------------------
# the campaign
# ---------------------------------------------------------------------------------------


def _trial_synapses(
    rng: np.random.Generator, pool: pd.DataFrame, n_rows: int, n_types: int | None
) -> pd.DataFrame:
    """The synapses active in one trial: ``n_rows`` of the ``pool`` (the embedding), of
    ``n_types`` of its cell types chosen at random, in the pool's order (all of the pool
    when ``n_types`` is None)."""
    if n_types is None:
        return pool
    present = pool["synapse_type"].unique()
    chosen = rng.choice(present, size=min(n_types, len(present)), replace=False)
    candidates = np.flatnonzero(pool["synapse_type"].isin(chosen).to_numpy())
    rows = np.sort(rng.choice(candidates, size=min(n_rows, len(candidates)), replace=False))
    return pool.iloc[rows].reset_index(drop=True)


def _folder_names(rng: np.random.Generator, n: int, naming: Naming) -> list[tuple[str, str]]:
    """(folder name, uid) of ``n`` folders: pids and seeds unique, times 13 min apart."""
    pids = rng.choice(np.arange(10000, 100000), size=n, replace=False)
    seeds = rng.integers(0, 2**31, size=n)
    start = datetime(2015, 8, 15, 15, 30)
    out = []
    for i in range(n):
        stamp = (start + timedelta(minutes=13 * i)).strftime("%Y%m%d-%H%M")
        style = naming if naming != "both" else ("uid", "seed_pid")[i % 2]
        uid = str(pids[i]) if style == "uid" else f"seed{seeds[i]}_pid{pids[i]}"
        out.append((f"{stamp}_{uid}", uid))
    return out


#: synapses of the embedding per synapse active in a trial (``cell_types_per_trial``)
_POOL_FACTOR = 4

#: the shape of a realistic barrel-cortex campaign (keywords of :func:`generate_campaign`):
#: 375 cell types, about 1,100 synapses of about 270 types per trial with up to 22
#: activation times each, 600 presynaptic cells, one dendritic site; 5 folders x 200
#: trials x 4,000 samples make about 210 MB of CSV in 2,010 files
REALISTIC: dict[str, Any] = {
    "n_folders": 5,
    "trials_per_folder": 200,
    "n_samples": 4000,
    "n_cell_types": 375,
    "cell_types_per_trial": 270,
    "synapses_per_trial": 1100,
    "activations_per_synapse": 1.2,
    "max_activations_per_synapse": 22,
    "cells_per_trial": 600,
    "spikes_per_cell": 1.75,
    "n_dendritic_sites": 1,
}


def generate_campaign(
    path: str | os.PathLike,
    n_folders: int = 5,
    trials_per_folder: int = 200,
    n_samples: int = 4000,
    *,
    t_start: float = 100.0,
    dt: float = 0.025,
    synapses_per_trial: int = 500,
    cells_per_trial: int = 400,
    activations_per_synapse: float = 1.5,
    spikes_per_cell: float = 1.5,
    spikes_per_trial: float = 1.5,
    n_dendritic_sites: int = 2,
    naming: Naming = "uid",
    running_folder: bool = True,
    empty_activation_fraction: float = 0.0,
    model_dir: str | os.PathLike | None = None,
    seed: int = 0,
    n_cell_types: int | None = None,
    cell_types_per_trial: int | None = None,
    max_activations_per_synapse: int | None = None,
) -> CampaignInfo:
    """Write a synthetic simulation campaign to the new folder ``path``.

    ``n_folders`` result folders of ``trials_per_folder`` trials each, traces of
    ``n_samples`` samples from ``t_start`` in steps of ``dt`` (ms) at the soma and at
    ``n_dendritic_sites`` dendritic sites; per trial ``synapses_per_trial`` synapse rows
    with on average ``activations_per_synapse`` activation times (at least one, unless a
    row is emptied with probability ``empty_activation_fraction``) and ``cells_per_trial``
    presynaptic cell rows with ``spikes_per_cell`` spike times; somatic spikes are
    Poisson with mean ``spikes_per_trial`` per trial. ``naming`` chooses the folder names
    (``"both"`` alternates). With ``running_folder`` an unfinished folder ending in
    ``_running`` is added: voltage traces of all its trials but activation files for only
    half of them. Model files go to ``model_dir`` (default: ``<path>_model_files`` beside
    the campaign).

    The realistic shape of a barrel-cortex campaign (:data:`REALISTIC` holds it) is
    chosen by three parameters: ``n_cell_types`` presynaptic cell types named like
    ISF's (``L5tt_C2``, ``L1_B1``, ``VPM_C2``; default: 12 types of column C2); with
    ``cell_types_per_trial`` each trial's synapse file lists ``synapses_per_trial``
    synapses of that many types, drawn from an embedding of four times as many (default:
    every trial lists the whole embedding); with ``max_activations_per_synapse`` the
    activation times per row are geometric with mean ``activations_per_synapse`` and a
    few rows burst up to that many (default: one plus a Poisson number, unbounded).
    """
    path = Path(path).absolute()
    model_dir = (
        Path(model_dir).absolute() if model_dir else path.with_name(f"{path.name}_model_files")
    )
    if naming not in ("uid", "seed_pid", "both"):
        raise CampaignGenerationError(f"naming must be 'uid', 'seed_pid' or 'both', not {naming!r}")
    for name, value in [
        ("n_folders", n_folders),
        ("trials_per_folder", trials_per_folder),
        ("n_samples", n_samples),
        ("synapses_per_trial", synapses_per_trial),
        ("cells_per_trial", cells_per_trial),
        ("n_dendritic_sites", n_dendritic_sites),
        ("cell_types_per_trial", cell_types_per_trial or 0),
        ("max_activations_per_synapse", max_activations_per_synapse or 0),
    ]:
        if int(value) != value or value < 0:
            raise CampaignGenerationError(f"{name} must be a non-negative integer, got {value!r}")
    if path.exists() and any(path.iterdir()):
        raise CampaignGenerationError(
            f"{path} exists and is not empty; give a new folder for the campaign"
        )
    if model_dir.exists() and any(model_dir.iterdir()):
        raise CampaignGenerationError(
            f"model folder {model_dir} exists and is not empty; pass another model_dir"
        )
    path.mkdir(parents=True, exist_ok=True)

    root = np.random.SeedSequence(seed)
    model_seed, names_seed, *folder_seeds = root.spawn(2 + n_folders + 1)
    cell_types = CELL_TYPES if n_cell_types is None else cell_type_names(n_cell_types)
    model_files, embedding, sites = _write_model(
        model_dir,
        np.random.default_rng(model_seed),
        n_dendritic_sites,
        synapses_per_trial * (1 if cell_types_per_trial is None else _POOL_FACTOR),
        cells_per_trial,
        cell_types,
    )
    files: list[Path] = list(model_files.values())
    t = _time_axis(t_start, dt, n_samples)
    t_stop = float(t[-1]) if n_samples else t_start
    neuron = _neuron_params(model_files["hoc"], model_files["landmark"], t_stop, dt)
    network = _network_params(embedding, model_files["syn"], model_files["con"], t_stop)
    names = _folder_names(np.random.default_rng(names_seed), n_folders + 1, naming)

    def write_folder(index: int, complete: bool) -> ResultFolderInfo:
        rng = np.random.default_rng(folder_seeds[index])
        name, uid = names[index]
        folder = path / (name if complete else name + RUNNING_SUFFIX)
        folder.mkdir()
        trials = tuple(range(trials_per_folder))
        soma = _voltage_traces(rng, trials_per_folder, n_samples, dt, spikes_per_trial)
        written = [folder / f"{uid}{VM_ALL_TRACES_SUFFIX}"]
        write_voltage_trace_arrays(written[0], t, trials, soma)
        for site in sites:
            written.append(folder / f"{uid}_{site}{VM_DEND_TRACES_SUFFIX}")
            write_voltage_trace_arrays(written[-1], t, trials, _dendritic_traces(rng, soma, dt))
        tables: dict[str, list[ActivationTable]] = {"synapses": [], "presynaptic_cells": []}
        for trial in trials[: None if complete else len(trials) // 2]:
            synapses = _trial_synapses(
                rng, embedding.synapses, synapses_per_trial, cell_types_per_trial
            )
            for kind, fixed, mean in [
                ("synapses", synapses, activations_per_synapse),
                ("presynaptic_cells", embedding.cells, spikes_per_cell),
            ]:
                table = _activations(
                    rng,
                    fixed,
                    kind,
                    mean,
                    t_stop,
                    empty_activation_fraction,
                    max_activations_per_synapse,
                )
                written.append(trial_file(folder, trial, kind))
                write_activation_table(written[-1], table)
                tables[kind].append(table)
        neuron_param = folder / f"{uid}_neuron_model.param"
        network_param = folder / f"{uid}_network_model.param"
        write_param_file(neuron_param, neuron)
        write_param_file(network_param, network)
        files.extend([*written, neuron_param, network_param])
        return ResultFolderInfo(
            path=folder,
            uid=uid,
            trials=trials,
            synapse_rows=tuple(len(x.fixed) for x in tables["synapses"]),
            cell_rows=tuple(len(x.fixed) for x in tables["presynaptic_cells"]),
            synapse_activations=tuple(len(x.times) for x in tables["synapses"]),
            cell_spikes=tuple(len(x.times) for x in tables["presynaptic_cells"]),
            dendritic_sites=sites,
            spike_times=_crossings(t, soma),
            neuron_param=neuron_param,
            network_param=network_param,
        )

    folders = [write_folder(i, complete=True) for i in range(n_folders)]
    running = write_folder(n_folders, complete=False).path if running_folder else None
    return CampaignInfo(
        path=path,
        model_dir=model_dir,
        folders=tuple(sorted(folders, key=lambda f: f.path.name)),
        running_folder=running,
        model_files=model_files,
        files=tuple(files),
        t_start=t_start,
        dt=dt,
        n_samples=n_samples,
    )
