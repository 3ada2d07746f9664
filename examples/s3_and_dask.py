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
# # A database on S3, written by a dask cluster
#
# A campaign's jobs write their results into one database at once, and the analysis
# reads them from elsewhere. Here the database lives in an S3 bucket and the two
# workers of a dask cluster write it (threads of this process, so that the notebook
# starts fast; on a real cluster, processes on many machines: the code is the same).
# So that the notebook runs offline, the S3 endpoint is
# moto's S3 server on this machine (`_s3.py` beside this notebook starts it on a
# loopback port and stops it); with a real object store, pass its URL and
# credentials as `storage_options` instead.

# %%
import os

# no progress bars on this rendered page (long dask writes show one in a notebook)
os.environ["ZDB_PROGRESS"] = "0"

import dask.array as da
import numpy as np
import pandas as pd
from _s3 import LocalS3
from dask.distributed import Client, LocalCluster

import zdb
from zdb.cli import main as zdb_command

s3 = LocalS3()
OPTIONS = s3.storage_options  # fsspec's s3fs options: endpoint_url, key, secret, ...
URL = s3.make_bucket("lab") + "/campaign"
cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None)
client = Client(cluster)
db = zdb.DataBase(URL, storage_options=OPTIONS)
db

# %% [markdown]
# ## Many writers
#
# Each task opens the database by its URL and writes its own key; writers never
# interfere, and each key is committed atomically: a reader sees a complete value or
# none.


# %%
def run_trial(i: int) -> str:
    """A stand-in for a simulation: write one trial's result into the database."""
    rng = np.random.default_rng(i)
    trials = zdb.DataBase(URL, storage_options=OPTIONS)
    trials["trials", f"{i:03d}"] = pd.DataFrame(
        {"t": np.sort(rng.uniform(0, 300, 20)), "cell": rng.integers(0, 50, 20)}
    )
    return f"{i:03d}"


written = client.gather(client.map(run_trial, range(8)))
print(written)
print(sorted(db["trials"].keys()))

# %% [markdown]
# ## Dask arrays and frames
#
# `db[key] = dask_array` (or a dask dataframe) is written by the workers straight into
# the bucket, each task writing whole chunks: the value is never gathered in one
# process. Reading it back lazily gives a dask array computed on the cluster again.

# %%
vm = da.random.default_rng(0).normal(-70, 5, size=(8, 10_000), chunks=(2, 10_000))
db["vm"] = vm
lazy = db.get("vm", lazy=True)
print(lazy)
print("mean membrane potential:", float(lazy.mean().compute()))

frame = pd.DataFrame({"trial": np.repeat(np.arange(8), 100), "v": np.linspace(-80, 20, 800)})
db["samples"] = frame  # a pandas frame: a Zarr array per column
print(db.get("samples", columns=["v"]).describe().loc[["mean", "max"]])

# %% [markdown]
# ## The same database from the command line
#
# Every `zdb` command takes the URL and the fsspec options as `--storage-option`.
# `zdb.cli.main` runs a command in this process, as `zdb ls ...` would on a shell.

# %%
print(" ".join(["zdb", "ls", URL, "--long", *s3.cli_options()]))
status = zdb_command(["ls", URL, "--long", *s3.cli_options()])  # 0: done

# %% [markdown]
# ## Taking it home
#
# `zdb export` (or `zdb.export_zip`) writes a database to a zip archive, which zdb
# opens read-only like any database; `zdb fsck` checks every key.

# %%
status = zdb_command(["export", URL, "campaign.zip", *s3.cli_options()])
archive = zdb.DataBase("campaign.zip")
print(sorted(archive.keys()), archive["vm"].shape)
print("exit status of zdb fsck:", zdb_command(["fsck", "campaign.zip"]))

# %% [markdown]
# Stop the cluster and the S3 server.

# %%
client.close()
cluster.close()
s3.stop()
print("S3 server stopped:", s3.process.poll() is not None)
