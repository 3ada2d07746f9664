"""``zdb ls``, ``zdb info``, ``zdb meta`` and ``zdb diff`` on a local database and on S3."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from .cli_helpers import Place, new_place, run


@pytest.fixture(params=["local", "s3"])
def place(request: pytest.FixtureRequest, tmp_path) -> Place:
    place = new_place(request, tmp_path, request.param)
    db = place.db()
    db["vm"] = np.arange(12.0).reshape(3, 4)
    db.set("chunked", np.arange(100), chunks=(10,))
    db["spikes"] = pd.DataFrame({"cell": [3, 7], "t": [12.5, 40.0]})
    db["params", "run1"] = {"seed": 1}
    db["params", "deeper", "x"] = 5
    return place


def test_ls_json_carries_every_field_of_every_key_nested_ones_included(capsys, place):
    result = run(capsys, "ls", place.url, *place.args, "--json")
    assert result.code == 0, result.err
    records = {tuple(r["key"]): r for r in result.json()}
    assert set(records) == {("chunked",), ("params",), ("spikes",), ("vm",)}
    vm = records[("vm",)]
    assert vm["dumper"] == "numpy_to_zarr"
    assert vm["type"] == "numpy.ndarray"
    assert vm["summary"] == "float64 (3, 4)"
    assert vm["size"] > 0 and vm["time"].startswith("20")
    params = records[("params",)]
    assert params["kind"] == "database"
    children = {tuple(c["key"]): c for c in params["children"]}
    assert set(children) == {("params", "deeper"), ("params", "run1")}
    assert children[("params", "run1")]["dumper"] == "python_value"
    deeper = children[("params", "deeper")]["children"]
    assert [c["key"] for c in deeper] == [["params", "deeper", "x"]]
    for record in [vm, params, deeper[0]]:
        assert set(record) >= {"key", "name", "kind", "dumper", "type", "summary", "size", "time"}


def test_ls_shows_a_tree_with_long_fields_down_to_the_depth_asked(capsys, place):
    short = run(capsys, "ls", place.url, *place.args)
    assert short.code == 0
    assert "├── params/" in short.out and "run1" in short.out and "numpy_to_zarr" not in short.out
    long = run(capsys, "ls", place.url, *place.args, "--long", "--depth", "0")
    assert "numpy_to_zarr" in long.out and "float64 (3, 4)" in long.out
    assert "run1" not in long.out
    sub = run(capsys, "ls", place.url, "params", *place.args, "--json")
    assert [r["key"] for r in sub.json()] == [["params", "deeper"], ["params", "run1"]]
    not_sub = run(capsys, "ls", place.url, "vm", *place.args)
    assert not_sub.code == 1 and "zdb info" in not_sub.err


def test_info_says_what_a_key_holds_and_where(capsys, place):
    result = run(capsys, "info", place.url, "chunked", *place.args, "--json")
    assert result.code == 0, result.err
    info = result.json()
    assert info["dumper"] == "numpy_to_zarr" and info["type"] == "numpy.ndarray"
    assert info["path"] == place.db().path_of("chunked")
    [array] = info["arrays"]
    assert array["shape"] == [100] and array["dtype"] == "int64" and array["chunks"] == [10]
    assert "zstd" in array["codecs"]
    assert info["files"] >= 11  # ten chunks and the documents
    assert info["size"] > 0
    assert info["metadata"]["dumper"] == "numpy_to_zarr"
    text = run(capsys, "info", place.url, "spikes", *place.args)
    assert "pandas_to_zarr" in text.out and "provenance:" in text.out and "hostname:" in text.out
    nested = run(capsys, "info", place.url, "params/run1", *place.args, "--json").json()
    assert nested["key"] == ["params", "run1"] and nested["arrays"] == [] and nested["files"] == 0


def test_meta_prints_the_provenance_alone(capsys, place):
    result = run(capsys, "meta", place.url, "vm", *place.args, "--json")
    assert result.code == 0
    assert result.json() == place.db().metadata["vm"]
    text = run(capsys, "meta", place.url, "vm", *place.args).out
    assert "full-revisionid:" in text and "module_versions:" in text


def test_diff_shows_how_the_provenance_of_two_keys_differs(capsys, place):
    db = place.db()
    meta = db.metadata["vm"]
    result = run(capsys, "diff", place.url, "vm", "params/run1", *place.args, "--json")
    assert result.code == 0, result.err
    diff = result.json()
    assert diff["fields"]["dumper"] == ["numpy_to_zarr", "python_value"]
    assert diff["diff"] is None  # the same code wrote both
    assert diff["same"] is False
    assert meta["module_versions"]  # the comparison had something to compare
    text = run(capsys, "diff", place.url, "vm", "chunked", *place.args).out
    assert "same provenance" in text


def test_diff_compares_the_code_of_two_databases(capsys, place, monkeypatch):
    other = place.beside("other")
    dirty = place.db().metadata["vm"]["dirty"]
    monkeypatch.setattr(
        "zdb.provenance.gather",
        lambda *a, **k: {
            "time": "2020-01-01T00:00:00+00:00",
            "hostname": "elsewhere",
            "zdb_version": "0.0.1",
            "version": "abc-dirty",
            "full-revisionid": "abc",
            "dirty": not dirty,
            "diff": "+new line\n",
            "module_versions": {"numpy": "1.0", "only_here": "2"},
            "history": None,
            "metadata_creation_time": "together_with_new_key",
            "error": None,
        },
    )
    other.db()["vm"] = 1
    result = run(capsys, "diff", place.url, "vm", "--other", other.url, *place.args, "--json")
    assert result.code == 0, result.err
    diff = result.json()
    assert diff["fields"]["hostname"][1] == "elsewhere"
    assert diff["fields"]["full-revisionid"][1] == "abc"
    assert diff["fields"]["dirty"] == [dirty, not dirty]
    assert "+new line" in diff["diff"]
    assert diff["module_versions"]["added"] == {"only_here": "2"}
    assert diff["module_versions"]["changed"]["numpy"][1] == "1.0"
    text = run(capsys, "diff", place.url, "vm", "--other", other.url, *place.args).out
    assert "hostname:" in text and "package added: only_here==2" in text


def test_a_missing_key_is_an_error_naming_what_to_do(capsys, place):
    for command in ("info", "meta"):
        result = run(capsys, command, place.url, "nope", *place.args)
        assert result.code == 1
        assert result.out == ""
        assert "nope" in result.err and "zdb ls" in result.err
    result = run(capsys, "diff", place.url, "vm", *place.args)
    assert result.code == 1 and "--other" in result.err


def test_info_shows_the_chunks_and_shards_of_a_sharded_table(capsys, tmp_path):
    import dask.dataframe as dd

    import zdb

    db = zdb.DataBase(tmp_path / "db")
    frame = pd.DataFrame({"x": np.arange(1000.0)})
    ddf = dd.from_pandas(frame, npartitions=2)
    db.set("t", ddf, dumper="dask_to_zarr", chunk_rows=100, shard_rows=500)
    info = run(capsys, "info", str(tmp_path / "db"), "t", "--json").json()
    [x] = [a for a in info["arrays"] if a["path"] == "x"]
    assert x["chunks"] == [100] and x["shards"] == [500]
    assert x["codecs"][0].startswith("sharding_indexed(")
    text = run(capsys, "info", str(tmp_path / "db"), "t").out
    assert "chunks [100]  shards [500]" in text
