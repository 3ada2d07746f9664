"""The plain-text layer of ISF's simrun files: tab separated lines, a header line, and
numbers written as Python's ``str`` writes them.

Every format module of :mod:`zdb.simrun` reads its files through
:func:`read_header_and_body` and writes them through :func:`write_rows`, so header
decoding, missing-file errors and the byte-exact number formatting are the same for all.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv

from ..exceptions import DataBaseException

PathLike = str | os.PathLike


class SimrunFormatError(DataBaseException):
    """A raw simulation output file or result folder does not have the simrun layout."""


def format_floats(values: np.ndarray) -> pa.StringArray:
    """Format float64 values exactly as Python's ``repr`` (ISF writes ``str(float)``).

    pyarrow's cast gives the same shortest round-trip digits about ten times faster than
    ``repr``; it differs only in notation (``100`` for ``100.0``, exponents chosen by a
    different rule), so those few values are mended or formatted by ``repr`` itself.
    """
    x = np.ascontiguousarray(values, dtype=np.float64).ravel()
    s = pc.cast(pa.array(x), pa.string())
    mags = np.abs(x)
    with np.errstate(invalid="ignore"):
        odd = ~np.isfinite(x) | (mags >= 1e16) | ((mags < 1e-4) & (x != 0))
        integral = ~odd & (x == np.trunc(x))
    odd |= pc.match_substring(s, "e").to_numpy(zero_copy_only=False)
    integral &= ~odd
    fix = odd | integral
    if fix.any():
        idx = np.flatnonzero(fix)
        s = pc.replace_with_mask(s, pa.array(fix), pa.array([repr(v) for v in x[idx].tolist()]))
    return s


def format_ints(values: np.ndarray) -> pa.StringArray:
    """Format integers as Python's ``str`` does."""
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def write_rows(path: PathLike, header: str, columns: Sequence[pa.Array]) -> None:
    """Write a header line and tab separated string columns, without quoting."""
    table = pa.table(columns, names=[f"c{i}" for i in range(len(columns))])
    options = pcsv.WriteOptions(include_header=False, delimiter="\t", quoting_style="none")
    try:
        with pa.OSFile(os.fspath(path), "wb") as sink:
            sink.write((header + "\n").encode())
            if table.num_rows:
                pcsv.write_csv(table, sink, options)
    except pa.ArrowInvalid as e:
        raise SimrunFormatError(
            f"cannot write {os.fspath(path)}: a value contains a tab, newline or quote, "
            f"which the simrun format cannot hold ({e})"
        ) from None


def read_header_and_body(path: PathLike) -> tuple[str, memoryview]:
    """The file's first line (without line end) and a view of the rest."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise SimrunFormatError(f"{os.fspath(path)} does not exist") from None
    end = data.find(b"\n")
    if end < 0:
        end = len(data)
    header = data[:end].decode("utf-8", errors="replace").rstrip("\r")
    return header, memoryview(data)[end + 1 :]


def is_blank(body: memoryview) -> bool:
    """True if the rest of a file holds only whitespace (a header without rows)."""
    return not bytes(body[:4096]).strip() and not bytes(body).strip()
