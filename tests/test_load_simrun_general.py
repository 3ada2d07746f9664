"""Importing ISF simulation campaigns (``zdb.db_initializers.load_simrun_general``): on
synthetic campaigns (both folder namings, an unfinished ``_running`` folder) and on the
real ISF example, checked against the raw files."""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import shutil
import warnings
from pathlib import Path

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

import zdb
from zdb.__main__ import main
from zdb.db_initializers import load_simrun_general as lsg
from zdb.dbopen import resolve_db_path
from zdb.IO import simrun_files as sf
from zdb.synthetic import generate_campaign

from .table_codecs import compressors

EXAMPLE = Path(__file__).parents[2] / "shared" / "data" / "isf_example"
EXAMPLE_CAMPAIGN = EXAMPLE / "simulation_data" / "C2_evoked_UpState_INH_PW_1.0_SuW_0.5_C2center"
#: where the example's parameter files say its model files are
EXAMPLE_PREFIX = (
    "/gpfs/soma_fs/scratch/meulemeester/project_src/in_silico_framework/getting_started/"
    "example_data"
)
SMALL = {
    "n_folders": 3,
    "trials_per_folder": 4,
    "n_samples": 160,
    "synapses_per_trial": 30,
    "cells_per_trial": 20,
    "naming": "both",
}


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    """A small synthetic campaign: folders of both namings and a ``_running`` folder;
    some synapses and cells without activations."""
    root = tmp_path_factory.mktemp("campaign")
    return generate_campaign(root / "sim", empty_activation_fraction=0.2, seed=3, **SMALL)


@pytest.fixture(scope="module")
def imported(campaign, tmp_path_factory, registry):
    """The synthetic campaign imported with every step."""
    db = zdb.DataBase(tmp_path_factory.mktemp("imported") / "db")
    lsg.init(db, campaign.path, progress=False)
    return db


@pytest.fixture(scope="module")
def example(tmp_path_factory, registry):
    """The real ISF example imported with every step, and the warnings it gave."""
    if not EXAMPLE_CAMPAIGN.is_dir():
        pytest.skip(f"the real ISF example data is not at {EXAMPLE} (../shared/data/isf_example)")
    db = zdb.DataBase(tmp_path_factory.mktemp("example") / "db")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        lsg.init(db, EXAMPLE_CAMPAIGN, path_map={EXAMPLE_PREFIX: str(EXAMPLE)}, progress=False)
    return db, caught


def expected_index(campaign) -> list[str]:
    return sorted(f"{f.path.name}/{t:06d}" for f in campaign.folders for t in f.trials)


# ------------------------------------------------------------------ synthetic campaign


def test_import_writes_isf_keys(imported):
    keys = set(imported.keys())
    assert {
        "simresult_path",
        "filelist",
        "sim_trial_index",
        "metadata",
        "voltage_traces",
        "synapse_activation",
        "cell_activation",
        "spike_times",
        "dendritic_recordings",
        "dendritic_spike_times",
        "parameterfiles",
        "parameterfiles_cell_folder",
        "parameterfiles_network_folder",
        "morphology",
        "recsites_folder",
        "syn_folder",
        "con_folder",
    } <= keys


def test_trial_indexes_cover_both_namings_and_skip_the_running_folder(imported, campaign):
    stored = imported["sim_trial_index"]
    assert isinstance(stored, pd.Index) and stored.name == "sim_trial_index"  # as in ISF
    index = stored.tolist()
    assert index == expected_index(campaign)
    assert index[0] in stored
    assert {i.split("/")[0] for i in index} == {f.path.name for f in campaign.folders}
    assert any("_seed" in i and "_pid" in i for i in index)
    assert not any("_running" in i for i in index)
    assert imported["simresult_path"] == str(campaign.path)
    assert imported["filelist"] == sorted(
        f"{f.path.name}/{f.uid}{sf.VM_ALL_TRACES_SUFFIX}" for f in campaign.folders
    )


