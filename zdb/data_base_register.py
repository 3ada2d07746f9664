"""ISF's ``data_base_register``: find a database by its unique id.

The registry itself (where it lives, its files) is :mod:`zdb.registry`; this module
adds what needs :class:`zdb.DataBase`: registering and opening databases.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

from . import progress_bars
from .database import DataBase
from .exceptions import DataBaseException, NotADataBaseError, StaleRegistryError
from .registry import ENV, DataBaseRegister, default_location, note_opened


def register_db(
    db: DataBase | str,
    db_basedir: str | os.PathLike | None = None,
    registry: DataBaseRegister | None = None,
) -> None:
    """Register a database in the user's registry (opening a database does it too):
    ``register_db(db)``, or as in ISF ``register_db(unique_id, db_basedir)``."""
    if isinstance(db, DataBase):
        if db.unique_id is None:
            raise DataBaseException(
                f"{db.basedir} has no unique id; open it once without readonly=True to give it one"
            )
        unique_id, location = db.unique_id, db.basedir
    else:
        if db_basedir is None:
            raise DataBaseException(
                f"register_db({db!r}) needs the database's place: register_db(unique_id, "
                "db_basedir), or pass the DataBase"
            )
        unique_id = db
        location = os.fspath(db_basedir)
        if "://" not in location:
            location = os.path.abspath(location)
    (registry or DataBaseRegister()).register(unique_id, location)


def deregister_db(unique_id: str) -> None:
    """Remove ``unique_id`` from the user's registry; KeyError when it is not there."""
    DataBaseRegister().deregister(unique_id)


def _get_db_register() -> DataBaseRegister:
    """The user's registry (ISF's accessor)."""
    return DataBaseRegister()


def assimilate_remote_register(
    remote_path: str | os.PathLike, local_path: str | os.PathLike | None = None
) -> list[str]:
    """Add the databases of another registry folder (a colleague's, a shared one) to
    yours (or to ``local_path``), those whose place exists on this machine (or is a
    URL); returns their unique ids. Entries you have already are kept. Where the other
    registry says its owner created a database is not copied: the pickle policy trusts
    only databases you created (ISF's version took every entry as it was)."""
    remote = DataBaseRegister(remote_path)
    local = DataBaseRegister(local_path)
    taken = []
    on_terminal = sys.stderr.isatty()
    keys = progress_bars.bar(remote.keys(), progress=on_terminal, desc="assimilating registry")
    for unique_id in keys:
        try:
            location = remote.location(unique_id)
        except DataBaseException as e:
            warnings.warn(f"zdb: skipped a damaged entry of {remote.path}: {e}", stacklevel=2)
            continue
        if unique_id in local or ("://" not in location and not os.path.exists(location)):
            continue
        local.register(unique_id, location)
        taken.append(unique_id)
    return taken


def get_db_by_unique_id(unique_id: str, **kwargs: Any) -> DataBase:
    """Open the registered database ``unique_id``; KeyError naming the id when unknown,
    :class:`StaleRegistryError` when its registered place holds no database or another
    one (it was moved or deleted, and something else is there now)."""
    registry = DataBaseRegister()
    location = registry.location(unique_id)
    fix = (
        f"open the database by its path once (zdb.DataBase(path)) to register it again, or "
        f"delete the entry {registry.path / (unique_id + '.json')}"
    )
    try:
        db = DataBase(location, nocreate=True, **kwargs)
    except NotADataBaseError as e:
        raise StaleRegistryError(
            f"the registry says the database {unique_id} is at {location}, which holds no "
            f"database now ({e}); {fix}"
        ) from None
    if db.unique_id != unique_id:
        raise StaleRegistryError(
            f"the registry says the database {unique_id} is at {location}, which holds "
            f"another database now ({db.unique_id}); {fix}"
        )
    return db


__all__ = [
    "ENV",
    "DataBaseRegister",
    "assimilate_remote_register",
    "default_location",
    "deregister_db",
    "get_db_by_unique_id",
    "note_opened",
    "register_db",
]
