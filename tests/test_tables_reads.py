"""What reading part of a table costs in store requests, and which compressor each
column gets: the invariants behind reading a few columns as fast as Parquet does."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import numcodecs
import numpy as np
import pandas as pd
import pytest

import zdb
from zdb import zarr_codec
from zdb.exceptions import DataBaseException
from zdb.storage import LocalStore
from zdb.tables import zarr_layout
from zdb.tables.codecs import BLOSC_BLOCK_BYTES, BLOSC_BLOCK_BYTES_2D

from .table_codecs import compressors


class CountingStore(LocalStore):
    """A local store that records the path of every read, as a wrapper around an
    object store would count its GET requests."""

    def __init__(self, root) -> None:  # noqa: ANN001
        super().__init__(root)
        self.reads: list[str] = []
        self._lock = threading.Lock()

    def read_bytes(self, path: str) -> bytes:
        with self._lock:
            self.reads.append(path)
        return super().read_bytes(path)


def _frame(rows: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "kind": pd.Categorical.from_codes(rng.integers(0, 3, rows), ["a", "b", "c"]),
            "ids": rng.integers(0, 50, rows),
            "x": rng.integers(0, 400, rows) * 0.025,
            "y": rng.normal(size=rows),
            "z": np.arange(rows, dtype=np.float32),
        }
    )


@pytest.fixture
def stored(tmp_path):
    store = CountingStore(tmp_path)
    frame = _frame()
    zarr_layout.write_table(store, "t", frame, chunk_rows=100)
    store.reads.clear()
    return store, frame


def _chunks(reads: list[str]) -> list[str]:
    return sorted(p for p in reads if "/c/" in p)


def test_reading_k_columns_gets_the_group_document_and_their_chunks_only(stored):
    store, frame = stored
    back = zarr_layout.StoredTable(store, "t").read(columns=["x", "ids"])
    pd.testing.assert_frame_equal(back, frame[["x", "ids"]])
    want = sorted(f"t/{name}/c/{k}" for name in ("x", "ids") for k in range(10))
    assert _chunks(store.reads) == want
    assert sorted(set(store.reads) - set(want)) == ["t/zarr.json"]
    assert len(store.reads) == len(want) + 1  # nothing is read twice


def test_a_categorical_column_also_reads_its_categories_once(stored):
    store, frame = stored
    back = zarr_layout.StoredTable(store, "t").read(columns=["kind"])
    pd.testing.assert_frame_equal(back, frame[["kind"]])
    chunks = _chunks(store.reads)
    assert chunks == sorted(
        [f"t/kind/c/{k}" for k in range(10)]
        + ["t/.zdb/kind/categories/values/c/0", "t/.zdb/kind/categories/lengths/c/0"]
    )
    assert len(store.reads) == len(chunks) + 1


def test_a_row_range_of_a_few_columns_reads_only_the_chunks_holding_it(stored):
    store, frame = stored
    back = zarr_layout.StoredTable(store, "t").read(rows=(250, 420), columns=["y", "z"])
    pd.testing.assert_frame_equal(back, frame[["y", "z"]].iloc[250:420])
    want = sorted(f"t/{name}/c/{k}" for name in ("y", "z") for k in (2, 3, 4))
    assert _chunks(store.reads) == want
    assert len(store.reads) == len(want) + 1


def test_a_row_range_of_a_block_reads_only_the_chunks_holding_it(tmp_path):
    store = CountingStore(tmp_path)
    block = pd.DataFrame(np.random.default_rng(2).normal(size=(60, 120)))
    zarr_layout.write_table(store, "b", block, layout="block", chunk_rows=10)
    store.reads.clear()
    back = zarr_layout.StoredTable(store, "b").read(rows=(15, 25), columns=[3, 7])
    pd.testing.assert_frame_equal(back, block.iloc[15:25, [3, 7]])
    assert _chunks(store.reads) == ["b/columns/c/0", "b/data/c/1/0", "b/data/c/2/0"]


def _times(rng: np.random.Generator, rows: int, present: float) -> np.ndarray:
    """Activation times in a 10 ms window on a 0.025 ms grid, NaN but for ``present`` of
    the rows."""
    times = 100 + rng.integers(0, 400, rows) * 0.025
    times[rng.random(rows) > present] = np.nan
    return times


def test_numbers_are_blosc_compressed_unless_zstd_stores_them_in_clearly_fewer_bytes(tmp_path):
    rng = np.random.default_rng(3)
    rows = 200_000
    frame = pd.DataFrame(
        {
            "grid": rng.integers(0, 10_000, rows) * 0.025,  # few values: Blosc is smaller
            "ids": rng.integers(0, 5000, rows),
            "noise": np.round(rng.uniform(0, 1500, rows), 3),  # low bytes random: zstd
            "sparse": _times(rng, rows, 0.1),  # mostly NaN: zstd
            "code": rng.integers(0, 3, rows).astype(np.int8),  # one byte: zstd
            "name": rng.choice(["a", "b"], rows).astype(object),
        }
    )
    db = zdb.DataBase(tmp_path / "db")
    db["t"] = frame
    pd.testing.assert_frame_equal(db["t"], frame)
    codecs = compressors(Path(db.path_of("t")))
    assert codecs["grid"] == codecs["ids"] == "blosc"
    assert codecs["noise"] == codecs["sparse"] == codecs["code"] == codecs["name"] == "zstd"
    meta = json.loads((Path(db.path_of("t")) / "grid" / "zarr.json").read_text())
    assert meta["codecs"][-1]["configuration"]["blocksize"] == BLOSC_BLOCK_BYTES
    assert zarr_codec.chunk_kind(meta, blosc=True) == "bytes"
    assert zarr_codec.chunk_kind(meta) is None  # callers that decode zstd only


def test_a_dask_write_blosc_compresses_every_numeric_column(tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    frame = _frame()
    db = zdb.DataBase(tmp_path / "db")
    db["t"] = dd.from_pandas(frame, npartitions=3)
    pd.testing.assert_frame_equal(db["t"].compute(scheduler="sync"), frame)
    codecs = compressors(Path(db.path_of("t")))
    assert codecs["ids"] == codecs["x"] == codecs["y"] == codecs["z"] == "blosc"
    assert codecs["kind"] == "zstd"


def test_a_dask_write_given_a_sample_chooses_compressors_as_a_pandas_write(tmp_path):
    dd = pytest.importorskip("dask.dataframe")
    rng = np.random.default_rng(9)
    rows = 50_000
    frame = pd.DataFrame(
        {
            "ids": np.sort(rng.integers(0, 50_000, rows)),
            "sparse": _times(rng, rows, 0.1),
            "noise": np.round(rng.uniform(0, 1500, rows), 3),
        }
    )
    db = zdb.DataBase(tmp_path / "db")
    db["pandas"] = frame
    db.set("dask", dd.from_pandas(frame, npartitions=4), sample=frame)
    pd.testing.assert_frame_equal(db["dask"].compute(scheduler="sync"), frame)
    from_pandas = compressors(Path(db.path_of("pandas")))
    from_dask = compressors(Path(db.path_of("dask")))
    assert {k: from_dask[k] for k in frame} == {k: from_pandas[k] for k in frame}
    assert from_dask["sparse"] == from_dask["noise"] == "zstd"  # without a sample: blosc
    with pytest.raises(zdb.exceptions.UnsupportedValueError, match="sample="):
        db.set("wrong", dd.from_pandas(frame, npartitions=2), sample=frame[["ids"]])
    with pytest.raises(zdb.exceptions.UnsupportedValueError, match="pandas DataFrame"):
        db.set("wrong", dd.from_pandas(frame, npartitions=2), sample=frame.to_numpy())
    assert "wrong" not in db


def test_blosc_table_columns_read_through_zarr_python_as_well(tmp_path):
    zarr = pytest.importorskip("zarr")
    frame = _frame()
    db = zdb.DataBase(tmp_path / "db")
    db["t"] = frame
    group = zarr.open_group(db.path_of("t"), mode="r")
    assert compressors(Path(db.path_of("t")))["y"] == "blosc"
    np.testing.assert_array_equal(group["y"][:], frame["y"].to_numpy())
    np.testing.assert_array_equal(group["ids"][:], frame["ids"].to_numpy())


def test_a_block_of_few_rows_per_chunk_gets_chunks_of_more_columns(tmp_path):
    store = CountingStore(tmp_path)
    block = pd.DataFrame(np.random.default_rng(4).normal(size=(12, 3000)))
    zarr_layout.write_table(store, "b", block, layout="block", chunk_rows=6)
    meta = json.loads((tmp_path / "b" / "data" / "zarr.json").read_text())
    assert zarr_codec.chunk_shape(meta) == (6, 3000)  # not 256 columns: 2 files, not 24
    store.reads.clear()
    back = zarr_layout.StoredTable(store, "b").read(rows=(7, 9), columns=[5, 2999])
    pd.testing.assert_frame_equal(back, block.iloc[7:9, [5, 2999]])
    assert _chunks(store.reads) == ["b/columns/c/0", "b/data/c/1/0"]


def test_a_block_is_blosc_compressed_in_smaller_blocks_than_a_column(tmp_path):
    block = pd.DataFrame(np.random.default_rng(5).integers(-4000, 2000, (40, 300)) * 0.025)
    zarr_layout.write_table(LocalStore(tmp_path), "b", block, layout="block")
    meta = json.loads((tmp_path / "b" / "data" / "zarr.json").read_text())
    assert meta["codecs"][-1]["name"] == "blosc"
    assert meta["codecs"][-1]["configuration"]["blocksize"] == BLOSC_BLOCK_BYTES_2D
    assert BLOSC_BLOCK_BYTES_2D < BLOSC_BLOCK_BYTES
    pd.testing.assert_frame_equal(zarr_layout.StoredTable(LocalStore(tmp_path), "b").read(), block)


def test_numeric_columns_are_read_into_slabs_of_one_dtype(tmp_path, monkeypatch):
    rng = np.random.default_rng(6)
    frame = pd.DataFrame({f"t{i}": rng.uniform(0, 50, 1000) for i in range(5)})
    frame["n"] = rng.integers(0, 9, 1000)
    frame["s"] = rng.choice(["a", "b"], 1000).astype(object)
    frame["m"] = pd.array(rng.integers(0, 9, 1000), dtype="Int64")
    frame["t5"] = rng.uniform(0, 50, 1000)
    zarr_layout.write_table(LocalStore(tmp_path), "t", frame)
    monkeypatch.setattr(zarr_layout, "SLAB_BYTES", 3 * 1000 * 8)  # 3 columns a slab
    back = zarr_layout.StoredTable(LocalStore(tmp_path), "t").read(rows=(0, 1000))
    pd.testing.assert_frame_equal(back, frame)
    floats = [back[f"t{i}"].to_numpy().base for i in (0, 1, 2, 3, 4, 5)]
    assert isinstance(floats[0], np.ndarray) and isinstance(floats[3], np.ndarray)
    assert floats[0] is floats[1] is floats[2] and floats[3] is floats[4] is floats[5]
    assert floats[0].shape == (3, 1000) and floats[0] is not floats[3]
    assert back["n"].to_numpy().base.shape == (1, 1000)  # an int64 slab of its own


def test_string_lengths_reaching_beyond_their_chunk_raise_naming_the_file(tmp_path):
    store = LocalStore(tmp_path)
    frame = pd.DataFrame({"s": pd.array(["ab", "cde", "f"], dtype="str")})
    zarr_layout.write_table(store, "t", frame)
    too_long = np.array([2, 3, 1_000_000], "<u4").tobytes()
    (tmp_path / "t/.zdb/s/lengths/c/0").write_bytes(numcodecs.Zstd().encode(too_long))
    with pytest.raises(DataBaseException, match=r"t/s/c/0.*damaged"):
        zarr_layout.StoredTable(store, "t").read()


def test_a_blosc_chunk_of_another_size_raises_and_never_shows_an_earlier_chunk(tmp_path):
    import dask.dataframe as dd

    from zdb.tables import dask_frames

    store = LocalStore(tmp_path)
    frame = pd.DataFrame(np.linspace(-70, 20, 240).reshape(40, 6), columns=list("abcdef"))
    for name in ("first", "second"):
        ddf = dd.from_pandas(frame, npartitions=2)
        dask_frames.write_zarr(store, name, ddf, chunk_rows=10, layout="block")
    chunk = tmp_path / "second/data/c/1/0"
    assert zarr_codec.blosc_nbytes(chunk.read_bytes()) == 10 * 6 * 8
    # a valid Blosc chunk holding fewer values than the array's chunks
    chunk.write_bytes(numcodecs.Blosc(cname="zstd").encode(np.arange(12.0).tobytes()))
    # the first table's chunks decoded into the reused buffers
    pd.testing.assert_frame_equal(zarr_layout.StoredTable(store, "first").read(), frame)
    with pytest.raises(ValueError):
        zarr_layout.StoredTable(store, "second").read()
