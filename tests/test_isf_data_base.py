"""ISF databases, read-only without ISF: the three real databases of the shared example
data, and every dumper's files written the way ISF wrote them (zdb.testing.isf_writer)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import zdb
from zdb.exceptions import (
    CorruptKeyError,
    DataBaseException,
    KeyKindError,
    NotADataBaseError,
    PickleRefusedError,
    ReadOnlyError,
)
from zdb.isf_data_base import ISFDataBase, SharedNumpyStore, register_loader
from zdb.legacy import loaders
from zdb.testing import isf_writer

SHARED = Path(__file__).parents[2] / "shared" / "data" / "isf_example" / "simulation_data"


def shared(name: str) -> Path:
    path = SHARED / name
    if not (path / "db_state.json").exists():
        pytest.skip(f"the real ISF example databases are not at {SHARED} (../shared/data)")
    return path


def snapshot(path: Path) -> dict[str, tuple[int, float, bytes]]:
    """Every file below ``path`` with its size, modification time and content."""
    out = {}
    for root, _, files in os.walk(path):
        for name in files:
            full = os.path.join(root, name)
            st = os.lstat(full)
            out[os.path.relpath(full, path)] = (st.st_size, st.st_mtime, Path(full).read_bytes())
    return out


# -- the shared databases ------------------------------------------------------------------


def test_the_18k_trials_database_reads_its_spike_times_frame():
    db = ISFDataBase(shared("18k_trials"), allow_pickle=True)
    assert db.keys() == ["spike_times"] and db.unique_id == "2024-01-23_266441_47s8mDQ"
    frame = db["spike_times"]
    assert frame.shape == (18_000, 5)
    assert list(frame.columns) == [0, 1, 2, 3, 4] and frame.columns.dtype == np.int64
    assert frame.index.name == "sim_trail_index" and frame.index.dtype == object
    assert set(frame.dtypes) == {np.dtype("float64")}
    first = "B1_evoked_UpState_INH_PW_1.0_SuW_0.5_B1border/20150817-1856_20686/000000"
    assert frame.index[0] == first and frame.loc[first, 0] == 173.625
    assert frame.loc[first, 1] == 214.4 and np.isnan(frame.loc[first, 2])
    meta = db.metadata["spike_times"]
    assert meta == {
        "dumper": "to_cloudpickle",
        "time": "2024-05-06T16:38:05+00:00",
        "metadata_creation_time": "post_hoc",
        "version": "unknown",
    }


def test_the_voltage_traces_database_reads_its_four_trace_pairs():
    db = ISFDataBase(shared("voltage_traces"), allow_pickle=True)
    assert db.keys() == [
        "step_current_0.619",
        "step_current_0.793",
        "step_current_1.507",
        "step_rect5_1.9",
    ]
    lengths = {}
    for key in db:
        t, vm = db[key]
        assert t.dtype == vm.dtype == np.float64 and t.shape == vm.shape
        assert t[0] == 0.0 and vm[0] == -75.0 and np.all(np.diff(t) > 0)
        lengths[key] = len(t)
    assert lengths == {
        "step_current_0.619": 2031,
        "step_current_0.793": 5965,
        "step_current_1.507": 8045,
        "step_rect5_1.9": 367,
    }
    assert db.metadata["step_rect5_1.9"]["time"] == "2024-02-14T09:03:08+00:00"


BIOPHYSICS_UNREADABLE = {
    ("simulator",): "biophysics_fitting",
    ("89", "get_Simulator"): "Python 3.8",
    ("89", "get_Combiner"): "Python 3.8",
    ("89", "get_Evaluator"): "Python 3.8",
    ("89", "get_fixed_params"): "Python 3.8",
}


def test_the_biophysics_database_lists_its_nested_sub_databases_and_folders():
    db = ISFDataBase(shared("biophysics"), allow_pickle=True)
    assert db.keys() == ["89", "example_models", "simulator", "voltage_traces"]
    assert db.keys(recurse=True) == [
        ("89", "42", "0"),
        ("89", "42", "1"),
        ("89", "42", "checkpoint"),
        ("89", "RW_exploration_example"),
        ("89", "fixed_params"),
        ("89", "get_Combiner"),
        ("89", "get_Evaluator"),
        ("89", "get_Simulator"),
        ("89", "get_fixed_params"),
        ("89", "morphology"),
        ("89", "params"),
        ("example_models",),
        ("simulator",),
        ("voltage_traces",),
    ]
    sub = db["89"]
    assert isinstance(sub, ISFDataBase) and sub.unique_id == "2024-12-18_97481_eTpnlk5"
    assert db["89"]["42"].unique_id == "2024-12-18_97481_QG4c2Am"
    assert db.dumper_of(("89", "42", "1")) == "pandas_to_parquet"
    assert ("89", "42", "1") in db and ("89", "nope") not in db and "nope" not in db


def test_the_biophysics_database_reads_every_key_that_can_be_read():
    db = ISFDataBase(shared("biophysics"), allow_pickle=True)
    table = db["89", "42", "1"]
    meta = pd.read_json(shared("biophysics") / "89/db/42/db/1/object_meta.json", typ="series")
    assert table.shape == (10, 46) and list(table.columns) == list(meta["columns"])
    assert list(table.index) == list(range(10)) and table.index.dtype == np.int64
    assert set(table.dtypes) == {np.dtype("float64")}
    assert list(db.get(("89", "42", "1"), columns=["BAC_ISI"]).columns) == ["BAC_ISI"]
    params = db["89", "params"]
    assert params.shape == (35, 2) and list(params.columns) == ["min", "max"]
    assert params.index[0] == "ephys.CaDynamics_E2_v2.apic.decay"
    assert (params["min"] <= params["max"]).all()
    models = db["example_models"]
    assert models.shape == (5, 399) and models.dtypes.value_counts()[np.dtype("float64")] == 355
    fixed = db["89", "fixed_params"]
    assert fixed["BAC.stim.dist"] == pytest.approx(294.8203371921156)
    assert fixed["hot_zone.outsidescale_sections"][:3] == [23, 24, 25]
    assert db["89", "42", "0"] == ""
    traces = db["voltage_traces"]
    assert set(traces) >= {"bAP.hay_measure", "BAC.hay_measure", "StepOne.hay_measure"}
    morphology = db["89", "morphology"]
    assert isinstance(morphology, zdb.ManagedFolder)
    hoc = "89_L5_CDK20050712_nr6L5B_dend_PC_neuron_transform_registered_C2.hoc"
    assert hoc in morphology.listdir() and os.path.isfile(morphology.join(hoc))
    assert os.path.isdir(os.path.join(db["89", "RW_exploration_example"], "0", "0"))
    assert isinstance(db["89", "42", "checkpoint"], zdb.ManagedFolder)


@pytest.mark.parametrize("key", sorted(BIOPHYSICS_UNREADABLE))
def test_pickles_of_isf_functions_are_refused_naming_key_and_reason(key):
    db = ISFDataBase(shared("biophysics"), allow_pickle=True)
    with pytest.raises(CorruptKeyError) as info:
        db[key]
    message = str(info.value)
    assert repr(key[-1]) in message and BIOPHYSICS_UNREADABLE[key] in message
    assert "zdb migrate" in message and "other keys are not affected" in message
    assert db["89", "fixed_params"]["BAC.stim.dist"] > 0  # the others keep working
    assert key in db and db.metadata[key]["dumper"] == "to_cloudpickle"


def test_pickles_need_allow_pickle_true_and_other_keys_read_without():
    db = ISFDataBase(shared("biophysics"))
    with pytest.raises(PickleRefusedError, match="allow_pickle=True"):
        db["example_models"]
    with pytest.raises(PickleRefusedError, match="allow_pickle=False"):
        ISFDataBase(shared("18k_trials"), allow_pickle=False)["spike_times"]
    assert db["89", "42", "1"].shape == (10, 46)


def test_zdb_database_opens_an_isf_folder_read_only_with_a_warning_naming_zdb_migrate():
    path = shared("18k_trials")
    with pytest.warns(UserWarning, match="zdb migrate"):
        db = zdb.DataBase(path, allow_pickle=True)
    assert isinstance(db, ISFDataBase) and db.readonly
    assert zdb.isf_data_base.ISFDataBase is ISFDataBase
    assert db["spike_times"].shape == (18_000, 5)
    assert zdb.is_data_base(path) and zdb.is_data_base(shared("biophysics"))


def test_every_write_raises_read_only_error_and_leaves_the_folder_untouched():
    path = shared("biophysics")
    before = snapshot(path)
    db = ISFDataBase(path, allow_pickle=True)
    writes = [
        lambda: db.__setitem__("x", 1),
        lambda: db.set("x", 1),
        lambda: db.setitem("x", 1),
        lambda: db.__delitem__("example_models"),
        lambda: db.rename("example_models", "y"),
        lambda: db.create_sub_db("sub"),
        lambda: db.create_managed_folder("folder"),
        lambda: db.get_mkdtemp(),
        lambda: db.maybe_calculate("absent", lambda: 1),
        lambda: db["89"].__setitem__("x", 1),
    ]
    for write in writes:
        with pytest.raises(ReadOnlyError, match="zdb migrate"):
            write()
    assert db.maybe_calculate("example_models", lambda: 1).shape == (5, 399)
    assert db.create_managed_folder(("89", "morphology"), raise_=False).endswith("morphology")
    db.ls()
    assert "89/  (sub-database)" in repr(db)
    assert snapshot(path) == before


# -- every dumper, written as ISF wrote it ----------------------------------------------------


@pytest.fixture
def isf_db(tmp_path: Path) -> Path:
    return Path(isf_writer.create_database(str(tmp_path / "isf")))


def frame(n: int = 6) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "cell": np.array([f"c{i % 3}" for i in range(n)], dtype=object),
            3: np.arange(n, dtype="int64"),
            "t": np.linspace(0, 1, n),
        },
        index=pd.Index(np.arange(100, 100 + n), name="sim_trial_index"),
    )
    out["cell"] = out["cell"].astype(object)  # as pandas 1.x held strings
    out.columns = pd.Index(out.columns, dtype=object)
    return out


def test_numpy_dumpers_read_their_arrays(isf_db):
    array = np.arange(24, dtype="float32").reshape(4, 6)
    for dumper in ("numpy_to_npy", "numpy_to_npz", "numpy_to_zarr", "numpy_to_msgpack"):
        isf_writer.write_key(str(isf_db), dumper, dumper, array)
    db = ISFDataBase(isf_db)
    for dumper in ("numpy_to_npy", "numpy_to_npz", "numpy_to_zarr", "numpy_to_msgpack"):
        out = db[dumper]
        assert isinstance(out, np.ndarray), dumper
        np.testing.assert_array_equal(out, array)
        assert out.dtype == np.float32, dumper
        lazy = db.get(dumper, lazy=True)
        np.testing.assert_array_equal(lazy.compute(), array)


def test_an_object_array_in_npy_is_a_pickle_under_the_policy(isf_db):
    isf_writer.write_key(str(isf_db), "objects", "numpy_to_npy", np.array([{"a": 1}, None]))
    with pytest.raises(PickleRefusedError):
        ISFDataBase(isf_db)["objects"]
    assert ISFDataBase(isf_db, allow_pickle=True)["objects"][0] == {"a": 1}


def test_pandas_dumpers_read_their_frames_with_dtypes_and_index_names(isf_db):
    value = frame()
    isf_writer.write_key(str(isf_db), "pickle", "pandas_to_pickle", value)
    isf_writer.write_key(str(isf_db), "msgpack", "pandas_to_msgpack", value)
    isf_writer.write_key(str(isf_db), "pieces", "pandas_to_msgpack", value, rows_per_file=4)
    isf_writer.write_key(str(isf_db), "parquet", "pandas_to_parquet", value)
    db = ISFDataBase(isf_db, allow_pickle=True)
    for key in ("pickle", "msgpack", "pieces"):
        pd.testing.assert_frame_equal(db[key], value)
    parquet = db["parquet"]
    assert list(parquet.columns) == ["cell", 3, "t"]  # the int column name comes back
    assert parquet.index.name == "sim_trial_index" and parquet.index.dtype == np.int64
    np.testing.assert_array_equal(parquet[3], value[3])
    assert list(db.get("parquet", columns=["t"]).columns) == ["t"]
    assert list(db.get("msgpack", columns=["t"]).columns) == ["t"]
    lazy = db.get("msgpack", lazy=True)
    pd.testing.assert_frame_equal(lazy.compute(), value)


def partitions() -> list[pd.DataFrame]:
    value = frame(9)
    return [value.iloc[0:3], value.iloc[3:6], value.iloc[6:9]]


def test_dask_to_parquet_reads_lazily_with_its_divisions(isf_db):
    parts = partitions()
    isf_writer.write_key(
        str(isf_db), "pq", "dask_to_parquet", partitions=parts, divisions=[100, 103, 106, 108]
    )
    db = ISFDataBase(isf_db)
    out = db["pq"]
    assert out.npartitions == 3 and out.divisions == (100, 103, 106, 108)
    whole = out.compute()
    assert list(whole.columns) == ["cell", 3, "t"] and whole.index.name == "sim_trial_index"
    np.testing.assert_array_equal(whole["t"], pd.concat(parts)["t"])
    assert whole.loc[104, "cell"] == "c1"
    assert list(db.get("pq", columns=["t"], lazy=False).columns) == ["t"]
    assert isinstance(db.get("pq", lazy=False), pd.DataFrame)
    assert db.partition_lengths("pq") == [3, 3, 3]


@pytest.mark.parametrize("dumper", ["dask_to_msgpack", "dask_to_categorized_msgpack"])
def test_dask_msgpack_dumpers_read_partitions_divisions_and_uncategorized_strings(isf_db, dumper):
    parts = partitions()
    categorical = [
        p.assign(kind=pd.Categorical(pd.Index(["a", "b", "a"], dtype=object))) for p in parts
    ]
    isf_writer.write_key(
        str(isf_db), "table", dumper, partitions=categorical, divisions=[100, 103, 106, 108]
    )
    out = ISFDataBase(isf_db)["table"]
    assert out.npartitions == 3 and out.divisions == (100, 103, 106, 108)
    assert out.index.name == "sim_trial_index"
    assert ISFDataBase(isf_db).partition_lengths("table") == [3, 3, 3]
    whole = out.compute()
    expected = pd.concat(categorical)
    assert whole["cell"].dtype == object  # the categorized dumper's categories undone
    assert list(whole["cell"]) == list(expected["cell"])
    assert isinstance(whole["kind"].dtype, pd.CategoricalDtype)  # categorical when written
    np.testing.assert_array_equal(whole[3], expected[3])
    np.testing.assert_array_equal(whole.index, expected.index)


def test_object_dumpers_read_pickles_msgpack_and_folders(isf_db):
    value = {"seed": 3, "cells": ("L5tt", "VPM"), "vm": np.arange(3.0)}
    isf_writer.write_key(str(isf_db), "pickled", "to_pickle", value)
    isf_writer.write_key(str(isf_db), "cloudpickled", "to_cloudpickle", value, protocol=4)
    isf_writer.write_key(str(isf_db), "msgpack", "to_msgpack", {"seed": 3, "cells": ["a"]})
    isf_writer.write_key(str(isf_db), "folder", "just_create_folder", {"morph.hoc": b"soma"})
    db = ISFDataBase(isf_db, allow_pickle=True)
    for key in ("pickled", "cloudpickled"):
        out = db[key]
        assert out["cells"] == ("L5tt", "VPM")
        np.testing.assert_array_equal(out["vm"], value["vm"])
    assert db["msgpack"] == {"seed": 3, "cells": ["a"]}
    folder = db["folder"]
    assert isinstance(folder, zdb.ManagedFolder)
    assert Path(folder.join("morph.hoc")).read_bytes() == b"soma"


def test_sub_databases_nest_through_tuple_keys(isf_db):
    isf_writer.write_key(str(isf_db), "sub", "just_create_isf_db", unique_id="2024-01-01_1_abc")
    isf_writer.write_key(str(isf_db / "sub" / "db"), "inner", "numpy_to_npy", np.arange(3))
    db = ISFDataBase(isf_db)
    assert db.keys(recurse=True) == [("sub", "inner")]
    np.testing.assert_array_equal(db["sub", "inner"], np.arange(3))
    assert db["sub"].unique_id == "2024-01-01_1_abc"
    with pytest.raises(KeyKindError):
        db["sub", "inner", "deeper"]
    with pytest.raises(KeyError):
        db["sub", "absent"]


def test_a_shared_numpy_store_reads_as_isf_did_and_as_a_dict(isf_db):
    arrays = {"vm": np.arange(12.0).reshape(4, 3), "ids": np.arange(5, dtype="int32")}
    isf_writer.write_key(str(isf_db), "store", "shared_numpy_store", arrays)
    store = ISFDataBase(isf_db)["store"]  # its Loader.pickle is never unpickled
    assert isinstance(store, SharedNumpyStore) and sorted(store) == ["ids", "vm"]
    for mode in ("memory", "memmap"):
        np.testing.assert_array_equal(store.load("vm", mode=mode), arrays["vm"])
    with pytest.raises(ValueError, match="not in shared memory yet"):
        store.load("vm")  # the default mode, as ISF: children attach, never create
    try:
        shared = store.load("vm", allow_create_shm=True)  # shared memory is not the database
        np.testing.assert_array_equal(shared, arrays["vm"])
        np.testing.assert_array_equal(store.load("vm"), arrays["vm"])
    finally:
        store.close()
    np.testing.assert_array_equal(
        store.load("vm", mode="memory", start_row=1, end_row=3), arrays["vm"][1:3]
    )
    np.testing.assert_array_equal(store.load("vm", mode="memmap", start_row=2), arrays["vm"][2:])
    assert {k: v.tolist() for k, v in dict(store).items()} == {
        k: v.tolist() for k, v in arrays.items()
    }
    with pytest.raises(KeyError, match="absent"):
        store.load("absent")


def test_a_reduced_model_without_its_database_names_the_key(isf_db):
    isf_writer.key_folder(str(isf_db), "rm", "reduced_lda_model")
    with pytest.raises(DataBaseException, match="'rm'"):
        ISFDataBase(isf_db, allow_pickle=True)["rm"]


def test_a_registered_loader_replaces_zdbs_own(isf_db, monkeypatch):
    monkeypatch.setattr(loaders, "_LOADERS", dict(loaders._LOADERS))
    isf_writer.key_folder(str(isf_db), "rm", "reduced_lda_model")
    register_loader("reduced_lda_model", lambda folder, how: ("model", folder.path))
    assert ISFDataBase(isf_db)["rm"] == ("model", "rm")
    with pytest.raises(ValueError):
        register_loader("../x", lambda folder, how: None)


def test_metadata_keeps_isfs_fields_and_gives_the_time_in_iso_8601(isf_db):
    isf_writer.write_key(str(isf_db), "a", "numpy_to_npy", np.arange(3))
    meta = ISFDataBase(isf_db).metadata["a"]
    assert meta["time"] == "2024-05-06T16:38:05+00:00"
    assert meta["metadata_creation_time"] == "together_with_new_key"
    assert meta["hostname"] == "somnalogin01" and meta["module_versions"] == {"numpy": "1.19.2"}
    os.remove(isf_db / "a" / "metadata.json")
    meta = ISFDataBase(isf_db).metadata["a"]
    assert meta["metadata_creation_time"] == "post_hoc" and meta["time"].endswith("+00:00")


def test_damaged_keys_raise_corrupt_key_error_and_the_others_keep_working(isf_db):
    isf_writer.write_key(str(isf_db), "good", "numpy_to_npy", np.arange(3))
    isf_writer.write_key(str(isf_db), "missing", "numpy_to_npy", np.arange(3))
    os.remove(isf_db / "missing" / "np.npy")
    isf_writer.key_folder(str(isf_db), "unknown", "genetic_algorithm_generation")
    (isf_db / "half").mkdir()
    isf_writer.write_key(str(isf_db), "broken", "pandas_to_msgpack", frame())
    (isf_db / "broken" / "pandas_to_msgpack").write_bytes(b"\x93\x01")
    db = ISFDataBase(isf_db)
    assert db.keys() == ["broken", "good", "half", "missing", "unknown"]
    for key, match in [
        ("missing", "is missing"),
        ("unknown", "does not read"),
        ("half", "no Loader.json"),
        ("broken", "damaged"),
    ]:
        with pytest.raises(CorruptKeyError, match=match):
            db[key]
    np.testing.assert_array_equal(db["good"], np.arange(3))
    assert "<damaged" in repr(db)


def test_a_model_data_base_is_refused_by_name_and_nothing_is_written(tmp_path):
    folder = tmp_path / "mdb"
    folder.mkdir()
    (folder / "sqlitedict.db").write_bytes(b"SQLite format 3\x00")
    (folder / "metadata.db").write_bytes(b"SQLite format 3\x00")
    before = snapshot(folder)
    for open_it in (ISFDataBase, zdb.DataBase):
        with pytest.raises(NotADataBaseError, match="ModelDataBase") as info:
            open_it(folder)
        assert "sqlitedict.db" in str(info.value)
    assert not zdb.is_data_base(folder)
    assert snapshot(folder) == before and sorted(os.listdir(folder)) == [
        "metadata.db",
        "sqlitedict.db",
    ]


def test_isf_database_refuses_a_folder_that_is_none_of_isfs(tmp_path):
    with pytest.raises(NotADataBaseError, match="no ISF database"):
        ISFDataBase(tmp_path)
    zdb.DataBase(tmp_path / "new")["x"] = 1
    with pytest.raises(NotADataBaseError):
        ISFDataBase(tmp_path / "new")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert isinstance(zdb.DataBase(tmp_path / "new"), zdb.DataBase)  # zdb's own: no warning
