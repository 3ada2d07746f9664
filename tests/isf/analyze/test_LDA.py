"""ISF's ``tests/test_data_base/analyze/LDA_test.py`` on zdb."""

from __future__ import annotations

import numpy as np

from zdb.analyze.LDA import make_groups_equal_size


def test_make_groups_equal_size():
    X = np.array([[1, 2, 3], [2, 3, 4], [3, 4, 5], [4, 5, 6]])
    assert len(make_groups_equal_size(X, np.array([0, 0, 1, 1]))[0]) == 4
    assert len(make_groups_equal_size(X, np.array([0, 0, 0, 1]))[0]) == 2
