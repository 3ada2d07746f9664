"""Reading and migrating the databases of the In Silico Framework (ISF) without ISF.

>>> db = zdb.isf_data_base.ISFDataBase("/gpfs/results/my_isf_db", allow_pickle=True)
>>> db.keys(), db["spike_times"], db.metadata["spike_times"]["time"]
>>> zdb.isf_data_base.migrate("/gpfs/results/my_isf_db", "/gpfs/results/my_zdb")

``zdb.DataBase(path)`` on an ISF folder returns the same read-only database, with a
warning naming ``zdb migrate``; :func:`migrate` converts it into a zdb database.
ISF's ``cell`` and ``reduced_lda_model`` keys come back as zdb's own objects;
:func:`register_loader` lets a package replace the loader of an ISF dumper. The reader
lives in :mod:`zdb.legacy`, the migration in :mod:`zdb.isf_migration` (docs/isf.md).
"""

from __future__ import annotations

from .isf_migration import MigrationReport, migrate
from .legacy.arrays import SharedNumpyStore
from .legacy.database import ISFDataBase
from .legacy.layout import KeyFolder
from .legacy.loaders import Reading, known_dumpers, register_loader

__all__ = [
    "ISFDataBase",
    "KeyFolder",
    "MigrationReport",
    "Reading",
    "SharedNumpyStore",
    "known_dumpers",
    "migrate",
    "register_loader",
]
