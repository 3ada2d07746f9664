"""Dumper plugins as users install them, and dumper format versions.

The example plugin package ``examples/plugin_masked`` is pip-installed into a temporary
folder and used from a fresh interpreter: its dumper is found through the ``zdb.dumpers``
entry point, loaded on first use (not at ``import zdb``), chosen by type, and round-trips
its values. A dumper's ``format_version`` is recorded in each key's pointer; a key
written in a newer format than the installed dumper's is refused, never misread.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pytest

import zdb
from zdb import dumper_registry
from zdb.dumper import Dumper, Target
from zdb.exceptions import CorruptKeyError, FormatVersionError
from zdb.testing import DumperRoundTripTests

PLUGIN = Path(__file__).parents[1] / "examples" / "plugin_masked"


@pytest.fixture(scope="module")
def installed_plugin(tmp_path_factory) -> Path:
    """The example plugin, pip-installed (without dependencies) into its own folder."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--no-index",
         "--no-build-isolation", "--target", str(target), str(PLUGIN)],
        check=True,
    )  # fmt: skip
    return target


def run_with(site: Path, code: str) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter that sees the packages in ``site``; it prints
    one JSON object, returned."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.getcwd()])}
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.splitlines()[-1])


def test_an_installed_plugin_is_loaded_on_first_use_chosen_by_type_and_round_trips(
    installed_plugin, tmp_path
):
    result = run_with(
        installed_plugin,
        f"""
        import json, sys
        import numpy as np
        import zdb
        loaded_at_import = "zdb_masked" in sys.modules
        db = zdb.DataBase({str(tmp_path / "db")!r})
        value = np.ma.masked_array([[1.5, 2.0], [3.0, -0.0]], mask=[[0, 1], [0, 0]],
                                   fill_value=-9.0)
        db["m"] = value
        back = zdb.DataBase({str(tmp_path / "db")!r}, readonly=True)["m"]
        print(json.dumps({{
            "loaded_at_import": loaded_at_import,
            "loaded_after_use": "zdb_masked" in sys.modules,
            "dumper": db.metadata["m"]["dumper"],
            "type": type(back).__name__,
            "data": np.ma.getdata(back).tolist(),
            "mask": np.ma.getmaskarray(back).tolist(),
            "fill_value": float(back.fill_value),
        }}))
        """,
    )
    assert result == {
        "loaded_at_import": False,
        "loaded_after_use": True,
        "dumper": "masked_array_to_zarr",
        "type": "MaskedArray",
        "data": [[1.5, 2.0], [3.0, -0.0]],
        "mask": [[False, True], [False, False]],
        "fill_value": -9.0,
    }
    # the plugin declared format version 1: its pointers look like every other key's
    pointer = json.loads((tmp_path / "db" / "m" / "zarr.json").read_text())
    assert "dumper_version" not in pointer["attributes"]["zdb"]


def test_a_key_of_an_uninstalled_plugin_says_what_to_install(installed_plugin, tmp_path):
    run_with(
        installed_plugin,
        f"""
        import numpy as np, zdb
        zdb.DataBase({str(tmp_path / "db")!r})["m"] = np.ma.masked_array([1.0], mask=[1])
        print("{{}}")
        """,
    )
    with pytest.raises(CorruptKeyError, match="masked_array_to_zarr.*install the package"):
        zdb.DataBase(tmp_path / "db", readonly=True)["m"]


def test_without_the_plugin_a_masked_array_keeps_its_mask(tmp_path):
    db = zdb.DataBase(tmp_path / "db", allow_pickle=True)
    db["m"] = np.ma.masked_array([1.0, 2.0], mask=[0, 1])
    assert np.ma.getmaskarray(db["m"]).tolist() == [False, True]
    with pytest.raises(zdb.exceptions.UnsupportedValueError, match="mask"):
        db.set("n", np.ma.masked_array([1.0]), dumper="numpy_to_zarr")


