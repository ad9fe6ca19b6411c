"""Executed notebook -> a self-contained HTML report with a provenance block.

papermill does not export HTML, its report mode is ignored by nbconvert, and
its injected-parameters cell and metadata leak into outputs. So this module:
removes the injected-parameters, parameters and provenance cells, hides all
code, drops stderr noise, scrubs papermill metadata, embeds images (nbconvert
already inlines PNGs as data URIs), and wraps the body in the house template
with a table of contents and the provenance block.

Two more things happen on the way:

* **sections with nothing to show are left out**: a Markdown heading whose section (up
  to the next heading of the same or a higher level) has code that displayed nothing
  visible is dropped with its introduction, whatever the notebook (``report.absent``
  lets a notebook say "nothing here" in JupyterLab without it reaching the report);
* **every table and chart gets its data as a CSV** (``analysis.report.datafiles``):
  :func:`write_report` writes the CSVs, then the HTML that links them.
"""

from __future__ import annotations

import copy
import functools
import html
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import nbformat
from nbconvert import HTMLExporter
from nbconvert.preprocessors import TagRemovePreprocessor

from analysis import atomic
from analysis.report import datafiles, sanitize
from analysis.report.notebook import ABSENT_MIMETYPE, DATA_MIMETYPE, PROVENANCE_MIMETYPE

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


class _ReportExporter(HTMLExporter):
    """nbconvert's HTML exporter without the work a report throws away.

    ``HTMLExporter.from_notebook_node`` ends by parsing its whole output with BeautifulSoup to add
    ``tabindex`` to code and output areas (code is hidden here, and the sanitiser drops
    ``tabindex``) and a stock alt text to images without one (``report.figure`` always gives one;
    the sanitiser adds :data:`sanitize.MISSING_ALT` otherwise); on a report with embedded charts
    that round trip costs about as much as the rest of the export. ``optimistic_validation``
    skips re-validating the notebook after each of its preprocessors (it was validated once,
    when it was read).
    """

    def from_notebook_node(self, nb, resources=None, **kw):
        from nbconvert.exporters.templateexporter import TemplateExporter
        from nbconvert.filters.highlight import Highlight2HTML
        from nbconvert.filters.widgetsdatatypefilter import WidgetsDataTypeFilter

        langinfo = nb.metadata.get("language_info", {})
        lexer = langinfo.get("pygments_lexer", langinfo.get("name", None))
        self.register_filter("highlight_code",
                             self.filters.get("highlight_code", Highlight2HTML(pygments_lexer=lexer, parent=self)))
        resources = self._init_resources(resources)
        self.register_filter("filter_data_type", WidgetsDataTypeFilter(
            notebook_metadata=self._nb_metadata, parent=self, resources=resources))
        return TemplateExporter.from_notebook_node(self, nb, resources, **kw)


@functools.lru_cache(maxsize=1)
def _exporter() -> HTMLExporter:
    exporter = _ReportExporter(template_name="basic", exclude_input=True, exclude_input_prompt=True,
                               exclude_output_prompt=True, optimistic_validation=True)
    tag_remover = TagRemovePreprocessor(remove_cell_tags=REMOVE_TAGS, enabled=True)
    exporter.register_preprocessor(tag_remover, enabled=True)
    return exporter


def _visible(output: dict[str, Any]) -> bool:
    """Whether an output shows the reader anything (stderr, provenance, data payloads and
    ``report.absent`` notes do not)."""
    kind = output.get("output_type")
    if kind == "stream":
        return output.get("name") != "stderr" and bool(str(output.get("text", "")).strip())
    if kind == "error":
        return True
    data = output.get("data", {})
    if ABSENT_MIMETYPE in data or PROVENANCE_MIMETYPE in data:
        return False
    return any(str(value).strip() for key, value in data.items() if key != DATA_MIMETYPE)


def _kept_output(output: dict[str, Any]) -> bool:
    if output.get("output_type") == "stream" and output.get("name") == "stderr":
        return False
    data = output.get("data", {})
    return PROVENANCE_MIMETYPE not in data and ABSENT_MIMETYPE not in data


def _without_noise(nb: nbformat.NotebookNode, left_out: list[str] | None = None) -> nbformat.NotebookNode:
    clean = copy.deepcopy(nb)
    scrub_papermill(clean)
    clean.cells = _without_empty_sections(clean.cells, left_out)
    for cell in clean.cells:
        if cell.cell_type == "code":
            cell.outputs = [o for o in cell.get("outputs", []) if _kept_output(o)]
    return clean


def _heading(cell) -> tuple[int, str] | None:
    """(level, text) when a Markdown cell starts with a heading."""
    if cell.cell_type != "markdown":
        return None
    first = cell.source.lstrip().split("\n", 1)[0]
    match = re.match(r"(#{1,6})\s+(.*?)\s*#*\s*$", first)
    return (len(match.group(1)), match.group(2)) if match else None


