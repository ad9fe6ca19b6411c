"""The reviewer's test: what a hostile first-time reader checks, run on every rendered report.

``python -m analysis review <run-folder>`` (or ``latest``, or a run id) prints the problems as a
readable list (report, what, where) and exits 1 when there are any. The same checks run in the
end-to-end tests on the real reports. Each check reads what the reader gets (the HTML page and
the files beside it) and what the run recorded about it (``run.json``: key findings, verdicts,
headline numbers, and each table's and chart's data file with its title and title basis).

Checks (names for ``--check``):

``status``
    every report ran to the end and was published.
``key-findings``
    each report opens with 3-6 key findings (before any section, table or chart), each with an
    interval or a stated reason it has none, a source and a limitation; a finding with an interval
    shows it in its text.
``headlines``
    each headline number shows an interval or a stated reason, and a source.
``chart-titles``
    a chart title with comparative wording ("higher", "lower", "better", "worse", "more",
    "less", "cheaper", "more expensive", "most", "vs", ...: ``analysis.plots.COMPARATIVE_WORDS``)
    records the estimate and interval it rests on, and states a difference only when that
    interval excludes zero (otherwise it says "no clear difference").
``forest-sides``
    every forest plot says which side is better (or that neither is).
``table-rounding``
    every table cell shown by ``report.show`` is the one rounding rule applied to the table's
    published data (its CSV), with the format the table recorded (its interval, count, signed and
    p-value columns): the table shows no more, and no other, precision than the rule.
``precision``
    no number in the text or in a table shows trailing zeros after the decimal point, or more
    than four significant figures after a decimal point, outside an interval (where estimate and
    bounds share their decimals by the rule).
``data-links``
    every table and chart is followed by a relative link to its CSV, and the file exists beside
    the report; a long table's "Showing N of M rows" note links it too.
``glossary``
    every technical term the report's text uses (:data:`analysis.glossary.TERMS`: clustered standard
    errors, false-discovery rate, design effect, fixed effects, ...) is explained in its "Terms used in
    this report" box.
``claims``
    in a full run (every notebook that runs with its defaults), every claim in the evidence register
    (``data/evidence/claims.csv``) got exactly one verdict across the reports, and no verdict names a
    claim the register does not have.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import unquote, urlsplit

import pandas as pd
from bs4 import BeautifulSoup, Tag

from analysis.findings import clear_difference
from analysis.plots import COMPARATIVE_WORDS
from analysis.precision import round_frame
from analysis.report.datafiles import FORMULA_TRIGGERS

CHECKS: dict[str, str] = {
    "status": "every report ran to the end and was published",
    "key-findings": "each report opens with 3-6 key findings, each with an interval or a reason, a source and a "
                    "limitation",
    "headlines": "each headline number has an interval (or a stated reason) and a source",
    "chart-titles": "no chart title states a difference its recorded interval does not support",
    "forest-sides": "every forest plot says which side is better (or that neither is)",
    "table-rounding": "every table cell is the rounding rule applied to the table's published data",
    "precision": "no number shows trailing zeros or more than 4 significant figures after a decimal point, "
                 "outside intervals",
    "data-links": "every table and chart links its data as a CSV that exists beside the report",
    "glossary": "every technical term the report uses is explained in its 'Terms used in this report' box",
    "claims": "every claim in the evidence register has exactly one verdict across the reports of a full run",
    "leftovers": "no unfilled template field ({name}) or missing value printed as a word (None, nan, NaN, "
                 "<NA>) in the text a reader sees",
}
MIN_FINDINGS, MAX_FINDINGS = 3, 6
MAX_SIGNIFICANT = 4
COMPARATIVE = re.compile(r"\b(" + "|".join(re.escape(w) for w in COMPARATIVE_WORDS) + r")\b", re.I)
NO_DIFFERENCE = re.compile(r"\bno clear difference\b", re.I)
_NUM = r"[-+\u2212]?£?\d[\d,]*(?:\.\d+)?"
_UNIT = r"(?:\s?(?:%|pp|m|bn|k|percentage points|points))?"
_INTERVAL_SPANS = [
    # an estimate followed by its interval in brackets: "+2.3 pp (95% interval -0.4 to +5.1 pp)"
    re.compile(rf"(?:{_NUM}{_UNIT}\s*)?\([^()]*\b(?:interval|CI|confidence)\b[^()]*\)", re.I),
    # a range: "-0.4 to +5.1", "£1,200m to £3,900m"
    re.compile(rf"{_NUM}{_UNIT}\s+to\s+{_NUM}{_UNIT}", re.I),
]
_DECIMAL = re.compile(r"(?<![\w.])[-+\u2212]?£?(\d[\d,]*)\.(\d+)(?![\d.]*\d)")
_SHOWN_INTERVAL = re.compile(rf"\binterval\b|\bCI\b|{_NUM}{_UNIT}\s+to\s+{_NUM}|±", re.I)


@dataclass(frozen=True)
class Problem:
    """One thing a reviewer would send back: which report, what is wrong, where."""

    report: str
    check: str
    what: str
    where: str = ""

    def __str__(self) -> str:
        return f"{self.report}: {self.what}" + (f" ({self.where})" if self.where else "") + f" [{self.check}]"


# --- reading a report ------------------------------------------------------------------------

def _main(soup: BeautifulSoup) -> Tag:
    main = soup.find("main")
    return main if isinstance(main, Tag) else soup


def _text(element: Tag) -> str:
    return re.sub(r"\s+", " ", element.get_text(" ")).strip()


def _snippet(text: str, start: int, end: int, width: int = 40) -> str:
    left = max(0, start - width)
    return ("..." if left else "") + text[left:end + width].strip() + ("..." if end + width < len(text) else "")


def _is_relative_inside(href: str) -> bool:
    parts = urlsplit(href)
    path = PurePosixPath(unquote(parts.path))
    return not (parts.scheme or parts.netloc or href.startswith(("/", "\\")) or ".." in path.parts)


# --- checks on one report ---------------------------------------------------------------------

def check_key_findings(soup: BeautifulSoup, findings: list[dict[str, Any]] | None, report: str) -> list[Problem]:
    main = _main(soup)
    box = main.select_one("section.key-findings")
    if box is None:
        return [Problem(report, "key-findings", "the report does not open with key findings",
                        "no 'Key findings' box")]
    problems = []
    order = {id(el): i for i, el in enumerate(main.find_all(True))}
    first = next((el for el in main.find_all(["h2", "h3", "table", "img"])
                  if el.find_parent("section", class_="key-findings") is None), None)
    if first is not None and order[id(first)] < order[id(box)]:
        label = _text(first)[:60] or str(first.get("alt", ""))[:60] or first.name
        problems.append(Problem(report, "key-findings", "key findings come after the report's content",
                                f"first comes {first.name} '{label}'"))
    items = box.select("li")
    if not MIN_FINDINGS <= len(items) <= MAX_FINDINGS:
        problems.append(Problem(report, "key-findings",
                                f"{len(items)} key findings; a report opens with {MIN_FINDINGS}-{MAX_FINDINGS}",
                                "Key findings box"))
    recorded = findings if findings is not None else []
    if findings is not None and len(recorded) != len(items):
        problems.append(Problem(report, "key-findings", f"the page shows {len(items)} findings but the run recorded "
                                f"{len(recorded)}", "run.json findings"))
    for n, item in enumerate(items, start=1):
        text = _text(item.select_one(".finding-text") or item)
        where = f"finding {n}: '{text[:70]}'"
        limit = item.select_one(".finding-limit")
        source = item.select_one(".finding-source")
        if limit is None or not _text(limit):
            problems.append(Problem(report, "key-findings", "a key finding does not say what it cannot show", where))
        if source is None or not re.sub(r"^Source:\s*", "", _text(source)):
            problems.append(Problem(report, "key-findings", "a key finding has no source", where))
        data = recorded[n - 1] if n <= len(recorded) else None
        if data is not None:
            has_interval = data.get("low") is not None and data.get("high") is not None
            if not has_interval and not str(data.get("no_interval_reason") or "").strip():
                problems.append(Problem(report, "key-findings",
                                        "a key finding has no interval and no reason for having none", where))
            if has_interval and not _SHOWN_INTERVAL.search(text):
                problems.append(Problem(report, "key-findings", "a key finding has an interval but does not show it",
                                        where))
    return problems


def check_headlines(soup: BeautifulSoup, report: str) -> list[Problem]:
    problems = []
    for block in _main(soup).select("div.headline"):
        label = _text(block.select_one(".headline-label") or block)[:80]
        value = _text(block.select_one(".headline-value") or block)
        reason = block.select_one(".headline-reason")
        if not _SHOWN_INTERVAL.search(value) and (reason is None or not _text(reason).removeprefix("No interval:")
                                                  .strip()):
            problems.append(Problem(report, "headlines", f"headline '{value}' has no interval and no reason",
                                    f"headline '{label}'"))
        source = block.select_one(".headline-source")
        if source is None or not re.sub(r"^Source:\s*", "", _text(source)).strip(" —-"):
            problems.append(Problem(report, "headlines", "headline has no source", f"headline '{label}'"))
    return problems


def _bases(basis: Any) -> list[dict[str, Any]]:
    if basis is None:
        return []
    return list(basis) if isinstance(basis, list) else [basis]


def check_title(title: str, basis: Any, report: str, where: str) -> list[Problem]:
    """A chart title against the estimate and interval it records (see ``analysis.plots``)."""
    words = sorted({m.group(0).lower() for m in COMPARATIVE.finditer(title)})
    if not words:
        return []
    quoted = ", ".join(f"'{w}'" for w in words)
    bases = _bases(basis)
    if not bases:
        return [Problem(report, "chart-titles", f"title uses comparative wording ({quoted}) but records no estimate "
                        "and interval to support it", where)]
    if any("reason" in b and "low" not in b for b in bases):
        return []
    unsupported = [b for b in bases if not clear_difference(b.get("low"), b.get("high"))]
    if unsupported and not NO_DIFFERENCE.search(title):
        b = unsupported[0]
        return [Problem(report, "chart-titles", f"title states a difference ({quoted}) that its interval does not "
                        f"support ({b.get('low'):.3g} to {b.get('high'):.3g} includes zero)", where)]
    return []


def check_chart_titles(soup: BeautifulSoup, data_files: list[dict[str, Any]], report: str) -> list[Problem]:
    problems = []
    charts = [f for f in data_files if f.get("kind") == "chart"]
    for n, chart in enumerate(charts, start=1):
        problems += check_title(chart.get("title", ""), chart.get("title_basis"), report,
                                f"chart {n}: '{chart.get('title', '')[:80]}'")
    # Charts that shipped no data cannot have recorded a basis: judge them by their alt text.
    for img in _main(soup).find_all("img"):
        if _following_link(img) is None:
            alt = img.get("alt", "")
            problems += check_title(alt, None, report, f"chart '{alt[:80]}'")
    return problems


def check_forest_sides(data_files: list[dict[str, Any]], report: str) -> list[Problem]:
    return [Problem(report, "forest-sides", "the forest plot does not say which side is better "
                    "(plots.forest(..., better='left'|'right'|'neither'))", f"chart '{f.get('title', '')[:80]}'")
            for f in data_files if f.get("kind") == "chart" and f.get("plot") == "forest" and not f.get("better")]


def _is_interval(text: str, start: int, end: int, spans: list[tuple[int, int]]) -> bool:
    return any(a <= start and end <= b for a, b in spans)


def precision_problems(text: str) -> list[tuple[str, str, int, int]]:
    """(number, what is wrong, start, end) for each number in ``text`` shown more precisely than the rule."""
    spans = [m.span() for pattern in _INTERVAL_SPANS for m in pattern.finditer(text)]
    found = []
    for m in _DECIMAL.finditer(text):
        if _is_interval(text, m.start(), m.end(), spans):
            continue
        whole, decimals = m.group(1).replace(",", ""), m.group(2)
        digits = (whole + decimals).lstrip("0")
        if decimals.endswith("0"):
            found.append((m.group(0), "shows trailing zeros after the decimal point", m.start(), m.end()))
        elif len(digits) > MAX_SIGNIFICANT:
            found.append((m.group(0), f"shows {len(digits)} significant figures", m.start(), m.end()))
    return found


def _table_captions(table: Tag) -> str:
    figure = table.find_parent("figure")
    caption = figure.find("figcaption") if figure else None
    return _text(caption) if caption else ""


def _content_tables(main: Tag) -> list[Tag]:
    skip = ("key-findings", "verdicts", "headline")
    return [t for t in main.find_all("table") if t.find_parent("table") is None
            and not any(p.get("class") and set(p.get("class")) & set(skip) for p in t.parents if isinstance(p, Tag))]


def _rows(table: Tag) -> tuple[list[str], list[list[str]]]:
    header = [_text(th) for th in (table.find("thead") or table).find_all("th")]
    body = table.find("tbody") or table
    rows = [[_text(td) for td in tr.find_all("td")] for tr in body.find_all("tr")]
    return header, [r for r in rows if r]


def check_precision(soup: BeautifulSoup, data_files: list[dict[str, Any]], report: str) -> list[Problem]:
    problems = []
    main = _main(soup)
    prose = BeautifulSoup(str(main), "html.parser")
    for element in prose.find_all(["table", "code", "script", "style"]):
        element.decompose()
    for element in prose.select("a.anchor-link"):
        element.decompose()
    text = _text(prose)
    for number, what, start, end in precision_problems(text):
        problems.append(Problem(report, "precision", f"'{number}' {what}", f"text: '{_snippet(text, start, end)}'"))
    entries = [f for f in data_files if f.get("kind") == "table"]
    for table in _content_tables(main):
        caption = _table_captions(table)
        entry = next((e for e in entries if e.get("title") == caption), None)
        exempt = set()
        if entry is not None:
            entries.remove(entry)
            for est, pair in (entry.get("intervals") or {}).items():
                exempt.update([est, *pair])
            exempt.update((entry.get("aligned") or {}).keys())
        header, rows = _rows(table)
        for r, row in enumerate(rows, start=1):
            for c, cell in enumerate(row):
                column = header[c] if c < len(header) else str(c + 1)
                if column in exempt:
                    continue
                for number, what, _s, _e in precision_problems(cell):
                    problems.append(Problem(report, "precision", f"'{number}' {what}",
                                            f"table '{caption[:60]}', row {r}, column '{column}'"))
    return problems


def _read_published_csv(path: Path, text_columns: Iterable[str] = ()) -> pd.DataFrame:
    """A published CSV read back as ``report.show`` had it: neutralised cells un-prefixed, numbers typed,
    and columns the table held as text (``text_columns``: codes such as '06273905') kept as text."""
    text = path.read_text(encoding="utf-8-sig")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    text_columns = set(text_columns)
    for column in frame.columns:
        values = frame[column].map(lambda v: v[1:] if v.startswith("'") and v[1:].startswith(FORMULA_TRIGGERS)
                                   else v)
        present = values[values != ""]
        if column in text_columns:
            frame[column] = [float("nan") if v == "" else v for v in values]
        elif len(present) and present.str.fullmatch(r"[-+]?\d+").all() and (values != "").all():
            frame[column] = values.astype("int64")
        elif len(present) and present.map(_is_float).all():
            frame[column] = pd.to_numeric(values.replace("", "nan"), errors="coerce").astype(float)
        elif len(present) and present.isin(["True", "False"]).all() and (values != "").all():
            frame[column] = values == "True"
        else:
            frame[column] = [_typed(v) for v in values]
    return frame


def _is_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _typed(value: str) -> Any:
    """A cell of a mixed column: numbers back to numbers (as the table had them), text as text."""
    if value == "":
        return float("nan")
    if re.fullmatch(r"[-+]?\d+", value):
        return int(value)
    if re.fullmatch(r"[-+]?(\d+\.\d*|\.\d+|\d+)(e[-+]?\d+)?|[-+]?(inf|nan)", value, flags=re.I):
        return float(value)
    return value


def check_table_rounding(soup: BeautifulSoup, data_files: list[dict[str, Any]], folder: Path,
                         report: str) -> list[Problem]:
    problems = []
    entries = [f for f in data_files if f.get("kind") == "table"]
    for table in _content_tables(_main(soup)):
        caption = _table_captions(table)
        entry = next((e for e in entries if e.get("title") == caption), None)
        if entry is None:
            continue  # no data file: the data-links check reports it
        entries.remove(entry)
        if entry.get("summary"):
            continue  # a summary of a long table is not the table itself
        path = folder / entry["path"]
        if not path.is_file():
            continue
        data = _read_published_csv(path, entry.get("text_columns") or ()).head(
            int(entry.get("shown_rows", entry.get("rows", 0))))
        intervals = {k: tuple(v) for k, v in (entry.get("intervals") or {}).items()}
        expected = round_frame(data, interval_columns=intervals, count_columns=tuple(entry.get("counts") or ()),
                               signed_columns=tuple(entry.get("signed") or ()),
                               p_columns=tuple(entry.get("p_values") or ()),
                               aligned_columns=dict(entry.get("aligned") or {}))
        header, rows = _rows(table)
        if header != [str(c) for c in expected.columns] or len(rows) != len(expected):
            problems.append(Problem(report, "table-rounding", "the table does not match its published data "
                                    f"({len(rows)} rows x {len(header)} columns shown, data has {len(expected)} x "
                                    f"{len(expected.columns)})", f"table '{caption[:60]}'"))
            continue
        for r, (shown_row, rule_row) in enumerate(zip(rows, expected.itertuples(index=False)), start=1):
            for column, shown, rule in zip(header, shown_row, rule_row):
                rule_text = "no data" if _missing(rule) else str(rule)
                if shown != rule_text and not (rule_text == "no data" and shown == ""):
                    problems.append(Problem(report, "table-rounding", f"shows '{shown}' where the rule gives "
                                            f"'{rule_text}'", f"table '{caption[:60]}', row {r}, column '{column}'"))
    return problems


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def _following_link(element: Tag) -> Tag | None:
    """The CSV link that belongs to a table or chart: the next data link before the next table or chart."""
    for nxt in element.find_all_next(["a", "table", "img"]):
        if nxt.name in ("table", "img"):
            return None
        if nxt.find_parent("p", class_="data-link") is not None:
            return nxt
    return None


def check_data_links(soup: BeautifulSoup, folder: Path, report: str) -> list[Problem]:
    problems = []
    main = _main(soup)
    items = [("table", t, _table_captions(t) or _text(t)[:60]) for t in _content_tables(main)]
    items += [("chart", img, img.get("alt", "")) for img in main.find_all("img")]
    for kind, element, label in items:
        # a table's link follows its <figure>; search from the figure's end
        anchor = element.find_parent("figure") or element
        link = _following_link(anchor.find_all(True)[-1] if anchor.find_all(True) else anchor)
        where = f"{kind} '{label[:80]}'"
        if link is None:
            problems.append(Problem(report, "data-links", f"the {kind} has no link to its data (CSV)", where))
            continue
        problems += _check_href(link.get("href", ""), folder, report, where)
    for note_link in main.select("a.data-csv"):
        if not note_link.get("href"):
            problems.append(Problem(report, "data-links", "'the full table is in the CSV' has no link",
                                    f"note '{_text(note_link.parent)[:80]}'"))
        else:
            problems += _check_href(note_link.get("href"), folder, report, f"note '{_text(note_link.parent)[:80]}'")
    return problems


def check_glossary(soup: BeautifulSoup, report: str) -> list[Problem]:
    """Every glossary term the page's text uses is defined in its glossary box."""
    from analysis.glossary import terms_used

    page = BeautifulSoup(str(_main(soup)), "html.parser")
    box = page.select_one("details.glossary")
    defined = {_text(dt) for dt in box.find_all("dt")} if box is not None else set()
    if box is not None:
        box.decompose()
    for element in page.find_all(["script", "style"]):
        element.decompose()
    return [Problem(report, "glossary", f"'{term.name}' is used but not explained", "'Terms used in this report' box")
            for term in terms_used(_text(page)) if term.name not in defined]


