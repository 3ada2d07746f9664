"""Reading and writing of ISF's ``.param`` files, without executing them.

ISF describes a neuron model (``*_neuron_model.param``) and a network
(``*_network_model.param``) as "ParameterSet" files: one Python dict literal, possibly
with comments, which ISF reads with ``eval``. zdb never evaluates them: the text is parsed
with :func:`ast.literal_eval`, which accepts only literals (dicts, lists, tuples, sets,
strings, numbers, ``True``/``False``/``None``), so a file holding code is rejected.

The files reference other files (morphology ``.hoc``, recording sites ``.landmarkAscii``,
network embedding ``.syn``/``.con``); :mod:`zdb.simrun.references` finds and moves
those references.
"""

from __future__ import annotations

import ast
import math
import os
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from ..exceptions import DataBaseException

PathLike = str | os.PathLike
Location = tuple[Any, ...]

_INDENT = "  "


class ParameterFileError(DataBaseException):
    """A ``.param`` file is not a plain Python dict literal, or a value cannot be written
    as one."""


def _is_number(node: ast.AST) -> bool:
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.UAdd | ast.USub):
        node = node.operand
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float | complex)
        and not isinstance(node.value, bool)
    )


def _non_literal(node: ast.AST) -> ast.AST | None:
    """The first part of ``node`` that :func:`ast.literal_eval` refuses, to point at it in
    the error message (literal_eval itself says only "malformed node")."""
    if isinstance(node, ast.Expression):
        return _non_literal(node.body)
    if isinstance(node, ast.Constant):
        return None
    if _is_number(node):
        return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub):
        if _is_number(node.left) and _is_number(node.right):
            return None  # complex literals such as 1+2j
        return node
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            return node
        children = [*node.keys, *node.values]
    elif isinstance(node, ast.List | ast.Tuple | ast.Set):
        children = node.elts
    else:
        return node
    for child in children:
        found = _non_literal(child)
        if found is not None:
            return found
    return None


def parse_param_text(text: str, source: str = "<string>") -> dict[str, Any]:
    """Parse the text of a ``.param`` file into nested dicts, lists and tuples.

    ``source`` names the file in error messages. Anything but a literal dict raises
    :class:`ParameterFileError` naming the line of the offending expression.
    """
    # eval mode refuses an indented first line; keep the line count for messages
    stripped = text.lstrip()
    body = "\n" * text.count("\n", 0, len(text) - len(stripped)) + stripped
    try:
        tree = ast.parse(body, filename=source, mode="eval")
    except SyntaxError as e:
        raise ParameterFileError(
            f"{source} is not a valid parameter file: syntax error at line {e.lineno}: {e.msg}"
        ) from None
    except (RecursionError, MemoryError):
        raise ParameterFileError(f"{source} is nested too deeply to parse") from None
    try:
        value = ast.literal_eval(tree)
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError) as e:
        node = _non_literal(tree)
        if node is not None and hasattr(node, "lineno"):
            snippet = ast.get_source_segment(body, node) or type(node).__name__
            if len(snippet) > 80:
                snippet = snippet[:77] + "..."
            where = f"line {node.lineno}: {snippet!r} is not a literal"
        else:
            where = str(e)
        raise ParameterFileError(
            f"{source} is refused: {where}. Parameter files may hold only dicts, lists, "
            "tuples, strings, numbers, True, False and None; zdb never executes them."
        ) from None
    if not isinstance(value, dict):
        raise ParameterFileError(
            f"{source} must hold one dict literal, found a {type(value).__name__}"
        )
    return value


