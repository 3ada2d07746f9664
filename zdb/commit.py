"""The commit protocol: how a key's new value replaces the old one without a reader
or a crash ever exposing a half-written value (docs/format.md, "Commit protocol").

A key is a Zarr group ``<key>/``. Its value lives in a version folder
``<key>/.v<time>-<random>/`` that only its writer touches. The key's ``zarr.json``
(the pointer) names the current version; writing it is the commit, a single atomic
file replacement. So:

1. the writer stages the whole value in a fresh version folder;
2. it replaces the pointer, naming the new version (readers now see the new value);
3. it removes the version the pointer named before (the old value survives until the
   new one is complete, so ``db['x'] = db['x'] + 1`` works).

A writer killed before step 2 leaves an unreferenced version folder and the old
pointer: readers see the old value, or no key. Concurrent writers of one key each
commit a complete version; the last pointer written wins. A reader that finds its
version removed under it re-reads the pointer and retries (:func:`read`).
Unreferenced versions left by killed writers are removed by later writes of the same
key once they are older than :data:`STALE_VERSION_SECONDS`.

Keys whose sub-databases do not exist yet are built in ``.zdb/staging`` and moved in
with one rename (:func:`write`); deletions go through ``.zdb/trash`` (:func:`delete`).
On object stores, the key index (:mod:`zdb.key_index`) records every change in an
order that never lists a key that is gone. Everything here works on :class:`DbRef`
(where a database is) and :class:`~zdb.format.KeyNode` records; nothing else in zdb
writes pointers or version folders.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from . import metadata, progress_bars
from .dumper import Dumper, Target
from .exceptions import (
    CorruptKeyError,
    DataBaseException,
    KeyChangedError,
    KeyKindError,
    NotADataBaseError,
    StorageError,
    unreadable_here,
)
from .format import (
    BOOKKEEPING,
    KIND_DATA,
    KIND_DATABASE,
    VERSION_PREFIX,
    ZARR_JSON,
    DatabaseNode,
    KeyNode,
    Node,
    is_version_name,
    parse_node,
)
from .key_index import KeyIndex
from .storage import Store, join

#: an unreferenced version older than this is garbage from a killed writer, not one
#: still being written by a live one (big dask writes can take hours)
STALE_VERSION_SECONDS = 24 * 3600.0
#: how often a reader retries when the version it reads is replaced under it
READ_RETRIES = 10
TRASH = f"{BOOKKEEPING}/trash"
#: where a value is written before the sub-databases on the way to its key are created
STAGING = f"{BOOKKEEPING}/staging"


@dataclass(frozen=True)
class DbRef:
    """Where a database or sub-database is: its store, the path of its node in it,
    how messages name it, and what its node says."""

    store: Store
    prefix: str
    where: str
    unique_id: str | None = None
    indexed: bool = False

    def path(self, *names: str) -> str:
        """The store path of ``names`` below this database."""
        return join(self.prefix, *names)

    def child(self, name: str, node: DatabaseNode) -> DbRef:
        """The sub-database ``name`` whose node is ``node``."""
        path = self.path(name)
        return DbRef(self.store, path, self.store.full(path), node.unique_id, node.indexed)

    def note(self, changes: Sequence[tuple[str, str | None]]) -> None:
        """Record new (kind), deleted (None) or moved keys in the key index, where this
        database keeps one: one segment, so that readers see all changes or none."""
        if self.indexed:
            KeyIndex(self.store, self.prefix).record_many(list(changes))


# -- nodes ---------------------------------------------------------------------------


def read_node(db: DbRef, name: str) -> Node | None:
    """The record of the child node ``name`` of ``db``; None when there is none."""
    try:
        data = db.store.read_bytes(db.path(name, ZARR_JSON))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except IsADirectoryError:
        raise CorruptKeyError(
            f"key {name!r} in {db.where}: its zarr.json is a folder; the key is damaged: delete it"
        ) from None
    return parse_node(data, f"key {name!r} in {db.where}")


def has_pointer(db: DbRef, name: str) -> bool:
    """True if ``name`` has a ``zarr.json`` (parsed or not: a damaged key is a key)."""
    return db.store.exists(db.path(name, ZARR_JSON))


def data_node(db: DbRef, name: str) -> KeyNode | None:
    """The pointer of key ``name`` (None if absent); KeyKindError for a sub-database."""
    node = read_node(db, name)
    if isinstance(node, DatabaseNode):
        raise KeyKindError(
            f"key {name!r} in {db.where} is a sub-database; delete it before storing data "
            "under its name"
        )
    return node if isinstance(node, KeyNode) else None


def _create_node(store: Store, path: str, node: DatabaseNode) -> tuple[bool, Node | None]:
    """Create the node document at ``path`` exclusively; (created, the node there).

    Where the store's exclusive create is not atomic, two racing creators may both
    write: each re-reads the document and adopts what is there, so all agree.
    """
    created = store.create_exclusive(path, node.document())
    if created and store.atomic_create:
        return True, node
    try:
        there = parse_node(store.read_bytes(path), store.full(path))
    except FileNotFoundError:
        there = None
    return created and there == node, there


def new_database_node(store: Store) -> DatabaseNode:
    """The node of a new database or sub-database in ``store``."""
    return DatabaseNode(
        unique_id=new_unique_id(),
        created=metadata.now_iso(),
        indexed=not store.cheap_listing,  # where listing is cheap, readers list the folder
    )


def new_unique_id() -> str:
    """A fresh database unique id, ``YYYY-MM-DD_HH-MM-SS_<12 hex>`` (UTC)."""
    return f"{time.strftime('%Y-%m-%d_%H-%M-%S', time.gmtime())}_{secrets.token_hex(6)}"


def save_database_node(db: DbRef) -> DbRef:
    """Write the node of the database ``db`` with ``db.unique_id`` (ISF's
    ``save_db_state``). A root database saved without an id gets a new one when it is
    next opened for writing; a sub-database, which is not opened that way, gets one now."""
    path = db.path(ZARR_JSON)
    node = parse_node(db.store.read_bytes(path), db.where)
    if not isinstance(node, DatabaseNode):
        raise NotADataBaseError(f"{db.where} holds no database node; nothing to save")
    unique_id = db.unique_id or (new_unique_id() if db.prefix else None)
    db.store.write_atomic(path, dataclasses.replace(node, unique_id=unique_id).document())
    return dataclasses.replace(db, unique_id=unique_id)


def create_sub(db: DbRef, name: str, new: DatabaseNode | None = None) -> DbRef:
    """The sub-database ``name`` of ``db``, created (exclusively) as ``new`` (by default
    with a fresh unique id) if it is missing."""
    new = new or new_database_node(db.store)
    created, node = _create_node(db.store, db.path(name, ZARR_JSON), new)
    if not isinstance(node, DatabaseNode):
        raise KeyKindError(
            f"key {name!r} in {db.where} holds data, not a sub-database; delete it first or "
            "use another key"
        )
    if created:
        db.note([(name, KIND_DATABASE)])
    return db.child(name, node)


# -- versions ------------------------------------------------------------------------


def new_version() -> str:
    """A fresh version folder name, unique across processes and machines."""
    return f"{VERSION_PREFIX}{time.time_ns() // 1000:x}-{secrets.token_hex(4)}"


def version_time(version: str) -> float | None:
    """Creation time (seconds since the epoch) encoded in a version name."""
    if not is_version_name(version):
        return None
    return int(version[len(VERSION_PREFIX) :].split("-")[0], 16) / 1e6


def publish(store: Store, key_path: str, node: KeyNode) -> None:
    """Commit: atomically point the key at ``node.version``."""
    store.write_atomic(join(key_path, ZARR_JSON), node.document())


def retire(store: Store, key_path: str, old_version: str | None, current: str | None) -> None:
    """Remove the version replaced by a commit, and stale garbage of killed writers."""
    if old_version and old_version != current:
        store.remove(join(key_path, old_version))
    cutoff = time.time() - STALE_VERSION_SECONDS
    for name in store.list_dir(key_path):
        if is_version_name(name) and name not in (current, old_version):
            created = version_time(name)
            if created is not None and created < cutoff:
                store.remove(join(key_path, name))
        elif is_pointer_temp(name):
            try:
                stale = store.mtime(join(key_path, name)) < cutoff
            except FileNotFoundError:  # another writer's pointer, committed meanwhile
                continue
            if stale:
                store.remove(join(key_path, name))


def is_pointer_temp(name: str) -> bool:
    """True for the temporary file of an atomic ``zarr.json`` write (see zdb.storage)."""
    return name.startswith(f"{ZARR_JSON}.") and name.endswith(".tmp")


# -- writing -------------------------------------------------------------------------


def write(
    db: DbRef,
    rest: tuple[str, ...],
    value: Any,
    dumper: Dumper,
    kwargs: dict[str, Any],
    copy_of: tuple[DbRef, KeyNode] | None = None,
) -> None:
    """Store ``value`` with ``dumper`` at the key ``rest`` below ``db``; sub-databases on
    the way that do not exist yet are created with it, all visible at once. With
    ``copy_of`` (the database of a stored key and its pointer), the pointer keeps that
    key's dumper name and provenance, whose blobs are copied along."""
    if len(rest) > 1:
        _write_new_path(db, rest, value, dumper, kwargs, copy_of)
    else:
        _write_key(db, rest[0], value, dumper, kwargs, copy_of)


