"""A zdb dumper for numpy masked arrays: the data and the mask as two Zarr arrays.

zdb finds it through the ``zdb.dumpers`` entry point in this package's pyproject.toml,
and chooses it for every ``numpy.ma.MaskedArray`` stored without a named dumper. Plain
xarray opens the stored key (``xarray.open_zarr(db.path_of(key))``) as two variables.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import zarr

from zdb.dumper import Dumper, Target
from zdb.exceptions import CorruptKeyError, UnsupportedValueError

#: write every chunk, even one equal to the fill value, so that a missing chunk is
#: damage that reading reports (``target.zarr_store(every_chunk=True)``)
_EVERY_CHUNK = {"write_empty_chunks": True}


class MaskedArrayToZarr(Dumper):
    """``masked_array_to_zarr``: a numeric masked array as ``data`` and ``mask``."""

    name = "masked_array_to_zarr"
    #: above numpy_to_zarr's priority, which would store the data without the mask
    priority = 20
    #: version 1 is the layout below; a release that changes it raises this number
    format_version = 1

    def handles(self, value: Any) -> bool:
        return isinstance(value, np.ma.MaskedArray)

    def dump(self, value: np.ma.MaskedArray, target: Target) -> dict[str, Any]:
        data = np.ma.getdata(value)
        if data.dtype.kind not in "biuf":
            raise UnsupportedValueError(
                f"masked_array_to_zarr stores numeric masked arrays, not dtype {data.dtype}"
            )
        dims = [f"dim_{i}" for i in range(data.ndim)]
        store = target.zarr_store()
        group = zarr.open_group(store, mode="w", zarr_format=3)
        group.create_array("data", data=data, dimension_names=dims, config=_EVERY_CHUNK)
        group.create_array(
            "mask", data=np.ma.getmaskarray(value), dimension_names=dims, config=_EVERY_CHUNK
        )
        with warnings.catch_warnings():  # zarr warns that consolidation is not in its spec
            warnings.simplefilter("ignore", zarr.errors.ZarrUserWarning)
            zarr.consolidate_metadata(store)  # xarray opens the key without listing it
        info = {
            "type": "numpy.ma.MaskedArray",
            "summary": f"{data.dtype} {data.shape}, {int(np.ma.count_masked(value))} masked",
        }
        if value.fill_value != np.ma.default_fill_value(data):
            info["fill_value"] = value.fill_value.item()
        return info

    def load(
        self, target: Target, info: dict[str, Any], *, lazy: bool = False, as_xarray: bool = False
    ) -> np.ma.MaskedArray:
        if target.dumper_version != 1:
            raise CorruptKeyError(f"{target.key}: unknown masked_array_to_zarr layout")
        group = zarr.open_group(target.zarr_store(every_chunk=True), mode="r")
        return np.ma.MaskedArray(
            group["data"][...], mask=group["mask"][...], fill_value=info.get("fill_value")
        )
