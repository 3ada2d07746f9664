"""Fixtures shared by the tests of zdb's core."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

import zdb


@pytest.fixture(autouse=True)
def _private_registry(tmp_path_factory, monkeypatch):
    """Keep every test's database registrations out of the user's registry."""
    monkeypatch.setenv("ZDB_REGISTRY", str(tmp_path_factory.mktemp("registry")))


@pytest.fixture
def db(tmp_path: Path) -> zdb.DataBase:
    """A new, empty database in a temporary folder."""
    return zdb.DataBase(tmp_path / "db")


def _snapshot(root: str | os.PathLike) -> dict[str, str]:
    """Every file under ``root`` with a hash of its content."""
    out: dict[str, str] = {}
    for dirpath, _, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        for name in filenames:
            with open(os.path.join(dirpath, name), "rb") as f:
                out[os.path.join(rel, name)] = hashlib.sha256(f.read()).hexdigest()
    return out


@pytest.fixture
def snapshot() -> Callable[[str | os.PathLike], dict[str, str]]:
    """A function listing every file under a folder with a hash of its content, to check
    that a failed operation left a database's content as it was (empty bookkeeping
    folders do not count)."""
    return _snapshot