def copy_value(
    src: DbRef,
    name: str,
    node: KeyNode,
    dst: DbRef,
    rest: tuple[str, ...],
    progress: bool = False,
) -> None:
    """Copy the value of key ``name`` of ``src`` (pointer ``node``) with its provenance
    to the key ``rest`` below ``dst``, which may be in another store: committed there
    as any write is. ``progress`` shows a progress bar of the files copied."""
    write(dst, rest, None, _Copier(src, name, node, progress), {}, (src, node))


class _Copier(Dumper):
    """Copies the files of a stored version into a new one, file by file (the two
    stores may differ); symbolic links in managed folders are refused, not followed."""

    name = "copy"

    def __init__(self, src: DbRef, name: str, node: KeyNode, progress: bool = False) -> None:
        self.src, self.key, self.node, self.progress = src, name, node, progress

    def dump(self, value: Any, target: Target, **kwargs: Any) -> dict[str, Any]:
        if self.node.version and not self.node.deferred:  # a deferred value is in loader
            store, folder = self.src.store, self.src.path(self.key, self.node.version)
            files = store.files(folder)
            bar = progress_bars.bar(
                files, progress=self.progress, desc=f"copying {self.key}", unit="file", leave=False
            )
            for path in bar:
                if store.read_link(path) is not None:
                    raise DataBaseException(
                        f"key {self.key!r} in {self.src.where} holds the symbolic link "
                        f"{store.full(path)}, which a copy cannot keep; export the database "
                        "to a zip archive instead, which keeps links"
                    )
                target.store.write_bytes(
                    join(target.path, path[len(folder) + 1 :]), store.read_bytes(path)
                )
        return dict(self.node.loader)

    def wrote_files(self, info: dict[str, Any]) -> bool | None:
        return self.node.version is not None and not self.node.deferred

    def defers_files(self, info: dict[str, Any]) -> bool:
        return self.node.deferred


