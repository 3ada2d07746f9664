"""Paths into databases that survive moving them.

Files in managed folders (parameter files, morphologies) refer to each other. An
absolute path breaks when the database moves; these forms do not:

- ``zdb://<unique_id>/<key>/<file>``: through the registry (:mod:`zdb.data_base_register`);
- ``reldb://<key>/<file>``: relative to the database that holds the referring file.

``<key>`` is the key's parts joined by ``/`` (through sub-databases), ``<file>`` the
path inside the managed folder. :func:`dbopen` opens such paths (and plain ones).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any

from .data_base_register import get_db_by_unique_id
from .database import DataBase
from .exceptions import DataBaseException
from .format import ZARR_JSON, DatabaseNode, KeyNode, parse_node

ZDB_SCHEME = "zdb://"
RELDB_SCHEME = "reldb://"
#: ISF's names for the same schemes
_ALIASES = {"mdb://": ZDB_SCHEME, "isf://": ZDB_SCHEME}


class DbPathError(DataBaseException):
    """A database path that cannot be resolved."""


def _database_node(folder: Path) -> DatabaseNode | None:
    try:
        node = parse_node((folder / ZARR_JSON).read_bytes(), str(folder))
    except (OSError, DataBaseException):
        return None
    return node if isinstance(node, DatabaseNode) else None


def _split_managed_path(path: str | os.PathLike) -> tuple[Path, tuple[str, ...], str]:
    """(root database folder, key parts, path inside the folder) of a local path
    inside a managed folder."""
    p = Path(os.path.abspath(path))
    parts = p.parts
    for i in range(len(parts) - 2, 0, -1):
        if parts[i].startswith(".v") and parts[i + 1] == "files":
            key_end = i
            break
    else:
        raise DbPathError(
            f"{path} is not inside a managed folder of a zdb database; only files in "
            "managed folders (db.create_managed_folder) have database paths"
        )
    db_index = None
    for j in range(key_end - 1, 0, -1):  # outermost database above the key
        if _database_node(Path(*parts[:j])) is not None:
            db_index = j
        elif db_index is not None:
            break
    if db_index is None:
        raise DbPathError(f"{path} is not inside a zdb database")
    inner = "/".join(parts[key_end + 2 :])
    return Path(*parts[:db_index]), tuple(parts[db_index:key_end]), inner


def create_modular_db_path(path: str | os.PathLike) -> str:
    """``zdb://<unique_id>/<key>/<file>`` for a file inside a managed folder."""
    root, key, inner = _split_managed_path(path)
    node = _database_node(root)
    if node is None or not node.unique_id:
        raise DbPathError(f"the database {root} has no unique id; open it once to give it one")
    return ZDB_SCHEME + "/".join((node.unique_id, *key, inner)).rstrip("/")


def create_reldb_path(path: str | os.PathLike) -> str:
    """``reldb://<key>/<file>`` for a file inside a managed folder."""
    _, key, inner = _split_managed_path(path)
    return RELDB_SCHEME + "/".join((*key, inner)).rstrip("/")


def _resolve_in(db: Any, rest: str, original: str) -> str:
    parts = [p for p in rest.split("/") if p]
    current = db
    for i, part in enumerate(parts):
        try:
            node = current.node(part)
        except KeyError:
            raise DbPathError(f"{original}: no key {part!r} in {current.basedir}") from None
        except DataBaseException as e:
            raise DbPathError(f"{original}: key {part!r} in {current.basedir}: {e}") from e
        if isinstance(node, DatabaseNode):
            current = current[part]
        elif isinstance(node, KeyNode) and node.dumper == "just_create_folder":
            inner = parts[i + 1 :]
            if any(p in (".", "..") or "\x00" in p for p in inner):
                raise DbPathError(
                    f"{original}: the path inside the managed folder {part!r} holds '.', '..' "
                    "or a NUL; a database path never leaves its managed folder: name the file "
                    "by its path inside the folder"
                )
            return os.path.join(current[part], *inner)
        else:
            raise DbPathError(
                f"{original}: key {part!r} in {current.basedir} is not a managed folder"
            )
    raise DbPathError(f"{original}: names no managed folder")


