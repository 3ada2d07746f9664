"""``cell``: ISF Cells (recognised by their attributes) and the dicts of ISF's
``cell_to_serializable_object`` as Zarr arrays with dimension names, never pickled.

:mod:`zdb.objects.cell` turns the cell into named arrays (voltages one (segment, t)
array, ragged lists as values plus offsets) and a JSON description; this module writes
them as one Zarr group with consolidated metadata (through :mod:`zdb.zarr_codec`,
without zarr-python's per-array cost), reads them back into the dict, opens them as an
xarray Dataset, or rebuilds a live Cell through ISF when it is installed.
"""

from __future__ import annotations

import itertools
import json
from typing import Any

import numpy as np

from ... import zarr_codec
from ...dumper import Dumper, Target
from ...dumper_registry import register
from ...exceptions import MissingDependencyError, UnsupportedValueError
from ...format import group_document
from ...objects import cell as model
from ...storage import join
from ...zarr_util import quiet_zarr

#: exact float64 traces: Blosc's byte shuffle groups sign, exponent and high mantissa
#: bytes, which LZ4 then compresses at memory speed (voltages to 78 % of their size,
#: where zstd alone leaves 91 %); other arrays zstd
FLOAT_COMPRESSOR = zarr_codec.blosc(8, cname="lz4", clevel=5, shuffle="shuffle")
ZSTD_LEVEL = 3
#: a stored array of more chunks than this is damage (no cell has that many)
MAX_CHUNKS = 1_000_000


class CellDumper(Dumper):
    name = "cell"
    always_writes = True
    priority = 10

    def handles(self, value: Any) -> bool:
        return model.is_cell_dict(value) or model.is_cell_like(value)

    def dump(self, value: Any, target: Target) -> dict[str, Any]:
        flat = model.to_arrays(value)
        metas = {name: _write_array(target, name, arr) for name, arr in flat.arrays.items()}
        attributes = {"zdb": {"cell": flat.description}}
        target.store.write_bytes(
            join(target.path, "zarr.json"), group_document(attributes, consolidated=metas)
        )
        nsec, (nseg, nt) = len(flat.arrays["section"].data), flat.arrays["voltage"].data.shape
        kind = (
            "dict"
            if type(value) is dict
            else f"{type(value).__module__}.{type(value).__qualname__}"
        )
        return {
            "type": kind,
            "summary": f"cell: {nsec} sections, {nseg} segments, {nt} time points",
            "every_chunk": True,
        }

    def reads_atomically(self, info: dict[str, Any]) -> bool:
        return True  # every chunk is written: a missing one raises

    def load(
        self,
        target: Target,
        info: dict[str, Any],
        *,
        lazy: bool | None = False,
        as_xarray: bool = False,
        restore: bool = False,
    ) -> Any:
        """The cell dict; with ``as_xarray`` a Dataset (read on access, dask-backed with
        ``lazy=True``, in memory with ``lazy=False``); with ``restore`` a live ISF Cell."""
        if as_xarray:
            if restore:
                raise UnsupportedValueError("restore=True gives a Cell, not an xarray view")
            return _xarray(target, lazy)
        doc = _group_document(target)
        desc = model.check_description(_description(doc["attributes"]), target.key)
        consolidated = doc.get("consolidated_metadata")
        metas = consolidated.get("metadata") if isinstance(consolidated, dict) else None
        if not isinstance(metas, dict):
            raise model.damaged(target.key, "its group has no consolidated metadata")
        names = model.arrays_for_dict(desc)
        value = model.from_arrays(_read_arrays(target, metas, names), desc, target.key)
        return _restore(value, target) if restore else value


def _write_array(target: Target, name: str, arr: model.Array) -> dict[str, Any]:
    """Write ``arr`` as the Zarr array ``name`` (every chunk); its metadata."""
    data = arr.data
    compressor = FLOAT_COMPRESSOR if data.dtype == np.float64 else None
    rows = arr.rows or max(1, data.shape[0])
    chunks = (rows, *data.shape[1:])
    meta = zarr_codec.array_metadata(
        data.dtype,
        data.shape,
        chunks,
        dimension_names=arr.dims,
        level=ZSTD_LEVEL,
        compressor=compressor,
        flat_chunk_keys=True,
    )
    shape = zarr_codec.chunk_shape(meta)
    if data.size:
        for i in range(0, data.shape[0], rows):
            index = (i // rows, *(0,) * (data.ndim - 1))
            chunk = zarr_codec.encode_chunk(data[i : i + rows], shape, ZSTD_LEVEL, compressor)
            path = join(target.path, name, zarr_codec.chunk_key(index, "."))
            target.store.write_bytes(path, chunk)
    target.store.write_bytes(join(target.path, name, "zarr.json"), zarr_codec.dumps(meta))
    return meta


def _description(attributes: dict[str, Any]) -> Any:
    """``attributes.zdb.cell`` of the group, or None where the attributes lack it."""
    ours = attributes.get("zdb")
    return ours.get("cell") if isinstance(ours, dict) else None


def _group_document(target: Target) -> dict[str, Any]:
    try:
        raw = target.store.read_bytes(join(target.path, "zarr.json"))
    except FileNotFoundError as e:
        raise target.missing(e) from None
    try:
        doc = json.loads(raw)
    except ValueError as e:
        raise model.damaged(target.key, f"its group zarr.json is not JSON ({e})") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("attributes"), dict):
        raise model.damaged(target.key, "its group zarr.json is no Zarr group document")
    return doc


