"""``cell``: ISF Cells (duck-typed) and their serializable dicts round trip exactly as
Zarr arrays, open lazily as xarray (also without zdb), and damage is reported by key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import zdb
from zdb import zarr_codec
from zdb.dumper_registry import choose_dumper
from zdb.exceptions import CorruptKeyError, DataBaseException, MissingDependencyError
from zdb.testing import DumperRoundTripTests

from .s3_server import OnS3

HOC = "/* morphology */\n{create soma}\n{access soma}\n{pt3dadd(1.5, 2, 3, 10)}\n"


def synthetic_cell(seed: int = 0) -> dict:
    """A cell dict as ISF's cell_to_serializable_object returns it: four sections of
    1-3 segments, an irregular time vector (CVode), range variables recorded in some
    sections only, two synapse populations (one empty) with ragged spike times."""
    rng = np.random.default_rng(seed)
    nt = 9
    t = np.cumsum(rng.uniform(0.005, 0.5, nt))
    t[0] = 0.0

    def traces(n: int) -> list[np.ndarray]:
        return [-70.0 + rng.normal(size=nt) for _ in range(n)]

    layout = [("Soma", None, 1), ("Dendrite", 0, 3), ("ApicalDendrite", 0, 2), ("AIS", 0, 1)]
    sections = []
    for i, (label, parent, nseg) in enumerate(layout):
        record_vars = {
            "Ca_HVA.ica": traces(nseg) if label in ("Soma", "ApicalDendrite") else [],
            "cai": traces(nseg) if label == "Soma" else [],
        }
        sections.append(
            {
                "recVList": traces(nseg),
                "recordVars": record_vars,
                "label": label,
                "sec_id": i,
                "parent_id": parent,
            }
        )
    sections[0]["recVList"][0][3] = 0.0  # zeros and a negative zero come back as such
    sections[1]["recVList"][2][4] = -0.0
    return {
        "sections": sections,
        "tVec": t,
        "parameters": {
            "neuron": {"filename": "cell.hoc", "Soma": {"properties": {"Ra": 100.0}}},
            "sim": {"tStop": 5.0, "recordingSites": ["a.landmarkAscii"], "T": 34},
        },
        "synapses": {
            "L5tt_C2": [
                {"preCell": {"spikeTimes": [1.5, 2.25]}, "coordinates": np.array([1.0, 2, 3])},
                {"preCell": {"spikeTimes": []}, "coordinates": np.array([-4.5, 0.0, 7.25])},
            ],
            "VPM_C2": [],
        },
        "hoc": HOC,
    }


def assert_cell_equal(got: dict, want: dict) -> None:
    """The same keys in the same order at every level, the same types, bit for bit."""
    assert type(got) is dict and list(got) == list(want)
    for key in want:
        if key == "sections":
            assert type(got[key]) is list and len(got[key]) == len(want[key])
            for a, b in zip(got[key], want[key], strict=True):
                assert list(a) == list(b)
                _same_vectors(a["recVList"], b["recVList"])
                assert list(a["recordVars"]) == list(b["recordVars"])
                for name in b["recordVars"]:
                    _same_vectors(a["recordVars"][name], b["recordVars"][name])
                for name in ("label", "sec_id", "parent_id"):
                    assert a[name] == b[name] and type(a[name]) is type(b[name])
        elif key == "synapses":
            assert list(got[key]) == list(want[key])
            for population, items in want[key].items():
                assert len(got[key][population]) == len(items)
                for a, b in zip(got[key][population], items, strict=True):
                    assert list(a) == list(b)
                    times = a["preCell"]["spikeTimes"]
                    assert type(times) is list and all(type(x) is float for x in times)
                    assert times == list(b["preCell"]["spikeTimes"])
                    _same_vectors([a["coordinates"]], [b["coordinates"]])
        elif key == "tVec":
            _same_vectors([got[key]], [want[key]])
        else:
            assert got[key] == want[key] and type(got[key]) is type(want[key])


def _same_vectors(got: list, want: list) -> None:
    assert type(got) is list and len(got) == len(want)
    for a, b in zip(got, want, strict=True):
        assert isinstance(a, np.ndarray) and a.dtype == np.float64 and a.shape == b.shape
        assert a.view(np.int64).tolist() == np.asarray(b, np.float64).view(np.int64).tolist()


# -- a live cell, duck-typed as ISF's ------------------------------------------------------


class Vector(list):
    """Stands in for a NEURON Vector: a sequence of floats."""


class ParameterSet(dict):
    """Stands in for ISF's NTParameterSet, a dict subclass."""


