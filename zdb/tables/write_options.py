"""ISF's write keywords for tables, as changes of the frame before the table codec
writes it: ``categorize=`` (string columns as categoricals), ``schema=`` (Parquet
column types), ``repartition=`` (at most so many partitions), ``rows_per_file=``
(rows per chunk file). The table dumpers apply them; ``client=`` and ``scheduler=``
go to :mod:`.dask_frames` as the scheduler of the write."""

from __future__ import annotations

import numbers
from typing import Any

import pandas as pd

from ..exceptions import UnknownDumperError, UnsupportedValueError

#: ISF's ``repartition=True`` (``dask_to_msgpack``): merge down to this many partitions
ISF_MAX_PARTITIONS = 10000


def _is_string_dtype(dtype: Any) -> bool:
    return (
        dtype == object  # noqa: E721 (a numpy or pandas dtype compares to object)
        or isinstance(dtype, pd.StringDtype)
    )


def categorize_strings(frame: Any) -> Any:
    """``frame`` (pandas or dask) with its string columns (object or string dtype) as
    categoricals, as ISF's ``dask_to_categorized_msgpack`` stored them; the index is
    left as it is. On dask the categories are found by the write's first pass."""
    if frame.ndim == 1:
        return frame.astype("category") if _is_string_dtype(frame.dtype) else frame
    columns = [i for i, dtype in enumerate(frame.dtypes) if _is_string_dtype(dtype)]
    if not columns:
        return frame
    if frame.columns.is_unique:
        return frame.astype({frame.columns[i]: "category" for i in columns})
    frame = frame.copy()
    for i in columns:
        frame.isetitem(i, frame.iloc[:, i].astype("category"))
    return frame


def apply_schema(frame: Any, schema: Any, where: str) -> Any:
    """``frame`` with the columns a ``pyarrow.Schema`` (or a dict of column to Arrow or
    numpy type) names cast to those types, so that the Parquet files hold them; a
    column the schema names that the frame lacks, or a value that does not convert,
    raises naming it. (ISF accepted ``schema=`` and did not use it.)"""
    if schema is None:
        return frame
    import pyarrow as pa

    if isinstance(schema, pa.Schema):
        wanted = {field.name: field.type for field in schema}
    elif isinstance(schema, dict):
        wanted = dict(schema)
    else:
        raise UnknownDumperError(
            f"{where}: schema= takes a pyarrow.Schema or a dict of column to type, not "
            f"{type(schema).__qualname__}"
        )
    names = [frame.name] if frame.ndim == 1 else list(frame.columns)
    missing = [name for name in wanted if name not in names]
    if missing:
        raise UnsupportedValueError(
            f"{where}: the schema names the column(s) {missing}, which the frame does not "
            f"have (it has {names[:20]}); fix the schema or the frame"
        )
    dtypes = {name: _pandas_dtype(t) for name, t in wanted.items()}
    try:
        return frame.astype(dtypes[frame.name]) if frame.ndim == 1 else frame.astype(dtypes)
    except (TypeError, ValueError) as e:
        raise UnsupportedValueError(
            f"{where}: the frame does not convert to the schema: {e}"
        ) from e


def _pandas_dtype(arrow_or_numpy: Any) -> Any:
    import pyarrow as pa

    if not isinstance(arrow_or_numpy, pa.DataType):
        return arrow_or_numpy
    if pa.types.is_dictionary(arrow_or_numpy):
        return "category"
    if pa.types.is_string(arrow_or_numpy) or pa.types.is_large_string(arrow_or_numpy):
        return object
    return arrow_or_numpy.to_pandas_dtype()


def merge_partitions(ddf: Any, repartition: Any) -> Any:
    """``ddf`` with at most ``repartition`` partitions, neighbours merged as ISF did
    (``True`` means ISF's 10000; False, None and 0 leave it as it is); a frame of fewer
    partitions is kept, never split."""
    if repartition is None or repartition is False:
        return ddf
    limit = ISF_MAX_PARTITIONS if repartition is True else repartition
    if not isinstance(limit, numbers.Integral) or limit < 0:
        raise UnknownDumperError(
            f"repartition= takes a number of partitions or True, not {repartition!r}"
        )
    if limit == 0 or ddf.npartitions <= limit:
        return ddf
    return ddf.repartition(npartitions=int(limit))


def chunk_rows_of(chunk_rows: int | None, rows_per_file: int | None) -> int | None:
    """The rows per chunk from ``chunk_rows`` or ISF's ``rows_per_file`` (each chunk is a
    file per column); both at once must agree."""
    if rows_per_file is None:
        return chunk_rows
    if chunk_rows is not None and chunk_rows != rows_per_file:
        raise UnknownDumperError(
            f"chunk_rows={chunk_rows} and rows_per_file={rows_per_file} disagree; give one of them"
        )
    return int(rows_per_file)


def prepare(
    value: Any,
    where: str,
    *,
    categorize: bool = False,
    schema: Any = None,
    repartition: Any = None,
    lengths: Any = None,
) -> Any:
    """``value`` as the keywords ask it to be written (see the functions above);
    ``lengths`` given for a frame whose partitions ``repartition`` merges raises."""
    if repartition is not None and hasattr(value, "npartitions"):
        merged = merge_partitions(value, repartition)
        if merged.npartitions != value.npartitions and lengths is not None:
            raise UnknownDumperError(
                f"{where}: lengths= gives the lengths of the frame's {value.npartitions} "
                f"partitions, which repartition={repartition!r} merges; give one of them"
            )
        value = merged
    if categorize:
        value = categorize_strings(value)
    return apply_schema(value, schema, where)


def scheduler_of(client: Any, scheduler: Any) -> Any:
    """The scheduler of a write from ISF's keywords: ``client`` (a
    ``distributed.Client``, whose cluster runs the write) before ``scheduler`` (as for
    ``dask.compute``), as ISF's dumpers chose; None: the active one."""
    return client if client is not None else scheduler
