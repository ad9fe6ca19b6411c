"""The whole NAO value-for-money analysis, as the notebook runs it.

``analyse(params)`` loads what it needs, runs the model under the three
scenarios and returns a ``VfmResults``; the table, figure and text helpers turn
results into tables, charts and sentences whose numbers are computed, never
typed, and rounded by :mod:`analysis.precision`.

**The range first.** The NAO found the contracts required no savings beyond what
in-house provision would have made, which puts the savings they required anywhere
between nothing and that. The key findings therefore lead with the scenarios side
by side (scenario b, the contracts requiring nothing while in-house provision
improves at measured NHS rates, is the headline; scenario a, the most favourable
reading, and scenario c, the 4% target, beside it), never with one end alone.

**Failure cost is unknown.** No public data record spin-out failures; the CQC
care-home closure proxy gives costs whose sign depends on which closures count.
:func:`failure_definitions` shows that spread as named definitions, not as a
probability range: the Monte Carlo counts one definition (``failure_proxy_measure``), so
its range holds that count's sampling error, and the other definitions' totals are
named beside it.

**One total.** The headline is the Monte Carlo **mean** present value at risk in
the chosen scenario (the expected cost, the Green Book quantity, and the only
summary to which the components add up), with the central percentile range of
the simulated outcomes. :func:`reconciliation_text` explains in words why the
median and the deterministic case differ from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis import data, plots
from analysis.claims import Verdict, verdict_groups, verdict_table
from analysis.findings import Finding
from analysis.precision import decimals, fmt, fmt_interval, round_to, table_format
from analysis.vfm import assessment, claims, failure, inputs, model
from analysis.vfm.params import SCENARIO_NAMES, VfmParameters

SOURCE_NAO = ("NAO, Establishing social enterprises under the Right to Request Programme (HC 1088, 2011), via the "
              "evidence register")
SOURCE_CQC = ("CQC registrations and closures (Bach-Mortensen, Goodair & Degli Esposti replication data; Goodair ITV "
              "repository)")
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
    # The net extra failure cost under each named closure definition (empty where only one scenario was run,
    # as in the explorer).
    failure_by_definition: pd.DataFrame = field(default_factory=pd.DataFrame)
    # The same for every scenario, with each scenario's deterministic total under each definition.
    definitions_by_scenario: dict[str, pd.DataFrame] = field(default_factory=dict)

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
            return ProbabilityWorse(None, "foregone savings are zero by construction, so the sign of the total turns "
                                          "on the set-up support against a failure cost that public data cannot "
                                          "measure (the provider-failure section shows it under each definition of "
                                          "failure); a share of simulations would present that choice as a chance")
        return ProbabilityWorse(None, "foregone savings are zero by construction and the failure proxy has one sign "
                                      "in every draw, so the sign of the total is fixed by the assumptions")
    overlap = sav.high > eff.low and eff.high > sav.low
    if overlap:
        return ProbabilityWorse(float((draws["total"] > 0).mean()),
                                "the ranges of contracted savings and in-house efficiency overlap, so which side "
                                "saves more is genuinely uncertain")
    ahead = "in-house provision" if eff.low >= sav.high else "the contracts"
    return ProbabilityWorse(None, f"the scenario assumes {ahead} saves more in every draw (contracted savings "
                                  f"{_pct_range(sav.low, sav.high)}, in-house efficiency "
                                  f"{_pct_range(eff.low, eff.high)}), "
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
    proxy = inputs.proxy_table(yearly, params)
    scenarios = {name: run_scenario(params, figures, yearly, name, proxy) for name in SCENARIO_NAMES}
    selected = scenarios[params.scenario]
    dists, terms = selected.inputs.distributions, selected.inputs.terms
    torn = model.tornado(dists, terms)
    switch = model.switching_values(dists, terms)
    comparison = failure.comparison_view(proxy)  # every definition pooled, computed once for all scenarios
    criteria = assessment.criteria_assessment(figures)
    by_scenario = {name: failure_definitions(res.inputs, comparison) for name, res in scenarios.items()}
    by_definition = by_scenario[params.scenario]
    achieved = scenarios["achieved"]
    register = assessment.risk_register(
        figures, achieved.deterministic["foregone_savings"],
        dict(zip(by_definition["definition"], by_definition["extra_failure_cost"])),
        selected.inputs.central()["contract_value"])
    verdicts = claims.assess_claims(claims_table, figures, scenarios, comparison, params.confidence_level,
                                    by_definition, register)
    return VfmResults(params, pooled, yearly, comparison, scenarios, torn, switch, criteria, register, verdicts,
                      figures, by_definition, by_scenario)


def failure_definitions(resolved: inputs.ResolvedInputs, comparison: pd.DataFrame) -> pd.DataFrame:
    """The contracts' net extra failure cost under each named closure definition (deterministic, £m).

    Each closure measure pooled over the proxy years (``comparison``, from
    :func:`failure.pooled_comparison`) sets both sides' hazards; every other input stays at its central
    value. These are **definitions**, not draws from a probability distribution: which closures count
    as failures is a choice public data cannot settle, so the report names each one. A hazard given as
    a parameter stays fixed. With both hazards given, there is one row, "the hazards given".
    ``total`` is the scenario's deterministic total under the definition; ``in_monte_carlo`` marks the
    definition(s) the Monte Carlo draws from.
    """
    central = resolved.central()
    spec = resolved.distributions.get(model.HAZARD_PAIR_KEY)
    rows = []
    if spec is None:
        det = model.deterministic(central, resolved.terms)
        rows.append({"definition": "the hazards given", "measure": "parameter",
                     "spinout_hazard": central["failure_hazard"], "inhouse_hazard": central["inhouse_failure_hazard"],
                     "extra_failure_cost": det["extra_failure_cost"], "total": det["total"], "in_monte_carlo": True})
    else:
        fixed_se, fixed_ih = spec.fixed
        drawn = {resolved.proxy["measure"].iloc[i] for i in spec.drawn_indices}
        for r in comparison.itertuples():
            h_se = fixed_se if fixed_se is not None else float(-np.expm1(-r.spinout_rate))
            h_ih = fixed_ih if fixed_ih is not None else float(-np.expm1(-r.inhouse_rate))
            values = {**central, "failure_hazard": h_se, "inhouse_failure_hazard": h_ih}
            det = model.deterministic(values, resolved.terms)
            rows.append({"definition": failure.MEASURE_PHRASES[r.measure], "measure": r.measure,
                         "spinout_hazard": h_se, "inhouse_hazard": h_ih,
                         "extra_failure_cost": det["extra_failure_cost"],
                         "total": det["total"], "in_monte_carlo": r.measure in drawn})
    return pd.DataFrame(rows)


# --- Tables ------------------------------------------------------------------------

def _money(value: float, low: float | None = None, high: float | None = None, level: float | None = None) -> str:
    if low is None or high is None:
        return fmt(value, "£m")
    return fmt_interval(value, low, high, "£m", level=level, word="range")


def scenario_table(results: VfmResults) -> pd.DataFrame:
    """The core table: each scenario, what it assumes, its total value at risk (mean with the central range of the
    simulations, median and deterministic case rounded to that range), how often the contracts cost more (only where
    that means something), and its sources. The components of each total are in :func:`component_table`."""
    rows = []
    level = f"{results.level:.0%}"
    for name, res in results.scenarios.items():
        scen, dists = res.scenario, res.inputs.distributions
        eff, sav = dists["inhouse_efficiency"], dists["contracted_savings"]
        total = res.total()
        eff_text = ("any: it cancels out" if name == "match" else
                    (f"{_pct(eff.central)} a year" if eff.low == eff.high
                     else f"{_pct(eff.central)} a year (range {_pct(eff.low)} to {_pct(eff.high)})"))
        sav_text = ("the same as in-house, year by year (foregone savings zero by construction)" if name == "match"
                    else f"{_pct_range(sav.low, sav.high)} a year")
        prob = res.probability
        rows.append({
            "Scenario": scen.label + (" [headline]" if name == results.params.scenario else ""),
            "Assumes": scen.question,
            "In-house efficiency gain": eff_text,
            "Savings the contracts required": sav_text,
            "Value at risk (£m, mean)": total["mean"],
            f"{level} range low": total["low"],
            f"{level} range high": total["high"],
            "Median (£m)": total["median"],
            "Deterministic case (£m)": res.deterministic["total"],
            "Contracts cost more (% of simulations)": int(round(100 * prob.value)) if prob.shown else "not shown",
            "Total counting other closures (deterministic, £m)": _other_totals_cell(results, name),
            "Sources": "; ".join(scen.evidence_ids),
        })
    mean = "Value at risk (£m, mean)"
    shown = "Contracts cost more (% of simulations)"
    if all(r[shown] == "not shown" for r in rows):  # the text after the table says why
        for r in rows:
            del r[shown]
    return table_format(pd.DataFrame(rows), intervals={mean: (f"{level} range low", f"{level} range high")},
                        aligned={"Median (£m)": mean, "Deterministic case (£m)": mean})


def _other_totals_cell(results: VfmResults, scenario: str) -> str:
    """'87 (all closures); 176 (not chosen by the commissioner)': whole £m, since definitions differ by tens."""
    df = results.definitions_by_scenario.get(scenario, pd.DataFrame())
    if df.empty or df["in_monte_carlo"].all():
        return "none: the simulations use every definition" if not df.empty else ""
    others = df[~df["in_monte_carlo"]]
    return "; ".join(f"{fmt(t, '', places=0)} ({m})" for m, t in zip(others["measure"], others["total"]))


def _ci(row: pd.Series) -> tuple[float, float, float]:
    return row["mean"], row["low"], row["high"]


def _mean_only(row: pd.Series) -> str:
    """A mean said without its range, in whole £m: the model's inputs (a contract value of about £900m a year, a
    £8m set-up figure) support no finer money, even where a narrow simulated range would allow a decimal."""
    places = decimals(row["mean"], row["low"], row["high"])
    if abs(row["mean"]) < 1:
        return fmt(row["mean"], "£m", places=places)
    return fmt(row["mean"], "£m", places=min(places, 0))


def _whole(value_gbp_m: float) -> str:
    """Whole £m, 'about £0m' below half a million: components said this way add up to within £1m of their total."""
    return "about £0m" if abs(value_gbp_m) < 0.5 else fmt(value_gbp_m, "£m", places=0)


def _involuntary_counts(results: VfmResults) -> str:
    """'5 third-sector and 1 council-run closures in 2011-2016' for the counted definition, when it is one pooled
    measure; '' otherwise."""
    by_def = results.failure_by_definition
    drawn = by_def[by_def["in_monte_carlo"]]
    if len(drawn) != 1 or drawn["measure"].iloc[0] not in set(results.proxy_comparison["measure"]):
        return ""
    row = results.proxy_comparison.set_index("measure").loc[drawn["measure"].iloc[0]]
    own_se, own_ih = results.params.failure_proxy_ownership, results.params.inhouse_proxy_ownership
    return (f"{int(row['spinout_closures'])} {READER_NAMES.get(own_se, own_se)} and {int(row['inhouse_closures'])} "
            f"{READER_NAMES.get(own_ih, own_ih)} closures in {row['years']}")


def _span_all_definitions(results: VfmResults) -> str:
    """'from £38m in the contracts' favour to £364m against them': the deterministic totals of every scenario
    under every closure definition."""
    totals = pd.concat([df["total"] for df in results.definitions_by_scenario.values() if not df.empty])
    lo, hi = float(totals.min()), float(totals.max())
    def money(v: float) -> str:
        return (f"{fmt(abs(v), '£m', places=0)} in the contracts' favour" if round(v) < 0 else
                f"{fmt(v, '£m', places=0)} against them")
    return f"from {money(lo)} to {money(hi)}"


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
    """Each scenario's total by component: mean with its range, median and deterministic case (£m, present value),
    and the Monte Carlo error of the mean."""
    rows = []
    level = f"{results.level:.0%}"
    for res in results.scenarios.values():
        for _, r in res.summary.iterrows():
            rows.append({"Scenario": res.scenario.label, "Component": r["label"], "Mean (£m)": r["mean"],
                         f"{level} range low": r["low"], f"{level} range high": r["high"], "Median (£m)": r["median"],
                         "Deterministic case (£m)": res.deterministic[r["component"]],
                         # To the hundredth of £m: finer digits would be noise about noise.
                         "Monte Carlo error of the mean (£m)": round(float(r["mc_standard_error"]), 2)})
    return table_format(pd.DataFrame(rows), intervals={"Mean (£m)": (f"{level} range low", f"{level} range high")},
                        aligned={"Median (£m)": "Mean (£m)", "Deterministic case (£m)": "Mean (£m)"})


def inputs_table(results: VfmResults) -> pd.DataFrame:
    return results.inputs.sources


def proxy_table(results: VfmResults) -> pd.DataFrame:
    """Each closure measure pooled over the proxy years, both sides, with the excess and its interval."""
    df = results.proxy_comparison.copy()
    own_se, own_ih = df.attrs["spinout"], df.attrs["inhouse"]
    name_se, name_ih = READER_NAMES.get(own_se, own_se), READER_NAMES.get(own_ih, own_ih)
    level = f"{results.level:.0%}"
    out = pd.DataFrame({
        "Measure": df["measure"], "Years": df["years"],
        f"Closures, {name_se} homes": df["spinout_closures"],
        f"Per 100 {name_se} homes a year": 100 * df["spinout_rate"],
        f"Closures, {name_ih} homes": df["inhouse_closures"],
        f"Per 100 {name_ih} homes a year": 100 * df["inhouse_rate"],
        "Difference per 100 homes a year": 100 * df["excess_rate"], f"{level} low": 100 * df["excess_ci_low"],
        f"{level} high": 100 * df["excess_ci_high"]})
    # A definition counting different closures on the two sides differs by construction: no interval for it.
    sides = df["measure"].map(lambda m: failure.MEASURES.get(m, ("", "")))
    asymmetric = sides.map(lambda pair: pair[0] != pair[1])
    for column in (f"{level} low", f"{level} high"):
        out[column] = out[column].astype(object)
        out.loc[asymmetric.to_numpy(), column] = "n/a (by construction)"
    return table_format(out, intervals={"Difference per 100 homes a year": (f"{level} low", f"{level} high")},
                        signed=["Difference per 100 homes a year"],
                        counts=(f"Closures, {name_se} homes", f"Closures, {name_ih} homes"))


def failure_definitions_table(results: VfmResults) -> pd.DataFrame:
    """The contracts' net extra failure cost under each named closure definition (deterministic, £m)."""
    df = results.failure_by_definition
    return table_format(pd.DataFrame({
        "Which closures count as failures": df["definition"],
        "Chance a year a spin-out closes (%)": (100 * df["spinout_hazard"]).round(2),
        "Chance a year an in-house service closes (%)": (100 * df["inhouse_hazard"]).round(2),
        # Whole £m: the definitions differ by tens of millions.
        "Extra failure cost of the contracts (£m, present value)": df["extra_failure_cost"].round(0) + 0.0,
        "In the simulations": np.where(df["in_monte_carlo"], "yes", "no (tornado only)")}),
        signed=["Extra failure cost of the contracts (£m, present value)"])


