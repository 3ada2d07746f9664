"""Where databases live: the :class:`Store` contract and its backends.

:func:`open_store` turns a local path or an fsspec URL into a store; the contract,
with the capabilities each backend declares, is in :mod:`zdb.storage.base`.
"""

from __future__ import annotations

import os

from .base import Store, check_relative, join
from .fsspec_store import FsspecStore
from .local import LocalStore


def open_store(path_or_url: str | os.PathLike, storage_options: dict | None = None) -> Store:
    """The store for a local path, a ``.zip`` archive or an fsspec URL (``s3://...``,
    ``memory://...``, ``zip://::/path/archive.zip``)."""
    path = os.fspath(path_or_url)
    if path.startswith("file://"):
        path = path[len("file://") :]
    if "://" not in path and path.endswith(".zip") and os.path.isfile(path):
        path = f"zip://::{os.path.abspath(path)}"
    if "://" in path:
        return FsspecStore(path, storage_options)
    return LocalStore(path)


__all__ = ["FsspecStore", "LocalStore", "Store", "check_relative", "join", "open_store"]
