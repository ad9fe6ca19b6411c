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
from analysis.claims import Verdict, verdict_groups, verdict_table
from analysis.data.staff_survey import ITEMS_BY_KEY
from analysis.findings import Finding, clear_difference
from analysis.mutuals import claims, externalisation, multiplicity, ratings, sensitivity, staff
from analysis.mutuals.panel import (
    PanelColumns,
    aggregate,
    callaway_santanna,
    did_2x2,
    read_panel_csv,
    synthetic_control,
    twfe,
    twfe_event_study,
    validate_panel,
)
from analysis.mutuals.panel.simulate import simulate_staggered_panel
from analysis.mutuals.params import MutualsParameters
from analysis.precision import decimals, fmt, fmt_p, table_format

SOURCE_STAFF = "NHS Staff Survey 2021-24 organisational results (NHS England; merged by Badgett et al.)"
SOURCE_CQC = "Care Quality Commission ratings by ownership (compiled by B. Goodair)"
SOURCE_CARE_HOMES = "Bach-Mortensen, Goodair & Degli Esposti replication data (CQC)"
SOURCE_EXT = "NHS Digital PSS-EX1 / ASC-FR, harmonised by B. Goodair"
COMMUNITY_SETTINGS = ratings.COUNCIL_SETTINGS["community services"]
CARE_HOME_SETTINGS = ratings.COUNCIL_SETTINGS["care homes"]
OWNERSHIP_NAMES = {"local authority": "council-run", "third sector": "third-sector", "for-profit": "for-profit"}
SERVICE_TRUSTS = staff.TRUST_NAMES


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
    claims_judged_in_costs: int = 0  # claims about mutuals whose verdict is in the provision-costs report
    snapshot_check: dict | None = None  # last year-end snapshot, community services: third sector minus council-run
    care_home_snapshot: dict | None = None  # the same for care homes
    care_home_unadjusted: dict | None = None  # the care-home model's own file, unadjusted: third sector minus council

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
    inspection_years = cqc_years  # the same years as the snapshots, as the parameter says
    models = ratings.inspection_models(data.load("cqc_community_inspections"), inspection_years, level)
    provision = data.load("provision_shares")
    community_councils = ratings.councils_with_inhouse(provision, COMMUNITY_SETTINGS, inspection_years)
    cqc_clustering = ratings.council_clustering_sensitivity(
        models["logit"], models["design"], models["clusters"], models["ownership"], community_councils["count"], level)
    cqc_clustering.attrs["councils"] = community_councils
    care_home_models = ratings.care_home_models(data.load("cqc_care_home_closures"), provision, level)
    homes, home_clustering = care_home_models["table"], care_home_models["clustering"]
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
        mental_health=comparisons.get("mental health"), survey=survey, survey_years=years,
        benchmark=staff.benchmark_phrase(focus),
        pooled_benchmark=f"the average of {staff.pooled_benchmark_phrase(focus, years)} (each trust counted once)")
    in_costs = int(((claims_table["topic"] == "mutuals")
                    & claims_table["analysis"].astype(str).str.startswith("analysis.costs")).sum())
    return MutualsResults(params, comparisons, patterns, robustness, shares, focus, spread, shares_by_year, models,
                          cqc_clustering, homes, home_clustering, national, councils, change, panel_results, simulated,
                          verdicts, in_costs, _snapshot_check(shares_by_year, provision, level),
                          _snapshot_check(shares_by_year, provision, level, "care homes"),
                          care_home_models["unadjusted"])


def _snapshot_check(shares: pd.DataFrame, provision: pd.DataFrame, level: float,
                    setting: str = "community services") -> dict | None:
    """The last year-end snapshot's difference in one setting, third sector minus council-run (unadjusted,
    Newcombe), with its council clustering check: the measure the provision-costs verdict on CL-MUT-09 gives as later
    context."""
    last = shares[(shares["setting"] == setting) & (shares["year"] == shares["year"].max())].set_index("ownership")
    if not {"third sector", "local authority"} <= set(last.index):
        return None
    year = int(shares["year"].max())
    councils, used = ratings.councils_nearest_year(provision, ratings.COUNCIL_SETTINGS[setting], year)
    third, council = last.loc["third sector"], last.loc["local authority"]
    check = ratings.snapshot_clustering(third["good"], third["total"], council["good"], council["total"], councils,
                                        level)
    return {**check, "year": year, "councils": councils, "councils_year": used, "third_share": third["share"],
            "council_share": council["share"]}


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
    # The tests that stay valid with few organisations first, then the clustered model (fourth cold review).
    order = [*VALID_WITH_FEW, *(c for c in pattern.by_inference if c not in VALID_WITH_FEW)]
    sentences = [multiplicity.inference_sentence(pattern.by_inference[c], pattern.alpha, subject=subject,
                                                 reference="the trusts")
                 for c in order if c in pattern.by_inference and pattern.by_inference[c].tested]
    sentences.append(multiplicity.lean_sentence(pattern, subject=subject))
    return " ".join(sentences)


def _points_phrase(estimate: float, low: float, high: float, level: float, *, more: str, less: str) -> str:
    """'4.3 percentage points less likely (95% interval 1.5 to 7.1 points less)' when the interval is on one side,
    otherwise 'no clearly different (95% interval 2.0 points less to 1.0 more)'; rounded by the rule."""
    places = decimals(estimate, low, high)
    size = fmt(abs(estimate), places=places)
    lvl = f"{level:.0%} interval"
    if clear_difference(low, high):
        word = more if estimate > 0 else less
        near, far = sorted((abs(low), abs(high)))
        return (f"{size} percentage points {word} ({lvl} {fmt(near, places=places)} to {fmt(far, places=places)} "
                f"points {word.split()[0]})")
    return (f"not clearly different ({lvl} {fmt(abs(low), places=places)} points {less.split()[0]} to "
            f"{fmt(abs(high), places=places)} {more.split()[0]})")


