"""Which notebooks are committed, and the checks each passes.

Committed notebooks are the reports (``notebooks/*.ipynb``) and the explorers
(``notebooks/explore/*.ipynb``). ``notebooks/scratch/`` is the researcher's own (git-ignored, shown
by ``make lab``): notebooks there may keep outputs and define whatever they like, and nothing here
looks at them.

A committed notebook is **thin** (a parameters cell, calls into ``analysis``, narrative): no
function, class or lambda definitions, no data wrangling (``groupby``, ``merge``, ...), imports of
the ``analysis`` package only (and ``typing`` in the cell tagged ``parameters``, for its
annotations); and it has **no outputs** (no execution counts, no papermill metadata).
"""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat

from analysis import config

FOLDERS = ("", "explore")  # under notebooks/: the reports, then the explorers
SCRATCH = "scratch"
WRANGLING = {"groupby", "merge", "pivot", "pivot_table", "melt", "concat", "read_csv", "read_excel", "apply", "agg"}
PARAMETERS_CELL_IMPORTS = {"typing"}


def committed_notebooks(root: Path | None = None) -> list[Path]:
    """Report and explorer notebooks (never the scratch folder), sorted."""
    base = Path(root) if root is not None else config.notebooks_dir()
    return sorted(path for folder in FOLDERS for path in (base / folder).glob("*.ipynb"))


def output_problems(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            problems.append(f"{path.name}: cell {index} has outputs or an execution count (clear outputs before "
                            "committing)")
    if "papermill" in nb.metadata:
        problems.append(f"{path.name}: papermill metadata (commit the source notebook, not an executed one)")
    return problems


def thin_problems(path: Path) -> list[str]:
    """Definitions, wrangling and foreign imports in a notebook's code cells."""
    nb = nbformat.read(path, as_version=4)
    problems = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        allowed = PARAMETERS_CELL_IMPORTS if "parameters" in cell.metadata.get("tags", []) else set()
        try:
            tree = ast.parse(cell.source)
        except SyntaxError as exc:
            problems.append(f"{path.name}: cell {index} is not valid Python: {exc.msg}")
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                problems.append(f"{path.name}: cell {index}: define functions in the library, not the notebook")
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for module in modules:
                    if not (module == "analysis" or module.startswith("analysis.") or module in allowed):
                        problems.append(f"{path.name}: cell {index}: notebooks import only the analysis package "
                                        f"(found {module!r})")
            elif isinstance(node, ast.Attribute) and node.attr in WRANGLING:
                problems.append(f"{path.name}: cell {index}: data wrangling ({node.attr}) belongs in the library")
    return problems


def problems(paths: list[Path] | None = None) -> list[str]:
    """Every output and thin-notebook problem in the committed notebooks."""
    out = []
    for path in committed_notebooks() if paths is None else paths:
        out += output_problems(path) + thin_problems(path)
    return out
