"""ISF's ``data_base._version``: the version of the installed zdb, in versioneer's form.

ISF's ``get_versions()`` came from versioneer; ISF code and tests read its ``version``,
``full-revisionid`` and ``dirty``. zdb answers from its installed distribution and,
when it runs from a git checkout, from git.
"""

from __future__ import annotations

import os
from typing import Any

from . import provenance


def get_versions() -> dict[str, Any]:
    """``{'version', 'full-revisionid', 'dirty', 'error', 'date'}`` of this zdb: the
    version of the installed distribution, and the commit and dirty state of the git
    checkout it runs from (None when it is not one: an installed zdb is no error)."""
    version, error = provenance.zdb_version()
    git, _ = provenance.git_fields(os.path.dirname(os.path.abspath(__file__)))
    return {
        "version": version,
        "full-revisionid": git["full-revisionid"],
        "dirty": git["dirty"],
        "error": error,
        "date": None,
    }
