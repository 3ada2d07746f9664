"""Write ISF databases the way ISF wrote them, without ISF, for tests and benchmarks.

ISF (Python 3.8, pandas 1.1, zarr 2) cannot be installed next to zdb, so the files its
dumpers wrote are produced here from their specification in ISF's source
(``data_base/isf_data_base/IO/LoaderDumper/*``): the same file names, ``Loader.json``,
``metadata.json`` and payload formats. :func:`pack_pandas_msgpack` is an encoder of
pandas' removed msgpack format as ``isf_pandas_msgpack.to_msgpack(..., compress='blosc')``
wrote it under pandas 1.1: blocks of columns, numeric data as blosc-compressed bytes in
msgpack extension type 0, RangeIndex bounds missing (pandas 1.x no longer had the
attributes the fork read them from).
"""

from __future__ import annotations

import json
import os
import pickle
import sys
import types
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

PREFIX = "data_base.isf_data_base.IO.LoaderDumper."
#: pandas' block class names, by dtype kind
_BLOCK_KLASS = {
    "f": "FloatBlock",
    "i": "IntBlock",
    "u": "IntBlock",
    "b": "BoolBlock",
    "O": "ObjectBlock",
    "M": "DatetimeBlock",
    "m": "TimeDeltaBlock",
    "c": "ComplexBlock",
}


# -- pandas' msgpack format ---------------------------------------------------------------


