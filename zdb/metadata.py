"""Key metadata in its stored form.

Provenance gathered by :mod:`zdb.provenance` is stored with each key, except the
large fields (the uncommitted diff, the module versions, the IPython history): these
are content-addressed blobs in the database's ``.zdb/blobs/`` folder, each distinct
text stored once and shared by every key that refers to it, so that listings stay
small and fast. :func:`expand` turns the stored form back into the full dict.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from datetime import UTC, datetime
from typing import Any

from . import provenance
from .format import BLOB_FIELDS, BOOKKEEPING, is_blob_digest
from .storage import Store, join

BLOBS = f"{BOOKKEEPING}/blobs"
_digests: dict[Any, tuple[str, bytes]] = {}
#: blobs known to exist, per store root, database path and database unique id (a
#: database deleted and created again at the same path has a new id and no blobs), so
#: that a write checks each blob once
_known: set[tuple[str, str, str, str]] = set()
#: blob JSON by full path: a blob never changes (its name is its content's hash), so
#: reading the metadata of many keys that share blobs reads each blob once per process
_texts: dict[str, bytes] = {}
_TEXTS_MAX = 64


def _blob_path(db_prefix: str, digest: str) -> str:
    if not is_blob_digest(digest):  # node records check digests; this is the last guard
        raise ValueError(f"{str(digest)[:40]!r} is no blob digest")
    return join(db_prefix, BLOBS, digest)


def _digest(value: Any) -> tuple[str, bytes]:
    """Content hash and bytes of a blob; memoised, as every write of a session stores
    the same module versions and, mostly, the same diff."""
    memo_key = tuple(sorted(value.items())) if isinstance(value, dict) else value
    try:
        return _digests[memo_key]
    except (KeyError, TypeError):
        pass
    data = json.dumps(value, sort_keys=True, separators=(",", ":")).encode()
    result = hashlib.sha256(data).hexdigest(), data
    try:
        if len(_digests) > 256:
            _digests.clear()
        _digests[memo_key] = result
    except TypeError:  # a value holding unhashable parts is not memoised
        pass
    return result


def put_blob(store: Store, db_prefix: str, value: Any, db_id: str | None = None) -> str:
    """Store ``value`` (JSON) once under its content hash; return the hash.

    ``db_id`` is the database's unique id; without one the blob's existence is checked
    on every call instead of once per process.
    """
    digest, data = _digest(value)
    token = (store.full(""), db_prefix, db_id or "", digest)
    if db_id is None or token not in _known:
        path = _blob_path(db_prefix, digest)
        if not store.exists(path):
            store.write_atomic(path, zlib.compress(data))
        if db_id is not None:
            _known.add(token)
    return digest


def get_blob(store: Store, db_prefix: str, digest: str) -> Any:
    """The value stored by :func:`put_blob` (a fresh copy: callers may change it)."""
    path = _blob_path(db_prefix, digest)
    full = store.full(path)
    text = _texts.get(full)
    if text is None:
        text = zlib.decompress(store.read_bytes(path))
        if len(_texts) >= _TEXTS_MAX:
            _texts.clear()
        _texts[full] = text
    return json.loads(text)


def for_new_key(store: Store, db_prefix: str, db_id: str | None = None) -> dict[str, Any]:
    """Gather provenance now and return its stored form for a key of the database at
    ``db_prefix`` whose unique id is ``db_id``."""
    meta = provenance.gather()
    for field, stored in BLOB_FIELDS.items():
        value = meta.pop(field)
        meta[stored] = None if value is None else put_blob(store, db_prefix, value, db_id)
    return meta


def expand(store: Store, db_prefix: str, stored: dict[str, Any], dumper: str | None) -> dict:
    """The full metadata dict of a key from its stored form; every field is present, and
    fields beyond zdb's own (``isf``: the metadata of a key migrated from ISF) too."""
    out: dict[str, Any] = {"dumper": dumper}
    out.update({f: stored.get(f) for f in provenance.FIELDS})
    refs = set(BLOB_FIELDS.values())
    out.update({k: v for k, v in stored.items() if k not in out and k not in refs})
    errors = [stored["error"]] if stored.get("error") else []
    for field, ref in BLOB_FIELDS.items():
        digest = stored.get(ref)
        if digest is None:
            continue
        try:
            out[field] = get_blob(store, db_prefix, digest)
        except (OSError, ValueError, zlib.error) as e:
            errors.append(f"{field}: shared blob {digest} unreadable ({e})")
    out["error"] = "\n".join(errors) or None
    return out


def copy_blobs(
    store: Store,
    src_prefix: str,
    dst_prefix: str,
    stored: dict[str, Any] | None,
    dst_store: Store | None = None,
) -> None:
    """Make the blobs a key refers to available in another database (for rename and
    copies), in ``dst_store`` when it is another store. A blob missing at the source
    is skipped: the copy's field reads as missing, as the original's does."""
    if not stored:
        return
    target = store if dst_store is None else dst_store
    for ref in BLOB_FIELDS.values():
        digest = stored.get(ref)
        if digest and not target.exists(_blob_path(dst_prefix, digest)):
            try:
                data = store.read_bytes(_blob_path(src_prefix, digest))
            except FileNotFoundError:
                continue
            target.write_atomic(_blob_path(dst_prefix, digest), data)


def post_hoc(store: Store, path: str) -> dict[str, Any]:
    """Metadata inferred for a node zdb did not write: its time from the file system."""
    out: dict[str, Any] = {"dumper": None, **{f: None for f in provenance.FIELDS}}
    out["metadata_creation_time"] = "post_hoc"
    try:
        mtime = store.mtime(join(path, "zarr.json"))
        out["time"] = datetime.fromtimestamp(mtime, UTC).isoformat()
    except OSError as e:
        out["error"] = f"time: {e}"
    return out


def now_iso() -> str:
    """The current time as ISO 8601 UTC."""
    return datetime.now(UTC).isoformat()


__all__ = ["copy_blobs", "expand", "for_new_key", "get_blob", "now_iso", "post_hoc", "put_blob"]
