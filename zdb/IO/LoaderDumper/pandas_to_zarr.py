"""``pandas_to_zarr``: pandas DataFrames, Series and Index objects as Zarr arrays, one
per column.

The layout and the per-column encodings are those of :mod:`zdb.tables` (see
docs/format.md): numeric columns are plain Zarr arrays that ``xarray.open_zarr``
reads without zdb, and every dtype pandas offers for tables (nullable, strings,
categoricals, datetimes with time zones, periods, ...) comes back exactly.
``db[key]`` returns pandas, ``lazy=True`` a dask frame reading only what is computed,
``as_xarray=True`` an xarray view; all take ``columns=``.
"""

from __future__ import annotations

from typing import Any

from ...dumper import Dumper, Target
from ...dumper_registry import register
from ...exceptions import UnsupportedValueError
from ...tables import is_pandas_table


def load_table(
    target: Target,
    *,
    lazy: bool | None,
    as_xarray: bool,
    columns: Any = None,
) -> Any:
    """Read a table written in the Zarr layout of :mod:`zdb.tables` as pandas, dask or
    xarray."""
    from ...tables import reading

    return reading.read_zarr(
        target.store,
        target.path,
        lazy=lazy,
        as_xarray=as_xarray,
        columns=columns,
        guard=target,
    )


class PandasToZarr(Dumper):
    name = "pandas_to_zarr"
    always_writes = True
    priority = 10

    def handles(self, value: Any) -> bool:
        return is_pandas_table(value)

    def dump(
        self,
        value: Any,
        target: Target,
        layout: str = "auto",
        chunk_rows: int | None = None,
        compression_level: int | None = None,
        categorize: bool = False,
        rows_per_file: int | None = None,
    ) -> dict[str, Any]:
        """Write ``value``. ``layout``: "auto", "columns" (one array per column) or
        "block" (one 2-D array; all columns of one numeric dtype); ``chunk_rows``: rows
        per chunk; ``compression_level``: zstd level (default 3). ISF's keywords:
        ``categorize``: string columns as categoricals; ``rows_per_file``: rows per
        chunk (each chunk is a file per column), ``chunk_rows``'s ISF name."""
        import pandas as pd

        from ...tables import plan, write_options, zarr_layout

        if not is_pandas_table(value):
            raise UnsupportedValueError(
                f"pandas_to_zarr stores pandas DataFrames, Series and Index objects, not "
                f"{type(value).__qualname__}"
            )
        if categorize and not isinstance(value, pd.Index):
            value = write_options.categorize_strings(value)
        level = zarr_layout.ZSTD_LEVEL if compression_level is None else compression_level
        table = zarr_layout.write_table(
            target.store,
            target.path,
            value,
            layout=layout,
            chunk_rows=write_options.chunk_rows_of(chunk_rows, rows_per_file),
            level=level,
        )
        ncols = 1 if value.ndim == 1 else value.shape[1]
        return {
            "type": f"pandas.{plan.table_type(value)}",
            "summary": plan.summary(table, ncols),
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
        return load_table(target, lazy=lazy, as_xarray=as_xarray, columns=columns)


dumper = register(PandasToZarr())
