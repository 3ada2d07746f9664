"""ISF's own classes in pickles, read without ISF: an unpickler that gives zdb's objects
(or plain data) for the classes ISF's ``cell`` and ``reduced_lda_model`` dumpers
pickled, and marks whatever else it cannot rebuild.

It runs only where zdb's pickle policy already allows the pickle (``allow_pickle``):
it is pickle, with three changes to how names are found:

- ISF's ``ReducedLdaModel`` and ``ReducedLdaModelResult`` (any module ending in
  ``reduced_model.get_kernel``) become :mod:`zdb.objects.reduced_lda_model`'s classes,
  whose attributes are ISF's;
- ISF's parameter sets (``single_cell_parser.parameters.ParameterSet``, and the older
  ``sumatra``/``NeuroTools`` ``NTParameterSet``) become plain dicts;
- functions cloudpickled by value (their byte code is that of the Python that wrote
  them, ISF's 3.8) and classes of modules that are not installed become
  :class:`Unrebuilt` stand-ins that only record their name; :func:`unrebuilt` finds
  them, so that a loader says which part of a value could not be read.

pandas' compatibility unpickler (a private class of pandas) is the base, because
pickles written by pandas 1.x need it; where pandas has none, pickle's own.
"""

from __future__ import annotations

import copyreg
import io
import pickle
from collections.abc import Iterator, Mapping
from typing import Any

try:  # pandas 1.x frames need pandas' own find_class and reduce fixes
    from pandas.compat.pickle_compat import Unpickler as _Base
except ImportError:  # pragma: no cover - every pandas zdb supports has it
    _Base = pickle._Unpickler

#: the parameter-set classes of ISF's cells, read as dicts
PARAMETER_SETS = frozenset(
    {
        ("single_cell_parser.parameters", "ParameterSet"),
        ("single_cell_parser", "ParameterSet"),
        ("sumatra.parameters", "NTParameterSet"),
        ("sumatra.parameters", "ParameterSet"),
        ("NeuroTools.parameters", "ParameterSet"),
    }
)
#: the module ISF's reduced model lives in (``simrun``, older ``simrun2``/``simrun3``)
REDUCED_MODEL_MODULE = "reduced_model.get_kernel"


class Unrebuilt(dict):  # noqa: FURB189 - a dict, so that dict subclasses rebuild too
    """A class or function of the pickle that cannot be rebuilt here: it keeps its
    ``module.name``, the arguments and state it was given, and, as a dict subclass,
    the items of a pickled mapping."""

    isf_name = "?"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()
        self.__dict__["isf_args"] = args

    def __call__(self, *args: Any, **kwargs: Any) -> Unrebuilt:
        """A stand-in function called (cloudpickle rebuilding code): another stand-in."""
        return type(self)(*args)

    def __setstate__(self, state: Any) -> None:
        self.__dict__["isf_state"] = state

    def __reduce__(self) -> Any:
        raise TypeError(f"a stand-in for {self.isf_name} cannot be pickled again")

    def __repr__(self) -> str:
        return f"<{self.isf_name}, not rebuilt>"

    __hash__ = object.__hash__  # type: ignore[assignment]
    __eq__ = object.__eq__


class _ParameterSet(dict):  # noqa: FURB189 - pickled mappings rebuild into dict subclasses
    """An ISF parameter set while unpickling: its items, from the pickled mapping or
    from ISF's ``__getstate__`` (its ``to_dict()``); :func:`plain` makes it a dict."""

    def __setstate__(self, state: Any) -> None:
        if isinstance(state, Mapping) and not self:
            self.update(state)


def _stand_in(module: str, name: str) -> type[Unrebuilt]:
    return type(name, (Unrebuilt,), {"isf_name": f"{module}.{name}", "__module__": __name__})


def _reconstructor(cls: type, base: type, state: Any) -> Any:
    """``copyreg._reconstructor`` (pickle protocols 0 and 1), also for stand-ins."""
    if isinstance(cls, type) and issubclass(cls, dict | Unrebuilt):
        obj = cls.__new__(cls)
        if state is not None and base is dict:
            obj.update(state)
        return obj
    return copyreg._reconstructor(cls, base, state)  # type: ignore[attr-defined]


class ISFUnpickler(_Base):
    """Unpickles ISF's pickles with zdb's objects for ISF's classes (module docstring)."""

    def find_class(self, module: str, name: str) -> Any:
        from ..objects import reduced_lda_model

        if (module, name) == ("copyreg", "_reconstructor"):
            return _reconstructor
        if module.endswith(REDUCED_MODEL_MODULE) and name in (
            "ReducedLdaModel",
            "ReducedLdaModelResult",
        ):
            return getattr(reduced_lda_model, name)
        if (module, name) in PARAMETER_SETS:
            return _ParameterSet
        if module.partition(".")[0] == "cloudpickle":
            # rebuilding a function by value needs the byte code of the Python that wrote it
            return _stand_in(module, name)
        try:
            return super().find_class(module, name)
        except (ImportError, AttributeError):
            return _stand_in(module, name)


def loads(data: bytes) -> Any:
    """The object pickled in ``data``, with zdb's objects for ISF's classes. The caller
    has checked the pickle policy; errors are those of unpickling."""
    return ISFUnpickler(io.BytesIO(data)).load()


def plain(value: Any) -> Any:
    """``value`` with every ISF parameter set turned into a dict, recursively through
    dicts, lists and tuples."""
    if isinstance(value, _ParameterSet) or type(value) is dict:
        return {k: plain(v) for k, v in value.items()}
    if type(value) is list:
        return [plain(v) for v in value]
    if type(value) is tuple:
        return tuple(plain(v) for v in value)
    return value


def unrebuilt(value: Any, where: str = "", depth: int = 0) -> Iterator[tuple[str, str]]:
    """``(where, class name)`` of each stand-in inside ``value``, searching dicts, lists,
    tuples and the attributes of zdb's model objects."""
    if isinstance(value, Unrebuilt):
        yield where or "the value", value.isf_name
        return
    if depth > 50:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield from unrebuilt(v, f"{where}[{k!r}]", depth + 1)
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            yield from unrebuilt(v, f"{where}[{i}]", depth + 1)
    elif type(value).__module__.startswith("zdb.objects"):
        for k, v in vars(value).items():
            yield from unrebuilt(v, f"{where}.{k}", depth + 1)
