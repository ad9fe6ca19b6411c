"""The whole NAO value-for-money analysis, as the notebook runs it.

``analyse(params)`` loads what it needs, runs the model under the three
scenarios and returns a ``VfmResults``; the table, figure and text helpers turn
results into tables, charts and sentences whose numbers are computed, never
typed, and rounded by :mod:`analysis.precision`.

**One total.** The headline is the Monte Carlo **mean** present value at risk in
the chosen scenario (the expected cost, the Green Book quantity, and the only
summary to which the components add up), with the central percentile range of
the simulated outcomes. :func:`reconciliation_text` explains in words why the
median and the deterministic case differ from it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis import data, plots
from analysis.claims import Verdict, verdict_counts, verdict_table
from analysis.findings import Finding, difference_phrase
from analysis.precision import decimals, fmt, fmt_interval, round_frame, round_to
from analysis.vfm import assessment, claims, failure, inputs, model
from analysis.vfm.params import SCENARIO_NAMES, VfmParameters

SOURCE_NAO = "NAO, Establishing social enterprises under the Right to Request Programme (HC 1088, 2011), via the evidence register"
SOURCE_CQC = "CQC registrations and closures (Bach-Mortensen, Goodair & Degli Esposti replication data; Goodair ITV repository)"
SOURCE_MODEL = "Model in analysis.vfm.model; inputs from the evidence register and CQC closures (table of inputs)"
CLOSURE_YEARS = (2011, 2023)
READER_NAMES = {"third sector": "third-sector", "local authority": "council-run", "for-profit": "for-profit",
                "all": "all"}


@dataclass
class ProbabilityWorse:
    """The probability that the contracts cost more than in-house provision, and whether it means anything."""

    value: float | None
    reason: str

    @property
    def shown(self) -> bool:
        return self.value is not None


@dataclass
class ScenarioResult:
    inputs: inputs.ResolvedInputs
    deterministic: dict[str, float]  # every input at its central value
    at_input_means: dict[str, float]  # every input at its average draw
    mc: model.MonteCarloResult
    summary: pd.DataFrame
    probability: ProbabilityWorse

    @property
    def scenario(self) -> inputs.Scenario:
        return self.inputs.scenario

    def total(self) -> pd.Series:
        return self.summary.set_index("component").loc["total"]

    def component(self, name: str) -> pd.Series:
        return self.summary.set_index("component").loc[name]


@dataclass
class VfmResults:
    params: VfmParameters
    closure_pooled: pd.DataFrame
    closure_yearly: pd.DataFrame
    proxy_comparison: pd.DataFrame
    scenarios: dict[str, ScenarioResult]
    tornado: pd.DataFrame
    switching: pd.DataFrame
    criteria: pd.DataFrame
    register: pd.DataFrame
    verdicts: list[Verdict]
    figures: pd.DataFrame

    @property
    def level(self) -> float:
        return self.params.confidence_level

    @property
    def selected(self) -> ScenarioResult:
        return self.scenarios[self.params.scenario]

    @property
    def inputs(self) -> inputs.ResolvedInputs:
        return self.selected.inputs


# --- Analysis ----------------------------------------------------------------------

def probability_worse(resolved: inputs.ResolvedInputs, mc: model.MonteCarloResult) -> ProbabilityWorse:
    """P(total > 0), shown only when the input ranges leave the sign of the total open.

    The sign is settled by construction when the contracts' savings and in-house efficiency
    ranges do not overlap (one side is ahead in every draw by assumption) and the failure
    proxy cannot outweigh it; a probability would then restate the assumption, not measure anything.
    """
    dists = resolved.distributions
    eff, sav = dists["inhouse_efficiency"], dists["contracted_savings"]
    draws = mc.draws
    failure_sign_open = draws["extra_failure_cost"].min() < 0 < draws["extra_failure_cost"].max()
    if isinstance(sav, model.Distribution) and sav.tied_to == "inhouse_efficiency":
        if failure_sign_open:
            return ProbabilityWorse(float((draws["total"] > 0).mean()),
                                    "foregone savings are zero by construction, and the failure proxy points either "
                                    "way, so which side costs more is genuinely uncertain")
        return ProbabilityWorse(None, "foregone savings are zero by construction and the failure proxy has one sign in "
                                      "every draw, so the sign of the total is fixed by the assumptions")
    overlap = sav.high > eff.low and eff.high > sav.low
    if overlap:
        return ProbabilityWorse(float((draws["total"] > 0).mean()),
                                "the ranges of contracted savings and in-house efficiency overlap, so which side "
                                "saves more is genuinely uncertain")
    ahead = "in-house provision" if eff.low >= sav.high else "the contracts"
    return ProbabilityWorse(None, f"the scenario assumes {ahead} saves more in every draw (contracted savings "
                                  f"{_pct_range(sav.low, sav.high)}, in-house efficiency {_pct_range(eff.low, eff.high)}), "
                                  "so the probability would restate the assumption rather than measure anything")


def _pct(x: float) -> str:
    return fmt(100 * x, "%")


def _pct_range(lo: float, hi: float) -> str:
    return _pct(lo) if lo == hi else f"{_pct(lo)} to {_pct(hi)}"


def run_scenario(params: VfmParameters, figures: pd.DataFrame, yearly: pd.DataFrame, name: str,
                 proxy: pd.DataFrame | None = None) -> ScenarioResult:
    """One scenario: inputs resolved, deterministic cases, the Monte Carlo and its summary.

    ``proxy`` is passed to :func:`analysis.vfm.inputs.resolve` (precomputed failure-proxy definitions).
    """
    resolved = inputs.resolve(params, figures, yearly, scenario=name, proxy=proxy)
    det = model.deterministic(resolved.central(), resolved.terms)
    at_means = model.deterministic(model.mean_values(resolved.distributions), resolved.terms)
    mc = model.monte_carlo(resolved.distributions, resolved.terms, params.n_simulations, params.seed,
                           level=params.confidence_level)
    return ScenarioResult(resolved, det, at_means, mc, mc.summary(), probability_worse(resolved, mc))


def analyse(params: VfmParameters) -> VfmResults:
    figures = data.load_figures()
    claims_table = data.load_claims()
    closures = data.load("cqc_care_home_closures")
    counts = data.load("cqc_care_homes_count")
    years = (params.failure_proxy_years[0], params.failure_proxy_years[1])
    pooled, _ = failure.closure_rates(closures, counts, years=years, level=params.confidence_level)
    _, yearly = failure.closure_rates(closures, counts, years=CLOSURE_YEARS, level=params.confidence_level)
    scenarios = {name: run_scenario(params, figures, yearly, name) for name in SCENARIO_NAMES}
    selected = scenarios[params.scenario]
    dists, terms = selected.inputs.distributions, selected.inputs.terms
    torn = model.tornado(dists, terms)
    switch = model.switching_values(dists, terms)
    measures = list(dict.fromkeys(selected.inputs.proxy["measure"]))
    comparison = failure.pooled_comparison(yearly, params.failure_proxy_ownership, params.inhouse_proxy_ownership,
                                           measures, years, level=params.confidence_level)
    criteria = assessment.criteria_assessment(figures)
    central = selected.inputs.central()
    gross = model.deterministic({**central, "inhouse_failure_hazard": 0.0}, terms)["extra_failure_cost"]
    register = assessment.risk_register(figures, selected.deterministic, gross, central["contract_value"],
                                        central["failure_hazard"], terms.n_enterprises, int(round(central["contract_years"])))
    verdicts = claims.assess_claims(claims_table, figures, scenarios, comparison, params.confidence_level)
    return VfmResults(params, pooled, yearly, comparison, scenarios, torn, switch, criteria, register, verdicts, figures)


# --- Tables ------------------------------------------------------------------------

def _money(value: float, low: float | None = None, high: float | None = None, level: float | None = None) -> str:
    if low is None or high is None:
        return fmt(value, "£m")
    return fmt_interval(value, low, high, "£m", level=level, word="range")


def scenario_table(results: VfmResults) -> pd.DataFrame:
    """The core table: each scenario, what it assumes, its value at risk by component, and its sources."""
    rows = []
    for name, res in results.scenarios.items():
        scen, dists = res.scenario, res.inputs.distributions
        eff, sav = dists["inhouse_efficiency"], dists["contracted_savings"]
        total = res.total()
        eff_text = ("any: it cancels out" if name == "match" else
                    (f"{_pct(eff.central)} a year" if eff.low == eff.high
                     else f"{_pct(eff.central)} a year (range {_pct(eff.low)} to {_pct(eff.high)})"))
        sav_text = ("the same as in-house, year by year" if name == "match"
                    else f"{_pct_range(sav.low, sav.high)} a year")
        prob = res.probability
        rows.append({
            "scenario": scen.label + (" [headline]" if name == results.params.scenario else ""),
            "assumes": scen.question,
            "in_house_efficiency": eff_text,
            "contracted_savings": sav_text,
            "foregone_savings": ("£0m: zero by construction" if not np.any(res.mc.draws["foregone_savings"])
                                 else _money(*_ci(res.component("foregone_savings")))),
            "extra_failure_cost": _money(*_ci(res.component("extra_failure_cost"))),
            "set_up_support": fmt(res.component("setup_cost")["mean"], "£m"),
            "total_value_at_risk_mean": _money(*_ci(total)),
            "median": fmt(total["median"], "£m", low=total["low"], high=total["high"]),
            "deterministic_case": fmt(res.deterministic["total"], "£m", low=total["low"], high=total["high"]),
            "probability_worse_than_in_house": fmt(100 * prob.value, "%", places=0) if prob.shown else "not shown",
            "sources": "; ".join(scen.evidence_ids),
        })
    return pd.DataFrame(rows)


def _ci(row: pd.Series) -> tuple[float, float, float]:
    return row["mean"], row["low"], row["high"]


def _mean_only(row: pd.Series) -> str:
    """A mean rounded to the precision its range supports, without the range."""
    return fmt(row["mean"], "£m", low=row["low"], high=row["high"])


def scenario_numbers(results: VfmResults) -> pd.DataFrame:
    """The scenario table's numbers unrounded, for readers who want to check them."""
    rows = []
    for name, res in results.scenarios.items():
        for _, r in res.summary.iterrows():
            rows.append({"scenario": name, "component": r["component"], "mean": r["mean"], "median": r["median"],
                         "low": r["low"], "high": r["high"],
                         "deterministic": res.deterministic.get(r["component"], np.nan)})
    df = pd.DataFrame(rows)
    df.attrs["level"] = results.level
    return df


