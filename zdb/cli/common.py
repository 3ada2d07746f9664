"""What every ``zdb`` command shares: the database argument with
``--storage-option`` and ``--json``, opening databases, keys written as ``a/b``, JSON
output, progress bars only on a terminal, and errors to stderr with exit status 1."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any, NoReturn

from .. import progress_bars
from ..exceptions import DataBaseException


class CommandError(Exception):
    """A command cannot do what it was asked; the message says why and what to do."""


class Parser(argparse.ArgumentParser):
    """argparse's parser, exiting with status 1 on a usage error, as on any error."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(1, f"{self.prog}: error: {message}; see {self.prog} --help\n")


def add_command(
    commands: argparse._SubParsersAction,
    name: str,
    run: Callable[[argparse.Namespace], int],
    **kw: Any,
) -> argparse.ArgumentParser:
    """A sub-command ``name`` carried out by ``run``, with ``--json``, ``--quiet`` and
    ``--storage-option``."""
    parser = commands.add_parser(name, **kw)
    parser.set_defaults(run=run)
    parser.add_argument("--json", action="store_true", help="machine-readable output (JSON)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument(
        "--storage-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an fsspec storage option for URLs (repeatable); VALUE is read as JSON when "
        "it is JSON, KEY may nest with dots: client_kwargs.region_name=eu-west-1",
    )
    return parser


def storage_options(args: argparse.Namespace) -> dict[str, Any] | None:
    """The ``--storage-option`` arguments as an fsspec options dict."""
    out: dict[str, Any] = {}
    for item in args.storage_option:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise CommandError(f"--storage-option takes KEY=VALUE, got {item!r}")
        try:
            value = json.loads(text)
        except ValueError:
            value = text
        *path, last = key.split(".")
        where = out
        for part in path:
            where = where.setdefault(part, {})
            if not isinstance(where, dict):
                raise CommandError(f"--storage-option {item!r}: {part!r} is set twice")
        where[last] = value
    return out or None


def open_db(
    args: argparse.Namespace, path: str, writable: bool = False, create: bool = False
) -> Any:
    """The database at ``path``: read-only unless ``writable``; created if missing
    only with ``create``."""
    from ..database import DataBase
    from ..exceptions import NotADataBaseError
    from ..format import ZARR_JSON
    from ..storage import open_store

    options = storage_options(args)
    try:
        return DataBase(
            path, readonly=not (writable or create), nocreate=not create, storage_options=options
        )
    except NotADataBaseError:
        store = open_store(path, options)
        if store.exists(ZARR_JSON):
            raise  # something else is wrong there, and the error says what
        hint = " and the --storage-option arguments" if "://" in path else ""
        raise CommandError(f"{store.full('')} holds no database; check the path{hint}") from None
    except DataBaseException:
        raise
    except Exception as e:  # an object store's client refusing (credentials, endpoint)
        raise CommandError(
            f"cannot open {path}: {type(e).__name__}: {e}; check the URL and the "
            "--storage-option arguments (credentials, endpoint_url)"
        ) from e


def parse_key(text: str) -> tuple[str, ...]:
    """A key written on the command line: its parts separated by ``/``."""
    from ..keys import normalize_key

    parts = tuple(text.strip("/").split("/"))
    return normalize_key(parts)


def show_key(key: tuple[str, ...] | list[str]) -> str:
    """A key as the command line writes it: ``a/b``."""
    return "/".join(key)


def emit_json(value: Any) -> None:
    """Print ``value`` as JSON on stdout."""
    print(json.dumps(value, indent=2, default=str, allow_nan=True))


def progress(args: argparse.Namespace) -> bool:
    """True when a long command should show a progress bar: on a terminal, and
    neither ``--json`` nor ``--quiet``."""
    return not (args.json or args.quiet) and sys.stderr.isatty()


def run_command(args: argparse.Namespace) -> int:
    """Carry out the parsed command; an error is printed to stderr, status 1."""
    try:
        with progress_bars.switched_off(not progress(args)):
            return int(args.run(args))
    except (CommandError, DataBaseException) as e:
        return _fail(args, str(e))
    except BrokenPipeError:  # the reader of the output went away (zdb ls | head)
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - flushed at exit
        return 0
    except KeyError as e:
        key = e.args[0] if e.args else ""
        shown = show_key(key) if isinstance(key, tuple) else str(key)
        return _fail(args, f"no key {shown!r} in the database; list its keys with zdb ls")
    except OSError as e:
        return _fail(args, f"{e}; check the path or URL and the --storage-option arguments")


def _fail(args: argparse.Namespace, message: str) -> int:
    print(f"zdb {args.command}: error: {message}", file=sys.stderr)
    return 1
