"""One council's profile: its ASCOF measures against England and councils of the same type, year by year.

The ``council_profile`` notebook renders this for one council; ``python -m analysis councils`` writes a
manifest of every current council and ``make council-reports`` renders them all as a batch. A council's
values are published without margins of error, so the profile places the council (England, the median
and middle half of its peers, its rank among all councils) rather than testing differences.

**What is computed once.** Everything that is the same for every council is prepared once per process
by :func:`prepared_panel` (cached with ``functools.lru_cache``): the council values of the chosen
measures and years with each council's rank among all councils, England's series, which councils
are of which type, and which measure-years are a national gap (most councils did not report, as in
the voluntary 2020-21 survey). A warm kernel rendering a batch of councils re-uses it; each report
then only picks out its council, its peers' median and quartiles (peers exclude the council itself,
so the statistics are the council's own comparison group) and its gaps.

**What the findings say.** The council's biggest change over the period (its change against the spread of
its peers' values) leads, with a line when it was one of the 13 IBSEN pilot councils (evidence register PB-048).
Outcome measures are ranked in ASCOF's direction of better, ties shown as joint; the administrative shares
(direct payments, self-directed support) are placed by size ("135th highest of 152"), never called best or worst
nor counted in the best/worst-quarter summary. Each survey measure's caveat is in its own unit and lists its ranks
year by year. A move larger than :data:`BREAK_THRESHOLDS` in the year ASCOF changed its framework and codes is
flagged as a possible recording change, with how many councils moved as far that year and before.

Peers are councils of the same type in the Oflog council-types table; a council that post-dates the
table (it did not exist when the table was made) is compared with all councils, and says so.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.budgets.councils import SURVEY_CONCEPTS
from analysis.data.ascof import CONCEPTS_BY_KEY
from analysis.errors import InputError
from analysis.precision import fmt

DEFAULT_MEASURES = ("dp_users", "sds_users", "control_daily_life", "satisfaction_users", "scrqol")
NATIONAL_GAP_SHARE = 0.5  # a measure-year with fewer than this share of active councils reporting is a national gap
ADMINISTRATIVE_SHARES = frozenset({"dp_users", "sds_users", "dp_carers", "sds_carers"})
"""Shares that say how support is arranged, not whether people are better off: a council is placed by size on them
("40th highest of 152"), never ranked as better or worse, and they are left out of the best/worst-quarter count."""
BREAK_THRESHOLDS = {"percent": 10.0, "score": 1.0}
"""A council's year-on-year move larger than this (percentage points; points on a score) in the year ASCOF changed
its framework and codes (:data:`analysis.data.ascof.NEW_FRAMEWORK_FROM`) is flagged as a possible recording change."""


@dataclass(frozen=True)
class PreparedPanel:
    """What every council's profile shares (see the module docstring)."""

    measures: tuple[str, ...]
    years: tuple[int, int]
    councils: pd.DataFrame  # concept, year_end, area_code, value, rank (1 = best), of: every council row
    england: pd.DataFrame  # concept, year_end, england
    groups: tuple[tuple[str, int], ...]  # every (concept, year_end) with data, in order
    national_gaps: frozenset[tuple[str, int]]  # (concept, year_end) most councils lack
    lookup: pd.DataFrame  # indexed by ons_code: council, first_year, last_year
    council_types: pd.Series | None  # ons_code -> council type (None: no types table)
    ibsen_pilots: frozenset[str] = frozenset()  # ONS codes of the 13 IBSEN pilot councils (evidence register PB-048)

    def peers_of(self, code: str) -> tuple[str | None, set[str]]:
        """The council's type and the codes of councils of that type (all councils if it has no type)."""
        council_type = None if self.council_types is None else self.council_types.get(code)
        if council_type is None:
            return None, set(self.lookup.index)
        return council_type, set(self.council_types[self.council_types == council_type].index)


@dataclass
class CouncilProfile:
    code: str
    name: str
    council_type: str | None
    table: pd.DataFrame  # concept, label, year_end, council, england, peer_median, peer_q1, peer_q3, peers, rank, of
    gaps: list[str] = field(default_factory=list)  # "no data" statements: measure and years the council lacks
    tied: dict[tuple[str, int], int] = field(default_factory=dict)  # (concept, year): councils sharing its value
    breaks: dict[str, str] = field(default_factory=dict)  # concept -> the possible-recording-change flag
    ibsen_pilot: bool = False  # one of the 13 councils that piloted individual budgets (PB-048)


