"""The whole personal-budgets analysis, as the notebook runs it.

``analyse(params)`` builds the pilot evidence table, pools researcher-supplied
pilot data when given, runs the ASCOF council panel, the pilot-versus-rest
comparison and the cost-effectiveness analysis when it has inputs, and returns
``BudgetResults`` (a single council's profile is its own notebook:
:mod:`analysis.budgets.profile`); ``key_findings`` and the
figure and text helpers turn results into findings, charts and sentences whose
numbers are computed, never typed.

A coefficient is never reported alone: the council-panel slopes are said in the
reader's units ("one more percentage point of direct-payment uptake goes with X
points of ..."), with their interval and what they cannot show (an association
between councils' shares, not an effect on people with budgets).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import data, plots, provenance
from analysis.budgets import cea, claims, councils, profile, synthesis
from analysis.budgets.claims import difference_text
from analysis.budgets.params import PersonalBudgetsParameters
from analysis.budgets.synthesis import OUR_CALCULATION
from analysis.claims import Verdict, verdict_groups, verdict_table
from analysis.data.ascof import CONCEPTS_BY_KEY, NEW_FRAMEWORK_FROM
from analysis.data.evidence import figure
from analysis.findings import Finding, clear_difference
from analysis.precision import decimals, fmt, table_format

SOURCE_ASCOF = "NHS England, Adult Social Care Outcomes Framework 2017-18 to 2023-24 (council values)"
SOURCE_REGISTER = "Evidence register (data/evidence/figures.csv): IBSEN, PHBE, Right to Control, POET"


@dataclass
class BudgetResults:
    params: PersonalBudgetsParameters
    pilots: pd.DataFrame
    pooled: pd.DataFrame | None
    pilot_effects: pd.DataFrame | None
    subgroup_tests: dict
    panel: pd.DataFrame
    within: pd.DataFrame
    cross: pd.DataFrame
    pilot_councils: dict[str, str]
    pilots_vs_rest: pd.DataFrame
    england: pd.DataFrame
    cea: cea.CEAResult | None
    cea_note: str
    verdicts: list[Verdict]
    framework_notes: dict[str, str] = field(default_factory=dict)
    """Per ASCOF share (sds_users, dp_users): the caveat for its 2023-24 value, the first year of ASCOF's new measure
    codes (:func:`analysis.budgets.profile.framework_change_note`); empty when the years stop before then."""

    @property
    def level(self) -> float:
        return self.params.confidence_level


def _simulated_person_level(seed: int) -> pd.DataFrame:
    """SIMULATED person-level costs and effects for the optional CEA demonstration."""
    rng = np.random.default_rng(seed)
    n = 400
    arm = np.repeat(["budget", "comparison"], n)
    cost = np.concatenate([rng.gamma(4.0, 2500.0, n), rng.gamma(4.0, 2600.0, n)])
    effect = np.concatenate([rng.normal(0.060, 0.15, n), rng.normal(0.020, 0.15, n)])
    df = pd.DataFrame({"arm": arm, "cost": cost, "effect": effect})
    df.attrs["simulated"] = True
    return df


def analyse(params: PersonalBudgetsParameters) -> BudgetResults:
    """Run the England analysis."""
    level = params.confidence_level
    ascof = data.load("ascof")
    lookup = data.load("council_lookup")
    years = tuple(params.years)
    concepts = list(dict.fromkeys(list(params.outcomes) + list(params.exposures)))
    wanted = concepts + ["sds_users", "dp_users"]
    england = ascof[(ascof["geography_level"] == "england") & ascof["concept"].isin(wanted)
                    & ascof["year_end"].between(*years)].copy()

    figures = data.load_figures()
    claims_table = data.load_claims()
    pilots = synthesis.pilot_evidence(figures, level)
    pooled = pilot_effects = None
    subgroup_tests: dict = {}
    if params.pilot_data_path:
        raw = synthesis.read_pilot_outcomes(params.pilot_data_path)
        if params.user_groups != ["all"]:
            raw = raw[raw["user_group"].isin(params.user_groups)]
        pilot_effects = synthesis.effect_sizes_for(raw)
        pooled, subgroup_tests = synthesis.pool_by_outcome(pilot_effects, params.meta_method, level)

    panel = councils.council_panel(ascof, concepts, years)
    within = pd.DataFrame([councils.within_association(panel, o, e, level)
                           for o in params.outcomes for e in params.exposures])
    cross = councils.cross_sections(panel, params.outcomes[0], params.exposures[0], level)
    names = [n.strip() for n in str(figure(figures, "PB-048")["group"]).split(";")]
    pilot_codes = councils.pilot_codes(lookup, names)
    versus = pd.concat([councils.pilots_vs_rest(panel, pilot_codes, c, level) for c in concepts], ignore_index=True)

    grid = cea.wtp_grid(*params.wtp_range)
    # Researchers can supply person-level data (cea_data_path) or summary inputs (cea_inputs): see the README.
    result_cea, cea_note = None, "No data: the published pilot summaries give no variances for costs and effects."
    if params.cea_data_path:
        person = pd.read_csv(params.cea_data_path)
        result_cea = cea.from_person_level(person, wtp=grid, n=params.n_simulations, seed=params.seed, level=level)
        cea_note = f"Bootstrap of person-level data in {params.cea_data_path}."
    elif params.cea_inputs is not None:
        cm, cs, em, es, rho = params.cea_inputs
        result_cea = cea.from_summary(cm, cs, em, es, correlation=rho, wtp=grid, n=params.n_simulations,
                                      seed=params.seed, level=level)
        cea_note = "Parametric simulation from the summary inputs given in cea_inputs."
    elif params.simulated_cea:
        provenance.record_simulated("Cost-effectiveness demonstration on simulated person-level data")
        result_cea = cea.from_person_level(_simulated_person_level(params.seed), wtp=grid, n=params.n_simulations,
                                           seed=params.seed, level=level)
        result_cea.simulated_inputs = True
        cea_note = "SIMULATED person-level data (to demonstrate the method; not evidence about personal budgets)."

    shares = ("sds_users", "dp_users")
    share_panel = profile.prepare(ascof, lookup, None, shares, years, frozenset())
    notes = {c: note for c in shares if (note := profile.framework_change_note(c, years, share_panel))}
    verdicts = claims.assess_claims(claims_table, figures, pilots=pilots, england=england, within=within,
                                    framework_notes=notes)
    return BudgetResults(params, pilots, pooled, pilot_effects, subgroup_tests, panel, within, cross, pilot_codes,
                         versus, england, result_cea, cea_note, verdicts, notes)


# --- Headlines, text and tables --------------------------------------------------------------

def _period(year_end: int) -> str:
    return f"{int(year_end) - 1}-{str(int(year_end))[-2:]}"


def within_row(results: BudgetResults, outcome: str | None = None, exposure: str | None = None) -> pd.Series:
    outcome = outcome or results.params.outcomes[0]
    exposure = exposure or results.params.exposures[0]
    w = results.within
    return w[(w["outcome"] == outcome) & (w["exposure"] == exposure)].iloc[0]


def typical_change(results: BudgetResults, exposure: str) -> float:
    """The median absolute change in a council's ``exposure`` share between its first and last year in the panel."""
    p = results.panel.dropna(subset=[exposure]).sort_values("year_end")
    ends = p.groupby("area_code")[exposure].agg(["first", "last"])
    return float((ends["last"] - ends["first"]).abs().median())


