"""Voltage-trace files of ISF's simrun format.

``<uid>_vm_all_traces.csv`` (the soma) and ``<uid>_<site label>_vm_dend_traces.csv`` (a
dendritic recording site): tab separated, header ``t``, ``Vm run 00``, ``Vm run 01``, ...
(the trial numbers), then one row per time step. Parsing goes through pyarrow's CSV
reader, which is exact and strict about the number of fields; writing gives the bytes
ISF writes.

``<uid>_vm_all_traces.npz`` (somatic traces as ISF's newer simulations may write them,
read by ISF's ``read_voltage_traces_from_npz``): a NumPy ``.npz`` archive whose array
``arr_0`` has one row per time step, the time in column 0 and one column per trial after
it; the trials are numbered 0, 1, ... in column order (the file names none).
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pcsv

from .text import (
    PathLike,
    SimrunFormatError,
    format_floats,
    is_blank,
    read_header_and_body,
    write_rows,
)

_TRACE_COLUMN = re.compile(r"Vm run (\d+)")
#: the suffix of NumPy voltage-trace files
NPZ_SUFFIX = ".npz"
#: the array of a ``.npz`` voltage-trace file
NPZ_ARRAY = "arr_0"


class VoltageTraceArrays(NamedTuple):
    """The content of a voltage-trace file as plain arrays."""

    #: time of each sample (ms), float64, shape (n_samples,)
    t: np.ndarray
    #: trial numbers from the header (``Vm run 05`` -> 5), int64, shape (n_trials,)
    trials: np.ndarray
    #: membrane potential (mV), float64, shape (n_trials, n_samples)
    values: np.ndarray


def _trials_from_header(header: str, path: PathLike) -> np.ndarray:
    fields = header.split("\t")
    if fields[0].strip() != "t":
        raise SimrunFormatError(
            f"{os.fspath(path)} is not a voltage-trace file: its header must start with "
            f"'t' followed by 'Vm run NN' columns, found {header[:80]!r}"
        )
    trials = []
    for field in fields[1:]:
        match = _TRACE_COLUMN.fullmatch(field.strip())
        if match is None:
            raise SimrunFormatError(
                f"{os.fspath(path)}: header column {field!r} is not of the form 'Vm run NN'"
            )
        trials.append(int(match.group(1)))
    if len(set(trials)) != len(trials):
        raise SimrunFormatError(f"{os.fspath(path)}: a trial number repeats in the header")
    return np.array(trials, dtype=np.int64)


def _is_npz(path: PathLike) -> bool:
    return os.fspath(path).endswith(NPZ_SUFFIX)


def _npz_error(path: PathLike, problem: str) -> SimrunFormatError:
    return SimrunFormatError(
        f"{os.fspath(path)} is not a voltage-trace .npz file ({problem}): it must hold one "
        f"2-D float array {NPZ_ARRAY!r} with the time in column 0 and a column per trial"
    )


def _npz_shape(path: PathLike) -> tuple[int, ...]:
    """The shape of the array of a ``.npz`` voltage-trace file, from its header alone."""
    try:
        with zipfile.ZipFile(path) as archive, archive.open(f"{NPZ_ARRAY}.npy") as f:
            version = np.lib.format.read_magic(f)
            if version == (1, 0):
                shape, _, dtype = np.lib.format.read_array_header_1_0(f)
            else:
                shape, _, dtype = np.lib.format.read_array_header_2_0(f)
    except FileNotFoundError:
        raise SimrunFormatError(f"{os.fspath(path)} does not exist") from None
    except (KeyError, OSError, ValueError, zipfile.BadZipFile) as e:
        raise _npz_error(path, str(e)) from None
    if len(shape) != 2 or shape[1] < 1 or dtype.kind not in "fiu":
        raise _npz_error(path, f"its array has shape {shape} and dtype {dtype}")
    return tuple(shape)


def read_npz_voltage_trace_arrays(path: PathLike) -> VoltageTraceArrays:
    """Read a ``*_vm_all_traces.npz`` file: ``t`` is column 0 of its array (ISF's reader
    assumed 0.025 ms steps from 0 instead, right only for such files), trial ``i`` is
    column ``i + 1``."""
    n_samples, n_columns = _npz_shape(path)
    try:
        with np.load(path, allow_pickle=False) as archive:
            data = np.asarray(archive[NPZ_ARRAY], dtype=np.float64)
    except (OSError, ValueError) as e:
        raise _npz_error(path, str(e)) from None
    trials = np.arange(n_columns - 1, dtype=np.int64)
    return VoltageTraceArrays(data[:, 0].copy(), trials, np.ascontiguousarray(data[:, 1:].T))


def write_npz_voltage_trace_arrays(path: PathLike, t: np.ndarray, values: np.ndarray) -> None:
    """Write a ``.npz`` voltage-trace file of ``values`` (one row per trial, numbered from
    0) sampled at ``t``."""
    t = np.asarray(t, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64).reshape(-1, len(t))
    np.savez(path, **{NPZ_ARRAY: np.column_stack([t, values.T])})


def read_voltage_trace_header(path: PathLike) -> np.ndarray:
    """The trial numbers named in a voltage-trace file's header, reading only that line
    (of a ``.npz`` file: 0, 1, ... per trial column, read from the array's header)."""
    if _is_npz(path):
        return np.arange(_npz_shape(path)[1] - 1, dtype=np.int64)
    try:
        # undecodable bytes become U+FFFD, which the header check then names
        with open(path, encoding="utf-8", errors="replace") as f:
            header = f.readline().rstrip("\r\n")
    except FileNotFoundError:
        raise SimrunFormatError(f"{os.fspath(path)} does not exist") from None
    return _trials_from_header(header, path)


def read_voltage_trace_arrays(path: PathLike, *, use_threads: bool = True) -> VoltageTraceArrays:
    """Read a ``*_vm_all_traces.csv`` or ``*_vm_dend_traces.csv`` file into arrays.

    The fast path for importers: no DataFrame is built. ``values[i]`` is the trace of
    trial ``trials[i]``. pyarrow's CSV reader is exact, strict about the number of fields
    and, unlike pandas', runs without holding the GIL, so threads parse files in
    parallel; ``use_threads=False`` keeps it from starting threads of its own (for
    callers whose threads already occupy the cores, such as dask tasks). A ``.npz`` file
    is read by :func:`read_npz_voltage_trace_arrays`.
    """
    if _is_npz(path):
        return read_npz_voltage_trace_arrays(path)
    header, body = read_header_and_body(path)
    trials = _trials_from_header(header, path)
    n_columns = 1 + len(trials)
    if is_blank(body):
        return VoltageTraceArrays(np.empty(0), trials, np.empty((len(trials), 0)))
    table = _parse_body(path, body, n_columns, n_columns, use_threads)
    t = table.column(0).to_numpy()
    values = np.empty((len(trials), table.num_rows), dtype=np.float64)
    for i in range(len(trials)):
        values[i] = table.column(i + 1).to_numpy()
    return VoltageTraceArrays(t, trials, values)


def read_time_axis(path: PathLike) -> np.ndarray:
    """The time axis (first column) of a voltage-trace file, exactly as
    :func:`read_voltage_trace_arrays` reads it, converting no other column."""
    if _is_npz(path):
        return read_npz_voltage_trace_arrays(path).t
    header, body = read_header_and_body(path)
    n_columns = 1 + len(_trials_from_header(header, path))
    if is_blank(body):
        return np.empty(0)
    return _parse_body(path, body, n_columns, 1, False).column(0).to_numpy()


def _parse_body(
    path: PathLike, body: memoryview, n_columns: int, converted: int, use_threads: bool
) -> pa.Table:
    """The rows of a voltage-trace file's ``body``, ``n_columns`` tab separated numbers
    each, as float64 columns ``c0``, ``c1``, ...: the first ``converted`` of them only
    (pyarrow still checks every row's number of fields)."""
    names = [f"c{i}" for i in range(n_columns)]
    try:
        return pcsv.read_csv(
            pa.py_buffer(body),
            read_options=pcsv.ReadOptions(column_names=names, use_threads=use_threads),
            parse_options=pcsv.ParseOptions(delimiter="\t", quote_char=False),
            convert_options=pcsv.ConvertOptions(
                column_types=dict.fromkeys(names[:converted], pa.float64()),
                include_columns=names[:converted],
                null_values=[],
            ),
        )
    except pa.ArrowInvalid as e:
        raise SimrunFormatError(
            f"{os.fspath(path)}: every row must hold {n_columns} tab separated numbers "
            f"(t and one value per trial in the header): {e}"
        ) from None


def read_voltage_traces(path: PathLike) -> pd.DataFrame:
    """Read a voltage-trace file into a DataFrame: one row per trial (index ``trial``,
    the numbers of the header), one column per time step labelled by its float time."""
    t, trials, values = read_voltage_trace_arrays(path)
    return pd.DataFrame(
        values,
        index=pd.Index(trials, name="trial"),
        columns=pd.Index(t, dtype=np.float64),
    )


def write_voltage_trace_arrays(
    path: PathLike, t: np.ndarray, trials: Sequence[int] | np.ndarray, values: np.ndarray
) -> None:
    """Write a voltage-trace file as ISF does: header ``t``, ``Vm run NN`` (two digits at
    least), then one tab separated row per time step."""
    t = np.asarray(t, dtype=np.float64)
    trials = np.asarray(trials)
    if trials.size == 0:
        trials = trials.astype(np.int64)
    values = np.asarray(values, dtype=np.float64)
    if trials.dtype.kind not in "iu" or (trials < 0).any():
        raise SimrunFormatError(
            f"cannot write {os.fspath(path)}: trial numbers must be non-negative integers"
        )
    if values.shape != (len(trials), len(t)):
        raise SimrunFormatError(
            f"cannot write {os.fspath(path)}: values have shape {values.shape}, expected "
            f"(n_trials, n_samples) = ({len(trials)}, {len(t)})"
        )
    header = "t" + "".join(f"\tVm run {int(i):02d}" for i in trials)
    n = len(t)
    formatted = format_floats(values)
    columns = [format_floats(t)] + [formatted.slice(i * n, n) for i in range(len(trials))]
    write_rows(path, header, columns)


def write_voltage_traces(path: PathLike, traces: pd.DataFrame) -> None:
    """Write a DataFrame as :func:`read_voltage_traces` returns it (rows are trials with
    integer labels, columns are float times) to a voltage-trace file."""
    try:
        t = np.asarray(traces.columns, dtype=np.float64)
        trials = np.asarray(traces.index, dtype=np.int64)
    except (TypeError, ValueError):
        raise SimrunFormatError(
            f"cannot write {os.fspath(path)}: the DataFrame needs integer trial numbers as "
            "index and float times as column labels"
        ) from None
    write_voltage_trace_arrays(path, t, trials, traces.to_numpy(dtype=np.float64))
