"""The parameter files of a campaign: hashed, copied with the files they reference into
managed folders, their references rewritten to ``reldb://`` paths of the copies."""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import warnings
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ...database import DataBase
from ...dbopen import create_reldb_path
from ...simrun import parameter_files as pf
from ...simrun import references
from ...simrun.layout import NETWORK_PARAM_SUFFIX, NEURON_PARAM_SUFFIX
from .campaign import INDEX_NAME, Campaign, ResultFolder, Trial
from .reporting import SimrunImportError, SimrunImportWarning, logger

CELL_FOLDER = "parameterfiles_cell_folder"
NETWORK_FOLDER = "parameterfiles_network_folder"


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            h.update(block)
    return h.hexdigest()


def _one_param_file(folder: ResultFolder, names: tuple[str, ...], suffix: str) -> str:
    if len(names) != 1:
        raise SimrunImportError(
            f"result folder {folder.path} must hold exactly one '*{suffix}' file, found "
            f"{list(names)}; add or remove files, or import with parameterfiles=False"
        )
    return folder.file(names[0])


#: where neuron and network parameter files reference other files: a path of keys
#: (``None`` stands for every entry of a dict or list), and the kind of file
_REFERENCES = {
    "neuron": [(("neuron", "filename"), "hoc"), (("sim", "recordingSites", None), "landmark")],
    "network": [
        (("network", None, "synapses", "distributionFile"), "syn"),
        (("network", None, "synapses", "connectionFile"), "con"),
    ],
}
_FOLDER_OF_KIND = {
    "hoc": CELL_FOLDER,
    "landmark": CELL_FOLDER,
    "neuron": CELL_FOLDER,
    "syn": NETWORK_FOLDER,
    "con": NETWORK_FOLDER,
    "network": NETWORK_FOLDER,
}


def _locations(value: Any, pattern: tuple[Any, ...], at: tuple[Any, ...] = ()) -> Iterator:
    """The locations in a parameter structure matching ``pattern`` that hold a str."""
    if not pattern:
        if isinstance(value, str):
            yield at
        return
    head, rest = pattern[0], pattern[1:]
    if head is None:
        items = value.items() if isinstance(value, dict) else enumerate(value)
        if isinstance(value, dict | list | tuple):
            for k, item in items:
                yield from _locations(item, rest, (*at, k))
    elif isinstance(value, dict) and head in value:
        yield from _locations(value[head], rest, (*at, head))


def _get(value: Any, location: tuple[Any, ...]) -> Any:
    for part in location:
        value = value[part]
    return value


def _put(value: Any, location: tuple[Any, ...], new: Any) -> None:
    for part in location[:-1]:
        value = value[part]
    value[location[-1]] = new


@dataclass
class _ParamFile:
    kind: str  # "neuron" or "network"
    path: str
    digest: str
    params: dict[str, Any]
    #: (location, kind of the referenced file, its resolved path)
    refs: list[tuple[tuple[Any, ...], str, str]]


def _resolve(reference: str, referring: str) -> str:
    path = os.path.expanduser(reference)
    if not os.path.isabs(path):
        path = os.path.join(os.path.dirname(referring), path)
    return os.path.normpath(path)


def _read_param(kind: str, path: str, digest: str, path_map: Mapping[str, str]) -> _ParamFile:
    params = pf.read_param_file(path)
    if path_map:
        params = references.rewrite_path_prefixes(params, path_map)
    refs = []
    for pattern, ref_kind in _REFERENCES[kind]:
        for location in _locations(params, pattern):
            refs.append((location, ref_kind, _resolve(_get(params, location), path)))
    return _ParamFile(kind, path, digest, params, refs)


def _replace_reference(
    text: str, line_no: int, suffix: str, here: str, targets: Mapping[str, str], what: str
) -> str:
    """Rewrite the file name ending in ``suffix`` on comment line ``line_no`` of a
    ``.syn``/``.con`` file to the reldb path of its copy; keep the line, with a warning,
    when that name is not one of the copied files."""
    lines = text.splitlines(keepends=True)
    if len(lines) <= line_no or not lines[line_no].startswith("#"):
        return text
    match = re.search(rf"[^\s#]+{re.escape(suffix)}(?=\s|$)", lines[line_no])
    if match is None:
        return text
    named = match.group(0)
    target = targets.get(_resolve(named, here))
    if target is None:
        warnings.warn(
            f"{here}: line {line_no + 1} names {named!r}, which is none of the {suffix} "
            f"files the parameter files reference ({sorted(targets) or 'none'}); the line is "
            "kept unchanged in the copy",
            SimrunImportWarning,
            stacklevel=2,
        )
        return text
    line = lines[line_no]
    lines[line_no] = line[: match.start()] + target + line[match.end() :]
    logger.debug("%s: %s %s -> %s", here, what, named, target)
    return "".join(lines)


