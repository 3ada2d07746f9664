"""Reading, writing and path rewriting of ISF's ``.param`` files.

The code lives in :mod:`zdb.simrun.parameter_files` (parsing and writing) and
:mod:`zdb.simrun.references` (file references); this module keeps the names importable
from here.
"""

from __future__ import annotations

from ..simrun.parameter_files import (
    Location,
    ParameterFileError,
    PathLike,
    format_params,
    parse_param_text,
    read_param_file,
    write_param_file,
)
from ..simrun.references import (
    PathReference,
    find_file_paths,
    looks_like_path,
    rewrite_path_prefixes,
)

__all__ = [
    "Location",
    "ParameterFileError",
    "PathLike",
    "PathReference",
    "find_file_paths",
    "format_params",
    "looks_like_path",
    "parse_param_text",
    "read_param_file",
    "rewrite_path_prefixes",
    "write_param_file",
]
