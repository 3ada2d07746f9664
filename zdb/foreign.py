"""Reading Zarr nodes that zdb did not write (a child group of a database without
zdb's attributes): a group as an xarray Dataset, an array as a numpy array."""

from __future__ import annotations

from typing import Any

from .exceptions import CorruptKeyError, DataBaseException
from .format import ForeignNode
from .storage import Store
from .zarr_util import quiet_zarr


def load_foreign(
    store: Store, path: str, node: ForeignNode, label: str, lazy: bool | None, as_xarray: bool
) -> Any:
    """The node at ``path``: a group as an xarray Dataset (a read-only zarr Group when
    xarray cannot open it, e.g. arrays without dimension names), an array as a numpy
    array (a dask array when ``lazy``). ``label`` names the key in errors."""
    import numpy as np
    import zarr

    zstore = store.zarr_store(path)
    try:
        with quiet_zarr():
            if node.node_type == "group":
                import xarray as xr

                try:
                    ds = xr.open_zarr(zstore, consolidated=False, chunks={} if lazy else None)
                except (KeyError, ValueError, TypeError):
                    return zarr.open_group(zstore, mode="r")
                return ds if (lazy or (as_xarray and lazy is None)) else ds.load()
            z = zarr.open_array(zstore, mode="r")
            if lazy:
                import dask.array as da

                return da.from_zarr(z)
            return np.asarray(z[...], dtype=z.dtype)  # z[...] of a 0-d array is a scalar
    except (DataBaseException, MemoryError):
        raise
    except Exception as e:
        raise CorruptKeyError(
            f"{label} is a Zarr {node.node_type} not written by zdb that cannot be read "
            f"({type(e).__name__}: {e}); repair it with the tool that wrote it, or delete it"
        ) from e