def ownership_table(results: VfmResults) -> pd.DataFrame:
    df = results.closure_pooled.copy()
    level = f"{results.level:.0%}"
    out = pd.DataFrame({"Ownership": df["ownership"], "Years": df["years"], "Home-years": df["home_years"],
                        "Closures": df["closures"], "Closures per 100 homes a year": 100 * df["closure_rate"],
                        f"Closures {level} low": 100 * df["closure_ci_low"],
                        f"Closures {level} high": 100 * df["closure_ci_high"],
                        "Involuntary closures": df["forced"],
                        "Involuntary per 100 homes a year": 100 * df["forced_rate"],
                        f"Involuntary {level} low": 100 * df["forced_ci_low"],
                        f"Involuntary {level} high": 100 * df["forced_ci_high"]})
    return table_format(out, intervals={
        "Closures per 100 homes a year": (f"Closures {level} low", f"Closures {level} high"),
        "Involuntary per 100 homes a year": (f"Involuntary {level} low", f"Involuntary {level} high")},
        counts=("Home-years", "Closures", "Involuntary closures"))


def _tornado_places(results: VfmResults) -> int:
    """One precision for the whole tornado: two significant figures of half the largest swing, and never coarser
    than whole £m (the text names the definitions' totals to the £m, and the chart must agree with it)."""
    return max(0, decimals(0.0, 0.0, float(results.tornado["swing"].max()) or 1.0))


