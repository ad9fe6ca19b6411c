"""The whole mutuals-versus-in-house analysis, as the notebook runs it.

``analyse(params)`` runs every real-data comparison (and the panel methods when
a researcher's panel is given, or on SIMULATED data when asked), and returns a
``MutualsResults``; ``key_findings`` and the figure and text helpers turn the
results into findings, charts and sentences whose numbers are computed, never typed.

Words: "social enterprise" is an organisation in the NHS Staff Survey's social-
enterprise benchmark groups (the community-health spin-outs and NAViGO); "third
sector" is the CQC ownership category (charities, social enterprises and mutuals
alike). The CQC data cannot identify mutuals, so nothing about the third sector is
said of mutuals.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import data, plots, provenance
from analysis.claims import Verdict, verdict_counts, verdict_table
from analysis.data.staff_survey import ITEMS_BY_KEY
from analysis.findings import Finding, clear_difference, difference_phrase
from analysis.mutuals import claims, externalisation, multiplicity, ratings, sensitivity, staff
from analysis.mutuals.panel import (PanelColumns, aggregate, callaway_santanna, did_2x2, read_panel_csv,
                                    synthetic_control, twfe, twfe_event_study, validate_panel)
from analysis.mutuals.panel.simulate import simulate_staggered_panel
from analysis.mutuals.params import MutualsParameters
from analysis.precision import decimals, fmt, fmt_interval

SOURCE_STAFF = "NHS Staff Survey 2021-24 organisational results (NHS England; merged by Badgett et al.)"
SOURCE_CQC = "Care Quality Commission ratings by ownership (compiled by B. Goodair)"
SOURCE_CARE_HOMES = "Bach-Mortensen, Goodair & Degli Esposti replication data (CQC)"
SOURCE_EXT = "NHS Digital PSS-EX1 / ASC-FR, harmonised by B. Goodair"
COMMUNITY_SETTINGS = ("Community (blank in source)", "Home care", "Day care")
CARE_HOME_SETTINGS = ("Residential", "Nursing")
OWNERSHIP_NAMES = {"local authority": "council-run", "third sector": "third-sector", "for-profit": "for-profit"}
SERVICE_TRUSTS = {"community": "community trusts", "mental health": "mental-health trusts"}


@dataclass
class PanelResults:
    label: str
    simulated: bool
    did: object | None
    twfe: object
    group_time: pd.DataFrame
    dynamic: object
    overall_group: object
    event_study: object
    synth: object | None
    pretest_p: float | None
    notes: list[str] = field(default_factory=list)


def run_panel_methods(panel, label: str, simulated: bool, treated_unit: str | None, control_group: str,
                      level: float, seed: int) -> PanelResults:
    notes = []
    try:
        did = did_2x2(panel, level=level)
    except Exception as exc:  # staggered panels have no single 2x2
        did, _ = None, notes.append(f"2x2 DiD not shown: {exc}")
    tw = twfe(panel, level=level)
    gt = callaway_santanna(panel, control_group=control_group, level=level)
    notes += gt.notes
    dyn = aggregate(gt, "dynamic", uniform_bands=True, seed=seed)
    grp = aggregate(gt, "group")
    es = twfe_event_study(panel, level=level)
    sc = None
    cohorts = panel.unit_cohorts()
    # Default: a unit from the latest cohort, which has the most pre-adoption periods to fit on.
    latest = cohorts[cohorts == cohorts.max()] if (cohorts > 0).any() else cohorts.iloc[:0]
    unit = treated_unit or (str(latest.index[0]) if len(latest) else None)
    if unit is not None:
        try:
            sc = synthetic_control(panel, unit, seed=seed)
        except Exception as exc:
            notes.append(f"Synthetic control not shown: {exc}")
    return PanelResults(label, simulated, did, tw, gt.att, dyn, grp, es, sc, gt.pretest_p_value, notes)


@dataclass
class MutualsResults:
    params: MutualsParameters
    comparisons: dict[str, pd.DataFrame]  # per service: one row per item, raw and FDR-adjusted p-values
    patterns: dict[str, multiplicity.DirectionPattern]
    sensitivity: dict[str, pd.DataFrame]  # per service with two or more social enterprises
    shares: dict[str, pd.DataFrame]  # each organisation's share of its group's responses
    focus: staff.FocusComparison | None
    spread: dict[str, pd.DataFrame]
    cqc_shares: pd.DataFrame
    cqc_models: dict
    cqc_clustering: pd.DataFrame
    care_homes: pd.DataFrame
    care_home_clustering: pd.DataFrame
    national: pd.DataFrame
    councils: pd.DataFrame
    national_change: pd.DataFrame
    panel: PanelResults | None
    simulated: PanelResults | None
    verdicts: list[Verdict]

    @property
    def level(self) -> float:
        return self.params.confidence_level

    @property
    def alpha(self) -> float:
        return round(1 - self.params.confidence_level, 10)


def analyse(params: MutualsParameters) -> MutualsResults:
    figures = data.load_figures()
    claims_table = data.load_claims()
    survey = data.load("staff_survey")
    years = tuple(params.survey_years)
    level, alpha = params.confidence_level, round(1 - params.confidence_level, 10)
    items = list(params.outcomes)
    comparisons, patterns, robustness, shares = {}, {}, {}, {}
    for svc in params.comparisons:
        table = staff.compare_items(survey, svc, items, years, level, params.n_permutations, params.seed)
        table["domain"] = [ITEMS_BY_KEY[k].domain for k in table["item"]]
        comparisons[svc] = multiplicity.add_adjusted_p_values(table, alpha)
        patterns[svc] = multiplicity.direction_pattern(comparisons[svc], alpha)
        shares[svc] = sensitivity.response_shares(survey, svc, years)
        if int(table["n_social_enterprises"].max()) >= 2:
            robustness[svc] = sensitivity.weighting_and_leave_one_out(
                survey, svc, items, years, level, params.n_permutations, params.seed, main=table)
    spread = {svc: staff.organisation_spread(survey, svc, params.outcomes[0], years) for svc in params.comparisons}
    focus = staff.organisation_vs_benchmark(survey, params.focus_organisation, items, years, level)

    cqc_years = tuple(params.cqc_years)
    shares_by_year = ratings.good_share_by_year(data.load("cqc_ratings_by_year"), cqc_years, level)
    inspection_years = (cqc_years[0] - 1, cqc_years[1] + 1)
    models = ratings.inspection_models(data.load("cqc_community_inspections"), inspection_years, level)
    provision = data.load("provision_shares")
    community_councils = ratings.councils_with_inhouse(provision, COMMUNITY_SETTINGS, inspection_years)
    cqc_clustering = ratings.council_clustering_sensitivity(
        models["logit"], models["design"], models["clusters"], models["ownership"], community_councils["median"], level)
    cqc_clustering.attrs["councils"] = community_councils
    closures = data.load("cqc_care_home_closures")
    homes = ratings.care_home_cross_section(closures, level)
    fit, X, rated = ratings._care_home_fit(closures)
    home_councils = ratings.councils_with_inhouse(provision, CARE_HOME_SETTINGS, (2010, 2023))
    home_clustering = ratings.council_clustering_sensitivity(
        fit, X, None, rated["ownership"].astype(str).to_numpy(), home_councils["median"], level)
    home_clustering.attrs["councils"] = home_councils
    national = externalisation.national_inhouse_share(data.load("national_expenditure"))
    councils = externalisation.council_distribution(provision)
    change = externalisation.change_within_era(national, "in_house_share", "setting")

    panel_results = None
    if params.panel_path:
        cols = PanelColumns(params.panel_unit_column, params.panel_time_column, params.panel_outcome_column,
                            params.panel_treated_column)
        panel = read_panel_csv(params.panel_path, cols)
        panel_results = run_panel_methods(panel, f"your panel ({params.panel_path})", False, params.panel_treated_unit,
                                          params.panel_control_group, params.confidence_level, params.seed)
    simulated = None
    if params.simulated_appendix:
        provenance.record_simulated("Appendix: panel methods on a simulated staggered-adoption panel")
        sim = validate_panel(simulate_staggered_panel(n_units=120, n_periods=20, cohorts={12: 30, 16: 30}, effect=2.0,
                                                      noise=0.5, seed=params.seed, dynamic=0.3, unit_sd=0.5))
        simulated = run_panel_methods(sim, "SIMULATED panel (true effect 2 + 0.3 per period of exposure)", True,
                                      None, "nevertreated", params.confidence_level, params.seed)

    n_se = int(survey.loc[survey["provider_model"] == "social enterprise", "ods_code"].nunique())
    verdicts = claims.assess_claims(
        claims_table, figures, community=comparisons.get("community"), focus=focus.table, focus_name=focus.organisation,
        cqc_models=models["table"], cqc_shares=shares_by_year, n_survey_social_enterprises=n_se,
        mental_health=comparisons.get("mental health"), survey=survey, survey_years=years)
    return MutualsResults(params, comparisons, patterns, robustness, shares, focus, spread, shares_by_year, models,
                          cqc_clustering, homes, home_clustering, national, councils, change, panel_results, simulated,
                          verdicts)


# --- Key findings, headlines and text ------------------------------------------------------------

def _group_names(results: MutualsResults, service: str) -> tuple[str, str]:
    """How to name the two sides of a staff comparison: one organisation is named as such."""
    table = results.comparisons[service]
    reference = f"{int(table['n_trusts'].max())} NHS {SERVICE_TRUSTS[service]}"
    if int(table["n_social_enterprises"].max()) < 2:
        name = results.shares[service].query("social_enterprise == 1")["organisation_latest"].iloc[0]
        return f"{name} (the only {service.replace(' ', '-')} social enterprise in the survey)", reference
    return f"{int(table['n_social_enterprises'].max())} {service} social enterprises", reference


def pattern_text(results: MutualsResults, service: str) -> str:
    """The pattern of directions for one comparison, for each inference, raw and adjusted, and the lean."""
    pattern = results.patterns[service]
    one = int(results.comparisons[service]["n_social_enterprises"].max()) < 2
    subject = _group_names(results, service)[0].split(" (")[0] if one else "the social enterprises"
    sentences = [multiplicity.inference_sentence(p, pattern.alpha, subject=subject, reference="the trusts")
                 for p in pattern.by_inference.values() if p.tested]
    sentences.append(multiplicity.lean_sentence(pattern, subject=subject))
    return " ".join(sentences)


def key_findings(results: MutualsResults) -> list[Finding]:
    """The 3-6 findings the report opens with, each with its number, interval (or why none), source and limit."""
    findings = []
    years = results.params.survey_years
    period = f"{years[0]}-{str(years[1])[-2:]}"
    if "community" in results.comparisons:
        pattern = results.patterns["community"]
        clustered = pattern.by_inference["p_value"]
        randomised = pattern.by_inference["p_randomisation"]
        n_se = int(results.comparisons["community"]["n_social_enterprises"].max())
        one_way = [f"all {n} {multiplicity.DOMAIN_NAMES.get(d, d)}" for d, (w, n) in pattern.leaning_by_domain.items()
                   if n >= 2 and w == n]
        remain = clustered.worse_adjusted + clustered.better_adjusted
        text = (f"Staff in community social enterprises did not report better experiences than staff in NHS community "
                f"trusts ({period}); if anything, worse. The point estimates lean worse on {pattern.leaning_worse} of "
                f"{pattern.items} staff-survey items" + (f" ({' and '.join(one_way)} items)" if one_way else "")
                + f", and {clustered.worse} are worse at p < {pattern.alpha:g} on clustered standard errors, "
                f"{multiplicity._count(clustered.better)} better. But {multiplicity._count(remain)} "
                f"{'survives' if remain == 1 else 'survive'} adjustment for {clustered.tested} comparisons, and the "
                f"randomisation test, the more reliable with {n_se} social enterprises, finds "
                f"{multiplicity._count(randomised.worse + randomised.better)}. No sign of the 'liberated' workforce "
                "ministers described; no proof of a worse one either.")
        findings.append(Finding(
            "mutuals_staff_pattern", text, SOURCE_STAFF, "Survey starts years after the spin-outs, so it shows "
            "differences, not the effect of spinning out; items are correlated.", value=float(clustered.worse),
            no_interval_reason=f"a count of items out of {clustered.tested}; each item's interval is in the "
                               "staff-survey table"))
        robust = results.sensitivity.get("community")
        if robust is not None:
            findings.append(Finding(
                "mutuals_staff_robustness", sensitivity.robustness_sentence(
                    robust, results.shares["community"], subject="community social enterprises"),
                SOURCE_STAFF, "Checks the weighting and single organisations, not selection into spinning out.",
                value=float(robust.loc[robust["analysis"] == sensitivity.EQUAL, "clustered_worse"].iloc[0]),
                no_interval_reason="a count of items under alternative weightings"))
    if "mental health" in results.comparisons:
        pattern = results.patterns["mental health"]
        randomised = pattern.by_inference["p_randomisation"]
        subject, reference = _group_names(results, "mental health")
        name = subject.split(" (")[0]
        findings.append(Finding(
            "mutuals_mental_health_one_organisation",
            f"The mental-health comparison is one organisation, {name}, against {reference}: on randomisation "
            f"inference it scored better on {randomised.better} and worse on {randomised.worse} of {randomised.tested} "
            f"items at p < {pattern.alpha:g}, and {multiplicity._count(randomised.better_adjusted + randomised.worse_adjusted)} remain "
            f"after adjusting for {randomised.tested} comparisons. It says something about {name}, nothing about "
            "mental-health social enterprises as a group.", SOURCE_STAFF,
            f"One organisation: no group-level conclusion; with {int(results.comparisons['mental health']['n_trusts'].max()) + 1} "
            "organisations the smallest possible randomisation p-value is about "
            f"{1 / (int(results.comparisons['mental health']['n_trusts'].max()) + 1):.2f}.",
            value=float(randomised.better), no_interval_reason="a count of items; one organisation has no "
                                                               "group-level interval"))
    ts = _cqc_term(results, "third sector")
    if ts is not None:
        clustering = results.cqc_clustering[(results.cqc_clustering["term"] == "third sector")]
        break_even = clustering["break_even_correlation"].iloc[0]
        strong = clustering[clustering["correlation"] == 1.0].iloc[0]
        what = (f"Chance of a Good or Outstanding CQC rating (community-based adult social care, "
                f"{_years(results.cqc_models['table'])}, adjusted for year, re-inspection and time registered)")
        text = difference_phrase(what, "third-sector services", "council-run (in-house) services", ts["difference_pp"],
                                 ts["diff_ci_low"], ts["diff_ci_high"], level=results.level) + ". "
        if np.isfinite(break_even):
            estimate, interval = _difference_cells(strong["difference_pp"], strong["diff_ci_low"], strong["diff_ci_high"])
            text += (f"The data cannot cluster by council; if a council's own services are correlated with each "
                     f"other, the interval reaches zero once that correlation passes {break_even:.2f}; treating each "
                     f"council as one observation gives {estimate} pp, interval {interval} pp.")
        source = SOURCE_CQC
        homes = results.care_home_clustering
        home = homes[homes["term"] == "third sector"]
        if not home.empty and np.isfinite(home["break_even_correlation"].iloc[0]):
            h = home.iloc[0]
            estimate, interval = _difference_cells(h["difference_pp"], h["diff_ci_low"], h["diff_ci_high"])
            text += (f" For care homes the third-sector gap ({estimate} pp, interval {interval} pp) is more fragile: "
                     f"it stops being clear at a correlation of {h['break_even_correlation']:.2f}.")
            source = f"{SOURCE_CQC}; {SOURCE_CARE_HOMES}"
        findings.append(Finding(
            "mutuals_cqc_third_sector", text, source, "The third sector is charities, social enterprises and "
            "mutuals together, so this says nothing about mutuals; ownership was not randomly assigned.",
            value=float(ts["difference_pp"]), low=float(ts["diff_ci_low"]), high=float(ts["diff_ci_high"]),
            level=results.level, unit="pp"))
    counts = verdict_counts(results.verdicts)
    if counts:
        listed = ", ".join(f"{n} {v}" for v, n in counts.items())
        findings.append(Finding(
            "mutuals_verdicts", f"Of {len(results.verdicts)} claims about mutuals in the source articles, on "
            f"independent evidence: {listed}. No claim that mutuals raised productivity or satisfaction has independent "
            "support; the figures offered come from the government's own programme or from the mutuals themselves.",
            "Evidence register (data/evidence/figures.csv, claims.csv) and the analyses in this report",
            "A verdict judges the claim as worded against the evidence found, not the policy.",
            value=float(len(results.verdicts)), no_interval_reason="a count of claims"))
    return findings


def _years(table: pd.DataFrame) -> str:
    first, last = table.attrs.get("years", ("?", "?"))
    return f"inspections {first}-{last}"


def _cqc_term(results: MutualsResults, term: str):
    logit = results.cqc_models["table"]
    rows = logit[logit["model"].str.startswith("logit") & (logit["term"] == term)]
    return None if rows.empty else rows.iloc[0]


def headlines(results: MutualsResults) -> list[dict]:
    """Headline numbers for the run index: each with its interval and source."""
    out = []
    community = results.comparisons.get("community")
    if community is not None and "burnout" in set(community["item"]):
        burnout = community.set_index("item").loc["burnout"]
        out.append(dict(key="mutuals_burnout_gap", label="Burnout (often/always), one of the staff-survey items: "
                        "community social enterprises minus NHS community trusts", value=burnout["difference_pp"],
                        unit="pp", low=burnout["ci_low"], high=burnout["ci_high"], level=results.level,
                        source=SOURCE_STAFF + " (binomial GLM, year effects, clustered by organisation)"))
    ts = _cqc_term(results, "third sector")
    if ts is not None:
        out.append(dict(key="mutuals_cqc_third_sector", label="Third-sector community services vs council in-house: "
                        "difference in chance of Good/Outstanding", value=ts["difference_pp"], unit="pp",
                        low=ts["diff_ci_low"], high=ts["diff_ci_high"], level=results.level,
                        source=SOURCE_CQC + " (logit, year and re-inspection controls, clustered by location)"))
    return out


def verdicts_table(results: MutualsResults) -> pd.DataFrame:
    return verdict_table(results.verdicts)


def comparison_summary(results: MutualsResults, service: str) -> str:
    """The comparison in words: who against whom, the pattern for each inference, and the one-organisation caveat."""
    table = results.comparisons[service]
    years = results.params.survey_years
    subject, reference = _group_names(results, service)
    text = f"{subject[0].upper()}{subject[1:]} against {reference}, {years[0]}-{years[1]}. " + pattern_text(results, service)
    if service in results.sensitivity:
        text += " " + sensitivity.robustness_sentence(results.sensitivity[service], results.shares[service],
                                                      subject="the social enterprises")
    if int(table["n_social_enterprises"].max()) < 2:
        text += (" This is one organisation against a benchmark, not a comparison of models of provision: its "
                 "clustered confidence intervals are not valid, so only the randomisation test is used.")
    return text


def _aligned(table: pd.DataFrame) -> pd.DataFrame:
    """Differences signed so that positive = worse for the social enterprises (whatever the item's direction)."""
    sign = np.where(table["higher_is_better"].astype(bool), -1.0, 1.0)
    out = table.copy()
    out["worse_pp"] = sign * table["difference_pp"]
    low, high = sign * table["ci_low"], sign * table["ci_high"]
    out["worse_low"], out["worse_high"] = np.minimum(low, high), np.maximum(low, high)
    return out


def staff_forest(results: MutualsResults, service: str):
    table = _aligned(results.comparisons[service])
    table["label_short"] = [ITEMS_BY_KEY[k].label.split(" (")[0] for k in table["item"]]
    pattern = results.patterns[service]
    clustered, randomised = pattern.by_inference["p_value"], pattern.by_inference["p_randomisation"]
    subject, reference = _group_names(results, service)
    if table["worse_low"].isna().all():  # one organisation: estimates only (randomisation p in the table)
        table["worse_low"] = table["worse_high"] = table["worse_pp"]
        title = (f"{subject.split(' (')[0]} (one organisation) vs {reference}: better on {randomised.better} and "
                 f"worse on {randomised.worse} of {randomised.tested} items at randomisation p < {pattern.alpha:g}; "
                 f"{multiplicity._count(randomised.better_adjusted + randomised.worse_adjusted)} after adjusting for "
                 f"{randomised.tested}")
    else:
        title = (f"{service.capitalize()} social enterprises vs {reference}: worse on {clustered.worse}, better on "
                 f"{clustered.better} of {clustered.tested} items at p < {pattern.alpha:g} (clustered); "
                 f"{multiplicity._count(clustered.worse_adjusted + clustered.better_adjusted)} after adjusting for "
                 f"{clustered.tested}; {multiplicity._count(randomised.worse + randomised.better)} on randomisation "
                 "inference")
    n_se = int(results.comparisons[service]["n_social_enterprises"].max())
    n = f"{n_se} social enterprise{'s' if n_se > 1 else ''}, {int(results.comparisons[service]['n_trusts'].max())} trusts"
    bars = ("bars are clustered confidence intervals" if n_se > 1 else
            "no bars: one organisation has no valid clustered interval (see the randomisation p-values)")
    return plots.forest(table, "label_short", "worse_pp", "worse_low", "worse_high", title,
                        SOURCE_STAFF + ". Signs flipped for items where more is better, so right = worse for "
                        f"social-enterprise staff on every row; {bars}.",
                        xlabel="\u2190 better for social-enterprise staff  |  worse \u2192   (percentage points)", n=n)


def focus_figure(results: MutualsResults, item: str):
    table = results.focus.table
    part = table[table["item"] == item]
    if part.empty:
        return None
    long = pd.concat([
        pd.DataFrame({"year": part["year"], "value": part["organisation_rate"], "low": part["ci_low"],
                      "high": part["ci_high"], "series": results.focus.organisation}),
        pd.DataFrame({"year": part["year"], "value": part["benchmark_median"], "low": part["benchmark_q1"],
                      "high": part["benchmark_q3"], "series": "Comparable trusts (median, IQR)"}),
        pd.DataFrame({"year": part["year"], "value": part["national_trust_average"], "low": np.nan, "high": np.nan,
                      "series": "All NHS trusts (respondent-weighted mean)"}),
    ])
    last = part.iloc[-1]
    label = ITEMS_BY_KEY[item].label.split(" (")[0]
    national = last["national_trust_average"]
    title = difference_phrase(f"{label}, {int(last['year'])}", results.focus.organisation, "the all-trust average",
                              last["organisation_rate"] - national, last["ci_low"] - national,
                              last["ci_high"] - national, level=results.level)
    return plots.line_with_band(long, "year", "value", "series", title, SOURCE_STAFF + "; organisation interval: "
                                "Wilson on responses (too narrow if weighting cuts the effective sample)",
                                low="low", high="high", ylabel="Percent of staff", xlabel="Survey year", percent=True,
                                n=f"{int(part['benchmark_n'].max())} comparable trusts")


def _newcombe(good1: float, n1: float, good2: float, n2: float, level: float) -> tuple[float, float, float]:
    """Difference of two proportions (percentage points) with Newcombe's hybrid-score interval (method 10)."""
    p1, p2 = good1 / n1, good2 / n2
    l1, u1 = staff.wilson(p1, n1, level)
    l2, u2 = staff.wilson(p2, n2, level)
    d = p1 - p2
    return 100 * d, 100 * (d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)), 100 * (d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2))