def test_metadata_describes_each_trial_as_isf_does(imported, campaign):
    meta = imported["metadata"]
    assert list(meta.columns) == [
        "sim_trial_index",
        "path",
        "trialnr",
        "voltage_traces_file_name",
        "synapses_file_name",
        "cells_file_name",
    ]
    assert meta["sim_trial_index"].tolist() == expected_index(campaign)
    by_name = {f.path.name: f for f in campaign.folders}
    for row in meta.itertuples():
        folder = by_name[row.path]
        number = int(row.trialnr)
        assert row.sim_trial_index == f"{row.path}/{row.trialnr}"
        assert len(row.trialnr) == 6
        assert row.voltage_traces_file_name == f"{folder.uid}{sf.VM_ALL_TRACES_SUFFIX}"
        assert row.synapses_file_name == sf.trial_file(folder.path, number, "synapses").name
        assert row.cells_file_name == sf.trial_file(folder.path, number, "presynaptic_cells").name


def test_voltage_traces_are_the_files_values_with_float_time_labels(imported, campaign):
    vt = imported["voltage_traces"]
    assert isinstance(vt, dd.DataFrame)
    assert vt.known_divisions
    frame = vt.compute()
    assert frame.index.name == "sim_trial_index"
    assert frame.index.tolist() == expected_index(campaign)
    labels = frame.columns.tolist()
    assert all(isinstance(x, float) for x in labels)
    assert np.array_equal(np.asarray(labels), campaign.t)
    for folder in campaign.folders:
        arrays = sf.read_voltage_trace_arrays(
            folder.path / f"{folder.uid}{sf.VM_ALL_TRACES_SUFFIX}"
        )
        rows = [f"{folder.path.name}/{t:06d}" for t in arrays.trials]
        np.testing.assert_array_equal(frame.loc[rows].to_numpy(), arrays.values)
    assert not frame.isna().any().any()


def test_voltage_traces_as_xarray_are_a_lazy_trial_by_time_array(imported, campaign):
    xa = imported.get("voltage_traces", as_xarray=True)
    assert xa.dims == ("sim_trial_index", "t")
    trial = expected_index(campaign)[5]
    window = xa.sel(sim_trial_index=trial, t=slice(campaign.t[10], campaign.t[19]))
    assert window.shape == (10,)
    row = imported["voltage_traces"].loc[trial].compute()
    np.testing.assert_array_equal(window.values, row.to_numpy()[0, 10:20])


@pytest.mark.parametrize(
    ("key", "kind", "columns"),
    [
        ("synapse_activation", "synapses", sf.SYNAPSE_COLUMNS),
        ("cell_activation", "presynaptic_cells", sf.CELL_COLUMNS),
    ],
)
def test_activation_tables_hold_every_file_row_padded_with_nan(
    imported, campaign, key, kind, columns
):
    ddf = imported[key]
    assert isinstance(ddf, dd.DataFrame)
    assert ddf.known_divisions
    frame = ddf.compute()
    assert frame.index.is_monotonic_increasing
    width = len(frame.columns) - len(columns)
    assert list(frame.columns) == [*columns, *(str(i) for i in range(width))]
    tables = {}
    for folder in campaign.folders:
        for trial in folder.trials:
            path = sf.trial_file(folder.path, trial, kind)
            tables[f"{folder.path.name}/{trial:06d}"] = sf.read_activation_table(path, kind)
    assert width == max(int(t.counts.max(initial=0)) for t in tables.values())
    assert len(frame) == sum(len(t.fixed) for t in tables.values())
    for index, table in tables.items():
        rows = frame.loc[[index]]
        pd.testing.assert_frame_equal(
            rows[list(columns)].reset_index(drop=True), table.fixed, check_dtype=False
        )
        np.testing.assert_array_equal(rows.iloc[:, len(columns) :].to_numpy(), table.padded(width))


def test_synapse_activation_columns_have_isf_dtypes(imported):
    dtypes = imported["synapse_activation"].dtypes
    assert dtypes["synapse_ID"] == np.int64
    assert dtypes["soma_distance"] == np.float64
    assert dtypes["section_ID"] == np.int64 and dtypes["section_pt_ID"] == np.int64
    assert pd.api.types.is_string_dtype(dtypes["synapse_type"])
    assert pd.api.types.is_string_dtype(dtypes["dendrite_label"])
    assert dtypes["0"] == np.float64


def test_reading_one_trial_touches_one_partition(imported, campaign):
    trial = expected_index(campaign)[7]
    selected = imported["synapse_activation"].loc[trial]
    assert selected.npartitions == 1
    assert (selected.compute().index == trial).all()


