"""Presynaptic cell types by synaptic sign, and splitting a synapse activation table
into its excitatory and inhibitory rows (ISF's ``split_synapse_activation``).

A synapse type such as ``L5tt_C2`` names its presynaptic cell type before the first
``_``. The lists are those of ISF's barrel-cortex model; ISF's own defaults
(``config.cell_types``: ``L1`` excitatory, the inhibitory list just ``['INH']``) fail
its self-check on real campaigns.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ._common import AnalyzeError, is_dask_frame, kind_error

#: presynaptic cell types that make excitatory synapses (ISF's ``barrel_cortex.excitatory``)
excitatory = [
    "L6cc",
    "L2",
    "VPM",
    "L4py",
    "L4ss",
    "L4sp",
    "L5st",
    "L6ct",
    "L34",
    "L6ccinv",
    "L5tt",
]
#: presynaptic cell types that make inhibitory synapses (ISF's ``barrel_cortex.inhibitory``)
inhibitory = [
    "SymLocal1",
    "SymLocal2",
    "SymLocal3",
    "SymLocal4",
    "SymLocal5",
    "SymLocal6",
    "L45Sym",
    "L1",
    "L45Peak",
    "L56Trans",
    "L23Trans",
]
#: ISF's upper-case names of the two lists (``config.cell_types``)
EXCITATORY = excitatory
INHIBITORY = inhibitory


class UnknownCellTypeError(AnalyzeError):
    """A synapse type's cell type is in neither the excitatory nor the inhibitory list."""


def _with_ei(
    sa: pd.DataFrame, selfcheck: bool, excitatory: Sequence[str], inhibitory: Sequence[str]
) -> pd.DataFrame:
    """A new frame: ``sa`` with the column ``EI`` (``'EXC'`` or ``'INH'``)."""
    if "synapse_type" not in sa.columns:
        raise AnalyzeError(
            f"split_synapse_activation needs the column 'synapse_type'; the columns are "
            f"{list(sa.columns)[:20]}"
        )
    # each distinct synapse type is split once, then spread to the rows by its code
    codes, types = pd.factorize(sa["synapse_type"], use_na_sentinel=False)
    celltypes = np.array([str(t).split("_", 1)[0] for t in types], dtype=object)
    if selfcheck:
        known = set(excitatory) | set(inhibitory)
        unknown = sorted({c for c in celltypes if c not in known})
        if unknown:
            raise UnknownCellTypeError(
                f"cell types {unknown} are neither in excitatory nor in inhibitory; add "
                "them to one list (excitatory=..., inhibitory=...) or pass selfcheck=False "
                "to count them as inhibitory"
            )
    is_exc = np.isin(celltypes, list(excitatory))
    ei = np.where(is_exc, "EXC", "INH")[codes] if len(codes) else np.zeros(0, dtype=object)
    return sa.assign(EI=pd.Series(ei, index=sa.index, dtype=object))


def split_synapse_activation(
    sa: Any,
    selfcheck: bool = True,
    excitatory: Sequence[str] = excitatory,
    inhibitory: Sequence[str] = inhibitory,
) -> tuple[Any, Any]:
    """``(excitatory rows, inhibitory rows)`` of a synapse activation table, two new
    frames with the added column ``EI``; the caller's frame is not changed (ISF added
    ``EI`` to it in place). With ``selfcheck``, a cell type in neither list raises
    :class:`UnknownCellTypeError` naming it; without, it goes to the inhibitory rows.
    A dask frame gives two lazy dask frames (the check then runs per partition)."""
    if isinstance(sa, pd.DataFrame):
        out = _with_ei(sa, selfcheck, excitatory, inhibitory)
        return out[out["EI"] == "EXC"], out[out["EI"] == "INH"]
    if is_dask_frame(sa):
        if "synapse_type" not in sa.columns:
            raise AnalyzeError(
                f"split_synapse_activation needs the column 'synapse_type'; the columns "
                f"are {list(sa.columns)[:20]}"
            )
        meta = sa._meta.assign(EI=pd.Series([], dtype=object))
        out = sa.map_partitions(_with_ei, selfcheck, list(excitatory), list(inhibitory), meta=meta)
        return out[out["EI"] == "EXC"], out[out["EI"] == "INH"]
    raise kind_error(sa, "split_synapse_activation", "a pandas or dask DataFrame")