def key_findings(results: MutualsResults) -> list[Finding]:
    """The 3-6 findings the report opens with: each one or two sentences with its number and interval (or why
    none), a source, and one clause on what it cannot show. Details are in the body of the report."""
    findings = []
    years = results.params.survey_years
    period = f"{years[0]}-{str(years[1])[-2:]}"
    alpha = f"{results.alpha:g}"
    if "community" in results.comparisons:
        pattern = results.patterns["community"]
        clustered = pattern.by_inference["p_value"]
        findings.append(Finding(
            "mutuals_staff_pattern", staff_pattern_finding(results, "community", period=period),
            SOURCE_STAFF, "The survey starts years after the spin-outs, so it shows differences between organisations, "
            "not the effect of spinning out.", value=float(clustered.worse_adjusted + clustered.better_adjusted),
            no_interval_reason=f"a count of items out of {clustered.tested}; each item's interval is in the "
                               "staff-survey table"))
        robust = results.sensitivity.get("community")
        if robust is not None:
            text, kept = leave_one_out_finding(results, "community")
            findings.append(Finding(
                "mutuals_staff_robustness", text,
                SOURCE_STAFF, "These checks test the weighting and single organisations, not why organisations "
                "chose to spin out.", value=float(kept),
                no_interval_reason="a count of leave-one-out runs"))
    if "mental health" in results.comparisons:
        pattern = results.patterns["mental health"]
        randomised = pattern.by_inference["p_randomisation"]
        subject, _ = _group_names(results, "mental health")
        name = subject.split(" (")[0]
        remain = randomised.better_adjusted + randomised.worse_adjusted
        table = results.comparisons["mental health"]
        n_trusts = int(table["n_trusts"].max())
        n_orgs = n_trusts + 1
        at_floor, exact = randomisation_floor(results, "mental health")
        floor = 1 / n_orgs
        bound = "can fall below" if exact else "can fall much below"
        floor_clause = (f", though with one organisation among {n_orgs} no randomisation p-value {bound} "
                        f"1/{n_orgs} ({floor:.3f}), and it was at that floor (the most extreme of the {n_orgs}) "
                        f"on {at_floor} item{'s' if at_floor != 1 else ''}" if remain == 0 and at_floor else "")
        benchmark = f"the average NHS mental-health trust ({n_trusts} trusts surveyed in {period}, each counted once)"
        if remain == 0:
            lead = (f"{name}, the only mental-health social enterprise in the survey, is not clearly different from "
                    f"{benchmark} on any of the {randomised.tested} items once the {randomised.tested} comparisons "
                    f"are allowed for (randomisation test){floor_clause}.")
        else:
            lead = (f"{name}, the only mental-health social enterprise in the survey, differs clearly from "
                    f"{benchmark} on {remain} of {randomised.tested} items once the comparisons are allowed for "
                    f"(randomisation test): better on {randomised.better_adjusted} and worse on "
                    f"{multiplicity._count(randomised.worse_adjusted)}.")
        raw = (f" Before that allowance it scored better on {randomised.better} items and worse on "
               f"{multiplicity._count(randomised.worse)} (p < {alpha}).")
        findings.append(Finding(
            "mutuals_mental_health_one_organisation", lead + raw,
            SOURCE_STAFF, "One organisation says nothing about mental-health social enterprises as a group.",
            value=float(remain), no_interval_reason="a count of items; one organisation has no group-level interval"))
    ts = _cqc_term(results, "third sector")
    if ts is not None:
        clustering = results.cqc_clustering[(results.cqc_clustering["term"] == "third sector")]
        break_even = clustering["break_even_correlation"].iloc[0]
        said = _points_phrase(ts["difference_pp"], ts["diff_ci_low"], ts["diff_ci_high"], results.level,
                              more="more likely", less="less likely")
        first, last = results.cqc_models["table"].attrs.get("years", ("?", "?"))
        text = (f"Community-based care services run by the third sector were {said} than council-run services to be "
                f"rated Good or Outstanding by the CQC (every rated inspection {first}-{last}, adjusted for year, "
                "re-inspection and years registered)")
        if np.isfinite(break_even) and clear_difference(ts["diff_ci_low"], ts["diff_ci_high"]):
            text += (f"; but the gap stops being clear if the services one council runs are rated alike (a "
                     f"correlation between them above {break_even:.2f}), which the data cannot rule out")
        snap = results.snapshot_check
        if snap is not None:
            text += (f". On the unadjusted year-end {snap['year']} snapshot, the measure the provision-costs report "
                     "gives as later context to its verdict on CL-MUT-09 (judged on the ratings nearest the claim), "
                     "they were "
                     + _points_phrase(snap["difference_pp"], snap["ci_low"], snap["ci_high"], results.level,
                                      more="higher", less="lower"))
        text += "." + _care_home_finding(results)
        findings.append(Finding(
            "mutuals_cqc_third_sector", text, SOURCE_CQC + "; " + SOURCE_CARE_HOMES, "The third sector is "
            "charities, social enterprises and mutuals together, so this says nothing about mutuals; ownership was "
            "not randomly assigned.",
            value=float(ts["difference_pp"]), low=float(ts["diff_ci_low"]), high=float(ts["diff_ci_high"]),
            level=results.level, unit="pp"))
    if results.verdicts:
        elsewhere = (f" {results.claims_judged_in_costs} more, on productivity, quality, cost and scale, are judged "
                     "in the provision-costs report." if results.claims_judged_in_costs else "")
        # Tallied by kind of claim, as the verdict section and the run index tally them (analysis.claims).
        findings.append(Finding(
            "mutuals_verdicts", "No claim that mutuals raised productivity or satisfaction has independent support. "
            f"Of the {len(results.verdicts)} claims about mutuals judged here, "
            f"{'; '.join(g.text for g in verdict_groups(results.verdicts))}."
            + elsewhere,
            "Evidence register (data/evidence/figures.csv, claims.csv) and the analyses in this report",
            "A verdict judges the claim as worded against the evidence found, not the policy.",
            value=float(len(results.verdicts)), no_interval_reason="a count of claims"))
    return findings


VALID_WITH_FEW = {"p_randomisation": "randomisation", "p_wild_bootstrap": "wild bootstrap"}
"""The tests that stay valid with few organisations (the clustered standard errors do not)."""


def staff_pattern_finding(results: MutualsResults, service: str, *, period: str) -> str:
    """The staff-survey key finding, led by the tests that stay valid with few organisations (randomisation, wild
    bootstrap), then the clustered model's raw pattern and what survives the allowance for the comparisons."""
    pattern = results.patterns[service]
    clustered = pattern.by_inference["p_value"]
    table = results.comparisons[service]
    n_se, n_trusts = int(table["n_social_enterprises"].max()), int(table["n_trusts"].max())
    alpha = f"{pattern.alpha:g}"
    valid = [(name, pattern.by_inference[col]) for col, name in VALID_WITH_FEW.items()
             if col in pattern.by_inference and pattern.by_inference[col].tested]
    names = " and ".join(name for name, _ in valid)
    who = (f"Staff in {n_se} {service} social enterprises and {n_trusts} NHS {SERVICE_TRUSTS[service]} "
           f"({period})")
    if valid and all(p.worse + p.better == 0 for _, p in valid):
        text = (f"{who} showed no clear difference on any of the {clustered.tested} survey items under the tests that "
                f"stay valid with few organisations ({names}).")
    elif valid:
        text = (f"{who}: under the tests that stay valid with few organisations, "
                + "; ".join(f"{name}, the social enterprises scored worse on {p.worse} of {p.tested} items and "
                            f"better on {multiplicity._count(p.better)} (p < {alpha}), "
                            f"{multiplicity._count(p.worse_adjusted + p.better_adjusted)} after allowing for the "
                            f"{p.tested} comparisons" for name, p in valid) + ".")
    else:
        text = f"{who}: only the clustered model could be run."
    remain = clustered.worse_adjusted + clustered.better_adjusted
    after = (f"on none once the {clustered.tested} comparisons are allowed for" if remain == 0 else
             f"on {remain} once the {clustered.tested} comparisons are allowed for")
    text += (f" In the clustered model, whose standard errors can be too small with so few organisations, they "
             f"scored worse on {clustered.worse} items and better on {multiplicity._count(clustered.better)} at p < "
             f"{alpha}, {'but ' if remain == 0 and clustered.worse + clustered.better else ''}{after}.")
    return text


