"""A database on a local or cluster file system: plain files and folders.

It uses ``os`` directly instead of fsspec or zarr's store classes: a write or read of
a small key is a handful of tiny file operations, and those layers cost several times
the operations themselves. POSIX gives it an atomic ``rename`` (a whole folder moves
at once) and an atomic exclusive create (``link`` fails when the target exists).

A database folder is untrusted: it may hold symbolic links planted to lead zdb
elsewhere (``.zdb/trash -> ~``). This store never follows a link below its root: files
are opened with ``O_NOFOLLOW``, and every folder on the way to a path is checked with
``lstat`` once per process (:meth:`LocalStore._check_folders`); a link found raises
:class:`UnsafePathError`. Removing a link removes the link, never what it points to.
"""

from __future__ import annotations

import errno
import functools
import os
import secrets
import shutil
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..exceptions import UnsafePathError
from .base import Store, check_relative

_READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW | os.O_CLOEXEC
#: folders known to be real folders (no link) are remembered up to this many
_MAX_CHECKED = 200_000


class LocalStore(Store):
    """A folder on a local or cluster file system."""

    atomic_rename = True
    atomic_create = True
    cheap_listing = True
    remote = False

    def __init__(self, root: str | os.PathLike, read_only: bool = False) -> None:
        self.root = os.path.abspath(os.fspath(root))
        self.read_only = read_only
        #: relative paths of folders checked to be real folders, not links, and the
        #: checked folders below each (to forget a whole tree when it is removed)
        self._checked: set[str] = set()
        self._below: dict[str, set[str]] = {}

    def __repr__(self) -> str:
        return f"LocalStore({self.root!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LocalStore) and other.root == self.root

    def __hash__(self) -> int:
        return hash(self.root)

    def __getstate__(self) -> dict[str, Any]:
        return {"root": self.root, "read_only": self.read_only}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["root"], state["read_only"])  # type: ignore[misc]

    def full(self, path: str) -> str:
        return f"{self.root}/{path}" if path else self.root

    def local_path(self, path: str) -> str:
        self._check_folders(path, itself=True)
        return self.full(path)

    @functools.cached_property
    def max_path_bytes(self) -> int:
        try:
            limit = os.pathconf(self.root if os.path.exists(self.root) else "/", "PC_PATH_MAX")
        except (OSError, ValueError):
            limit = 4096
        return limit - len(os.fsencode(self.root)) - 2

    # -- links -----------------------------------------------------------------------

    def _check_folders(self, path: str, itself: bool = False) -> str:
        """The full path of ``path`` after checking that no folder on the way to it (and
        with ``itself``, ``path`` too) is a symbolic link; UnsafePathError if one is."""
        check_relative(path)
        parent = path.rpartition("/")[0]
        if parent and parent not in self._checked:
            self._check_folder(parent)
        if itself and path:
            self._check_folder(path)
        return self.full(path)

    def _check_folder(self, rel: str) -> None:
        if rel in self._checked:
            return
        parent = rel.rpartition("/")[0]
        if parent:
            self._check_folder(parent)
        full = self.full(rel)
        try:
            mode = os.lstat(full).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return  # nothing there: nothing to follow
        if stat.S_ISLNK(mode):
            raise self._unsafe(full)
        if stat.S_ISDIR(mode):
            self._remember(rel, parent)

    def _remember(self, rel: str, parent: str) -> None:
        """Note that ``rel`` (below ``parent``) is a real folder, not a link."""
        if len(self._checked) >= _MAX_CHECKED:
            self._checked.clear()
            self._below.clear()
        self._checked.add(rel)
        self._below.setdefault(parent, set()).add(rel)

    def _unsafe(self, full: str) -> UnsafePathError:
        return UnsafePathError(
            f"{full} is a symbolic link inside the database {self.root}; zdb never follows "
            "links in a database (it may be damaged or hostile): remove the link, or put "
            "the data it points to in its place"
        )

    def _forget(self, path: str) -> None:
        """Drop the checks of ``path`` and of the folders below it (it is being removed or
        moved: whatever appears there later is checked again)."""
        self._below.get(path.rpartition("/")[0], set()).discard(path)
        stack = [path]
        while stack:
            rel = stack.pop()
            self._checked.discard(rel)
            stack.extend(self._below.pop(rel, ()))

    def _open(self, path: str, flags: int) -> int:
        full = self._check_folders(path)
        try:
            return os.open(full, flags, 0o666)
        except NotADirectoryError:  # a parent is a file: there is no such file
            raise FileNotFoundError(errno.ENOENT, "No such file", full) from None
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise self._unsafe(full) from None
            raise

    # -- reading ---------------------------------------------------------------------

    def read_bytes(self, path: str) -> bytes:
        return self.read_with_stat(path)[0]

    @contextmanager
    def _reading(self, path: str) -> Iterator[int]:
        """The file ``path`` open for reading: not a link itself (``O_NOFOLLOW``), and no
        link on the way to it."""
        check_relative(path)
        full = self.full(path)
        try:
            fd = os.open(full, _READ_FLAGS)
        except NotADirectoryError:  # a parent is a file: there is no such file
            raise FileNotFoundError(errno.ENOENT, "No such file", full) from None
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise self._unsafe(full) from None
            raise
        try:
            # checked once the file is found: reading a missing key costs no lstat
            self._check_folders(path)
            yield fd
        finally:
            os.close(fd)

    def read_with_stat(self, path: str) -> tuple[bytes, os.stat_result]:
        with self._reading(path) as fd:
            return read_fd(fd)

    def read_range(self, path: str, start: int, stop: int | None = None) -> bytes:
        with self._reading(path) as fd:
            first, last, _ = slice(start, stop).indices(os.fstat(fd).st_size)
            out = []
            while first < last:
                got = os.pread(fd, last - first, first)
                if not got:
                    break
                out.append(got)
                first += len(got)
            return b"".join(out)

    def exists(self, path: str) -> bool:
        return os.path.lexists(self._check_folders(path))

    def is_dir(self, path: str) -> bool:
        try:
            return stat.S_ISDIR(os.lstat(self._check_folders(path)).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            return False

    def list_dir(self, path: str) -> list[str]:
        full = self._check_folders(path, itself=True)
        names = []
        try:
            with os.scandir(full) as entries:
                for entry in entries:
                    names.append(entry.name)
                    # the listing says for free which children are real folders
                    if entry.is_dir(follow_symlinks=False):
                        self._remember(f"{path}/{entry.name}" if path else entry.name, path)
        except (FileNotFoundError, NotADirectoryError):
            return []
        return names

    def children_with(self, path: str, name: str, skip: str = ".") -> list[str]:
        # one lstat per child, relative to the open folder: listing a database's keys
        # costs about what listing its folder does
        full = self._check_folders(path, itself=True)
        flags = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
        if path:  # the root itself may be a link (~/results -> /scratch/results)
            flags |= os.O_NOFOLLOW
        try:
            fd = os.open(full, flags)
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise self._unsafe(full) from None
            raise
        out = []
        try:
            with os.scandir(fd) as entries:
                for entry in entries:
                    child = entry.name
                    if child.startswith(skip):
                        continue
                    if entry.is_symlink():  # as any path through it would
                        raise self._unsafe(f"{full}/{child}")
                    if not entry.is_dir(follow_symlinks=False):
                        continue
                    self._remember(f"{path}/{child}" if path else child, path)
                    try:
                        os.stat(f"{child}/{name}", dir_fd=fd, follow_symlinks=False)
                    except (FileNotFoundError, NotADirectoryError):
                        continue
                    out.append(child)
        finally:
            os.close(fd)
        return out

    def size(self, path: str) -> int:
        full = self._check_folders(path)
        try:
            mode = os.lstat(full).st_mode
        except FileNotFoundError:
            return 0
        if not stat.S_ISDIR(mode):
            return os.lstat(full).st_size
        total = 0
        for dirpath, _, files in os.walk(full):  # os.walk follows no links
            for name in files:
                try:
                    total += os.lstat(os.path.join(dirpath, name)).st_size
                except FileNotFoundError:
                    pass
        return total

    def mtime(self, path: str) -> float:
        return os.lstat(self._check_folders(path)).st_mtime

    def files(self, path: str) -> list[str]:
        out: list[str] = []
        for dirpath, folders, names in os.walk(self._check_folders(path, itself=True)):
            rel = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
            links = [f for f in folders if os.path.islink(os.path.join(dirpath, f))]
            out.extend(name if rel == "." else f"{rel}/{name}" for name in names + links)
        return sorted(out)

    def read_link(self, path: str) -> str | None:
        full = self._check_folders(path)
        try:
            return os.readlink(full)
        except (OSError, ValueError):  # no link, or nothing there
            return None

    # -- writing ---------------------------------------------------------------------

    def write_bytes(self, path: str, data: bytes) -> None:
        try:
            fd = self._open(path, _WRITE_FLAGS)
        except FileNotFoundError:
            # the folders on the way were checked by _open as far as they existed; the
            # ones created now are real folders (one made meanwhile by another process
            # is checked when the file is opened)
            folder = os.path.dirname(self.full(path))
            made = True
            try:
                os.mkdir(folder)  # the usual case: a new key's or version's own folder
            except FileExistsError:
                made = False
            except FileNotFoundError:
                os.makedirs(folder, exist_ok=True)
            parent = path.rpartition("/")[0]
            if parent and made:
                self._remember(parent, parent.rpartition("/")[0])
            fd = self._open(path, _WRITE_FLAGS)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)

    def write_atomic(self, path: str, data: bytes) -> None:
        # rename() over an existing file is atomic on POSIX file systems, and replaces a
        # link at the target rather than following it
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

    def remove(self, path: str) -> None:
        full = self._check_folders(path)
        self._forget(path)
        try:
            mode = os.lstat(full).st_mode
        except (FileNotFoundError, NotADirectoryError):
            return
        if stat.S_ISDIR(mode):
            _rmtree(full)  # removes links inside, never what they point to
        else:
            try:
                os.remove(full)
            except FileNotFoundError:
                pass

    def remove_empty_folder(self, path: str) -> None:
        full = self._check_folders(path)
        self._forget(path)
        try:
            os.rmdir(full)
        except OSError:  # not empty (another writer is using it), gone, or a link
            pass

    def rename(self, src: str, dst: str) -> None:
        full_src = self._check_folders(src)
        full_dst = self._check_folders(dst)
        os.makedirs(os.path.dirname(full_dst), exist_ok=True)
        if os.path.lexists(full_dst):
            raise FileExistsError(full_dst)
        self._forget(src)
        os.rename(full_src, full_dst)

    def copy(self, src: str, dst: str) -> None:
        full_src = self._check_folders(src)
        full_dst = self._check_folders(dst)
        if os.path.lexists(full_dst):
            raise FileExistsError(full_dst)
        mode = os.lstat(full_src).st_mode
        if stat.S_ISLNK(mode):
            raise self._unsafe(full_src)
        if not stat.S_ISDIR(mode):
            os.makedirs(os.path.dirname(full_dst), exist_ok=True)
            shutil.copyfile(full_src, full_dst, follow_symlinks=False)
            return
        # copy into a temporary name, then rename: the node appears complete at once;
        # links inside are copied as links, never followed
        tmp = f"{dst}.{secrets.token_hex(6)}.tmp"
        shutil.copytree(full_src, self.full(tmp), symlinks=True)
        os.rename(self.full(tmp), full_dst)

    def copy_for_move(self, src: str, dst: str) -> None:
        # hard links: a move into new sub-databases costs a link per file, not a copy
        full_src = self._check_folders(src)
        full_dst = self._check_folders(dst)
        if os.path.lexists(full_dst):
            raise FileExistsError(full_dst)
        mode = os.lstat(full_src).st_mode
        if stat.S_ISLNK(mode):
            raise self._unsafe(full_src)
        if not stat.S_ISDIR(mode):
            os.makedirs(os.path.dirname(full_dst), exist_ok=True)
            _link_or_copy(full_src, full_dst)
            return
        tmp = f"{dst}.{secrets.token_hex(6)}.tmp"
        shutil.copytree(full_src, self.full(tmp), symlinks=True, copy_function=_link_or_copy)
        os.rename(self.full(tmp), full_dst)

    def zarr_store(self, path: str) -> Any:
        from .zarr_local import NoLinkLocalStore  # imports zarr: only when it is needed

        full = self._check_folders(path, itself=True)
        return NoLinkLocalStore(full, read_only=self.read_only)


def read_fd(fd: int) -> tuple[bytes, os.stat_result]:
    """The whole content of the open file ``fd`` and its stat."""
    st = os.fstat(fd)
    data = os.read(fd, st.st_size + 1)  # one call, unless the file grew meanwhile
    if len(data) <= st.st_size:
        return data, st
    parts = [data]
    while chunk := os.read(fd, 1 << 20):
        parts.append(chunk)
    return b"".join(parts), st


def _link_or_copy(src: str, dst: str) -> None:
    """A hard link of ``src`` at ``dst``, or a copy where links are not possible."""
    try:
        os.link(src, dst, follow_symlinks=False)
    except OSError:
        shutil.copy2(src, dst, follow_symlinks=False)


def _ignore_missing(func: Any, path: str, exc: BaseException) -> None:
    # another process removing the same tree at the same time is not an error
    if not isinstance(exc, FileNotFoundError):
        raise exc


def _rmtree(path: str) -> None:
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=_ignore_missing)
    else:
        shutil.rmtree(path, onerror=lambda f, p, info: _ignore_missing(f, p, info[1]))
