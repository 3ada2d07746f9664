"""The ``zdb`` command line.

Each command group is a module of this package with a ``register(commands)`` function
that adds its sub-commands; a sub-command's parser sets ``run``, the function that
carries it out and returns the exit status. A new command group is one module added
to :data:`GROUPS`. Every command takes a database path or fsspec URL,
``--storage-option KEY=VALUE`` and ``--json``; errors go to stderr with exit status 1
(:mod:`zdb.cli.common`).
"""

from __future__ import annotations

import importlib
import sys

from .common import Parser, run_command

#: the modules of this package holding command groups, in the order of ``zdb --help``
GROUPS = ("inspection", "maintain", "transfer", "simrun", "migration")


def build_parser() -> Parser:
    """The parser of every ``zdb`` command."""
    parser = Parser(
        prog="zdb",
        description="zdb: a reproducible database for simulation results on Zarr v3. "
        "Each command takes a database path or an fsspec URL (s3://bucket/db, ...).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        importlib.import_module(f"{__name__}.{group}").register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the ``zdb`` command line with ``argv`` (default: ``sys.argv[1:]``); return
    the exit status."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    return run_command(args)


__all__ = ["GROUPS", "build_parser", "main"]
