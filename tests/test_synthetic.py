"""Synthetic simrun campaigns: the readers parse them, and they match their CampaignInfo."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pytest

from zdb.exceptions import DataBaseException
from zdb.IO import parameter_files as pf
from zdb.IO import simrun_files as sf
from zdb.synthetic import CampaignGenerationError, CampaignInfo, generate_campaign

SMALL = dict(
    n_folders=3,
    trials_per_folder=4,
    n_samples=2000,
    synapses_per_trial=40,
    cells_per_trial=25,
    n_dendritic_sites=2,
    spikes_per_trial=3.0,
)
UID_FOLDER = re.compile(r"\d{8}-\d{4}_\d+")
SEED_PID_FOLDER = re.compile(r"\d{8}-\d{4}_seed\d+_pid\d+")


@pytest.fixture(scope="module")
def campaign(tmp_path_factory) -> CampaignInfo:
    root = tmp_path_factory.mktemp("synthetic")
    return generate_campaign(root / "campaign", naming="both", seed=3, **SMALL)


def test_result_folders_are_found_and_the_running_folder_is_skipped(campaign):
    assert sf.find_result_folders(campaign.path) == [f.path for f in campaign.folders]
    assert campaign.running_folder is not None
    assert campaign.running_folder.name.endswith("_running")
    assert campaign.running_folder.parent == campaign.path


def test_the_running_folder_is_incomplete(campaign):
    with pytest.raises(sf.SimrunFormatError, match="_running"):
        sf.find_trials(campaign.running_folder)


def test_folder_names_follow_both_isf_conventions(campaign):
    names = [f.path.name for f in campaign.folders]
    assert any(UID_FOLDER.fullmatch(n) for n in names)
    assert any(SEED_PID_FOLDER.fullmatch(n) for n in names)
    for folder in campaign.folders:
        assert folder.path.name.endswith("_" + folder.uid)
        assert sf.result_folder_uid(folder.path) == folder.uid


def test_trials_and_traces_parse_and_match_the_info(campaign):
    for folder in campaign.folders:
        assert sf.find_trials(folder.path) == list(folder.trials)
        traces = sf.read_voltage_traces(folder.path / f"{folder.uid}_vm_all_traces.csv")
        assert traces.shape == (len(folder.trials), campaign.n_samples)
        assert traces.columns.tolist() == campaign.t.tolist()
        assert traces.columns[0] == 100.0
        np.testing.assert_allclose(np.diff(traces.columns), 0.025, atol=1e-9)
        dendritic = sf.dendritic_trace_files(folder.path)
        assert tuple(dendritic) == folder.dendritic_sites
        assert len(dendritic) == SMALL["n_dendritic_sites"]
        for path in dendritic.values():
            assert sf.read_voltage_traces(path).shape == traces.shape


def test_somatic_spikes_cross_zero_where_the_info_says(campaign):
    n_spikes = 0
    for folder in campaign.folders:
        t, trials, values = sf.read_voltage_trace_arrays(
            folder.path / f"{folder.uid}_vm_all_traces.csv"
        )
        up = (values[:, 1:] >= 0) & (values[:, :-1] < 0)
        detected = tuple(tuple(t[1:][row].tolist()) for row in up)
        assert detected == folder.spike_times
        n_spikes += sum(map(len, detected))
        assert values.max() < 60 and values.min() > -100
        assert np.median(values) < -55
    assert n_spikes > 0


def test_activation_files_parse_and_match_the_info(campaign):
    for folder in campaign.folders:
        for i, trial in enumerate(folder.trials):
            synapses = sf.read_activation_table(
                sf.trial_file(folder.path, trial, "synapses"), "synapses"
            )
            cells = sf.read_activation_table(
                sf.trial_file(folder.path, trial, "presynaptic_cells"), "presynaptic_cells"
            )
            assert len(synapses.fixed) == folder.synapse_rows[i] == SMALL["synapses_per_trial"]
            assert len(cells.fixed) == folder.cell_rows[i]
            assert len(synapses.times) == folder.synapse_activations[i]
            assert len(cells.times) == folder.cell_spikes[i]
            assert (synapses.counts >= 1).all()
            frame = synapses.to_frame()
            assert not frame["soma_distance"].isna().any()
            assert set(frame["dendrite_label"]) <= {"Soma", "Dendrite", "ApicalDendrite"}
    assert campaign.n_synapse_rows == sum(sum(f.synapse_rows) for f in campaign.folders)


def test_raw_lines_have_the_real_separators_and_trailing_commas(campaign):
    folder = campaign.folders[0]
    lines = sf.trial_file(folder.path, 0, "synapses").read_text().split("\n")
    assert lines[0] == sf.SYNAPSE_HEADER
    assert lines[-1] == ""
    for line in lines[1:-1]:
        fields = line.split("\t")
        assert len(fields) == 7 and fields[6].endswith(",")
    cell_lines = sf.trial_file(folder.path, 0, "presynaptic_cells").read_text().splitlines()
    assert cell_lines[0] == sf.CELL_HEADER
    trace_header = (folder.path / f"{folder.uid}_vm_all_traces.csv").read_text().split("\n")[0]
    assert trace_header == "t\tVm run 00\tVm run 01\tVm run 02\tVm run 03"


def test_param_files_reference_existing_model_files_by_absolute_path(campaign):
    expected = {".hoc", ".landmarkAscii", ".syn", ".con"}
    for folder in campaign.folders:
        refs = [
            *pf.find_file_paths(pf.read_param_file(folder.neuron_param)),
            *pf.find_file_paths(pf.read_param_file(folder.network_param)),
        ]
        assert {Path(r.path).suffix for r in refs} == expected
        for ref in refs:
            path = Path(ref.path)
            assert path.is_absolute() and path.is_file()
            assert campaign.model_dir in path.parents
    assert campaign.model_dir.parent == campaign.path.parent
    assert set(campaign.model_files) == {"hoc", "landmark", "syn", "con"}


def test_recording_sites_file_holds_one_marker_per_site(campaign):
    text = campaign.model_files["landmark"].read_text()
    assert "define Markers 2" in text
    assert len(text.split("@1\n")[-1].split()) == 3 * SMALL["n_dendritic_sites"]


def test_info_lists_every_file_written(campaign):
    on_disk = {
        p for root in [campaign.path, campaign.model_dir] for p in root.rglob("*") if p.is_file()
    }
    assert set(campaign.files) == on_disk
    assert campaign.n_bytes == sum(p.stat().st_size for p in on_disk)
    assert campaign.n_trials == SMALL["n_folders"] * SMALL["trials_per_folder"]


def _content(info: CampaignInfo) -> dict[tuple[bool, str], object]:
    """Every written file by its place relative to the campaign or the model folder: a
    hash, or for parameter files their content with the model folder's root replaced."""
    out: dict[tuple[bool, str], object] = {}
    for path in info.files:
        in_model = info.model_dir in path.parents
        key = (in_model, str(path.relative_to(info.model_dir if in_model else info.path)))
        if path.suffix == ".param":
            params = pf.read_param_file(path)
            out[key] = pf.rewrite_path_prefixes(params, {str(info.model_dir): "/model"})
        else:
            out[key] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def test_same_seed_gives_the_same_campaign_and_another_seed_does_not(tmp_path):
    kwargs = dict(SMALL, n_samples=300, n_folders=2)
    a = generate_campaign(tmp_path / "a" / "c", seed=7, **kwargs)
    b = generate_campaign(tmp_path / "b" / "c", seed=7, **kwargs)
    c = generate_campaign(tmp_path / "x" / "c", seed=8, **kwargs)
    assert _content(a) == _content(b)
    assert _content(a) != _content(c)


