"""pandas' removed msgpack format, as ISF's isf_pandas_msgpack wrote it: frames, series,
indexes and arrays come back with their dtypes, categories and names; damaged bytes
raise a ValueError that names the damage."""

from __future__ import annotations

import msgpack
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from zdb.legacy.msgpack_format import read_msgpack
from zdb.testing.isf_writer import pack_pandas_msgpack


def _objects(values: list) -> pd.Index:
    """An object index, as pandas 1.x made of strings (pandas >= 3 makes str ones)."""
    return pd.Index(values, dtype=object)


def isf_frame(n: int = 6) -> pd.DataFrame:
    """A frame of the dtypes ISF's tables held, built as pandas 1.1 built it."""
    frame = pd.DataFrame(
        {
            "sim_trial": pd.Series([f"run/{i:06d}" for i in range(n)], dtype=object),
            "cell_type": pd.Categorical(_objects(["L5tt", "VPM", "L5tt", "L2", "VPM", "L5tt"][:n])),
            "spike_count": np.arange(n, dtype="int64"),
            "soma_distance": np.linspace(0.0, 1.0, n),
            "weight": np.arange(n, dtype="float32"),
            "active": np.arange(n) % 2 == 0,
            "written": pd.date_range("2020-01-01", periods=n, unit="ns"),
            "local": pd.date_range("2020-01-01", periods=n, tz="Europe/Berlin", unit="ns"),
        }
    )
    frame.columns = _objects(list(frame.columns))
    frame.index.name = "sim_trial_index"
    return frame


@pytest.mark.parametrize("compress", ["blosc", "zlib", None])
@pytest.mark.parametrize("range_bounds", [False, True])
def test_a_frame_comes_back_with_its_dtypes_categories_and_index_name(compress, range_bounds):
    frame = isf_frame()
    out = read_msgpack(pack_pandas_msgpack(frame, compress, range_bounds))
    pd.testing.assert_frame_equal(out, frame, check_index_type=True)
    assert list(out["cell_type"].cat.categories) == ["L2", "L5tt", "VPM"]


def test_blocks_are_compressed_with_blosc_as_isf_wrote_them():
    frame = pd.DataFrame({"x": np.zeros(10_000)})
    packed = pack_pandas_msgpack(frame)
    assert len(packed) < 2_000  # 80,000 bytes of zeros: compressed
    doc = msgpack.unpackb(packed, raw=False, strict_map_key=False)
    block = doc["blocks"][0]
    assert block["compress"] == "blosc" and isinstance(block["values"], msgpack.ExtType)
    assert block["values"].code == 0 and block["klass"] == "FloatBlock"


def test_a_range_index_written_without_bounds_takes_the_length_of_the_data():
    frame = pd.DataFrame({"x": np.arange(7.0)})
    frame.columns = _objects(["x"])
    doc = msgpack.unpackb(pack_pandas_msgpack(frame), raw=False, strict_map_key=False)
    assert doc["axes"][1]["start"] is None  # as pandas 1.x wrote it through the fork
    pd.testing.assert_frame_equal(read_msgpack(pack_pandas_msgpack(frame)), frame)


@pytest.mark.parametrize(
    "index",
    [
        ["sim_trial"],
        ["cell_type"],
        ["sim_trial", "spike_count"],
        ["written"],
    ],
)
def test_indexes_of_every_kind_come_back(index):
    frame = isf_frame().set_index(index)
    pd.testing.assert_frame_equal(read_msgpack(pack_pandas_msgpack(frame)), frame)


def test_series_and_arrays_come_back():
    series = pd.Series(np.arange(5.0), index=_objects(list("abcde")), name="vm")
    pd.testing.assert_series_equal(read_msgpack(pack_pandas_msgpack(series)), series)
    categories = pd.Series(pd.Categorical(_objects(list("xyx"))), name="c")
    pd.testing.assert_series_equal(read_msgpack(pack_pandas_msgpack(categories)), categories)
    array = np.random.default_rng(0).random((3, 4))
    np.testing.assert_array_equal(read_msgpack(pack_pandas_msgpack(array)), array)


def test_an_empty_frame_comes_back():
    frame = pd.DataFrame({"x": np.array([], dtype=float)})
    frame.columns = _objects(["x"])
    out = read_msgpack(pack_pandas_msgpack(frame))
    assert out.shape == (0, 1) and out["x"].dtype == np.float64


def test_a_file_of_several_objects_reads_as_a_list():
    data = pack_pandas_msgpack(np.arange(3)) + pack_pandas_msgpack(np.arange(2.0))
    first, second = read_msgpack(data)
    np.testing.assert_array_equal(first, np.arange(3))
    np.testing.assert_array_equal(second, np.arange(2.0))


@settings(max_examples=40, deadline=None)
@given(
    ints=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=30),
    words=st.lists(st.text(max_size=8), min_size=1, max_size=30),
    compress=st.sampled_from(["blosc", "zlib", None]),
)
def test_any_frame_of_ints_floats_and_strings_comes_back(ints, words, compress):
    n = min(len(ints), len(words))
    frame = pd.DataFrame(
        {
            "i": np.array(ints[:n], dtype="int64"),
            "f": np.array(ints[:n], dtype="int64") / 3.0,
            "s": pd.Series(words[:n], dtype=object),
            "c": pd.Categorical(_objects(words[:n])),
        }
    )
    frame.columns = _objects(list(frame.columns))
    pd.testing.assert_frame_equal(read_msgpack(pack_pandas_msgpack(frame, compress)), frame)


def test_damaged_bytes_raise_a_value_error_naming_the_damage():
    packed = bytearray(pack_pandas_msgpack(isf_frame()))
    with pytest.raises(ValueError, match="msgpack"):
        read_msgpack(bytes(packed[: len(packed) // 2]))
    with pytest.raises(ValueError, match="no msgpack object"):
        read_msgpack(b"")
    doc = msgpack.unpackb(bytes(packed), raw=False, strict_map_key=False)
    doc["blocks"][0]["dtype"] = "no-such-dtype"
    with pytest.raises(ValueError, match="no dtype"):
        read_msgpack(msgpack.packb(doc, use_bin_type=True))
    doc = msgpack.unpackb(bytes(packed), raw=False, strict_map_key=False)
    doc["typ"] = "sparse_dataframe"
    with pytest.raises(ValueError, match="not read"):
        read_msgpack(msgpack.packb(doc, use_bin_type=True))


def test_a_blosc_block_claiming_another_size_is_refused_before_it_is_decompressed():
    frame = pd.DataFrame({"x": np.arange(100.0)})
    doc = msgpack.unpackb(pack_pandas_msgpack(frame), raw=False, strict_map_key=False)
    raw = bytearray(doc["blocks"][0]["values"].data)
    raw[4:8] = (2**31 - 1).to_bytes(4, "little")  # blosc's nbytes: 2 GiB
    doc["blocks"][0]["values"] = msgpack.ExtType(0, bytes(raw))
    with pytest.raises(ValueError, match="bytes where 800 belong"):
        read_msgpack(msgpack.packb(doc, use_bin_type=True))


def test_blocks_that_leave_a_column_out_are_refused():
    frame = pd.DataFrame({"x": np.arange(3.0), "y": np.arange(3)})
    doc = msgpack.unpackb(pack_pandas_msgpack(frame), raw=False, strict_map_key=False)
    doc["blocks"] = doc["blocks"][:1]
    with pytest.raises(ValueError, match="every column"):
        read_msgpack(msgpack.packb(doc, use_bin_type=True))
