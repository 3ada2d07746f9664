"""A database on a local or cluster file system: plain files and folders.

It uses ``os`` directly instead of fsspec or zarr's store classes: a write or read of
a small key is a handful of tiny file operations, and those layers cost several times
the operations themselves. POSIX gives it an atomic ``rename`` (a whole folder moves
at once) and an atomic exclusive create (``link`` fails when the target exists).
"""

from __future__ import annotations

import functools
import os
import secrets
import shutil
import sys
from typing import Any

from .base import Store


class LocalStore(Store):
    """A folder on a local or cluster file system."""

    atomic_rename = True
    atomic_create = True
    cheap_listing = True
    remote = False

    def __init__(self, root: str | os.PathLike, read_only: bool = False) -> None:
        self.root = os.path.abspath(os.fspath(root))
        self.read_only = read_only

    def __repr__(self) -> str:
        return f"LocalStore({self.root!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LocalStore) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)

    def full(self, path: str) -> str:
        return os.path.join(self.root, path) if path else self.root

    def local_path(self, path: str) -> str:
        return self.full(path)

    @functools.cached_property
    def max_path_bytes(self) -> int:
        try:
            limit = os.pathconf(self.root if os.path.exists(self.root) else "/", "PC_PATH_MAX")
        except (OSError, ValueError):
            limit = 4096
        return limit - len(os.fsencode(self.root)) - 2

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

    def remove_empty_folder(self, path: str) -> None:
        try:
            os.rmdir(self.full(path))
        except OSError:  # not empty (another writer is using it), or gone
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

        return zarr.storage.LocalStore(self.full(path), read_only=self.read_only)


def _ignore_missing(func: Any, path: str, exc: BaseException) -> None:
    # another process removing the same tree at the same time is not an error
    if not isinstance(exc, FileNotFoundError):
        raise exc


def _rmtree(path: str) -> None:
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=_ignore_missing)
    else:
        shutil.rmtree(path, onerror=lambda f, p, info: _ignore_missing(f, p, info[1]))
