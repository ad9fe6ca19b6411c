"""Council unit costs of adult social care: own (in-house) provision against provision by others.

Source: the official council-level unit-cost tables of *Personal Social Services:
Expenditure and Unit Costs, England* (PSS-EX1 return, 2008-09 to 2013-14) and the
2014-15 *Adult Social Care Finance Return* (ASC-FR, a new collection with new
definitions, kept apart). Each published unit cost is a numerator (gross cost,
GBP thousands), a denominator (weeks, contact hours or clients) and their ratio.

How the tables are read
-----------------------
* **Columns are matched by their description, never by their position.** Each
  series (service x client group x provider x measure) has a pattern that must
  match exactly one column's header text (all header rows joined and normalised);
  the column order differs between years. A missing or renamed column, or one
  matched twice, raises :class:`SchemaError` naming the file, the series and the
  measure. Where the publisher printed the same description twice, the rule is
  written down in :data:`ERRATA` (with the reason), not guessed.
* **Markers become missing, never zero**: ``.`` (not applicable), ``..`` / ``:``
  (not available), ``-`` (suppressed, fewer than 6), blanks and spreadsheet errors
  (``#NUM!``). A published zero stays zero (no provision of that kind).
* **Units are made comparable across years.** Day-care denominators are average
  clients per week, multiplied by 52 to client-weeks, except in 2008-09, whose
  footnote says weekly denominators were already annualised. In 2008-09 the
  "actual hours during the year" of in-house home care hold weekly hours (see
  :data:`DENOMINATOR_CORRECTIONS`); the arithmetic check below proves it.

Checks that fail loudly (:class:`SchemaError` naming file, series and year)
---------------------------------------------------------------------------
1. **Unit cost = cost / activity within the published rounding**, for every row
   with all three numbers: the published unit cost, widened by half its last
   published digit, must overlap the range of cost/activity obtained by moving the
   cost and the activity anywhere within their own rounding (half the last digit;
   people counts in PSS-EX1 are rounded to the nearest 5, so +-2.5).
2. **England = sum of council rows within rounding** (tolerance: the sum of every
   council value's rounding half-width plus England's). PSS-EX1 England totals
   "include estimates for missing data items" (file footnote): when k councils are
   missing, England may exceed the council sum by at most k times the largest
   council value; the gap is reported, not hidden. ASC-FR England totals are, by
   the file's own note, sums over councils with both numerator and denominator
   non-zero; the one departure found is written down in :data:`KNOWN_DISCREPANCIES`.

Councils carry their old DH/CASSR code and an ONS code from the ASCOF files: matched
by CASSR code against the official ASCOF 2020-21 file and checked by name, or by
name alone where the code has gone (Bournemouth, Poole, Buckinghamshire). Where a
council was later reorganised, the code of the council as it stood at the start of
the ASCOF series (2017-18) is used, so Dorset (code 809) is the county E10000009,
not the 2019 unitary, and Buckinghamshire the county E10000002. Cheshire and
Bedfordshire (2008-09 only) were split in April 2009 and have no ONS code of
their own here: ``successor_ons_codes`` names the councils that replaced them.
Gateshead and Northumberland changed ONS code in 2013 after minor boundary
changes; the later code is used throughout.
"""

from __future__ import annotations

import csv
import difflib
import io
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

from analysis.data.provision import council_key, normalise_council_name
from analysis.errors import SchemaError

PSS_DATASETS: dict[int, str] = {
    2009: "pss_unit_costs_2008_09",
    2010: "pss_unit_costs_2009_10",
    2011: "pss_unit_costs_2010_11",
    2012: "pss_unit_costs_2011_12",
    2013: "pss_unit_costs_2012_13",
    2014: "pss_unit_costs_2013_14",
}
ASCFR_DATASET = "ascfr_unit_costs_2014_15"
ASCFR_YEAR = 2015
DEFLATOR_DATASET = "gdp_deflators_2023_12"
# Real terms in the tidy table: prices of the last PSS-EX1 year (analyses can rebase with ``rebase``).
DEFAULT_PRICE_BASE = "2013-14"
ENGLAND_ONS_CODE = "E92000001"

MARKERS = {
    ".": "not applicable",
    "..": "not available",
    ":": "not available",
    "-": "suppressed (fewer than 6)",
    "": "blank",
    "#NUM!": "spreadsheet error in the published file",
}

PROVIDERS = ("in-house", "external")
SERVICES = ("residential care", "day care", "home care")
ACTIVITY_UNITS = {"residential care": "weeks", "day care": "client weeks", "home care": "contact hours"}

# PSS-EX1 client groups: label -> the phrase the descriptions use.
_CLIENT_PHRASES = {
    "older people (65+)": "older people",
    "learning disability (18-64)": "adults aged 18 64 with a learning disability",
    "mental health (18-64)": "adults aged 18 64 with mental health needs",
    "physical disability (18-64)": "adults aged 18 64 with a physical disability",
}
ALL_ADULTS = "all adults"