def _write_key(
    db: DbRef,
    name: str,
    value: Any,
    dumper: Dumper,
    kwargs: dict[str, Any],
    copy_of: tuple[DbRef, KeyNode] | None = None,
) -> None:
    store = db.store
    key_path = db.path(name)
    old = data_node(db, name)
    version = new_version()
    target = Target(store, join(key_path, version), key=f"key {name!r} in {db.where}")
    try:
        info = dumper.dump(value, target, **kwargs)
    except BaseException as e:
        _clean_up_failed_write(store, target, key_path if old is None else None, e)
        if isinstance(e, DataBaseException | KeyboardInterrupt | SystemExit):
            raise
        error = StorageError if isinstance(e, OSError) else DataBaseException
        raise error(
            f"writing key {name!r} in {db.where} with dumper {dumper.name!r} failed: "
            f"{type(e).__name__}: {e}"
        ) from e
    has_data = dumper.wrote_files(info)
    if has_data is None:
        has_data = store.exists(target.path)
    provenance: dict[str, Any] | None
    if copy_of is None:
        stored_as, provenance = dumper.name, metadata.for_new_key(store, db.prefix, db.unique_id)
    else:
        source, original = copy_of
        metadata.copy_blobs(source.store, source.prefix, db.prefix, original.metadata, store)
        stored_as, provenance = original.dumper, original.metadata
    deferred = not has_data and dumper.defers_files(info)
    node = KeyNode(
        dumper=stored_as,
        version=version if has_data or deferred else None,
        loader=info,
        metadata=provenance,
        dumper_version=dumper.format_version,
        deferred=deferred,
    )
    publish(store, key_path, node)
    if old is None:
        db.note([(name, KIND_DATA)])
    else:
        retire(store, key_path, old.version, node.version)


