"""The whole mutuals-versus-in-house analysis, as the notebook runs it.

``analyse(params)`` runs every real-data comparison (and the panel methods when
a researcher's panel is given, or on SIMULATED data when asked), and returns a
``MutualsResults``; figure and text helpers turn the results into charts and
sentences whose numbers are computed, never typed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import data, plots, provenance
from analysis.claims import Verdict, verdict_table
from analysis.data.staff_survey import ITEMS_BY_KEY
from analysis.mutuals import claims, externalisation, ratings, staff
from analysis.mutuals.panel import (PanelColumns, aggregate, callaway_santanna, did_2x2, read_panel_csv,
                                    synthetic_control, twfe, twfe_event_study, validate_panel)
from analysis.mutuals.panel.simulate import simulate_staggered_panel
from analysis.mutuals.params import MutualsParameters

SOURCE_STAFF = "NHS Staff Survey 2021-24 organisational results (NHS England; merged by Badgett et al.)"
SOURCE_CQC = "Care Quality Commission ratings by ownership (compiled by B. Goodair)"
SOURCE_EXT = "NHS Digital PSS-EX1 / ASC-FR, harmonised by B. Goodair"


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


@dataclass
class MutualsResults:
    params: MutualsParameters
    comparisons: dict[str, pd.DataFrame]
    focus: staff.FocusComparison | None
    spread: dict[str, pd.DataFrame]
    cqc_shares: pd.DataFrame
    cqc_models: dict
    care_homes: pd.DataFrame
    national: pd.DataFrame
    councils: pd.DataFrame
    national_change: pd.DataFrame
    panel: PanelResults | None
    simulated: PanelResults | None
    verdicts: list[Verdict]

    @property
    def level(self) -> float:
        return self.params.confidence_level


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


def analyse(params: MutualsParameters) -> MutualsResults:
    figures = data.load_figures()
    claims_table = data.load_claims()
    survey = data.load("staff_survey")
    years = tuple(params.survey_years)
    comparisons = {svc: staff.compare_items(survey, svc, list(params.outcomes), years, params.confidence_level,
                                            params.n_permutations, params.seed)
                   for svc in params.comparisons}
    spread = {svc: staff.organisation_spread(survey, svc, params.outcomes[0], years) for svc in params.comparisons}
    focus = staff.organisation_vs_benchmark(survey, params.focus_organisation, list(params.outcomes), years,
                                            params.confidence_level)
    cqc_years = tuple(params.cqc_years)
    shares = ratings.good_share_by_year(data.load("cqc_ratings_by_year"), cqc_years, params.confidence_level)
    models = ratings.inspection_models(data.load("cqc_community_inspections"), (cqc_years[0] - 1, cqc_years[1] + 1),
                                       params.confidence_level)
    homes = ratings.care_home_cross_section(data.load("cqc_care_home_closures"), params.confidence_level)
    national = externalisation.national_inhouse_share(data.load("national_expenditure"))
    councils = externalisation.council_distribution(data.load("provision_shares"))
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

    verdicts = claims.assess_claims(
        claims_table, figures, community=comparisons.get("community"), focus=focus.table, focus_name=focus.organisation,
        cqc_models=models["table"], cqc_shares=shares,
        n_survey_social_enterprises=int(survey.loc[survey["provider_model"] == "social enterprise", "ods_code"].nunique()))
    return MutualsResults(params, comparisons, focus, spread, shares, models, homes, national, councils, change,
                          panel_results, simulated, verdicts)


# --- Headlines and text ------------------------------------------------------------------------

def headlines(results: MutualsResults) -> list[dict]:
    out = []
    community = results.comparisons.get("community")
    if community is not None and not community.empty:
        better = int((community["verdict"] == "better").sum())
        worse = int((community["verdict"] == "worse").sum())
        out.append(dict(key="mutuals_staff_items", label=f"Staff outcomes (of {len(community)}) where community social "
                        "enterprises differ robustly from community trusts", value=float(better + worse), unit="",
                        source=f"{SOURCE_STAFF}; robust = randomisation p < 0.05 and CI excluding 0",
                        note=f"better on {better}, worse on {worse}", digits=0))
        burnout = community.set_index("item").loc["burnout"] if "burnout" in set(community["item"]) else None
        if burnout is not None:
            out.append(dict(key="mutuals_burnout_gap", label="Burnout (often/always): community social enterprises "
                            "minus community trusts", value=burnout["difference_pp"], unit="pp",
                            low=burnout["ci_low"], high=burnout["ci_high"], level=results.level,
                            source=SOURCE_STAFF + " (binomial GLM, year effects, clustered by organisation)"))
    logit = results.cqc_models["table"]
    ts = logit[(logit["model"].str.startswith("logit")) & (logit["term"] == "third sector")].iloc[0]
    out.append(dict(key="mutuals_cqc_third_sector", label="Third-sector community services vs council in-house: "
                    "difference in chance of Good/Outstanding", value=ts["difference_pp"], unit="pp",
                    low=ts["diff_ci_low"], high=ts["diff_ci_high"], level=results.level,
                    source=SOURCE_CQC + " (logit, year and re-inspection controls, clustered by location)"))
    return out


def verdicts_table(results: MutualsResults) -> pd.DataFrame:
    return verdict_table(results.verdicts)


def comparison_summary(results: MutualsResults, service: str) -> str:
    table = results.comparisons[service]
    better = table[table["verdict"] == "better"]["label"].tolist()
    worse = table[table["verdict"] == "worse"]["label"].tolist()
    n_se = int(table["n_social_enterprises"].max())
    n_tr = int(table["n_trusts"].max())
    years = results.params.survey_years
    text = (f"Against {n_tr} NHS {service} trusts, {n_se} {service} social enterprise(s) in {years[0]}-{years[1]}: "
            f"robustly better on {len(better)} of {len(table)} staff outcomes"
            + (f" ({'; '.join(better)})" if better else "")
            + f", robustly worse on {len(worse)}" + (f" ({'; '.join(worse)})" if worse else "") + ". "
            "'Robustly' means the randomisation p-value is below 0.05 and the confidence interval (where valid) "
            "excludes zero; the rest show no clear difference.")
    if n_se < 2:
        text += (" With a single social enterprise, the comparison is of one organisation, not of a model of "
                 "provision.")
    return text


def staff_forest(results: MutualsResults, service: str):
    table = results.comparisons[service].copy()
    table["label_short"] = [ITEMS_BY_KEY[k].label.split(" (")[0] for k in table["item"]]
    better = int((table["verdict"] == "better").sum())
    worse = int((table["verdict"] == "worse").sum())
    valid = table.dropna(subset=["ci_low"])
    if valid.empty:  # one organisation: show estimates with randomisation p in the label instead
        table["ci_low"] = table["ci_high"] = table["difference_pp"]
        valid = table
    title = (f"{service.capitalize()} social enterprises vs NHS trusts: robustly better on {better}, worse on "
             f"{worse} of {len(table)} staff outcomes")
    n = f"{int(table['n_social_enterprises'].max())} social enterprises, {int(table['n_trusts'].max())} trusts"
    return plots.forest(valid, "label_short", "difference_pp", "ci_low", "ci_high", title,
                        SOURCE_STAFF + ". Positive = higher percentage in social enterprises; whether higher is better "
                        "depends on the item.", xlabel="Social enterprise minus trust (percentage points)",
                        n=n)


def focus_figure(results: MutualsResults, item: str):
    table = results.focus.table
    part = table[table["item"] == item]
    if part.empty:
        return None
    long = pd.concat([
        pd.DataFrame({"year": part["year"], "value": part["organisation_rate"], "low": part["ci_low"],
                      "high": part["ci_high"], "series": results.focus.organisation}),
        pd.DataFrame({"year": part["year"], "value": part["benchmark_median"], "low": part["benchmark_q1"],
                      "high": part["benchmark_q3"], "series": "Benchmark trusts (median, IQR)"}),
        pd.DataFrame({"year": part["year"], "value": part["national_trust_average"], "low": np.nan, "high": np.nan,
                      "series": "All NHS trusts (respondent-weighted mean)"}),
    ])
    last = part.iloc[-1]
    title = (f"{results.focus.organisation}: {last['organisation_rate']:.0f}% vs {last['national_trust_average']:.0f}% "
             f"across NHS trusts in {int(last['year'])} ({ITEMS_BY_KEY[item].label.split(' (')[0].lower()})")
    return plots.line_with_band(long, "year", "value", "series", title, SOURCE_STAFF, low="low", high="high",
                                ylabel="Percent of staff", xlabel="Survey year", percent=True,
                                n=f"{int(part['benchmark_n'].max())} benchmark trusts")


def cqc_share_figure(results: MutualsResults, setting: str):
    df = results.cqc_shares[results.cqc_shares["setting"] == setting].copy()
    df["ownership"] = df["ownership"].astype(str)
    last = df[df["year"] == df["year"].max()].sort_values("share", ascending=False)
    title = (f"{setting.capitalize()}: {last.iloc[0]['ownership']} providers most often rated Good or Outstanding "
             f"in {int(last.iloc[0]['year'])} ({last.iloc[0]['share']:.0f}%)")
    return plots.line_with_band(df, "year", "share", "ownership", title, SOURCE_CQC + "; year-end snapshots",
                                low="ci_low", high="ci_high", ylabel="Rated Good or Outstanding (%)", xlabel="Year",
                                colours=plots.OWNERSHIP_COLOURS, percent=True,
                                n=f"{int(last['total'].sum()):,} rated services in {int(last.iloc[0]['year'])}")


def externalisation_figure(results: MutualsResults):
    df = results.national[results.national["setting"].isin(["Total over 65", "Home care",
                                                             "Residential care home placements"])].copy()
    df["series"] = df["setting"] + " (" + df["collection"] + ")"
    change = results.national_change
    total = change[(change["setting"] == "Total over 65") & (change["collection"] == "PSS-EX1")]
    title = "Councils' own (in-house) share of spend on older people's care fell in both collection eras"
    if not total.empty:
        t = total.iloc[0]
        title = (f"In-house share of 65+ care spend fell from {t['from']:.0f}% ({t['from_year']}) to {t['to']:.0f}% "
                 f"({t['to_year']}); the 2015 collection change breaks the series")
    return plots.line_with_band(df, "year", "in_house_share", "series", title, SOURCE_EXT + "; cash terms, England",
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


# --- Compact tables for the shared report --------------------------------------------------

def _ci_text(lo, hi, digits: int = 1) -> str:
    if pd.isna(lo) or pd.isna(hi):
        return "not valid (one organisation)"
    return f"{lo:+.{digits}f} to {hi:+.{digits}f}"


def staff_display(results: MutualsResults, service: str) -> pd.DataFrame:
    t = results.comparisons[service]
    level = int(round(100 * results.level))
    return pd.DataFrame({
        "Staff-survey item": t["label"],
        "Higher is better": t["higher_is_better"].map({True: "yes", False: "no"}),
        "Social enterprises (%)": t["social_enterprise_rate"],
        "NHS trusts (%)": t["trust_rate"],
        "Difference (pp)": t["difference_pp"],
        f"{level}% CI (pp)": [_ci_text(a, b) for a, b in zip(t["ci_low"], t["ci_high"])],
        "Randomisation p": t["p_randomisation"],
        "Wild-bootstrap p": t["p_wild_bootstrap"],
        "Verdict": t["verdict"],
    })


def focus_display(results: MutualsResults) -> pd.DataFrame:
    t = results.focus.table
    return pd.DataFrame({
        "Year": t["year"], "Item": t["label"], "Organisation (%)": t["organisation_rate"],
        "Organisation CI (%)": [f"{a:.1f} to {b:.1f}" for a, b in zip(t["ci_low"], t["ci_high"])],
        "Comparable trusts, median (%)": t["benchmark_median"],
        "All NHS trusts (%)": t["national_trust_average"],
        "Difference from all trusts (pp)": t["difference_from_national_pp"],
        "Percentile among trusts": t["percentile_among_trusts"],
    })


def ratings_display(table: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame({
        "Model": table.get("model", pd.Series("logit: Good or Outstanding", index=table.index)),
        "Term (vs council in-house)": table["term"],
        "Odds ratio": table["odds_ratio"],
        "OR CI": [f"{a:.2f} to {b:.2f}" for a, b in zip(table["ci_low"], table["ci_high"])],
        "Difference (pp)": table["difference_pp"],
        "Difference CI (pp)": [("" if pd.isna(a) else f"{a:+.1f} to {b:+.1f}")
                               for a, b in zip(table["diff_ci_low"], table["diff_ci_high"])],
        "p": table["p_value"],
    })
    return out