# ASC-FR 2014-15: (age category, primary support reason) -> client group.
_ASCFR_GROUPS = {
    ("Age 65 and over", None): "older people (65+)",
    ("Age 18 to 64", "Learning disability support"): "learning disability (18-64)",
    ("Age 18 to 64", "Mental health support"): "mental health (18-64)",
    ("Age 18 to 64", "Physical support"): "physical support (18-64)",
    ("Age 18 to 64", "Sensory support"): "sensory support (18-64)",
    ("Age 18 to 64", "Support with memory and cognition"): "memory and cognition (18-64)",
}
_ASCFR_PROVIDERS = {"Own provision": "in-house", "Provision by others": "external"}

# The 2009 reorganisation: county councils abolished in April 2009 and split into two unitary councils.
# (Cornwall, Durham, Northumberland, Shropshire and Wiltshire became unitary on the same area and kept
# their DH code, so they need no entry.)
PREDECESSORS_2009 = {
    "cheshire": ("Cheshire East", "Cheshire West and Chester"),
    "bedfordshire": ("Bedford", "Central Bedfordshire"),
}


@dataclass(frozen=True)
class Series:
    """One published unit cost: its service, client group and provider, and the description
    patterns of its three columns (regular expressions on normalised header text)."""

    service: str
    client_group: str
    provider: str
    cost: str
    activity: str
    unit_cost: str
    clients_per_week: bool = False  # the denominator is average clients per week (x52 to client-weeks)

    @property
    def key(self) -> str:
        return f"{self.service} | {self.client_group} | {self.provider}"

    @property
    def activity_unit(self) -> str:
        return ACTIVITY_UNITS[self.service]


def _pss_series() -> tuple[Series, ...]:
    out = []
    for group, g in _CLIENT_PHRASES.items():
        out.append(Series("residential care", group, "in-house",
                          rf"gross total cost for own provision residential care for {g}\b",
                          rf"weeks {g} were supported in own provision residential care",
                          rf"average gross weekly expenditure per person on supporting {g} in own provision "
                          r"residential care"))
        out.append(Series("residential care", group, "external",
                          rf"gross total cost for residential care for {g} provided by others",
                          rf"weeks {g} (including full cost (paying )?and preserved rights (residents|clients) )?"
                          r"were supported in residential care provided by others",
                          rf"average gross weekly expenditure per person on supporting {g} in residential care "
                          r"provided by others"))
        out.append(Series("day care", group, "in-house",
                          rf"gross total cost for own provision day care or day services for {g}\b",
                          rf"average number of clients of own provision day care or day services per week for {g}\b",
                          rf"average gross expenditure per own provision day care or day services client for {g}\b",
                          clients_per_week=True))
        out.append(Series("day care", group, "external",
                          rf"gross total cost for day care or day services for {g} provided by others",
                          rf"average number of clients of day care or day services per week for {g} provided by others",
                          rf"average gross expenditure per day care or day services clients? for {g} provided by "
                          r"others",
                          clients_per_week=True))
    out.append(Series("home care", ALL_ADULTS, "in-house",
                      r"gross total cost for home care home help provided by la for all adult client groups",
                      r"actual number of home help care contact hours provided by la for all adult client groups "
                      r"and older people during the year",
                      r"average gross hourly cost for home help care provided by la\b"))
    out.append(Series("home care", ALL_ADULTS, "external",
                      r"gross total cost for home care home help provided by independent sector for all adult",
                      r"actual number of home help care contact hours provided by independent sector for all adult "
                      r"client groups and older people during the year",
                      r"average gross hourly cost for home help care provided by others\b"))
    return tuple(out)


PSS_SERIES: tuple[Series, ...] = _pss_series()


@dataclass(frozen=True)
class Erratum:
    """A publisher's duplicated column description, resolved explicitly.

    In ``dataset`` the ``measure`` pattern of ``series`` matches several columns with the same
    text; ``keep`` is the 0-based occurrence (in file order) that belongs to the series.
    """

    dataset: str
    series: str
    measure: str
    keep: int
    reason: str


ERRATA: tuple[Erratum, ...] = (
    Erratum("pss_unit_costs_2009_10", "day care | mental health (18-64) | in-house", "cost", 1,
            "The 2009-10 table prints 'Gross total cost for own provision day care ... mental health needs' twice. "
            "The first sits with the all-provider denominator and unit cost (it equals own provision plus provision "
            "by others); the second sits with the own-provision denominator and unit cost."),
)


@dataclass(frozen=True)
class DenominatorCorrection:
    dataset: str
    series: str
    multiplier: float
    reason: str


