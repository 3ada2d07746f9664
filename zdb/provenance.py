"""Provenance of the values written to a zdb database.

Every key written records where it came from: when, on which host, with which
zdb and package versions, from which state of the user's git repository and,
under IPython, after which input cells. Gathering is best effort: nothing here
raises; a field that could not be gathered is None (or empty) and the reason is
a line ``"<field>: <why>"`` in the ``error`` field.

:func:`gather` runs once for every key written, and users write thousands of
small keys in loops, so everything slow is cached: the hostname, the zdb
version and the package-to-distribution mapping per process, the module
versions until ``sys.modules`` grows or shrinks, and the git state per
repository for :data:`GIT_CACHE_SECONDS`. After the first call, a call costs
microseconds.
"""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

__all__ = [
    "FIELDS",
    "GIT_CACHE_SECONDS",
    "GIT_TIMEOUT_SECONDS",
    "METADATA_CREATION_TIME",
    "clear_caches",
    "gather",
]

#: every key of the dict returned by :func:`gather`, in order
FIELDS: tuple[str, ...] = (
    "time",
    "hostname",
    "zdb_version",
    "version",
    "full-revisionid",
    "dirty",
    "diff",
    "module_versions",
    "history",
    "metadata_creation_time",
    "error",
)

#: value of the ``metadata_creation_time`` field: provenance is written with the key
METADATA_CREATION_TIME = "together_with_new_key"


def _seconds_from_env(name: str, default: float) -> float:
    """A non-negative number of seconds from the environment, else ``default``."""
    try:
        value = float(os.environ.get(name, default))
    except ValueError:
        return default
    return value if value >= 0 else default


#: How long the git state of a repository is reused, in seconds (initial value
#: from the environment variable ``ZDB_GIT_CACHE_SECONDS``). Asking git costs
#: several milliseconds of subprocesses, far more than writing a small key, so
#: a loop writing thousands of keys asks git at most once per this interval;
#: an edit made between two writes seconds apart is still seen. 0 disables the
#: cache.
GIT_CACHE_SECONDS: float = _seconds_from_env("ZDB_GIT_CACHE_SECONDS", 2.0)

#: how long the git commands of one refresh may take together before they are killed
GIT_TIMEOUT_SECONDS: float = 10.0

_GIT_FIELDS = ("version", "full-revisionid", "dirty", "diff")
_NO_GIT: dict[str, Any] = dict.fromkeys(_GIT_FIELDS)

# The git commands run, in parallel, on a cache miss. They are read-only: with
# GIT_OPTIONAL_LOCKS=0 and diff.autoRefreshIndex=false none of them takes
# .git/index.lock, which would make a git command the user runs at the same
# moment fail. `git describe --dirty` would refresh and lock the index, so
# "-dirty" is appended from the diff instead (which, like describe, ignores
# untracked files). --no-ext-diff/--no-textconv keep user-configured programs
# out and the diff a real patch.
_GIT_CONFIG = ("-c", "diff.autoRefreshIndex=false")
_GIT_COMMANDS: dict[str, tuple[str, ...]] = {
    "full-revisionid": ("rev-parse", "--verify", "HEAD"),
    "version": ("describe", "--always", "--tags"),
    "diff": ("diff", "--no-ext-diff", "--no-textconv", "--no-color", "HEAD"),
}

# Environment variables that would make git look at another repository than
# the one found (they are set, for example, inside git hooks).
_GIT_REDIRECTING_ENV = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
)

# start directory -> (monotonic time found, repository root or None)
_repo_cache: dict[str, tuple[float, str | None]] = {}
# repository root -> (monotonic time asked, git fields, error lines)
_git_cache: dict[str, tuple[float, dict[str, Any], tuple[str, ...]]] = {}
# (sys.argv[0], __main__.__file__) -> directories of the running script
_script_dir_cache: dict[tuple[object, object], tuple[str, ...]] = {}
# top-level module name -> (module object, its version or None)
_module_version_cache: dict[str, tuple[ModuleType, str | None]] = {}
# (len(sys.modules), module versions, error line or None)
_modules_state: tuple[int, dict[str, str], str | None] | None = None
# (IPython's input history list, its length, the joined cells)
_history_state: tuple[object, int, str] | None = None