class _Packer:
    """The encoder of ``isf_pandas_msgpack`` (``compress`` as its ``to_msgpack``)."""

    def __init__(self, compress: str | None = "blosc", range_bounds: bool = False) -> None:
        self.compress = compress
        self.range_bounds = range_bounds

    def convert(self, values: np.ndarray) -> Any:
        import msgpack

        if isinstance(values, pd.Categorical):
            return values
        if values.dtype.kind == "O":
            return values.ravel().tolist()
        if values.dtype.kind in "mM":
            values = values.view("i8")
        flat = np.ascontiguousarray(values.ravel())
        if self.compress == "blosc":
            from numcodecs import blosc

            # python-blosc's defaults, as the fork called blosc.compress(v, typesize=...)
            return msgpack.ExtType(0, bytes(blosc.compress(flat, b"blosclz", 9, 1)))
        if self.compress == "zlib":
            import zlib

            return msgpack.ExtType(0, zlib.compress(flat.tobytes()))
        return msgpack.ExtType(0, flat.tobytes())

    def encode(self, obj: Any) -> Any:
        c = self.compress
        if isinstance(obj, pd.RangeIndex):
            start, stop, step = (
                (obj.start, obj.stop, obj.step) if self.range_bounds else (None,) * 3
            )
            return {
                "typ": "range_index",
                "klass": "RangeIndex",
                "name": obj.name,
                "start": start,
                "stop": stop,
                "step": step,
            }
        if isinstance(obj, pd.MultiIndex):
            return {
                "typ": "multi_index",
                "klass": "MultiIndex",
                "names": list(obj.names),
                "dtype": "object",
                "data": self.convert(np.asarray(obj.values)),
                "compress": c,
            }
        if isinstance(obj, pd.DatetimeIndex):
            tz = None if obj.tz is None else str(obj.tz)
            utc = obj.tz_convert("UTC") if tz else obj
            return {
                "typ": "datetime_index",
                "klass": "DatetimeIndex",
                "name": obj.name,
                "dtype": str(obj.dtype),
                "data": self.convert(utc.asi8),
                "freq": None,
                "tz": tz,
                "compress": c,
            }
        if isinstance(obj, pd.CategoricalIndex):
            return {
                "typ": "index",
                "klass": "CategoricalIndex",
                "name": obj.name,
                "dtype": "category",
                "data": obj.values,
                "compress": c,
            }
        if isinstance(obj, pd.Index):
            return {
                "typ": "index",
                "klass": type(obj).__name__,
                "name": obj.name,
                "dtype": np.asarray(obj.values).dtype.name,
                "data": self.convert(np.asarray(obj.values)),
                "compress": c,
            }
        if isinstance(obj, pd.Categorical):
            return {
                "typ": "category",
                "klass": "Categorical",
                "name": None,
                "codes": np.asarray(obj.codes),
                "categories": obj.categories,
                "ordered": bool(obj.ordered),
                "compress": c,
            }
        if isinstance(obj, pd.Series):
            values = obj.values if isinstance(obj.dtype, pd.CategoricalDtype) else obj.to_numpy()
            dtype = "category" if isinstance(values, pd.Categorical) else values.dtype.name
            return {
                "typ": "series",
                "klass": "Series",
                "name": obj.name,
                "index": obj.index,
                "dtype": dtype,
                "data": self.convert(values),
                "compress": c,
            }
        if isinstance(obj, pd.DataFrame):
            return {
                "typ": "block_manager",
                "klass": "DataFrame",
                "axes": [obj.columns, obj.index],
                "blocks": self.blocks(obj),
            }
        if isinstance(obj, pd.Timestamp):
            return {
                "typ": "timestamp",
                "value": obj.value,
                "freq": None,
                "tz": None if obj.tz is None else str(obj.tz),
            }
        if isinstance(obj, np.ndarray):
            return {
                "typ": "ndarray",
                "shape": list(obj.shape),
                "ndim": obj.ndim,
                "dtype": obj.dtype.name,
                "data": self.convert(obj),
                "compress": c,
            }
        if isinstance(obj, np.number | np.bool_):
            return {"typ": "np_scalar", "dtype": obj.dtype.name, "data": repr(obj.item())}
        raise TypeError(f"cannot pack a {type(obj).__name__}")

    def blocks(self, frame: pd.DataFrame) -> list[dict[str, Any]]:
        """pandas' consolidated blocks: one per dtype (columns x rows), one per
        categorical or timezone-aware column, in the order of first appearance."""
        groups: dict[str, list[int]] = {}
        out = []
        for i, dtype in enumerate(frame.dtypes):
            if isinstance(dtype, pd.CategoricalDtype):
                out.append(
                    {
                        "locs": np.array([i]),
                        "values": self.convert(frame.iloc[:, i].values),
                        "shape": [len(frame)],
                        "dtype": "category",
                        "klass": "CategoricalBlock",
                        "compress": self.compress,
                    }
                )
            elif isinstance(dtype, pd.DatetimeTZDtype):
                utc = frame.iloc[:, i].dt.tz_convert("UTC").dt.tz_localize(None).to_numpy()
                out.append(
                    {
                        "locs": np.array([i]),
                        "values": self.convert(utc),
                        "shape": [len(frame)],
                        "dtype": dtype.name,
                        "klass": "DatetimeTZBlock",
                        "compress": self.compress,
                    }
                )
            elif isinstance(dtype, pd.StringDtype):  # pandas 1.x had object columns
                groups.setdefault("object", []).append(i)
            else:
                groups.setdefault(np.dtype(dtype).name, []).append(i)
        for name, locs in groups.items():
            values = np.ascontiguousarray(frame.iloc[:, locs].to_numpy(dtype=name).T)
            out.append(
                {
                    "locs": np.array(locs),
                    "values": self.convert(values),
                    "shape": list(values.shape),
                    "dtype": name,
                    "klass": _BLOCK_KLASS[np.dtype(name).kind],
                    "compress": self.compress,
                }
            )
        return out


def pack_pandas_msgpack(
    obj: Any, compress: str | None = "blosc", range_bounds: bool = False
) -> bytes:
    """The bytes ``isf_pandas_msgpack.to_msgpack(path, obj, compress=...)`` wrote."""
    import msgpack

    return msgpack.packb(obj, default=_Packer(compress, range_bounds).encode, use_bin_type=True)


# -- database layout -----------------------------------------------------------------------