def cqc_share_figure(results: MutualsResults, setting: str):
    df = results.cqc_shares[results.cqc_shares["setting"] == setting].copy()
    df["ownership"] = df["ownership"].astype(str)
    last = df[df["year"] == df["year"].max()].sort_values("share", ascending=False)
    first, second = last.iloc[0], last.iloc[1]
    diff, lo, hi = _newcombe(first["good"], first["total"], second["good"], second["total"], results.level)
    year = int(first["year"])
    title = difference_phrase(f"{setting.capitalize()} rated Good or Outstanding at the end of {year}",
                              f"{OWNERSHIP_NAMES.get(first['ownership'], first['ownership'])} providers",
                              f"{OWNERSHIP_NAMES.get(second['ownership'], second['ownership'])} providers", diff, lo, hi,
                              level=results.level)
    return plots.line_with_band(df, "year", "share", "ownership", title, SOURCE_CQC + "; year-end snapshots; "
                                "intervals: Wilson (shares), Newcombe (difference in title)",
                                low="ci_low", high="ci_high", ylabel="Rated Good or Outstanding (%)", xlabel="Year",
                                colours=plots.OWNERSHIP_COLOURS, percent=True,
                                n=f"{int(last['total'].sum()):,} rated services in {year}")


def externalisation_figure(results: MutualsResults):
    df = results.national[results.national["setting"].isin(["Total over 65", "Home care",
                                                             "Residential care home placements"])].copy()
    df["series"] = df["setting"] + " (" + df["collection"] + ")"
    change = results.national_change
    total = change[(change["setting"] == "Total over 65") & (change["collection"] == "PSS-EX1")]
    title = "Councils' own (in-house) share of spend on older people's care, by collection era"
    if not total.empty:
        t = total.iloc[0]
        title = (f"In-house share of 65+ care spend fell from {fmt(t['from'], '%')} ({t['from_year']}) to "
                 f"{fmt(t['to'], '%')} ({t['to_year']}); the 2015 collection change breaks the series")
    return plots.line_with_band(df, "year", "in_house_share", "series", title, SOURCE_EXT + "; cash terms, England; "
                                "administrative totals (no sampling error)",
                                ylabel="In-house share of spend (%)", xlabel="Year ending", percent=True)


