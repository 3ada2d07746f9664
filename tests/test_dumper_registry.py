"""The dumper registry: built-in dumpers by name, alias, module and role; plugins from
the ``zdb.dumpers`` entry-point group, loaded on first use, broken ones left out with a
warning."""

from __future__ import annotations

import importlib.metadata
import warnings

import pytest

import zdb
from zdb import dumper_registry
from zdb.dumper import ROLE_FALLBACK, ROLE_MANAGED_FOLDER, ROLE_SUB_DATABASE, ROLES
from zdb.exceptions import UnknownDumperError
from zdb.IO import LoaderDumper


def test_a_built_in_dumper_is_found_by_name_alias_module_and_class():
    numpy = dumper_registry.get_dumper("numpy_to_zarr")
    assert dumper_registry.get_dumper("numpy_to_npy") is numpy
    assert dumper_registry.get_dumper(LoaderDumper.numpy_to_zarr) is numpy
    assert dumper_registry.get_dumper(LoaderDumper.numpy_to_npy) is numpy
    assert dumper_registry.get_dumper(type(numpy)) is numpy


def test_an_unknown_dumper_names_the_known_ones():
    with pytest.raises(UnknownDumperError, match="no_such.*numpy_to_zarr"):
        dumper_registry.get_dumper("no_such")


def test_every_role_is_played_by_one_built_in_dumper():
    players = {role: dumper_registry.dumper_for_role(role).name for role in ROLES}
    assert players == {
        ROLE_FALLBACK: "to_cloudpickle",
        ROLE_SUB_DATABASE: "sub_database",
        ROLE_MANAGED_FOLDER: "just_create_folder",
    }


@pytest.fixture
def entry_points(monkeypatch):
    """Install entry points of the ``zdb.dumpers`` group, as a package would."""

    def install(**entries: str) -> None:
        eps = [
            importlib.metadata.EntryPoint(name, value, dumper_registry.ENTRY_POINT_GROUP)
            for name, value in entries.items()
        ]
        real = importlib.metadata.entry_points

        def fake(**kwargs):
            if kwargs.get("group") == dumper_registry.ENTRY_POINT_GROUP:
                return importlib.metadata.EntryPoints(eps)
            return real(**kwargs)

        monkeypatch.setattr(importlib.metadata, "entry_points", fake)
        monkeypatch.setattr(dumper_registry, "_entry_points_loaded", False)

    yield install
    dumper_registry.unregister("doubled_test_plugin")


def test_a_plugin_dumper_is_loaded_on_first_use_and_stores_keys(entry_points, tmp_path):
    entry_points(doubled="tests.dumper_plugin:Doubled")
    db = zdb.DataBase(tmp_path / "db")
    db.set("x", 21, dumper="doubled_test_plugin")
    assert db["x"] == 21
    assert db.metadata["x"]["dumper"] == "doubled_test_plugin"
    assert "doubled_test_plugin" in dumper_registry.all_dumpers()


def test_a_broken_plugin_gives_a_warning_naming_it_and_zdb_goes_on(entry_points, tmp_path):
    entry_points(
        missing="tests.dumper_plugin:NoSuchClass",
        wrong="tests.dumper_plugin:not_a_dumper",
        doubled="tests.dumper_plugin:Doubled",
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        names = dumper_registry.all_dumpers()
    messages = [str(w.message) for w in caught]
    assert any("'missing'" in m and "left out" in m for m in messages), messages
    assert any("'wrong'" in m and "not a zdb Dumper" in m for m in messages), messages
    assert "doubled_test_plugin" in names and "numpy_to_zarr" in names
    db = zdb.DataBase(tmp_path / "db")
    db["a"] = 1
    assert db["a"] == 1


def test_a_key_written_by_a_plugin_that_is_gone_says_what_to_install(entry_points, tmp_path):
    entry_points(doubled="tests.dumper_plugin:Doubled")
    db = zdb.DataBase(tmp_path / "db")
    db.set("x", 2, dumper="doubled_test_plugin")
    dumper_registry.unregister("doubled_test_plugin")
    entry_points()
    with pytest.raises(zdb.exceptions.CorruptKeyError, match="doubled_test_plugin.*install"):
        db["x"]


def test_a_plugin_cannot_take_over_a_built_in_dumper_name(entry_points, tmp_path):
    builtin = dumper_registry.get_dumper("numpy_to_zarr")
    entry_points(impostor="tests.dumper_plugin:Impostor")
    with pytest.warns(UserWarning, match="'impostor'.*already has a dumper named 'numpy_to_zarr'"):
        dumper_registry.all_dumpers()
    assert dumper_registry.get_dumper("numpy_to_zarr") is builtin


#: every ISF dumper module zdb has a counterpart of, and that counterpart
ISF_ALIAS_MODULES = {
    "numpy_to_npy": "numpy_to_zarr",
    "numpy_to_npz": "numpy_to_zarr",
    "numpy_to_msgpack": "numpy_to_zarr",
    "pandas_to_pickle": "pandas_to_zarr",
    "pandas_to_msgpack": "pandas_to_zarr",
    "dask_to_msgpack": "dask_to_zarr",
    "dask_to_categorized_msgpack": "dask_to_zarr",
    "to_pickle": "to_pickle",
    "to_msgpack": "to_cloudpickle",
    "just_create_isf_db": "sub_database",
}


@pytest.mark.parametrize("isf_name, zdb_name", sorted(ISF_ALIAS_MODULES.items()))
def test_every_isf_dumper_is_an_importable_module_naming_its_zdb_dumper(isf_name, zdb_name):
    module = importlib.import_module(f"zdb.IO.LoaderDumper.{isf_name}")
    native = dumper_registry.get_dumper(zdb_name)
    assert module.dumper is native
    assert getattr(LoaderDumper, isf_name) is module
    assert dumper_registry.get_dumper(module) is native
    assert dumper_registry.get_dumper(isf_name) is native
    assert LoaderDumper.ISF_DUMPERS[isf_name].dumper is native


def _value_for(zdb_name: str):
    import dask.dataframe as dd
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame({"x": [1.5, 2.5, 3.5], "s": ["a", "b", "a"]})
    return {
        "numpy_to_zarr": np.arange(6).reshape(2, 3),
        "pandas_to_zarr": frame,
        "dask_to_zarr": dd.from_pandas(frame, npartitions=2),
        "to_cloudpickle": {"params": (1, 2)},
        "to_pickle": {"params": (1, 2)},
        "sub_database": None,
    }[zdb_name]


@pytest.mark.parametrize("isf_name, zdb_name", sorted(ISF_ALIAS_MODULES.items()))
def test_db_set_with_an_isf_dumper_module_writes_with_its_zdb_dumper(tmp_path, isf_name, zdb_name):
    import numpy as np
    import pandas as pd

    module = importlib.import_module(f"zdb.IO.LoaderDumper.{isf_name}")
    db = zdb.DataBase(tmp_path / "db", allow_pickle=True)
    value = _value_for(zdb_name)
    db.set("k", value, dumper=module)
    assert db.metadata["k"]["dumper"] == zdb_name
    back = db["k"]
    if zdb_name == "sub_database":
        assert zdb.is_sub_data_base(db, "k")
    elif zdb_name == "numpy_to_zarr":
        np.testing.assert_array_equal(back, value)
    elif zdb_name == "pandas_to_zarr":
        pd.testing.assert_frame_equal(back, value)
    elif zdb_name == "dask_to_zarr":
        pd.testing.assert_frame_equal(back.compute(), value.compute())
    else:
        assert back == value
