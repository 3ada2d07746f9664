"""How the importer writes a realistic campaign: the files it creates, the partitions it
reads by, and that on a cluster of worker processes no parsed data moves between them."""

from __future__ import annotations

import math
import os
import shutil

import dask
import numpy as np
import pytest

import zdb
from zdb.db_initializers import load_simrun_general as lsg
from zdb.db_initializers.simrun_import import activation as sa
from zdb.IO import simrun_files
from zdb.synthetic import REALISTIC, generate_campaign

from .table_codecs import compressors

#: the realistic shape (375 cell types, 1,100 synapses of 270 types per trial, up to 22
#: activation times), on few short trials
SMALL_REALISTIC = {
    **REALISTIC,
    "n_folders": 2,
    "trials_per_folder": 12,
    "n_samples": 300,
    "cells_per_trial": 300,
}
#: rows per chunk of the activation tables in these tests: several chunks on few trials
CHUNK_ROWS = 4096
#: row ranges written by one task each (and stored as one shard per array)
WRITE_RANGES = 3


@pytest.fixture(scope="module")
def campaign(tmp_path_factory):
    root = tmp_path_factory.mktemp("realistic")
    return generate_campaign(root / "sim", naming="both", seed=5, **SMALL_REALISTIC)


@pytest.fixture(scope="module")
def small_chunks():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sa, "ACTIVATION_CHUNK_ROWS", CHUNK_ROWS)
        mp.setattr(sa, "TARGET_PARTITIONS", WRITE_RANGES)
        yield


@pytest.fixture(scope="module")
def imported(campaign, tmp_path_factory, registry, small_chunks):
    db = zdb.DataBase(tmp_path_factory.mktemp("imported") / "db")
    lsg.init(db, campaign.path, progress=False)
    return db


def files_under(path) -> list[str]:
    return [os.path.join(root, n) for root, _, names in os.walk(path) for n in names]


def table_root(db, key: str) -> str:
    return db.path_of(key)


def test_an_activation_table_has_a_shard_per_write_range_of_each_array_and_nothing_else(
    imported, campaign
):
    root = table_root(imported, "synapse_activation")
    nrows = campaign.n_synapse_rows
    chunk = CHUNK_ROWS // 1100 * 1100
    chunks = math.ceil(nrows / chunk)
    shards = math.ceil(chunks / math.ceil(chunks / WRITE_RANGES))
    assert 1 < shards < chunks  # the ranges hold several chunks each
    columns = len(imported["synapse_activation"].columns)
    assert columns == 6 + 22  # the fixed columns and the most times on a row
    found = files_under(root)
    data = [f for f in found if os.sep + "c" + os.sep in f and os.sep + ".zdb" + os.sep not in f]
    # every column and the index: one file (a shard of its chunks) per write range
    assert len(data) == (columns + 1) * shards
    # the two string columns' item lengths, the divisions and the metadata documents
    assert len(found) <= len(data) + 2 * shards + 4 * (columns + 10)


