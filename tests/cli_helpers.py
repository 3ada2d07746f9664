"""Running the ``zdb`` command line in tests, on a local database and on S3."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import pytest

import zdb
from zdb.cli import main

from .s3_server import CREDENTIALS, storage_options


@dataclass
class Place:
    """Where a test database lives: its path or URL, the command-line options that reach
    it, and the storage options for the library."""

    url: str
    args: list[str] = field(default_factory=list)
    options: dict | None = None

    def db(self, **kwargs: Any) -> zdb.DataBase:
        return zdb.DataBase(self.url, storage_options=self.options, **kwargs)

    def beside(self, name: str) -> Place:
        """Another location next to this one, reached the same way."""
        return Place(f"{self.url}-{name}", self.args, self.options)


def new_place(request: pytest.FixtureRequest, tmp_path: Any, kind: str) -> Place:
    if kind == "local":
        return Place(str(tmp_path / "db"))
    endpoint = request.getfixturevalue("s3_endpoint")
    args = [
        "--storage-option",
        f"endpoint_url={endpoint}",
        "--storage-option",
        f"key={CREDENTIALS['AWS_ACCESS_KEY_ID']}",
        "--storage-option",
        f"secret={CREDENTIALS['AWS_SECRET_ACCESS_KEY']}",
        "--storage-option",
        f"client_kwargs.region_name={CREDENTIALS['AWS_DEFAULT_REGION']}",
    ]
    url = f"s3://zdb-tests/{secrets.token_hex(6)}"
    return Place(url, args, storage_options(endpoint))


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> Result:
    """Run ``zdb argv`` in this process; its exit status, stdout and stderr."""
    capsys.readouterr()
    try:
        code = main(list(argv))
    except SystemExit as e:  # argparse: --help, usage errors
        code = int(e.code or 0)
    captured = capsys.readouterr()
    return Result(code, captured.out, captured.err)
