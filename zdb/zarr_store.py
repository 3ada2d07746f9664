"""A zarr-python store over a key's version folder that never reads damage as data.

zarr-python reads a missing chunk as fill values, which is right for arrays written
with chunks left out, and wrong for zdb's arrays, which are written with every chunk:
there a missing chunk means the version was replaced and removed under a lazy reader,
or the key is damaged. :class:`CheckedStore` turns a missing chunk into the zdb error
that says which (see :meth:`zdb.dumper.Target.missing`). It imports zarr, so it is
imported only where a value is read through zarr-python.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zarr.storage import WrapperStore

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
