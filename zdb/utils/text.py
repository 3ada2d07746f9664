"""Helpers on text with ISF's names: splitting a file of several tables into buffers
(:func:`split_file_to_buffers`, :func:`first_line_to_key`), and terminal colours
(:class:`bcolors`, :func:`colorize_str`)."""

from __future__ import annotations

import io
from collections.abc import Iterable


def split_file_to_buffers(f: Iterable[str], split_str: str = "#") -> list[io.StringIO]:
    """Split the lines of ``f`` (an open text file, or any iterable of lines) into
    buffers, a new one at every line starting with ``split_str``; each buffer holds its
    lines, each ending in one newline, and is rewound. ISF added a second newline to
    every line read from a file (``pandas.read_csv`` skips the blank lines either way)
    and failed when the first line did not start with ``split_str``; zdb puts such
    leading lines in a buffer of their own."""
    buffers: list[io.StringIO] = []
    current: io.StringIO | None = None
    for line in f:
        if current is None or line.startswith(split_str):
            current = io.StringIO()
            buffers.append(current)
        current.write(line.rstrip("\r\n") + "\n")
    for buffer in buffers:
        buffer.seek(0)
    return buffers


def first_line_to_key(stringios: Iterable[io.StringIO]) -> dict[str, io.StringIO]:
    """A dict of the buffers' first lines (stripped: each table's name) to new, rewound
    buffers of their other lines. An empty buffer is left out."""
    out: dict[str, io.StringIO] = {}
    for buffer in stringios:
        lines = iter(buffer)
        name = next(lines, None)
        if name is None:
            continue
        value = io.StringIO()
        for line in lines:
            value.write(line.rstrip("\r\n") + "\n")
        value.seek(0)
        out[name.strip()] = value
    return out


class bcolors:  # noqa: N801 (ISF's name)
    """ANSI escape sequences for coloured terminal output."""

    HEADER = "\033[95m"
    OKBLUE = "\033[94m"
    OKCYAN = "\033[96m"
    OKGREEN = "\033[92m"
    WARNING = "\033[93m"
    FAIL = "\033[91m"
    ENDC = "\033[0m"
    BOLD = "\033[1m"
    UNDERLINE = "\033[4m"


def colorize_str(key: str, bcolor: str) -> str:
    """``key`` in the colour ``bcolor`` (one of :class:`bcolors`), reset after it."""
    return bcolor + key + bcolors.ENDC
