"""Tables whose row arrays are stored in Zarr shards (``shard_rows``): what they read
back, what zarr-python makes of them and they of zarr-python's, how few files and
requests they cost, and how a damaged shard is reported."""

from __future__ import annotations

import json
import threading

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import zarr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zdb import zarr_codec, zarr_shards
from zdb.exceptions import DataBaseException, UnsupportedValueError
from zdb.storage import LocalStore
from zdb.tables import chunk_files, dask_frames, zarr_layout


class CountingStore(LocalStore):
    """A local store recording every read: whole files and ranges."""

    def __init__(self, root) -> None:  # noqa: ANN001
        super().__init__(root)
        self.reads: list[tuple[str, int | None, int | None]] = []
        self._lock = threading.Lock()

    def read_bytes(self, path: str) -> bytes:
        with self._lock:
            self.reads.append((path, None, None))
        return super().read_bytes(path)

    def read_range(self, path: str, start: int, stop: int | None = None) -> bytes:
        with self._lock:
            self.reads.append((path, start, stop))
        return super().read_range(path, start, stop)


def _frame(rows: int) -> pd.DataFrame:
    rng = np.random.default_rng(rows)
    return pd.DataFrame(
        {
            "x": rng.normal(size=rows),
            "n": rng.integers(0, 9, rows),
            "s": pd.array([f"s{i % 13}" for i in range(rows)], dtype="str"),
            "maybe": np.where(np.arange(rows) % 7 == 0, np.nan, 1.5),
            "kind": pd.Categorical([f"k{i % 3}" for i in range(rows)]),
            # missing in the first rows only: the later shards of its mask are left out
            "count": pd.array([None if i < 3 else i for i in range(rows)], dtype="Int64"),
        },
        index=pd.Index([f"trial{i:06d}" for i in range(rows)], dtype="str", name="trial"),
    )


def _write(store, frame: pd.DataFrame, npartitions: int, chunk_rows: int, shard_rows: int):
    ddf = dd.from_pandas(frame, npartitions=npartitions, sort=True)
    dask_frames.write_zarr(
        store, "t", ddf, chunk_rows=chunk_rows, shard_rows=shard_rows, scheduler="sync"
    )
    return ddf.compute()


def _row_arrays(store) -> list[str]:
    table = zarr_layout.StoredTable(store, "t")
    return [p for p, meta in table.metas.items() if meta.get("node_type") == "array"]


def test_a_sharded_table_reads_back_whole_by_rows_and_by_columns(tmp_path):
    store = LocalStore(tmp_path)
    expected = _write(store, _frame(1000), npartitions=3, chunk_rows=50, shard_rows=200)
    table = zarr_layout.StoredTable(store, "t")
    pd.testing.assert_frame_equal(table.read(), expected)
    pd.testing.assert_frame_equal(table.read(rows=(130, 777)), expected.iloc[130:777])
    pd.testing.assert_frame_equal(table.read(columns=["s", "x"]), expected[["s", "x"]])
    lazy = dask_frames.read_lazy(store, "t")
    pd.testing.assert_frame_equal(lazy.compute(scheduler="sync"), expected)


def test_every_row_array_is_a_shard_file_per_shard_rows(tmp_path):
    store = LocalStore(tmp_path)
    _write(store, _frame(1000), npartitions=5, chunk_rows=50, shard_rows=200)
    table = zarr_layout.StoredTable(store, "t")
    sharded = [p for p in _row_arrays(store) if zarr_codec.shard_shape(table.meta(p))]
    assert {"x", "n", "s", "maybe", "kind", "count"} <= set(sharded)
    masks = [p for p in sharded if p.endswith("count/mask")]
    assert masks and store.list_dir(f"t/{masks[0]}/c") == ["0"]
    for path in ("x", "n", "s", "kind"):
        assert zarr_codec.shard_shape(table.meta(path)) == (200,)
        assert zarr_codec.chunk_shape(table.meta(path)) == (50,)
        assert sorted(store.list_dir(f"t/{path}/c"), key=int) == [str(k) for k in range(5)]


def test_zarr_python_reads_the_shards_zdb_writes(tmp_path):
    store = LocalStore(tmp_path)
    expected = _write(store, _frame(930), npartitions=4, chunk_rows=40, shard_rows=160)
    group = zarr.open_group(str(tmp_path / "t"), mode="r")
    assert group["x"].shards == (160,) and group["x"].chunks == (40,)
    np.testing.assert_array_equal(group["x"][:], expected["x"].to_numpy())
    np.testing.assert_array_equal(group["n"][:], expected["n"].to_numpy())
    assert list(group["s"][:]) == expected["s"].tolist()


