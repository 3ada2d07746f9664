"""Real services for tests: a redis server and a zookeeper server on loopback.

Each runs as a subprocess with its own temporary folder, no persistence, on a free
port, and is stopped by its pid. When the program is not installed the calling test
is skipped with the reason, or fails where ``$ZDB_REQUIRE_SERVICES`` is set (CI sets
it, so that a missing install step cannot hide a backend). ``.ci/run`` installs
Debian's ``redis-server`` and ``zookeeper`` (Java and the ZooKeeper jars in
``/usr/share/java``).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import pytest

#: seconds a service may take to answer after it was started
START_TIMEOUT = 30.0
#: environment variable that turns "service not installed" skips into failures
ENV_REQUIRE = "ZDB_REQUIRE_SERVICES"
#: where Debian's packages put jars (the zookeeper package's libzookeeper-java among them)
JAVA_JARS = Path("/usr/share/java")


def unavailable(reason: str) -> NoReturn:
    """Skip the calling test because a service is missing, or fail it when
    ``$ZDB_REQUIRE_SERVICES`` is set to anything but empty or 0."""
    if os.environ.get(ENV_REQUIRE, "") not in ("", "0"):
        pytest.fail(f"{reason}; ${ENV_REQUIRE} is set, so it must be installed", pytrace=False)
    pytest.skip(reason)


def import_client(module: str, extra: str) -> ModuleType:
    """The client library ``module``, or :func:`unavailable` naming the zdb extra."""
    try:
        return importlib.import_module(module)
    except ImportError:
        unavailable(f"{module} is not installed (pip install 'zdb[{extra}]')")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def closed_port() -> int:
    """A loopback port where connections are refused (for unreachable servers)."""
    return free_port()


@dataclass
class Service:
    """A running server: where to reach it, and its process to stop."""

    host: str
    port: int
    process: subprocess.Popen
    directory: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def log(self) -> str:
        """The server's own log, for failure messages."""
        log = self.directory / "server.log"
        return log.read_text(errors="replace")[-3000:] if log.exists() else ""


def _stop(service: Service) -> None:
    """Stop by pid: SIGTERM, then SIGKILL if it lingers; then remove its folder."""
    if service.process.poll() is None:
        os.kill(service.pid, signal.SIGTERM)
        try:
            service.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(service.pid, signal.SIGKILL)
            service.process.wait()
    shutil.rmtree(service.directory, ignore_errors=True)


def _wait_until(ready, service: Service, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if service.process.poll() is not None:
            raise RuntimeError(f"{what} exited with {service.process.returncode}:\n{service.log()}")
        with contextlib.suppress(OSError):
            if ready():
                return
        time.sleep(0.05)
    raise RuntimeError(f"{what} did not answer within {START_TIMEOUT} s:\n{service.log()}")


def _redis_ping(host: str, port: int) -> bool:
    with socket.create_connection((host, port), timeout=1) as s:
        s.sendall(b"PING\r\n")
        return s.recv(64).startswith(b"+PONG")


@contextlib.contextmanager
def redis_server() -> Iterator[Service]:
    """A ``redis-server`` on a free loopback port, without persistence."""
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server is not installed (apt-get install redis-server)")
    directory = Path(tempfile.mkdtemp(prefix="zdb-redis-"))
    port = free_port()
    args = [
        binary,
        "--port", str(port),
        "--bind", "127.0.0.1",
        "--save", "",
        "--appendonly", "no",
        "--dir", str(directory),
        "--logfile", str(directory / "server.log"),
        "--daemonize", "no",
    ]  # fmt: skip
    service = Service("127.0.0.1", port, subprocess.Popen(args, cwd=directory), directory)
    try:
        _wait_until(lambda: _redis_ping("127.0.0.1", port), service, "redis-server")
        yield service
    finally:
        _stop(service)


def _zookeeper_classpath() -> str | None:
    """The ZooKeeper server's classpath: ``$ZDB_TEST_ZOOKEEPER_CLASSPATH`` or the jars
    Debian's ``zookeeper`` package installs (through ``libzookeeper-java``).

    Debian's ``zookeeper.jar`` names its dependencies (jute, netty, metrics, slf4j-api,
    ...) in its manifest's Class-Path; slf4j-simple is added so that the server's log
    reaches ``server.log`` instead of being dropped."""
    if os.environ.get("ZDB_TEST_ZOOKEEPER_CLASSPATH"):
        return os.environ["ZDB_TEST_ZOOKEEPER_CLASSPATH"]
    if not (JAVA_JARS / "zookeeper.jar").exists():
        return None
    names = ["zookeeper", "zookeeper-jute", "slf4j-api", "slf4j-simple", "metrics-core"]
    jars = [JAVA_JARS / f"{name}.jar" for name in names]
    return ":".join(str(jar) for jar in jars if jar.exists())


def _zookeeper_answers(host: str, port: int) -> bool:
    # "srvr" is the one four-letter command ZooKeeper enables by default.
    with socket.create_connection((host, port), timeout=1) as s:
        s.sendall(b"srvr")
        return s.recv(64).startswith(b"Zookeeper version")


@contextlib.contextmanager
def zookeeper_server(tick_ms: int = 500) -> Iterator[Service]:
    """A standalone ZooKeeper on a free loopback port. ``tick_ms`` sets the shortest
    session timeout (twice the tick), so that dead clients' sessions end quickly."""
    java = shutil.which("java")
    classpath = _zookeeper_classpath()
    if java is None or classpath is None:
        unavailable(
            f"no ZooKeeper server: needs java and the ZooKeeper jars in {JAVA_JARS} "
            "(apt-get install zookeeper, or set ZDB_TEST_ZOOKEEPER_CLASSPATH)"
        )
    directory = Path(tempfile.mkdtemp(prefix="zdb-zookeeper-"))
    port = free_port()
    config = directory / "zoo.cfg"
    config.write_text(
        f"tickTime={tick_ms}\n"
        f"dataDir={directory / 'data'}\n"
        f"clientPort={port}\n"
        "clientPortAddress=127.0.0.1\n"
        "admin.enableServer=false\n"
        "4lw.commands.whitelist=srvr\n"
    )
    args = [java, "-Xmx128m", "-cp", classpath, "org.apache.zookeeper.server.ZooKeeperServerMain"]
    args.append(str(config))
    with open(directory / "server.log", "wb") as log:
        process = subprocess.Popen(args, cwd=directory, stdout=log, stderr=subprocess.STDOUT)
    service = Service("127.0.0.1", port, process, directory)
    try:
        _wait_until(lambda: _zookeeper_answers("127.0.0.1", port), service, "ZooKeeper")
        yield service
    finally:
        _stop(service)