OUTCOME_PHRASES = {
    "control_daily_life": "the share of service users who say they have control over their daily life",
    "satisfaction_users": "the share of service users extremely or very satisfied with their care and support",
    "scrqol": "social care-related quality of life (a score out of 24)",
}
SHORT_NAMES = {"dp_users": "direct payments", "sds_users": "self-directed support",
               "control_daily_life": "control over daily life", "satisfaction_users": "satisfaction with care",
               "scrqol": "social care-related quality of life"}
ECOLOGICAL = ("These compare councils' shares over time; they cannot say whether people with budgets are better off "
              "(the ecological fallacy), and they are associations, not effects.")


def associations_text(results: BudgetResults) -> str:
    """Every outcome's within-council association with the first exposure, in the reader's units, then the caveat
    and why the council counts differ between the analyses."""
    return (" ".join(association_sentence(results, o, caveat=False) for o in results.params.outcomes) + " "
            + ECOLOGICAL + " " + council_counts_text(results))


def council_counts_text(results: BudgetResults) -> str:
    """Why the within-council, cross-section and pilot comparisons use different numbers of councils, from the
    panel: the within-council sample keeps councils with both measures in two or more years (2020-21's survey
    measures blanked), the cross-section the councils with both in the latest year."""
    row = within_row(results)
    outcome, exposure = row["outcome"], row["exposure"]
    both = results.panel.dropna(subset=[outcome, exposure])
    years_seen = both.groupby("area_code").size()
    once = years_seen[years_seen < 2]
    names = both.drop_duplicates("area_code").set_index("area_code")["council"]
    survey_gap = (outcome in councils.SURVEY_CONCEPTS
                  and councils.THIN_SURVEY_YEAR in set(results.panel["year_end"]))
    text = (f"Why the council counts differ. The within-council estimates use {row['councils']} councils and "
            f"{row['observations']} council-years: the {len(years_seen)} councils with both "
            f"{SHORT_NAMES.get(outcome, outcome)} and {SHORT_NAMES.get(exposure, exposure)} in at least one year")
    if len(once):
        dropped = ", ".join(sorted(names.get(c, c) for c in once.index))
        text += (f", less the {len(once)} seen in only one year ({dropped}), because a council needs two years to be "
                 "compared with itself")
    if survey_gap:
        text += f"; {_period(councils.THIN_SURVEY_YEAR)} is left out, because the survey was voluntary that year"
    text += "."
    cross = results.cross.sort_values("year_end")
    if not cross.empty:
        last = cross.iloc[-1]
        text += (f" The {_period(last['year_end'])} cross-section has {int(last['councils'])} councils, those with "
                 "both measures that year.")
    v = results.pilots_vs_rest
    if not v.empty:
        year = int(v["year_end"].max())
        latest = v[v["year_end"] == year].assign(total=lambda d: d["pilots"] + d["rest"])
        parts = [f"{int(total)} for {_and(SHORT_NAMES.get(c, c) for c in part['concept'])}"
                 for total, part in latest.groupby("total", sort=False)]
        text += (f" The pilot comparison in {_period(year)} counts every council with a value for the measure: "
                 + "; ".join(parts) + ".")
    return text