def test_zdb_reads_the_shards_zarr_python_writes_empty_chunks_and_the_edge_too(tmp_path):
    data = np.arange(1000, dtype=np.float64)
    data[200:300] = 0  # a chunk of fill values only: left out of its shard
    zarr.create_array(
        str(tmp_path / "a"),
        shape=data.shape,
        chunks=(100,),
        shards=(400,),
        dtype="float64",
        compressors=[zarr.codecs.ZstdCodec(level=3)],
        fill_value=0.0,
    )[:] = data
    store = LocalStore(tmp_path)
    doc = json.loads(store.read_bytes("a/zarr.json"))
    assert zarr_codec.chunk_kind(doc, sharded=True) == "bytes"
    assert zarr_codec.chunk_kind(doc) is None  # other readers take zarr-python's way
    read = zarr_layout._plan_read(store, "", "a", doc, (150, 950), zarr_layout.AS_IS)
    for job in read.jobs:
        job()
    np.testing.assert_array_equal(read.out, data[150:950])


def _x_reads(store: CountingStore) -> list[tuple[str, int | None, int | None]]:
    return [r for r in store.reads if r[0].startswith("t/x/")]


def _read_rows_410_to_470(tmp_path) -> tuple[CountingStore, zarr_layout.StoredTable, pd.DataFrame]:
    """A sharded table (shards of 4 chunks of 50 rows), rows 410 to 470 of its column
    ``x`` read (the reads recorded: those of that read only)."""
    store = CountingStore(tmp_path)
    expected = _write(store, _frame(1000), npartitions=5, chunk_rows=50, shard_rows=200)
    table = zarr_layout.StoredTable(store, "t")
    store.reads.clear()
    back = table.read(rows=(410, 470), columns=["x"])
    pd.testing.assert_frame_equal(back, expected.iloc[410:470][["x"]])
    return store, table, expected


def test_a_small_shard_is_one_request_and_then_its_index_is_known(tmp_path):
    store, table, expected = _read_rows_410_to_470(tmp_path)
    # the shard is smaller than the tail read first: index and chunks in one request
    assert _x_reads(store) == [("t/x/c/2", -chunk_files.SHARD_TAIL_BYTES, None)]
    store.reads.clear()
    pd.testing.assert_frame_equal(
        table.read(rows=(400, 420), columns=["x"]), expected.iloc[400:420][["x"]]
    )
    (path, start, stop), *more = _x_reads(store)
    assert path == "t/x/c/2" and start >= 0 and stop is not None and not more


def test_a_large_shard_is_read_by_its_index_and_the_range_of_the_chunks_needed(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(chunk_files, "SHARD_TAIL_BYTES", 1)
    store, table, _ = _read_rows_410_to_470(tmp_path)
    (p1, s1, e1), (p2, s2, e2) = _x_reads(store)
    assert (p1, s1, e1) == ("t/x/c/2", -zarr_shards.index_bytes(4), None)
    assert p2 == "t/x/c/2" and 0 <= s2 < e2 < (tmp_path / "t/x/c/2").stat().st_size
    store.reads.clear()
    table.read(rows=(400, 420), columns=["x"])
    assert len(_x_reads(store)) == 1  # the index is known now


def test_shard_rows_that_are_not_whole_chunks_are_refused(tmp_path):
    ddf = dd.from_pandas(_frame(100), npartitions=2)
    with pytest.raises(UnsupportedValueError, match="multiple of"):
        dask_frames.write_zarr(LocalStore(tmp_path), "t", ddf, chunk_rows=30, shard_rows=45)


def test_a_damaged_shard_index_raises_naming_the_file(tmp_path):
    store = LocalStore(tmp_path)
    _write(store, _frame(400), npartitions=2, chunk_rows=50, shard_rows=200)
    path = tmp_path / "t" / "x" / "c" / "1"
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF
    path.write_bytes(bytes(raw))
    chunk_files.indexes.clear()
    with pytest.raises(DataBaseException, match=r"t/x/c/1.*damaged"):
        zarr_layout.StoredTable(store, "t").read(columns=["x"])


def test_a_shard_index_pointing_beyond_the_file_raises(tmp_path):
    store = LocalStore(tmp_path)
    _write(store, _frame(400), npartitions=2, chunk_rows=50, shard_rows=200)
    path = tmp_path / "t" / "x" / "c" / "0"
    raw = path.read_bytes()
    size = zarr_shards.index_bytes(4)
    index = np.frombuffer(raw[-size:-4], "<u8").reshape(4, 2).copy()
    index[1] = (2**63, 10)  # far beyond the end, and wrapping when added in uint64
    path.write_bytes(raw[:-size] + _index(index))
    chunk_files.indexes.clear()
    with pytest.raises(DataBaseException, match="damaged"):
        zarr_layout.StoredTable(store, "t").read(columns=["x"])


def _index(index: np.ndarray) -> bytes:
    import numcodecs

    return bytes(numcodecs.CRC32C().encode(index.astype("<u8").tobytes()))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.integers(1, 400),
    chunk=st.integers(1, 60),
    per_shard=st.integers(1, 5),
    npartitions=st.integers(1, 6),
    start=st.integers(0, 400),
    length=st.integers(0, 400),
)
def test_any_sharding_reads_back_any_row_range(
    tmp_path_factory, rows, chunk, per_shard, npartitions, start, length
):
    store = LocalStore(tmp_path_factory.mktemp("shards"))
    expected = _write(store, _frame(rows), npartitions, chunk, chunk * per_shard)
    table = zarr_layout.StoredTable(store, "t")
    lo = min(start, rows)
    hi = min(rows, lo + length)
    pd.testing.assert_frame_equal(table.read(rows=(lo, hi)), expected.iloc[lo:hi])


