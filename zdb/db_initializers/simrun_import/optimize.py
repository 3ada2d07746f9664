"""ISF's ``optimize`` and ``reoptimize_db``: rewrite tables stored in a format other than
zdb's native one (pickled frames, Parquet) with zdb's table dumpers.

An import always writes the native format, so these change only keys written some other
way (by ``db.set(key, frame, dumper='to_cloudpickle')``, by older tools, or copied in).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from contextlib import nullcontext
from typing import Any

import pandas as pd

from ...database import DataBase, is_sub_data_base
from .reporting import logger

#: zdb's native dumper for each kind of table
NATIVE_TABLE_DUMPERS = {"pandas": "pandas_to_zarr", "dask": "dask_to_zarr"}
#: the keys ISF's ``optimize`` rewrites when it is given none
DEFAULT_SELECT = ("synapse_activation", "cell_activation", "voltage_traces", "dendritic_recordings")


def _native_dumper(value: Any) -> str | None:
    """The native dumper for ``value``, or None when it is no table."""
    import dask.dataframe as dd

    if isinstance(value, dd.DataFrame):
        return NATIVE_TABLE_DUMPERS["dask"]
    if isinstance(value, pd.DataFrame):
        return NATIVE_TABLE_DUMPERS["pandas"]
    return None


def _rewrite(db: DataBase, keys: Iterable[str]) -> list[str]:
    """Rewrite the tables at ``keys`` (sub-databases: all their keys) that are not stored
    natively; return the keys rewritten (``sub/key`` for keys of sub-databases)."""
    done = []
    for key in keys:
        if is_sub_data_base(db, key):
            sub = db[key]
            done += [f"{key}/{k}" for k in _rewrite(sub, list(sub.keys()))]
            continue
        stored = db.metadata[key].get("dumper")
        if stored in NATIVE_TABLE_DUMPERS.values():
            continue
        value = db[key]
        native = _native_dumper(value)
        if native is None:
            logger.debug("optimize: %r (%s) is no table; left as it is", key, stored)
            continue
        logger.info("optimize: rewriting %r from %s to %s", key, stored, native)
        # the write is atomic: the value reads the old version until the new one is in place
        db.set(key, value, dumper=native)
        done.append(key)
    return done


def _on(client: Any, scheduler: Any) -> Any:
    import dask

    chosen = client if client is not None else scheduler
    return dask.config.set(scheduler=chosen) if chosen is not None else nullcontext()


def optimize(
    db: DataBase,
    dumper: Any = None,
    select: Sequence[str] | None = None,
    scheduler: Any = None,
    repartition: bool = False,
    categorized: bool = False,
    client: Any = None,
) -> list[str]:
    """Rewrite the tables at ``select`` (default: ``synapse_activation``,
    ``cell_activation``, ``voltage_traces`` and every key of ``dendritic_recordings``)
    that are not stored in zdb's native format with its native dumpers, on ``client``
    (or ``scheduler``, or the active dask scheduler); return the keys rewritten.

    As in ISF, keys that are absent are passed over. ``dumper``, ``repartition`` and
    ``categorized`` are accepted for ISF's callers and ignored: ISF itself ignored
    ``dumper``, and zdb's dumpers choose partitions and encode strings themselves.
    """
    del dumper, repartition, categorized
    chosen = DEFAULT_SELECT if select is None else select
    with _on(client, scheduler):
        return _rewrite(db, [k for k in chosen if k in db])


def reoptimize_db(
    db: DataBase,
    client: Any = None,
    progress: bool = False,
    n_db_parents: int = 0,
    suppress_warnings: bool = False,
) -> list[str]:
    """Rewrite every table of ``db`` and its sub-databases that is not stored natively
    (ISF's ``reoptimize_db``, which moved tables between its own formats); return the
    keys rewritten. ``progress`` logs each key at INFO level; ``suppress_warnings`` raises
    the importer's log level to ERROR meanwhile; ``n_db_parents`` is accepted for ISF's
    recursive calls and ignored."""
    del n_db_parents
    level = logger.level
    if suppress_warnings:
        logger.setLevel(logging.ERROR)
    elif progress:
        logger.setLevel(logging.INFO)
    try:
        with _on(client, None):
            return _rewrite(db, list(db.keys()))
    finally:
        logger.setLevel(level)
