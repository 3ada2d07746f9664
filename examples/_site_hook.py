"""The site's build hook (``hooks`` in mkdocs.yml): adds each example notebook,
executed, as the page ``examples/<name>.ipynb``, which mkdocs-jupyter renders with its
outputs and figures. A notebook the tests saved (``ZDB_EXECUTED_EXAMPLES``, see
``_notebooks.py``) is reused while its source is unchanged; otherwise it is executed
here and kept in that folder, or without the variable in ``build/`` (so
``mkdocs serve`` executes each notebook once, not at every rebuild)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files

sys.path.insert(0, str(Path(__file__).resolve().parent))  # mkdocs loads hooks by path
import _notebooks  # noqa: E402

DEFAULT_FOLDER = _notebooks.EXAMPLES.parent / "build"


@event_priority(100)  # before mkdocs-jupyter turns .ipynb files into pages
def on_files(files: Files, config: Any) -> Files:
    """Add the executed example notebooks to the site's files."""
    saved = os.environ.get(_notebooks.SAVED_ENV)
    folder = Path(saved) if saved else DEFAULT_FOLDER
    for script in _notebooks.scripts():
        path = _notebooks.saved_or_executed(script, folder)
        # a file of the site's tree under ``folder``, as mkdocs-jupyter reads pages by path
        page = File(
            path.relative_to(folder).as_posix(),
            src_dir=str(folder),
            dest_dir=config["site_dir"],
            use_directory_urls=config["use_directory_urls"],
        )
        files.append(page)
    return files
