"""What a notebook calls: set up, show tables and headline numbers, finish.

A notebook is a parameters cell, then ``params = report.setup("name", globals())``,
then calls into the domain modules and these display helpers, then
``report.finish(params)`` in a cell tagged ``provenance``. No number is typed
into a notebook: headline numbers come from the library with their source.

Every number shown is rounded by the one rule (:mod:`analysis.precision`).
Every table (:func:`show`) and chart (:func:`figure`) carries its full,
unrounded data inside the notebook as a display output of type
:data:`DATA_MIMETYPE` (invisible in JupyterLab; the executed notebook stays
self-contained, whichever worker ran it); the HTML export writes each as a CSV
beside the report and links it under its table or chart.
"""

from __future__ import annotations

import html
import json
from typing import Any

import pandas as pd
from IPython.display import HTML, display

from analysis import plots, precision, provenance
from analysis.findings import Finding
from analysis.report.params import NotebookParameters, parameters_from_namespace

PROVENANCE_MIMETYPE = "application/vnd.uk-reform-analysis.provenance+json"
DATA_MIMETYPE = "application/vnd.uk-reform-analysis.data+json"  # a table's or chart's data, written as a CSV
ABSENT_MIMETYPE = "application/vnd.uk-reform-analysis.absent+json"  # "nothing to show here": left out of reports
LONG_TABLE_ROWS = 25  # longer tables show their first rows (or a summary) and point to the CSV
DATA_LINK_PLACEHOLDER = '<a class="data-csv">CSV</a>'  # the export gives it the CSV's address


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


def headline(key: str, label: str, value: float | None, *, unit: str = "", low: float | None = None,
             high: float | None = None, level: float | None = None, source: str, digits: int | None = None,
             note: str = "", column: str | None = None, period: str | None = None, no_interval_reason: str = "",
             count: bool = False, interval_word: str = "interval") -> None:
    """Show a headline number with its interval and source, and record it for the report index.

    The number and its interval are rounded by the one rule (:func:`analysis.precision.fmt_interval`);
    ``digits`` is accepted for compatibility and ignored. A number without an interval says why in
    ``no_interval_reason`` (e.g. "a count from a register"); ``count=True`` shows a whole number.
    ``column`` is the index's column heading when ``label`` names something that differs between
    reports of a batch (a council); ``period`` is the year the value refers to when it differs
    between reports (shown beside the value in the index). ``interval_word="range"`` for a simulation's
    central range, which holds the spread of assumed inputs rather than sampling error.
    """
    has_interval = low is not None and high is not None and precision.is_number(low) and precision.is_number(high)
    if value is None or not precision.is_number(value):
        text = "no data"
    elif has_interval:
        text = precision.fmt_interval(value, low, high, unit, level=level, word=interval_word)
    else:
        text = precision.fmt(value, unit, count=count)
    provenance.record_headline({"key": key, "label": label, "value": None if value is None else float(value),
                                "low": low, "high": high, "level": level, "unit": unit, "text": text,
                                "source": source, "column": column or label, "period": period,
                                "no_interval_reason": no_interval_reason})
    reason = (f'<div class="headline-reason">No interval: {html.escape(no_interval_reason)}</div>'
              if no_interval_reason and not has_interval else "")
    display(HTML(
        f'<div class="headline"><div class="headline-label">{html.escape(label)}</div>'
        f'<div class="headline-value">{html.escape(text)}</div>{reason}'
        f'<div class="headline-source">Source: {html.escape(source)}'
        f'{(" — " + html.escape(note)) if note else ""}</div></div>'))


