"""The text tree of a database that ``db.ls()`` prints and ``repr(db)`` shows.

One line per key: dumper, type, shape/dtype, size and when it was written; a damaged
key gets a line saying so, and the listing goes on with the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import commit
from .exceptions import DataBaseException
from .format import DatabaseNode, ForeignNode

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
        try:
            node = commit.read_node(db.ref, name)
        except DataBaseException as e:
            lines.append(f"{indent}{branch}{name}  <damaged: {e}>")
            continue
        if node is None:
            continue
        if isinstance(node, DatabaseNode):
            lines.append(f"{indent}{branch}{name}/  (sub-database)")
            if max_depth is None or max_depth > 0:
                child = db[name]
                _lines(child, lines, indent + deeper, max_lines, _less(max_depth))
            continue
        size = human_size(db.ref.store.size(db.ref.path(name)))
        if isinstance(node, ForeignNode):
            lines.append(f"{indent}{branch}{name}  (zarr {node.node_type}, not zdb)  {size}")
            continue
        written = str((node.metadata or {}).get("time") or "")
        lines.append(
            f"{indent}{branch}{name}  {node.dumper}  {node.loader.get('type', '')}  "
            f"{node.loader.get('summary', '')}  {size}  {written[:19].replace('T', ' ')}"
        )


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
