"""Zip archives of databases: one file to hand on, opened read-only with
``zdb.DataBase("campaign.zip")``.

Members are stored uncompressed: Zarr chunks are compressed already, and stored
members can be read in place, so opening an archive reads only what is asked for.
"""

from __future__ import annotations

import os
import secrets
import zipfile

from .database import DataBase
from .exceptions import DataBaseException
from .format import BOOKKEEPING, VERSION_PREFIX, KeyNode
from .storage import join


def _skipped(rel: str) -> bool:
    """Trash of deletes and temporary files of writes in progress."""
    return rel.endswith(".tmp") or f"{BOOKKEEPING}/trash/" in f"/{rel}"


def export_zip(db: DataBase, path: str | os.PathLike) -> str:
    """Write ``db`` (a database or sub-database) into the zip archive ``path``.

    The archive is written beside its final name and renamed when complete, so an
    interrupted export never leaves a truncated archive under that name.
    """
    target = os.path.abspath(os.fspath(path))
    if os.path.exists(target):
        raise DataBaseException(f"{target} exists; choose a new archive path or delete it")
    current = _current_versions(db)
    tmp = f"{target}.{secrets.token_hex(4)}.tmp"
    store, prefix = db.ref.store, db.ref.prefix
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
            for rel in store.files(prefix):
                inner = rel[len(prefix) + 1 :] if prefix else rel
                if _skipped(inner) or not _is_current(inner, current):
                    continue
                z.writestr(inner, store.read_bytes(rel))
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return target


def _current_versions(db: DataBase) -> set[str]:
    """Paths (relative to ``db``) of the version folders its pointers name."""
    out: set[str] = set()
    for key in db.keys(recurse=True):
        node = db.node(key)
        if isinstance(node, KeyNode) and node.version:
            out.add(join(*key, node.version))
    return out


def _is_current(inner: str, current: set[str]) -> bool:
    """False for files of versions no pointer names (left by killed writers)."""
    parts = inner.split("/")
    for i, part in enumerate(parts[:-1]):
        if part.startswith(VERSION_PREFIX):
            return "/".join(parts[: i + 1]) in current
    return True
