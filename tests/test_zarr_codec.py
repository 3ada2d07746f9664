"""``zdb.zarr_codec`` writes what zarr-python writes: for every data type and codec
configuration zdb writes, the metadata (as parsed JSON) and every chunk's bytes are
those zarr-python writes for the same array, and zarr-python reads what it writes."""

from __future__ import annotations

import json
import os
import shutil
import warnings

import numpy as np
import pytest
import zarr
from hypothesis import given, settings
from hypothesis import strategies as st
from zarr.codecs import ZstdCodec

from zdb import zarr_codec
from zdb.storage import LocalStore

#: every numpy dtype whose arrays zdb writes without zarr-python: numbers (small arrays
#: and table columns), datetimes and timedeltas of pandas' units, raw bytes (long
#: doubles in tables) and variable-length strings (table string columns)
DTYPES = [
    *"bool int8 int16 int32 int64 uint8 uint16 uint32 uint64".split(),
    *"float16 float32 float64 complex64 complex128".split(),
    *[f"M8[{u}]" for u in ("s", "ms", "us", "ns")],
    *[f"m8[{u}]" for u in ("s", "ms", "us", "ns")],
    "V16",
    "V32",
    "T",
]
#: zstd levels: zarr-python's default (numpy_to_zarr), the tables' default, and levels
#: users choose with compression_level=
LEVELS = [0, 3, 1, 9, 22, -1]
#: (shape, chunks): a 0-d array, a 1-d array with a short edge chunk, one chunk, a 2-d
#: array chunked both ways (table blocks, N-d numpy arrays), an empty array
SHAPES = [((), ()), ((7,), (3,)), ((5,), (5,)), ((5, 6), (2, 4)), ((0,), (1,))]


def _dtype(name: str) -> np.dtype:
    return np.dtypes.StringDType() if name == "T" else np.dtype(name)


def sample(dtype: np.dtype, shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """Values of every sort for ``dtype``: negative, large, NaN, NaT, non-ASCII text."""
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    if dtype.kind == "T":
        words = ["", "a", "zeile ä", "日本", "x" * 40]
        return np.array([words[i % len(words)] for i in range(size)], dtype=dtype).reshape(shape)
    if dtype.kind == "V":
        raw = rng.integers(0, 256, size * dtype.itemsize, dtype=np.uint8)
        return raw.view(dtype).reshape(shape)
    if dtype.kind in "mM":
        values = rng.integers(-(2**40), 2**40, size).astype(np.int64)
        values[::3] = np.iinfo(np.int64).min  # NaT
        return values.view(dtype).reshape(shape)
    if dtype.kind == "b":
        return (rng.integers(0, 2, size) == 1).reshape(shape)
    if dtype.kind in "iu":
        info = np.iinfo(dtype)
        return rng.integers(info.min, info.max, size, dtype=dtype, endpoint=True).reshape(shape)
    values = rng.normal(0, 1e3, size).astype(dtype)
    if size > 1:
        values[1] = np.nan
    return values.reshape(shape)


def zarr_python_files(tmp_path, data, chunks, level, dims, attrs) -> dict[str, bytes]:
    """Every file zarr-python writes for ``data`` (every chunk, even all-fill ones)."""
    folder = tmp_path / "zarr-python"
    shutil.rmtree(folder, ignore_errors=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z = zarr.create_array(
            zarr.storage.LocalStore(folder),
            shape=data.shape,
            chunks=chunks,
            dtype=data.dtype,
            compressors=ZstdCodec(level=level),
            dimension_names=dims,
            attributes=attrs,
            zarr_format=3,
            config={"write_empty_chunks": True},
        )
        if data.size:
            z[...] = data
    return _files(folder)


def _files(folder) -> dict[str, bytes]:
    out = {}
    for dirpath, _, names in os.walk(folder):
        for name in names:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, folder).replace(os.sep, "/")] = f.read()
    return out


