"""``dask_to_zarr``: dask DataFrames and Series in the layout of ``pandas_to_zarr``.

The frame is written in parallel by whatever dask scheduler is active (threads,
processes or a ``distributed.Client``) and is never collected in one process (see
:mod:`zdb.tables.dask_frames`): every task writes whole Zarr chunks, so that no two
tasks ever write the same chunk.

What is stored is what the frame computes to. ``db[key]`` gives it back as a dask
frame (as ISF did) with the same partitions, and divisions when they were known or
the index is sorted; ``.compute()`` gives pandas. The layout is that of
``pandas_to_zarr``, so either dumper's keys read both ways.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...dumper import Dumper, Target
from ...dumper_registry import register
from ...exceptions import UnsupportedValueError
from ...tables import is_dask_table

#: the names this module had before its code moved to zdb.tables, and their modules there
_MOVED = {
    "ABORT": "dask_frames",
    "Failed": "dask_frames",
    "RowWriter": "dask_frames",
    "Survey": "dask_frames",
    "guarded_write": "dask_frames",
    "run_writes": "dask_frames",
    "survey": "dask_frames",
    "write_tasks": "dask_frames",
    "aligned_chunk_rows": "plan",
}


class DaskToZarr(Dumper):
    name = "dask_to_zarr"
    always_writes = True
    priority = 10
    lazy_default = True

    def handles(self, value: Any) -> bool:
        return is_dask_table(value)

    def dump(
        self,
        value: Any,
        target: Target,
        layout: str = "auto",
        chunk_rows: int | None = None,
        compression_level: int | None = None,
        lengths: Sequence[int] | None = None,
        client: Any = None,
        scheduler: Any = None,
        repartition: int | bool | None = None,
        categorize: bool = False,
        rows_per_file: int | None = None,
        read_partitions: tuple[Sequence[int], Sequence[Any]] | None = None,
        shard_rows: int | None = None,
        sample: Any = None,
    ) -> dict[str, Any]:
        """Write the frame ``value`` computes to, in parallel; keywords as for
        ``pandas_to_zarr``. ``lengths``: the rows of each partition, when the caller
        knows them (as in ``to_dask_array``): with known divisions and categories this
        saves the first pass, which computes every partition whose index dask cannot
        compute alone. A partition that comes out of another length raises.

        ISF's keywords: ``client`` (a ``distributed.Client``: its cluster writes) or
        ``scheduler`` (as for ``dask.compute``), by default the active scheduler;
        ``repartition``: write at most this many partitions (``True``: 10000), merging
        neighbours; ``categorize``: string columns as categoricals; ``rows_per_file``:
        ``chunk_rows``. ``read_partitions``: ``(lengths, divisions)`` of the partitions
        a lazy read gives, when they differ from the frame's (whose partitions then only
        split the writing; an importer writes chunk-aligned row ranges and reads by
        trial). ``shard_rows``: store the chunks of every ``shard_rows`` rows (a multiple
        of ``chunk_rows``) in one file, a Zarr shard: far fewer files for a table of
        many chunks, each written whole by one task (best with partitions of whole
        shards); a read of a few rows reads their shard. ``sample``: some of the frame's
        rows (pandas), from which each numeric column's compressor is chosen as for a
        pandas write (Blosc with or without its byte shuffle, or zstd); without it, from
        the dtype alone."""
        from ...tables import dask_frames, plan, write_options

        if not is_dask_table(value):
            raise UnsupportedValueError(
                f"dask_to_zarr stores dask DataFrames and Series, not {type(value).__qualname__}"
            )
        value = write_options.prepare(
            value,
            f"dask_to_zarr, {target.key}",
            categorize=categorize,
            repartition=repartition,
            lengths=lengths,
        )
        table = dask_frames.write_zarr(
            target.store,
            target.path,
            value,
            layout=layout,
            chunk_rows=write_options.chunk_rows_of(chunk_rows, rows_per_file),
            level=compression_level,
            lengths=lengths,
            scheduler=write_options.scheduler_of(client, scheduler),
            read_partitions=read_partitions,
            shard_rows=shard_rows,
            sample=sample,
        )
        ncols = 1 if value.ndim == 1 else len(value.columns)
        return {
            "type": f"dask.dataframe.{plan.table_type(value)}",
            "summary": plan.summary(table, ncols) + f", {len(table['partitions'])} partitions",
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
        """The layout of ``pandas_to_zarr``, read the same way (``db[key]`` lazy by
        default). ``verbose``: print whether the dask frame's divisions are known, as
        ISF's loader did."""
        from ...tables import reading

        value = reading.read_zarr(
            target.store,
            target.path,
            lazy=lazy,
            as_xarray=as_xarray,
            columns=columns,
            guard=target,
        )
        return reading.report_divisions(value) if verbose else value


def __getattr__(name: str) -> Any:
    """A name this module had before its code moved to :mod:`zdb.tables`."""
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from ...tables import dask_frames, plan

    return getattr(dask_frames if _MOVED[name] == "dask_frames" else plan, name)


dumper = register(DaskToZarr())