DENOMINATOR_CORRECTIONS: tuple[DenominatorCorrection, ...] = (
    DenominatorCorrection(
        "pss_unit_costs_2008_09", "home care | all adults | in-house", 52.0,
        "In 2008-09 the in-house 'actual number of contact hours during the year' (table 2.23A) holds weekly "
        "hours: its published unit cost equals cost / (hours x 52) for every council, and hours x 52 equals the "
        "annualised sample-week hours of table 2.23. The independent-sector column (2.24A) holds annual hours."),
)


@dataclass(frozen=True)
class KnownDiscrepancy:
    """A published England total that departs from the file's own summation rule, written down."""

    dataset: str
    series: str
    support_reason: str
    measure: str
    also_includes: tuple[str, ...]  # DH codes of councils England includes although the rule excludes them
    reason: str


KNOWN_DISCREPANCIES: tuple[KnownDiscrepancy, ...] = (
    KnownDiscrepancy(
        ASCFR_DATASET, "residential care | older people (65+) | in-house", "Learning disability support", "activity",
        ("410",),
        "The England denominator includes Solihull's 556.56 weeks although Solihull reports a zero numerator; by the "
        "file's note England should sum only councils with both numerator and denominator non-zero (it does so for "
        "Essex and Kingston upon Thames in the same row). The published England unit cost uses this denominator."),
)


# --- Reading -----------------------------------------------------------------------------------

def read_grid(path: Path) -> pd.DataFrame:
    """The file as a rectangular grid of strings (row 0 = first line), exactly as published.

    The tables mix encodings (UTF-8 with a byte-order mark in 2008-09, Windows-1252 in
    later years); UTF-8 is tried first.
    """
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise SchemaError(f"{path}: the file is empty")
    width = max(len(r) for r in rows)
    return pd.DataFrame([[c.replace("\ufeff", "") for c in r] + [""] * (width - len(r)) for r in rows], dtype=str)


def normalise(text: str) -> str:
    """Header text for matching: lower case, years removed, punctuation to spaces, spaces collapsed."""
    t = str(text).lower()
    t = re.sub(r"\b(19|20)\d\d\b", " ", t)
    t = re.sub(r"[^a-z0-9]+", " ", t)
    return re.sub(r"\s+", " ", t).strip()


def parse_value(text: str) -> tuple[float, str | None, float]:
    """A published cell: (value, marker, rounding half-width). Markers give NaN, never zero."""
    s = str(text).strip()
    if s in MARKERS:
        return np.nan, MARKERS[s], np.nan
    plain = s.replace(",", "").replace("£", "")
    try:
        value = float(plain)
    except ValueError:
        raise SchemaError(f"Unreadable cell {s!r}: not a number and not a known marker {sorted(MARKERS)}") from None
    decimals = len(plain.split(".")[1]) if "." in plain else 0
    return value, None, 0.5 * 10.0 ** (-decimals)


_COUNCIL = re.compile(r"^\s*(\d{3})\s*-\s*(.+?)\s*$")


def _match_columns(descriptions: dict[int, str], series: Series, dataset: str) -> dict[str, int]:
    """The column of each measure of ``series``, by description; errors name the file, series and measure."""
    out = {}
    for measure in ("activity", "cost", "unit_cost"):  # activity first: its table number settles duplicates
        pattern = getattr(series, measure)
        hits = [j for j, d in descriptions.items() if re.search(pattern, d)]
        if len(hits) > 1:
            erratum = next((e for e in ERRATA if e.dataset == dataset and e.series == series.key
                            and e.measure == measure), None)
            texts = {descriptions[j] for j in hits}
            if erratum is not None and len(texts) == 1 and erratum.keep < len(hits):
                hits = [hits[erratum.keep]]
            else:
                # Several versions of a table (e.g. 2.23 and 2.23A) share a description: keep the one whose
                # table number matches the (uniquely matched) activity column's.
                tag = _table_tag(descriptions.get(out.get("activity", -1), ""))
                tagged = [j for j in hits if tag and _table_tag(descriptions[j]) == tag]
                if len(tagged) == 1:
                    hits = tagged
        if len(hits) != 1:
            found = "no column" if not hits else f"{len(hits)} columns ({', '.join(str(j) for j in hits)})"
            raise SchemaError(
                f"{dataset}: {found} matched the {measure.replace('_', ' ')} of '{series.key}' by description "
                f"(pattern {pattern!r}). The column is missing, renamed or duplicated; the loader matches "
                "columns by their description and will not guess by position.")
        out[measure] = hits[0]
    return out


def _table_tag(description: str) -> str | None:
    m = re.search(r"\b2 (\d{1,2}a?)\b", description)
    return m.group(1) if m else None