def panel_figures(panel: PanelResults) -> list:
    figs = []
    dyn = panel.dynamic.detail.copy()
    dyn["estimator"] = "Callaway-Sant'Anna"
    es = panel.event_study.coefficients.rename(columns={"relative_time": "event_time"})
    es["estimator"] = "TWFE event study"
    both = pd.concat([dyn[["event_time", "estimate", "ci_low", "ci_high", "estimator"]],
                      es[["event_time", "estimate", "ci_low", "ci_high", "estimator"]]])
    pre_p = panel.pretest_p
    title = (f"Effects by time since adoption; pre-trend test p = {pre_p:.2f}" if pre_p is not None
             else "Effects by time since adoption")
    figs.append(plots.event_study(both, title, panel.label, series="estimator", simulated=panel.simulated))
    if panel.synth is not None:
        sc = panel.synth
        bg = None
        if sc.placebos is not None:
            rows = []
            for r in sc.placebos.itertuples():
                for t, g in zip(sc.path["time"], r.gaps):
                    rows.append({"time": t, "gap": g, "unit": r.unit})
            bg = pd.DataFrame(rows)
        title = (f"Synthetic control for {sc.treated_unit}: average post-adoption gap {sc.att:+.2f}, placebo p = "
                 f"{sc.p_value:.2f}" if sc.p_value is not None else f"Synthetic control for {sc.treated_unit}")
        figs.append(plots.paths(sc.path.assign(zero=0.0), "time", {"gap": f"{sc.treated_unit} minus synthetic"},
                                title, panel.label + "; grey lines: placebo gaps for each donor", vline=sc.adoption - 0.5,
                                ylabel="Gap (treated minus synthetic)", simulated=panel.simulated, background=bg,
                                background_y="gap", background_group="unit"))
    return figs