# A generated sentence whose f-string prefix was lost prints "{m(median)}"; a missing value formatted into text
# prints "None" or "nan". Either is a sentence the reader cannot use.
_LEFTOVER = re.compile(r"\{[A-Za-z_][\w.()\[\]'\", ]*\}|(?<![\w-])(?:nan|NaN|<NA>)(?![\w-])"
                       r"|(?<![\w-])None(?![\w-])(?!\s+[a-z])")  # English: "None of ...", "None compares ..."


def check_leftovers(soup: BeautifulSoup, report: str) -> list[Problem]:
    """Unfilled template fields and missing values printed as words, anywhere in the visible report."""
    page = BeautifulSoup(str(_main(soup)), "html.parser")
    for element in page.find_all(["script", "style"]):
        element.decompose()
    text = _text(page)
    return [Problem(report, "leftovers", f"'{m.group(0)}' is printed where a value belongs",
                    _snippet(text, m.start(), m.end())) for m in _LEFTOVER.finditer(text)]


def _check_href(href: str, folder: Path, report: str, where: str) -> list[Problem]:
    if not href.lower().endswith(".csv"):
        return [Problem(report, "data-links", f"the data link '{href}' is not a CSV", where)]
    if not _is_relative_inside(href):
        return [Problem(report, "data-links", f"the data link '{href}' is not relative to the report's folder "
                        "(it would break offline or on a static host)", where)]
    if not (folder / unquote(urlsplit(href).path)).is_file():
        return [Problem(report, "data-links", f"the data link '{href}' points to a missing file", where)]
    return []


