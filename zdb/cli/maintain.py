"""``zdb fsck`` and ``zdb gc``: is a database healthy, and removing what killed writers
left. The work is done by :func:`zdb.check.fsck` and :func:`zdb.leftovers.gc`."""

from __future__ import annotations

import argparse

from .common import add_command, emit_json, open_db, progress


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``fsck`` and ``gc``."""
    p = add_command(
        commands,
        "fsck",
        run_fsck,
        help="check every key of a database; --repair fixes what can be fixed safely",
        description="Check every key (pointer, version folder, provenance blobs, the whole "
        "value readable, the key index against the folders) and report what is wrong, "
        "naming each key. --repair fixes the key index and removes leftovers of killed "
        "writers older than 24 hours; it never deletes or rewrites a damaged key. Exit "
        "status 0 when nothing is left wrong, else 1.",
    )
    p.add_argument("db", metavar="DB", help="database path or URL")
    p.add_argument("--repair", action="store_true", help="fix what can be fixed safely")

    p = add_command(
        commands,
        "gc",
        run_gc,
        help="remove what killed writers left behind (safe while others work)",
        description="Remove retired versions, uncommitted new keys, staging folders, "
        "trashed keys and temporary files that killed writers left, when older than the "
        "format's age limit (24 hours): never a live key, safe while other processes read "
        "and write. --dry-run lists every path it would remove.",
    )
    p.add_argument("db", metavar="DB", help="database path or URL")
    p.add_argument("--dry-run", action="store_true", help="list, remove nothing")


def run_fsck(args: argparse.Namespace) -> int:
    from ..check import fsck

    report = fsck(open_db(args, args.db, writable=args.repair), args.repair, progress(args))
    if args.json:
        emit_json(report.to_dict())
        return 0 if report.ok else 1
    for f in report.findings:
        state = " [repaired]" if f.repaired else (" [repairable]" if f.repairable else "")
        print(f"{f.problem}{state}: {f.path}\n  {f.message}")
    for key in report.not_read:
        print(f"not read (pickled; the database's pickle policy refused it): {'/'.join(key)}")
    for x in report.in_progress:
        print(f"in progress (younger than the age limit, kept): {x.what}: {x.full}")
    left = sum(not f.repaired for f in report.findings)
    repaired = len(report.findings) - left
    print(
        f"{report.keys_checked} keys checked in {report.database}: "
        + ("nothing wrong" if not report.findings else f"{left} problems left")
        + (f", {repaired} repaired" if repaired else "")
        + ("" if report.ok or args.repair else "; zdb fsck --repair fixes those marked so")
    )
    return 0 if report.ok else 1


def run_gc(args: argparse.Namespace) -> int:
    from ..leftovers import gc

    db = open_db(args, args.db, writable=not args.dry_run)
    report = gc(db, dry_run=args.dry_run, progress=progress(args))
    if args.json:
        emit_json(report.to_dict())
        return 0
    verb = "would remove" if args.dry_run else "removed"
    for x in report.removed:
        print(f"{verb} {x.full}  ({x.what}, {x.age / 3600:.0f} hours old)")
    for x in report.kept:
        print(f"kept {x.full}  ({x.what}, younger than the age limit: maybe a live writer's)")
    print(f"{verb} {len(report.removed)} leftovers, kept {len(report.kept)}")
    return 0
