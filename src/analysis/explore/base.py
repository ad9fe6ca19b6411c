"""What every explorer shares: validated controls, one update per change, errors as the runner gives them.

An :class:`Explorer` subclass names the report whose parameter model validates it
(``notebook``), builds its controls (:mod:`analysis.explore.controls`), loads its data once
(:meth:`Explorer.load`), computes from validated parameters with library functions
(:meth:`Explorer.compute`) and shows the result (:meth:`Explorer.render`). When a control
changes, :meth:`Explorer.update` validates every value with
:func:`analysis.report.params.validate_parameters`, so an impossible combination shows the
same message the command line prints (and the last good output is greyed out, not replaced).

Output helpers turn tables and charts into HTML with the house rounding rule
(:mod:`analysis.precision`), text escaped, charts with alt text, and each with a "Download the
data (CSV)" link holding its full, unrounded data (cells a spreadsheet would run as formulas are
neutralised, as in the reports).
"""

from __future__ import annotations

import base64
import html
import io
import time
from collections.abc import Iterable
from typing import Any, ClassVar

import ipywidgets as widgets
import pandas as pd

from analysis import plots, precision, provenance
from analysis.errors import AnalysisError, ParameterError
from analysis.explore.controls import model_value
from analysis.report.datafiles import LINK_TEXT, safe_csv, slugify
from analysis.report.params import NotebookParameters, validate_parameters
from analysis.report.sanitize import markdown_to_html

FIGURE_DPI = 90  # on screen; the reports render at 110 for print

STYLE = """<style>
.explore-title h2 {margin: 0.2em 0;}
.explore-intro {max-width: 60em; color: #333;}
.explore-intro p, .explore-headline, .explore-table, .widget-html-content p {line-height: 1.45;}
.explore-headline {font-size: 1.25em; font-weight: 600; margin: 0.4em 0; line-height: 1.35;}
.explore-headline .explore-label {display: block; font-size: 0.75em; font-weight: 400; color: #555;}
.explore-error pre {white-space: pre-wrap; color: #a00; background: #fff4f4; border-left: 4px solid #a00;
  padding: 0.5em; margin: 0.3em 0; font-size: 0.95em;}
.explore-stale {opacity: 0.45;}
.explore-status {color: #6e6e6e; font-size: 0.85em;}
.explore-figure img {max-width: 100%; height: auto;}
.explore-figure figcaption, .explore-table figcaption {font-weight: 600; margin: 0.3em 0;}
.explore-table table {border-collapse: collapse; font-size: 0.9em;}
.explore-table th, .explore-table td {padding: 2px 8px; border-bottom: 1px solid #ddd; text-align: left;}
.explore-source {color: #6e6e6e; font-size: 0.85em; margin: 0.2em 0;}
.explore-download {font-size: 0.9em; margin: 0.2em 0 1em 0;}
.explore-caveat {border-left: 4px solid #E69F00; background: #fffaf0; padding: 0.4em 0.8em; margin: 0.5em 0;}
</style>"""


def escape(text: Any) -> str:
    return html.escape(str(text))


def csv_link(frame: pd.DataFrame, name: str) -> str:
    """A "Download the data (CSV)" link carrying ``frame`` in full (a data: address, so it works offline)."""
    payload = base64.b64encode(safe_csv(frame.to_csv(index=False))).decode("ascii")
    filename = f"{slugify(name)}.csv"
    return (f'<p class="explore-download"><a download="{escape(filename)}" '
            f'href="data:text/csv;charset=utf-8;base64,{payload}">{escape(LINK_TEXT)}</a></p>')


def figure_html(fig, name: str | None = None) -> str:
    """A chart from :mod:`analysis.plots` (or this package) as an image with alt text and its data link.

    The figure is closed afterwards. The alt text is its title (which states the finding) and source.
    """
    meta = plots.chart_meta(fig)
    title = str(meta.get("title") or name or "Chart")
    source = meta.get("source")
    alt = title + (f" Source: {source}" if source else "")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=FIGURE_DPI, pil_kwargs={"compress_level": 1})
    plots.plt.close(fig)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    data = plots.chart_data(fig)
    link = csv_link(data, name or title) if data is not None else ""
    return (f'<figure class="explore-figure"><img alt="{escape(alt)}" src="data:image/png;base64,{encoded}">'
            f"</figure>{link}")


