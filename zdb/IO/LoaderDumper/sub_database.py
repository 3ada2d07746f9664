"""``sub_database`` (ISF: ``just_create_isf_db``): a nested database under a key.

A sub-database is not a value with a version folder but a database node of its own,
so :class:`zdb.DataBase` creates it itself: ``db.set(key, None,
dumper='just_create_isf_db')`` is ``db.create_sub_db(key)``.
"""

from __future__ import annotations

from ...dumper import ROLE_SUB_DATABASE, Dumper
from ...dumper_registry import register


class SubDataBase(Dumper):
    name = "sub_database"
    role = ROLE_SUB_DATABASE
    aliases = ("just_create_isf_db", "just_create_db")


dumper = register(SubDataBase())