def _json(path: str, doc: Any) -> None:
    with open(path, "w") as f:
        json.dump(doc, f)


def create_database(path: str, unique_id: str = "2024-01-23_266441_47s8mDQ") -> str:
    """An empty ISF database folder (its ``db_state.json``), as ``ISFDataBase(path)``."""
    os.makedirs(path, exist_ok=True)
    _json(
        os.path.join(path, "db_state.json"),
        {
            "_registeredDumpers": [PREFIX + "to_cloudpickle"],
            "_unique_id": unique_id,
            "_registered_to_path": path,
        },
    )
    return path


def key_folder(
    db: str,
    key: str,
    dumper: str,
    loader: dict | bool | None = None,
    metadata: str = "together_with_new_key",
) -> str:
    """A key's folder with ``Loader.json`` and ``metadata.json`` as ISF wrote them."""
    folder = os.path.join(db, key)
    os.makedirs(folder)
    if isinstance(loader, dict) or loader is None:
        _json(os.path.join(folder, "Loader.json"), {"Loader": PREFIX + dumper, **(loader or {})})
    meta: dict[str, Any] = {
        "dumper": dumper,
        "time": list(datetime(2024, 5, 6, 16, 38, 5, tzinfo=UTC).timetuple()),
        "metadata_creation_time": metadata,
    }
    if metadata == "together_with_new_key":
        meta.update(
            {
                "module_versions": {"numpy": "1.19.2"},
                "history": "db[key] = value",
                "hostname": "somnalogin01",
                "version": "unknown",
                "dirty": False,
            }
        )
    _json(os.path.join(folder, "metadata.json"), meta)
    return folder


def _object_meta(frame: pd.DataFrame, folder: str) -> None:
    """ISF's ``save_object_meta``: column names, their types, dtypes, the index's."""

    def type_name(x: Any) -> str:
        return f"<U{len(x)}" if isinstance(x, str) else str(np.dtype(type(x)))

    doc = {
        "columns": [str(c) for c in frame.columns],
        "column_name_dtypes": [type_name(c) for c in frame.columns],
        "index_dtype": str(frame.index.dtype),
        "dtypes": [str(d) for d in frame.dtypes],
    }
    if frame.index.name is not None:
        doc.update(index_name=str(frame.index.name), index_name_dtype=type_name(frame.index.name))
    _json(os.path.join(folder, "object_meta.json"), doc)


