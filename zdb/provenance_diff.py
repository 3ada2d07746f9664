"""How the provenance of two keys differs (``zdb diff``): the code version, the dirty
state and the difference between the two uncommitted diffs, package versions, host,
time and the rest of the fields, from two ``db.metadata[key]`` dicts."""

from __future__ import annotations

import difflib
from typing import Any

#: fields compared as plain values, in the order they are shown
SCALAR_FIELDS = (
    "version",
    "full-revisionid",
    "dirty",
    "zdb_version",
    "hostname",
    "time",
    "dumper",
    "metadata_creation_time",
)


def compare(a: dict[str, Any], b: dict[str, Any], labels: tuple[str, str] = ("a", "b")) -> dict:
    """The differences between the provenance dicts ``a`` and ``b``.

    ``fields``: each field of :data:`SCALAR_FIELDS` that differs, as ``[a, b]``;
    ``diff``: a unified diff between the two uncommitted diffs (None when they are the
    same); ``module_versions``: packages ``added`` (only in ``b``), ``removed`` (only in
    ``a``) and ``changed`` (``[a, b]``); ``history``: a unified diff of the IPython
    histories (None when the same); ``same``: True when nothing but the time differs.
    ``labels`` name the two sides in the unified diffs.
    """
    fields = {f: [a.get(f), b.get(f)] for f in SCALAR_FIELDS if a.get(f) != b.get(f)}
    modules_a = a.get("module_versions") or {}
    modules_b = b.get("module_versions") or {}
    modules = {
        "added": {m: modules_b[m] for m in sorted(set(modules_b) - set(modules_a))},
        "removed": {m: modules_a[m] for m in sorted(set(modules_a) - set(modules_b))},
        "changed": {
            m: [modules_a[m], modules_b[m]]
            for m in sorted(set(modules_a) & set(modules_b))
            if modules_a[m] != modules_b[m]
        },
    }
    diff = _unified(a.get("diff"), b.get("diff"), labels)
    history = _unified(a.get("history"), b.get("history"), labels)
    same = (
        set(fields) <= {"time"} and diff is None and history is None and not any(modules.values())
    )
    return {
        "same": same,
        "fields": fields,
        "diff": diff,
        "module_versions": modules,
        "history": history,
    }


def _unified(a: Any, b: Any, labels: tuple[str, str]) -> str | None:
    """A unified diff of two texts (None or a text each); None when they are equal."""
    if a == b:
        return None
    lines_a = str(a or "").splitlines(keepends=True)
    lines_b = str(b or "").splitlines(keepends=True)
    out = "".join(difflib.unified_diff(lines_a, lines_b, labels[0], labels[1]))
    return out or None
