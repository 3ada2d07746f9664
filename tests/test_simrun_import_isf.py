"""The simrun importer's ISF surface: ISF's managed folders and file names, ``.npz``
voltage traces, incomplete result folders, ``load_param_files_from_db``, ``optimize``,
``reoptimize_db``, ``add_dendritic_voltage_traces`` and the binning hooks."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

import zdb
from zdb.db_initializers import load_simrun_general as lsg
from zdb.db_initializers import synapse_activation_binning as sab
from zdb.dbopen import resolve_db_path
from zdb.simrun.voltage_traces import read_voltage_trace_arrays, write_npz_voltage_trace_arrays
from zdb.synthetic import generate_campaign

SMALL = {
    "n_folders": 3,
    "trials_per_folder": 3,
    "n_samples": 120,
    "synapses_per_trial": 20,
    "cells_per_trial": 10,
    "running_folder": False,
}
ONLY_PARAMS = {
    "voltage_traces": False,
    "synapse_activation": False,
    "spike_times": False,
    "dendritic_voltage_traces": False,
    "progress": False,
}


def _set_morphology(folder, path: Path) -> None:
    params = zdb.IO.parameter_files.read_param_file(folder.neuron_param)
    params["neuron"]["filename"] = str(path)
    zdb.IO.parameter_files.write_param_file(folder.neuron_param, params)


def test_two_different_morphologies_of_one_basename_both_keep_their_content(tmp_path):
    info = generate_campaign(tmp_path / "sim", seed=1, **SMALL)
    other = tmp_path / "elsewhere" / info.model_files["hoc"].name
    other.parent.mkdir()
    other.write_text(info.model_files["hoc"].read_text() + "// another cell\n")
    _set_morphology(info.folders[1], other)
    db = zdb.DataBase(tmp_path / "db")
    with pytest.warns(lsg.SimrunImportWarning, match="same name"):
        lsg.init(db, info.path, **ONLY_PARAMS)
    names = sorted(os.listdir(db["morphology"]))
    assert len(names) == 2 and info.model_files["hoc"].name in names
    table = db["parameterfiles"]
    for folder, original in [(info.folders[0], info.model_files["hoc"]), (info.folders[1], other)]:
        sti = f"{folder.path.name}/{folder.trials[0]:06d}"
        neup, _ = lsg.load_param_files_from_db(db, sti)
        copy_of = Path(db["parameterfiles_cell_folder"]) / table.loc[sti, "hash_neuron"]
        resolved = resolve_db_path(neup.neuron.filename, relative_to=copy_of)
        assert Path(resolved).read_bytes() == original.read_bytes()


def test_identical_files_of_one_basename_are_copied_once(tmp_path):
    info = generate_campaign(tmp_path / "sim", seed=2, **SMALL)
    twin = tmp_path / "twin" / info.model_files["hoc"].name
    twin.parent.mkdir()
    twin.write_bytes(info.model_files["hoc"].read_bytes())
    _set_morphology(info.folders[2], twin)
    db = zdb.DataBase(tmp_path / "db")
    with warnings.catch_warnings():
        warnings.simplefilter("error", lsg.SimrunImportWarning)
        lsg.init(db, info.path, **ONLY_PARAMS)
    assert os.listdir(db["morphology"]) == [info.model_files["hoc"].name]


def test_an_incremental_import_does_not_overwrite_a_stored_file_of_the_same_name(tmp_path):
    info = generate_campaign(tmp_path / "sim", seed=3, **SMALL)
    moved = tmp_path / "later"
    later = info.folders[2].path
    later.rename(moved)
    db = zdb.DataBase(tmp_path / "db")
    lsg.init(db, info.path, **ONLY_PARAMS)
    stored = Path(db["morphology"]) / info.model_files["hoc"].name
    before = stored.read_bytes()
    moved.rename(later)
    changed = tmp_path / "v2" / info.model_files["hoc"].name
    changed.parent.mkdir()
    changed.write_bytes(before + b"// changed\n")
    _set_morphology(info.folders[2], changed)
    with pytest.warns(lsg.SimrunImportWarning, match="the file stored in 'morphology'"):
        lsg.init(db, info.path, incremental=True, **ONLY_PARAMS)
    assert stored.read_bytes() == before
    assert len(os.listdir(db["morphology"])) == 2


def test_load_param_files_from_db_gives_attribute_access_and_refuses_unknown_trials(tmp_path):
    info = generate_campaign(tmp_path / "sim", seed=4, **SMALL)
    db = zdb.DataBase(tmp_path / "db")
    lsg.init(db, info.path, **ONLY_PARAMS)
    sti = db["parameterfiles"].index[0]
    neup, netp = lsg.load_param_files_from_db(db, sti)
    assert neup.neuron.filename == f"reldb://morphology/{info.model_files['hoc'].name}"
    assert neup["sim"]["recordingSites"] == neup.sim.recordingSites
    assert all("synapses" in v for v in netp.network.values())
    with pytest.raises(lsg.SimrunImportError, match="not/a/trial"):
        lsg.load_param_files_from_db(db, "not/a/trial")


def _to_npz(info) -> None:
    for folder in info.folders:
        csv = next(folder.path.glob("*_vm_all_traces.csv"))
        t, trials, values = read_voltage_trace_arrays(csv)
        assert trials.tolist() == list(range(len(trials)))
        write_npz_voltage_trace_arrays(csv.with_suffix(".npz"), t, values)
        csv.unlink()


def test_npz_voltage_traces_import_as_the_csv_files_do(tmp_path):
    info = generate_campaign(tmp_path / "sim", seed=5, **SMALL)
    csv_db = zdb.DataBase(tmp_path / "csv")
    lsg.init(csv_db, info.path, progress=False, parameterfiles=False)
    _to_npz(info)
    npz_db = zdb.DataBase(tmp_path / "npz")
    lsg.init(npz_db, info.path, progress=False, parameterfiles=False)
    for key in ("voltage_traces", "synapse_activation"):
        pd.testing.assert_frame_equal(npz_db[key].compute(), csv_db[key].compute())
    pd.testing.assert_frame_equal(npz_db["spike_times"], csv_db["spike_times"])
    assert all(f.endswith(".npz") for f in npz_db["filelist"])
    assert npz_db["metadata"]["voltage_traces_file_name"].str.endswith(".npz").all()


def test_an_npz_file_that_is_not_a_trace_array_is_a_format_error_naming_it(tmp_path):
    path = tmp_path / "x_vm_all_traces.npz"
    np.savez(path, other=np.zeros(3))
    with pytest.raises(zdb.IO.simrun_files.SimrunFormatError, match=str(path)):
        read_voltage_trace_arrays(path)


def _break_a_folder(info):
    broken = info.folders[1].path
    next(broken.glob("simulation_run*_synapses.csv")).unlink()
    return broken


def test_an_incomplete_folder_is_skipped_with_a_warning_naming_it(tmp_path):
    info = generate_campaign(tmp_path / "sim", seed=6, **SMALL)
    broken = _break_a_folder(info)
    db = zdb.DataBase(tmp_path / "db")
    with pytest.warns(lsg.SimrunImportWarning, match=str(broken)):
        lsg.init(db, info.path, progress=False)
    paths = set(db["metadata"]["path"])
    assert broken.name not in paths and len(paths) == len(info.folders) - 1
    trials = db["synapse_activation"].index.compute()
    assert not any(t.startswith(broken.name) for t in trials)


def test_on_incomplete_raise_stops_the_import_naming_the_folder(tmp_path):
    info = generate_campaign(tmp_path / "sim", seed=7, **SMALL)
    broken = _break_a_folder(info)
    db = zdb.DataBase(tmp_path / "db")
    with pytest.raises(zdb.IO.simrun_files.SimrunFormatError, match=str(broken)):
        lsg.init(db, info.path, progress=False, on_incomplete="raise")
    with pytest.raises(lsg.SimrunImportError, match="on_incomplete"):
        lsg.init(db, info.path, progress=False, on_incomplete="ignore")


def test_a_folder_without_parameter_files_is_incomplete_only_when_they_are_imported(tmp_path):
    info = generate_campaign(tmp_path / "sim", seed=8, **SMALL)
    info.folders[0].network_param.unlink()
    db = zdb.DataBase(tmp_path / "db")
    with pytest.warns(lsg.SimrunImportWarning, match="network_model.param"):
        lsg.init(db, info.path, progress=False, dendritic_voltage_traces=False)
    assert len(set(db["metadata"]["path"])) == len(info.folders) - 1
    lsg.init(db, info.path, progress=False, parameterfiles=False)
    assert len(set(db["metadata"]["path"])) == len(info.folders)


def test_optimize_rewrites_pickled_tables_natively_and_keeps_their_values(tmp_path):
    info = generate_campaign(tmp_path / "sim", seed=9, **SMALL)
    db = zdb.DataBase(tmp_path / "db")
    lsg.init(db, info.path, progress=False, parameterfiles=False)
    expected = db["voltage_traces"].compute()
    pickled = dd.from_pandas(expected, npartitions=2)
    db.set("voltage_traces", pickled, dumper="to_cloudpickle")
    db["dendritic_recordings"].set("extra", expected, dumper="to_cloudpickle")
    assert db.metadata["voltage_traces"]["dumper"] == "to_cloudpickle"
    done = lsg.optimize(db, select=["voltage_traces", "dendritic_recordings", "absent"])
    assert done == ["voltage_traces", "dendritic_recordings/extra"]
    assert db.metadata["voltage_traces"]["dumper"] == "dask_to_zarr"
    assert db["dendritic_recordings"].metadata["extra"]["dumper"] == "pandas_to_zarr"
    pd.testing.assert_frame_equal(db["voltage_traces"].compute(), pickled.compute())
    assert lsg.optimize(db) == []


def test_reoptimize_db_rewrites_every_table_that_is_not_native(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    frame = pd.DataFrame({"a": [1.0, 2.0]}, index=pd.Index(["x", "y"]))
    db.set("t", frame, dumper="to_cloudpickle")
    db.create_sub_db("sub").set("u", frame, dumper="to_cloudpickle")
    db["value"] = {"not": "a table"}
    assert lsg.reoptimize_db(db, progress=True) == ["sub/u", "t"]
    assert db.metadata["t"]["dumper"] == "pandas_to_zarr"
    pd.testing.assert_frame_equal(db["sub"]["u"], frame)
    assert db["value"] == {"not": "a table"}


def test_add_dendritic_voltage_traces_adds_what_a_full_import_has(tmp_path):
    info = generate_campaign(tmp_path / "sim", seed=10, **SMALL)
    full = zdb.DataBase(tmp_path / "full")
    lsg.init(full, info.path, progress=False, parameterfiles=False)
    db = zdb.DataBase(tmp_path / "db")
    lsg.init(db, info.path, progress=False, parameterfiles=False, dendritic_voltage_traces=False)
    assert "dendritic_recordings" not in db
    lsg.add_dendritic_voltage_traces(db, dendritic_spike_times_threshold=-30.0)
    for sub in ("dendritic_recordings", "dendritic_spike_times"):
        assert sorted(db[sub].keys()) == sorted(full[sub].keys())
    for key in full["dendritic_recordings"].keys():
        pd.testing.assert_frame_equal(
            db["dendritic_recordings"][key].compute(), full["dendritic_recordings"][key].compute()
        )


def test_binning_hooks_are_called_as_isf_calls_them(tmp_path):
    info = generate_campaign(tmp_path / "sim", seed=11, **SMALL)
    db = zdb.DataBase(tmp_path / "db")
    lsg.init(db, info.path, progress=False, parameterfiles=False, dendritic_voltage_traces=False)
    sab.init(db, groupby="EI", maxtime=100)
    fast = {k: db["synapse_activation_binned"]["t1"]["EI"][k] for k in ("EXC", "INH")}
    seen = []

    def counting(pdf, maxtime=None):
        seen.append(maxtime)
        return sab.applyfun(pdf, maxtime=maxtime)

    sab.init(db, groupby="EI", maxtime=100, applyfun=counting, postfun=sab.postfun)
    hooked = db["synapse_activation_binned"]["t1"]["EI"]
    assert seen and set(seen) == {100}
    for key, array in fast.items():
        np.testing.assert_array_equal(hooked[key], array)

    def total(s, maxtime=None):
        return sab.postfun(s, maxtime=maxtime).sum(axis=1, keepdims=True)

    sab.init(db, groupby="EI", maxtime=100, postfun=total)
    sums = db["synapse_activation_binned"]["t1"]["EI"]
    for key, array in fast.items():
        np.testing.assert_array_equal(sums[key][:, 0], array.sum(axis=1))


def test_npz_campaign_with_an_incomplete_folder_imports_on_worker_processes(tmp_path):
    """The .npz files are parsed, and the incomplete folder skipped, with every table
    built by tasks in two worker processes."""
    from distributed import Client, LocalCluster

    info = generate_campaign(tmp_path / "sim", seed=12, **SMALL)
    reference = zdb.DataBase(tmp_path / "reference")
    broken = _break_a_folder(info)
    with pytest.warns(lsg.SimrunImportWarning, match=str(broken)):
        lsg.init(reference, info.path, progress=False)
    _to_npz(info)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        db = zdb.DataBase(tmp_path / "db")
        with pytest.warns(lsg.SimrunImportWarning, match=str(broken)):
            lsg.init(db, info.path, client=client, progress=False)
        lsg.optimize(db, client=client)
    for key in ("voltage_traces", "synapse_activation", "cell_activation"):
        pd.testing.assert_frame_equal(db[key].compute(), reference[key].compute())
    pd.testing.assert_frame_equal(db["spike_times"], reference["spike_times"])
    assert sorted(os.listdir(db["morphology"])) == [info.model_files["hoc"].name]
