"""Loaders of ISF's table dumpers.

- ``pandas_to_pickle``: ``pandas_to_pickle.pickle`` (a pickle: under the policy);
- ``pandas_to_msgpack``: ``pandas_to_msgpack``, or pieces ``pandas_to_msgpack_<n>``;
- ``pandas_to_parquet``: ``pandas_to_parquet.parquet`` with ``object_meta.json``;
- ``dask_to_parquet``: ``pandas_to_parquet.<n>.<i>.parquet`` per partition, with
  ``object_meta.json`` and ``divisions.json``;
- ``dask_to_msgpack``, ``dask_to_categorized_msgpack``: ``dask_to_msgpack.<i>.csv`` per
  partition (pandas' msgpack format, despite the name), with the index name and the
  divisions in ``Loader.json``.

Parquet stores column names as str: ``object_meta.json`` (``columns``,
``column_name_dtypes``, ``dtypes``, ``index_dtype``, ``index_name``,
``index_name_dtype``) gives them back their types, as ISF did. The categorized
dumper turned string columns into categoricals to save space; they come back as strings
unless ``object_meta.json`` says the column was categorical when it was written.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

import numpy as np

from ..exceptions import CorruptKeyError
from ..tables.dask_frames import dask_frame
from .layout import KeyFolder, read_json
from .msgpack_format import FormatError, frame_length, read_msgpack

if TYPE_CHECKING:
    import pandas as pd

    from .loaders import Reading

_MSGPACK_PIECE = re.compile(r"pandas_to_msgpack_([0-9]{1,9})")
_PARQUET_PART = re.compile(r"pandas_to_parquet\.([0-9]{1,9})\.([0-9]{1,9})\.parquet")
_MSGPACK_PART = re.compile(r"dask_to_msgpack\.([0-9]{1,12})\.csv")


# -- object_meta.json ------------------------------------------------------------------


def read_object_meta(folder: KeyFolder) -> dict[str, Any] | None:
    """The checked ``object_meta.json`` (or its older name ``dask_meta.json``), or None."""
    for name in ("object_meta.json", "dask_meta.json"):
        try:
            doc = read_json(folder.store, folder.file(name), folder.label)
        except FileNotFoundError:
            continue
        columns = doc.get("columns") if isinstance(doc, dict) else None
        if not isinstance(columns, list):
            raise CorruptKeyError(f"{folder.label}: its {name} names no columns; it is damaged")
        for field in ("column_name_dtypes", "dtypes"):
            values = doc.get(field)
            if values is not None and (not isinstance(values, list) or len(values) != len(columns)):
                raise CorruptKeyError(f"{folder.label}: its {name} has a damaged {field!r}")
        return doc
    return None


def _typed(name: Any, dtype: Any) -> Any:
    """A name parquet stored as str, back in the type ``object_meta.json`` records."""
    if not isinstance(dtype, str) or dtype.startswith(("<U", "|S", "str")):
        return name
    try:
        return np.array([name]).astype(dtype)[0].item()
    except (TypeError, ValueError, OverflowError):
        return name


def restore(frame: pd.DataFrame, meta: dict[str, Any] | None) -> pd.DataFrame:
    """``frame`` with the column names, index dtype and index name of ``meta``."""
    if meta is None:
        return frame
    names = meta["columns"]
    kinds = meta.get("column_name_dtypes") or [None] * len(names)
    by_str = {str(n): _typed(n, k) for n, k in zip(names, kinds, strict=True)}
    frame.columns = [by_str.get(str(c), c) for c in frame.columns]
    index_dtype = meta.get("index_dtype")
    if isinstance(index_dtype, str) and str(frame.index.dtype) != index_dtype:
        try:
            frame.index = frame.index.astype(index_dtype)
        except (TypeError, ValueError):
            pass  # as ISF: the index keeps the type parquet gave it
    if meta.get("index_name") is not None:
        frame.index.name = _typed(meta["index_name"], meta.get("index_name_dtype"))
    return frame


def _parquet_columns(columns: Any) -> list[str] | None:
    return None if columns is None else [str(c) for c in columns]


# -- pandas -----------------------------------------------------------------------------


def _select(frame: Any, columns: Any) -> Any:
    return frame if columns is None else frame[list(columns)]


def _lazy_frame(frame: Any, how: Reading) -> Any:
    """``frame`` as a one-partition dask frame when ``how`` asks for a lazy value."""
    if not how.lazy:
        return frame
    index = frame.index
    known = len(index) > 0 and index.is_monotonic_increasing
    divisions = (index[0], index[-1]) if known else None
    return dask_frame(lambda _: frame, [0], frame.iloc[:0], divisions, "zdb-isf-read")


def load_pandas_pickle(folder: KeyFolder, how: Reading) -> Any:
    """``pandas_to_pickle``: the frame or series in ``pandas_to_pickle.pickle``."""
    value = how.read_pickle(folder, "pandas_to_pickle.pickle")
    return _lazy_frame(_select(value, how.columns), how)


def _msgpack_frame(folder: KeyFolder, name: str) -> Any:
    data = folder.store.read_bytes(folder.file(name))
    try:
        return read_msgpack(data)
    except FormatError as e:
        raise CorruptKeyError(f"{folder.label}: {name} is damaged: {e}") from None


def load_pandas_msgpack(folder: KeyFolder, how: Reading) -> Any:
    """``pandas_to_msgpack``: one file, or the pieces ``pandas_to_msgpack_<n>`` in order."""
    import pandas as pd

    if folder.store.exists(folder.file("pandas_to_msgpack")):
        frame = _msgpack_frame(folder, "pandas_to_msgpack")
    else:
        pieces = sorted(
            (int(m.group(1)), m.group(0))
            for m in map(_MSGPACK_PIECE.fullmatch, folder.store.list_dir(folder.path))
            if m
        )
        if not pieces:
            raise CorruptKeyError(f"{folder.label}: no pandas_to_msgpack file; it is damaged")
        frame = pd.concat([_msgpack_frame(folder, name) for _, name in pieces])
    return _lazy_frame(_select(frame, how.columns), how)


def _read_parquet(store: Any, path: str, columns: list[str] | None) -> Any:
    import pandas as pd

    return pd.read_parquet(io.BytesIO(store.read_bytes(path)), columns=columns)


def load_pandas_parquet(folder: KeyFolder, how: Reading) -> Any:
    """``pandas_to_parquet``: the frame of ``pandas_to_parquet.parquet``."""
    meta = read_object_meta(folder)
    frame = _read_parquet(
        folder.store, folder.file("pandas_to_parquet.parquet"), _parquet_columns(how.columns)
    )
    return _lazy_frame(restore(frame, meta), how)


# -- dask -------------------------------------------------------------------------------


def _from_parts(
    reader: Callable[[str], Any], paths: list[str], divisions: Any, folder: KeyFolder
) -> Any:
    """A dask frame of one partition per file of ``paths``, each read by ``reader``;
    partition 0 is read now, for the frame's meta (its empty head, categories unknown)."""
    from dask.dataframe.utils import clear_known_categories

    meta = clear_known_categories(reader(paths[0]).iloc[:0])
    if divisions is not None:
        divisions = tuple(divisions)
        if len(divisions) != len(paths) + 1:
            raise CorruptKeyError(
                f"{folder.label}: {len(divisions)} divisions for {len(paths)} partitions; "
                "the key is damaged"
            )
        if any(d is None for d in divisions):  # ISF wrote unknown divisions as nulls
            divisions = None
    return dask_frame(reader, paths, meta, divisions, "zdb-isf-read")