def tornado_table(results: VfmResults) -> pd.DataFrame:
    """Each input at its low and high value (others central) and the deterministic value at risk (£m)."""
    t = results.tornado
    places = _tornado_places(results)  # one precision for the chart title and the table

    def money(column: str) -> pd.Series:
        return t[column].round(places) + 0.0

    out = pd.DataFrame({"Input": t["label"],
                        "Low value": [_input_value(i, v, d) for i, v, d in
                                      zip(t["input"], t["low_value"], t["low_definition"])],
                        "High value": [_input_value(i, v, d) for i, v, d in
                                       zip(t["input"], t["high_value"], t["high_definition"])],
                        "Value at risk at low (£m)": money("npv_at_low"),
                        "Value at risk at high (£m)": money("npv_at_high"),
                        "Swing (£m)": money("swing")})
    return table_format(out)


def assumption_swings_text(results: VfmResults) -> str:
    """What the unsourced failure-cost assumptions would move under each closure definition.

    The tornado holds the hazards at the counted definition; with involuntary closures failures are so rare that
    the re-provision cost and the commissioner's share show almost no swing, which a reader could take to mean the
    assumptions do not matter. They matter under the other definitions, and this says by how much.
    """
    sel = results.selected.inputs
    swings = model.swings_by_definition(sel.distributions, sel.terms)
    if swings.empty:
        return ""
    by_def = results.failure_by_definition
    counted = set(by_def.loc[by_def["in_monte_carlo"], "measure"])
    names = {"transition_cost": "the re-provision cost on closure", "risk_retained": "the commissioner's share of it"}
    said = " and ".join(f"{names[k]} ({_pct(sel.distributions[k].low)} to {_pct(sel.distributions[k].high)})"
                        for k in names if k in set(swings["input"]))

    def moves(group: pd.DataFrame) -> str:
        if len(group) > 1 and (group["swing"] < 0.5).all():
            return "less than £1m each"
        amounts = [fmt(w, "£m", places=0) if w >= 0.5 else "less than £1m" for w in group["swing"]]
        return amounts[0] if len(amounts) == 1 else " and ".join(amounts) + " respectively"

    counted_parts, other_parts, idle = [], [], True
    for measure, group in swings.groupby("definition", sort=False):
        phrase = f"{moves(group)} counting {failure.MEASURE_PHRASES.get(measure, measure)}"
        if measure in counted:
            counted_parts.append(phrase)
            idle = idle and bool((group["swing"] < 0.5).all())
        else:
            other_parts.append(phrase)
    if not counted_parts:
        return (f"Two inputs have no published source: {said}; they move the total by "
                + " and by ".join(other_parts) + ".")
    text = (f"Two inputs have no published source: {said}. They move the total by {'; '.join(counted_parts)}, the "
            "definition the tornado uses" + (", because the failures it counts are so rare" if idle else ""))
    if other_parts:
        text += (f"; but by {' and by '.join(other_parts)}, so they matter once more closures count as failures")
    return text + "."