def panel_summary_table(panel: PanelResults) -> pd.DataFrame:
    rows = []
    if panel.did is not None:
        d = panel.did
        rows.append({"method": d.method, "estimate": d.estimate, "ci_low": d.ci_low, "ci_high": d.ci_high,
                     "se": d.se, "se_type": d.se_type, "p_value": d.p_value, "wild_bootstrap_p": d.wild_bootstrap_p,
                     "note": d.note})
    t = panel.twfe
    rows.append({"method": t.method, "estimate": t.estimate, "ci_low": t.ci_low, "ci_high": t.ci_high, "se": t.se,
                 "se_type": t.se_type, "p_value": t.p_value, "wild_bootstrap_p": t.wild_bootstrap_p, "note": t.note})
    for agg, name in ((panel.overall_group, "Callaway-Sant'Anna: overall (group-weighted)"),
                      (panel.dynamic, "Callaway-Sant'Anna: average over exposure lengths")):
        lo, hi = agg.overall_ci
        rows.append({"method": name, "estimate": agg.overall, "ci_low": lo, "ci_high": hi, "se": agg.overall_se,
                     "se_type": "analytic influence function", "note": ""})
    if panel.synth is not None:
        sc = panel.synth
        rows.append({"method": f"Synthetic control ({sc.treated_unit})", "estimate": sc.att, "ci_low": np.nan,
                     "ci_high": np.nan, "se": np.nan, "se_type": f"placebo p = {sc.p_value:.3f}",
                     "note": f"pre-period RMSPE {sc.pre_rmspe:.3g}"})
    return pd.DataFrame(rows)