def _done(frame: Any, how: Reading) -> Any:
    return frame.compute() if how.lazy is False else frame


def _parquet_part(store: Any, path: str, *, columns: list[str] | None, meta: Any) -> Any:
    return restore(_read_parquet(store, path, columns), meta)


def load_dask_parquet(folder: KeyFolder, how: Reading) -> Any:
    """``dask_to_parquet``: a dask frame of one partition per parquet file."""
    found: dict[int, str] = {}
    counts = set()
    for m in map(_PARQUET_PART.fullmatch, folder.store.list_dir(folder.path)):
        if m:
            counts.add(int(m.group(1)))
            found[int(m.group(2))] = m.group(0)
    if len(counts) != 1 or sorted(found) != list(range(next(iter(counts)))):
        raise CorruptKeyError(
            f"{folder.label}: its parquet partitions are incomplete or of several writes "
            f"({sorted(found)[:10]} of {sorted(counts)}); the key is damaged"
        )
    meta = read_object_meta(folder)
    try:
        divisions = read_json(folder.store, folder.file("divisions.json"), folder.label)
    except FileNotFoundError:
        divisions = None
    reader = partial(_parquet_part, folder.store, columns=_parquet_columns(how.columns), meta=meta)
    paths = [folder.file(found[i]) for i in range(len(found))]
    return _done(_from_parts(reader, paths, divisions, folder), how)


