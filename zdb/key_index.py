"""The key index: which keys a database holds, readable in a few store requests.

Listing a folder of 100,000 keys on an object store takes 100 paged requests, so
every database also keeps an index in ``.zdb/index/``: immutable segment objects,
each a zlib-compressed JSON list of entries ``[name, kind, time_us, deleted]``.

- A writer appends a segment of one entry after each commit, so writers never
  rewrite a shared document. It then merges segments like a binary counter: while
  two segments share a level (``bit_length(len(entries)) - 1``), they become one
  segment of the next level and are deleted. An index of N entries thus has at most
  about log2(N) segments, and each entry is rewritten about log2(N) times in all.
- A reader lists the segments (one request) and reads those it has not read before
  (segments never change, so their content is cached by name in this process); the
  newest entry of each name wins. Merging is idempotent, so readers and writers that
  race with a merge at worst see an entry twice.

The index is what readers of object stores trust for ``keys()``; local databases list
their folder. A database whose root node lacks ``"index": 1`` has no complete index
(written by another tool); zdb lists it the slow way and builds the index when it is
opened for writing.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import time
import warnings
import zlib
from typing import Any

from .format import BOOKKEEPING, KIND_DATA, KIND_DATABASE
from .keys import is_valid_part
from .storage import Store, join

INDEX = f"{BOOKKEEPING}/index"
SUFFIX = ".json.z"
#: segment contents by index location, then segment name; segments are immutable
_SEGMENTS: dict[str, dict[str, list]] = {}
#: how often a reader re-lists when a segment vanishes under it (merged meanwhile)
_READ_RETRIES = 5


def _level(count: int) -> int:
    return max(count, 1).bit_length() - 1


def _segment_name(level: int) -> str:
    return f"{level:02d}-{time.time_ns() // 1000:014x}-{secrets.token_hex(4)}{SUFFIX}"


class KeyIndex:
    """The index of one database (or sub-database) at ``db_prefix`` in ``store``."""

    def __init__(self, store: Store, db_prefix: str) -> None:
        self.store = store
        self.path = join(db_prefix, INDEX)
        self._cache = _SEGMENTS.setdefault(store.full(self.path), {})

    def _segments(self) -> list[str]:
        names = sorted(n for n in self.store.list_dir(self.path) if n.endswith(SUFFIX))
        for gone in set(self._cache) - set(names):  # merged away by someone
            self._cache.pop(gone, None)
        return names

    def _read(self, name: str) -> list:
        if name not in self._cache:
            self._read_all([name])
        return self._cache[name]

    def _read_all(self, names: list[str]) -> None:
        """Read the segments of ``names`` not cached yet, all at once."""
        missing = [n for n in names if n not in self._cache]
        got = self.store.read_many([join(self.path, n) for n in missing])
        for name in missing:
            self._cache[name] = self._decode(name, got[join(self.path, name)])

    def _decode(self, name: str, data: bytes) -> list:
        """The well-formed entries of a segment. Entries are names read from disk: a
        segment that cannot be decoded, or entries that break the key rules, are left
        out with a warning (the keys stay readable; ``repair_index`` lists them again)."""
        try:
            entries = json.loads(zlib.decompress(data))
        except (ValueError, zlib.error, RecursionError):
            entries = None
        good = [e for e in entries if _well_formed(e)] if isinstance(entries, list) else []
        if entries is None or len(good) != len(entries):
            warnings.warn(
                f"zdb: the key index segment {self.store.full(join(self.path, name))} is "
                f"damaged; {'its' if entries is None else 'some of its'} entries are left out. "
                "Open the database for writing and call db.repair_index() to list the keys "
                "it held again",
                stacklevel=4,
            )
        return good

    def _write(self, entries: list, level: int | None = None) -> str:
        name = _segment_name(_level(len(entries)) if level is None else level)
        data = zlib.compress(json.dumps(entries, separators=(",", ":")).encode())
        self.store.write_atomic(join(self.path, name), data)
        self._cache[name] = entries
        return name

    def record(self, name: str, kind: str | None) -> None:
        """Note that key ``name`` now exists with ``kind`` (None: it was deleted)."""
        self.record_many([(name, kind)])

    def record_many(self, changes: list[tuple[str, str | None]]) -> None:
        """Note several changes at once (one segment), then merge segments."""
        now = time.time_ns() // 1000
        entries = [[n, k, now, k is None] for n, k in changes]
        self._write(entries, level=0 if len(entries) == 1 else None)
        self._merge()

    def _merge(self) -> None:
        """Merge segments of equal level until every level holds at most one.

        The merged segment is named after its inputs and created exclusively, so two
        writers that pick the same pair write it once: the one that loses stops, and
        leaves the rest of the merging to the winner.
        """
        for _ in range(64):  # bounded: each merge removes a segment
            by_level: dict[int, list[str]] = {}
            for seg in self._segments():
                by_level.setdefault(int(seg.split("-", 1)[0]), []).append(seg)
            full = sorted(level for level, segs in by_level.items() if len(segs) > 1)
            if not full:
                return
            inputs = by_level[full[0]][:2]
            try:
                merged = list(_newest(e for seg in inputs for e in self._read(seg)).values())
            except FileNotFoundError:
                continue  # another writer merged them meanwhile
            stamp = inputs[-1].split("-")[1]
            digest = hashlib.sha1("|".join(inputs).encode()).hexdigest()[:8]
            name = f"{full[0] + 1:02d}-{stamp}-{digest}{SUFFIX}"
            data = zlib.compress(json.dumps(merged, separators=(",", ":")).encode())
            if not self.store.create_exclusive(join(self.path, name), data):
                return
            self._cache[name] = merged
            for seg in inputs:
                self.store.remove_file(join(self.path, seg))
                self._cache.pop(seg, None)

    def entries(self) -> dict[str, list]:
        """The newest entry of every name ever recorded (deleted ones included)."""
        for _ in range(_READ_RETRIES):
            try:
                segments = self._segments()
                self._read_all(segments)
                return _newest(e for seg in segments for e in self._read(seg))
            except FileNotFoundError:
                continue  # a segment was merged away between listing and reading
        raise FileNotFoundError(f"the key index {self.store.full(self.path)} keeps changing")

    def names(self) -> dict[str, str]:
        """Live keys and their kinds."""
        return {n: e[1] for n, e in self.entries().items() if not e[3]}


def _well_formed(entry: Any) -> bool:
    return (
        isinstance(entry, list)
        and len(entry) == 4
        and is_valid_part(entry[0])
        and entry[1] in (KIND_DATA, KIND_DATABASE, None)
        and type(entry[2]) is int
        and type(entry[3]) is bool
    )


def _newest(entries: Any) -> dict[str, list]:
    out: dict[str, list] = {}
    for entry in entries:
        old = out.get(entry[0])
        if old is None or entry[2] >= old[2]:
            out[entry[0]] = entry
    return out
