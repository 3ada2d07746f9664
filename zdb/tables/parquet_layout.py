"""The Parquet layout of a table: its plan written as Parquet files (with pyarrow).

A table goes through the same codec as in the Zarr layout (:mod:`.plan`,
:mod:`.encodings`), so the same dtypes, labels and indexes round trip exactly; its
arrays become Parquet columns of natural Arrow types instead of Zarr arrays: missing
values are Parquet nulls, categoricals are dictionary columns, datetimes are
timestamps. The version folder holds the Parquet files (``data.parquet``, or one per
dask partition) and a group ``zarr.json`` whose attributes describe the table like the
Zarr layout's (index, column labels, partitions); each Parquet column's field metadata
(key ``zdb``) holds its label and encoding. Index levels other than a RangeIndex are
columns too. Categories, column labels that are not plain JSON and stored divisions are
small Parquet files under ``.zdb/``.
"""

from __future__ import annotations

import functools
import json
import math
from typing import Any

import numpy as np
import pandas as pd

from ..exceptions import DataBaseException, FormatVersionError
from ..storage import Store, join
from . import missing
from .encodings import decode_column, is_arrow, keep_object, with_nulls
from .labels import (
    as_index,
    build_index,
    check_has_columns,
    column_positions,
    index_from_labels,
    label_from_json,
)
from .missing import AS_IS, Guard
from .plan import (
    Slot,
    TablePlan,
    aux_group_of,
    choose_partitions,
    plan_pandas,
    table_description,
    unwrap_index,
)

DATA = "data.parquet"
FIELD_KEY = b"zdb"
#: the version of the Parquet mapping of the codec's arrays
PARQUET_FORMAT = 1


# -- arrays <-> arrow -------------------------------------------------------------------


def slot_to_arrow(plan: TablePlan, slot: Slot, parts: dict[str, Any]) -> Any:
    """The Arrow array storing one encoded pandas array (``parts`` by role)."""
    import pyarrow as pa

    enc = slot.enc
    name = enc["name"]
    values = parts["values"]
    if name == "category":
        cats = slot.categories
        cat_parts = {"values": plan.static[cats.values_path]}
        for role in ("mask", "missing"):
            cat_parts[role] = plan.static.get(cats.aux_path(role))
        dictionary = slot_to_arrow(plan, cats, cat_parts)
        indices = pa.array(values, mask=values < 0)
        return pa.DictionaryArray.from_arrays(indices, dictionary)
    if is_arrow(values):  # Arrow-backed strings, kept as Arrow
        mask = parts.get("mask")
        return values if mask is None else with_nulls(values, mask)
    if values.dtype.kind in "cV" or (values.dtype.kind == "f" and values.dtype.itemsize > 8):
        # no Arrow type for complex and long double numbers: their bytes, as they are
        raw = np.ascontiguousarray(values)
        return pa.FixedSizeBinaryArray.from_buffers(
            pa.binary(raw.dtype.itemsize), len(raw), [None, pa.py_buffer(raw.tobytes())]
        )
    if name in ("masked", "string"):
        mask = parts.get("mask")
        kind = pa.large_string() if name == "string" else None
        return pa.array(values, type=kind, mask=mask)
    if name == "object_str":
        missing = parts.get("missing")
        return pa.array(
            values, type=pa.large_string(), mask=None if missing is None else missing > 0
        )
    if name == "datetime" and enc.get("tz"):
        unit = np.datetime_data(values.dtype)[0]
        return pa.array(values, type=pa.timestamp(unit, tz="UTC"), from_pandas=True)
    if name in ("datetime", "timedelta"):
        return pa.array(values, from_pandas=True)  # NaT: null
    return pa.array(values)


