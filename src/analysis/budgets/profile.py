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


def prepare(ascof: pd.DataFrame, lookup: pd.DataFrame, types: pd.DataFrame | None, measures: tuple[str, ...],
            years: tuple[int, int]) -> PreparedPanel:
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
                         frozenset(national_gaps), lookup.set_index("ons_code"), council_types)


@functools.lru_cache(maxsize=8)
def prepared_panel(measures: tuple[str, ...] = DEFAULT_MEASURES,
                   years: tuple[int, int] = (2018, 2024)) -> PreparedPanel:
    """The shared part of every profile for these measures and years, prepared once per process.

    Reads the cached tidy tables (``ascof``, ``council_lookup``, ``council_types``). Callers must not
    modify what it returns (it is shared by every report the process renders).
    """
    from analysis import data

    return prepare(data.load("ascof"), data.load("council_lookup"), data.load("council_types"), tuple(measures),
                   tuple(years))


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
    return CouncilProfile(code, name, council_type, pd.DataFrame(rows), _gaps(panel, code, name, council_type, missing))


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


def key_findings(profile: CouncilProfile, order: list[str] | None = None) -> list:
    """A summary of where the council stands, then each measure's latest value against England and its peers with
    its rank; no intervals, because council values are published without margins of error."""
    from analysis.findings import Finding

    latest = _latest(profile)
    if order:
        latest = latest.set_index("concept").loc[[c for c in order if c in set(latest["concept"])]].reset_index()
    quarters = [_quarter(int(r.rank), int(r.of)) for r in latest.itertuples()]
    best, worst = quarters.count("best quarter"), quarters.count("worst quarter")
    years = sorted(set(latest["year_end"]))
    when = period(years[-1]) if len(years) == 1 else f"{period(years[0])} to {period(years[-1])}"
    findings = [Finding(
        "profile_summary",
        f"{profile.name} ranked in the best quarter of English councils on {best} of its {len(latest)} measures and "
        f"in the worst quarter on {worst} (latest year, {when}; ranks use ASCOF's direction of better).",
        SOURCE_ASCOF, "A rank places a council, it does not explain it, and survey measures move by a point or two "
        "from sampling alone.", value=float(best), no_interval_reason=f"a count of measures; {NO_MARGIN}")]
    for r in latest.itertuples():
        peers = (f"a median of {_value(r.concept, r.peer_median)} (middle half {_value(r.concept, r.peer_q1)} to "
                 f"{_value(r.concept, r.peer_q3)}) among the {int(r.peers)} {_peer_name(profile)}"
                 if r.peers and np.isfinite(r.peer_median) else f"no {_peer_name(profile)} to compare")
        findings.append(Finding(
            f"profile_{r.concept}",
            f"{SHORT_LABELS.get(r.concept, CONCEPTS_BY_KEY[r.concept].label)}, {period(r.year_end)}: "
            f"{profile.name} {_value(r.concept, r.council)}, England {_value(r.concept, r.england)}, {peers}; rank "
            f"{int(r.rank)} of {int(r.of)} councils (1 = best).",
            SOURCE_ASCOF,
            ("From a sample survey of service users: a difference of a point or two may be sampling noise."
             if r.concept in SURVEY_CONCEPTS else
             "An administrative share: it says how support is arranged, not whether people are better off."),
            value=float(r.council), no_interval_reason=NO_MARGIN))
    return findings[:6]


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
                        note=f"rank {int(r['rank'])} of {int(r['of'])}", column=f"{r['label']}, latest year",
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
                        "Rank (1 = best)": t["rank"].to_numpy(), "Councils ranked": t["of"].to_numpy()})
    return table_format(out, counts=("Peer councils", "Rank (1 = best)", "Councils ranked"))
