"""Notebooks are committed without outputs and stay thin (no function definitions)."""

from __future__ import annotations

import ast
from pathlib import Path

import nbformat
import pytest

from analysis import config

NOTEBOOKS = sorted(Path(config.notebooks_dir()).glob("*.ipynb"))


def test_there_are_notebooks():
    assert NOTEBOOKS


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert not cell.outputs, f"{path.name}: a code cell has outputs"
            assert cell.execution_count is None, f"{path.name}: a code cell has an execution count"
    assert "papermill" not in nb.metadata


WRANGLING = {"groupby", "merge", "pivot", "pivot_table", "melt", "concat", "read_csv", "read_excel", "apply", "agg"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_thin_notebook_has_no_definitions_or_data_wrangling(path):
    """A notebook calls into `analysis` and displays results; it defines nothing and wrangles no data."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            assert not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)), (
                f"{path.name}: define functions in the library, not the notebook:\n{cell.source}")
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                modules = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert all(m == "analysis" or m.startswith("analysis.") for m in modules), (
                    f"{path.name}: notebooks import only the analysis package:\n{cell.source}")
            if isinstance(node, ast.Attribute):
                assert node.attr not in WRANGLING, f"{path.name}: data wrangling ({node.attr}) belongs in the library"