def _without_empty_sections(cells: list, left_out: list[str] | None = None) -> list:
    """Drop sections whose code showed nothing visible, with their heading and introduction.

    A section runs from a Markdown heading (level 2 or deeper; the title stays) to the next
    heading of the same or a higher level, so it includes its sub-sections. It is dropped when
    it has code cells and none of them displayed anything visible (see :func:`_visible`): a
    council profile skips the England-only sections, a report without a panel skips the panel
    section. A section with no code (pure narrative) is kept; anything a cell shows, including
    "no data", keeps it. The titles of dropped sections are appended to ``left_out``.
    """
    headings = [(i, *h) for i, cell in enumerate(cells) if (h := _heading(cell)) and h[0] >= 2]
    drop: set[int] = set()
    for position, (start, level, title) in enumerate(headings):
        if start in drop:
            continue
        end = next((i for i, lvl, _ in headings[position + 1:] if lvl <= level), len(cells))
        code = [cells[i] for i in range(start, end) if cells[i].cell_type == "code"]
        if code and not any(_visible(o) for c in code for o in c.get("outputs", [])):
            drop.update(range(start, end))
            if left_out is not None:
                left_out.append(title)
    return [cell for i, cell in enumerate(cells) if i not in drop]


_TAG = re.compile(r"<[^>]+>")
_KEY_FINDINGS_END = re.compile(r'<section class="key-findings".*?</section>', re.S)


def with_glossary(body: str) -> str:
    """The body with a collapsed "Terms used in this report" box (:mod:`analysis.glossary`) for the technical
    terms its text uses: just after the key findings, or at the end when there are none."""
    from analysis.glossary import glossary_html, terms_used

    text = html.unescape(_TAG.sub(" ", body))
    box = glossary_html(terms_used(text))
    if not box:
        return body
    match = _KEY_FINDINGS_END.search(body)
    if match is None:
        return body + box
    return body[:match.end()] + box + body[match.end():]


@dataclass
class RenderedReport:
    """A report ready to publish: its HTML and the CSV files it links."""

    html: str
    data_files: list[datafiles.DataFile] = field(default_factory=list)
    left_out: list[str] = field(default_factory=list)


def render_report(nb: nbformat.NotebookNode, provenance: dict[str, Any], fallback_title: str,
                  subject: str | None = None, stem: str | None = None) -> RenderedReport:
    """Render ``nb`` (executed) as a standalone HTML page with its provenance block and data files.

    ``stem`` is the report's file name without ``.html``: its CSVs go in ``<stem>_data/``.
    """
    stem = stem or str(provenance.get("slug") or "report")
    left_out: list[str] = []
    clean = _without_noise(nb, left_out)
    files = datafiles.extract(clean, stem)
    body, _resources = _exporter().from_notebook_node(clean)
    body = with_glossary(body)
    body = sanitize.clean_body(body)  # whatever a cell displayed: only safe tags, attributes and URLs
    body, h1 = _body_without_h1(body)
    parser = _Headings()
    parser.feed(body)
    toc = [item for item in parser.items if item[0] in (2, 3)]
    env, css = _templates()
    page = env.get_template("report.html.j2").render(
        title=h1 or fallback_title, subject=subject, toc=toc, body=jinja2.utils.markupsafe.Markup(body),
        prov=provenance, css=css, csp=sanitize.csp(), data_folder=datafiles.data_folder(stem),
        data_files=[f.manifest() for f in files])
    return RenderedReport(page, files, left_out)


def notebook_to_html(nb: nbformat.NotebookNode, provenance: dict[str, Any], fallback_title: str,
                     subject: str | None = None) -> str:
    """Render ``nb`` (executed) as a standalone HTML page with the given provenance block."""
    return render_report(nb, provenance, fallback_title, subject).html


IMAGE_OMITTED_NOTE = ("[image not stored in the notebook: it is in the HTML report beside it; "
                      "run with --keep-notebook-images to keep images here too]")


def strip_images(nb: nbformat.NotebookNode) -> int:
    """Remove embedded images from ``nb``'s outputs (in place); return how many were removed.

    The published artefact is the HTML, which embeds every chart; the executed notebook beside it
    keeps its code, text, tables and the charts' data (the CSV payloads), and says where each image
    is, so a report's images are not stored twice. The plain-text form of each figure (its alt
    text) stays, with a note.
    """
    removed = 0
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data")
            if not data:
                continue
            images = [k for k in data if k.startswith("image/")]
            if not images:
                continue
            for key in images:
                del data[key]
                output.get("metadata", {}).pop(key, None)
            plain = str(data.get("text/plain", "")).rstrip()
            data["text/plain"] = f"{plain}\n{IMAGE_OMITTED_NOTE}" if plain else IMAGE_OMITTED_NOTE
            removed += len(images)
    return removed