def _and(items) -> str:
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def pilots_pattern(results: BudgetResults, concept: str) -> str | None:
    """The pattern of the pilot-minus-rest differences across years for one measure: how many years the pilots'
    mean was higher, the range of the differences, and how many years were clearly different on their own."""
    v = results.pilots_vs_rest[results.pilots_vs_rest["concept"] == concept]
    if v.empty:
        return None
    n, higher = len(v), int((v["difference"] > 0).sum())
    clear = sum(clear_difference(lo, hi) for lo, hi in zip(v["ci_low"], v["ci_high"]))
    pilots = int(v["pilots"].max())
    places = min(decimals(d, lo, hi) for d, lo, hi in zip(v["difference"], v["ci_low"], v["ci_high"]))

    def signed(value: float) -> str:
        # A difference that rounds to zero keeps its sign with one more place (the rule's places would show "0").
        for extra in range(3):
            text = fmt(value, places=places + extra, signed=True)
            if text.strip("+-0.") or value == 0:
                return text
        return text

    span = f"{signed(v['difference'].min())} to {signed(v['difference'].max())} points"
    if higher == n:
        direction = f"higher in {n} of {n} years ({span})"
    elif higher == 0:
        direction = f"lower in {n} of {n} years ({span})"
    else:
        direction = f"higher in {higher} of {n} years and lower in {n - higher} ({span})"
    single = ("no clear difference in any single year" if clear == 0 else
              f"clearly different in {clear} of {n} years on its own")
    name = SHORT_NAMES.get(concept, CONCEPTS_BY_KEY[concept].label)
    return (f"{name[0].upper()}{name[1:]}: the pilot councils' mean was {direction}, but {single} with only "
            f"{pilots} pilot councils.")


def _pilots_basis(results: BudgetResults, concept: str) -> list[tuple]:
    """What a pilots chart title rests on: every year's difference and interval, or, when some years are clearly
    different on their own, those years."""
    v = results.pilots_vs_rest[results.pilots_vs_rest["concept"] == concept]
    rows = [(d, lo, hi, results.level) for d, lo, hi in zip(v["difference"], v["ci_low"], v["ci_high"])]
    clear = [r for r in rows if clear_difference(r[1], r[2])]
    return clear or rows


def pilots_text(results: BudgetResults) -> str:
    """Each measure's pilot-minus-rest pattern across years, and what the means are."""
    order = list(results.params.exposures) + [c for c in dict.fromkeys(results.pilots_vs_rest["concept"])
                                              if c not in results.params.exposures]
    sentences = [t for t in (pilots_pattern(results, c) for c in order) if t]
    return (" ".join(sentences) + " The means are unweighted council means: each council counts once, whatever "
            "its number of service users, so they differ from England's figures.")


def association_sentence(results: BudgetResults, outcome: str | None = None, exposure: str | None = None, *,
                         caveat: bool = True) -> str:
    """A within-council slope in the reader's units, with its interval, a realistic change and what it cannot show."""
    row = within_row(results, outcome, exposure)
    out_label = CONCEPTS_BY_KEY[row["outcome"]].label.split(" (")[0]
    percent = CONCEPTS_BY_KEY[row["outcome"]].unit == "percent"
    unit = "percentage points" if percent else "points"
    exposure_name = "direct-payment uptake" if row["exposure"] == "dp_users" else "self-directed support"
    step = 10.0

    def change(scale: float, level: float | None) -> str:
        text = difference_text(scale * row["slope"], scale * row["ci_low"], scale * row["ci_high"], "", level)
        estimate, interval = text.split(", ", 1)
        return f"{estimate} {unit} ({interval})"

    slope, scaled = change(1.0, results.level), change(step, None)
    typical = typical_change(results, row["exposure"])
    verdict = ("no clear association" if not clear_difference(row["ci_low"], row["ci_high"])
               else ("a positive" if row["slope"] > 0 else "a negative") + " association")
    what = OUTCOME_PHRASES.get(row["outcome"], (f"the share of {out_label[0].lower()}{out_label[1:]}" if percent
                                                 else f"{out_label[0].lower()}{out_label[1:]}"))
    text = (f"Within councils ({row['councils']} councils, years ending {row['years']}), one more percentage point of "
            f"{exposure_name} went with a change of {slope} in {what}: {verdict}. A {step:g}-point rise, larger than "
            "the "
            f"typical council's change of {fmt(typical, places=1)} points over these years, would go with {scaled}.")
    return text + (" " + ECOLOGICAL.replace("These compare", "This compares").replace("they cannot", "it cannot")
                   .replace("they are associations, not effects", "it is an association, not an effect")
                   if caveat else "")


