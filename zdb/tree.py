"""The text tree of a database that ``db.ls()`` prints and ``repr(db)`` shows, and the
same listing as records (``zdb ls --json``).

One line per key: dumper, type, shape/dtype, size and when it was written; a damaged
key gets a line saying so, and the listing goes on with the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import commit
from .exceptions import DataBaseException
from .format import KIND_DATABASE, KIND_FOREIGN, DatabaseNode, ForeignNode

#: the kind of a key whose pointer cannot be read
DAMAGED = "damaged"

if TYPE_CHECKING:
    from .database import DataBase


def tree(db: DataBase, max_lines: int | None, max_depth: int | None = None) -> str:
    """The tree of ``db``: at most ``max_lines`` lines and ``max_depth`` levels of
    sub-databases (None: all)."""
    lines = [f"{db.basedir}  (zdb database {db.unique_id})"]
    _lines(db, lines, "", max_lines, max_depth)
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines] + [f"... ({len(lines) - max_lines} more lines)"]
    return "\n".join(lines)


def _lines(
    db: DataBase, lines: list[str], indent: str, max_lines: int | None, max_depth: int | None
) -> None:
    try:
        names = db.keys()
    except DataBaseException as e:
        lines.append(f"{indent}<keys unreadable: {e}>")
        return
    for i, name in enumerate(names):
        if max_lines is not None and len(lines) > max_lines:
            lines.append(f"{indent}...")
            return
        branch, deeper = ("└── ", "    ") if i == len(names) - 1 else ("├── ", "│   ")
        item = entry(db, name, (name,))
        if item is None:
            continue
        lines.append(f"{indent}{branch}{line(item)}")
        if item["kind"] == KIND_DATABASE and (max_depth is None or max_depth > 0):
            _lines(db[name], lines, indent + deeper, max_lines, _less(max_depth))


def line(item: dict[str, Any]) -> str:
    """The text of one record of :func:`entry`, without the tree's branches."""
    name = item["name"]
    if item["kind"] == DAMAGED:
        return f"{name}  <damaged: {item['error']}>"
    if item["kind"] == KIND_DATABASE:
        return f"{name}/  (sub-database)"
    size = human_size(item["size"])
    if item["kind"] == KIND_FOREIGN:
        return f"{name}  (zarr {item['type']}, not zdb)  {size}"
    written = str(item["time"] or "")[:19].replace("T", " ")
    return f"{name}  {item['dumper']}  {item['type']}  {item['summary']}  {size}  {written}"


def entry(db: DataBase, name: str, key: tuple[str, ...]) -> dict[str, Any] | None:
    """The record of key ``name`` of ``db`` (``key``: its parts from the top of the
    listing): ``key``, ``name``, ``kind`` (``data``, ``database``, ``foreign`` or
    ``damaged``), ``dumper``, ``type``, ``summary`` (shape and dtype or similar), ``size``
    in bytes, ``time`` written and ``error``; None when it is gone."""
    out: dict[str, Any] = {
        "key": list(key),
        "name": name,
        "kind": DAMAGED,
        "dumper": None,
        "type": None,
        "summary": None,
        "size": None,
        "time": None,
        "error": None,
    }
    try:
        node = commit.read_node(db.ref, name)
    except DataBaseException as e:
        out["error"] = str(e)
        return out
    if node is None:
        return None
    out["kind"] = node.kind
    if isinstance(node, DatabaseNode):
        out["time"] = node.created
        return out
    out["size"] = db.ref.store.size(db.ref.path(name))
    if isinstance(node, ForeignNode):
        out["type"] = node.node_type
        return out
    out["dumper"] = node.dumper
    out["type"] = node.loader.get("type")
    out["summary"] = node.loader.get("summary")
    out["time"] = (node.metadata or {}).get("time")
    return out


def listing(
    db: DataBase, max_depth: int | None = None, at: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """The records (:func:`entry`) of every key of ``db``, in key order; a
    sub-database's record holds its keys' records in ``children``, down to ``max_depth``
    levels of sub-databases (None: all; deeper ones have ``children`` None)."""
    out = []
    for name in db.keys():
        item = entry(db, name, (*at, name))
        if item is None:
            continue
        if item["kind"] == KIND_DATABASE:
            deeper = max_depth is None or max_depth > 0
            item["children"] = listing(db[name], _less(max_depth), (*at, name)) if deeper else None
        out.append(item)
    return out


def _less(depth: int | None) -> int | None:
    return None if depth is None else depth - 1


def human_size(n: int) -> str:
    """``n`` bytes as ``"12 B"``, ``"3.4 MB"``, ..."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1000
    return f"{n} B"
