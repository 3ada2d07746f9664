"""Planting the damage and the leftovers that ``zdb fsck`` and ``zdb gc`` must find."""

from __future__ import annotations

import secrets
import time

import zdb
from zdb.format import DatabaseNode, KeyNode
from zdb.storage import join

#: seconds in three days: older than the format's age limit for leftovers
OLD = 3 * 24 * 3600.0


def version_name(age: float = OLD) -> str:
    """A version folder name made ``age`` seconds ago."""
    return f".v{int((time.time() - age) * 1e6):x}-{secrets.token_hex(4)}"


def version_path(db: zdb.DataBase, key: str) -> str:
    node = db.node(key)
    assert isinstance(node, KeyNode) and node.version
    return db.ref.path(key, node.version)


def remove_a_chunk(db: zdb.DataBase, key: str) -> str:
    store = db.ref.store
    chunks = [f for f in store.files(version_path(db, key)) if "/c/" in f]
    store.remove(chunks[len(chunks) // 2])
    return chunks[len(chunks) // 2]


def truncate(db: zdb.DataBase, path: str) -> None:
    store = db.ref.store
    data = store.read_bytes(path)
    store.write_bytes(path, data[: len(data) // 2])


def stray_staging_folder(db: zdb.DataBase, age: float = OLD) -> str:
    """A sub-database with a key being built in ``.zdb/staging`` by a killed writer."""
    path = db.ref.path(".zdb/staging", version_name(age))
    store = db.ref.store
    store.write_bytes(join(path, "zarr.json"), DatabaseNode(unique_id="x").document())
    store.write_bytes(join(path, "k", "zarr.json"), KeyNode("python_value", None).document())
    return path


def retired_version(db: zdb.DataBase, key: str, age: float = OLD) -> str:
    """An old version of ``key`` that a killed writer never removed."""
    path = db.ref.path(key, version_name(age))
    db.ref.store.write_bytes(join(path, "zarr.json"), b"{}")
    db.ref.store.write_bytes(join(path, "data", "c", "0"), b"x" * 100)
    return path


def uncommitted_key(db: zdb.DataBase, key: str, age: float = OLD) -> str:
    """The version folder of a new key whose writer was killed before its commit."""
    path = db.ref.path(key, version_name(age))
    db.ref.store.write_bytes(join(path, "zarr.json"), b"{}")
    return path


def temporary_file(db: zdb.DataBase, folder: str = "") -> str:
    """The temporary file of an atomic ``zarr.json`` write that was killed."""
    path = db.ref.path(folder, "zarr.json.0123456789ab.tmp")
    db.ref.store.write_bytes(path, b'{"zarr_format"')
    return path
