"""The test services themselves: a missing server skips its tests, unless required."""

from __future__ import annotations

import sys

import pytest

from . import services


@pytest.fixture
def empty_path(tmp_path, monkeypatch):
    """A PATH where neither redis-server nor java is found."""
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("ZDB_TEST_ZOOKEEPER_CLASSPATH", raising=False)


@pytest.mark.parametrize("server", [services.redis_server, services.zookeeper_server])
def test_a_missing_server_skips_with_the_package_to_install(empty_path, monkeypatch, server):
    monkeypatch.delenv(services.ENV_REQUIRE, raising=False)
    with pytest.raises(pytest.skip.Exception, match="apt-get install"), server():
        pass


@pytest.mark.parametrize("server", [services.redis_server, services.zookeeper_server])
def test_a_missing_server_fails_where_services_are_required(empty_path, monkeypatch, server):
    monkeypatch.setenv(services.ENV_REQUIRE, "1")
    with pytest.raises(pytest.fail.Exception, match="ZDB_REQUIRE_SERVICES is set"), server():
        pass


def test_a_missing_client_library_names_the_extra_and_fails_where_required(monkeypatch):
    monkeypatch.setitem(sys.modules, "kazoo", None)  # makes the import fail
    monkeypatch.setenv(services.ENV_REQUIRE, "0")
    with pytest.raises(pytest.skip.Exception, match=r"zdb\[zookeeper\]"):
        services.import_client("kazoo", "zookeeper")
    monkeypatch.setenv(services.ENV_REQUIRE, "1")
    with pytest.raises(pytest.fail.Exception, match=r"zdb\[zookeeper\]"):
        services.import_client("kazoo", "zookeeper")