def arrow_to_parts(
    enc: dict[str, Any], info: dict[str, Any], arr: Any, categories: Any = None
) -> dict[str, Any]:
    """Invert :func:`slot_to_arrow`: the codec's parts (``values`` and masks); a
    category column needs its ``categories`` (an Index, stored apart)."""
    import pyarrow as pa

    storage = np.dtype(info["storage"]) if info.get("storage") else None
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    if enc["name"] == "category":
        # the dictionary Parquet gives back need not be the one written (a writer may
        # fall back to plain encoding, an empty file has none): map the values found onto
        # the stored categories
        cat_enc, cat_info = enc["categories"], info.get("categories") or {}
        if pa.types.is_dictionary(arr.type):
            indices = arr.indices.fill_null(-1).to_numpy(zero_copy_only=False)
            arr = arr.dictionary
        else:
            indices = None
            nulls = arr.is_null().to_numpy(zero_copy_only=False)
        cat_parts = arrow_to_parts(cat_enc, cat_info, arr)
        found = as_index(decode_column(cat_enc, cat_parts, "categories"))
        codes = categories.get_indexer(found)
        if indices is not None:
            codes = np.append(codes, -1)[indices]
        else:
            codes[nulls] = -1
        return {"values": codes.astype(storage), "categories": categories}
    if pa.types.is_fixed_size_binary(arr.type):
        data = np.frombuffer(arr.buffers()[1], dtype=storage, count=len(arr) + arr.offset)
        return {"values": data[arr.offset :].copy()}
    if enc["name"] == "string" and enc.get("storage") == "pyarrow":
        return {"values": arr.cast(pa.large_string())}  # nulls and all, no copy
    mask = None
    if arr.null_count:
        mask = arr.is_null().to_numpy(zero_copy_only=False)
        fill: Any = {"string": "", "object_str": ""}.get(enc["name"])
        if fill is None and pa.types.is_floating(arr.type):
            fill = math.nan
        elif fill is None and pa.types.is_boolean(arr.type):
            fill = False
        elif fill is None and (pa.types.is_integer(arr.type)):
            fill = 0
        if fill is not None:
            arr = arr.fill_null(fill)
    values = arr.to_numpy(zero_copy_only=False)
    if storage is not None and storage.kind not in "OT":
        values = values.astype(storage, copy=False)
    parts: dict[str, Any] = {"values": values}
    if enc["name"] in ("masked", "string"):
        parts["mask"] = mask
    return parts


def _field_info(plan: TablePlan, slot: Slot, values: Any, label: Any) -> dict[str, Any]:
    """A column's field metadata; ``label`` is ``...`` for arrays that are no column."""

    storage = None if is_arrow(values) or values.dtype.kind in "OT" else values.dtype.str
    info: dict[str, Any] = {"encoding": slot.enc, "storage": storage}
    if label is not ...:
        info["label"] = label
    if slot.categories is not None:
        cats = plan.static[slot.categories.values_path]
        info["categories"] = _field_info(plan, slot.categories, cats, ...)
    return info


def to_arrow(plan: TablePlan, arrays: dict[str, Any], slots: list[Slot], labels: list[Any]) -> Any:
    """The Arrow table of ``slots`` (with their encoded ``arrays``), one column each, plus
    the marker columns of object columns with missing values."""
    import pyarrow as pa

    fields, columns = [], []
    for slot, label in zip(slots, labels, strict=True):
        parts = {"values": arrays[slot.values_path]}
        for role in ("mask", "missing"):
            parts[role] = arrays.get(slot.aux_path(role))
        column = slot_to_arrow(plan, slot, parts)
        info = _field_info(plan, slot, parts["values"], label)
        metadata = {FIELD_KEY: json.dumps(info).encode()}
        fields.append(pa.field(slot.values_path, column.type, metadata=metadata))
        columns.append(column)
        if slot.enc["name"] == "object_str" and slot.enc.get("missing"):
            markers = parts["missing"]
            if markers is None:
                markers = np.zeros(len(parts["values"]), dtype=np.uint8)
            fields.append(pa.field(slot.aux_path("missing"), pa.uint8()))
            columns.append(pa.array(markers))
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def row_slots(plan: TablePlan) -> tuple[list[Any], list[Any]]:
    """The row-aligned slots of a plan (columns, then index levels) and their labels."""
    table = plan.table
    labels: list[Any] = []
    if table["type"] == "Series":
        labels.append(table.get("name"))
    else:
        labels += [plan.nodes[slot.values_path].attrs["zdb"].get("label") for slot in plan.columns]
    index = table["index"]
    labels += list(index.get("names", [])) if index["kind"] == "arrays" else []
    return [*plan.columns, *plan.index_levels], labels


