"""The storage contract: bytes at relative paths under one root.

A :class:`Store` is all that zdb's commit protocol (:mod:`zdb.commit`) and its dumpers
see of where a database lives. It knows nothing of keys, dumpers or tables. Paths are
relative POSIX paths (``"a/b/zarr.json"``); ``""`` is the root. Backends differ in
what they can do atomically; each says so in its capabilities, and the callers act on
them (see docs/format.md, "Storage operations"):

=================  ==================================================================
``atomic_rename``  :meth:`Store.rename` moves a folder tree in one atomic step (POSIX
                   rename); without it, it copies and then deletes.
``atomic_create``  :meth:`Store.create_exclusive` lets exactly one of several racing
                   writers create a path; without it, two may both believe they did.
``cheap_listing``  :meth:`Store.list_dir` is fast and always current, so a database
                   lists its folder instead of keeping a key index.
``remote``         requests travel over a network: many concurrent requests pay off.
``read_only``      every method that writes raises :class:`ReadOnlyError`.
=================  ==================================================================

and :meth:`Store.local_path`, the path on this machine's file system where there is
one (managed folders, memory-mapped reads).
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from typing import Any, ClassVar

from ..exceptions import UnsafePathError


def join(*parts: str) -> str:
    """Join relative store paths, ignoring empty parts."""
    return "/".join(p for p in parts if p)


def check_relative(path: str) -> str:
    """Return ``path`` if it is a relative store path that stays below the root.

    Every name zdb joins into a path is validated where it is read (see
    :mod:`zdb.format`); this is the last line of defence, cheap enough for every call.
    """
    if path.startswith("/") or "\x00" in path or "\\" in path or _dots(path):
        raise UnsafePathError(
            f"{path!r} would lead outside the database (an absolute path, '..', a NUL or a "
            "backslash); a name read from the database is damaged or hostile"
        )
    return path


def _dots(path: str) -> bool:
    """True if a part of ``path`` is ``.`` or ``..`` (checked cheaply first)."""
    if ".." not in path and "/./" not in f"/{path}/":
        return False
    return any(part in ("..", ".") for part in path.split("/"))


class Store(ABC):
    """Byte storage under one root: a local folder, or an fsspec URL.

    Subclasses implement the abstract methods with the guarantees their docstrings
    state, and set the capability attributes truthfully; ``zdb.testing.StoreTests``
    checks both. Methods raise ``FileNotFoundError`` for a missing file where they
    say so, and :class:`zdb.exceptions.UnsafePathError` for a path that leaves the
    root or passes through a symbolic link.
    """

    #: :meth:`rename` of a folder tree is one atomic step
    atomic_rename: ClassVar[bool] = False
    #: :meth:`create_exclusive` is atomic against other processes and machines
    atomic_create: bool = False
    #: :meth:`list_dir` is cheap and current: databases need no key index
    cheap_listing: ClassVar[bool] = False
    #: requests cross a network; IO should run with many threads
    remote: ClassVar[bool] = False
    #: writing is refused (archives)
    read_only: bool = False

    @abstractmethod
    def full(self, path: str) -> str:
        """The local path or URL of ``path``, for messages, users and other tools."""

    def local_path(self, path: str) -> str | None:
        """The path of ``path`` on this machine's file system, or None when the store
        has none (object stores, archives)."""
        return None

    @property
    def max_path_bytes(self) -> int:
        """The longest relative path, in UTF-8 bytes, that this store can hold."""
        return 1 << 30

    # -- reading ---------------------------------------------------------------------

    @abstractmethod
    def read_bytes(self, path: str) -> bytes:
        """The whole content of the file ``path``.

        Raises
        ------
        FileNotFoundError
            When there is no file at ``path`` (also when a parent is a file).
        IsADirectoryError
            Where the store has folders, when ``path`` is one.
        """

    def read_with_stat(self, path: str) -> tuple[bytes, os.stat_result | None]:
        """The content of the file ``path`` and the ``os.stat`` of the local file it was
        read from (the file itself, or the archive holding it), taken from the same open
        file, so that who owns it and who may write it describe exactly these bytes;
        None for the stat where the bytes come from no local file (object stores).
        Symbolic links are not followed (UnsafePathError)."""
        return self.read_bytes(path), None

    def read_range(self, path: str, start: int, stop: int | None = None) -> bytes:
        """Bytes ``start`` to ``stop`` (None: the end) of the file ``path``; a negative
        ``start`` counts from the end (the last ``-start`` bytes), as in fsspec. Raises
        as :meth:`read_bytes`; stores that can read part of a file override this."""
        return self.read_bytes(path)[start:stop]

    def read_many(self, paths: list[str]) -> dict[str, bytes]:
        """The contents of several files, by path; concurrently where the store gains
        from it. Raises FileNotFoundError when one is missing."""
        return {path: self.read_bytes(path) for path in paths}

    @abstractmethod
    def exists(self, path: str) -> bool:
        """True if a file or a folder (a prefix holding files) exists at ``path``."""

    @abstractmethod
    def is_dir(self, path: str) -> bool:
        """True if ``path`` is a folder (on object stores: a prefix holding files)."""

    @abstractmethod
    def list_dir(self, path: str) -> list[str]:
        """Names of the direct children of the folder ``path``, in no order; ``[]``
        when it does not exist. Never served from a cache: other processes write."""

    def children_with(self, path: str, name: str, skip: str = ".") -> list[str]:
        """Names, in no order, of the folders directly below ``path`` that hold ``name``
        (a database's keys are the folders holding a pointer); children whose name
        starts with ``skip`` are left out unlooked at."""
        return [
            child
            for child in self.list_dir(path)
            if not child.startswith(skip) and self.exists(join(path, child, name))
        ]

    @abstractmethod
    def files(self, path: str) -> list[str]:
        """Paths, relative to the root, of every file below ``path``, sorted; symbolic
        links (to files or folders) are listed as files and not followed."""

    def read_link(self, path: str) -> str | None:
        """The target of the symbolic link ``path``; None when it is no link (object
        stores have none)."""
        return None

    @abstractmethod
    def size(self, path: str) -> int:
        """Bytes of the file ``path``, or of every file below the folder ``path``;
        0 when nothing is there."""

    @abstractmethod
    def mtime(self, path: str) -> float:
        """Modification time, in seconds since the epoch, of a file or folder.
        Raises FileNotFoundError when nothing is there."""

    # -- writing ---------------------------------------------------------------------

    @abstractmethod
    def write_bytes(self, path: str, data: bytes) -> None:
        """Create or replace the file ``path``, creating parent folders. Readers may
        see it half-written: use it only inside a folder no reader looks at yet."""

    @abstractmethod
    def write_atomic(self, path: str, data: bytes) -> None:
        """Create or replace the file ``path`` so that every reader sees either the
        old content (or no file) or the whole new one, never a mix; a writer killed
        half-way leaves the old content. This is the commit of :mod:`zdb.commit`."""

    @abstractmethod
    def create_exclusive(self, path: str, data: bytes) -> bool:
        """Create the file ``path`` with ``data`` unless something is there already.

        Returns True if this call created it (or a retried request of this call did:
        the file holds exactly ``data``), False if the path existed. Readers never see
        the file half-written. Only with :attr:`atomic_create` is it guaranteed that
        of several racing callers exactly one gets True; without it, callers must
        re-read the file and adopt what is there.
        """

    @abstractmethod
    def remove(self, path: str) -> None:
        """Remove the file or the whole folder tree ``path``; nothing happens when it
        does not exist. Symbolic links are removed, never followed."""

    def remove_empty_folder(self, path: str) -> None:  # noqa: B027
        """Remove the folder ``path`` if it is empty; nothing happens otherwise (object
        stores have no empty folders)."""

    def remove_file(self, path: str) -> None:
        """Remove the file ``path``, known not to be a folder (one request fewer than
        :meth:`remove` on object stores); nothing happens when it does not exist."""
        self.remove(path)

    @abstractmethod
    def rename(self, src: str, dst: str) -> None:
        """Move the file or folder tree ``src`` to ``dst``, which must not exist
        (FileExistsError), creating parent folders. Atomic only with
        :attr:`atomic_rename`; otherwise a copy (see :meth:`copy`) and a removal of
        ``src`` whose own ``zarr.json`` goes first. FileNotFoundError when ``src``
        does not exist."""

    @abstractmethod
    def copy(self, src: str, dst: str) -> None:
        """Copy the file or folder tree ``src`` to ``dst``, which must not exist
        (FileExistsError). The folder's own ``zarr.json`` is copied last, so that the
        copy is a Zarr node only once it is complete. FileNotFoundError when ``src``
        does not exist."""

    def copy_for_move(self, src: str, dst: str) -> None:
        """Copy ``src`` to ``dst`` as :meth:`copy` does, for a move that removes ``src``
        afterwards: the copy may share its data with ``src`` (hard links), so neither
        may be changed in place before ``src`` is gone."""
        self.copy(src, dst)

    # -- other tools -----------------------------------------------------------------

    @abstractmethod
    def zarr_store(self, path: str) -> Any:
        """A zarr-python store rooted at ``path``, for dumpers that use zarr's API."""
