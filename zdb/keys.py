"""The key rules: what a key may look like, in one place.

A key is a str or a tuple of str; a tuple nests through sub-databases. Every part is
1 to 120 characters of ``A-Za-z0-9_.-``, is not ``.`` or ``..`` and does not start
with ``.`` (names starting with ``.`` are zdb's own bookkeeping, such as key versions).
"""

from __future__ import annotations

import re

from .exceptions import InvalidKeyError

MAX_PART_LENGTH = 120
_PART = re.compile(rf"[A-Za-z0-9_.\-]{{1,{MAX_PART_LENGTH}}}")

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
    return None


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
            f"Invalid key {key!r}: a key is a str or a tuple of str, not {type(key).__name__}"
        )
    for part in parts:
        why = _why_invalid(part)
        if why:
            raise InvalidKeyError(f"Invalid key {key!r}: {why}; rename the key to follow this rule")
    return parts


def format_key(parts: tuple[str, ...]) -> str | tuple[str, ...]:
    """The user-facing form of a key: a str for one part, a tuple for several."""
    return parts[0] if len(parts) == 1 else parts
