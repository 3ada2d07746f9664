"""A private S3 endpoint for the examples: moto's S3 server on a free loopback port,
started as a process of its own and stopped by its pid. Nothing leaves the machine."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Any

CREDENTIALS = {"key": "example", "secret": "example"}
REGION = "eu-west-1"


class LocalS3:
    """moto's S3 server on ``127.0.0.1``: ``storage_options`` for zdb and fsspec,
    ``make_bucket(name)``, and ``stop()`` (also on leaving a ``with`` block)."""

    def __init__(self, timeout: float = 30) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.endpoint = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while True:
            try:
                urllib.request.urlopen(self.endpoint, timeout=1)
                return
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(
                        f"moto's S3 server did not start on {self.endpoint}"
                    ) from None
                time.sleep(0.1)

    @property
    def storage_options(self) -> dict[str, Any]:
        """The fsspec (s3fs) options reaching this endpoint."""
        return {
            **CREDENTIALS,
            "endpoint_url": self.endpoint,
            "client_kwargs": {"region_name": REGION},
        }

    def cli_options(self) -> list[str]:
        """The same options as ``zdb`` command-line arguments."""
        return [
            f"--storage-option=endpoint_url={self.endpoint}",
            f"--storage-option=key={CREDENTIALS['key']}",
            f"--storage-option=secret={CREDENTIALS['secret']}",
            f"--storage-option=client_kwargs.region_name={REGION}",
        ]

    def make_bucket(self, name: str) -> str:
        """Create the bucket ``name``; returns its URL, ``s3://name``."""
        import s3fs

        s3fs.S3FileSystem(**self.storage_options, skip_instance_cache=True).mkdir(name)
        return f"s3://{name}"

    def stop(self) -> None:
        """Stop the server (by its pid)."""
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> LocalS3:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