def key_findings(findings: list[Finding], title: str = "Key findings") -> None:
    """Open the report with its findings in plain English, each with its source and what it cannot show.

    The findings come from the library (``<domain>.key_findings(results)``); they are recorded so the
    run index can show each report's findings.
    """
    if not findings:
        raise ValueError("A report must open with at least one key finding")
    provenance.record_findings([f.as_dict() for f in findings])
    items = "".join(
        f'<li><span class="finding-text">{html.escape(f.text)}</span> '
        f'<span class="finding-limit">{html.escape(f.limitation)}</span> '
        f'<span class="finding-source">Source: {html.escape(f.source)}</span></li>'
        for f in findings)
    display(HTML(f'<section class="key-findings"><h2 id="key-findings">{html.escape(title)}</h2><ol>{items}</ol>'
                 '</section>'))


def _verdict_card(v) -> str:
    """One claim: the quotation, who and when, the verdict (with its qualifier, if any) and the deciding facts, with
    the rule, full numbers and sources one click away."""
    css = v.verdict.replace(" ", "-")
    deciding = v.summary or v.numbers
    independent = ", ".join(v.independent_ids) or "none"
    data = ", ".join(v.datasets) or "none"
    sources = "".join(f"<li>{html.escape(s)}</li>" for s in v.sources)
    qualifier = (f' <span class="verdict-qualifier">({html.escape(v.qualifier)})</span>'
                 if getattr(v, "qualifier", "") else "")
    return (
        f'<div class="verdict verdict-{css}"><p class="verdict-claim">&ldquo;{html.escape(v.claim)}&rdquo; '
        f'<span class="verdict-who">{html.escape(v.speaker)}, {html.escape(str(v.date))} '
        f'({html.escape(v.claim_id)})</span></p><p><span class="verdict-label">{html.escape(v.verdict)}</span>'
        f'{qualifier} {html.escape(deciding)}</p><details><summary>Rule, numbers and '
        f'sources</summary><p><strong>Rule:</strong> {html.escape(v.rule)}</p>'
        + (f'<p><strong>Numbers:</strong> {html.escape(v.numbers)}</p>' if v.summary else "")
        + f'<p><strong>Independent evidence rows:</strong> {html.escape(independent)}; '
        f'<strong>datasets analysed:</strong> {html.escape(data)}</p><ul>{sources}</ul></details></div>')


def verdicts(items: list, title: str | None = None) -> None:
    """Verdicts on claims: the scale with its definitions, then each claim in a few lines with the
    deciding facts, and the rule, full numbers and sources one click away (``<details>``).

    Where the claims are of more than one kind (``kind`` in claims.csv), the section opens with the tally by kind
    that the key findings and the run index give (:func:`analysis.claims.verdict_groups`) and shows the claims kind
    by kind, so a verdict on a programme fact or an auditor's finding is not read as one on what the reform achieves.
    """
    from analysis.claims import INDEPENDENCE_RULE, VERDICT_SCALE, grouped_in_order

    provenance.record_verdicts([v.record() for v in items])
    scale = "".join(f"<dt>{html.escape(k)}</dt><dd>{html.escape(d)}</dd>" for k, d in VERDICT_SCALE.items())
    groups = grouped_in_order(items)
    if any(g.label for g, _ in groups):
        level = "h4" if title else "h3"
        tally = "".join(f'<li class="verdict-group">{html.escape(g.text)}</li>' for g, _ in groups)
        body = (f'<div class="verdict-counts"><strong>{len(items)} claims, by kind of claim:</strong>'
                f'<ul class="verdict-groups">{tally}</ul></div>')
        for g, members in groups:
            heading = g.label[:1].upper() + g.label[1:] if g.label else "Other claims"
            body += (f'<{level} class="verdict-kind">{html.escape(heading)}</{level}>'
                     + "".join(_verdict_card(v) for v in members))
    else:
        body = "".join(_verdict_card(v) for v in items)
    heading = f"<h3>{html.escape(title)}</h3>" if title else ""
    display(HTML(f'<section class="verdicts">{heading}<details class="verdict-scale"><summary>What the verdicts mean'
                 f'</summary><dl>{scale}</dl><p>{html.escape(INDEPENDENCE_RULE)}</p></details>{body}</section>'))


def subject(text: str | None) -> None:
    """Name what this report is about when parameters narrow it (one council): the rendered report
    shows it under the title and the run index lists the report by it."""
    provenance.record_subject(text)