class Section:
    def __init__(self, label: str, parent: Section | None, nseg: int, nt: int, rng) -> None:
        npts = nseg + 2
        self.label, self.parent, self.nseg = label, parent, nseg
        self.recVList = [Vector(-70 + rng.normal(size=nt)) for _ in range(nseg)]
        self.recordVars = {"cai": [Vector(rng.normal(size=nt)) for _ in range(nseg)]}
        self.pts = [[float(i), 2.0 * i, -1.0] for i in range(npts)]
        self.diamList = [2.0 - 0.1 * i for i in range(npts)]
        self.relPts = list(np.linspace(0, 1, npts))
        self.segx = [(j + 0.5) / nseg for j in range(nseg)]
        self.L, self.area, self.parentx = 10.0 * npts, 31.4 * npts, 1.0


class Synapse:
    def __init__(self, spikes: list[float], xyz: list[float]) -> None:
        self.preCell = types.SimpleNamespace(spikeTimes=spikes)
        self.coordinates = np.array(xyz)


class LiveCell:
    """The attributes of an ISF Cell after a simulation that the dumper reads."""

    def __init__(self, hoc_path: str, nt: int = 6) -> None:
        rng = np.random.default_rng(3)
        soma = Section("Soma", None, 1, nt, rng)
        dend = Section("Dendrite", soma, 3, nt, rng)
        self.sections = [soma, dend, Section("Dendrite", dend, 2, nt, rng)]
        self.tVec = Vector(np.cumsum(rng.uniform(0.01, 0.2, nt)))
        self.synapses = {"VPM_C2": [Synapse([3.0, np.float64(4.5)], [1, 2, 3])]}
        self.hoc_path = hoc_path
        self.parameters = ParameterSet(neuron=ParameterSet(filename=hoc_path), seed=np.int64(7))


@pytest.fixture
def db(tmp_path):
    return zdb.DataBase(tmp_path / "db")


@pytest.fixture
def live_cell(tmp_path):
    hoc = tmp_path / "cell.hoc"
    hoc.write_text(HOC)
    return LiveCell(str(hoc))


# -- round trips ---------------------------------------------------------------------------


def test_a_cell_dict_round_trips_exactly_with_keys_order_and_types(db):
    cell = synthetic_cell()
    db["cell"] = cell
    assert db.metadata["cell"]["dumper"] == "cell"
    assert_cell_equal(db["cell"], cell)
    assert db["cell"]["sections"][0]["parent_id"] is None


def test_a_reordered_dict_comes_back_in_its_own_order(db):
    cell = synthetic_cell()
    cell = {k: cell[k] for k in ("hoc", "synapses", "parameters", "tVec", "sections")}
    for sec in cell["sections"]:
        sec["recordVars"] = dict(reversed(sec["recordVars"].items()))
    db["cell"] = cell
    assert_cell_equal(db["cell"], cell)


def test_a_live_cell_is_stored_as_isf_serializes_it_with_its_geometry(db, live_cell):
    db["cell"] = live_cell
    assert db.metadata["cell"]["dumper"] == "cell"
    got = db["cell"]
    assert list(got) == ["sections", "tVec", "parameters", "synapses", "hoc"]
    assert got["hoc"] == HOC
    assert got["parameters"] == {"neuron": {"filename": live_cell.hoc_path}, "seed": 7}
    assert [s["parent_id"] for s in got["sections"]] == [None, 0, 1]
    assert [s["sec_id"] for s in got["sections"]] == [0, 1, 2]
    for sec, live in zip(got["sections"], live_cell.sections, strict=True):
        _same_vectors(sec["recVList"], [np.array(v) for v in live.recVList])
        _same_vectors(sec["recordVars"]["cai"], [np.array(v) for v in live.recordVars["cai"]])
    assert got["synapses"]["VPM_C2"][0]["preCell"]["spikeTimes"] == [3.0, 4.5]
    ds = db.get("cell", as_xarray=True, lazy=False)
    assert ds["pts"].dims == ("pts_point", "xyz") and ds["pts"].shape == (3 + 5 + 4, 3)
    np.testing.assert_array_equal(ds["pts_offsets"], [0, 3, 8, 12])
    np.testing.assert_array_equal(ds["nseg"], [1, 3, 2])
    np.testing.assert_array_equal(ds["L"], [30.0, 50.0, 40.0])
    np.testing.assert_array_equal(ds["segx"][3:6], [5 / 6, 0.25, 0.75])


