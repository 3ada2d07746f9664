"""``reduced_lda_model``: a fitted ISF ``ReducedLdaModel`` as Zarr arrays plus JSON
attributes, read back as a :class:`zdb.objects.reduced_lda_model.ReducedLdaModel`.

The model is recognised by its attributes (``kernel_dict``, ``lda_values``,
``lookup_series``, ``clfs``, ``keys_to_synapse_activation_data``), never by importing
ISF. Its arrays are one-chunk Zarr arrays with dimension names that
``xarray.open_zarr`` reads (``y``, ``lda_values``, the kernels, the lookup series, the
classifiers' fitted arrays); its spike times ``st`` are a table (:mod:`zdb.tables`) in
the child group ``st``; everything else is JSON in the group's attributes (the layout
is in docs/format.md). Nothing is pickled, and the model is only read, never changed.

Classifiers are stored as their class, parameters and fitted attributes; they come
back as scikit-learn ``LinearDiscriminantAnalysis`` objects when scikit-learn is
installed, otherwise as :class:`~zdb.objects.reduced_lda_model.ClassifierRecord`
objects holding the same arrays. ``aggfun`` is stored by its name; ``db_list`` as the
databases' unique ids, opened through the registry on reading where it knows them.
"""

from __future__ import annotations

import json
import re
import sys
import warnings
from typing import Any

import numpy as np

from ... import values, zarr_codec
from ...dumper import Dumper, Target
from ...dumper_registry import register
from ...exceptions import CorruptKeyError, DataBaseException, UnsupportedValueError
from ...format import group_document
from ...objects.reduced_lda_model import ClassifierRecord, ReducedLdaModel
from ...storage import join

#: the version of the layout, in the group's attributes
LAYOUT = 1
ATTR = "reduced_lda_model"
TABLE = "st"
#: what makes a value a reduced model (what ``handles`` looks for)
REQUIRED = ("kernel_dict", "lda_values", "lookup_series", "clfs", "keys_to_synapse_activation_data")
#: attributes kept as JSON values (numbers, flags, the list of keys)
SETTINGS = (
    "keys_to_synapse_activation_data",
    "synapse_activation_window_width",
    "synapse_activation_window_min",
    "synapse_activation_window_max",
    "output_window_min",
    "output_window_max",
    "refractory_period",
    "normalize_group_size",
    "test_size",
    "verbosity",
    "lookup_series_stepsize",
)
#: attributes with a stored form of their own
SPECIAL = frozenset(
    {
        "aggfun",
        "db_list",
        "st",
        "y",
        "spike_before",
        "clfs",
        "kernel_dict",
        "lda_value_dicts",
        "lda_values",
        "lookup_series",
    }
)
LDA_CLASS = "sklearn.discriminant_analysis.LinearDiscriminantAnalysis"
#: names read from disk that become attribute or array names
NAME = re.compile(r"^_?[A-Za-z][A-Za-z0-9_]{0,63}$")
RECORD_FIELDS = frozenset({"class_path", "params", "get_params", "fitted"})
TAG = values.TAG
#: a stack of arrays of more bytes than this is written one chunk per entry (no copy of
#: the stack is made, and each entry reads back on its own); smaller ones as one chunk
PART_BYTES = 2**20


class UnnamedFunctionError(DataBaseException, ValueError):
    """``aggfun`` is a function without a name that finds it (a lambda, a nested
    function, a partial): zdb stores functions by name only. Not an
    UnsupportedValueError, so that the model is not pickled instead."""


# -- JSON with numpy scalars and small arrays ---------------------------------------------
# zdb.values keeps exact builtin types only; a model's numbers are often numpy scalars
# (scikit-learn's scores, pandas' counts) and come back as such.


