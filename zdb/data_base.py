"""ISF's ``data_base.data_base``: the database class and the lookup by unique id.

ISF's module chose between its two database systems by what a folder held; zdb's
:class:`~zdb.DataBase` is the one class, so this module only keeps ISF's names.
"""

from __future__ import annotations

from .data_base_register import get_db_by_unique_id
from .database import DataBase, is_data_base

__all__ = ["DataBase", "get_db_by_unique_id", "is_data_base"]
