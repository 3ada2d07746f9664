"""ISF's ``data_base.analyze._helper_functions``: small helpers analysis code imports.

``time_list_from_pd`` collects the times of a spike-time or synapse-activation table;
``pd_to_array`` turns a frame into a numpy array; ``map_return_to_series`` wraps a
function so that dask's ``map_partitions`` can carry its (array) result; ``is_int``
is ISF's test for a time column's label.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ._common import AnalyzeError, int_like, time_columns


def map_return_to_series(fun: Callable[..., Any], *args: Any, **kwargs: Any) -> Callable[..., Any]:
    """``fun`` changed to return its result wrapped as ``pandas.Series({'A': result})``
    (extra arguments are ignored, as in ISF)."""

    def inner(*args: Any, **kwargs: Any) -> pd.Series:
        return pd.Series({"A": fun(*args, **kwargs)})

    return inner


def is_int(x: Any) -> bool:
    """Whether ``int(x)`` works: ``'3'``, ``3`` and ``2.5`` are, ``'a'`` and NaN not."""
    return int_like(x)


def time_list_from_pd(df: pd.DataFrame) -> np.ndarray:
    """The values of every column of ``df`` whose label converts to int, column after
    column, NaN dropped: all spike or activation times of a table as a 1-D array."""
    if not isinstance(df, pd.DataFrame):
        raise AnalyzeError(
            f"time_list_from_pd takes a pandas DataFrame, got {type(df).__name__}; "
            "compute a dask frame's partition first"
        )
    columns = time_columns(df.columns)
    if not columns:
        return np.zeros(0)
    values = np.concatenate([df[c].to_numpy() for c in columns])
    if values.dtype.kind in "fc" or values.dtype == object:
        values = values[~pd.isna(values)]
    return values


def pd_to_array(pdf: pd.DataFrame | pd.Series) -> np.ndarray:
    """The values of a pandas frame or series as a numpy array."""
    return pdf.to_numpy()
