"""What killed writers leave behind in a database, and removing it (``zdb.gc``).

A writer killed half-way leaves files no reader ever looks at (docs/format.md, "Commit
protocol"): version folders that no pointer names (a new value never committed, or an
old one never retired), the folder of a new key whose pointer was never written,
sub-databases being built in ``.zdb/staging``, deleted keys in ``.zdb/trash`` and the
temporary files of atomic writes (``zarr.json.<random>.tmp``). A live writer's files
look the same while it works, so only what is older than the format's age limit for
leftovers (:data:`zdb.commit.STALE_VERSION_SECONDS`) counts as garbage; younger ones
are reported as kept. Removing garbage is therefore safe while other processes read
and write. Keys whose pointer is damaged are never touched, nor anything inside a
value, nor ``.zdb/tmp`` (the user's folders of ``db.get_mkdtemp``), nor shared
metadata blobs (a writer may be about to refer to an old blob again).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from . import commit, progress_bars
from .commit import STAGING, STALE_VERSION_SECONDS, TRASH, DbRef
from .exceptions import DataBaseException, ReadOnlyError
from .format import BOOKKEEPING, ZARR_JSON, DatabaseNode, KeyNode, is_version_name
from .storage import join

if TYPE_CHECKING:
    from .database import DataBase

#: the temporary file of an atomic write or exclusive create (zdb.storage.local)
_TEMP_FILE = re.compile(r".+\.[0-9a-f]{12}\.tmp")
#: folders of ``.zdb`` whose files are written atomically by zdb
_ATOMIC_FOLDERS = ("blobs",)

RETIRED_VERSION = "retired version"
UNCOMMITTED_KEY = "uncommitted new key"
STAGING_FOLDER = "staging folder"
TRASHED_KEY = "deleted key in trash"
TEMPORARY_FILE = "temporary file"


@dataclass(frozen=True)
class Leftover:
    """One thing a killed writer left: its store ``path``, its ``full`` path or URL,
    what it is, its ``age`` in seconds, and whether it is ``stale`` (older than the
    format's age limit: garbage) or may still belong to a live writer."""

    path: str
    full: str
    what: str
    age: float
    stale: bool

    def to_dict(self) -> dict[str, Any]:
        """The leftover as JSON-ready fields."""
        return asdict(self)


@dataclass
class GcReport:
    """What :func:`gc` removed (or, with ``dry_run``, would remove) and the leftovers
    it kept because they are younger than the age limit."""

    dry_run: bool
    removed: list[Leftover] = field(default_factory=list)
    kept: list[Leftover] = field(default_factory=list)
    max_age: float = STALE_VERSION_SECONDS

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready fields."""
        return {
            "dry_run": self.dry_run,
            "max_age_seconds": self.max_age,
            "removed": [x.to_dict() for x in self.removed],
            "kept": [x.to_dict() for x in self.kept],
        }


def find(db: DbRef, now: float | None = None) -> list[Leftover]:
    """Every leftover of killed writers in ``db`` and its sub-databases, stale or not,
    in the order of their paths."""
    found: list[Leftover] = []
    _Finder(db.store, _now() if now is None else now, found.append).database(db)
    return sorted(found, key=lambda x: x.path)


def remove(db: DbRef, leftovers: list[Leftover], progress: bool = False) -> None:
    """Remove the stale ``leftovers`` of ``db``; a folder of an uncommitted key that is
    empty afterwards goes too. Young ones are refused: they may be a live writer's.
    ``progress`` shows a progress bar of the leftovers removed."""
    store = db.store
    emptied = set()
    bar = progress_bars.bar(leftovers, progress=progress, desc="removing", unit="leftover")
    for x in bar:
        if not x.stale:
            raise ValueError(f"{x.full} is younger than the age limit; it is not removed")
        store.remove(x.path)
        if x.what == UNCOMMITTED_KEY:
            emptied.add(x.path.rpartition("/")[0])
    for folder in sorted(emptied):
        store.remove_empty_folder(folder)


def gc(db: DataBase, dry_run: bool = False, progress: bool = False) -> GcReport:
    """Remove what killed writers left in ``db`` (see the module's docstring): only
    what is older than the format's age limit, never a live key's pointer or current
    version; safe while others read and write. With ``dry_run``, remove nothing and
    report what would be removed. ``progress`` shows a progress bar of the removals."""
    if not dry_run and db.readonly:
        raise ReadOnlyError(
            f"cannot remove leftovers in {db.basedir}: it is open read-only; open it with "
            "readonly=False, or use dry_run=True to list them"
        )
    everything = find(db.ref)
    report = GcReport(
        dry_run=dry_run,
        removed=[x for x in everything if x.stale],
        kept=[x for x in everything if not x.stale],
    )
    if not dry_run:
        remove(db.ref, report.removed, progress)
    return report


def _now() -> float:
    """The time leftovers' ages are measured against (seconds since the epoch)."""
    return time.time()


class _Finder:
    """Walks a database's folders and reports each leftover to ``out``."""

    def __init__(self, store: Any, now: float, out: Callable[[Leftover], None]) -> None:
        self.store, self.now, self.out = store, now, out

    def add(self, path: str, what: str, created: float | None) -> None:
        # a time that cannot be read (a file removed meanwhile) is taken as now: kept
        age = max(0.0, self.now - (self.now if created is None else created))
        self.out(Leftover(path, self.store.full(path), what, age, age > STALE_VERSION_SECONDS))

    def mtime(self, path: str) -> float | None:
        try:
            return float(self.store.mtime(path))
        except (FileNotFoundError, NotADirectoryError):
            return None

    def newest(self, path: str) -> float | None:
        """The newest modification time of the files below ``path`` (a copy between
        object stores gives old version names fresh files)."""
        times = [self.mtime(f) for f in self.store.files(path)]
        known = [t for t in times if t is not None]
        return max(known) if len(known) == len(times) and known else None

    def database(self, db: DbRef) -> None:
        for name in sorted(self.store.list_dir(db.prefix)):
            path = db.path(name)
            if name == BOOKKEEPING:
                self.bookkeeping(db)
            elif commit.is_pointer_temp(name):
                self.add(path, TEMPORARY_FILE, self.mtime(path))
            elif not name.startswith(".") and name != ZARR_JSON:
                self.child(db, name)

    def bookkeeping(self, db: DbRef) -> None:
        staging = db.path(STAGING)
        for name in sorted(self.store.list_dir(staging)):
            if is_version_name(name):
                self.add(join(staging, name), STAGING_FOLDER, commit.version_time(name))
        trash = db.path(TRASH)
        for name in sorted(self.store.list_dir(trash)):
            path = join(trash, name)
            files = self.store.files(path)
            self.add(path, TRASHED_KEY, self.newest(path) if files else self.mtime(path))
        for folder in _ATOMIC_FOLDERS:
            where = db.path(BOOKKEEPING, folder)
            for name in sorted(self.store.list_dir(where)):
                if _TEMP_FILE.fullmatch(name):
                    self.add(join(where, name), TEMPORARY_FILE, self.mtime(join(where, name)))

    def child(self, db: DbRef, name: str) -> None:
        try:
            node = commit.read_node(db, name)
        except DataBaseException:
            return  # a damaged key is left as it is, all of it
        if isinstance(node, DatabaseNode):
            self.database(db.child(name, node))
        elif isinstance(node, KeyNode):
            self.key(db, name)
        elif node is None:
            self.uncommitted(db.path(name))

    def key(self, db: DbRef, name: str) -> None:
        # listed before the pointer is read again: a version committed meanwhile is
        # either not listed or the one the pointer names
        key_path = db.path(name)
        names = sorted(self.store.list_dir(key_path))
        try:
            node = commit.read_node(db, name)
        except DataBaseException:
            return
        if not isinstance(node, KeyNode):
            return  # deleted or replaced meanwhile
        for child in names:
            path = join(key_path, child)
            if is_version_name(child) and child != node.version:
                self.add(path, RETIRED_VERSION, commit.version_time(child))
            elif commit.is_pointer_temp(child):
                self.add(path, TEMPORARY_FILE, self.mtime(path))

    def uncommitted(self, key_path: str) -> None:
        """A folder without a pointer: the new key of a writer killed before its commit,
        or one being written or copied now. Anything else in it is not zdb's."""
        names = self.store.list_dir(key_path)
        if not names or not all(is_version_name(n) or commit.is_pointer_temp(n) for n in names):
            return
        for name in sorted(names):
            path = join(key_path, name)
            if is_version_name(name):
                created = commit.version_time(name)
                newest = self.newest(path)
                known = None if newest is None or created is None else max(created, newest)
                self.add(path, UNCOMMITTED_KEY, known)
            else:
                self.add(path, UNCOMMITTED_KEY, self.mtime(path))
