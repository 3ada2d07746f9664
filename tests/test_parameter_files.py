"""ISF ``.param`` files: safe parsing, writing, and finding and moving file references."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zdb.exceptions import DataBaseException
from zdb.IO import parameter_files as pf
from zdb.simrun import references

EXAMPLE = Path(__file__).parents[2] / "shared" / "data" / "isf_example"
RESULT = (
    EXAMPLE
    / "simulation_data"
    / "C2_evoked_UpState_INH_PW_1.0_SuW_0.5_C2center"
    / "20150815-1530_20240"
)
CLUSTER_ROOT = (
    "/gpfs/soma_fs/scratch/meulemeester/project_src/in_silico_framework/"
    "getting_started/example_data/"
)


@pytest.fixture
def real() -> Path:
    """The real result folder of the ISF example, or a skip when it is absent."""
    if not RESULT.is_dir():
        pytest.skip(f"the real ISF example data is not at {RESULT} (../shared/data/isf_example)")
    return RESULT


def test_real_neuron_param_parses_into_nested_dicts(real):
    params = pf.read_param_file(real / "20240_neuron_model.param")
    assert params["info"]["author"] == "regger"
    assert params["sim"]["dt"] == 0.025
    assert params["neuron"]["Soma"]["mechanisms"]["range"]["pas"]["e"] == -90
    assert params["neuron"]["Soma"]["mechanisms"]["global"] == {}


def test_real_network_param_keeps_tuples_and_lists(real):
    params = pf.read_param_file(real / "20240_network_model.param")
    cell_type = params["network"]["L45Peak_D1"]
    assert cell_type["celltype"]["pointcell"]["intervals"][0] == (0.0, 1.0)
    assert cell_type["synapses"]["receptors"]["gaba_syn"]["weight"] == 1.0
    assert params["network"]["L34_D1"]["synapses"]["receptors"]["glutamate_syn"]["weight"] == [
        1.68,
        1.68,
    ]


def test_real_neuron_param_references_the_morphology_and_the_recording_sites(real):
    refs = pf.find_file_paths(pf.read_param_file(real / "20240_neuron_model.param"))
    assert [(r.location, Path(r.path).suffix) for r in refs] == [
        (("neuron", "filename"), ".hoc"),
        (("sim", "recordingSites", 0), ".landmarkAscii"),
    ]
    assert all(r.path.startswith(CLUSTER_ROOT) for r in refs)


def test_real_network_param_references_syn_and_con_files_of_every_cell_type(real):
    params = pf.read_param_file(real / "20240_network_model.param")
    refs = pf.find_file_paths(params)
    suffixes = {Path(r.path).suffix for r in refs}
    assert suffixes == {".syn", ".con"}
    cell_types = set(params["network"])
    assert {r.location[1] for r in refs} == cell_types
    assert {r.location[-1] for r in refs} == {"distributionFile", "connectionFile"}
    assert len(refs) == 2 * len(cell_types)


@pytest.mark.parametrize(
    ("name", "kind"),
    [("20240_neuron_model.param", "neuron"), ("20240_network_model.param", "network")],
)
def test_the_reference_fields_of_real_param_files_are_the_paths_they_hold(real, name, kind):
    params = pf.read_param_file(real / name)
    refs = references.find_references(params, kind)
    assert [(r.location, r.path) for r in refs] == list(pf.find_file_paths(params))
    suffixes = {"hoc": ".hoc", "landmark": ".landmarkAscii", "syn": ".syn", "con": ".con"}
    assert all(Path(r.path).suffix == suffixes[r.kind] for r in refs)


def test_reference_fields_match_any_cell_type_and_recording_site():
    params = {
        "neuron": {"filename": "a.hoc", "other": "b.hoc"},
        "sim": {"recordingSites": ["s1.landmarkAscii", "s2.landmarkAscii"], "x": "c"},
        "network": {"L5tt": {"synapses": {"distributionFile": "d.syn"}}},
    }
    found = references.find_references(params, "neuron")
    assert found == [
        (("neuron", "filename"), "hoc", "a.hoc"),
        (("sim", "recordingSites", 0), "landmark", "s1.landmarkAscii"),
        (("sim", "recordingSites", 1), "landmark", "s2.landmarkAscii"),
    ]
    assert references.find_references(params, "network") == [
        (("network", "L5tt", "synapses", "distributionFile"), "syn", "d.syn")
    ]


def test_replacing_references_copies_the_structure_and_changes_only_those_values():
    params = {"sim": {"recordingSites": ("a.landmarkAscii", "b"), "n": [1, "x"]}}
    moved = references.replace_strings(params, {("sim", "recordingSites", 0): "reldb://a"})
    assert moved == {"sim": {"recordingSites": ("reldb://a", "b"), "n": [1, "x"]}}
    assert params["sim"]["recordingSites"][0] == "a.landmarkAscii"


def test_referenced_files_need_the_suffix_isf_reads_them_by():
    assert references.has_expected_suffix("/a/cell.hoc", "hoc")
    assert references.has_expected_suffix("/a/cell.SWC", "hoc")
    assert not references.has_expected_suffix("/home/u/.ssh/id_rsa", "hoc")
    assert not references.has_expected_suffix("/a/.hoc", "hoc")  # a hidden file, no suffix
    assert references.has_expected_suffix("sites.landmarkAscii", "landmark")
    assert not references.has_expected_suffix("sites.txt", "landmark")
    assert not references.has_expected_suffix("x.con", "syn")
    assert references.expected_file("hoc") == "a morphology (a .hoc or .swc file)"
    location = ("network", "L5tt_C2", "synapses", "distributionFile")
    assert references.field_name(location) == "network.L5tt_C2.synapses.distributionFile"
    assert references.field_name(("sim", "recordingSites", 0)) == "sim.recordingSites[0]"


def test_the_con_file_names_its_syn_file_on_its_second_line(tmp_path):
    text = "# Anatomical connectivity\n# cells/86_C2_center.syn\n# Type\nL1\t1\t2\n"
    found = references.find_comment_reference(text, "con")
    assert (found.line, found.name) == (1, "cells/86_C2_center.syn")
    assert text[found.start : found.end] == found.name
    assert references.find_comment_reference("# x\n# corresponding to cell: 86\n", "syn") is None
    assert references.resolve_reference("b/c.syn", str(tmp_path / "a.con")) == str(
        tmp_path / "b" / "c.syn"
    )


@pytest.mark.parametrize("name", ["20240_neuron_model.param", "20240_network_model.param"])
def test_rewriting_the_cluster_prefix_makes_every_referenced_file_exist(real, name):
    params = pf.read_param_file(real / name)
    moved = pf.rewrite_path_prefixes(params, {CLUSTER_ROOT: str(EXAMPLE)})
    refs = pf.find_file_paths(moved)
    assert refs
    for ref in refs:
        assert ref.path.startswith(str(EXAMPLE) + "/")
        assert os.path.isfile(ref.path), ref
    assert pf.find_file_paths(params)[0].path.startswith(CLUSTER_ROOT)  # input untouched


@pytest.mark.parametrize(
    "name",
    [
        "20240_neuron_model.param",
        "20240_network_model.param",
        "20240_neuron_model.param.old",
        "20240_network_model.param.TEMPLATE",
    ],
)
def test_real_param_files_written_back_read_equal(real, tmp_path, name):
    params = pf.read_param_file(real / name)
    pf.write_param_file(tmp_path / name, params)
    assert pf.read_param_file(tmp_path / name) == params


def test_written_param_file_looks_like_isf_output():
    text = pf.format_params({"a": {"b": [1, 2.5], "c": [(0.0, 1.0)], "d": "x'y"}, "e": (1,)})
    assert text == (
        '{\n  "a": {\n    "b": [1, 2.5],\n    "c": [(0.0, 1.0)],\n    "d": "x\'y",\n  },\n'
        '  "e": (1,),\n}\n'
    )


def test_hostile_param_file_is_refused_without_running_it(tmp_path):
    marker = tmp_path / "executed"
    path = tmp_path / "evil.param"
    path.write_text(
        '{\n  "info": {"name": "x"},\n'
        f"  \"sim\": __import__('os').system('touch {marker}'),\n}}\n"
    )
    with pytest.raises(pf.ParameterFileError) as error:
        pf.read_param_file(path)
    message = str(error.value)
    assert "evil.param" in message and "line 3" in message and "__import__" in message
    assert isinstance(error.value, DataBaseException)
    assert not marker.exists()


@pytest.mark.parametrize(
    "text",
    [
        "{'a': open('/etc/passwd').read()}",
        "{'a': (lambda: 1)()}",
        "{'a': [x for x in range(3)]}",
        "{'a': {}.__class__}",
        "{'a': f'{1}'}",
        "{'a': 2 ** 1000000}",
        "{'a': x}",
    ],
)
def test_code_in_a_param_file_is_refused(text):
    with pytest.raises(pf.ParameterFileError, match="not a literal"):
        pf.parse_param_text(text, "bad.param")


def test_syntax_errors_name_the_file_and_line():
    with pytest.raises(pf.ParameterFileError, match=r"bad\.param.*line 4"):
        pf.parse_param_text('\n{\n"a": [1, 2\n}', "bad.param")


def test_a_param_file_must_hold_a_dict():
    with pytest.raises(pf.ParameterFileError, match="dict"):
        pf.parse_param_text("[1, 2]", "list.param")


def test_comments_and_leading_blank_lines_are_allowed():
    text = "\n\n  # a model\n{\t\n  'a': 1,  # one\n  # gone\n  \"b\": -2.5e-3,\n}\n\n"
    assert pf.parse_param_text(text) == {"a": 1, "b": -0.0025}


def test_a_missing_param_file_raises_naming_it(tmp_path):
    with pytest.raises(pf.ParameterFileError, match="nope.param"):
        pf.read_param_file(tmp_path / "nope.param")


def test_a_param_file_that_is_not_utf8_raises_naming_it_and_the_fix(tmp_path):
    path = tmp_path / "latin1_neuron_model.param"
    path.write_bytes("{'info': {'unit': 'µm'}}\n".encode("latin-1"))
    with pytest.raises(pf.ParameterFileError, match="UTF-8") as error:
        pf.read_param_file(path)
    assert str(path) in str(error.value) and "convert" in str(error.value)


@pytest.mark.parametrize(
    ("make", "what"),
    [
        (Path.mkdir, "a folder"),
        (os.mkfifo, "not a regular file"),
        (lambda p: p.symlink_to("/dev/zero"), "not a regular file"),
    ],
)
def test_a_folder_or_device_in_place_of_a_param_file_raises_naming_it(tmp_path, make, what):
    path = tmp_path / "x_neuron_model.param"
    make(path)
    with pytest.raises(pf.ParameterFileError, match=what) as error:
        pf.read_param_file(path)
    assert str(path) in str(error.value)


def test_a_link_to_a_param_file_is_followed(tmp_path):
    target = tmp_path / "elsewhere" / "model.param"
    target.parent.mkdir()
    pf.write_param_file(target, {"a": 1})
    link = tmp_path / "x_neuron_model.param"
    link.symlink_to(target)
    assert pf.read_param_file(link) == {"a": 1}


@pytest.mark.parametrize("value", [float("nan"), float("inf"), object(), {1, 2}, b"x"])
def test_values_without_a_literal_are_not_written(value):
    with pytest.raises(pf.ParameterFileError, match=r"\['a', 'b'\]"):
        pf.format_params({"a": {"b": value}})


_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text()
)
_values = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=4).map(tuple)
        | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=8), _values, max_size=5))
def test_any_literal_structure_survives_format_and_parse(params):
    assert pf.parse_param_text(pf.format_params(params)) == params


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("/gpfs/a/cell.hoc", True),
        ("/data/embedding", True),
        ("~/models/x.param", True),
        ("reldb://morphology/cell.hoc", True),
        ("anatomical_constraints/86_C2_center.hoc", True),
        ("./cell.hoc", True),
        ("/", False),
        ("uniform", False),
        ("mV/ms", False),
        ("15Oct2014", False),
        ("", False),
    ],
)
def test_what_looks_like_a_file_path(value, expected):
    assert pf.looks_like_path(value) is expected


def test_prefixes_match_whole_folders_and_the_longest_wins():
    params = {
        "a": "/data/models/cell.hoc",
        "b": "/data/modelsX/cell.hoc",
        "c": ["/data/models/special/x.syn", ("/data/models",)],
        "d": "uniform",
        "e": 1.5,
    }
    mapping = {"/data/models/": "/new", "/data/models/special": "reldb://special/"}
    assert pf.rewrite_path_prefixes(params, mapping) == {
        "a": "/new/cell.hoc",
        "b": "/data/modelsX/cell.hoc",
        "c": ["reldb://special/x.syn", ("/new",)],
        "d": "uniform",
        "e": 1.5,
    }


def test_reldb_prefixes_rewrite_both_ways():
    params = {"f": "/old/root/anatomy/cell.hoc"}
    to_db = pf.rewrite_path_prefixes(params, {"/old/root": "reldb://"})
    assert to_db == {"f": "reldb://anatomy/cell.hoc"}
    assert pf.rewrite_path_prefixes(to_db, {"reldb://": "/db/path/"}) == {
        "f": "/db/path/anatomy/cell.hoc"
    }


def test_an_empty_prefix_is_refused():
    with pytest.raises(pf.ParameterFileError, match="empty"):
        pf.rewrite_path_prefixes({"a": "/x"}, {"": "/y"})