def within_finding_text(results: BudgetResults) -> str:
    """The within-council association of the first outcome with the first exposure in one sentence, in the
    reader's units (percentage points per point of uptake, and what a 10-point rise would go with)."""
    row = within_row(results)
    percent = CONCEPTS_BY_KEY[row["outcome"]].unit == "percent"
    unit = "percentage points" if percent else "points"
    exposure_name = "direct-payment uptake" if row["exposure"] == "dp_users" else "self-directed support"
    what = OUTCOME_PHRASES.get(row["outcome"], CONCEPTS_BY_KEY[row["outcome"]].label.lower())
    places = decimals(row["slope"], row["ci_low"], row["ci_high"])
    places10 = decimals(10 * row["slope"], 10 * row["ci_low"], 10 * row["ci_high"])
    first, last = (int(y) for y in str(row["years"]).split("-"))
    slope = (f"{fmt(row['slope'], places=places, signed=True)} {unit} for each extra point of uptake "
             f"({results.level:.0%} interval {fmt(row['ci_low'], places=places, signed=True)} to "
             f"{fmt(row['ci_high'], places=places, signed=True)}; {row['councils']} councils, {_period(first)} to "
             f"{_period(last)})")
    if not clear_difference(row["ci_low"], row["ci_high"]):
        return (f"Within councils, more {exposure_name} went with no clear change in {what}: {slope}, so even a "
                f"10-point rise would go with between {fmt(10 * row['ci_low'], places=places10, signed=True)} and "
                f"{fmt(10 * row['ci_high'], places=places10, signed=True)} {unit}.")
    return (f"Within councils, more {exposure_name} went with {'more' if row['slope'] > 0 else 'less'} of {what}: "
            f"{slope}.")


def headlines(results: BudgetResults) -> list[dict]:
    out = []
    row = within_row(results)
    exposure_name = "direct-payment uptake" if row["exposure"] == "dp_users" else "self-directed support"
    out.append(dict(key="budgets_within_association",
                    label=f"{CONCEPTS_BY_KEY[row['outcome']].label}: change for each extra percentage point of "
                          f"{exposure_name} within a council (an association across councils, not an effect)",
                    value=row["slope"], unit="pp", low=row["ci_low"], high=row["ci_high"], level=results.level,
                    source=SOURCE_ASCOF + f"; council and year effects, clustered by council ({row['councils']} "
                                          "councils)",
                    digits=max(decimals(row["slope"], row["ci_low"], row["ci_high"]), 0)))
    rtc = results.pilots.set_index("outcome").loc["control over daily life (as much as wanted)"]
    out.append(dict(key="budgets_rtc_control", label="Right to Control: difference in people with as much control as "
                    "they wanted, trailblazer minus comparison areas; the interval is " + OUR_CALCULATION,
                    value=rtc["estimate"], unit="pp",
                    low=rtc["ci_low"], high=rtc["ci_high"], level=results.level,
                    source="PB-031 (evidence register); the interval is ours"))
    return out