def test_spike_times_are_the_upward_zero_crossings_of_the_traces(imported, campaign):
    st = imported["spike_times"]
    assert isinstance(st, pd.DataFrame)
    assert st.index.tolist() == expected_index(campaign)
    crossings = {
        f"{f.path.name}/{t:06d}": f.spike_times[i]
        for f in campaign.folders
        for i, t in enumerate(f.trials)
    }
    width = max(len(c) for c in crossings.values())
    assert list(st.columns) == list(range(width))
    for index, times in crossings.items():
        row = st.loc[index].to_numpy()
        assert row[: len(times)].tolist() == list(times)
        assert np.isnan(row[len(times) :]).all()


def test_spike_detection_of_a_stored_table_gives_the_stored_spike_times(imported):
    from zdb.analyze import spike_detection, spike_in_interval

    vt = imported["voltage_traces"]
    pd.testing.assert_frame_equal(spike_detection(vt), imported["spike_times"])
    pd.testing.assert_frame_equal(spike_detection(vt.compute()), imported["spike_times"])
    site = imported["dendritic_recordings"].keys()[0]
    pd.testing.assert_frame_equal(
        spike_detection(imported["dendritic_recordings"][site], threshold=-30.0),
        imported["dendritic_spike_times"][f"{site}_-30.0"],
    )
    st = imported["spike_times"]
    window = spike_in_interval(st, 100.0, 200.0)
    assert window.tolist() == ((st >= 100.0) & (st < 200.0)).any(axis=1).tolist()


