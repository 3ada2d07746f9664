"""Small helpers around zarr-python shared by the Zarr dumpers."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def quiet_zarr() -> Iterator[None]:
    """Silence zarr's notices about data types and consolidated metadata not yet in the
    Zarr v3 specification: zdb documents its use of them in docs/format.md."""
    import zarr.errors

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", zarr.errors.UnstableSpecificationWarning)
        warnings.simplefilter("ignore", zarr.errors.ZarrUserWarning)
        yield


def consolidate(store: Any) -> None:
    """Write consolidated metadata so that xarray opens the group with one read."""
    import zarr

    with quiet_zarr():
        zarr.consolidate_metadata(store)
