"""``to_cloudpickle``: the fallback for any value no other dumper stores.

Unpickling runs code chosen by whoever wrote the file, so reading is guarded by the
database's ``allow_pickle``: True always reads; False never does; None (the default)
reads a pickle only when all of these hold:

- you created the database at the place it is opened from (your registry records the
  places where you created a database or exported it to an archive: a database that
  was received, copied, moved or extracted is not trusted, whoever owns its files);
- the file (for an archive, the archive) is owned by you and no one else may write it,
  checked on the open file that is read;
- the file is on this machine's file system (never from object stores).
"""

from __future__ import annotations

import os
import stat
from typing import Any

from ...dumper import ROLE_FALLBACK, Dumper, Target
from ...dumper_registry import register
from ...exceptions import PickleRefusedError, UnsupportedValueError
from ...format import group_document
from ...storage import join

PAYLOAD = "value.pickle"


class ToCloudpickle(Dumper):
    name = "to_cloudpickle"
    role = ROLE_FALLBACK
    always_writes = True
    priority = -100

    def handles(self, value: Any) -> bool:
        return True

    def dump(self, value: Any, target: Target, protocol: int | None = None) -> dict[str, Any]:
        import cloudpickle

        try:
            data = cloudpickle.dumps(value, protocol=protocol)
        except Exception as e:
            raise UnsupportedValueError(f"cannot pickle a {type(value).__qualname__}: {e}") from e
        target.store.write_bytes(join(target.path, PAYLOAD), data)
        target.store.write_bytes(join(target.path, "zarr.json"), group_document({}))
        return {
            "type": f"{type(value).__module__}.{type(value).__qualname__}",
            "summary": f"{len(data)} bytes pickled",
        }

    def reads_atomically(self, info: dict[str, Any]) -> bool:
        return True  # one file, or none

    def load(
        self, target: Target, info: dict[str, Any], *, lazy: bool = False, as_xarray: bool = False
    ) -> Any:
        import pickle

        return pickle.loads(_read_allowed(target, join(target.path, PAYLOAD)))


def _read_allowed(target: Target, path: str) -> bytes:
    """The pickle's bytes, if the policy allows reading them; PickleRefusedError if not.

    Ownership is checked on the very file that is read (no window in which it could be
    swapped for another), and a link is never followed.
    """
    allow = target.allow_pickle
    if allow is True:
        return target.store.read_bytes(path)
    where = f"{target.key} is a pickle ({target.store.full(path)})"
    fix = "open the database with allow_pickle=True if you trust whoever wrote it"
    if allow is False:
        raise PickleRefusedError(f"{where} and the database was opened with allow_pickle=False")
    if isinstance(allow, str):
        raise PickleRefusedError(f"{where}, and {allow}; unpickling runs code: {fix}")
    data, st = target.store.read_with_stat(path)
    if st is None:
        raise PickleRefusedError(
            f"{where} on a remote store; unpickling runs code, so zdb reads remote pickles "
            f"only when the database is opened with allow_pickle=True"
        )
    if st.st_uid != os.getuid():
        raise PickleRefusedError(f"{where} owned by user id {st.st_uid}, not by you: {fix}")
    if st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        raise PickleRefusedError(
            f"{where} that other users may change (mode {stat.filemode(st.st_mode)}): {fix}"
        )
    return data


class ToPickle(ToCloudpickle):
    """``to_pickle``: ISF's pickle dumper under its own name. Named explicitly, it stores
    the value as ``to_cloudpickle`` does (read under the same policy) and the key records
    ``to_pickle``, as ISF's metadata did; it is never chosen by itself."""

    name = "to_pickle"
    role = None

    def handles(self, value: Any) -> bool:
        return False


dumper = register(ToCloudpickle())
register(ToPickle())