def component_table(results: VfmResults) -> pd.DataFrame:
    """The headline scenario's components: mean with its range, median, and the deterministic case."""
    res = results.selected
    rows = []
    for _, r in res.summary.iterrows():
        rows.append({"component": r["label"], "mean_and_range": _money(r["mean"], r["low"], r["high"]),
                     "median": fmt(r["median"], "£m", low=r["low"], high=r["high"]),
                     "deterministic_case": fmt(res.deterministic[r["component"]], "£m", low=r["low"], high=r["high"]),
                     "monte_carlo_error_of_mean": fmt(r["mc_standard_error"], "£m")})
    return pd.DataFrame(rows)


def inputs_table(results: VfmResults) -> pd.DataFrame:
    return results.inputs.sources


def proxy_table(results: VfmResults) -> pd.DataFrame:
    """Each closure measure pooled over the proxy years, both sides, with the excess and its interval."""
    df = results.proxy_comparison.copy()
    own_se, own_ih = df.attrs["spinout"], df.attrs["inhouse"]
    out = pd.DataFrame({
        "measure": df["measure"], "years": df["years"],
        f"{own_se}_closures": df["spinout_closures"], f"{own_se}_rate_per_100_a_year": 100 * df["spinout_rate"],
        f"{own_ih}_closures": df["inhouse_closures"], f"{own_ih}_rate_per_100_a_year": 100 * df["inhouse_rate"],
        "excess_per_100_a_year": 100 * df["excess_rate"], "low": 100 * df["excess_ci_low"],
        "high": 100 * df["excess_ci_high"]})
    return round_frame(out, interval_columns={"excess_per_100_a_year": ("low", "high")},
                       count_columns=(f"{own_se}_closures", f"{own_ih}_closures"))


