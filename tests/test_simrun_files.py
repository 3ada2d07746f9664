"""Readers and writers of ISF's raw simulation output, on the real example and on
constructed files."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zdb.exceptions import DataBaseException
from zdb.IO import simrun_files as sf

EXAMPLE = Path(__file__).parents[2] / "shared" / "data" / "isf_example"
RESULT = (
    EXAMPLE
    / "simulation_data"
    / "C2_evoked_UpState_INH_PW_1.0_SuW_0.5_C2center"
    / "20150815-1530_20240"
)
SITES = [
    "apical_proximal_distal_rec_sites_ID_000_sec_038_seg_032_x_0.929_somaDist_920.7",
    "apical_proximal_distal_rec_sites_ID_001_sec_025_seg_001_x_0.500_somaDist_198.1",
]


@pytest.fixture
def real() -> Path:
    """The real result folder of the ISF example, or a skip when it is absent."""
    if not RESULT.is_dir():
        pytest.skip(f"the real ISF example data is not at {RESULT} (../shared/data/isf_example)")
    return RESULT


def _synapse_frame(rows: list[tuple], times: list[list[float]]) -> pd.DataFrame:
    fixed = pd.DataFrame(rows, columns=list(sf.SYNAPSE_COLUMNS))
    counts = np.array([len(t) for t in times], dtype=np.int64)
    flat = np.array([x for t in times for x in t], dtype=np.float64)
    return sf.ActivationTable("synapses", fixed, flat, counts).to_frame()


# ----------------------------------------------------------------------------- real data


def test_real_soma_traces_have_six_trials_of_9802_samples_from_t_100(real):
    traces = sf.read_voltage_traces(real / "20240_vm_all_traces.csv")
    assert traces.shape == (6, 9802)
    assert traces.index.tolist() == [0, 1, 2, 3, 4, 5]
    assert traces.index.name == "trial"
    assert traces.columns.dtype == np.float64
    labels = traces.columns.tolist()
    assert all(type(label) is float for label in labels)
    assert labels[0] == 100.0
    np.testing.assert_allclose(np.diff(labels), 0.025, atol=1e-9)
    assert traces.to_numpy().dtype == np.float64
    assert not traces.isna().any().any()


def test_real_trace_labels_and_values_are_exactly_the_python_floats_of_the_file(real):
    path = real / "20240_vm_all_traces.csv"
    lines = path.read_text().splitlines()
    expected = np.array([[float(x) for x in line.split("\t")] for line in lines[1:]])
    t, trials, values = sf.read_voltage_trace_arrays(path)
    assert t.tolist() == expected[:, 0].tolist()
    assert np.array_equal(values, expected[:, 1:].T)
    assert trials.tolist() == [0, 1, 2, 3, 4, 5]
    assert sf.read_voltage_traces(path).columns.tolist() == expected[:, 0].tolist()


def test_real_soma_traces_written_back_are_the_same_bytes_and_read_equal(real, tmp_path):
    original = real / "20240_vm_all_traces.csv"
    traces = sf.read_voltage_traces(original)
    copy = tmp_path / "20240_vm_all_traces.csv"
    sf.write_voltage_traces(copy, traces)
    assert copy.read_bytes() == original.read_bytes()
    pd.testing.assert_frame_equal(sf.read_voltage_traces(copy), traces)


def test_real_dendritic_trace_files_are_found_by_site_label_and_read(real, tmp_path):
    files = sf.dendritic_trace_files(real)
    assert list(files) == SITES
    soma_t = sf.read_voltage_trace_arrays(real / "20240_vm_all_traces.csv").t
    for label, path in files.items():
        assert sf.dendritic_site_label(path, "20240") == label
        traces = sf.read_voltage_traces(path)
        assert traces.shape == (6, 9802)
        assert traces.columns.tolist() == soma_t.tolist()
        sf.write_voltage_traces(tmp_path / path.name, traces)
        pd.testing.assert_frame_equal(sf.read_voltage_traces(tmp_path / path.name), traces)


def test_real_synapse_file_parses_into_isf_columns_and_dtypes(real):
    path = real / "simulation_run0000_synapses.csv"
    frame = sf.read_synapse_activation(path)
    assert list(frame.columns[:6]) == list(sf.SYNAPSE_COLUMNS)
    assert frame.columns[6] == "0"
    time_columns = list(frame.columns[6:])
    assert time_columns == [str(i) for i in range(len(time_columns))]
    assert frame["synapse_type"].dtype == "str"
    assert frame["dendrite_label"].dtype == "str"
    for column in ["synapse_ID", "section_ID", "section_pt_ID"]:
        assert frame[column].dtype == np.int64
    assert frame["soma_distance"].dtype == np.float64
    assert not frame["soma_distance"].isna().any()
    assert (frame[time_columns].dtypes == np.float64).all()
    assert len(frame) == len(path.read_text().splitlines()) - 1
    first = frame.iloc[0]
    assert (first["synapse_type"], first["synapse_ID"], first["section_ID"]) == ("L1_C1", 19, 50)
    assert first["soma_distance"] == 1539.71545505
    assert first["dendrite_label"] == "ApicalDendrite"
    assert first["0"] == 14.3144635349 and math.isnan(first["1"])
    assert set(frame["dendrite_label"]) == {"ApicalDendrite", "Dendrite", "Soma"}


def test_real_activation_times_match_a_line_by_line_parse(real):
    path = real / "simulation_run0003_synapses.csv"
    table = sf.read_activation_table(path, "synapses")
    lines = path.read_text().splitlines()[1:]
    expected = [[float(x) for x in line.split("\t")[6].split(",") if x] for line in lines]
    assert table.counts.tolist() == [len(t) for t in expected]
    assert table.times.tolist() == [x for t in expected for x in t]


def test_real_presynaptic_cell_file_parses_into_isf_columns_and_dtypes(real):
    frame = sf.read_cell_activation(real / "simulation_run0000_presynaptic_cells.csv")
    assert list(frame.columns[:3]) == ["presynaptic_cell_type", "cell_ID", "0"]
    assert frame["presynaptic_cell_type"].dtype == "str"
    assert frame["cell_ID"].dtype == np.int64
    assert frame.iloc[1]["presynaptic_cell_type"] == "L1_B1"
    assert frame.iloc[1][["0", "1"]].tolist() == [174.863960609, 281.277497845]


@pytest.mark.parametrize("trial", range(6))
def test_real_activation_files_written_back_are_the_same_bytes_and_read_equal(
    real, tmp_path, trial
):
    for kind, read, write in [
        ("synapses", sf.read_synapse_activation, sf.write_synapse_activation),
        ("presynaptic_cells", sf.read_cell_activation, sf.write_cell_activation),
    ]:
        original = sf.trial_file(real, trial, kind)
        frame = read(original)
        copy = tmp_path / original.name
        write(copy, frame)
        assert copy.read_bytes() == original.read_bytes()
        pd.testing.assert_frame_equal(read(copy), frame)


def test_real_headers_are_the_ones_the_writers_write(real):
    def header(name: str) -> str:
        return (real / name).read_text().splitlines()[0]

    assert header("simulation_run0000_synapses.csv") == sf.SYNAPSE_HEADER
    assert header("simulation_run0000_presynaptic_cells.csv") == sf.CELL_HEADER


def test_real_result_folder_has_trials_zero_to_five_and_uid_20240(real):
    assert sf.find_trials(real) == [0, 1, 2, 3, 4, 5]
    assert sf.result_folder_uid(real) == "20240"
    assert sf.find_result_folders(real.parent) == [real]


def test_find_trials_names_the_folder_when_a_trial_file_is_missing(real, tmp_path):
    folder = tmp_path / "20150815-1530_20240"
    folder.mkdir()
    shutil.copy(real / "20240_vm_all_traces.csv", folder)
    for trial in range(5):
        for kind in ["synapses", "presynaptic_cells"]:
            shutil.copy(sf.trial_file(real, trial, kind), folder)
    with pytest.raises(sf.SimrunFormatError, match=str(folder)) as error:
        sf.find_trials(folder)
    assert "[5]" in str(error.value)


# ----------------------------------------------------------------------------- voltage traces


def test_trial_numbers_come_from_the_header_not_the_column_position(tmp_path):
    t = np.array([100.0, 100.025, 100.05])
    values = np.arange(9.0).reshape(3, 3) - 70
    path = tmp_path / "x_vm_all_traces.csv"
    sf.write_voltage_trace_arrays(path, t, [3, 7, 120], values)
    assert path.read_text().splitlines()[0] == "t\tVm run 03\tVm run 07\tVm run 120"
    traces = sf.read_voltage_traces(path)
    assert traces.index.tolist() == [3, 7, 120]
    assert traces.loc[7].tolist() == values[1].tolist()
    assert sf.read_voltage_trace_header(path).tolist() == [3, 7, 120]


def test_voltage_trace_round_trip_keeps_every_float_exactly(tmp_path):
    rng = np.random.default_rng(0)
    t = np.round(100 + 0.025 * np.arange(500), 10)
    values = rng.normal(-65, 20, (4, 500)) * 10.0 ** rng.integers(-6, 6, (4, 500))
    values[0, :3] = [0.0, -0.0, 1e-300]
    traces = pd.DataFrame(values, index=pd.Index([0, 1, 2, 3], name="trial"), columns=t)
    path = tmp_path / "v_vm_all_traces.csv"
    sf.write_voltage_traces(path, traces)
    pd.testing.assert_frame_equal(sf.read_voltage_traces(path), traces)


def test_voltage_trace_file_with_header_only_reads_as_no_samples(tmp_path):
    path = tmp_path / "e_vm_all_traces.csv"
    path.write_text("t\tVm run 00\tVm run 01\n")
    t, trials, values = sf.read_voltage_trace_arrays(path)
    assert t.shape == (0,) and trials.tolist() == [0, 1] and values.shape == (2, 0)


def test_voltage_traces_with_crlf_line_ends_read_the_same(tmp_path):
    path = tmp_path / "w_vm_all_traces.csv"
    path.write_bytes(b"t\tVm run 00\r\n100.0\t-65.5\r\n100.025\t-65.25\r\n")
    traces = sf.read_voltage_traces(path)
    assert traces.columns.tolist() == [100.0, 100.025]
    assert traces.loc[0].tolist() == [-65.5, -65.25]


@pytest.mark.parametrize(
    "content",
    [
        "time\tVm run 00\n100.0\t1.0\n",
        "t\tVoltage 00\n100.0\t1.0\n",
        "t\tVm run 00\tVm run 00\n100.0\t1.0\t2.0\n",
        "t\tVm run 00\n100.0\t1.0\t2.0\n",
        "t\tVm run 00\n100.0\tabc\n",
    ],
)
def test_malformed_voltage_trace_files_raise_naming_the_file(tmp_path, content):
    path = tmp_path / "bad_vm_all_traces.csv"
    path.write_text(content)
    with pytest.raises(sf.SimrunFormatError, match="bad_vm_all_traces.csv"):
        sf.read_voltage_traces(path)


def test_writing_traces_of_the_wrong_shape_raises(tmp_path):
    with pytest.raises(sf.SimrunFormatError, match="shape"):
        sf.write_voltage_trace_arrays(tmp_path / "x.csv", np.arange(3.0), [0, 1], np.zeros((2, 4)))


# ----------------------------------------------------------------------------- activation files


def test_rows_without_activation_times_are_written_with_an_empty_field_and_read_back(
    tmp_path,
):
    frame = _synapse_frame(
        [("VPM_C2", 0, 12.5, 3, 4, "Dendrite"), ("L5tt_C2", 7, 300.0, 9, 0, "ApicalDendrite")],
        [[], [1.0, 2.5]],
    )
    path = tmp_path / "simulation_run0000_synapses.csv"
    sf.write_synapse_activation(path, frame)
    lines = path.read_text().split("\n")
    assert lines[1] == "VPM_C2\t0\t12.5\t3\t4\tDendrite\t"
    assert lines[2] == "L5tt_C2\t7\t300.0\t9\t0\tApicalDendrite\t1.0,2.5,"
    assert lines[3] == ""
    pd.testing.assert_frame_equal(sf.read_synapse_activation(path), frame)
    assert sf.read_activation_table(path, "synapses").counts.tolist() == [0, 2]


def test_activation_file_with_header_only_reads_as_an_empty_typed_table(tmp_path):
    path = tmp_path / "simulation_run0000_presynaptic_cells.csv"
    path.write_text(sf.CELL_HEADER + "\n")
    frame = sf.read_cell_activation(path)
    assert list(frame.columns) == ["presynaptic_cell_type", "cell_ID"]
    assert len(frame) == 0
    assert frame["cell_ID"].dtype == np.int64
    assert frame["presynaptic_cell_type"].dtype == "str"


def test_activation_times_are_padded_to_the_requested_width(tmp_path):
    frame = _synapse_frame([("A", 0, 1.0, 0, 0, "Soma")], [[5.0, 6.0]])
    path = tmp_path / "s.csv"
    sf.write_synapse_activation(path, frame)
    wide = sf.read_synapse_activation(path, n_columns=4)
    assert list(wide.columns[6:]) == ["0", "1", "2", "3"]
    assert wide.iloc[0, 6:].tolist()[:2] == [5.0, 6.0]
    assert wide.iloc[0, 8:].isna().all()
    with pytest.raises(sf.SimrunFormatError, match="2 activation times"):
        sf.read_synapse_activation(path, n_columns=1)


def test_activation_lines_tolerate_crlf_and_trailing_blanks(tmp_path):
    path = tmp_path / "simulation_run0001_presynaptic_cells.csv"
    path.write_bytes(
        (sf.CELL_HEADER + "\r\nL1_B1\t0\t66.5,\r\nL1_B1\t6\t1.5,2.5, \r\n\r\n").encode()
    )
    table = sf.read_activation_table(path, "presynaptic_cells")
    assert table.fixed["cell_ID"].tolist() == [0, 6]
    assert table.times.tolist() == [66.5, 1.5, 2.5]
    assert table.counts.tolist() == [1, 2]


def test_a_cell_file_read_as_a_synapse_file_is_refused(real):
    with pytest.raises(sf.SimrunFormatError, match="not a synapses activation file"):
        sf.read_synapse_activation(real / "simulation_run0000_presynaptic_cells.csv")


@pytest.mark.parametrize(
    "line",
    [
        "L1\tx\t1.0\t2\t3\tSoma\t1.0,",
        "L1\t1\t1.0\t2\t3\tSoma\t1.0,abc,",
        "L1\t1\t1.0\t2\tSoma\t1.0,",
    ],
)
def test_malformed_activation_lines_raise_naming_the_file(tmp_path, line):
    path = tmp_path / "simulation_run0000_synapses.csv"
    path.write_text(sf.SYNAPSE_HEADER + "\n" + line + "\n")
    with pytest.raises(sf.SimrunFormatError, match="simulation_run0000_synapses.csv") as error:
        sf.read_synapse_activation(path)
    assert isinstance(error.value, DataBaseException)


def test_a_nan_before_an_activation_time_cannot_be_written(tmp_path):
    frame = _synapse_frame([("A", 0, 1.0, 0, 0, "Soma")], [[5.0, 6.0]])
    frame.loc[0, "0"] = np.nan
    with pytest.raises(sf.SimrunFormatError, match="row 0"):
        sf.write_synapse_activation(tmp_path / "s.csv", frame)


def test_a_tab_inside_a_cell_type_cannot_be_written(tmp_path):
    frame = _synapse_frame([("A\tB", 0, 1.0, 0, 0, "Soma")], [[5.0]])
    with pytest.raises(sf.SimrunFormatError, match="tab"):
        sf.write_synapse_activation(tmp_path / "s.csv", frame)


_times = st.lists(
    st.floats(allow_nan=False, allow_infinity=False, width=64), min_size=0, max_size=4
)
_rows = st.lists(
    st.tuples(
        st.text(alphabet="ABCLVPM_0123456789", min_size=1, max_size=8),
        st.integers(0, 2**40),
        st.floats(allow_nan=False, allow_infinity=False),
        st.integers(0, 10_000),
        st.integers(0, 10_000),
        st.sampled_from(["Soma", "Dendrite", "ApicalDendrite"]),
        _times,
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(rows=_rows)
def test_any_synapse_table_survives_write_and_read(tmp_path_factory, rows):
    frame = _synapse_frame([r[:6] for r in rows], [r[6] for r in rows])
    path = tmp_path_factory.mktemp("rt") / "simulation_run0000_synapses.csv"
    sf.write_synapse_activation(path, frame)
    pd.testing.assert_frame_equal(sf.read_synapse_activation(path), frame)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(width=64), min_size=1, max_size=50))
def test_numbers_are_formatted_exactly_as_python_str(values):
    assert sf.format_floats(np.array(values)).to_pylist() == [repr(v) for v in values]
