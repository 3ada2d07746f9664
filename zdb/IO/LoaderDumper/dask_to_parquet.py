"""``dask_to_parquet``: dask DataFrames and Series as one Parquet file per partition.

Chosen only when asked for by name. The layout is that of ``pandas_to_parquet``
(same codec, same group attributes), with the files ``part.<i>.parquet``, each
written by the task computing partition ``i`` on whatever scheduler is active. A
first pass (as for ``dask_to_zarr``) finds the partition lengths, a RangeIndex, the
divisions and the categories dask does not know, so that every file is written with
the same schema and the partitions read back as they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ...dumper import Dumper, Target
from ...dumper_registry import register
from ...exceptions import DataBaseException, UnsupportedValueError
from ...storage import join
from . import pandas_to_parquet as pq_dumper
from .dask_to_zarr import Failed, guarded_write, is_dask_table, run_writes, survey


class PartitionWriter:
    """Writes one partition as ``part.<i>.parquet`` in a dask task."""

    def __init__(self, plan: Any, target: Target, compression: str) -> None:
        self.plan = plan
        self.store = target.store
        self.root = target.path
        self.compression = compression

    def write(self, part: Any, i: int, expected: int) -> int | Failed:
        return guarded_write(self.store, self.root, lambda: self._write(part, i, expected))

    def _write(self, part: Any, i: int, expected: int) -> int:
        if len(part) != expected:
            raise DataBaseException(
                f"writing {self.store.full(self.root)}: partition {i} came out {len(part)} "
                f"rows long, not {expected} as in the first pass or the lengths given; the "
                "lengths must be right, and the dask frame must compute the same data every "
                "time (persist it, or fix its random seeds)"
            )
        arrays = self.plan.encode_rows(part)
        slots, labels = pq_dumper.row_slots(self.plan)
        table = pq_dumper.to_arrow(self.plan, arrays, slots, labels)
        pq_dumper.write_parquet(
            self.store, join(self.root, file_name(i)), table, compression=self.compression
        )
        return len(part)


def file_name(i: int) -> str:
    return f"part.{i}.parquet"


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
    ) -> dict[str, Any]:
        """Write the frame ``value`` computes to, a Parquet file per partition;
        ``lengths`` as for ``dask_to_zarr``."""
        import dask

        from ... import tables
        from ...format import group_document

        if not is_dask_table(value):
            raise UnsupportedValueError(
                f"dask_to_parquet stores dask DataFrames and Series, not {type(value).__qualname__}"
            )
        found = survey(value, lengths)
        nrows = sum(found.lengths)
        plan = tables.plan_table(
            found.sample, nrows, range_index=found.range_index, layout="columns", source="dask"
        )
        tables.set_partitions(plan, found.lengths, found.divisions)
        writer = dask.delayed(PartitionWriter(plan, target, compression), pure=True)
        tasks = [
            writer.write(part, i, n)
            for i, (part, n) in enumerate(zip(value.to_delayed(), found.lengths, strict=True))
        ]
        written = run_writes(target.store, target.path, tasks)
        if written != nrows:
            raise DataBaseException(
                f"writing {target.full}: {written} rows written, {nrows} expected"
            )
        pq_dumper.write_static(target.store, target.path, plan, compression)
        files = [file_name(i) for i in range(len(found.lengths))]
        target.store.write_bytes(
            join(target.path, "zarr.json"),
            group_document(pq_dumper.group_attrs(plan, files)),
        )
        sample = found.sample
        ncols = 1 if sample.ndim == 1 else sample.shape[1]
        return {
            "type": f"dask.dataframe.{tables.table_type(sample)}",
            "summary": f"{tables.summary(plan.table, ncols)}, {len(files)} partitions, parquet",
        }

    #: the layout of ``pandas_to_parquet``, read the same way (``db[key]`` lazy by default)
    load = pq_dumper.PandasToParquet.load


dumper = register(DaskToParquet())
