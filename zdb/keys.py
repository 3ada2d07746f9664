"""The key rules: what a key may look like, in one place.

A key is a str or a tuple of str; a tuple nests through sub-databases. Every part is
1 to 120 characters of ``A-Za-z0-9_.-``, is not ``.`` or ``..``, does not start with
``.`` (names starting with ``.`` are zdb's own bookkeeping, such as key versions), and
is not ``zarr.json`` or a name starting with it, in any case (the node document of
every Zarr group, and its temporary files). A key's path in its store, with room for
the files of its value, must fit the store's limit (:func:`check_path_length`).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from .exceptions import InvalidKeyError

if TYPE_CHECKING:
    from .storage import Store

MAX_PART_LENGTH = 120
_PART = re.compile(rf"[A-Za-z0-9_.\-]{{1,{MAX_PART_LENGTH}}}")
#: a part may not start with this, in any case: Zarr's node document and its temp files
RESERVED_PREFIX = "zarr.json"
#: bytes kept free below a key for its version folder and the files of its value (a
#: table column's auxiliary arrays, named by labels of up to 200 bytes, are the deepest)
VALUE_PATH_BYTES = 300

Key = str | tuple[str, ...]


def _why_invalid(part: object) -> str | None:
    if not isinstance(part, str):
        return f"each part must be a str, not {type(part).__name__}"
    if not part:
        return "a part must not be empty"
    if len(part) > MAX_PART_LENGTH:
        return f"a part must be at most {MAX_PART_LENGTH} characters (this one has {len(part)})"
    if part.startswith("."):
        return "a part must not start with '.' (reserved for zdb's bookkeeping)"
    if not _PART.fullmatch(part):
        bad = sorted({c for c in part if not re.fullmatch(r"[A-Za-z0-9_.\-]", c)})
        return f"a part may only hold the characters A-Z a-z 0-9 _ . - (found {bad!r})"
    if part.lower().startswith(RESERVED_PREFIX):
        return "a part must not be or start with 'zarr.json' (Zarr's own node document)"
    return None


def is_valid_part(part: object) -> bool:
    """True if ``part`` may be one part of a key (checks names read from disk, such as
    key index entries, before they are used)."""
    return _why_invalid(part) is None


def short(key: object) -> str:
    """``repr(key)`` for messages, cut to about 80 characters (at least the first 20)."""
    text = repr(key)
    return text if len(text) <= 80 else f"{text[:60]}...{text[-17:]}"


def normalize_key(key: object) -> tuple[str, ...]:
    """Return ``key`` as a tuple of parts, or raise :class:`InvalidKeyError` naming the rule."""
    if isinstance(key, str):
        parts: tuple = (key,)
    elif isinstance(key, tuple):
        parts = key
        if not parts:
            raise InvalidKeyError("Invalid key (): a key needs at least one part")
    else:
        raise InvalidKeyError(
            f"Invalid key {short(key)}: a key is a str or a tuple of str, not {type(key).__name__}"
        )
    for part in parts:
        why = _why_invalid(part)
        if why:
            raise InvalidKeyError(
                f"Invalid key {short(key)}: {why}; rename the key to follow this rule"
            )
    return parts


def check_path_length(store: Store, prefix: str, parts: tuple[str, ...]) -> None:
    """Raise :class:`InvalidKeyError` when the key ``parts`` below ``prefix`` would not
    fit in ``store`` (a file system's PATH_MAX, S3's 1024-byte object keys) with room
    for the files of its value."""
    path = "/".join((prefix, *parts)) if prefix else "/".join(parts)
    need = len(path.encode()) + VALUE_PATH_BYTES
    limit = store.max_path_bytes
    if need > limit:
        raise InvalidKeyError(
            f"Invalid key {short(format_key(parts))}: its path in {store.full('')} would take "
            f"{need} bytes with its value's files, more than the {limit} this store allows; "
            "use fewer or shorter parts"
        )


def format_key(parts: tuple[str, ...]) -> str | tuple[str, ...]:
    """The user-facing form of a key: a str for one part, a tuple for several."""
    return parts[0] if len(parts) == 1 else parts