def _input_value(name: str, value: float, definition: str) -> str:
    if name == model.HAZARD_PAIR_KEY:
        return f"{definition} (chance of closing, spin-out minus in-house: {fmt(100 * value, 'pp')} a year)"
    if name in ("contract_value", "setup_cost"):
        return fmt(value, "£m")
    if name == "contract_years":
        return f"{int(value)} years"
    return _pct(value)


def switching_table(results: VfmResults) -> pd.DataFrame:
    """Each input's central value and the value at which the contracts break even (percent a year)."""
    s = results.switching
    out = pd.DataFrame({"Input": s["label"], "Central value (% a year)": 100 * s["central"].astype(float),
                        "Break-even value (% a year)": [100 * v if v is not None and not pd.isna(v) else "none"
                                                         for v in s["switching_value"]],
                        "Meaning": [m if not n else f"{m} ({n})" for m, n in zip(s["meaning"], s["note"])]})
    return table_format(out)


def criteria_table(results: VfmResults) -> pd.DataFrame:
    """The NAO criteria, each control in place or not ("yes"/"no"), and the rating the rule gives."""
    out = results.criteria.drop(columns=["extension"]).copy()
    for column in out.columns:
        if pd.api.types.is_bool_dtype(out[column]):
            out[column] = np.where(out[column], "yes", "no")
    return out.rename(columns={"nao_finding": "NAO finding", "requirement": "Requirement in place",
                               "comparator": "Comparator in place", "measurement": "Measurement in place",
                               "rating": "This report's rating (not the NAO's)"})


def register_table(results: VfmResults) -> pd.DataFrame:
    """The risk register with its scales named in the column headings."""
    return results.register.rename(columns={"likelihood": "Likelihood (1-5)", "impact": "Impact (1-5)",
                                            "score": "Score (likelihood x impact)", "rag": "Rating"})


def verdicts_table(results: VfmResults) -> pd.DataFrame:
    return verdict_table(results.verdicts)


# --- Headline, findings and words --------------------------------------------------

def _rounded(value: float, low: float, high: float) -> tuple[float, float, float, int]:
    places = decimals(value, low, high)
    return round_to(value, places), round_to(low, places), round_to(high, places), max(places, 0)


