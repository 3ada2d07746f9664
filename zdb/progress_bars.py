"""Progress bars of long work (imports, migrations, exports, copies, checks and
clean-ups): tqdm's bar on a terminal, its notebook bar in Jupyter (``tqdm.auto``).

A function asked for a bar (``progress=True``; the command line asks on a terminal
only, never with ``--json`` or ``--quiet``) shows one unless the environment variable
``ZDB_PROGRESS`` is ``0`` (or ``off``, ``false``, ``no``), which switches every bar
of zdb off: in a notebook, ``os.environ["ZDB_PROGRESS"] = "0"``. It is read at each
call, so setting it takes effect at once.

Writing a dask array or frame shows a bar of its tasks in a notebook or on a terminal
(never in a batch job's log), and only once the write has taken
:data:`DASK_WRITE_DELAY` seconds: short writes show none."""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

#: the environment variable that switches zdb's progress bars off
ENV = "ZDB_PROGRESS"
_OFF = {"0", "off", "false", "no"}
#: seconds a write of a dask value runs before its bar appears
DASK_WRITE_DELAY = 3.0
# blocks of switched_off() running now, in any thread
_switched_off = 0
_lock = threading.Lock()


def wanted(requested: bool) -> bool:
    """Whether to show a bar that the caller ``requested``: the request, unless
    ``ZDB_PROGRESS`` or a :func:`switched_off` block switches bars off."""
    if not requested or _switched_off:
        return False
    return os.environ.get(ENV, "").strip().lower() not in _OFF


@contextmanager
def switched_off(off: bool = True) -> Iterator[None]:
    """With ``off``, no bar of zdb is shown while the block runs, in any thread of the
    process (a command run with ``--quiet``: the bars of the writes it makes too)."""
    global _switched_off
    with _lock:
        _switched_off += bool(off)
    try:
        yield
    finally:
        with _lock:
            _switched_off -= bool(off)


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


def interactive() -> bool:
    """True in a Jupyter kernel or with stderr on a terminal: where someone watches."""
    if sys.stderr.isatty():
        return True
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


@contextmanager
def dask_tasks(desc: str, progress: bool | None = None) -> Iterator[None]:
    """A bar of the dask tasks that local schedulers (threads, processes, synchronous)
    compute inside the block, shown once the block has run :data:`DASK_WRITE_DELAY`
    seconds. ``progress`` None: where :func:`interactive`. A distributed cluster's
    tasks are not seen by local callbacks: there the bar stays hidden."""
    if not wanted(interactive() if progress is None else progress):
        yield
        return
    from dask.callbacks import Callback
    from tqdm.auto import tqdm

    bar = tqdm(total=0, desc=desc, unit="task", delay=DASK_WRITE_DELAY, leave=False)

    class _TaskCounter(Callback):
        def _start_state(self, dsk: Any, state: dict) -> None:
            bar.total += sum(len(state[k]) for k in ("ready", "waiting", "running"))

        def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
            bar.update(1)

    try:
        with _TaskCounter():
            yield
    finally:
        bar.close()