def parse_pss(grid: pd.DataFrame, dataset: str, year: int) -> pd.DataFrame:
    """One row per council (and England) x series, with published values, markers and rounding."""
    first = grid.iloc[:, 0].astype(str).str.strip()
    is_council = first.str.match(_COUNCIL)
    if not is_council.any():
        raise SchemaError(f"{dataset}: no council rows ('<code>-<name>') found in the first column")
    header_end = int(np.argmax(is_council.to_numpy()))
    england = first.str.lower().isin(["total england", "england"])
    if england.sum() != 1:
        raise SchemaError(f"{dataset}: expected one England total row, found {int(england.sum())}")
    # Row 0 is the title; the header rows between it and the first council carry the descriptions.
    descriptions = {j: normalise(" ".join(grid.iloc[1:header_end, j])) for j in range(1, grid.shape[1])}
    notes = normalise(" ".join(first[~is_council & ~england]))
    annualised = "expressed in the denominators as an annual figure" in notes
    rows = []
    for series in PSS_SERIES:
        cols = _match_columns(descriptions, series, dataset)
        correction = next((c for c in DENOMINATOR_CORRECTIONS if c.dataset == dataset and c.series == series.key),
                          None)
        multiplier = correction.multiplier if correction else (52.0 if series.clients_per_week and not annualised
                                                               else 1.0)
        for i in np.flatnonzero((is_council | england).to_numpy()):
            if england.iat[i]:
                code, name, geography = "ENG", "England", "England"
            else:
                code, name = _COUNCIL.match(first.iat[i]).groups()
                geography = "council"
            rows.append(_row(dataset, year, "PSS-EX1", geography, code, name, series, "all", multiplier,
                             grid.iat[i, cols["cost"]], grid.iat[i, cols["activity"]], grid.iat[i, cols["unit_cost"]],
                             people_count=series.clients_per_week))
    return pd.DataFrame(rows)


def _row(dataset, year, collection, geography, code, name, series: Series, support_reason, multiplier,
         cost_text, activity_text, unit_text, *, people_count: bool) -> dict:
    cost, cost_marker, cost_half = parse_value(cost_text)
    activity, activity_marker, activity_half = parse_value(activity_text)
    unit, unit_marker, unit_half = parse_value(unit_text)
    if people_count and activity_marker is None and activity_half == 0.5:
        activity_half = 2.5  # "numbers of people are rounded to the nearest 5" (file footnote)
    return {
        "dataset": dataset, "year": int(year), "collection": collection, "geography": geography,
        "dh_code": code, "council_published": name, "service": series.service, "client_group": series.client_group,
        "support_reason": support_reason, "provider": series.provider, "activity_unit": series.activity_unit,
        "cost_gbp_thousands": cost, "cost_rounding": cost_half,
        "activity_published": activity, "activity_multiplier": float(multiplier),
        "activity": activity * multiplier, "activity_rounding": activity_half * multiplier,
        "unit_cost_published": unit, "unit_cost_rounding": unit_half,
        "marker": cost_marker or activity_marker or unit_marker,
    }


def parse_ascfr(grid: pd.DataFrame, dataset: str = ASCFR_DATASET, year: int = ASCFR_YEAR) -> pd.DataFrame:
    """ASC-FR 2014-15: long-term residential care, own provision and provision by others, by age and
    primary support reason (rows), one column per council (header row matched by its labels)."""
    labels = {"support type", "age category", "primary support reason", "service delivery mechanism",
              "unit cost category", "unit cost provision"}
    header_row = next((i for i in range(min(10, len(grid)))
                       if labels <= {normalise(c) for c in grid.iloc[i]}), None)
    if header_row is None:
        raise SchemaError(f"{dataset}: no header row with the columns {sorted(labels)}")
    header = [normalise(c) for c in grid.iloc[header_row]]
    col = {name: header.index(name) for name in labels}
    council_cols = {j: _COUNCIL.match(grid.iat[header_row, j]).groups() for j in range(grid.shape[1])
                    if _COUNCIL.match(str(grid.iat[header_row, j]))}
    england_cols = [j for j in range(grid.shape[1]) if header[j] == "england"]
    if len(council_cols) < 100 or len(england_cols) != 1:
        raise SchemaError(f"{dataset}: expected about 150 council columns and one England column, found "
                          f"{len(council_cols)} and {len(england_cols)}")
    body = grid.iloc[header_row + 1:]
    body = body[body.iloc[:, col["unit cost category"]].str.strip().ne("")]
    wanted = body[body.iloc[:, col["support type"]].str.strip().eq("Long term")
                  & body.iloc[:, col["service delivery mechanism"]].str.strip().eq("Residential")
                  & body.iloc[:, col["unit cost provision"]].str.strip().isin(_ASCFR_PROVIDERS)]
    rows = []
    for keys, part in wanted.groupby([wanted.iloc[:, col["age category"]].str.strip(),
                                      wanted.iloc[:, col["primary support reason"]].str.strip(),
                                      wanted.iloc[:, col["unit cost provision"]].str.strip()], sort=False):
        age, reason, provision = keys
        group = _ASCFR_GROUPS.get((age, reason)) or _ASCFR_GROUPS.get((age, None))
        if group is None:
            raise SchemaError(f"{dataset}: unknown age category / support reason {age!r} / {reason!r}")
        measures = part.set_index(part.iloc[:, col["unit cost category"]].str.strip())
        missing = {"Numerator", "Denominator", "Unit costs"} - set(measures.index)
        if missing or len(measures) != 3:
            raise SchemaError(f"{dataset}: '{age} / {reason} / {provision}' should have one Numerator, Denominator "
                              f"and Unit costs row; missing {sorted(missing)}")
        series = Series("residential care", group, _ASCFR_PROVIDERS[provision], "", "", "")
        for j in list(council_cols) + england_cols:
            code, name = council_cols.get(j, ("ENG", "England"))
            rows.append(_row(dataset, year, "ASC-FR", "England" if code == "ENG" else "council", code, name,
                             series, reason, 1.0, measures.at["Numerator", j], measures.at["Denominator", j],
                             measures.at["Unit costs", j], people_count=False))
    if not rows:
        raise SchemaError(f"{dataset}: no long-term residential own-provision / provision-by-others rows found")
    return pd.DataFrame(rows)


