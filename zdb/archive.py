"""Exports of databases: zip archives, one file to hand on, opened read-only with
``zdb.DataBase("campaign.zip")``, and copies to another location (a folder or an
object store).

Members are stored uncompressed: Zarr chunks are compressed already, and stored
members can be read in place, so opening an archive reads only what is asked for.
Both leave out what no reader needs: zdb's scratch folders, temporary files and
version folders that no pointer names; both hold the Zarr group of every small array
kept in its pointer (written for the export where it was not), which readers of an
archive cannot write.
"""

from __future__ import annotations

import os
import secrets
import stat
import zipfile
from collections.abc import Iterator

from . import progress_bars
from .database import DataBase
from .dumper import Target
from .dumper_registry import get_dumper
from .exceptions import DataBaseException
from .format import BOOKKEEPING, ZARR_JSON, KeyNode, is_version_name
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


def export_zip(db: DataBase, path: str | os.PathLike, progress: bool = False) -> str:
    """Write ``db`` (a database or sub-database) into the zip archive ``path``.

    The archive is written beside its final name and renamed when complete, so an
    interrupted export never leaves a truncated archive under that name. Symbolic
    links (in managed folders) are stored as links, as ``zip --symlinks`` does: the
    archive never holds what they point to. An archive of a database you created is
    trusted like the database by the default pickle policy. ``progress`` shows a
    progress bar of the files written.
    """
    target = os.path.abspath(os.fspath(path))
    if os.path.exists(target):
        raise DataBaseException(f"{target} exists; choose a new archive path or delete it")
    current, deferred = _current_versions(db)
    tmp = f"{target}.{secrets.token_hex(4)}.tmp"
    store, prefix = db.ref.store, db.ref.prefix
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as z:
            for rel, inner in _bar(_exported(store.files(prefix), prefix, current), progress):
                link = store.read_link(rel)
                if link is None:
                    z.writestr(inner, store.read_bytes(rel))
                else:
                    info = zipfile.ZipInfo(inner)
                    info.external_attr = (stat.S_IFLNK | 0o777) << 16
                    z.writestr(info, os.fsencode(link))
            for inner, data in deferred:
                z.writestr(inner, data)
        os.replace(tmp, target)
        if db.created_here and db.unique_id:
            DataBaseRegister().add_created(db.unique_id, open_store(target).full(""))
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return target


def export_copy(
    db: DataBase,
    url: str | os.PathLike,
    storage_options: dict | None = None,
    progress: bool = False,
) -> DataBase:
    """Copy ``db`` (a database or sub-database) to ``url``, a new or empty folder or
    object-store location, and return the copy, opened.

    The copy keeps the database's unique id (it is the same database elsewhere; the
    registry keeps pointing at the original). Its root ``zarr.json`` is written last,
    so an interrupted copy is no database: delete it and export again. On an object
    store the copy gets its key index when it is opened at the end. Symbolic links
    (in managed folders) cannot be copied: export to a zip archive, which keeps them.
    """
    target = open_store(url, storage_options)
    where = target.full("")
    if target.read_only:
        raise DataBaseException(f"cannot export to {where}: it is read-only; choose a folder")
    if target.list_dir(""):
        raise DataBaseException(
            f"cannot export to {where}: it is not empty; choose a new location or empty it"
        )
    store, prefix = db.ref.store, db.ref.prefix
    current, deferred = _current_versions(db)
    files = list(_exported(store.files(prefix), prefix, current))
    for rel, _ in files:
        if store.read_link(rel) is not None:
            raise DataBaseException(
                f"{store.full(rel)} is a symbolic link, which a copy to {where} cannot keep; "
                "export to a zip archive instead (zdb export DB OUT.zip)"
            )
    root = None
    for rel, inner in _bar(files, progress):
        if inner == ZARR_JSON:
            root = rel
            continue
        target.write_bytes(inner, store.read_bytes(rel))
    for inner, data in deferred:
        target.write_bytes(inner, data)
    if root is not None:
        target.write_atomic(ZARR_JSON, store.read_bytes(root))
    return DataBase(url, nocreate=True, storage_options=storage_options)


def _exported(files: list[str], prefix: str, current: set[str]) -> list[tuple[str, str]]:
    """(store path, path inside the database) of each file an export keeps."""
    out = []
    for rel in files:
        inner = rel[len(prefix) + 1 :] if prefix else rel
        if not _skipped(inner) and _is_current(inner, current):
            out.append((rel, inner))
    return out


def _bar(files: list[tuple[str, str]], progress: bool) -> Iterator[tuple[str, str]]:
    """``files``, with a progress bar when ``progress``."""
    yield from progress_bars.bar(
        files, desc="exporting", unit="file", progress=progress, leave=False
    )


def _current_versions(db: DataBase) -> tuple[set[str], list[tuple[str, bytes]]]:
    """Paths (relative to ``db``) of the version folders its pointers name, and the
    files (path relative to ``db``, content) of the deferred values whose version
    folder is not written (docs/format.md, format 2): an export holds them, so that
    plain Zarr readers of the archive or copy, which cannot write, find every group."""
    out: set[str] = set()
    deferred: list[tuple[str, bytes]] = []
    for key in db.keys(recurse=True):
        node = db.node(key)
        if isinstance(node, KeyNode) and node.version:
            out.add(join(*key, node.version))
            if node.deferred:
                deferred.extend(_deferred_files(db, key, node))
    return out, deferred


def _deferred_files(db: DataBase, key: tuple[str, ...], node: KeyNode) -> list[tuple[str, bytes]]:
    """The files of the deferred value of ``key`` (pointer ``node``), as ``path_of``
    would write them; none when they are written already."""
    folder = join(db.ref.prefix, *key, node.version or "")
    if db.ref.store.exists(join(folder, ZARR_JSON)):
        return []
    scratch = open_store(f"memory://zdb-export-{secrets.token_hex(8)}")
    try:
        get_dumper(node.dumper).write_deferred(
            Target(scratch, "v", key=f"key {key!r} in {db.basedir}"), node.loader
        )
        return [
            (join(*key, node.version or "", f[2:]), scratch.read_bytes(f))
            for f in scratch.files("v")
        ]
    finally:
        scratch.remove("")


def _is_current(inner: str, current: set[str]) -> bool:
    """False for files of versions no pointer names (left by killed writers)."""
    parts = inner.split("/")
    for i, part in enumerate(parts[:-1]):
        if is_version_name(part):
            return "/".join(parts[: i + 1]) in current
    return True
