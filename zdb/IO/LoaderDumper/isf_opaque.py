"""``isf_opaque``: an ISF key that ``zdb migrate`` could not convert, kept byte for byte.

Migrating an ISF database drops nothing: a key whose value cannot be decoded here (a
pickle of ISF's own classes, functions pickled under Python 3.8, a dumper zdb does not
read) keeps its files (``Loader.json``, ``metadata.json`` and its payload) in the
version folder's ``files/``. Listings show it with the reason; reading it raises
:class:`~zdb.exceptions.CorruptKeyError` saying why and where the files are, so that
they can be read where ISF is installed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ...dumper import Dumper, Target
from ...dumper_registry import register
from ...exceptions import CorruptKeyError, UnsupportedValueError
from ...format import group_document
from ...storage import join

FOLDER = "files"


@dataclass(frozen=True)
class OpaqueFiles:
    """The value this dumper stores: the files of an ISF key (relative names and a
    function reading each), the ISF dumper that wrote them and why they are kept as
    they are."""

    files: Iterable[tuple[str, Callable[[], bytes]]]
    isf_dumper: str
    reason: str


class IsfOpaque(Dumper):
    name = "isf_opaque"
    always_writes = True

    def handles(self, value: Any) -> bool:
        return isinstance(value, OpaqueFiles)

    def dump(self, value: Any, target: Target) -> dict[str, Any]:
        if not isinstance(value, OpaqueFiles):
            raise UnsupportedValueError("isf_opaque stores the files of ISF keys (OpaqueFiles)")
        count = size = 0
        for name, read in value.files:
            data = read()
            target.store.write_bytes(join(target.path, FOLDER, name), data)
            count, size = count + 1, size + len(data)
        target.store.write_bytes(join(target.path, "zarr.json"), group_document({}))
        return {
            "type": f"ISF {value.isf_dumper}",
            "summary": f"kept as ISF wrote it: {count} files, {size} bytes",
            "isf_dumper": value.isf_dumper,
            "reason": value.reason,
        }

    def reads_atomically(self, info: dict[str, Any]) -> bool:
        return True  # nothing is read

    def load(
        self, target: Target, info: dict[str, Any], *, lazy: bool = False, as_xarray: bool = False
    ) -> Any:
        raise CorruptKeyError(
            f"{target.key} was kept as ISF wrote it (its dumper {info.get('isf_dumper')!r}) "
            f"when the ISF database was migrated, because: {info.get('reason')}. Its files "
            f"are in {target.store.full(join(target.path, FOLDER))}: read them where ISF is "
            "installed and store the value again"
        )


dumper = register(IsfOpaque())
