"""``zdb migrate``: convert an ISF database into a zdb database.

Each key becomes a key of zdb's native format for its value (tables into
``pandas_to_zarr``/``dask_to_zarr`` with their partitions, arrays into
``numpy_to_zarr``, ...), sub-databases are created with their ISF unique ids, managed
folders are copied with their files, and ISF's metadata is kept under the ``isf`` field
of each key's provenance (``metadata_creation_time``: ``"migrated"``). A value that
cannot be decoded here is kept byte for byte as an ``isf_opaque`` key that says why.
The old database is only read.

A migration killed at any point and started again finishes the job: every key write is
atomic (a killed write leaves nothing), and a journal in the new database
(``.zdb/isf_migration.jsonl``, one JSON line per event) records what is done and which
managed folder was being copied, so that nothing is converted twice and no half-copied
folder stays.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from . import commit, progress_bars, registry
from .database import DataBase
from .exceptions import DataBaseException, NotADataBaseError, PickleRefusedError
from .format import BOOKKEEPING, ZARR_JSON, DatabaseNode, KeyNode
from .IO.LoaderDumper.isf_opaque import OpaqueFiles
from .legacy import layout, loaders
from .legacy.database import ISFDataBase
from .metadata import now_iso
from .storage import LocalStore, join

JOURNAL = f"{BOOKKEEPING}/isf_migration.jsonl"
MIGRATED = "migrated"
#: ISF's dumpers of folders the user fills: they become managed folders and shared numpy
#: stores with the same files (a store's raw arrays, ``<name>__<shape>__<dtype>``)
_SHARED_NUMPY_STORE = "shared_numpy_store"
_FOLDERS = (loaders.MANAGED_FOLDER, _SHARED_NUMPY_STORE)
#: the files of an ISF key folder that are ISF's bookkeeping, not a managed folder's content
_ISF_FILES = (layout.LOADER_JSON, layout.METADATA_JSON, layout.LOADER_PICKLE)


@dataclass
class MigrationReport:
    """What a migration did: keys ``converted`` (sub-databases' keys as '/'-joined
    paths), keys kept ``opaque`` with the reason, keys that could not be kept at all
    (``failed``), files not copied because they are symbolic links (``skipped_links``),
    and the bytes of the old and the new database."""

    source: str
    target: str
    converted: list[str] = field(default_factory=list)
    opaque: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    skipped_links: list[str] = field(default_factory=list)
    bytes_before: int = 0
    bytes_after: int = 0

    def as_json(self) -> dict[str, Any]:
        """The report as one JSON-serialisable object (``zdb migrate --json``)."""
        return {
            "source": self.source,
            "target": self.target,
            "converted": sorted(self.converted),
            "opaque": dict(sorted(self.opaque.items())),
            "failed": dict(sorted(self.failed.items())),
            "skipped_links": sorted(self.skipped_links),
            "bytes_before": self.bytes_before,
            "bytes_after": self.bytes_after,
        }

    def text(self) -> str:
        """The report for people: counts, bytes, and every key not converted and why."""
        lines = [
            f"migrated {self.source} -> {self.target}: {len(self.converted)} keys converted, "
            f"{len(self.opaque)} kept opaque, {len(self.failed)} failed; "
            f"{self.bytes_before:,} bytes before, {self.bytes_after:,} bytes after"
        ]
        for title, entries in (("kept opaque", self.opaque), ("failed", self.failed)):
            if entries:
                lines.append(f"{title}:")
                lines.extend(
                    f"  {k}: {v.splitlines()[0][:300]}" for k, v in sorted(entries.items())
                )
        if self.skipped_links:
            links = ", ".join(sorted(self.skipped_links))
            lines.append(f"symbolic links not copied: {links}")
        return "\n".join(lines)


class _Journal:
    """The append-only record of a migration; a line torn by a kill is ignored."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.source: str | None = None
        self.states: dict[str, dict[str, Any]] = {}
        try:
            with open(path, "rb") as f:
                lines = f.read().splitlines()
        except FileNotFoundError:
            lines = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if not isinstance(record, dict):
                continue
            if isinstance(record.get("source"), str):
                self.source = record["source"]
            if isinstance(record.get("key"), str):
                self.states[record["key"]] = record

    def add(self, **record: Any) -> None:
        """Append ``record`` durably."""
        line = json.dumps(record, separators=(",", ":")).encode() + b"\n"
        with self.lock:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(self.path, "ab") as f:
                f.write(line)
                f.flush()
                os.fsync(f.fileno())
            if "key" in record:
                self.states[record["key"]] = record
            if "source" in record:
                self.source = record["source"]


@dataclass(frozen=True)
class _Item:
    """One key of the ISF database: its path, the ISF database holding it, its dumper
    (None when its folder says no dumper) and the bytes of its folder."""

    path: tuple[str, ...]
    db: ISFDataBase
    dumper: str | None
    size: int

    @property
    def label(self) -> str:
        return "/".join(self.path)