def review_report(html_text: str, *, report: str, folder: Path, entry: dict[str, Any] | None = None,
                  checks: Iterable[str] | None = None) -> list[Problem]:
    """Run the per-report checks on one rendered page (``entry`` is its run.json record)."""
    wanted = set(checks or CHECKS)
    entry = entry or {}
    soup = BeautifulSoup(html_text, "html.parser")
    data_files = list(entry.get("data_files") or [])
    problems: list[Problem] = []
    if "key-findings" in wanted:
        problems += check_key_findings(soup, entry.get("findings") if "findings" in entry else None, report)
    if "headlines" in wanted:
        problems += check_headlines(soup, report)
    if "chart-titles" in wanted:
        problems += check_chart_titles(soup, data_files, report)
    if "forest-sides" in wanted:
        problems += check_forest_sides(data_files, report)
    if "table-rounding" in wanted:
        problems += check_table_rounding(soup, data_files, Path(folder), report)
    if "precision" in wanted:
        problems += check_precision(soup, data_files, report)
    if "data-links" in wanted:
        problems += check_data_links(soup, Path(folder), report)
    if "glossary" in wanted:
        problems += check_glossary(soup, report)
    if "leftovers" in wanted:
        problems += check_leftovers(soup, report)
    return problems


# --- checks on a run ------------------------------------------------------------------------

