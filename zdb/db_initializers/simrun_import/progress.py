"""The progress bar of an import."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ... import progress_bars
from .reporting import logger


@contextmanager
def progress_bar(enabled: bool, distributed: bool) -> Iterator[Callable[[str], None]]:
    """A tqdm progress bar: dask tasks done (local schedulers), or import steps done (on
    a distributed cluster, whose tasks local callbacks do not see). Yields a function
    that names the current step."""
    enabled = progress_bars.wanted(enabled)
    unit = "step" if distributed else "task"
    bar = progress_bars.bar(total=0, unit=unit, progress=enabled, desc="import")

    def step(name: str) -> None:
        logger.info("simrun import: %s", name)
        bar.set_description(f"import: {name}")
        if distributed:
            bar.total += 1
            bar.update(1)

    if distributed or not enabled:
        try:
            yield step
        finally:
            bar.close()
        return
    from dask.callbacks import Callback

    class _TaskCounter(Callback):
        def _start_state(self, dsk: Any, state: dict) -> None:
            bar.total += sum(len(state[k]) for k in ("ready", "waiting", "running"))
            bar.refresh()

        def _posttask(self, key: Any, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
            bar.update(1)

    try:
        with _TaskCounter():
            yield step
    finally:
        bar.close()