def _clean_up_failed_write(
    store: Store, target: Target, new_key_path: str | None, error: BaseException
) -> None:
    """Remove what a failed dump left: its version folder and, for a key that did not
    exist, the key folder if nothing else is in it. The dumper's error stays the error."""
    try:
        store.remove(target.path)
        if new_key_path is not None:
            store.remove_empty_folder(new_key_path)
    except (OSError, DataBaseException) as cleanup:
        error.add_note(f"zdb could not remove the partial value {target.full}: {cleanup}")


def _write_new_path(
    db: DbRef,
    rest: tuple[str, ...],
    value: Any,
    dumper: Dumper,
    kwargs: dict[str, Any],
    copy_of: tuple[DbRef, KeyNode] | None = None,
) -> None:
    """Write a key whose sub-databases on the way do not exist yet.

    The sub-databases and the key are built in ``.zdb/staging`` and moved into place
    with one rename, so that readers see all of them or none, and neither a write that
    fails nor a killed writer leaves sub-databases behind.
    """
    store = db.store
    staging = DbRef(store, db.path(STAGING), store.full(db.path(STAGING)))
    first = create_sub(staging, new_version())
    # messages name where the sub-databases will be, not the staging folder
    chain = [dataclasses.replace(first, where=store.full(db.path(rest[0])))]
    try:
        for part in rest[1:-1]:
            sub = create_sub(chain[-1], part)
            chain.append(dataclasses.replace(sub, where=f"{chain[-1].where}/{part}"))
        _write_key(chain[-1], rest[-1], value, dumper, kwargs, copy_of)
        _move_into_place(db, chain, rest)
    finally:
        store.remove(chain[0].prefix)
    retire(store, staging.prefix, None, None)  # leftovers of killed writers


def _move_into_place(db: DbRef, chain: list[DbRef], rest: tuple[str, ...]) -> None:
    """Move the staged sub-databases ``chain`` (``rest[:-1]``) holding the staged key
    ``rest[-1]`` below ``db``. The first part missing there moves with one rename;
    parts that another writer created meanwhile are descended into."""
    store = db.store
    target = db
    for level, part in enumerate(rest):
        last = level == len(rest) - 1
        src = chain[-1].path(part) if last else chain[level].prefix
        dst = target.path(part)
        try:
            store.rename(src, dst)
        except OSError:
            if not store.exists(dst):
                raise
        else:
            target.note([(part, KIND_DATA if last else KIND_DATABASE)])
            return
        if not last:  # created by another writer meanwhile
            target = create_sub(target, part)
            continue
        # the key was written meanwhile: commit the staged value over it
        staged = data_node(chain[-1], part)
        if staged is None:
            raise CorruptKeyError(f"the staged value of {store.full(dst)} vanished")
        old = data_node(target, part)
        if staged.version and not (staged.deferred and not store.exists(join(src, staged.version))):
            store.rename(join(src, staged.version), join(dst, staged.version))
        metadata.copy_blobs(store, chain[-1].prefix, target.prefix, staged.metadata)
        publish(store, dst, staged)
        if old is None:
            target.note([(part, KIND_DATA)])
        else:
            retire(store, dst, old.version, staged.version)


def write_deferred(db: DbRef, name: str, node: KeyNode, dumper: Dumper) -> str:
    """Write the files of the deferred value of key ``name`` (pointer ``node``) into
    the version folder the pointer names, unless they are there; its store path.

    The pointer does not change, so no concurrent write is undone. Where folders
    rename atomically, the files are written into a fresh version folder that is then
    renamed into place, so that the folder appears complete (a killed writer leaves
    a version no pointer names, which ``zdb gc`` removes); elsewhere they are written
    in place, the group's ``zarr.json`` last. Several processes doing this at once
    write the same bytes.
    """
    store = db.store
    if node.version is None or not node.deferred:
        raise ValueError(f"key {name!r} in {db.where} has no deferred files")
    final = db.path(name, node.version)
    if store.exists(join(final, ZARR_JSON)):
        return final
    label = f"key {name!r} in {db.where}"
    if not store.atomic_rename:
        dumper.write_deferred(Target(store, final, key=label), node.loader)
        return final
    staged = db.path(name, new_version())
    try:
        dumper.write_deferred(Target(store, staged, key=label), node.loader)
        try:
            store.rename(staged, final)
        except OSError:  # another process was first (exists, or not empty)
            if not store.exists(join(final, ZARR_JSON)):
                raise
    finally:
        store.remove(staged)
    return final


