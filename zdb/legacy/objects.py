"""Loaders of ISF's dumpers of arbitrary objects and folders: ``to_pickle`` and
``to_cloudpickle`` (``to_pickle_dump``, a pickle), ``to_msgpack`` (``to_pickle_dump``,
plain msgpack), ``just_create_folder`` (the key's folder itself), and the dumpers of
ISF's own classes, ``cell`` and ``reduced_lda_model``, read into zdb's objects of those
kinds (:mod:`zdb.objects.cell`, :mod:`zdb.objects.reduced_lda_model`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from ..exceptions import CorruptKeyError, DataBaseException, UnsupportedValueError
from ..objects import cell as cell_model
from ..storage import join
from . import isf_classes, layout, pickles

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
    """``cell``: ISF pickled its ``cell_to_serializable_object`` dict (sections, synapses,
    parameters, morphology) in a one-element pandas Series in the file ``cell``. It
    comes back as zdb's cell dict, what zdb's own ``cell`` dumper gives (parameters as a
    plain dict). The pickle is read only where the pickle policy allows, with ISF's
    parameter sets read as dicts (:mod:`.isf_classes`)."""
    how.check_pickle(folder, "cell")
    value = _isf_pickle(folder, "cell")
    cell = value.iloc[0] if hasattr(value, "iloc") and len(value) == 1 else None
    cell = isf_classes.plain(cell)
    _refuse_unrebuilt(folder, "the cell", cell)
    if not cell_model.is_cell_dict(cell):
        raise CorruptKeyError(
            f"{folder.label}: its file 'cell' holds no cell as ISF's cell dumper writes it (a "
            "Series of one dict with 'sections', 'tVec' and 'synapses'); it is damaged or "
            "was written by another tool"
        )
    try:
        flat = cell_model.to_arrays(cell)
        desc = cell_model.check_description(flat.description, folder.label)
        arrays = {n: a.data for n, a in flat.arrays.items()}
        return cell_model.from_arrays(arrays, desc, folder.label)
    except UnsupportedValueError as e:
        raise CorruptKeyError(f"{folder.label}: its cell cannot be read as zdb's cell: {e}") from e


def load_reduced_lda_model(folder: KeyFolder, how: Reading) -> Any:
    """``reduced_lda_model``: an ISF database in the key's own folder holding the model
    pickled as ``Rm`` (ISF's class, read as zdb's
    :class:`~zdb.objects.reduced_lda_model.ReducedLdaModel`), its spike times ``st`` and
    its lda values ``lda_value_dicts_<n>``, put back together as ISF's loader does.

    ISF kept memoized ``apply_static``/``apply_rolling`` functions on the model, which
    zdb's methods replace; an ``aggfun`` cloudpickled by value (only fitting uses it)
    becomes None. Any other part that cannot be rebuilt raises, naming it."""
    from ..objects.reduced_lda_model import ReducedLdaModel

    if how.open_database is None or layout.folder_kind(folder.store.full(folder.path)) != (
        layout.KIND_ISF
    ):
        raise DataBaseException(
            f"{folder.label} is an ISF ReducedLdaModel whose folder holds no ISF database "
            f"({layout.DB_STATE}; older ones were written into a ModelDataBase, which zdb "
            "cannot read): read it with ISF and store it again; 'zdb migrate' keeps the key "
            "byte for byte"
        )
    parts = how.open_database(folder.path)
    rm_folder = layout.read_key_folder(folder.store, join(folder.path, "Rm"), folder.label)
    if rm_folder.dumper not in ("to_pickle", "to_cloudpickle"):
        raise CorruptKeyError(
            f"{folder.label}: its model 'Rm' was written by {rm_folder.dumper!r}, not by ISF's "
            "pickle dumpers as ISF's reduced_lda_model dumper does; it is damaged"
        )
    how.check_pickle(rm_folder, "to_pickle_dump")
    model = _isf_pickle(rm_folder, "to_pickle_dump")
    if not isinstance(model, ReducedLdaModel):
        raise CorruptKeyError(
            f"{folder.label}: its 'Rm' holds a {type(model).__qualname__}, not ISF's "
            "ReducedLdaModel; it is damaged or was written by another tool"
        )
    state = vars(model)
    for name in ISF_MEMOIZED:
        state.pop(name, None)
    if isinstance(state.get("aggfun"), isf_classes.Unrebuilt):
        state["aggfun"] = None
    if "clfs" in state:
        state["clfs"] = _classifiers(state["clfs"])
    model.st = parts.get("st", lazy=False)
    model.lda_value_dicts = [
        {k: parts.get(_lda_key(folder, name), lazy=False) for k, name in d.items()}
        for d in _dicts(folder, state.get("lda_value_dicts"))
    ]
    totals: list[Any] = [sum(d.values()) for d in model.lda_value_dicts]
    model.lda_values = totals
    _refuse_unrebuilt(folder, "the model", model)
    return model


#: ISF's memoizing wrappers of methods, kept on the instance (``cache=True``)
ISF_MEMOIZED = ("apply_static", "apply_rolling", "apply_static_param", "apply_rolling_param")
_LDA_KEY = re.compile(r"lda_value_dicts_[0-9]{1,9}")


def _isf_pickle(folder: KeyFolder, name: str) -> Any:
    """The pickle ``name`` of the key (policy checked by the caller), with zdb's
    objects for ISF's classes."""
    data = folder.store.read_bytes(folder.file(name))
    try:
        return isf_classes.loads(data)
    except Exception as e:  # an unpickler raises anything its objects' code raises
        raise pickles.unreadable(data, folder.label, e) from e


