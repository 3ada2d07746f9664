"""ISF's ``data_base_register``: find a database by its unique id.

The registry itself (where it lives, its files) is :mod:`zdb.registry`; this module
adds what needs :class:`zdb.DataBase`: registering and opening databases.
"""

from __future__ import annotations

from typing import Any

from .database import DataBase
from .exceptions import DataBaseException
from .registry import ENV, DataBaseRegister, default_location, note_opened


def register_db(db: DataBase, registry: DataBaseRegister | None = None) -> None:
    """Register ``db`` in the user's registry (done by opening a database)."""
    if db.unique_id is None:
        raise DataBaseException(
            f"{db.basedir} has no unique id; open it once without readonly=True to give it one"
        )
    (registry or DataBaseRegister()).register(db.unique_id, db.basedir)


def get_db_by_unique_id(unique_id: str, **kwargs: Any) -> DataBase:
    """Open the registered database ``unique_id``; KeyError naming the id when unknown."""
    return DataBase(DataBaseRegister().location(unique_id), nocreate=True, **kwargs)


__all__ = [
    "ENV",
    "DataBaseRegister",
    "default_location",
    "get_db_by_unique_id",
    "note_opened",
    "register_db",
]
