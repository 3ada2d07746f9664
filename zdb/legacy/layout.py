"""The folder layout of ISF's databases, and the checked names read from it.

An ``ISFDataBase`` folder holds ``db_state.json`` (unique id, the path it was
registered at, the dumpers it knew) and a folder per key; a key folder holds
``Loader.json`` (``{"Loader": "data_base.isf_data_base.IO.LoaderDumper.<dumper>",
...}``, with keyword arguments of the loader for some dumpers), ``metadata.json`` and
the payload. A sub-database is a key folder whose loader is ``just_create_isf_db``; the
nested database lives in its ``db/`` folder. ISF's older ``ModelDataBase`` kept its
keys in an SQLite file (``sqlitedict.db``) of pickled ISF objects, or in
``dbcore.pickle``.

Every name read here comes from a folder someone may have sent: key names, dumper
names and unique ids are checked against their grammar before they become part of a
path, and every file is read through :class:`zdb.storage.LocalStore`, which refuses
``..``, absolute paths and symbolic links.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from ..exceptions import CorruptKeyError, NotADataBaseError
from ..format import ZARR_JSON, is_unique_id
from ..storage import LocalStore, join

DB_STATE = "db_state.json"
LOADER_JSON = "Loader.json"
LOADER_PICKLE = "Loader.pickle"
METADATA_JSON = "metadata.json"
#: the folder of a ``just_create_isf_db`` key that holds the nested database
SUB_DB_FOLDER = "db"
#: what marks ISF's older ModelDataBase (keys in an SQLite file, or in a pickle)
MODEL_DATA_BASE_FILES = ("sqlitedict.db", "dbcore.pickle")
#: names in a database folder that ISF never lists as keys
NOT_KEYS = frozenset(
    {
        DB_STATE,
        METADATA_JSON,
        LOADER_JSON,
        "dbcore.pickle",
        "metadata.db",
        "sqlitedict.db",
        "sqlitedict.db.lock",
        "metadata.db.lock",
    }
)
#: ISF's own key rule (``ISFDataBase._check_key_format``): 1 to 120 of these characters
_KEY_NAME = re.compile(r"[A-Za-z0-9_.\-]{1,120}")
#: the module paths ISF's ``Loader.json`` names its dumpers by
_LOADER_PREFIXES = (
    "data_base.isf_data_base.IO.LoaderDumper.",
    "data_base.IO.LoaderDumper.",
    "data_base.model_data_base.IO.LoaderDumper.",
    "isf_data_base.IO.LoaderDumper.",
    "model_data_base.IO.LoaderDumper.",
)
_DUMPER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
#: Loader.json and metadata.json are small; a larger one is damage, not data
_MAX_JSON_BYTES = 16 << 20

KIND_ISF = "ISFDataBase"
KIND_MODEL_DATA_BASE = "ModelDataBase"


def is_key_name(name: object) -> bool:
    """True if ``name`` may name a key folder of an ISF database (ISF's key rule, and
    never ``.`` or ``..``)."""
    return (
        isinstance(name, str) and name not in (".", "..") and _KEY_NAME.fullmatch(name) is not None
    )


def folder_kind(path: str | os.PathLike) -> str | None:
    """:data:`KIND_ISF` or :data:`KIND_MODEL_DATA_BASE` when the local folder ``path``
    holds one of ISF's databases and no zdb database, else None. Costs a stat or two."""
    try:
        root = os.fspath(path)
    except TypeError:
        return None
    if "://" in root or root.endswith(".zip"):
        return None
    if os.path.lexists(os.path.join(root, ZARR_JSON)):
        return None
    if os.path.lexists(os.path.join(root, DB_STATE)):
        return KIND_ISF
    if any(os.path.lexists(os.path.join(root, name)) for name in MODEL_DATA_BASE_FILES):
        return KIND_MODEL_DATA_BASE
    return None


def refuse_model_data_base(path: str | os.PathLike) -> NotADataBaseError:
    """The error for a folder holding ISF's older ModelDataBase, which zdb cannot read:
    its keys are pickled ISF objects in an SQLite file."""
    return NotADataBaseError(
        f"{os.fspath(path)} is an ISF ModelDataBase (its keys are pickled ISF objects in "
        "'sqlitedict.db' or 'dbcore.pickle'), which zdb cannot read without ISF; nothing was "
        "written to it. Convert it to an ISFDataBase with ISF first (open it with ISF's "
        "data_base.DataBase and copy its keys into a new ISFDataBase), then read it with "
        "zdb.isf_data_base.ISFDataBase or convert it with 'zdb migrate'"
    )


@dataclass(frozen=True)
class DbState:
    """The checked content of a ``db_state.json``; ``damage`` says what was wrong in it
    and was ignored (None when nothing was)."""

    unique_id: str | None
    registered_to_path: str | None
    dumpers: tuple[str, ...] = ()
    damage: str | None = None


