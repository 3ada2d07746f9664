"""ISF's ``data_base_register``: find a database by its unique id.

The registry itself (where it lives, its files) is :mod:`zdb.registry`; this module
adds what needs :class:`zdb.DataBase`: registering and opening databases.
"""

from __future__ import annotations

from typing import Any

from .database import DataBase
from .exceptions import DataBaseException, NotADataBaseError, StaleRegistryError
from .registry import ENV, DataBaseRegister, default_location, note_opened


def register_db(db: DataBase, registry: DataBaseRegister | None = None) -> None:
    """Register ``db`` in the user's registry (done by opening a database)."""
    if db.unique_id is None:
        raise DataBaseException(
            f"{db.basedir} has no unique id; open it once without readonly=True to give it one"
        )
    (registry or DataBaseRegister()).register(db.unique_id, db.basedir)


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
    "default_location",
    "get_db_by_unique_id",
    "note_opened",
    "register_db",
]
