"""Progress bars of long work (imports, migrations, exports, copies, checks and
clean-ups): tqdm's bar on a terminal, its notebook bar in Jupyter (``tqdm.auto``).

A function asked for a bar (``progress=True``; the command line asks on a terminal
only, never with ``--json`` or ``--quiet``) shows one unless the environment variable
``ZDB_PROGRESS`` is ``0`` (or ``off``, ``false``, ``no``), which switches every bar
of zdb off: in a notebook, ``os.environ["ZDB_PROGRESS"] = "0"``. It is read at each
call, so setting it takes effect at once."""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

#: the environment variable that switches zdb's progress bars off
ENV = "ZDB_PROGRESS"
_OFF = {"0", "off", "false", "no"}


def wanted(requested: bool) -> bool:
    """Whether to show a bar that the caller ``requested``: the request, unless
    ``ZDB_PROGRESS`` switches bars off."""
    return bool(requested) and os.environ.get(ENV, "").strip().lower() not in _OFF


def bar(iterable: Iterable[Any] | None = None, *, progress: bool, **kwargs: Any) -> Any:
    """A ``tqdm.auto`` bar over ``iterable`` (or to update by hand), disabled unless
    :func:`wanted` says ``progress`` is. ``kwargs`` go to tqdm (``desc``, ``unit``,
    ``total``, ...)."""
    if not wanted(progress):
        # tqdm.auto warns in a notebook without ipywidgets, even for a bar not shown
        from tqdm import tqdm as plain

        return plain(iterable, disable=True, **kwargs)
    from tqdm.auto import tqdm

    return tqdm(iterable, **kwargs)
