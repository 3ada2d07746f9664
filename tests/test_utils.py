"""zdb.utils: ISF's helpers, working where ISF's did not (see docs/utils.md)."""

from __future__ import annotations

import io
import logging
import os
import signal
import tempfile
import threading

import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

import zdb
from zdb.exceptions import DataBaseException, InvalidArgumentError
from zdb.utils import (
    DelayedKeyboardInterrupt,
    bcolors,
    cache,
    chunkIt,
    colorize_str,
    convertible_to_int,
    delete_in_background,
    df_colnames_to_str,
    fancy_dict_compare,
    first_line_to_key,
    flatten,
    get_file_or_folder_that_endswith,
    get_file_or_folder_that_startswith,
    is_db,
    mkdtemp,
    myrepartition,
    pandas_to_array,
    pooled_std,
    select,
    silence_stdout,
    skit,
    split_file_to_buffers,
    unique,
    wait_until_key_removed,
)

# -- cache ---------------------------------------------------------------------------


def test_cache_calls_once_per_function_argument_however_often_it_is_passed():
    calls = []

    @cache
    def fun(x):
        calls.append(x)
        return x

    def other():
        pass

    assert fun(fun) is fun
    assert fun(fun) is fun  # ISF pickled fun by value, with its growing cache: a miss
    assert fun(other) is other
    assert fun(lambda: 1) is not None
    assert fun(lambda: 1) is not None  # another function object: computed again
    assert len(calls) == 4


def test_cache_takes_unhashable_arguments_and_keywords():
    calls = []

    @cache
    def total(values, scale=1, options=None):
        calls.append(1)
        return float(np.sum(values)) * scale

    assert total(np.arange(4), scale=2, options={"a": [1]}) == 12
    assert total(np.arange(4), options={"a": [1]}, scale=2) == 12
    assert total([0, 1, 2, 3], scale=2) == 12
    assert total(np.arange(5), scale=2) == 20
    assert len(calls) == 3
    assert total.__name__ == "total"


def test_cache_counts_a_bound_method_by_its_object_and_function():
    class Model:
        def predict(self):
            return 1

    calls = []

    @cache
    def run(method):
        calls.append(1)
        return method()

    a, b = Model(), Model()
    run(a.predict)
    run(a.predict)
    run(b.predict)
    assert len(calls) == 2


def test_cache_refuses_arguments_that_cannot_be_pickled_naming_the_function():
    @cache
    def fun(x):
        return 1

    with pytest.raises(InvalidArgumentError, match="fun"):
        fun(threading.Lock())


# -- sequences -----------------------------------------------------------------------


def test_chunkit_gives_isf_bounds():
    assert chunkIt(list(range(10)), 3) == [[0, 1, 2], [3, 4, 5], [6, 7, 8, 9]]
    assert chunkIt([1, 2], 5) == [[1], [2]]
    assert chunkIt([], 3) == []
    assert len(chunkIt(list(range(11)), 10)) == 10  # ISF's float sums gave 11


@given(st.lists(st.integers(), max_size=60), st.integers(1, 20))
def test_chunkit_splits_into_at_most_num_near_equal_consecutive_parts(seq, num):
    chunks = chunkIt(seq, num)
    assert [x for c in chunks for x in c] == seq
    assert len(chunks) == min(num, len(seq))
    if chunks:
        assert max(map(len, chunks)) - min(map(len, chunks)) <= 1


def test_chunkit_splits_numpy_arrays_and_refuses_zero_parts():
    parts = chunkIt(np.arange(5), 2)
    assert [p.tolist() for p in parts] == [[0, 1], [2, 3, 4]]
    with pytest.raises(InvalidArgumentError):
        chunkIt([1], 0)


def test_flatten_yields_nested_items_and_keeps_strings_whole():
    assert list(flatten([1, [2, (3, ["ab", b"cd"])], {4}])) == [1, 2, 3, "ab", b"cd", 4]


def test_unique_keeps_the_order_of_first_appearance():
    assert unique([3, 1, 3, 2, 1]) == [3, 1, 2]
    assert unique(["b", "a", "b"]) == ["b", "a"]


def test_convertible_to_int():
    assert convertible_to_int("12") and convertible_to_int(3.7) and convertible_to_int(True)
    assert not convertible_to_int("1.5")
    assert not convertible_to_int(None)
    assert not convertible_to_int(float("nan"))
    assert not convertible_to_int(float("inf"))