def prepare(ascof: pd.DataFrame, lookup: pd.DataFrame, types: pd.DataFrame | None, measures: tuple[str, ...],
            years: tuple[int, int], ibsen_pilots: frozenset[str] = frozenset()) -> PreparedPanel:
    """Build the shared part of every profile from the tidy tables (uncached; see :func:`prepared_panel`)."""
    unknown = sorted(set(measures) - set(CONCEPTS_BY_KEY))
    if unknown:
        raise InputError(f"Unknown ASCOF measures {unknown}; choose from {sorted(CONCEPTS_BY_KEY)}")
    df = ascof[ascof["concept"].isin(measures) & ascof["year_end"].between(*years)]
    groups = tuple(sorted({(str(c), int(y)) for c, y in zip(df["concept"], df["year_end"])}))
    councils = df.loc[df["geography_level"] == "council", ["concept", "year_end", "area_code", "value"]].copy()
    higher_is_better = councils["concept"].map(lambda c: CONCEPTS_BY_KEY[c].higher_is_better)
    # Rank 1 = best in the direction ASCOF counts as better; ties share the best rank; missing values are not ranked.
    signed = councils["value"].where(higher_is_better, -councils["value"])
    councils["rank"] = signed.groupby([councils["concept"], councils["year_end"]]).rank(ascending=False, method="min")
    councils["of"] = councils.groupby(["concept", "year_end"])["value"].transform("size")
    councils["tied"] = councils.groupby(["concept", "year_end", "value"])["value"].transform("size")
    # The move from the council's value in the year before (NaN when that year is missing).
    councils = councils.sort_values(["concept", "area_code", "year_end"])
    previous = councils.groupby(["concept", "area_code"])[["year_end", "value"]].shift(1)
    councils["change"] = (councils["value"] - previous["value"]).where(previous["year_end"] == councils["year_end"] - 1)
    england = (df[df["geography_level"] == "england"].groupby(["concept", "year_end"])["value"].first()
               .rename("england").reset_index())
    reporting = councils.dropna(subset=["value"]).groupby(["concept", "year_end"]).size()
    national_gaps = set()
    for concept, year in groups:
        active = int(((lookup["first_year"] <= year) & (lookup["last_year"] >= year)).sum())
        if reporting.get((concept, year), 0) < NATIONAL_GAP_SHARE * active:
            national_gaps.add((concept, year))
    council_types = None if types is None else types.set_index("ons_code")["council_type"]
    return PreparedPanel(tuple(measures), tuple(years), councils.reset_index(drop=True), england, groups,
                         frozenset(national_gaps), lookup.set_index("ons_code"), council_types, frozenset(ibsen_pilots))


@functools.lru_cache(maxsize=8)
def prepared_panel(measures: tuple[str, ...] = DEFAULT_MEASURES,
                   years: tuple[int, int] = (2018, 2024)) -> PreparedPanel:
    """The shared part of every profile for these measures and years, prepared once per process.

    Reads the cached tidy tables (``ascof``, ``council_lookup``, ``council_types``). Callers must not
    modify what it returns (it is shared by every report the process renders).
    """
    from analysis import data
    from analysis.budgets.councils import pilot_codes

    lookup = data.load("council_lookup")
    figures = data.load_figures()
    names = [n.strip() for n in str(figures.set_index("id").loc["PB-048", "group"]).split(";")]
    return prepare(data.load("ascof"), lookup, data.load("council_types"), tuple(measures), tuple(years),
                   frozenset(pilot_codes(lookup, names)))