def _layout(meta: Any, name: str, key: str) -> tuple[np.dtype, tuple, tuple, str, Any]:
    """dtype, shape, chunk shape, chunk kind and compressor of an array written here;
    CorruptKeyError for metadata of any other layout."""
    try:
        codecs = meta["codecs"]
        dtype = zarr_codec.numpy_dtype(meta)
        first = codecs[0]
        endian = (first.get("configuration") or {}).get("endian", "little")
        kind = {("vlen-utf8", True): "vlen", ("bytes", False): "bytes"}.get(
            (first["name"], dtype.kind == "O")
        )
        compressor = zarr_codec.compressor_codec(codecs[1])
        shape, chunks = tuple(meta["shape"]), zarr_codec.chunk_shape(meta)
        ok = (
            meta.get("node_type") == "array"
            and meta["chunk_grid"]["name"] == "regular"
            and meta["chunk_key_encoding"] == zarr_codec.FLAT_CHUNK_KEY_ENCODING
            and not meta.get("storage_transformers")
            and kind is not None
            and endian == "little"
            and len(codecs) == 2
            and len(shape) == len(chunks)
            and all(type(n) is int and n >= 0 for n in shape)
            and all(type(c) is int and c >= 1 for c in chunks)
        )
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        ok = False
    if not ok:
        raise model.damaged(key, f"array {name!r} is missing or not in the layout zdb writes")
    grid = [-(-n // c) for n, c in zip(shape, chunks, strict=True)]
    if float(np.prod(grid, dtype=np.float64)) > MAX_CHUNKS:
        raise model.damaged(key, f"array {name!r} declares {grid} chunks")
    return dtype, shape, chunks, kind, compressor  # type: ignore[return-value]


def _read_arrays(target: Target, metas: dict, names: list[str]) -> dict[str, np.ndarray]:
    """The arrays ``names`` read whole, their chunk files read in one batch."""
    layouts = {name: _layout(metas.get(name), name, target.key) for name in names}
    paths: dict[str, list[tuple[tuple[int, ...], str]]] = {}
    for name, (_, shape, chunks, _, _) in layouts.items():
        if 0 in shape:
            paths[name] = []
            continue
        grid = [range(-(-n // c)) for n, c in zip(shape, chunks, strict=True)]
        paths[name] = [
            (index, join(target.path, name, zarr_codec.chunk_key(index, ".")))
            for index in itertools.product(*grid)
        ]
    try:
        raw = target.store.read_many([p for found in paths.values() for _, p in found])
    except FileNotFoundError as e:
        raise target.missing(e) from None
    out = {}
    for name, (dtype, shape, chunks, kind, compressor) in layouts.items():
        arr = np.empty(shape, dtype=dtype)
        for index, path in paths[name]:
            chunk = _decode(raw[path], kind, dtype, chunks, compressor, name, target.key)
            where = tuple(
                slice(i * c, min((i + 1) * c, n))
                for i, c, n in zip(index, chunks, shape, strict=True)
            )
            arr[where] = chunk[tuple(slice(0, s.stop - s.start) for s in where)]
        out[name] = arr
    return out


def _decode(
    raw: bytes, kind: str, dtype: np.dtype, chunks: tuple, compressor: Any, name: str, key: str
) -> np.ndarray:
    """A chunk's array; a Blosc chunk is checked first to hold the bytes its array
    needs (its header, bytes 4-7, says how many it expands to: a damaged one could
    claim gigabytes; numcodecs keeps its own reader of the header private)."""
    if kind == "bytes" and getattr(compressor, "codec_id", "") == "blosc":
        want = int(np.prod(chunks)) * dtype.itemsize
        if len(raw) < 16 or int.from_bytes(raw[4:8], "little") != want:
            raise model.damaged(key, f"a chunk of {name!r} does not hold {want} bytes")
    try:
        return zarr_codec.decode_chunk(raw, kind, dtype, chunks, compressor)
    except (ValueError, RuntimeError, TypeError) as e:
        raise model.damaged(key, f"a chunk of {name!r} cannot be decoded ({e})") from None


def _xarray(target: Target, lazy: bool | None) -> Any:
    import xarray as xr

    with quiet_zarr():
        ds = xr.open_zarr(
            target.zarr_store(every_chunk=True), consolidated=True, chunks={} if lazy else None
        )
    desc = model.check_description(_description(ds.attrs), target.key)
    view = model.xarray_view(ds, desc)
    return view.load() if lazy is False else view


def _restore(value: dict[str, Any], target: Target) -> Any:
    try:
        from single_cell_parser.serialize_cell import (  # type: ignore[import-not-found]
            restore_cell_from_serializable_object,
        )
    except ImportError as e:
        raise MissingDependencyError(
            f"reading {target.key} with restore=True rebuilds a live Cell through ISF's "
            f"single_cell_parser, which cannot be imported here ({e}); install ISF (and "
            "NEURON), or read the cell's dict with db[key] or its recordings with "
            "db.get(key, as_xarray=True)"
        ) from None
    return restore_cell_from_serializable_object(value)


dumper = register(CellDumper())
