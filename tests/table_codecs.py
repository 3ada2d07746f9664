"""The compressor of each array of a stored table, from its consolidated metadata."""

from __future__ import annotations

import json
import os


def compressors(table_root: str | os.PathLike) -> dict[str, str]:
    """Each array's compressor by name (``blosc``, ``zstd``), the inner codecs of a
    sharded array."""
    with open(os.path.join(table_root, "zarr.json")) as f:
        doc = json.load(f)
    out = {}
    for path, meta in doc["consolidated_metadata"]["metadata"].items():
        codecs = meta.get("codecs", [])
        if codecs and codecs[0]["name"] == "sharding_indexed":
            codecs = codecs[0]["configuration"]["codecs"]
        if codecs:
            out[path] = codecs[-1]["name"]
    return out
