"""The parameter files of a campaign: hashed, copied with the files they reference into
ISF's managed folders, their references rewritten to ``reldb://`` paths of the copies.

As in ISF, the copies of parameter files are named by the hash of the original file
(``parameterfiles_cell_folder``, ``parameterfiles_network_folder``), the files they
reference keep their basenames, in one folder per kind (``morphology``,
``recsites_folder``, ``syn_folder``, ``con_folder``). Different files that share a
basename do not overwrite each other: see :func:`_CopyNames.name`."""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
import warnings
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from ...database import DataBase
from ...dbopen import create_reldb_path
from ...IO.LoaderDumper.just_create_folder import ManagedFolder
from ...simrun import parameter_files as pf
from ...simrun import references
from ...simrun.layout import NETWORK_PARAM_SUFFIX, NEURON_PARAM_SUFFIX
from .campaign import INDEX_NAME, Campaign, ResultFolder, Trial
from .reporting import SimrunImportError, SimrunImportWarning, logger

CELL_FOLDER = "parameterfiles_cell_folder"
NETWORK_FOLDER = "parameterfiles_network_folder"
MORPHOLOGY_FOLDER = "morphology"
RECSITES_FOLDER = "recsites_folder"
SYN_FOLDER = "syn_folder"
CON_FOLDER = "con_folder"
#: every managed folder an import writes, in ISF's names
PARAMETER_FOLDERS = (
    CELL_FOLDER,
    NETWORK_FOLDER,
    MORPHOLOGY_FOLDER,
    RECSITES_FOLDER,
    SYN_FOLDER,
    CON_FOLDER,
)


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with pf.open_param_file(path) as f:
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


#: the managed folder that holds each kind of file: parameter files and the files they
#: reference
_FOLDER_OF_KIND = {
    "hoc": MORPHOLOGY_FOLDER,
    "landmark": RECSITES_FOLDER,
    "neuron": CELL_FOLDER,
    "syn": SYN_FOLDER,
    "con": CON_FOLDER,
    "network": NETWORK_FOLDER,
}


@dataclass
class _ParamFile:
    kind: str  # "neuron" or "network"
    path: str
    digest: str
    params: dict[str, Any]
    #: (location, kind of the referenced file, its resolved path)
    refs: list[tuple[tuple[Any, ...], str, str]]


def _read_param(kind: str, path: str, digest: str, path_map: Mapping[str, str]) -> _ParamFile:
    params = pf.read_param_file(path)
    if path_map:
        params = references.rewrite_path_prefixes(params, path_map)
    refs = [
        (ref.location, ref.kind, references.resolve_reference(ref.path, path))
        for ref in references.find_references(params, kind)
    ]
    return _ParamFile(kind, path, digest, params, refs)


def _check_references(params: Sequence[_ParamFile]) -> list[tuple[str, str]]:
    """Refuse a reference to a file that is not what its field expects (its suffix; a
    regular file, or a link to one); the others that do not exist, as (path, parameter
    file) pairs. The import copies every referenced file into the database, which people
    share: a parameter file naming, say, a private key as its morphology must not bring
    that file along."""
    missing = set()
    for p in params:
        for location, kind, path in p.refs:
            problem = None
            if not references.has_expected_suffix(path, kind):
                problem = f"not a {' or '.join(references.REFERENCE_SUFFIXES[kind])} file"
            else:
                try:
                    mode = os.stat(path).st_mode
                except OSError:
                    missing.add((path, p.path))
                    continue
                if stat.S_ISDIR(mode):
                    problem = "a folder"
                elif not stat.S_ISREG(mode):
                    problem = "not a regular file (a device or pipe)"
            if problem is not None:
                raise SimrunImportError(
                    f"{p.path}: the field {references.field_name(location)} references "
                    f"{path}, which is {problem}; it must be {references.expected_file(kind)}. "
                    "The import copies the files parameter files reference into the "
                    "database, only those of the kind each field expects: correct the "
                    "parameter file (or path_map), or import with parameterfiles=False"
                )
    return sorted(missing)


