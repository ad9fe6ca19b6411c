"""Committed notebooks (reports and explorers) have no outputs and stay thin; scratch notebooks are the researcher's.

The checks live in :mod:`analysis.workbench.notebooks` so that ``make lint`` and the pre-commit hook
run exactly these; the tests below also show each check catching what it should.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from analysis.workbench import notebooks

NOTEBOOKS = notebooks.committed_notebooks()


def test_there_are_notebooks_reports_and_explorers():
    folders = {p.parent.name for p in NOTEBOOKS}
    assert NOTEBOOKS and "explore" in folders and "notebooks" in folders


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_committed_without_outputs(path):
    assert notebooks.output_problems(path) == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_thin_notebook_has_no_definitions_or_data_wrangling(path):
    """A notebook calls into `analysis` and displays results; it defines nothing and wrangles no data."""
    assert notebooks.thin_problems(path) == []


def _write(path: Path, *sources: str, tags: tuple[str, ...] = (), outputs: bool = False) -> Path:
    nb = new_notebook(cells=[new_markdown_cell("# Title")])
    for source in sources:
        cell = new_code_cell(source)
        if tags:
            cell.metadata["tags"] = list(tags)
        if outputs:
            cell.outputs = [new_output("stream", name="stdout", text="1\n")]
            cell.execution_count = 1
        nb.cells.append(cell)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def test_the_checks_catch_outputs_definitions_wrangling_and_foreign_imports(tmp_path):
    assert notebooks.output_problems(_write(tmp_path / "a.ipynb", "x = 1", outputs=True))
    assert "define functions" in " ".join(notebooks.thin_problems(_write(tmp_path / "b.ipynb", "def f():\n    pass")))
    assert "wrangling (groupby)" in " ".join(notebooks.thin_problems(_write(tmp_path / "c.ipynb", "df.groupby('a')")))
    assert "'pandas'" in " ".join(notebooks.thin_problems(_write(tmp_path / "d.ipynb", "import pandas as pd")))
    # typing is allowed in the parameters cell (for its annotations), nowhere else
    assert notebooks.thin_problems(_write(tmp_path / "e.ipynb", "from typing import Optional\nx: Optional[int] = None",
                                          tags=("parameters",))) == []
    assert notebooks.thin_problems(_write(tmp_path / "f.ipynb", "from typing import Optional"))


def test_scratch_notebooks_are_never_checked(tmp_path):
    _write(tmp_path / "report.ipynb", "x = 1")
    _write(tmp_path / "explore" / "explorer.ipynb", "y = 2")
    _write(tmp_path / "scratch" / "mine.ipynb", "import pandas as pd\ndef f():\n    return pd.DataFrame().groupby('a')",
           outputs=True)
    found = notebooks.committed_notebooks(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["explore/explorer.ipynb", "report.ipynb"]
