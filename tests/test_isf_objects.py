"""ISF's ``cell`` and ``reduced_lda_model`` keys, written as ISF writes them (ISF's class
names in the pickles, ISF's nested database for the model), read without ISF into
zdb's cell dict and ReducedLdaModel, refused by name where a part cannot be rebuilt or
the pickle policy forbids it, and migrated into zdb's own ``cell`` and
``reduced_lda_model`` dumpers."""

from __future__ import annotations

import os
import pickle
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import zdb
from zdb.exceptions import CorruptKeyError, DataBaseException, PickleRefusedError
from zdb.isf_data_base import ISFDataBase, migrate
from zdb.legacy import isf_classes
from zdb.objects.reduced_lda_model import ClassifierRecord, ReducedLdaModel
from zdb.testing import isf_writer

from .test_cell_dumper import assert_cell_equal, synthetic_cell
from .test_reduced_lda_model_dumper import fitted


@pytest.fixture
def isf_db(tmp_path: Path) -> Path:
    return Path(isf_writer.create_database(str(tmp_path / "isf")))


def isf_rounded(model) -> dict:
    """What ISF's dumper keeps of the model's spike times and lda values (0.01)."""
    return {
        "st": model.st.round(decimals=2).astype(float).reset_index(drop=True),
        "lda": [{k: np.round(v, 2) for k, v in d.items()} for d in model.lda_value_dicts],
    }


def assert_model_read(got: ReducedLdaModel, model) -> None:
    want = isf_rounded(model)
    pd.testing.assert_frame_equal(got.st, want["st"])
    assert len(got.lda_value_dicts) == len(want["lda"])
    for a, b in zip(got.lda_value_dicts, want["lda"], strict=True):
        assert list(a) == list(b)
        for k in b:
            np.testing.assert_array_equal(a[k], b[k])
    for values, d in zip(got.lda_values, want["lda"], strict=True):
        np.testing.assert_array_equal(values, sum(d.values()))
    for a, b in zip(got.kernel_dict, model.kernel_dict, strict=True):
        assert list(a) == list(b) and all(np.array_equal(a[k], b[k]) for k in b)
    for a, b in zip(got.lookup_series, model.lookup_series, strict=True):
        pd.testing.assert_series_equal(a, b)
    np.testing.assert_array_equal(got.y, model.y)
    assert got.db_list == model.db_list
    assert got.keys_to_synapse_activation_data == model.keys_to_synapse_activation_data
    assert "apply_rolling" not in vars(got) and "apply_static" not in vars(got)
    for a, b in zip(got.clfs["classifier_"], model.clfs["classifier_"], strict=True):
        np.testing.assert_array_equal(a.coef_, b.coef_)


def test_an_isf_cell_reads_as_zdbs_cell_dict_with_its_parameter_set_as_a_dict(isf_db):
    cell = synthetic_cell()
    folder = isf_writer.write_key(str(isf_db), "cell", "cell", cell)
    names = isf_classes_named(Path(folder, "cell").read_bytes())
    assert ("single_cell_parser.parameters", "ParameterSet") in names  # as ISF pickled it
    got = ISFDataBase(isf_db, allow_pickle=True)["cell"]
    assert_cell_equal(got, cell)


def isf_classes_named(data: bytes) -> set[tuple[str, str]]:
    from zdb.legacy.pickles import referenced_globals

    return set(referenced_globals(data))


def test_an_isf_cell_is_a_pickle_and_follows_the_pickle_policy(isf_db):
    isf_writer.write_key(str(isf_db), "cell", "cell", synthetic_cell())
    for allow in (None, False):
        with pytest.raises(PickleRefusedError, match="'cell'"):
            ISFDataBase(isf_db, allow_pickle=allow)["cell"]


def test_an_isf_reduced_model_reads_as_zdbs_reduced_lda_model(isf_db):
    model, data = fitted()
    folder = isf_writer.write_key(str(isf_db), "rm", "reduced_lda_model", model)
    rm_pickle = Path(folder, "Rm", "to_pickle_dump").read_bytes()
    assert ("simrun.reduced_model.get_kernel", "ReducedLdaModel") in isf_classes_named(rm_pickle)
    assert "simrun" not in sys.modules
    got = ISFDataBase(isf_db, allow_pickle=True)["rm"]
    assert isinstance(got, ReducedLdaModel)
    assert_model_read(got, model)
    result = got.apply_static(data)
    kernels = got.kernel_dict[0]
    expected = sum(np.dot(data[k][:, 14:20], kernels[k]) for k in data)
    np.testing.assert_allclose(result.lda_values, expected)


