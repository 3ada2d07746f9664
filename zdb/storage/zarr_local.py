"""zarr-python's view of a local database folder: its local store, refusing links.

Dumpers that write or read through zarr-python (large arrays, xarray objects) get this
store from :meth:`zdb.storage.LocalStore.zarr_store`. It imports zarr, so it is
imported only when such a value is written or read.
"""

from __future__ import annotations

import os
import stat
from typing import Any

from zarr.storage import LocalStore

from ..exceptions import UnsafePathError


class NoLinkLocalStore(LocalStore):
    """zarr-python's local store that never follows a symbolic link below its root: a
    database folder is untrusted, and a planted link (``data/c/0 -> ~/.ssh/id_rsa``)
    must not be read as a chunk. Each folder is checked once; each file as it is read."""

    def __init__(self, root: Any, *, read_only: bool = False) -> None:
        super().__init__(root, read_only=read_only)
        self._real_folders: set[str] = set()

    def _check(self, key: str) -> None:
        parts = key.split("/")
        for i in range(1, len(parts) + 1):
            rel = "/".join(parts[:i])
            if rel in self._real_folders:
                continue
            full = os.path.join(self.root, rel)
            try:
                mode = os.lstat(full).st_mode
            except (FileNotFoundError, NotADirectoryError):
                return
            if stat.S_ISLNK(mode):
                raise UnsafePathError(
                    f"{full} is a symbolic link inside a database; zdb never follows links "
                    "in a database (it may be damaged or hostile): remove the link"
                )
            if stat.S_ISDIR(mode) and i < len(parts):
                self._real_folders.add(rel)

    async def get(self, key: str, prototype: Any = None, byte_range: Any = None) -> Any:
        self._check(key)
        return await super().get(key, prototype, byte_range)

    async def get_partial_values(self, prototype: Any, key_ranges: Any) -> list[Any]:
        key_ranges = list(key_ranges)
        for key, _ in key_ranges:
            self._check(key)
        return await super().get_partial_values(prototype, key_ranges)
