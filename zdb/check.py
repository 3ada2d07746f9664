"""Checking a database's health (``zdb.fsck``), and repairing what can be repaired safely.

Every key is checked: its pointer parses, its version folder exists, the shared blobs
of its provenance are there, and its whole value reads back (arrays chunk by chunk,
tables partition by partition, so that a key larger than memory is checked too); on
object stores the key index is compared with the folders. Leftovers of killed writers
older than the format's age limit are reported (:mod:`zdb.leftovers`).

Repairing records unlisted keys in the key index and drops index entries of keys that
are gone, and removes stale leftovers (what ``zdb.gc`` removes). It never deletes or
rewrites a damaged key's data or pointer: such a key stays reported, and the message
says what to do (usually: delete it and write it again).
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from . import commit, leftovers, metadata, progress_bars
from .database import DataBase
from .exceptions import (
    DataBaseException,
    FormatVersionError,
    PickleRefusedError,
    ReadOnlyError,
)
from .format import BLOB_FIELDS, ZARR_JSON, DatabaseNode, KeyNode, parse_node
from .keys import format_key

#: how many chunks or partitions are read at once while a value is checked
_BATCH = 16
#: values stored in at most this many bytes are read whole (compressed data may grow
#: a thousandfold in memory, so this stays small)
_EAGER_BYTES = 1 << 20

DAMAGED_POINTER = "damaged pointer"
NEWER_FORMAT = "newer format"
MISSING_VERSION = "missing version folder"
MISSING_BLOB = "missing provenance blob"
UNREADABLE_VALUE = "unreadable value"
UNKNOWN_DUMPER = "unknown dumper"
DAMAGED_DATABASE = "damaged database node"
UNLISTED_KEY = "key missing from the index"
GONE_KEY = "index lists a key that is gone"
HALF_DELETED = "half-deleted key"
LEFTOVER = "leftover of a killed writer"


@dataclass(frozen=True)
class Finding:
    """One thing wrong: the key (its parts; None for a path that is no key), the path or
    URL concerned, what is wrong (one of this module's constants), a message that says
    what to do, whether ``--repair`` can fix it and whether it did."""

    key: tuple[str, ...] | None
    path: str
    problem: str
    message: str
    repairable: bool = False
    repaired: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The finding as JSON-ready fields."""
        out = asdict(self)
        out["key"] = None if self.key is None else list(self.key)
        return out


@dataclass
class FsckReport:
    """What :func:`fsck` checked and found. ``ok`` is True when nothing is left wrong
    (nothing was found, or everything found was repaired)."""

    database: str
    repair: bool
    keys_checked: int = 0
    findings: list[Finding] = field(default_factory=list)
    #: keys whose pickled value was not read (the database's pickle policy refused it)
    not_read: list[tuple[str, ...]] = field(default_factory=list)
    #: leftovers younger than the age limit: maybe a live writer's, not a problem yet
    in_progress: list[leftovers.Leftover] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when no finding is left unrepaired."""
        return all(f.repaired for f in self.findings)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready fields."""
        return {
            "database": self.database,
            "ok": self.ok,
            "repair": self.repair,
            "keys_checked": self.keys_checked,
            "findings": [f.to_dict() for f in self.findings],
            "not_read": [list(k) for k in self.not_read],
            "in_progress": [x.to_dict() for x in self.in_progress],
        }


def fsck(db: DataBase, repair: bool = False, progress: bool = False) -> FsckReport:
    """Check every key of ``db`` and its sub-databases (see the module's docstring) and
    return what was found; with ``repair``, fix what can be fixed safely (the database
    must be writable). ``progress`` shows a progress bar of the keys checked."""
    if repair and db.readonly:
        raise ReadOnlyError(
            f"cannot repair {db.basedir}: it is open read-only; open it with readonly=False "
            "(an archive cannot be repaired: repair the database it was exported from)"
        )
    report = FsckReport(database=db.basedir, repair=repair)
    _check_root(db, report)
    with progress_bars.bar(desc="checking keys", unit="key", progress=progress, leave=False) as bar:
        for key, sub, name in _keys(db, (), report):
            _check_key(db, key, sub, name, report)
            report.keys_checked += 1
            bar.update(1)
    _check_index(db, repair, report)
    _check_leftovers(db, repair, report)
    return report


def _check_root(db: DataBase, report: FsckReport) -> None:
    """The database's own ``zarr.json`` (one opened for writing was repaired already)."""
    path = db.ref.path(ZARR_JSON)
    try:
        node = parse_node(db.ref.store.read_bytes(path), db.basedir)
    except DataBaseException as e:
        node = DatabaseNode(damage=str(e))
    if isinstance(node, DatabaseNode) and node.damage:
        report.findings.append(
            Finding(
                (),
                db.ref.store.full(path),
                DAMAGED_DATABASE,
                f"the database {db.basedir}: {node.damage}; zdb fsck --repair gives it a new "
                "unique id",
                repairable=True,
            )
        )


def _keys(
    db: DataBase, at: tuple[str, ...], report: FsckReport
) -> Iterator[tuple[tuple[str, ...], DataBase, str]]:
    """Every key below ``db`` found by listing folders (the truth, also where an index
    is kept): (its parts from the root, the database holding it, its name there).
    Sub-databases are descended into; a damaged database node is reported."""
    for name in commit.listed_names(db.ref):
        key = (*at, name)
        try:
            node = commit.read_node(db.ref, name)
        except DataBaseException:
            node = None  # reported by _check_key
        if isinstance(node, DatabaseNode):
            if node.damage:
                report.findings.append(
                    Finding(
                        key,
                        db.ref.store.full(db.ref.path(name, ZARR_JSON)),
                        DAMAGED_DATABASE,
                        f"sub-database {_show(key)}: {node.damage}; open it for writing "
                        "(zdb.DataBase(path)) to give it a new unique id",
                    )
                )
            yield from _keys(db[name], key, report)
        else:
            yield key, db, name


def _show(key: tuple[str, ...]) -> str:
    return repr(format_key(key))


def _check_key(
    root: DataBase, key: tuple[str, ...], db: DataBase, name: str, report: FsckReport
) -> None:
    ref = db.ref
    where = ref.store.full(ref.path(name))

    def found(problem: str, message: str) -> None:
        report.findings.append(Finding(key, where, problem, message))

    try:
        node = commit.read_node(ref, name)
    except FormatVersionError as e:
        found(NEWER_FORMAT, str(e))
        return
    except DataBaseException as e:
        found(DAMAGED_POINTER, str(e))
        return
    if node is None:  # deleted since it was listed
        return
    if isinstance(node, KeyNode):
        from .dumper_registry import all_dumpers

        if node.dumper not in all_dumpers():
            found(
                UNKNOWN_DUMPER,
                f"key {_show(key)} was written with dumper {node.dumper!r}, which this zdb "
                "does not have; install the package that provides it (its value is not "
                "checked)",
            )
            return
        # a deferred value is in its pointer; its version folder is written on request
        if (
            node.version
            and not node.deferred
            and not ref.store.is_dir(ref.path(name, node.version))
        ):
            found(
                MISSING_VERSION,
                f"key {_show(key)}: its pointer names the version folder {node.version}, "
                "which is missing; the value is lost: delete the key and write it again",
            )
            return
        for problem in _missing_blobs(ref, node):
            found(MISSING_BLOB, f"key {_show(key)}: {problem}")
    # small values are read whole (a lazy read costs more than the value); larger ones
    # lazily, chunk by chunk, so that a value larger than memory is checked too
    lazy = ref.store.size(ref.path(name)) > _EAGER_BYTES
    try:
        _drain(db.get(name, lazy=lazy))
    except PickleRefusedError:
        report.not_read.append(key)
    except DataBaseException as e:  # before KeyError: CorruptKeyError is one
        found(UNREADABLE_VALUE, str(e))
    except KeyError:
        return  # deleted meanwhile
    except Exception as e:  # a reader's failure that zdb does not know yet: still damage
        found(
            UNREADABLE_VALUE,
            f"key {_show(key)} in {root.basedir} cannot be read ({type(e).__name__}: {e}); "
            "delete it and write it again",
        )


def _missing_blobs(ref: commit.DbRef, node: KeyNode) -> list[str]:
    """What is wrong with the shared blobs the key's provenance refers to."""
    out = []
    for field_name, stored in BLOB_FIELDS.items():
        digest = (node.metadata or {}).get(stored)
        if not digest:
            continue
        try:
            metadata.get_blob(ref.store, ref.prefix, digest)
        except FileNotFoundError:
            out.append(
                f"the {field_name} of its provenance (blob {digest}) is missing; the value "
                "is intact, only that field reads as missing"
            )
        except (OSError, ValueError, zlib.error) as e:
            out.append(
                f"the {field_name} of its provenance (blob {digest}) is unreadable ({e}); "
                "the value is intact, only that field reads as missing"
            )
    return out


def _drain(value: Any) -> None:
    """Read every part of ``value`` (a lazy one chunk by chunk) and drop it."""
    import dask

    if type(value).__module__.startswith("xarray"):
        variables = getattr(value, "variables", None)
        if variables is None:  # a DataArray
            variables = {"": value.variable, **value.coords.variables}
        for var in variables.values():
            _drain(var.data)
        return
    if not dask.is_dask_collection(value):
        return  # read into memory already
    delayed = value.to_delayed()
    pieces = list(delayed.ravel()) if hasattr(delayed, "ravel") else list(delayed)
    for i in range(0, len(pieces), _BATCH):
        dask.compute(*pieces[i : i + _BATCH])


def _check_index(db: DataBase, repair: bool, report: FsckReport) -> None:
    """On object stores: the key index against the folders."""
    if not db.ref.indexed or db.ref.store.cheap_listing:
        return
    found: dict[str, list[tuple[str, ...]]] = {
        "added": [],
        "removed": [],
        "left": [],
        "damaged": [],
    }
    commit.repair_index(db.ref, (), True, found, dry_run=not repair)
    store = db.ref.store
    # what repair_index found -> (problem, message, whether --repair fixes it)
    kinds = {
        "added": (
            UNLISTED_KEY,
            "key {} exists but the key index does not list it (a writer was killed after its "
            "commit); zdb fsck --repair records it",
            True,
        ),
        "removed": (
            GONE_KEY,
            "the key index lists {}, which is gone; zdb fsck --repair drops it",
            True,
        ),
        "left": (
            HALF_DELETED,
            "key {} was being deleted (or its deleter was killed): the index says it is gone; "
            "delete it again (zdb rm)",
            False,
        ),
    }
    for kind, (problem, message, repairable) in kinds.items():
        for key in found[kind]:
            report.findings.append(
                Finding(
                    key,
                    store.full(db.ref.path(*key)),
                    problem,
                    message.format(_show(key)),
                    repairable=repairable,
                    repaired=repair and repairable,
                )
            )


def _check_leftovers(db: DataBase, repair: bool, report: FsckReport) -> None:
    found = leftovers.find(db.ref)
    stale = [x for x in found if x.stale]
    report.in_progress.extend(x for x in found if not x.stale)
    if repair:
        leftovers.remove(db.ref, stale)
    for x in stale:
        report.findings.append(
            Finding(
                None,
                x.full,
                LEFTOVER,
                f"{x.what} left by a killed writer {x.age / 3600:.0f} hours ago; zdb gc or "
                "zdb fsck --repair removes it",
                repairable=True,
                repaired=repair,
            )
        )
