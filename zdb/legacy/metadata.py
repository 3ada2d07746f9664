"""ISF's ``metadata.json`` as zdb's metadata dict.

ISF wrote ``dumper``, ``time`` (``datetime.utcnow().timetuple()``: a naive UTC time as
a 9-integer tuple), ``metadata_creation_time`` (``"together_with_new_key"``, or
``"post_hoc"`` when it inferred the metadata later) and, for new keys, the provenance of
the code (``module_versions``, ``history``, ``hostname``, git fields). They are kept as
written, except ``time``, which becomes ISO 8601 with its UTC offset, as zdb writes it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ..exceptions import CorruptKeyError
from ..storage import LocalStore, join
from .layout import METADATA_JSON, read_json


def iso_time(value: Any) -> str | None:
    """ISF's time tuple (or a list of it) as ISO 8601 UTC; None when it is none."""
    if isinstance(value, list | tuple) and len(value) >= 6:
        try:
            year, month, day, hour, minute, second = (int(v) for v in value[:6])
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC).isoformat()
        except (TypeError, ValueError):
            return None
    if isinstance(value, str):
        try:
            stamp = datetime.fromisoformat(value)
        except ValueError:
            return None
        return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).isoformat()
    return None


def key_metadata(store: LocalStore, path: str, dumper: str | None, label: str) -> dict[str, Any]:
    """The metadata of the ISF key at ``path``: its ``metadata.json`` with ``time`` in
    ISO 8601, or, when it has none, the time of its folder (``metadata_creation_time``
    ``"post_hoc"``, as ISF infers it)."""
    try:
        doc = read_json(store, join(path, METADATA_JSON), label)
    except FileNotFoundError:
        doc = None
    except CorruptKeyError as e:
        doc = {"error": str(e)}
    out: dict[str, Any] = dict(doc) if isinstance(doc, dict) else {}
    out.setdefault("dumper", dumper)
    out.setdefault("metadata_creation_time", "post_hoc")
    written = out.get("time")
    stamp = iso_time(written)
    if stamp is None:
        try:
            stamp = datetime.fromtimestamp(store.mtime(path), UTC).isoformat()
        except OSError:
            stamp = None
        if written is not None:
            out["error"] = f"time: {str(written)[:60]!r} is no time; the folder's time is given"
    out["time"] = stamp
    return out
