"""Zip archives of databases: one file to hand on, opened read-only with
``zdb.DataBase("campaign.zip")``.

Members are stored uncompressed: Zarr chunks are compressed already, and stored
members can be read in place, so opening an archive reads only what is asked for.
"""

from __future__ import annotations

import os
import secrets
import stat
import zipfile

from .database import DataBase
from .exceptions import DataBaseException
from .format import BOOKKEEPING, KeyNode, is_version_name
from .registry import DataBaseRegister
from .storage import join, open_store

#: zdb's scratch folders, which hold nothing a reader of the archive needs
_SCRATCH = tuple(f"{BOOKKEEPING}/{name}/" for name in ("trash", "staging", "tmp"))


def _skipped(inner: str) -> bool:
    """zdb's scratch folders, and temporary files of zdb's writes in progress; never a
    file inside a value (a managed folder's ``x.tmp`` is the user's)."""
    parts = inner.split("/")
    if any(is_version_name(part) for part in parts[:-1]):
        return False  # inside a value
    return inner.endswith(".tmp") or any(f"/{s}" in f"/{inner}" for s in _SCRATCH)


def export_zip(db: DataBase, path: str | os.PathLike) -> str:
    """Write ``db`` (a database or sub-database) into the zip archive ``path``.

    The archive is written beside its final name and renamed when complete, so an
    interrupted export never leaves a truncated archive under that name. Symbolic
    links (in managed folders) are stored as links, as ``zip --symlinks`` does: the
    archive never holds what they point to. An archive of a database you created is
    trusted like the database by the default pickle policy.
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
                link = store.read_link(rel)
                if link is None:
                    z.writestr(inner, store.read_bytes(rel))
                else:
                    info = zipfile.ZipInfo(inner)
                    info.external_attr = (stat.S_IFLNK | 0o777) << 16
                    z.writestr(info, os.fsencode(link))
        os.replace(tmp, target)
        if db.created_here and db.unique_id:
            DataBaseRegister().add_created(db.unique_id, open_store(target).full(""))
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
        if is_version_name(part):
            return "/".join(parts[: i + 1]) in current
    return True
