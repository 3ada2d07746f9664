"""The xarray view of a table stored in the Zarr layout."""

from __future__ import annotations

from typing import Any

from ..storage import Store
from .labels import label_from_json
from .zarr_layout import open_table


def open_xarray(store: Store, root: str, lazy: bool, columns: Any = None) -> Any:
    """An xarray view of the table: a DataArray for a 2-D block, else a Dataset with one
    variable per column (str labels that are no valid array name become the names)."""
    import xarray as xr

    from ..zarr_util import quiet_zarr

    table = open_table(store, root)
    positions = table.positions(columns)
    with quiet_zarr():
        ds = xr.open_zarr(store.zarr_store(root), consolidated=True, chunks={} if lazy else None)
    desc = table.table
    if desc["type"] == "Index":
        return ds  # the index coordinate (none for a RangeIndex)
    if desc["layout"] == "block":
        arr = ds[desc["block"]["array"]]
        if positions is not None:
            arr = arr.isel({desc["block"]["dim"]: positions})
        return arr
    names = desc["arrays"]
    chosen = range(len(names)) if positions is None else positions
    keep = [names[p] for p in chosen]
    ds = ds[list(dict.fromkeys(keep))]
    if desc["type"] == "Series":
        labels = [label_from_json(desc.get("name"))]
    else:
        labels = [table.columns[p] for p in chosen]
    renames = {}
    for name, label in zip(keep, labels, strict=True):
        if isinstance(label, str) and label != name and label not in ds.variables:
            renames[name] = label
    return ds.rename(renames) if renames else ds