# --- Checks ------------------------------------------------------------------------------------

def check_unit_costs(df: pd.DataFrame) -> None:
    """Published unit cost = cost / activity within the published rounding, or SchemaError."""
    has = (df["cost_gbp_thousands"].notna() & df["activity"].notna() & df["unit_cost_published"].notna()
           & (df["activity"] > 0))
    d = df[has]
    low_activity = (d["activity"] + d["activity_rounding"])
    high_activity = (d["activity"] - d["activity_rounding"]).clip(lower=1e-9)
    lo = (d["cost_gbp_thousands"] - d["cost_rounding"]).clip(lower=0) * 1000 / low_activity
    hi = (d["cost_gbp_thousands"] + d["cost_rounding"]) * 1000 / high_activity
    bad = d[(d["unit_cost_published"] + d["unit_cost_rounding"] < lo)
            | (d["unit_cost_published"] - d["unit_cost_rounding"] > hi)]
    if len(bad):
        first = bad.iloc[0]
        examples = bad.head(5)[["dataset", "council_published", "service", "client_group", "provider",
                                "cost_gbp_thousands", "activity", "unit_cost_published"]].to_string(index=False)
        raise SchemaError(
            f"{first['dataset']} ({_fy(first['year'])}): {len(bad)} published unit cost(s) differ from cost / activity "
            f"by more than the published rounding, first in '{first['service']} | {first['client_group']} | "
            f"{first['provider']}':\n{examples}")


def reconcile_england(df: pd.DataFrame) -> pd.DataFrame:
    """England row against the sum of council rows, for every file, series and measure.

    Returns one row per (dataset, year, service, client group, support reason, provider, measure)
    with the published England value, the council sum, the tolerance, the number of councils
    missing and a status; raises SchemaError when a total does not reconcile by the rules in the
    module docstring.
    """
    keys = ["dataset", "year", "collection", "service", "client_group", "support_reason", "provider"]
    out = []
    problems = []
    for key, part in df.groupby(keys, sort=False):
        info = dict(zip(keys, key))
        england = part[part["geography"] == "England"]
        councils = part[part["geography"] == "council"]
        if len(england) != 1:
            problems.append(f"{info['dataset']}: {len(england)} England rows for {info['service']} | "
                            f"{info['client_group']} | {info['provider']}")
            continue
        e = england.iloc[0]
        for measure, value, rounding in (("cost", "cost_gbp_thousands", "cost_rounding"),
                                         ("activity", "activity", "activity_rounding")):
            series_key = f"{info['service']} | {info['client_group']} | {info['provider']}"
            known = next((k for k in KNOWN_DISCREPANCIES if k.dataset == info["dataset"] and k.series == series_key
                          and k.support_reason == info["support_reason"] and k.measure == measure), None)
            if info["collection"] == "ASC-FR":
                # File note: England sums councils where both numerator and denominator are non-zero.
                included = (councils["cost_gbp_thousands"] > 0) & (councils["activity"] > 0)
                if known:
                    included |= councils["dh_code"].isin(known.also_includes)
            else:
                included = councils[value].notna()
            values = councils.loc[included, value]
            total = float(values.sum())
            tolerance = float(councils.loc[included, rounding].sum() + (e[rounding] if pd.notna(e[rounding]) else 0))
            missing = int(councils[value].isna().sum())
            largest = float(councils[value].max()) if councils[value].notna().any() else 0.0
            diff = float(e[value] - total) if pd.notna(e[value]) else np.nan
            if np.isnan(diff):
                status = "England not published"
            elif abs(diff) <= tolerance:
                named = councils.loc[councils["dh_code"].isin(known.also_includes),
                                     "council_published"] if known else []
                status = "reconciles" + (f" (England also includes {', '.join(n.strip() for n in named)}: "
                                         "documented discrepancy)" if known else "")
            elif info["collection"] == "PSS-EX1" and missing and -tolerance <= diff <= missing * largest + tolerance:
                status = f"England includes the publisher's estimate for {missing} missing council(s)"
            else:
                status = "does not reconcile"
                problems.append(
                    f"{info['dataset']} ({_fy(info['year'])}), {series_key}"
                    + (f" ({info['support_reason']})" if info["support_reason"] != "all" else "")
                    + f", {measure}: England {e[value]:,.2f} vs council sum {total:,.2f} (difference {diff:,.2f}, "
                    f"rounding tolerance {tolerance:,.2f}, {missing} council(s) missing)")
            out.append({**info, "measure": measure, "england": float(e[value]), "council_sum": total,
                        "difference": diff, "tolerance": tolerance, "councils_reporting": int(values.notna().sum()),
                        "councils_missing": missing, "status": status})
    if problems:
        raise SchemaError("England totals do not reconcile with the sum of council rows within the published "
                          "rounding:\n" + "\n".join(problems[:10]))
    return pd.DataFrame(out)