def council_profile(panel: PreparedPanel, code: str) -> CouncilProfile:
    """A council's measures against England and its peers, year by year (InputError for an unknown code)."""
    if code not in panel.lookup.index:
        close = difflib.get_close_matches(code, list(panel.lookup.index), n=3, cutoff=0.75)
        named = ", ".join(f"{c} ({panel.lookup.loc[c, 'council']})" for c in close)
        raise InputError(f"Unknown council code {code!r}: not an ASCOF council (ONS codes like E08000016; "
                         "`python -m analysis councils` lists every current council)."
                         + (f" Similar codes: {named}" if close else ""))
    name = str(panel.lookup.loc[code, "council"])
    council_type, peers = panel.peers_of(code)
    rows_all = panel.councils
    own_rows = rows_all[rows_all["area_code"] == code]
    own = own_rows.dropna(subset=["value"]).drop_duplicates(["concept", "year_end"]).set_index(["concept", "year_end"])
    rank = own_rows.drop_duplicates(["concept", "year_end"]).set_index(["concept", "year_end"])
    peer_rows = rows_all[rows_all["area_code"].isin(peers) & (rows_all["area_code"] != code)]
    grouped = peer_rows.groupby(["concept", "year_end"])["value"]
    peer_stats = pd.DataFrame({"peer_median": grouped.median(), "peer_q1": grouped.quantile(0.25),
                               "peer_q3": grouped.quantile(0.75), "peers": grouped.size()})
    england = panel.england.set_index(["concept", "year_end"])["england"]
    rows, missing = [], {}
    for concept, year in panel.groups:
        key = (concept, year)
        if key not in own.index:
            if key not in panel.national_gaps:
                missing.setdefault(concept, []).append(year)
            continue
        stats = peer_stats.loc[key] if key in peer_stats.index else None
        rows.append({"concept": concept, "label": CONCEPTS_BY_KEY[concept].label, "year_end": year,
                     "council": float(own.loc[key, "value"]), "england": float(england.get(key, np.nan)),
                     "peer_median": np.nan if stats is None else stats["peer_median"],
                     "peer_q1": np.nan if stats is None else stats["peer_q1"],
                     "peer_q3": np.nan if stats is None else stats["peer_q3"],
                     "peers": 0 if stats is None else int(stats["peers"]),
                     "rank": int(rank.loc[key, "rank"]), "of": int(rank.loc[key, "of"])})
    if not rows:
        raise InputError(f"No ASCOF values for council {code} in {panel.years}")
    tied = {key: int(rank.loc[key, "tied"]) for key in rank.index if np.isfinite(rank.loc[key, "value"])}
    pilot = code in panel.ibsen_pilots
    if pilot:
        from analysis import data
        from analysis.data.evidence import evidence_rows

        evidence_rows(data.load_figures(), ["PB-048"])  # cited by the pilot line of the key findings
    return CouncilProfile(code, name, council_type, pd.DataFrame(rows), _gaps(panel, code, name, council_type, missing),
                          tied, _breaks(panel, code, name), pilot)


def framework_movers(panel: PreparedPanel, concept: str) -> pd.DataFrame:
    """For each year, how many councils' values of ``concept`` fell, and rose, by more than the break threshold
    since the year before (year_end, fell, rose, threshold)."""
    threshold = BREAK_THRESHOLDS.get(CONCEPTS_BY_KEY[concept].unit)
    c = panel.councils[(panel.councils["concept"] == concept) & panel.councils["change"].notna()]
    if threshold is None or c.empty:
        return pd.DataFrame(columns=["year_end", "fell", "rose", "threshold"])
    out = c.groupby("year_end")["change"].agg(fell=lambda s: int((s < -threshold).sum()),
                                              rose=lambda s: int((s > threshold).sum())).reset_index()
    return out.assign(threshold=threshold)


_NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def movers_text(movers: pd.DataFrame, year: int, column: str, subject: str, unit: str = "percent") -> str:
    """'9 councils' values fell by more than 10 percentage points that year, against 4 to 10 councils a year in the
    five years before', from :func:`framework_movers` ('' when ``year`` or the years before it are missing)."""
    movers = movers.set_index("year_end")
    before = movers.loc[movers.index < year, column]
    if year not in movers.index or before.empty:
        return ""
    n, threshold = int(movers.loc[year, column]), float(movers.loc[year, "threshold"])
    span = (f"{int(before.min())}" if before.min() == before.max()
            else f"{int(before.min())} to {int(before.max())}")
    years = _NUMBER_WORDS[len(before)] if len(before) < len(_NUMBER_WORDS) else str(len(before))
    who = "1 council's" if n == 1 else f"{n} councils'"
    unit_words = "percentage points" if unit == "percent" else "points"
    return (f"{who} {subject} {column} by more than {threshold:g} {unit_words} that year, against {span} councils a "
            f"year in the {years} years before")