def _pretty(column) -> str:
    if isinstance(column, tuple):
        column = " ".join(str(part) for part in column if str(part) and not str(part).startswith("Unnamed"))
    if not isinstance(column, str):
        return str(column)
    text = column.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _emit_data(kind: str, title: str, frame: pd.DataFrame, **extra: Any) -> dict[str, Any]:
    """The data payload of a table or chart (full precision CSV text plus what the reviewer needs)."""
    return {"kind": kind, "title": title, "rows": int(len(frame)), "csv": frame.to_csv(index=False),
            **{k: v for k, v in extra.items() if v is not None}}


def _interval_triples(df: pd.DataFrame) -> dict[str, tuple[str, str]]:
    """Estimate columns with their interval columns, by the naming conventions of the domain tables.

    ``x_low``/``x_high`` (or ``_lo``/``_hi``, ``_ci_low``/``_ci_high``, ``_lower``/``_upper``) go with
    ``x_rate``, ``x_pct``, ``x_estimate`` or ``x`` (the first present); bare ``ci_low``/``ci_high``
    (or ``low``/``high``, ``lower``/``upper``) go with the table's one ``estimate``, ``difference``,
    ``effect``, ``value``, ``mean`` or ``rate`` column.
    """
    numeric = [c for c in df.columns if isinstance(c, str) and pd.api.types.is_numeric_dtype(df[c])]
    found: dict[str, tuple[str, str]] = {}
    paired: set[str] = set()
    for lo_suffix, hi_suffix in (("_ci_low", "_ci_high"), ("_low", "_high"), ("_lo", "_hi"), ("_lower", "_upper")):
        for lo in numeric:
            if not lo.endswith(lo_suffix) or lo in paired:
                continue
            stem = lo[: -len(lo_suffix)]
            hi = stem + hi_suffix
            estimate = next((c for c in (stem + "_rate", stem + "_pct", stem + "_estimate", stem)
                             if c in numeric and c not in found and c not in paired), None)
            if hi in numeric and estimate:
                found[estimate] = (lo, hi)
                paired.update((lo, hi))
    for lo, hi in (("ci_low", "ci_high"), ("low", "high"), ("lower", "upper")):
        if lo in numeric and hi in numeric and lo not in paired:
            estimates = [c for c in ("estimate", "difference", "effect", "value", "mean", "rate")
                         if c in numeric and c not in found]
            if len(estimates) == 1:
                found[estimates[0]] = (lo, hi)
                paired.update((lo, hi))
    return found


def _text_columns(frame: pd.DataFrame) -> list[str]:
    """Columns that hold text only (codes such as '06273905' stay text when the reviewer reads the CSV back)."""
    out = []
    for column in frame.columns:
        values = frame[column].dropna()
        if not pd.api.types.is_numeric_dtype(frame[column]) and len(values) and values.map(
                lambda v: isinstance(v, str)).all():
            out.append(column)
    return out


