"""Fixtures shared by the tests of zdb's core."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import zdb


@pytest.fixture(autouse=True)
def _private_registry(tmp_path_factory, monkeypatch):
    """Keep every test's database registrations out of the user's registry."""
    monkeypatch.setenv("ZDB_REGISTRY", str(tmp_path_factory.mktemp("registry")))


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    """Module-wide, for module-scoped fixtures that make databases: keeps them out of
    the user's registry too (``_private_registry`` covers each test only)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ZDB_REGISTRY", str(tmp_path_factory.mktemp("registry")))
        yield


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """A real S3 endpoint (moto's server on loopback) with the bucket ``zdb-tests``."""
    pytest.importorskip("s3fs", reason="s3fs is needed for the S3 tests")
    from .s3_server import make_bucket, moto_server

    with moto_server() as endpoint:
        make_bucket(endpoint, "zdb-tests")
        yield endpoint


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run tests marked ``local_files`` (they read a database's files directly, or need
    local-only features) on the local database only."""
    items[:] = [
        item
        for item in items
        if not (item.get_closest_marker("local_files") and "[s3" in item.nodeid)
    ]


@pytest.fixture(params=["local", "s3"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> zdb.DataBase:
    """A new, empty database: in a temporary folder, and on S3 (the same tests run on
    both). Tests about local files use ``local_db``."""
    if request.param == "local":
        return zdb.DataBase(tmp_path / "db")
    from .s3_server import storage_options

    endpoint = request.getfixturevalue("s3_endpoint")
    url = f"s3://zdb-tests/{secrets.token_hex(6)}"
    return zdb.DataBase(url, storage_options=storage_options(endpoint))


@pytest.fixture
def local_db(tmp_path: Path) -> zdb.DataBase:
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