def framework_change_note(concept: str, years: tuple[int, int] = (2018, 2024),
                          panel: PreparedPanel | None = None) -> str | None:
    """The caveat for an England figure of ``concept`` in the year ASCOF changed its framework and measure codes:
    that it is the first year of the new codes, how many councils' values fell by more than the break threshold that
    year against the years before (:func:`framework_movers`), and England's value the year before. None when
    ``years`` do not reach that year or the measure has no threshold. ``panel`` defaults to one prepared from the
    ASCOF table and the council lookup alone (council types are not needed to count movers)."""
    from analysis.data.ascof import NEW_FRAMEWORK_FROM

    year = NEW_FRAMEWORK_FROM
    if not years[0] < year <= years[1]:
        return None
    if panel is None:
        from analysis import data

        panel = prepare(data.load("ascof"), data.load("council_lookup"), None, (concept,), tuple(years), frozenset())
    movers = framework_movers(panel, concept)
    short = SHORT_LABELS.get(concept, CONCEPTS_BY_KEY[concept].label).split(" (")[0]
    counts = movers_text(movers, year, "fell", short[0].lower() + short[1:], CONCEPTS_BY_KEY[concept].unit)
    england = panel.england.set_index(["concept", "year_end"])["england"]
    if not counts or (concept, year - 1) not in england.index:
        return None
    c = CONCEPTS_BY_KEY[concept]
    share = "share" if c.unit == "percent" else "score"
    return (f"{period(year)} is the first year of ASCOF's new measure codes ({c.old_code} became {c.new_code}); "
            f"{counts}; in {period(year - 1)} England's {share} was {_value(concept, england[(concept, year - 1)])}")


def _breaks(panel: PreparedPanel, code: str, name: str) -> dict[str, str]:
    """Each measure on which the council moved by more than the threshold in the year ASCOF changed its framework
    and codes, with how many councils moved as far that year and in each year before, and the lowest values
    that year: a possible recording change, to check before quoting."""
    from analysis.data.ascof import NEW_FRAMEWORK_FROM

    year = NEW_FRAMEWORK_FROM
    out = {}
    own = panel.councils[(panel.councils["area_code"] == code) & (panel.councils["year_end"] == year)]
    for r in own.itertuples():
        threshold = BREAK_THRESHOLDS.get(CONCEPTS_BY_KEY[r.concept].unit)
        if threshold is None or not np.isfinite(r.change) or abs(r.change) <= threshold:
            continue
        concept = CONCEPTS_BY_KEY[r.concept]
        column = verb = "fell" if r.change < 0 else "rose"
        counts = movers_text(framework_movers(panel, r.concept), year, column, "values", concept.unit)
        counts = f"; {counts}" if counts else ""
        year_rows = panel.councils[(panel.councils["concept"] == r.concept) & (panel.councils["year_end"] == year)]
        lowest = year_rows.nsmallest(2, "value")
        names = panel.lookup["council"]
        extremes = ("; the lowest values that year are " + " and ".join(
            f"{names.get(a, a)}'s {_value(r.concept, v)}" for a, v in zip(lowest["area_code"], lowest["value"]))
            if r.concept in ADMINISTRATIVE_SHARES else "")
        short = SHORT_LABELS.get(r.concept, concept.label).split(" (")[0]
        out[r.concept] = (
            f"Possible data break: {name}'s {short[0].lower()}{short[1:]} {verb} from "
            f"{_value(r.concept, r.value - r.change)} to {_value(r.concept, r.value)} between {period(year - 1)} and "
            f"{period(year)}, the year ASCOF changed its framework and measure codes ({concept.old_code} became "
            f"{concept.new_code}){counts}{extremes}. A possible recording change: check the council's return before "
            "quoting it.")
    return out


def _gaps(panel: PreparedPanel, code: str, name: str, council_type: str | None,
          missing: dict[str, list[int]]) -> list[str]:
    first_year = int(panel.lookup.loc[code, "first_year"])
    gaps = []
    if panel.council_types is not None and council_type is None:
        gaps.append(f"{name} is not in the council-types table (it post-dates it), so its peers are all councils.")
    for concept, missing_years in missing.items():
        before = [y for y in missing_years if y < first_year]
        after = [y for y in missing_years if y >= first_year]
        label = CONCEPTS_BY_KEY[concept].label
        if after:
            gaps.append(f"No data: {name} has no published value for {label.lower()} in "
                        f"{', '.join(f'{y - 1}-{str(y)[-2:]}' for y in after)}, though other councils do.")
        if before:
            gaps.append(f"No data for {label.lower()} before {first_year - 1}-{str(first_year)[-2:]}: "
                        f"{name} did not exist as a council before then.")
    return gaps


# --- The council_profile report ---------------------------------------------------------------------