def migrate(
    old: str | os.PathLike,
    new: str | os.PathLike,
    *,
    allow_pickle: bool = False,
    jobs: int | None = None,
    progress: bool = True,
) -> MigrationReport:
    """Convert the ISF database at ``old`` into a zdb database at ``new`` (a new or
    empty folder, or the target of an interrupted migration of ``old``, which is then
    finished). ``allow_pickle`` lets pickled keys be read and converted (unpickling runs
    code: only for databases you trust); without it they are kept opaque. ``jobs``
    keys are converted at once (default: one per core). Returns the report."""
    source = os.path.abspath(os.fspath(old))
    target = os.path.abspath(os.fspath(new))
    src = ISFDataBase(source, allow_pickle=allow_pickle)
    if target == source or target.startswith(source + os.sep):
        raise DataBaseException(
            f"cannot migrate {source} into {target}: the old database is never written to; "
            "choose a path outside it"
        )
    dst, journal = _open_target(src, source, target)
    report = MigrationReport(source, target, bytes_before=_tree_size(source))
    items = list(_walk(src, dst, ()))
    total = sum(i.size for i in items)
    bar = progress_bars.bar(total=total, unit="B", unit_scale=True, progress=progress)
    done = 0

    def run(item: _Item) -> None:
        nonlocal done
        _migrate_key(item, dst, journal, report)
        with journal.lock:
            done += 1
            bar.set_description(f"keys {done}/{len(items)}")
            bar.update(item.size)

    try:
        workers = max(1, jobs or os.cpu_count() or 1)
        if workers == 1:
            for item in items:
                run(item)
        else:
            with ThreadPoolExecutor(workers) as pool:
                list(pool.map(run, items))
    finally:
        bar.close()
    report.bytes_after = _tree_size(target)
    journal.add(finished=now_iso(), **{k: v for k, v in report.as_json().items() if "bytes" in k})
    return report


def _open_target(src: ISFDataBase, source: str, target: str) -> tuple[DataBase, _Journal]:
    """The new database (created with the ISF database's unique id, and registered as
    created here), or the one an interrupted migration of ``source`` left."""
    journal = _Journal(os.path.join(target, JOURNAL))
    if os.path.lexists(os.path.join(target, ZARR_JSON)):
        dst = DataBase(target, nocreate=True)
        ours = journal.source == source or (
            journal.source is None
            and (dst.unique_id == src.unique_id or src.unique_id is None)
            and not dst.keys()
        )
        if not ours:
            raise DataBaseException(
                f"{target} holds a zdb database that is no migration of {source}: choose a new "
                "or empty folder"
            )
        if dst.unique_id:  # a run killed before it registered the database it created
            registry.note_opened(dst.unique_id, target, created=True)
            dst = DataBase(target, nocreate=True)
    else:
        if os.path.isdir(target) and os.listdir(target):
            raise NotADataBaseError(
                f"cannot migrate into {target}: the folder is not empty; choose a new or empty "
                "folder"
            )
        os.makedirs(target, exist_ok=True)
        unique_id = src.unique_id or commit.new_unique_id()
        node = DatabaseNode(unique_id=unique_id, created=now_iso())
        LocalStore(target).create_exclusive(ZARR_JSON, node.document())
        registry.note_opened(unique_id, target, created=True)
        dst = DataBase(target, nocreate=True)
    if journal.source is None:
        journal.add(source=source, unique_id=dst.unique_id, started=now_iso())
    return dst, journal


def _walk(src: ISFDataBase, dst: DataBase, prefix: tuple[str, ...]) -> Iterator[_Item]:
    """The keys of ``src`` and its sub-databases, creating each sub-database in ``dst``
    with its ISF unique id (and registering it) on the way."""
    for name in src.keys():
        path = (*prefix, name)
        try:
            dumper = src.dumper_of(name)
        except DataBaseException:
            dumper = None
        if dumper == loaders.SUB_DATABASE:
            sub = src[name]
            yield from _walk(sub, _sub_database(dst, name, sub), path)
            continue
        size = src.store.size(join(src.prefix, name))
        yield _Item(path, src, dumper, size)


def _sub_database(dst: DataBase, name: str, src: ISFDataBase) -> DataBase:
    """The sub-database ``name`` of ``dst``, created with the unique id of ``src`` if
    missing, and registered (again: a killed run may have created it unregistered)."""
    node = DatabaseNode(
        unique_id=src.unique_id or commit.new_unique_id(),
        created=now_iso(),
        indexed=not dst.ref.store.cheap_listing,
    )
    ref = commit.create_sub(dst.ref, name, node)
    if ref.unique_id:
        registry.note_opened(ref.unique_id, ref.where, created=True)
    sub = dst[name]
    assert isinstance(sub, DataBase)
    return sub


def _parent(dst: DataBase, path: tuple[str, ...]) -> DataBase:
    db = dst if len(path) == 1 else dst.get(path[:-1])
    assert isinstance(db, DataBase)
    return db


