"""``zdb export``, ``zdb cp`` and ``zdb rm``: a database to a zip archive or another
location, a key with its provenance into another database, and deleting a key."""

from __future__ import annotations

import argparse

from .common import CommandError, add_command, emit_json, open_db, parse_key, progress, show_key


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``export``, ``cp`` and ``rm``."""
    p = add_command(
        commands,
        "export",
        run_export,
        help="write a database to a zip archive or copy it to another location",
        description="OUT ending in .zip (a local path) is a zip archive, opened read-only "
        "with zdb.DataBase('OUT.zip'); any other OUT (a new or empty folder, or an "
        "object-store URL) receives a copy. Both keep the database's unique id and leave "
        "out leftovers of killed writers.",
    )
    p.add_argument("db", metavar="DB", help="database path or URL")
    p.add_argument("out", metavar="OUT", help="the archive (.zip) or the new location")

    p = add_command(
        commands,
        "cp",
        run_cp,
        help="copy a key with its provenance into another database",
        description="Copy KEY of DB (a value, or a sub-database key by key) with its "
        "provenance to NEW_KEY (default: KEY) of OTHER_DB, created if missing; an existing "
        "key there is replaced, atomically.",
    )
    p.add_argument("db", metavar="DB", help="database path or URL")
    p.add_argument("key", metavar="KEY", help="the key (a/b for nested keys)")
    p.add_argument("other", metavar="OTHER_DB", help="the database to copy into")
    p.add_argument("new_key", metavar="NEW_KEY", nargs="?", help="default: KEY")

    p = add_command(commands, "rm", run_rm, help="delete a key (a value or a sub-database)")
    p.add_argument("db", metavar="DB", help="database path or URL")
    p.add_argument("key", metavar="KEY", help="the key (a/b for nested keys)")


def run_export(args: argparse.Namespace) -> int:
    from ..archive import export_copy, export_zip

    db = open_db(args, args.db)
    if args.out.endswith(".zip"):
        if "://" in args.out:
            raise CommandError(
                f"{args.out}: a zip archive is written to a local path; write it here and "
                "upload it, or export to a folder URL (without .zip) instead"
            )
        out = export_zip(db, args.out, progress=progress(args))
        kind = "zip"
    else:
        from .common import storage_options

        out = export_copy(db, args.out, storage_options(args), progress=progress(args)).basedir
        kind = "copy"
    if args.json:
        emit_json({"database": db.basedir, "exported_to": out, "kind": kind})
    else:
        print(f"exported {db.basedir} to {out}")
    return 0


def run_cp(args: argparse.Namespace) -> int:
    key = parse_key(args.key)
    new_key = parse_key(args.new_key) if args.new_key else key
    src = open_db(args, args.db)
    dst = open_db(args, args.other, create=True)
    src.copy_to(key, dst, new_key, progress=progress(args))
    if args.json:
        emit_json(
            {
                "from": src.basedir,
                "key": list(key),
                "to": dst.basedir,
                "new_key": list(new_key),
            }
        )
    else:
        print(f"copied {show_key(key)} of {src.basedir} to {show_key(new_key)} of {dst.basedir}")
    return 0


def run_rm(args: argparse.Namespace) -> int:
    key = parse_key(args.key)
    db = open_db(args, args.db, writable=True)
    del db[key]
    if args.json:
        emit_json({"database": db.basedir, "removed": list(key)})
    else:
        print(f"removed {show_key(key)} from {db.basedir}")
    return 0
