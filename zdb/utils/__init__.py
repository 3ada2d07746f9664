"""ISF's ``data_base.utils``: the helpers ISF code imports, under ISF's names and
signatures (``from zdb.utils import chunkIt, cache, ...``). Where ISF's version fails on
today's Python or pandas (``flatten``, ``pandas_to_array``), or does not do what its
name says (``delete_in_background`` returned None, ``wait_until_key_removed`` ignored
its ``delay``, ``myrepartition`` left a temporary file behind), zdb's works; each
docstring and docs/utils.md say how it differs."""

from .calls import DelayedKeyboardInterrupt, cache, silence_stdout, skit
from .files import (
    delete_in_background,
    get_file_or_folder_that_endswith,
    get_file_or_folder_that_startswith,
    is_db,
    mkdtemp,
    rename_for_deletion,
    wait_until_key_removed,
)
from .frames import df_colnames_to_str, myrepartition, pandas_to_array, pooled_std, select
from .sequences import chunkIt, convertible_to_int, fancy_dict_compare, flatten, unique
from .text import bcolors, colorize_str, first_line_to_key, split_file_to_buffers

__all__ = [
    "DelayedKeyboardInterrupt",
    "bcolors",
    "cache",
    "chunkIt",
    "colorize_str",
    "convertible_to_int",
    "delete_in_background",
    "df_colnames_to_str",
    "fancy_dict_compare",
    "first_line_to_key",
    "flatten",
    "get_file_or_folder_that_endswith",
    "get_file_or_folder_that_startswith",
    "is_db",
    "mkdtemp",
    "myrepartition",
    "pandas_to_array",
    "pooled_std",
    "rename_for_deletion",
    "select",
    "silence_stdout",
    "skit",
    "split_file_to_buffers",
    "unique",
    "wait_until_key_removed",
]