def _migrate_key(item: _Item, dst: DataBase, journal: _Journal, report: MigrationReport) -> None:
    """Convert one key (or keep it opaque), unless the journal or the new database says
    it is done; note the outcome in the journal and the report."""
    label, name = item.label, item.path[-1]
    record = journal.states.get(label, {})
    state = record.get("state")
    if state in ("converted", "opaque", "failed"):
        _note(report, label, state, record.get("reason"), record.get("links", []))
        return
    try:
        db = _parent(dst, item.path)
        folder_store, folder_path = item.db.store, join(item.db.prefix, name)
        isf_meta = _raw_metadata(folder_store, folder_path)
        links: list[str] = []
        if item.dumper in _FOLDERS:
            if name in db:  # a copy interrupted by a kill: start it again
                del db[name]
            journal.add(key=label, state="started")
            links = _copy_folder(folder_store, folder_path, _new_folder(db, name, item.dumper))
            state, reason = "converted", None
        elif name in db:  # written before a kill, not yet noted: never converted twice
            node = db.node(name)
            opaque = isinstance(node, KeyNode) and node.dumper == "isf_opaque"
            state = "opaque" if opaque else "converted"
            reason = node.loader.get("reason") if isinstance(node, KeyNode) else None
        else:
            state, reason, links = _convert(item, db, name)
        _keep_isf_metadata(db, name, isf_meta)
    except DataBaseException as e:
        state, reason, links = "failed", f"{type(e).__name__}: {e}", []
    journal.add(key=label, state=state, reason=reason, links=links)
    _note(report, label, state, reason, links)


def _note(
    report: MigrationReport, label: str, state: str, reason: str | None, links: list[str]
) -> None:
    if state == "converted":
        report.converted.append(label)
    elif state == "opaque":
        report.opaque[label] = reason or "kept as ISF wrote it"
    else:
        report.failed[label] = reason or "failed"
    report.skipped_links.extend(links)


def _convert(item: _Item, db: DataBase, name: str) -> tuple[str, str | None, list[str]]:
    """Write the key's value in zdb's format for its type, or, when it cannot be read
    or stored here, its files as an opaque key."""
    try:
        value = item.db.get(name)
    except PickleRefusedError as e:
        reason = f"{e} (to convert it: 'zdb migrate --allow-pickle', or allow_pickle=True)"
    except DataBaseException as e:
        reason = str(e)
    else:
        try:
            lengths = item.db.partition_lengths(name) if hasattr(value, "npartitions") else None
            if lengths is not None and len(lengths) == value.npartitions:
                # known lengths save dask_to_zarr a pass that decodes every partition
                db.set(name, value, dumper="dask_to_zarr", lengths=lengths)
            else:
                db.set(name, value)
            return "converted", None, []
        except DataBaseException as e:
            reason = f"zdb cannot store its value: {e}"
    files, links = _files(item.db.store, join(item.db.prefix, name))
    store = item.db.store
    readers = [(rel, partial(store.read_bytes, full)) for rel, full in files]
    db.set(name, OpaqueFiles(readers, item.dumper or "unknown", reason), dumper="isf_opaque")
    return "opaque", reason, links


def _files(store: LocalStore, path: str) -> tuple[list[tuple[str, str]], list[str]]:
    """The files below ``path`` (names relative to it, store paths) and the symbolic
    links there, which are never followed nor copied."""
    files, links = [], []
    for full in store.files(path):
        rel = full[len(path) + 1 :]
        if stat.S_ISLNK(os.lstat(store.full(full)).st_mode):
            links.append(full)
        else:
            files.append((rel, full))
    return files, links


def _new_folder(db: DataBase, name: str, dumper: str) -> str:
    """The folder of a new key ``name`` that takes the files of an ISF key of a folder
    dumper: a shared numpy store's, or a managed folder."""
    if dumper == _SHARED_NUMPY_STORE:
        return str(db.create_shared_numpy_store(name).working_dir)
    return db.create_managed_folder(name)


def _copy_folder(store: LocalStore, path: str, into: str) -> list[str]:
    """Copy a managed folder's files (not ISF's own) into ``into``; the links skipped."""
    files, links = _files(store, path)
    for rel, full in files:
        if rel in _ISF_FILES:
            continue
        out = os.path.join(into, *rel.split("/"))
        os.makedirs(os.path.dirname(out), exist_ok=True)
        with open(out, "wb") as f:
            f.write(store.read_bytes(full))
    return links


def _raw_metadata(store: LocalStore, path: str) -> Any:
    """ISF's ``metadata.json`` of a key as written, or None."""
    try:
        return layout.read_json(store, join(path, layout.METADATA_JSON), path)
    except (FileNotFoundError, DataBaseException):
        return None


def _keep_isf_metadata(db: DataBase, name: str, isf_meta: Any) -> None:
    """Record ISF's metadata under ``isf`` in the key's provenance (idempotent)."""
    node = db.node(name)
    if not isinstance(node, KeyNode):
        return
    stored = dict(node.metadata or {})
    if stored.get("metadata_creation_time") == MIGRATED and "isf" in stored:
        return
    stored.update(isf=isf_meta, metadata_creation_time=MIGRATED)
    commit.publish(db.ref.store, db.ref.path(name), dataclasses.replace(node, metadata=stored))


def _tree_size(path: str) -> int:
    """Bytes of every file below ``path`` (links not followed)."""
    total = 0
    for root, _, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_size
            except FileNotFoundError:
                pass
    return total
