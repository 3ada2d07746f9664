"""The registry of databases: unique id -> location (local path or URL).

This module keeps the registry's files and knows nothing of :class:`zdb.DataBase`;
:mod:`zdb.data_base_register` is its face with ISF's names, which opens databases.

It lives in a user-level folder, never inside the installed package: ``$ZDB_REGISTRY``
when set, else ``$XDG_CONFIG_HOME/zdb/registry`` (``~/.config/zdb/registry``). Each
database is one small JSON file named by its unique id, replaced atomically, so that
thousands of jobs registering databases at once never contend for one shared file.
Opening a database registers it; opening it after it was moved updates its entry.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from .exceptions import DataBaseException
from .format import ZARR_JSON, DatabaseNode, parse_node

ENV = "ZDB_REGISTRY"


def default_location() -> Path:
    """The registry folder in use: ``$ZDB_REGISTRY`` or the user's config folder."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV]).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(config) / "zdb" / "registry"


def _check_id(unique_id: str) -> None:
    if not unique_id or "/" in unique_id or unique_id.startswith("."):
        raise DataBaseException(
            f"{unique_id!r} is not a database unique id; pass db.unique_id of a zdb database"
        )


class DataBaseRegister:
    """A registry folder mapping unique ids to database locations."""

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else default_location()

    def __repr__(self) -> str:
        return f"DataBaseRegister({str(self.path)!r})"

    def _entry(self, unique_id: str) -> Path:
        _check_id(unique_id)
        return self.path / f"{unique_id}.json"

    def register(self, unique_id: str, location: str) -> None:
        """Record that the database ``unique_id`` is at ``location``."""
        entry = self._entry(unique_id)
        data = json.dumps({"location": location, "registered": datetime.now(UTC).isoformat()})
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_name(f".{entry.name}.{secrets.token_hex(4)}.tmp")
        tmp.write_text(data)
        os.replace(tmp, entry)

    def location(self, unique_id: str) -> str:
        """Where the database ``unique_id`` was last opened; KeyError when unknown."""
        try:
            return json.loads(self._entry(unique_id).read_text())["location"]
        except FileNotFoundError:
            raise KeyError(
                f"no database with unique id {unique_id!r} in the registry {self.path}; open the "
                "database once by its path (zdb.DataBase(path)) to register it"
            ) from None
        except (ValueError, KeyError) as e:
            raise DataBaseException(
                f"registry entry {self._entry(unique_id)} is damaged ({e}); open the database "
                "by its path to register it again"
            ) from e

    def __getitem__(self, unique_id: str) -> str:
        return self.location(unique_id)

    def __contains__(self, unique_id: object) -> bool:
        return isinstance(unique_id, str) and self._entry(unique_id).exists()

    def keys(self) -> list[str]:
        """The registered unique ids."""
        if not self.path.is_dir():
            return []
        return sorted(p.stem for p in self.path.glob("*.json") if not p.name.startswith("."))

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())


def note_opened(unique_id: str, location: str) -> None:
    """Register a database that was just opened, unless the registry already knows it.

    Called on every open, so it costs one small file read when nothing changed. When
    the registered location differs, the database was moved (the old location holds
    it no more: the entry follows it) or copied (the old location still holds it: the
    original keeps its id). A registry that cannot be written (read-only home, full
    disk) must not stop anyone from opening a database: that becomes a warning.
    """
    registry = DataBaseRegister()
    try:
        known = registry.location(unique_id)
    except (KeyError, DataBaseException):
        known = None
    if known == location or (known is not None and _still_holds(known, unique_id)):
        return
    try:
        registry.register(unique_id, location)
    except OSError as e:
        import warnings

        warnings.warn(
            f"zdb: could not register database {location} in {registry.path}: {e}; set "
            f"{ENV} to a writable folder to use zdb:// paths",
            stacklevel=3,
        )


def _still_holds(location: str, unique_id: str) -> bool:
    """True if ``location`` still holds the database ``unique_id``; remote locations
    are assumed to (checking would cost a request on every open)."""
    if "://" in location:
        return True
    try:
        node = parse_node((Path(location) / ZARR_JSON).read_bytes(), location)
    except (OSError, DataBaseException):
        return False
    return isinstance(node, DatabaseNode) and node.unique_id == unique_id
