"""The changes made to ISF's test files before they run against zdb, and only these.

Each :class:`Rewrite` is one small, named transformation of a file's text, with the
reason it is allowed: ISF's imports of ``data_base`` name ``zdb``; what today's pandas,
numpy and dask require; names that ISF's star imports leaked, imported explicitly; the
example data's path. Nothing else in ISF's files is changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Rewrite:
    """One allowed change: ``apply(relative_path, text)`` returns the changed text."""

    name: str
    why: str
    apply: Callable[[str, str], str]


#: the start of an import statement up to the module path ``data_base`` it names
#: (``from data_base.x import``, ``import data_base``, ``import config, data_base``)
_DATA_BASE_IMPORT = re.compile(
    r"(?m)^(?P<head>[ \t]*(?:from|import)[ \t]+(?:[\w.]+[ \t]*,[ \t]*)*)data_base(?=[\s.,]|$)"
)


def _data_base_to_zdb(path: str, text: str) -> str:
    return _DATA_BASE_IMPORT.sub(r"\g<head>zdb", text)


def _reduced_model_to_zdb(path: str, text: str) -> str:
    return re.sub(
        r"(?m)^(from[ \t]+)simrun\.reduced_model\.get_kernel\b",
        r"\1zdb.objects.reduced_lda_model",
        text,
    )


def _pandas_testing(path: str, text: str) -> str:
    text = re.sub(r"\bpandas\.util\.testing\b", "pandas.testing", text)
    return re.sub(r"\bpd\.util\.testing\b", "pd.testing", text)


def _np_nan(path: str, text: str) -> str:
    return re.sub(r"\bnp\.NaN\b", "np.nan", text)


#: ``ddf.divisions = <anything>`` on a line of its own
_SET_DIVISIONS = re.compile(r"(?m)^(?P<indent>[ \t]*)(?P<name>\w+)\.divisions[ \t]*=[ \t]*\S.*$")


def _clear_divisions(path: str, text: str) -> str:
    # dask-expr frames have no settable ``divisions``; ISF set them all to None (unknown)
    return _SET_DIVISIONS.sub(r"\g<indent>\g<name> = \g<name>.clear_divisions()", text)


#: for a star import of a module (named as zdb's), the module-level imports ISF's module
#: had that ISF's test files use without importing them: ``name -> import statement``
LEAKED_BY_STAR_IMPORT: dict[str, dict[str, str]] = {
    # ISF's data_base/utils.py: import dask, pandas as pd, dask.dataframe as dd (which
    # also made ``dask.dataframe`` an attribute of ``dask``)
    "zdb.utils": {"pd": "import pandas as pd", "dask": "import dask, dask.dataframe"},
    # ISF's analyze/spatiotemporal_binning.py: import dask.dataframe as dd
    "zdb.analyze.spatiotemporal_binning": {"dd": "import dask.dataframe as dd"},
    # ISF's isf_data_base/IO/dask_wrappers.py: import pandas as pd
    "zdb.IO.dask_wrappers": {"pd": "import pandas as pd"},
    # ISF's shared_numpy_store.py: import os, tempfile, shutil
    "zdb.IO.LoaderDumper.shared_numpy_store": {
        "os": "import os",
        "shutil": "import shutil",
        "tempfile": "import tempfile",
    },
}


def _uses(text: str, name: str) -> bool:
    """Whether ``name`` is used as a name (``name.x``, ``name(``, ...), not only as part
    of another name or an attribute."""
    return re.search(rf"(?<![\w.]){re.escape(name)}\b", text) is not None


def _leaked_names(path: str, text: str) -> str:
    for module, leaked in LEAKED_BY_STAR_IMPORT.items():
        star = re.compile(rf"(?m)^from[ \t]+{re.escape(module)}[ \t]+import[ \t]+\*[ \t]*$")
        found = star.search(text)
        if not found:
            continue
        rest = text[found.end() :]
        imports = [stmt for name, stmt in leaked.items() if _uses(rest, name)]
        if imports:
            text = text[: found.end()] + "".join(f"\n{stmt}" for stmt in imports) + rest
    return text


#: ISF's tests find the example data at ``<getting_started>/example_data``
_EXAMPLE_DATA = re.compile(r"getting_started\.parent,\s*'example_data'")


def example_data_rewrite(example_data: str) -> Rewrite:
    """Point ISF's path of its example data (``os.path.join(getting_started.parent,
    'example_data', ...)``) at ``example_data``, the same files."""

    def apply(path: str, text: str) -> str:
        return _EXAMPLE_DATA.sub(lambda _: repr(example_data), text)

    return Rewrite(
        "example_data",
        "ISF's example data (getting_started/example_data) is read from the shared copy",
        apply,
    )


#: the rewrites that do not depend on where the example data is, in the order applied
REWRITES: tuple[Rewrite, ...] = (
    Rewrite("data_base_to_zdb", "users change the import of data_base to zdb", _data_base_to_zdb),
    Rewrite(
        "reduced_model_to_zdb",
        "ISF's ReducedLdaModel module (simrun.reduced_model.get_kernel), which ISF's test "
        "helper get_test_Rm imports, is zdb.objects.reduced_lda_model in zdb",
        _reduced_model_to_zdb,
    ),
    Rewrite(
        "pandas_testing",
        "pandas removed pandas.util.testing; its functions are in pandas.testing",
        _pandas_testing,
    ),
    Rewrite("np_nan", "numpy 2 removed the alias np.NaN of np.nan", _np_nan),
    Rewrite(
        "clear_divisions",
        "dask's frames no longer take `ddf.divisions = ...`; clear_divisions() does the same",
        _clear_divisions,
    ),
    Rewrite(
        "leaked_names",
        "ISF's star imports leaked the imports of ISF's modules (pd, dd, os, ...); zdb's "
        "modules export only their own names, so the names the files use are imported",
        _leaked_names,
    ),
)


def rewrite(path: str, text: str, example_data: str) -> str:
    """ISF's test file ``path`` with every allowed rewrite applied."""
    for step in (*REWRITES, example_data_rewrite(example_data)):
        text = step.apply(path, text)
    return text