def show(df: pd.DataFrame, caption: str, *, source: str | None = None, simulated: bool = False,
         digits: int | None = None, index: bool = False, max_rows: int | None = None,
         intervals: dict[str, tuple[str, str]] | None = None, counts: tuple[str, ...] | list[str] | None = None,
         signed: tuple[str, ...] | list[str] | None = None, p_values: tuple[str, ...] | list[str] | None = None,
         aligned: dict[str, str] | None = None, summary: pd.DataFrame | None = None) -> None:
    """Display a table rounded by the one rule, with its caption, source and a link to its full data.

    Numbers are rounded by :func:`analysis.precision.round_frame`: ``intervals`` maps an estimate
    column to its (low, high) columns, rounded together to the interval's precision (by default the
    usual column names are recognised: ``x``/``x_low``/``x_high``, ``estimate``/``ci_low``/``ci_high``;
    pass ``intervals={}`` to turn that off); ``counts`` are whole numbers; ``signed`` columns show a
    "+" on positive values (differences); ``p_values`` follow the p-value rule
    (:func:`analysis.precision.fmt_p`); ``aligned`` columns take the decimals of an estimate's interval
    (``{column: estimate}``); other numbers keep three significant figures and integers are
    left alone. A table built by a domain module usually carries its format already
    (:func:`analysis.precision.table_format`); arguments given here take precedence. ``digits`` is
    accepted for compatibility and ignored: the rule decides.

    Tables longer than ``max_rows`` (default :data:`LONG_TABLE_ROWS`) show their first rows, or
    ``summary`` when given, with a sentence pointing to the CSV. The full unrounded table always
    goes with the output and is published as a CSV linked under the table.
    """
    if simulated:
        caption = "SIMULATED DATA: " + caption
        provenance.record_simulated(caption)
    recorded = precision.format_of(df)
    original = df.reset_index() if index else df
    mapping = {c: _pretty(c) for c in original.columns}
    full = original.set_axis([mapping[c] for c in original.columns], axis=1)
    if full.columns.duplicated().any():
        raise ValueError(f"Table {caption!r}: duplicate column names after formatting: "
                         f"{sorted(set(full.columns[full.columns.duplicated()]))}")
    if intervals is None:
        intervals = recorded.get("intervals")
    chosen = _interval_triples(original) if intervals is None else intervals
    counts = tuple(recorded.get("counts", ()) if counts is None else counts)
    signed = tuple(recorded.get("signed", ()) if signed is None else signed)
    p_values = tuple(recorded.get("p_values", ()) if p_values is None else p_values)
    aligned = dict(recorded.get("aligned", {}) if aligned is None else aligned)
    unknown = [c for est, pair in chosen.items() for c in (est, *pair) if c not in mapping]
    unknown += [c for c in (*counts, *signed, *p_values, *aligned, *aligned.values()) if c not in mapping]
    if unknown:
        raise ValueError(f"Table {caption!r}: intervals/counts/signed/p_values name columns it does not have: "
                         f"{unknown}")
    interval_columns = {mapping[e]: (mapping[lo], mapping[hi]) for e, (lo, hi) in chosen.items()}
    count_columns = tuple(mapping[c] for c in counts)
    signed_columns = tuple(mapping[c] for c in signed)
    p_columns = tuple(mapping[c] for c in p_values)
    aligned_columns = {mapping[c]: mapping[e] for c, e in aligned.items()}
    limit = LONG_TABLE_ROWS if max_rows is None else max_rows
    long = len(full) > limit
    if long and summary is not None:
        shown = summary.rename(columns=_pretty)
        own = precision.format_of(summary)
        rename = {c: _pretty(c) for c in summary.columns}
        shown_rounded = precision.round_frame(
            shown, interval_columns={rename[e]: (rename[lo], rename[hi]) for e, (lo, hi) in
                                     own.get("intervals", {}).items()},
            count_columns=tuple(rename[c] for c in own.get("counts", ())),
            signed_columns=tuple(rename[c] for c in own.get("signed", ())),
            p_columns=tuple(rename[c] for c in own.get("p_values", ())),
            aligned_columns={rename[c]: rename[e] for c, e in own.get("aligned", {}).items()})
        note = (f"<p class='table-note'>Showing a summary of {len(full):,} rows; the full table is in the "
                f"{DATA_LINK_PLACEHOLDER}.</p>")
    else:
        shown = full.head(limit) if long else full
        shown_rounded = precision.round_frame(shown, interval_columns=interval_columns, count_columns=count_columns,
                                              signed_columns=signed_columns, p_columns=p_columns,
                                              aligned_columns=aligned_columns)
        note = (f"<p class='table-note'>Showing {limit:,} of {len(full):,} rows; the full table is in the "
                f"{DATA_LINK_PLACEHOLDER}.</p>") if long else ""
    formatted = shown_rounded.to_html(index=False, na_rep="no data", border=0, classes="table", escape=True)
    src = f"<p class='table-source'>Source: {html.escape(source)}</p>" if source else ""
    payload = _emit_data("table", caption, full, source=source, shown_rows=int(len(shown)),
                         summary=bool(long and summary is not None),
                         intervals={e: list(pair) for e, pair in interval_columns.items()},
                         counts=list(count_columns), signed=list(signed_columns), p_values=list(p_columns),
                         aligned=aligned_columns, text_columns=_text_columns(full))
    display({"text/html": f"<figure class='table-figure'><figcaption>{html.escape(caption)}</figcaption>"
                          f"{formatted}{note}{src}</figure>",
             "text/plain": f"<Table: {caption} ({len(full)} rows)>",
             DATA_MIMETYPE: json.loads(json.dumps(payload, default=str))}, raw=True)


