"""The errors zdb raises. Every one is a :class:`DataBaseException`, so ``except
DataBaseException`` catches all of them; each message names the key or path and the fix."""

from __future__ import annotations


class DataBaseException(Exception):
    """Base class of every error zdb raises on purpose."""


class NotADataBaseError(DataBaseException):
    """A path holds no zdb database, or holds something else that zdb must not touch."""


class DataBaseKeyError(DataBaseException, KeyError):
    """Base of the errors about a key that are also KeyErrors, so that dict-like code
    (``except KeyError``) handles them."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0]) if self.args else ""


class InvalidKeyError(DataBaseKeyError):
    """A key breaks the key rules of :mod:`zdb.keys`."""


class ReadOnlyError(DataBaseException):
    """A mutation was attempted on a database opened with ``readonly=True``."""


class KeyKindError(DataBaseKeyError):
    """A data key was used as a sub-database, or a sub-database as data (so a key
    below a data key does not exist: a KeyError)."""


class UnknownDumperError(DataBaseException):
    """No dumper has the given name, or it does not accept a given keyword."""


class UnsupportedValueError(DataBaseException):
    """The chosen dumper cannot store this value."""


class InvalidArgumentError(DataBaseException, ValueError):
    """A helper of :mod:`zdb.utils` was given arguments it cannot work with (also a
    ValueError, as ISF's assertions were errors of the arguments)."""


class PickleRefusedError(DataBaseException):
    """Reading a pickled value was refused by the ``allow_pickle`` policy."""


class CorruptKeyError(DataBaseKeyError):
    """A key's stored form cannot be read: damaged, or written by an incompatible tool."""


class KeyChangedError(DataBaseException):
    """A lazy or xarray view of a key was read after a writer replaced the key and
    removed the version the view was opened on: read the key again."""


class FormatVersionError(DataBaseException):
    """The database or key was written in an on-disk format newer than this zdb reads."""


class UnsafePathError(DataBaseException):
    """A path read from a database would lead outside it (``..``, an absolute path, a
    symbolic link): the database is damaged or hostile, and zdb refuses to follow it."""


class StaleRegistryError(DataBaseException, KeyError):
    """The registry's entry for a unique id points to a place that no longer holds that
    database (it was moved or deleted): open it by its path to register it again."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


class StorageError(DataBaseException):
    """The storage under a database refused an operation (permissions, a read-only or
    full file system, a lost connection); the message says what was being done where."""


class ValueTooLargeError(DataBaseException, MemoryError):
    """A value does not fit in memory (or declares a size that does not): read it lazily."""


class ManagedFolderError(DataBaseException, ValueError):
    """A managed folder does not hold what was asked for (``ManagedFolder.get_file``);
    a ValueError too, as in ISF."""


class ModelDataBaseException(DataBaseException):
    """ISF's error of its older ModelDataBase; raised for those databases."""


class ISFDataBaseException(DataBaseException):
    """ISF's error of its ISFDataBase; raised for ISF's own database folders."""


class DataBaseWarning(UserWarning):
    """ISF's warning class, for code that filters or raises it (a UserWarning)."""


class MissingDependencyError(DataBaseException, ImportError):
    """A value needs a package that cannot be imported here (a live ISF Cell without
    ISF's ``single_cell_parser``, a table without pandas, a plot without matplotlib);
    the message names it."""


def unreadable_here(label: str, exc: MemoryError | ImportError) -> DataBaseException:
    """The error for a value that this process cannot read, though it is not damaged:
    it does not fit in memory, or it needs a module that is not installed."""
    if isinstance(exc, MemoryError):
        return ValueTooLargeError(
            f"{label} does not fit in memory ({type(exc).__name__}: {exc}); read it lazily, "
            "with db.get(key, lazy=True), and compute on parts of it"
        )
    return MissingDependencyError(
        f"{label} cannot be read here: it needs the module {exc.name or str(exc)!r}, which "
        f"cannot be imported ({exc}); install it"
    )