SOURCE_ASCOF = "NHS England, Adult Social Care Outcomes Framework 2017-18 to 2023-24 (council values)"
NO_MARGIN = "council values are published without margins of error"
SHORT_LABELS = {"dp_users": "Direct payments (% of service users)",
                "sds_users": "Self-directed support (% of service users)",
                "control_daily_life": "Service users with control over their daily life (%)",
                "satisfaction_users": "Service users very or extremely satisfied with their care (%)",
                "scrqol": "Social care-related quality of life (score out of 24)"}


RANK_COLUMN = "Rank (1 = best; on the administrative shares, 1 = highest)"


def period(year_end: int) -> str:
    """2024 -> '2023-24' (ASCOF years end in March)."""
    return f"{int(year_end) - 1}-{str(int(year_end))[-2:]}"


def analyse(params) -> CouncilProfile:
    """The profile for ``params`` (:class:`analysis.budgets.params.CouncilProfileParameters`)."""
    return council_profile(prepared_panel(tuple(params.measures), tuple(params.years)), params.council_code)


def subject(profile: CouncilProfile) -> str:
    """What the report is about: 'Barnsley (E08000016, Metropolitan Districts)'."""
    kind = f", {profile.council_type}" if profile.council_type else ""
    return f"{profile.name} ({profile.code}{kind})"


def _peer_name(profile: CouncilProfile) -> str:
    return f"other {profile.council_type.lower()}" if profile.council_type else "all other councils"


def _latest(profile: CouncilProfile) -> pd.DataFrame:
    """Each measure's latest year, in the order of the measures asked for."""
    t = profile.table
    latest = t.sort_values("year_end").groupby("concept", sort=False).tail(1).set_index("concept")
    order = [c for c in dict.fromkeys(t["concept"])]
    return latest.loc[order].reset_index()


def _value(concept: str, value: float) -> str:
    return fmt(value, "%" if CONCEPTS_BY_KEY[concept].unit == "percent" else "")


def _quarter(rank: int, of: int) -> str:
    share = rank / of
    return ("best quarter" if share <= 0.25 else "worst quarter" if share > 0.75 else
            "second quarter" if share <= 0.5 else "third quarter")


def ordinal(n: int) -> str:
    """1 -> '1st', 2 -> '2nd', 11 -> '11th', 23 -> '23rd'."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def position(profile: CouncilProfile, concept: str, year: int, rank: int, of: int, value: float) -> str:
    """Where the council stands: '40th highest of 152 councils' on an administrative share (placed by size, not
    ranked as better or worse); 'joint 10th of 151 councils (1 = best; 4 councils score 19.7)' on an outcome."""
    tied = profile.tied.get((concept, year), 1)
    same = (f"{tied} councils {'score' if CONCEPTS_BY_KEY[concept].unit != 'percent' else 'have'} "
            f"{_value(concept, value)}")
    if concept in ADMINISTRATIVE_SHARES:
        return (f"{'joint ' if tied > 1 else ''}{ordinal(rank)} highest of {of} councils"
                + (f" ({same})" if tied > 1 else ""))
    return (f"{'joint ' if tied > 1 else ''}{ordinal(rank)} of {of} councils (1 = best"
            + (f"; {same})" if tied > 1 else ")"))


def _position_of(profile: CouncilProfile, concept: str, row: pd.Series) -> str:
    return position(profile, concept, int(row["year_end"]), int(row["rank"]), int(row["of"]), row["council"])


def _rank_history(profile: CouncilProfile, concept: str) -> str:
    t = profile.table[profile.table["concept"] == concept].sort_values("year_end")
    ranks = [str(int(r)) for r in t["rank"]]
    listed = ", ".join(ranks[:-1]) + " and " + ranks[-1] if len(ranks) > 1 else ranks[0]
    return (f"{profile.name}'s ranks on it were {listed} from {period(t['year_end'].iloc[0])} to "
            f"{period(t['year_end'].iloc[-1])}")


def _caveat(profile: CouncilProfile, r) -> str:
    """What a measure's value cannot show, in its own unit: survey percentages move by a point or two from
    sampling alone, a score's peers may span only a few tenths, survey ranks swing from year to year."""
    if r.concept in ADMINISTRATIVE_SHARES:
        return "An administrative share: it says how support is arranged, not whether people are better off."
    if r.concept in SURVEY_CONCEPTS:
        if CONCEPTS_BY_KEY[r.concept].unit == "percent":
            noise = "a difference of a percentage point or two may be sampling noise"
        else:
            spread = (f"the middle half of the {_peer_name(profile)} spans only "
                      f"{fmt(r.peer_q3 - r.peer_q1, places=1)} points on this score, so "
                      if r.peers and np.isfinite(r.peer_q1) else "")
            noise = f"{spread}a difference of a few tenths of a point may be sampling noise"
        return (f"From a sample survey of service users: {noise}; survey ranks can swing from year to year "
                f"({_rank_history(profile, r.concept)}).")
    return "Council values are published without margins of error; a rank places a council, it does not explain it."