def _refuse_unrebuilt(folder: KeyFolder, what: str, value: Any) -> None:
    missing = list(isf_classes.unrebuilt(value))
    if missing:
        parts = "; ".join(f"{where}: {name}" for where, name in missing[:5])
        more = " ..." if len(missing) > 5 else ""
        raise CorruptKeyError(
            f"{folder.label}: parts of {what} cannot be rebuilt here ({parts}{more}): "
            "their classes are not installed, or they are functions pickled by value under "
            "another Python version. Read the key where ISF is installed and store those "
            "parts as plain data; 'zdb migrate' keeps the key byte for byte"
        )


def _dicts(folder: KeyFolder, value: Any) -> list[dict[Any, str]]:
    if not isinstance(value, list) or not all(isinstance(d, dict) for d in value):
        raise CorruptKeyError(
            f"{folder.label}: its model's lda_value_dicts is no list of dicts naming keys; "
            "it is damaged"
        )
    return value


def _lda_key(folder: KeyFolder, name: Any) -> str:
    if not isinstance(name, str) or not _LDA_KEY.fullmatch(name):
        raise CorruptKeyError(
            f"{folder.label}: its model names {str(name)[:60]!r} where ISF writes the key of "
            "an lda value (lda_value_dicts_<n>); it is damaged"
        )
    return name


def _classifiers(value: Any) -> Any:
    """scikit-learn classifiers that could not be rebuilt (scikit-learn is not
    installed) as :class:`~zdb.objects.reduced_lda_model.ClassifierRecord` objects,
    through the model's ``clfs`` dicts and lists."""
    from ..objects.reduced_lda_model import ClassifierRecord

    if isinstance(value, isf_classes.Unrebuilt) and value.isf_name.startswith("sklearn."):
        state = value.__dict__.get("isf_state")
        if isinstance(state, dict) and all(isinstance(k, str) for k in state):
            public = {k: v for k, v in state.items() if not k.startswith("_")}
            params = {k: v for k, v in public.items() if not k.endswith("_")}
            fitted = {k: v for k, v in public.items() if k.endswith("_")}
            return ClassifierRecord(value.isf_name, params, fitted)
        return value
    if isinstance(value, dict) and not isinstance(value, isf_classes.Unrebuilt):
        return {k: _classifiers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_classifiers(v) for v in value]
    return value
