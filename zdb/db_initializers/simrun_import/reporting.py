"""How the simrun import reports: its exception, its warning and its logger."""

from __future__ import annotations

import logging

from ...exceptions import DataBaseException

#: named for the public module, so that logging set up for it keeps working
logger = logging.getLogger("zdb.db_initializers.load_simrun_general")


class SimrunImportError(DataBaseException):
    """A campaign cannot be imported as asked; the message names the file and the fix."""


class SimrunImportWarning(UserWarning):
    """Something in a campaign was imported as it is although it looks wrong."""
