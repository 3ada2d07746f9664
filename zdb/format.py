"""The on-disk contract (see docs/format.md): node documents and the format version.

Every database and every key is a Zarr v3 group whose ``zarr.json`` carries zdb's
attributes under ``attributes["zdb"]``. This module writes and parses those documents;
it is the only place that knows their field names.
"""

from __future__ import annotations

import json
from typing import Any

from .exceptions import CorruptKeyError, FormatVersionError

#: the format version this zdb writes; it reads this one and every older one
FORMAT_VERSION = 1
ZARR_JSON = "zarr.json"
ATTR = "zdb"

KIND_DATABASE = "database"
KIND_DATA = "data"

#: the folder of a database holding zdb's own bookkeeping (shared metadata blobs, trash)
BOOKKEEPING = ".zdb"


def group_document(attributes: dict[str, Any], consolidated: dict | None = None) -> bytes:
    """The bytes of a Zarr v3 group ``zarr.json`` with these attributes."""
    doc: dict[str, Any] = {"zarr_format": 3, "node_type": "group", "attributes": attributes}
    if consolidated is not None:
        doc["consolidated_metadata"] = {
            "kind": "inline",
            "must_understand": False,
            "metadata": consolidated,
        }
    return json.dumps(doc, separators=(",", ":"), allow_nan=False).encode()


def node_document(zdb_attrs: dict[str, Any]) -> bytes:
    """The ``zarr.json`` of a zdb database or key node."""
    return group_document({ATTR: {"format": FORMAT_VERSION, **zdb_attrs}})


KIND_FOREIGN = "foreign"


def parse_node(data: bytes, where: str) -> dict[str, Any]:
    """zdb's attributes of a node; ``{"kind": "foreign", "node_type": ...}`` for a Zarr
    node that zdb did not write.

    Raises :class:`CorruptKeyError` when the document is not Zarr v3 JSON and
    :class:`FormatVersionError` when it was written by a newer zdb.
    """
    try:
        doc = json.loads(data)
        attrs = doc.get("attributes", {}) if doc.get("zarr_format") == 3 else None
    except (ValueError, AttributeError) as e:
        raise CorruptKeyError(
            f"{where}: its zarr.json is not valid Zarr v3 metadata ({e}); "
            "delete the key and write it again"
        ) from None
    if attrs is None:
        raise CorruptKeyError(
            f"{where}: its zarr.json is not Zarr v3 metadata; delete the key and write it again"
        )
    zattrs = attrs.get(ATTR)
    if not isinstance(zattrs, dict):
        if doc.get("node_type") not in ("group", "array"):
            raise CorruptKeyError(f"{where}: its zarr.json has no valid node_type")
        return {"kind": KIND_FOREIGN, "node_type": doc["node_type"]}
    version = zattrs.get("format", 1)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise FormatVersionError(
            f"{where} was written in zdb format {version!r}; this zdb reads formats up to "
            f"{FORMAT_VERSION}: upgrade zdb to read it"
        )
    return zattrs
