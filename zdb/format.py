"""The on-disk contract (docs/format.md): node records, and the grammar of every name
zdb reads from a database before it joins it to a path.

Every database and every key is a Zarr v3 group whose ``zarr.json`` carries zdb's
attributes under ``attributes["zdb"]``. :func:`parse_node` is the only place that
reads those documents: it returns a typed, frozen record (:class:`DatabaseNode`,
:class:`KeyNode`, :class:`ForeignNode`) whose fields have been checked, so that a
damaged or hostile ``zarr.json`` raises :class:`CorruptKeyError` naming the node,
instead of leading zdb outside the database (a version ``"../../thesis"``, a blob
digest ``"../../.ssh/authorized_keys"``) or failing later with a raw error.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar

from .exceptions import CorruptKeyError, FormatVersionError

#: the newest format version this zdb writes; it reads this one and every older one.
#: Each node is written in the oldest format that describes it (docs/format.md), so
#: that an older zdb reads every node it can
FORMAT_VERSION = 2
#: the format of a key node whose value is kept in the pointer and whose version
#: folder is written only on request (``KeyNode.deferred``)
DEFERRED_FORMAT = 2
ZARR_JSON = "zarr.json"
ATTR = "zdb"

KIND_DATABASE = "database"
KIND_DATA = "data"
KIND_FOREIGN = "foreign"

#: the folder of a database holding zdb's own bookkeeping (blobs, index, trash, ...)
BOOKKEEPING = ".zdb"

#: a version folder: ``.v<µs since the epoch, hex>-<8 hex random>``
VERSION_PREFIX = ".v"
_VERSION_NAME = re.compile(r"\.v[0-9a-f]{1,16}-[0-9a-f]{8}")
#: a shared metadata blob is named by the SHA-256 of its content
_BLOB_DIGEST = re.compile(r"[0-9a-f]{64}")
#: a database's unique id (zdb writes ``YYYY-MM-DD_HH-MM-SS_<12 hex>``); it names
#: files in the registry, so it may hold no path separators
_UNIQUE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}")
_DUMPER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,99}")
#: the largest dumper format version a pointer may name (anything larger is damage)
MAX_DUMPER_VERSION = 1_000_000
#: provenance fields stored as shared blobs, and the stored field holding the digest
BLOB_FIELDS = {
    "diff": "diff_blob",
    "module_versions": "module_versions_blob",
    "history": "history_blob",
}


def is_version_name(name: object) -> bool:
    """True if ``name`` is the name of a version folder."""
    return isinstance(name, str) and _VERSION_NAME.fullmatch(name) is not None


def is_blob_digest(digest: object) -> bool:
    """True if ``digest`` can name a blob in ``.zdb/blobs/``."""
    return isinstance(digest, str) and _BLOB_DIGEST.fullmatch(digest) is not None


def is_unique_id(unique_id: object) -> bool:
    """True if ``unique_id`` is a well-formed database unique id."""
    return isinstance(unique_id, str) and _UNIQUE_ID.fullmatch(unique_id) is not None


class Base64Text(str):
    """A str of the base64 alphabet only, which a JSON document holds as it is: a
    pointer holding one (a small array's bytes, tens of KiB) is encoded without the
    JSON encoder scanning it for characters to escape, which would cost more than the
    rest of the pointer."""


#: stands for a :class:`Base64Text` while a pointer is encoded; random per process, so
#: that no stored text can contain it
_RAW_PLACEHOLDER = f"zdb-raw-{secrets.token_hex(16)}"


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


def _node_document(zdb_attrs: dict[str, Any], version: int = 1) -> bytes:
    return group_document({ATTR: {"format": version, **zdb_attrs}})


@dataclass(frozen=True)
class DatabaseNode:
    """The ``zarr.json`` of a database or sub-database.

    ``damage`` says what was wrong in the stored document and was ignored (a unique id
    that is not one), so that a database with a damaged root can still be opened and
    repaired; None when nothing was.
    """

    unique_id: str | None = None
    created: str | None = None
    indexed: bool = False
    damage: str | None = None
    kind: ClassVar[str] = KIND_DATABASE

    def document(self) -> bytes:
        """The bytes of this node's ``zarr.json``."""
        attrs: dict[str, Any] = {"kind": KIND_DATABASE}
        if self.unique_id is not None:
            attrs["unique_id"] = self.unique_id
        if self.created is not None:
            attrs["created"] = self.created
        if self.indexed:
            attrs["index"] = 1
        return _node_document(attrs)


@dataclass(frozen=True)
class KeyNode:
    """The ``zarr.json`` of a key: the pointer to its current version.

    ``version`` is None when the whole value is in ``loader``; ``metadata`` is the
    provenance in stored form (None when the pointer carries none), its blob digests
    checked (a damaged one is dropped and said in its ``error`` field). ``deferred``
    (format 2): the whole value is in ``loader`` too, and ``version`` names the folder
    its files are written to on request (``DataBase.path_of``), which may not exist.
    """

    dumper: str
    version: str | None
    loader: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] | None = None
    #: the format version of the dumper's files (``Dumper.format_version``); 1 when absent
    dumper_version: int = 1
    deferred: bool = False
    kind: ClassVar[str] = KIND_DATA

    def document(self) -> bytes:
        """The bytes of this node's ``zarr.json``: format 1, or 2 when ``deferred``."""
        fields: dict[str, Any] = {"kind": KIND_DATA, "dumper": self.dumper}
        if self.dumper_version != 1:  # absent means 1: version-1 pointers stay as they were
            fields["dumper_version"] = self.dumper_version
        loader, raw = self.loader, None
        for name, value in loader.items():
            if type(value) is Base64Text:  # at most one: put in after encoding the rest
                loader, raw = {**loader, name: _RAW_PLACEHOLDER}, value
                break
        fields.update(version=self.version, loader=loader, metadata=self.metadata)
        if self.deferred:
            fields["deferred"] = True
        data = _node_document(fields, DEFERRED_FORMAT if self.deferred else 1)
        if raw is None:
            return data
        return data.replace(f'"{_RAW_PLACEHOLDER}"'.encode(), f'"{raw}"'.encode(), 1)

    def written_us(self) -> int:
        """When the key was written (µs since the epoch, from its provenance); 0 when
        the pointer does not say."""
        stamp = (self.metadata or {}).get("time")
        try:
            return int(datetime.fromisoformat(str(stamp)).timestamp() * 1_000_000)
        except ValueError:
            return 0


