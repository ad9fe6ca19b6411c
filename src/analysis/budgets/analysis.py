"""The whole personal-budgets analysis, as the notebook runs it.

``analyse(params)`` builds the pilot evidence table, pools researcher-supplied
pilot data when given, runs the ASCOF council panel, the pilot-versus-rest
comparison, the single-council profile and the cost-effectiveness analysis
when it has inputs, and returns ``BudgetResults``; figure and text helpers turn
results into charts and sentences whose numbers are computed, never typed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import data, plots, provenance
from analysis.budgets import cea, claims, councils, synthesis
from analysis.budgets.params import PersonalBudgetsParameters
from analysis.claims import Verdict, verdict_table
from analysis.data.ascof import CONCEPTS_BY_KEY
from analysis.data.evidence import figure

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
    profile: councils.CouncilProfile | None
    cea: cea.CEAResult | None
    cea_note: str
    verdicts: list[Verdict]

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
    """Run the analysis. With ``council_code`` only the profile is computed (the batch of council reports
    needs nothing else, and skipping the England-level models keeps each report fast)."""
    level = params.confidence_level
    ascof = data.load("ascof")
    lookup = data.load("council_lookup")
    years = tuple(params.years)
    concepts = list(dict.fromkeys(list(params.outcomes) + list(params.exposures)))
    england = ascof[(ascof["geography_level"] == "england") & ascof["concept"].isin(concepts + ["sds_users", "dp_users"])
                    & ascof["year_end"].between(*years)].copy()
    if params.council_code:
        profile = councils.council_profile(ascof, lookup, data.load("council_types"), params.council_code, concepts,
                                           years)
        empty = pd.DataFrame()
        return BudgetResults(params, empty, None, None, {}, empty, empty, empty, {}, empty, england, profile, None,
                             "", [])

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
    result_cea, cea_note = None, ("No data: the published pilot summaries give no variances for costs and effects. "
                                  "Supply cea_inputs or cea_data_path (person-level) to run the analysis.")
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

    verdicts = claims.assess_claims(claims_table, figures, pilots=pilots, england=england, within=within)
    return BudgetResults(params, pilots, pooled, pilot_effects, subgroup_tests, panel, within, cross, pilot_codes,
                         versus, england, None, result_cea, cea_note, verdicts)


# --- Headlines, text and tables --------------------------------------------------------------

def subject(results: BudgetResults) -> str | None:
    """The council a profile report is about (None for the England report)."""
    if results.profile is None:
        return None
    kind = f", {results.profile.council_type}" if results.profile.council_type else ""
    return f"{results.profile.name} ({results.profile.code}{kind})"


def headlines(results: BudgetResults) -> list[dict]:
    out = []
    if results.profile is not None:
        t = results.profile.table
        for concept in ("dp_users", "control_daily_life"):
            part = t[t["concept"] == concept]
            if part.empty:
                continue
            last = part.sort_values("year_end").iloc[-1]
            period = f"{int(last['year_end']) - 1}-{str(int(last['year_end']))[-2:]}"
            out.append(dict(key=f"profile_{concept}", label=f"{results.profile.name}: {last['label']} "
                            f"({period}; England {last['england']:.1f})", value=last["council"], unit="",
                            source=SOURCE_ASCOF, note=f"rank {int(last['rank'])} of {int(last['of'])}",
                            column=f"{last['label']}, latest year", period=period))
        return out
    w = results.within
    row = w[(w["exposure"] == results.params.exposures[0])].iloc[0]
    out.append(dict(key="budgets_within_association",
                    label=f"Within-council association: {CONCEPTS_BY_KEY[row['outcome']].label} per 1-point higher "
                          f"{CONCEPTS_BY_KEY[row['exposure']].label.lower()}",
                    value=row["slope"], unit="", low=row["ci_low"], high=row["ci_high"], level=results.level,
                    source=SOURCE_ASCOF + f"; council and year effects, clustered by council ({row['councils']} councils)",
                    digits=3))
    rtc = results.pilots.set_index("outcome").loc["control over daily life (as much as wanted)"]
    out.append(dict(key="budgets_rtc_control", label="Right to Control: difference in people with as much control as "
                    "they wanted (trailblazer minus comparison areas)", value=rtc["estimate"], unit="pp",
                    low=rtc["ci_low"], high=rtc["ci_high"], level=results.level, source="PB-031 (evidence register)"))
    return out


def pilot_table(results: BudgetResults) -> pd.DataFrame:
    p = results.pilots
    ci = [("no data" if pd.isna(lo) else f"{lo:+.2f} to {hi:+.2f}") for lo, hi in zip(p["ci_low"], p["ci_high"])]
    return pd.DataFrame({"Outcome": p["outcome"], "Study": p["study"], "Design": p["design"],
                         "User group": p["user_group"], "Budget arm": p["budget_arm"],
                         "Comparison": p["comparison_arm"], "Measure": p["measure"], "Estimate": p["estimate"],
                         f"{int(round(100 * results.level))}% CI": ci, "How the interval was obtained": p["ci_method"],
                         "n": p["n"], "Evidence": p["evidence"]})


def within_table(results: BudgetResults) -> pd.DataFrame:
    w = results.within
    return pd.DataFrame({"Outcome": [CONCEPTS_BY_KEY[c].label for c in w["outcome"]],
                         "Exposure": [CONCEPTS_BY_KEY[c].label for c in w["exposure"]],
                         "Slope (outcome points per point of share)": w["slope"],
                         "CI": [f"{a:+.3f} to {b:+.3f}" for a, b in zip(w["ci_low"], w["ci_high"])],
                         "p": w["p_value"], "Councils": w["councils"], "Council-years": w["observations"],
                         "Years": w["years"]})


def synthesis_text(results: BudgetResults) -> str:
    p = results.pilots
    quantified = p["estimate"].notna().sum()
    with_ci = p["ci_low"].notna().sum()
    return (f"The register holds {len(p)} comparable pilot outcomes; {quantified} have a number and {with_ci} an "
            "interval. No outcome has two comparable controlled studies, so nothing is pooled: each study is "
            "reported as one study. The controlled evidence is mixed: the personal health budget trial found better "
            "care-related quality of life, Right to Control found no difference in control over daily life, and no "
            "study shows savings.")


# --- Figures ------------------------------------------------------------------------------------

def england_figure(results: BudgetResults):
    e = results.england.copy()
    e = e[e["concept"].isin(["dp_users", "sds_users", "control_daily_life", "satisfaction_users"])]
    e["series"] = e["concept"].map(lambda c: CONCEPTS_BY_KEY[c].label)
    dp = e[e["concept"] == "dp_users"].sort_values("year_end")
    title = (f"England: direct payments {dp['value'].iloc[0]:.1f}% of service users in {dp['year'].iloc[0]}, "
             f"{dp['value'].iloc[-1]:.1f}% in {dp['year'].iloc[-1]}") if not dp.empty else "England ASCOF measures"
    return plots.line_with_band(e, "year_end", "value", "series", title, SOURCE_ASCOF + "; 2020-21 survey measures missing",
                                ylabel="Percent", xlabel="Year ending", percent=True)


def scatter_figure(results: BudgetResults):
    outcome, exposure = results.params.outcomes[0], results.params.exposures[0]
    p = results.panel.dropna(subset=[outcome, exposure])
    year = int(p["year_end"].max())
    latest = p[p["year_end"] == year].assign(pilot=lambda d: d["area_code"].isin(results.pilot_councils))
    cross = results.cross.set_index("year_end")
    slope = cross.loc[year] if year in cross.index else None
    title = (f"{year - 1}-{str(year)[-2:]}: councils with more {CONCEPTS_BY_KEY[exposure].label.lower()} show "
             + (f"a slope of {slope['slope']:+.2f} ({slope['ci_low']:+.2f} to {slope['ci_high']:+.2f})"
                if slope is not None else "no estimable slope") + " in " + CONCEPTS_BY_KEY[outcome].label.lower())
    return plots.scatter_fit(latest, exposure, outcome, title, SOURCE_ASCOF + "; red: the 13 IBSEN pilot councils",
                             highlight="pilot", highlight_label="IBSEN pilot council",
                             xlabel=CONCEPTS_BY_KEY[exposure].label, ylabel=CONCEPTS_BY_KEY[outcome].label)


def pilots_figure(results: BudgetResults, concept: str):
    v = results.pilots_vs_rest[results.pilots_vs_rest["concept"] == concept].copy()
    if v.empty:
        return None
    v["series"] = "IBSEN pilot councils minus the rest"
    last = v.iloc[-1]
    title = (f"{CONCEPTS_BY_KEY[concept].label}: pilot councils {last['difference']:+.1f} points vs the rest in "
             f"{int(last['year_end']) - 1}-{str(int(last['year_end']))[-2:]}")
    return plots.line_with_band(v, "year_end", "difference", "series", title,
                                SOURCE_ASCOF + "; Welch intervals; pilots chose to pilot", low="ci_low", high="ci_high",
                                ylabel="Difference (points)", xlabel="Year ending", n=f"{int(last['pilots'])} pilots, "
                                f"{int(last['rest'])} other councils")


def profile_figures(results: BudgetResults) -> list:
    if results.profile is None:
        return []
    prof = results.profile
    figs = []
    for concept, part in prof.table.groupby("concept", sort=False):
        part = part.sort_values("year_end")
        long = pd.concat([
            pd.DataFrame({"year_end": part["year_end"], "value": part["council"], "low": np.nan, "high": np.nan,
                          "series": prof.name}),
            pd.DataFrame({"year_end": part["year_end"], "value": part["england"], "low": np.nan, "high": np.nan,
                          "series": "England"}),
            pd.DataFrame({"year_end": part["year_end"], "value": part["peer_median"], "low": part["peer_q1"],
                          "high": part["peer_q3"], "series": f"{prof.council_type or 'All councils'} (median, IQR)"}),
        ])
        last = part.iloc[-1]
        gap = last["council"] - last["england"]
        title = (f"{prof.name}: {CONCEPTS_BY_KEY[concept].label.lower()} {gap:+.1f} points against England in "
                 f"{int(last['year_end']) - 1}-{str(int(last['year_end']))[-2:]} (rank {int(last['rank'])} of {int(last['of'])})")
        figs.append(plots.line_with_band(long, "year_end", "value", "series", title, SOURCE_ASCOF, low="low",
                                         high="high", ylabel=CONCEPTS_BY_KEY[concept].label, xlabel="Year ending",
                                         n=f"{int(last['peers'])} peer councils"))
    return figs


def profile_table(results: BudgetResults) -> pd.DataFrame:
    t = results.profile.table
    return pd.DataFrame({"Measure": t["label"], "Year": [f"{y - 1}-{str(y)[-2:]}" for y in t["year_end"]],
                         results.profile.name: t["council"], "England": t["england"],
                         "Peer median": t["peer_median"], "Peer IQR": [f"{a:.1f} to {b:.1f}" for a, b in
                                                                       zip(t["peer_q1"], t["peer_q3"])],
                         "Rank (1 = best)": [f"{int(r)} of {int(o)}" for r, o in zip(t["rank"], t["of"])]})


def cea_figures(results: BudgetResults) -> list:
    if results.cea is None:
        return []
    c = results.cea
    sim = c.simulated_inputs
    acc = c.acceptability()
    mid = acc.iloc[len(acc) // 2]
    figs = [plots.ce_plane(c.delta_effect, c.delta_cost,
                           f"Cost-effectiveness plane: mean incremental cost £{np.mean(c.delta_cost):,.0f}, effect "
                           f"{np.mean(c.delta_effect):+.3f}", results.cea_note, wtp=float(mid["wtp"]), simulated=sim,
                           n=f"{len(c.delta_cost):,} draws")]
    acc = acc.assign(series="P(cost-effective)", pct=100 * acc["probability_cost_effective"])
    figs.append(plots.line_with_band(acc, "wtp", "pct", "series",
                                     f"Probability cost-effective reaches {acc['pct'].iloc[-1]:.0f}% at £"
                                     f"{acc['wtp'].iloc[-1]:,.0f} per unit of effect", results.cea_note,
                                     ylabel="Probability cost-effective (%)", xlabel="Willingness to pay (£ per unit of effect)",
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
