"""zdb: a reproducible, dictionary-like database for simulation results on Zarr v3.

>>> db = zdb.DataBase("results")
>>> db["voltage"] = numpy_array
>>> db.metadata["voltage"]["full-revisionid"]
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("zdb")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

from . import IO, exceptions  # noqa: E402  (IO registers the built-in dumpers)
from .archive import export_zip  # noqa: E402
from .data_base_register import get_db_by_unique_id  # noqa: E402
from .database import DataBase, is_data_base, is_sub_data_base  # noqa: E402
from .IO.LoaderDumper.just_create_folder import ManagedFolder  # noqa: E402

__all__ = [
    "IO",
    "DataBase",
    "ManagedFolder",
    "__version__",
    "exceptions",
    "export_zip",
    "get_db_by_unique_id",
    "is_data_base",
    "is_sub_data_base",
]
