"""The example notebooks (``examples/*.py``, jupytext ``py:percent`` scripts) run as
notebooks in a real Jupyter kernel, each from a temporary working folder, offline (the
S3 example starts moto's server on loopback itself). When ``ZDB_EXECUTED_EXAMPLES``
names a folder, the executed notebooks are saved there and the site's build renders
them (``.ci/run``), so CI executes each notebook once."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[1] / "examples"


def _runner():
    spec = importlib.util.spec_from_file_location("_notebooks", EXAMPLES / "_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


notebooks = _runner()


def run_notebook(name: str, workdir: Path):
    """Execute ``examples/<name>.py`` in a kernel working in ``workdir``; save it for
    the site when asked to."""
    pytest.importorskip("jupytext")
    pytest.importorskip("nbclient")
    notebook = notebooks.execute(EXAMPLES / f"{name}.py", workdir)
    saved = os.environ.get(notebooks.SAVED_ENV)
    if saved:
        notebooks.save(notebook, Path(saved), name)
    return notebook


def outputs(notebook) -> tuple[str, list[str], list[str]]:
    """The text printed, the HTML shown and the kinds of images drawn by the notebook."""
    text, html, images = [], [], []
    for cell in notebook.cells:
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", out
            if out["output_type"] == "stream":
                text.append(out["text"])
            data = out.get("data", {})
            text.append(data.get("text/plain", ""))
            html.append(data.get("text/html", ""))
            images += [kind for kind in data if kind.startswith("image/")]
    return "".join(text), html, images


def test_every_example_notebook_is_tested():
    names = {p.stem for p in notebooks.scripts()}
    tested = {name.split("_notebook_")[0][len("test_") :] for name in globals()}
    assert names <= tested


def test_campaign_analysis_notebook_imports_and_draws_raster_psth_traces_density(tmp_path):
    text, html, images = outputs(run_notebook("campaign_analysis", tmp_path))
    assert "20 trials" in text and "synapse activations" in text
    assert images.count("image/png") >= 4  # raster and PSTH, traces, density, activations
    assert any("<td>spike_times</td>" in h for h in html)  # the database's table
    assert any("<th>dumper</th>" in h for h in html)  # one key's provenance
    assert (tmp_path / "campaign_db").is_dir() and (tmp_path / "campaign").is_dir()


def test_provenance_notebook_records_the_diff_and_reproduces_both_results(tmp_path):
    text, html, _ = outputs(run_notebook("provenance", tmp_path))
    assert "dirty: True" in text
    assert "+    return np.convolve(rate" in text  # the recorded uncommitted diff
    assert "rates reproduced: True" in text and "rates_smoothed reproduced: True" in text
    assert any("<details><summary>history</summary>" in h for h in html)


def test_s3_and_dask_notebook_writes_from_workers_and_stops_its_s3_server(tmp_path):
    text, _, _ = outputs(run_notebook("s3_and_dask", tmp_path))
    assert str([f"{i:03d}" for i in range(8)]) in text  # one key per task, all listed
    assert "exported s3://lab/campaign to" in text and "nothing wrong" in text
    assert "S3 server stopped: True" in text
    assert (tmp_path / "campaign.zip").is_file()


def test_readme_usage_snippet_runs(tmp_path, monkeypatch):
    text = (EXAMPLES.parent / "README.md").read_text()
    snippet = text.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)  # it creates ./results
    exec(compile(snippet, "README.md", "exec"), {})
    assert (tmp_path / "results" / "vm").is_dir()
