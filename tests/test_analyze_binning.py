"""zdb.analyze's histograms: pandas, dask and xarray inputs give the same numbers as a
plain numpy histogram of the same values (property-based), dask inputs are read once
and stay lazy where ISF's were lazy."""

from __future__ import annotations

import threading

import dask
import dask.array
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest
import xarray as xr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zdb.analyze import (
    AnalyzeError,
    _common,
    spatiotemporal_binning,
    temporal_binning,
    voltage_binning,
)
from zdb.analyze.spatial_binning import spatial_binning

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
times = st.one_of(st.just(np.nan), st.floats(-5, 60, allow_nan=False).map(lambda x: round(x, 2)))


@st.composite
def activation_tables(draw, min_rows=0):
    """A synapse-activation-like table: a string and a distance column, then time
    columns '0', '1', ... holding times or NaN; and a number of partitions."""
    rows = draw(st.integers(min_rows, 25))
    n_times = draw(st.integers(0, 4))
    frame = pd.DataFrame(
        {
            "synapse_type": draw(
                st.lists(
                    st.sampled_from(["L5tt_C2", "VPM_C2", "L1_D1"]), min_size=rows, max_size=rows
                )
            ),
            "soma_distance": draw(
                st.lists(st.floats(0, 400).map(lambda x: round(x, 1)), min_size=rows, max_size=rows)
            ),
        },
        index=pd.Index([f"trial/{i:06d}" for i in range(rows)], name="sim_trial_index"),
    )
    for c in range(n_times):
        frame[str(c)] = draw(st.lists(times, min_size=rows, max_size=rows))
    return frame, draw(st.integers(1, 4))


def all_times(frame: pd.DataFrame) -> np.ndarray:
    values = frame[[c for c in frame.columns if c.isdigit()]].to_numpy(dtype=float).ravel()
    return values[~np.isnan(values)]


bins = st.tuples(st.sampled_from([0.5, 1.0, 2.5, 10.0]), st.integers(-5, 10), st.integers(0, 70))


@SETTINGS
@given(activation_tables(min_rows=1), bins, st.booleans(), st.booleans())
def test_temporal_binning_equals_numpy_on_pandas_dask_and_xarray(table, b, normalize, rate):
    frame, nparts = table
    size, lo, span = b
    hi = lo + span
    ddf = dd.from_pandas(frame, npartitions=nparts)
    kw = {"bin_size": size, "min_time": lo, "max_time": hi, "normalize": normalize}
    edges, pd_hist = temporal_binning.universal(frame, rate=rate, **kw)
    d_edges, dask_hist = temporal_binning.universal(ddf, rate=rate, scheduler="sync", **kw)
    matrix = frame[[c for c in frame.columns if c.isdigit()]].astype(float)
    da = xr.DataArray(matrix.to_numpy(), dims=("sim_trial_index", "spike"))
    x_edges, x_hist = temporal_binning.universal(da, rate=rate, **kw)
    lazy = da.chunk({"sim_trial_index": 3})
    l_edges, l_hist = temporal_binning.universal(lazy, rate=rate, **kw)

    expected_edges = np.arange(lo, hi + size, size)
    expected = np.histogram(all_times(frame), expected_edges)[0].astype(float)
    if normalize:
        expected = expected / len(frame)
    if rate:
        expected = expected / np.diff(expected_edges)
    for e in (edges, d_edges, x_edges, l_edges):
        np.testing.assert_array_equal(e, expected_edges)
    for h in (pd_hist, dask_hist, x_hist, l_hist):
        np.testing.assert_allclose(h, expected, rtol=1e-12)


@SETTINGS
@given(activation_tables(), st.sampled_from([5.0, 50.0, 120.0]), bins)
def test_spatiotemporal_binning_equals_numpy_per_distance_bin(table, space, b):
    frame, nparts = table
    size, lo, span = b
    pd_result = spatiotemporal_binning.universal(frame, "soma_distance", space, lo, lo + span, size)
    ddf = dd.from_pandas(frame, npartitions=nparts)
    dask_result = spatiotemporal_binning.universal(
        ddf, "soma_distance", space, lo, lo + span, size, scheduler="sync"
    )
    edges = np.arange(lo, lo + span + size, size)
    zbins = np.floor(frame["soma_distance"].to_numpy() / space).astype(int)
    rows = zbins.max() + 1 if len(frame) else 0
    expected = np.array(
        [np.histogram(all_times(frame[zbins == z]), edges)[0] for z in range(rows)]
    ).reshape(rows, len(edges) - 1)
    np.testing.assert_array_equal(pd_result, expected)
    np.testing.assert_array_equal(dask_result, expected)
    assert pd_result.dtype == np.int64


