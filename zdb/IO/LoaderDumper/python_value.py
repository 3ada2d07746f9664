"""``python_value``: None, bool, int, float, str and lists, tuples and dicts of them,
stored as tagged JSON (:mod:`zdb.values`), never pickled.

A small value lives in the key's own attributes, so reading it is one file read. A
large one goes into its version folder's group attributes, keeping listings fast.
"""

from __future__ import annotations

import json
from typing import Any

from ... import values
from ...dumper import Dumper, Target
from ...dumper_registry import register
from ...format import group_document
from ...storage import join

#: encoded values up to this many bytes of JSON stay in the key's attributes
INLINE_BYTES = 16 * 1024


class PythonValue(Dumper):
    name = "python_value"
    priority = 10

    def handles(self, value: Any) -> bool:
        return values.is_plain(value)

    def dump(self, value: Any, target: Target) -> dict[str, Any]:
        try:
            encoded = values.encode(value)
        except TypeError as e:
            from ...exceptions import UnsupportedValueError

            raise UnsupportedValueError(f"python_value stores only plain values: {e}") from None
        info: dict[str, Any] = {"type": type(value).__name__, "summary": _summary(value)}
        if len(json.dumps(encoded)) <= INLINE_BYTES:
            info["value"] = encoded
        else:
            target.store.write_bytes(
                join(target.path, "zarr.json"), group_document({"value": encoded})
            )
        return info

    def wrote_files(self, info: dict[str, Any]) -> bool:
        return "value" not in info  # small values are kept in the pointer

    def reads_atomically(self, info: dict[str, Any]) -> bool:
        return True  # one file, or none

    def load(
        self, target: Target, info: dict[str, Any], *, lazy: bool = False, as_xarray: bool = False
    ) -> Any:
        if "value" in info:
            return values.decode(info["value"])
        doc = json.loads(target.store.read_bytes(join(target.path, "zarr.json")))
        return values.decode(doc["attributes"]["value"])


def _summary(value: Any) -> str:
    if isinstance(value, list | tuple | dict):
        return f"len {len(value)}"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


dumper = register(PythonValue())