def table_html(frame: pd.DataFrame, caption: str, *, source: str | None = None, full: pd.DataFrame | None = None,
               interval_columns: dict[str, tuple[str, str]] | None = None, count_columns: Iterable[str] = (),
               max_rows: int = 40) -> str:
    """A table rounded by the one rule (already-formatted text is left alone), with caption, source and CSV.

    ``full`` is the unrounded data for the CSV when ``frame`` is a display table (default: ``frame``).
    A table whose format a domain module recorded (:func:`analysis.precision.table_format`) is rounded
    as the reports round it; ``interval_columns`` and ``count_columns`` add to that format.
    """
    shown = frame.head(max_rows)
    recorded = precision.format_of(frame)
    rounded = precision.round_frame(
        shown, interval_columns={**recorded.get("intervals", {}), **(interval_columns or {})},
        count_columns=tuple(recorded.get("counts", ())) + tuple(count_columns),
        signed_columns=tuple(recorded.get("signed", ())), p_columns=tuple(recorded.get("p_values", ())),
        aligned_columns=recorded.get("aligned") or None)
    body = rounded.to_html(index=False, na_rep="no data", border=0, escape=True)
    more = (f'<p class="explore-source">Showing {max_rows} of {len(frame):,} rows; the CSV has them all.</p>'
            if len(frame) > max_rows else "")
    src = f'<p class="explore-source">Source: {escape(source)}</p>' if source else ""
    return (f'<figure class="explore-table"><figcaption>{escape(caption)}</figcaption>{body}</figure>{more}{src}'
            + csv_link(frame if full is None else full, caption))


def markdown_html(text: str) -> str:
    """Library narrative (Markdown) as HTML; raw HTML in it is escaped, as in the reports."""
    return markdown_to_html(text)


def caveat_html(title: str, points: Iterable[str]) -> str:
    items = "".join(f"<li>{escape(p)}</li>" for p in points)
    return f'<div class="explore-caveat"><strong>{escape(title)}</strong><ul>{items}</ul></div>'


def headline_html(label: str, text: str) -> str:
    return f'<span class="explore-label">{escape(label)}</span>{escape(text)}'


def sources_html() -> str:
    """The datasets and evidence-register rows the last update used (from :mod:`analysis.provenance`)."""
    snap = provenance.snapshot()
    datasets = ", ".join(sorted({str(d.get("title") or d["name"]) for d in snap["datasets"]}))
    evidence = ", ".join(sorted(str(e["id"]) for e in snap["evidence"]))
    parts = []
    if datasets:
        parts.append(f"Datasets: {escape(datasets)}.")
    if evidence:
        parts.append(f"Evidence-register rows: {escape(evidence)}.")
    return f'<p class="explore-source">{" ".join(parts)}</p>' if parts else ""


def resolve_choice(typed: str, options: dict[str, str], *, code: str, what: str, example: str) -> str:
    """The code for what was typed in a searchable box: a code (``code`` is its regex), a displayed
    option ("Name (CODE)"), a name, or a unique part of one; otherwise a ParameterError that says what
    would work and suggests close names. ``options`` maps code -> "Name (CODE)"."""
    import difflib
    import re

    text = (typed or "").strip()
    if re.fullmatch(code, text):
        return text
    found = re.search(rf"\(({code})\)$", text)
    if found:
        return found.group(1)
    names = {o.rsplit(" (", 1)[0].lower(): c for c, o in options.items()}
    if text.lower() in names:
        return names[text.lower()]
    matches = sorted({c for name, c in names.items() if text and text.lower() in name})
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        listed = ", ".join(options[c] for c in matches[:6])
        raise ParameterError(f"{text!r} matches {len(matches)} {what}s ({listed}{', ...' if len(matches) > 6 else ''})"
                             ": pick one from the list.")
    close = difflib.get_close_matches(text.lower(), list(names), n=3, cutoff=0.6)
    hint = f" Did you mean {', '.join(options[names[c]] for c in close)}?" if close else ""
    raise ParameterError(f"No {what} matches {text!r}: type part of its name and pick it from the list, or its "
                         f"code (like {example}).{hint}")