@SETTINGS
@given(activation_tables(min_rows=1), st.sampled_from([7.5, 50.0, 500.0]), st.integers(-5, 30))
def test_spatial_binning_counts_times_in_the_window_per_right_closed_distance_bin(table, size, lo):
    frame, nparts = table
    hi = lo + 20
    edges, counts = spatial_binning(frame, lo, hi, size)
    d_edges, d_counts = spatial_binning(dd.from_pandas(frame, npartitions=nparts), lo, hi, size)
    expected_edges = np.arange(0, frame["soma_distance"].max() + size, size)
    if len(expected_edges) == 1:  # all distances 0: one bin
        expected_edges = np.array([0, size])
    cut = pd.cut(frame["soma_distance"], expected_edges, include_lowest=True, labels=False)
    expected = np.zeros(len(expected_edges) - 1, dtype=int)
    for position in range(len(frame)):
        if not np.isnan(cut.iloc[position]):
            t = all_times(frame.iloc[[position]])
            expected[int(cut.iloc[position])] += ((t >= lo) & (t <= hi)).sum()
    np.testing.assert_array_equal(edges, expected_edges)
    np.testing.assert_array_equal(d_edges, expected_edges)
    np.testing.assert_array_equal(counts, expected)
    np.testing.assert_array_equal(d_counts, expected)


voltages = st.one_of(st.just(np.nan), st.floats(-110, 60).map(lambda x: round(x, 3)))


@SETTINGS
@given(
    st.integers(0, 40),
    st.integers(0, 3),
    st.integers(1, 4),
    st.integers(1, 50),
    st.integers(0, 50),
    bins,
    st.data(),
)
def test_blocked_grouped_histogram_equals_numpy_per_group(
    rows, n_cols, n_groups, block, compress_max, b, data
):
    size, lo, hi = b
    edges = temporal_binning.make_edges(lo, lo + hi, size)
    columns = [
        np.array(data.draw(st.lists(times, min_size=rows, max_size=rows))) for _ in range(n_cols)
    ]
    groups = np.array(
        data.draw(st.lists(st.integers(-1, n_groups - 1), min_size=rows, max_size=rows))
    )
    # blocks of more than compress_max values are binned whole, NaN in a dropped slot
    counts = _common.grouped_histogram(columns, edges, groups, n_groups, block, compress_max)
    small = _common.grouped_histogram(columns, edges, groups.astype(np.int8), n_groups, block)
    np.testing.assert_array_equal(small, counts)  # any integer codes
    for g in range(n_groups):
        values = np.concatenate([c[groups == g] for c in columns]) if columns else np.zeros(0)
        expected = np.histogram(values[~np.isnan(values)], edges)[0]
        np.testing.assert_array_equal(counts[g], expected)