def test_an_isf_reduced_model_is_refused_without_allow_pickle(isf_db):
    isf_writer.write_key(str(isf_db), "rm", "reduced_lda_model", fitted()[0])
    with pytest.raises(PickleRefusedError, match="'rm'"):
        ISFDataBase(isf_db)["rm"]


def test_a_reduced_model_part_that_cannot_be_rebuilt_is_named(isf_db):
    model = fitted()[0]
    model.extra = isf_writer._memoized(len)  # a function pickled by value, not ISF's cache
    isf_writer.write_key(str(isf_db), "rm", "reduced_lda_model", model)
    with pytest.raises(CorruptKeyError, match=r"'rm'.*\.extra: cloudpickle"):
        ISFDataBase(isf_db, allow_pickle=True)["rm"]


def test_a_classifier_whose_class_is_missing_comes_back_as_a_record(monkeypatch):
    import sklearn.discriminant_analysis as module

    class Missing:  # pickled as a scikit-learn class this scikit-learn does not have
        pass

    Missing.__module__, Missing.__qualname__ = module.__name__, "Gone"
    clf = Missing()
    clf.__dict__.update(solver="eigen", coef_=np.array([[1.0, 2.0]]), _sklearn_version="0.23")
    with monkeypatch.context() as m:
        m.setattr(module, "Gone", Missing, raising=False)
        payload = pickle.dumps({"classifier_": [clf]}, protocol=4)
    got = isf_classes.loads(payload)
    record = isf_classes_to_record(got)
    assert isinstance(record, ClassifierRecord)
    assert record.class_path == "sklearn.discriminant_analysis.Gone"
    assert record.get_params() == {"solver": "eigen"}
    np.testing.assert_array_equal(record.coef_, [[1.0, 2.0]])


def isf_classes_to_record(value):
    from zdb.legacy.objects import _classifiers

    return _classifiers(value)["classifier_"][0]


def test_a_reduced_model_folder_without_its_database_is_refused_by_name(isf_db):
    isf_writer.key_folder(str(isf_db), "rm", "reduced_lda_model")
    with pytest.raises(DataBaseException, match="'rm'.*ModelDataBase"):
        ISFDataBase(isf_db, allow_pickle=True)["rm"]


def test_functions_pickled_by_value_never_run_and_stay_stand_ins():
    import cloudpickle

    ran = []
    payload = cloudpickle.dumps({"f": lambda: ran.append(1)})
    value = isf_classes.loads(payload)
    assert isinstance(value["f"], isf_classes.Unrebuilt) and ran == []
    assert [where for where, _ in isf_classes.unrebuilt(value)] == ["['f']"]


def test_migration_converts_isf_cells_and_reduced_models_into_zdbs_dumpers(isf_db, tmp_path):
    cell = synthetic_cell()
    model = fitted()[0]
    isf_writer.write_key(str(isf_db), "cell", "cell", cell)
    isf_writer.write_key(str(isf_db), "rm", "reduced_lda_model", model)
    before = {p: p.read_bytes() for p in isf_db.rglob("*") if p.is_file()}
    report = migrate(isf_db, tmp_path / "new", allow_pickle=True, progress=False)
    assert report.opaque == {} and sorted(report.converted) == ["cell", "rm"]
    assert {p: p.read_bytes() for p in isf_db.rglob("*") if p.is_file()} == before
    new = zdb.DataBase(tmp_path / "new")
    assert new.node("cell").dumper == "cell" and new.node("rm").dumper == "reduced_lda_model"
    assert_cell_equal(new["cell"], cell)
    assert_model_read(new["rm"], model)


def test_migration_without_allow_pickle_keeps_them_opaque_saying_why(isf_db, tmp_path):
    isf_writer.write_key(str(isf_db), "cell", "cell", synthetic_cell())
    isf_writer.write_key(str(isf_db), "rm", "reduced_lda_model", fitted()[0])
    report = migrate(isf_db, tmp_path / "new", progress=False)
    assert sorted(report.opaque) == ["cell", "rm"]
    assert all("allow-pickle" in why for why in report.opaque.values())
    assert os.path.isdir(tmp_path / "new")
