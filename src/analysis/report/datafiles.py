"""The data behind every table and chart, published as CSV files beside the report.

In the kernel, ``report.show`` and ``report.figure`` attach each table's or chart's full,
unrounded data to their display output (mimetype :data:`DATA_MIMETYPE`), so the executed
notebook carries everything whichever worker ran it. At export, :func:`extract` takes
those payloads out of the notebook, names each file ``<report-stem>_data/<nn>-<slug>.csv``
(numbered in reading order, slug from the caption or chart title) and puts a relative link,
"Download the data (CSV)", right under its table or chart. Relative links and no scripts: the
files open from disk, from a zip and from any static host.

CSV cells are **neutralised against formula injection** (OWASP): a cell that starts with
``=``, ``+``, ``-``, ``@``, a tab or a carriage return and is not a plain number gets a leading
apostrophe, so a spreadsheet shows it as text instead of running it; negative and signed
numbers (``-1.5``, ``+2e-3``) are left exactly as they are. Files are UTF-8 with a byte-order
mark so that Excel shows "£" correctly.
"""

from __future__ import annotations

import csv
import html
import io
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import nbformat
from nbformat.v4 import new_output

from analysis.report.notebook import DATA_LINK_PLACEHOLDER, DATA_MIMETYPE

LINK_TEXT = "Download the data (CSV)"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_SLUG_LENGTH = 48


def data_folder(stem: str) -> str:
    """The folder, beside ``<stem>.html``, that holds the report's CSV files."""
    return f"{stem}_data"


def slugify(text: str, max_length: int = _SLUG_LENGTH) -> str:
    """A safe file-name part: lower-case ASCII letters, digits and single hyphens, cut at a word."""
    ascii_text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode("ascii")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > max_length:
        cut = slug[:max_length]
        at_word_end = slug[max_length] == "-"
        slug = cut if at_word_end or "-" not in cut[max_length // 2:] else cut.rsplit("-", 1)[0]
    return slug.strip("-") or "data"


def neutralise_cell(value: str) -> str:
    """Stop a spreadsheet from reading a cell as a formula, without touching numbers."""
    if value and value.startswith(FORMULA_TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_csv(text: str) -> bytes:
    """Re-write CSV ``text`` with every cell neutralised; UTF-8 with a byte-order mark."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in csv.reader(io.StringIO(text)):
        writer.writerow([neutralise_cell(cell) for cell in row])
    return out.getvalue().encode("utf-8-sig")


@dataclass(frozen=True)
class DataFile:
    """One published CSV: where it goes (relative to the run folder), what it holds, its bytes."""

    path: str
    kind: str  # table | chart
    title: str
    rows: int
    content: bytes = field(repr=False)
    details: dict[str, Any] = field(default_factory=dict)

    def manifest(self) -> dict[str, Any]:
        """The entry for run.json (everything but the bytes)."""
        return {"path": self.path, "kind": self.kind, "title": self.title, "rows": self.rows, **self.details}


def link_html(path: str, kind: str) -> str:
    what = "chart" if kind == "chart" else "table"
    return (f'<p class="data-link data-link-{what}"><a href="{html.escape(path, quote=True)}" download>'
            f"{LINK_TEXT}</a></p>")


def extract(nb: nbformat.NotebookNode, stem: str) -> list[DataFile]:
    """Take the data payloads out of ``nb`` (in place), link each under its output, return the files."""
    total = sum(DATA_MIMETYPE in output.get("data", {}) for cell in nb.cells if cell.cell_type == "code"
                for output in cell.get("outputs", []))
    width = max(2, len(str(total)))
    files: list[DataFile] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for output in cell.get("outputs", []):
            payload = output.get("data", {}).pop(DATA_MIMETYPE, None)
            outputs.append(output)
            if payload is None:
                continue
            kind = str(payload.get("kind", "table"))
            title = str(payload.get("title", "")).strip() or kind
            name = f"{len(files) + 1:0{width}d}-{slugify(title)}.csv"  # unique: numbered in reading order
            path = f"{data_folder(stem)}/{name}"
            details = {k: v for k, v in payload.items() if k not in {"kind", "title", "rows", "csv"}}
            files.append(DataFile(path=path, kind=kind, title=title, rows=int(payload.get("rows", 0)),
                                  content=safe_csv(str(payload.get("csv", ""))), details=details))
            if "text/html" in output.get("data", {}):
                href = html.escape(path, quote=True)
                output["data"]["text/html"] = str(output["data"]["text/html"]).replace(
                    DATA_LINK_PLACEHOLDER, f'<a class="data-csv" href="{href}">CSV</a>')
            outputs.append(new_output("display_data", data={"text/html": link_html(path, kind)}))
        cell.outputs = outputs
    return files
