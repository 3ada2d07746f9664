"""The fsspec store's former module; it lives in :mod:`zdb.storage` now. Kept so that
code importing ``zdb.object_store`` keeps working."""

from .storage import FsspecStore

__all__ = ["FsspecStore"]
