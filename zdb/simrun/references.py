"""File references in ISF's ``.param`` files: which fields reference which files,
finding them and moving them.

Neuron parameter files reference a morphology (``neuron.filename``, ``.hoc``) and
recording sites (``sim.recordingSites``, ``.landmarkAscii``); network parameter files
reference per presynaptic cell type a synapse distribution (``.syn``) and a connection
(``.con``) file; a ``.con`` file names its ``.syn`` file on its second line (and a
``.syn`` file its ``.hoc`` file). They are written as absolute paths of the machine that
ran the simulation: :func:`rewrite_path_prefixes` moves them to another root (a
``path_map``, or ``reldb://``). :data:`REFERENCE_FIELDS` is the one table of those
fields; :func:`find_references` finds them, :func:`find_file_paths` every string that
looks like a path, both through the one traversal :func:`walk_strings`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any, NamedTuple

from .parameter_files import Location, ParameterFileError

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")

#: the fields of ISF's parameter files that reference files, per kind of parameter file
#: (``neuron``, ``network``): the field's location (``None`` stands for any key or index)
#: and the kind of file it references (``hoc``: the morphology, ``landmark``: recording
#: sites, ``syn``: a synapse distribution, ``con``: connections)
REFERENCE_FIELDS: dict[str, tuple[tuple[Location, str], ...]] = {
    "neuron": ((("neuron", "filename"), "hoc"), (("sim", "recordingSites", None), "landmark")),
    "network": (
        (("network", None, "synapses", "distributionFile"), "syn"),
        (("network", None, "synapses", "connectionFile"), "con"),
    ),
}
#: the suffixes (compared ignoring case) of each kind of referenced file, as ISF's readers
#: take them: a morphology in hoc or SWC format (single_cell_parser.io.morphology
#: .read_morphology), recording sites as an Amira landmark file (reader
#: .read_landmark_file), a synapse distribution and a connection file (reader
#: .read_synapse_realization, .read_functional_realization_map)
REFERENCE_SUFFIXES: dict[str, tuple[str, ...]] = {
    "hoc": (".hoc", ".swc"),
    "landmark": (".landmarkAscii",),
    "syn": (".syn",),
    "con": (".con",),
}
_KIND_NAMES = {
    "hoc": "a morphology",
    "landmark": "a recording-site file",
    "syn": "a synapse distribution",
    "con": "a connection file",
}
#: files that name another file on a comment line: per kind of file, the line (from 0)
#: and the suffix of the file it names
COMMENT_REFERENCES: dict[str, tuple[int, str]] = {"syn": (1, ".hoc"), "con": (1, ".syn")}


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


class FileReference(NamedTuple):
    """A field of a parameter file that references a file (:data:`REFERENCE_FIELDS`)."""

    #: keys and list indices leading to the value, e.g. ``('sim', 'recordingSites', 0)``
    location: Location
    #: the kind of file referenced: ``hoc``, ``landmark``, ``syn`` or ``con``
    kind: str
    #: the path as written in the file
    path: str


def walk_strings(value: Any, location: Location = ()) -> Iterator[tuple[Location, str]]:
    """Every string value of a parsed parameter structure with its location, in file
    order."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from walk_strings(item, (*location, key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from walk_strings(item, (*location, i))
    elif isinstance(value, str):
        yield location, value


def _matches(location: Location, pattern: Location) -> bool:
    return len(location) == len(pattern) and all(
        p is None or p == part for part, p in zip(location, pattern, strict=True)
    )


def find_references(params: Any, param_kind: str) -> list[FileReference]:
    """The file references of a parsed ``neuron`` or ``network`` parameter file (the
    string values at :data:`REFERENCE_FIELDS`), in file order."""
    fields = REFERENCE_FIELDS[param_kind]
    return [
        FileReference(location, kind, value)
        for location, value in walk_strings(params)
        for pattern, kind in fields
        if _matches(location, pattern)
    ]


def has_expected_suffix(path: str, kind: str) -> bool:
    """True when ``path`` ends in a suffix of :data:`REFERENCE_SUFFIXES` for ``kind``."""
    suffix = PurePosixPath(path).suffix.lower()
    return suffix in {s.lower() for s in REFERENCE_SUFFIXES[kind]}


def expected_file(kind: str) -> str:
    """What a reference of ``kind`` must name, for messages: ``a morphology (a .hoc or
    .swc file)``."""
    return f"{_KIND_NAMES[kind]} (a {' or '.join(REFERENCE_SUFFIXES[kind])} file)"


def field_name(location: Location) -> str:
    """A location as written in messages: ``('sim', 'recordingSites', 0)`` is
    ``sim.recordingSites[0]``."""
    out = ""
    for part in location:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out


def find_file_paths(params: Any) -> list[PathReference]:
    """Every string value of a parsed parameter structure that looks like a file path
    (:func:`looks_like_path`), with its location, in file order."""
    return [PathReference(loc, s) for loc, s in walk_strings(params) if looks_like_path(s)]


def resolve_reference(reference: str, referring: str) -> str:
    """The absolute, normalised path of a file reference: ``~`` expanded, a relative path
    taken relative to the folder of the file ``referring`` to it."""
    path = os.path.expanduser(reference)
    if not os.path.isabs(path):
        path = os.path.join(os.path.dirname(referring), path)
    return os.path.normpath(path)


class CommentReference(NamedTuple):
    """A file named on a comment line of another file (:data:`COMMENT_REFERENCES`)."""

    #: the line (from 0)
    line: int
    #: where the name starts and ends in the text
    start: int
    end: int
    #: the name as written
    name: str


def find_comment_reference(text: str, kind: str) -> CommentReference | None:
    """The file a ``.syn`` (``kind='syn'``) or ``.con`` (``'con'``) file names on its
    comment line, or None when that line names none."""
    if kind not in COMMENT_REFERENCES:
        return None
    line_no, suffix = COMMENT_REFERENCES[kind]
    lines = text.splitlines(keepends=True)
    if len(lines) <= line_no or not lines[line_no].startswith("#"):
        return None
    match = re.search(rf"[^\s#]+{re.escape(suffix)}(?=\s|$)", lines[line_no])
    if match is None:
        return None
    offset = sum(len(line) for line in lines[:line_no])
    return CommentReference(line_no, offset + match.start(), offset + match.end(), match.group(0))


def _map_strings(value: Any, rewrite: Callable[[Location, str], str], at: Location = ()) -> Any:
    """A copy of a parsed parameter structure with every string value rewritten."""
    if isinstance(value, Mapping):
        return {key: _map_strings(item, rewrite, (*at, key)) for key, item in value.items()}
    if isinstance(value, list):
        return [_map_strings(item, rewrite, (*at, i)) for i, item in enumerate(value)]
    if isinstance(value, tuple):
        return tuple(_map_strings(item, rewrite, (*at, i)) for i, item in enumerate(value))
    if isinstance(value, str):
        return rewrite(at, value)
    return value


def replace_strings(params: Any, replacements: Mapping[Location, str]) -> Any:
    """A copy of a parsed parameter structure with the string values at the locations of
    ``replacements`` replaced."""
    return _map_strings(params, lambda at, value: replacements.get(at, value))


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
    return _map_strings(params, lambda _, value: rewrite(value))