def leave_one_out_finding(results: MutualsResults, service: str) -> tuple[str, int]:
    """The leave-one-out spread in words: in how many runs no item stays clearly different after the adjustment
    (clustered), which organisations' absence changes that and how, and equal weighting and the largest social
    enterprise's absence. Returns the text and the number of runs with no item left."""
    robust = results.sensitivity[service]
    alpha = f"{robust.attrs.get('alpha', results.alpha):g}"
    loo = robust[robust["left_out"] != ""]
    adjusted = (loo["clustered_worse_adjusted"] + loo["clustered_better_adjusted"]).astype(int)
    kept = int((adjusted == 0).sum())
    items = int(robust["items"].max())
    n_se, n_trusts = int((loo["group"] == "social enterprise").sum()), int((loo["group"] == "NHS trust").sum())
    text = (f"In {kept} of the {len(loo)} leave-one-out runs (each of the {n_se} social enterprises and {n_trusts} "
            "trusts left out in turn), no item "
            f"stays clearly different in the clustered model after allowing for the {items} comparisons")
    changed = loo[adjusted > 0].assign(adjusted=adjusted[adjusted > 0]).sort_values("adjusted", ascending=False)
    if not changed.empty:
        def one(row) -> str:
            worse, better = int(row["clustered_worse_adjusted"]), int(row["clustered_better_adjusted"])
            way = ("all worse" if better == 0 else "all better" if worse == 0 else f"{worse} worse, {better} better")
            randomised = int(row["randomisation_worse"] + row["randomisation_better"])
            randomised_adj = int(row["randomisation_worse_adjusted"] + row["randomisation_better_adjusted"])
            test = (f"; {randomised} at p < {alpha} on the randomisation test, "
                    f"{multiplicity._count(randomised_adj)} after the adjustment" if randomised else
                    f"; none at p < {alpha} on the randomisation test")
            kind = "an NHS trust" if row["group"] == "NHS trust" else "a social enterprise"
            return f"{row['analysis'].removeprefix('Without ')} ({kind}) gives {int(row['adjusted'])} ({way}{test})"
        shown = [one(r) for _, r in changed.head(3).iterrows()]
        rest = changed["adjusted"].iloc[3:]
        text += "; leaving out " + " and leaving out ".join(shown)
        if len(rest):
            span = f"{int(rest.min())}" if rest.min() == rest.max() else f"{int(rest.min())} to {int(rest.max())}"
            text += f", and {len(rest)} other runs give {span} each"
    text += "."
    equal = robust[robust["analysis"] == sensitivity.EQUAL].iloc[0]
    largest = results.shares[service].query("social_enterprise == 1").iloc[0]
    without = robust[robust["left_out"] == largest["ods_code"]]
    checks = [("With each organisation counted equally", equal)]
    if not without.empty:
        checks.append((f"without {largest['organisation_latest']} ({fmt(100 * largest['group_share'], places=0)}% of "
                       "social-enterprise responses)", without.iloc[0]))
    if all(_items(row) == _items(checks[0][1]) for _, row in checks):
        text += (" " + " or ".join(what for what, _ in checks)
                 + f", {_items(checks[0][1], verb=True)} even at p < {alpha}.")
    else:
        text += " " + "; ".join(f"{what}, {_items(row, verb=True)} at p < {alpha}" for what, row in checks) + "."
    return text, kept


def randomisation_floor(results: MutualsResults, service: str) -> tuple[int, bool]:
    """With one organisation among n, how many items sit at the randomisation test's floor of 1/n (the organisation
    the most extreme of the n), and whether the p-values are exact (every relabelling enumerated)."""
    table = results.comparisons[service]
    n_orgs = int(table["n_trusts"].max()) + 1
    p = table["p_randomisation"].dropna()
    exact = bool(table.get("randomisation_exact", pd.Series([False])).all())
    floor = 1 / n_orgs
    at = np.isclose(p, floor, rtol=1e-9) if exact else p <= 1.5 * floor
    return int(np.sum(at)), exact


def randomisation_note(results: MutualsResults, service: str) -> str:
    """How the randomisation p-values were computed: exact over every relabelling, or a Monte Carlo estimate."""
    table = results.comparisons[service]
    if "randomisation_exact" not in table or table["p_randomisation"].isna().all():
        return ""
    possible = int(table["randomisation_possible"].max())
    if bool(table["randomisation_exact"].all()):
        return (f"p (randomisation): exact, from all {possible:,} ways of putting the social-enterprise label on "
                "the organisations")
    used = int(table["randomisation_relabellings"].max())
    return (f"p (randomisation): estimated from {used:,} random relabellings of the {possible:,} possible (too many "
            "to enumerate), so it carries a little sampling error of its own")


def staff_source(results: MutualsResults, service: str) -> str:
    """The staff table's source line: which way each difference runs and how the p-values were computed."""
    note = randomisation_note(results, service)
    return (SOURCE_STAFF + ". Difference: social enterprises minus trusts, in percentage points (pp); 'worse for "
            "social-enterprise staff by' turns it so that above 0 is worse whichever way the item runs. p adjusted: "
            "Benjamini-Hochberg false-discovery rate across the items." + (f" {note}." if note else ""))


def _care_home_finding(results: MutualsResults) -> str:
    """The key finding's care-home sentence, led by the conclusion: whether either measure clearly shows a gap once
    a council's homes may be alike, then the year-end snapshot and the model with where it stops being clear."""
    model, snap = _care_home_gap(results), results.care_home_snapshot
    if model is None:
        return ""
    said = _points_phrase(model["difference_pp"], model["ci_low"], model["ci_high"], results.level,
                          more="more likely", less="less likely")
    rho = model["break_even_correlation"]
    clear = clear_difference(model["ci_low"], model["ci_high"])
    fragile = clear and np.isfinite(rho) and rho <= 1
    snap_clear = snap is not None and clear_difference(snap["ci_low"], snap["ci_high"])
    model_text = (f"a model of the one rating recorded for each home registered 2010-2023, adjusted for size and type "
                  f"of care, finds third-sector homes {said} to be rated Good or Outstanding")
    if fragile:
        model_text += f", a gap that stops being clear above a correlation of {rho:.2f} between a council's homes"
    if snap is not None and not snap_clear and (fragile or not clear):
        return (" For care homes, neither measure clearly shows third-sector homes rated differently from council-run "
                f"ones once a council's homes may be even slightly alike: at the end of {snap['year']} there was no "
                f"clear difference (the year-end snapshot), and {model_text}.")
    text = f" For care homes, {model_text}"
    if snap is not None:
        text += (f"; at the end of {snap['year']} third-sector homes were " + _points_phrase(
            snap["difference_pp"], snap["ci_low"], snap["ci_high"], results.level, more="higher", less="lower"))
    return text + "."