def test_a_live_cell_without_a_morphology_file_on_this_machine_is_refused(db, live_cell):
    live_cell.hoc_path = "mdb://2024-01-01_00-00-00_abcdef123456/morphology/cell.hoc"
    with pytest.raises(DataBaseException, match="resolve_db_path"):
        db.set("cell", live_cell, dumper="cell")
    assert "cell" not in db


def test_values_that_would_not_come_back_exactly_are_refused_by_name(db):
    cell = synthetic_cell()
    cell["sections"][1]["recVList"][0] = cell["sections"][1]["recVList"][0].astype("float32")
    with pytest.raises(DataBaseException, match=r"sections\[1\]\['recVList'\]\[0\].*float64"):
        db.set("cell", cell, dumper="cell")
    cell = synthetic_cell()
    cell["sections"][2]["recordVars"]["cai"] = [np.zeros(9)]  # 1 of 2 segments
    with pytest.raises(DataBaseException, match="one vector per segment"):
        db.set("cell", cell, dumper="cell")
    assert db.keys() == []


class Unaskable:
    def __getattr__(self, name):
        raise RuntimeError(f"no {name}")


def test_a_cell_given_without_a_dumper_goes_to_cell_and_other_dicts_keep_theirs(live_cell):
    assert choose_dumper(Unaskable()).name == "to_cloudpickle"
    assert choose_dumper(synthetic_cell()).name == "cell"
    assert choose_dumper(live_cell).name == "cell"
    assert choose_dumper({"sections": [], "tVec": [], "synapses": {}}).name == "python_value"
    assert choose_dumper({"a": np.arange(3)}).name == "to_cloudpickle"
    assert choose_dumper({"sections": [], "tVec": np.arange(3)}).name == "to_cloudpickle"
    assert choose_dumper(
        types.SimpleNamespace(sections=1, tVec=1, synapses=1, hoc_path=1)
    ).name == ("to_cloudpickle")


# -- xarray ---------------------------------------------------------------------------------


def test_the_xarray_view_is_lazy_with_segment_coordinates(db):
    cell = synthetic_cell()
    db["cell"] = cell
    ds = db.get("cell", as_xarray=True)
    assert not ds["voltage"].variable._in_memory
    assert ds["voltage"].dims == ("segment", "t")
    np.testing.assert_array_equal(ds["t"], cell["tVec"])
    assert ds["segment_label"].values.tolist() == ["Soma"] + ["Dendrite"] * 3 + [
        "ApicalDendrite"
    ] * 2 + ["AIS"]
    assert ds["segment_section"].values.tolist() == [0, 1, 1, 1, 2, 2, 3]
    np.testing.assert_allclose(ds["segment_x"], [0.5, 1 / 6, 0.5, 5 / 6, 0.25, 0.75, 0.5])
    apical = ds["voltage"].where(ds["segment_label"] == "ApicalDendrite", drop=True)
    np.testing.assert_array_equal(apical.values, np.stack(cell["sections"][2]["recVList"]))
    ica = ds["Ca_HVA.ica"].values
    np.testing.assert_array_equal(ica[0], cell["sections"][0]["recordVars"]["Ca_HVA.ica"][0])
    assert np.isnan(ica[1:4]).all()  # the dendrite did not record it
    assert ds.attrs["parameters"] == cell["parameters"]
    assert ds["synapse_population"].values.tolist() == ["L5tt_C2", "L5tt_C2"]
    lazy = db.get("cell", as_xarray=True, lazy=True)
    assert lazy["voltage"].chunks is not None
    np.testing.assert_array_equal(lazy["voltage"][4].values, cell["sections"][2]["recVList"][0])


