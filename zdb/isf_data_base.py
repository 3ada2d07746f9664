"""Reading the databases of the In Silico Framework (ISF) without ISF.

>>> db = zdb.isf_data_base.ISFDataBase("/gpfs/results/my_isf_db", allow_pickle=True)
>>> db.keys(), db["spike_times"], db.metadata["spike_times"]["time"]

``zdb.DataBase(path)`` on an ISF folder returns the same read-only database, with a
warning naming ``zdb migrate``. :func:`register_loader` lets a package read the keys
of ISF's dumpers of its own classes (``cell``, ``reduced_lda_model``). The reader lives
in :mod:`zdb.legacy` (docs/isf.md).
"""

from __future__ import annotations

from .legacy.arrays import SharedNumpyStore
from .legacy.database import ISFDataBase
from .legacy.layout import KeyFolder
from .legacy.loaders import Reading, known_dumpers, register_loader

__all__ = [
    "ISFDataBase",
    "KeyFolder",
    "Reading",
    "SharedNumpyStore",
    "known_dumpers",
    "register_loader",
]