# --- Compact tables for the report --------------------------------------------------------------

def _interval_text(estimate, lo, hi, unit: str = "") -> str:
    if pd.isna(lo) or pd.isna(hi):
        return "not valid (one organisation)"
    places = decimals(estimate, lo, hi)
    return f"{fmt(lo, unit, places=places)} to {fmt(hi, unit, places=places)}"


def _estimate_text(estimate, lo, hi, unit: str = "") -> str:
    if pd.isna(lo) or pd.isna(hi):
        return fmt(estimate, unit)
    return fmt(estimate, unit, places=decimals(estimate, lo, hi))


def _signed(value, places: int | None = None) -> str:
    """A difference with its sign (+2.3, -0.4), rounded by the precision rule."""
    return fmt(value, "pp", places=places).removesuffix(" pp")


def _difference_cells(estimate, lo, hi) -> tuple[str, str]:
    if pd.isna(lo) or pd.isna(hi):
        return _signed(estimate), "not valid (one organisation)"
    places = decimals(estimate, lo, hi)
    return _signed(estimate, places), f"{_signed(lo, places)} to {_signed(hi, places)}"


def _p(p) -> str:
    """A p-value to two significant figures, '<0.001' below that; missing = 'not valid'."""
    if pd.isna(p):
        return "not valid"
    if p < 0.001:
        return "<0.001"
    return f"{p:.2g}" if p < 0.1 else f"{p:.2f}"


