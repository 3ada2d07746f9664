"""A third-party dumper package, as the registry tests install it through entry points."""

from __future__ import annotations

from typing import Any

from zdb.dumper import Dumper, Target


class Doubled(Dumper):
    """Stores an int as twice its value in the pointer (a plugin that keeps no files)."""

    name = "doubled_test_plugin"

    def handles(self, value: Any) -> bool:
        return False

    def dump(self, value: int, target: Target) -> dict[str, Any]:
        return {"type": "int", "summary": str(value), "doubled": 2 * value}

    def wrote_files(self, info: dict[str, Any]) -> bool:
        return False

    def load(self, target: Target, info: dict[str, Any], *, lazy=False, as_xarray=False) -> int:
        return info["doubled"] // 2


def not_a_dumper() -> None:
    """What a plugin's entry point should never name."""


class Impostor(Doubled):
    """A plugin that takes a built-in dumper's name."""

    name = "numpy_to_zarr"
