"""The storage layer: bytes at relative paths under a database's root.

It knows nothing of keys, dumpers or tables; :mod:`zdb.commit` builds the commit
protocol on it and dumpers write their Zarr nodes through :meth:`Store.zarr_store`.
Paths are relative POSIX paths; ``""`` is the root.

The local store uses ``os`` directly instead of going through fsspec or zarr's
store classes: a database write or read of a small key is a handful of tiny file
operations, and those layers cost several times the operations themselves.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from abc import ABC, abstractmethod
from typing import Any


def join(*parts: str) -> str:
    """Join relative store paths, ignoring empty parts."""
    return "/".join(p for p in parts if p)


class Store(ABC):
    """Byte storage under one root (a local folder or, later, an fsspec URL)."""

    #: True when the data lives on this machine's file system, as plain files
    is_local: bool
    #: True for stores that cannot be written (archives)
    read_only: bool

    @abstractmethod
    def full(self, path: str) -> str:
        """The local path or URL of ``path``, for users and other tools."""

    @abstractmethod
    def read_bytes(self, path: str) -> bytes:
        """The content of a file; FileNotFoundError when missing."""

    def read_many(self, paths: list[str]) -> dict[str, bytes]:
        """The contents of several files (concurrently where the store gains from it);
        FileNotFoundError when one is missing."""
        return {path: self.read_bytes(path) for path in paths}

    @abstractmethod
    def write_bytes(self, path: str, data: bytes) -> None:
        """Write a file, creating parent folders; readers may see it half-written."""

    @abstractmethod
    def write_atomic(self, path: str, data: bytes) -> None:
        """Replace a file so that every reader sees either the old or the new content."""

    @abstractmethod
    def create_exclusive(self, path: str, data: bytes) -> bool:
        """Atomically create a file that does not exist yet; False if it already did."""

    @abstractmethod
    def exists(self, path: str) -> bool:
        """True if a file or folder exists at ``path``."""

    @abstractmethod
    def is_dir(self, path: str) -> bool:
        """True if ``path`` is a folder (a prefix holding files, on object stores)."""

    @abstractmethod
    def list_dir(self, path: str) -> list[str]:
        """Names of the direct children of a folder; [] when it does not exist."""

    @abstractmethod
    def remove(self, path: str) -> None:
        """Remove a file or a folder tree; nothing happens when it does not exist."""

    def remove_file(self, path: str) -> None:
        """Remove a file known not to be a folder (one request fewer on object stores
        than :meth:`remove`); nothing happens when it does not exist."""
        self.remove(path)

    @abstractmethod
    def rename(self, src: str, dst: str) -> None:
        """Move a file or folder tree to a path that does not exist yet."""

    @abstractmethod
    def copy(self, src: str, dst: str) -> None:
        """Copy a file or folder tree to a path that does not exist yet; a folder's own
        ``zarr.json`` is copied last, so the copy is a Zarr node only once complete."""

    @abstractmethod
    def size(self, path: str) -> int:
        """Bytes used by the files under ``path``."""

    @abstractmethod
    def mtime(self, path: str) -> float:
        """Modification time (seconds since the epoch) of a file or folder."""

    @abstractmethod
    def files(self, path: str) -> list[str]:
        """Paths (relative to the root) of every file under ``path``, sorted."""

    @abstractmethod
    def zarr_store(self, path: str) -> Any:
        """A zarr-python store rooted at ``path``, for dumpers that use zarr's API."""