def ownership_table(results: VfmResults) -> pd.DataFrame:
    df = results.closure_pooled.copy()
    out = pd.DataFrame({"ownership": df["ownership"], "years": df["years"], "home_years": df["home_years"],
                        "closures": df["closures"], "closure_rate_per_100": 100 * df["closure_rate"],
                        "closure_low": 100 * df["closure_ci_low"], "closure_high": 100 * df["closure_ci_high"],
                        "involuntary": df["forced"], "involuntary_rate_per_100": 100 * df["forced_rate"],
                        "involuntary_low": 100 * df["forced_ci_low"], "involuntary_high": 100 * df["forced_ci_high"]})
    return round_frame(out, interval_columns={"closure_rate_per_100": ("closure_low", "closure_high"),
                                              "involuntary_rate_per_100": ("involuntary_low", "involuntary_high")},
                       count_columns=("home_years", "closures", "involuntary"))


def _tornado_places(results: VfmResults) -> int:
    """One precision for the whole tornado: two significant figures of half the largest swing."""
    return decimals(0.0, 0.0, float(results.tornado["swing"].max()) or 1.0)


def tornado_table(results: VfmResults) -> pd.DataFrame:
    t = results.tornado
    places = _tornado_places(results)

    def money(v: float) -> str:
        return fmt(v, "£m", places=places)

    return pd.DataFrame({"input": t["label"], "low_value": [_input_value(i, v, d) for i, v, d in
                                                           zip(t["input"], t["low_value"], t["low_definition"])],
                         "high_value": [_input_value(i, v, d) for i, v, d in
                                        zip(t["input"], t["high_value"], t["high_definition"])],
                         "value_at_risk_at_low": [money(v) for v in t["npv_at_low"]],
                         "value_at_risk_at_high": [money(v) for v in t["npv_at_high"]],
                         "swing": [money(v) for v in t["swing"]]})


