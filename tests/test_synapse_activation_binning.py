"""Binned synapse activation (``zdb.db_initializers.synapse_activation_binning``):
per trial and group, histograms of activation times, checked against the raw files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import zdb
from zdb.analyze import excitatory
from zdb.db_initializers import load_simrun_general as lsg
from zdb.db_initializers import synapse_activation_binning as sab
from zdb.IO import simrun_files as sf
from zdb.synthetic import generate_campaign


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """A small imported campaign in which one trial's synapse file has no rows."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZDB_REGISTRY", str(tmp_path_factory.mktemp("registry")))
        root = tmp_path_factory.mktemp("binning")
        info = generate_campaign(
            root / "sim",
            n_folders=2,
            trials_per_folder=3,
            n_samples=50,
            synapses_per_trial=60,
            cells_per_trial=20,
            t_start=0.0,
            dt=1.0,
            seed=9,
        )
        empty = sf.trial_file(info.folders[1].path, 2, "synapses")
        empty.write_text(sf.SYNAPSE_HEADER + "\n")
        db = zdb.DataBase(root / "db")
        lsg.init(db, info.path, parameterfiles=False, progress=False)
        yield db, info


def raw_tables(info) -> dict[str, pd.DataFrame]:
    """Each trial's synapse activation file, read directly."""
    out = {}
    for folder in info.folders:
        for trial in folder.trials:
            path = sf.trial_file(folder.path, trial, "synapses")
            out[f"{folder.path.name}/{trial:06d}"] = sf.read_synapse_activation(path)
    return dict(sorted(out.items()))


def histogram(frame: pd.DataFrame, edges: np.ndarray) -> np.ndarray:
    times = frame[[c for c in frame.columns if str(c).isdigit()]].to_numpy().ravel()
    return np.histogram(times[~np.isnan(times)], edges)[0].astype(np.float64)


def test_ei_bins_count_each_trials_activations_per_millisecond(setup):
    db, info = setup
    sab.init(db, groupby="EI", maxtime=60)
    sub = db["synapse_activation_binned", "t1", "EI"]
    assert sub.keys() == ["EXC", "INH"]
    edges = np.arange(0, 61, 1)
    tables = raw_tables(info)
    for group in ("EXC", "INH"):
        array = sub[group]
        assert array.shape == (len(tables), 60)
        for row, frame in zip(array, tables.values(), strict=True):
            celltype = frame["synapse_type"].str.split("_").str[0]
            chosen = frame[celltype.isin(excitatory) == (group == "EXC")]
            np.testing.assert_array_equal(row, histogram(chosen, edges))


def test_rows_follow_sim_trial_index_and_a_trial_without_synapses_is_zeros(setup):
    db, info = setup
    sab.init(db, groupby="EI", maxtime=60)
    index = db["sim_trial_index"].tolist()
    empty = index.index(f"{info.folders[1].path.name}/000002")
    for group in ("EXC", "INH"):
        array = db["synapse_activation_binned", "t1", "EI", group]
        assert array.shape[0] == len(index)
        assert not array[empty].any()
        assert array.sum() > 0


def test_groupby_several_columns_nests_keys(setup):
    db, info = setup
    sab.init(db, groupby=["EI", "proximal"], maxtime=60)
    sub = db["synapse_activation_binned", "t1", "EI__proximal"]
    leaves = sub.keys(recurse=True)
    assert set(leaves) <= {(e, p) for e in ("EXC", "INH") for p in ("prox", "dist")}
    total = sum(sub[leaf].sum() for leaf in leaves)
    frames = raw_tables(info).values()
    assert total == sum(histogram(f, np.arange(0, 61, 1)).sum() for f in frames)


def test_bin_size_and_any_column_can_be_chosen(setup):
    db, info = setup
    sab.init(db, groupby="dendrite_label", maxtime=60, bin_size=5)
    sub = db["synapse_activation_binned", "t5", "dendrite_label"]
    edges = np.arange(0, 65, 5)
    tables = raw_tables(info)
    for label in sub.keys():
        array = sub[label]
        assert array.shape == (len(tables), 12)
        for row, frame in zip(array, tables.values(), strict=True):
            np.testing.assert_array_equal(
                row, histogram(frame[frame["dendrite_label"] == label], edges)
            )


def test_derived_columns_follow_isf(setup):
    db, _ = setup
    frame = db["synapse_activation"].get_partition(0).compute().head(20)
    derived = sab.prefun(frame)
    parts = frame["synapse_type"].str.split("_")
    assert derived["celltype"].tolist() == parts.str[0].tolist()
    assert derived["presynaptic_column"].tolist() == parts.str[1].tolist()
    prox = np.where(frame["soma_distance"] < 500, "prox", "dist")
    assert derived["proximal"].tolist() == prox.tolist()
    low = (np.floor(frame["soma_distance"] / 50) * 50).astype(int)
    assert derived["binned_somadist"].tolist() == [f"{a}to{a + 50}" for a in low]


def test_unknown_group_column_is_refused_naming_it(setup):
    db, _ = setup
    with pytest.raises(sab.BinningError, match="no_such_column"):
        sab.init(db, groupby="no_such_column")
    with pytest.raises(sab.BinningError, match="groupby"):
        sab.init(db, groupby=[])