def test_plain_xarray_reads_the_key_in_a_process_that_never_imports_zdb(db, tmp_path):
    cell = synthetic_cell()
    db["cell"] = cell
    want = np.concatenate([np.stack(s["recVList"]) for s in cell["sections"]])
    np.save(tmp_path / "want.npy", want)
    code = f"""
import sys
import numpy as np, xarray as xr
ds = xr.open_zarr({db.path_of("cell")!r})
want = np.load({str(tmp_path / "want.npy")!r})
assert ds["voltage"].dims == ("segment", "t"), ds["voltage"].dims
assert (ds["voltage"].values.view(np.int64) == want.view(np.int64)).all()
assert ds["synapse_coordinates"].dims == ("synapse", "xyz")
assert ds["synapse_coordinates"].dtype == np.float64
assert ds["t"].dims == ("t",)
assert ds["segment_offsets"].dims == ("section_offset",)
assert str(ds["morphology"].values[0]).startswith("/* morphology */")
assert not [m for m in sys.modules if m == "zdb" or m.startswith("zdb.")]
print("ok")
"""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


# -- restoring a live Cell ------------------------------------------------------------------


def test_restore_without_isf_raises_an_error_naming_single_cell_parser(db, monkeypatch):
    db["cell"] = synthetic_cell()
    monkeypatch.setitem(sys.modules, "single_cell_parser", None)
    with pytest.raises(MissingDependencyError, match="single_cell_parser") as info:
        db.get("cell", restore=True)
    assert isinstance(info.value, DataBaseException) and "'cell'" in str(info.value)


def test_restore_hands_the_stored_dict_to_isf(db, monkeypatch):
    cell = synthetic_cell()
    db["cell"] = cell
    package = types.ModuleType("single_cell_parser")
    module = types.ModuleType("single_cell_parser.serialize_cell")
    module.restore_cell_from_serializable_object = lambda sc: ("restored", sc)
    package.serialize_cell = module
    monkeypatch.setitem(sys.modules, "single_cell_parser", package)
    monkeypatch.setitem(sys.modules, "single_cell_parser.serialize_cell", module)
    tag, got = db.get("cell", restore=True)
    assert tag == "restored"
    assert_cell_equal(got, cell)


# -- damage ---------------------------------------------------------------------------------


def _version(db, key: str) -> Path:
    return Path(db.path_of(key))


def test_a_missing_chunk_is_damage_naming_the_key(db):
    db["cell"] = synthetic_cell()
    (_version(db, "cell") / "voltage" / "c.0.0").unlink()
    with pytest.raises(CorruptKeyError, match="'cell'"):
        db["cell"]
    with pytest.raises(CorruptKeyError, match="'cell'"):
        db.get("cell", as_xarray=True)["voltage"].load()


def _rewrite(db, key: str, name: str, values: np.ndarray) -> None:
    """Replace the stored array ``name`` by ``values``, metadata and all."""
    folder = _version(db, key)
    meta = json.loads((folder / name / "zarr.json").read_text())
    meta["shape"] = list(values.shape)
    meta["data_type"] = zarr_codec.data_type(values.dtype)
    meta["fill_value"] = zarr_codec.fill_value(values.dtype)
    meta["chunk_grid"]["configuration"]["chunk_shape"] = list(values.shape)
    (folder / name / "zarr.json").write_text(json.dumps(meta))
    group = json.loads((folder / "zarr.json").read_text())
    group["consolidated_metadata"]["metadata"][name] = meta
    (folder / "zarr.json").write_text(json.dumps(group))
    chunk = zarr_codec.encode_chunk(values, values.shape, 3)
    (folder / name / "c.0").write_bytes(chunk)


@pytest.mark.parametrize(
    "name,values",
    [
        ("segment_offsets", np.array([0, 1, 9, 5, 7])),  # decreasing, past the end
        ("segment_offsets", np.array([0, 1, 4, 6, 99])),  # more segments than stored
        ("segment_offsets", np.array([0, 1, 4])),  # too few sections
        ("spike_offsets", np.array([0, 5, 2])),
        ("population_offsets", np.array([1, 2, 2])),
    ],
)
def test_wrong_offsets_read_from_disk_are_damage_not_an_index_error(db, name, values):
    db["cell"] = synthetic_cell()
    _rewrite(db, "cell", name, values.astype(np.int64))
    with pytest.raises(CorruptKeyError, match=f"'cell'.*{name}") as info:
        db["cell"]
    assert not isinstance(info.value.__cause__, IndexError)


def test_a_description_naming_an_array_outside_the_layout_is_damage(db):
    db["cell"] = synthetic_cell()
    path = _version(db, "cell") / "zarr.json"
    group = json.loads(path.read_text())
    group["attributes"]["zdb"]["cell"]["range_variables"][0]["array"] = "../../x"
    path.write_text(json.dumps(group))
    with pytest.raises(CorruptKeyError, match="range variables"):
        db["cell"]