def figure(fig, alt: str | None = None, data: pd.DataFrame | None = None, title_basis: Any = None) -> None:
    """Display a matplotlib figure as a PNG with alt text and its data, then close it.

    The alt text defaults to the chart's title (which states the finding) and its
    source line, so screen-reader users get the same message. The data is what the
    ``analysis.plots`` function recorded (or ``data`` for a chart drawn elsewhere); it is
    published as a CSV under the chart. ``title_basis`` records the estimate and interval
    the title rests on (see :mod:`analysis.plots`).
    """
    import base64
    import io

    if data is not None:
        plots.attach_data(fig, data)
    if title_basis is not None:
        plots.chart_meta(fig)["title_basis"] = plots.normalise_basis(title_basis)
    meta = plots.chart_meta(fig)
    titles = [t for t in [fig._suptitle.get_text() if fig._suptitle else ""] if t]
    titles += [ax.get_title() for ax in fig.axes if ax.get_title()]
    title = meta.get("title") or " ".join(titles).replace("\n", " ") or "Chart"
    if alt is None:
        notes = [t.get_text() for t in fig.texts if t is not fig._suptitle]
        alt = " ".join([title] + notes).replace("\n", " ")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plots.plt.close(fig)
    encoded = base64.b64encode(buffer.getvalue()).decode("ascii")
    bundle: dict[str, Any] = {"image/png": encoded, "text/plain": f"<Figure: {alt}>"}
    chart_data = meta.get("data")
    if chart_data is not None:
        payload = _emit_data("chart", title.replace("\n", " "), chart_data, source=meta.get("source"),
                             title_basis=meta.get("title_basis"), better=meta.get("better"), plot=meta.get("plot"))
        bundle[DATA_MIMETYPE] = json.loads(json.dumps(payload, default=str))
    display(bundle, metadata={"image/png": {"alt": alt}}, raw=True)


def absent(reason: str) -> None:
    """Say that this section has nothing to show in this configuration.

    Shown in JupyterLab; left out of the rendered report, where a section whose cells show
    nothing else is dropped with its heading and introduction (not announced).
    """
    display({"text/markdown": reason, ABSENT_MIMETYPE: {"reason": reason}}, raw=True)


def caveat(title: str, points: list[str]) -> None:
    """A boxed list of what a comparison can and cannot show."""
    items = "".join(f"<li>{html.escape(p)}</li>" for p in points)
    display(HTML(f'<div class="caveat"><strong>{html.escape(title)}</strong><ul>{items}</ul></div>'))


def finish(params: NotebookParameters) -> None:
    """Emit the run's provenance (parameters, datasets, evidence cited, headlines) for the runner."""
    snap = provenance.snapshot()
    payload = {"parameters": params.as_papermill(), **snap}
    summary = (f"Datasets used: {', '.join(d['name'] for d in snap['datasets']) or 'none'}. "
               f"Evidence rows cited: {len(snap['evidence'])}. Headline numbers: {len(snap['headlines'])}. "
               f"Key findings: {len(snap['findings'])}.")
    display({PROVENANCE_MIMETYPE: json.loads(json.dumps(payload, default=str)), "text/plain": summary},
            raw=True)
