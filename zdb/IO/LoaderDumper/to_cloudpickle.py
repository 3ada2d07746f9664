"""``to_cloudpickle``: the fallback for any value no other dumper stores.

Unpickling runs code chosen by whoever wrote the file, so reading is guarded by the
database's ``allow_pickle``: None (the default) reads pickles only from a database on
this machine's file system whose file is owned by the current user; True always
reads; False never does.
"""

from __future__ import annotations

import os
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

        path = join(target.path, PAYLOAD)
        _check_allowed(target, path)
        return pickle.loads(target.store.read_bytes(path))


def _check_allowed(target: Target, path: str) -> None:
    allow = target.allow_pickle
    if allow is True:
        return
    where = target.store.full(path)
    if allow is False:
        raise PickleRefusedError(
            f"{where} is a pickle and this database was opened with allow_pickle=False; "
            "open it with allow_pickle=True if you trust whoever wrote it"
        )
    local = target.store.local_path(path)
    if local is None:
        raise PickleRefusedError(
            f"{where} is a pickle on a remote store; unpickling runs code, so zdb reads "
            "remote pickles only when the database is opened with allow_pickle=True"
        )
    owner = os.stat(local).st_uid
    if owner != os.getuid():
        raise PickleRefusedError(
            f"{where} is a pickle owned by user id {owner}, not by you; unpickling runs "
            "code, so open the database with allow_pickle=True if you trust its writer"
        )


dumper = register(ToCloudpickle())
