"""Executed notebook -> a self-contained HTML report with a provenance block.

papermill does not export HTML, its report mode is ignored by nbconvert, and
its injected-parameters cell and metadata leak into outputs. So this module:
removes the injected-parameters, parameters and provenance cells, hides all
code, drops stderr noise, scrubs papermill metadata, embeds images (nbconvert
already inlines PNGs as data URIs), and wraps the body in the house template
with a table of contents and the provenance block.
"""

from __future__ import annotations

import copy
import functools
import html
import re
from html.parser import HTMLParser
from importlib import resources
from typing import Any

import jinja2
import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor

from analysis.report import sanitize
from analysis.report.notebook import PROVENANCE_MIMETYPE

REMOVE_TAGS = {"injected-parameters", "parameters", "provenance", "remove-cell"}


def scrub_papermill(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Remove papermill's metadata from the notebook and its cells (in place) and return it."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
        if cell.metadata.get("tags") == []:
            del cell.metadata["tags"]
    return nb


def provenance_payload(nb: nbformat.NotebookNode) -> dict[str, Any] | None:
    """The JSON the notebook's closing cell emitted, or None if it never ran."""
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if PROVENANCE_MIMETYPE in data:
                return data[PROVENANCE_MIMETYPE]
    return None


class _Headings(HTMLParser):
    """Collect h1-h3 headings that carry an id (nbconvert gives markdown headings ids)."""

    def __init__(self):
        super().__init__()
        self.items: list[tuple[int, str, str]] = []
        self._current: tuple[int, str] | None = None
        self._text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"h1", "h2", "h3"}:
            self._current = (int(tag[1]), dict(attrs).get("id", ""))
            self._text = []
        elif tag == "a" and self._current and ("class", "anchor-link") in attrs:
            self._skip += 1

    def handle_endtag(self, tag):
        if tag == "a" and self._skip:
            self._skip -= 1
        elif tag in {"h1", "h2", "h3"} and self._current:
            level, anchor = self._current
            text = "".join(self._text).strip()
            if anchor and text:
                self.items.append((level, anchor, text))
            self._current = None

    def handle_data(self, data):
        if self._current and not self._skip:
            self._text.append(data)


def _body_without_h1(body: str) -> tuple[str, str | None]:
    match = re.search(r"<h1[^>]*>(.*?)</h1>", body, flags=re.S)
    if not match:
        return body, None
    title = re.sub(r"<[^>]+>", "", match.group(1)).replace("¶", "").strip()
    return body[: match.start()] + body[match.end():], html.unescape(title)


@functools.lru_cache(maxsize=1)
def _templates() -> tuple[jinja2.Environment, str]:
    folder = resources.files("analysis.report") / "templates"
    env = jinja2.Environment(loader=jinja2.FunctionLoader(lambda name: (folder / name).read_text("utf-8")),
                             autoescape=jinja2.select_autoescape(["html", "j2"]), undefined=jinja2.StrictUndefined)
    css = (folder / "style.css").read_text("utf-8")
    return env, css


@functools.lru_cache(maxsize=1)
def _exporter() -> HTMLExporter:
    exporter = HTMLExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    tag_remover = TagRemovePreprocessor(remove_cell_tags=REMOVE_TAGS, enabled=True)
    exporter.register_preprocessor(tag_remover, enabled=True)
    return exporter


def _without_noise(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    clean = copy.deepcopy(nb)
    scrub_papermill(clean)
    for cell in clean.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = [o for o in cell.get("outputs", [])
                        if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                        and PROVENANCE_MIMETYPE not in o.get("data", {})]
    clean.cells = _without_empty_sections(clean.cells)
    return clean


def _without_empty_sections(cells: list) -> list:
    """Drop ``##`` sections whose code produced nothing (a mode of the notebook that does not apply).

    A council profile skips the England-only sections; their headings and introductions would
    otherwise sit in the report and its contents with nothing under them. A section with no
    code cells (pure narrative) is kept; anything a cell displays, including "no data", keeps it.
    """
    sections: list[list] = [[]]
    for cell in cells:
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("## "):
            sections.append([])
        sections[-1].append(cell)
    kept = []
    for section in sections:
        code = [c for c in section if c.cell_type == "code"]
        starts_with_heading = bool(section) and section[0].cell_type == "markdown" \
            and section[0].source.lstrip().startswith("## ")
        if starts_with_heading and code and not any(c.get("outputs") for c in code):
            continue
        kept.extend(section)
    return kept


def notebook_to_html(nb: nbformat.NotebookNode, provenance: dict[str, Any], fallback_title: str,
                     subject: str | None = None) -> str:
    """Render ``nb`` (executed) as a standalone HTML page with the given provenance block."""
    body, _resources = _exporter().from_notebook_node(_without_noise(nb))
    body = sanitize.clean_body(body)  # whatever a cell displayed: only safe tags, attributes and URLs
    body, h1 = _body_without_h1(body)
    parser = _Headings()
    parser.feed(body)
    toc = [item for item in parser.items if item[0] in (2, 3)]
    env, css = _templates()
    return env.get_template("report.html.j2").render(
        title=h1 or fallback_title, subject=subject, toc=toc, body=jinja2.utils.markupsafe.Markup(body),
        prov=provenance, css=css, csp=sanitize.csp())


def render_index(run: dict[str, Any]) -> str:
    """The run's index page: every report, its status and headline numbers, and the failures."""
    columns: dict[str, str] = {}
    for report in run["reports"]:
        for h in report.get("headlines", []):
            columns.setdefault(h["key"], h.get("column") or h["label"])
    for report in run["reports"]:
        heads = report.get("headlines", [])
        report["headline_text"] = {h["key"]: h["text"] + (f" ({h['period']})" if h.get("period") else "")
                                   for h in heads}
        report["headline_values"] = {h["key"]: h["value"] for h in heads}
        report["headline_labels"] = {h["key"]: h["label"] for h in heads}
    env, css = _templates()
    failures = [r for r in run["reports"] if r["status"] != "ok"]
    script = _index_script()
    return env.get_template("index.html.j2").render(run=run, headline_columns=list(columns.items()),
                                                     failures=failures, css=css, csp=sanitize.csp((script,)),
                                                     script=jinja2.utils.markupsafe.Markup(script))


@functools.lru_cache(maxsize=1)
def _index_script() -> str:
    """The index's sort script, served inline and allowed by its hash in the page's CSP."""
    return (resources.files("analysis.report") / "templates" / "sort_table.js").read_text("utf-8")