def key_findings(results: BudgetResults) -> list[Finding]:
    """The 3-6 findings the report opens with."""
    findings = []
    pil = results.pilots.set_index("outcome")
    rtc = pil.loc["control over daily life (as much as wanted)"]
    clear = clear_difference(rtc["ci_low"], rtc["ci_high"])
    places = decimals(rtc["estimate"], rtc["ci_low"], rtc["ci_high"])
    findings.append(Finding(
        "budgets_rtc_control",
        "Right to Control, which gave disabled adults more say over several funding streams, "
        + ("showed no clear gain in control over daily life" if not clear or rtc["estimate"] < 0 else
           "went with more control over daily life")
        + f": {rtc['budget_arm']} of people in trailblazer areas had as much control as they wanted, against "
        f"{rtc['comparison_arm']} in comparison areas, " + ("no clear difference" if not clear else "a difference")
        + f" ({fmt(rtc['estimate'], places=places, signed=True)} percentage points, {results.level:.0%} interval "
        f"{fmt(rtc['ci_low'], places=places, signed=True)} to {fmt(rtc['ci_high'], places=places, signed=True)}); "
        f"the interval is {OUR_CALCULATION}.",
        "Right to Control evaluation (2013), via Community Care (PB-031); the interval is ours",
        "Areas were compared, not randomly assigned people, and not everyone in a trailblazer area used the new "
        f"rights; {rtc['rounding_note']}.",
        value=float(rtc["estimate"]), low=float(rtc["ci_low"]), high=float(rtc["ci_high"]), level=results.level,
        unit="pp"))
    ascot, mort = pil.loc["care-related quality of life (ASCOT change)"], pil.loc["mortality at 12 months"]
    mplaces = decimals(mort["estimate"], mort["ci_low"], mort["ci_high"])
    figures = data.load_figures()
    ghq, value_for_money = figure(figures, "PB-113"), figure(figures, "PB-114")
    findings.append(Finding(
        "budgets_phbe",
        f"The personal health budget trial (PHBE, {ascot['n']} people) found better care-related quality of life with "
        f"a budget, {fmt(ascot['estimate'])} more on the ASCOT score (which runs up to 1; p < 0.001, no interval "
        "published), and a significant gain in psychological wellbeing (the GHQ-12 questionnaire; no numbers in the "
        "located summary); its evaluators judged budgets cost-effective once the quality-of-life gain is counted. "
        "It found " + ("no clear difference" if not clear_difference(mort["ci_low"], mort["ci_high"])
                       else "a difference")
        + f" in deaths within a year ({mort['budget_arm']} against {mort['comparison_arm']}, {results.level:.0%} "
        f"interval {fmt(mort['ci_low'], places=mplaces, signed=True)} to "
        f"{fmt(mort['ci_high'], places=mplaces, signed=True)} percentage points); that interval is "
        f"{synthesis.FROM_P_VALUE} = {figure(figures, 'PB-015')['value']:g} (normal approximation).",
        f"PHBE (Forder et al. 2012; Jones et al. {ghq['year']}), via the evidence register (PB-011 to PB-016, "
        f"{ghq['id']}, {value_for_money['id']})",
        "Allocation was only partly random, and critics (Greaves and Millett, in the BMJ) say the evaluation judged "
        "some gains at 90% confidence rather than the usual 95%.",
        value=float(ascot["estimate"]), no_interval_reason="only 'p < 0.001' is published, no standard error"))
    cost = pil.loc["cost of support"]
    control = pil.loc["feeling in control of daily life"]
    findings.append(Finding(
        "budgets_ibsen",
        "The individual-budget trial (IBSEN, 13 councils, randomised) found that budget holders "
        + ("felt more in control of their daily lives" if str(control["budget_arm"]).startswith("higher") else
           "did not feel more in control of their daily lives")
        + ", with better quality of life for mental-health service users and for carers, but not for older people, "
        "who found the budgets less easy to use. On cost, the evaluators reported 'no important differences in "
        f"overall cost': {cost['budget_arm']} against {cost['comparison_arm']} for standard services "
        f"({claims.IBSEN_COST_UNIT}).",
        "IBSEN (Glendinning et al. 2008), via the evidence register (PB-003, PB-005, PB-006, PB-112)",
        "The located summaries give no numbers for control or quality of life and no dispersion for costs, so there "
        "is no interval; the located summaries give the direction of results by user group, with no numbers.",
        value=float(cost["estimate"]),
        no_interval_reason="the located summaries publish no dispersion for costs"))
    row = within_row(results)
    findings.append(Finding(
        "budgets_within_association", within_finding_text(results), SOURCE_ASCOF,
        "Councils, not people: an ecological association, not the effect of a budget on the person who holds it.",
        value=float(row["slope"]), low=float(row["ci_low"]), high=float(row["ci_high"]), level=results.level,
        unit="pp"))
    e = results.england
    dp = e[e["concept"] == "dp_users"].sort_values("year_end")
    sds = e[e["concept"] == "sds_users"].sort_values("year_end")
    if not dp.empty and not sds.empty:
        findings.append(Finding(
            "budgets_england_trend",
            (f"Personal budgets were the norm throughout {sds['year'].iloc[0]} to {sds['year'].iloc[-1]} "
             if sds["value"].min() > 50 else "Personal budgets did not become the norm ")
            + ("but direct payments did not grow" if dp["value"].iloc[-1] <= dp["value"].iloc[0] else
               "and direct payments grew")
            + f": in England, self-directed support "
            f"covered {fmt(sds['value'].iloc[0], '%')} of service users in {sds['year'].iloc[0]} and "
            f"{fmt(sds['value'].iloc[-1], '%')} in {sds['year'].iloc[-1]}, while the share taking a direct payment "
            + ("fell" if dp["value"].iloc[-1] < dp["value"].iloc[0] else "went") + " "
            f"from {fmt(dp['value'].iloc[0], '%')} to {fmt(dp['value'].iloc[-1], '%')}.", SOURCE_ASCOF,
            "Says how support is arranged, not whether people are better off."
            + (f" {results.framework_notes['sds_users']}." if "sds_users" in results.framework_notes
               and sds["year_end"].iloc[-1] >= NEW_FRAMEWORK_FROM else ""), value=float(dp["value"].iloc[-1]),
            no_interval_reason="an administrative count of all service users, not a sample"))
    if results.verdicts:
        # The same tally, grouped the same way, as the run index shows (analysis.claims.verdict_groups).
        findings.append(Finding(
            "budgets_verdicts", f"Of the {len(results.verdicts)} claims about personal budgets in the source "
            f"articles, {'; '.join(g.text for g in verdict_groups(results.verdicts))}.",
            "Evidence register (data/evidence/figures.csv, claims.csv) and the analyses in this report",
            "A verdict judges the claim as worded against the evidence found, not the policy.",
            value=float(len(results.verdicts)), no_interval_reason="a count of claims"))
    return findings


