"""``just_create_folder``: a managed folder, a local folder the user fills with any
files (morphologies, parameter files, outputs of external tools). Reading the key
returns its path; deleting the key removes it."""

from __future__ import annotations

import os
from typing import Any

from ...dumper import ROLE_MANAGED_FOLDER, Dumper, Target
from ...dumper_registry import register
from ...exceptions import ManagedFolderError, UnsupportedValueError
from ...format import group_document
from ...storage import join

FOLDER = "files"


class ManagedFolder(str):
    """The path of a managed folder (a str, usable wherever a path is)."""

    def join(self, *parts: str) -> str:
        """A path inside the folder (ISF's ``ManagedFolder.join``)."""
        return os.path.join(self, *parts)

    def listdir(self) -> list[str]:
        """The names in the folder."""
        return os.listdir(self)

    def get_file(self, suffix: str) -> str:
        """The path of the one file in the folder whose name ends with ``suffix`` (ISF's
        ``ManagedFolder.get_file``); ManagedFolderError when there is none or several."""
        found = sorted(name for name in os.listdir(self) if name.endswith(suffix))
        if len(found) != 1:
            raise ManagedFolderError(
                f"the folder {self} holds {len(found) or 'no'} files ending with {suffix!r}"
                f"{' (' + ', '.join(found) + ')' if found else ''}; name the file by its path "
                "(folder.join(name))"
            )
        return os.path.join(self, found[0])


class JustCreateFolder(Dumper):
    name = "just_create_folder"
    role = ROLE_MANAGED_FOLDER
    always_writes = True

    def dump(self, value: Any, target: Target) -> dict[str, Any]:
        folder = target.store.local_path(join(target.path, FOLDER))
        if folder is None:
            raise UnsupportedValueError(
                "managed folders are local folders; this database is not on a local file system"
            )
        if value is not None:
            raise UnsupportedValueError(
                "just_create_folder creates an empty folder; pass None as the value "
                "(or call db.create_managed_folder(key))"
            )
        target.store.write_bytes(join(target.path, "zarr.json"), group_document({}))
        os.makedirs(folder)
        return {"type": "zdb.ManagedFolder", "summary": "folder"}

    def reads_atomically(self, info: dict[str, Any]) -> bool:
        return True  # one file, or none

    def load(
        self, target: Target, info: dict[str, Any], *, lazy: bool = False, as_xarray: bool = False
    ) -> ManagedFolder:
        return ManagedFolder(target.store.full(join(target.path, FOLDER)))


dumper = register(JustCreateFolder())
