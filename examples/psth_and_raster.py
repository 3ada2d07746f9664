"""A PSTH, a spike raster and a voltage density of ISF's example campaign
(``../shared/data/isf_example``, 6 trials of an evoked response in a C2 barrel cell).

Run: ``python examples/psth_and_raster.py /tmp/example [CAMPAIGN_FOLDER]``. The
figure is written to ``<workdir>/psth_and_raster.png`` when matplotlib is installed
(``pip install 'zdb[plot]'``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

import zdb
from zdb.analyze import MissingDependencyError, psth, spike_raster
from zdb.analyze.voltage_binning import calculate_vdensity_array
from zdb.db_initializers import load_simrun_general

EXAMPLE = (
    Path(__file__).resolve().parents[2]
    / "shared"
    / "data"
    / "isf_example"
    / "simulation_data"
    / "C2_evoked_UpState_INH_PW_1.0_SuW_0.5_C2center"
)


def main(workdir: str, campaign: str | Path = EXAMPLE) -> Path | None:
    """Import ``campaign`` under ``workdir``, print its PSTH and spikes, and draw them;
    returns the figure's path (None without matplotlib)."""
    root = Path(workdir)
    db = zdb.DataBase(root / "db")
    load_simrun_general.init(db, campaign, parameterfiles=False, progress=False)

    spikes = db["spike_times"]  # one row per trial, NaN-padded spike times (ms)
    traces = db.get("voltage_traces", as_xarray=True)  # lazy (sim_trial_index, t)
    t = traces["t"].values
    start, stop = float(np.floor(t[0])), float(np.ceil(t[-1]))
    rate = psth(spikes, bin_size=10, min_time=start, max_time=stop, rate=True)
    print(f"PSTH of {len(spikes)} trials, 10 ms bins (Hz):")
    print(rate.to_series().round(1).to_string())
    raster = spike_raster(spikes)
    print(f"\nspike raster: {len(raster)} spikes")
    print(raster.to_string(index=False))
    density = calculate_vdensity_array(traces, bin_size=1, ymin=-90, ymax=40)
    print(f"\nvoltage density: {dict(density.sizes)}, lazy until drawn")

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from zdb.analyze import plot
    except (ImportError, MissingDependencyError):
        print("\nmatplotlib is not installed (pip install 'zdb[plot]'): no figure")
        return None
    fig, axes = plt.subplots(3, 1, sharex=True, figsize=(7, 8))
    plot.plot_raster(spikes, ax=axes[0])
    plot.plot_psth(rate, ax=axes[1])
    plot.plot_vdensity(density.compute(), ax=axes[2], cmap="Greys")
    axes[0].set_title("ISF example campaign: spike raster, PSTH, voltage density")
    out = root / "psth_and_raster.png"
    fig.savefig(out, dpi=100)
    plt.close(fig)
    print(f"\nfigure: {out}")
    return out


if __name__ == "__main__":
    main(*(sys.argv[1:3] if len(sys.argv) > 1 else ["zdb_example"]))
