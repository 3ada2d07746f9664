"""A database on any fsspec file system: object stores (``s3://``, ``gs://``),
``memory://``, zip archives (read-only) and others.

Object stores have no rename and no atomic replacement of a folder, but a single
object PUT is atomic: readers see the old object or the new one, which is all the
commit protocol (:mod:`zdb.commit`) needs for a key's pointer. S3 offers an atomic
exclusive create (a conditional PUT, ``If-None-Match: *``); fsspec's memory file
system lives in one process, where a lock makes its create atomic; other file systems
only check before they write, and say so (``atomic_create`` False).

Other processes write while we read, so fsspec's listing caches are turned off: every
listing asks the store. File-system instances are shared between databases with the
same options (building an S3 client costs about 100 ms); with their listing cache off
they hold no state about the store's content.
"""

from __future__ import annotations

import errno
import os
import posixpath
import threading
import zipfile
from datetime import datetime
from typing import Any

from ..exceptions import ReadOnlyError, UnsafePathError
from .base import Store, check_relative

#: object stores whose listings fsspec would otherwise cache
_CACHED_LISTINGS = ("s3", "s3a", "gs", "gcs", "abfs", "az")
#: S3 limits an object's key to 1024 bytes
_S3_KEY_BYTES = 1024
#: makes exclusive creates on fsspec's (in-process) memory file system atomic
_memory_lock = threading.Lock()