def check_claims(reports: list[dict[str, Any]], claim_ids: Iterable[str]) -> list[Problem]:
    """Every register claim has exactly one verdict across the reports; no verdict is for an unknown claim.

    Two verdicts on one claim (in two reports, or twice in one) could disagree, and a reader of
    either report would not know of the other: each claim is judged in one place.
    """
    register = list(dict.fromkeys(claim_ids))
    judged: dict[str, list[str]] = {}
    problems = []
    for report in reports:
        for verdict in report.get("verdicts") or []:
            judged.setdefault(verdict.get("claim_id", ""), []).append(report.get("html") or report.get("slug", ""))
    for claim_id in register:
        if claim_id not in judged:
            problems.append(Problem("run", "claims", f"claim {claim_id} has no verdict in any report",
                                    "data/evidence/claims.csv"))
    for claim_id, where in judged.items():
        if claim_id not in register:
            problems.append(Problem(where[0], "claims", f"verdict on claim '{claim_id}', which is not in the "
                                    "register", "data/evidence/claims.csv"))
        elif len(where) > 1:
            problems.append(Problem(where[0], "claims", f"claim {claim_id} has {len(where)} verdicts (one claim, one "
                                    f"verdict)", "; ".join(where)))
    return problems


def is_full_run(summary: dict[str, Any], notebook_names: Iterable[str]) -> bool:
    """Whether the run rendered every notebook of a default run (only then must every claim have a verdict)."""
    ran = {r.get("notebook") for r in summary.get("reports", [])}
    return set(notebook_names) <= ran


