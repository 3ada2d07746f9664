"""Array keys are plain Zarr v3: a process that never imports zdb opens ``db.path_of(key)``
with ``zarr.open_group`` and ``xarray.open_zarr`` and gets the stored values."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import dask.array as da
import numpy as np
import pytest

import zdb

READER = textwrap.dedent(
    """
    import json, sys, warnings
    import numpy as np
    import xarray as xr
    import zarr

    warnings.simplefilter("ignore")  # zarr's notes on data types outside the core spec
    cases = json.loads(sys.argv[1])
    for case in cases:
        if case["expected"].endswith(".json"):  # variable-length strings
            with open(case["expected"]) as f:
                want = np.array(json.load(f), dtype=np.dtypes.StringDType())
        else:
            want = np.load(case["expected"], allow_pickle=False)
        group = zarr.open_group(case["path"], mode="r")
        assert list(group.array_keys()) == ["data"], case
        got = group["data"][...]
        got = np.asarray(got, dtype=group["data"].dtype)
        assert got.shape == want.shape and got.dtype == want.dtype, (case, got.dtype)
        if want.dtype.kind == "T":
            assert got.tolist() == want.tolist(), case
        else:
            assert got.tobytes() == want.tobytes(), case
        ds = xr.open_zarr(case["path"])
        assert list(ds.data_vars) == ["data"], (case, list(ds.data_vars))
        values = ds["data"].values
        assert values.shape == want.shape, case
        if want.dtype.kind in "fc":
            np.testing.assert_array_equal(values, want)
        else:
            assert values.tolist() == want.tolist(), (case, values, want)
    assert "zdb" not in sys.modules, "the reader imported zdb"
    print("read", len(cases), "keys")
    """
)


@pytest.mark.local_files
def test_array_keys_open_with_plain_zarr_and_xarray_in_a_process_without_zdb(db, tmp_path):
    rng = np.random.default_rng(0)
    values = {
        "small_float": rng.normal(size=(3, 4)),
        "chunked_int": np.arange(200, dtype="i4").reshape(20, 10),
        "bool": rng.random(17) > 0.5,
        "complex": (rng.normal(size=6) + 1j).astype("c8"),
        "unicode": np.array(["spike", "bürst", ""]),
        "vlen_str": np.array(["a", "longer text", ""], dtype=np.dtypes.StringDType()),
        "datetime": np.arange(5).astype("M8[s]"),
        "timedelta": np.arange(4).astype("m8[ms]"),
        "zero_d": np.array(2.5),
        "empty": np.zeros((0, 3), "f4"),
        "uint": np.arange(10, dtype="u2"),
    }
    for key, value in values.items():
        db[key] = value
    db.set("sharded", np.arange(64.0).reshape(8, 8), chunks=(2, 2), shards=(4, 4))
    values["sharded"] = np.arange(64.0).reshape(8, 8)
    db["from_dask"] = da.arange(30, chunks=7)
    values["from_dask"] = np.arange(30)
    db["sub", "nested"] = np.ones((2, 2))
    values[("sub", "nested")] = np.ones((2, 2))
    cases = []
    for i, (key, value) in enumerate(values.items()):
        if value.dtype.kind == "T":  # .npy cannot hold numpy's variable-length strings
            expected = tmp_path / f"expected{i}.json"
            expected.write_text(json.dumps(value.tolist()))
        else:
            expected = tmp_path / f"expected{i}.npy"
            np.save(expected, value, allow_pickle=False)
        cases.append({"path": db.path_of(key), "expected": str(expected)})
    result = subprocess.run(
        [sys.executable, "-c", READER, json.dumps(cases)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert f"read {len(cases)} keys" in result.stdout


@pytest.mark.local_files
def test_path_of_is_inside_the_database_folder(db):
    db["x"] = np.arange(3)
    assert db.path_of("x").startswith(db.basedir)
    assert zdb.is_data_base(db.basedir)