def _replace_reference(text: str, kind: str, here: str, targets: Mapping[str, str]) -> str:
    """Rewrite the file name on the comment line of a ``.syn``/``.con`` file (``kind``)
    to the reldb path of its copy; keep the line, with a warning, when that name is not
    one of the copied files."""
    found = references.find_comment_reference(text, kind)
    if found is None:
        return text
    target = targets.get(references.resolve_reference(found.name, here))
    if target is None:
        suffix = references.COMMENT_REFERENCES[kind][1]
        warnings.warn(
            f"{here}: line {found.line + 1} names {found.name!r}, which is none of the "
            f"{suffix} files the parameter files reference ({sorted(targets) or 'none'}); "
            "the line is kept unchanged in the copy",
            SimrunImportWarning,
            stacklevel=2,
        )
        return text
    logger.debug("%s: %s -> %s", here, found.name, target)
    return text[: found.start] + target + text[found.end :]


class _CopyNames:
    """The names of the copies in one managed folder of referenced files.

    A copy keeps the basename of its original, as in ISF. When a different file (by
    content) already has that name in the folder, from this import or, in an incremental
    import, from an earlier one, the copy is named ``<stem>_<first 12 hex digits of the
    SHA-256 of its content><suffix>`` instead, with a warning naming both files: ISF
    would silently overwrite one with the other. Files are copied in the order of their
    original paths, so the name each gets does not depend on the order of the trials.
    """

    def __init__(self, key: str, folder: str, keep_existing: bool) -> None:
        self.key = key
        #: name -> (SHA-256 of the content, the original path or None for a stored file)
        self.taken: dict[str, tuple[str, str | None]] = {}
        if keep_existing:
            for name in os.listdir(folder):
                path = os.path.join(folder, name)
                if os.path.isfile(path) and not os.path.islink(path):
                    self.taken[name] = (hashlib.sha256(Path(path).read_bytes()).hexdigest(), None)

    def name(self, original: str, digest: str) -> tuple[str, bool]:
        """The name of the copy of ``original`` (content hash ``digest``), and whether it
        must be written (False: the folder already holds that content under that name)."""
        base = os.path.basename(original)
        stem, suffix = os.path.splitext(base)
        for candidate in (base, f"{stem}_{digest[:12]}{suffix}", f"{stem}_{digest}{suffix}"):
            held = self.taken.get(candidate)
            if held is None:
                self.taken[candidate] = (digest, original)
                if candidate != base:
                    other = self.taken[base][1] or f"the file stored in {self.key!r}"
                    warnings.warn(
                        f"{original} and {other} are different files with the same name "
                        f"{base!r}; the copy of {original} is named {candidate!r} in the "
                        f"managed folder {self.key!r}, and the parameter files referencing "
                        "it point there",
                        SimrunImportWarning,
                        stacklevel=3,
                    )
                return candidate, True
            if held[0] == digest:
                return candidate, False
        raise SimrunImportError(
            f"the managed folder {self.key!r} holds other files under every name the copy of "
            f"{original} may have ({base!r} and with its content hash); remove them or "
            "import into a new database"
        )