def _fy(year: int) -> str:
    return f"{int(year) - 1}-{str(int(year))[-2:]}"


# --- Councils: ONS codes -----------------------------------------------------------------------

def _names_agree(a: str, b: str, *, strict: bool = False) -> bool:
    """Two spellings of one council ('Bath & NE Somerset' / 'Bath and North East Somerset').

    With ``strict`` (matching by name alone, no code to back it) the join keys must be equal.
    """
    ka, kb = council_key(a), council_key(b)
    if not (ka and kb):
        return False
    if strict:
        return ka == kb
    return ka in kb or kb in ka or difflib.SequenceMatcher(None, ka, kb).ratio() >= 0.6


def assign_ons_codes(df: pd.DataFrame, lookup: pd.DataFrame) -> pd.DataFrame:
    """Add ``council``, ``ons_code`` and ``successor_ons_codes`` (see the module docstring for the rules)."""
    coded = lookup.dropna(subset=["cassr_code"]).drop_duplicates("cassr_code").set_index("cassr_code")
    earliest = lookup.sort_values(["first_year", "ons_code"]).drop_duplicates("council_key").set_index("council_key")
    mapping = {}
    failures = []
    pairs = df.loc[df["geography"] == "council", ["dh_code", "council_published"]].drop_duplicates()
    for code, published in pairs.itertuples(index=False):
        name = normalise_council_name(f"{code}-{published}") or published.strip()
        row = None
        if code in coded.index and _names_agree(name, coded.at[code, "council"]):
            row = coded.loc[code]
        else:
            candidates = lookup[[_names_agree(name, c, strict=True) for c in lookup["council"]]]
            if candidates["council_key"].nunique() == 1:
                row = candidates.iloc[0]
        if row is not None:
            chosen = earliest.loc[row["council_key"]]  # the council as it stood before any later reorganisation
            mapping[(code, published)] = (chosen["council"], chosen["ons_code"], None)
        elif council_key(name) in PREDECESSORS_2009:
            successors = [lookup.loc[lookup["council_key"] == council_key(s), "ons_code"] for s in
                          PREDECESSORS_2009[council_key(name)]]
            if any(s.empty for s in successors):
                failures.append(f"{code}-{published} (successor councils not found)")
                continue
            mapping[(code, published)] = (name, None, ";".join(s.iloc[0] for s in successors))
        else:
            failures.append(f"{code}-{published}")
    if failures:
        raise SchemaError(f"No ONS code for council(s) {', '.join(failures)}: the CASSR code is not in the official "
                          "ASCOF 2020-21 file and the name matches no council in the ASCOF series.")
    codes: dict[str, set[str]] = {}
    for (code, _), (_, ons, _) in mapping.items():
        if ons:
            codes.setdefault(ons, set()).add(code)
    clashes = {ons: sorted(dh) for ons, dh in codes.items() if len(dh) > 1}
    if clashes:
        raise SchemaError(f"One ONS code was matched to several DH council codes: {clashes}")
    out = df.copy()
    keys = list(zip(out["dh_code"], out["council_published"]))
    out["council"] = [mapping[k][0] if k in mapping else "England" for k in keys]
    out["ons_code"] = [mapping[k][1] if k in mapping else ENGLAND_ONS_CODE for k in keys]
    out["successor_ons_codes"] = [mapping[k][2] if k in mapping else None for k in keys]
    return out