def _input_value(name: str, value: float, definition: str) -> str:
    if name == model.HAZARD_PAIR_KEY:
        return f"{fmt(100 * value, 'pp')} a year ({definition})"
    if name in ("contract_value", "setup_cost"):
        return fmt(value, "£m")
    if name == "contract_years":
        return f"{int(value)} years"
    return _pct(value)


def switching_table(results: VfmResults) -> pd.DataFrame:
    s = results.switching
    return pd.DataFrame({"input": s["label"], "central_value": [_pct(v) for v in s["central"]],
                         "break_even_value": [_pct(v) if v is not None and not pd.isna(v) else "none"
                                              for v in s["switching_value"]],
                         "meaning": [m if not n else f"{m} ({n})" for m, n in zip(s["meaning"], s["note"])]})


def criteria_table(results: VfmResults) -> pd.DataFrame:
    return results.criteria.drop(columns=["extension"])


def register_table(results: VfmResults) -> pd.DataFrame:
    return results.register


def verdicts_table(results: VfmResults) -> pd.DataFrame:
    return verdict_table(results.verdicts)


# --- Headline, findings and words --------------------------------------------------

def _rounded(value: float, low: float, high: float) -> tuple[float, float, float, int]:
    places = decimals(value, low, high)
    return round_to(value, places), round_to(low, places), round_to(high, places), max(places, 0)


def headline_total(results: VfmResults) -> dict:
    res = results.selected
    total = res.total()
    value, low, high, digits = _rounded(total["mean"], total["low"], total["high"])
    # The unit is in the label: a bare number keeps negative values readable ("-87", not "£-87m").
    return dict(key="vfm_value_at_risk",
                label=f"Value at risk against in-house provision, £m: {res.scenario.ref} (present value over the "
                      f"contracts, mean of {results.params.n_simulations:,} simulations)",
                value=value, unit="", low=low, high=high, level=results.level,
                source="Monte Carlo of the NAO contract value with the evidence-register and CQC-calibrated inputs "
                       "listed below", digits=digits)


def _scenario_sentence(res: ScenarioResult, level: float) -> str:
    total = res.total()
    return f"{fmt_interval(total['mean'], total['low'], total['high'], '£m', level=level, word='range')}"