class FsspecStore(Store):
    """A database root on an fsspec file system, addressed by URL."""

    atomic_rename = False
    cheap_listing = False
    remote = True

    def __init__(self, url: str, storage_options: dict | None = None) -> None:
        import fsspec

        options = dict(storage_options or {})
        # a chained URL ("zip://inner::/path/archive.zip") keeps its tail for full()
        head, sep, tail = url.partition("::")
        self._chain = sep + tail
        self.protocol = head.split("://", 1)[0]
        self.read_only = self.protocol == "zip"
        if self.protocol in _CACHED_LISTINGS:
            options.setdefault("use_listings_cache", False)
        if self.protocol in ("s3", "s3a"):
            # zdb reads whole small objects; a size probe (HEAD) before each GET, which
            # s3fs makes to split large downloads, would double the requests
            options.setdefault("max_concurrency", 1)
        self.fs, root = fsspec.core.url_to_fs(url, **options)
        self.url = head if head.endswith("://") else head.rstrip("/")
        self.root = root.rstrip("/")
        self.storage_options = options
        self.atomic_create = self.protocol in ("s3", "s3a", "memory")

    def __repr__(self) -> str:
        return f"FsspecStore({self.full('')!r})"

    def _p(self, path: str) -> str:
        check_relative(path)
        return f"{self.root}/{path}" if path and self.root else path or self.root

    def _writable(self, path: str) -> str:
        if self.read_only:
            raise ReadOnlyError(
                f"cannot write {self.full(path)}: {self.protocol}:// stores are read-only; "
                "copy the database elsewhere to change it"
            )
        return self._p(path)

    def full(self, path: str) -> str:
        sep = "" if self.url.endswith("/") else "/"
        return (f"{self.url}{sep}{path}" if path else self.url) + self._chain

    @property
    def max_path_bytes(self) -> int:
        if self.protocol in ("s3", "s3a"):
            return _S3_KEY_BYTES - len(self.root.partition("/")[2].encode()) - 1
        return super().max_path_bytes

    def read_bytes(self, path: str) -> bytes:
        try:
            return self.fs.cat_file(self._p(path))
        except (IsADirectoryError, NotADirectoryError) as e:
            raise FileNotFoundError(self.full(path)) from e

    def read_range(self, path: str, start: int, stop: int | None = None) -> bytes:
        try:
            return self.fs.cat_file(self._p(path), start=start, end=stop)
        except (IsADirectoryError, NotADirectoryError) as e:
            raise FileNotFoundError(self.full(path)) from e

    def read_with_stat(self, path: str) -> tuple[bytes, os.stat_result | None]:
        archive = self._chain[2:]
        if self.protocol != "zip" or "://" in archive:
            return self.read_bytes(path), None
        # the member is read from the archive file that was checked, never reopened
        try:
            fd = os.open(archive, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise UnsafePathError(
                    f"{archive} is a symbolic link; open the archive by its own path"
                ) from None
            raise
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            try:
                with zipfile.ZipFile(f) as z:
                    return z.read(self._p(path)), st
            except KeyError:
                raise FileNotFoundError(self.full(path)) from None

    def read_many(self, paths: list[str]) -> dict[str, bytes]:
        # one call: asynchronous file systems (s3fs, gcsfs) send the requests at once
        if len(paths) < 2:
            return super().read_many(paths)
        fulls = [self._p(p) for p in paths]
        got = self.fs.cat(fulls, on_error="return")
        out = {}
        for path, full in zip(paths, fulls, strict=True):
            data = got.get(full)
            if data is None:  # keyed otherwise by this file system: read it alone
                data = self.read_bytes(path)
            elif isinstance(data, BaseException):
                raise data
            out[path] = data
        return out

    def write_bytes(self, path: str, data: bytes) -> None:
        self.fs.pipe_file(self._writable(path), data)

    def write_atomic(self, path: str, data: bytes) -> None:
        # a single PUT replaces an object atomically on object stores
        self.fs.pipe_file(self._writable(path), data)

    def create_exclusive(self, path: str, data: bytes) -> bool:
        full = self._writable(path)
        if self.protocol in ("s3", "s3a"):  # S3 conditional write: If-None-Match
            try:
                self.fs.pipe_file(full, data, mode="create")
                return True
            except (FileExistsError, OSError) as e:
                if not ("PreconditionFailed" in repr(e) or isinstance(e, FileExistsError)):
                    raise
            # a PUT whose response was lost and was retried fails on its own object
            return self._holds(path, data)
        if self.protocol == "memory":
            with _memory_lock:
                if self.fs.exists(full):
                    return False
                self.fs.pipe_file(full, data)
                return True
        if self.fs.exists(full):
            return False
        self.fs.pipe_file(full, data)
        return True

    def _holds(self, path: str, data: bytes) -> bool:
        try:
            return self.read_bytes(path) == data
        except FileNotFoundError:
            return False

    def _refresh(self, path: str) -> None:
        self.fs.invalidate_cache(path)

    def exists(self, path: str) -> bool:
        full = self._p(path)
        self._refresh(full)
        return self.fs.exists(full)

    def is_dir(self, path: str) -> bool:
        full = self._p(path)
        self._refresh(full)
        return self.fs.isdir(full)

    def list_dir(self, path: str) -> list[str]:
        full = self._p(path)
        try:
            entries = self.fs.ls(full, detail=False, refresh=True)
        except (FileNotFoundError, NotADirectoryError):
            return []
        # some file systems list a folder itself among its children
        return [posixpath.basename(e.rstrip("/")) for e in entries if e.rstrip("/") != full]

    def remove(self, path: str) -> None:
        full = self._writable(path)
        self._refresh(full)
        try:
            if self.fs.isdir(full):
                self.fs.rm(full, recursive=True)
            else:
                self.fs.rm_file(full)
        except FileNotFoundError:
            pass

    def remove_file(self, path: str) -> None:
        try:
            self.fs.rm_file(self._writable(path))
        except FileNotFoundError:
            pass

    def rename(self, src: str, dst: str) -> None:
        # no rename on object stores: copy, then delete the source pointer first, so the
        # node is never visible half-copied or half-deleted
        self.copy(src, dst)
        self.remove_file(f"{src}/zarr.json")
        self.remove(src)

    def copy(self, src: str, dst: str) -> None:
        self._writable(dst)
        if self.exists(dst):
            raise FileExistsError(self.full(dst))
        full_src, full_dst = self._p(src), self._p(dst)
        self._refresh(full_src)
        files = self.fs.find(full_src)
        if not files:
            raise FileNotFoundError(self.full(src))
        pointer = f"{full_src}/zarr.json"
        files.sort(key=lambda f: f == pointer)  # the top pointer last
        for f in files:
            self.fs.cp_file(f, full_dst + f[len(full_src) :])

    def size(self, path: str) -> int:
        full = self._p(path)
        self._refresh(full)
        try:
            return int(self.fs.du(full, total=True))
        except FileNotFoundError:
            return 0

    def mtime(self, path: str) -> float:
        full = self._p(path)
        self._refresh(full)
        info = self.fs.info(full)
        for field in ("mtime", "LastModified", "created"):
            value = info.get(field)
            if value is not None:
                return value if isinstance(value, int | float) else value.timestamp()
        if "date_time" in info:  # a zip member: local time, as zip stores it
            return datetime(*info["date_time"]).timestamp()
        raise FileNotFoundError(full)

    def files(self, path: str) -> list[str]:
        full = self._p(path)
        self._refresh(full)
        start = len(self.root) + 1 if self.root else 0
        return sorted(f[start:] for f in self.fs.find(full))

    def zarr_store(self, path: str) -> Any:
        import zarr.storage

        options = None if self.read_only else self.storage_options
        return zarr.storage.FsspecStore.from_url(
            self.full(path), storage_options=options, read_only=self.read_only
        )