def encode(value: Any) -> Any:
    """``value`` as JSON: plain values as :mod:`zdb.values` writes them, numpy scalars
    and numeric or str arrays tagged with their dtype and shape. TypeError otherwise."""
    if isinstance(value, np.generic | np.ndarray):
        arr = np.asarray(value)
        if arr.dtype.kind not in "biufU":
            raise TypeError(f"numpy dtype {arr.dtype} is not stored as JSON")
        return {
            TAG: "numpy" if isinstance(value, np.generic) else "ndarray",
            "dtype": arr.dtype.str,
            "shape": list(arr.shape),
            "data": encode(arr.ravel().tolist()),
        }
    t = type(value)
    if t is list:
        return [encode(v) for v in value]
    if t is tuple:
        return {TAG: "tuple", "items": [encode(v) for v in value]}
    if t is dict:
        if all(type(k) is str for k in value) and TAG not in value:
            return {k: encode(v) for k, v in value.items()}
        return {TAG: "dict", "items": [[encode(k), encode(v)] for k, v in value.items()]}
    return values.encode(value)


def decode(data: Any) -> Any:
    """Invert :func:`encode`; ValueError, TypeError or KeyError for what it never writes."""
    if type(data) is list:
        return [decode(v) for v in data]
    if type(data) is not dict:
        if type(data) not in (str, int, float, bool, type(None)):
            raise TypeError(f"a {type(data).__name__}")
        return data
    tag = data.get(TAG)
    if tag is None:
        return {k: decode(v) for k, v in data.items()}
    if tag in ("numpy", "ndarray"):
        dtype = np.dtype(str(data["dtype"]))
        if dtype.kind not in "biufU":
            raise ValueError(f"numpy dtype {dtype}")
        shape = tuple(int(n) for n in data["shape"])
        items = decode(data["data"])
        if not isinstance(items, list) or len(items) != int(np.prod(shape)):
            raise ValueError(f"{len(items)} items for shape {shape}")
        arr = np.array(items, dtype=dtype).reshape(shape)
        return arr[()] if tag == "numpy" else arr
    if tag == "tuple":
        return tuple(decode(v) for v in data["items"])
    if tag == "dict":
        return {decode(k): decode(v) for k, v in data["items"]}
    return values.decode(data)


# -- writing --------------------------------------------------------------------------------


def _refuse(name: str, why: str) -> UnsupportedValueError:
    return UnsupportedValueError(f"reduced_lda_model cannot store the model's {name}: {why}")


def _json(name: str, value: Any) -> Any:
    try:
        return encode(value)
    except (TypeError, ValueError) as e:
        raise _refuse(name, f"it holds no JSON value ({e})") from None


def _is_array(value: Any) -> bool:
    """A numpy array that is written as a Zarr array (plain numeric dtype)."""
    return (
        type(value) is np.ndarray
        and zarr_codec.is_numeric(value.dtype)
        and value.dtype.kind != "c"
        and value.dtype.isnative
    )


def _arrays(name: str, arrays: Any, ndim: int) -> list[np.ndarray]:
    """``arrays`` as a list of numeric arrays of ``ndim`` dimensions, one dtype."""
    out = list(arrays)
    if not all(_is_array(a) and a.ndim == ndim for a in out):
        raise _refuse(name, f"its entries must be {ndim}-D numeric numpy arrays")
    if len({a.dtype for a in out}) > 1:
        raise _refuse(name, "its arrays differ in dtype")
    return out


def _offsets(pieces: list[np.ndarray]) -> np.ndarray:
    return np.cumsum([0] + [len(p) for p in pieces]).astype(np.int64)