def zdb_files(tmp_path, data, chunks, level, dims, attrs) -> dict[str, bytes]:
    """Every file zdb.zarr_codec writes for ``data``, chunk by chunk."""
    folder = tmp_path / "zdb"
    shutil.rmtree(folder, ignore_errors=True)
    store = LocalStore(folder)
    meta = zarr_codec.array_metadata(
        data.dtype, data.shape, chunks, dimension_names=dims, attributes=attrs, level=level
    )
    store.write_bytes("zarr.json", zarr_codec.dumps(meta))
    grid = [-(-n // max(1, c)) for n, c in zip(data.shape, chunks, strict=True)]
    for index in np.ndindex(*grid) if data.size else []:
        where = tuple(slice(i * c, (i + 1) * c) for i, c in zip(index, chunks, strict=True))
        part = data[(*where, ...)]
        store.write_bytes(zarr_codec.chunk_key(index), zarr_codec.encode_chunk(part, chunks, level))
    return _files(folder)


def assert_same_files(ours: dict[str, bytes], theirs: dict[str, bytes]) -> None:
    assert sorted(ours) == sorted(theirs)
    assert json.loads(ours.pop("zarr.json")) == json.loads(theirs.pop("zarr.json"))
    for key in theirs:
        assert ours[key] == theirs[key], key


def assert_reads_back(folder, data) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        got = zarr.open_array(zarr.storage.LocalStore(folder), mode="r")[...]
    got = np.asarray(got)
    if data.dtype.kind in "TV":  # strings: a 0-d array reads as a str scalar
        assert got.dtype.kind in (data.dtype.kind, "U") and got.tolist() == data.tolist()
    else:
        np.testing.assert_array_equal(got, data)
        assert got.dtype == data.dtype.newbyteorder("=")


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("shape,chunks", SHAPES, ids=str)
@pytest.mark.parametrize("name", DTYPES)
def test_every_dtype_and_codec_configuration_is_written_as_zarr_python_writes_it(
    tmp_path, name, shape, chunks, level
):
    dtype = _dtype(name)
    data = sample(dtype, shape)
    dims = [f"d{i}" for i in range(len(shape))]
    attrs = {"zdb": {"label": "x", "n": [1, 2.5, None]}}
    theirs = zarr_python_files(tmp_path, data, chunks, level, dims, attrs)
    ours = zdb_files(tmp_path, data, chunks, level, dims, attrs)
    assert_same_files(ours, theirs)
    assert_reads_back(tmp_path / "zdb", data)


@pytest.mark.parametrize("name", ["float64", "int32", "complex64", "M8[ns]"])
def test_big_endian_data_is_written_little_endian_as_zarr_python_does(tmp_path, name):
    data = sample(np.dtype(name), (7,)).astype(np.dtype(name).newbyteorder(">"))
    theirs = zarr_python_files(tmp_path, data, (3,), 3, ["x"], {})
    ours = zdb_files(tmp_path, data, (3,), 3, ["x"], {})
    assert_same_files(ours, theirs)
    assert_reads_back(tmp_path / "zdb", data)


def test_metadata_without_dimension_names_leaves_them_out_as_zarr_python_does(tmp_path):
    data = np.arange(4.0)
    theirs = zarr_python_files(tmp_path, data, (4,), 0, None, None)
    ours = zdb_files(tmp_path, data, (4,), 0, None, None)
    assert_same_files(ours, theirs)


@pytest.mark.parametrize("name", ["int8", "float64", "complex128", "bool"])
@pytest.mark.parametrize("shape", [(), (5,), (3, 4), (2, 0)], ids=str)
def test_one_chunk_arrays_are_what_zarr_python_writes_and_read_back(tmp_path, name, shape):
    """The small arrays of numpy_to_zarr: zarr-python's defaults (zstd level 0)."""
    data = sample(np.dtype(name), shape)
    dims = [f"dim_{i}" for i in range(len(shape))]
    meta = zarr_codec.array_metadata(data.dtype, data.shape, data.shape, dimension_names=dims)
    store = LocalStore(tmp_path / "zdb")
    zarr_codec.write_single_chunk(store, "", data, meta)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.create_array(
            zarr.storage.LocalStore(tmp_path / "zarr-python"),
            data=data,
            dimension_names=dims,
            zarr_format=3,
        )
    assert_same_files(_files(tmp_path / "zdb"), _files(tmp_path / "zarr-python"))
    assert zarr_codec.is_single_chunk(meta)
    got = zarr_codec.read_single_chunk(store, "", meta)
    np.testing.assert_array_equal(got, data)
    assert got.dtype == data.dtype and got.flags.writeable
    assert_reads_back(tmp_path / "zdb", data)


def test_the_chunks_zarr_python_writes_are_read_back(tmp_path):
    for name in DTYPES:
        dtype = _dtype(name)
        data = sample(dtype, (7,))
        files = zarr_python_files(tmp_path, data, (3,), 3, ["x"], {})
        meta = json.loads(files["zarr.json"])
        kind = zarr_codec.chunk_kind(meta)
        got = [
            zarr_codec.decode_chunk(files[f"c/{k}"], kind, zarr_codec.numpy_dtype(meta), (3,))
            for k in range(3)
        ]
        if name == "T":
            assert np.concatenate(got)[:7].tolist() == data.tolist()
        else:
            np.testing.assert_array_equal(np.concatenate(got)[:7], data)


def test_a_group_with_consolidated_metadata_is_what_zarr_consolidates(tmp_path):
    from zdb.format import group_document

    store = LocalStore(tmp_path / "g")
    arrays = {
        "a": zarr_codec.array_metadata("f8", (3,), (3,), dimension_names=["i"], level=3),
        ".zdb/a/mask": zarr_codec.array_metadata(
            "bool", (3,), (3,), dimension_names=["i"], attributes={"zdb": {"role": "mask"}}
        ),
    }
    for path, meta in arrays.items():
        store.write_bytes(f"{path}/zarr.json", zarr_codec.dumps(meta))
    for group in (".zdb", ".zdb/a"):
        store.write_bytes(f"{group}/zarr.json", group_document({}))
    doc = group_document({"x": 1}, consolidated=zarr_codec.consolidated(arrays, [".zdb/a", ".zdb"]))
    store.write_bytes("zarr.json", doc)
    ours = json.loads(doc)
    store.write_bytes("zarr.json", group_document({"x": 1}))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        zarr.consolidate_metadata(zarr.storage.LocalStore(tmp_path / "g"))
    assert ours == json.loads(store.read_bytes("zarr.json"))


@settings(max_examples=100, deadline=None)
@given(
    items=st.lists(st.text(max_size=40), max_size=30),
    skip=st.integers(0, 3),
    padding=st.integers(0, 3),
)
def test_vlen_chunks_built_from_arrow_are_those_numcodecs_writes(items, skip, padding):
    import numcodecs
    import pyarrow as pa

    values = pa.array(items, pa.large_string()).slice(min(skip, len(items)))
    kept = items[min(skip, len(items)) :]
    got = zarr_codec.vlen_from_arrow(values, len(kept) + padding)
    want = numcodecs.VLenUTF8().encode(np.array(kept + [""] * padding, dtype=object))
    assert got.tobytes() == bytes(want)
    chunk = zarr_codec.encode_arrow_chunk(values, len(kept) + padding, 3)
    padded = np.array(kept + [""] * padding, dtype=object)
    assert chunk == zarr_codec.encode_chunk(padded, (len(padded),), 3)


@pytest.mark.parametrize("flat", [False, True])
@pytest.mark.parametrize(
    "cname,shuffle,blocksize",
    [("lz4", "shuffle", 0), ("zstd", "bitshuffle", 0), ("zstd", "shuffle", 64)],
)
@pytest.mark.parametrize("shape,chunks", [((7, 5), (3, 5)), ((0, 4), (2, 4)), ((9,), (9,))])
def test_blosc_arrays_are_written_as_zarr_python_writes_them_and_read_back(
    tmp_path, cname, shuffle, blocksize, shape, chunks, flat
):
    from zarr.codecs import BloscCodec

    data = np.random.default_rng(1).normal(-70, 5, shape)
    compressor = zarr_codec.blosc(8, cname=cname, clevel=5, shuffle=shuffle, blocksize=blocksize)
    theirs_folder = tmp_path / "zarr-python"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        z = zarr.create_array(
            zarr.storage.LocalStore(theirs_folder),
            shape=shape,
            chunks=chunks,
            dtype="float64",
            compressors=BloscCodec(cname=cname, clevel=5, shuffle=shuffle, blocksize=blocksize),
            dimension_names=[f"d{i}" for i in range(len(shape))],
            zarr_format=3,
            chunk_key_encoding={"name": "default", "separator": "." if flat else "/"},
            config={"write_empty_chunks": True},
        )
        if data.size:
            z[...] = data
    store = LocalStore(tmp_path / "zdb")
    meta = zarr_codec.array_metadata(
        data.dtype,
        shape,
        chunks,
        dimension_names=[f"d{i}" for i in range(len(shape))],
        compressor=compressor,
        flat_chunk_keys=flat,
    )
    store.write_bytes("zarr.json", zarr_codec.dumps(meta))
    grid = [-(-n // c) for n, c in zip(shape, chunks, strict=True)]
    codec = zarr_codec.compressor_codec(compressor)
    for index in np.ndindex(*grid) if data.size else []:
        where = tuple(slice(i * c, (i + 1) * c) for i, c in zip(index, chunks, strict=True))
        raw = zarr_codec.encode_chunk(data[where], chunks, 0, compressor)
        store.write_bytes(zarr_codec.chunk_key(index, "." if flat else "/"), raw)
        back = zarr_codec.decode_chunk(raw, "bytes", data.dtype, chunks, codec)
        part = data[where]
        np.testing.assert_array_equal(back[tuple(slice(0, n) for n in part.shape)], part)
    assert_same_files(_files(tmp_path / "zdb"), _files(theirs_folder))
    assert_reads_back(tmp_path / "zdb", data)


def test_codecs_other_than_those_written_are_not_decoded():
    for codec in (
        {"name": "gzip", "configuration": {"level": 1}},
        {"name": "zstd", "configuration": {"level": 0, "checksum": True}},
        {
            "name": "blosc",
            "configuration": {"cname": "snappy", "clevel": 5, "shuffle": "shuffle", "typesize": 8},
        },
        {
            "name": "blosc",
            "configuration": {"cname": "lz4", "clevel": 5, "shuffle": "shuffle", "typesize": 10**6},
        },
    ):
        with pytest.raises(ValueError):
            zarr_codec.compressor_codec(codec)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(0, 70_000).flatmap(
        lambda n: st.binary(min_size=n, max_size=n) | st.just(b"\0" * n)
    ),
    st.sampled_from([("zstd", 1), ("zstd", 9), ("blosc", "zstd"), ("blosc", "lz4")]),
)
def test_the_size_a_chunk_header_gives_is_the_decompressed_size(data, codec):
    import numcodecs

    kind, option = codec
    if kind == "zstd":
        compressor, encoder = None, numcodecs.Zstd(level=option)
    else:
        compressor = encoder = numcodecs.Blosc(cname=option, shuffle=numcodecs.Blosc.SHUFFLE)
    raw = encoder.encode(data)
    assert zarr_codec.content_size(raw, compressor) == len(data)
    assert zarr_codec.content_size(raw[:-1], compressor) in (-1, len(data))
    assert zarr_codec.content_size(b"not a chunk", compressor) == -1