def test_fancy_dict_compare_names_missing_keys_and_different_values_at_every_depth():
    a = {"x": 1, "y": {"z": 2, "only_a": 0}, "arr": np.arange(3), "only_a": 1}
    b = {"x": 2, "y": {"z": 2, "only_b": 0}, "arr": np.arange(3), "only_b": 1}
    report = fancy_dict_compare(a, b, "left", "right")
    assert report.splitlines() == [
        "Key left[only_a] not in right",
        "Key right[only_b] not in left",
        "Value of left[x] (1) not same as right[x] (2)",
        "Key left[y][only_a] not in right",
        "Key right[y][only_b] not in left",
    ]
    assert fancy_dict_compare(a, dict(a)) == ""
    assert "arr" in fancy_dict_compare({"arr": np.arange(3)}, {"arr": np.arange(4)})


# -- frames --------------------------------------------------------------------------


def test_pandas_to_array_refuses_two_values_for_one_cell_and_other_inputs():
    with pytest.raises(InvalidArgumentError, match="cell"):
        pandas_to_array({"a": 1, "b": 2}, lambda i, v: 0, lambda i, v: 0, lambda i, v: v)
    with pytest.raises(InvalidArgumentError, match="list"):
        pandas_to_array([1, 2], lambda i, v: 0, lambda i, v: 0, lambda i, v: v)


def test_select_keeps_rows_matching_every_keyword_on_pandas_and_dask():
    pdf = pd.DataFrame({"a": [1, 1, 2], "b": ["x", "y", "x"], "v": [1.0, 2.0, 3.0]})
    assert select(pdf, a=1, b="x")["v"].tolist() == [1.0]
    ddf = dd.from_pandas(pdf, npartitions=2)
    assert select(ddf, b="x").compute()["v"].tolist() == [1.0, 3.0]


@given(
    st.lists(
        st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=0, max_size=8),
        min_size=1,
        max_size=5,
    ).filter(lambda groups: sum(map(len, groups)) >= 2)
)
def test_pooled_std_equals_mean_and_std_of_all_samples(groups):
    m = [np.mean(g) if g else 0.0 for g in groups]
    s = [np.std(g, ddof=1) if len(g) > 1 else np.nan for g in groups]
    n = [len(g) for g in groups]
    everything = np.concatenate([np.asarray(g, dtype=float) for g in groups])
    mean, std = pooled_std(m, s, n)
    assert mean == pytest.approx(everything.mean(), abs=1e-6)
    assert std == pytest.approx(everything.std(ddof=1), abs=1e-5)


def test_pooled_std_of_fewer_than_two_samples_is_nan_and_lengths_must_agree():
    mean, std = pooled_std([1.0], [np.nan], [1])
    assert mean == 1.0 and np.isnan(std)
    with pytest.raises(InvalidArgumentError):
        pooled_std([1.0], [1.0, 2.0], [1])


def test_df_colnames_to_str_converts_labels_in_place(caplog):
    pdf = pd.DataFrame({1: [1], "b": [2]}).rename_axis(index=5)
    with caplog.at_level(logging.WARNING):
        out = df_colnames_to_str(pdf)
    assert out is pdf
    assert list(pdf.columns) == ["1", "b"] and pdf.index.name == "5"
    assert "column names" in caplog.text


def test_myrepartition_keeps_the_frame_and_known_divisions_and_leaves_no_files(
    tmp_path, monkeypatch
):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    pdf = pd.DataFrame({"a": np.arange(100), "b": np.arange(100) * 0.5})
    ddf = dd.from_pandas(pdf, npartitions=10)
    for source in (ddf, ddf.clear_divisions()):
        for n in (1, 4, 10, 13):
            out = myrepartition(source, n)
            assert out.npartitions == n
            assert out.known_divisions == source.known_divisions
            assert_frame_equal(out.compute(), pdf)
    assert os.listdir(tmp_path) == []
    with pytest.raises(InvalidArgumentError):
        myrepartition(ddf, 0)


# -- calls ---------------------------------------------------------------------------


def test_skit_gives_each_function_the_keywords_it_takes():
    def f(a, b=1):
        local = 2
        return local

    def g(*, c, **options):
        return options

    assert skit(f, g, a=1, c=2, local=3) == ({"a": 1}, {"a": 1, "c": 2, "local": 3})


def test_silence_stdout_as_context_and_decorator_restores_stdout_and_logging(capsys):
    before = logging.root.manager.disable

    @silence_stdout
    def talk():
        print("decorated")
        return 7

    with silence_stdout:
        print("hidden")
        with silence_stdout:
            print("nested")
        assert logging.root.manager.disable == logging.CRITICAL
        print("still hidden")
    assert talk() == 7
    print("shown")
    assert capsys.readouterr().out == "shown\n"
    assert logging.root.manager.disable == before