# --- Deflators ---------------------------------------------------------------------------------

def tidy_deflators(grid: pd.DataFrame) -> pd.DataFrame:
    """HM Treasury GDP deflator by financial year (2022-23 = 100), outturn years only.

    The financial-year columns are found by their header ('Financial year', '2022-23 = 100'),
    not by position.
    """
    header_rows = grid.head(12)
    fy_col = next((j for j in range(grid.shape[1]) if any(normalise(v) == "financial year"
                                                         for v in header_rows.iloc[:, j])), None)
    index_col = next((j for j in range(grid.shape[1]) if any(re.fullmatch(r"\d{4}-\d{2} = 100", str(v).strip())
                                                            for v in header_rows.iloc[:, j])), None)
    if fy_col is None or index_col is None or index_col <= fy_col:
        raise SchemaError("GDP deflator file: no 'Financial year' column with a '<year> = 100' index beside it")
    base = next(str(v).strip() for v in header_rows.iloc[:, index_col] if re.fullmatch(r"\d{4}-\d{2} = 100",
                                                                                         str(v).strip()))
    rows = []
    for fy, value in zip(grid.iloc[:, fy_col], grid.iloc[:, index_col]):
        fy = str(fy).strip()
        if re.fullmatch(r"\d{4}-\d{2}", fy) and re.fullmatch(r"[\d.]+", str(value).strip()):
            rows.append({"financial_year": fy, "year": int(fy[:4]) + 1, "gdp_deflator": float(value),
                         "index_base": base.replace(" = 100", "")})
    out = pd.DataFrame(rows)
    if out.empty or not {"2008-09", "2014-15"} <= set(out["financial_year"]):
        raise SchemaError("GDP deflator file: the financial years 2008-09 to 2014-15 are not all present")
    return out


DEFLATORS_SCHEMA = pa.DataFrameSchema(
    {
        "financial_year": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}$"), unique=True),
        "year": pa.Column("int64", pa.Check.in_range(1950, 2030), unique=True),
        "gdp_deflator": pa.Column(float, pa.Check.gt(0)),
        "index_base": pa.Column(str),
    },
    strict=True,
)


def financial_year(year: int) -> str:
    """2014 -> '2013-14' (the tables' years are financial years, labelled here by the year they end)."""
    return _fy(year)


def rebase(df: pd.DataFrame, deflators: pd.DataFrame, base: str) -> pd.DataFrame:
    """Real-terms columns at ``base`` prices (a financial year such as '2013-14')."""
    index = deflators.set_index("financial_year")["gdp_deflator"]
    if base not in index:
        raise SchemaError(f"No GDP deflator for the price base {base!r}; available {index.index.min()} to "
                          f"{index.index.max()}")
    by_year = deflators.set_index("year")["gdp_deflator"]
    factor = index[base] / df["year"].map(by_year)
    out = df.copy()
    out["unit_cost_real"] = out["unit_cost"] * factor
    out["cost_real_gbp_thousands"] = out["cost_gbp_thousands"] * factor
    out["price_base"] = base
    return out


# --- The tidy table ----------------------------------------------------------------------------

def tidy_unit_costs(pss_grids: dict[int, pd.DataFrame], ascfr_grid: pd.DataFrame, deflator_grid: pd.DataFrame,
                    lookup: pd.DataFrame) -> pd.DataFrame:
    """The ``unit_costs`` table: every council (and England), year, service, client group and provider.

    Checks (1) and (2) of the module docstring run here (the reconciliation is also a table of its
    own, ``unit_costs_reconciliation``).
    """
    parts = [parse_pss(grid, PSS_DATASETS[year], year) for year, grid in sorted(pss_grids.items())]
    parts.append(parse_ascfr(ascfr_grid))
    df = pd.concat(parts, ignore_index=True)
    check_unit_costs(df)
    reconcile_england(df)
    df = assign_ons_codes(df, lookup)
    usable = (df["cost_gbp_thousands"] > 0) & (df["activity"] > 0)
    # A unit cost needs a positive cost and a positive activity: a zero cost with activity (or the
    # reverse) is a reporting gap, not a free (or infinitely dear) service.
    df["unit_cost"] = np.where(usable, df["cost_gbp_thousands"] * 1000 / df["activity"].where(usable), np.nan)
    deflators = tidy_deflators(deflator_grid)
    df = rebase(df, deflators, DEFAULT_PRICE_BASE)
    df["gdp_deflator"] = df["year"].map(deflators.set_index("year")["gdp_deflator"])
    df["financial_year"] = df["year"].map(_fy)
    columns = ["year", "financial_year", "collection", "geography", "dh_code", "ons_code", "council",
               "successor_ons_codes", "service", "client_group", "support_reason", "provider",
               "cost_gbp_thousands", "activity", "activity_unit", "unit_cost_published", "unit_cost",
               "cost_real_gbp_thousands", "unit_cost_real", "price_base", "gdp_deflator", "marker",
               "activity_published", "activity_multiplier", "cost_rounding", "activity_rounding", "dataset"]
    out = df[columns].sort_values(["year", "service", "client_group", "support_reason", "provider", "geography",
                                   "dh_code"]).reset_index(drop=True)
    return out


