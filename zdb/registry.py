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
from typing import Any

from .exceptions import DataBaseException
from .format import ZARR_JSON, DatabaseNode, is_unique_id, parse_node

ENV = "ZDB_REGISTRY"


def default_location() -> Path:
    """The registry folder in use: ``$ZDB_REGISTRY`` or the user's config folder."""
    if os.environ.get(ENV):
        return Path(os.environ[ENV]).expanduser()
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(config) / "zdb" / "registry"


def _check_id(unique_id: str) -> None:
    if not is_unique_id(unique_id):
        raise DataBaseException(
            f"{str(unique_id)[:60]!r} is not a database unique id; pass db.unique_id of a zdb "
            "database"
        )


class DataBaseRegister:
    """A registry folder mapping unique ids to database locations.

    An entry is ``<unique id>.json``: ``{"location": ..., "registered": <ISO time>,
    "created": [locations]}``, where ``created`` lists the places where this user
    created the database (or exported it as an archive): the default pickle policy
    trusts pickles only there (see :mod:`zdb.IO.LoaderDumper.to_cloudpickle`).
    """

    def __init__(self, path: str | os.PathLike | None = None) -> None:
        self.path = Path(path) if path is not None else default_location()

    def __repr__(self) -> str:
        return f"DataBaseRegister({str(self.path)!r})"

    def _entry(self, unique_id: str) -> Path:
        _check_id(unique_id)
        return self.path / f"{unique_id}.json"

    def entry(self, unique_id: str) -> dict[str, Any] | None:
        """The entry of ``unique_id``, checked; None when there is none.
        DataBaseException naming the file when it is damaged."""
        path = self._entry(unique_id)
        try:
            entry = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError, RecursionError) as e:
            raise self._damaged(path, f"{type(e).__name__}: {e}") from None
        created = entry.get("created", []) if isinstance(entry, dict) else None
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("location"), str)
            or not isinstance(created, list)
            or not all(isinstance(c, str) for c in created)
        ):
            raise self._damaged(path, "not an object with a str location")
        return entry

    @staticmethod
    def _damaged(path: Path, why: str) -> DataBaseException:
        return DataBaseException(
            f"registry entry {path} is damaged ({why}); delete it and open the database by "
            "its path to register it again"
        )

    def register(self, unique_id: str, location: str, created_at: str | None = None) -> None:
        """Record that the database ``unique_id`` is at ``location``, and with
        ``created_at`` a place where this user created it (kept with the others)."""
        entry = self._entry(unique_id)
        try:
            places = (self.entry(unique_id) or {}).get("created", [])
        except DataBaseException:
            places = []  # a damaged entry is replaced
        if created_at is not None and created_at not in places:
            places = [*places, created_at]
        doc = {"location": location, "registered": datetime.now(UTC).isoformat()}
        if places:
            doc["created"] = places
        self.path.mkdir(parents=True, exist_ok=True)
        tmp = entry.with_name(f".{entry.name}.{secrets.token_hex(4)}.tmp")
        tmp.write_text(json.dumps(doc))
        os.replace(tmp, entry)

    def add_created(self, unique_id: str, place: str) -> None:
        """Record that this user made the database ``unique_id`` at ``place`` too (an
        archive exported from it), without changing where its entry points."""
        try:
            entry = self.entry(unique_id)
        except DataBaseException:
            entry = None
        self.register(unique_id, entry["location"] if entry else place, created_at=place)

    def location(self, unique_id: str) -> str:
        """Where the database ``unique_id`` was last opened; KeyError when unknown."""
        entry = self.entry(unique_id)
        if entry is None:
            raise KeyError(
                f"no database with unique id {unique_id!r} in the registry {self.path}; open the "
                "database once by its path (zdb.DataBase(path)) to register it"
            )
        return entry["location"]

    def created_at(self, unique_id: str, location: str) -> bool:
        """True if this user created the database ``unique_id`` at ``location``."""
        try:
            entry = self.entry(unique_id)
        except DataBaseException:
            return False
        return entry is not None and location in entry.get("created", [])

    def deregister(self, unique_id: str, missing_ok: bool = False) -> None:
        """Forget the database ``unique_id``; KeyError when it is not registered
        (unless ``missing_ok``)."""
        try:
            self._entry(unique_id).unlink()
        except FileNotFoundError:
            if not missing_ok:
                raise KeyError(
                    f"no database with unique id {unique_id!r} in the registry {self.path}"
                ) from None

    def __getitem__(self, unique_id: str) -> str:
        return self.location(unique_id)

    def __delitem__(self, unique_id: str) -> None:
        self.deregister(unique_id)

    def __contains__(self, unique_id: object) -> bool:
        return is_unique_id(unique_id) and self._entry(str(unique_id)).exists()

    def keys(self) -> list[str]:
        """The registered unique ids (file names that are no unique id are ignored)."""
        if not self.path.is_dir():
            return []
        return sorted(p.stem for p in self.path.glob("*.json") if is_unique_id(p.stem))

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())


def note_opened(unique_id: str, location: str, created: bool = False) -> bool:
    """Register a database that was just opened (``created``: by this call), unless the
    registry already knows it; True if this user created it at ``location``.

    Called on every open, so it costs one small file read when nothing changed. When
    the registered location differs, the database was moved (the old location holds
    it no more: the entry follows it) or copied (the old location still holds it: the
    original keeps its id). A registry that cannot be written (read-only home, full
    disk) must not stop anyone from opening a database: that becomes a warning.
    """
    registry = DataBaseRegister()
    try:
        entry = registry.entry(unique_id)
    except DataBaseException:
        entry = None
    known = entry["location"] if entry else None
    if not created and (
        known == location or (known is not None and _still_holds(known, unique_id))
    ):
        return location in (entry or {}).get("created", [])
    try:
        registry.register(unique_id, location, created_at=location if created else None)
    except OSError as e:
        import warnings

        warnings.warn(
            f"zdb: could not register database {location} in {registry.path}: {e}; set "
            f"{ENV} to a writable folder to use zdb:// paths",
            stacklevel=3,
        )
    return created


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
