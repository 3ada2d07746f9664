"""Rich display in Jupyter: the HTML of a database, of ``db.metadata`` and of one key's
metadata, checked directly and as a real Jupyter kernel returns it (nbclient)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import zdb
from zdb.display import KeyMetadata, database_html, key_metadata_html


@pytest.fixture
def small_db(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db["vm"] = np.zeros((3, 4))
    db["params", "seed"] = 7
    db["params", "deep", "x"] = "text"
    return db


def test_a_database_is_a_table_of_its_keys_with_sub_databases_collapsed(small_db):
    html = small_db._repr_html_()
    assert small_db.basedir in html and small_db.unique_id in html
    assert "<td>vm</td><td>numpy_to_zarr</td><td>numpy.ndarray</td><td>float64 (3, 4)</td>" in html
    assert "<details><summary>params/ <i>(sub-database, 2 keys)</i></summary>" in html
    assert "<details open" not in html
    assert html.index("params/") < html.index("deep/") < html.index("<td>seed</td>")
    assert html.index("<td>seed</td>") < html.index("<td>vm</td>")  # key order


def test_a_large_database_shows_its_first_keys_and_counts_the_rest(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    for i in range(7):
        db[f"k{i}"] = i
    html = database_html(db, max_rows=3)
    assert [f"<td>k{i}</td>" in html for i in range(7)] == [True] * 3 + [False] * 4
    assert "... and 4 more keys" in html


def test_a_damaged_key_is_shown_as_damaged_and_the_others_still_are(small_db, tmp_path):
    (tmp_path / "db" / "vm" / "zarr.json").write_text("{not json")
    html = small_db._repr_html_()
    assert 'class="zdb-damaged"><td>vm</td>' in html and "params/" in html


def test_text_read_from_the_database_is_escaped(small_db, tmp_path):
    fields = KeyMetadata(
        dumper="numpy_to_zarr",
        hostname="<script>alert(1)</script>",
        diff="+<img src=x onerror=alert(1)>",
        history="print('<b>')",
    )
    html = key_metadata_html(fields)
    assert "<script>" not in html and "<img" not in html and "<b>" not in html.split("</th>")[-1]
    assert "&lt;script&gt;" in html and "&lt;img" in html
    pointer = tmp_path / "db" / "vm" / "zarr.json"
    doc = json.loads(pointer.read_text())
    doc["attributes"]["zdb"]["loader"]["summary"] = "<i>injected</i>"
    pointer.write_text(json.dumps(doc))
    assert "&lt;i&gt;injected&lt;/i&gt;" in small_db._repr_html_()


def test_metadata_is_a_table_and_one_key_s_metadata_a_dict_with_its_diff_collapsed(small_db):
    table = small_db.metadata._repr_html_()
    assert "<th>dumper</th>" in table and "<td>vm</td><td>numpy_to_zarr</td>" in table
    assert repr(small_db.metadata) == f"<metadata of the 2 keys of {small_db.basedir}>"
    fields = small_db.metadata["vm"]
    assert isinstance(fields, dict) and fields == dict(fields)
    html = fields._repr_html_()
    assert "<th>dumper</th><td>numpy_to_zarr</td>" in html
    with_diff = KeyMetadata(fields, diff="+x = 1\n", history="db['vm']")
    assert "<details><summary>diff</summary>" in with_diff._repr_html_()
    assert "<details><summary>history</summary>" in with_diff._repr_html_()


def test_a_jupyter_kernel_shows_the_html(small_db):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    cells = [
        f"import zdb\ndb = zdb.DataBase({small_db.basedir!r}, readonly=True)",
        "db",
        "db.metadata",
        "db.metadata['vm']",
    ]
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3").execute()
    html = [
        next(o["data"]["text/html"] for o in cell["outputs"] if "data" in o)
        for cell in notebook.cells[1:]
    ]
    assert "<summary>params/ <i>(sub-database, 2 keys)</i></summary>" in html[0]
    assert "<th>hostname</th>" in html[1] and "<td>vm</td>" in html[1]
    assert "<th>dumper</th><td>numpy_to_zarr</td>" in html[2]
