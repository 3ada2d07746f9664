import pytest


@pytest.fixture(autouse=True)
def _private_registry(tmp_path_factory, monkeypatch):
    """Keep every test's database registrations out of the user's registry."""
    monkeypatch.setenv("ZDB_REGISTRY", str(tmp_path_factory.mktemp("registry")))