def read_json(store: LocalStore, path: str, what: str) -> Any:
    """The JSON document at ``path``; CorruptKeyError naming ``what`` when it is too
    large or no JSON. FileNotFoundError passes through."""
    data = store.read_bytes(path)
    if len(data) > _MAX_JSON_BYTES:
        raise CorruptKeyError(f"{what}: {store.full(path)} is {len(data)} bytes, no ISF JSON file")
    try:
        return json.loads(data)
    except (ValueError, RecursionError) as e:
        raise CorruptKeyError(
            f"{what}: {store.full(path)} is not valid JSON ({type(e).__name__}); the file is "
            "damaged"
        ) from None


def read_db_state(store: LocalStore, prefix: str) -> DbState:
    """The state of the ISF database at ``prefix`` of ``store``: NotADataBaseError when
    it has no ``db_state.json``; a damaged one gives a state without an id."""
    where = store.full(prefix)
    try:
        doc = read_json(store, join(prefix, DB_STATE), f"the ISF database {where}")
    except FileNotFoundError:
        raise NotADataBaseError(
            f"{where} holds no ISF database (no {DB_STATE}); check the path"
        ) from None
    except CorruptKeyError as e:
        return DbState(None, None, (), str(e))
    if not isinstance(doc, dict):
        return DbState(None, None, (), f"{DB_STATE} is a {type(doc).__name__}, not an object")
    damage = []
    unique_id = doc.get("_unique_id")
    if unique_id is not None and not is_unique_id(unique_id):
        damage.append(f"its _unique_id {str(unique_id)[:40]!r} is not a database unique id")
        unique_id = None
    registered = doc.get("_registered_to_path")
    dumpers = doc.get("_registeredDumpers")
    names = tuple(d for d in dumpers if isinstance(d, str)) if isinstance(dumpers, list) else ()
    return DbState(
        unique_id,
        registered if isinstance(registered, str) else None,
        names,
        "; ".join(damage) or None,
    )


def dumper_name(loader: object) -> str | None:
    """The dumper a ``Loader.json``'s ``Loader`` field names (``"...LoaderDumper.numpy_to_npy"``
    -> ``"numpy_to_npy"``), or None when it names no ISF dumper module."""
    if not isinstance(loader, str):
        return None
    for prefix in _LOADER_PREFIXES:
        if loader.startswith(prefix):
            name = loader[len(prefix) :]
            return name if _DUMPER_NAME.fullmatch(name) else None
    return None


@dataclass(frozen=True)
class KeyFolder:
    """One key of an ISF database: where its folder is, which dumper wrote it, and the
    loader's keyword arguments from its ``Loader.json`` (``Loader`` removed)."""

    store: LocalStore
    path: str
    dumper: str
    loader_kwargs: dict[str, Any] = field(default_factory=dict)
    label: str = "a key"

    def file(self, name: str) -> str:
        """The store path of the file ``name`` in the key's folder."""
        return join(self.path, name)


def read_key_folder(store: LocalStore, path: str, label: str) -> KeyFolder:
    """The :class:`KeyFolder` at ``path``: the dumper from ``Loader.json``, or, for the
    dumpers that wrote a pickled ``Loader.pickle`` instead (``cell``,
    ``shared_numpy_store``), from ``metadata.json`` (the pickle is never read).
    CorruptKeyError when neither says which dumper wrote it."""
    try:
        doc = read_json(store, join(path, LOADER_JSON), label)
    except FileNotFoundError:
        doc = None
    if doc is not None:
        if not isinstance(doc, dict):
            raise CorruptKeyError(f"{label}: its {LOADER_JSON} is no JSON object; it is damaged")
        name = dumper_name(doc.get("Loader"))
        if name is None:
            raise CorruptKeyError(
                f"{label}: its {LOADER_JSON} names the loader {str(doc.get('Loader'))[:80]!r}, "
                "which is no ISF dumper module; it is damaged or was written by another tool"
            )
        kwargs = {k: v for k, v in doc.items() if k != "Loader"}
        return KeyFolder(store, path, name, kwargs, label)
    try:
        meta = read_json(store, join(path, METADATA_JSON), label)
    except FileNotFoundError:
        meta = None
    name = meta.get("dumper") if isinstance(meta, dict) else None
    if isinstance(name, str) and _DUMPER_NAME.fullmatch(name):
        return KeyFolder(store, path, name, {}, label)
    has_pickle = store.exists(join(path, LOADER_PICKLE))
    raise CorruptKeyError(
        f"{label}: its folder {store.full(path)} has no {LOADER_JSON}"
        + (
            f" (only a pickled {LOADER_PICKLE}) and no metadata.json naming"
            if has_pickle
            else ", so"
        )
        + " the dumper that wrote it; ISF was probably interrupted while writing it: delete it "
        "with ISF, or ignore it"
    )


def list_key_names(store: LocalStore, prefix: str) -> tuple[list[str], list[str]]:
    """The key names of the ISF database at ``prefix``, sorted, as ISF lists them (every
    entry but its own files and keys being deleted), and the entries skipped because their
    names break ISF's key rule (damage or a hostile name)."""
    names, skipped = [], []
    for name in store.list_dir(prefix):
        if name in NOT_KEYS or ".deleting." in name:
            continue
        if not is_key_name(name):
            skipped.append(name)
            continue
        names.append(name)
    return sorted(names), sorted(skipped)
