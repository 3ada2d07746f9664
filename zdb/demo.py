"""A demo database of generated, simulation-like data (for the README's quickstart)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .database import DataBase


def build(path: str, n_trials: int = 200, seed: int = 0) -> DataBase:
    """Create a database at ``path`` holding a small generated simulation campaign."""
    rng = np.random.default_rng(seed)
    db = DataBase(path)
    t = np.round(np.arange(0, 250, 0.025), 3)
    noise = rng.normal(0, 1.5, size=(n_trials, t.size)).cumsum(axis=1) * 0.05
    vm = -70 + noise
    spikes = rng.random((n_trials, t.size)) < 2e-4
    vm[spikes] = 30.0
    db["voltage_traces"] = vm
    db["t"] = t
    db["parameters"] = {
        "neuron": {"morphology": "86_C2_center.hoc", "celsius": 34.0},
        "network": {"n_trials": n_trials, "seed": seed, "cell_types": tuple(CELLS)},
    }
    trial, sample = np.nonzero(spikes)
    db["spike_times"] = pd.DataFrame(
        {"trial": trial, "t": t[sample], "cell_type": pd.Categorical(rng.choice(CELLS, trial.size))}
    ).set_index("trial")
    sub = db.create_sub_db("analysis")
    sub["mean_vm"] = vm.mean(axis=1)
    sub["spike_counts"] = spikes.sum(axis=1)
    return db


CELLS = ["L4ss", "L5tt", "VPM"]