# -- reading -------------------------------------------------------------------------


def read(
    db: DbRef,
    name: str,
    node: KeyNode,
    dumper: Dumper,
    label: str,
    allow_pickle: bool | str | None,
    lazy: bool | None,
    as_xarray: bool,
    kwargs: dict[str, Any],
) -> Any:
    """Read the value of key ``name`` (pointer ``node``) with ``dumper.load``, never
    returning a mix of two versions.

    When the version is replaced and removed while it is read, the pointer is read
    again and so is the value. A read into memory (``lazy`` False) of a dumper that
    does not read atomically re-checks the pointer afterwards and reads again if it
    changed. ``label`` names the key in errors.
    """
    key_path = db.path(name)
    for _ in range(READ_RETRIES):
        version = node.version
        target = Target(
            db.store, join(key_path, version or ""), allow_pickle, label, node.dumper_version
        )
        try:
            value = dumper.load(target, node.loader, lazy=lazy, as_xarray=as_xarray, **kwargs)
        except KeyChangedError:
            node = _reread(db, name, label)
            continue
        except DataBaseException:
            raise
        except (MemoryError, ImportError) as e:  # this process cannot, not damage
            raise unreadable_here(label, e) from e
        except Exception as e:
            # the version may have been replaced and removed while we read it
            newer = _reread(db, name, label)
            if newer.version != version:
                node = newer
                continue
            raise CorruptKeyError(
                f"{label} cannot be read ({type(e).__name__}: {e}); it is damaged or was "
                "changed by another tool: delete it and write it again"
            ) from e
        eager = lazy is False
        if version is not None and eager and not dumper.reads_atomically(node.loader):
            newer = _reread(db, name, label)
            if newer.version != version:
                node = newer  # replaced while we read: read the new value whole
                continue
        return value
    raise DataBaseException(
        f"{label} was replaced {READ_RETRIES} times while being read; try again when writers "
        "are done"
    )


def _reread(db: DbRef, name: str, label: str) -> KeyNode:
    node = read_node(db, name)
    if not isinstance(node, KeyNode):
        raise KeyError(label) from None  # deleted, or replaced by a sub-database
    return node


# -- deleting and renaming -----------------------------------------------------------


def remove_key(store: Store, key_path: str, trash_dir: str) -> None:
    """Delete a key so that readers see it either whole or gone.

    Where the store renames atomically, the key folder is first renamed into the
    database's trash, then removed; elsewhere the pointer goes first, then the data.
    """
    if store.atomic_rename:
        trashed = join(trash_dir, secrets.token_hex(8))
        store.rename(key_path, trashed)
        store.remove(trashed)
    else:
        store.remove_file(join(key_path, ZARR_JSON))
        store.remove(key_path)


def delete(db: DbRef, name: str) -> None:
    """Delete key ``name`` of ``db`` (a value or a sub-database); KeyError when it has
    no pointer. A damaged pointer is not parsed: damaged keys stay deletable."""
    if not has_pointer(db, name):
        raise KeyError(name)
    trash = db.path(TRASH)
    db.note([(name, None)])  # first: the index never lists a key that is gone
    remove_key(db.store, db.path(name), trash)
    for leftover in db.store.list_dir(trash):  # trees of deletes that were killed
        db.store.remove(join(trash, leftover))


def remove_database(db: DbRef) -> Callable[[], None]:
    """Start deleting the whole database ``db`` (a root, never a sub-database: delete
    those as keys); returns what finishes the job, to run in the background.

    On a local disk the database's folder is first renamed aside, so that its path is
    free at once and no reader sees half a database; the rest removes the renamed
    folder (links inside are removed, never followed). Elsewhere the rest removes
    every object of the database.
    """
    if db.prefix:
        raise DataBaseException(f"{db.where} is a sub-database: delete it from its parent")
    root = db.store.local_path("")
    if root is None:
        return lambda: db.store.remove("")
    root = root.rstrip(os.sep)
    aside = os.path.join(
        os.path.dirname(root), f".{os.path.basename(root)}.deleting-{secrets.token_hex(4)}"
    )
    os.rename(root, aside)
    return lambda: shutil.rmtree(aside)


