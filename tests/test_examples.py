import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parents[1] / "examples"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_campaign_analysis_example_runs(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("example", EXAMPLES / "campaign_analysis.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(str(tmp_path))
    out = capsys.readouterr().out
    assert "synapse activations of trial" in out and "voltage_traces" in out


def test_readme_usage_snippet_runs(tmp_path, monkeypatch):
    text = (EXAMPLES.parent / "README.md").read_text()
    snippet = text.split("```python\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)  # it creates ./results
    exec(compile(snippet, "README.md", "exec"), {})
    assert (tmp_path / "results" / "vm").is_dir()


def test_psth_and_raster_example_runs_on_the_isf_example_campaign(tmp_path, capsys):
    module = load("psth_and_raster")
    if not module.EXAMPLE.is_dir():
        pytest.skip(f"the real ISF example data is not at {module.EXAMPLE}")
    figure = module.main(str(tmp_path))
    out = capsys.readouterr().out
    assert "PSTH of 6 trials" in out and "spike raster:" in out
    if figure is not None:
        assert figure.stat().st_size > 0
