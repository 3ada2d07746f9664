"""The xarray view of a table stored in the Zarr layout."""

from __future__ import annotations

from typing import Any

from ..storage import Store
from .labels import label_from_json
from .missing import AS_IS, Guard
from .zarr_layout import StoredTable, is_optional, open_table


def open_xarray(
    store: Store, root: str, lazy: bool | None, columns: Any = None, guard: Guard = AS_IS
) -> Any:
    """An xarray view of the table: a DataArray for a 2-D block, else a Dataset with one
    variable per column (str labels that are no valid array name become the names).

    ``lazy``: True gives dask-backed variables, None variables read on access, False
    the view read into memory. A chunk found missing raises ``guard``'s error (see
    :mod:`.missing`) instead of reading as fill values.
    """
    import xarray as xr

    from ..zarr_store import CheckedStore
    from ..zarr_util import quiet_zarr

    table = open_table(store, root, guard)
    positions = table.positions(columns)
    optional = tuple(f"{path}/" for path, meta in table.metas.items() if is_optional(meta))
    zstore = CheckedStore(store.zarr_store(root), guard, optional)
    with quiet_zarr():
        try:
            ds = xr.open_zarr(zstore, consolidated=True, chunks={} if lazy else None)
        except FileNotFoundError as e:  # the group itself is gone
            raise guard.missing(e) from None
        view = _select(table, ds, positions)
        return view.load() if lazy is False else view


def _select(table: StoredTable, ds: Any, positions: list[int] | None) -> Any:
    """The variables of the chosen columns (all: None), named by their labels."""
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