def pilot_caveats(results: BudgetResults) -> list[str]:
    """What the pilot evidence cannot show (and, when it is absent, why there is no cost-effectiveness analysis)."""
    points = [
        # For researchers: the final report's tables can be copied into the pilot-outcomes template and given as
        # pilot_data_path (see the README); the rendered report does not say so, its readers do not run it.
        "IBSEN arm-level results (feeling in control, GHQ-12, satisfaction by user group) are in the final report's "
        "tables, not in the located summaries, so they are not analysed here.",
        "PHBE allocation was only partly random, and its critics (Greaves and Millett, in the BMJ) say some gains were "
        "judged significant at 90% confidence rather than the usual 95%.",
        "Intervals said to be 'our calculation from the published figures' are computed here from the published "
        "(rounded) figures, assuming simple random sampling with no survey weights or clustering; the one derived from "
        "a published p-value uses a normal approximation; the evaluations publish no interval of their own for these "
        "outcomes.",
        "Right to Control compared trailblazer areas with other areas, not randomised groups.",
        "POET surveys are self-selected budget holders with no comparison group.",
    ]
    if results.cea is None:
        points.append("No cost-effectiveness analysis: " + results.cea_note.removeprefix("No data: "))
    return points


def pilots_vs_rest_display(results: BudgetResults, *, latest_only: bool = False) -> pd.DataFrame:
    """Pilot councils against the rest, one row per measure and year, the difference with its interval;
    ``latest_only`` keeps each measure's latest year (the report's summary; every year is in the CSV)."""
    v = results.pilots_vs_rest
    if latest_only:
        v = v.sort_values("year_end").groupby("concept", sort=False).tail(1)
        v = v.set_index("concept").loc[list(dict.fromkeys(results.pilots_vs_rest["concept"]))].reset_index()
    level = f"{results.level:.0%}"
    out = pd.DataFrame({
        "Measure": [CONCEPTS_BY_KEY[c].label for c in v["concept"]],
        "Year": [_period(y) for y in v["year_end"]],
        "Pilot councils (unweighted mean)": v["pilots_mean"].to_numpy(),
        "Other councils (unweighted mean)": v["rest_mean"].to_numpy(),
        "Difference (points)": v["difference"].to_numpy(),
        f"{level} low": v["ci_low"].to_numpy(), f"{level} high": v["ci_high"].to_numpy(),
        "Clear difference in this year alone?": ["yes" if clear_difference(lo, hi) else "no"
                                                 for lo, hi in zip(v["ci_low"], v["ci_high"])],
        "Pilot councils": v["pilots"].astype(int).to_numpy(), "Other councils": v["rest"].astype(int).to_numpy(),
    })
    return table_format(out, intervals={"Difference (points)": (f"{level} low", f"{level} high")},
                        signed=["Difference (points)"])


def pilot_table(results: BudgetResults) -> pd.DataFrame:
    """Every comparable pilot outcome with its estimate and the best interval its published summary allows."""
    p = results.pilots
    level = f"{int(round(100 * results.level))}%"
    out = pd.DataFrame({"Outcome": p["outcome"], "Study": p["study"], "Design": p["design"],
                        "User group": p["user_group"], "Budget arm": p["budget_arm"],
                        "Comparison": p["comparison_arm"], "Measure": p["measure"], "Estimate": p["estimate"],
                        f"{level} low": p["ci_low"], f"{level} high": p["ci_high"],
                        "How the interval was obtained": p["ci_method"], "N": p["n"], "Evidence": p["evidence"]})
    return table_format(out, intervals={"Estimate": (f"{level} low", f"{level} high")})


def within_table(results: BudgetResults) -> pd.DataFrame:
    """Each outcome-exposure association, per point and per 10 points of the share, with its interval."""
    w = results.within
    level = f"{results.level:.0%}"
    per1, per10 = "Change per 1 point more of the share", "Change per 10 points more"
    out = pd.DataFrame({"Outcome": [CONCEPTS_BY_KEY[c].label for c in w["outcome"]],
                        "Share": [CONCEPTS_BY_KEY[c].label for c in w["exposure"]],
                        per1: w["slope"], f"{level} low": w["ci_low"], f"{level} high": w["ci_high"],
                        per10: 10 * w["slope"], f"{level} low (10 points)": 10 * w["ci_low"],
                        f"{level} high (10 points)": 10 * w["ci_high"],
                        "Clear association?": ["yes" if clear_difference(lo, hi) else "no"
                                               for lo, hi in zip(w["ci_low"], w["ci_high"])],
                        "Councils": w["councils"], "Council-years": w["observations"], "Years": w["years"]})
    return table_format(out, intervals={per1: (f"{level} low", f"{level} high"),
                                        per10: (f"{level} low (10 points)", f"{level} high (10 points)")},
                        signed=[per1, per10])


def pooled_table(results: BudgetResults) -> pd.DataFrame:
    """Researcher-supplied pilot outcomes pooled by outcome: estimate, interval, prediction interval and
    heterogeneity (tau-squared, I-squared with its interval, Q-test p-value)."""
    p = results.pooled
    level = f"{results.level:.0%}"
    out = pd.DataFrame({"Outcome": p["outcome"], "Measure": p["measure"], "Studies": p["k"],
                        "Estimate": p["estimate"], f"{level} low": p["ci_low"], f"{level} high": p["ci_high"],
                        "Prediction interval low": p["pi_low"], "Prediction interval high": p["pi_high"],
                        "Tau-squared": p["tau2"], "I-squared (%)": p["i2"], "I-squared low": p["i2_ci_low"],
                        "I-squared high": p["i2_ci_high"], "Q-test p": p["q_p_value"], "Method": p["method"]})
    return table_format(out, intervals={"Estimate": (f"{level} low", f"{level} high"),
                                        "I-squared (%)": ("I-squared low", "I-squared high")},
                        aligned={"Prediction interval low": "Estimate", "Prediction interval high": "Estimate"},
                        p_values=["Q-test p"])


