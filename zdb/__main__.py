"""The ``zdb`` command line: ``zdb demo PATH`` builds a demo database; ``zdb import-simrun
SIMRESULT_PATH DB_PATH`` imports a campaign of ISF simulations into a database; ``zdb
migrate OLD NEW`` converts an ISF database into a zdb database."""

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
    _add_import_simrun(sub)
    _add_migrate(sub)
    args = parser.parse_args(argv)
    if args.command == "import-simrun":
        return _import_simrun(parser, args)
    if args.command == "migrate":
        return _migrate(args)
    if args.command == "demo":
        db = demo.build(args.path, n_trials=args.trials)
        db.ls()
        print("\nprovenance of key 'voltage_traces':")
        print(json.dumps(db.metadata["voltage_traces"], indent=2, default=str)[:4000])
    return 0


def _add_import_simrun(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "import-simrun",
        help="import the raw output of ISF simulations (simrun format) into a database",
        description="Import every result folder below SIMRESULT_PATH (folders ending in "
        "'_running' are skipped) into the database at DB_PATH, created if missing: "
        "voltage traces, synapse and cell activation, dendritic recordings, spike times "
        "and parameter files, as zdb.db_initializers.load_simrun_general.init does.",
    )
    p.add_argument("simresult_path", metavar="SIMRESULT_PATH", help="the campaign folder")
    p.add_argument("db_path", metavar="DB_PATH", help="the database (created if missing)")
    p.add_argument(
        "--incremental",
        action="store_true",
        help="add only the trials of result folders not imported yet",
    )
    p.add_argument(
        "--path-map",
        action="append",
        default=[],
        metavar="OLD=NEW",
        help="replace the path prefix OLD by NEW in parameter files (repeatable)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="dask worker threads (default: one per core)",
    )
    p.add_argument(
        "--scheduler-address",
        default=None,
        metavar="ADDRESS",
        help="run on the dask.distributed cluster at ADDRESS (e.g. tcp://host:8786)",
    )
    p.add_argument(
        "--dendritic-spike-times-threshold",
        type=float,
        default=-30.0,
        metavar="MV",
        help="threshold of dendritic spike detection (default: -30.0 mV)",
    )
    for step in (
        "voltage-traces",
        "synapse-activation",
        "dendritic-voltage-traces",
        "parameterfiles",
        "spike-times",
        "dendritic-spike-times",
    ):
        p.add_argument(f"--no-{step}", action="store_true", help=f"skip the {step} step")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _import_simrun(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    import dask

    from .database import DataBase
    from .db_initializers import load_simrun_general
    from .exceptions import DataBaseException

    path_map = {}
    for item in args.path_map:
        old, sep, new = item.partition("=")
        if not sep or not old:
            parser.error(f"--path-map takes OLD=NEW, got {item!r}")
        path_map[old] = new
    client = None
    if args.scheduler_address:
        from distributed import Client

        client = Client(args.scheduler_address)
    config = {"num_workers": args.workers} if args.workers else {}
    try:
        with dask.config.set(config):
            load_simrun_general.init(
                DataBase(args.db_path),
                args.simresult_path,
                voltage_traces=not args.no_voltage_traces,
                synapse_activation=not args.no_synapse_activation,
                dendritic_voltage_traces=not args.no_dendritic_voltage_traces,
                parameterfiles=not args.no_parameterfiles,
                spike_times=not args.no_spike_times,
                dendritic_spike_times=not args.no_dendritic_spike_times,
                dendritic_spike_times_threshold=args.dendritic_spike_times_threshold,
                client=client,
                path_map=path_map,
                incremental=args.incremental,
                progress=not args.quiet,
            )
    except DataBaseException as e:
        print(f"zdb import-simrun: error: {e}", file=sys.stderr)
        return 1
    finally:
        if client is not None:
            client.close()
    print(f"imported {args.simresult_path} into {args.db_path}")
    return 0


def _add_migrate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "migrate",
        help="convert an ISF database into a zdb database",
        description="Convert the ISF database OLD into a zdb database at NEW (a new or empty "
        "folder; run it again on the same NEW to finish an interrupted migration). OLD is "
        "only read. Keys that cannot be decoded are kept byte for byte and reported.",
    )
    p.add_argument("old", metavar="OLD", help="the ISF database (a folder with db_state.json)")
    p.add_argument("new", metavar="NEW", help="the zdb database to create")
    p.add_argument(
        "--allow-pickle",
        action="store_true",
        help="read and convert pickled keys (unpickling runs code: only if you trust OLD)",
    )
    p.add_argument("--jobs", type=int, default=None, metavar="N", help="keys converted at once")
    p.add_argument("--json", action="store_true", help="print the report as one JSON object")
    p.add_argument("--quiet", action="store_true", help="no progress bar")


def _migrate(args: argparse.Namespace) -> int:
    from .exceptions import DataBaseException
    from .isf_migration import migrate

    try:
        report = migrate(
            args.old,
            args.new,
            allow_pickle=args.allow_pickle,
            jobs=args.jobs,
            progress=not (args.quiet or args.json),
        )
    except DataBaseException as e:
        print(f"zdb migrate: error: {e}", file=sys.stderr)
        return 1
    print(json.dumps(report.as_json()) if args.json else report.text())
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