def headline_total(results: VfmResults) -> dict:
    """The headline box: the selected scenario's mean with its range, in £m, with the other scenarios beside it."""
    res = results.selected
    total = res.total()
    value, low, high, digits = _rounded(total["mean"], total["low"], total["high"])
    others = "; ".join(f"{o.scenario.ref}: {_mean_only(o.total())}"
                       for name, o in results.scenarios.items() if name != results.params.scenario)
    note = (f"The answer turns on the scenario, none of which public data can pick out; the others: {others}"
            if others else "")
    return dict(key="vfm_value_at_risk",
                label=f"Value at risk against in-house provision: {res.scenario.ref} (present value over the "
                      f"contracts, mean of {results.params.n_simulations:,} simulations)",
                value=value, unit="£m", low=low, high=high, level=results.level,
                source="Monte Carlo of the NAO contract value with the evidence-register and CQC-calibrated inputs "
                       "listed below", digits=digits, note=note, interval_word="range")


def _scenario_sentence(res: ScenarioResult, level: float) -> str:
    total = res.total()
    return f"{fmt_interval(total['mean'], total['low'], total['high'], '£m', level=level, word='range')}"


def _counted_object(results: VfmResults) -> str:
    """What the Monte Carlo counts as provider failure: 'involuntary (CQC-enforced) closures as failures'."""
    df = results.failure_by_definition
    if df.empty or (df["measure"] == "parameter").all():
        return "the failure hazards given as parameters"
    drawn = df[df["in_monte_carlo"]]
    if len(drawn) == 1:
        return f"{drawn['definition'].iloc[0]} as failures"
    return (f"failures under one of {len(drawn)} closure definitions, picked at random in each simulation, so the "
            "range mixes definitions")


def _why_counted(results: VfmResults) -> str:
    return (" (the only closures certainly forced on the provider; the others include planned closures)"
            if results.params.failure_proxy_measure == "involuntary closures"
            and results.params.failure_hazard is None is results.params.inhouse_failure_hazard else "")


def failure_method_text(results: VfmResults) -> str:
    """How the simulations use the closure proxy, and how a closure rate becomes a yearly chance of closing."""
    df = results.failure_by_definition
    if df.empty or (df["measure"] == "parameter").all():
        return ("The simulations use the failure hazards given as parameters; the closure data below are shown for "
                "comparison.")
    drawn = df[df["in_monte_carlo"]]
    single = len(drawn) == 1
    example = results.proxy_comparison.iloc[0]
    rate, chance = 100 * example["spinout_rate"], -100 * np.expm1(-example["spinout_rate"])
    counted = (f"The simulations count {_counted_object(results)}{_why_counted(results)}, so their range for the "
               "failure cost holds only the sampling error of that count" if single else
               f"The simulations count {_counted_object(results)}")
    return (counting_rule_text(results) + " " + counted
            + "; the tornado moves the hazards of both sides across all three definitions, and the table after the "
              f"charts gives the failure cost under each. A closure rate becomes the chance a year that a provider "
              f"closes as 1 - e^-rate: {fmt(rate, '', places=2)} closures per 100 homes a year is a "
              f"{fmt(chance, '%', places=2)} chance a year.")


def counting_rule_text(results: VfmResults) -> str:
    """What counts as a closure and as an involuntary one, with the pooled involuntary counts on both sides.

    A reader comparing the counts with the raw file needs the rule: the replication data flag CQC-forced
    endings of registrations that were not completed closures too (changes of provider), and those are not
    closures of a service.
    """
    cmp = results.proxy_comparison.set_index("measure")
    own_se, own_ih = results.params.failure_proxy_ownership, results.params.inhouse_proxy_ownership
    name_se, name_ih = READER_NAMES.get(own_se, own_se), READER_NAMES.get(own_ih, own_ih)
    text = ("A closure is a home whose registration ended and which the replication data mark as a completed "
            "closure (not a registration change), counted in the year it ended; an involuntary closure is one of "
            "those the data flag as forced by CQC enforcement.")
    if "involuntary closures" in cmp.index:
        row = cmp.loc["involuntary closures"]
        text += (f" Over {row['years']} that is {int(row['spinout_closures'])} involuntary closures of {name_se} "
                 f"homes and {int(row['inhouse_closures'])} of {name_ih} homes, so their rates rest on very few "
                 "events.")
    return text


def counted_phrase(results: VfmResults) -> str:
    """'counting involuntary (CQC-enforced) closures as failures'."""
    return f"counting {_counted_object(results)}"


def other_definitions_phrase(results: VfmResults, scenario: str | None = None, conjunction: str = "and") -> str:
    """'£87m counting all closures and £176m counting ...': the scenario's deterministic total under each
    closure definition the Monte Carlo does not use ('' when it uses them all)."""
    df = results.definitions_by_scenario.get(scenario or results.params.scenario, pd.DataFrame())
    if df.empty:
        return ""
    others = df[~df["in_monte_carlo"]]
    if others.empty:
        return ""
    favour = " in the contracts' favour"
    against = " at risk" if (others["total"].round() < 0).any() else ""  # so a mixed list cannot be misread
    parts = [f"{fmt(abs(t), '£m', places=0)}{favour if round(t) < 0 else against} counting {d}"
             for d, t in zip(others["definition"], others["total"])]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + f" {conjunction} " + parts[-1]


