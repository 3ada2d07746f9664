"""``dask_to_parquet``: dask DataFrames and Series as one Parquet file per partition.

Chosen only when asked for by name. The layout is that of ``pandas_to_parquet``
(same codec, same group attributes), with the files ``part.<i>.parquet``, each
written by the task computing partition ``i`` on whatever scheduler is active. A
first pass (as for ``dask_to_zarr``) finds the partition lengths, a RangeIndex, the
divisions and the categories dask does not know, so that every file is written with
the same schema and the partitions read back as they were
(:mod:`zdb.tables.dask_frames`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...dumper import Dumper, Target
from ...dumper_registry import register
from ...exceptions import UnsupportedValueError
from ...tables import is_dask_table

#: the names this module had before its code moved to zdb.tables.dask_frames
_MOVED = frozenset({"PartitionWriter", "file_name"})


class DaskToParquet(Dumper):
    name = "dask_to_parquet"
    always_writes = True
    lazy_default = True

    def handles(self, value: Any) -> bool:
        return False  # chosen only by name

    def dump(
        self,
        value: Any,
        target: Target,
        compression: str = "snappy",
        lengths: Sequence[int] | None = None,
        client: Any = None,
        scheduler: Any = None,
        repartition: int | bool | None = None,
        categorize: bool = False,
        schema: Any = None,
    ) -> dict[str, Any]:
        """Write the frame ``value`` computes to, a Parquet file per partition;
        ``lengths``, ``client``, ``scheduler``, ``repartition`` and ``categorize`` as for
        ``dask_to_zarr``; ``schema`` (a ``pyarrow.Schema`` or a dict of column to type):
        the named columns are cast to these types before they are written."""
        from ...tables import dask_frames, plan, write_options

        if not is_dask_table(value):
            raise UnsupportedValueError(
                f"dask_to_parquet stores dask DataFrames and Series, not {type(value).__qualname__}"
            )
        value = write_options.prepare(
            value,
            f"dask_to_parquet, {target.key}",
            categorize=categorize,
            schema=schema,
            repartition=repartition,
            lengths=lengths,
        )
        table = dask_frames.write_parquet(
            target.store,
            target.path,
            value,
            compression=compression,
            lengths=lengths,
            scheduler=write_options.scheduler_of(client, scheduler),
        )
        ncols = 1 if value.ndim == 1 else len(value.columns)
        nfiles = len(table["partitions"])
        return {
            "type": f"dask.dataframe.{plan.table_type(value)}",
            "summary": f"{plan.summary(table, ncols)}, {nfiles} partitions, parquet",
        }

    def load(
        self,
        target: Target,
        info: dict[str, Any],
        *,
        lazy: bool = False,
        as_xarray: bool = False,
        columns: Any = None,
        verbose: bool = False,
    ) -> Any:
        """The layout of ``pandas_to_parquet``, read the same way (``db[key]`` lazy by
        default); ``verbose`` as for ``dask_to_zarr``."""
        from ...tables import reading

        value = reading.read_parquet(
            target.store,
            target.path,
            lazy=lazy,
            as_xarray=as_xarray,
            columns=columns,
            guard=target,
        )
        return reading.report_divisions(value) if verbose else value


def __getattr__(name: str) -> Any:
    """A name this module had before its code moved to :mod:`zdb.tables.dask_frames`."""
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from ...tables import dask_frames

    return getattr(dask_frames, name)


dumper = register(DaskToParquet())