def staff_display(results: MutualsResults, service: str) -> pd.DataFrame:
    """Item by item: both rates, the difference with its interval, the direction, and raw and adjusted p-values."""
    t = results.comparisons[service]
    level = int(round(100 * results.level))
    good = (t["difference_pp"] > 0) == t["higher_is_better"].astype(bool)
    return pd.DataFrame({
        "Staff-survey item": t["label"],
        "Social enterprises (%)": [fmt(v, places=1) for v in t["social_enterprise_rate"]],
        "NHS trusts (%)": [fmt(v, places=1) for v in t["trust_rate"]],
        "Difference (pp)": [_difference_cells(e, lo, hi)[0] for e, lo, hi in
                            zip(t["difference_pp"], t["ci_low"], t["ci_high"])],
        f"{level}% interval (pp)": [_difference_cells(e, lo, hi)[1] for e, lo, hi in
                                    zip(t["difference_pp"], t["ci_low"], t["ci_high"])],
        "Leans": np.where(t["difference_pp"] == 0, "neither", np.where(good, "better", "worse")),
        "p (clustered)": [_p(v) for v in t["p_value"]],
        "p adjusted (clustered)": [_p(v) for v in t["p_value_fdr"]],
        "p (randomisation)": [_p(v) for v in t["p_randomisation"]],
        "p adjusted (randomisation)": [_p(v) for v in t["p_randomisation_fdr"]],
        "p (wild bootstrap)": [_p(v) for v in t["p_wild_bootstrap"]],
        "p adjusted (wild bootstrap)": [_p(v) for v in t["p_wild_bootstrap_fdr"]],
    })