# -- files ------------------------------------------------------------------------------


def write_parquet(store: Store, path: str, table: Any, **kwargs: Any) -> None:
    """Write an Arrow table as a Parquet file at ``path`` of ``store``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    full = store.local_path(path)
    if full is not None:
        import os

        os.makedirs(os.path.dirname(full), exist_ok=True)
        pq.write_table(table, full, **kwargs)
        return
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, **kwargs)
    store.write_bytes(path, sink.getvalue().to_pybytes())


def parquet_file(store: Store, path: str) -> Any:
    """A ``pyarrow.parquet.ParquetFile`` for ``path`` of ``store``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    full = store.local_path(path)
    if full is not None:
        return pq.ParquetFile(full, memory_map=True)
    return pq.ParquetFile(pa.BufferReader(store.read_bytes(path)))


def write_static(store: Store, root: str, plan: TablePlan, compression: str) -> None:
    """Write the arrays known when planning (categories, column labels that are not
    plain JSON, stored divisions), each as a one-column file ``<values path>.parquet``."""
    for slot in plan.slots.values():
        if slot.values_path in plan.static:
            table = to_arrow(plan, plan.static, [slot], [...])
            path = join(root, slot.values_path + ".parquet")
            write_parquet(store, path, table, compression=compression)


def group_attrs(plan: TablePlan, files: list[str]) -> dict[str, Any]:
    """The group attributes: the table description plus where its rows are."""
    table = dict(plan.table)
    table.update(storage="parquet", parquet_format=PARQUET_FORMAT, files=files)
    return {"zdb": {"table": table}}


# -- reading ----------------------------------------------------------------------------


