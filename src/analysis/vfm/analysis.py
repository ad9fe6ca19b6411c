"""The whole NAO value-for-money analysis, as the notebook runs it.

``analyse(params)`` loads what it needs, runs every step and returns a
``VfmResults``; the figure and text helpers turn results into charts and
sentences whose numbers are computed, never typed.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis import data, plots
from analysis.claims import Verdict, verdict_table
from analysis.vfm import assessment, claims, failure, inputs, model
from analysis.vfm.params import VfmParameters

SOURCE_NAO = "NAO, Establishing social enterprises under the Right to Request Programme (HC 1088, 2011), via the evidence register"
SOURCE_CQC = "CQC registrations and closures (Bach-Mortensen, Goodair & Degli Esposti replication data; Goodair ITV repository)"


@dataclass
class VfmResults:
    params: VfmParameters
    inputs: inputs.ResolvedInputs
    closure_pooled: pd.DataFrame
    closure_yearly: pd.DataFrame
    criteria: pd.DataFrame
    deterministic: dict[str, float]
    mc: model.MonteCarloResult
    mc_summary: pd.DataFrame
    tornado: pd.DataFrame
    switching: pd.DataFrame
    register: pd.DataFrame
    verdicts: list[Verdict]

    @property
    def level(self) -> float:
        return self.params.confidence_level


def analyse(params: VfmParameters) -> VfmResults:
    figures = data.load_figures()
    claims_table = data.load_claims()
    closures = data.load("cqc_care_home_closures")
    counts = data.load("cqc_care_homes_count")
    pooled, yearly = failure.closure_rates(closures, counts, years=(2012, 2023), level=params.confidence_level)
    resolved = inputs.resolve(params, figures, pooled)
    central = resolved.central()
    det = model.deterministic(central, resolved.terms)
    mc = model.monte_carlo(resolved.distributions, resolved.terms, params.n_simulations, params.seed,
                           level=params.confidence_level)
    summary = mc.summary()
    torn = model.tornado(resolved.distributions, resolved.terms)
    switch = model.switching_values(central, resolved.terms)
    criteria = assessment.criteria_assessment(figures)
    register = assessment.risk_register(figures, det, central["contract_value"], central["failure_hazard"],
                                        resolved.terms.n_enterprises, resolved.terms.contract_years)
    hazard_row = pooled[pooled["ownership"] == params.failure_proxy_ownership].iloc[0]
    hazard_text = (f"CQC proxy: {params.failure_proxy_ownership} care homes closed at "
                   f"{hazard_row['closure_rate']:.1%} a year ({params.confidence_level:.0%} CI "
                   f"{hazard_row['closure_ci_low']:.1%} to {hazard_row['closure_ci_high']:.1%}) and were closed "
                   f"involuntarily at {hazard_row['forced_rate']:.2%} a year, {hazard_row['years']}")
    verdicts = claims.assess_claims(claims_table, figures, summary, det, hazard_text,
                                    resolved.terms.contract_years)
    return VfmResults(params, resolved, pooled, yearly, criteria, det, mc, summary, torn, switch, register, verdicts)


def verdicts_table(results: VfmResults) -> pd.DataFrame:
    return verdict_table(results.verdicts)


def headline_total(results: VfmResults) -> dict:
    row = results.mc_summary.set_index("component").loc["total"]
    years = results.inputs.terms.contract_years
    return dict(key="vfm_value_at_risk", label=f"Value at risk over {years} years against in-house provision "
                f"(present value, mean of {results.mc.n:,} draws)", value=row["mean"], unit="£m",
                low=row["low"], high=row["high"], level=results.level,
                source="Monte Carlo of the NAO contract value with the evidence-register and CQC-calibrated inputs listed below",
                digits=0)


def headline_switching(results: VfmResults) -> dict | None:
    row = results.switching.set_index("input").loc["contracted_savings"]
    if row["switching_value"] is None or pd.isna(row["switching_value"]):
        return None
    return dict(key="vfm_breakeven_savings", label="Annual savings the contracts needed to require to match in-house",
                value=100 * row["switching_value"], unit="%",
                source="Switching value of the deterministic model (inputs at central values)", digits=2)


def closure_figure(results: VfmResults):
    df = results.closure_pooled.copy()
    df["rate_pct"] = 100 * df["closure_rate"]
    df["lo_pct"] = 100 * df["closure_ci_low"]
    df["hi_pct"] = 100 * df["closure_ci_high"]
    ordered = df.sort_values("rate_pct", ascending=False)
    top = ordered.iloc[0]
    title = (f"{top['ownership'].capitalize()} care homes closed most often: {top['rate_pct']:.1f}% a year, "
             f"{results.closure_pooled.iloc[0]['years']}")
    n = f"{int(df['home_years'].sum() - df[df['ownership'] == 'all']['home_years'].sum()):,} home-years"
    return plots.bars_with_ci(df, "ownership", "rate_pct", "lo_pct", "hi_pct", title, SOURCE_CQC,
                              colours=plots.OWNERSHIP_COLOURS, xlabel=f"Closures per 100 homes a year "
                              f"({results.level:.0%} CI)", n=n)


def fan_figure(results: VfmResults):
    fan = results.mc.fan()
    final = fan.iloc[-1]
    title = (f"Value at risk grows to £{final['q50']:,.0f}m by year {int(final['year'])} "
             f"(median; {results.level:.0%} interval £{final['q05']:,.0f}m to £{final['q95']:,.0f}m)")
    return plots.fan(fan, title, f"Model in analysis.vfm; inputs from {SOURCE_NAO} and {SOURCE_CQC}",
                     n=f"{results.mc.n:,} simulations (seed {results.mc.seed})",
                     level_label=f"{results.level:.0%}")


def tornado_figure(results: VfmResults):
    top = results.tornado.iloc[0]
    title = f"{top['label']} moves the value at risk most (£{top['npv_at_low']:,.0f}m to £{top['npv_at_high']:,.0f}m)"
    return plots.tornado(results.tornado, title, "One-way sensitivity of the deterministic model (analysis.vfm.model)",
                         base=float(results.tornado["base"].iloc[0]))


def summary_text(results: VfmResults) -> str:
    total = results.mc_summary.set_index("component").loc["total"]
    foregone = results.mc_summary.set_index("component").loc["foregone_savings"]
    fail = results.mc_summary.set_index("component").loc["failure_cost"]
    terms = results.inputs.terms
    central = results.inputs.central()
    switch = results.switching.set_index("input").loc["contracted_savings", "switching_value"]
    switch_text = ("no contracted saving would have matched in-house provision" if switch is None or pd.isna(switch)
                   else f"the contracts would have had to require savings of {100 * switch:.2f}% a year")
    return (
        f"Over {terms.contract_years} years, contracts worth £{central['contract_value']:,.0f}m a year that required "
        f"savings of {100 * central['contracted_savings']:.1f}% a year, against in-house efficiency of "
        f"{100 * central['inhouse_efficiency']:.1f}% a year, put **£{total['mean']:,.0f}m** (present value at "
        f"{100 * terms.discount_rate:.1f}%) at risk on average ({results.level:.0%} interval £{total['low']:,.0f}m "
        f"to £{total['high']:,.0f}m; probability the contracts are worse than in-house "
        f"{total['probability_positive']:.0%}). Foregone savings are £{foregone['mean']:,.0f}m of this and retained "
        f"failure costs £{fail['mean']:,.0f}m. To break even with in-house provision, {switch_text}."
    )