def searched_bin_index(values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """numpy.histogram's bins by binary search: half-open, the last one closed."""
    index = np.searchsorted(edges, values, side="right") - 1
    index[values == edges[-1]] = len(edges) - 2
    index[(index >= len(edges) - 1) | np.isnan(values)] = -1
    return index


@SETTINGS
@given(
    st.floats(-1e3, 1e3),
    st.sampled_from([1e-3, 0.1, 0.3, 0.5, 1.0, 2.5, 7.0, 50.0]),
    st.integers(1, 500),
    st.data(),
)
def test_bin_index_of_evenly_spaced_edges_equals_a_binary_search(start, size, n, data):
    edges = np.arange(start, start + n * size + size / 2, size)
    # every edge, its neighbours, and values anywhere around the edges
    spread = data.draw(st.lists(st.floats(edges[0] - 2 * size, edges[-1] + 2 * size), max_size=40))
    values = np.concatenate(
        [edges, np.nextafter(edges, -np.inf), np.nextafter(edges, np.inf), [np.nan, np.inf], spread]
    )
    assert _common._evenly_spaced(edges)
    np.testing.assert_array_equal(
        _common.bin_lookup(edges)(values), searched_bin_index(values, edges)
    )
    square = values[: len(values) // 2 * 2].reshape(2, -1)
    np.testing.assert_array_equal(
        _common.bin_lookup(edges)(square), searched_bin_index(square, edges)
    )


def test_bin_index_of_uneven_edges_searches_them():
    edges = np.array([0.0, 1.0, 10.0, 11.0])
    values = np.array([0.0, 0.5, 1.0, 5.0, 10.0, 11.0, 11.5, -1.0, np.nan])
    assert not _common._evenly_spaced(edges)
    assert _common.bin_lookup(edges)(values).tolist() == [0, 0, 1, 1, 2, 2, -1, -1, -1]


@SETTINGS
@given(st.integers(1, 12), st.integers(0, 9), st.integers(1, 30), st.data())
def test_blocked_voltage_density_equals_numpy_per_time_point(n_trials, n_t, block, data):
    values = np.array(
        [data.draw(st.lists(voltages, min_size=n_t, max_size=n_t)) for _ in range(n_trials)]
    ).reshape(n_trials, n_t)
    bins = voltage_binning.get_bins(5.0, -100, 50)
    expected = np.array([np.histogram(c[~np.isnan(c)], bins)[0] for c in values.T]).T
    result = voltage_binning.density(values, bins, block=block)
    np.testing.assert_array_equal(result, expected.reshape(len(bins) - 1, n_t))
    # as a table's reader gives it (time points contiguous), and from float32
    fortran = voltage_binning.density(np.asfortranarray(values), bins, block=block)
    np.testing.assert_array_equal(fortran, result)
    single = values.astype(np.float32)
    np.testing.assert_array_equal(
        voltage_binning.density(single, bins, block=block),
        voltage_binning.density(single.astype(np.float64), bins, block=block),
    )


def test_voltage_density_in_uneven_bins_equals_numpy_per_time_point():
    values = np.array([[-100.0, -5.0, 0.0], [np.nan, 49.0, 50.0], [-99.0, 60.0, 1.0]])
    bins = np.array([-100.0, -10.0, 0.0, 1.0, 50.0])
    expected = np.array([np.histogram(c[~np.isnan(c)], bins)[0] for c in values.T]).T
    np.testing.assert_array_equal(voltage_binning.density(values, bins, block=2), expected)


@SETTINGS
@given(
    st.integers(1, 12),
    st.integers(1, 9),
    st.data(),
    st.sampled_from([0.5, 5.0, 20.0]),
    st.integers(1, 4),
)
def test_voltage_density_equals_numpy_per_time_point(n_trials, n_t, data, size, nparts):
    t = np.round(np.arange(n_t) * 0.025 + 100, 3)
    values = np.array(
        [data.draw(st.lists(voltages, min_size=n_t, max_size=n_t)) for _ in range(n_trials)]
    )
    frame = pd.DataFrame(values, columns=list(t))
    bins = voltage_binning.get_bins(size, -100, 50)
    expected = np.array([np.histogram(c[~np.isnan(c)], bins)[0] for c in values.T]).T
    pd_result = voltage_binning.calculate_vdensity_array(frame, size)
    dask_result = voltage_binning.calculate_vdensity_array(
        dd.from_pandas(frame, npartitions=nparts), size
    )
    da = xr.DataArray(values, dims=("sim_trial_index", "t"), coords={"t": t})
    x_result = voltage_binning.calculate_vdensity_array(da, bin_size=size)
    lazy = voltage_binning.calculate_vdensity_array(da.chunk({"sim_trial_index": 2, "t": 4}), size)
    assert isinstance(dask_result, dask.array.Array)
    assert isinstance(lazy.data, dask.array.Array)
    np.testing.assert_array_equal(pd_result, expected)
    np.testing.assert_array_equal(dask_result.compute(scheduler="sync"), expected)
    np.testing.assert_array_equal(x_result.values, expected)
    np.testing.assert_array_equal(lazy.values, expected)
    np.testing.assert_array_equal(x_result["voltage"], bins[:-1])


def counted_frame(calls: list[int], n: int = 3) -> dd.DataFrame:
    """A dask frame of ``n`` partitions that records each partition it computes."""
    lock = threading.Lock()
    base = pd.DataFrame(
        {
            "synapse_type": ["L5tt_C2"] * 4,
            "soma_distance": [0.0, 60.0, 120.0, 10.0],
            "0": [1.0, 2.0, 3.0, 4.0],
            "1": [5.0, np.nan, 7.0, 8.0],
        }
    )

    def part(i: int) -> pd.DataFrame:
        with lock:
            calls.append(i)
        return base.set_axis([f"t{i}/{j}" for j in range(4)])

    return dd.from_delayed([dask.delayed(part)(i) for i in range(n)], meta=base.iloc[:0])


@pytest.mark.parametrize(
    "run",
    [
        lambda f: temporal_binning.temporal_binning_dask(f, 1, 0, 10),
        lambda f: spatiotemporal_binning.universal(f, "soma_distance"),
        lambda f: spatial_binning(f),
        lambda f: voltage_binning.calculate_vdensity_array(f[["0", "1"]], 1, 0, 10).compute(),
        lambda f: temporal_binning.by_group(f, "synapse_type", 1, 0, 10),
    ],
    ids=["temporal", "spatiotemporal", "spatial", "vdensity", "by_group"],
)
def test_dask_versions_compute_each_partition_once(run):
    calls: list[int] = []
    frame = counted_frame(calls)
    run(frame)
    assert sorted(calls) == [0, 1, 2]


@SETTINGS
@given(activation_tables(min_rows=1), bins, st.booleans())
def test_by_group_equals_temporal_binning_of_each_group_on_pandas_and_dask(table, b, normalize):
    frame, nparts = table
    size, lo, span = b
    kw = {"bin_size": size, "min_time": lo, "max_time": lo + span, "normalize": normalize}
    expected = {
        group: temporal_binning.temporal_binning_pd(rows, **kw)
        for group, rows in frame.groupby("synapse_type")
    }
    on_pandas = temporal_binning.by_group(frame, "synapse_type", **kw)
    ddf = dd.from_pandas(frame, npartitions=nparts)
    on_dask = temporal_binning.by_group(
        ddf, lambda f: f["synapse_type"].str.split("_").str[0], scheduler="sync", **kw
    )
    relabelled = {
        kind: temporal_binning.by_group(
            f, "synapse_type", relabel=lambda t: t.split("_")[0], scheduler="sync", **kw
        )
        for kind, f in (("pandas", frame), ("dask", ddf))
    }
    assert list(on_pandas) == sorted(expected)
    for group, (edges, hist) in expected.items():
        np.testing.assert_array_equal(on_pandas[group][0], edges)
        np.testing.assert_allclose(on_pandas[group][1], hist, rtol=1e-12)
        np.testing.assert_allclose(on_dask[group.split("_")[0]][1], hist, rtol=1e-12)
        for result in relabelled.values():  # one synapse type per cell type here
            np.testing.assert_allclose(result[group.split("_")[0]][1], hist, rtol=1e-12)
    for result in relabelled.values():
        assert list(result) == sorted(on_dask)


def test_voltage_density_of_a_dask_frame_is_lazy_until_computed():
    calls: list[int] = []
    frame = counted_frame(calls)[["0", "1"]]
    result = voltage_binning.calculate_vdensity_array_dask(frame, 1, 0, 10)
    assert calls == [] and result.shape == (10, 2)
    assert result.sum().compute() == 21


def test_xmin_and_xmax_choose_the_time_points():
    frame = pd.DataFrame([[-70.0, -60.0, 10.0]], columns=[100.0, 100.5, 101.0])
    out = voltage_binning.calculate_vdensity_array_pd(frame, 10, -100, 50, xmin=100.5)
    assert out.shape == (15, 2)
    np.testing.assert_array_equal(out.sum(axis=0), [1, 1])


def test_temporal_binning_dask_needs_min_and_max_time():
    ddf = dd.from_pandas(pd.DataFrame({"0": [1.0]}), npartitions=1)
    with pytest.raises(AnalyzeError, match="min_time and max_time"):
        temporal_binning.temporal_binning_dask(ddf, 1)


def test_bin_borders_replace_size_and_range_but_not_together():
    frame = pd.DataFrame({"0": [1.0, 2.0, 7.0]})
    edges, hist = temporal_binning.temporal_binning_pd(
        frame, bin_borders=[0, 2, 8], normalize=False
    )
    np.testing.assert_array_equal(hist, [1, 2])
    with pytest.raises(AnalyzeError, match="bin_borders or bin_size"):
        temporal_binning.temporal_binning_pd(frame, bin_size=1, bin_borders=[0, 2])
    with pytest.raises(AnalyzeError, match="increasing"):
        temporal_binning.temporal_binning_pd(frame, bin_borders=[2, 0])


@pytest.mark.parametrize(
    "call",
    [
        lambda: temporal_binning.universal([1, 2]),
        lambda: spatiotemporal_binning.universal(np.zeros((2, 2)), "d"),
        lambda: voltage_binning.calculate_vdensity_array({"a": 1}),
        lambda: spatial_binning(pd.Series([1.0])),
    ],
)
def test_inputs_of_another_type_are_refused_naming_the_type(call):
    with pytest.raises(AnalyzeError):
        call()


def test_missing_or_negative_distances_are_refused_naming_the_column():
    frame = pd.DataFrame({"soma_distance": [1.0, np.nan], "0": [1.0, 2.0]})
    with pytest.raises(AnalyzeError, match="soma_distance"):
        spatiotemporal_binning.universal_pd(frame, "soma_distance")
    with pytest.raises(AnalyzeError, match="no distance column 'depth'"):
        spatiotemporal_binning.universal_pd(frame, "depth")


def test_helper_functions_as_isf_documents_them():
    from zdb.analyze._helper_functions import (
        is_int,
        map_return_to_series,
        pd_to_array,
        time_list_from_pd,
    )

    df = pd.DataFrame(
        {
            "name1": [1, 2, 3],
            "name2": [4, 5, 6],
            "1": [7, 8, 9],
            "2": [10, 11, 12],
            "3": [13, 14, 15],
        }
    )
    np.testing.assert_array_equal(time_list_from_pd(df), np.arange(7, 16))
    with_nan = pd.DataFrame({"0": [1.0, np.nan], "x": [5.0, 6.0], "1": [np.nan, 2.0]})
    np.testing.assert_array_equal(time_list_from_pd(with_nan), [1.0, 2.0])
    assert [is_int(x) for x in ("3", 3, 2.5, "a", "2.5", np.nan, None)] == [
        True, True, True, False, False, False, False,
    ]  # fmt: skip
    assert map_return_to_series(lambda x: x * 2)(3).to_dict() == {"A": 6}
    np.testing.assert_array_equal(pd_to_array(df), df.to_numpy())


def test_spatial_binning_takes_the_bin_width_not_a_number_of_bins():
    frame = pd.DataFrame({"soma_distance": [0.0, 50.0, 50.5, 120.0], "0": [1.0, 2.0, 3.0, 400.0]})
    edges, counts = spatial_binning(frame, spatial_bin_size=50)
    np.testing.assert_array_equal(edges, [0, 50, 100, 150])  # ISF: 50 equal-width bins
    np.testing.assert_array_equal(counts, [2, 1, 0])  # 400 ms is outside [0, 295]
    with pytest.raises(AnalyzeError, match="positive number"):
        spatial_binning(frame, spatial_bin_size=[0, 50, 100])


def test_voltage_densities_are_summed_into_a_new_array_leaving_their_parts_as_they_were():
    parts = [np.full((2, 3), k, dtype=np.int64) for k in (1, 2, 3)]
    total = voltage_binning._sum(*parts)
    np.testing.assert_array_equal(total, np.full((2, 3), 6))
    assert [int(p[0, 0]) for p in parts] == [1, 2, 3]
    assert voltage_binning._sum(parts[0]) is parts[0]