def clear_caches() -> None:
    """Forget everything cached, so that the next :func:`gather` asks afresh (for tests)."""
    global _modules_state, _history_state
    _repo_cache.clear()
    _git_cache.clear()
    _script_dir_cache.clear()
    _module_version_cache.clear()
    _modules_state = None
    _history_state = None
    _hostname.cache_clear()
    _zdb_version.cache_clear()
    _scan_distributions.cache_clear()


def gather(repo_paths: Sequence[str | os.PathLike[str]] | None = None) -> dict[str, Any]:
    """Provenance of a value written now, as a JSON-serialisable dict with keys :data:`FIELDS`.

    The git fields describe the first of ``repo_paths`` inside a git work tree.
    Without ``repo_paths``, the first of these inside a work tree: the paths in
    the environment variable ``ZDB_GIT_REPO`` (``os.pathsep``-separated), the
    directory of the running script, the directory of the Jupyter notebook
    (when known), the current working directory. Never raises.
    """
    stamp = datetime.now(UTC).isoformat(timespec="microseconds")
    errors: list[str] = []
    ipython = _ipython()

    hostname, error = _hostname()
    if error:
        errors.append(error)
    zdb_version, error = _zdb_version()
    if error:
        errors.append(error)
    try:
        git, git_errors = _git_state(repo_paths, ipython)
    except Exception as exc:  # a bug or an odd environment must not stop a write
        git, git_errors = _NO_GIT, (f"git: {_describe(exc)}",)
    errors.extend(git_errors)
    module_versions, error = _module_versions()
    if error:
        errors.append(error)
    history, error = _history(ipython)
    if error:
        errors.append(error)

    return {
        "time": stamp,
        "hostname": hostname,
        "zdb_version": zdb_version,
        "version": git["version"],
        "full-revisionid": git["full-revisionid"],
        "dirty": git["dirty"],
        "diff": git["diff"],
        "module_versions": dict(module_versions),
        "history": history,
        "metadata_creation_time": METADATA_CREATION_TIME,
        "error": "\n".join(errors) if errors else None,
    }


def _describe(exc: BaseException) -> str:
    """A one-line description of an exception."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@functools.cache
def _hostname() -> tuple[str | None, str | None]:
    """The host name and an error line; cached per process."""
    try:
        return socket.gethostname(), None
    except Exception as exc:
        return None, f"hostname: {_describe(exc)}"


def zdb_version() -> tuple[str | None, str | None]:
    """The version of zdb itself and an error line (None when there is none)."""
    return _zdb_version()


def git_fields(path: str | os.PathLike[str]) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The git fields (``version``, ``full-revisionid``, ``dirty``, ``diff``) of the
    work tree that holds ``path`` (None values outside one) and the error lines saying
    why a field is missing. Never raises."""
    try:
        return _git_state([path], None)
    except Exception as exc:  # as in gather: an odd environment must not stop the caller
        return dict(_NO_GIT), (f"git: {_describe(exc)}",)


@functools.cache
def _zdb_version() -> tuple[str | None, str | None]:
    """The installed zdb version, else ``zdb.__version__``, and an error line; cached."""
    try:
        import importlib.metadata  # lazily: it costs 25 ms to import

        return importlib.metadata.version("zdb"), None
    except Exception as exc:
        why = f"distribution 'zdb' not found ({_describe(exc)})"
    try:
        version = getattr(importlib.import_module("zdb"), "__version__", None)
    except Exception as exc:
        return None, f"zdb_version: {why}; import zdb failed ({_describe(exc)})"
    if isinstance(version, str) and version:
        return version, None
    return None, f"zdb_version: {why}; zdb.__version__ is not set"


def _ipython() -> Any:
    """The running IPython shell, or None; never imports IPython."""
    module = sys.modules.get("IPython")
    if module is None:
        return None
    try:
        return module.get_ipython()
    except Exception:
        return None


# ---------------------------------------------------------------- git


