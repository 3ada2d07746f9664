import numpy as np

import zdb


def test_values_round_trip_through_a_new_database(tmp_path):
    db = zdb.DataBase(tmp_path / "db")
    db["a"] = 1
    db["b"] = np.arange(10.0)
    assert db["a"] == 1
    np.testing.assert_array_equal(db["b"], np.arange(10.0))
    assert db.keys() == ["a", "b"]
