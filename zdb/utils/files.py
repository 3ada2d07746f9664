"""Helpers on files and folders with ISF's names: temporary folders (:class:`mkdtemp`),
finding one entry by its name's start or end, deleting in the background, telling a
database folder (:func:`is_db`) and waiting for a key to go."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import string
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from ..database import is_data_base
from ..exceptions import InvalidArgumentError

logger = logging.getLogger(__name__)


class mkdtemp:  # noqa: N801 (ISF's name)
    """``with mkdtemp() as path:`` a new temporary folder, removed with what it holds
    when the block is left (already removed is fine). Keywords go to
    :func:`tempfile.mkdtemp` (``suffix``, ``prefix``, ``dir``)."""

    def __init__(self, **kwargs: Any) -> None:
        self._kwargs = kwargs

    def __enter__(self) -> str:
        self.tempdir = tempfile.mkdtemp(**self._kwargs)
        return self.tempdir

    def __exit__(self, *exc: Any) -> None:
        if os.path.lexists(self.tempdir):
            shutil.rmtree(self.tempdir)


def _only_entry(path: str | os.PathLike, matches: Any, what: str) -> str:
    found = sorted(p for p in os.listdir(path) if matches(p))
    if len(found) != 1:
        raise InvalidArgumentError(
            f"{os.fspath(path)} holds {len(found)} entries whose name {what} "
            f"{found[:10] if found else ''}; exactly one is needed"
        )
    return os.path.join(path, found[0])


def get_file_or_folder_that_startswith(path: str | os.PathLike, startswith: str) -> str:
    """The path of the one entry of folder ``path`` whose name starts with
    ``startswith``; none or several raise, naming them."""
    return _only_entry(path, lambda p: p.startswith(startswith), f"starts with {startswith!r}")


def get_file_or_folder_that_endswith(path: str | os.PathLike, endswith: str) -> str:
    """The path of the one entry of folder ``path`` whose name ends with ``endswith``;
    none or several raise, naming them."""
    return _only_entry(path, lambda p: p.endswith(endswith), f"ends with {endswith!r}")


def rename_for_deletion(key: str | os.PathLike) -> Path:
    """Rename ``key`` (a file or folder) to ``<key>.deleting.<5 random characters>``
    beside it, at once, so that it is gone under its name before it is removed;
    returns the new path."""
    key = Path(key)
    alphabet = string.ascii_uppercase + string.digits
    while True:
        suffix = "".join(secrets.choice(alphabet) for _ in range(5))
        target = key.with_name(f"{key.name}.deleting.{suffix}")
        if not os.path.lexists(target):
            break
    key.rename(target)
    return target


def delete_in_background(key: str | os.PathLike) -> threading.Thread | None:
    """Remove the folder (or file) ``key``: it is renamed away at once
    (:func:`rename_for_deletion`) and removed by a thread, which is returned (``join()``
    it to wait; ISF's returned None). A missing ``key`` logs a warning and returns None,
    as in ISF. A symbolic link is removed itself, never what it points to."""
    key = Path(key)
    if not os.path.lexists(key):
        logger.warning("Cannot delete %s: it does not exist", key)
        return None
    doomed = rename_for_deletion(key)

    def remove() -> None:
        if doomed.is_dir() and not doomed.is_symlink():
            shutil.rmtree(doomed)  # an error here reaches threading.excepthook
        else:
            doomed.unlink()

    thread = threading.Thread(target=remove, name=f"zdb-delete-{key.name}")
    thread.start()
    return thread


def is_db(dir_to_data: str | os.PathLike) -> bool:
    """True if the folder ``dir_to_data`` holds a database (a sub-database counts),
    False for any other folder or path: :func:`zdb.is_data_base`."""
    return is_data_base(dir_to_data)


def wait_until_key_removed(db: Any, key: Any, delay: float = 5) -> None:
    """Return once ``key`` is not in ``db``, checking every ``delay`` seconds (ISF
    always waited 5) and printing when it starts and stops waiting, as ISF did."""
    waited = False
    while key in db:
        if not waited:
            print(
                f"waiting till key {key} is removed from the database. "
                f"I will check every {delay} seconds."
            )
            waited = True
        time.sleep(delay)
    if waited:
        print(f"Key {key} has been removed. Continuing.")
