"""The storage contract (zdb.testing.StoreTests) on every backend zdb ships: a local
folder, fsspec's memory file system, S3 through moto's server, and zip archives."""

from __future__ import annotations

import secrets
import zipfile

from zdb.storage import FsspecStore, LocalStore, Store, open_store
from zdb.testing import StoreTests


class TestLocalStore(StoreTests):
    def new_store(self) -> Store:
        return LocalStore(self.tmp_path / "root")


class TestMemoryStore(StoreTests):
    def new_store(self) -> Store:
        return FsspecStore(f"memory://zdb-store-tests/{secrets.token_hex(6)}")


class TestS3Store(StoreTests):
    def new_store(self) -> Store:
        from .s3_server import storage_options

        endpoint = self.request.getfixturevalue("s3_endpoint")
        return FsspecStore(f"s3://zdb-tests/{secrets.token_hex(6)}", storage_options(endpoint))


class TestZipStore(StoreTests):
    """Archives are read-only: their content is written with zipfile, not the store."""

    def new_store(self) -> Store:
        return self.store_with({})

    def store_with(self, files: dict[str, bytes]) -> Store:
        path = self.tmp_path / f"{secrets.token_hex(4)}.zip"
        with zipfile.ZipFile(path, "w") as z:
            for name, data in files.items():
                z.writestr(name, data)
        return open_store(path)
