"""File references in ISF's ``.param`` files: finding them and moving them.

The files reference other files (morphology ``.hoc``, recording sites ``.landmarkAscii``,
network embedding ``.syn``/``.con``) by absolute paths of the machine that ran the
simulation; :func:`find_file_paths` lists those references and
:func:`rewrite_path_prefixes` moves them to another root (a ``path_map``, or ``reldb://``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any, NamedTuple

from .parameter_files import Location, ParameterFileError

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def looks_like_path(value: str) -> bool:
    """True for strings that name a file or folder: absolute (``/...``, ``~/...``), a URL
    such as ``reldb://...``, or relative with a folder and an extension (``a/b.hoc``) or
    starting with ``./``/``../``. The bare root ``/`` (ISF's "default folder" marker for
    mechanisms) names no file and is not a path here."""
    if not value or value != value.strip() or "\n" in value:
        return False
    if _SCHEME.match(value):
        return True
    if value.startswith(("/", "~/")):
        return PurePosixPath(value).name != ""
    if value.startswith(("./", "../")):
        return True
    return "/" in value and " " not in value and PurePosixPath(value).suffix != ""


class PathReference(NamedTuple):
    """A file path found in a parameter structure."""

    #: keys and list indices leading to the value, e.g. ``('sim', 'recordingSites', 0)``
    location: Location
    #: the path as written in the file
    path: str


def _walk(value: Any, location: Location):
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _walk(item, (*location, key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from _walk(item, (*location, i))
    elif isinstance(value, str):
        yield location, value


def find_file_paths(params: Any) -> list[PathReference]:
    """Every string value of a parsed parameter structure that looks like a file path
    (:func:`looks_like_path`), with its location, in file order."""
    return [PathReference(loc, s) for loc, s in _walk(params, ()) if looks_like_path(s)]


def _prefix_rewriter(mapping: Mapping[str, str]):
    """A function rewriting one string by the longest matching prefix of ``mapping``.

    Prefixes are folders: ``/a/b`` matches ``/a/b`` and ``/a/b/c.hoc`` but not
    ``/a/bc.hoc``; a trailing slash on a key or a value changes nothing, and the rest of
    the path is joined to the new prefix with exactly one ``/``.
    """
    rules = []
    for old, new in mapping.items():
        if not old:
            raise ParameterFileError("a path_map key is empty; give the folder to replace")
        stem = old[:-1] if old.endswith("/") and len(old) > 1 else old
        rules.append((stem, new))
    rules.sort(key=lambda rule: len(rule[0]), reverse=True)

    def rewrite(value: str) -> str:
        for stem, new in rules:
            if value == stem or value == stem + "/":
                return new
            if value.startswith(stem if stem.endswith("/") else stem + "/"):
                rest = value[len(stem) :].lstrip("/")
                return new + rest if new.endswith("/") else f"{new}/{rest}"
        return value

    return rewrite


def rewrite_path_prefixes(params: Any, mapping: Mapping[str, str]) -> Any:
    """A copy of a parsed parameter structure with every string value that starts with
    a folder of ``mapping`` moved to the mapped folder (longest prefix first).

    >>> rewrite_path_prefixes({"f": "/old/root/cell.hoc"}, {"/old/root": "reldb://m"})
    {'f': 'reldb://m/cell.hoc'}
    """
    rewrite = _prefix_rewriter(mapping)

    def copy(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {key: copy(item) for key, item in value.items()}
        if isinstance(value, list):
            return [copy(item) for item in value]
        if isinstance(value, tuple):
            return tuple(copy(item) for item in value)
        if isinstance(value, str):
            return rewrite(value)
        return value

    return copy(params)