def _concatenated(pieces: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(pieces) if pieces else np.zeros(0)


def _function_name(aggfun: Any) -> str | None:
    """``module:qualname`` of a named function (one that this name finds)."""
    if aggfun is None:
        return None
    if isinstance(aggfun, str):  # read back where its module was not imported
        if ":" not in aggfun:
            raise _refuse("aggfun", f"the str {aggfun!r} is no function name 'module:qualname'")
        return aggfun
    module = getattr(aggfun, "__module__", None)
    qualname = getattr(aggfun, "__qualname__", None)
    if not isinstance(module, str) or not isinstance(qualname, str) or "<" in qualname:
        raise UnnamedFunctionError(
            f"reduced_lda_model stores the model's aggfun by its name, and {aggfun!r} has "
            "none that finds it (a lambda, a function defined inside another one, a "
            "partial): define it with `def` at the top level of a module and set it again"
        )
    found: Any = sys.modules.get(module)
    for part in qualname.split("."):
        found = getattr(found, part, None)
    if found is not aggfun:
        raise UnnamedFunctionError(
            f"reduced_lda_model stores the model's aggfun by its name, and "
            f"{module}.{qualname} finds another object (the function was redefined): set "
            "the model's aggfun to the function this name finds"
        )
    return f"{module}:{qualname}"


def _database_ids(db_list: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, db in enumerate(db_list):
        if isinstance(db, str):
            out.append({"id": db})
            continue
        unique_id = getattr(db, "unique_id", None)
        if unique_id is None and callable(getattr(db, "get_id", None)):
            unique_id = db.get_id()
        if not isinstance(unique_id, str):
            raise _refuse(f"db_list[{i}]", f"a {type(db).__qualname__} has no unique id")
        out.append({"id": unique_id, "database": True})
    return out


class _Writer:
    """One model's arrays (name -> array, dimension names) and attributes, gathered
    before anything is written: a model that cannot be stored leaves no files."""

    def __init__(self) -> None:
        #: name -> (shape of the stack, its entries, dimension names)
        self.arrays: dict[str, tuple[tuple[int, ...], list[np.ndarray], list[str]]] = {}
        self.attrs: dict[str, Any] = {"layout": LAYOUT}

    def add(self, name: str, arr: np.ndarray, dims: list[str]) -> None:
        """One array, written as one chunk."""
        self.arrays[name] = ((), [arr], dims)

    def stack(
        self, name: str, lead: tuple[int, ...], parts: list[np.ndarray], dims: list[str]
    ) -> None:
        """Equal arrays (in C order of the ``lead`` grid) as the array ``name`` of shape
        ``lead`` + their shape: one chunk when small, else one chunk per entry."""
        if len({(a.shape, a.dtype) for a in parts}) > 1:
            raise _refuse(name, "its arrays differ in shape or dtype")
        if not parts or parts[0].size == 0 or sum(a.nbytes for a in parts) <= PART_BYTES:
            rest = parts[0].shape if parts else (0,) * (len(dims) - len(lead))
            whole = np.stack(parts).reshape(lead + rest) if parts else np.zeros(lead + rest)
            self.add(name, whole, dims)
        else:
            self.arrays[name] = (lead, parts, dims)

    def models(self, value: Any) -> None:
        """kernel_dict, lda_value_dicts, lda_values and lookup_series."""
        import pandas as pd

        kernels = list(value.kernel_dict)
        if not all(isinstance(k, dict) for k in kernels):
            raise _refuse("kernel_dict", "it must be a list of dicts {synapse group: kernel}")
        groups = list(kernels[0]) if kernels else []
        if any(list(k) != groups for k in kernels):
            raise _refuse("kernel_dict", "its models differ in their synapse groups")
        self.attrs["groups"] = _json("kernel_dict", groups)
        self.attrs["models"] = len(kernels)
        columns = [_arrays("kernel_dict", [k[g] for k in kernels], 1) for g in groups]
        rows = [_concatenated([k[g] for g in groups]) for k in kernels]
        if len({len(r) for r in rows}) > 1 or len({c[0].dtype for c in columns}) > 1:
            raise _refuse("kernel_dict", "a group's kernels differ in length or dtype")
        self.stack("kernel", (len(rows),), rows, ["model", "kernel_bin"])
        self.add("kernel_offsets", _offsets([c[0] for c in columns]), ["group_edge"])
        lda_values = _arrays("lda_values", value.lda_values, 1)
        if len(lda_values) != len(kernels):
            raise _refuse(
                "lda_values", f"it has {len(lda_values)} entries for {len(kernels)} models"
            )
        self.stack("lda_values", (len(lda_values),), lda_values, ["model", "trial"])
        if hasattr(value, "lda_value_dicts"):
            dicts = list(value.lda_value_dicts)
            if len(dicts) != len(kernels) or any(
                not isinstance(d, dict) or list(d) != groups for d in dicts
            ):
                raise _refuse("lda_value_dicts", "it must hold a dict per model, by synapse group")
            parts = _arrays("lda_value_dicts", [d[g] for d in dicts for g in groups], 1)
            lead = (len(dicts), len(groups))
            self.stack("lda_value_dicts", lead, parts, ["model", "group", "trial"])
        series = list(value.lookup_series)
        if len(series) != len(kernels) or not all(isinstance(s, pd.Series) for s in series):
            raise _refuse("lookup_series", "it must hold a pandas Series per model")
        p = _arrays("lookup_series", [s.to_numpy() for s in series], 1)
        index = _arrays("lookup_series index", [s.index.to_numpy() for s in series], 1)
        self.add("lookup_p", _concatenated(p), ["lookup_point"])
        self.add("lookup_index", _concatenated(index), ["lookup_point"])
        self.add("lookup_offsets", _offsets(p), ["model_edge"])
        names = [[s.name, s.index.name] for s in series]
        self.attrs["lookup_names"] = _json("lookup_series names", names)

    def classifiers(self, clfs: list[Any]) -> dict[str, Any]:
        """Each classifier's class, parameters and fitted attributes that are no arrays;
        each fitted array stacked over the classifiers as ``classifier_<name>``."""
        out: dict[str, Any] = {"class_path": [], "params": [], "values": [], "order": []}
        arrays: dict[str, list[np.ndarray]] = {}
        for i, clf in enumerate(clfs):
            where = f"clfs['classifier_'][{i}]"
            if not callable(getattr(clf, "get_params", None)):
                raise _refuse(where, f"a {type(clf).__qualname__} is no scikit-learn classifier")
            params = clf.get_params(deep=False)
            if isinstance(clf, ClassifierRecord):
                cls, fitted = clf.class_path, clf.fitted()
            else:
                cls = f"{type(clf).__module__}.{type(clf).__qualname__}"
                fitted = {k: v for k, v in vars(clf).items() if k not in params}
            kept = {}
            for name, v in fitted.items():
                if not NAME.match(name) or name in RECORD_FIELDS:
                    raise _refuse(f"{where}.{name}", "its name is no plain identifier")
                if _is_array(v):
                    arrays.setdefault(name, []).append(v)
                else:
                    kept[name] = _json(f"{where}.{name}", v)
            out["class_path"].append(cls)
            out["params"].append(_json(f"{where} parameters", params))
            out["values"].append(kept)
            out["order"].append(list(fitted))
        for name, arrs in arrays.items():
            where = f"clfs['classifier_'] {name}"
            if len(arrs) != len(clfs):
                raise _refuse(where, "not every classifier has it as a numeric array")
            arrs = _arrays(where, arrs, arrs[0].ndim)
            dims = ["classifier", *(f"{name.strip('_')}_{d}" for d in range(arrs[0].ndim))]
            self.stack(f"classifier_{name}", (len(arrs),), arrs, dims)
        out["arrays"] = list(arrays)
        return out

    def clfs(self, clfs: Any) -> None:
        if not isinstance(clfs, dict) or not all(isinstance(k, str) for k in clfs):
            raise _refuse("clfs", "it must be a dict with str keys")
        out: dict[str, Any] = {"order": list(clfs), "values": {}}
        for k, v in clfs.items():
            if k == "classifier_":
                out["classifier_"] = self.classifiers(list(v))
            else:
                out["values"][k] = _json(f"clfs[{k!r}]", v)
        self.attrs["clfs"] = out

    def write(self, target: Target, table: Any) -> None:
        """The spike times' table first (it checks its value before writing), then the
        arrays, then the group's ``zarr.json`` with every node's metadata in it."""
        metas: dict[str, Any] = {}
        if table is not None:
            from ...tables import zarr_layout

            zarr_layout.write_table(target.store, join(target.path, TABLE), table)
            doc = json.loads(target.store.read_bytes(join(target.path, TABLE, "zarr.json")))
            metas[TABLE] = zarr_codec.group_metadata(doc["attributes"])
            inner = doc.get("consolidated_metadata", {}).get("metadata", {})
            metas.update({f"{TABLE}/{path}": meta for path, meta in inner.items()})
        for name, (lead, parts, dims) in self.arrays.items():
            first = parts[0]
            chunks = (1,) * len(lead) + first.shape
            meta = zarr_codec.array_metadata(
                first.dtype, lead + first.shape, chunks, dimension_names=dims
            )
            level = meta["codecs"][1]["configuration"]["level"]
            for index, part in zip(np.ndindex(*lead), parts, strict=True):
                if part.size:
                    key = zarr_codec.chunk_key(index + (0,) * first.ndim)
                    data = zarr_codec.encode_chunk(part.reshape(chunks), chunks, level)
                    target.store.write_bytes(join(target.path, name, key), data)
            target.store.write_bytes(join(target.path, name, "zarr.json"), zarr_codec.dumps(meta))
            metas[name] = meta
        doc = group_document({ATTR: self.attrs}, consolidated=metas)
        target.store.write_bytes(join(target.path, "zarr.json"), doc)


def _attributes(value: Any) -> list[str]:
    """The model's data attributes, in the order it has them: not its methods (ISF
    keeps cached ``apply_static`` and ``apply_rolling`` on the instance)."""
    names = list(vars(value)) if hasattr(value, "__dict__") else []
    names += [n for n in (*SETTINGS, *sorted(SPECIAL)) if n not in names and hasattr(value, n)]
    return [n for n in names if n == "aggfun" or not callable(getattr(value, n))]


# -- reading --------------------------------------------------------------------------------


class _Reader:
    """The stored model of one version folder, every part checked before it is used."""

    def __init__(self, target: Target) -> None:
        self.target = target
        try:
            doc = json.loads(target.store.read_bytes(join(target.path, "zarr.json")))
        except (ValueError, RecursionError) as e:
            raise self.damaged("zarr.json", f"no JSON ({e})") from None
        self.attrs = self.field(doc, "attributes", dict)
        self.attrs = self.field(self.attrs, ATTR, dict)
        if self.attrs.get("layout") != LAYOUT:
            raise self.damaged("layout", f"{self.attrs.get('layout')!r}, not {LAYOUT}")
        consolidated = self.field(doc, "consolidated_metadata", dict)
        self.metas = self.field(consolidated, "metadata", dict)
        self.models = self.field(self.attrs, "models", int)
        self.groups = self.decoded("groups", list)

    def damaged(self, name: str, why: str) -> CorruptKeyError:
        return CorruptKeyError(
            f"{self.target.key} is damaged: its stored reduced model's {name!r} is {why}; "
            "delete the key and write the model again"
        )

    def field(self, doc: Any, name: str, kind: type | tuple[type, ...]) -> Any:
        value = doc.get(name) if isinstance(doc, dict) else None
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise self.damaged(name, f"a {type(value).__name__}")
        return value

    def decoded(self, name: str, kind: type | None = None, doc: Any = None) -> Any:
        """The decoded JSON value ``name`` of ``doc`` (the model's attributes)."""
        doc = self.attrs if doc is None else doc
        if not isinstance(doc, dict) or name not in doc:
            raise self.damaged(name, "missing")
        return self.value(name, doc[name], kind)

    def value(self, name: str, raw: Any, kind: type | None = None) -> Any:
        """``raw`` decoded, of type ``kind`` when given."""
        try:
            value = decode(raw)
        except (TypeError, ValueError, KeyError, OverflowError) as e:
            raise self.damaged(name, f"no value zdb wrote ({type(e).__name__}: {e})") from None
        if kind is not None and not isinstance(value, kind):
            raise self.damaged(name, f"a {type(value).__name__}, not a {kind.__name__}")
        return value

    def array(self, name: str, dims: list[str], shape: tuple[int | None, ...]) -> np.ndarray:
        """The array ``name``, of dimensions ``dims`` and ``shape`` (None: any size), in
        chunks of 1 along leading dimensions and whole along the others, as written."""
        meta = self.metas.get(name)
        try:
            dtype = zarr_codec.numpy_dtype(meta)
            kind = zarr_codec.chunk_kind(meta)
            stored = tuple(int(n) for n in meta["shape"])
            chunks = zarr_codec.chunk_shape(meta)
        except (KeyError, TypeError, ValueError, AttributeError):
            raise self.damaged(name, "no numeric Zarr array as zdb writes them") from None
        if kind != "bytes" or dtype.kind not in "biuf":
            raise self.damaged(name, "no numeric Zarr array as zdb writes them")
        if meta.get("dimension_names") != dims:
            raise self.damaged(name, f"an array of dimensions {meta.get('dimension_names')}")
        want = tuple(n if n is not None else stored[i] for i, n in enumerate(shape))
        if stored != want or min(want, default=0) < 0:
            raise self.damaged(name, f"of shape {list(stored)}, not {list(want)}")
        full = tuple(max(1, n) for n in stored)
        lead = next((k for k in range(len(full) + 1) if chunks == (1,) * k + full[k:]), None)
        if lead is None:
            raise self.damaged(name, f"in chunks of {list(chunks)}, which zdb does not write")
        out = np.empty(stored, dtype)
        if out.size == 0:
            return out
        for index in np.ndindex(*stored[:lead]):
            key = zarr_codec.chunk_key(index + (0,) * (len(stored) - lead))
            part = out[index]
            try:
                data = zarr_codec.decompress(
                    self.target.store.read_bytes(join(self.target.path, name, key))
                )
            except (ValueError, RuntimeError, TypeError) as e:
                raise self.damaged(name, f"unreadable ({e})") from None
            if len(data) != part.nbytes:
                raise self.damaged(name, f"{len(data)} bytes in a chunk of {part.nbytes}")
            part[...] = np.frombuffer(data, dtype.newbyteorder("<")).reshape(part.shape)
        return out

    def offsets(self, name: str, dim: str, count: int, total: int) -> list[tuple[int, int]]:
        bounds = self.array(name, [dim], (count + 1,))
        if (
            bounds.dtype != np.int64
            or bounds[0] != 0
            or bounds[-1] != total
            or np.any(np.diff(bounds) < 0)
        ):
            raise self.damaged(name, "no offsets of its parts")
        return [(int(a), int(b)) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def _named_function(name: str) -> Any:
    """The function ``module:qualname`` when its module is imported (zdb imports no
    module a database names), else the name."""
    module, _, qualname = name.partition(":")
    found: Any = sys.modules.get(module)
    for part in qualname.split("."):
        if found is None or part.startswith("__"):
            return name
        found = getattr(found, part, None)
    return found if callable(found) else name


def _databases(entries: Any, r: _Reader) -> list[Any]:
    """The databases of ``db_list``: opened through the registry where it knows them,
    their unique ids otherwise."""
    if not isinstance(entries, list):
        raise r.damaged("db_list", "no list")
    out = []
    for entry in entries:
        unique_id = r.field(entry, "id", str)
        out.append(_open(unique_id) if entry.get("database") is True else unique_id)
    return out


def _open(unique_id: str) -> Any:
    from ...data_base_register import get_db_by_unique_id
    from ...exceptions import StaleRegistryError

    try:
        return get_db_by_unique_id(unique_id)
    except StaleRegistryError as e:
        warnings.warn(f"zdb: db_list keeps the unique id {unique_id}: {e}", stacklevel=4)
    except KeyError:
        pass  # a database never opened here: its id is what there is
    except (DataBaseException, OSError) as e:
        warnings.warn(
            f"zdb: db_list keeps the unique id {unique_id}, whose database could not be "
            f"opened: {e}",
            stacklevel=4,
        )
    return unique_id


def _classifier(class_path: str, params: dict[str, Any], fitted: dict[str, Any]) -> Any:
    """A LinearDiscriminantAnalysis with scikit-learn, else a ClassifierRecord."""
    if class_path == LDA_CLASS:
        try:
            from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
        except ImportError:
            return ClassifierRecord(class_path, params, fitted)
        try:
            clf = LinearDiscriminantAnalysis(**params)
        except TypeError as e:
            warnings.warn(
                f"zdb: a stored LinearDiscriminantAnalysis has parameters this scikit-learn "
                f"does not take ({e}); it is read as a ClassifierRecord",
                stacklevel=5,
            )
            return ClassifierRecord(class_path, params, fitted)
        for name, value in fitted.items():
            setattr(clf, name, value)
        return clf
    return ClassifierRecord(class_path, params, fitted)


def _read_classifiers(r: _Reader, doc: Any) -> list[Any]:
    paths = r.field(doc, "class_path", list)
    params, kept, arrays, orders = (
        r.field(doc, n, list) for n in ("params", "values", "arrays", "order")
    )
    if not len(paths) == len(params) == len(kept) == len(orders):
        raise r.damaged("clfs", "lists of different lengths")
    if not all(isinstance(n, str) and NAME.match(n) and n not in RECORD_FIELDS for n in arrays):
        raise r.damaged("clfs", "naming arrays with names that are no identifiers")
    stacked = {}
    for name in arrays:
        meta = r.metas.get(f"classifier_{name}")
        ndim = len(meta.get("shape", [])) if isinstance(meta, dict) else 1
        dims = ["classifier", *(f"{name.strip('_')}_{d}" for d in range(ndim - 1))]
        shape = (len(paths), *([None] * (ndim - 1)))
        stacked[name] = r.array(f"classifier_{name}", dims, shape)
    out = []
    for i, path in enumerate(paths):
        p = r.value(f"classifier {i} parameters", params[i], dict)
        values_ = r.value(f"classifier {i} attributes", kept[i], dict)
        if not isinstance(path, str) or not all(isinstance(k, str) for k in p):
            raise r.damaged("clfs", "a classifier without a class or with odd parameters")
        if not all(
            isinstance(k, str) and NAME.match(k) and k not in RECORD_FIELDS for k in values_
        ):
            raise r.damaged("clfs", "naming attributes with names that are no identifiers")
        fitted = {**values_, **{name: arr[i] for name, arr in stacked.items()}}
        if not isinstance(orders[i], list) or sorted(map(str, orders[i])) != sorted(fitted):
            raise r.damaged("clfs", "listing other attributes of a classifier than it stores")
        fitted = {name: fitted[name] for name in orders[i]}
        out.append(_classifier(path, p, fitted))
    return out


def read_model(target: Target) -> ReducedLdaModel:
    """The stored model at ``target`` (see :class:`ReducedLdaModelDumper`)."""
    import pandas as pd

    r = _Reader(target)
    models, groups = r.models, r.groups
    state: dict[str, Any] = {}
    settings = r.field(r.attrs, "settings", dict)
    extra = r.field(r.attrs, "extra", dict)
    kernel = r.array("kernel", ["model", "kernel_bin"], (models, None))
    bounds = r.offsets("kernel_offsets", "group_edge", len(groups), kernel.shape[1])
    lda_values = r.array("lda_values", ["model", "trial"], (models, None))
    names = r.decoded("lookup_names", list)
    p = r.array("lookup_p", ["lookup_point"], (None,))
    index = r.array("lookup_index", ["lookup_point"], (len(p),))
    parts = r.offsets("lookup_offsets", "model_edge", models, len(p))
    if len(names) != models or not all(isinstance(n, list) and len(n) == 2 for n in names):
        raise r.damaged("lookup_names", "no pair of names per model")
    for name in r.field(r.attrs, "attributes", list):
        if not isinstance(name, str) or not NAME.match(name):
            raise r.damaged("attributes", f"naming an attribute {str(name)[:40]!r}")
        if name in SETTINGS:
            state[name] = r.decoded(name, None, settings)
        elif name == "kernel_dict":
            state[name] = [
                {g: row[a:b] for g, (a, b) in zip(groups, bounds, strict=True)} for row in kernel
            ]
        elif name == "lda_values":
            state[name] = list(lda_values)
        elif name == "lda_value_dicts":
            dicts = r.array(name, ["model", "group", "trial"], (models, len(groups), None))
            state[name] = [dict(zip(groups, m, strict=True)) for m in dicts]
        elif name == "lookup_series":
            state[name] = [
                pd.Series(p[a:b], index=pd.Index(index[a:b], name=n[1]), name=n[0])
                for (a, b), n in zip(parts, names, strict=True)
            ]
        elif name in ("y", "spike_before"):
            state[name] = r.array(name, ["trial"], (None,))
        elif name == "st":
            state[name] = _read_table(target, r)
        elif name == "aggfun":
            aggfun = r.attrs.get("aggfun")
            if aggfun is not None and not isinstance(aggfun, str):
                raise r.damaged("aggfun", f"a {type(aggfun).__name__}, not a function name")
            state[name] = None if aggfun is None else _named_function(aggfun)
        elif name == "db_list":
            state[name] = _databases(r.attrs.get("db_list"), r)
        elif name == "clfs":
            state[name] = _read_clfs(r)
        else:
            state[name] = r.decoded(name, None, extra)
    return ReducedLdaModel.from_state(state)


def _read_table(target: Target, r: _Reader) -> Any:
    if r.attrs.get("st") is None:
        return None
    from ...tables import zarr_layout

    return zarr_layout.read_table(target.store, join(target.path, TABLE), guard=target)


def _read_clfs(r: _Reader) -> dict[str, Any]:
    doc = r.field(r.attrs, "clfs", dict)
    order = r.field(doc, "order", list)
    stored = r.field(doc, "values", dict)
    out: dict[str, Any] = {}
    for k in order:
        if not isinstance(k, str):
            raise r.damaged("clfs", f"keyed by a {type(k).__name__}")
        out[k] = (
            _read_classifiers(r, r.field(doc, k, dict))
            if k == "classifier_"
            else r.decoded(k, None, stored)
        )
    return out


class ReducedLdaModelDumper(Dumper):
    name = "reduced_lda_model"
    always_writes = True
    priority = 20

    def handles(self, value: Any) -> bool:
        # asked of every value stored without a dumper, so it never raises
        try:
            if isinstance(value, type) or not all(hasattr(value, a) for a in REQUIRED):
                return False
            return isinstance(value.clfs, dict) and isinstance(value.kernel_dict, list | tuple)
        except Exception:  # an object whose attribute lookup fails is no model
            return False

    def dump(self, value: Any, target: Target) -> dict[str, Any]:
        import pandas as pd

        if not self.handles(value):
            raise UnsupportedValueError(
                f"reduced_lda_model stores ISF ReducedLdaModel-like objects (with {REQUIRED}), "
                f"not a {type(value).__qualname__}"
            )
        w = _Writer()
        names = _attributes(value)
        w.attrs.update(attributes=names, settings={}, extra={})
        w.models(value)
        w.clfs(value.clfs)
        table = None
        for name in names:
            v = getattr(value, name)
            if name in SETTINGS:
                w.attrs["settings"][name] = _json(name, v)
            elif name == "aggfun":
                w.attrs["aggfun"] = _function_name(v)
            elif name == "db_list":
                w.attrs["db_list"] = _database_ids(v)
            elif name in ("y", "spike_before"):
                if not _is_array(v) or v.ndim != 1:
                    raise _refuse(name, "it must be a 1-D numeric numpy array")
                w.add(name, v, ["trial"])
            elif name == "st":
                if v is not None and not isinstance(v, pd.DataFrame):
                    raise _refuse("st", "it must be a pandas DataFrame")
                table = v
                w.attrs["st"] = None if v is None else TABLE
            elif name not in SPECIAL:
                w.attrs["extra"][name] = _json(name, v)
        w.write(target, table)
        classifiers = len(value.clfs.get("classifier_", ()))
        return {
            "type": f"{type(value).__module__}.{type(value).__qualname__}",
            "summary": f"{w.attrs['models']} models, {classifiers} classifiers",
        }

    def load(
        self, target: Target, info: dict[str, Any], *, lazy: bool = False, as_xarray: bool = False
    ) -> Any:
        return read_model(target)


dumper = register(ReducedLdaModelDumper())
