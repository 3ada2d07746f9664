"""ISF's own data_base test files, run against zdb.

ISF's ``tests/test_data_base/**`` is read from an ISF checkout or git directory (the
environment variable ``ZDB_ISF_SOURCE``), each file is changed by the allowed rewrites
only (:mod:`.rewrites`), and the files are written with a minimal conftest
(``isf_conftest.py``) and the stand-ins of ISF packages outside data_base
(``stand_ins/``) into a folder where pytest runs them in a subprocess.

ISF's files are never copied into this repository: they are read from the source given.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

from .rewrites import rewrite

#: names an ISF checkout (a folder with ``tests/test_data_base``) or an ISF git directory
ENV = "ZDB_ISF_SOURCE"
#: ISF's data_base tests, relative to the root of ISF's repository
SUITE = "tests/test_data_base"
HERE = Path(__file__).resolve().parent
#: ISF's test helpers outside the suite that its files import (``dumpers_small_test.py``:
#: ``from tests.test_simrun.reduced_model.get_kernel_test import get_test_Rm``), read
#: from the same source; only the suite's folder is collected
HELPERS = (
    "tests/test_simrun/__init__.py",
    "tests/test_simrun/reduced_model/__init__.py",
    "tests/test_simrun/reduced_model/get_kernel_test.py",
)
#: the shared copy of ISF's getting_started/example_data
EXAMPLE_DATA = HERE.parents[3] / "shared" / "data" / "isf_example"

#: the ISF tests that cannot apply to zdb (deselected by their ids), and why
NOT_APPLICABLE = {
    f"{SUITE}/data_base_switcher_test.py::test_switch_db_backend": (
        "switches between ISF's two legacy database systems (ISF_USE_MDB)"
    ),
    f"{SUITE}/data_base_test.py::test_metadata_update": (
        "asserts ISF's own version number and deletes ISF's metadata.json files"
    ),
    f"{SUITE}/data_base_test.py::test_can_detect_default_dumper": (
        "asserts that a plain int is pickled; zdb stores it as JSON (python_value)"
    ),
}


class SourceError(Exception):
    """The path in ZDB_ISF_SOURCE is neither an ISF checkout nor an ISF git directory."""


def _read_checkout(source: Path, part: str) -> dict[str, str]:
    path = source / part
    files = sorted(path.rglob("*.py")) if path.is_dir() else [path] if path.is_file() else []
    return {f.relative_to(source).as_posix(): f.read_text(encoding="utf-8") for f in files}


def _read_git(source: Path, part: str) -> dict[str, str]:
    git = ["git", f"--git-dir={source}"]
    listed = subprocess.run(
        [*git, "ls-tree", "-r", "--name-only", "HEAD", part], capture_output=True, text=True
    )
    return {
        name: subprocess.run(
            [*git, "show", f"HEAD:{name}"], capture_output=True, text=True, check=True
        ).stdout
        for name in listed.stdout.splitlines()
        if name.endswith(".py") and listed.returncode == 0
    }


def read_suite(source: Path) -> dict[str, str]:
    """ISF's ``tests/test_data_base/**/*.py`` and the :data:`HELPERS` from ``source``, by
    path relative to ISF's repository root: from the files of a checkout, or from HEAD
    of a git directory."""
    read = _read_checkout if (source / SUITE).is_dir() else _read_git
    files = {name: text for part in (SUITE, *HELPERS) for name, text in read(source, part).items()}
    if not any(name.startswith(f"{SUITE}/") for name in files):
        raise SourceError(
            f"{source} is neither an ISF checkout (no {SUITE}/) nor an ISF git directory "
            f"with {SUITE}/ at HEAD"
        )
    return files


def write_suite(files: dict[str, str], dest: Path, example_data: Path = EXAMPLE_DATA) -> None:
    """Write ISF's test files, rewritten, with the minimal conftest and the stand-ins,
    into the folder ``dest`` (see :func:`run_suite`)."""
    for name, text in files.items():
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rewrite(name, text, str(example_data)), encoding="utf-8")
    # ISF's tests/__init__.py sets up NEURON for ISF's other tests: an empty package here
    (dest / "tests" / "__init__.py").write_text("", encoding="utf-8")
    shutil.copyfile(HERE / "isf_conftest.py", dest / "tests" / "conftest.py")
    shutil.copytree(HERE / "stand_ins", dest / "stand_ins")
    (dest / "pytest.ini").write_text(
        "[pytest]\nfilterwarnings =\n    ignore::zarr.errors.UnstableSpecificationWarning\n",
        encoding="utf-8",
    )


@dataclass
class Outcome:
    """What pytest reported for ISF's tests: test ids by outcome, and the first line of
    each failure's message."""

    passed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)
    deselected: int = 0
    output: str = ""


def _test_id(case: ET.Element) -> str:
    """pytest's id of a junit test case (xunit1 names its file); a module that could not
    be collected is named by its file."""
    name, classname = case.get("name", ""), case.get("classname", "")
    if not classname:
        return name.replace(".", "/") + ".py"
    file = case.get("file", "")
    module = file.removesuffix(".py").replace("/", ".")
    inner = classname.removeprefix(module).strip(".")
    return "::".join(filter(None, [file, inner, name]))


def run_suite(dest: Path, timeout: float = 600) -> Outcome:
    """Run pytest on the suite written into ``dest`` in a subprocess (the tests' own
    registry, example data and stand-ins in its environment) and read its outcome."""
    report = dest / "report.xml"
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(dest), str(dest / "stand_ins"), *filter(None, [env.get("PYTHONPATH")])]
    )
    env["ZDB_ISF_EXAMPLE_DATA"] = str(EXAMPLE_DATA)
    env["ZDB_REGISTRY"] = str(dest / "registry")
    env["MPLBACKEND"] = "agg"
    # dask's multiprocessing scheduler (``compute(scheduler="multiprocessing")`` in ISF's
    # tests) forks its workers instead of spawning them: tasks are pickled all the same,
    # but each process does not import zdb, pandas and dask anew (seconds per compute)
    env["DASK_MULTIPROCESSING__CONTEXT"] = "fork"
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:randomly",
        "-c",
        str(dest / "pytest.ini"),
        "--continue-on-collection-errors",
        "--rootdir",
        str(dest),
        f"--junitxml={report}",
        "-o",
        "junit_family=xunit1",
        *(f"--deselect={test}" for test in NOT_APPLICABLE),
        SUITE,
    ]
    done = subprocess.run(
        command, cwd=dest, env=env, capture_output=True, text=True, timeout=timeout
    )
    outcome = Outcome(output=done.stdout + done.stderr)
    if not report.exists():
        return outcome
    for case in ET.parse(report).getroot().iter("testcase"):
        test = _test_id(case)
        problem = case.find("failure")
        if problem is None:
            problem = case.find("error")
        skipped = case.find("skipped")
        if problem is not None:
            outcome.failed[test] = (problem.get("message") or "").splitlines()[0][:300]
        elif skipped is not None:
            outcome.skipped[test] = skipped.get("message") or ""
        else:
            outcome.passed.append(test)
    for line in reversed(outcome.output.splitlines()):
        if " deselected" in line:
            words = line.replace(",", " ").split()
            outcome.deselected = int(words[words.index("deselected") - 1])
            break
    return outcome
