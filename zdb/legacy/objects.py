"""Loaders of ISF's dumpers of arbitrary objects and folders: ``to_pickle`` and
``to_cloudpickle`` (``to_pickle_dump``, a pickle), ``to_msgpack`` (``to_pickle_dump``,
plain msgpack), ``just_create_folder`` (the key's folder itself), and the dumpers of
ISF's own classes, ``cell`` and ``reduced_lda_model``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..exceptions import CorruptKeyError, DataBaseException

if TYPE_CHECKING:
    from .layout import KeyFolder
    from .loaders import Reading


def load_pickle(folder: KeyFolder, how: Reading) -> Any:
    """``to_pickle``, ``to_cloudpickle``: the object pickled in ``to_pickle_dump``."""
    return how.read_pickle(folder, "to_pickle_dump")


def load_msgpack(folder: KeyFolder, how: Reading) -> Any:
    """``to_msgpack``: the plain msgpack object in ``to_pickle_dump`` (strings written as
    raw bytes by older msgpack versions come back as bytes)."""
    import msgpack

    data = folder.store.read_bytes(folder.file("to_pickle_dump"))
    options = {"strict_map_key": False}
    try:
        return msgpack.unpackb(data, raw=False, **options)
    except UnicodeDecodeError:
        return msgpack.unpackb(data, raw=True, **options)
    except Exception as e:  # msgpack's own errors
        raise CorruptKeyError(f"{folder.label}: to_pickle_dump is no msgpack data ({e})") from None


def load_folder(folder: KeyFolder, how: Reading) -> Any:
    """``just_create_folder``: the path of the key's folder, a ``ManagedFolder``."""
    from ..IO.LoaderDumper.just_create_folder import ManagedFolder

    return ManagedFolder(folder.store.local_path(folder.path))


def load_cell(folder: KeyFolder, how: Reading) -> Any:
    """``cell``: ISF pickled the cell as a dict (sections, synapses, parameters, ...) in a
    one-element pandas Series in the file ``cell``. Until zdb has a cell type of its own,
    this returns that dict (when the pickle may be read and needs no ISF class); a
    loader registered with ``zdb.isf_data_base.register_loader("cell", ...)`` replaces
    this one."""
    value = how.read_pickle(folder, "cell")
    try:
        return value.iloc[0]
    except (AttributeError, IndexError):
        raise CorruptKeyError(f"{folder.label}: its file 'cell' holds no pickled cell") from None


def load_reduced_lda_model(folder: KeyFolder, how: Reading) -> Any:
    """``reduced_lda_model``: an ISF database in the key's own folder holding the model
    pickled as ``Rm`` (an ISF class) and its arrays; zdb has no such model type yet."""
    raise DataBaseException(
        f"{folder.label} is an ISF ReducedLdaModel, which zdb cannot build yet: register a "
        "loader with zdb.isf_data_base.register_loader('reduced_lda_model', function) that "
        "builds one from the ISF database in its folder (function(folder, how) gets "
        "how.open_database(folder.path)), or read its parts with "
        f"zdb.isf_data_base.ISFDataBase({folder.store.full(folder.path)!r}); 'zdb migrate' "
        "keeps the key byte for byte"
    )
