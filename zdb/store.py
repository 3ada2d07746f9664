"""The storage layer's former module; it lives in :mod:`zdb.storage` now. Kept so
that code importing ``zdb.store`` keeps working."""

from .storage import LocalStore, Store, join, open_store

__all__ = ["LocalStore", "Store", "join", "open_store"]