def sensitivity_display(results: MutualsResults, service: str) -> pd.DataFrame:
    """Pattern counts under each weighting and without each organisation (clustered and randomisation)."""
    t = results.sensitivity[service]
    return pd.DataFrame({
        "Analysis": t["analysis"],
        "Share of its group's responses": [("" if pd.isna(s) else f"{s:.0%}") for s in t["share_of_group_responses"]],
        "Worse / better at p < 0.05 (clustered)": [f"{int(w)} / {int(b)}" for w, b in
                                                  zip(t["clustered_worse"], t["clustered_better"])],
        "After adjustment (clustered)": [f"{int(w)} / {int(b)}" for w, b in
                                         zip(t["clustered_worse_adjusted"], t["clustered_better_adjusted"])],
        "Worse / better (randomisation)": [f"{int(w)} / {int(b)}" for w, b in
                                           zip(t["randomisation_worse"], t["randomisation_better"])],
        "Point estimates leaning worse": [f"{int(n)} of {int(i)}" for n, i in zip(t["leaning_worse"], t["items"])],
    }).rename(columns=lambda c: c.replace("0.05", f"{t.attrs.get('alpha', 0.05):g}"))


def focus_display(results: MutualsResults) -> pd.DataFrame:
    """One row per item: the organisation's percentage each year, the all-trust average and the gap in the last year."""
    t = results.focus.table
    wide = t.pivot_table(index=["item", "label"], columns="year", values="organisation_rate").reset_index()
    last_year = int(t["year"].max())
    last = t[t["year"] == last_year].set_index("item")
    out = pd.DataFrame({"Item": wide["label"]})
    for year in sorted(c for c in wide.columns if isinstance(c, (int, np.integer))):
        out[f"{results.focus.organisation.split(' ')[0]} {year} (%)"] = [fmt(v, places=1) for v in wide[year]]
    gap = last.loc[wide["item"]]
    lo, hi = gap["ci_low"] - gap["national_trust_average"], gap["ci_high"] - gap["national_trust_average"]
    out[f"All NHS trusts {last_year} (%)"] = [fmt(v, places=1) for v in gap["national_trust_average"]]
    out[f"Difference {last_year} (pp)"] = [fmt_interval(d, a, b, "pp") for d, a, b in
                                           zip(gap["difference_from_national_pp"], lo, hi)]
    out[f"Percentile among trusts {last_year}"] = [fmt(v, places=0) for v in gap["percentile_among_trusts"]]
    order = {k: i for i, k in enumerate(results.params.outcomes)}
    return out.iloc[np.argsort([order.get(k, 99) for k in wide["item"]], kind="stable")].reset_index(drop=True)