def failure_spread_phrase(results: VfmResults) -> str:
    """'a £46m saving counting all closures, ...': the net failure cost under each named definition."""
    df = results.failure_by_definition
    return failure.definitions_phrase(list(df["definition"]), list(df["extra_failure_cost"]))


def key_findings(results: VfmResults) -> list[Finding]:
    """Four or five findings of one or two sentences, each with its number, its range (or why none) and one clause
    on what it cannot show. The detail is in the body of the report.

    The first finding is the range of scenarios, because the NAO's finding bounds the savings the contracts
    required only between nothing and what in-house provision would have saved: no one end is "the NAO's view".
    """
    level = results.level
    findings = []
    match, achieved, target = (results.scenarios[n] for n in SCENARIO_NAMES)
    contract = results.inputs.central()["contract_value"]
    years = results.inputs.distributions["contract_years"]
    span = f"{int(years.low)}-{int(years.high)} years" if years.low != years.high else f"{int(years.low)} years"
    eff = achieved.inputs.distributions["inhouse_efficiency"]
    target_rate = target.inputs.distributions["inhouse_efficiency"].central

    a, b = match.total(), achieved.total()
    findings.append(Finding(
        key="vfm_scenarios",
        text=(f"Between about {_mean_only(a)} and {_mean_only(target.total())} (the central estimates of three "
              "scenarios) was at risk in total over the "
              f"contracts' {span} (the contracts were worth {fmt(contract, '£m')} a year), depending on what in-house "
              "provision would have saved: the NAO found the contracts required no savings beyond what in-house "
              "provision would have made, which puts the savings they required anywhere between nothing and that. "
              f"About {_mean_only(a)} at the most favourable reading (the contracts required exactly what in-house "
              f"would have saved); {_scenario_sentence(achieved, level)} if they required nothing while in-house "
              f"provision improved at the NHS's measured rate (about {fmt(100 * eff.central, '%', places=1)} a year); "
              f"{_scenario_sentence(target, level)} only if in-house provision had met the NHS's "
              f"{fmt(100 * target_rate, '%')} a year efficiency target; all three count {_counted_object(results)}"
              + (f" ({counts})" if (counts := _involuntary_counts(results)) else "")
              + (", so rare that failure adds almost nothing"
                 if abs(achieved.component("extra_failure_cost")["mean"]) < 0.02 * abs(b["mean"]) else "")
              + (f"; counting other closures as failures the three deterministic cases would span "
                 f"{_span_all_definitions(results)}"
                 if other_definitions_phrase(results, "achieved") else "") + "."),
        source="NAO findings (NAO-010, NAO-029); Centre for Health Economics (NAO-040, NAO-042) and ONS (NAO-044) "
               "productivity; NAO-033 target; CQC care-home closures as the failure proxy",
        limitation="The contracts are not public, so which reading applies cannot be checked; NHS productivity is "
                   f"measured for the whole NHS, most of it hospital care, and the {fmt(100 * target_rate, '%')} is a "
                   "target, "
                   "not an achieved rate.",
        value=float(b["mean"]), low=float(b["low"]), high=float(b["high"]), level=level, unit="£m"))

    setup = match.component("setup_cost")["mean"]
    findings.append(Finding(
        key="vfm_match",
        text=(f"At that most favourable reading the only measured cost is the {fmt(setup, '£m')} of public set-up "
              f"support; adding provider failure, which public data cannot measure, gives about {_mean_only(a)} "
              f"{counted_phrase(results)}"
              + (f", or {other_definitions_phrase(results, 'match', conjunction='or')}"
                 if other_definitions_phrase(results, "match") else "") + "."),
        source="NAO-007 (set-up support); the failure proxy below",
        limitation="It cannot show what the enterprises actually saved or cost: the contracts and their accounts are "
                   "not public.",
        value=float(setup), no_interval_reason="a published figure (NAO-007), not an estimate"))

    by_def = results.failure_by_definition
    costs = by_def["extra_failure_cost"]
    sign = ("even its sign depends on which closures count" if costs.min() < 0 < costs.max() else
            "its size depends on which closures count")
    findings.append(Finding(
        key="vfm_failure_proxy",
        text=(f"Whether spin-outs failed more often than in-house services would have is unknown from public data: "
              f"with care-home closures as a stand-in, the contracts' extra failure cost (net of in-house closures) "
              f"is {failure_spread_phrase(results)}, so {sign}. The headline totals count "
              f"{_counted_object(results)}{_why_counted(results)}"
              + (f"; with other definitions the total in the middle case (contracts required nothing, in-house "
                 "improved at measured NHS rates) would be "
                 f"{other_definitions_phrase(results, 'achieved')}" if other_definitions_phrase(results, "achieved")
                 else "") + "."),
        source="CQC care-home registrations and closures by ownership (cqc_care_home_closures, cqc_care_homes_count), "
               f"{results.params.failure_proxy_years[0]}-{results.params.failure_proxy_years[1]}",
        limitation="These are definitions, not a probability range; care homes are a different market from NHS "
                   "community services, and no public register records spin-out failures.",
        value=float(costs.max()), no_interval_reason="the largest of the named definitions, which are choices, not "
                                                     "draws from a distribution"))

    savings_claim = next((v for v in results.verdicts if v.claim_id == "CL-NAO-05"), None)
    if savings_claim is not None:
        bound = claims.nicholson_bound(results.figures)
        findings.append(Finding(
            key="vfm_savings_claim",
            text=(f"The Department's claim that mutuals were 'a serious part' of the £15-20 billion NHS savings is "
                  f"{savings_claim.verdict}: no public source breaks the savings down by provider; for scale, the "
                  f"{fmt(bound['value'], '£m')} a year of Right to Request contracts saving "
                  f"{fmt(100 * bound['rate'], '%')} a year would save about {fmt(bound['saving_year4'], '£m')} a year "
                  f"after {bound['years']} years, {fmt(100 * bound['share_low'], '%', places=1)} to "
                  f"{fmt(100 * bound['share_high'], '%', places=1)} of the savings sought (both read as a yearly "
                  "saving reached by 2014-15)."),
            source="NAO-006, NAO-033, NAO-050; NAO HC 686 (NAO-048) on where the savings came from",
            limitation="The claim is about mutuals in general and transforming services, not only these contracts, "
                       "and 4% a year was an NHS-wide target, not a ceiling on what a provider could save.",
            value=float(100 * bound["share_high"]), unit="%",
            no_interval_reason="arithmetic on published figures for scale, not an estimate"))
    findings.append(Finding(
        key="vfm_verdicts",
        # Tallied by kind of claim, as the verdict section and the run index tally them (analysis.claims).
        text=(f"Of the {len(results.verdicts)} claims about the programme in the source articles, "
              f"{'; '.join(g.text for g in verdict_groups(results.verdicts))}."),
        source="data/evidence/claims.csv and figures.csv; rules in analysis.vfm.claims",
        limitation="A verdict judges the claim as worded against public evidence; the contracts themselves are not "
                   "public. On the National Audit Office's findings, 'supported' means independent sources bear out "
                   "the auditor's criticism, not that the programme worked.",
        value=float(len(results.verdicts)), no_interval_reason="a count of claims"))
    return findings