def rename(src: DbRef, src_name: str, dst: DbRef, rest: tuple[str, ...], node: Node) -> None:
    """Move key ``src_name`` of ``src`` (pointer ``node``) to the key ``rest`` below
    ``dst`` (several parts when sub-databases on the way do not exist yet).

    Where the store renames atomically this is one rename; elsewhere a copy, the move
    recorded in the key index, then the deletion of the source (pointer first), so
    that the index never lists a key that is gone. A folder without a pointer at the
    destination (what a killed writer or rename leaves) is deleted first.
    """
    if len(rest) > 1:
        _rename_into_new_path(src, src_name, dst, rest, node)
        return
    dst_name = rest[0]
    store = src.store
    if src.prefix != dst.prefix and isinstance(node, KeyNode):
        # a data key's blobs are its database's; a sub-database carries its own .zdb/
        metadata.copy_blobs(store, src.prefix, dst.prefix, node.metadata)
    src_path, dst_path = src.path(src_name), dst.path(dst_name)
    move = store.rename if store.atomic_rename else store.copy
    try:
        move(src_path, dst_path)
    except FileExistsError:
        if has_pointer(dst, dst_name):
            raise
        remove_key(store, dst_path, dst.path(TRASH))
        move(src_path, dst_path)
    if src.prefix == dst.prefix:  # one segment: the index shows the move whole
        src.note([(dst_name, node.kind), (src_name, None)])
    else:
        dst.note([(dst_name, node.kind)])
        src.note([(src_name, None)])
    if not store.atomic_rename:
        remove_key(store, src_path, src.path(TRASH))


def _rename_into_new_path(
    src: DbRef, src_name: str, dst: DbRef, rest: tuple[str, ...], node: Node
) -> None:
    """Move a key into sub-databases that do not exist yet: they are built in
    ``.zdb/staging`` around a copy of the key (hard links where the store has them) and
    moved into place at once, as a write does; then the source is deleted. A mover
    killed before the sub-databases appear leaves the source as it was (and no empty
    sub-databases); one killed after, the key under both names."""
    store = src.store
    staging = DbRef(store, dst.path(STAGING), store.full(dst.path(STAGING)))
    first = create_sub(staging, new_version())
    chain = [dataclasses.replace(first, where=store.full(dst.path(rest[0])))]
    try:
        for part in rest[1:-1]:
            sub = create_sub(chain[-1], part)
            chain.append(dataclasses.replace(sub, where=f"{chain[-1].where}/{part}"))
        if isinstance(node, KeyNode):
            metadata.copy_blobs(store, src.prefix, chain[-1].prefix, node.metadata)
        store.copy_for_move(src.path(src_name), chain[-1].path(rest[-1]))
        chain[-1].note([(rest[-1], node.kind)])
        _move_into_place(dst, chain, rest)
    finally:
        store.remove(chain[0].prefix)
    src.note([(src_name, None)])
    remove_key(store, src.path(src_name), src.path(TRASH))
    retire(store, staging.prefix, None, None)  # leftovers of killed writers


# -- databases -----------------------------------------------------------------------


def open_root(store: Store, readonly: bool, nocreate: bool) -> tuple[DbRef, bool]:
    """Open the database whose root is ``store``'s root, creating it unless ``readonly``
    or ``nocreate``; True with it when this call created it. A database written by
    another tool or an older zdb that is opened for writing gets a unique id, and on
    stores without cheap listing a key index."""
    where = store.full("")
    node = _read_root(store, where)
    created = False
    if node is None:
        if readonly or nocreate:
            flag = "readonly=True" if readonly else "nocreate=True"
            raise NotADataBaseError(
                f"{where} holds no zdb database and {flag} forbids creating one; check the "
                "path, or open it without that flag to create a database"
            )
        created, node = _create_root(store, where)
    db = DbRef(store, "", where, node.unique_id, node.indexed)
    if readonly or (node.unique_id and (node.indexed or store.cheap_listing)):
        return db, created
    if not node.indexed and not store.cheap_listing:
        names = listed_names(db)
        kinds: list[tuple[str, str | None]] = []
        for name in names:
            try:
                found = read_node(db, name)
            except DataBaseException:
                found = None  # damaged: still a key
            kinds.append((name, found.kind if isinstance(found, DatabaseNode) else KIND_DATA))
        dataclasses.replace(db, indexed=True).note(kinds)
    if node.damage:
        warnings.warn(
            f"zdb: the database {where} was damaged ({node.damage}); gave it a new unique id",
            stacklevel=3,
        )
    node = dataclasses.replace(
        node,
        unique_id=node.unique_id or new_unique_id(),
        damage=None,
        indexed=node.indexed or not store.cheap_listing,
    )
    store.write_atomic(ZARR_JSON, node.document())
    return DbRef(store, "", where, node.unique_id, node.indexed), created