@dataclass(frozen=True)
class ForeignNode:
    """A Zarr group or array that zdb did not write (no zdb attributes)."""

    node_type: str
    kind: ClassVar[str] = KIND_FOREIGN


Node = DatabaseNode | KeyNode | ForeignNode


def _corrupt(where: str, why: str) -> CorruptKeyError:
    return CorruptKeyError(
        f"{where}: its zarr.json {why}; it is damaged or was written by another tool: "
        "delete it and write it again"
    )


def parse_node(data: bytes, where: str) -> Node:
    """The record of a ``zarr.json`` document; ``where`` names the node in errors.

    Raises :class:`CorruptKeyError` when the document is not Zarr v3 JSON or a zdb
    field is malformed, and :class:`FormatVersionError` when a newer zdb wrote it.
    """
    try:
        doc = json.loads(data)
    except (ValueError, RecursionError) as e:
        raise _corrupt(where, f"is not valid JSON ({type(e).__name__})") from None
    if not isinstance(doc, dict) or doc.get("zarr_format") != 3:
        raise _corrupt(where, "is not Zarr v3 metadata")
    attrs = doc.get("attributes", {})
    if not isinstance(attrs, dict):
        raise _corrupt(where, "has attributes that are not a JSON object")
    zattrs = attrs.get(ATTR)
    if zattrs is None:
        if doc.get("node_type") not in ("group", "array"):
            raise _corrupt(where, "has no valid node_type")
        return ForeignNode(doc["node_type"])
    if not isinstance(zattrs, dict):
        raise _corrupt(where, f"has zdb attributes that are a {type(zattrs).__name__}")
    version = zattrs.get("format", 1)
    if type(version) is not int or version < 1:
        raise _corrupt(where, f"names the format {version!r}, which is no format version")
    if version > FORMAT_VERSION:
        raise FormatVersionError(
            f"{where} was written in zdb format {version}; this zdb reads formats up to "
            f"{FORMAT_VERSION}: upgrade zdb to read it"
        )
    kind = zattrs.get("kind")
    if kind == KIND_DATABASE:
        return _database_node(zattrs)
    if kind == KIND_DATA:
        return _key_node(zattrs, where, version)
    raise _corrupt(where, f"has the kind {kind!r}, neither 'database' nor 'data'")


def _database_node(zattrs: dict[str, Any]) -> DatabaseNode:
    unique_id = zattrs.get("unique_id")
    damage = None
    if unique_id is not None and not is_unique_id(unique_id):
        damage = f"its unique_id {str(unique_id)[:40]!r} is not a database unique id"
        unique_id = None
    created = zattrs.get("created")
    return DatabaseNode(
        unique_id=unique_id,
        created=created if isinstance(created, str) else None,
        indexed=zattrs.get("index") == 1,
        damage=damage,
    )


def _key_node(zattrs: dict[str, Any], where: str, node_format: int) -> KeyNode:
    dumper = zattrs.get("dumper")
    if not isinstance(dumper, str) or not _DUMPER_NAME.fullmatch(dumper):
        raise _corrupt(where, f"names the dumper {str(dumper)[:40]!r}, which is no dumper name")
    version = zattrs.get("version")
    if version is not None and not is_version_name(version):
        raise _corrupt(
            where, f"names the version {str(version)[:40]!r}, which is no version folder name"
        )
    loader = zattrs.get("loader")
    if loader is None:
        loader = {}
    if not isinstance(loader, dict):
        raise _corrupt(where, f"has a loader that is a {type(loader).__name__}, not an object")
    dumper_version = zattrs.get("dumper_version", 1)
    if type(dumper_version) is not int or not 1 <= dumper_version <= MAX_DUMPER_VERSION:
        raise _corrupt(
            where, f"has the dumper_version {str(dumper_version)[:40]!r}, which is no version"
        )
    deferred = zattrs.get("deferred", False)
    if type(deferred) is not bool or (deferred and (node_format < DEFERRED_FORMAT or not version)):
        raise _corrupt(where, f"has deferred {str(deferred)[:40]!r} without a version of format 2")
    return KeyNode(
        dumper,
        version,
        loader,
        _stored_metadata(zattrs.get("metadata")),
        dumper_version,
        deferred=deferred,
    )


def _stored_metadata(stored: Any) -> dict[str, Any] | None:
    """Provenance in stored form, with every blob digest checked: a digest that is not
    one is dropped (the field reads as missing) and said in ``error``."""
    if not isinstance(stored, dict):
        return None
    bad = [ref for ref in BLOB_FIELDS.values() if stored.get(ref) is not None]
    bad = [ref for ref in bad if not is_blob_digest(stored[ref])]
    if not bad:
        return stored
    out = dict(stored)
    notes = [out["error"]] if isinstance(out.get("error"), str) and out["error"] else []
    for ref in bad:
        notes.append(f"{ref}: {str(out[ref])[:40]!r} is no blob digest; ignored")
        out[ref] = None
    out["error"] = "\n".join(notes)
    return out