def _str_columns(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.columns = [str(c) for c in out.columns]
    if out.index.name is not None:
        out.index.name = str(out.index.name)
    return out


def write_key(db: str, key: str, dumper: str, value: Any = None, **options: Any) -> str:
    """Write ``value`` under ``key`` as ISF's ``dumper`` did; returns the key's folder.

    ``options``: ``rows_per_file`` (pandas_to_msgpack), ``partitions`` (a list of
    frames for the dask dumpers, with ``divisions``), ``protocol`` (pickles).
    """
    loader: dict[str, Any] | bool | None = None
    if dumper in ("dask_to_msgpack", "dask_to_categorized_msgpack"):
        parts = options["partitions"]
        divisions = options.get("divisions")
        loader = {
            "index_name": parts[0].index.name,
            "divisions": divisions or [None] * (len(parts) + 1),
        }
    if dumper in ("shared_numpy_store", "cell"):
        loader = False  # these wrote a pickled Loader.pickle instead of Loader.json
    folder = key_folder(db, key, dumper, loader)
    join = lambda name: os.path.join(folder, name)  # noqa: E731
    if dumper == "numpy_to_npy":
        np.save(join("np.npy"), value)
    elif dumper == "numpy_to_npz":
        np.savez_compressed(join("np.npz"), arr_0=value)
    elif dumper == "numpy_to_zarr":
        import numcodecs
        import zarr

        array = zarr.create_array(
            join("obj.zarr"),
            shape=value.shape,
            dtype=value.dtype,
            zarr_format=2,
            compressors=numcodecs.Blosc("lz4", 5, 1),
        )
        array[...] = value
    elif dumper == "numpy_to_msgpack":
        with open(join("pandas_to_msgpack"), "wb") as f:
            f.write(pack_pandas_msgpack(pd.DataFrame(value)))
    elif dumper == "pandas_to_msgpack":
        rows = options.get("rows_per_file")
        pieces = (
            [value]
            if rows is None
            else [value.iloc[i : i + rows] for i in range(0, len(value), rows)]
        )
        for n, piece in enumerate(pieces):
            name = "pandas_to_msgpack" if rows is None else f"pandas_to_msgpack_{n}"
            with open(join(name), "wb") as f:
                f.write(pack_pandas_msgpack(piece))
    elif dumper == "pandas_to_pickle":
        value.to_pickle(join("pandas_to_pickle.pickle"))
    elif dumper == "pandas_to_parquet":
        _object_meta(value, folder)
        _str_columns(value).to_parquet(join("pandas_to_parquet.parquet"))
    elif dumper == "dask_to_parquet":
        parts = options["partitions"]
        _object_meta(parts[0], folder)
        for i, part in enumerate(parts):
            _str_columns(part).to_parquet(
                join(f"pandas_to_parquet.{len(parts)}.{i}.parquet"),
                engine="pyarrow",
                compression="snappy",
            )
        if options.get("divisions") is not None:
            _json(join("divisions.json"), options["divisions"])
    elif dumper in ("dask_to_msgpack", "dask_to_categorized_msgpack"):
        parts = options["partitions"]
        _object_meta(parts[0], folder)
        digits = len(str(len(parts)))
        for i, part in enumerate(parts):
            part = part.copy()
            if dumper == "dask_to_categorized_msgpack":  # ISF's str_to_category
                for c in part.columns:
                    if part[c].dtype == "object":
                        part[c] = part[c].astype("category")
                if part.index.dtype == "object":
                    part.index = pd.CategoricalIndex(part.index, name=part.index.name)
            with open(join(f"dask_to_msgpack.{str(i).zfill(digits)}.csv"), "wb") as f:
                f.write(pack_pandas_msgpack(part))
    elif dumper in ("to_pickle", "to_cloudpickle"):
        with open(join("to_pickle_dump"), "wb") as f:
            pickle.dump(value, f, protocol=options.get("protocol", 2))
    elif dumper == "to_msgpack":
        import msgpack

        with open(join("to_pickle_dump"), "wb") as f:
            msgpack.pack(value, f)
    elif dumper == "just_create_folder":
        for name, content in (value or {}).items():
            with open(join(name), "wb") as f:
                f.write(content)
    elif dumper == "just_create_isf_db":
        create_database(join("db"), options.get("unique_id", "2024-12-18_97481_eTpnlk5"))
    elif dumper == "shared_numpy_store":
        with open(join("Loader.pickle"), "wb") as f:
            f.write(pickle.dumps(("an ISF Loader object, never read", 0)))
        for name, array in (value or {}).items():
            shape = "_".join(map(str, array.shape))
            np.ascontiguousarray(array).tofile(join(f"{name}__{shape}__{array.dtype}"))
    elif dumper == "cell":
        with open(join("Loader.pickle"), "wb") as f:
            f.write(pickle.dumps(("an ISF Loader object, never read", 0)))
        cell = dict(value)
        if isinstance(cell.get("parameters"), dict):  # a live cell's are ISF's ParameterSet
            cell["parameters"] = _ParameterSet(cell["parameters"])
        with isf_classes():
            pd.Series([cell]).to_pickle(join("cell"))
    elif dumper == "reduced_lda_model":
        write_reduced_lda_model(folder, value)
    else:
        raise ValueError(f"no writer for ISF's dumper {dumper!r}")
    return folder


# -- ISF's own classes ---------------------------------------------------------------------


class _ParameterSet:
    """Pickles as ISF's ``single_cell_parser.parameters.ParameterSet`` does: a new object
    of that class, its state the plain dict of its parameters (``to_dict()``)."""

    def __init__(self, data: dict) -> None:
        self._data = data

    def __getstate__(self) -> dict:
        return self._data


class _ReducedLdaModel:
    """Pickles as an object of ISF's ``simrun.reduced_model.get_kernel.ReducedLdaModel``."""


#: where ISF's classes live, for pickles that name them as ISF wrote them
ISF_CLASSES = {
    ("single_cell_parser.parameters", "ParameterSet"): _ParameterSet,
    ("simrun.reduced_model.get_kernel", "ReducedLdaModel"): _ReducedLdaModel,
}


@contextmanager
def isf_classes() -> Iterator[None]:
    """While inside, ISF's modules of :data:`ISF_CLASSES` exist (holding these classes),
    so that pickle and cloudpickle refer to ISF's class names, as ISF's pickles do."""
    added = []
    try:
        for (module, name), cls in ISF_CLASSES.items():
            parts = module.split(".")
            for i in range(1, len(parts) + 1):
                prefix = ".".join(parts[:i])
                if prefix not in sys.modules:
                    sys.modules[prefix] = types.ModuleType(prefix)
                    added.append(prefix)
            setattr(sys.modules[module], name, cls)
            cls.__module__, cls.__qualname__, cls.__name__ = module, name, name
        yield
    finally:
        for prefix in added:
            del sys.modules[prefix]


def _memoized(function: Any) -> Any:
    """A memoizing wrapper as ISF's ``data_base.utils.cache`` makes: a closure, which
    cloudpickle pickles by value (byte code and all)."""
    memo: dict = {}

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return memo.setdefault(repr((args, kwargs)), function(*args, **kwargs))

    return wrapper


def write_reduced_lda_model(folder: str, model: Any) -> None:
    """``model``'s attributes as ISF's ``reduced_lda_model`` dumper wrote a fitted
    ``ReducedLdaModel``: an ISF database in the key's folder with the spike times ``st``
    (``pandas_to_parquet``, rounded to 0.01, index reset), each lda value as
    ``lda_value_dicts_<n>`` (``numpy_to_zarr``, rounded) and the model ``Rm``
    (``to_cloudpickle``) without ``st`` and ``lda_values``, its ``lda_value_dicts``
    naming those keys, its ``db_list`` as unique ids, with the memoized
    ``apply_static``/``apply_rolling`` ISF keeps on the instance."""
    import cloudpickle

    create_database(folder, "2024-02-02_1_reducedmodel")
    state = {k: v for k, v in vars(model).items() if k not in ("st", "lda_values")}
    st = getattr(model, "st", None)
    st = pd.DataFrame() if st is None else st
    st = st.round(decimals=2).astype(float).reset_index(drop=True)
    write_key(folder, "st", "pandas_to_parquet", st)
    n = 0
    names: list[dict[Any, str]] = []
    for d in model.lda_value_dicts:
        names.append({})
        for k, v in d.items():
            names[-1][k] = f"lda_value_dicts_{n}"
            write_key(folder, names[-1][k], "numpy_to_zarr", np.asarray(v).round(decimals=2))
            n += 1
    state["lda_value_dicts"] = names
    state["db_list"] = [m if isinstance(m, str) else m.get_id() for m in model.db_list]
    rm = _ReducedLdaModel()
    rm.__dict__.update(state)
    rm.__dict__["apply_static"] = _memoized(len)
    rm.__dict__["apply_rolling"] = _memoized(len)
    rm_folder = key_folder(folder, "Rm", "to_cloudpickle")
    with isf_classes(), open(os.path.join(rm_folder, "to_pickle_dump"), "wb") as f:
        cloudpickle.dump(rm, f)
    _json(os.path.join(folder, "Loader.json"), {"Loader": PREFIX + "reduced_lda_model"})
