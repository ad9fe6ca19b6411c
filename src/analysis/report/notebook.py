"""What a notebook calls: set up, show tables and headline numbers, finish.

A notebook is a parameters cell, then ``params = report.setup("name", globals())``,
then calls into the domain modules and these display helpers, then
``report.finish(params)`` in a cell tagged ``provenance``. No number is typed
into a notebook: headline numbers come from the library with their source.
"""

from __future__ import annotations

import html
import json
from typing import Any

import numpy as np
import pandas as pd
from IPython.display import HTML, display

from analysis import plots, provenance
from analysis.report.params import NotebookParameters, parameters_from_namespace

PROVENANCE_MIMETYPE = "application/vnd.uk-reform-analysis.provenance+json"


def setup(notebook: str, namespace: dict[str, Any]) -> NotebookParameters:
    """Re-validate the parameters (same errors as the runner), reset state, apply the house style."""
    params = parameters_from_namespace(notebook, namespace)
    provenance.reset()
    plots.close_all()
    plots.apply_house_style()
    return params


def md(text: str) -> None:
    """Display generated narrative (Markdown: bold, lists, links, tables). Raw HTML in ``text`` is
    escaped, never rendered: narrative often quotes parameters, file names and data values."""
    from analysis.report.sanitize import markdown_to_html

    display({"text/html": markdown_to_html(text), "text/markdown": text, "text/plain": text}, raw=True)


def fmt_number(value: float, unit: str = "", digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "no data"
    if unit == "%":
        return f"{value:.{digits}f}%"
    if unit == "£m":
        return f"£{value:,.{digits}f}m"
    if unit == "pp":
        return f"{value:+.{digits}f} pp"
    return f"{value:,.{digits}f}{(' ' + unit) if unit else ''}"


def headline(key: str, label: str, value: float, *, unit: str = "", low: float | None = None,
             high: float | None = None, level: float | None = None, source: str, digits: int = 1,
             note: str = "", column: str | None = None, period: str | None = None) -> None:
    """Show a headline number with its interval and source, and record it for the report index.

    ``column`` is the index's column heading when ``label`` names something that differs
    between reports of a batch (a council); ``period`` is the year the value refers to when
    it differs between reports (shown beside the value in the index).
    """
    interval = ""
    if low is not None and high is not None:
        lvl = f"{level:.0%} " if level else ""
        if unit == "pp":
            interval = f" ({lvl}interval {low:+.{digits}f} to {high:+.{digits}f} pp)"
        else:
            interval = f" ({lvl}interval {fmt_number(low, unit, digits)} to {fmt_number(high, unit, digits)})"
    text = fmt_number(value, unit, digits) + interval
    provenance.record_headline({"key": key, "label": label, "value": None if value is None else float(value),
                                "low": low, "high": high, "level": level, "unit": unit, "text": text,
                                "source": source, "column": column or label, "period": period})
    display(HTML(
        f'<div class="headline"><div class="headline-label">{html.escape(label)}</div>'
        f'<div class="headline-value">{html.escape(text)}</div>'
        f'<div class="headline-source">Source: {html.escape(source)}'
        f'{(" — " + html.escape(note)) if note else ""}</div></div>'))


def subject(text: str | None) -> None:
    """Name what this report is about when parameters narrow it (one council): the rendered report
    shows it under the title and the run index lists the report by it."""
    provenance.record_subject(text)


def _pretty(column: str) -> str:
    text = column.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def show(df: pd.DataFrame, caption: str, *, source: str | None = None, simulated: bool = False,
         digits: int = 2, index: bool = False, max_rows: int = 60) -> None:
    """Display a table with a caption (and 'SIMULATED DATA' when it is) and its source underneath."""
    if simulated:
        caption = "SIMULATED DATA: " + caption
        provenance.record_simulated(caption)
    shown = df.head(max_rows).rename(columns=lambda c: _pretty(c) if isinstance(c, str) else c)
    formatted = shown.to_html(index=index, float_format=lambda v: f"{v:,.{digits}f}", na_rep="no data",
                              border=0, classes="table", escape=True)
    more = f"<p class='table-note'>Showing {max_rows} of {len(df)} rows.</p>" if len(df) > max_rows else ""
    src = f"<p class='table-source'>Source: {html.escape(source)}</p>" if source else ""
    display(HTML(f"<figure class='table-figure'><figcaption>{html.escape(caption)}</figcaption>"
                 f"{formatted}{more}{src}</figure>"))


def figure(fig, alt: str | None = None) -> None:
    """Display a matplotlib figure as a PNG with alt text, then close it.

    The alt text defaults to the chart's title (which states the finding) and its
    source line, so screen-reader users get the same message.
    """
    import base64
    import io

    if alt is None:
        titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
        notes = [t.get_text() for t in fig.texts]
        alt = " ".join(titles + notes).replace("\n", " ")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plots.plt.close(fig)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    display({"image/png": encoded, "text/plain": f"<Figure: {alt}>"},
            metadata={"image/png": {"alt": alt}}, raw=True)


def caveat(title: str, points: list[str]) -> None:
    """A boxed list of what a comparison can and cannot show."""
    items = "".join(f"<li>{html.escape(p)}</li>" for p in points)
    display(HTML(f'<div class="caveat"><strong>{html.escape(title)}</strong><ul>{items}</ul></div>'))


def finish(params: NotebookParameters) -> None:
    """Emit the run's provenance (parameters, datasets, evidence cited, headlines) for the runner."""
    snap = provenance.snapshot()
    payload = {"parameters": params.as_papermill(), **snap}
    summary = (f"Datasets used: {', '.join(d['name'] for d in snap['datasets']) or 'none'}. "
               f"Evidence rows cited: {len(snap['evidence'])}. Headline numbers: {len(snap['headlines'])}.")
    display({PROVENANCE_MIMETYPE: json.loads(json.dumps(payload, default=str)), "text/plain": summary},
            raw=True)
