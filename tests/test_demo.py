import subprocess
import sys

import zdb
from zdb.__main__ import main


def test_demo_command_builds_a_database_and_prints_its_tree_and_provenance(tmp_path, capsys):
    assert main(["demo", str(tmp_path / "demo"), "--trials", "5"]) == 0
    out = capsys.readouterr().out
    assert "voltage_traces" in out and "full-revisionid" in out
    db = zdb.DataBase(tmp_path / "demo", readonly=True)
    assert db.keys(recurse=True) == [
        ("analysis", "mean_vm"),
        ("analysis", "spike_counts"),
        ("parameters",),
        ("spike_times",),
        ("t",),
        ("voltage_traces",),
    ]
    assert db["voltage_traces"].shape == (5, db["t"].size)


def test_zdb_module_runs_as_a_command(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "zdb", "demo", str(tmp_path / "d"), "--trials", "2"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "spike_times" in result.stdout