def reconciliation_text(results: VfmResults) -> str:
    """Why the mean, the median and the deterministic case differ, in words, from the numbers."""
    res = results.selected
    total = res.total()
    lo, hi = total["low"], total["high"]
    mean, median = total["mean"], total["median"]
    det, at_means = res.deterministic["total"], res.at_input_means["total"]

    def m(x: float) -> str:
        return fmt(x, "£m", low=lo, high=hi)

    # Skew: which component's distribution pulls the mean away from the median most.
    gaps = {name: res.component(name)["mean"] - res.component(name)["median"]
            for name in ("foregone_savings", "extra_failure_cost")}
    skewed = max(gaps, key=lambda k: abs(gaps[k]))
    tail = "high" if gaps[skewed] > 0 else "low"
    mixed = results.failure_by_definition.get("in_monte_carlo", pd.Series(dtype=bool)).sum() > 1
    if skewed == "extra_failure_cost" and not mixed:
        why_skew = ("closures come in whole numbers: most simulations see no closure on either side and a few see one "
                    "or more, which pull the mean but not the median")
    elif skewed == "extra_failure_cost":
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
    named_inputs = [n for d, n in moved[:2] if d > 0.005 * max(abs(hi - lo), 1e-9)]
    if {"failure_hazard", "inhouse_failure_hazard"} & set(named_inputs):
        hazard_note = (" (a hazard's average includes the half a closure the estimate adds where none was seen, so "
                       "that no definition has a hazard of exactly zero)")
    text = (f"**One total.** The headline is the **mean** of the simulations, {m(mean)}: it is the expected cost, and "
            "its components (foregone savings, extra failure cost and set-up support, in the detail table) add up to "
            "it before rounding (the table rounds each to the precision its own range allows). "
            f"The **median** is {m(median)}: half the simulated outcomes lie "
            f"above it. The mean is {'above' if mean > median else 'below'} the median because {why_skew}. "
            f"The **deterministic case**, {m(det)}, puts every input at its central (most likely) value and expects "
            f"the average number of closures. With every input at its average instead it would be {m(at_means)}")
    if len(named) == 1:
        text += f"; the input whose most likely value differs most from its average is the {named[0]}{hazard_note}"
    elif named:
        text += (f"; the inputs whose most likely value differs most from their average are the "
                 f"{' and the '.join(named)}{hazard_note}")
    rest = fmt(mean - at_means, "£m", places=0)
    if m(at_means) == m(mean):
        text += (". That equals the mean to the precision shown: the model's non-linearity (compounding savings, "
                 "contract length times re-provision cost, whole numbers of closures) moves it by less.")
    else:
        text += (f". The rest of the gap between that and the mean ({rest}) is the model's non-linearity: "
                 "savings compound year on year, contract length and re-provision cost multiply each other, and "
                 "closures come in whole numbers.")
    return text


def probability_text(results: VfmResults) -> str:
    res = results.selected
    prob = res.probability
    if prob.shown:
        total = res.total()
        low, high = (fmt(total[k], "£m", low=total["low"], high=total["high"]) for k in ("low", "high"))
        reach = ""
        if total["low"] < 0 < total["high"]:
            further = "cheaper" if abs(total["low"]) > abs(total["high"]) else "dearer"
            reach = (f": the {results.level:.0%} range of the total runs from {low} to {high}, so the {further} "
                     "outcomes, though less frequent, reach further")
            if (further == "cheaper") != (prob.value > 0.5):
                reach = f": the {results.level:.0%} range of the total runs from {low} to {high}"
        return (f"**Probability the contracts cost more than in-house provision:** "
                f"{fmt(100 * prob.value, '%', places=0)} of simulations in this scenario. It is shown because "
                f"{prob.reason}. It says how often the contracts come out dearer, not by how much{reach}.")
    return f"**Probability the contracts cost more than in-house provision: not shown**, because {prob.reason}."