def open_param_file(path: PathLike) -> BinaryIO:
    """Open a parameter file to read its bytes. Anything but a regular file (a symbolic
    link to one is followed) raises :class:`ParameterFileError`: a folder, or a device
    or pipe, which would never end or never answer."""
    name = os.fspath(path)
    try:
        # O_NONBLOCK: opening a pipe does not wait for a writer; regular files ignore it
        fd = os.open(name, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise ParameterFileError(f"parameter file {name} does not exist") from None
    except IsADirectoryError:
        fd = None
    except OSError as e:
        raise ParameterFileError(
            f"parameter file {name} cannot be read ({e.strerror}); check its permissions"
        ) from None
    mode = os.stat(name).st_mode if fd is None else os.fstat(fd).st_mode
    if stat.S_ISREG(mode):
        return os.fdopen(fd, "rb")
    if fd is not None:
        os.close(fd)
    what = "a folder" if stat.S_ISDIR(mode) else "not a regular file"
    raise ParameterFileError(
        f"parameter file {name} is {what}; a parameter file is a text file: remove or "
        "rename what is there"
    )


def read_param_file(path: PathLike) -> dict[str, Any]:
    """Read an ISF ``.param`` file into nested dicts without executing it."""
    with open_param_file(path) as f:
        data = f.read()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ParameterFileError(
            f"parameter file {os.fspath(path)} is not UTF-8 text (byte {e.start}: "
            f"{data[e.start : e.start + 1]!r}); convert it to UTF-8, for example with "
            "iconv -f latin1 -t utf-8"
        ) from None
    return parse_param_text(text, os.fspath(path))


def _quote(s: str) -> str:
    """A Python string literal for ``s``, with double quotes as ISF writes them."""
    r = repr(s)
    if r.startswith("'") and '"' not in s:
        return '"' + r[1:-1] + '"'
    return r


def _scalar(value: Any, location: Location) -> str | None:
    """The literal of a scalar, or None for containers."""
    if value is None or isinstance(value, bool):
        return repr(value)
    if hasattr(value, "item") and type(value).__module__ == "numpy":
        value = value.item()
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, int):
        return repr(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ParameterFileError(
                f"the value at {list(location)} is {value}, which a parameter file cannot "
                "hold (it has no literal form)"
            )
        return repr(float(value))
    if isinstance(value, Mapping | list | tuple):
        return None
    raise ParameterFileError(
        f"the value at {list(location)} is a {type(value).__name__}; a parameter file holds "
        "only dicts, lists, tuples, strings, numbers, True, False and None"
    )


def _holds_mapping(value: Any) -> bool:
    if isinstance(value, Mapping):
        return True
    return isinstance(value, list | tuple) and any(_holds_mapping(item) for item in value)


def _format(value: Any, depth: int, location: Location) -> str:
    scalar = _scalar(value, location)
    if scalar is not None:
        return scalar
    pad = _INDENT * (depth + 1)
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        items = []
        for key, item in value.items():
            key_text = _scalar(key, location)
            if key_text is None:
                raise ParameterFileError(f"a key at {list(location)} is not a scalar: {key!r}")
            items.append(f"{pad}{key_text}: {_format(item, depth + 1, (*location, key))},\n")
        return "{\n" + "".join(items) + _INDENT * depth + "}"
    parts = [_format(item, depth + 1, (*location, i)) for i, item in enumerate(value)]
    opening, closing = ("(", ")") if isinstance(value, tuple) else ("[", "]")
    if isinstance(value, tuple) and len(parts) == 1:
        return f"({parts[0]},)"
    if not any(_holds_mapping(item) for item in value):
        return opening + ", ".join(parts) + closing
    return opening + "\n" + "".join(f"{pad}{p},\n" for p in parts) + _INDENT * depth + closing


def format_params(params: Mapping[str, Any]) -> str:
    """The text of a ``.param`` file for ``params``: a Python dict literal, two-space
    indented, double-quoted strings and trailing commas, as ISF writes them; lists and
    tuples without dicts inside stay on one line."""
    if not isinstance(params, Mapping):
        raise ParameterFileError(f"a parameter file holds a dict, got a {type(params).__name__}")
    return _format(params, 0, ()) + "\n"


def write_param_file(path: PathLike, params: Mapping[str, Any]) -> None:
    """Write ``params`` as a ``.param`` file that :func:`read_param_file` and ISF read."""
    Path(path).write_text(format_params(params), encoding="utf-8")
