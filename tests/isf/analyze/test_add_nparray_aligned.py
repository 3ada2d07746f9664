"""ISF's ``tests/test_data_base/analyze/_add_nparray_aligned_test.py`` on zdb."""

from __future__ import annotations

import numpy as np

from zdb.analyze._add_nparray_aligned import add_aligned, max_array_dimensions

A = np.array([[1, 2], [3, 4]])
B = np.array([[1, 2, 3], [3, 4, 5]])
C = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9]])


def test_max_size():
    assert [2, 3] == max_array_dimensions(A, B)
    assert [2, 3] == max_array_dimensions(A, A, B)
    assert [2, 3] == max_array_dimensions(A, B, B)
    assert [2, 3] == max_array_dimensions(B, A)
    assert [2, 2] == max_array_dimensions(A)


def test_add_samesize():
    np.testing.assert_equal(add_aligned(A, A), A * 2)


def test_add_different_size():
    d = np.array([])
    np.testing.assert_equal(add_aligned(A, C), np.array([[2, 4, 3], [7, 9, 6], [7, 8, 9]]))
    np.testing.assert_equal(add_aligned(A, B), np.array([[2, 4, 3], [6, 8, 5]]))
    np.testing.assert_equal(add_aligned(A, B, d), np.array([[2, 4, 3], [6, 8, 5]]))
    add_aligned(d, d, d)
