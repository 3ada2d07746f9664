"""ISF's functions of ``data_base.IO.LoaderDumper`` that work on a key's folder:
``load(savedir)``, ``get_dumper_string_by_savedir(savedir)`` and
``get_dumper_string_by_dumper_module(module)``.

``savedir`` is what ISF passed: the folder of a key, here the key's folder or its
version folder (``db.path_of(key)``), in a zdb database or an ISF one. Every name read
on the way is checked by :mod:`zdb.format` (zdb's pointers) or the legacy reader.
They open databases, which the dumpers below them must not, so they live here and
:mod:`zdb.IO` puts them in the ``zdb.IO.LoaderDumper`` namespace where ISF had them.
"""

from __future__ import annotations

import os
import types
from pathlib import Path
from typing import Any

from ..database import DataBase
from ..dumper import Dumper
from ..dumper_registry import get_dumper
from ..exceptions import DataBaseException, NotADataBaseError
from ..format import ZARR_JSON, DatabaseNode, KeyNode, parse_node
from ..legacy.layout import read_key_folder
from ..storage.local import LocalStore

PACKAGE = f"{__name__.rpartition('.')[0]}.LoaderDumper"


def get_dumper_string_by_dumper_module(dumper_module: Any) -> str:
    """The name of a dumper module of ``zdb.IO.LoaderDumper`` (``to_pickle`` for
    ``zdb.IO.LoaderDumper.to_pickle``), or of a :class:`~zdb.dumper.Dumper`."""
    if isinstance(dumper_module, Dumper):
        return dumper_module.name
    if isinstance(dumper_module, types.ModuleType):
        name = dumper_module.__name__
        if name.startswith(f"{PACKAGE}.") and "." not in name[len(PACKAGE) + 1 :]:
            return name[len(PACKAGE) + 1 :]
        found = getattr(dumper_module, "dumper", None)
        if isinstance(found, Dumper):
            return found.name
    raise DataBaseException(
        f"{dumper_module!r} is not a dumper module of {PACKAGE}; pass one such as "
        f"{PACKAGE}.to_pickle"
    )


def _node(folder: Path) -> Any:
    try:
        data = (folder / ZARR_JSON).read_bytes()
    except (FileNotFoundError, NotADirectoryError):
        return None
    return parse_node(data, str(folder))


def _locate(savedir: str | os.PathLike) -> tuple[Path, tuple[str, ...], KeyNode]:
    """The root database folder, the key and its pointer of a zdb key's folder (or of
    its version folder)."""
    folder = Path(os.path.abspath(savedir))
    node = _node(folder)
    if not isinstance(node, KeyNode):
        parent = _node(folder.parent)
        if isinstance(parent, KeyNode) and parent.version == folder.name:
            folder, node = folder.parent, parent
    if not isinstance(node, KeyNode):
        raise NotADataBaseError(
            f"{savedir} is not the folder of a key of a zdb database (db.path_of(key) names "
            "one); pass the folder of a stored key"
        )
    key = [folder.name]
    root = folder.parent
    while isinstance(_node(root.parent), DatabaseNode) and root.parent != root:
        key.insert(0, root.name)
        root = root.parent
    if not isinstance(_node(root), DatabaseNode):
        raise NotADataBaseError(f"{savedir} is not inside a zdb database")
    return root, tuple(key), node


def get_dumper_string_by_savedir(savedir: str | os.PathLike) -> str:
    """The name of the dumper that wrote the key at ``savedir`` (a zdb key's folder or
    version folder, or the folder of a key of an ISF database)."""
    folder = Path(os.path.abspath(savedir))
    if (folder / "Loader.json").is_file():
        store = LocalStore(folder.parent, read_only=True)
        return read_key_folder(store, folder.name, str(folder)).dumper
    return _locate(savedir)[2].dumper


def load(
    savedir: str | os.PathLike, load_data: bool = True, loader_kwargs: dict | None = None
) -> Any:
    """The value stored at ``savedir`` (a zdb key's folder or version folder), read with
    ``loader_kwargs`` as ``db.get(key, **loader_kwargs)`` would; with ``load_data=False``
    the dumper that reads it (ISF returned its Loader object)."""
    root, key, node = _locate(savedir)
    if not load_data:
        return get_dumper(node.dumper)
    return DataBase(root, readonly=True).get(key, **(loader_kwargs or {}))
