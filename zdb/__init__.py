"""zdb: a reproducible, dictionary-like database for simulation results on Zarr v3.

>>> db = zdb.DataBase("results")
>>> db["voltage"] = numpy_array
>>> db.metadata["voltage"]["full-revisionid"]
"""

from __future__ import annotations

from typing import Any

from . import IO, dbopen, exceptions  # IO registers the built-in dumpers
from .data_base_register import get_db_by_unique_id
from .database import DataBase, is_data_base, is_sub_data_base
from .IO.LoaderDumper.just_create_folder import ManagedFolder


def __getattr__(name: str) -> Any:
    # importlib.metadata and zipfile cost tens of ms; a script that only opens a
    # database and lists it should not pay for them
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("zdb")
        except PackageNotFoundError:  # a source tree that is not installed
            return "0+unknown"
    if name == "export_zip":
        from .archive import export_zip

        return export_zip
    if name == "isf_data_base":  # the reader of ISF's databases, imported when used
        import importlib

        return importlib.import_module(".isf_data_base", __name__)
    if name == "fsck":
        from .check import fsck

        return fsck
    if name == "gc":
        from .leftovers import gc

        return gc
    raise AttributeError(f"module 'zdb' has no attribute {name!r}")


__all__ = [
    "IO",
    "DataBase",
    "dbopen",
    "ManagedFolder",
    "__version__",
    "exceptions",
    "export_zip",
    "fsck",
    "gc",
    "get_db_by_unique_id",
    "is_data_base",
    "is_sub_data_base",
    "isf_data_base",
]
