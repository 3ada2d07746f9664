"""Tests of zdb.provenance: what gather() records about where a value came from."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import types
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from zdb import provenance
from zdb.provenance import FIELDS, clear_caches, gather


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with a fixed identity and return its stdout."""
    result = subprocess.run(
        [
            "git",
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
            *args,
        ],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Fresh caches and no user or system git configuration or repository override."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.delenv("ZDB_GIT_REPO", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    clear_caches()
    yield
    clear_caches()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A git repository with one commit of a tracked file ``sim.py``."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q")
    (path / "sim.py").write_text("x = 1\n")
    git(path, "add", "sim.py")
    git(path, "commit", "-q", "-m", "initial")
    return path


@pytest.fixture
def no_repo(tmp_path: Path) -> Path:
    """A directory outside any git repository."""
    path = tmp_path / "plain"
    path.mkdir()
    if subprocess.run(["git", "rev-parse"], cwd=path, capture_output=True).returncode == 0:
        pytest.skip("the temporary directory is inside a git repository")
    return path


GIT_FIELDS = ("git", "version", "full-revisionid", "dirty", "diff")


def git_errors(result: dict) -> list[str]:
    """The lines of ``error`` about git."""
    lines = (result["error"] or "").splitlines()
    return [line for line in lines if line.split(":", 1)[0] in GIT_FIELDS]


def test_gather_returns_every_field_json_serialisable(repo: Path) -> None:
    result = gather([repo])
    assert tuple(result) == FIELDS
    assert json.loads(json.dumps(result)) == result
    assert result["hostname"] == socket.gethostname()
    assert result["metadata_creation_time"] == "together_with_new_key"
    assert isinstance(result["module_versions"], dict)