def partition_lengths(folder: KeyFolder) -> list[int] | None:
    """The rows of each partition of a dask key, read from the files' own descriptions
    (parquet footers, msgpack block shapes) without decoding the data; None when they
    do not say (a writer then learns them by computing the partitions)."""
    names = folder.store.list_dir(folder.path)
    if folder.dumper == "dask_to_parquet":
        import pyarrow.parquet as pq

        parts = sorted((int(m[2]), m[0]) for m in map(_PARQUET_PART.fullmatch, names) if m)
        return [
            pq.read_metadata(io.BytesIO(folder.store.read_bytes(folder.file(n)))).num_rows
            for _, n in parts
        ]
    lengths = [
        frame_length(folder.store.read_bytes(folder.file(n)))
        for n in sorted(m[0] for m in map(_MSGPACK_PART.fullmatch, names) if m)
    ]
    return None if not lengths or None in lengths else [n for n in lengths if n is not None]


def _uncategorize(frame: Any, meta: dict[str, Any] | None) -> Any:
    """Undo ``dask_to_categorized_msgpack``'s categories (columns and index), except for
    the columns that were categorical when written (``meta``'s dtypes say so)."""
    categorical = set()
    if meta is not None and meta.get("dtypes"):
        categorical = {
            str(c) for c, t in zip(meta["columns"], meta["dtypes"], strict=True) if t == "category"
        }
    for c in frame.select_dtypes(include=["category"]).columns:
        if str(c) not in categorical:
            frame[c] = frame[c].astype(object)
    if str(frame.index.dtype) == "category":
        frame.index = frame.index.astype(object)
    return frame


def _msgpack_part(store: Any, path: str, *, label: str, meta: Any, columns: Any) -> Any:
    try:
        frame = read_msgpack(store.read_bytes(path))
    except FormatError as e:
        raise CorruptKeyError(f"{label}: {path} is damaged: {e}") from None
    return _select(_uncategorize(frame, meta), columns)


def load_dask_msgpack(folder: KeyFolder, how: Reading) -> Any:
    """``dask_to_msgpack``, ``dask_to_categorized_msgpack``: a dask frame of one
    partition per ``dask_to_msgpack.<i>.csv`` file, in the order of their names."""
    names = sorted(
        m.group(0) for m in map(_MSGPACK_PART.fullmatch, folder.store.list_dir(folder.path)) if m
    )
    if not names:
        raise CorruptKeyError(f"{folder.label}: no dask_to_msgpack partition; it is damaged")
    meta = read_object_meta(folder)
    divisions = folder.loader_kwargs.get("divisions")
    if divisions is not None and not isinstance(divisions, list):
        raise CorruptKeyError(f"{folder.label}: its Loader.json has damaged divisions")
    reader = partial(
        _msgpack_part, folder.store, label=folder.label, meta=meta, columns=how.columns
    )
    frame = _from_parts(reader, [folder.file(n) for n in names], divisions, folder)
    index_name = folder.loader_kwargs.get("index_name")
    if isinstance(index_name, str | int):
        frame.index.name = index_name
    return _done(frame, how)