def _items(row, *, verb: bool = False) -> str:
    """'no item is clearly worse or better' / '2 items are worse and none better' at p < alpha (clustered)."""
    worse, better = int(row["clustered_worse"]), int(row["clustered_better"])
    if worse + better == 0:
        return "no item is clearly worse or better" if verb else "no item clearly worse or better"
    return (f"{worse} item{'s' if worse != 1 else ''} {'are ' if verb and worse != 1 else 'is ' if verb else ''}"
            f"worse and {multiplicity._count(better)} better")


def _years(table: pd.DataFrame) -> str:
    first, last = table.attrs.get("years", ("?", "?"))
    return f"inspections {first}-{last}"  # the cqc_years parameter, as used for the model


def _cqc_term(results: MutualsResults, term: str):
    logit = results.cqc_models["table"]
    rows = logit[logit["model"].str.startswith("logit") & (logit["term"] == term)]
    return None if rows.empty else rows.iloc[0]


def headlines(results: MutualsResults) -> list[dict]:
    """Headline numbers for the run index: each with its interval (or why none) and source.

    Only what the report can state: the CQC ownership difference (with its interval), and the staff-survey
    pattern as the count of items still clearly different after allowing for the number of comparisons (a single
    item such as burnout, picked from 18, would headline a difference its interval does not support)."""
    out = []
    ts = _cqc_term(results, "third sector")
    if ts is not None:
        table = results.cqc_models["table"]
        first, last = table.attrs.get("years", ("?", "?"))
        out.append(dict(key="mutuals_cqc_third_sector", label="Third-sector community services against council-run "
                        "ones: difference (third sector minus council-run) in the chance of a Good or Outstanding "
                        "rating at inspection, adjusted for "
                        f"year, re-inspection and years registered (percentage points; every rated inspection "
                        f"{first}-{last}, not the unadjusted year-end snapshot)",
                        value=ts["difference_pp"], unit="pp", period=_years(table),
                        low=ts["diff_ci_low"], high=ts["diff_ci_high"], level=results.level,
                        source=SOURCE_CQC + " (logit, year and re-inspection controls, clustered by location)"))
    if "community" in results.patterns:
        clustered = results.patterns["community"].by_inference["p_value"]
        out.append(dict(key="mutuals_staff_items_adjusted", label="Staff-survey items on which community social "
                        "enterprises differ clearly from NHS community trusts once the "
                        f"{clustered.tested} comparisons are allowed for (false-discovery rate)",
                        value=float(clustered.worse_adjusted + clustered.better_adjusted), count=True,
                        no_interval_reason=f"a count of items out of {clustered.tested}",
                        source=SOURCE_STAFF + " (binomial GLM, year effects, clustered by organisation)"))
    return out


def verdicts_table(results: MutualsResults) -> pd.DataFrame:
    return verdict_table(results.verdicts)


def comparison_summary(results: MutualsResults, service: str) -> str:
    """The comparison in words: who against whom, the pattern for each inference, and the one-organisation caveat."""
    table = results.comparisons[service]
    years = results.params.survey_years
    subject, reference = _group_names(results, service)
    text = (f"{subject[0].upper()}{subject[1:]} against {reference}, {years[0]}-{years[1]}. "
            + pattern_text(results, service))
    if service in results.sensitivity:
        text += " " + sensitivity.robustness_sentence(results.sensitivity[service], results.shares[service],
                                                      subject="the social enterprises")
    if int(table["n_social_enterprises"].max()) < 2:
        text += (" This is one organisation against a benchmark, not a comparison of models of provision: its "
                 "clustered confidence intervals are not valid, so only the randomisation test is used.")
        n_orgs = int(table["n_trusts"].max()) + 1
        if bool(table.get("randomisation_exact", pd.Series([False])).all()):
            text += (f" Its p-values are exact (all {n_orgs} relabellings enumerated), so none can fall below "
                     f"1/{n_orgs} ({1 / n_orgs:.3f}); with {len(table)} items, the adjustment for many comparisons "
                     f"can be passed only if at least {int(np.ceil(len(table) / n_orgs / results.alpha - 1e-9))} "
                     "items sit at that floor.")
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
    """Every item's difference, signed so that right is worse for social-enterprise staff; the title counts items
    by their p-values (its basis says so: it states no single difference)."""
    table = _aligned(results.comparisons[service])
    table["label_short"] = [ITEMS_BY_KEY[k].label.split(" (")[0] for k in table["item"]]
    pattern = results.patterns[service]
    clustered, randomised = pattern.by_inference["p_value"], pattern.by_inference["p_randomisation"]
    subject, reference = _group_names(results, service)
    alpha = f"{pattern.alpha:g}"
    if table["worse_low"].isna().all():  # one organisation: estimates only (randomisation p in the table)
        table["worse_low"] = table["worse_high"] = table["worse_pp"]
        remain = randomised.better_adjusted + randomised.worse_adjusted
        years = results.params.survey_years
        title = (f"{subject.split(' (')[0]} (one organisation) against {reference} surveyed in {years[0]}-"
                 f"{str(years[1])[-2:]}: better on {randomised.better} "
                 f"and worse on {multiplicity._count(randomised.worse)} of {randomised.tested} items at randomisation "
                 f"p < {alpha}; {multiplicity._count(remain)} once {randomised.tested} comparisons are allowed for")
        basis = ("counts of items by their randomisation p-values, raw and adjusted for the number of items "
                 "(table below)")
    else:
        remain = clustered.worse_adjusted + clustered.better_adjusted
        valid = [(name, pattern.by_inference[col]) for col, name in VALID_WITH_FEW.items()
                 if col in pattern.by_inference and pattern.by_inference[col].tested]
        names = " or ".join(name for name, _ in valid)
        lead = (f"no item clearly different on {names} at p < {alpha}" if all(p.worse + p.better == 0 for _, p in valid)
                else "; ".join(f"{name}: worse on {p.worse}, better on {multiplicity._count(p.better)}"
                               for name, p in valid))
        title = (f"{service.capitalize()} social enterprises against {reference}: {lead}; clustered, worse on "
                 f"{clustered.worse} and better on {multiplicity._count(clustered.better)} of {clustered.tested} "
                 f"items at p < {alpha}, {multiplicity._count(remain)} once {clustered.tested} comparisons are "
                 "allowed for")
        basis = ("counts of items by their p-values (clustered, adjusted for the number of items, and randomisation); "
                 "each item's interval is drawn")
    n_se = int(results.comparisons[service]["n_social_enterprises"].max())
    n_trusts = int(results.comparisons[service]["n_trusts"].max())
    n = f"{n_se} social enterprise{'s' if n_se > 1 else ''}, {n_trusts} trusts"
    bars = ("bars are clustered confidence intervals" if n_se > 1 else
            "no bars: one organisation has no valid clustered interval (see the randomisation p-values)")
    return plots.forest(table, "label_short", "worse_pp", "worse_low", "worse_high", title,
                        SOURCE_STAFF + ". Signs flipped for items where more is better, so right = worse for "
                        f"social-enterprise staff on every row; {bars}.",
                        xlabel="Difference for social-enterprise staff (percentage points; right = worse)", n=n,
                        better="left", better_label="better for social-enterprise staff", worse_label="worse",
                        title_basis={"reason": basis})