def ratings_display(table: pd.DataFrame) -> pd.DataFrame:
    has_model = "model" in table
    out = pd.DataFrame({
        "Model": table["model"] if has_model else "logit: Good or Outstanding",
        "Term (vs council in-house)": table["term"],
        "Odds ratio": [_estimate_text(e, lo, hi) for e, lo, hi in zip(table["odds_ratio"], table["ci_low"], table["ci_high"])],
        "Odds ratio interval": [_interval_text(e, lo, hi) for e, lo, hi in
                                zip(table["odds_ratio"], table["ci_low"], table["ci_high"])],
        "Difference (pp)": [("" if pd.isna(e) else _difference_cells(e, lo, hi)[0]) for e, lo, hi in
                            zip(table["difference_pp"], table["diff_ci_low"], table["diff_ci_high"])],
        "Difference interval (pp)": [("" if pd.isna(e) else _difference_cells(e, lo, hi)[1]) for e, lo, hi in
                                     zip(table["difference_pp"], table["diff_ci_low"], table["diff_ci_high"])],
        "p": [_p(v) for v in table["p_value"]],
    })
    return out


def clustering_display(table: pd.DataFrame) -> pd.DataFrame:
    """The ownership differences' intervals as the assumed correlation between a council's own services rises."""
    rows = []
    for (rho, deff), part in table.groupby(["correlation", "design_effect"], sort=True):
        row = {"Correlation between a council's services": "none beyond each service (as fitted)" if rho == 0
               else ("1 (each council counts once)" if rho == 1 else f"{rho:g}"),
               "Design effect on the council-run part": fmt(deff, places=1)}
        for r in part.itertuples():
            row[f"{r.term.capitalize()} minus council-run"] = fmt_interval(r.difference_pp, r.diff_ci_low,
                                                                           r.diff_ci_high, "pp")
        rows.append(row)
    return pd.DataFrame(rows)


def clustering_text(table: pd.DataFrame, what: str) -> str:
    """Why the clustering level matters here, what the data allow, and where the difference stops being clear."""
    councils = table.attrs["councils"]
    unit = "home" if "home" in what.lower() else "service"
    text = (f"{what}: the CQC files identify each {unit} but neither the provider nor the council that runs it, so "
            "standard errors cannot be clustered by council (nor two-way by council and service). Council-run services "
            "share management, budgets and commissioners, so their ratings are likely correlated; the coarser cluster "
            "(the council) is the right one. The table shows how the intervals widen under that correlation: "
            f"{table.attrs['reference_clusters']:,} council-run {'locations' if 'ommunity' in what else 'homes'} "
            f"shared among about {fmt(councils['median'], count=True)} councils running such {unit}s in-house "
            f"(median of {councils['low']}-{councils['high']} a year, {councils['years']}, council activity returns), "
            f"about {fmt(table.attrs['per_council'], places=1)} per council. ")
    for term, part in table.groupby("term", sort=False):
        base = part[part["correlation"] == 0].iloc[0]
        break_even = base["break_even_correlation"]
        if not clear_difference(base["diff_ci_low"], base["diff_ci_high"]):
            text += f"The {OWNERSHIP_NAMES.get(term, term)} difference is not clear even before this adjustment. "
        elif not np.isfinite(break_even) or break_even > 1:
            text += f"The {OWNERSHIP_NAMES.get(term, term)} difference stays clear even if each council counts once. "
        else:
            text += (f"The {OWNERSHIP_NAMES.get(term, term)} difference stops being clear once the correlation between "
                     f"a council's {unit}s passes {break_even:.2f}. ")
    return text + ("Third-sector and for-profit providers also run many locations each, which would widen their side "
                   "of the intervals too.")


def staff_caveats(results: MutualsResults) -> list[str]:
    """What the staff comparison cannot show, with the counts of this run."""
    years = results.params.survey_years
    def size(svc: str, t: pd.DataFrame) -> str:
        n = int(t["n_social_enterprises"].max())
        return (f"{n} {svc.replace(' ', '-')} social enterprise{'s' if n != 1 else ''} against "
                f"{int(t['n_trusts'].max())} trusts")

    sizes = "; ".join(size(svc, t) for svc, t in results.comparisons.items())
    return [
        f"No before-and-after: the survey items start in {years[0]}, years after the spin-outs (2006-2015).",
        "Selection and survivorship: organisations chose to spin out, and only survivors are observed.",
        f"Few organisations ({sizes}): clustered standard errors can be too small with so few, hence the "
        "randomisation test; with one organisation, only the randomisation test is valid.",
        f"Many comparisons: {len(results.params.outcomes)} items, so p-values are also given after the "
        "Benjamini-Hochberg false-discovery-rate adjustment.",
        "Item-level percentages derived by the data's compilers, weighted by occupation group; not the official theme "
        "scores.",
        "Nothing here measures cost or productivity.",
    ]
