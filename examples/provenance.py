# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Provenance and reproducibility
#
# Every value zdb writes records where it came from: when and on which host, the
# versions of zdb and of every imported package, the git commit of your code, whether
# the work tree had uncommitted changes and the diff of those changes, and in Jupyter
# the history of the cells run. This notebook writes a result, changes the code,
# writes it again, shows how the two differ, and recomputes the first result from
# what its provenance recorded.
#
# The analysis code is a small git repository made in the working folder: zdb takes
# the git state of the repository the notebook runs in (or the one named by the
# environment variable `ZDB_GIT_REPO`).

# %%
import os
import subprocess
import sys
from pathlib import Path

# ask git at every write; the default reuses the git state for a few seconds
os.environ["ZDB_GIT_CACHE_SECONDS"] = "0"

import numpy as np

import zdb
from zdb.provenance_diff import compare


def git(*args: str) -> str:
    """Run git in the working folder and return its output."""
    identity = ["-c", "user.name=Example", "-c", "user.email=example@example.org"]
    done = subprocess.run(["git", *identity, *args], check=True, capture_output=True, text=True)
    return done.stdout


Path("analysis.py").write_text(
    "import numpy as np\n\n\n"
    "def firing_rate(spike_counts, seconds):\n"
    "    return np.asarray(spike_counts) / seconds\n"
)
git("init", "--quiet")
git("add", "analysis.py")
git("commit", "--quiet", "-m", "firing rate")
print(git("log", "--oneline"))

# %% [markdown]
# ## A result and its provenance
#
# `db.metadata[key]` is a dict; Jupyter shows it as a table, the uncommitted diff and
# the cell history collapsed.

# %%
import analysis

counts = np.array([3, 8, 5, 12])
db = zdb.DataBase("results")
db["rates"] = analysis.firing_rate(counts, seconds=0.5)
db.metadata["rates"]

# %% [markdown]
# ## The code changes, uncommitted
#
# The rate is now smoothed. The new result records the same commit, `dirty: True` and
# the diff against it.

# %%
Path("analysis.py").write_text(
    "import numpy as np\n\n\n"
    "def firing_rate(spike_counts, seconds, smooth=3):\n"
    "    rate = np.asarray(spike_counts) / seconds\n"
    "    return np.convolve(rate, np.ones(smooth) / smooth, mode='same')\n"
)
import importlib

importlib.reload(analysis)
db["rates_smoothed"] = analysis.firing_rate(counts, seconds=0.5)
meta = db.metadata["rates_smoothed"]
print("commit:", meta["full-revisionid"], "dirty:", meta["dirty"])
print(meta["diff"])

# %% [markdown]
# ## How two results differ
#
# `zdb.provenance_diff.compare` (and `zdb diff DB KEY1 KEY2` on a shell) lists each
# differing field and a diff between the two recorded diffs.

# %%
difference = compare(db.metadata["rates"], db.metadata["rates_smoothed"], ("rates", "smoothed"))
print({field: values for field, values in difference["fields"].items() if field != "time"})
print(difference["diff"])

# %%
shell = subprocess.run(
    [sys.executable, "-m", "zdb", "diff", "results", "rates", "rates_smoothed"],
    capture_output=True,
    text=True,
)
print(shell.stdout)

# %% [markdown]
# ## Reproducing a result
#
# The recorded commit and diff are the exact code a value was computed with: check out
# the commit in a separate folder, apply the diff, and compute again.

# %%
import importlib.util


def code_of(key: str, folder: str):
    """The analysis module as it was when ``key`` was written, checked out to ``folder``."""
    meta = db.metadata[key]
    git("worktree", "add", "--quiet", "--detach", folder, meta["full-revisionid"])
    if meta["dirty"]:
        Path(folder, "recorded.diff").write_text(meta["diff"])
        subprocess.run(["git", "apply", "recorded.diff"], cwd=folder, check=True)
    spec = importlib.util.spec_from_file_location(f"analysis_{key}", Path(folder, "analysis.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


for key in ["rates", "rates_smoothed"]:
    recomputed = code_of(key, f"checkout_{key}").firing_rate(counts, seconds=0.5)
    print(key, "reproduced:", np.array_equal(recomputed, db[key]))