def biggest_change(profile: CouncilProfile) -> dict | None:
    """The measure on which the council changed most between its first and latest year, measured against how much
    councils differ (the change divided by the spread of councils' values, the interquartile range of its peers in
    the first year), with the values and positions at both ends."""
    t = profile.table.sort_values("year_end")
    best = None
    for concept, part in t.groupby("concept", sort=False):
        if len(part) < 2:
            continue
        first, last = part.iloc[0], part.iloc[-1]
        spread = first["peer_q3"] - first["peer_q1"]
        if not np.isfinite(spread) or spread <= 0:
            continue
        size = abs(last["council"] - first["council"]) / spread
        if best is None or size > best["size"]:
            best = {"concept": concept, "first": first, "last": last, "size": size}
    return best


def _change_finding(profile: CouncilProfile):
    from analysis.findings import Finding

    change = biggest_change(profile)
    pilot = (f" {profile.name} was one of the 13 councils that piloted individual budgets from 2005 (the IBSEN "
             "evaluation; Department of Health list, evidence register PB-048)." if profile.ibsen_pilot else "")
    if change is None:
        return None
    c, first, last = change["concept"], change["first"], change["last"]
    short = SHORT_LABELS.get(c, CONCEPTS_BY_KEY[c].label).split(" (")[0]
    diff = last["council"] - first["council"]
    places = 1  # the published values (shares and the quality-of-life score) carry one decimal
    england = (f"; England's went from {_value(c, first['england'])} to {_value(c, last['england'])}"
               if np.isfinite(first["england"]) and np.isfinite(last["england"]) else "")
    flag = f" {profile.breaks[c]}" if c in profile.breaks else ""
    threshold = BREAK_THRESHOLDS.get(CONCEPTS_BY_KEY[c].unit)
    series = profile.table[profile.table["concept"] == c].sort_values("year_end")
    consecutive = series["year_end"].diff() == 1
    jumps = int((series["council"].diff().abs()[consecutive] > threshold).sum()) if threshold else 0
    if jumps and not flag:
        flag = (f" Its value moved by more than {threshold:g} "
                f"{'percentage points' if CONCEPTS_BY_KEY[c].unit == 'percent' else 'points'} from one year to the "
                f"next {jumps} time{'s' if jumps > 1 else ''} out of {int(consecutive.sum())}, which may be changes in "
                "how the council records support: check its returns before quoting.")
    text = (f"{profile.name}'s biggest change from {period(first['year_end'])} to {period(last['year_end'])} "
            f"(measured against the spread of its peers' values) was in {short[0].lower()}{short[1:]}: "
            f"{'down' if diff < 0 else 'up'} from {_value(c, first['council'])} to {_value(c, last['council'])}, "
            f"a change of {fmt(round(diff, places), signed=True)} "
            f"{'percentage points' if CONCEPTS_BY_KEY[c].unit == 'percent' else 'points'}{england}. Its position "
            f"went from {_position_of(profile, c, first)} to {_position_of(profile, c, last)}.{flag}{pilot}")
    return Finding("profile_change", text, SOURCE_ASCOF + ("; evidence register PB-048" if pilot else ""),
                   "A change in a council's value can reflect how it records support as well as what it does.",
                   value=float(diff), no_interval_reason=f"a change between two published values; {NO_MARGIN}")