class LocalStore(Store):
    """A folder on a local or cluster file system."""

    is_local = True
    read_only = False

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = os.path.abspath(os.fspath(root))

    def __repr__(self) -> str:
        return f"LocalStore({self.root!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LocalStore) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)

    def full(self, path: str) -> str:
        return os.path.join(self.root, path) if path else self.root

    def read_bytes(self, path: str) -> bytes:
        with open(self.full(path), "rb") as f:
            return f.read()

    def write_bytes(self, path: str, data: bytes) -> None:
        full = self.full(path)
        try:
            f = open(full, "wb")
        except FileNotFoundError:
            os.makedirs(os.path.dirname(full), exist_ok=True)
            f = open(full, "wb")
        with f:
            f.write(data)

    def write_atomic(self, path: str, data: bytes) -> None:
        # rename() over an existing file is atomic on POSIX file systems
        tmp = f"{path}.{secrets.token_hex(6)}.tmp"
        self.write_bytes(tmp, data)
        try:
            os.replace(self.full(tmp), self.full(path))
        except BaseException:
            self.remove(tmp)
            raise

    def create_exclusive(self, path: str, data: bytes) -> bool:
        # link() fails when the target exists, so the complete file appears at once
        tmp = f"{path}.{secrets.token_hex(6)}.tmp"
        self.write_bytes(tmp, data)
        try:
            os.link(self.full(tmp), self.full(path))
            return True
        except FileExistsError:
            return False
        finally:
            self.remove(tmp)

    def exists(self, path: str) -> bool:
        return os.path.exists(self.full(path))

    def is_dir(self, path: str) -> bool:
        return os.path.isdir(self.full(path))

    def list_dir(self, path: str) -> list[str]:
        try:
            return os.listdir(self.full(path))
        except (FileNotFoundError, NotADirectoryError):
            return []

    def remove(self, path: str) -> None:
        full = self.full(path)
        if os.path.isdir(full) and not os.path.islink(full):
            _rmtree(full)
        else:
            try:
                os.remove(full)
            except FileNotFoundError:
                pass

    def rename(self, src: str, dst: str) -> None:
        full_dst = self.full(dst)
        os.makedirs(os.path.dirname(full_dst), exist_ok=True)
        if os.path.exists(full_dst):
            raise FileExistsError(full_dst)
        os.rename(self.full(src), full_dst)

    def copy(self, src: str, dst: str) -> None:
        full_src, full_dst = self.full(src), self.full(dst)
        if os.path.exists(full_dst):
            raise FileExistsError(full_dst)
        if not os.path.isdir(full_src):
            os.makedirs(os.path.dirname(full_dst), exist_ok=True)
            shutil.copyfile(full_src, full_dst)
            return
        # copy into a temporary name, then rename: the node appears complete at once
        tmp = f"{dst}.{secrets.token_hex(6)}.tmp"
        shutil.copytree(full_src, self.full(tmp))
        os.rename(self.full(tmp), full_dst)

    def size(self, path: str) -> int:
        full = self.full(path)
        if not os.path.isdir(full):
            return os.path.getsize(full) if os.path.exists(full) else 0
        total = 0
        for dirpath, _, files in os.walk(full):
            for name in files:
                try:
                    total += os.path.getsize(os.path.join(dirpath, name))
                except FileNotFoundError:
                    pass
        return total

    def mtime(self, path: str) -> float:
        return os.stat(self.full(path)).st_mtime

    def files(self, path: str) -> list[str]:
        out = []
        for dirpath, _, names in os.walk(self.full(path)):
            rel = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
            out.extend(name if rel == "." else f"{rel}/{name}" for name in names)
        return sorted(out)

    def zarr_store(self, path: str) -> Any:
        import zarr.storage

        return zarr.storage.LocalStore(self.full(path))


def _ignore_missing(func: Any, path: str, exc: BaseException) -> None:
    # another process removing the same tree at the same time is not an error
    if not isinstance(exc, FileNotFoundError):
        raise exc


def _rmtree(path: str) -> None:
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=_ignore_missing)
    else:
        shutil.rmtree(path, onerror=lambda f, p, info: _ignore_missing(f, p, info[1]))


def open_store(path_or_url: str | os.PathLike, storage_options: dict | None = None) -> Store:
    """The store for a local path or an fsspec URL (``s3://...``, ``memory://...``)."""
    path = os.fspath(path_or_url)
    if path.startswith("file://"):
        path = path[len("file://") :]
    if "://" not in path and path.endswith(".zip") and os.path.isfile(path):
        path = f"zip://::{os.path.abspath(path)}"
    if "://" in path:
        from .object_store import FsspecStore

        return FsspecStore(path, storage_options)
    return LocalStore(path)
