"""ISF's ``data_base.IO.dask_wrappers``: a dask frame from an explicit list of CSV files
(dask's ``read_csv`` takes one glob pattern), the list built from path elements."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pandas as pd

__all__ = ["concat_path_elements_to_filelist", "my_reader", "read_csvs"]


def concat_path_elements_to_filelist(*args: Any) -> list[str]:
    """The paths made by joining the i-th element of each argument; a str or number is
    the same element for every path. ``('str', [1, 2], pd.Series([1, 2]))`` gives
    ``['str/1/1', 'str/2/2']``; no arguments give ``[]``."""
    if not args:
        return []
    columns = [[a] if isinstance(a, str | int | float) else list(a) for a in args]
    lengths = {len(c) for c in columns if len(c) != 1}
    if len(lengths) > 1:
        raise ValueError(
            f"the path elements are lists of different lengths {sorted(lengths)}; give each "
            "list one element per path (or a single element for all)"
        )
    n = lengths.pop() if lengths else 1
    columns = [c * n if len(c) == 1 else c for c in columns]
    return [os.path.join(*(str(part) for part in parts)) for parts in zip(*columns, strict=True)]


def my_reader(fname: str, fun: Callable[[pd.DataFrame], pd.DataFrame] | None) -> pd.DataFrame:
    """The CSV file ``fname`` as a pandas frame, passed through ``fun`` when given."""
    frame = pd.read_csv(fname)
    return frame if fun is None else fun(frame)


def read_csvs(*args: Any, fun: Callable[[pd.DataFrame], pd.DataFrame] | None = None) -> Any:
    """A dask frame of one partition per CSV file, the files named by
    :func:`concat_path_elements_to_filelist` of ``args``, each passed through ``fun``."""
    import dask
    import dask.dataframe as dd

    files = concat_path_elements_to_filelist(*args)
    return dd.from_delayed([dask.delayed(my_reader)(f, fun) for f in files])