def test_delayed_keyboard_interrupt_finishes_the_block_first():
    finished = []
    with pytest.raises(KeyboardInterrupt):
        with DelayedKeyboardInterrupt():
            os.kill(os.getpid(), signal.SIGINT)
            finished.append(True)
    assert finished == [True]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


# -- files ---------------------------------------------------------------------------


def test_mkdtemp_removes_the_folder_with_its_files():
    with mkdtemp() as tempdir:
        with open(os.path.join(tempdir, "f"), "w") as f:
            f.write("x")
    assert not os.path.exists(tempdir)
    with mkdtemp() as tempdir:
        os.rmdir(tempdir)  # removed already: fine


def test_get_file_or_folder_by_start_or_end_needs_exactly_one_match(tmp_path):
    for name in ("run_1.txt", "run_2.csv", "other.csv"):
        (tmp_path / name).write_text("")
    assert get_file_or_folder_that_startswith(tmp_path, "other") == str(tmp_path / "other.csv")
    assert get_file_or_folder_that_endswith(tmp_path, ".txt") == str(tmp_path / "run_1.txt")
    with pytest.raises(InvalidArgumentError, match="2 entries"):
        get_file_or_folder_that_endswith(tmp_path, ".csv")
    with pytest.raises(InvalidArgumentError, match="0 entries"):
        get_file_or_folder_that_startswith(tmp_path, "missing")


def test_delete_in_background_renames_at_once_and_returns_the_thread(tmp_path):
    folder = tmp_path / "key"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "f").write_text("x")
    thread = delete_in_background(folder)
    assert isinstance(thread, threading.Thread)
    assert not folder.exists()  # gone under its name before the thread finishes
    thread.join()
    assert os.listdir(tmp_path) == []
    assert delete_in_background(tmp_path / "missing") is None


def test_delete_in_background_removes_a_link_never_its_target(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "keep").write_text("x")
    link = tmp_path / "link"
    link.symlink_to(target)
    delete_in_background(link).join()
    assert not os.path.lexists(link)
    assert (target / "keep").read_text() == "x"


def test_is_db_is_true_for_databases_and_sub_databases_only(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db["x"] = 1
    sub = db.create_sub_db("sub")
    plain = tmp_path / "plain"
    plain.mkdir()
    assert is_db(tmp_path / "db") and is_db(str(tmp_path / "db"))
    assert is_db(sub.basedir)
    assert not is_db(plain)
    assert not is_db(tmp_path / "missing")
    assert not is_db(db.path_of("x"))


def test_wait_until_key_removed_checks_until_the_key_is_gone(tmp_path, capsys):
    db = zdb.DataBase(tmp_path / "db")
    db["pause"] = 1
    wait_until_key_removed(db, "other", delay=0.01)  # not there: returns at once
    assert capsys.readouterr().out == ""

    class DeletedOnThirdCheck:
        checks = 0

        def __contains__(self, key):
            self.checks += 1
            if self.checks == 3:
                del db[key]
            return key in db

    watched = DeletedOnThirdCheck()
    wait_until_key_removed(watched, "pause", delay=0.001)
    assert watched.checks == 3 and "pause" not in db
    out = capsys.readouterr().out
    assert "waiting till key pause is removed" in out and "every 0.001 seconds" in out
    assert "Key pause has been removed" in out


# -- text ----------------------------------------------------------------------------


def test_split_file_to_buffers_and_first_line_to_key_give_tables_by_name():
    text = "# cells\na\tb\n1\t2\n# synapses\nc\n3\n"
    tables = first_line_to_key(split_file_to_buffers(io.StringIO(text)))
    assert list(tables) == ["# cells", "# synapses"]
    assert tables["# cells"].read() == "a\tb\n1\t2\n"
    tables["# cells"].seek(0)
    frames = {k: pd.read_csv(v, sep="\t") for k, v in tables.items()}
    assert_frame_equal(frames["# synapses"], pd.DataFrame({"c": [3]}))


def test_split_file_to_buffers_keeps_lines_before_the_first_separator():
    buffers = split_file_to_buffers(["preamble", "#t", "x"])
    assert [b.read() for b in buffers] == ["preamble\n", "#t\nx\n"]


def test_colorize_str_wraps_in_escape_sequences():
    assert colorize_str("k", bcolors.OKGREEN) == "\033[92mk\033[0m"


def test_zdb_utils_errors_are_database_exceptions():
    assert issubclass(InvalidArgumentError, DataBaseException)
    assert issubclass(InvalidArgumentError, ValueError)