class ParquetTable:
    """A table stored as Parquet files, opened for reading; ``guard`` gives the error
    for a file found missing (see :mod:`.missing`)."""

    def __init__(self, store: Store, root: str, guard: Guard = AS_IS) -> None:
        self.store = store
        self.root = root
        self.guard = guard
        doc = json.loads(missing.read_bytes(store, join(root, "zarr.json"), guard))
        table = table_description(doc, store.full(root), "parquet")
        if table.get("parquet_format", 1) > PARQUET_FORMAT:
            raise FormatVersionError(
                f"the table at {store.full(root)} was written by a newer zdb; upgrade zdb"
            )
        self.table = table
        self.files = table["files"]
        bounds = [0]
        for n in table["partitions"]:
            bounds.append(bounds[-1] + n)
        self.bounds = bounds
        self._fields: dict[str, Any] | None = None
        self._statics: dict[str, Any] = {}

    @property
    def where(self) -> str:
        return self.store.full(self.root)

    def _file(self, name: str) -> Any:
        """The ``ParquetFile`` of the file ``name`` of the table, which must exist."""
        try:
            return parquet_file(self.store, join(self.root, name))
        except FileNotFoundError as e:
            raise self.guard.missing(e) from None

    def fields(self) -> dict[str, dict[str, Any]]:
        """The zdb field metadata of every column, by column name."""
        if self._fields is None:
            schema = self._file(self.files[0]).schema_arrow
            self._fields = {
                f.name: json.loads(f.metadata[FIELD_KEY])
                for f in schema
                if f.metadata and FIELD_KEY in f.metadata
            }
        return self._fields

    def static_values(self, values_path: str) -> Any:
        """The decoded array of a static slot (a file ``<values path>.parquet``)."""
        found = self._statics.get(values_path)
        if found is None:
            pf = self._file(values_path + ".parquet")
            data = pf.read()
            found = self._decode_column(data, pf.schema_arrow.field(0).name, values_path)
            self._statics[values_path] = found
        return found

    def _decode_column(self, data: Any, name: str, values_path: str) -> Any:

        info = json.loads(data.schema.field(name).metadata[FIELD_KEY])
        enc = info["encoding"]
        categories = None
        if enc["name"] == "category":
            group = aux_group_of(values_path)
            categories = as_index(self.static_values(f"{group}/categories/values"))
        parts = arrow_to_parts(enc, info, data.column(name), categories)
        if _markers(info):
            parts["missing"] = data.column(f"{aux_group_of(values_path)}/missing").to_numpy()
        return decode_column(enc, parts, f"{values_path} in {self.where}")

    def _static(self, desc: dict[str, Any]) -> Any:

        if desc["kind"] != "arrays":
            return index_from_labels(desc)
        return build_index(desc, [self.static_values(p) for p in desc["arrays"]])

    @property
    def columns(self) -> Any:
        return self._static(self.table["columns"])

    @property
    def divisions(self) -> tuple[Any, ...] | None:
        desc = self.table.get("divisions")
        return None if desc is None else tuple(self._static(desc))

    def positions(self, columns: Any) -> list[int] | None:

        if columns is None:
            return None
        check_has_columns(self.table, self.where)
        return column_positions(self.columns, columns, self.where)

    def column_chunks(self, positions: list[int] | None) -> list[int]:
        """The stored chunk of each column at ``positions`` (None: all): in Parquet,
        each column's own."""
        return list(range(len(self.columns))) if positions is None else list(positions)

    def _read(self, names: list[str], rows: tuple[int, int]) -> Any:
        """Columns ``names`` of rows ``rows``, as one Arrow table."""
        import pyarrow as pa

        start, stop = rows
        if len(self.files) == 1:
            spans = [(self.files[0], 0, self.bounds[-1])]
        else:
            spans = [(f, self.bounds[i], self.bounds[i + 1]) for i, f in enumerate(self.files)]
        pieces: dict[int, Any] = {}
        jobs = []
        for i, (name, lo, hi) in enumerate(spans):
            if hi <= start or lo >= stop and not (lo == hi == start == stop == 0 and i == 0):
                continue

            def job(i: int = i, name: str = name, lo: int = lo) -> None:
                pf = parquet_file(self.store, join(self.root, name))
                groups, offset, first = [], lo, None
                for g in range(pf.metadata.num_row_groups):
                    n = pf.metadata.row_group(g).num_rows
                    if offset < stop and offset + n > start:
                        groups.append(g)
                        first = offset if first is None else first
                    offset += n
                if not groups:
                    pieces[i] = pf.schema_arrow.empty_table().select(names)
                    return
                got = pf.read_row_groups(groups, columns=names, use_threads=True)
                a = max(0, start - first)
                pieces[i] = got.slice(a, min(stop, offset) - first - a)

            jobs.append(job)
        missing.run(jobs, self.store, self.guard)
        if not pieces:
            schema = self._file(self.files[0]).schema_arrow
            return schema.empty_table().select(names)
        return pa.concat_tables([pieces[i] for i in sorted(pieces)])

    def read(self, rows: tuple[int, int] | None = None, columns: Any = None) -> Any:

        span = (0, self.bounds[-1]) if rows is None else rows
        positions = self.positions(columns)
        table = self.table
        fields = self.fields()
        arrays = table["arrays"]
        chosen = list(range(len(arrays))) if positions is None else positions
        index_desc = table["index"]
        index_names = index_desc["arrays"] if index_desc["kind"] == "arrays" else []
        wanted = [arrays[p] for p in chosen] + index_names
        names = list(dict.fromkeys(wanted))
        names += [f"{aux_group_of(n)}/missing" for n in names if _markers(fields[n])]
        data = self._read(names, span)

        def decoded(name: str) -> Any:
            return self._decode_column(data, name, name)

        if index_desc["kind"] == "arrays":
            index = build_index(index_desc, [decoded(n) for n in index_names])
        else:
            index = index_from_labels(index_desc)[span[0] : span[1]]
        if table["type"] == "Series":
            values = decoded(arrays[0])
            name = label_from_json(table.get("name"))
            return pd.Series(values, index=index, name=name, dtype=values.dtype, copy=False)
        columns_index = self.columns
        if positions is not None:
            columns_index = columns_index.take(positions)
        frame_data = {i: keep_object(decoded(arrays[p]), index) for i, p in enumerate(chosen)}
        frame = (
            pd.DataFrame(frame_data, index=index, copy=False)
            if frame_data
            else pd.DataFrame(index=index)
        )
        frame.columns = columns_index
        return frame


