"""Which loader reads the keys of which ISF dumper, and what a loader is given.

A loader is a function ``loader(folder, how)``: ``folder`` a
:class:`~zdb.legacy.layout.KeyFolder` (the key's store, folder, dumper and
``Loader.json`` keywords), ``how`` a :class:`Reading` (lazy or not, the columns asked
for, the pickle policy, and how to open a nested ISF database). :func:`register_loader`
adds or replaces one, so that packages providing zdb types for ISF's own classes (a
cell, a reduced model) can read those keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..exceptions import CorruptKeyError
from . import arrays, frames, objects, pickles
from .layout import SUB_DB_FOLDER, KeyFolder

Loader = Callable[[KeyFolder, "Reading"], Any]

#: the dumpers whose keys come back lazy (dask) unless ``lazy=False``, as in ISF
LAZY_DUMPERS = frozenset({"dask_to_parquet", "dask_to_msgpack", "dask_to_categorized_msgpack"})
#: the dumpers that store a pickle, whose keys need ``allow_pickle``
PICKLE_DUMPERS = frozenset(
    {"to_pickle", "to_cloudpickle", "pandas_to_pickle", "cell", "reduced_lda_model"}
)
SUB_DATABASE = "just_create_isf_db"
MANAGED_FOLDER = "just_create_folder"


@dataclass(frozen=True)
class Reading:
    """How a key is read: ``lazy`` (None: the dumper's default), the ``columns`` asked
    for (None: all), the database's pickle policy, and ``open_database(path)``, which
    opens the ISF database at a store path of the same store (for nested databases)."""

    allow_pickle: bool | str | None = None
    lazy: bool | None = None
    columns: Any = None
    open_database: Callable[[str], Any] | None = None

    def check_pickle(self, folder: KeyFolder, name: str) -> None:
        """Raise PickleRefusedError unless the policy lets the file ``name`` be read."""
        pickles.check_allowed(self.allow_pickle, folder.label, folder.store.full(folder.file(name)))

    def read_pickle(self, folder: KeyFolder, name: str) -> Any:
        """The object pickled in the file ``name`` of the key's folder, if allowed."""
        self.check_pickle(folder, name)
        return pickles.unpickle(folder.store.read_bytes(folder.file(name)), folder.label)


def _sub_database(folder: KeyFolder, how: Reading) -> Any:
    if how.open_database is None:
        raise CorruptKeyError(f"{folder.label} is a sub-database, and nothing opens it")
    return how.open_database(f"{folder.path}/{SUB_DB_FOLDER}")


_LOADERS: dict[str, Loader] = {
    "numpy_to_npy": arrays.load_npy,
    "numpy_to_npz": arrays.load_npz,
    "numpy_to_zarr": arrays.load_zarr,
    "numpy_to_msgpack": arrays.load_msgpack_array,
    "shared_numpy_store": arrays.load_shared_numpy_store,
    "pandas_to_pickle": frames.load_pandas_pickle,
    "pandas_to_msgpack": frames.load_pandas_msgpack,
    "pandas_to_parquet": frames.load_pandas_parquet,
    "dask_to_parquet": frames.load_dask_parquet,
    "dask_to_msgpack": frames.load_dask_msgpack,
    "dask_to_categorized_msgpack": frames.load_dask_msgpack,
    "to_pickle": objects.load_pickle,
    "to_cloudpickle": objects.load_pickle,
    "to_msgpack": objects.load_msgpack,
    MANAGED_FOLDER: objects.load_folder,
    SUB_DATABASE: _sub_database,
    "cell": objects.load_cell,
    "reduced_lda_model": objects.load_reduced_lda_model,
}


def register_loader(dumper: str, loader: Loader) -> None:
    """Read the keys ISF's dumper ``dumper`` wrote with ``loader(folder, how)`` from now
    on (replacing zdb's own loader of that dumper, if any)."""
    if not isinstance(dumper, str) or not dumper.isidentifier():
        raise ValueError(f"{dumper!r} is no ISF dumper name")
    _LOADERS[dumper] = loader


def loader_for(dumper: str) -> Loader | None:
    """The loader of ISF's dumper ``dumper``, or None when zdb reads none."""
    return _LOADERS.get(dumper)


def known_dumpers() -> list[str]:
    """The ISF dumpers zdb reads, sorted."""
    return sorted(_LOADERS)
