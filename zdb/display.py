"""Rich display in Jupyter: the HTML that a notebook shows for a database, for
``db.metadata`` and for one key's metadata.

A database is a collapsible tree (key, dumper, type, shape, size, time written), its
sub-databases collapsed; a large one shows its first keys in key order and says how
many more there are. Everything shown comes from the database, which is untrusted:
every text is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from .format import KIND_DATABASE, KIND_FOREIGN
from .tree import DAMAGED, entry, human_size

if TYPE_CHECKING:
    from .database import DataBase

#: at most this many keys are shown in all (sub-databases included)
MAX_ROWS = 200
#: provenance fields shown in the table of ``db.metadata``, in this order
SUMMARY_FIELDS = ("dumper", "time", "hostname", "version", "dirty")
#: provenance fields shown collapsed, as code
LONG_FIELDS = {"diff": "diff", "history": "python"}

_STYLE = (
    "<style>.zdb table{border-collapse:collapse;font-size:90%}"
    ".zdb td,.zdb th{padding:1px 8px;text-align:left;vertical-align:top}"
    ".zdb details>summary{cursor:pointer}.zdb .zdb-damaged{color:#b00}</style>"
)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def database_html(db: DataBase, max_rows: int = MAX_ROWS) -> str:
    """The HTML of ``db``: its place and id, and the tree of its keys."""
    budget = [max_rows]
    body, _ = _keys_html(db, (), budget)
    head = (
        f"<b>zdb database</b> <code>{_e(db.basedir)}</code> "
        f"<span>(id {_e(db.unique_id)}{', read-only' if db.readonly else ''})</span>"
    )
    return f'{_STYLE}<div class="zdb">{head}{body}</div>'


def _keys_html(db: DataBase, at: tuple[str, ...], budget: list[int]) -> tuple[str, int]:
    """The table of ``db``'s keys (within ``budget`` rows) and how many keys it has."""
    names = db.keys()
    rows = []
    shown = 0
    for name in names:
        if budget[0] <= 0:
            break
        item = entry(db, name, (*at, name))
        if item is None:
            continue
        budget[0] -= 1
        shown += 1
        rows.append(_row_html(db, item, budget))
    more = len(names) - shown
    tail = f"<div>... and {more} more keys</div>" if more > 0 else ""
    if not rows:
        return f"<div><i>no keys</i></div>{tail}", len(names)
    header = "".join(f"<th>{h}</th>" for h in ("key", "dumper", "type", "shape", "size", "written"))
    return f"<table><tr>{header}</tr>{''.join(rows)}</table>{tail}", len(names)


def _row_html(db: DataBase, item: dict[str, Any], budget: list[int]) -> str:
    name = _e(item["name"])
    if item["kind"] == DAMAGED:
        return (
            f'<tr class="zdb-damaged"><td>{name}</td>'
            f'<td colspan="5">damaged: {_e(item["error"])}</td></tr>'
        )
    if item["kind"] == KIND_DATABASE:
        inner, count = _keys_html(db[item["name"]], tuple(item["key"]), budget)
        return (
            f'<tr><td colspan="6"><details><summary>{name}/ '
            f"<i>(sub-database, {count} keys)</i></summary>{inner}</details></td></tr>"
        )
    size = human_size(item["size"]) if item["size"] is not None else ""
    written = str(item["time"] or "")[:19].replace("T", " ")
    kind = "zarr, not zdb" if item["kind"] == KIND_FOREIGN else item["dumper"]
    return (
        f"<tr><td>{name}</td><td>{_e(kind)}</td><td>{_e(item['type'])}</td>"
        f"<td>{_e(item['summary'])}</td><td>{_e(size)}</td><td>{_e(written)}</td></tr>"
    )


def metadata_table_html(metadata: Mapping[str, Mapping[str, Any]], keys: list[str]) -> str:
    """The HTML of ``db.metadata``: a row per key with its main provenance fields."""
    header = "".join(f"<th>{f}</th>" for f in ("key", *SUMMARY_FIELDS))
    rows = []
    for key in keys[:MAX_ROWS]:
        fields = metadata[key]
        cells = "".join(f"<td>{_e(fields.get(f))}</td>" for f in SUMMARY_FIELDS)
        rows.append(f"<tr><td>{_e(key)}</td>{cells}</tr>")
    more = len(keys) - MAX_ROWS
    tail = f"<div>... and {more} more keys</div>" if more > 0 else ""
    return f'{_STYLE}<div class="zdb"><table><tr>{header}</tr>{"".join(rows)}</table>{tail}</div>'


class KeyMetadata(dict):
    """One key's metadata (``db.metadata[key]``): a plain dict, shown in Jupyter as a
    table with the diff and the history collapsed."""

    def _repr_html_(self) -> str:
        return key_metadata_html(self)


def key_metadata_html(fields: Mapping[str, Any]) -> str:
    """The HTML of one key's metadata: a table of its fields, the diff and the history
    collapsed and highlighted."""
    rows = []
    for name, value in fields.items():
        if name in LONG_FIELDS:
            continue
        if isinstance(value, Mapping):
            value = ", ".join(f"{k} {v}" for k, v in value.items())
        rows.append(f"<tr><th>{_e(name)}</th><td>{_e(value)}</td></tr>")
    long = "".join(
        f"<details><summary>{name}</summary>{_code_html(fields[name], lexer)}</details>"
        for name, lexer in LONG_FIELDS.items()
        if fields.get(name)
    )
    return f'{_STYLE}<div class="zdb"><table>{"".join(rows)}</table>{long}</div>'


def _code_html(text: Any, lexer_name: str) -> str:
    """``text`` highlighted by pygments when it is installed (it is, with Jupyter),
    else as plain preformatted text."""
    try:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import get_lexer_by_name
    except ImportError:
        return f"<pre>{_e(text)}</pre>"
    return highlight(str(text), get_lexer_by_name(lexer_name), HtmlFormatter(noclasses=True))
