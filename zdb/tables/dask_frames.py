"""Tables as dask frames: a stored table read lazily, one partition per task.

A partition's task carries only where the table is and which columns it wants, and
re-opens the table (cached) where it runs, so the graph stays small however wide the
table is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from ..storage import Store
from .plan import unwrap_index
from .zarr_layout import open_table


class PartitionReader:
    """Reads one partition (a row range) of a stored table: the function of a lazy dask
    frame. It carries only the store, the path and the chosen columns and re-opens the
    table (cached) where it runs, so the graph stays small however wide the table is.
    Its ``columns=`` keyword lets dask read only the columns a computation uses."""

    def __init__(self, store: Store, root: str, columns: list[Any] | None = None) -> None:
        self.store = store
        self.root = root
        self.default_columns = columns

    def __call__(
        self, rows: tuple[int, int], columns: list[Any] | None = None
    ) -> pd.DataFrame | pd.Series:
        chosen = self.default_columns if columns is None else columns
        return open_table(self.store, self.root).read(rows=rows, columns=chosen)


def read_lazy(store: Store, root: str, columns: Any = None) -> Any:
    """The table at ``root`` as a dask DataFrame (or Series) with its stored partitions,
    and known divisions when its index is sorted; only what is computed is read."""
    table = open_table(store, root)
    positions = table.positions(columns)
    if positions is not None:
        columns = list(table.columns.take(positions))
    meta = table.read(rows=(0, 0), columns=columns)
    bounds = np.concatenate([[0], np.cumsum(table.table["partitions"])]).astype(int).tolist()
    ranges = [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
    frame = dask_frame(PartitionReader(store, root, columns), ranges, meta, table.divisions)
    return unwrap_index(table.table, frame)


#: zdb's own changes of dask's process-wide config take turns (see :func:`dask_frame`)
_dask_config_lock = threading.Lock()


def dask_frame(
    reader: Callable[..., Any],
    ranges: list[tuple[int, int]],
    meta: pd.DataFrame | pd.Series,
    divisions: tuple[Any, ...] | None,
    label: str = "zdb-read",
) -> Any:
    """A dask frame of the partitions ``reader(rng)`` gives for each of ``ranges``, with
    the stored dtypes: dask would turn object columns into pyarrow strings, so it is
    built with that conversion off. ``dask.config.set`` changes the config of the whole
    process, and threads entering and leaving it at once could leave it off for good:
    the lock makes zdb's own changes take turns."""
    import dask
    import dask.dataframe as dd

    with _dask_config_lock, dask.config.set({"dataframe.convert-string": False}):
        return dd.from_map(
            reader,
            ranges,
            meta=meta,
            divisions=divisions,
            label=label,
            enforce_metadata=False,
        )
