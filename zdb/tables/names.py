"""Array names in a table's group: which labels can name an array as they are, and how
the others get unique encoded names (docs/format.md, "Names").

Readers never recompute names (a table lists its arrays), so these rules decide only
what is written.
"""

from __future__ import annotations

import re
from typing import Any

from ..zarr_codec import METADATA_FILES

#: the child group holding auxiliary arrays; ``.``-names are zdb bookkeeping
AUX = ".zdb"
#: names of the format's own files, which no array may take on any store (a folder
#: ``zarr.json`` cannot sit next to the file ``zarr.json`` on a disk), ignoring case
RESERVED_NAMES = frozenset(name.lower() for name in METADATA_FILES)
#: characters a name must not have: "/" and "\\" (path separators to zarr), controls
BAD_NAME_CHARS = re.compile(r"[/\\\x00-\x1f\x7f]")
#: longest name (UTF-8 bytes): file systems allow 255 per path component
MAX_NAME_BYTES = 200


def is_valid_name(label: Any) -> bool:
    """True if ``label`` can name a Zarr array of a table as it is: a str that is a valid
    Zarr v3 node name (not empty, not only periods, no ``/``, not starting with the
    reserved ``__``), without ``\\`` or control characters, not overlong and not the name
    of a Zarr metadata file (:data:`RESERVED_NAMES`, ignoring case)."""
    if not isinstance(label, str):
        return False
    try:
        size = len(label.encode("utf-8"))
    except UnicodeEncodeError:  # lone surrogates: no file name
        return False
    return (
        label.strip(".") != ""
        and not label.startswith("__")
        and BAD_NAME_CHARS.search(label) is None
        and size <= MAX_NAME_BYTES
        and label.lower() not in RESERVED_NAMES
    )


class NameAllocator:
    """Allocates array names in one group, unique even on case-insensitive file systems."""

    def __init__(self) -> None:
        self._taken: set[str] = {AUX.lower()}

    def free(self, name: str) -> bool:
        return name.lower() not in self._taken

    def claim(self, name: str) -> str:
        self._taken.add(name.lower())
        return name

    def claim_label(self, label: Any, fallback: str) -> str:
        """The label itself when usable and free, else a free name derived from it."""
        if is_valid_name(label) and self.free(label):
            return self.claim(label)
        text = fallback if label is None else str(label)
        text = BAD_NAME_CHARS.sub("_", text).encode("utf-8", "replace")[:100]
        base = text.decode("utf-8", "ignore").lstrip("_.") or fallback
        if not is_valid_name(base):
            base = fallback
        candidate, i = base, 1
        while not self.free(candidate):
            candidate, i = f"{base}_{i}", i + 1
        return self.claim(candidate)