def _read_root(store: Store, where: str) -> DatabaseNode | None:
    try:
        node = parse_node(store.read_bytes(ZARR_JSON), where)
    except CorruptKeyError as e:
        if not store.is_dir(BOOKKEEPING):
            raise NotADataBaseError(
                f"{where} holds a damaged zarr.json and no zdb bookkeeping folder, so it is "
                f"no zdb database ({e}); choose another path"
            ) from None
        # zdb's own folder: a database whose root document is damaged, opened for repair
        return DatabaseNode(damage=f"its zarr.json was unreadable: {e}")
    except FileNotFoundError:
        if store.exists("") and not store.is_dir(""):
            raise NotADataBaseError(
                f"{where} is a file, not a database folder; choose another path"
            ) from None
        return None
    except NotADirectoryError:
        raise NotADataBaseError(
            f"{where} is inside a file, not a folder; choose another path"
        ) from None
    except IsADirectoryError:
        raise NotADataBaseError(
            f"{where} holds a folder named zarr.json, so it is no database; choose another path"
        ) from None
    if not isinstance(node, DatabaseNode):
        what = "a key of a zdb database" if isinstance(node, KeyNode) else "a Zarr node"
        raise NotADataBaseError(f"{where} is {what}, not a zdb database; choose another path")
    return node


def _create_root(store: Store, where: str) -> tuple[bool, DatabaseNode]:
    # the pointer's temporary file, or the pointer itself, of another process creating
    # this database at the same moment does not make the folder someone else's
    content = [n for n in store.list_dir("") if not is_pointer_temp(n)]
    if content:
        node = _read_root(store, where)
        if node is not None:  # created by another process meanwhile
            return False, node
        raise NotADataBaseError(
            f"cannot create a database in {where}: the folder is not empty and holds no zdb "
            f"database (it holds {sorted(content)[:5]}); choose an empty or new folder"
        )
    created, there = _create_node(store, ZARR_JSON, new_database_node(store))
    if not isinstance(there, DatabaseNode):
        raise NotADataBaseError(f"{where} was changed by another program while it was created")
    return created, there


def listed_names(db: DbRef) -> list[str]:
    """The keys of ``db`` found by listing its folder: the truth, slow on object stores."""
    return sorted(db.store.children_with(db.prefix, ZARR_JSON))


def repair_index(
    db: DbRef,
    at: tuple[str, ...],
    recurse: bool,
    report: dict[str, list[tuple[str, ...]]],
    dry_run: bool = False,
) -> None:
    """Make the key index of ``db`` agree with its folder (see ``DataBase.repair_index``),
    adding what it did to ``report``; ``at`` is the key of ``db`` below the root. With
    ``dry_run``, only report what it would do."""
    found = sorted(n for n in db.store.list_dir(db.prefix) if not n.startswith("."))
    nodes: dict[str, Node | None] = {}  # None: a damaged pointer, still a key
    for name in found:
        try:
            node = read_node(db, name)
        except DataBaseException:
            report["damaged"].append((*at, name))
            nodes[name] = None
            continue
        if node is not None:
            nodes[name] = node
    if db.indexed:
        entries = KeyIndex(db.store, db.prefix).entries()
        changes: list[tuple[str, str | None]] = []
        for name, node in nodes.items():
            entry = entries.get(name)
            if entry is not None and not entry[3]:
                continue  # listed
            written = node.written_us() if isinstance(node, KeyNode) else 0
            if entry is not None and written <= entry[2]:
                report["left"].append((*at, name))
                continue
            changes.append((name, KIND_DATA if node is None else node.kind))
            report["added"].append((*at, name))
        for name, entry in sorted(entries.items()):
            if not entry[3] and name not in nodes and not has_pointer(db, name):
                changes.append((name, None))
                report["removed"].append((*at, name))
        if changes and not dry_run:
            db.note(changes)
    if recurse:
        for name, node in nodes.items():
            if isinstance(node, DatabaseNode):
                repair_index(db.child(name, node), (*at, name), recurse, report, dry_run)
