"""The compressor of each array of a stored table, from its consolidated metadata."""

from __future__ import annotations

import json
import os


def compressors(table_root: str | os.PathLike, shuffle: bool = False) -> dict[str, str]:
    """Each array's compressor by name (``blosc``, ``zstd``), the inner codecs of a
    sharded array; ``shuffle``: Blosc's shuffle mode in place of ``blosc``."""
    with open(os.path.join(table_root, "zarr.json")) as f:
        doc = json.load(f)
    out = {}
    for path, meta in doc["consolidated_metadata"]["metadata"].items():
        codecs = meta.get("codecs", [])
        if codecs and codecs[0]["name"] == "sharding_indexed":
            codecs = codecs[0]["configuration"]["codecs"]
        if codecs:
            last = codecs[-1]
            blosc = last["name"] == "blosc"
            out[path] = last["configuration"]["shuffle"] if shuffle and blosc else last["name"]
    return out
