"""In-house against external provision, as the provision-costs notebook runs it.

``analyse(params)`` loads the council unit-cost tables (rebased to the chosen prices),
runs the England, across-council and within-council comparisons, sets CQC ratings by
ownership beside the costs, estimates the closure panel, summarises the NHS-funded CIC
sector and judges the claims. ``key_findings``, the ``*_display`` tables and the
``*_figure`` functions turn the results into what the report shows; every number in
the text is computed here and rounded by ``analysis.precision``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import data, plots
from analysis.claims import Verdict, verdict_table
from analysis.costs import cic as cic_mod
from analysis.costs import claims, closures, comparisons
from analysis.costs.comparisons import LABELS, SERIES, UNIT_WORDS
from analysis.costs.params import ProvisionCostsParameters
from analysis.data.unit_costs import financial_year
from analysis.findings import Finding, clear_difference, difference_phrase
from analysis.mutuals import ratings
from analysis.precision import decimals, fmt, fmt_interval, fmt_p, table_format

SOURCE_COSTS = ("HSCIC, Personal Social Services: Expenditure and Unit Costs (PSS-EX1) council tables 2008-09 to "
                "2013-14; GDP deflators, HM Treasury")
SOURCE_ASCFR = "HSCIC, Adult Social Care Finance Return (ASC-FR) council unit costs 2014-15"
SOURCE_CQC = "Care Quality Commission ratings by ownership (compiled by B. Goodair)"
SOURCE_CIC = ("NHS bodies' spend-over-£25,000 files c. 2010-2020, suppliers audited against Companies House by "
              "Rahal and Mohan (NHSSpend)")
NOT_PRODUCTIVITY = ("A unit cost is cost per week, hour or client, not productivity: it is not adjusted for quality "
                    "or for case mix (council homes may take residents with higher needs, respite and intermediate "
                    "care), and in-house costs may include council overheads that an external fee does not show.")


@dataclass
class ProvisionResults:
    params: ProvisionCostsParameters
    england: pd.DataFrame
    england_2015: pd.DataFrame
    distribution: pd.DataFrame
    within: comparisons.WithinCouncil
    within_weighted: comparisons.WithinCouncil
    within_2015: comparisons.WithinCouncil | None
    bootstrap_check: pd.DataFrame
    trend: pd.DataFrame
    real_change: pd.DataFrame
    quality: pd.DataFrame
    closures: closures.ClosureResults
    cic: cic_mod.CicSector
    verdicts: list[Verdict]
    reconciliation: pd.DataFrame
    spinout_evidence: pd.DataFrame
    home_care_without_first_year: pd.DataFrame | None = None  # the home-care gap from the second PSS-EX1 year
    quality_differences: pd.DataFrame | None = None  # third sector minus council-run rating share, by setting and year
    england_gap: dict | None = None  # publisher's England unit cost against ours, in parts (first service, last year)
    home_care_contrasts: pd.DataFrame | None = None  # home-care ratio, every later year against every earlier one

    @property
    def level(self) -> float:
        return self.params.confidence_level

    @property
    def base(self) -> str:
        return self.params.real_terms_base


def analyse(params: ProvisionCostsParameters) -> ProvisionResults:
    deflators = data.load("gdp_deflators")
    costs = comparisons.with_price_base(data.load("unit_costs"), deflators, params.real_terms_base)
    series = list(params.services)
    years = params.year_range
    level, seed = params.confidence_level, params.seed
    england = comparisons.england_ratios(costs, series, years, level=level, n_boot=params.n_bootstrap, seed=seed)
    distribution = comparisons.council_distribution(costs, series, years, params.min_activity)
    within = comparisons.within_council(costs, series, years, params.min_activity, level=level)
    weighted = comparisons.within_council(costs, series, years, params.min_activity, level=level, weighted=True)
    checks = []
    for key, part in within.pairs.groupby("series", sort=False):
        ratio, lo, hi = comparisons.council_bootstrap_ratio(part, n_boot=params.n_bootstrap, seed=seed, level=level)
        checks.append({"series": key, "label": LABELS[key], "ratio": ratio, "ci_low": lo, "ci_high": hi})
    england_2015 = pd.DataFrame()
    within_2015 = None
    if params.include_2014_15:
        england_2015 = comparisons.england_ratios(costs, series, (2015, 2015), level=level, n_boot=params.n_bootstrap,
                                                  seed=seed, collection="ASC-FR")
        residential = [s for s in series if SERIES[s][2] is not None]
        if residential:
            within_2015 = comparisons.within_council(costs, residential, (2015, 2015), params.min_activity,
                                                     level=level, collection="ASC-FR")
    trend = comparisons.england_trend(costs, series, years)
    change = comparisons.real_change(trend, years)
    cqc = data.load("cqc_ratings_by_year")
    quality = ratings.good_share_by_year(cqc, (params.cqc_year, params.cqc_year), level)
    latest_cqc = int(cqc["year"].max())
    quality_latest = ratings.good_share_by_year(cqc, (latest_cqc, latest_cqc), level)
    rule = closures.ClosureRule(params.closure_share, params.kept_share, params.baseline_min_weeks)
    closure = closures.analyse(costs, rule, years, control_group=params.control_group, level=level, seed=seed)
    sector = cic_mod.cic_sector(data.load("nhs_cic_suppliers"), window_years=tuple(params.cic_window_years))
    pooled_all = comparisons.within_council(costs, list(SERIES), (2009, 2014), params.min_activity, level=level).pooled
    quality_years = pd.concat([quality, quality_latest]).drop_duplicates(["setting", "year", "ownership"])
    provision = data.load("provision_shares")
    councils = {(setting, int(year)): ratings.councils_nearest_year(provision, ratings.COUNCIL_SETTINGS[setting],
                                                                    int(year))
                for setting, year in quality_years[["setting", "year"]].drop_duplicates().itertuples(index=False)
                if setting in ratings.COUNCIL_SETTINGS}
    homes = ratings.care_home_models(data.load("cqc_care_home_closures"), provision, level)
    verdicts = claims.assess_claims(data.load_claims(), data.load_figures(), within=pooled_all, cic=sector,
                                    quality=quality_years, level=level, councils=councils,
                                    care_home_model=ratings.model_gap(homes["table"], homes["clustering"]))
    # Home care: the 2008-09 in-house hours were rescaled (the table's weekly figure x 52) and reablement moved
    # into in-house home care around then, so the trend in the gap is also estimated without that first year.
    home_care_later = None
    if "home_care" in series and years[0] < years[1] - 1 and years[0] == 2009:
        later = comparisons.within_council(costs, ["home_care"], (years[0] + 1, years[1]), params.min_activity,
                                           level=level)
        home_care_later = later.pooled if len(later.pooled) else None
    reconciliation = data.load("unit_costs_reconciliation")
    spinouts = data.evidence_rows(data.load_figures(), list(cic_mod.DOCUMENTED_SPINOUTS.values()))
    gap = comparisons.published_england_gap(costs, series[0], years[1]) if series else None
    contrasts = (comparisons.year_contrasts(within.pairs, "home_care", level=level)
                 if "home_care" in set(within.pairs["series"]) else None)
    return ProvisionResults(params, england, england_2015, distribution, within, weighted, within_2015,
                            pd.DataFrame(checks), trend, change, quality, closure, sector, verdicts, reconciliation,
                            spinouts, home_care_later, claims.rating_differences(quality_years, level, councils), gap,
                            contrasts)


# --- Narrative -----------------------------------------------------------------------------------

def data_text(results: ProvisionResults) -> str:
    r = results.reconciliation
    pss = r[r["collection"] == "PSS-EX1"]
    estimated = pss[pss["status"].str.startswith("England includes")]
    return (
        f"Council unit costs for {results.params.years[0]} to {results.params.years[1]} come from the official "
        "PSS-EX1 council tables; 2014-15 from the new ASC-FR collection, shown apart because its definitions differ. "
        f"Real terms are at {results.base} prices (HM Treasury GDP deflator). Each published unit cost was checked "
        "against its own cost and activity within the published rounding, and each England total against the sum of "
        f"the council rows: {int((r['status'].str.startswith('reconciles')).sum())} of {len(r)} totals reconcile "
        f"within the published rounding; the other {len(estimated)} are PSS-EX1 totals that, as the files' footnote "
        "says, "
        "include the publisher's estimates for councils that did not report (the gap never exceeds what the missing "
        "councils could plausibly add). Suppressed and not-available cells are missing, never zero.")


def _names(pairs: list[tuple[str, float]]) -> str:
    names = [str(name) for name, _ in sorted(pairs, key=lambda p: -p[1])]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def england_definition_text(results: ProvisionResults) -> str:
    """What the England unit cost is here, what the publisher's England figure is, and why the two differ, with
    the councils that make the difference for the first service in the last year (computed, not typed)."""
    g = results.england_gap
    text = ("**Which England figure.** Every England unit cost in this report (this table, the charts and the "
            "real-terms changes below) is the total cost of the councils that reported both a cost and an activity "
            "for that provider, divided by their total activity: the definition the 2014-15 collection uses for its "
            "own England row. The publisher's England row for the PSS-EX1 years divides every council's cost by every "
            "council's activity, so a council that reported one without the other moves it")
    if g is None:
        return text + ". The table gives the publisher's ratio beside ours." + publisher_outside_text(results)
    unit = UNIT_WORDS[SERIES[g["series"]][0]].removeprefix("per ")
    amount = g["activity_unit"]
    label = LABELS[g["series"]]
    service, _, group = label.partition(", ")
    where = f"{service.lower()} ({group})" if group else service.lower()
    parts = []
    if g["cost_without_activity"]:
        cost = sum(v for _, v in g["cost_without_activity"])
        parts.append(f"{fmt(cost / 1e6, '£m', places=1)} of cost from {_names(g['cost_without_activity'])} (which "
                     f"reported no {amount})")
    if g["activity_without_cost"]:
        act = sum(v for _, v in g["activity_without_cost"])
        parts.append(f"{fmt(act, count=True)} {amount} from {_names(g['activity_without_cost'])} (which reported no "
                     "cost)")
    if abs(g["other_cost"]) > 0.005 * g["england_cost"]:
        parts.append(f"{fmt(g['other_cost'] / 1e6, '£m', places=1)} of its own estimates for councils that did not "
                     "report")
    year = financial_year(g["year"])
    places = decimals(g["published"])
    compared = (f"{fmt(g['published'], '£', places=places)} a {unit} against "
                f"{fmt(g['reporting'], '£', places=places)} here ({g['n_reporting']} councils reporting both)")
    if not parts:
        return (text + f". For {g['provider']} {where} in {year} every council reported both: {compared}."
                + publisher_outside_text(results))
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return (text + f": for {g['provider']} {where} in {year} it includes {listed}, so it comes to {compared}. "
            "The table gives the publisher's ratio beside ours." + publisher_outside_text(results))


def publisher_outside_text(results: ProvisionResults) -> str:
    """A sentence for each row of the England table whose publisher's ratio lies outside this report's interval,
    with why the two can differ ('' when none does)."""
    f = getattr(results, "england", None)
    if f is None or f.empty:
        return ""
    f = f[f["year"].isin(results.params.year_range)]
    out = f[(f["ratio_published"] < f["ci_low"]) | (f["ratio_published"] > f["ci_high"])]
    if out.empty:
        return ""
    said = []
    for r in out.itertuples():
        places = decimals(r.ratio, r.ci_low, r.ci_high)
        side = "below" if r.ratio_published < r.ci_low else "above"
        said.append(f"{_lower_first(r.label)} in {r.financial_year} ({fmt(r.ratio_published, places=places)}, "
                    f"{side} the interval {fmt(r.ci_low, places=places)} to {fmt(r.ci_high, places=places)} around "
                    f"{fmt(r.ratio, places=places)})")
    listed = said[0] if len(said) == 1 else "; ".join(said[:-1]) + "; and " + said[-1]
    return (f" The publisher's England ratio lies outside this report's interval for {listed}. The interval is for "
            "the ratio of total cost over total activity of the councils reporting both, resampling councils; the "
            "publisher's ratio also counts councils that reported only a cost or only an activity and its own "
            "estimates for councils that did not report, so where a few councils run the service in-house, those "
            "few move it. Neither is the within-council ratio below, a geometric mean of each council's own ratio, "
            "which weights councils equally rather than by activity.")


def within_text(results: ProvisionResults) -> str:
    p = results.within.pooled
    if p.empty:
        return "No council both provided and bought any of the chosen services above the minimum activity."
    adjusted = int((p["ci_low_adjusted"] > 1).sum())
    return ("Each ratio is a geometric mean over council-years of the council's own unit cost divided by the unit "
            "cost "
            f"of what it bought in ({results.level:.0%} intervals clustered by council). A ratio of 2 means own "
            f"provision cost twice as much per week, hour or client. With {len(p)} services compared, a Bonferroni "
            f"adjustment leaves {adjusted} of them with intervals wholly above one. Weighting council-years by "
            "activity "
            "and resampling councils (below) give similar answers." + few_councils_sentence(p)
            + _home_care_trend_text(results))


def _home_care_trend_text(results: ProvisionResults) -> str:
    """The home-care ratio year by year (the table below), the straight-line trend only as a secondary number,
    with and without the first year, and why the path can change without any change in efficiency."""
    home = _row(results.within.pooled, "home_care")
    path = home_care_path_phrase(results)
    if home is None or not path:
        return ""
    later = results.home_care_without_first_year
    later_row = _row(later, "home_care") if later is not None else None
    first = results.params.years[0]
    text = f" Home care, year by year (table and chart below): the ratio of own to bought-in hourly cost {path}."
    if np.isfinite(home["trend_pct_per_year"]):
        text += (" A straight-line trend through every year averages the rise and the flat years and describes "
                 f"neither: {_trend_number(home, results.level)}"
                 + (f"; {_trend_number(later_row, results.level)} from the year after {first}"
                    if later_row is not None else "") + ".")
    return (text + f" In {first} the table gave in-house hours as a weekly figure (rescaled here x 52, as the "
            "published unit cost confirms), and the real in-house hourly cost jumps in the following year; a change "
            "in the mix of in-house work, such as reablement (short intensive support after a hospital stay) moving "
            "into councils' own home care, would raise the in-house cost of an hour without any change in "
            "efficiency, and these tables cannot show it.")


def _trend_number(row, level: float) -> str:
    """'+7.3% a year (95% interval +4.5% to +10.1%)', rounded by the rule."""
    shown = fmt_interval(row["trend_pct_per_year"], row["trend_ci_low"], row["trend_ci_high"], "%", level=level,
                         signed=True)
    return f"{shown} a year"


def home_care_by_year_display(results: ProvisionResults) -> pd.DataFrame:
    """The home-care within-council ratio for each year, with its interval and the councils behind it."""
    b = results.within.by_year
    b = b[b["series"] == "home_care"]
    if b.empty:
        return pd.DataFrame()
    lv = int(round(100 * results.level))
    out = pd.DataFrame({"Year": b["financial_year"], "Ratio (own / external hourly cost)": b["ratio"],
                        f"{lv}% low": b["ci_low"], f"{lv}% high": b["ci_high"], "Councils": b["n_councils"]})
    return table_format(out, intervals={"Ratio (own / external hourly cost)": (f"{lv}% low", f"{lv}% high")},
                        counts=("Councils",))


def home_care_by_year_figure(results: ProvisionResults):
    """The home-care within-council ratio by year with its band; the title is the path, its basis the contrast
    between the first year and the start of the flat run."""
    path = home_care_path(results)
    phrase = home_care_path_phrase(results)
    if path is None or not phrase:
        return None
    b = path["by_year"].reset_index()
    b["line"] = "own / external, same council and year"
    step = path["step"]
    return plots.line_with_band(
        b, "year", "ratio", "line",
        "Home care, all adults: the ratio of councils' own hourly cost to what they bought in "
        f"{phrase.split(' (')[0]}",
        SOURCE_COSTS + f". Geometric mean over councils of own / external hourly cost; {results.level:.0%} intervals "
        "clustered by council. Year = financial year ending; 2008-09 in-house hours rescaled (x 52).",
        low="ci_low", high="ci_high", ylabel="Own / external hourly cost (1 = the same)",
        xlabel="Financial year ending", n=f"{int(b['n_councils'].max())} councils at most",
        title_basis=(float(step["ratio"]), float(step["ci_low"]), float(step["ci_high"]), results.level))


def closure_text(results: ProvisionResults) -> str:
    c = results.closures
    panel = c.panel
    cohorts = ", ".join(f"{r.financial_year}: {r.councils}" for r in panel.cohorts.itertuples())
    text = (f"Treatment rule: {panel.rule.describe()}. Under it {panel.n_treated} councils closed or sold their homes "
            f"between {results.params.years[0]} and {results.params.years[1]} (first year below the threshold, "
            f"councils per cohort: {cohorts or 'none'}), {panel.n_controls} kept them, and "
            f"{len(panel.status) - panel.n_treated - panel.n_controls} are set aside (table below). ")
    if not c.supported:
        return text + "The panel cannot support the design: " + c.reason
    est = c.estimates["log_unit_cost"]
    pre, es_p = est.cs_pretest_p, est.es_pretest_p
    small = [int(x) for x in panel.cohorts["councils"] if x < 5]
    if small:
        count = {1: "One cohort holds", 2: "Two cohorts hold", 3: "Three cohorts hold", 4: "Four cohorts hold"}.get(
            len(small), f"{len(small)} cohorts hold")
        text += (f"{count} fewer than five councils ({', '.join(map(str, small))}): their "
                 "group-time effects rest on one to a few councils' paths, with standard errors that are not "
                 "reliable. ")
    text += ("Two methods are used. Callaway and Sant'Anna's method compares each group of councils that closed "
             "their homes in the same year with councils that kept theirs, year by year, and averages those "
             "comparisons; it is built for closures that happen in different years. The TWFE (two-way fixed "
             "effects) event study is a regression of cost on council and year effects and on years before and "
             "after closure; before-closure years that differ from zero mean the groups were already on different "
             "paths (a failed pre-trend test). ")
    if pre is not None and pre < 0.05:
        text += (f"The Callaway-Sant'Anna pre-trend test rejects parallel paths before closure ({p_text(pre)}; "
                 f"{p_text(est.large_cohorts_pretest_p)} without the small cohorts) and the event study's joint test "
                 f"of leads gives {p_text(es_p)}"
                 + (" (not below 0.05 on its own)" if es_p is not None and es_p >= 0.05 else "")
                 + ": councils that closed their homes were already on a different path. "
                 "The estimates describe what happened after closure; they are not the effect of closing, and part "
                 "of any fall in the overall unit cost is mechanical (dear in-house weeks leave the average even if "
                 "no price changes).")
    else:
        text += ("The pre-trend tests do not reject parallel paths, which is weak evidence for them (the tests have "
                 "little power with cohorts this small).")
    few = few_event_times(results)
    if few:
        text += (f" The charts below leave out years since closure {_event_times_words(few)}: fewer than "
                 f"{closures.MIN_EVENT_COUNCILS} closing councils stand behind "
                 + ("it." if len(few) == 1 else "each."))
    return text


def cic_text(results: ProvisionResults) -> str:
    s = results.cic
    documented = s.largest.dropna(subset=["documented_spinout"])
    names = ", ".join(organisation_name(n) for n in documented["organisation"]) or "none"
    return (f"NHS trusts, CCGs and NHS England paid {s.n_with_payments} community interest companies "
            f"{fmt(s.total_gbp / 1e9, '£bn')} in payments over £25,000 in the spend files scraped for c. 2010-2020 "
            f"({fmt(s.n_spellings, count=True)} supplier spellings, merged into those {s.n_with_payments} companies by "
            "company number). If the files span "
            f"{s.window_years[0]} to {s.window_years[1]} years, that is at least "
            f"{fmt(s.per_year_gbp[1] / 1e6, '£m', places=0)} to "
            f"{fmt(s.per_year_gbp[2] / 1e6, '£m', places=0)} a year on average (a floor: the files are partial). "
            "The money is concentrated: the largest CIC took "
            f"{fmt(s.top1_share, '%')} and the ten largest {fmt(s.top10_share, '%', places=0)} (Gini {fmt(s.gini)}; "
            f"median total {fmt(s.median_gbp / 1e6, '£m')}). The evidence register documents a primary care trust "
            f"spin-out origin for {names} (a Department of Health pathfinder that took over NHS Hull's provider arm). "
            "For the other large CICs the sources used here do not document an NHS origin, so the table below "
            "marks them 'not documented in the sources used here' rather than labelling them; a CIC may be a "
            "spin-out, a GP federation or another company.")


# --- Sentences -----------------------------------------------------------------------------------

def p_text(p: float | None) -> str:
    """A p-value for text: 'p < 0.001' below that, else two significant figures."""
    if p is None or not np.isfinite(p):
        return "p not computed"
    shown = fmt_p(p)
    return f"p {shown}" if shown.startswith("<") else f"p = {shown}"


def organisation_name(name: str) -> str:
    """'CITY HEALTH CARE PARTNERSHIP CIC' -> 'City Health Care Partnership CIC'."""
    text = str(name).title()
    for wrong, right in (("C.I.C.", "CIC"), ("Cic", "CIC"), ("(Ace)", "(ACE)"), ("Nhs", "NHS"), ("Gp", "GP"),
                         ("(Bnssg)", "(BNSSG)"), ("Dhu", "DHU")):
        text = text.replace(wrong, right)
    return text


def _pct(ratio: float) -> float:
    return 100 * (ratio - 1)


def ratio_phrase(what: str, ratio: float, low: float, high: float, level: float, *, group: str = "own provision",
                 reference: str = "external provision", unit_word: str = "per unit") -> str:
    """A within-council ratio said as a percentage difference, stating a difference only when its interval
    excludes no difference."""
    return difference_phrase(what, group, reference, _pct(ratio), _pct(low), _pct(high), unit="%", level=level,
                             higher=f"dearer {unit_word}", lower=f"cheaper {unit_word}")


def _row(frame: pd.DataFrame, series: str):
    part = frame[frame["series"] == series]
    return part.iloc[0] if len(part) else None


NOT_PRODUCTIVITY_SHORT = ("A unit cost is not productivity: it is not adjusted for quality or for the needs of the "
                          "people served, and in-house costs may include council overheads that an external fee does "
                          "not show.")


def _times(ratio: float, low: float, high: float, level: float) -> tuple[str, str]:
    """('2.11 times', '95% interval 1.97 to 2.25'), rounded by the rule."""
    places = decimals(ratio, low, high)
    return (f"{fmt(ratio, places=places)} times",
            f"{level:.0%} interval {fmt(low, places=places)} to {fmt(high, places=places)}")


def key_findings(results: ProvisionResults) -> list[Finding]:
    """Three to six findings of one or two sentences, each with its number, interval (or why none), source and
    one clause on what it cannot show. Details are in the body of the report."""
    out = []
    level = results.level
    years = f"{results.params.years[0]} to {results.params.years[1]}"
    pooled = results.within.pooled
    lead = next((s for s in ("residential_older", "home_care") if _row(pooled, s) is not None), None)
    if lead is None and len(pooled):
        lead = pooled["series"].iloc[0]
    if lead is not None:
        r = _row(pooled, lead)
        unit = UNIT_WORDS[SERIES[lead][0]]
        clear = clear_difference(r["ci_low"] - 1, r["ci_high"] - 1)
        times, interval = _times(r["ratio"], r["ci_low"], r["ci_high"], level)
        said = (f"councils' own provision cost {times} as much {unit} as what they bought in ({interval})" if clear
                else f"councils' own provision cost no clearly different amount {unit} from what they bought in "
                     f"({interval})")
        out.append(Finding("within_council_" + lead,
                           f"{r['label']}: {said}, comparing the same council in the same year "
                           f"({int(r['n_councils'])} councils, {years}).", SOURCE_COSTS, NOT_PRODUCTIVITY_SHORT,
                           value=float(r["ratio"]), low=float(r["ci_low"]), high=float(r["ci_high"]), level=level))
    home = _row(pooled, "home_care")
    if home is not None and lead != "home_care":
        clear = clear_difference(home["ci_low"] - 1, home["ci_high"] - 1)
        times, interval = _times(home["ratio"], home["ci_low"], home["ci_high"], level)
        detail = f"{interval}; {int(home['n_councils'])} councils, {years}"
        text = (f"Councils' own home care cost {times} as much per contact hour as the independent sector's, "
                f"pooled over the years ({detail})" if clear else
                "Councils' own home care cost no clearly different amount per contact hour from the independent "
                f"sector's ({detail})")
        path = home_care_path_phrase(results, note_rescaled=True)
        word = "rise" if path.startswith("rose") else "path"
        text += ((f"; year by year the ratio {path}. The {word} may partly reflect a change in what an in-house hour "
                  "is (reablement, short intensive support after a hospital stay, may have moved into councils' own "
                  "home care), which these tables cannot show") if path else "") + "."
        out.append(Finding("within_council_home_care", text,
                           SOURCE_COSTS, "Independent-sector hourly rates may reflect lower pay and shorter visits "
                                         "as well as any efficiency, and the mix of in-house work may have "
                                         "changed: this compares price, not what an hour buys.",
                           value=float(home["ratio"]), low=float(home["ci_low"]), high=float(home["ci_high"]),
                           level=level))
    if len(pooled) > 1:
        above = pooled[pooled["ci_low"] > 1]
        above_adj = pooled[pooled["ci_low_adjusted"] > 1]
        below = pooled[pooled["ci_high"] < 1]
        span = (above["ratio"].min(), above["ratio"].max()) if len(above) else None
        text = ((f"Own provision cost {fmt(span[0], places=1)} to {fmt(span[1], places=1)} times as much per unit "
                 "as bought-in care" if span else "Own provision cost more per unit than bought-in care")
                + f" in {len(above)} of {len(pooled)} services ({len(above_adj)} once the {len(pooled)} comparisons "
                "are allowed for)"
                + (f"; {len(below)} cost less" if len(below) else "")
                + no_clear_clause(pooled[(pooled["ci_low"] <= 1) & (pooled["ci_high"] >= 1)], len(pooled))
                + few_councils_named(above)
                + ".")
        out.append(Finding(
            "within_council_all_services", text, SOURCE_COSTS,
            "'External' mixes for-profit firms, charities, social enterprises and mutuals, so none of this isolates "
            "mutuals.",
            value=float(len(above)), no_interval_reason="a count of services whose interval excludes no difference"))
    closure = results.closures
    if closure.supported and "log_unit_cost" in closure.estimates:
        est = closure.estimates["log_unit_cost"]
        pre = est.cs_pretest_p
        if pre is not None and pre < 0.05:
            out.append(closure_no_estimate_finding(results))
        else:
            out.append(closure_estimate_finding(results))
    elif not closure.supported:
        out.append(Finding("closure_unit_cost", "The council panel cannot support a closure analysis under the chosen "
                           "rule: " + closure.reason, SOURCE_COSTS, "A looser rule adds councils that only reduced "
                           "their homes.", value=float(closure.panel.n_treated),
                           no_interval_reason="a count of councils"))
    s = results.cic
    lo_y, hi_y = s.per_year_gbp[1], s.per_year_gbp[2]
    out.append(Finding(
        "cic_sector",
        f"NHS bodies paid {s.n_with_payments} community interest companies {fmt(s.total_gbp / 1e9, '£bn')} in "
        "payments "
        f"over £25,000 in about 2010-2020: at least {_floor_text(lo_y, hi_y)} a year (if the files span "
        f"{s.window_years[0]} to {s.window_years[1]} years), a floor from partial files; the ten largest took "
        f"{fmt(s.top10_share, '%', places=0)}.",
        SOURCE_CIC,
        "Not every NHS body published every year and smaller payments are absent, and a CIC is a legal form, not a "
        "staff mutual.",
        value=s.total_gbp / 1e9, unit="£bn", no_interval_reason="a total of the published spend files, not a sample"))
    return out[:6]


def _lower_first(label: str) -> str:
    return label[0].lower() + label[1:]


def few_councils_clause(services: pd.DataFrame, count: int) -> str:
    """'; one of the 8, residential care, mental health (18-64), rests on only 8 councils' for the services in a
    headline count that rest on fewer than ``comparisons.MIN_COUNCILS`` councils ('' when none does)."""
    few = comparisons.few_councils(services)
    if few.empty:
        return ""
    named = [f"{_lower_first(r.label)} ({int(r.n_councils)} councils)" for r in few.itertuples()]
    if len(named) == 1:
        r = few.iloc[0]
        return (f"; {'it' if count == 1 else f'one of the {count}'}, {_lower_first(r['label'])}, rests on only "
                f"{int(r['n_councils'])} councils")
    return (f"; {len(named)} of the {count} rest on fewer than {comparisons.MIN_COUNCILS} councils: "
            + ", ".join(named[:-1]) + " and " + named[-1])


ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
            "eleventh", "twelfth")


def no_clear_clause(unclear: pd.DataFrame, total: int) -> str:
    """'; the ninth, residential care, physical disability (18-64) (12 councils), shows no clear difference': the
    services whose interval includes no difference, named with their councils ('' when none)."""
    if unclear.empty:
        return ""
    named = [f"{_lower_first(r.label)} ({int(r.n_councils)} councils)" for r in unclear.itertuples()]
    if len(named) == 1:
        which = f"the {ORDINALS[total - 1]}" if total <= len(ORDINALS) else "the remaining one"
        return f"; {which}, {named[0]}, shows no clear difference"
    return f"; the other {len(named)}, " + ", ".join(named[:-1]) + " and " + named[-1] + ", show no clear difference"


def few_councils_named(services: pd.DataFrame) -> str:
    """'; residential care, mental health (18-64) rests on only 8 councils': the services in a headline count that
    rest on fewer than ``comparisons.MIN_COUNCILS`` councils, named without counting them ('' when none does)."""
    few = comparisons.few_councils(services)
    if few.empty:
        return ""
    if len(few) == 1:
        r = few.iloc[0]
        return f"; {_lower_first(r['label'])} rests on only {int(r['n_councils'])} councils"
    named = [f"{_lower_first(r.label)} ({int(r.n_councils)} councils)" for r in few.itertuples()]
    return (f"; {', '.join(named[:-1])} and {named[-1]} rest on fewer than {comparisons.MIN_COUNCILS} councils "
            "each")


def few_councils_sentence(pooled: pd.DataFrame) -> str:
    """Which compared services rest on fewer than ``comparisons.MIN_COUNCILS`` councils, and what the report does
    about them ('' when none does)."""
    few = comparisons.few_councils(pooled)
    if few.empty:
        return ""
    limit = comparisons.MIN_COUNCILS
    if len(few) == 1:
        r = few.iloc[0]
        said = f"{r['label']} rests on only {int(r['n_councils'])} councils"
    else:
        named = [f"{r.label} ({int(r.n_councils)})" for r in few.itertuples()]
        said = ", ".join(named[:-1]) + " and " + named[-1] + f" rest on fewer than {limit} councils each"
    return (f" {said}: where a service rests on fewer than {limit} councils, the tables show how many councils "
            "there are instead of the share where own provision was dearer, and any count of services names it.")


def home_care_path(results: ProvisionResults) -> dict | None:
    """The home-care ratio year by year: where it started, the first year of the flat final run
    (:func:`comparisons.plateau_start`) and the contrast between the two, or None without the by-year ratios."""
    contrasts = results.home_care_contrasts
    by_year = results.within.by_year
    if contrasts is None or contrasts.empty or by_year.empty:
        return None
    b = by_year[by_year["series"] == "home_care"].sort_values("year").set_index("year")
    first, last = int(b.index[0]), int(b.index[-1])
    start = comparisons.plateau_start(contrasts)
    to = start if start is not None and start != first else last
    step = contrasts[(contrasts["year_a"] == first) & (contrasts["year_b"] == to)].iloc[0]
    return {"by_year": b, "first": first, "last": last, "plateau": start, "to": to, "step": step}


def rescaled_in_house_hours(year: int) -> bool:
    """Whether the in-house home-care hours of ``year`` (financial year ending) were rescaled on loading
    (:data:`analysis.data.unit_costs.DENOMINATOR_CORRECTIONS`: 2008-09's table gave weekly hours)."""
    from analysis.data.unit_costs import DENOMINATOR_CORRECTIONS

    name = "pss_unit_costs_" + financial_year(year).replace("-", "_")
    return any(c.dataset == name and "home care" in c.series and "in-house" in c.series
               for c in DENOMINATOR_CORRECTIONS)


def home_care_path_phrase(results: ProvisionResults, note_rescaled: bool = False) -> str:
    """'rose from 2.0 in 2008-09 to 2.8 by 2011-12, then flat (2.8 in 2012-13 and 2.8 in 2013-14; no two of the
    years from 2011-12 on differ clearly)', every word from the by-year ratios and their contrasts ('' without).

    With ``note_rescaled``, a first year whose in-house hours were rescaled on loading is said to be the least
    certain step, with the next year's ratio: '(2008-09's in-house hours had to be rescaled from weekly figures, so
    the first step is the least certain; from 2009-10, 2.22)'."""
    path = home_care_path(results)
    if path is None:
        return ""
    b, first, last, start, to, step = (path[k] for k in ("by_year", "first", "last", "plateau", "to", "step"))

    def r(year):
        return fmt(b.loc[year, "ratio"])

    fy = financial_year
    if start == first:
        return (f"did not clearly change from year to year ({r(first)} in {fy(first)}, {r(last)} in {fy(last)}; no two "
                "years differ clearly)")
    move = "rose" if step["ci_low"] > 1 else "fell" if step["ci_high"] < 1 else "moved, not clearly,"
    text = f"{move} from {r(first)} in {fy(first)}"
    second = next((y for y in b.index if y > first), None)
    if note_rescaled and rescaled_in_house_hours(first) and second is not None and second != to:
        text += (f" ({fy(first)}'s in-house hours had to be rescaled from weekly figures, so the first step is the "
                 f"least certain; from {fy(second)}, {r(second)})")
    text += f" to {r(to)} {'by' if start is not None else 'in'} {fy(to)}"
    if start is not None and start != last:
        later = [y for y in b.index if y > start]
        listed = ", ".join(f"{r(y)} in {fy(y)}" for y in later[:-1])
        listed = (listed + " and " if listed else "") + f"{r(later[-1])} in {fy(later[-1])}"
        text += (f", then flat ({listed}; no two of the years from {fy(start)} on differ clearly, "
                 f"{results.level:.0%} intervals clustered by council)")
    return text


def _floor_text(low_gbp: float, high_gbp: float) -> str:
    """'£250m to £310m': a yearly range rounded to £10m, because it is a floor over an uncertain window."""
    lo, hi = (10 * round(v / 1e7) for v in (low_gbp, high_gbp))
    return f"£{lo:,.0f}m to £{hi:,.0f}m"


def closure_no_estimate_finding(results: ProvisionResults) -> Finding:
    """The closure key finding when the pre-trend test fails: no point estimate, why, and where the detail is."""
    closure = results.closures
    est = closure.estimates["log_unit_cost"]
    large = est.summary[est.summary["method"].str.contains("cohorts of")]
    no_clear_large = len(large) and not clear_difference(large.iloc[0]["pct_low"], large.iloc[0]["pct_high"])
    text = (f"Closing or selling council care homes for older people: this design cannot give an interpretable "
            f"estimate of the effect on the overall weekly cost of residential care. The {closure.panel.n_treated} "
            "councils that did so were already on a different cost path before closing (Callaway-Sant'Anna "
            f"pre-trend test {p_text(est.cs_pretest_p)}), part of any fall is mechanical (dear in-house weeks leave "
            "the average)"
            + (", and without the cohorts of fewer than five councils there is no clear difference" if no_clear_large
               else "")
            + "; the estimates are in the section on closures.")
    return Finding("closure_unit_cost", text, SOURCE_COSTS,
                   "Closing homes was a choice, and the councils that made it differed beforehand.",
                   value=float(closure.panel.n_treated),
                   no_interval_reason="a count of councils; the design gives no interpretable estimate")


def closure_estimate_finding(results: ProvisionResults) -> Finding:
    """The closure key finding when the pre-trend test does not reject parallel paths."""
    closure, level = results.closures, results.level
    est = closure.estimates["log_unit_cost"]
    cs = est.summary.iloc[0]
    if clear_difference(cs["pct_low"], cs["pct_high"]):
        word = "lower" if cs["pct"] < 0 else "higher"
        near, far = sorted((abs(cs["pct_low"]), abs(cs["pct_high"])))
        places = decimals(cs["pct"], cs["pct_low"], cs["pct_high"])
        said = ("ended up with an overall weekly cost of residential care "
                f"{fmt(abs(cs['pct']), '%', places=places)} "
                f"{word} than councils that kept theirs ({level:.0%} interval {fmt(near, '%', places=places)} to "
                f"{fmt(far, '%', places=places)} {word})")
    else:
        said = ("ended up with no clearly different overall weekly cost of residential care from councils that "
                f"kept theirs ({fmt_interval(cs['pct'], cs['pct_low'], cs['pct_high'], '%', level=level)})")
    text = (f"The {closure.panel.n_treated} councils that closed or sold their care homes for older people {said}; "
            "part of any fall is mechanical (dear in-house weeks leave the average).")
    large = est.summary[est.summary["method"].str.contains("cohorts of")]
    limitation = "Closing homes was a choice"
    if len(large):
        lr = large.iloc[0]
        if not clear_difference(lr["pct_low"], lr["pct_high"]):
            limitation += (", and without the cohorts of fewer than five councils there is no clear difference: "
                           + fmt_interval(lr["pct"], lr["pct_low"], lr["pct_high"], "%", level=level, signed=True))
    return Finding("closure_unit_cost", text, SOURCE_COSTS, limitation + ".",
                   value=cs["pct"], low=cs["pct_low"], high=cs["pct_high"], level=level, unit="%")


def headlines(results: ProvisionResults) -> list[dict]:
    """Headline numbers for the run index (with intervals and sources)."""
    out = []
    for key in ("residential_older", "home_care"):
        r = _row(results.within.pooled, key)
        if r is None:
            continue
        out.append(dict(key=f"costs_within_{key}", label=f"{r['label']}: own provision against external, same council "
                        f"and year (ratio)", value=float(r["ratio"]), low=float(r["ci_low"]),
                        high=float(r["ci_high"]), level=results.level, unit="",
                        source=SOURCE_COSTS + f"; {int(r['n_councils'])} councils, clustered by council",
                        digits=max(0, decimals(r["ratio"], r["ci_low"], r["ci_high"]))))
    out.append(dict(key="costs_cic_total", label="NHS payments over £25,000 to community interest companies, c. "
                    "2010-2020", value=results.cic.total_gbp / 1e9, unit="£bn", source=SOURCE_CIC,
                    no_interval_reason="a total of the published spend files (a census of what was published, with "
                                       "partial coverage), not a sample"))
    return out


def verdicts_table(results: ProvisionResults) -> pd.DataFrame:
    return verdict_table(results.verdicts)


# --- Display tables ------------------------------------------------------------------------------

def england_display(results: ProvisionResults, frame: pd.DataFrame | None = None, *,
                    all_years: bool = False) -> pd.DataFrame:
    """England ratios; by default the first and last PSS-EX1 years only (the chart and the within-council
    table carry the years between)."""
    f = results.england if frame is None else frame
    if f.empty:
        return f
    if not all_years and frame is None:
        f = f[f["year"].isin(results.params.year_range)]
    level = int(round(100 * results.level))
    out = pd.DataFrame({
        "Service": f["label"], "Year": f["financial_year"],
        f"In-house (£, {results.base} prices)": f["in_house"], f"External (£, {results.base} prices)": f["external"],
        "Ratio": f["ratio"], f"{level}% interval low": f["ci_low"], f"{level}% interval high": f["ci_high"],
        "Publisher's England ratio": f["ratio_published"],
        "In-house share of activity (%)": 100 * f["in_house_share_activity"],
        "Councils with in-house": f["n_councils_in_house"], "Councils with external": f["n_councils_external"],
    })
    return table_format(out, intervals={"Ratio": (f"{level}% interval low", f"{level}% interval high")},
                       counts=("Councils with in-house", "Councils with external"))


def within_display(within: comparisons.WithinCouncil, level: float) -> pd.DataFrame:
    p = within.pooled
    if p.empty:
        return p
    lv = int(round(100 * level))
    out = pd.DataFrame({
        "Service": p["label"], "Years": [f"{financial_year(a)} to {financial_year(b)}" if a != b else financial_year(a)
                                         for a, b in zip(p["first_year"], p["last_year"])],
        "Ratio (own / external)": p["ratio"], f"{lv}% low": p["ci_low"], f"{lv}% high": p["ci_high"],
        "Change in ratio a year (%)": p["trend_pct_per_year"], "Change low": p["trend_ci_low"],
        "Change high": p["trend_ci_high"],
        "Councils": p["n_councils"], "Council-years": p["n_council_years"],
        "Council-years where own was dearer (%)": comparisons.share_of_councils(p["share_pairs_in_house_dearer"],
                                                                               p["n_councils"]),
    })
    if p["trend_ci_low"].isna().all():  # one year: no trend to show
        out = out.drop(columns=["Change in ratio a year (%)", "Change low", "Change high"])
        return table_format(out, intervals={"Ratio (own / external)": (f"{lv}% low", f"{lv}% high")},
                            counts=("Councils", "Council-years"))
    return table_format(out, intervals={"Ratio (own / external)": (f"{lv}% low", f"{lv}% high"),
                                        "Change in ratio a year (%)": ("Change low", "Change high")},
                        counts=("Councils", "Council-years"), signed=["Change in ratio a year (%)"])


def within_by_year_display(results: ProvisionResults) -> pd.DataFrame:
    b = results.within.by_year
    lv = int(round(100 * results.level))
    out = pd.DataFrame({"Service": b["label"], "Year": b["financial_year"], "Ratio (own / external)": b["ratio"],
                        f"{lv}% low": b["ci_low"], f"{lv}% high": b["ci_high"], "Councils": b["n_councils"]})
    return table_format(out, intervals={"Ratio (own / external)": (f"{lv}% low", f"{lv}% high")},
                       counts=("Councils",))


def sensitivity_display(results: ProvisionResults) -> pd.DataFrame:
    """The pooled ratio three ways: council-years equal (clustered OLS), activity-weighted, council bootstrap."""
    lv = int(round(100 * results.level))
    a = results.within.pooled.set_index("series")
    w = results.within_weighted.pooled.set_index("series")
    b = results.bootstrap_check.set_index("series")
    rows = []
    for key in a.index:
        for name, frame in (("clustered OLS, council-years equal", a), ("weighted by activity", w),
                            ("council bootstrap", b)):
            if key in frame.index:
                r = frame.loc[key]
                rows.append({"Service": LABELS[key], "Method": name, "Ratio": r["ratio"], f"{lv}% low": r["ci_low"],
                             f"{lv}% high": r["ci_high"]})
    return table_format(pd.DataFrame(rows), intervals={"Ratio": (f"{lv}% low", f"{lv}% high")})


def _quartile(values: pd.Series, councils: pd.Series) -> list:
    """A quartile, or :data:`comparisons.SUPPRESSED` when it rests on fewer than ``comparisons.MIN_COUNCILS``
    councils (the same rule as for shares of councils; the count is in the table beside it)."""
    return [np.nan if pd.isna(v) else (comparisons.SUPPRESSED if pd.isna(n) or n < comparisons.MIN_COUNCILS
                                       else float(v)) for v, n in zip(values, councils)]


def distribution_display(results: ProvisionResults, *, all_years: bool = False) -> pd.DataFrame:
    """Council quartiles; by default the last PSS-EX1 year only. Quartiles of fewer than
    ``comparisons.MIN_COUNCILS`` councils are not shown (the median and the count are)."""
    d = results.distribution
    if not all_years:
        d = d[d["year"] == results.params.year_range[1]]
    out = pd.DataFrame({
        "Service": d["label"], "Year": d["financial_year"],
        "In-house median (£)": d["in_house_median"],
        "In-house lower quartile (£)": _quartile(d["in_house_q1"], d["in_house_n"]),
        "In-house upper quartile (£)": _quartile(d["in_house_q3"], d["in_house_n"]),
        "Councils (in-house)": d["in_house_n"],
        "External median (£)": d["external_median"],
        "External lower quartile (£)": _quartile(d["external_q1"], d["external_n"]),
        "External upper quartile (£)": _quartile(d["external_q3"], d["external_n"]),
        "Councils (external)": d["external_n"],
        "Council ratio, median": d["ratio_median"],
        "Council ratio, lower quartile": _quartile(d["ratio_q1"], d["ratio_n"]),
        "Council ratio, upper quartile": _quartile(d["ratio_q3"], d["ratio_n"]),
        "Councils with both (ratio)": d["ratio_n"],
        "Councils where own was dearer (%)": comparisons.share_of_councils(d["share_councils_in_house_dearer"],
                                                                          d["ratio_n"]),
    })
    return table_format(out, counts=("Councils (in-house)", "Councils (external)", "Councils with both (ratio)"))


def real_change_display(results: ProvisionResults) -> pd.DataFrame:
    c = results.real_change
    if c.empty:
        return c
    first, last = results.params.years
    out = pd.DataFrame({"Service": c["label"], "Provider": c["provider"], f"{first} (£)": c["first"],
                        f"{last} (£)": c["last"], "Real change (%)": c["change_pct"]})
    return table_format(out, signed=["Real change (%)"])


CQC_SETTING_WORDS = {"care homes": "care homes", "community services": "community-based services (not only home care)"}


def cost_quality_display(results: ProvisionResults) -> pd.DataFrame:
    """Unit cost by provider type next to the CQC rating share by ownership (different years, said so). The cost
    data have one external figure for every external provider, so it is printed once, on its own row, never beside
    the third-sector or for-profit rating; home-care costs sit beside the CQC's community-based services, which
    include more than home care."""
    rows = []
    last_pss = results.params.year_range[1]
    cost_col = f"Unit cost {financial_year(last_pss)} (£, {results.base} prices)"
    share = f"CQC {results.params.cqc_year}: rated Good or Outstanding (%)"
    lv = f"{results.level:.0%}"
    in_external = "in 'all external providers'"
    for key, setting in (("residential_older", "care homes"), ("home_care", "community services")):
        e = _row(results.england[results.england["year"] == last_pss], key)
        if e is None:
            continue
        q = results.quality[results.quality["setting"] == setting].set_index("ownership")
        unit = UNIT_WORDS[SERIES[key][0]]
        for provider, cost, own in (("in-house (council-run)", e["in_house"], "local authority"),
                                    ("all external providers", e["external"], None),
                                    ("third sector (external)", in_external, "third sector"),
                                    ("for-profit (external)", in_external, "for-profit")):
            r = q.loc[own] if own is not None and own in q.index else None
            rows.append({
                "Service (cost data)": LABELS[key], "Provider": provider, cost_col: cost, "Unit": unit,
                "CQC setting": CQC_SETTING_WORDS[setting],
                share: "see the two rows below" if own is None else np.nan if r is None else r["share"],
                f"{lv} low": "" if own is None else np.nan if r is None else r["ci_low"],
                f"{lv} high": "" if own is None else np.nan if r is None else r["ci_high"],
                "Rated services": "" if own is None else np.nan if r is None else r["total"]})
    return table_format(pd.DataFrame(rows), counts=("Rated services",),
                        intervals={share: (f"{lv} low", f"{lv} high")})


def quality_difference_display(results: ProvisionResults) -> pd.DataFrame:
    """Third sector minus council-run share rated Good or Outstanding, with its Newcombe interval (the test
    CL-MUT-09 is judged on), for the year set beside the costs and the latest year."""
    d = results.quality_differences
    if d is None or d.empty:
        return pd.DataFrame()
    lv = int(round(100 * results.level))

    def stops(r) -> object:
        if not claims.clear(r):
            return "not clear anyway"
        if not np.isfinite(r.break_even_correlation):
            return "never (clear at 1)" if r.break_even_correlation == np.inf else "not checked"
        return f"{r.break_even_correlation:.2f}"  # as the verdict's text gives it

    out = pd.DataFrame({"Setting": d["setting"], "CQC year": d["year"],
                        "Third sector minus council-run (pp)": d["diff"], f"{lv}% low": d["ci_low"],
                        f"{lv}% high": d["ci_high"], "Third-sector services": d["n_third"],
                        "Council-run services": d["n_council"],
                        "Councils running them in-house (activity returns year)": [
                            "no data" if pd.isna(r.councils) else f"{int(r.councils)} ({int(r.councils_year)})"
                            for r in d.itertuples()],
                        "Gap stops being clear above this correlation between a council's services": [
                            stops(r) for r in d.itertuples()]})
    return table_format(out, intervals={"Third sector minus council-run (pp)": (f"{lv}% low", f"{lv}% high")},
                        counts=("Third-sector services", "Council-run services"),
                        signed=["Third sector minus council-run (pp)"])


def closure_status_display(results: ProvisionResults) -> pd.DataFrame:
    return closures.status_counts(results.closures.panel).rename(columns={"status": "Councils by the treatment rule",
                                                                          "councils": "Councils"})


def closure_cohorts_display(results: ProvisionResults) -> pd.DataFrame:
    c = results.closures.panel.cohorts
    return pd.DataFrame({"First year below the closure threshold": c["financial_year"], "Councils": c["councils"]})


DIFF_AFTER = "Difference after closure (%)"


def closure_estimates_display(results: ProvisionResults) -> pd.DataFrame:
    lv = int(round(100 * results.level))
    frames = []
    for est in results.closures.estimates.values():
        s = est.summary
        frames.append(pd.DataFrame({"Outcome": est.label, "Method": s["method"], DIFF_AFTER: s["pct"],
                                    f"{lv}% low": s["pct_low"], f"{lv}% high": s["pct_high"],
                                    "Councils closed": s["n_treated"], "Councils kept": s["n_controls"]}))
    if not frames:
        return pd.DataFrame()
    return table_format(pd.concat(frames, ignore_index=True), intervals={DIFF_AFTER: (f"{lv}% low", f"{lv}% high")},
                        counts=("Councils closed", "Councils kept"), signed=[DIFF_AFTER])


def pretrend_display(results: ProvisionResults) -> pd.DataFrame:
    rows = []
    for est in results.closures.estimates.values():
        rows.append({"Outcome": est.label, "Callaway-Sant'Anna pre-trend Wald test": p_text(est.cs_pretest_p),
                     "Same, cohorts of 5+ councils only": p_text(est.large_cohorts_pretest_p),
                     "TWFE event study, joint test of leads": f"F = {fmt(est.es_pretest_f)}, "
                                                              f"{p_text(est.es_pretest_p)}"
                     if est.es_pretest_f is not None else "not computed"})
    return pd.DataFrame(rows)


def cic_display(results: ProvisionResults) -> pd.DataFrame:
    t = results.cic.largest
    return table_format(pd.DataFrame({
        "Rank": t["rank"], "Organisation": t["organisation"].map(organisation_name),
        "Company number": t["company_number"],
        "Paid c. 2010-2020 (£m)": t["total_paid_gbp"] / 1e6, "Share of all CIC payments (%)": t["share_pct"],
        "Payments": t["n_payments"], "Supplier spellings": t["n_spellings"],
        "Documented NHS spin-out (register row)": t["documented_spinout"].fillna(
            "not documented in the sources used here")}),
        counts=("Payments", "Supplier spellings"))


def cic_summary_display(results: ProvisionResults) -> pd.DataFrame:
    s = results.cic
    rows = [("CICs paid by NHS bodies (payments over £25,000)", fmt(s.n_with_payments, count=True)),
            ("Total paid, c. 2010-2020", fmt(s.total_gbp / 1e9, "£bn")),
            (f"A year on average, over {s.window_years[0]}-{s.window_years[1]} years (a floor: partial files)",
             f"{fmt(s.per_year_gbp[1] / 1e6, '£m', places=0)} to {fmt(s.per_year_gbp[2] / 1e6, '£m', places=0)}"),
            ("Largest CIC's share", fmt(s.top1_share, "%")), ("Ten largest CICs' share", fmt(s.top10_share, "%")),
            ("Twenty largest CICs' share", fmt(s.top20_share, "%")),
            ("Herfindahl-Hirschman index (0-10,000)", fmt(s.hhi, count=True)), ("Gini coefficient", fmt(s.gini)),
            ("Median CIC total", fmt(s.median_gbp / 1e6, "£m")),
            ("CICs paid more than £10m", fmt(s.n_over_10m, count=True)),
            ("CICs paid more than £1m", fmt(s.n_over_1m, count=True)),
            ("Supplier spellings behind the paid CICs (merged by company number)", fmt(s.n_spellings, count=True))]
    return pd.DataFrame(rows, columns=["Measure", "Value"])


def reconciliation_summary(results: ProvisionResults) -> pd.DataFrame:
    r = results.reconciliation
    status = r["status"].str.replace(r"for \d+ missing council\(s\)", "for missing councils", regex=True)
    out = (r.assign(status=status).groupby(["collection", "status"]).agg(
        totals=("measure", "size"), councils_missing=("councils_missing", "sum")).reset_index())
    return out.rename(columns={"collection": "Collection", "status": "England total against the council sum",
                               "totals": "Totals checked", "councils_missing": "Council values missing (sum)"})


# --- Figures -------------------------------------------------------------------------------------

def within_figure(results: ProvisionResults):
    p = results.within.pooled.copy()
    above = int((p["ci_low"] > 1).sum())
    first, last = results.params.years
    few = few_councils_clause(p[p["ci_low"] > 1], above)
    title = (f"Councils' own provision cost more per unit than what they bought in for {above} of {len(p)} services "
             f"({first} to {last}; same council, same year{few})")
    p["label"] = [f"{label} ({int(n)} councils)" for label, n in zip(p["label"], p["n_councils"])]
    basis = (f"a count of services whose own {results.level:.0%} interval (drawn) lies wholly above a ratio of 1; no "
             "single difference is stated")
    return plots.forest(p, "label", "ratio", "ci_low", "ci_high", title,
                        SOURCE_COSTS + f". Ratio of unit costs, own provision / external; {results.level:.0%} "
                        "intervals clustered by council. Right of 1 = own provision dearer (not worse or better "
                        "quality).", xlabel="Own / external unit cost (1 = the same)", null=1.0,
                        n=f"{int(p['n_councils'].max())} councils at most", better="neither",
                        sides=("own provision cheaper", "own provision dearer"), title_basis=basis)


def trend_figure(results: ProvisionResults, series: str):
    t = results.trend[(results.trend["series"] == series)].copy()
    if t.empty:
        return None
    t["line"] = t["provider"] + " (" + t["collection"] + ")"
    t["year_end"] = t["year"]
    ch = results.real_change
    title = f"{LABELS[series]}: England unit cost by provider, {results.base} prices"
    if not ch.empty:
        c = ch[ch["series"] == series].set_index("provider")
        if {"in-house", "external"} <= set(c.index):
            title = (f"{LABELS[series]}: real in-house unit cost changed "
                     f"{fmt(c.loc['in-house', 'change_pct'], '%', places=0)}"
                     f" and external {fmt(c.loc['external', 'change_pct'], '%', places=0)} from "
                     f"{results.params.years[0]} to {results.params.years[1]} (England, councils reporting both "
                     "cost and activity)"
                     + ("; the rescaled 2008-09 hours and a changed mix of in-house work may account for part"
                        if series == "home_care" else ""))
    colours = {f"{p} ({c})": plots.PALETTE[1] if p == "in-house" else plots.PALETTE[0]
               for p in ("in-house", "external") for c in ("PSS-EX1", "ASC-FR")}
    note = (" 2008-09 in-house hours: the table's weekly figure x 52 (its label says annual; the published unit cost "
            "confirms weekly)." if series == "home_care" else "")
    return plots.line_with_band(t, "year_end", "unit_cost_real", "line", title,
                                SOURCE_COSTS + "; 2014-15 from ASC-FR, a new collection (not comparable). Year = "
                                "financial year ending." + note,
                                ylabel=f"£ {UNIT_WORDS[SERIES[series][0]]} ({results.base} prices)",
                                xlabel="Financial year ending", colours=colours)


def pretest_phrase(est) -> str:
    """Each estimator's own pre-trend test: 'Callaway-Sant'Anna pre-trend test p < 0.001; TWFE event study leads
    p = 0.055'."""
    return (f"Callaway-Sant'Anna pre-trend test {p_text(est.cs_pretest_p)}; TWFE event study leads "
            f"{p_text(est.es_pretest_p)}")


def closure_event_times(results: ProvisionResults, est) -> pd.DataFrame:
    """Both estimators' estimates by event time (percent), with the closing councils behind each, and whether it
    is drawn (at least ``closures.MIN_EVENT_COUNCILS`` councils)."""
    cs_n = closures.cs_event_time_councils(est.group_time)
    es_n = closures.event_time_councils(results.closures.panel)
    dyn = est.dynamic.assign(estimator="Callaway-Sant'Anna")
    dyn["councils"] = dyn["event_time"].map(cs_n)
    es = est.event_study.rename(columns={"relative_time": "event_time"}).assign(estimator="TWFE event study")
    es["councils"] = es["event_time"].map(es_n)
    cols = ["event_time", "estimate", "ci_low", "ci_high", "estimator", "councils"]
    both = pd.concat([dyn[cols], es[cols]], ignore_index=True)
    for col in ("estimate", "ci_low", "ci_high"):
        both[col] = 100 * (np.exp(both[col]) - 1)
    both["drawn"] = both["councils"].fillna(0) >= closures.MIN_EVENT_COUNCILS
    return both


def few_event_times(results: ProvisionResults) -> list[int]:
    """Event times left out of the closure charts because fewer than ``closures.MIN_EVENT_COUNCILS`` closing councils
    stand behind them (either estimator)."""
    if not results.closures.supported or not results.closures.estimates:
        return []
    est = next(iter(results.closures.estimates.values()))
    t = closure_event_times(results, est)
    return sorted(int(x) for x in t.loc[~t["drawn"], "event_time"].unique())


def _event_times_words(times: list[int]) -> str:
    words = [f"{t:+d}" for t in times]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def closure_figures(results: ProvisionResults) -> list:
    figs = []
    closure = results.closures
    if not closure.supported:
        return figs
    for est in closure.estimates.values():
        both = closure_event_times(results, est)
        left_out = both[~both["drawn"]]
        shown = both[both["drawn"]].drop(columns="drawn")
        pre = est.cs_pretest_p
        tests = pretest_phrase(est)
        verdict = ("paths differed before closing" if pre is not None and pre < 0.05
                   else "no clear sign of different paths before closing")
        title = f"{est.label.split(' (')[0]} by years since closure: {verdict} ({tests})"
        note = ""
        if len(left_out):
            times = sorted(int(x) for x in left_out["event_time"].unique())
            note = (f" Years since closure {_event_times_words(times)} are not drawn: fewer than "
                    f"{closures.MIN_EVENT_COUNCILS} closing councils stand behind them.")
        figs.append(plots.event_study(shown, title, SOURCE_COSTS + f". {closure.panel.n_treated} councils closed or "
                                      f"sold their homes, {closure.panel.n_controls} kept them; "
                                      f"{results.level:.0%} intervals." + note, series="estimator",
                                      ylabel="Difference from councils that kept their homes (%)",
                                      n=closure.panel.n_treated + closure.panel.n_controls))
    return figs


def cic_figure(results: ProvisionResults):
    t = results.cic.largest.copy()
    t["name"] = t["organisation"].map(organisation_name).str.slice(0, 45)
    t["value"] = t["total_paid_gbp"] / 1e6
    s = results.cic
    title = (f"The ten largest of {s.n_with_payments} NHS-funded CICs took {fmt(s.top10_share, '%', places=0)} of "
             f"{fmt(s.total_gbp / 1e9, '£bn')} paid c. 2010-2020")
    return plots.bars(t, "name", "value", title,
                      SOURCE_CIC + ". Payments over £25,000 only; totals over the whole window; no sampling interval "
                      "(a census of the files).", xlabel="Total paid (£m)", n=s.n_with_payments)