def _write_file(folder: str, name: str, data: bytes) -> None:
    """Write a file of a managed folder atomically (other readers may use the folder)."""
    path = os.path.join(folder, name)
    tmp = f"{path}.{secrets.token_hex(6)}.tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _managed_folder(db: DataBase, key: str) -> str:
    if key in db:
        value = db[key]
        if not isinstance(value, ManagedFolder):
            raise SimrunImportError(
                f"the key {key!r} of {db.basedir} holds {type(value).__name__}, not the "
                "managed folder the import copies files into; delete or move that key"
            )
        return str(value)
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
    missing = _check_references(params)
    if missing:
        listed = "; ".join(f"{m} (referenced by {by})" for m, by in missing[:5])
        raise SimrunImportError(
            f"{len(missing)} file(s) referenced by parameter files cannot be found: {listed}"
            f"{' ...' if len(missing) > 5 else ''}. Give path_map={{old prefix: new "
            "prefix} to say where they are now, or import with parameterfiles=False"
        )
    folders = {k: _managed_folder(db, k) for k in PARAMETER_FOLDERS}
    prefixes = {k: create_reldb_path(os.path.join(f, "_"))[:-1] for k, f in folders.items()}
    names = {
        key: _CopyNames(key, folders[key], keep_existing=not prune)
        for key in {_FOLDER_OF_KIND[kind] for kind in references.REFERENCE_SUFFIXES}
    }
    written: dict[str, set[str]] = {k: set() for k in folders}
    copies: dict[str, dict[str, str]] = {}  # kind -> resolved original -> reldb path

    def copy(kind: str, path: str, data: bytes) -> None:
        key = _FOLDER_OF_KIND[kind]
        name, new = names[key].name(path, hashlib.sha256(data).hexdigest())
        if new:
            _write_file(folders[key], name, data)
        written[key].add(name)
        copies.setdefault(kind, {})[path] = prefixes[key] + name

    referenced: dict[str, set[str]] = {}
    for p in params:
        for _, kind, path in p.refs:
            referenced.setdefault(kind, set()).add(path)
    for kind in ("hoc", "landmark"):
        for path in sorted(referenced.get(kind, ())):
            copy(kind, path, Path(path).read_bytes())
    for kind, named in (("syn", "hoc"), ("con", "syn")):
        for path in sorted(referenced.get(kind, ())):
            # bytes that are not UTF-8 (a latin-1 comment) are kept as they are
            text = Path(path).read_bytes().decode("utf-8", errors="surrogateescape")
            text = _replace_reference(text, kind, path, copies.get(named, {}))
            copy(kind, path, text.encode("utf-8", errors="surrogateescape"))
    for p in params:
        moved = {location: copies[kind][path] for location, kind, path in p.refs}
        text = pf.format_params(references.replace_strings(p.params, moved))
        key = _FOLDER_OF_KIND[p.kind]
        # named by the hash of the original file, as ISF does; rewritten every time, since
        # the copy depends on path_map
        _write_file(folders[key], p.digest, text.encode())
        written[key].add(p.digest)
    if old is not None:
        table = pd.concat([old[~old.index.isin(table.index)], table]).sort_index(kind="stable")
    db.set("parameterfiles", table, dumper="pandas_to_zarr")
    if prune:
        for key, folder in folders.items():
            for name in os.listdir(folder):
                if name not in written[key]:
                    os.remove(os.path.join(folder, name))


class ParameterTree(dict):
    """A parsed parameter file: a dict whose keys also read as attributes
    (``neup.neuron.filename``), as ISF's ``ParameterSet`` does. Hand-written because
    ISF's own class needs NEURON's stack; nested dicts are converted on construction."""

    def __init__(self, value: Mapping[str, Any]) -> None:
        super().__init__({k: _tree(v) for k, v in value.items()})

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _tree(value: Any) -> Any:
    if isinstance(value, Mapping):
        return ParameterTree(value)
    if isinstance(value, list):
        return [_tree(v) for v in value]
    return value


def load_param_files_from_db(db: DataBase, sti: str) -> tuple[Any, Any]:
    """The neuron and network parameters of trial ``sti`` (a sim_trial_index) as stored
    by the import, with ``reldb://`` paths to the copies in the database (ISF's
    ``load_param_files_from_db``). With ISF's ``single_cell_parser`` installed they are
    its ``ParameterSet`` objects, as in ISF; otherwise :class:`ParameterTree` dicts."""
    for key in ("parameterfiles", CELL_FOLDER, NETWORK_FOLDER):
        if key not in db:
            raise SimrunImportError(
                f"the database {db.basedir} has no key {key!r}: import the campaign with "
                "parameterfiles=True first"
            )
    table = db["parameterfiles"]
    if sti not in table.index:
        raise SimrunImportError(
            f"the trial {sti!r} is not in the key 'parameterfiles' of {db.basedir}; give a "
            "sim_trial_index of db['sim_trial_index']"
        )
    row = table.loc[sti]
    names = (str(row["hash_neuron"]), str(row["hash_network"]))
    for name in names:  # read from the database: never join anything but a hash
        if not name.isalnum() or not name.isascii():
            raise SimrunImportError(
                f"the key 'parameterfiles' of {db.basedir} names the parameter file "
                f"{name!r} for trial {sti!r}, which is no content hash; the database is "
                "damaged: import the campaign again"
            )
    paths = (
        os.path.join(db[CELL_FOLDER], names[0]),
        os.path.join(db[NETWORK_FOLDER], names[1]),
    )
    try:
        import single_cell_parser as scp  # type: ignore[import-not-found]
    except ImportError:
        return ParameterTree(pf.read_param_file(paths[0])), ParameterTree(
            pf.read_param_file(paths[1])
        )
    return scp.build_parameters(paths[0]), scp.build_parameters(paths[1])
