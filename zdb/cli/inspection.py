"""``zdb ls``, ``zdb info``, ``zdb meta`` and ``zdb diff``: what is in a database, what
a key holds and where it came from."""

from __future__ import annotations

import argparse
import json
from typing import Any

from .common import CommandError, add_command, emit_json, open_db, parse_key, show_key

#: provenance fields shown one per line before the long ones
_SHORT_FIELDS = (
    "dumper",
    "time",
    "hostname",
    "zdb_version",
    "version",
    "full-revisionid",
    "dirty",
    "metadata_creation_time",
)


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``ls``, ``info``, ``meta`` and ``diff``."""
    p = add_command(
        commands,
        "ls",
        run_ls,
        help="list the keys of a database as a tree",
        description="The tree of keys; --long adds dumper, type, shape/dtype, size and time "
        "written. --json gives every field of every key, nested keys included.",
    )
    p.add_argument("db", metavar="DB", help="database path or URL")
    p.add_argument("key", metavar="KEY", nargs="?", help="list only this sub-database (a/b)")
    p.add_argument("--depth", type=int, default=None, metavar="N", help="levels of sub-databases")
    p.add_argument("--long", "-l", action="store_true", help="dumper, type, shape, size, time")

    p = add_command(
        commands,
        "info",
        run_info,
        help="what a key holds, where, and its provenance",
        description="A key's dumper, type, shape, dtype, chunks, codecs, size, number of "
        "files, the path plain zarr opens (path_of), and its provenance.",
    )
    p.add_argument("db", metavar="DB", help="database path or URL")
    p.add_argument("key", metavar="KEY", help="the key (a/b for nested keys)")

    p = add_command(commands, "meta", run_meta, help="the provenance of a key")
    p.add_argument("db", metavar="DB", help="database path or URL")
    p.add_argument("key", metavar="KEY", help="the key (a/b for nested keys)")

    p = add_command(
        commands,
        "diff",
        run_diff,
        help="how the provenance of two keys differs",
        description="Compare the provenance of KEY1 and KEY2 of DB (or of KEY1 in DB and "
        "KEY2, default KEY1, in --other DB2): code version, dirty state and the difference "
        "between their diffs, package versions, host, time.",
    )
    p.add_argument("db", metavar="DB", help="database path or URL")
    p.add_argument("key1", metavar="KEY1")
    p.add_argument("key2", metavar="KEY2", nargs="?", help="default: KEY1 (with --other)")
    p.add_argument("--other", metavar="DB2", help="read KEY2 from this database")


def run_ls(args: argparse.Namespace) -> int:
    from ..tree import line, listing

    db = open_db(args, args.db)
    at: tuple[str, ...] = ()
    if args.key:
        from ..format import DatabaseNode

        at = parse_key(args.key)
        if not isinstance(db.node(at), DatabaseNode):  # never read a value to find out
            raise CommandError(f"{show_key(at)} is a key, not a sub-database; see zdb info")
        db = db[at]
    records = listing(db, args.depth, at)
    if args.json:
        emit_json(records)
        return 0
    print(f"{db.basedir}  (zdb database {db.unique_id})")
    _print_tree(records, "", args.long, line)
    return 0


def _print_tree(records: list[dict[str, Any]], indent: str, long: bool, line: Any) -> None:
    for i, item in enumerate(records):
        last = i == len(records) - 1
        branch, deeper = ("└── ", "    ") if last else ("├── ", "│   ")
        if long or item["kind"] == "damaged":
            text = line(item)
        else:
            text = item["name"] + ("/" if item["kind"] == "database" else "")
        print(f"{indent}{branch}{text}")
        if item.get("children"):
            _print_tree(item["children"], indent + deeper, long, line)


def run_info(args: argparse.Namespace) -> int:
    from ..describe import describe
    from ..tree import human_size

    info = describe(open_db(args, args.db), parse_key(args.key))
    if args.json:
        emit_json(info)
        return 0
    print(f"key:      {show_key(info['key'])}")
    for field in ("kind", "dumper", "type", "summary", "path"):
        if info.get(field) is not None:
            print(f"{field + ':':<10}{info[field]}")
    print(f"size:     {human_size(info['size'])} ({info['size']} bytes in {info['files']} files)")
    if "keys" in info:
        print(f"keys:     {info['keys']}")
    if info["arrays"]:
        print("arrays:")
        for a in info["arrays"]:
            shards = f"  shards {a['shards']}" if a.get("shards") else ""
            print(
                f"  {a['path']}  shape {a['shape']}  {a['dtype']}  chunks {a['chunks']}"
                f"{shards}  codecs {', '.join(a['codecs'])}"
            )
    print("provenance:")
    _print_metadata(info["metadata"], "  ", long_fields=False)
    return 0


def run_meta(args: argparse.Namespace) -> int:
    meta = open_db(args, args.db).metadata[parse_key(args.key)]
    if args.json:
        emit_json(meta)
        return 0
    _print_metadata(meta, "", long_fields=True)
    return 0


def _print_metadata(meta: dict[str, Any], indent: str, long_fields: bool) -> None:
    for field in _SHORT_FIELDS:
        print(f"{indent}{field}: {meta.get(field)}")
    modules = meta.get("module_versions") or {}
    diff, history = meta.get("diff"), meta.get("history")
    if not long_fields:
        lines = len(diff.splitlines()) if isinstance(diff, str) else 0
        print(f"{indent}diff: {lines} lines; module_versions: {len(modules)} packages (zdb meta)")
    else:
        print("module_versions:")
        for name, version in sorted(modules.items()):
            print(f"  {name}=={version}")
        print("diff:" if diff else "diff: none")
        if diff:
            print(diff.rstrip("\n"))
        if history:
            print("history:")
            print(str(history).rstrip("\n"))
    if meta.get("error"):
        print(f"{indent}error: {meta['error']}")


def run_diff(args: argparse.Namespace) -> int:
    from ..provenance_diff import compare

    key1 = parse_key(args.key1)
    key2 = parse_key(args.key2) if args.key2 else key1
    db1 = open_db(args, args.db)
    db2 = open_db(args, args.other) if args.other else db1
    if db2 is db1 and key1 == key2:
        raise CommandError("name two keys (KEY1 KEY2), or a second database with --other")
    labels = (f"{db1.basedir}:{show_key(key1)}", f"{db2.basedir}:{show_key(key2)}")
    result = compare(db1.metadata[key1], db2.metadata[key2], labels)
    if args.json:
        emit_json({"a": labels[0], "b": labels[1], **result})
        return 0
    print(f"a: {labels[0]}\nb: {labels[1]}")
    if result["same"]:
        print("same provenance (only the time differs)" if result["fields"] else "same provenance")
    for field, (a, b) in result["fields"].items():
        print(f"{field}: {json.dumps(a, default=str)} -> {json.dumps(b, default=str)}")
    modules = result["module_versions"]
    for name, version in modules["added"].items():
        print(f"package added: {name}=={version}")
    for name, version in modules["removed"].items():
        print(f"package removed: {name}=={version}")
    for name, (a, b) in modules["changed"].items():
        print(f"package changed: {name} {a} -> {b}")
    if result["diff"]:
        print("difference between the uncommitted diffs:")
        print(result["diff"].rstrip("\n"))
    if result["history"]:
        print("difference between the histories:")
        print(result["history"].rstrip("\n"))
    return 0