def test_read_partitions_hold_whole_trials_and_start_in_each_chunk(imported, campaign):
    sa_ddf = imported["synapse_activation"]
    lengths = [len(p) for p in sa_ddf.partitions]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    # every trial has 1,100 rows: chunks of whole trials, a read partition per chunk
    chunk = CHUNK_ROWS // 1100 * 1100
    assert lengths[:-1] == [chunk] * (len(lengths) - 1)
    assert (starts // chunk).tolist() == list(range(len(lengths)))
    cells = [len(p) for p in imported["cell_activation"].partitions]
    assert cells[:-1] == [CHUNK_ROWS // 300 * 300] * (len(cells) - 1)
    trial = imported["sim_trial_index"][7]
    one = sa_ddf.loc[trial]
    assert one.npartitions == 1
    assert len(one.compute()) == 1100
    index = sa_ddf.index.compute()
    assert index.is_monotonic_increasing and len(index) == campaign.n_synapse_rows


def test_a_voltage_trace_table_is_read_in_the_partitions_it_was_parsed_in(imported, campaign):
    # each result folder's file is parsed by one task; an analysis of the traces then
    # gives each folder to a task too, not the whole table to one worker
    vt = imported["voltage_traces"]
    lengths = [len(p) for p in vt.partitions]
    assert lengths == [SMALL_REALISTIC["trials_per_folder"]] * SMALL_REALISTIC["n_folders"]
    firsts = [str(d).split("/")[0] for d in vt.divisions[:-1]]
    assert firsts == sorted({str(i).split("/")[0] for i in vt.index.compute()})


def test_trials_of_different_lengths_are_read_in_partitions_starting_in_each_chunk(
    campaign, tmp_path, registry, small_chunks
):
    source = tmp_path / "sim"
    shutil.copytree(campaign.path, source)
    rng = np.random.default_rng(0)
    for path in sorted(source.glob("*[0-9]/simulation_run*_synapses.csv")):
        lines = path.read_text().splitlines(keepends=True)
        keep = rng.integers(200, len(lines))
        path.write_text("".join(lines[:keep]))
    db = zdb.DataBase(tmp_path / "db")
    lsg.init(db, source, parameterfiles=False, dendritic_voltage_traces=False, progress=False)
    table = db["synapse_activation"]
    lengths = [len(p) for p in table.partitions]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    assert (starts // CHUNK_ROWS).tolist() == list(range(len(lengths)))
    rows = sum(
        len(simrun_files.read_synapse_activation(p))
        for p in source.glob("*[0-9]/simulation_run*_synapses.csv")
    )
    assert len(table.compute()) == rows == sum(lengths)
    assert table.compute().index.is_monotonic_increasing


def test_the_tables_hold_the_files_rows(imported, campaign):
    folder = campaign.folders[1]
    trial = f"{folder.path.name}/{folder.trials[3]:06d}"
    table = imported["synapse_activation"].loc[trial].compute()
    file = simrun_files.trial_file(folder.path, folder.trials[3], "synapses")
    raw = simrun_files.read_synapse_activation(file, 22)
    assert table["synapse_type"].tolist() == raw["synapse_type"].tolist()
    np.testing.assert_array_equal(table.iloc[:, 6:].to_numpy(), raw.iloc[:, 6:].to_numpy())
    cells = imported["cell_activation"]
    assert len(cells) == campaign.n_cell_rows
    vt = imported.get("voltage_traces", lazy=False)
    assert vt.shape == (campaign.n_trials, SMALL_REALISTIC["n_samples"])
    spikes = imported["spike_times"]
    assert spikes.index.tolist() == vt.index.tolist()


def test_on_worker_processes_no_parsed_data_moves_between_workers(
    campaign, tmp_path, registry, small_chunks
):
    from distributed import Client, LocalCluster

    # work stealing may move a task to an idle worker on a busy machine whatever the
    # graph; without it, where each task runs follows from the graph alone
    with (
        dask.config.set({"distributed.scheduler.work-stealing": False}),
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster, set_as_default=False) as client,
    ):
        db = zdb.DataBase(tmp_path / "db")
        lsg.init(db, campaign.path, client=client, parameterfiles=False, progress=False)

        def incoming(dask_worker) -> list[str]:
            return [str(k) for entry in dask_worker.transfer_incoming_log for k in entry["keys"]]

        moved = [k for keys in client.run(incoming).values() for k in keys]
        ran = client.run(lambda dask_worker: len(dask_worker.data) >= 0)
    assert len(ran) == 2
    # every partition is parsed, made a frame and written by the same worker
    assert moved == []
    assert len(db["synapse_activation"]) == campaign.n_synapse_rows
    assert db.get("voltage_traces", lazy=False).shape[0] == campaign.n_trials


def test_activation_compressors_are_chosen_from_rows_of_files_spread_over_the_campaign(
    imported,
):
    found = compressors(table_root(imported, "synapse_activation"))
    # sorted identifiers compress best as byte planes (Blosc's shuffle)
    assert found["synapse_ID"] == found["section_ID"] == "blosc"
    # the later time columns, mostly NaN, in far fewer bytes with zstd alone, as a
    # pandas write of the table chooses too (without the sample: all Blosc)
    later = [str(i) for i in range(2, 22)]
    assert all(found[c] == "zstd" for c in later), found


def test_the_compressor_sample_reads_its_rows_from_files_spread_evenly_over_the_campaign(
    monkeypatch,
):
    read = {}

    def rows_of(sources, rows, kind, width, skip, nrows):  # noqa: ANN001, ANN202
        read.update(sources=sources, rows=rows, nrows=nrows)

    monkeypatch.setattr(sa, "activation_rows", rows_of)
    sources = [(f"f{i}", f"trial {i}") for i in range(100)]
    sa._sample(sources, np.full(100, 1000), "synapses", 22)
    picked = [int(path[1:]) for path, _ in read["sources"]]
    assert len(picked) == math.ceil(sa.SAMPLE_ROWS / 1000)
    assert picked[0] == 0 and picked[-1] == 99
    assert np.diff(picked).max() - np.diff(picked).min() <= 1  # evenly spread
    assert read["nrows"] == sum(read["rows"]) == 1000 * len(picked)
    sa._sample(sources[:5], np.full(5, 1000), "synapses", 22)  # fewer rows than wanted
    assert [path for path, _ in read["sources"]] == [f"f{i}" for i in range(5)]
