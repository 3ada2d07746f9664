"""The ``zdb`` command line: ``zdb demo PATH`` builds a demo database."""

from __future__ import annotations

import argparse
import json
import sys

from . import demo


def main(argv: list[str] | None = None) -> int:
    """Run the ``zdb`` command line."""
    parser = argparse.ArgumentParser(prog="zdb", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p_demo = sub.add_parser("demo", help="build a demo database of simulation-like data")
    p_demo.add_argument("path", help="folder of the database to create (must not exist)")
    p_demo.add_argument("--trials", type=int, default=200, help="number of simulated trials")
    args = parser.parse_args(argv)
    if args.command == "demo":
        db = demo.build(args.path, n_trials=args.trials)
        db.ls()
        print("\nprovenance of key 'voltage_traces':")
        print(json.dumps(db.metadata["voltage_traces"], indent=2, default=str)[:4000])
    return 0


if __name__ == "__main__":
    sys.exit(main())