@pytest.mark.parametrize("attributes", [{}, {"zdb": []}, {"zdb": {"cell": "x"}}])
def test_a_group_without_its_cell_description_is_damage(db, attributes):
    db["cell"] = synthetic_cell()
    path = _version(db, "cell") / "zarr.json"
    group = json.loads(path.read_text())
    group["attributes"] = attributes
    path.write_text(json.dumps(group))
    with pytest.raises(CorruptKeyError, match="'cell' .*cell description is missing"):
        db["cell"]
    with pytest.raises(CorruptKeyError, match="cell description is missing"):
        db.get("cell", as_xarray=True)


def test_an_array_of_another_dtype_than_written_is_damage(db):
    db["cell"] = synthetic_cell()
    _rewrite(db, "cell", "section_parent", np.array([0.5, 0.0, 0.0, 0.0]))
    with pytest.raises(CorruptKeyError, match="section_parent holds float64"):
        db["cell"]


def test_a_chunk_claiming_more_bytes_than_its_array_holds_is_damage(db):
    db["cell"] = synthetic_cell()
    chunk = _version(db, "cell") / "voltage" / "c.0.0"
    raw = bytearray(chunk.read_bytes())
    raw[4:8] = (2**31).to_bytes(4, "little")
    chunk.write_bytes(bytes(raw))
    with pytest.raises(CorruptKeyError, match="'voltage' does not hold"):
        db["cell"]


# -- property-based ---------------------------------------------------------------------------

finite = st.floats(allow_nan=True, allow_infinity=True, width=64)


@st.composite
def cells(draw) -> dict:
    nt = draw(st.integers(0, 4))
    vector = st.lists(finite, min_size=nt, max_size=nt).map(lambda v: np.array(v, np.float64))
    names = draw(
        st.lists(
            st.sampled_from(["cai", "ik", "t", "voltage", "Na.ina", "a/b", "zarr.json", "__x"]),
            unique=True,
        )
    )
    sections = []
    for i in range(draw(st.integers(0, 4))):
        nseg = draw(st.integers(0, 3))
        sections.append(
            {
                "recVList": draw(st.lists(vector, min_size=nseg, max_size=nseg)),
                "recordVars": {
                    n: draw(st.one_of(st.just([]), st.lists(vector, min_size=nseg, max_size=nseg)))
                    for n in draw(st.permutations(names))
                },
                "label": draw(st.sampled_from(["Soma", "Dendrite", "ApicalDendrite", "Myelin"])),
                "sec_id": i,
                "parent_id": None if i == 0 else draw(st.integers(0, i - 1)),
            }
        )
    synapse = st.builds(
        lambda times, xyz: {"preCell": {"spikeTimes": times}, "coordinates": np.array(xyz)},
        st.lists(st.floats(0, 1e4)),
        st.lists(finite, min_size=3, max_size=3),
    )
    populations = draw(
        st.dictionaries(st.text(min_size=1, max_size=5), st.lists(synapse, max_size=3))
    )
    return {
        "sections": sections,
        "tVec": draw(vector),
        "parameters": draw(st.dictionaries(st.text(max_size=3), st.integers() | st.text())),
        "synapses": populations,
        "hoc": draw(st.text(st.characters(blacklist_categories=("Cs",)))),
    }


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cell=cells())
def test_cells_of_any_ragged_shape_round_trip_exactly(tmp_path_factory, cell):
    db = zdb.DataBase(tmp_path_factory.mktemp("db") / "db")
    db.set("cell", cell, dumper="cell")
    assert_cell_equal(db["cell"], cell)


# -- the conformance suite ----------------------------------------------------------------------


def _empty_cell() -> dict:
    return {"sections": [], "tVec": np.empty(0), "parameters": {}, "synapses": {}, "hoc": ""}


class TestCellRoundTrip(DumperRoundTripTests):
    dumper = "cell"
    examples = {"synthetic": synthetic_cell(), "empty": _empty_cell()}
    refused = {
        "int_time": {**synthetic_cell(), "tVec": np.arange(9)},
        "extra_key": {**synthetic_cell(), "allPoints": True},
    }
    xarray = True

    def assert_same(self, got, want):
        assert_cell_equal(got, want)


class TestCellRoundTripOnS3(OnS3, TestCellRoundTrip):
    pass