def _git_state(
    repo_paths: Sequence[str | os.PathLike[str]] | None, ipython: Any
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The git fields of the repository chosen for ``repo_paths`` and the error lines."""
    now = time.monotonic()
    tried: list[str] = []
    root = None
    for start in _candidate_dirs(repo_paths, ipython):
        tried.append(start)
        root = _find_repo(start, now)
        if root is not None:
            break
    if root is None:
        where = ", ".join(dict.fromkeys(tried)) or "(no paths given)"
        return _NO_GIT, (f"git: no git repository found at {where}",)
    cached = _git_cache.get(root)
    if cached is not None and now - cached[0] < GIT_CACHE_SECONDS:
        return cached[1], cached[2]
    fields, errors = _query_git(root)
    _git_cache[root] = (now, fields, errors)
    return fields, errors


def _candidate_dirs(
    repo_paths: Sequence[str | os.PathLike[str]] | None, ipython: Any
) -> Iterator[str]:
    """Absolute paths where to look for the repository, in order of preference.

    A generator, so that the usual case (the script's repository) never calls
    ``os.getcwd()``.
    """
    if repo_paths is not None:
        if isinstance(repo_paths, str | os.PathLike):
            repo_paths = [repo_paths]
        for path in repo_paths:
            yield os.path.abspath(os.fspath(path))
        return
    env = os.environ.get("ZDB_GIT_REPO")
    if env:
        for path in env.split(os.pathsep):
            if path:
                yield os.path.abspath(path)
    if ipython is None:
        # under IPython the "script" is the kernel launcher or the ipython command
        yield from _script_dirs()
    notebook = _notebook_dir(ipython)
    if notebook is not None:
        yield notebook
    try:
        yield os.getcwd()
    except OSError:  # the working directory was removed
        return


def _script_dirs() -> tuple[str, ...]:
    """Directories of ``sys.argv[0]`` and ``__main__.__file__`` that are files; cached."""
    argv = getattr(sys, "argv", None)
    argv0 = argv[0] if argv else None
    main_file = getattr(sys.modules.get("__main__"), "__file__", None)
    key = (argv0, main_file)
    dirs = _script_dir_cache.get(key)
    if dirs is None:
        found = []
        for path in key:
            if isinstance(path, str) and path and os.path.isfile(path):
                found.append(os.path.dirname(os.path.abspath(path)))
        dirs = _script_dir_cache[key] = tuple(dict.fromkeys(found))
    return dirs


def _notebook_dir(ipython: Any) -> str | None:
    """The directory of the running Jupyter notebook, if cheaply known, else None."""
    paths = [os.environ.get("JPY_SESSION_NAME")]
    if ipython is not None:
        user_ns = getattr(ipython, "user_ns", None)
        if isinstance(user_ns, Mapping):
            paths += [user_ns.get("__session__"), user_ns.get("__vsc_ipynb_file__")]
    for path in paths:
        # a relative path would be relative to the Jupyter server's root, not known here
        if isinstance(path, str) and os.path.isabs(path):
            return os.path.dirname(path)
    return None


def _find_repo(start: str, now: float) -> str | None:
    """The root of the git work tree containing ``start``, or None; cached with the git TTL."""
    cached = _repo_cache.get(start)
    if cached is not None and now - cached[0] < GIT_CACHE_SECONDS:
        return cached[1]
    path = start if os.path.isdir(start) else os.path.dirname(start)
    root = None
    while True:
        if os.path.exists(os.path.join(path, ".git")):  # a directory, or a file in worktrees
            root = os.path.realpath(path)
            break
        parent = os.path.dirname(path)
        if parent == path:
            break
        path = parent
    _repo_cache[start] = (now, root)
    return root


def _query_git(root: str) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Ask git about the work tree at ``root``: the git fields and error lines."""
    env = dict(os.environ)
    for name in _GIT_REDIRECTING_ENV:
        env.pop(name, None)
    env["GIT_OPTIONAL_LOCKS"] = "0"
    procs: dict[str, subprocess.Popen[bytes]] = {}
    outputs: dict[str, str] = {}
    errors: list[str] = []
    try:
        for field, args in _GIT_COMMANDS.items():
            procs[field] = subprocess.Popen(
                ["git", *_GIT_CONFIG, *args],
                cwd=root,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),
            )
        deadline = time.monotonic() + GIT_TIMEOUT_SECONDS
        for field, proc in procs.items():
            out, err = proc.communicate(timeout=max(0.0, deadline - time.monotonic()))
            if proc.returncode == 0:
                outputs[field] = out.decode("utf-8", "replace")
            else:
                command = " ".join(("git", *_GIT_COMMANDS[field]))
                errors.append(f"{field}: `{command}` in {root} failed: {_git_error(proc, err)}")
    except FileNotFoundError:
        return _NO_GIT, ("git: the git executable was not found",)
    except subprocess.TimeoutExpired:
        return _NO_GIT, (f"git: timed out after {GIT_TIMEOUT_SECONDS:g} s in {root}",)
    except Exception as exc:
        return _NO_GIT, (f"git: {_describe(exc)}",)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    fields = dict(_NO_GIT)
    if "full-revisionid" in outputs:
        fields["full-revisionid"] = outputs["full-revisionid"].strip()
    if "diff" in outputs:
        fields["dirty"] = bool(outputs["diff"])
        fields["diff"] = outputs["diff"] or None
    if "version" in outputs:
        fields["version"] = outputs["version"].strip() + ("-dirty" if fields["dirty"] else "")
    return fields, tuple(errors)


def _git_error(proc: subprocess.Popen[bytes], stderr: bytes) -> str:
    """The telling line of a failed git command's stderr (git adds hints after it)."""
    lines = [line.strip() for line in stderr.decode("utf-8", "replace").splitlines()]
    lines = [line for line in lines if line]
    for line in lines:
        if line.startswith(("fatal:", "error:")):
            return line
    return lines[0] if lines else f"exit status {proc.returncode}"


# ---------------------------------------------------------------- modules


#: writers in several threads of a new process ask at once: one scans, the others wait
_distributions_lock = threading.Lock()


def _packages_distributions() -> Mapping[str, list[str]]:
    """Top-level import name -> distribution names; cached, as it scans all of sys.path
    (0.3 s with a scientific stack installed), once per process."""
    with _distributions_lock:
        return _scan_distributions()


@functools.cache
def _scan_distributions() -> Mapping[str, list[str]]:
    import importlib.metadata  # lazily: it costs 25 ms to import

    return importlib.metadata.packages_distributions()


def _module_versions() -> tuple[dict[str, str], str | None]:
    """Versions of the imported top-level third-party packages and an error line.

    Recomputed only when the number of entries in ``sys.modules`` changes; the
    version of each module object is looked up once.
    """
    global _modules_state
    state = _modules_state
    count = len(sys.modules)
    if state is not None and state[0] == count:
        return state[1], state[2]
    error = None
    try:
        distributions = _packages_distributions()
    except Exception as exc:
        distributions = {}
        error = f"module_versions: could not map packages to distributions: {_describe(exc)}"
    versions: dict[str, str] = {}
    try:
        for name, module in list(sys.modules.items()):
            if (
                not isinstance(module, ModuleType)
                or name.startswith("_")
                or "." in name
                or name in sys.stdlib_module_names
                or name in sys.builtin_module_names
            ):
                continue
            cached = _module_version_cache.get(name)
            if cached is not None and cached[0] is module:
                version = cached[1]
            else:
                version = _version_of(name, module, distributions)
                _module_version_cache[name] = (module, version)
            if version is not None:
                versions[name] = version
    except Exception as exc:
        error = f"module_versions: {_describe(exc)}"
    _modules_state = (count, versions, error)
    return versions, error


def _version_of(
    name: str, module: ModuleType, distributions: Mapping[str, list[str]]
) -> str | None:
    """The version of the distribution(s) providing ``name``, else its ``__version__``."""
    found: dict[str, str] = {}
    for dist in dict.fromkeys(distributions.get(name, ())):
        try:
            import importlib.metadata  # lazily: it costs 25 ms to import

            version = importlib.metadata.version(dist)
        except Exception:
            continue
        if isinstance(version, str) and version:
            found[dist] = version
    if len(set(found.values())) == 1:
        return next(iter(found.values()))
    if found:  # a namespace package shared by several distributions
        return ", ".join(f"{dist}=={version}" for dist, version in found.items())
    try:
        version = getattr(module, "__version__", None)
    except Exception:  # lazy modules may fail in __getattr__
        return None
    if isinstance(version, str) and version:
        return version
    return None


# ---------------------------------------------------------------- IPython


def _history(ipython: Any) -> tuple[str | None, str | None]:
    """The IPython session's input cells joined by newlines, and an error line."""
    global _history_state
    if ipython is None:
        return None, None
    try:
        cells = ipython.history_manager.input_hist_raw
        count = len(cells)
        state = _history_state
        if state is not None and state[0] is cells and state[1] == count:
            return state[2], None
        texts = [str(cell) for cell in cells]
        if texts and not texts[0]:  # IPython pads with "" so that cell n is at index n
            del texts[0]
        history = "\n".join(texts)
    except Exception as exc:
        return None, f"history: {_describe(exc)}"
    _history_state = (cells, count, history)
    return history, None
