"""zarr-python stores over a key's version folder that never read damage as data, nor
follow a link out of the database.

zarr-python reads a missing chunk as fill values, which is right for arrays written
with chunks left out, and wrong for zdb's arrays, which are written with every chunk:
there a missing chunk means the version was replaced and removed under a lazy reader,
or the key is damaged. :class:`CheckedStore` turns a missing chunk into the zdb error
that says which (see :meth:`zdb.dumper.Target.missing`). It imports zarr, so it is
imported only where a value is read through zarr-python.
"""

from __future__ import annotations

import os
import stat
from typing import TYPE_CHECKING, Any

from zarr.storage import LocalStore, WrapperStore

from .exceptions import UnsafePathError

from .zarr_codec import METADATA_FILES  # absent without damage: zarr probes for them

if TYPE_CHECKING:
    from .dumper import Target


class CheckedStore(WrapperStore):
    """Wraps the zarr store of ``target`` (a :class:`zdb.dumper.Target`, or any object
    with its ``missing`` method); a missing chunk raises ``target.missing(...)`` instead
    of reading as fill values, except below the path prefixes in ``optional`` (arrays
    that leave out chunks equal to their fill value)."""

    def __init__(self, store: Any, target: Target, optional: tuple[str, ...] = ()) -> None:
        super().__init__(store)
        self.target = target
        self.optional = optional

    def _with_store(self, store: Any) -> CheckedStore:
        return type(self)(store, self.target, self.optional)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._store, self.target, self.optional))

    async def get(self, key: str, prototype: Any = None, byte_range: Any = None) -> Any:
        found = await self._store.get(key, prototype, byte_range)
        if (
            found is None
            and key.rsplit("/", 1)[-1] not in METADATA_FILES
            and not key.startswith(self.optional)
        ):
            raise self.target.missing(FileNotFoundError(f"chunk {key!r}"))
        return found

    async def get_partial_values(self, prototype: Any, key_ranges: Any) -> list[Any]:
        key_ranges = list(key_ranges)
        found = await self._store.get_partial_values(prototype, key_ranges)
        for (key, _), got in zip(key_ranges, found, strict=True):
            if got is None and not key.startswith(self.optional):
                raise self.target.missing(FileNotFoundError(f"chunk {key!r}"))
        return found


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