@pytest.fixture(scope="class")
def masked_dumper():
    """The example plugin's dumper, imported from its source and registered."""
    sys.path.insert(0, str(PLUGIN))
    try:
        import zdb_masked
    finally:
        sys.path.remove(str(PLUGIN))
    yield dumper_registry.register(zdb_masked.MaskedArrayToZarr())
    dumper_registry.unregister(zdb_masked.MaskedArrayToZarr.name)


@pytest.mark.usefixtures("masked_dumper")
class TestExamplePluginKeepsTheDumperContract(DumperRoundTripTests):
    dumper = "masked_array_to_zarr"
    examples = {
        "floats": np.ma.masked_array([1.0, np.nan, -0.0], mask=[0, 0, 1], fill_value=7.0),
        "ints_2d": np.ma.masked_array(np.arange(6).reshape(2, 3), mask=np.eye(2, 3)),
        "none_masked": np.ma.masked_array(np.zeros(4, dtype=np.int8)),
        "empty": np.ma.masked_array(np.zeros((0, 2))),
    }
    refused = {"strings": np.ma.masked_array(["a", "b"], mask=[0, 1])}

    def assert_same(self, got: Any, want: Any) -> None:
        assert type(got) is np.ma.MaskedArray and got.dtype == want.dtype
        np.testing.assert_array_equal(np.ma.getdata(got), np.ma.getdata(want))
        np.testing.assert_array_equal(np.ma.getmaskarray(got), np.ma.getmaskarray(want))
        assert got.fill_value == want.fill_value


class Versioned(Dumper):
    """Keeps an int in the pointer and remembers the format version it was read with."""

    name = "versioned_test_dumper"
    format_version: ClassVar[int] = 2
    seen: ClassVar[list[int]] = []

    def dump(self, value: int, target: Target) -> dict[str, Any]:
        return {"type": "int", "summary": str(value), "value": value}

    def wrote_files(self, info: dict[str, Any]) -> bool:
        return False

    def load(self, target: Target, info: dict[str, Any], *, lazy=False, as_xarray=False) -> int:
        Versioned.seen.append(target.dumper_version)
        return info["value"]


class Older(Versioned):
    format_version: ClassVar[int] = 1


@pytest.fixture
def versioned():
    yield dumper_registry.register(Versioned())
    dumper_registry.unregister(Versioned.name)
    Versioned.seen.clear()


def test_a_dumper_format_version_is_recorded_and_given_to_load(versioned, tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db.set("k", 7, dumper=Versioned.name)
    pointer = json.loads((tmp_path / "db" / "k" / "zarr.json").read_text())
    assert pointer["attributes"]["zdb"]["dumper_version"] == 2
    assert db["k"] == 7
    assert Versioned.seen == [2]


def test_a_key_in_a_newer_dumper_format_is_refused_naming_key_and_remedy(versioned, tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db.set("k", 7, dumper=Versioned.name)
    dumper_registry.register(Older())
    with pytest.raises(FormatVersionError, match=r"'k'.*format version 2.*\(1\); upgrade"):
        db["k"]
    assert Versioned.seen == []
    db["k"] = 8  # an older writer may still replace the value
    assert db["k"] == 8


@pytest.mark.parametrize("bad", ["2", 0, -1, True, 1.5, 10**12])
def test_a_damaged_dumper_version_reads_as_a_corrupt_key(versioned, tmp_path, bad):
    db = zdb.DataBase(tmp_path / "db")
    db.set("k", 7, dumper=Versioned.name)
    db["other"] = 1
    path = tmp_path / "db" / "k" / "zarr.json"
    doc = json.loads(path.read_text())
    doc["attributes"]["zdb"]["dumper_version"] = bad
    path.write_text(json.dumps(doc))
    with pytest.raises(CorruptKeyError, match="'k'.*dumper_version"):
        db["k"]
    assert sorted(db.keys()) == ["k", "other"] and db["other"] == 1