def tidy_reconciliation(pss_grids: dict[int, pd.DataFrame], ascfr_grid: pd.DataFrame) -> pd.DataFrame:
    """The England-against-councils reconciliation as a table of its own (one row per file, series, measure)."""
    parts = [parse_pss(grid, PSS_DATASETS[year], year) for year, grid in sorted(pss_grids.items())]
    parts.append(parse_ascfr(ascfr_grid))
    return reconcile_england(pd.concat(parts, ignore_index=True))


UNIT_COSTS_SCHEMA = pa.DataFrameSchema(
    {
        "year": pa.Column("int64", pa.Check.in_range(2009, 2015)),
        "financial_year": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}$")),
        "collection": pa.Column(str, pa.Check.isin(["PSS-EX1", "ASC-FR"])),
        "geography": pa.Column(str, pa.Check.isin(["council", "England"])),
        "dh_code": pa.Column(str, pa.Check.str_matches(r"^(\d{3}|ENG)$")),
        "ons_code": pa.Column(str, pa.Check.str_matches(r"^E\d{8}$"), nullable=True),
        "council": pa.Column(str),
        "successor_ons_codes": pa.Column(str, nullable=True),
        "service": pa.Column(str, pa.Check.isin(list(SERVICES))),
        "client_group": pa.Column(str),
        "support_reason": pa.Column(str),
        "provider": pa.Column(str, pa.Check.isin(list(PROVIDERS))),
        "cost_gbp_thousands": pa.Column(float, nullable=True),
        "activity": pa.Column(float, pa.Check.ge(0), nullable=True),
        "activity_unit": pa.Column(str, pa.Check.isin(list(ACTIVITY_UNITS.values()))),
        "unit_cost_published": pa.Column(float, pa.Check.ge(0), nullable=True),
        "unit_cost": pa.Column(float, pa.Check.gt(0), nullable=True),
        "cost_real_gbp_thousands": pa.Column(float, nullable=True),
        "unit_cost_real": pa.Column(float, pa.Check.gt(0), nullable=True),
        "price_base": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}$")),
        "gdp_deflator": pa.Column(float, pa.Check.gt(0)),
        "marker": pa.Column(str, pa.Check.isin(sorted(set(MARKERS.values()))), nullable=True),
        "activity_published": pa.Column(float, nullable=True),
        "activity_multiplier": pa.Column(float, pa.Check.isin([1.0, 52.0])),
        "cost_rounding": pa.Column(float, pa.Check.gt(0), nullable=True),
        "activity_rounding": pa.Column(float, pa.Check.gt(0), nullable=True),
        "dataset": pa.Column(str),
    },
    checks=[
        # Every council row has an ONS code unless it is a 2009 predecessor with named successors.
        pa.Check(lambda d: (d["ons_code"].notna() | d["successor_ons_codes"].notna()).all(),
                 error="a council row has neither an ONS code nor successor codes"),
        # A few councils publish small negative costs (credits) with no activity; never with activity.
        pa.Check(lambda d: ~((d["cost_gbp_thousands"] < 0) & (d["activity"] > 0)).any(),
                 error="a negative cost with positive activity"),
        # Markers are missing values, never zeros.
        pa.Check(lambda d: (d["marker"].isna() | d["cost_gbp_thousands"].isna() | d["activity"].isna()
                            | d["unit_cost_published"].isna()).all(),
                 error="a row with a marker has all three numbers"),
    ],
    strict=True,
    unique=["year", "geography", "dh_code", "service", "client_group", "support_reason", "provider"],
)


RECONCILIATION_SCHEMA = pa.DataFrameSchema(
    {
        "dataset": pa.Column(str),
        "year": pa.Column("int64"),
        "collection": pa.Column(str),
        "service": pa.Column(str),
        "client_group": pa.Column(str),
        "support_reason": pa.Column(str),
        "provider": pa.Column(str),
        "measure": pa.Column(str, pa.Check.isin(["cost", "activity"])),
        "england": pa.Column(float, nullable=True),
        "council_sum": pa.Column(float),
        "difference": pa.Column(float, nullable=True),
        "tolerance": pa.Column(float, pa.Check.ge(0)),
        "councils_reporting": pa.Column("int64"),
        "councils_missing": pa.Column("int64"),
        "status": pa.Column(str, pa.Check(lambda s: s.str.startswith(("reconciles", "England")),
                                          error="a total that does not reconcile")),
    },
    strict=True,
)