def key_findings(results: VfmResults) -> list[Finding]:
    """Four or five plain-English findings, each with its number, its range and what it cannot show."""
    level, params = results.level, results.params
    findings = []
    match, achieved, target = (results.scenarios[n] for n in SCENARIO_NAMES)
    contract = results.inputs.central()["contract_value"]
    years = results.inputs.distributions["contract_years"]
    span = f"{int(years.low)}-{int(years.high)} year" if years.low != years.high else f"{int(years.low)}-year"

    t = match.total()
    verdict = ("more than in-house provision would have" if t["low"] > 0 else
               "less than in-house provision would have" if t["high"] < 0 else
               "no clearly different amount from what in-house provision would have")
    prob = match.probability
    prob_text = (f" The contracts come out worse in {fmt(100 * prob.value, '%', places=0)} of simulations."
                 if prob.shown else "")
    findings.append(Finding(
        key="vfm_match",
        text=(f"Taking the NAO's finding literally (the contracts required the savings in-house provision would have "
              f"made), the {fmt(contract, '£m')} a year of Right to Request contracts cost {verdict}: the value at risk over "
              f"the {span} contracts is {_scenario_sentence(match, level)}, the set-up support plus the difference in "
              f"failure costs.{prob_text}"),
        source="NAO finding (NAO-010) with the Department's position (NAO-052); CQC care-home closures as the failure proxy",
        limitation="It cannot show what the enterprises actually saved or cost: the contracts and their accounts are "
                   "not public, and failure is proxied by care homes.",
        value=float(t["mean"]), low=float(t["low"]), high=float(t["high"]), level=level, unit="£m"))

    a, c = achieved.total(), target.total()
    eff = achieved.inputs.distributions["inhouse_efficiency"]
    findings.append(Finding(
        key="vfm_scenarios",
        text=(f"If in-house provision would have matched the productivity growth the NHS measurably achieved in "
              f"2011-2016 (most likely {_pct(eff.central)} a year, range {_pct(eff.low)} to {_pct(eff.high)}) and the "
              f"contracts required no savings, {_scenario_sentence(achieved, level)} was at risk; only if in-house "
              f"provision had met the 4% a year Nicholson target would it reach {_scenario_sentence(target, level)}."),
        source="Centre for Health Economics (NAO-040, NAO-042) and ONS (NAO-044) productivity; NAO-033 target; NAO-029",
        limitation="Measured productivity is NHS-wide and mostly hospital care; community services' own productivity "
                   "is not measured, and the 4% is a target, not an achieved rate.",
        value=float(a["mean"]), low=float(a["low"]), high=float(a["high"]), level=level, unit="£m"))

    cmp = results.proxy_comparison.set_index("measure")
    own_se, own_ih = results.proxy_comparison.attrs["spinout"], results.proxy_comparison.attrs["inhouse"]
    parts = []
    name_se, name_ih = READER_NAMES.get(own_se, own_se), READER_NAMES.get(own_ih, own_ih)
    for measure, row in cmp.iterrows():
        if row["excess_ci_low"] > 0:
            says = f"{name_se} homes closed more often"
        elif row["excess_ci_high"] < 0:
            says = f"{name_ih} homes closed more often"
        else:
            says = "no clear difference"
        parts.append(f"on {failure.MEASURE_PHRASES[measure]}, {fmt(100 * row['spinout_rate'], '')} {name_se} against "
                     f"{fmt(100 * row['inhouse_rate'], '')} {name_ih} closures per 100 homes a year ({says})")
    fail = match.component("extra_failure_cost")
    main = ("involuntary closures" if "involuntary closures" in cmp.index else cmp.index[0])
    main_row = cmp.loc[main]
    findings.append(Finding(
        key="vfm_failure_proxy",
        text=(f"Applied to both sides, the care-home closure proxy {failure.proxy_direction(results.proxy_comparison)}: "
              + "; ".join(parts) + f" ({params.failure_proxy_years[0]}-{params.failure_proxy_years[1]}). Across "
              f"these definitions the extra failure cost of the contracts is "
              f"{fmt_interval(fail['mean'], fail['low'], fail['high'], '£m', level=level, word='range')}."),
        source="CQC care-home registrations and closures by ownership (cqc_care_home_closures, cqc_care_homes_count)",
        limitation="Care homes are a different market from NHS community services, and no public register records "
                   "spin-out failures.",
        value=float(100 * main_row["excess_rate"]), low=float(100 * main_row["excess_ci_low"]),
        high=float(100 * main_row["excess_ci_high"]), level=level, unit="pp"))

    nicholson = next((v for v in results.verdicts if v.claim_id == "CL-NAO-05"), None)
    if nicholson is not None:
        bound = claims.nicholson_bound(results.figures)
        findings.append(Finding(
            key="vfm_nicholson_claim",
            text=(f"The Department of Health's claim that mutuals were 'a serious part' of the £15-20 billion NHS "
                  f"savings is {nicholson.verdict}: even at the full 4% a year on all {fmt(bound['value'], '£m')} of "
                  f"Right to Request contracts, they could have saved about {fmt(bound['saving_year4'], '£m')} a year "
                  f"by the fourth year, {fmt(100 * bound['share_low'], '%', places=1)} to "
                  f"{fmt(100 * bound['share_high'], '%', places=1)} of the programme."),
            source="NAO-006, NAO-033, NAO-050; NAO HC 686 (NAO-048) on where the savings came from",
            limitation="No public source breaks the savings down by provider, so this is an upper bound, not a measure.",
            value=float(100 * bound["share_high"]), unit="%",
            no_interval_reason="an upper bound computed from published figures, not an estimate"))
    counts = verdict_counts(results.verdicts)
    findings.append(Finding(
        key="vfm_verdicts",
        text=(f"Of the {len(results.verdicts)} claims about the programme in the source articles, "
              + ", ".join(f"{n} {'is' if n == 1 else 'are'} {v}" for v, n in counts.items())
              + "; none rests on the claimant's own words."),
        source="data/evidence/claims.csv and figures.csv; rules in analysis.vfm.claims",
        limitation="A verdict judges the claim as worded against public evidence; where the contracts are not public "
                   "it cannot judge what they said.",
        value=float(len(results.verdicts)), no_interval_reason="a count of claims"))
    return findings


