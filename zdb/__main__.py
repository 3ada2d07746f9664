"""``python -m zdb`` and the ``zdb`` script: the command line of :mod:`zdb.cli`."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