def review_run(folder: Path, *, checks: Iterable[str] | None = None, claim_ids: Iterable[str] | None = None,
               notebook_names: Iterable[str] | None = None) -> list[Problem]:
    """Review every report of a finished run folder (with its run.json)."""
    folder = Path(folder)
    wanted = set(checks or CHECKS)
    unknown = wanted - set(CHECKS)
    if unknown:
        raise ValueError(f"Unknown check(s) {sorted(unknown)}; choose from {', '.join(CHECKS)}")
    summary = json.loads((folder / "run.json").read_text(encoding="utf-8"))
    problems: list[Problem] = []
    for report in summary.get("reports", []):
        name = report.get("html") or report.get("slug", "?")
        if report.get("status") != "ok" or not report.get("html"):
            if "status" in wanted:
                error = report.get("error") or {}
                problems.append(Problem(name, "status", "the report failed and was not published",
                                        f"{error.get('ename', '')}: {error.get('evalue', '')}".strip(": ")))
            continue
        page = folder / report["html"]
        if not page.is_file():
            if "status" in wanted:
                problems.append(Problem(name, "status", "run.json lists the report but its page is missing"))
            continue
        problems += review_report(page.read_text(encoding="utf-8"), report=name, folder=folder, entry=report,
                                  checks=wanted)
    if "claims" in wanted:
        if notebook_names is None:
            from analysis.report.params import default_notebooks

            notebook_names = default_notebooks()
        if is_full_run(summary, notebook_names):
            if claim_ids is None:
                from analysis.data.evidence import load_claims

                claim_ids = load_claims()["claim_id"].astype(str)
            problems += check_claims(summary.get("reports", []), claim_ids)
    return problems


def format_problems(problems: list[Problem]) -> str:
    """The problems grouped by report, one line each: what, where, [check]."""
    if not problems:
        return "No problems found."
    lines = [f"{len(problems)} problem(s):"]
    for report in dict.fromkeys(p.report for p in problems):
        lines.append(report)
        for p in (p for p in problems if p.report == report):
            lines.append(f"  - {p.what}" + (f" ({p.where})" if p.where else "") + f" [{p.check}]")
    return "\n".join(lines)