def test_dendritic_spike_times_can_be_added_at_another_threshold(campaign, tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    lsg.init(db, campaign.path, synapse_activation=False, parameterfiles=False, progress=False)
    lsg.add_dendritic_spike_times(db, -50.0)
    sites = db["dendritic_recordings"].keys()
    assert db["dendritic_spike_times"].keys() == sorted(
        [f"{s}_-30.0" for s in sites] + [f"{s}_-50.0" for s in sites]
    )


def test_dendritic_recordings_have_one_key_per_recording_site(imported, campaign):
    sites = campaign.folders[0].dendritic_sites
    assert imported["dendritic_recordings"].keys() == sorted(sites)
    assert imported["dendritic_spike_times"].keys() == sorted(f"{s}_-30.0" for s in sites)
    folder = campaign.folders[1]
    site = sites[1]
    stored = imported["dendritic_recordings"][site].compute()
    arrays = sf.read_voltage_trace_arrays(
        folder.path / f"{folder.uid}_{site}{sf.VM_DEND_TRACES_SUFFIX}"
    )
    rows = [f"{folder.path.name}/{t:06d}" for t in arrays.trials]
    np.testing.assert_array_equal(stored.loc[rows].to_numpy(), arrays.values)
    spikes = imported["dendritic_spike_times"][f"{site}_-30.0"]
    up = (arrays.values[:, 1:] >= -30.0) & (arrays.values[:, :-1] < -30.0)
    for row, index in zip(up, rows, strict=True):
        found = spikes.loc[index].dropna().tolist()
        assert found == arrays.t[1:][row].tolist()


def test_parameterfiles_table_holds_original_paths_and_content_hashes(imported, campaign):
    table = imported["parameterfiles"]
    assert list(table.columns) == ["path_neuron", "path_network", "hash_neuron", "hash_network"]
    assert table.index.tolist() == expected_index(campaign)
    for folder in campaign.folders:
        row = table.loc[f"{folder.path.name}/{folder.trials[0]:06d}"]
        assert row.path_neuron == str(folder.neuron_param)
        assert row.path_network == str(folder.network_param)
        assert row.hash_neuron == hashlib.sha256(folder.neuron_param.read_bytes()).hexdigest()
        assert row.hash_network == hashlib.sha256(folder.network_param.read_bytes()).hexdigest()


def test_copied_parameter_files_reference_their_copies_by_reldb_paths(imported, campaign):
    row = imported["parameterfiles"].iloc[0]
    neuron_copy = Path(imported["parameterfiles_cell_folder"]) / row.hash_neuron
    network_copy = Path(imported["parameterfiles_network_folder"]) / row.hash_network
    neuron = zdb.IO.parameter_files.read_param_file(neuron_copy)
    network = zdb.IO.parameter_files.read_param_file(network_copy)
    hoc = neuron["neuron"]["filename"]
    (landmark,) = neuron["sim"]["recordingSites"]
    synapses = next(iter(network["network"].values()))["synapses"]
    references = [hoc, landmark, synapses["distributionFile"], synapses["connectionFile"]]
    originals = [campaign.model_files[k] for k in ("hoc", "landmark", "syn", "con")]
    folders = ["morphology", "recsites_folder", "syn_folder", "con_folder"]
    for reference, original, copy_of, folder in zip(
        references,
        originals,
        [neuron_copy, neuron_copy, network_copy, network_copy],
        folders,
        strict=True,
    ):
        # ISF's folder per kind of file, the copy under the original's basename
        assert reference == f"reldb://{folder}/{original.name}"
        resolved = Path(resolve_db_path(reference, relative_to=copy_of))
        assert resolved == Path(imported[folder]) / original.name
        if original.suffix != ".con":
            assert resolved.read_bytes() == original.read_bytes()
    # the .con file's comment naming its .syn file now names the copy
    con = Path(resolve_db_path(synapses["connectionFile"], relative_to=network_copy))
    original_lines = campaign.model_files["con"].read_text().splitlines()
    lines = con.read_text().splitlines()
    assert lines[1] == f"# {synapses['distributionFile']}"
    assert lines[:1] + lines[2:] == original_lines[:1] + original_lines[2:]


def test_every_key_reads_back_and_pickles(imported):
    for key in imported.keys(recurse=True):
        value = imported[key]
        restored = pickle.loads(pickle.dumps(value))
        if isinstance(value, dd.DataFrame):
            pd.testing.assert_frame_equal(restored.compute(), value.compute())


def test_a_partition_parses_its_files_as_the_file_reader_does(tmp_path):
    bodies = [
        "L1_B1\t0\t66.5,\nL1_B1\t6\t1.5,2.5,\n",
        "L1_B1\t3\t7.0,\r\nL23_C2\t4\t\r\n\r\n",  # CRLF, a row without times
        "",  # header only
        "  \n\n",  # only blanks after the header
        "VPM_C2\t9\t1.0,2.0,3.0,",  # no newline at the end
    ]
    sources = []
    for i, body in enumerate(bodies):
        path = tmp_path / f"simulation_run{i:04d}_presynaptic_cells.csv"
        path.write_bytes((sf.CELL_HEADER + "\n" + body).encode())
        sources.append((str(path), f"f/{i:06d}"))
    parsed = lsg.parse_activation_partition(sources, "presynaptic_cells")
    frame = lsg.activation_frame(parsed, parsed.width)
    for path, label in sources:
        expected = sf.read_activation_table(path, "presynaptic_cells")
        rows = frame.loc[frame.index == label]
        pd.testing.assert_frame_equal(
            rows[list(sf.CELL_COLUMNS)].reset_index(drop=True), expected.fixed
        )
        np.testing.assert_array_equal(rows.iloc[:, 2:].to_numpy(), expected.padded(parsed.width))
    assert len(frame) == 5


# ------------------------------------------------------------ options, errors, re-runs


def test_a_missing_referenced_file_raises_naming_it_and_path_map_finds_it(tmp_path):
    info = generate_campaign(tmp_path / "sim", seed=4, **{**SMALL, "n_folders": 2})
    moved = tmp_path / "moved_model_files"
    info.model_dir.rename(moved)
    db = zdb.DataBase(tmp_path / "db")
    missing = str(info.model_files["hoc"])
    with pytest.raises(lsg.SimrunImportError, match=re.escape(missing)) as caught:
        lsg.init(db, info.path, progress=False)
    assert "path_map" in str(caught.value)
    lsg.init(db, info.path, progress=False, path_map={str(info.model_dir): str(moved)})
    assert len(db["parameterfiles"]) == info.n_trials
    skipped = zdb.DataBase(tmp_path / "skipped")
    lsg.init(skipped, info.path, parameterfiles=False, progress=False)
    assert "parameterfiles" not in skipped
    assert len(skipped["metadata"]) == info.n_trials


def set_neuron_field(info, location: tuple, value: str) -> None:
    """Set one field of every neuron parameter file of a generated campaign."""
    for folder in info.folders:
        params = zdb.IO.parameter_files.read_param_file(folder.neuron_param)
        node = params
        for key in location[:-1]:
            node = node[key]
        node[location[-1]] = value
        zdb.IO.parameter_files.write_param_file(folder.neuron_param, params)


def files_of(path: Path) -> list[bytes]:
    return [p.read_bytes() for p in path.rglob("*") if p.is_file() and not p.is_symlink()]


@pytest.mark.parametrize(
    ("location", "field", "expected"),
    [
        (("neuron", "filename"), "neuron.filename", ".hoc or .swc"),
        (("sim", "recordingSites", 0), "sim.recordingSites[0]", ".landmarkAscii"),
    ],
)
def test_a_referenced_file_of_the_wrong_kind_is_refused_and_not_copied(
    tmp_path, location, field, expected
):
    info = generate_campaign(tmp_path / "sim", seed=4, **{**SMALL, "n_folders": 2})
    secret = tmp_path / "home" / ".ssh" / "id_rsa"
    secret.parent.mkdir(parents=True)
    secret.write_bytes(b"-----BEGIN OPENSSH PRIVATE KEY----- not for sharing")
    set_neuron_field(info, location, str(secret))
    db = zdb.DataBase(tmp_path / "db")
    with pytest.raises(lsg.SimrunImportError) as error:
        lsg.init(db, info.path, progress=False)
    message = str(error.value)
    assert any(str(f.neuron_param) in message for f in info.folders)
    assert field in message and str(secret) in message and expected in message
    assert not any(secret.read_bytes() in data for data in files_of(tmp_path / "db"))


@pytest.mark.parametrize("make", [Path.mkdir, lambda p: p.symlink_to("/dev/zero")])
def test_a_folder_or_device_named_as_a_morphology_is_refused(tmp_path, make):
    info = generate_campaign(tmp_path / "sim", seed=4, **{**SMALL, "n_folders": 2})
    odd = tmp_path / "odd" / "cell.hoc"
    odd.parent.mkdir()
    make(odd)
    set_neuron_field(info, ("neuron", "filename"), str(odd))
    with pytest.raises(lsg.SimrunImportError, match="not a regular file|is a folder") as error:
        lsg.init(zdb.DataBase(tmp_path / "db"), info.path, progress=False)
    assert str(odd) in str(error.value) and "neuron.filename" in str(error.value)


def test_linked_and_swc_morphologies_are_copied(tmp_path):
    info = generate_campaign(tmp_path / "sim", seed=4, **{**SMALL, "n_folders": 2})
    link = tmp_path / "linked" / "cell.SWC"
    link.parent.mkdir()
    link.symlink_to(info.model_files["hoc"])
    set_neuron_field(info, ("neuron", "filename"), str(link))
    db = zdb.DataBase(tmp_path / "db")
    only = {"voltage_traces": False, "synapse_activation": False, "spike_times": False}
    lsg.init(db, info.path, progress=False, dendritic_voltage_traces=False, **only)
    copies = list(Path(db["morphology"]).glob("*.SWC"))
    assert [c.read_bytes() for c in copies] == [info.model_files["hoc"].read_bytes()]


def test_a_param_file_that_is_a_folder_or_not_utf8_stops_the_import_naming_it(tmp_path):
    info = generate_campaign(tmp_path / "sim", seed=4, **{**SMALL, "n_folders": 2})
    folder = info.folders[0]
    folder.neuron_param.unlink()
    folder.neuron_param.mkdir()
    db = zdb.DataBase(tmp_path / "db")
    with pytest.raises(zdb.IO.parameter_files.ParameterFileError, match="is a folder") as error:
        lsg.init(db, info.path, progress=False)
    assert str(folder.neuron_param) in str(error.value)
    folder.neuron_param.rmdir()
    folder.neuron_param.write_bytes(b"{'info': {'name': 'caf\xe9'}}\n")
    with pytest.raises(zdb.IO.parameter_files.ParameterFileError, match="UTF-8") as error:
        lsg.init(db, info.path, progress=False)
    assert str(folder.neuron_param) in str(error.value)


def test_steps_can_be_skipped_and_no_dendritic_sites_skip_their_spike_times(tmp_path):
    info = generate_campaign(tmp_path / "sim", n_dendritic_sites=0, seed=5, **SMALL)
    db = zdb.DataBase(tmp_path / "db")
    lsg.init(db, info.path, synapse_activation=False, parameterfiles=False, progress=False)
    assert "synapse_activation" not in db and "cell_activation" not in db
    assert "dendritic_recordings" not in db and "dendritic_spike_times" not in db
    assert db["spike_times"].shape[0] == info.n_trials


def test_a_second_import_replaces_the_first(campaign, tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    lsg.init(db, campaign.path, progress=False, parameterfiles=False)
    other = generate_campaign(tmp_path / "other", seed=11, **{**SMALL, "n_folders": 2})
    lsg.init(db, other.path, progress=False, parameterfiles=False)
    assert db["sim_trial_index"].tolist() == expected_index(other)
    assert db["voltage_traces"].compute().index.tolist() == expected_index(other)
    assert db["dendritic_recordings"].keys() == sorted(other.folders[0].dendritic_sites)
    assert db["simresult_path"] == str(other.path)


def test_a_failed_import_can_be_run_again(tmp_path):
    info = generate_campaign(tmp_path / "sim", seed=7, **SMALL)
    db = zdb.DataBase(tmp_path / "db")
    lsg.init(db, info.path, progress=False, parameterfiles=False)
    folder = info.folders[-1]
    site = folder.dendritic_sites[0]
    broken = folder.path / f"{folder.uid}_{site}{sf.VM_DEND_TRACES_SUFFIX}"
    good = broken.read_bytes()
    broken.write_bytes(good[: len(good) // 2] + b"\t\t\n" + good[len(good) // 2 :])
    with pytest.raises(zdb.exceptions.DataBaseException, match=re.escape(str(broken))):
        lsg.init(db, info.path, progress=False)
    # removed first, written last: the database shows that its import is incomplete
    assert "metadata" not in db
    with pytest.raises(lsg.SimrunImportError, match="no complete import"):
        lsg.init(db, info.path, incremental=True, progress=False)
    broken.write_bytes(good)
    lsg.init(db, info.path, progress=False)
    assert db["metadata"]["sim_trial_index"].tolist() == expected_index(info)
    assert len(db["dendritic_recordings"][site].compute()) == info.n_trials


def grow(target, source) -> None:
    """Copy the result folders of campaign ``source`` into campaign ``target``."""
    for folder in source.folders:
        shutil.copytree(folder.path, target.path / folder.path.name)


def test_incremental_import_parses_only_new_folders_and_keeps_divisions(tmp_path):
    first = generate_campaign(tmp_path / "sim", seed=1, **{**SMALL, "n_folders": 2})
    more = generate_campaign(tmp_path / "more", seed=2, running_folder=False, **SMALL)
    db = zdb.DataBase(tmp_path / "db")
    lsg.init(db, first.path, progress=False)
    grow(first, more)
    # the files of imported trials are not read again: spoil them
    for folder in first.folders:
        for path in folder.path.glob("simulation_run*.csv"):
            path.write_text("not a simrun file\n")
    lsg.init(db, first.path, incremental=True, progress=False)

    reference = generate_campaign(tmp_path / "ref", seed=1, **{**SMALL, "n_folders": 2})
    grow(reference, more)
    full = zdb.DataBase(tmp_path / "full")
    lsg.init(full, reference.path, progress=False)
    names = ["voltage_traces", "synapse_activation", "cell_activation"]
    names += [("dendritic_recordings", k) for k in full["dendritic_recordings"].keys()]
    for key in names:
        merged, fresh = db[key], full[key]
        assert merged.known_divisions
        assert list(merged.divisions) == sorted(merged.divisions)
        pd.testing.assert_frame_equal(merged.compute(), fresh.compute())
    for key in ["spike_times", "metadata", "sim_trial_index", "filelist"]:
        got, want = db[key], full[key]
        if isinstance(want, pd.Index):
            pd.testing.assert_index_equal(got, want, exact=True)
        elif isinstance(want, pd.DataFrame):
            pd.testing.assert_frame_equal(got, want)
        else:
            assert got == want
    for key in full["dendritic_spike_times"].keys():
        pd.testing.assert_frame_equal(
            db["dendritic_spike_times"][key], full["dendritic_spike_times"][key]
        )
    assert db["parameterfiles"].index.tolist() == full["metadata"]["sim_trial_index"].tolist()

    # nothing new: nothing changes
    version = db.path_of("synapse_activation")
    lsg.init(db, first.path, incremental=True, progress=False)
    assert db.path_of("synapse_activation") == version


def test_incremental_import_needs_a_previous_import_of_the_same_folder(campaign, tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    with pytest.raises(lsg.SimrunImportError, match="holds no complete import"):
        lsg.init(db, campaign.path, incremental=True, progress=False)


def test_import_runs_on_a_distributed_client(campaign, tmp_path):
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=":0"
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
        dask.config.set(scheduler="sync"),  # anything not sent to the client would run here
    ):
        db = zdb.DataBase(tmp_path / "db")
        lsg.init(db, campaign.path, client=client, parameterfiles=False, progress=False)
    assert db["sim_trial_index"].tolist() == expected_index(campaign)
    assert len(db["synapse_activation"]) == campaign.n_synapse_rows


def test_progress_bar_reports_the_import(campaign, tmp_path, capsys):
    lsg.init(zdb.DataBase(tmp_path / "db"), campaign.path, parameterfiles=False)
    assert "import" in capsys.readouterr().err


def test_isf_keywords_are_accepted_and_unknown_ones_refused(campaign, tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    with pytest.raises(TypeError, match="no_such_option"):
        lsg.init(db, campaign.path, no_such_option=1)
    with pytest.raises(lsg.SimrunImportError, match="burst_times"):
        lsg.init(db, campaign.path, burst_times=True)


def test_command_line_imports_a_campaign(campaign, tmp_path, capsys):
    target = tmp_path / "db"
    code = main(
        ["import-simrun", str(campaign.path), str(target), "--quiet", "--no-parameterfiles"]
    )
    assert code == 0
    db = zdb.DataBase(target, readonly=True)
    assert db["sim_trial_index"].tolist() == expected_index(campaign)
    assert main(["import-simrun", str(tmp_path / "nothing"), str(target), "--quiet"]) == 1
    assert "does not exist" in capsys.readouterr().err


# ---------------------------------------------------------------------- the real example


def example_trials() -> list[str]:
    return [f"20150815-1530_20240/{t:06d}" for t in range(6)]


def test_real_example_imports_every_step(example):
    db, _ = example
    assert db["sim_trial_index"].tolist() == example_trials()
    assert db["dendritic_recordings"].keys() == [
        "apical_proximal_distal_rec_sites_ID_000_sec_038_seg_032_x_0.929_somaDist_920.7",
        "apical_proximal_distal_rec_sites_ID_001_sec_025_seg_001_x_0.500_somaDist_198.1",
    ]
    assert len(db["dendritic_spike_times"].keys()) == 2


def test_real_example_row_counts_match_the_files(example):
    db, _ = example
    folder = EXAMPLE_CAMPAIGN / "20150815-1530_20240"
    for key, kind in [("synapse_activation", "synapses"), ("cell_activation", "presynaptic_cells")]:
        frame = db[key].compute()
        for t, index in enumerate(example_trials()):
            lines = sf.trial_file(folder, t, kind).read_text().splitlines()
            assert (frame.index == index).sum() == len(lines) - 1


def test_real_example_activation_times_that_are_mostly_empty_are_stored_with_zstd(example):
    db, _ = example
    synapses = compressors(db.path_of("synapse_activation"))
    # identifiers compress best as byte planes (Blosc's shuffle); the later times,
    # mostly NaN, with zstd alone: 407 KB instead of 524 all Blosc
    assert synapses["synapse_ID"] == synapses["section_ID"] == "blosc"
    assert all(synapses[str(i)] == "zstd" for i in range(1, 6)), synapses
    cells = compressors(db.path_of("cell_activation"))
    assert cells["cell_ID"] == "blosc"
    assert all(cells[str(i)] == "zstd" for i in range(1, 11)), cells


def test_real_example_has_no_missing_values_where_isf_has_none(example):
    db, _ = example
    sa = db["synapse_activation"].compute()
    ca = db["cell_activation"].compute()
    vt = db["voltage_traces"].compute()
    assert not sa["soma_distance"].isna().any()
    assert not ca["0"].isna().any()
    assert not vt.isna().any().any()
    assert vt.shape == (6, 9802)
    assert all(isinstance(x, float) for x in vt.columns)
    assert vt.columns[0] == 100.0


def test_real_example_spike_times_equal_those_found_in_the_csv(example):
    db, _ = example
    arrays = sf.read_voltage_trace_arrays(
        EXAMPLE_CAMPAIGN / "20150815-1530_20240" / "20240_vm_all_traces.csv"
    )
    st = db["spike_times"]
    for row, index in zip(arrays.values, example_trials(), strict=True):
        crossings = arrays.t[1:][(row[1:] >= 0) & (row[:-1] < 0)]
        assert st.loc[index].dropna().tolist() == crossings.tolist()
    assert st.notna().sum().sum() > 0


def test_real_example_parameter_files_are_copied_and_rewritten(example):
    db, caught = example
    row = db["parameterfiles"].iloc[0]
    neuron_copy = Path(db["parameterfiles_cell_folder"]) / row.hash_neuron
    text = neuron_copy.read_text()
    assert "/gpfs/" not in text and "reldb://morphology/86_C2_center.hoc" in text
    network_copy = Path(db["parameterfiles_network_folder"]) / row.hash_network
    assert "/gpfs/" not in network_copy.read_text()
    assert os.listdir(db["morphology"]) == ["86_C2_center.hoc"]
    assert os.listdir(db["recsites_folder"]) == ["apical_proximal_distal_rec_sites.landmarkAscii"]
    assert os.listdir(db["syn_folder"]) == ["example_embedding_86_C2_center.syn"]
    con = os.listdir(db["con_folder"])
    assert con == ["example_embedding_86_C2_center.con"]
    # line 2 names a .syn file that does not exist under that name: kept, with a warning
    lines = (Path(db["con_folder"]) / con[0]).read_text().splitlines()
    assert lines[1] == "# 86_C2_center.syn"
    assert any(
        issubclass(w.category, lsg.SimrunImportWarning) and "86_C2_center.syn" in str(w.message)
        for w in caught
    )


def test_real_example_keys_read_back_and_pickle(example):
    db, _ = example
    for key in db.keys(recurse=True):
        value = db[key]
        pickle.loads(pickle.dumps(value))
        if isinstance(value, dd.DataFrame):
            assert value.known_divisions
            value.compute()


def test_a_synapse_file_with_latin1_bytes_is_copied_byte_for_byte(tmp_path):
    info = generate_campaign(tmp_path / "sim", seed=6, **{**SMALL, "n_folders": 1})
    syn = info.model_files["syn"]
    syn.write_bytes(syn.read_bytes() + b"# caf\xe9: a comment in latin-1\n")
    db = zdb.DataBase(tmp_path / "db")
    only = {"voltage_traces": False, "synapse_activation": False, "spike_times": False}
    lsg.init(db, info.path, progress=False, dendritic_voltage_traces=False, **only)
    copies = list(Path(db["syn_folder"]).glob("*.syn"))
    assert len(copies) == 1 and copies[0].read_bytes().endswith(b"caf\xe9: a comment in latin-1\n")


def test_a_voltage_trace_header_that_is_not_utf8_is_a_format_error_naming_the_file(tmp_path):
    path = tmp_path / "x_vm_all_traces.csv"
    path.write_bytes(b"t\tVm run 0\xe9\n0.0\t-70.0\n")
    with pytest.raises(zdb.IO.simrun_files.SimrunFormatError, match=str(path)):
        zdb.IO.simrun_files.read_voltage_trace_header(path)


def test_tables_built_at_once_share_one_pool_of_dask_threads():
    from concurrent.futures import ThreadPoolExecutor

    from zdb.db_initializers.simrun_import.run import _shared_threads

    with dask.config.set(scheduler="threads", num_workers=3), _shared_threads():
        pool = dask.config.get("pool")
        assert isinstance(pool, ThreadPoolExecutor) and pool._max_workers == 3
    assert dask.config.get("pool", None) is None
    with dask.config.set(scheduler="synchronous"), _shared_threads():
        assert dask.config.get("pool", None) is None
