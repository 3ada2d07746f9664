"""A stored table as its reader asks for it: pandas, a lazy dask frame or an xarray view,
in either layout (what the table dumpers' ``load`` does). ``guard`` gives the error for
a file of the table found missing (see :mod:`.missing`), in every read mode."""

from __future__ import annotations

from typing import Any

from ..storage import Store
from . import dask_frames, parquet_layout, xarray_view, zarr_layout
from .missing import AS_IS, Guard


def read_zarr(
    store: Store,
    root: str,
    *,
    lazy: bool | None,
    as_xarray: bool,
    columns: Any = None,
    guard: Guard = AS_IS,
) -> Any:
    """The Zarr table at ``root``: an xarray view (read into memory when ``lazy`` is
    False, on access when None), a dask frame (``lazy``) or pandas."""
    if as_xarray:
        return xarray_view.open_xarray(store, root, lazy, columns=columns, guard=guard)
    if lazy:
        return dask_frames.read_lazy(store, root, columns=columns, guard=guard)
    return zarr_layout.read_table(store, root, columns=columns, guard=guard)


def read_parquet(
    store: Store,
    root: str,
    *,
    lazy: bool | None,
    as_xarray: bool,
    columns: Any = None,
    guard: Guard = AS_IS,
) -> Any:
    """The Parquet table at ``root``: a dask frame (``lazy``) or pandas; it has no
    xarray view."""
    if as_xarray:
        parquet_layout.open_parquet_table(store, root, guard)  # a missing table raises first
        raise parquet_layout.refuse_xarray(store, root)
    if lazy:
        return dask_frames.read_lazy(store, root, columns=columns, layout="parquet", guard=guard)
    return parquet_layout.read_table(store, root, columns=columns, guard=guard)


def report_divisions(value: Any) -> Any:
    """Print whether the dask frame ``value`` has known divisions, as ISF's loader did
    with ``verbose=True``, and return it; anything else is returned as it is."""
    if hasattr(value, "known_divisions"):
        known = "with" if value.known_divisions else "without"
        print(f"loaded dask dataframe {known} known divisions")
    return value
