"""Running the example notebooks: each ``examples/*.py`` not starting with ``_`` is a
jupytext ``py:percent`` script, executed as a notebook in a real Jupyter kernel
(nbclient) from a working folder of its own. The tests execute them
(``tests/test_examples.py``) and, when the environment variable
``ZDB_EXECUTED_EXAMPLES`` names a folder, save the executed notebooks there; the
site's build (``_site_hook.py``) renders those saved notebooks when their source is
unchanged, and executes the others itself."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import Any

EXAMPLES = Path(__file__).resolve().parent
#: where the tests save executed notebooks for the site's build (unset: nowhere)
SAVED_ENV = "ZDB_EXECUTED_EXAMPLES"
_HASH_FIELD = "zdb_source_sha256"


def scripts() -> list[Path]:
    """The example notebooks' scripts, by name."""
    return sorted(p for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def source_hash(script: Path) -> str:
    """A hash of the script and of the helper modules beside it (``_*.py``): a saved
    notebook is reused only while this is unchanged."""
    digest = hashlib.sha256()
    for path in [script, *sorted(EXAMPLES.glob("_*.py"))]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def execute(script: Path, workdir: Path, timeout: float = 300) -> Any:
    """Execute ``script`` as a notebook in a new kernel whose working folder is
    ``workdir``; returns the executed notebook (an ``nbformat.NotebookNode``). The
    kernel finds the helper modules beside the script, and registers the databases it
    opens in a registry inside ``workdir`` instead of the user's. A failing cell
    raises ``nbclient.exceptions.CellExecutionError`` naming it."""
    import jupytext
    from nbclient import NotebookClient

    notebook = jupytext.read(script)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(EXAMPLES), env.get("PYTHONPATH")]))
    env["ZDB_REGISTRY"] = str(workdir / ".zdb_registry")
    env["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    env.pop(SAVED_ENV, None)
    client = NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    client.execute(env=env, cwd=str(workdir))
    notebook.metadata[_HASH_FIELD] = source_hash(script)
    return notebook


def saved_path(folder: Path, name: str) -> Path:
    """Where the executed notebook ``name`` is saved in ``folder``:
    ``folder/examples/<name>.ipynb``, the path of its page on the site."""
    return folder / "examples" / f"{name}.ipynb"


def save(notebook: Any, folder: Path, name: str) -> Path:
    """Write the executed ``notebook`` to :func:`saved_path`."""
    import nbformat

    out = saved_path(folder, name)
    out.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(notebook, out)
    return out


def saved_or_executed(script: Path, folder: Path) -> Path:
    """:func:`saved_path`: the notebook saved there when its source is unchanged, else
    the script executed now (in a temporary working folder) and saved there."""
    import nbformat

    out = saved_path(folder, script.stem)
    if out.is_file():
        if nbformat.read(out, as_version=4).metadata.get(_HASH_FIELD) == source_hash(script):
            return out
    with tempfile.TemporaryDirectory(prefix=f"zdb-{script.stem}-") as workdir:
        notebook = execute(script, Path(workdir))
    return save(notebook, folder, script.stem)
