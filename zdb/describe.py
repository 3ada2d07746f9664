"""What a key holds and where (``zdb info``): its dumper, type, the Zarr arrays of its
value with their shapes, data types, chunks and codecs, its size and number of files,
the path plain zarr opens, and its provenance.

The arrays are read from the ``zarr.json`` documents of the key's version folder, so
describing a key reads no chunk and works for every dumper, and for Zarr nodes that
zdb did not write.
"""

from __future__ import annotations

import json
from typing import Any

from . import commit
from .database import DataBase
from .format import ZARR_JSON, DatabaseNode, ForeignNode, KeyNode
from .keys import normalize_key
from .zarr_shards import inner_layout


def describe(db: DataBase, key: Any) -> dict[str, Any]:
    """The description of ``key`` of ``db``: ``key``, ``kind``, ``dumper``, ``type``,
    ``summary``, ``path`` (``db.path_of``; None for a small array kept in its pointer
    whose Zarr group has not been written: describing writes nothing), ``size``
    (bytes), ``files`` (how many), ``arrays`` (one record per Zarr array: ``path``
    inside the value, ``(pointer)`` for one kept in the pointer, ``shape``,
    ``dtype``, ``chunks``, ``codecs``, ``dimension_names``) and ``metadata`` (the
    provenance). KeyError when there is no such key."""
    parts = normalize_key(key)
    node = db.node(parts)
    holder = db[parts[:-1]] if len(parts) > 1 else db
    ref, name = holder.ref, parts[-1]
    out: dict[str, Any] = {
        "key": list(parts),
        "kind": node.kind,
        "dumper": None,
        "type": None,
        "summary": None,
        "path": None,
    }
    value_path = ref.path(name)
    if isinstance(node, KeyNode):
        out.update(dumper=node.dumper, type=node.loader.get("type"))
        out["summary"] = node.loader.get("summary")
        value_path = ref.path(name, node.version or "")
        if node.version is None:
            value_path = ""
        elif node.deferred and not ref.store.exists(ref.path(name, node.version, ZARR_JSON)):
            # kept in the pointer; describing it writes nothing (path_of would)
            array = node.loader.get("array")
            out["arrays"] = [_array(array, "(pointer)")] if isinstance(array, dict) else []
            value_path = ""
    elif isinstance(node, ForeignNode):
        out["type"] = f"zarr {node.node_type}"
    elif isinstance(node, DatabaseNode):
        out["type"] = "sub-database"
        out["keys"] = len(db[parts])
    if "arrays" not in out:
        out["path"] = db.path_of(parts)
    files = ref.store.files(value_path) if value_path else []
    out["size"] = ref.store.size(ref.path(name))
    out["files"] = len(files)
    if "arrays" not in out:
        out["arrays"] = [] if isinstance(node, DatabaseNode) else _arrays(ref, value_path, files)
    out["metadata"] = db.metadata[parts]
    return out


def _arrays(ref: commit.DbRef, value_path: str, files: list[str]) -> list[dict[str, Any]]:
    """A record of each Zarr array below ``value_path``, from its ``zarr.json``."""
    out = []
    documents = [f for f in files if f.rpartition("/")[2] == ZARR_JSON]
    for path in documents:
        try:
            doc = json.loads(ref.store.read_bytes(path))
        except (OSError, ValueError):
            continue  # a damaged document: zdb fsck names it
        if not isinstance(doc, dict) or doc.get("node_type") != "array":
            continue
        inner = path[len(value_path) :].strip("/").rpartition("/")[0]
        out.append(_array(doc, inner or "."))
    return sorted(out, key=lambda a: a["path"])


def _array(doc: dict[str, Any], path: str) -> dict[str, Any]:
    """The record of the array whose ``zarr.json`` is ``doc``, at ``path`` in the value."""
    grid = doc.get("chunk_grid")
    chunks = shards = None
    if isinstance(grid, dict) and isinstance(grid.get("configuration"), dict):
        chunks = grid["configuration"].get("chunk_shape")
    codecs = doc.get("codecs")
    if not isinstance(codecs, list):
        codecs = []
    inner = inner_layout(doc)
    if inner is not None:  # the grid is of shards; the chunks are inside them
        chunks, shards = list(inner[0]), chunks
    return {
        "path": path,
        "shape": doc.get("shape"),
        "dtype": doc.get("data_type"),
        "chunks": chunks,
        "shards": shards,
        "codecs": [_codec(c) for c in codecs],
        "dimension_names": doc.get("dimension_names"),
    }


def _codec(codec: Any) -> str:
    """A codec's name, with the codecs inside a shard: ``sharding_indexed(bytes, zstd)``."""
    if not isinstance(codec, dict):
        return str(codec)
    name = str(codec.get("name"))
    inner = (codec.get("configuration") or {}).get("codecs")
    if isinstance(inner, list):
        return f"{name}({', '.join(_codec(c) for c in inner)})"
    return name


__all__ = ["describe"]
