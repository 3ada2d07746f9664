"""ISF's ``tests/test_data_base/IO/dask_wrappers_test.py``, for zdb."""

from __future__ import annotations

import pandas as pd
import pytest

from zdb.IO.dask_wrappers import concat_path_elements_to_filelist, read_csvs


def test_concat_path_elements_to_filelist():
    assert concat_path_elements_to_filelist("str", [1, 2, 3], pd.Series([1, 2, 3])) == [
        "str/1/1",
        "str/2/2",
        "str/3/3",
    ]
    assert concat_path_elements_to_filelist(1, 2, 3) == ["1/2/3"]
    assert concat_path_elements_to_filelist("a", "b", "c") == ["a/b/c"]
    assert concat_path_elements_to_filelist() == []


def test_path_elements_of_different_lengths_are_refused():
    with pytest.raises(ValueError, match="different lengths"):
        concat_path_elements_to_filelist("a", [1, 2], [1, 2, 3])


def test_read_csvs_reads_one_partition_per_file_through_fun(tmp_path):
    for run in (1, 2):
        (tmp_path / str(run)).mkdir()
        pd.DataFrame({"x": [run, run * 10]}).to_csv(tmp_path / str(run) / "t.csv", index=False)
    ddf = read_csvs(str(tmp_path), [1, 2], "t.csv", fun=lambda df: df.assign(y=df.x * 2))
    assert ddf.npartitions == 2
    got = ddf.compute(scheduler="sync").reset_index(drop=True)
    pd.testing.assert_frame_equal(
        got, pd.DataFrame({"x": [1, 10, 2, 20], "y": [2, 20, 4, 40]}), check_dtype=False
    )