def summary_text(results: VfmResults) -> str:
    res = results.selected
    total = res.total()
    return (f"In {res.scenario.ref}, the contracts put "
            f"**{fmt_interval(total['mean'], total['low'], total['high'], '£m', level=results.level, word='range')}** "
            f"at risk against in-house provision (present value at {_pct(res.inputs.terms.discount_rate)} a year): "
            f"foregone savings {_whole(res.component('foregone_savings')['mean'])}, extra failure cost "
            f"{_whole(res.component('extra_failure_cost')['mean'])} and set-up support "
            f"{_whole(res.component('setup_cost')['mean'])} (each rounded on its own; {_whole(total['mean'])} in all, "
            f"about {_mean_only(total)}). Positive values mean the contracts cost more; the "
            "table compares the three scenarios. The set-up support is a published figure and the foregone savings "
            "follow from published productivity rates. The failure cost is not measured: the total counts "
            f"{_counted_object(results)}{_why_counted(results)}, and its range holds only the sampling error of "
            "that count, not the choice of what counts as a failure. That choice no data settle"
            + (f"; with other definitions the total would be {other_definitions_phrase(results)} (the tornado and "
               "the provider-failure section show each definition)" if other_definitions_phrase(results) else "")
            + ".")


# --- Figures -----------------------------------------------------------------------

def fan_figure(results: VfmResults):
    res = results.selected
    fan = res.mc.fan()
    total = res.total()
    title, basis = plots.difference_title(f"Value at risk by the end of the contracts, scenario {res.scenario.letter}",
                                          "the contracts", "in-house provision", total["mean"], total["low"],
                                          total["high"], unit="£m", level=results.level, higher="more costly",
                                          lower="cheaper")
    fig = plots.fan(fan, title, SOURCE_MODEL, n=f"{results.params.n_simulations:,} simulations (seed "
                                                f"{results.params.seed})",
                    level_label=f"{results.level:.0%}", title_basis=basis)
    # The headline is the mean: draw it, so the number in the title and the headline box is on the chart.
    ax = fig.axes[0]
    ax.plot(fan["year"], fan["mean"], color=plots.PALETTE[1], lw=2, ls="--", label="mean (the headline)")
    ax.legend(loc="upper left")
    return fig


def tornado_figure(results: VfmResults):
    moving = results.tornado[results.tornado["swing"] > 0]
    top = moving.iloc[0]
    base = float(results.tornado["base"].iloc[0])
    lo, hi = sorted((top["npv_at_low"], top["npv_at_high"]))
    places = _tornado_places(results)
    title = (f"{top['label']} moves the value at risk most, from {fmt(lo, '£m', places=places)} to "
             f"{fmt(hi, '£m', places=places)} (deterministic case {fmt(base, '£m', places=places)}; "
             f"scenario {results.selected.scenario.letter})")
    basis = ("a ranking of one-way swings of the deterministic model: each input moved over its stated range with the "
             "others central, so the swing has no sampling interval")
    still = len(results.tornado) - len(moving)
    years = results.params.failure_proxy_years
    source = ("One-way sensitivity of the deterministic model (analysis.vfm.model); the failure hazards of both sides "
              f"move together across the named closure definitions, each pooled over {years[0]}-{years[1]}"
              + (f"; {still} input(s) with no effect in this scenario are left out" if still else ""))
    return plots.tornado(moving, title, source, base=base, title_basis=basis)


def proxy_figure(results: VfmResults):
    """Excess closure rate of the spin-out proxy over the in-house proxy, one row per definition."""
    own_se, own_ih = results.params.failure_proxy_ownership, results.params.inhouse_proxy_ownership
    years = results.params.failure_proxy_years
    defs = failure.proxy_definitions(results.closure_yearly, own_se, own_ih, list(failure.MEASURES),
                                     (years[0], years[1]), level=results.level)
    name_se, name_ih = READER_NAMES.get(own_se, own_se), READER_NAMES.get(own_ih, own_ih)
    for col in ("excess_rate", "excess_ci_low", "excess_ci_high"):
        defs[col] = 100 * defs[col]
    parts = []
    for measure, group in defs.groupby("measure", sort=False):
        counts = {"more often": int((group["excess_ci_low"] > 0).sum()),
                  "less often": int((group["excess_ci_high"] < 0).sum())}
        counts["no differently"] = len(group) - sum(counts.values())
        said = [f"{how} in {k} of {len(group)} years" for how, k in counts.items() if k]
        spin_col, inhouse_col = failure.MEASURES[measure]
        leaning = "" if spin_col == inhouse_col else ", so it leans towards 'more often' by construction"
        parts.append(f"{' and '.join(said)} on {failure.MEASURE_PHRASES[measure]}{leaning}")
    title = (f"{name_se[:1].upper()}{name_se[1:]} care homes closed, compared with {name_ih} homes, "
             + "; ".join(parts) + f" ({years[0]}-{years[1]})")
    basis = ("counts of years whose own interval (drawn) excludes zero, by closure definition; no single difference "
             "is stated")
    return plots.forest(defs, "definition", "excess_rate", "excess_ci_low", "excess_ci_high", title, SOURCE_CQC,
                        xlabel=f"Excess closures per 100 homes a year ({results.level:.0%} interval)\n"
                               f"right of zero: {name_se} homes close more often",
                        n=f"{defs['year'].nunique()} years x {defs['measure'].nunique()} closure definitions",
                        better="left", better_label=f"fewer {name_se} closures",
                        worse_label="more", title_basis=basis)