def benchmark_name(results: MutualsResults) -> str:
    """'mental-health trusts' / 'community trusts': the focus organisation's own kind of trust."""
    return staff.benchmark_name(results.focus)


def _focus_last_year(results: MutualsResults) -> int:
    return int(results.focus.table["year"].max())


def benchmark_phrase(results: MutualsResults) -> str:
    """'the median of the 50 mental-health trusts surveyed in 2024': the one benchmark of the levels (the chart,
    the table and the verdict on the claim), in the words every one of them uses."""
    return staff.benchmark_phrase(results.focus)


def benchmark_text(results: MutualsResults) -> str:
    """The focus organisation's benchmark, defined once: which trusts, which years, which statistic and why, and
    why the pooled test counts a different number of trusts."""
    focus = results.focus
    short = focus.organisation.split(" ")[0]
    peers = benchmark_name(results)
    year = _focus_last_year(results)
    years = results.params.survey_years
    text = (f"**The benchmark.** {short} is compared with NHS {peers}, the kind of trust it is, through the median "
            "trust: the trust in the middle, each trust counted once whatever its size, because the question is where "
            f"{short} stands among trusts of its kind (an average weighted by staff numbers would describe the "
            "average staff member and be set by the largest trusts). The charts show the median and the middle half "
            f"of the trusts surveyed each year; the table and the verdict on the claim compare {short}'s {year} "
            f"percentages with {benchmark_phrase(results)} and give the share of those trusts scoring better than "
            f"{short}. ")
    pooled = staff.pooled_benchmark_phrase(focus, tuple(years))
    absent = focus.absent_last_year
    text += f"The staff-survey comparison above pools {years[0]}-{years[1]}, so its sample is {pooled}"
    if len(absent) == 1:
        text += (f", one more than in {year} because {absent[0][0]} was surveyed separately only until "
                 f"{absent[0][1]}")
    elif absent:
        text += f", including {len(absent)} not surveyed in {year}"
    text += (f"; its randomisation test compares {short} with the average of those trusts, each trust counted once. "
             "The average across all NHS trusts, acute trusts included and weighted by respondents, is context only.")
    return text


def focus_title(results: MutualsResults) -> str:
    """The focus table's title: the organisation, its benchmark and the year of the benchmark."""
    years = results.focus.table["year"]
    return (f"{results.focus.organisation}, {int(years.min())}-{int(years.max())}, against "
            f"{benchmark_phrase(results)}, by item")


def focus_figure(results: MutualsResults, item: str):
    """The organisation's rate each year against its own kind of trust (median and middle half), with the
    all-trust average as context. The title states levels, not a difference: with one organisation only the
    randomisation test (in the staff table) can compare it with the trusts, and the Wilson band describes the
    organisation's own rate."""
    table = results.focus.table
    part = table[table["item"] == item]
    if part.empty:
        return None
    peers = benchmark_name(results)
    long = pd.concat([
        pd.DataFrame({"year": part["year"], "value": part["organisation_rate"], "low": part["ci_low"],
                      "high": part["ci_high"], "series": results.focus.organisation}),
        pd.DataFrame({"year": part["year"], "value": part["benchmark_median"], "low": part["benchmark_q1"],
                      "high": part["benchmark_q3"], "series": f"{peers.capitalize()} (median, middle half)"}),
        pd.DataFrame({"year": part["year"], "value": part["national_trust_average"], "low": np.nan, "high": np.nan,
                      "series": "All NHS trusts, including acute (respondent-weighted mean; context only)"}),
    ])
    last = part.iloc[-1]
    label = ITEMS_BY_KEY[item].label.split(" (")[0]
    title = (f"{label}, {int(last['year'])}: {results.focus.organisation} {fmt(last['organisation_rate'], '%')}, "
             f"against {fmt(last['benchmark_median'], '%')}, {benchmark_phrase(results)} "
             f"({fmt(last['benchmark_share_better'], '%')} of them score better)")
    basis = {"reason": "levels and a rank, not a tested difference: one organisation has no valid interval for a "
                       "difference; its randomisation p-values are in the staff-survey table"}
    return plots.line_with_band(long, "year", "value", "series", title, SOURCE_STAFF + "; organisation band: "
                                "Wilson interval on its own rate (too narrow if weighting cuts the effective sample); "
                                f"{peers}: median and interquartile range (the middle half)",
                                low="low", high="high", ylabel="Percent of staff", xlabel="Survey year", percent=True,
                                n=_trusts_by_year(results), title_basis=basis)


def _trusts_by_year(results: MutualsResults) -> str:
    """'50 mental-health trusts in 2024 (51 in 2021-2023)': the benchmark's size each year, grouped."""
    counts = results.focus.benchmark_trusts
    peers = benchmark_name(results)
    groups: dict[int, list[int]] = {}
    for year, n in sorted(counts.items()):
        groups.setdefault(n, []).append(year)
    last = max(counts)
    parts = [f"{counts[last]} {peers} in {last}"]
    for n, yrs in groups.items():
        yrs = [y for y in yrs if y != last]
        if yrs:
            parts.append(f"{n} in {yrs[0]}" + (f"-{yrs[-1]}" if len(yrs) > 1 else ""))
    return parts[0] + (f" ({'; '.join(parts[1:])})" if len(parts) > 1 else "")


def _newcombe(good1: float, n1: float, good2: float, n2: float, level: float) -> tuple[float, float, float]:
    """Difference of two proportions (percentage points) with Newcombe's hybrid-score interval (method 10)."""
    p1, p2 = good1 / n1, good2 / n2
    l1, u1 = staff.wilson(p1, n1, level)
    l2, u2 = staff.wilson(p2, n2, level)
    d = p1 - p2
    low = d - np.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + np.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return 100 * d, 100 * low, 100 * high