def reconciliation_text(results: VfmResults) -> str:
    """Why the mean, the median and the deterministic case differ, in words, from the numbers."""
    res = results.selected
    total = res.total()
    lo, hi = total["low"], total["high"]
    mean, median, det, at_means = total["mean"], total["median"], res.deterministic["total"], res.at_input_means["total"]

    def m(x: float) -> str:
        return fmt(x, "£m", low=lo, high=hi)

    # Skew: which component's distribution pulls the mean away from the median most.
    gaps = {name: res.component(name)["mean"] - res.component(name)["median"]
            for name in ("foregone_savings", "extra_failure_cost")}
    skewed = max(gaps, key=lambda k: abs(gaps[k]))
    tail = "high" if gaps[skewed] > 0 else "low"
    if skewed == "extra_failure_cost":
        why_skew = ("the failure proxy gives very different answers under different definitions: a minority of "
                    f"definitions produce large {'costs' if tail == 'high' else 'savings'}, which pull the mean but "
                    "not the median")
    else:
        why_skew = ("savings compound over the contract years and the longer contracts and faster in-house gains "
                    f"produce a tail of {tail} values")
    # Central values versus averages of the inputs.
    central = res.inputs.central()
    means = model.mean_values(res.inputs.distributions)
    moved = []
    for name in model.UNCERTAIN_INPUTS:
        if abs(central[name] - means[name]) > 1e-12:
            alt = model.deterministic(model.apply_ties({**central, name: means[name]}, res.inputs.distributions),
                                      res.inputs.terms)["total"]
            moved.append((abs(alt - det), name))
    moved.sort(reverse=True)
    named = [f"{model.INPUT_LABELS[n].lower()} (central {_input_value(n, central[n], '')}, average "
             f"{_input_value(n, means[n], '')})" for _, n in moved[:2] if _ > 0.005 * max(abs(hi - lo), 1e-9)]
    hazard_note = ""
    if "failure_hazard" in [n for _, n in moved[:3]] or "inhouse_failure_hazard" in [n for _, n in moved[:3]]:
        hazard_note = " (the hazards' averages include the half-closure the Jeffreys prior adds where none was seen)"
    text = (f"**One total.** The headline is the **mean** of the simulations, {m(mean)}: it is the expected cost, and "
            f"the components in the table add up to it. The **median** is {m(median)}: half the simulated outcomes lie "
            f"above it. The mean is {'above' if mean > median else 'below'} the median because {why_skew}. "
            f"The **deterministic case**, {m(det)}, puts every input at its central (most likely) value and expects "
            f"the average number of closures. With every input at its average instead it would be {m(at_means)}")
    if len(named) == 1:
        text += f"; the input whose most likely value differs most from its average is the {named[0]}{hazard_note}"
    elif named:
        text += (f"; the inputs whose most likely value differs most from their average are the "
                 f"{' and the '.join(named)}{hazard_note}")
    text += (f". The rest of the gap between that and the mean ({m(mean - at_means)}) is the model's non-linearity: "
             "savings compound year on year, contract length and re-provision cost multiply each other, and closures "
             "come in whole numbers.")
    return text


