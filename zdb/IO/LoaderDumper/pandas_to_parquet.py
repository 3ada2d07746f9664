"""``pandas_to_parquet``: pandas DataFrames and Series as Parquet files (with pyarrow).

Chosen only when asked for by name. The value goes through the same codec as
``pandas_to_zarr`` (:mod:`zdb.tables`), so the same dtypes, labels and indexes round
trip exactly; its arrays become Parquet columns of natural Arrow types instead of
Zarr arrays (the Parquet layout, :mod:`zdb.tables.parquet_layout`). The version folder
holds ``data.parquet`` and a group ``zarr.json`` describing the table.
"""

from __future__ import annotations

from typing import Any

from ...dumper import Dumper, Target
from ...dumper_registry import register
from ...exceptions import UnsupportedValueError
from ...tables import is_pandas_table

#: the names this module had before the Parquet layout moved to zdb.tables.parquet_layout
_MOVED = frozenset(
    {
        "DATA",
        "FIELD_KEY",
        "PARQUET_FORMAT",
        "ParquetTable",
        "arrow_to_parts",
        "group_attrs",
        "open_parquet_table",
        "parquet_file",
        "row_slots",
        "slot_to_arrow",
        "to_arrow",
        "write_parquet",
        "write_static",
    }
)


def load_parquet(target: Target, *, lazy: bool | None, as_xarray: bool, columns: Any = None) -> Any:
    """Read a Parquet table as pandas or a lazy dask frame (it has no xarray view)."""
    from ...tables import reading

    return reading.read_parquet(
        target.store,
        target.path,
        lazy=lazy,
        as_xarray=as_xarray,
        columns=columns,
        guard=target,
    )


class PandasToParquet(Dumper):
    name = "pandas_to_parquet"
    always_writes = True

    def handles(self, value: Any) -> bool:
        return False  # chosen only by name

    def dump(
        self,
        value: Any,
        target: Target,
        compression: str = "snappy",
        categorize: bool = False,
        schema: Any = None,
    ) -> dict[str, Any]:
        """Write ``value`` as ``data.parquet``; ``compression`` as for pyarrow;
        ``categorize`` and ``schema`` as for ``dask_to_parquet``."""
        import pandas as pd

        from ...tables import parquet_layout, plan, write_options

        if not is_pandas_table(value):
            raise UnsupportedValueError(
                "pandas_to_parquet stores pandas DataFrames, Series and Index objects, not "
                f"{type(value).__qualname__}"
            )
        if categorize or schema is not None:
            if isinstance(value, pd.Index):
                raise UnsupportedValueError(
                    f"pandas_to_parquet, {target.key}: categorize= and schema= apply to "
                    "the columns of a DataFrame or Series, not to an Index"
                )
            value = write_options.prepare(
                value, f"pandas_to_parquet, {target.key}", categorize=categorize, schema=schema
            )
        table = parquet_layout.write_table(target.store, target.path, value, compression)
        ncols = 1 if value.ndim == 1 else value.shape[1]
        return {
            "type": f"pandas.{plan.table_type(value)}",
            "summary": plan.summary(table, ncols) + ", parquet",
        }

    def load(
        self,
        target: Target,
        info: dict[str, Any],
        *,
        lazy: bool = False,
        as_xarray: bool = False,
        columns: Any = None,
    ) -> Any:
        return load_parquet(target, lazy=lazy, as_xarray=as_xarray, columns=columns)


def __getattr__(name: str) -> Any:
    """A name this module had before its code moved to :mod:`zdb.tables.parquet_layout`."""
    if name == "ParquetPartitionReader":  # one reader for both layouts now
        import functools

        from ...tables import dask_frames

        return functools.partial(dask_frames.PartitionReader, layout="parquet")
    if name not in _MOVED:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from ...tables import parquet_layout

    return getattr(parquet_layout, name)


dumper = register(PandasToParquet())