class Explorer:
    """Controls, a computation from the library and its display; see the module docstring.

    Subclasses set ``notebook`` and ``title`` and implement :meth:`build_controls`,
    :meth:`compute` and :meth:`render`, and optionally :meth:`load` and :meth:`fixed_values`
    (parameters the explorer does not expose, e.g. the report's defaults).

    After each update: ``result`` holds what :meth:`compute` returned, ``error`` the message of a
    rejected update (``None`` after a good one), ``update_seconds`` how long the whole update took,
    ``answer_seconds`` how long until its numbers and words were shown (charts come last), and
    ``updates`` how many have run. ``widget`` is the whole explorer (display it, or let the
    notebook display the explorer itself).
    """

    notebook: ClassVar[str]
    title: ClassVar[str]
    intro: ClassVar[str] = ""

    def __init__(self, **initial: Any):
        unknown = sorted(set(initial) - set(self.control_names()))
        if unknown:
            raise AnalysisError(f"{type(self).__name__}: no control named {', '.join(map(repr, unknown))}; controls: "
                                f"{', '.join(self.control_names())}")
        plots.apply_house_style()
        self.result: Any = None
        self.error: str | None = None
        self.update_seconds: float | None = None
        self.answer_seconds: float | None = None
        self.updates = 0
        self.params: NotebookParameters | None = None
        self.load()
        self.controls: dict[str, widgets.Widget] = self.build_controls(initial)
        self.error_box = widgets.HTML("")
        self.error_box.add_class("explore-error")
        self.status = widgets.HTML("")
        self.status.add_class("explore-status")
        self.outputs = self.build_outputs()
        self.widget = self.layout()
        for control in self.controls.values():
            control.observe(self._changed, names="value")
        self.update()

    # --- what a subclass provides -------------------------------------------------------------

    @classmethod
    def control_names(cls) -> list[str]:
        """The parameters this explorer has a control for."""
        raise NotImplementedError

    def load(self) -> None:
        """Load what every update needs (data, precomputed tables), once."""

    def build_controls(self, initial: dict[str, Any]) -> dict[str, widgets.Widget]:
        raise NotImplementedError

    def build_outputs(self) -> widgets.Widget:
        raise NotImplementedError

    def controls_panel(self) -> widgets.Widget:
        return widgets.VBox(list(self.controls.values()))

    def fixed_values(self) -> dict[str, Any]:
        """Parameters not shown as controls (their values go to validation too)."""
        return {}

    def compute(self, params: NotebookParameters) -> Any:
        raise NotImplementedError

    def render(self, result: Any) -> None:
        raise NotImplementedError

    # --- the machinery ------------------------------------------------------------------------

    def layout(self) -> widgets.Widget:
        # The notebook's first cell carries the title; the explorer says how to read its controls.
        header = widgets.HTML(STYLE + (f'<div class="explore-intro">{markdown_html(self.intro)}</div>'
                                       if self.intro else ""))
        return widgets.VBox([header, self.controls_panel(), self.error_box, self.status, self.outputs],
                            layout=widgets.Layout(width="100%"))

    def values(self) -> dict[str, Any]:
        """Every parameter as the model takes it: the fixed ones and each control's value."""
        out = dict(self.fixed_values())
        out.update({name: model_value(control.value) for name, control in self.controls.items()})
        return out

    def validate(self) -> NotebookParameters:
        """The controls' values checked by the report's parameter model (ParameterError if not allowed)."""
        return validate_parameters(self.notebook, self.values())

    def _changed(self, _change: dict) -> None:
        self.update()

    def update(self) -> None:
        """Validate, compute and show; on a rejected value show the error and grey out the last output."""
        started = self._started = time.perf_counter()
        self._answered = None
        provenance.reset()
        try:
            params = self.validate()
            result = self.compute(params)
            self.render(result)
        except AnalysisError as exc:
            self._reject(str(exc))
            return
        except Exception as exc:  # a bug: say so on the page rather than fail silently in a callback
            self._reject(f"Unexpected error (please report it): {type(exc).__name__}: {exc}")
            return
        finally:
            plots.plt.close("all")
        self.params, self.result, self.error = params, result, None
        self.error_box.value = ""
        self.outputs.remove_class("explore-stale")
        self.update_seconds = time.perf_counter() - started
        self.answer_seconds = (self._answered or time.perf_counter()) - started
        self.updates += 1
        self.status.value = f"Updated in {self.update_seconds:.2f} s."

    def answered(self) -> None:
        """Called by :meth:`render` once the headline numbers and words are shown (charts follow): each
        output reaches the page as soon as it is set, so this is when the reader has the answer."""
        self._answered = time.perf_counter()

    def memo(self, key: Any, build: Any) -> Any:
        """``build()``, or what it returned last time for the same ``key`` (charts that did not change
        are not redrawn: a change of seed does not move the tornado chart). Keeps the last 32."""
        cache = self.__dict__.setdefault("_memo", {})
        if key not in cache:
            if len(cache) >= 32:
                cache.pop(next(iter(cache)))
            cache[key] = build()
        return cache[key]

    def _reject(self, message: str) -> None:
        self.error = message
        self.error_box.value = f"<pre>{escape(message)}</pre>"
        self.outputs.add_class("explore-stale")
        self.status.value = "Not updated: see the message above."

    def set(self, **values: Any) -> None:
        """Set several controls at once (as a researcher would, one after another) and update once."""
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise AnalysisError(f"no control named {', '.join(map(repr, unknown))}")
        for control in self.controls.values():
            control.unobserve(self._changed, names="value")
        try:
            for name, value in values.items():
                self.controls[name].value = tuple(value) if isinstance(value, list) else value
        finally:
            for control in self.controls.values():
                control.observe(self._changed, names="value")
        self.update()

    def _repr_mimebundle_(self, **kwargs: Any):
        return self.widget._repr_mimebundle_(**kwargs)