@pytest.mark.parametrize("tail", ["whole", "index_first"])
def test_the_dumper_takes_shard_rows_and_the_database_reads_it_anywhere(db, tail, monkeypatch):
    if tail == "index_first":  # every shard read by its index, then a range
        monkeypatch.setattr(chunk_files, "SHARD_TAIL_BYTES", 1)
    frame = _frame(600)
    ddf = dd.from_pandas(frame, npartitions=3, sort=True)
    db.set("t", ddf, dumper="dask_to_zarr", chunk_rows=100, shard_rows=200)
    expected = ddf.compute()
    pd.testing.assert_frame_equal(db.get("t", lazy=False), expected)
    lazy = db["t"]
    pd.testing.assert_frame_equal(
        lazy.loc["trial000250":"trial000420"].compute(), expected.loc["trial000250":"trial000420"]
    )
    view = db.get("t", as_xarray=True)
    np.testing.assert_array_equal(view["x"].values, frame["x"].to_numpy())


def test_a_2d_block_is_sharded_by_rows_and_reads_any_rows_and_columns(tmp_path):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(3000, 600)), columns=np.arange(600) * 0.025)
    store = LocalStore(tmp_path)
    ddf = dd.from_pandas(frame, npartitions=3, sort=True)
    dask_frames.write_zarr(store, "t", ddf, chunk_rows=250, shard_rows=1000, scheduler="sync")
    table = zarr_layout.StoredTable(store, "t")
    block = table.table["block"]["array"]
    assert zarr_codec.shard_shape(table.meta(block))[0] == 1000
    column_chunks = -(-600 // zarr_codec.chunk_shape(table.meta(block))[1])
    assert column_chunks > 1
    assert len(store.files(f"t/{block}/c")) == 3 * column_chunks  # a shard per row range
    pd.testing.assert_frame_equal(table.read(), frame)
    cols = [3, 300, 599]
    back = table.read(rows=(600, 2400), columns=frame.columns[cols])
    pd.testing.assert_frame_equal(back, frame.iloc[600:2400, cols])


def test_a_string_chunk_left_out_of_its_shard_reads_as_empty_strings(tmp_path):
    store = LocalStore(tmp_path)
    expected = _write(store, _frame(400), npartitions=2, chunk_rows=50, shard_rows=200)
    for path in ("t/s/c/0", "t/.zdb/s/lengths/c/0"):  # chunk 1 (rows 50 to 99) left out
        raw = (tmp_path / path).read_bytes()
        size = zarr_shards.index_bytes(4)
        index = np.frombuffer(raw[-size:-4], "<u8").reshape(4, 2).copy()
        index[1] = zarr_shards.EMPTY
        (tmp_path / path).write_bytes(raw[:-size] + _index(index))
    chunk_files.indexes.clear()
    want = expected["s"].copy()
    want[50:100] = ""
    table = zarr_layout.StoredTable(store, "t")
    pd.testing.assert_series_equal(table.read(columns=["s"])["s"], want)
    pd.testing.assert_series_equal(table.read((60, 120), ["s"])["s"], want[60:120])
