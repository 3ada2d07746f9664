"""The dumpers that store no value of their own: managed folders (just_create_folder)
and sub-databases (sub_database, ISF's just_create_isf_db), through the same round-trip
suite as every other dumper."""

from __future__ import annotations

import os

import zdb
from zdb.testing import DumperRoundTripTests


class TestManagedFolderRoundTrip(DumperRoundTripTests):
    dumper = "just_create_folder"
    examples = {"morphologies": None}
    refused = {"with_a_value": "a managed folder takes no value"}

    def assert_same(self, got, want):
        assert isinstance(got, zdb.ManagedFolder) and os.path.isdir(got)
        assert os.listdir(got) == []


class TestSubDatabaseRoundTrip(DumperRoundTripTests):
    dumper = "just_create_isf_db"
    examples = {"sub": None}
    refused = {"with_a_value": 1}
    plain_zarr = False

    def assert_same(self, got, want):
        assert isinstance(got, zdb.DataBase) and got.keys() == [] and got.unique_id