def key_findings(profile: CouncilProfile, order: list[str] | None = None) -> list:
    """The council's biggest change over the period (and whether it piloted individual budgets), where it stands on
    the outcome measures (administrative shares are placed by size, not counted as better or worse), then each
    measure's latest value against England and its peers with its position; no intervals, because council values
    are published without margins of error. At most six: when there are more, the administrative shares share one
    finding."""
    from analysis.findings import Finding

    latest = _latest(profile)
    if order:
        latest = latest.set_index("concept").loc[[c for c in order if c in set(latest["concept"])]].reset_index()
    outcomes = latest[~latest["concept"].isin(ADMINISTRATIVE_SHARES)]
    shares = latest[latest["concept"].isin(ADMINISTRATIVE_SHARES)]
    quarters = [_quarter(int(r.rank), int(r.of)) for r in outcomes.itertuples()]
    best, worst = quarters.count("best quarter"), quarters.count("worst quarter")
    years = sorted(set(latest["year_end"]))
    when = period(years[-1]) if len(years) == 1 else f"{period(years[0])} to {period(years[-1])}"
    share_names = [SHORT_LABELS.get(c, CONCEPTS_BY_KEY[c].label).split(" (")[0].lower() for c in shares["concept"]]
    placed = (f" {' and '.join(share_names).capitalize()} {'are shares' if len(share_names) > 1 else 'is a share'} "
              "of how support is arranged, so they are placed by size, not counted as better or worse."
              if share_names else "")
    findings = []
    change = _change_finding(profile)
    if change is not None:
        findings.append(change)
    if len(outcomes):
        findings.append(Finding(
            "profile_summary",
            f"On its {len(outcomes)} outcome measure{'s' if len(outcomes) != 1 else ''} ({when}), {profile.name} "
            f"ranked in the best quarter of English councils on {best} and in the worst quarter on {worst} (ranks "
            f"use ASCOF's direction of better).{placed}",
            SOURCE_ASCOF, "A rank places a council, it does not explain it, and survey ranks can swing from year to "
            "year.", value=float(best), no_interval_reason=f"a count of measures; {NO_MARGIN}"))
    per_measure = []
    for r in latest.itertuples():
        peers = (f"a median of {_value(r.concept, r.peer_median)} (middle half {_value(r.concept, r.peer_q1)} to "
                 f"{_value(r.concept, r.peer_q3)}) among the {int(r.peers)} {_peer_name(profile)}"
                 if r.peers and np.isfinite(r.peer_median) else f"no {_peer_name(profile)} to compare")
        flag = f" {profile.breaks[r.concept]}" if r.concept in profile.breaks else ""
        per_measure.append(Finding(
            f"profile_{r.concept}",
            f"{SHORT_LABELS.get(r.concept, CONCEPTS_BY_KEY[r.concept].label)}, {period(r.year_end)}: "
            f"{profile.name} {_value(r.concept, r.council)}, England {_value(r.concept, r.england)}, {peers}; "
            f"{position(profile, r.concept, int(r.year_end), int(r.rank), int(r.of), r.council)}.{flag}",
            SOURCE_ASCOF, _caveat(profile, r), value=float(r.council), no_interval_reason=NO_MARGIN))
    if len(findings) + len(per_measure) > 6 and len(shares) > 1:
        merged = [f for f in per_measure if f.key.removeprefix("profile_") in set(shares["concept"])]
        rest = [f for f in per_measure if f not in merged]
        first = merged[0]
        per_measure = [Finding(
            "profile_shares", "How support is arranged. " + " ".join(f.text for f in merged), SOURCE_ASCOF,
            "Administrative shares: they say how support is arranged, not whether people are better off.",
            value=first.value,
            no_interval_reason=NO_MARGIN)] + rest
    result = (findings + per_measure)[:6]
    if len(result) < 3:
        result.append(_coverage_finding(profile, latest, order))
    return result


def _coverage_finding(profile: CouncilProfile, latest: pd.DataFrame, measures: list[str] | None = None):
    """What the data do not cover, for a council with too little published to say more (a council created in the
    last year, or one whose survey results were not published): a reader should see the gap among the findings,
    not infer that the measures shown are all there is."""
    from analysis.findings import Finding

    measures = list(dict.fromkeys(measures or profile.table["concept"]))
    have = set(latest["concept"])
    missing = [SHORT_LABELS.get(c, CONCEPTS_BY_KEY[c].label).split(" (")[0].lower() for c in measures if c not in have]
    years = sorted(set(profile.table.dropna(subset=["council"])["year_end"]))
    text = (f"{profile.name} has published values on {len(have)} of the {len(measures)} measures in this profile"
            + (f" (none on {', '.join(missing[:-1]) + ' or ' + missing[-1] if len(missing) > 1 else missing[0]})"
               if missing else "")
            + (f", and for {period(years[0])} only, so no change over time can be shown" if len(years) == 1 else "")
            + ".")
    return Finding("profile_coverage", text, SOURCE_ASCOF,
                   "Missing values are not zeros: the section on gaps says which years and measures are missing and "
                   "why, where that is known.", value=float(len(have)),
                   no_interval_reason="a count of measures with published values")


