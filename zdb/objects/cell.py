"""ISF's Cell as arrays and JSON: the model of the ``cell`` dumper, without storage.

An ISF ``single_cell_parser.cell.Cell`` after a simulation is recognised by its
attributes (``sections``, ``tVec``, ``synapses``, ``hoc_path``), never by importing ISF
or NEURON, and turned into the dict of ISF's ``cell_to_serializable_object``::

    {"sections": [{"recVList": [v_seg0, ...], "recordVars": {name: [...] or []},
                   "label": str, "sec_id": int, "parent_id": int or None}, ...],
     "tVec": ndarray, "parameters": dict,
     "synapses": {population: [{"preCell": {"spikeTimes": [...]},
                                "coordinates": ndarray (3,)}, ...]},
     "hoc": str}

:func:`to_arrays` turns that dict (or the live cell, whose geometry it keeps too) into
named arrays of one dtype each, ragged lists as values plus offsets, and a JSON
description; :func:`from_arrays` rebuilds the dict exactly, checking every offset and
index read from disk first. :func:`xarray_view` dresses the stored arrays as a Dataset.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import values
from ..exceptions import CorruptKeyError, UnsupportedValueError

#: version of the description in ``attributes.zdb.cell`` (docs/format.md, ``cell``)
CELL_FORMAT = 1
#: what makes an object a Cell to zdb
CELL_ATTRIBUTES = ("sections", "tVec", "synapses", "hoc_path")
SECTION_KEYS = ("recVList", "recordVars", "label", "sec_id", "parent_id")
SYNAPSE_KEYS = ("preCell", "coordinates")
REQUIRED_KEYS = ("sections", "tVec", "synapses")
#: the morphology file's text, under the name of its format
MORPHOLOGY_KEYS = ("hoc", "swc")
TOP_KEYS = (*REQUIRED_KEYS, "parameters", *MORPHOLOGY_KEYS)
#: a live cell's per-section geometry: ragged lists (with the shape of one item) and
#: one number per section
RAGGED_GEOMETRY: dict[str, tuple[int, ...]] = {
    "pts": (3,),
    "diamList": (),
    "relPts": (),
    "segx": (),
}
SCALAR_GEOMETRY: dict[str, str] = {
    "nseg": "int64",
    "L": "float64",
    "area": "float64",
    "parentx": "float64",
}
#: the arrays of every cell; a range variable's array takes its own name unless it is
#: one of these (ignoring case) or not a plain name
FIXED_ARRAYS = (
    "t",
    "voltage",
    "segment_offsets",
    "section",
    "section_label",
    "section_parent",
    "synapse_coordinates",
    "population_offsets",
    "spike_times",
    "spike_offsets",
    "morphology",
    *RAGGED_GEOMETRY,
    *(f"{name}_offsets" for name in RAGGED_GEOMETRY),
    *SCALAR_GEOMETRY,
)
_RESERVED = frozenset(name.lower() for name in FIXED_ARRAYS)
ARRAY_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.]{0,99}\Z")
#: about this many bytes of float64 per chunk of a (segment, t) array: reading one
#: segment's trace reads one chunk
CHUNK_BYTES = 256 * 1024


@dataclass
class Array:
    """One array to store: its data, dimension names, and the rows of its chunks along
    the first dimension (None: one chunk)."""

    data: np.ndarray
    dims: tuple[str, ...]
    rows: int | None = None


@dataclass
class CellArrays:
    """A cell as named arrays plus the JSON description that ties them together."""

    arrays: dict[str, Array] = field(default_factory=dict)
    description: dict[str, Any] = field(default_factory=dict)


# -- recognising cells ------------------------------------------------------------------


def is_cell_like(value: Any) -> bool:
    """True for an object with a Cell's attributes (not a dict), whose sections are a
    list. Asked of every value stored without a dumper, so it never raises."""
    try:
        if isinstance(value, Mapping) or not all(hasattr(value, a) for a in CELL_ATTRIBUTES):
            return False
        return isinstance(getattr(value, "sections", None), list | tuple)
    except Exception:  # an object whose attribute lookup fails is no Cell
        return False


def is_cell_dict(value: Any) -> bool:
    """True for a dict shaped like ``cell_to_serializable_object``'s: its sections a
    list and its time vector a numpy array (so no plain value is taken for a cell)."""
    return (
        type(value) is dict
        and all(k in value for k in REQUIRED_KEYS)
        and isinstance(value["sections"], list)
        and isinstance(value["tVec"], np.ndarray)
        and isinstance(value["synapses"], dict)
    )


# -- a live cell to ISF's dict ----------------------------------------------------------


def read_local_text(path: str) -> str:
    """The text of a morphology file on this machine; database paths (``mdb://``,
    ``zdb://``, ...) cannot be resolved here."""
    if "://" in str(path):
        raise UnsupportedValueError(
            f"the cell's morphology path {path!r} is a database path; resolve it with "
            "zdb.dbopen.resolve_db_path and set cell.hoc_path to the result before storing"
        )
    with open(os.fspath(path)) as f:
        return f.read()


def serializable(cell: Any, read_text: Callable[[str], str] = read_local_text) -> dict[str, Any]:
    """The dict ISF's ``cell_to_serializable_object(cell)`` returns for a live cell
    (NEURON vectors become float64 arrays, spike times lists of floats)."""
    sections = list(cell.sections)
    by_identity = {id(sec): i for i, sec in enumerate(sections)}
    out: dict[str, Any] = {"sections": [], "tVec": _as_floats(cell.tVec, "cell.tVec")}
    params = getattr(cell, "parameters", None)
    out["parameters"] = plain_parameters({} if params is None else params)
    for i, sec in enumerate(sections):
        where = f"cell.sections[{i}]"
        out["sections"].append(
            {
                "recVList": [_as_floats(v, f"{where}.recVList") for v in sec.recVList],
                "recordVars": {
                    name: [_as_floats(v, f"{where}.recordVars[{name!r}]") for v in vectors]
                    for name, vectors in dict(sec.recordVars).items()
                },
                "label": sec.label,
                "sec_id": i,
                "parent_id": _parent_index(sec, sections, by_identity, where),
            }
        )
    out["synapses"] = {
        population: [
            {
                "preCell": {"spikeTimes": [float(t) for t in syn.preCell.spikeTimes]},
                "coordinates": _as_floats(syn.coordinates, f"synapse of {population!r}"),
            }
            for syn in synapses
        ]
        for population, synapses in dict(cell.synapses).items()
    }
    if cell.hoc_path is not None:
        out["hoc"] = read_text(cell.hoc_path)
    elif getattr(cell, "swc_path", None) is not None:
        out["swc"] = read_text(cell.swc_path)
    return out


def _as_floats(vector: Any, where: str) -> np.ndarray:
    try:
        return np.array(vector, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise UnsupportedValueError(f"{where} is no vector of numbers: {e}") from None


def _parent_index(sec: Any, sections: list, by_identity: dict[int, int], where: str) -> Any:
    parent = getattr(sec, "parent", None)
    if parent is None:
        return None
    if id(parent) in by_identity:
        return by_identity[id(parent)]
    for i, other in enumerate(sections):  # ISF compares with ==
        if other == parent:
            return i
    raise UnsupportedValueError(f"the parent of {where} is not one of the cell's sections")


def plain_parameters(value: Any, where: str = "parameters") -> Any:
    """A parameter set as plain values for JSON: mappings (ISF's ParameterSets) become
    dicts, numpy numbers Python numbers, numpy arrays lists."""
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Mapping):
        return {
            plain_parameters(k, where): plain_parameters(v, f"{where}[{k!r}]")
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        items = [plain_parameters(v, f"{where}[{i}]") for i, v in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, bool | int | float | str):  # subclasses
        return type(value).__mro__[-2](value)
    raise UnsupportedValueError(
        f"{where} is a {type(value).__qualname__}; the cell dumper stores parameters as "
        "JSON (dicts, lists, tuples, str, numbers, None)"
    )


def geometry(cell: Any) -> dict[str, list]:
    """The geometry every section of a live cell has (``pts``, ``diamList``, ``relPts``,
    ``segx``, ``nseg``, ``L``, ``area``, ``parentx``), by attribute."""
    sections = list(cell.sections)
    out: dict[str, list] = {}
    for name, item in RAGGED_GEOMETRY.items():
        if sections and all(hasattr(sec, name) for sec in sections):
            parts = [
                _as_floats(getattr(sec, name), f"cell.sections[{i}].{name}")
                for i, sec in enumerate(sections)
            ]
            if not all(p.size % max(1, len(item)) == 0 and p.ndim <= 1 + len(item) for p in parts):
                raise UnsupportedValueError(
                    f"cell.sections[*].{name} is not a list of {item or 'numbers'}"
                )
            out[name] = [p.reshape(-1, *item) for p in parts]
    for name, dtype in SCALAR_GEOMETRY.items():
        if sections and all(hasattr(sec, name) for sec in sections):
            try:
                out[name] = [np.dtype(dtype).type(getattr(sec, name)) for sec in sections]
            except (TypeError, ValueError) as e:
                raise UnsupportedValueError(f"cell.sections[*].{name} is no number: {e}") from None
    return out


# -- the dict to arrays -----------------------------------------------------------------


def to_arrays(value: Any, read_text: Callable[[str], str] = read_local_text) -> CellArrays:
    """The arrays and description of a cell dict or a live cell; UnsupportedValueError
    (naming the part) for anything that would not come back exactly."""
    if is_cell_like(value):
        cell = serializable(value, read_text)
        geo = geometry(value)
    else:
        cell, geo = value, {}
    if type(cell) is not dict:
        raise UnsupportedValueError(
            f"the cell dumper stores ISF Cells and their serializable dicts, not a "
            f"{type(value).__qualname__}"
        )
    out = CellArrays()
    keys = list(cell)
    unknown = [k for k in keys if k not in TOP_KEYS]
    missing = [k for k in REQUIRED_KEYS if k not in cell]
    if unknown or missing or all(k in cell for k in MORPHOLOGY_KEYS):
        raise UnsupportedValueError(
            f"a cell dict has the keys {list(REQUIRED_KEYS)}, 'parameters' and one of "
            f"{list(MORPHOLOGY_KEYS)}; this one has {keys}"
        )
    if not isinstance(cell["sections"], list) or not isinstance(cell["synapses"], dict):
        raise UnsupportedValueError("a cell's sections are a list and its synapses a dict")
    t = _vector(cell["tVec"], "tVec")
    nt = len(t)
    rows = max(1, CHUNK_BYTES // max(1, 8 * nt))
    desc: dict[str, Any] = {"format": CELL_FORMAT, "keys": keys, "chunk_rows": rows}
    out.arrays["t"] = Array(t, ("t",))
    _sections(cell["sections"], nt, rows, out, desc)
    _synapses(cell["synapses"], out, desc)
    if "parameters" in cell:
        try:
            desc["parameters"] = values.encode(plain_parameters(cell["parameters"]))
        except TypeError as e:
            raise UnsupportedValueError(f"parameters: {e}") from None
    for name in MORPHOLOGY_KEYS:
        if name in cell:
            text = cell[name]
            if type(text) is not str:
                raise UnsupportedValueError(f"{name!r} is a {type(text).__qualname__}, not str")
            try:
                text.encode()
            except UnicodeEncodeError as e:
                raise UnsupportedValueError(f"{name!r} is not valid Unicode text: {e}") from None
            out.arrays["morphology"] = Array(np.array([text], dtype=object), ("morphology_file",))
            desc["morphology"] = name
    _geometry(geo, out, desc)
    out.description = desc
    return out


def _vector(v: Any, where: str, n: int | None = None) -> np.ndarray:
    if not (isinstance(v, np.ndarray) and v.dtype == np.float64 and v.ndim == 1):
        what = f"a {v.dtype} array of shape {v.shape}" if isinstance(v, np.ndarray) else type(v)
        raise UnsupportedValueError(f"{where} is {what}, not a 1-D float64 numpy array")
    if n is not None and len(v) != n:
        raise UnsupportedValueError(f"{where} has {len(v)} values, tVec {n}")
    return v


def _sections(sections: list, nt: int, rows: int, out: CellArrays, desc: dict) -> None:
    traces: list[np.ndarray] = []
    counts, labels, ids, parents = [], [], [], []
    var_names: list[str] = []
    present: list[list[int]] = []  # per section, the range variables of recordVars in order
    recorded: dict[str, list[int]] = {}
    section_keys: list[str] | None = None
    for i, sec in enumerate(sections):
        where = f"sections[{i}]"
        if type(sec) is not dict or set(sec) != set(SECTION_KEYS):
            raise UnsupportedValueError(f"{where} is not a dict with the keys {SECTION_KEYS}")
        if section_keys is None:
            section_keys = list(sec)
        elif list(sec) != section_keys:
            raise UnsupportedValueError(f"{where} has its keys in another order than sections[0]")
        rec = sec["recVList"]
        if not isinstance(rec, list):
            raise UnsupportedValueError(f"{where}['recVList'] is not a list")
        traces.extend(_vector(v, f"{where}['recVList'][{j}]", nt) for j, v in enumerate(rec))
        counts.append(len(rec))
        label, sec_id, parent = sec["label"], sec["sec_id"], sec["parent_id"]
        if type(label) is not str:
            raise UnsupportedValueError(f"{where}['label'] is not a str")
        if not _is_int(sec_id):
            raise UnsupportedValueError(f"{where}['sec_id'] is not an int")
        if parent is not None and not (_is_int(parent) and parent >= 0):
            raise UnsupportedValueError(f"{where}['parent_id'] is neither None nor an int >= 0")
        labels.append(label)
        ids.append(int(sec_id))
        parents.append(-1 if parent is None else int(parent))
        if type(sec["recordVars"]) is not dict:
            raise UnsupportedValueError(f"{where}['recordVars'] is not a dict")
        order = []
        for name, vectors in sec["recordVars"].items():
            if type(name) is not str:
                raise UnsupportedValueError(f"{where}['recordVars'] has a key that is no str")
            if name not in var_names:
                var_names.append(name)
            order.append(var_names.index(name))
            if not isinstance(vectors, list) or len(vectors) not in (0, len(rec)):
                raise UnsupportedValueError(
                    f"{where}['recordVars'][{name!r}] is not a list of one vector per segment "
                    f"({len(rec)}) or []"
                )
            if vectors:
                for j, v in enumerate(vectors):
                    _vector(v, f"{where}['recordVars'][{name!r}][{j}]", nt)
                recorded.setdefault(name, []).append(i)
        present.append(order)
    offsets = _offsets(counts)
    nseg = int(offsets[-1])
    voltage = np.stack(traces) if traces else np.empty((0, nt))
    out.arrays["voltage"] = Array(voltage, ("segment", "t"), rows)
    out.arrays["segment_offsets"] = Array(offsets, ("section_offset",))
    out.arrays["section"] = Array(np.asarray(ids, np.int64), ("section",))
    out.arrays["section_label"] = Array(np.asarray(labels, object), ("section",))
    out.arrays["section_parent"] = Array(np.asarray(parents, np.int64), ("section",))
    desc["section_keys"] = section_keys or list(SECTION_KEYS)
    desc["record_vars"] = present
    desc["range_variables"] = []
    taken = set(_RESERVED)
    for k, name in enumerate(var_names):
        entry: dict[str, Any] = {"name": name, "recorded": recorded.get(name, []), "array": None}
        if entry["recorded"]:
            array = _array_name(name, k, taken)
            data = np.full((nseg, nt), np.nan)
            for i in entry["recorded"]:
                vectors = sections[i]["recordVars"][name]
                if vectors:
                    data[offsets[i] : offsets[i + 1]] = np.stack(vectors)
            out.arrays[array] = Array(data, ("segment", "t"), rows)
            entry["array"] = array
        desc["range_variables"].append(entry)


def _is_int(v: Any) -> bool:
    return (type(v) is int or isinstance(v, np.integer)) and bool(-(2**63) <= v < 2**63)


def _array_name(name: str, k: int, taken: set[str]) -> str:
    """A free array name for range variable ``name`` (its own when it can be)."""
    candidate = name
    if not _range_array(name) or name.lower() in taken:
        candidate = f"range_{k}"
        while candidate.lower() in taken:
            candidate += "_"
    taken.add(candidate.lower())
    return candidate


def _offsets(counts: list[int]) -> np.ndarray:
    out = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out[1:])
    return out


def _synapses(synapses: dict, out: CellArrays, desc: dict) -> None:
    coords: list[np.ndarray] = []
    spikes: list[Any] = []
    per_synapse, per_population, populations = [], [], []
    synapse_keys: tuple | None = None
    for population, items in synapses.items():
        where = f"synapses[{population!r}]"
        if type(population) is not str or not isinstance(items, list):
            raise UnsupportedValueError(f"{where}: populations are str keys of lists")
        populations.append(population)
        per_population.append(len(items))
        for n, syn in enumerate(items):
            if type(syn) is not dict or syn.keys() != _SYNAPSE_KEY_SET:
                raise UnsupportedValueError(f"{where}[{n}] is not a dict of {SYNAPSE_KEYS}")
            if synapse_keys is None:
                synapse_keys = tuple(syn)
            elif tuple(syn) != synapse_keys:
                raise UnsupportedValueError(f"{where}[{n}] has its keys in another order")
            pre, xyz = syn["preCell"], syn["coordinates"]
            if type(pre) is not dict or pre.keys() != {"spikeTimes"}:
                raise UnsupportedValueError(f"{where}[{n}]['preCell'] is not {{'spikeTimes': ...}}")
            times = pre["spikeTimes"]
            if isinstance(times, np.ndarray) and times.ndim == 1 and times.dtype.kind in "fiu":
                times = times.tolist()
            if not isinstance(times, list | tuple):
                raise UnsupportedValueError(f"{where}[{n}]['preCell']['spikeTimes'] is no list")
            if not (isinstance(xyz, np.ndarray) and xyz.shape == (3,) and xyz.dtype.kind in "fiu"):
                raise UnsupportedValueError(f"{where}[{n}]['coordinates'] is no array of 3 numbers")
            coords.append(xyz)
            spikes.extend(times)
            per_synapse.append(len(times))
    kinds = set(map(type, spikes))  # one pass in C over every spike time
    if not all(_is_real_type(k) for k in kinds):
        raise UnsupportedValueError(
            f"spike times must be numbers; the synapses hold {sorted(k.__name__ for k in kinds)}"
        )
    coordinates = np.array(coords, dtype=np.float64) if coords else np.empty((0, 3))
    out.arrays["synapse_coordinates"] = Array(coordinates, ("synapse", "xyz"))
    out.arrays["population_offsets"] = Array(_offsets(per_population), ("population_offset",))
    out.arrays["spike_times"] = Array(np.array(spikes, dtype=np.float64), ("spike",))
    out.arrays["spike_offsets"] = Array(_offsets(per_synapse), ("synapse_offset",))
    desc["populations"] = populations
    desc["synapse_keys"] = list(synapse_keys or SYNAPSE_KEYS)


_SYNAPSE_KEY_SET = frozenset(SYNAPSE_KEYS)


def _is_real_type(kind: type) -> bool:
    return kind is not bool and issubclass(kind, float | int | np.floating | np.integer)


def _geometry(geo: dict[str, list], out: CellArrays, desc: dict) -> None:
    stored = []
    for name, parts in geo.items():
        if name in RAGGED_GEOMETRY:
            item = RAGGED_GEOMETRY[name]
            data = np.concatenate(parts) if parts else np.empty((0, *item))
            dims = (f"{name}_point", *(("xyz",) if item else ()))
            out.arrays[name] = Array(data, dims)
            counts = [len(p) for p in parts]
            out.arrays[f"{name}_offsets"] = Array(_offsets(counts), ("section_offset",))
        else:
            out.arrays[name] = Array(np.asarray(parts, dtype=SCALAR_GEOMETRY[name]), ("section",))
        stored.append(name)
    desc["geometry"] = stored


# -- arrays read from disk back to the dict ---------------------------------------------


def damaged(key: str, what: str) -> CorruptKeyError:
    """The error of a stored cell that breaks its layout."""
    return CorruptKeyError(f"{key} is damaged: {what}; delete the key and write it again")


def _int_list(v: Any, bound: int) -> bool:
    return isinstance(v, list) and all(type(i) is int and 0 <= i < bound for i in v)


def check_description(desc: Any, key: str) -> dict[str, Any]:
    """``desc`` (``attributes.zdb.cell`` read from disk) when it is a description this
    zdb writes; CorruptKeyError naming ``key`` and the fault otherwise."""
    from ..exceptions import FormatVersionError

    if not isinstance(desc, dict) or type(desc.get("format")) is not int:
        raise damaged(key, "its cell description is missing")
    if desc["format"] > CELL_FORMAT:
        raise FormatVersionError(
            f"{key} is a cell stored in description format {desc['format']}; this zdb reads "
            f"up to {CELL_FORMAT}: upgrade zdb"
        )
    keys = desc.get("keys")
    if not (
        isinstance(keys, list)
        and all(k in TOP_KEYS for k in keys)
        and len(set(keys)) == len(keys)
        and all(k in keys for k in REQUIRED_KEYS)
    ):
        raise damaged(key, f"its cell keys {keys!r} are not those of a cell")
    for field_, want in (("section_keys", SECTION_KEYS), ("synapse_keys", SYNAPSE_KEYS)):
        got = desc.get(field_)
        if not isinstance(got, list) or sorted(map(str, got)) != sorted(want):
            raise damaged(key, f"{field_} {got!r} are not {list(want)}")
    rows = desc.get("chunk_rows")
    if type(rows) is not int or rows < 1:
        raise damaged(key, f"chunk_rows {rows!r} is no positive int")
    variables = desc.get("range_variables")
    if not isinstance(variables, list) or not all(
        isinstance(v, dict)
        and type(v.get("name")) is str
        and isinstance(v.get("recorded"), list)
        and (v.get("array") is None or (type(v["array"]) is str and _range_array(v["array"])))
        for v in variables
    ):
        raise damaged(key, "its range variables are not described as this zdb writes them")
    arrays = [v["array"] for v in variables if v["array"] is not None]
    if len({a.lower() for a in arrays}) != len(arrays):
        raise damaged(key, "two range variables name the same array")
    record_vars = desc.get("record_vars")
    if not isinstance(record_vars, list) or not all(
        _int_list(r, len(variables)) and len(set(r)) == len(r) for r in record_vars
    ):
        raise damaged(key, "record_vars does not index its range variables")
    populations = desc.get("populations")
    if not isinstance(populations, list) or not all(type(p) is str for p in populations):
        raise damaged(key, "populations is not a list of str")
    if len(set(populations)) != len(populations):
        raise damaged(key, "populations names a population twice")
    morphology = desc.get("morphology")
    if [k for k in keys if k in MORPHOLOGY_KEYS] != ([morphology] if morphology else []):
        raise damaged(key, f"morphology {morphology!r} does not match the keys {keys}")
    geo = desc.get("geometry", [])
    if not isinstance(geo, list) or not all(
        g in RAGGED_GEOMETRY or g in SCALAR_GEOMETRY for g in geo
    ):
        raise damaged(key, f"geometry {geo!r} names unknown attributes")
    if "parameters" in keys:
        try:
            desc["parameters_value"] = values.decode(desc.get("parameters"))
        except (ValueError, TypeError, KeyError, AttributeError) as e:
            raise damaged(key, f"its parameters cannot be decoded ({e})") from None
    return desc


def _range_array(name: str) -> bool:
    """True if ``name`` may name a range variable's array: a plain name, not Zarr's
    (``__`` prefix, ``zarr.json`` and its temporary files) nor a fixed array's."""
    lower = name.lower()
    return (
        bool(ARRAY_NAME.match(name))
        and not name.startswith("__")
        and not lower.startswith("zarr.json")
        and lower not in _RESERVED
    )


def arrays_for_dict(desc: dict[str, Any]) -> list[str]:
    """The arrays :func:`from_arrays` reads (a checked description's)."""
    names = ["t", "voltage", "segment_offsets", "section", "section_label", "section_parent"]
    names += [v["array"] for v in desc["range_variables"] if v["array"] is not None]
    names += ["synapse_coordinates", "population_offsets", "spike_times", "spike_offsets"]
    return names + (["morphology"] if desc.get("morphology") else [])


def _check_offsets(offsets: np.ndarray, n: int, total: int, name: str, key: str) -> None:
    if offsets.shape != (n + 1,) or offsets.dtype.kind not in "iu":
        raise damaged(key, f"{name} has shape {offsets.shape} ({offsets.dtype}), not ({n + 1},)")
    if n + 1 and (offsets[0] != 0 or offsets[-1] != total or np.any(np.diff(offsets) < 0)):
        raise damaged(
            key, f"{name} are not increasing offsets from 0 to {total} (the values stored)"
        )


def _check_shape(arr: np.ndarray, shape: tuple[int, ...], name: str, key: str) -> None:
    if arr.shape != shape:
        raise damaged(key, f"array {name} has shape {arr.shape}, not {shape}")


def from_arrays(arrays: Mapping[str, np.ndarray], desc: dict[str, Any], key: str) -> dict:
    """The cell dict of the arrays :func:`arrays_for_dict` names and the checked
    description ``desc``, exactly as stored; CorruptKeyError when they disagree."""
    for name, arr in arrays.items():
        want = "O" if name in ("section_label", "morphology") else "i" if "offsets" in name else "f"
        if name in ("section", "section_parent"):
            want = "i"
        if arr.dtype.kind != want:
            raise damaged(key, f"array {name} holds {arr.dtype}, not what zdb writes there")
    t = arrays["t"]
    nt = t.shape[0] if t.ndim == 1 else -1
    _check_shape(t, (nt,), "t", key)
    ids, labels, parents = arrays["section"], arrays["section_label"], arrays["section_parent"]
    nsec = ids.shape[0] if ids.ndim == 1 else -1
    for name in ("section", "section_label", "section_parent"):
        _check_shape(arrays[name], (nsec,), name, key)
    voltage = arrays["voltage"]
    nseg = voltage.shape[0] if voltage.ndim == 2 else -1
    _check_shape(voltage, (nseg, nt), "voltage", key)
    offsets = arrays["segment_offsets"]
    _check_offsets(offsets, nsec, nseg, "segment_offsets", key)
    variables = desc["range_variables"]
    if len(desc["record_vars"]) != nsec:
        raise damaged(key, f"record_vars describes {len(desc['record_vars'])} of {nsec} sections")
    recorded: list[set[int]] = []
    for v in variables:
        if not _int_list(v["recorded"], nsec) or (v["recorded"] and v["array"] is None):
            raise damaged(key, f"range variable {v['name']!r} names sections it cannot have")
        if v["array"] is not None:
            _check_shape(arrays[v["array"]], (nseg, nt), v["array"], key)
        recorded.append(set(v["recorded"]))
    sections = []
    bounds = offsets.tolist()
    for i in range(nsec):
        a, b = bounds[i], bounds[i + 1]
        record_vars = {}
        for k in desc["record_vars"][i]:
            v = variables[k]
            record_vars[v["name"]] = list(arrays[v["array"]][a:b]) if i in recorded[k] else []
        parent = int(parents[i])
        fields = {
            "recVList": list(voltage[a:b]),
            "recordVars": record_vars,
            "label": str(labels[i]),
            "sec_id": int(ids[i]),
            "parent_id": None if parent < 0 else parent,
        }
        sections.append({name: fields[name] for name in desc["section_keys"]})
    out: dict[str, Any] = {}
    for name in desc["keys"]:
        if name == "sections":
            out[name] = sections
        elif name == "tVec":
            out[name] = t
        elif name == "parameters":
            out[name] = desc["parameters_value"]
        elif name == "synapses":
            out[name] = _synapses_from(arrays, desc, key)
        else:
            text = arrays["morphology"]
            _check_shape(text, (1,), "morphology", key)
            out[name] = str(text[0])
    return out


def _synapses_from(arrays: Mapping[str, np.ndarray], desc: dict[str, Any], key: str) -> dict:
    coords = arrays["synapse_coordinates"]
    nsyn = coords.shape[0] if coords.ndim == 2 else -1
    _check_shape(coords, (nsyn, 3), "synapse_coordinates", key)
    populations = desc["populations"]
    per_population = arrays["population_offsets"]
    _check_offsets(per_population, len(populations), nsyn, "population_offsets", key)
    spikes, per_synapse = arrays["spike_times"], arrays["spike_offsets"]
    _check_shape(spikes, (spikes.shape[0] if spikes.ndim == 1 else -1,), "spike_times", key)
    _check_offsets(per_synapse, nsyn, spikes.shape[0], "spike_offsets", key)
    times = spikes.tolist()
    bounds = per_synapse.tolist()
    names = desc["synapse_keys"]
    out = {}
    p_bounds = per_population.tolist()
    for p, population in enumerate(populations):
        items = []
        for s in range(p_bounds[p], p_bounds[p + 1]):
            fields = {
                "preCell": {"spikeTimes": times[bounds[s] : bounds[s + 1]]},
                "coordinates": coords[s],
            }
            items.append({name: fields[name] for name in names})
        out[population] = items
    return out


def xarray_view(ds: Any, desc: dict[str, Any]) -> Any:
    """The Dataset of a stored cell's arrays (as ``xarray.open_zarr`` reads them) with
    the range variables under their own names where free, the segments' and synapses'
    coordinates set, and the parameters as an attribute."""
    offsets = np.asarray(ds["segment_offsets"].values)
    counts = np.diff(offsets)
    if (
        len(offsets) == ds.sizes.get("section", 0) + 1
        and (counts >= 0).all()
        and (offsets[-1] == ds.sizes.get("segment", 0))
    ):
        of_segment = np.repeat(np.arange(len(counts)), counts)
        position = (np.arange(len(of_segment)) - offsets[of_segment] + 0.5) / np.maximum(
            counts[of_segment], 1
        )
        ds = ds.assign_coords(
            segment_section=("segment", np.asarray(ds["section"].values)[of_segment]),
            segment_label=("segment", np.asarray(ds["section_label"].values)[of_segment]),
            segment_x=("segment", position),
        )
    ds = ds.set_coords([n for n in ("section_label",) if n in ds])
    renames = {
        v["array"]: v["name"]
        for v in desc["range_variables"]
        if v["array"] is not None and v["name"] not in ds.variables and v["array"] in ds
    }
    ds = ds.rename_vars(renames)
    counts = np.diff(np.asarray(ds["population_offsets"].values))
    if counts.sum() == ds.sizes.get("synapse", 0) and (counts >= 0).all():
        populations = np.repeat(np.asarray(desc["populations"], dtype=object), counts)
        ds = ds.assign_coords(synapse_population=("synapse", populations))
    attrs = {"morphology_format": desc.get("morphology")}
    if "parameters_value" in desc:
        attrs["parameters"] = desc["parameters_value"]
    ds = ds.copy()
    ds.attrs = attrs
    return ds