def cea_table(results: BudgetResults) -> pd.DataFrame:
    """Incremental cost and effect with their intervals, and the ICER."""
    s = results.cea.summary()
    level = f"{results.level:.0%}"
    out = pd.DataFrame({"Quantity": s["quantity"], "Mean": s["mean"], f"{level} low": s["low"],
                        f"{level} high": s["high"]})
    return table_format(out, intervals={"Mean": (f"{level} low", f"{level} high")}, signed=["Mean"])


def synthesis_text(results: BudgetResults) -> str:
    """What the pilot table holds and what it adds up to, computed from the table."""
    p = results.pilots
    quantified = int(p["estimate"].notna().sum())
    with_ci = int(p["ci_low"].notna().sum())
    controlled = p[~p["design"].str.startswith("uncontrolled")]
    clear = controlled[[clear_difference(lo, hi) for lo, hi in zip(controlled["ci_low"], controlled["ci_high"])]]
    unclear = controlled[controlled["ci_low"].notna() & ~controlled.index.isin(clear.index)]
    per_study = controlled.groupby("outcome")["study"].nunique()
    ours = int((p["ci_low"].notna() & p["our_calculation"]).sum())
    whose = ("all of them our calculations from the published figures" if ours == with_ci else
             f"{ours} of them our calculations from the published figures" if ours else "all published")
    text = (f"The register holds {len(p)} comparable pilot outcomes; {quantified} have a number and {with_ci} an "
            f"interval ({whose}). {'No' if per_study.max() < 2 else 'Some'} outcome has two comparable controlled "
            "studies, so each study is reported as one study, not pooled. ")
    if not unclear.empty:
        text += ("Where there is an interval, the controlled studies show no clear difference in "
                 + "; ".join(f"{o} ({s.split(' (')[0]})" for o, s in zip(unclear["outcome"], unclear["study"])) + ". ")
    significant = controlled[controlled["ci_method"].str.contains("P<", regex=False) & (controlled["estimate"] > 0)]
    if not significant.empty:
        text += ("Reported as significant without an interval: "
                 + "; ".join(f"{o} ({s.split(' (')[0]})" for o, s in zip(significant["outcome"], significant["study"]))
                 + ". ")
    direction = controlled[controlled["measure"] == "direction only"]
    better = direction[direction["budget_arm"].astype(str).str.startswith("higher")]
    if not better.empty:
        text += ("Reported as better with a budget, with no numbers in the located summaries: "
                 + "; ".join(f"{o} ({s.split(' (')[0]}{'' if g.startswith(('four', 'mixed')) else ', ' + g})"
                             for o, s, g in zip(better["outcome"], better["study"], better["user_group"])) + ". ")
    return text + "No controlled study in the register shows savings with a measure of uncertainty."


# --- Figures ------------------------------------------------------------------------------------

def england_figure(results: BudgetResults):
    e = results.england.copy()
    e = e[e["concept"].isin(["dp_users", "sds_users", "control_daily_life", "satisfaction_users"])]
    e["series"] = e["concept"].map(lambda c: CONCEPTS_BY_KEY[c].label)
    dp = e[e["concept"] == "dp_users"].sort_values("year_end")
    title = (f"England: direct payments {fmt(dp['value'].iloc[0], '%')} of service users in {dp['year'].iloc[0]}, "
             f"{fmt(dp['value'].iloc[-1], '%')} in {dp['year'].iloc[-1]}") if not dp.empty else "England ASCOF measures"
    return plots.line_with_band(e, "year_end", "value", "series", title, SOURCE_ASCOF + "; 2020-21 survey measures "
                                                                                        "missing",
                                ylabel="Percent", xlabel="Year ending", percent=True)