@pytest.mark.parametrize(
    ("naming", "pattern"), [("uid", UID_FOLDER), ("seed_pid", SEED_PID_FOLDER)]
)
def test_one_naming_style_for_all_folders(tmp_path, naming, pattern):
    info = generate_campaign(
        tmp_path / "c", naming=naming, running_folder=False, **dict(SMALL, n_samples=50)
    )
    assert info.running_folder is None
    assert all(pattern.fullmatch(f.path.name) for f in info.folders)
    assert not any(p.name.endswith("_running") for p in info.path.iterdir())


def test_empty_activation_rows_can_be_asked_for_and_parse(tmp_path):
    info = generate_campaign(
        tmp_path / "c",
        n_folders=1,
        trials_per_folder=2,
        n_samples=20,
        n_dendritic_sites=0,
        empty_activation_fraction=0.5,
        running_folder=False,
    )
    folder = info.folders[0]
    table = sf.read_activation_table(sf.trial_file(folder.path, 0, "synapses"), "synapses")
    assert (table.counts == 0).any() and (table.counts > 0).any()
    assert len(table.times) == folder.synapse_activations[0]
    assert sf.dendritic_trace_files(folder.path) == {}


def test_a_non_empty_target_folder_is_refused(tmp_path):
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "keep.txt").write_text("x")
    with pytest.raises(CampaignGenerationError, match="not empty") as error:
        generate_campaign(tmp_path / "c", n_folders=1, trials_per_folder=1, n_samples=10)
    assert isinstance(error.value, DataBaseException)


@pytest.mark.parametrize(
    "kwargs", [{"naming": "pid"}, {"n_folders": -1}, {"trials_per_folder": 1.5}]
)
def test_invalid_arguments_are_refused(tmp_path, kwargs):
    with pytest.raises(CampaignGenerationError):
        generate_campaign(tmp_path / "c", **kwargs)


def test_the_realistic_shape_has_isf_cell_type_names_and_bursting_synapses(tmp_path):
    info = generate_campaign(
        tmp_path / "c",
        n_folders=1,
        trials_per_folder=6,
        n_samples=50,
        n_cell_types=375,
        cell_types_per_trial=270,
        synapses_per_trial=1100,
        activations_per_synapse=1.2,
        max_activations_per_synapse=22,
        cells_per_trial=400,
        n_dendritic_sites=1,
        running_folder=False,
    )
    folder = info.folders[0]
    assert folder.synapse_rows == (1100,) * 6
    name = re.compile(r"^(L[0-9][A-Za-z0-9]*|VPM)_([A-E][1-4]|Alpha|Beta|Gamma|Delta)$")
    types_seen, widths = set(), []
    for trial in folder.trials:
        table = sf.read_activation_table(sf.trial_file(folder.path, trial, "synapses"), "synapses")
        types = set(table.fixed["synapse_type"])
        assert 240 <= len(types) <= 270  # of 270 types drawn, a few get no synapse
        assert all(name.match(t) for t in types)
        widths.append(int(table.counts.max()))
        types_seen |= types
        assert 1.0 < table.counts.mean() < 1.5
    assert len(types_seen) > 300
    assert max(widths) <= 22
    cells = sf.read_activation_table(
        sf.trial_file(folder.path, 0, "presynaptic_cells"), "presynaptic_cells"
    )
    assert len(set(cells.fixed["presynaptic_cell_type"])) == 375


def test_the_cell_type_names_are_distinct_and_include_the_principal_column():
    from zdb.synthetic import cell_type_names

    names = cell_type_names(375)
    assert len(set(names)) == 375 and names == tuple(sorted(names))
    assert {"L5tt_C2", "L1_B1", "VPM_C2"} <= set(names)
    with pytest.raises(CampaignGenerationError, match="n_cell_types"):
        cell_type_names(0)