def probability_text(results: VfmResults) -> str:
    res = results.selected
    prob = res.probability
    if prob.shown:
        return (f"**Probability the contracts cost more than in-house provision:** "
                f"{fmt(100 * prob.value, '%', places=0)} of simulations in this scenario. It is shown because "
                f"{prob.reason}.")
    return f"**Probability the contracts cost more than in-house provision: not shown**, because {prob.reason}."


def summary_text(results: VfmResults) -> str:
    res = results.selected
    total = res.total()
    return (f"In {res.scenario.ref}, the contracts put "
            f"**{fmt_interval(total['mean'], total['low'], total['high'], '£m', level=results.level, word='range')}** "
            f"at risk against in-house provision (present value at {_pct(res.inputs.terms.discount_rate)} a year): "
            f"foregone savings {_mean_only(res.component('foregone_savings'))}, extra failure cost "
            f"{_mean_only(res.component('extra_failure_cost'))}, set-up support "
            f"{fmt(res.component('setup_cost')['mean'], '£m')}. Positive values mean the contracts cost more; the "
            "table compares the three scenarios.")


# --- Figures -----------------------------------------------------------------------

def fan_figure(results: VfmResults):
    res = results.selected
    fan = res.mc.fan()
    total = res.total()
    title = difference_phrase(f"Value at risk by the end of the contracts, scenario {res.scenario.letter}",
                              "the contracts", "in-house provision", total["mean"], total["low"], total["high"],
                              unit="£m", level=results.level, higher="more costly", lower="cheaper")
    return plots.fan(fan, title, SOURCE_MODEL, n=f"{results.params.n_simulations:,} simulations (seed {results.params.seed})",
                     level_label=f"{results.level:.0%}")


def tornado_figure(results: VfmResults):
    moving = results.tornado[results.tornado["swing"] > 0]
    top = moving.iloc[0]
    base = float(results.tornado["base"].iloc[0])
    lo, hi = sorted((top["npv_at_low"], top["npv_at_high"]))
    places = _tornado_places(results)
    title = (f"{top['label']} moves the value at risk most, from {fmt(lo, '£m', places=places)} to "
             f"{fmt(hi, '£m', places=places)} (deterministic case {fmt(base, '£m', places=places)}; "
             f"scenario {results.selected.scenario.letter})")
    still = len(results.tornado) - len(moving)
    source = ("One-way sensitivity of the deterministic model (analysis.vfm.model); the failure hazards of both sides "
              "move together across the proxy definitions"
              + (f"; {still} input(s) with no effect in this scenario are left out" if still else ""))
    return plots.tornado(moving, title, source, base=base)


def proxy_figure(results: VfmResults):
    """Excess closure rate of the spin-out proxy over the in-house proxy, one row per definition."""
    defs = results.inputs.proxy.copy()
    own_se, own_ih = results.params.failure_proxy_ownership, results.params.inhouse_proxy_ownership
    name_se, name_ih = READER_NAMES.get(own_se, own_se), READER_NAMES.get(own_ih, own_ih)
    for col in ("excess_rate", "excess_ci_low", "excess_ci_high"):
        defs[col] = 100 * defs[col]
    parts = []
    for measure, group in defs.groupby("measure", sort=False):
        counts = {"more often": int((group["excess_ci_low"] > 0).sum()),
                  "less often": int((group["excess_ci_high"] < 0).sum())}
        counts["no differently"] = len(group) - sum(counts.values())
        said = [f"{how} in {k} of {len(group)} years" for how, k in counts.items() if k]
        parts.append(f"{' and '.join(said)} on {failure.MEASURE_PHRASES[measure]}")
    years = results.params.failure_proxy_years
    title = (f"{name_se[:1].upper()}{name_se[1:]} care homes closed, compared with {name_ih} homes, "
             + "; ".join(parts) + f" ({years[0]}-{years[1]})")
    return plots.forest(defs, "definition", "excess_rate", "excess_ci_low", "excess_ci_high", title, SOURCE_CQC,
                        xlabel=f"Excess closures per 100 homes a year ({results.level:.0%} interval)\n"
                               f"right of zero: {name_se} homes close more often",
                        n=f"{len(defs)} proxy definitions")
