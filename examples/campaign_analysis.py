# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A simulation campaign: import and analysis
#
# ISF writes a simulation campaign as folders of text files: voltage traces, synapse
# and presynaptic cell activations, parameter files. This notebook imports such a
# campaign into a zdb database and analyses it: spike times, a PSTH, a spike raster,
# voltage traces and a voltage density.
#
# The campaign is generated here (`zdb.synthetic.generate_campaign`, 2 result folders
# of 10 trials) so that the notebook runs anywhere; set `CAMPAIGN` to a folder of your
# own simulation results (ISF's example campaign, say) to analyse those instead.

# %%
import os

# no progress bars on this rendered page; without this line, the import shows one
os.environ["ZDB_PROGRESS"] = "0"

import matplotlib.pyplot as plt
import numpy as np

import zdb
from zdb.analyze import plot, psth, spike_raster, temporal_binning
from zdb.analyze.voltage_binning import calculate_vdensity_array
from zdb.db_initializers import load_simrun_general
from zdb.synthetic import generate_campaign

CAMPAIGN = None  # a folder of ISF simulation results; None generates a small campaign

# %%
if CAMPAIGN is None:
    CAMPAIGN = "campaign"
    generate_campaign(
        CAMPAIGN, n_folders=2, trials_per_folder=10, n_samples=2000, spikes_per_trial=6, seed=1
    )
db = zdb.DataBase("campaign_db")
load_simrun_general.init(db, CAMPAIGN)

# %% [markdown]
# The database shows its keys in Jupyter: dumper, type, shape, size and when each was
# written. `db.ls()` prints the same tree as text, and `zdb ls campaign_db --long` on
# a shell.

# %%
db

# %% [markdown]
# ## Spike times
#
# `spike_times` has one row per trial (`sim_trial_index`), the somatic spike times of
# that trial in milliseconds, padded with NaN.

# %%
spikes = db["spike_times"]
print(f"{len(spikes)} trials, {int(spikes.notna().sum().sum())} spikes")
spikes.head()

# %% [markdown]
# ## A spike raster and a PSTH
#
# `spike_raster` lists every spike as a (trial, time) pair; `psth` bins them, here
# in 5 ms bins as a rate in Hz (an `xarray.DataArray`).

# %%
traces = db.get("voltage_traces", as_xarray=True)  # lazy: (sim_trial_index, t)
t = traces["t"].values
start, stop = float(np.floor(t[0])), float(np.ceil(t[-1]))
rate = psth(spikes, bin_size=5, min_time=start, max_time=stop, rate=True)
print(spike_raster(spikes).head())

fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(7, 5))
plot.plot_raster(spikes, ax=top)
plot.plot_psth(rate, ax=bottom)
top.set_title("spike raster and PSTH (5 ms bins)")
plt.show()

# %% [markdown]
# ## Voltage traces
#
# `db.get("voltage_traces", as_xarray=True)` is a lazily loaded DataArray: selecting
# trials and a time window reads only the chunks they are in.

# %%
first = traces.isel(sim_trial_index=slice(0, 4))
fig, ax = plt.subplots(figsize=(7, 3))
for index in first["sim_trial_index"].values:
    ax.plot(t, first.sel(sim_trial_index=index), lw=0.7, label=str(index))
ax.set_xlabel("t (ms)")
ax.set_ylabel("membrane potential (mV)")
ax.legend(fontsize="x-small", title="sim_trial_index", title_fontsize="x-small")
plt.show()

# %% [markdown]
# A voltage density: for each 1 ms time bin, how many trials are at each membrane
# potential (1 mV bins). It is computed lazily with dask and drawn as an image.

# %%
density = calculate_vdensity_array(traces, bin_size=1, ymin=-90, ymax=40)
fig, ax = plt.subplots(figsize=(7, 3))
plot.plot_vdensity(density.compute(), ax=ax, cmap="Greys")
plt.show()

# %% [markdown]
# ## Synapse activations, with dask
#
# `synapse_activation` is a dask dataframe of one partition per result file: one
# trial reads one partition. `temporal_binning.universal` bins all activation times
# in one pass over the partitions.

# %%
activations = db["synapse_activation"]
trial = spikes.index[0]
print(f"trial {trial}: {len(activations.loc[trial].compute())} synapse activations")
edges, per_trial = temporal_binning.universal(
    activations, bin_size=5, min_time=start, max_time=stop, normalize=True
)
fig, ax = plt.subplots(figsize=(7, 2.5))
ax.step(edges[:-1], per_trial, where="post")
ax.set_xlabel("t (ms)")
ax.set_ylabel("activations per trial")
plt.show()

# %% [markdown]
# Every key records where it came from: `db.metadata[key]` (see the notebook on
# provenance).

# %%
db.metadata["voltage_traces"]
