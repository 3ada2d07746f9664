"""Progress bars of the long commands and functions: on a terminal only, never with
``--json`` or ``--quiet``, and never when ``ZDB_PROGRESS`` switches them off."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import zdb
from zdb import progress_bars
from zdb.synthetic import generate_campaign

from . import cli_plant as plant
from .cli_helpers import run


@pytest.fixture
def isf_db(tmp_path):
    """A small ISF database, written as ISF wrote it."""
    from zdb.testing import isf_writer

    db = isf_writer.create_database(str(tmp_path / "isf"))
    for i in range(3):
        isf_writer.write_key(db, f"a{i}", "numpy_to_npy", np.arange(10.0 * (i + 1)))
    return db


@pytest.fixture
def stale_leftovers(monkeypatch):
    """Measure leftovers' ages two days from now: everything planted is stale."""
    import zdb.leftovers

    real = zdb.leftovers._now
    monkeypatch.setattr(zdb.leftovers, "_now", lambda: real() + 2 * 24 * 3600.0)


def small_db(path) -> zdb.DataBase:
    db = zdb.DataBase(path)
    db.set("vm", np.arange(200.0).reshape(20, 10), chunks=(4, 5))
    db["params", "run1"] = {"seed": 1}
    return db


def commands(tmp_path, isf: str) -> dict[str, list[str]]:
    """Each long command, on fresh inputs, by name."""
    db = small_db(tmp_path / "db")
    plant.stray_staging_folder(db)
    plant.retired_version(db, "vm")
    campaign = tmp_path / "campaign"
    generate_campaign(campaign, n_folders=1, trials_per_folder=2, n_samples=50, seed=1)
    return {
        "gc": ["gc", str(tmp_path / "db")],
        "cp": ["cp", str(tmp_path / "db"), "vm", str(tmp_path / "other")],
        "export zip": ["export", str(tmp_path / "db"), str(tmp_path / "out.zip")],
        "export copy": ["export", str(tmp_path / "db"), str(tmp_path / "copy")],
        "migrate": ["migrate", isf, str(tmp_path / "migrated")],
        "import-simrun": [
            "import-simrun",
            str(campaign),
            str(tmp_path / "imported"),
            "--no-parameterfiles",
        ],
    }


BAR_TEXT = {
    "gc": "removing",
    "cp": "copying vm",
    "export zip": "exporting",
    "export copy": "exporting",
    "migrate": "keys ",
    "import-simrun": "import",
}


@pytest.mark.parametrize("name", list(BAR_TEXT))
def test_a_long_command_shows_a_progress_bar_on_a_terminal(
    name, tmp_path, capsys, monkeypatch, stale_leftovers, isf_db
):
    argv = commands(tmp_path, isf_db)[name]
    monkeypatch.delenv(progress_bars.ENV, raising=False)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # stderr as pytest captures it
    result = run(capsys, *argv)
    assert result.code == 0, result.err
    assert BAR_TEXT[name] in result.err and "\r" in result.err  # tqdm redraws with \r


@pytest.mark.parametrize("switch", ["--json", "--quiet", "ZDB_PROGRESS=0", "no terminal"])
@pytest.mark.parametrize("name", list(BAR_TEXT))
def test_no_progress_bar_with_json_quiet_zdb_progress_0_or_off_a_terminal(
    name, switch, tmp_path, capsys, monkeypatch, stale_leftovers, isf_db
):
    argv = commands(tmp_path, isf_db)[name]
    monkeypatch.delenv(progress_bars.ENV, raising=False)
    monkeypatch.setattr(progress_bars, "DASK_WRITE_DELAY", 0)  # the writes' bars too
    monkeypatch.setattr(sys.stderr, "isatty", lambda: switch != "no terminal")
    if switch.startswith("--"):
        argv.append(switch)
    elif switch.startswith("ZDB_PROGRESS"):
        monkeypatch.setenv(progress_bars.ENV, "0")
    result = run(capsys, *argv)
    assert result.code == 0, result.err
    assert "\r" not in result.err


@pytest.mark.parametrize("value", ["0", "off", "False", " no "])
def test_zdb_progress_switches_every_bar_off(value, monkeypatch):
    monkeypatch.setenv(progress_bars.ENV, value)
    assert progress_bars.wanted(True) is False
    assert progress_bars.bar(range(3), progress=True).disable


@pytest.mark.parametrize("value", [None, "", "1", "on"])
def test_without_zdb_progress_0_a_bar_is_shown_where_asked_for(value, monkeypatch):
    if value is None:
        monkeypatch.delenv(progress_bars.ENV, raising=False)
    else:
        monkeypatch.setenv(progress_bars.ENV, value)
    assert progress_bars.wanted(True) is True and progress_bars.wanted(False) is False


def test_library_functions_show_bars_when_asked(tmp_path, capsys, monkeypatch, stale_leftovers):
    monkeypatch.delenv(progress_bars.ENV, raising=False)
    db = small_db(tmp_path / "db")
    plant.retired_version(db, "vm")
    capsys.readouterr()
    assert len(zdb.gc(db, progress=True).removed) == 1
    db.copy_to("vm", zdb.DataBase(tmp_path / "other"), progress=True)
    assert zdb.fsck(db, progress=True).ok
    err = capsys.readouterr().err
    assert "removing" in err and "copying vm" in err and "checking keys" in err
    zdb.gc(db)
    db.copy_to("vm", zdb.DataBase(tmp_path / "other"), "again")
    assert capsys.readouterr().err == ""


def test_a_long_dask_write_shows_its_tasks_where_someone_watches(tmp_path, capsys, monkeypatch):
    import dask.array as da
    import dask.dataframe as dd
    import pandas as pd

    monkeypatch.delenv(progress_bars.ENV, raising=False)
    monkeypatch.setattr(progress_bars, "DASK_WRITE_DELAY", 0)  # every write is "long"
    db = zdb.DataBase(tmp_path / "db")
    array = da.ones((40, 10), chunks=(10, 10))
    frame = dd.from_pandas(pd.DataFrame({"a": range(100)}), npartitions=4)
    capsys.readouterr()
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    db["array"] = array
    db["frame"] = frame
    assert capsys.readouterr().err.count("writing") >= 2
    monkeypatch.setenv(progress_bars.ENV, "0")
    db["array"] = array
    with progress_bars.switched_off():
        monkeypatch.delenv(progress_bars.ENV)
        db["frame"] = frame
    assert capsys.readouterr().err == ""


def test_a_dask_write_in_a_batch_job_shows_no_bar(tmp_path, capsys, monkeypatch):
    import dask.array as da

    monkeypatch.delenv(progress_bars.ENV, raising=False)
    monkeypatch.setattr(progress_bars, "DASK_WRITE_DELAY", 0)
    db = zdb.DataBase(tmp_path / "db")
    capsys.readouterr()
    db["array"] = da.ones((40, 10), chunks=(10, 10))  # stderr is no terminal, no kernel
    assert capsys.readouterr().err == ""
    assert progress_bars.interactive() is False