def cqc_share_figure(results: MutualsResults, setting: str):
    """Year-end shares rated Good or Outstanding by ownership; the title gives the last year's gap as third sector
    minus council-run (the suite's one direction for CQC gaps), with its Newcombe interval worded the same way."""
    df = results.cqc_shares[results.cqc_shares["setting"] == setting].copy()
    df["ownership"] = df["ownership"].astype(str)
    last = df[df["year"] == df["year"].max()].set_index("ownership")
    group, reference = "third sector", ratings.REFERENCE
    if not {group, reference} <= set(last.index):  # not in the CQC files; kept for a partial extract
        group, reference = last.sort_values("share", ascending=False).index[:2]
    first, second = last.loc[group], last.loc[reference]
    diff, lo, hi = _newcombe(first["good"], first["total"], second["good"], second["total"], results.level)
    year = int(first["year"])
    title, basis = plots.difference_title(
        f"{setting.capitalize()} rated Good or Outstanding at the end of {year}",
        f"{OWNERSHIP_NAMES.get(group, group)} providers", f"{OWNERSHIP_NAMES.get(reference, reference)} providers",
        diff, lo, hi, level=results.level, directional=True)
    return plots.line_with_band(df, "year", "share", "ownership", title, SOURCE_CQC + "; year-end snapshots; "
                                "intervals: Wilson (shares), Newcombe (difference in title)",
                                low="ci_low", high="ci_high", ylabel="Rated Good or Outstanding (%)", xlabel="Year",
                                colours=plots.OWNERSHIP_COLOURS, percent=True,
                                n=f"{int(last['total'].sum()):,} rated services in {year}", title_basis=basis)


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
    title = (f"Effects by time since adoption; pre-trend test p = {fmt_p(pre_p)}" if pre_p is not None
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
        title = (f"Synthetic control for {sc.treated_unit}: average post-adoption gap {fmt(sc.att, signed=True)}, "
                 f"placebo p = {fmt_p(sc.p_value)}" if sc.p_value is not None
                 else f"Synthetic control for {sc.treated_unit}")
        figs.append(plots.paths(sc.path.assign(zero=0.0), "time", {"gap": f"{sc.treated_unit} minus synthetic"},
                                title, panel.label + "; grey lines: placebo gaps for each donor",
                                vline=sc.adoption - 0.5,
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
                     "ci_high": np.nan, "se": np.nan, "se_type": "none: p-value from placebos (each donor in turn)",
                     "p_value": sc.p_value, "note": f"pre-period RMSPE {fmt(sc.pre_rmspe)}"})
    table = pd.DataFrame(rows)
    for column in ("p_value", "wild_bootstrap_p"):
        if column not in table:
            table[column] = np.nan
    table = table[["method", "estimate", "ci_low", "ci_high", "se", "se_type", "p_value", "wild_bootstrap_p", "note"]]
    return table_format(table, intervals={"estimate": ("ci_low", "ci_high")}, signed=["estimate"],
                        p_values=["p_value", "wild_bootstrap_p"])



# --- Tables for the report (numbers, rounded by report.show with the format each carries) ---------

NOT_APPLICABLE = "n/a"


def _drop_empty(df: pd.DataFrame) -> pd.DataFrame:
    """Leave out columns with no value at all (a one-organisation comparison has no clustered interval)."""
    return df[[c for c in df.columns if df[c].notna().any()]]


def staff_display(results: MutualsResults, service: str) -> pd.DataFrame:
    """Item by item: both rates (every response over the survey years pooled, so each organisation counts by its
    responses), the difference with its interval, the direction, and raw and adjusted p-values.

    A one-organisation comparison has no valid clustered interval or p-value: those columns are left out
    (the sentence above the table says why)."""
    t = _aligned(results.comparisons[service])
    level = int(round(100 * results.level))
    years = results.params.survey_years
    pooled = f"{years[0]}-{str(years[1])[-2:]}, all responses pooled"
    p_columns = {"p (clustered)": "p_value", "p adjusted (clustered)": "p_value_fdr",
                 "p (randomisation)": "p_randomisation", "p adjusted (randomisation)": "p_randomisation_fdr",
                 "p (wild bootstrap)": "p_wild_bootstrap", "p adjusted (wild bootstrap)": "p_wild_bootstrap_fdr"}
    raw = "Difference, social enterprises minus trusts (pp)"
    worse = WORSE_COLUMN
    out = pd.DataFrame({
        "Staff-survey item": t["label"],
        f"Social enterprises ({pooled}, %)": t["social_enterprise_rate"],
        f"NHS trusts ({pooled}, %)": t["trust_rate"],
        raw: t["difference_pp"],
        worse: t["worse_pp"],
        f"Worse by: {level}% low": t["worse_low"],
        f"Worse by: {level}% high": t["worse_high"],
        "Leans": [lean_label(w, lo, hi) for w, lo, hi in zip(t["worse_pp"], t["worse_low"], t["worse_high"])],
        **{name: t[column] for name, column in p_columns.items() if column in t},
    })
    out = _drop_empty(out)
    low, high = f"Worse by: {level}% low", f"Worse by: {level}% high"
    has_interval = low in out
    return table_format(out, intervals={worse: (low, high)} if has_interval else {},
                        signed=[raw, worse], p_values=[c for c in p_columns if c in out],
                        aligned={raw: worse} if has_interval else None)


WORSE_COLUMN = "Worse for social-enterprise staff by (pp; below 0 = better)"
"""The staff tables' difference turned as the charts turn it: above 0 is worse whichever way the item runs."""


def lean_label(worse_pp: float, low: float = np.nan, high: float = np.nan) -> str:
    """'worse' / 'better' as the point estimate leans, 'neither' when it rounds to 0 at the precision shown."""
    if pd.isna(worse_pp):
        return "neither"
    places = decimals(worse_pp, None if pd.isna(low) else low, None if pd.isna(high) else high)
    if round(float(worse_pp), places) == 0:
        return "neither"
    return "worse" if worse_pp > 0 else "better"


def sensitivity_display(results: MutualsResults, service: str, *,
                        social_enterprises_only: bool = False) -> pd.DataFrame:
    """Items worse and better under each weighting and without each organisation (clustered and randomisation).

    ``social_enterprises_only`` keeps the main analysis, equal weighting and the social enterprises left out in
    turn (the report's summary; leaving out each trust is in the full table)."""
    t = results.sensitivity[service]
    if social_enterprises_only:
        t = t[(t["left_out"] == "") | (t["group"] == "social enterprise")]
    share = [NOT_APPLICABLE if pd.isna(s) else 100 * s for s in t["share_of_group_responses"]]
    out = pd.DataFrame({
        "Analysis": t["analysis"].to_numpy(),
        "Share of its group's responses (%)": share,
        "Worse (clustered)": t["clustered_worse"].astype(int).to_numpy(),
        "Better (clustered)": t["clustered_better"].astype(int).to_numpy(),
        "Worse after adjustment (clustered)": t["clustered_worse_adjusted"].astype(int).to_numpy(),
        "Better after adjustment (clustered)": t["clustered_better_adjusted"].astype(int).to_numpy(),
        "Worse (randomisation)": t["randomisation_worse"].astype(int).to_numpy(),
        "Better (randomisation)": t["randomisation_better"].astype(int).to_numpy(),
        "Worse after adjustment (randomisation)": t["randomisation_worse_adjusted"].astype(int).to_numpy(),
        "Better after adjustment (randomisation)": t["randomisation_better_adjusted"].astype(int).to_numpy(),
        f"Point estimates leaning worse (of {int(t['items'].max())})": t["leaning_worse"].astype(int).to_numpy(),
    })
    return table_format(out)


def focus_display(results: MutualsResults) -> pd.DataFrame:
    """One row per item: the organisation's percentage each year, its own kind of trust in the last year (the
    median trust, the difference from it and the share of trusts scoring better: the benchmark of
    :func:`benchmark_text`), and the all-trust average as context. No interval on the difference: with one
    organisation only the randomisation test is valid (staff-survey table)."""
    t = results.focus.table
    wide = t.pivot_table(index=["item", "label"], columns="year", values="organisation_rate").reset_index()
    last_year = int(t["year"].max())
    last = t[t["year"] == last_year].set_index("item")
    peers = benchmark_name(results)
    out = pd.DataFrame({"Item": wide["label"]})
    for year in sorted(c for c in wide.columns if isinstance(c, (int, np.integer))):
        out[f"{results.focus.organisation.split(' ')[0]} {year} (%)"] = wide[year].to_numpy()
    gap = last.loc[wide["item"]]
    peer = peers.removesuffix("s")
    difference = f"Difference from the median {peer} {last_year} (pp)"
    out[f"Median {peer} {last_year} (%)"] = gap["benchmark_median"].to_numpy()
    out[difference] = gap["difference_from_benchmark_pp"].to_numpy()
    out[f"{peers.capitalize()} scoring better {last_year} (%)"] = gap["benchmark_share_better"].to_numpy()
    out[f"All NHS trusts incl. acute {last_year} (%, respondent-weighted, context)"] = (
        gap["national_trust_average"].to_numpy())
    order = {k: i for i, k in enumerate(results.params.outcomes)}
    out = out.iloc[np.argsort([order.get(k, 99) for k in wide["item"]], kind="stable")].reset_index(drop=True)
    return table_format(out, signed=[difference])


def ratings_display(table: pd.DataFrame) -> pd.DataFrame:
    """Odds ratios with their intervals and, for ownership, the difference in the chance of Good or Outstanding."""
    has_model = "model" in table
    level = int(round(100 * table.attrs.get("level", 0.95)))

    def points(column: str) -> list:
        return [NOT_APPLICABLE if pd.isna(v) else v for v in table[column]]

    out = pd.DataFrame({
        "Model": table["model"] if has_model else "logit: Good or Outstanding",
        "Term (against council in-house)": table["term"],
        "Odds ratio": table["odds_ratio"],
        "Odds ratio low": table["ci_low"],
        "Odds ratio high": table["ci_high"],
        DIFFERENCE_COLUMN: points("difference_pp"),
        f"Difference {level}% low": points("diff_ci_low"),
        f"Difference {level}% high": points("diff_ci_high"),
        "p": table["p_value"],
    })
    return table_format(out, intervals={"Odds ratio": ("Odds ratio low", "Odds ratio high"),
                                        DIFFERENCE_COLUMN: (f"Difference {level}% low", f"Difference {level}% high")},
                        signed=[DIFFERENCE_COLUMN], p_values=["p"])


# The ratings tables' difference, in the suite's one direction for CQC gaps (negative: the term is rated lower).
DIFFERENCE_COLUMN = "Difference, term minus council in-house (pp)"


def clustering_display(table: pd.DataFrame) -> pd.DataFrame:
    """The ownership differences' intervals as the assumed correlation between a council's own services rises."""
    rows = []
    level = int(round(100 * table.attrs.get("level", 0.95)))
    intervals, signed = {}, []
    for (rho, deff), part in table.groupby(["correlation", "design_effect"], sort=True):
        row = {"Correlation between a council's services": "none beyond each service (as fitted)" if rho == 0
               else ("1 (each council counts once)" if rho == 1 else rho),
               "Design effect on the council-run part": deff}
        for r in part.itertuples():
            name = f"{r.term.capitalize()} minus council-run (pp)"
            low, high = f"{r.term.capitalize()}: {level}% low", f"{r.term.capitalize()}: {level}% high"
            row.update({name: r.difference_pp, low: r.diff_ci_low, high: r.diff_ci_high})
            intervals[name] = (low, high)
            signed.append(name)
        rows.append(row)
    return table_format(pd.DataFrame(rows), intervals=intervals, signed=list(dict.fromkeys(signed)))


def change_display(results: MutualsResults) -> pd.DataFrame:
    """The in-house share of spend at the start and end of each collection era, and the change (points).

    Direct payments are left out: the money goes to the person, so an "in-house share" of it means
    nothing (the files record it as 0% or about 1%).
    """
    c = results.national_change
    c = c[c["setting"] != "Direct payments"]
    # Shares of administrative totals: one decimal place (a tenth of a point), the change from the rounded shares'
    # own values so that start + change = end as shown.
    start, end = c["from"].round(1), c["to"].round(1)
    out = pd.DataFrame({"Setting": c["setting"], "Collection": c["collection"], "From year": c["from_year"],
                        "To year": c["to_year"], "In-house share at start (%)": start,
                        "In-house share at end (%)": end, "Change (percentage points)": (end - start).round(1)})
    return table_format(out, signed=["Change (percentage points)"])


def councils_display(results: MutualsResults) -> pd.DataFrame:
    """Across councils, each year: the in-house share of residential care activity and councils with none."""
    c = results.councils
    out = pd.DataFrame({"Year": c["year"], "Collection": c["collection"], "Councils": c["councils"],
                        "Median in-house share (%)": c["median"], "Lower quartile (%)": c["q1"],
                        "Upper quartile (%)": c["q3"], "Councils with none in-house (%)": c["none_in_house"]})
    return table_format(out)


def cqc_measures_text(results: MutualsResults) -> str:
    """The two measures of the third-sector gap in community services that this report and the provision-costs
    report give, side by side: the adjusted inspection model (key finding, headline) and the unadjusted year-end
    snapshot (the chart, and later context to the provision-costs verdict on CL-MUT-09), each with where it stops
    being clear."""
    ts = _cqc_term(results, "third sector")
    snap = results.snapshot_check
    if ts is None or snap is None:
        return ""
    model = results.cqc_clustering[results.cqc_clustering["term"] == "third sector"].iloc[0]
    first, last = results.cqc_models["table"].attrs["years"]

    def stops(rho: float) -> str:
        if not np.isfinite(rho):
            return "stays clear even if each council counts once" if rho == np.inf else "is not clear to begin with"
        return f"stops being clear above a correlation of {rho:.2f} between a council's services"

    said = _points_phrase(ts["difference_pp"], ts["diff_ci_low"], ts["diff_ci_high"], results.level,
                          more="more likely", less="less likely")
    gap = _points_phrase(snap["difference_pp"], snap["ci_low"], snap["ci_high"], results.level, more="higher",
                         less="lower")
    return (f"**Two measures of the same gap.** At the end of {snap['year']} (every rated service on one date, "
            "unadjusted: the chart above, and the measure the provision-costs report gives as later context to its "
            "verdict on CL-MUT-09, judged on the ratings nearest the claim), "
            f"{fmt(snap['third_share'], '%')} of third-sector community services held a Good or Outstanding rating "
            f"against {fmt(snap['council_share'], '%')} of council-run ones, {gap}; that gap "
            f"{stops(snap['break_even_correlation'])}, with about {snap['councils']} councils running such services "
            f"in-house in {snap['councils_year']}. Across every rated inspection from {first} to {last}, adjusted "
            f"for year, re-inspection and years registered, third-sector services were {said} to be rated Good or "
            f"Outstanding (the table below, the key finding and the headline); that gap "
            f"{stops(model['break_even_correlation'])}. The two differ because they count different things: the "
            f"ratings held on one date, unadjusted, against the ratings given at inspections over {last - first + 1} "
            "years, adjusted.")


def _care_home_gap(results: MutualsResults) -> dict | None:
    """The care-home model's third-sector difference and where it stops being clear (None without the model)."""
    if results.care_homes is None or results.care_homes.empty or results.care_home_clustering.empty:
        return None
    return ratings.model_gap(results.care_homes, results.care_home_clustering)


def care_home_measures_text(results: MutualsResults) -> str:
    """The care-home counterpart of :func:`cqc_measures_text`: the unadjusted year-end snapshot (the chart) and the
    adjusted care-home model (the table below it), why they can differ, and the council clustering check."""
    snap, model, raw = results.care_home_snapshot, _care_home_gap(results), results.care_home_unadjusted
    if snap is None or model is None or raw is None:
        return ""
    level = results.level
    councils = results.care_home_clustering.attrs["councils"]

    def said(d: dict, low: str = "ci_low", high: str = "ci_high") -> str:
        return _points_phrase(d["difference_pp"], d[low], d[high], level, more="more likely", less="less likely")

    def gap(d: dict) -> str:
        return _points_phrase(d["difference_pp"], d["ci_low"], d["ci_high"], level, more="higher", less="lower")

    snap_clear = clear_difference(snap["ci_low"], snap["ci_high"])
    disagree = snap_clear != clear_difference(model["ci_low"], model["ci_high"])
    text = (f"**Two measures for care homes{', which disagree' if disagree else ''}.** At the end of "
            f"{snap['year']} (every rated care home on one date, unadjusted: the care-home chart above, and the "
            "measure the provision-costs report gives as later context to its verdict on CL-MUT-09, judged on the "
            f"ratings nearest the claim), {fmt(snap['third_share'], '%')} of third-sector care homes held a Good or "
            f"Outstanding rating against {fmt(snap['council_share'], '%')} of council-run ones: {gap(snap)}"
            + (", even treating every home as independent" if not snap_clear else "")
            + ". The care-home model (the table below) finds third-sector homes "
            f"{said(model)} to be rated Good or Outstanding ({_p_clause(model['p_value'])}). The two count different "
            f"homes and ratings: the model uses {results.care_homes.attrs['n_homes']:,} homes registered at any time "
            "from 2010 to 2023, including homes since closed, each with the one rating its file records (which may "
            "be the last before closure), and compares homes of the same size (beds) and type (nursing, dementia "
            f"care). Unadjusted, that file gives {fmt(raw['share'], '%')} of third-sector homes against "
            f"{fmt(raw['share_council'], '%')} of council-run ones, {gap(raw)}")
    if "median_beds" in raw:
        text += (f"; third-sector homes are smaller (median {fmt(raw['median_beds'], count=True)} beds against "
                 f"{fmt(raw['median_beds_council'], count=True)}), and in the model larger homes are less often "
                 "rated Good or Outstanding, so comparing homes of the same size widens the gap")
    rho = model["break_even_correlation"]
    if clear_difference(model["ci_low"], model["ci_high"]) and np.isfinite(rho) and rho <= 1:
        text += (f". The model's gap stops being clear above a correlation of {rho:.2f} between a council's homes "
                 f"(about {fmt(model['per_council'], places=1)} council-run homes for each of at least "
                 f"{councils['count']} councils that ran homes in-house over {councils['years']}, the most in any one "
                 "year; the clustering table further down): it holds only if the homes one council runs are rated "
                 "almost independently of one another, which the data cannot check."
                 + ("" if snap_clear else " Neither measure, then, clearly shows third-sector care homes rated "
                    "differently from council-run ones once a council's homes may be even slightly alike."))
    else:
        text += "."
    return text


def _p_clause(p: float) -> str:
    shown = fmt_p(p)
    return f"p {shown}" if shown.startswith("<") else f"p = {shown}"


def clustering_text(table: pd.DataFrame, what: str) -> str:
    """Why the clustering level matters here, what the data allow, and where the difference stops being clear."""
    councils = table.attrs["councils"]
    unit = "home" if "home" in what.lower() else "service"
    text = (f"{what}: the CQC files identify each {unit} but neither the provider nor the council that runs it, so "
            "standard errors cannot be clustered by council (nor two-way by council and service). Council-run "
            "services "
            "share management, budgets and commissioners, so their ratings are likely correlated; the coarser cluster "
            "(the council) is the right one. The table shows how the intervals widen under that correlation: "
            f"{table.attrs['reference_clusters']:,} council-run {'locations' if 'ommunity' in what else 'homes'} "
            f"shared among at least {councils['count']} councils, about "
            f"{fmt(table.attrs['per_council'], places=1)} per council. The ratings were given over many years, so "
            f"they come from every council that ran such {unit}s in-house at some point: at least the "
            f"{councils['count']} that did in {councils['count_year']}, the most in any one year of "
            f"{councils['years']} ({councils['low']} to {councils['high']} a year, council activity returns; a median "
            "of the yearly counts would understate "
            "the councils, and a count of distinct council names would overstate them, as names change and councils "
            "merge). ")
    for term, part in table.groupby("term", sort=False):
        base = part[part["correlation"] == 0].iloc[0]
        break_even = base["break_even_correlation"]
        if not clear_difference(base["diff_ci_low"], base["diff_ci_high"]):
            text += f"The {OWNERSHIP_NAMES.get(term, term)} difference is not clear even before this adjustment. "
        elif not np.isfinite(break_even) or break_even > 1:
            text += f"The {OWNERSHIP_NAMES.get(term, term)} difference stays clear even if each council counts once. "
        else:
            text += (f"The {OWNERSHIP_NAMES.get(term, term)} difference stops being clear once the correlation "
                     "between "
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
