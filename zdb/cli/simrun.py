"""``zdb import-simrun`` (a campaign of ISF simulations into a database) and ``zdb
demo`` (a demo database of generated simulation-like data)."""

from __future__ import annotations

import argparse
import json

from .common import CommandError, add_command, emit_json, open_db, progress

_STEPS = (
    "voltage-traces",
    "synapse-activation",
    "dendritic-voltage-traces",
    "parameterfiles",
    "spike-times",
    "dendritic-spike-times",
)


def register(commands: argparse._SubParsersAction) -> None:
    """Add ``import-simrun`` and ``demo``."""
    p = add_command(
        commands,
        "import-simrun",
        run_import_simrun,
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
        "--workers", type=int, default=None, help="dask worker threads (default: one per core)"
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
    for step in _STEPS:
        p.add_argument(f"--no-{step}", action="store_true", help=f"skip the {step} step")

    p = add_command(
        commands, "demo", run_demo, help="build a demo database of simulation-like data"
    )
    p.add_argument("path", help="folder of the database to create (must not exist)")
    p.add_argument("--trials", type=int, default=200, help="number of simulated trials")


def run_import_simrun(args: argparse.Namespace) -> int:
    import dask

    from ..db_initializers import load_simrun_general

    path_map = {}
    for item in args.path_map:
        old, sep, new = item.partition("=")
        if not sep or not old:
            raise CommandError(f"--path-map takes OLD=NEW, got {item!r}")
        path_map[old] = new
    db = open_db(args, args.db_path, create=True)
    client = None
    if args.scheduler_address:
        from distributed import Client

        client = Client(args.scheduler_address)
    config = {"num_workers": args.workers} if args.workers else {}
    try:
        with dask.config.set(config):
            load_simrun_general.init(
                db,
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
                progress=progress(args),
            )
    finally:
        if client is not None:
            client.close()
    if args.json:
        emit_json({"imported": args.simresult_path, "database": db.basedir, "keys": db.keys()})
    else:
        print(f"imported {args.simresult_path} into {db.basedir}")
    return 0


def run_demo(args: argparse.Namespace) -> int:
    from .. import demo

    db = demo.build(args.path, n_trials=args.trials)
    if args.json:
        from ..tree import listing

        emit_json({"database": db.basedir, "keys": listing(db)})
        return 0
    db.ls()
    print("\nprovenance of key 'voltage_traces':")
    print(json.dumps(db.metadata["voltage_traces"], indent=2, default=str)[:4000])
    return 0