def scatter_figure(results: BudgetResults):
    outcome, exposure = results.params.outcomes[0], results.params.exposures[0]
    p = results.panel.dropna(subset=[outcome, exposure])
    year = int(p["year_end"].max())
    latest = p[p["year_end"] == year].assign(pilot=lambda d: d["area_code"].isin(results.pilot_councils))
    cross = results.cross.set_index("year_end")
    slope = cross.loc[year] if year in cross.index else None
    x_name = SHORT_NAMES.get(exposure, CONCEPTS_BY_KEY[exposure].label.lower().split(" (")[0])
    y_name = SHORT_NAMES.get(outcome, CONCEPTS_BY_KEY[outcome].label.lower().split(" (")[0])
    per = (("percentage points" if CONCEPTS_BY_KEY[outcome].unit == "percent" else "points")
           + " for each extra percentage point of " + ("uptake" if exposure == "dp_users" else x_name))
    if slope is None:
        title = f"{_period(year)}: too few councils to estimate how {y_name} varies with {x_name}"
    else:
        interval = difference_text(slope["slope"], slope["ci_low"], slope["ci_high"], "", results.level)
        if clear_difference(slope["ci_low"], slope["ci_high"]):
            title = (f"{_period(year)}: councils with more {x_name} had {'more' if slope['slope'] > 0 else 'less'} "
                     f"{y_name} ({interval} {per})")
        else:
            title = (f"{_period(year)}: no clear association between {x_name} and {y_name} across councils "
                     f"({interval} {per})")
    return plots.scatter_fit(latest, exposure, outcome, title, SOURCE_ASCOF + "; red: the 13 IBSEN pilot councils",
                             highlight="pilot", highlight_label="IBSEN pilot council",
                             xlabel=CONCEPTS_BY_KEY[exposure].label, ylabel=CONCEPTS_BY_KEY[outcome].label)


def pilots_figure(results: BudgetResults, concept: str):
    v = results.pilots_vs_rest[results.pilots_vs_rest["concept"] == concept].copy()
    if v.empty:
        return None
    v["series"] = "IBSEN pilot councils minus the rest"
    last = v.iloc[-1]
    title = pilots_pattern(results, concept).removesuffix(".")
    return plots.line_with_band(v, "year_end", "difference", "series", title,
                                SOURCE_ASCOF + "; Welch intervals; pilots chose to pilot", low="ci_low", high="ci_high",
                                ylabel="Difference (points)", xlabel="Year ending", n=f"{int(last['pilots'])} pilots, "
                                f"{int(last['rest'])} other councils", title_basis=_pilots_basis(results, concept))


def cea_figures(results: BudgetResults) -> list:
    if results.cea is None:
        return []
    c = results.cea
    sim = c.simulated_inputs
    acc = c.acceptability()
    mid = acc.iloc[len(acc) // 2]
    summary = c.summary().set_index("quantity")
    cost, effect = summary.loc["incremental cost"], summary.loc["incremental effect"]

    def said(row, what: str, more: str, less: str) -> str:
        text = difference_text(row["mean"], row["low"], row["high"], "", c.level)
        if not clear_difference(row["low"], row["high"]):
            return f"no clear difference in {what} ({text})"
        return f"{more if row['mean'] > 0 else less} ({text})"

    title = (f"Budget against comparison (cost in £): {said(cost, 'cost', 'costs more', 'costs less')}; "
             f"{said(effect, 'effect', 'more effective', 'less effective')}")
    figs = [plots.ce_plane(c.delta_effect, c.delta_cost, title, results.cea_note, wtp=float(mid["wtp"]),
                           simulated=sim, n=f"{len(c.delta_cost):,} draws")]
    acc = acc.assign(series="P(cost-effective)", pct=100 * acc["probability_cost_effective"])
    figs.append(plots.line_with_band(acc, "wtp", "pct", "series",
                                     f"Probability cost-effective reaches {acc['pct'].iloc[-1]:.0f}% at £"
                                     f"{acc['wtp'].iloc[-1]:,.0f} per unit of effect", results.cea_note,
                                     ylabel="Probability cost-effective (%)", xlabel="Willingness to pay (£ per unit "
                                                                                     "of effect)",
                                     percent=True, simulated=sim))
    return figs


def verdicts_table(results: BudgetResults) -> pd.DataFrame:
    return verdict_table(results.verdicts)


def pooled_forests(results: BudgetResults) -> list:
    """A forest plot per pooled outcome of researcher-supplied pilot data."""
    if results.pilot_effects is None or results.pooled is None:
        return []
    figs = []
    from analysis.budgets.effects import RATIO_MEASURES

    for row in results.pooled[results.pooled["pooled"]].itertuples():
        part = results.pilot_effects[(results.pilot_effects["outcome"] == row.outcome)
                                     & (results.pilot_effects["measure"] == row.measure)].copy()
        z = 1.959963984540054
        part["label"] = part["study"] + " (" + part["user_group"].astype(str) + ")"
        part["low"] = part["yi"] - z * np.sqrt(part["vi"])
        part["high"] = part["yi"] + z * np.sqrt(part["vi"])
        log = row.measure in RATIO_MEASURES
        tr = np.exp if log else (lambda v: v)
        for col in ("yi", "low", "high"):
            part[col] = tr(part[col])
        pooled = {"estimate": tr(row.estimate), "low": tr(row.ci_low), "high": tr(row.ci_high),
                  "label": f"Pooled ({row.method}, k={row.k})"}
        title = (f"{row.outcome}: pooled {row.measure} {tr(row.estimate):.2f} ({tr(row.ci_low):.2f} to "
                 f"{tr(row.ci_high):.2f}), I-squared {row.i2:.0f}%")
        figs.append(plots.forest(part, "label", "yi", "low", "high", title, str(results.params.pilot_data_path),
                                 pooled=pooled, prediction=(tr(row.pi_low), tr(row.pi_high)), xlabel=row.measure,
                                 null=1.0 if log else 0.0, weight=None, log_scale=log))
    return figs