def test_time_is_utc_iso8601_with_microseconds(repo: Path) -> None:
    stamp = gather([repo])["time"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00", stamp)
    assert datetime.fromisoformat(stamp).utcoffset() == timedelta(0)


def test_clean_repository_reports_head_and_is_not_dirty(repo: Path) -> None:
    result = gather([repo])
    assert result["full-revisionid"] == git(repo, "rev-parse", "HEAD").strip()
    assert result["version"] == git(repo, "describe", "--always", "--tags", "--dirty").strip()
    assert result["dirty"] is False
    assert result["diff"] is None
    assert git_errors(result) == []


def test_version_uses_tags(repo: Path) -> None:
    git(repo, "tag", "v1.2.3")
    assert gather([repo])["version"] == "v1.2.3"


def test_modified_tracked_file_makes_repository_dirty_with_diff(repo: Path) -> None:
    (repo / "sim.py").write_text("x = 1\ny = 'changed line'\n")
    result = gather([repo])
    assert result["dirty"] is True
    assert "+y = 'changed line'" in result["diff"]
    assert result["version"].endswith("-dirty")
    assert result["version"] == git(repo, "describe", "--always", "--tags", "--dirty").strip()


def test_staged_change_makes_repository_dirty(repo: Path) -> None:
    (repo / "new.py").write_text("z = 3\n")
    git(repo, "add", "new.py")
    result = gather([repo])
    assert result["dirty"] is True
    assert "+z = 3" in result["diff"]


def test_untracked_file_alone_does_not_make_repository_dirty(repo: Path) -> None:
    (repo / "notes.txt").write_text("scratch\n")
    result = gather([repo])
    assert result["dirty"] is False
    assert result["diff"] is None


def test_touched_but_unchanged_file_is_not_dirty_and_index_is_not_locked(repo: Path) -> None:
    os.utime(repo / "sim.py", (1, 1))
    result = gather([repo])
    assert result["dirty"] is False
    assert not (repo / ".git" / "index.lock").exists()


def test_subdirectory_of_repository_finds_repository(repo: Path) -> None:
    sub = repo / "a" / "b"
    sub.mkdir(parents=True)
    assert gather([sub])["full-revisionid"] == git(repo, "rev-parse", "HEAD").strip()


def test_first_repo_path_inside_a_repository_wins(repo: Path, no_repo: Path) -> None:
    result = gather([no_repo, repo])
    assert result["full-revisionid"] == git(repo, "rev-parse", "HEAD").strip()


def test_git_state_is_cached_until_ttl_expires(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provenance, "GIT_CACHE_SECONDS", 3600.0)
    assert gather([repo])["dirty"] is False
    (repo / "sim.py").write_text("x = 2\n")
    assert gather([repo])["dirty"] is False  # cached
    clear_caches()
    assert gather([repo])["dirty"] is True


def test_zero_ttl_sees_each_edit_immediately(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provenance, "GIT_CACHE_SECONDS", 0.0)
    assert gather([repo])["dirty"] is False
    (repo / "sim.py").write_text("x = 2\n")
    assert "+x = 2" in gather([repo])["diff"]
    (repo / "sim.py").write_text("x = 3\n")
    assert "+x = 3" in gather([repo])["diff"]
    git(repo, "commit", "-q", "-am", "second")
    result = gather([repo])
    assert result["dirty"] is False
    assert result["full-revisionid"] == git(repo, "rev-parse", "HEAD").strip()


def test_no_repository_gives_empty_git_fields_and_error(
    no_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(no_repo)
    monkeypatch.setenv("ZDB_GIT_REPO", str(no_repo))
    # the test runner's own script may live in a repository: point it elsewhere
    monkeypatch.setattr(sys, "argv", [str(no_repo / "script.py")])
    monkeypatch.delattr(sys.modules["__main__"], "__file__", raising=False)
    for result in (gather([no_repo]), gather()):
        assert [result[field] for field in ("version", "full-revisionid", "dirty", "diff")] == [
            None
        ] * 4
        assert "git: no git repository found at" in result["error"]
        assert str(no_repo) in result["error"]
        assert json.dumps(result)


def test_environment_variable_selects_repository(
    repo: Path, no_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(no_repo)
    monkeypatch.setenv("ZDB_GIT_REPO", os.pathsep.join([str(no_repo), str(repo)]))
    assert gather()["full-revisionid"] == git(repo, "rev-parse", "HEAD").strip()


def test_running_script_directory_selects_repository(
    repo: Path, no_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(no_repo)
    monkeypatch.setattr(sys, "argv", [str(repo / "sim.py")])
    assert gather()["full-revisionid"] == git(repo, "rev-parse", "HEAD").strip()


def test_working_directory_selects_repository(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)
    monkeypatch.setattr(sys, "argv", [""])
    monkeypatch.setattr(sys.modules["__main__"], "__file__", "", raising=False)
    assert gather()["full-revisionid"] == git(repo, "rev-parse", "HEAD").strip()


def test_removed_working_directory_does_not_raise(
    no_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gone = no_repo / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()
    monkeypatch.setattr(sys, "argv", [""])
    monkeypatch.setattr(sys.modules["__main__"], "__file__", "", raising=False)
    result = gather()
    assert result["full-revisionid"] is None
    assert "git" in result["error"]


def test_missing_git_executable_sets_error(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    result = gather([repo])
    assert result["version"] is None
    assert result["dirty"] is None
    assert "git: the git executable was not found" in result["error"]


def test_repository_without_commits_does_not_raise(tmp_path: Path) -> None:
    path = tmp_path / "empty-repo"
    path.mkdir()
    git(path, "init", "-q")
    result = gather([path])
    assert result["full-revisionid"] is None
    assert result["version"] is None
    assert "full-revisionid: `git rev-parse --verify HEAD`" in result["error"]


def test_broken_repository_does_not_raise(tmp_path: Path) -> None:
    path = tmp_path / "broken"
    path.mkdir()
    (path / ".git").write_text("gitdir: /nonexistent/somewhere\n")
    result = gather([path])
    assert result["full-revisionid"] is None
    assert result["error"]
    assert json.dumps(result)


def test_module_versions_include_numpy_and_exclude_stdlib() -> None:
    import numpy

    versions = gather([])["module_versions"]
    assert versions["numpy"] == numpy.__version__
    assert not set(versions) & (set(sys.stdlib_module_names) | set(sys.builtin_module_names))
    assert not any(name.startswith("_") or "." in name for name in versions)
    assert all(isinstance(version, str) for version in versions.values())


def test_module_versions_follow_newly_imported_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    gather([])
    fake = types.ModuleType("zdbtestfakepkg")
    fake.__version__ = "9.8.7"
    monkeypatch.setitem(sys.modules, "zdbtestfakepkg", fake)
    assert gather([])["module_versions"]["zdbtestfakepkg"] == "9.8.7"


def test_history_is_none_outside_ipython(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "IPython", raising=False)
    assert gather([])["history"] is None


def test_history_joins_ipython_input_cells(monkeypatch: pytest.MonkeyPatch) -> None:
    cells = ["", "a = 1", "b = 2"]
    shell = types.SimpleNamespace(
        history_manager=types.SimpleNamespace(input_hist_raw=cells), user_ns={}
    )
    fake_ipython = types.ModuleType("IPython")
    fake_ipython.get_ipython = lambda: shell
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython)
    assert gather([])["history"] == "a = 1\nb = 2"
    cells.append("c = 3")
    assert gather([])["history"] == "a = 1\nb = 2\nc = 3"


def test_ipython_imported_without_a_shell_gives_no_history(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fake_ipython = types.ModuleType("IPython")
    fake_ipython.get_ipython = lambda: None
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython)
    result = gather([])
    assert result["history"] is None
    assert "history" not in (result["error"] or "")


def test_broken_ipython_history_is_reported_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_ipython = types.ModuleType("IPython")
    fake_ipython.get_ipython = lambda: object()
    monkeypatch.setitem(sys.modules, "IPython", fake_ipython)
    result = gather([])
    assert result["history"] is None
    assert "history: AttributeError" in result["error"]


def test_error_is_one_line_per_failed_field(no_repo: Path) -> None:
    result = gather([no_repo])
    for line in result["error"].splitlines():
        field = line.split(":", 1)[0]
        assert field in FIELDS or field in GIT_FIELDS


def test_writers_in_several_threads_of_a_new_process_scan_the_installed_packages_once(
    monkeypatch,
):
    import importlib.metadata
    import threading
    import time

    from zdb import provenance

    scans = []

    def slow_scan():
        scans.append(1)
        time.sleep(0.2)
        return {"numpy": ["numpy"]}

    monkeypatch.setattr(importlib.metadata, "packages_distributions", slow_scan)
    provenance.clear_caches()
    threads = [threading.Thread(target=provenance.gather) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    provenance.clear_caches()
    assert scans == [1]
