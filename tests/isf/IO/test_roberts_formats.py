"""ISF's ``tests/test_data_base/IO/roberts_formats_test.py``, for zdb; the example file
is the one ISF's test reads, from the shared example campaign."""

from __future__ import annotations

import pandas as pd
import pytest

from zdb.IO.roberts_formats import (
    read_pandas_cell_activation_from_roberts_format,
    read_pandas_synapse_activation_from_roberts_format,
    synapse_activation_df_to_roberts_synapse_activation,
    write_pandas_synapse_activation_to_roberts_format,
)

from ..conftest import TEST_SIMULATION_DATA_FOLDER, need_example_data

SYNAPSE_FILE = (
    TEST_SIMULATION_DATA_FOLDER / "20150815-1530_20240" / "simulation_run0000_synapses.csv"
)


def test_saved_and_reloaded_synapse_file_is_identical(tmp_path):
    need_example_data()
    assert SYNAPSE_FILE.exists()
    synapse_pdf = read_pandas_synapse_activation_from_roberts_format(
        SYNAPSE_FILE, sim_trial_index="asdasd"
    )
    path_file = tmp_path / "test.csv"
    write_pandas_synapse_activation_to_roberts_format(path_file, synapse_pdf)
    reloaded = read_pandas_synapse_activation_from_roberts_format(
        path_file, sim_trial_index="asdasd"
    )
    pd.testing.assert_frame_equal(
        synapse_pdf.dropna(axis=1, how="all"), reloaded.dropna(axis=1, how="all")
    )


SYNAPSES = (
    "# synapse type\tsynapse ID\tsoma distance\tsection ID\tsection pt ID\tdendrite label\t"
    "activation times\n"
    "L4ss_C2\t0\t12.5\t3\t1\tbasal\t10.0,22.5,\n"
    "VPM_C2\t7\t100.0\t5\t0\tapical\t\n"
    "L4ss_C2\t1\t3.25\t3\t2\tbasal\t7.5,\n"
)


@pytest.fixture
def synapse_file(tmp_path):
    path = tmp_path / "simulation_run0000_synapses.csv"
    path.write_text(SYNAPSES)
    return path


def test_the_table_has_isfs_columns_and_the_trial_as_index(synapse_file):
    df = read_pandas_synapse_activation_from_roberts_format(synapse_file, "trial/1")
    assert list(df.columns) == [
        "synapse_type",
        "synapse_ID",
        "soma_distance",
        "section_ID",
        "section_pt_ID",
        "dendrite_label",
        "0",
        "1",
    ]
    assert df.index.name == "sim_trial_index" and set(df.index) == {"trial/1"}
    assert df["synapse_ID"].tolist() == [0, 7, 1]
    assert df["0"].tolist()[::2] == [10.0, 7.5] and pd.isna(df["0"].iloc[1])
    assert df["1"].iloc[0] == 22.5 and df["1"].iloc[1:].isna().all()


def test_lists_of_files_give_one_table_padded_to_the_longest_row(synapse_file, tmp_path):
    short = tmp_path / "short.csv"
    short.write_text(SYNAPSES.split("\n")[0] + "\nVPM_C2\t9\t1.0\t2\t0\tsoma\t5.0,\n")
    df = read_pandas_synapse_activation_from_roberts_format(
        [short, synapse_file], ["a", "b"], set_index=False
    )
    assert df["sim_trial_index"].tolist() == ["a", "b", "b", "b"]
    assert list(df.columns[6:8]) == ["0", "1"] and pd.isna(df["1"].iloc[0])
    with pytest.raises(ValueError, match="list of as many"):
        read_pandas_synapse_activation_from_roberts_format([short, synapse_file], "a")


def test_a_file_without_activations_has_one_empty_time_column_as_in_isf(tmp_path):
    path = tmp_path / "none.csv"
    path.write_text(SYNAPSES.split("\n")[0] + "\nVPM_C2\t9\t1.0\t2\t0\tsoma\t\n")
    df = read_pandas_synapse_activation_from_roberts_format(path)
    assert list(df.columns[6:]) == ["0"] and df["0"].isna().all()
    assert set(df.index) == {"no_sim_trial_assigned"}


def test_cell_activation_files_read_the_same_way(tmp_path):
    path = tmp_path / "simulation_run0000_presynaptic_cells.csv"
    path.write_text("# presynaptic cell type\tcell ID\tspike times\nL4ss_C2\t3\t1.5,9.0,\n")
    df = read_pandas_cell_activation_from_roberts_format(path, "t")
    assert list(df.columns) == ["presynaptic_cell_type", "cell_ID", "0", "1"]
    assert df.iloc[0].tolist() == ["L4ss_C2", 3, 1.5, 9.0]


def test_the_simulators_input_groups_rows_by_synapse_type(synapse_file):
    df = read_pandas_synapse_activation_from_roberts_format(synapse_file)
    assert synapse_activation_df_to_roberts_synapse_activation(df) == {
        "L4ss_C2": [(0, 3, 1, [10.0, 22.5], 12.5), (1, 3, 2, [7.5], 3.25)],
        "VPM_C2": [(7, 5, 0, [], 100.0)],
    }
