"""A small simulation campaign end to end: generate raw ISF-style output, import it
into a zdb database, and analyse it with pandas, dask and xarray.

Run: ``python examples/campaign_analysis.py /tmp/example``
"""

from __future__ import annotations

import sys
from pathlib import Path

import zdb
from zdb.db_initializers import load_simrun_general
from zdb.synthetic import generate_campaign


def main(workdir: str) -> None:
    """Generate a campaign under ``workdir``, import it and print a few analyses."""
    root = Path(workdir)
    campaign = root / "campaign"
    generate_campaign(campaign, n_folders=2, trials_per_folder=10, n_samples=2000, seed=1)
    db = zdb.DataBase(root / "db")
    load_simrun_general.init(db, campaign, progress=False)
    db.ls()

    spikes = db["spike_times"]
    print("\nspikes per trial:\n", spikes.notna().sum(axis=1).describe())

    synapses = db["synapse_activation"]  # a dask dataframe, one partition per file
    first = synapses.index.compute()[0]
    print(f"\nsynapse activations of trial {first}:", len(synapses.loc[first].compute()))

    vm = db.get("voltage_traces", as_xarray=True)  # lazy (sim_trial_index, t) DataArray
    print("\nmean membrane potential of the first trial:", float(vm[0].mean()))
    print("\nprovenance of 'voltage_traces':", db.metadata["voltage_traces"]["time"])


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "zdb_example")
