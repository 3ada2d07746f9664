"""The commit protocol: how a key's new value replaces the old one without a reader
or a crash ever exposing a half-written value.

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
version removed under it re-reads the pointer and retries (see ``DataBase.get``).
Unreferenced versions left by killed writers are removed by later writes of the same
key once they are older than :data:`STALE_VERSION_SECONDS`.
"""

from __future__ import annotations

import secrets
import time

from .exceptions import CorruptKeyError, DataBaseException, KeyChangedError
from .format import ZARR_JSON, node_document, parse_node
from .storage import Store, join

VERSION_PREFIX = ".v"
#: an unreferenced version older than this is garbage from a killed writer, not one
#: still being written by a live one (big dask writes can take hours)
STALE_VERSION_SECONDS = 24 * 3600.0


def new_version() -> str:
    """A fresh version folder name, unique across processes and machines."""
    return f"{VERSION_PREFIX}{time.time_ns() // 1000:x}-{secrets.token_hex(4)}"


def version_time(version: str) -> float | None:
    """Creation time (seconds since the epoch) encoded in a version name."""
    try:
        return int(version[len(VERSION_PREFIX) :].split("-")[0], 16) / 1e6
    except ValueError:
        return None


def publish(store: Store, key_path: str, zdb_attrs: dict) -> None:
    """Commit: atomically point the key at the version named in ``zdb_attrs``."""
    store.write_atomic(join(key_path, ZARR_JSON), node_document(zdb_attrs))


def retire(store: Store, key_path: str, old_version: str | None, current: str | None) -> None:
    """Remove the version replaced by a commit, and stale garbage of killed writers."""
    if old_version and old_version != current:
        store.remove(join(key_path, old_version))
    cutoff = time.time() - STALE_VERSION_SECONDS
    for name in store.list_dir(key_path):
        if name.startswith(VERSION_PREFIX) and name not in (current, old_version):
            created = version_time(name)
            if created is not None and created < cutoff:
                store.remove(join(key_path, name))
        elif name.endswith(".tmp") and name.startswith(ZARR_JSON):
            try:
                stale = store.mtime(join(key_path, name)) < cutoff
            except FileNotFoundError:  # another writer's pointer, committed meanwhile
                continue
            if stale:
                store.remove(join(key_path, name))


def remove_key(store: Store, key_path: str, trash_dir: str) -> None:
    """Delete a key so that readers see it either whole or gone.

    On a local file system the key folder is first renamed into the database's trash
    (atomic), then removed; elsewhere the pointer goes first, then the data.
    """
    if store.atomic_rename:
        trashed = join(trash_dir, secrets.token_hex(8))
        store.rename(key_path, trashed)
        store.remove(trashed)
    else:
        store.remove(join(key_path, ZARR_JSON))
        store.remove(key_path)


def missing_part_error(
    store: Store, version_path: str, key: str, exc: BaseException
) -> DataBaseException:
    """The error for a file of the version at ``version_path`` found missing while
    reading it: the key was replaced or deleted since the read began (a lazy view
    outliving its version), or, when the pointer still names that version, damage."""
    key_path, _, version = version_path.rpartition("/")
    try:
        node = parse_node(store.read_bytes(join(key_path, ZARR_JSON)), key)
    except FileNotFoundError:
        node = None
    except DataBaseException as e:
        return e
    if node is None or node.get("version") != version:
        what = "deleted" if node is None else "replaced by another write"
        return KeyChangedError(
            f"{key} was {what} while this value was being read (a lazy or xarray view reads "
            f"the version it was opened on, which is gone now); read the key again"
        )
    return CorruptKeyError(
        f"{key} is damaged: a part of its stored value is missing ({exc}); delete the key "
        "and write it again"
    )
