"""The jupytext pairs: a percent-format script beside every committed notebook.

``notebooks/jupytext.toml`` pairs every notebook in ``notebooks/`` (and below) with a ``.py``
script in the percent format (``# %%`` cells, narrative as comments, cell tags kept, no metadata
header). JupyterLab (with jupytext installed) writes both as you save; reviews read the script's
diff. The ``.ipynb`` is the source of truth for the suite (the runner executes it); the script is a
faithful, readable copy: :func:`write_pairs` (``make pair``) rewrites every script from its
notebook, and :func:`problems` (a test, ``make lint``) says where a script is missing, stale or
has no notebook.
"""

from __future__ import annotations

from pathlib import Path

import jupytext
import nbformat
from jupytext.config import load_jupytext_config

from analysis.workbench.notebooks import committed_notebooks

FORMAT = "py:percent"


def script_path(notebook: Path) -> Path:
    return Path(notebook).with_suffix(".py")


def script_text(notebook: Path) -> str:
    """The script jupytext writes for ``notebook`` under the folder's configuration."""
    nb = nbformat.read(notebook, as_version=4)
    return jupytext.writes(nb, fmt=FORMAT, config=load_jupytext_config(str(notebook)))


def cells(nb: nbformat.NotebookNode) -> list[tuple[str, str, tuple[str, ...]]]:
    """What a pair must agree on: each cell's type, source and tags."""
    return [(c.cell_type, c.source, tuple(c.metadata.get("tags", ()))) for c in nb.cells]


def write_pairs(notebooks: list[Path] | None = None) -> list[Path]:
    """Rewrite the script of every committed notebook from the notebook; the scripts that changed."""
    changed = []
    for notebook in committed_notebooks() if notebooks is None else notebooks:
        script, text = script_path(notebook), script_text(notebook)
        if not script.is_file() or script.read_text(encoding="utf-8") != text:
            script.write_text(text, encoding="utf-8")
            changed.append(script)
    return changed


def problems(notebooks: list[Path] | None = None) -> list[str]:
    """Notebooks without a script, scripts that disagree with their notebook, scripts without a notebook."""
    found = []
    paths = committed_notebooks() if notebooks is None else notebooks
    for notebook in paths:
        script = script_path(notebook)
        if not script.is_file():
            found.append(f"{notebook.name}: no paired script {script.name} (run `make pair`)")
            continue
        paired = jupytext.read(script, fmt=FORMAT)
        if cells(paired) != cells(nbformat.read(notebook, as_version=4)):
            found.append(f"{notebook.name}: {script.name} disagrees with it (edit one in JupyterLab, or run "
                         "`make pair` to rewrite the script from the notebook)")
    folders = {p.parent for p in paths}
    for folder in sorted(folders):
        for script in sorted(folder.glob("*.py")):
            if not script.with_suffix(".ipynb").is_file():
                found.append(f"{script.name}: a paired script without its notebook {script.with_suffix('.ipynb').name}")
    return found
