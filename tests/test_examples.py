import importlib.util
from pathlib import Path

EXAMPLES = Path(__file__).parents[1] / "examples"


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
    assert (tmp_path / "results" / "spikes").is_dir()