def headlines(profile: CouncilProfile) -> list[dict]:
    """The latest direct-payment and control-over-daily-life values for the batch index (one column each)."""
    out = []
    latest = _latest(profile).set_index("concept")
    for concept in ("dp_users", "control_daily_life"):
        if concept not in latest.index:
            continue
        r = latest.loc[concept]
        when = period(r["year_end"])
        out.append(dict(key=f"profile_{concept}", label=f"{profile.name}: {r['label']} ({when}; England "
                        f"{fmt(r['england'])})", value=float(r["council"]), unit="", source=SOURCE_ASCOF,
                        note=position(profile, concept, int(r["year_end"]), int(r["rank"]), int(r["of"]), r["council"]),
                        column=f"{r['label']}, latest year",
                        period=when, no_interval_reason=NO_MARGIN))
    return out


def figure(profile: CouncilProfile, order: list[str] | None = None):
    """Every measure in one small-multiples figure (in ``order``): the council, England, and its peers' median with
    their middle half, year by year."""
    from analysis import plots

    t = profile.table
    if order:
        rank = {c: i for i, c in enumerate(order)}
        t = t.sort_values(["concept", "year_end"], key=lambda s: s.map(rank) if s.name == "concept" else s,
                          kind="stable")
    peers = f"{profile.council_type or 'All councils'} (median, middle half)"
    long = pd.concat([
        pd.DataFrame({"measure": t["concept"], "year_end": t["year_end"], "value": t["council"], "low": np.nan,
                      "high": np.nan, "series": profile.name}),
        pd.DataFrame({"measure": t["concept"], "year_end": t["year_end"], "value": t["england"], "low": np.nan,
                      "high": np.nan, "series": "England"}),
        pd.DataFrame({"measure": t["concept"], "year_end": t["year_end"], "value": t["peer_median"],
                      "low": t["peer_q1"], "high": t["peer_q3"], "series": peers}),
    ], ignore_index=True)
    # Every measure, series and year on one grid, so a missing year (the 2020-21 survey) breaks the line
    # instead of being drawn across.
    years = list(range(int(t["year_end"].min()), int(t["year_end"].max()) + 1))
    grid = pd.MultiIndex.from_product([list(dict.fromkeys(long["measure"])), list(dict.fromkeys(long["series"])),
                                       years], names=["measure", "series", "year_end"])
    long = (long.set_index(["measure", "series", "year_end"]).reindex(grid).reset_index()
            [["measure", "year_end", "value", "low", "high", "series"]])
    title = (f"{profile.name} against England and the {_peer_name(profile)}, {period(years[0])} to "
             f"{period(years[-1])}")
    return plots.small_multiples(
        long, "measure", "year_end", "value", "series", title,
        SOURCE_ASCOF + f"; {NO_MARGIN}; 2020-21 survey measures missing nationally (voluntary survey)",
        low="low", high="high", panel_titles=SHORT_LABELS, colours={profile.name: plots.PALETTE[3],
                                                                   "England": plots.GREY, peers: plots.PALETTE[0]},
        dashed=("England",), xlabel="Year", x_labels={y: period(y) for y in range(2000, 2040)},
        n=f"{int(t['peers'].max())} peer councils")


def table(profile: CouncilProfile, *, latest_only: bool = False, order: list[str] | None = None):
    """The council, England and its peers by measure and year, with the council's rank (numbers, rounded by the
    report); ``latest_only`` keeps each measure's latest year (the report's summary; the full table is its CSV)."""
    from analysis.precision import table_format

    t = _latest(profile) if latest_only else profile.table
    if order:
        rank = {c: i for i, c in enumerate(order)}
        t = t.sort_values(["concept", "year_end"], key=lambda s: s.map(rank) if s.name == "concept" else s,
                          kind="stable")
    out = pd.DataFrame({"Measure": t["label"].to_numpy(), "Year": [period(y) for y in t["year_end"]],
                        profile.name: t["council"].to_numpy(), "England": t["england"].to_numpy(),
                        "Peer median": t["peer_median"].to_numpy(), "Peer lower quartile": t["peer_q1"].to_numpy(),
                        "Peer upper quartile": t["peer_q3"].to_numpy(), "Peer councils": t["peers"].to_numpy(),
                        RANK_COLUMN: t["rank"].to_numpy(), "Councils ranked": t["of"].to_numpy()})
    return table_format(out, counts=("Peer councils", RANK_COLUMN, "Councils ranked"))