def _write_file(folder: str, name: str, data: bytes, overwrite: bool) -> None:
    """Write a file of a managed folder atomically (other readers may use the folder)."""
    path = os.path.join(folder, name)
    if not overwrite and os.path.exists(path):
        return
    tmp = f"{path}.{secrets.token_hex(6)}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _managed_folder(db: DataBase, key: str) -> str:
    if key in db:
        return str(db[key])
    return str(db.create_managed_folder(key))


def import_parameterfiles(
    db: DataBase,
    campaign: Campaign,
    trials: Sequence[Trial],
    path_map: Mapping[str, str],
    old: pd.DataFrame | None,
    prune: bool,
) -> None:
    """Hash, copy and rewrite the parameter files of ``trials`` and the files they
    reference; store the ``parameterfiles`` table (merged into ``old``)."""
    per_folder: dict[int, tuple[str, str]] = {}
    for trial in trials:
        if trial.folder not in per_folder:
            folder = campaign.folders[trial.folder]
            per_folder[trial.folder] = (
                _one_param_file(folder, folder.neuron_params, NEURON_PARAM_SUFFIX),
                _one_param_file(folder, folder.network_params, NETWORK_PARAM_SUFFIX),
            )
    paths = sorted({p for pair in per_folder.values() for p in pair})
    with ThreadPoolExecutor(8) as pool:
        digests = dict(zip(paths, pool.map(_sha256, paths), strict=True))
    table = pd.DataFrame(
        {
            "path_neuron": [per_folder[t.folder][0] for t in trials],
            "path_network": [per_folder[t.folder][1] for t in trials],
            "hash_neuron": [digests[per_folder[t.folder][0]] for t in trials],
            "hash_network": [digests[per_folder[t.folder][1]] for t in trials],
        },
        index=pd.Index([t.index for t in trials], dtype="str", name=INDEX_NAME),
    ).astype("str")
    unique: dict[str, tuple[str, str]] = {}
    for neuron, network in per_folder.values():
        unique.setdefault(digests[neuron], ("neuron", neuron))
        unique.setdefault(digests[network], ("network", network))
    params = [_read_param(kind, p, d, path_map) for d, (kind, p) in unique.items()]
    missing = sorted(
        {(path, p.path) for p in params for _, _, path in p.refs if not os.path.isfile(path)}
    )
    if missing:
        listed = "; ".join(f"{m} (referenced by {by})" for m, by in missing[:5])
        raise SimrunImportError(
            f"{len(missing)} file(s) referenced by parameter files cannot be found: {listed}"
            f"{' ...' if len(missing) > 5 else ''}. Give path_map={{old prefix: new "
            "prefix}} to say where they are now, or import with parameterfiles=False"
        )
    folders = {k: _managed_folder(db, k) for k in (CELL_FOLDER, NETWORK_FOLDER)}
    prefixes = {k: create_reldb_path(os.path.join(f, "_"))[:-1] for k, f in folders.items()}
    written: dict[str, set[str]] = {k: set() for k in folders}
    copies: dict[str, dict[str, str]] = {}  # kind -> resolved original -> reldb path

    def copy(kind: str, path: str, data: bytes) -> None:
        key = _FOLDER_OF_KIND[kind]
        name = hashlib.sha256(data).hexdigest() + (Path(path).suffix or f".{kind}")
        _write_file(folders[key], name, data, overwrite=False)
        written[key].add(name)
        copies.setdefault(kind, {})[path] = prefixes[key] + name

    referenced: dict[str, set[str]] = {}
    for p in params:
        for _, kind, path in p.refs:
            referenced.setdefault(kind, set()).add(path)
    for kind in ("hoc", "landmark"):
        for path in sorted(referenced.get(kind, ())):
            copy(kind, path, Path(path).read_bytes())
    for path in sorted(referenced.get("syn", ())):
        text = Path(path).read_text(encoding="utf-8")
        text = _replace_reference(text, 1, ".hoc", path, copies.get("hoc", {}), "morphology")
        copy("syn", path, text.encode("utf-8"))
    for path in sorted(referenced.get("con", ())):
        text = Path(path).read_text(encoding="utf-8")
        text = _replace_reference(text, 1, ".syn", path, copies.get("syn", {}), "synapses")
        copy("con", path, text.encode("utf-8"))
    for p in params:
        for location, kind, path in p.refs:
            _put(p.params, location, copies[kind][path])
        key = _FOLDER_OF_KIND[p.kind]
        # named by the hash of the original file, as ISF does; rewritten every time, since
        # the copy depends on path_map
        _write_file(folders[key], p.digest, pf.format_params(p.params).encode(), overwrite=True)
        written[key].add(p.digest)
    if old is not None:
        table = pd.concat([old[~old.index.isin(table.index)], table]).sort_index(kind="stable")
    db.set("parameterfiles", table, dumper="pandas_to_zarr")
    if prune:
        for key, folder in folders.items():
            for name in os.listdir(folder):
                if name not in written[key]:
                    os.remove(os.path.join(folder, name))
