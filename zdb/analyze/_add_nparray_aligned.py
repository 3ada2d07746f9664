"""ISF's ``data_base.analyze._add_nparray_aligned``: add 2-D arrays of different shapes,
aligned at their top left corner (how per-partition 2-D histograms are combined)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import AnalyzeError


def _checked(arrays: tuple[Any, ...]) -> list[np.ndarray]:
    for a in arrays:
        if not isinstance(a, np.ndarray):
            raise AnalyzeError(
                f"add_aligned and max_array_dimensions take numpy arrays, got "
                f"{type(a).__name__}; convert it with numpy.asarray"
            )
    # 1-D (and empty) arrays are ignored, as in ISF: a partition without rows gives one
    return [a for a in arrays if a.ndim == 2]


def max_array_dimensions(*args: np.ndarray) -> list[int]:
    """The largest number of rows and of columns among the 2-D arrays of ``args``
    (``[2, 3]`` for a 2x2 and a 2x3 array); ``[]`` when there is none."""
    shapes = [a.shape for a in _checked(args)]
    return [max(sizes) for sizes in zip(*shapes, strict=True)]


def add_aligned(*args: np.ndarray) -> np.ndarray:
    """The sum of the 2-D arrays of ``args``, each padded with zeros at the bottom and
    right to the largest shape. Integer arrays give an integer sum (ISF's was always
    float64); with no 2-D array the result is an empty float64 array."""
    arrays = _checked(args)
    if not arrays:
        return np.zeros(0)
    rows, cols = max_array_dimensions(*arrays)
    out = np.zeros((rows, cols), dtype=np.result_type(*arrays))
    for a in arrays:
        out[: a.shape[0], : a.shape[1]] += a
    return out