def resolve_db_path(
    path: str | os.PathLike, relative_to: Any = None, *, db_basedir: Any = None
) -> str:
    """The local path a ``zdb://`` or ``reldb://`` path points to (others unchanged).

    ``relative_to`` (for ``reldb://``; ISF's name is ``db_basedir``) is the database,
    or any local path inside it (such as the referring file), that the path is
    relative to.
    """
    if relative_to is None:
        relative_to = db_basedir
    text = os.fspath(path)
    for alias, scheme in _ALIASES.items():
        if text.startswith(alias):
            text = scheme + text[len(alias) :]
    if text.startswith(ZDB_SCHEME):
        uid, _, rest = text[len(ZDB_SCHEME) :].partition("/")
        if not uid or not rest:
            raise DbPathError(f"{text}: expected zdb://<unique_id>/<key>/<file>")
        return _resolve_in(get_db_by_unique_id(uid, readonly=True), rest, text)
    if text.startswith(RELDB_SCHEME):
        if relative_to is None:
            raise DbPathError(
                f"{text} is relative to a database: pass relative_to=<the database or a path "
                "inside it>"
            )
        if isinstance(relative_to, DataBase):
            db = relative_to
        else:
            try:
                root, _, _ = _split_managed_path(relative_to)
            except DbPathError:
                root = Path(os.path.abspath(relative_to))
                if _database_node(root) is None:
                    raise
            db = DataBase(root, readonly=True)
        return _resolve_in(db, text[len(RELDB_SCHEME) :], text)
    if "://" in text:
        raise DbPathError(f"{text}: unknown scheme; use zdb://, reldb:// or a plain path")
    return text


def resolve_reldb_path(path: str | os.PathLike, db_basedir: Any = None) -> str:
    """ISF's resolver of ``reldb://`` paths alone: other paths come back unchanged."""
    text = os.fspath(path)
    return resolve_db_path(text, db_basedir) if text.startswith(RELDB_SCHEME) else text


def resolve_modular_db_path(path: str | os.PathLike) -> str:
    """ISF's resolver of ``mdb://`` (``zdb://``) paths alone: others come back unchanged."""
    text = os.fspath(path)
    schemes = (ZDB_SCHEME, *_ALIASES)
    return resolve_db_path(text) if text.startswith(schemes) else text


def resolve_neup_reldb_paths(neup: Any, db_basedir: Any) -> Any:
    """Resolve the ``reldb://`` paths of a cell parameter set (ISF's ``neup``): the
    morphology ``neuron.filename`` and ``sim.recordingSites``. As in ISF, ``neup`` is
    changed in place and returned."""
    neup["neuron"]["filename"] = resolve_reldb_path(neup["neuron"]["filename"], db_basedir)
    sites = neup["sim"]["recordingSites"]
    for i, site in enumerate(sites):
        sites[i] = resolve_reldb_path(site, db_basedir)
    return neup


def resolve_netp_reldb_paths(netp: Any, db_basedir: Any) -> Any:
    """Resolve the ``reldb://`` paths of a network parameter set (ISF's ``netp``): each
    cell type's synapse ``connectionFile`` and ``distributionFile``. As in ISF,
    ``netp`` is changed in place and returned."""
    for cell_type in list(netp["network"].keys()):
        synapses = netp["network"][cell_type].get("synapses")
        if synapses is None:
            continue
        for field in ("connectionFile", "distributionFile"):
            synapses[field] = resolve_reldb_path(synapses[field], db_basedir)
    return netp


def dbopen(path: str | os.PathLike, mode: str = "r", relative_to: Any = None, **kwargs: Any) -> IO:
    """Open a file by a plain, ``zdb://`` or ``reldb://`` path (like :func:`open`)."""
    return open(resolve_db_path(path, relative_to), mode, **kwargs)  # noqa: SIM115
