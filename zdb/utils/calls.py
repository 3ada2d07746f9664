"""Helpers around calling functions: memoizing (:func:`cache`), handing each function
its keywords (:func:`skit`), silencing output (:data:`silence_stdout`) and holding
Ctrl+C back (:class:`DelayedKeyboardInterrupt`), with ISF's names and signatures."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import io
import logging
import pickle
import signal
import threading
import types
from collections.abc import Callable
from typing import Any, TypeVar

import cloudpickle

from ..exceptions import InvalidArgumentError

F = TypeVar("F", bound=Callable[..., Any])


class _KeyPickler(cloudpickle.Pickler):
    """Pickles a call's arguments into the bytes its cache key is a hash of. A function
    among them stands for itself (by identity): pickling it by value would pickle what
    its closure holds, which changes while the cache fills (the cached function itself
    holds the cache)."""

    def __init__(self, file: io.BytesIO, keep: list[Any]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self.keep = keep

    def persistent_id(self, obj: Any) -> Any:
        if isinstance(obj, types.FunctionType):
            self.keep.append(obj)  # held by the cache entry: its id is not reused
            return ("function", id(obj))
        if isinstance(obj, types.MethodType):  # a new object at every attribute access
            self.keep.append(obj)
            return ("method", id(obj.__self__), id(obj.__func__))
        return None


def _call_key(function: Callable[..., Any], args: tuple, kwargs: dict) -> tuple[str, list]:
    buffer = io.BytesIO()
    keep: list[Any] = []
    try:
        _KeyPickler(buffer, keep).dump((args, sorted(kwargs.items())))
    except Exception as e:
        raise InvalidArgumentError(
            f"cache: the arguments of {getattr(function, '__qualname__', function)!r} cannot "
            f"be pickled ({type(e).__name__}: {e}), so no cache key can be made of them; call "
            "the undecorated function for such arguments"
        ) from e
    return hashlib.md5(buffer.getvalue(), usedforsecurity=False).hexdigest(), keep


def cache(function: F) -> F:
    """Memoize ``function`` by the value of its arguments, as ISF's ``cache``: equal
    arguments (pickled to equal bytes, with cloudpickle where pickle fails) give the
    stored result without calling it again. Unlike :func:`functools.cache`, arguments
    need not be hashable (lists, dicts, arrays, frames). A function passed as an
    argument counts by identity (ISF pickled it by value, and with it everything its
    closure held, so passing the cached function to itself missed the cache on its
    second call)."""
    memo: dict[str, tuple[Any, list[Any]]] = {}
    lock = threading.Lock()

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key, keep = _call_key(function, args, kwargs)
        with lock:
            if key in memo:
                return memo[key][0]
        result = function(*args, **kwargs)
        with lock:
            memo.setdefault(key, (result, keep))
            return memo[key][0]

    return wrapper  # type: ignore[return-value]


def skit(*funcs: Callable[..., Any], **kwargs: Any) -> tuple[dict[str, Any], ...]:
    """Split ``kwargs`` between ``funcs``: for each function, the dict of the keywords
    it takes (all of them when it takes ``**kwargs``). ISF matched the names of the
    function's local variables too, and took all keywords only for a catch-all named
    ``kwargs``; zdb reads the signature, so ``**options`` works and locals do not
    count."""
    out = []
    for fun in funcs:
        params = inspect.signature(fun).parameters.values()
        if any(p.kind is p.VAR_KEYWORD for p in params):
            out.append(dict(kwargs))
            continue
        names = {p.name for p in params if p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD)}
        out.append({k: v for k, v in kwargs.items() if k in names})
    return tuple(out)


class _SilenceStdout:
    """``with silence_stdout:`` or ``@silence_stdout``: nothing is printed to stdout and
    no log record is emitted inside. The stdout in effect when entering is restored
    when leaving (ISF restored the one of the time zdb was imported), so it nests and
    works under pytest's capture."""

    def __init__(self) -> None:
        self._saved: list[tuple[contextlib.redirect_stdout, int]] = []

    def __enter__(self) -> None:
        redirect = contextlib.redirect_stdout(io.StringIO())
        redirect.__enter__()
        self._saved.append((redirect, logging.root.manager.disable))
        logging.disable(logging.CRITICAL)

    def __exit__(self, *exc: Any) -> None:
        redirect, level = self._saved.pop()
        logging.disable(level)
        redirect.__exit__(*exc)

    def __call__(self, func: F) -> F:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with self:
                return func(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


#: a context manager and decorator that silences stdout and logging (ISF's name)
silence_stdout = _SilenceStdout()


class DelayedKeyboardInterrupt:
    """Hold a Ctrl+C (SIGINT) received inside the block back until the block is left,
    so that work there finishes; the interrupt is raised then. Outside the main thread
    (where signals cannot be handled) it does nothing, as in ISF."""

    def __enter__(self) -> DelayedKeyboardInterrupt:
        self.signal_received: tuple[int, Any] | None = None
        self._in_main_thread = threading.current_thread() is threading.main_thread()
        if self._in_main_thread:
            self._old_handler = signal.signal(signal.SIGINT, self._handler)
        return self

    def _handler(self, sig: int, frame: Any) -> None:
        self.signal_received = (sig, frame)
        logging.getLogger(__name__).debug("SIGINT received; delaying KeyboardInterrupt")

    def __exit__(self, *exc: Any) -> None:
        if not self._in_main_thread:
            return
        signal.signal(signal.SIGINT, self._old_handler)
        if self.signal_received is not None and callable(self._old_handler):
            self._old_handler(*self.signal_received)
