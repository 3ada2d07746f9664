"""Pickles in ISF databases: read under zdb's ``allow_pickle`` policy, and errors that
name what a pickle needs when it cannot be read here.

Unpickling runs code chosen by whoever wrote the file (docs/design/0004). zdb's
default policy trusts only databases the user created with zdb at the place they are
opened from; an ISF database never is one, so its pickles are read only when it is
opened with ``allow_pickle=True``. ISF wrote its pickles with pandas 1.x, whose frames
need pandas' own compatibility unpickler (``pd.read_pickle``), not ``pickle.loads``.

ISF's pickles often hold ISF's own classes, or functions cloudpickled under Python 3.8,
whose byte code this Python cannot rebuild. Such a key raises
:class:`~zdb.exceptions.CorruptKeyError` naming the key, the modules it needs and what
can be done; every other key keeps working.
"""

from __future__ import annotations

import importlib.util
import io
import pickletools
from typing import Any

from ..exceptions import CorruptKeyError, PickleRefusedError

#: what ``allow_pickle=None`` means for an ISF database: zdb did not create it
NOT_CREATED_BY_ZDB = (
    "it is an ISF database, which zdb did not create (zdb trusts only pickles of databases "
    "you created with zdb at this place)"
)


def check_allowed(allow_pickle: bool | str | None, label: str, where: str) -> None:
    """Raise PickleRefusedError unless ``allow_pickle`` is True."""
    if allow_pickle is True:
        return
    fix = "open it with allow_pickle=True if you trust whoever wrote it"
    if allow_pickle is False:
        raise PickleRefusedError(
            f"{label} is a pickle ({where}) and the database was opened with allow_pickle=False"
        )
    why = allow_pickle if isinstance(allow_pickle, str) else NOT_CREATED_BY_ZDB
    raise PickleRefusedError(
        f"{label} is a pickle ({where}), and {why}; unpickling runs code: {fix}"
    )


def unpickle(data: bytes, label: str) -> Any:
    """The object pickled in ``data`` (policy already checked), through pandas'
    compatibility unpickler; CorruptKeyError naming what is missing when it fails."""
    import pandas as pd

    try:
        return pd.read_pickle(io.BytesIO(data), compression=None)
    except Exception as e:  # an unpickler raises anything its objects' code raises
        raise unreadable(data, label, e) from e


def unreadable(data: bytes, label: str, error: BaseException) -> CorruptKeyError:
    """The error of a pickle that cannot be read here: the modules it names that are not
    installed, and what the user can do."""
    missing = sorted({m for m, _ in referenced_globals(data) if not _installed(m)})
    needs = ""
    if missing:
        needs = f" It needs the modules {', '.join(missing)}, which are not installed."
    if any(
        name in ("_make_function", "_builtin_type", "_make_skel_func")
        for _, name in referenced_globals(data)
    ):
        needs += (
            " It holds functions pickled by cloudpickle, whose byte code only the Python "
            "version that wrote them (ISF: Python 3.8) can rebuild."
        )
    return CorruptKeyError(
        f"{label} cannot be unpickled here ({type(error).__name__}: {str(error)[:200]}).{needs} "
        "Read it where ISF and its Python are installed and store it again as plain data "
        "(arrays, frames, dicts), or keep it as an opaque key ('zdb migrate' keeps it byte "
        "for byte); the other keys are not affected"
    )


def _installed(module: str) -> bool:
    """True if the top-level package of ``module`` can be imported (found without
    importing it: a pickle's module names are not run)."""
    top = module.partition(".")[0]
    try:
        return importlib.util.find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def referenced_globals(data: bytes) -> list[tuple[str, str]]:
    """The ``(module, name)`` pairs a pickle refers to, found by reading its opcodes (no
    code runs); a damaged pickle gives those found before the damage."""
    found: list[tuple[str, str]] = []
    memo: dict[int, Any] = {}
    stack: list[Any] = []
    try:
        for op, arg, _ in pickletools.genops(data):
            name = op.name
            if name == "GLOBAL":
                module, _, attr = str(arg).partition(" ")
                found.append((module, attr))
                stack.append(None)
            elif name == "STACK_GLOBAL":
                top = stack.pop() if stack else None
                below = stack.pop() if stack else None
                if isinstance(below, str) and isinstance(top, str):
                    found.append((below, top))
                stack.append(None)
            elif "UNICODE" in name or name in ("STRING", "BINSTRING", "SHORT_BINSTRING"):
                stack.append(arg)
            elif name == "MEMOIZE":
                memo[len(memo)] = stack[-1] if stack else None
            elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
                memo[int(arg or 0)] = stack[-1] if stack else None
            elif name in ("GET", "BINGET", "LONG_BINGET"):
                stack.append(memo.get(int(arg or 0)))
            else:
                stack.append(None)
            if len(stack) > 64:  # only the last two values matter to STACK_GLOBAL
                del stack[:-8]
    except Exception:  # noqa: S110 - damage ends the scan; what was found is the answer
        pass
    return found
