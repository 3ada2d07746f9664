"""``zdb migrate OLD NEW``: convert an ISF database into a zdb database. The work is
done by :func:`zdb.isf_migration.migrate`."""

from __future__ import annotations

import argparse

from .common import add_command, emit_json, progress


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``migrate``."""
    p = add_command(
        commands,
        "migrate",
        run_migrate,
        help="convert an ISF database into a zdb database",
        description="Convert the ISF database OLD into a zdb database at NEW (a new or empty "
        "folder; run it again on the same NEW to finish an interrupted migration). OLD is "
        "only read. Keys that cannot be decoded are kept byte for byte and reported.",
    )
    p.add_argument("old", metavar="OLD", help="the ISF database (a folder with db_state.json)")
    p.add_argument("new", metavar="NEW", help="the zdb database to create")
    p.add_argument(
        "--allow-pickle",
        action="store_true",
        help="read and convert pickled keys (unpickling runs code: only if you trust OLD)",
    )
    p.add_argument("--jobs", type=int, default=None, metavar="N", help="keys converted at once")


def run_migrate(args: argparse.Namespace) -> int:
    from ..isf_migration import migrate

    report = migrate(
        args.old, args.new, allow_pickle=args.allow_pickle, jobs=args.jobs, progress=progress(args)
    )
    if args.json:
        emit_json(report.as_json())
    else:
        print(report.text())
    return 1 if report.failed else 0
