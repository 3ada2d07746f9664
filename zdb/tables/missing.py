"""What a table reader does when a file of the table is missing.

zdb writes every chunk of a table's data, index and categories arrays and every
Parquet file, so one found missing means that the version was removed under a reader
(a writer replaced the key after a lazy or xarray view was opened) or that the table
is damaged. The reader's :class:`Guard` (for a key, its ``zdb.dumper.Target``) gives
the error that says which. Auxiliary arrays (masks, missing-value markers, lengths)
leave out chunks holding only their fill value; such a chunk found missing is read as
fill values, unless the guard says the version is gone (then it may have been removed
too, and the values read with it are not one version).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from ..exceptions import KeyChangedError
from ..storage import Store
from .pool import run_jobs


class Guard(Protocol):
    """Gives the error for a file of the table found missing while reading it."""

    def missing(self, exc: BaseException) -> BaseException:
        """:class:`KeyChangedError` when the version read was replaced since the read
        began, else the error for damage (``exc`` itself outside a database)."""
        ...


class RaiseAsIs:
    """The guard of a table read outside a database: FileNotFoundError as it is."""

    def missing(self, exc: BaseException) -> BaseException:
        return exc


AS_IS = RaiseAsIs()


def read_bytes(store: Store, path: str, guard: Guard) -> bytes:
    """The bytes of a file of the table, which must exist."""
    try:
        return store.read_bytes(path)
    except FileNotFoundError as e:
        raise guard.missing(e) from None


def run(jobs: Sequence[Callable[[], Any]], store: Store, guard: Guard) -> None:
    """Run reading jobs on the IO pool; a file found missing raises the guard's error."""
    try:
        run_jobs(jobs, store)
    except FileNotFoundError as e:
        raise guard.missing(e) from None


def check_absent(guard: Guard, absent: Sequence[str]) -> None:
    """After reading: when chunks of auxiliary arrays were ``absent`` (read as fill
    values), raise if the version has been replaced meanwhile."""
    if absent:
        error = guard.missing(FileNotFoundError(f"chunk {absent[0]!r}"))
        if isinstance(error, KeyChangedError):
            raise error