def report_files(stem: str, nb: nbformat.NotebookNode, provenance: dict[str, Any], fallback_title: str,
                 subject: str | None = None, redact: Callable[[str], str] | None = None,
                 ) -> tuple[list[tuple[str, bytes]], str, list[dict[str, Any]]]:
    """Render ``<stem>.html`` and its CSVs in memory, ready to be written into a run folder.

    Returns ``(files, html_name, data_files)``: ``files`` are (path relative to the run folder,
    content) in the order they must be written (the CSVs first, so the page never links a missing
    file); ``data_files`` are their run.json entries. ``redact`` removes this machine's paths from
    the page and the CSVs. Rendering in memory lets a remote worker send a report back to the
    machine that publishes it.
    """
    redact = redact or (lambda text: text)
    rendered = render_report(nb, provenance, fallback_title, subject, stem)
    files = [(data_file.path, redact(data_file.content.decode("utf-8-sig")).encode("utf-8-sig"))
             for data_file in rendered.data_files]
    html_name = f"{stem}.html"
    files.append((html_name, redact(rendered.html).encode("utf-8")))
    return files, html_name, [f.manifest() for f in rendered.data_files]


def write_files(out_dir: Path, files: list[tuple[str, bytes]]) -> None:
    """Write rendered files into ``out_dir`` in order, each atomically; ``out_dir`` must exist (a
    run that was stopped removes its staging folder, and a late report must not recreate it)."""
    out_dir = Path(out_dir)
    if not out_dir.is_dir():
        raise FileNotFoundError(f"staging folder {out_dir} is gone; the run was stopped")
    for name, content in files:
        target = out_dir / name
        atomic.write_bytes(target, content, make_parents=target.parent != out_dir)


def write_report(out_dir: Path, stem: str, nb: nbformat.NotebookNode, provenance: dict[str, Any],
                 fallback_title: str, subject: str | None = None,
                 redact: Callable[[str], str] | None = None) -> tuple[str, list[dict[str, Any]]]:
    """Write ``<stem>.html`` and its CSVs into ``out_dir`` (see :func:`report_files`). Returns the
    HTML's name and the data files' run.json entries."""
    files, html_name, data_files = report_files(stem, nb, provenance, fallback_title, subject, redact)
    write_files(out_dir, files)
    return html_name, data_files


def verdict_counts(verdicts: list[dict[str, Any]]) -> list[tuple[str, int]]:
    """(verdict, count) in the order of the verdict scale, then any label not on it."""
    from analysis.claims import VERDICTS

    counts: dict[str, int] = {}
    for v in verdicts:
        counts[v.get("verdict", "")] = counts.get(v.get("verdict", ""), 0) + 1
    ordered = [(v, counts.pop(v)) for v in VERDICTS if v in counts]
    return ordered + sorted(counts.items())


def is_batch(run: dict[str, Any]) -> bool:
    """A batch: several reports of one notebook (council profiles), shown as a sortable table."""
    notebooks = [r["notebook"] for r in run["reports"]]
    return len(notebooks) > len(set(notebooks))


def render_index(run: dict[str, Any]) -> str:
    """The run's index page, read like a briefing.

    Findings lead: for each report, its key findings and its verdict counts, tallied as the report's
    own key finding tallies them (:func:`analysis.claims.verdict_groups`: by kind of claim where the
    report groups its verdicts, each in the verdict scale's order), or its failure. A batch of
    reports of one notebook (council profiles) keeps a sortable table of each report's headline
    numbers. After the findings, a section labelled for whoever runs the publishing holds the run's
    identity, the failures and a collapsed table of parameters and timings (also in run.json).
    """
    from analysis.claims import verdict_groups

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
        report["verdict_counts"] = verdict_counts(report.get("verdicts") or [])
        # Tallied as the report's own key finding tallies them (by kind of claim where the report groups them).
        report["verdict_groups"] = verdict_groups(report.get("verdicts") or [])
        report.setdefault("findings", [])
    env, css = _templates()
    failures = [r for r in run["reports"] if r["status"] != "ok"]
    script = _index_script()
    return env.get_template("index.html.j2").render(run=run, headline_columns=list(columns.items()),
                                                     failures=failures, css=css, batch=is_batch(run),
                                                     csp=sanitize.csp((script,)),
                                                     script=jinja2.utils.markupsafe.Markup(script))


@functools.lru_cache(maxsize=1)
def _index_script() -> str:
    """The index's sort script, served inline and allowed by its hash in the page's CSP."""
    return (resources.files("analysis.report") / "templates" / "sort_table.js").read_text("utf-8")
