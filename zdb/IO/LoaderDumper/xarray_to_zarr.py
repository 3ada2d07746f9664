"""``xarray_to_zarr``: ``xr.DataArray`` and ``xr.Dataset`` with dims, coords, names and
attrs, written by xarray's own Zarr backend into the key's version group, so that the
group is exactly what ``xarray.open_zarr`` expects. Dask-backed objects are written in
parallel by the active dask scheduler.
"""

from __future__ import annotations

from typing import Any

from ...dumper import Dumper, Target, module_loaded
from ...dumper_registry import register
from ...exceptions import UnsupportedValueError
from ...zarr_util import quiet_zarr

#: the variable name of an unnamed DataArray (xarray's own name would start with
#: "__", which Zarr v3 reserves)
UNNAMED = "data"


class XarrayToZarr(Dumper):
    name = "xarray_to_zarr"
    always_writes = True
    priority = 10

    def handles(self, value: Any) -> bool:
        if not module_loaded("xarray"):
            return False
        import xarray as xr

        return isinstance(value, xr.DataArray | xr.Dataset)

    def dump(self, value: Any, target: Target, encoding: dict | None = None) -> dict[str, Any]:
        import xarray as xr

        info: dict[str, Any] = {"type": f"xarray.{type(value).__name__}"}
        if isinstance(value, xr.DataArray):
            var = UNNAMED if value.name is None else str(value.name)
            if var in value.coords:
                raise UnsupportedValueError(
                    f"the DataArray's name {value.name!r} is also one of its coordinates; "
                    "rename it (da.rename('...')) before storing"
                )
            info["variable"] = var
            info["name_is_none"] = value.name is None
            info["summary"] = f"{value.dtype} {dict(value.sizes)}"
            ds = value.to_dataset(name=var)
        elif isinstance(value, xr.Dataset):
            ds = value
            info["summary"] = f"{len(ds.data_vars)} variables {dict(ds.sizes)}"
        else:
            raise UnsupportedValueError(f"xarray_to_zarr stores xarray objects, not {type(value)}")
        _check_names(ds)
        with quiet_zarr():
            ds.to_zarr(
                target.zarr_store(), mode="w", zarr_format=3, consolidated=True, encoding=encoding
            )
        return info

    def load(
        self,
        target: Target,
        info: dict[str, Any],
        *,
        lazy: bool = False,
        as_xarray: bool = False,
        **kwargs: Any,
    ) -> Any:
        import xarray as xr

        with quiet_zarr():
            ds = xr.open_zarr(
                target.zarr_store(), consolidated=True, chunks={} if lazy else None, **kwargs
            )
            if lazy is False:
                ds = ds.load()
        if "variable" not in info:
            return ds
        da = ds[info["variable"]]
        return da.rename(None) if info.get("name_is_none") else da


def _check_names(ds: Any) -> None:
    """Refuse variable names that Zarr reads as paths: the variable would be stored
    in a subgroup, which xarray does not read back (the Dataset would come back
    without it)."""
    for name in ds.variables:
        if "/" in str(name):
            raise UnsupportedValueError(
                f"the variable {name!r} has a '/' in its name, which Zarr takes for a "
                f"group path (it would not read back); rename it, e.g. "
                f"value.rename({{{name!r}: {str(name).replace('/', '_')!r}}}), before storing"
            )


dumper = register(XarrayToZarr())