def _markers(info: dict[str, Any]) -> bool:
    enc = info["encoding"]
    return enc["name"] == "object_str" and bool(enc.get("missing"))


@functools.lru_cache(maxsize=32)
def open_parquet_table(store: Store, root: str, guard: Guard = AS_IS) -> ParquetTable:
    """The Parquet table at ``root``; cached, as a version folder never changes."""
    return ParquetTable(store, root, guard)


# -- writing ----------------------------------------------------------------------------


def finish_table(
    store: Store, root: str, plan: TablePlan, files: list[str], compression: str
) -> None:
    """Write what follows the rows: the static arrays and the group ``zarr.json``."""
    from ..format import group_document

    write_static(store, root, plan, compression)
    store.write_bytes(join(root, "zarr.json"), group_document(group_attrs(plan, files)))


def write_table(
    store: Store, root: str, value: pd.DataFrame | pd.Series | pd.Index, compression: str
) -> dict[str, Any]:
    """Write a pandas DataFrame, Series or Index as ``data.parquet`` (each partition a
    row group) under ``root``; ``compression`` as for pyarrow. Returns the table
    description."""
    import pyarrow.parquet as pq

    value, plan = plan_pandas(value, layout="columns", source="pandas")
    arrays = plan.encode_rows(value)
    plan.prune(arrays.items())
    choose_partitions(plan, value.index, rows=1)
    slots, labels = row_slots(plan)
    arrow = to_arrow(plan, arrays, slots, labels)
    bounds = np.concatenate([[0], np.cumsum(plan.table["partitions"])]).astype(int)
    path = join(root, DATA)
    sink: Any = store.local_path(path)
    if sink is not None:
        import os

        os.makedirs(os.path.dirname(sink), exist_ok=True)
    else:
        import pyarrow as pa

        sink = pa.BufferOutputStream()
    with pq.ParquetWriter(sink, arrow.schema, compression=compression) as writer:
        for a, b in zip(bounds[:-1], bounds[1:], strict=True):
            writer.write_table(arrow.slice(a, b - a), row_group_size=max(1, b - a))
    if store.local_path(path) is None:
        store.write_bytes(path, sink.getvalue().to_pybytes())
    finish_table(store, root, plan, [DATA], compression)
    return plan.table


def refuse_xarray(store: Store, root: str) -> DataBaseException:
    """The error for an xarray view of a Parquet table, which has none."""
    return DataBaseException(
        f"{store.full(root)} is stored as Parquet, which has no xarray view; read it with "
        "db[key] (and convert), or store it with pandas_to_zarr"
    )


def read_table(store: Store, root: str, columns: Any = None, guard: Guard = AS_IS) -> Any:
    """Read the whole Parquet table at ``root`` (or only ``columns``) as pandas."""
    table = open_parquet_table(store, root, guard)
    return unwrap_index(table.table, table.read(columns=columns))
