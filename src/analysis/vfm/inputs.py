"""Turn the notebook's parameters into model inputs for each scenario, citing where each default comes from.

Three scenarios answer 'what would in-house provision have saved that the
contracts did not?' differently; everything else is common to them:

* ``match``: the contracts required exactly the savings in-house provision
  would have made, the **most favourable reading** of the NAO's finding (HC 1088:
  PCTs did not require "efficiencies over and above what would have been
  achieved if the services had remained within the Department"; NAO-029: the
  enterprises "had not been contracted to deliver savings"). The finding puts the
  required savings anywhere between nothing and what in-house would have saved;
  this scenario takes the top of that range. Contracted savings are tied to
  in-house efficiency in every draw, so foregone savings are exactly zero and what
  remains at risk is the extra failure cost and the set-up support.
* ``achieved``: the contracts required nothing (the bottom of that range, as
  NAO-029 words it) while in-house provision would have achieved the productivity
  growth the NHS actually achieved in 2011-2016 (Centre for Health Economics and
  ONS series). The report's headline scenario.
* ``target``: in-house provision would have met the NHS's 4% a year efficiency
  target (the "Nicholson challenge", NAO-033), the upper scenario: a target, not
  an achieved rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.data.evidence import figure
from analysis.precision import fmt
from analysis.vfm import failure
from analysis.vfm.model import (
    HAZARD_PAIR_KEY,
    InputSpec,
    ProgrammeTerms,
    ProxyEnsemble,
    central_values,
    constant,
    integer_uniform,
    tied,
    triangular,
    uniform,
)
from analysis.vfm.params import SCENARIO_NAMES, VfmParameters

ACHIEVED_MODE, ACHIEVED_LOW, ACHIEVED_HIGH = "NAO-040", "NAO-042", "NAO-044"
ACHIEVED_CONTEXT = ("NAO-041", "NAO-043", "NAO-045")


@dataclass(frozen=True)
class Scenario:
    name: str
    letter: str
    short: str
    question: str
    evidence_ids: tuple[str, ...]

    @property
    def label(self) -> str:
        """'a. Contracts required what in-house would have saved (the most favourable reading)', for tables."""
        return f"{self.letter}. {self.short[:1].upper()}{self.short[1:]}"

    @property
    def ref(self) -> str:
        """'scenario a (contracts required what in-house would have saved, the most favourable reading)'."""
        return f"scenario {self.letter} ({self.short.replace(' (', ', ').rstrip(')')})"


SCENARIOS = {
    "match": Scenario("match", "a", "contracts required what in-house would have saved (the most favourable reading)",
                      "The contracts required the savings in-house provision would have made, no more: the top of "
                      "the range the NAO's finding allows",
                      ("NAO-010", "NAO-029")),
    "achieved": Scenario("achieved", "b", "contracts required nothing; in-house improves at measured NHS rates",
                         "The contracts required no savings (the bottom of the range the NAO's finding allows), so "
                         "their price stayed flat; in-house provision would have gained what the NHS measurably "
                         "gained in 2011-2016, read as a cash saving to the commissioner (productivity growth is "
                         "quality-adjusted output per unit of input, mostly in hospitals; the central rate and the "
                         "low end are the Centre for Health Economics' England series, the high end the ONS's UK "
                         "series)",
                         (ACHIEVED_MODE, ACHIEVED_LOW, ACHIEVED_HIGH, "NAO-029")),
    "target": Scenario("target", "c", "in-house meets the NHS's 4% efficiency target (upper scenario)",
                       "In-house provision would have met the NHS's 4% a year efficiency target; the contracts "
                       "required no savings", ("NAO-033", "NAO-034", "NAO-050", "NAO-029")),
}
assert tuple(SCENARIOS) == SCENARIO_NAMES


@dataclass(frozen=True)
class ResolvedInputs:
    scenario: Scenario
    distributions: dict[str, InputSpec]
    terms: ProgrammeTerms
    sources: pd.DataFrame  # input, value used, distribution, source
    proxy: pd.DataFrame  # the failure-proxy definitions the hazards range over

    def central(self) -> dict[str, float]:
        return central_values(self.distributions)


def _cite(figures: pd.DataFrame, fid: str) -> str:
    row = figure(figures, fid)
    return f"{fid}: {row['source_org']} ({row['year']}, {row['verification']})"


def _pct(x: float) -> str:
    return fmt(100 * x, "%")


def _pct_range(lo: float, hi: float) -> str:
    return f"{_pct(lo)} to {_pct(hi)} a year" if lo != hi else f"{_pct(lo)} a year (no range)"


def achieved_efficiency(params: VfmParameters, figures: pd.DataFrame) -> tuple[float, float, float, str]:
    """(low, most likely, high, source) of the efficiency gain in-house provision would have achieved."""
    mode = params.inhouse_efficiency_rate
    src = ["parameter"] if mode is not None else [_cite(figures, ACHIEVED_MODE)]
    if mode is None:
        mode = float(figure(figures, ACHIEVED_MODE)["value"]) / 100
    if params.inhouse_efficiency_range is None:
        low = float(figure(figures, ACHIEVED_LOW)["value"]) / 100
        high = float(figure(figures, ACHIEVED_HIGH)["value"]) / 100
        src.append(f"range: lowest and highest annual figure published for 2011-2016 ({_cite(figures, ACHIEVED_LOW)}; "
                   f"{_cite(figures, ACHIEVED_HIGH)})")
    else:
        low, high = params.inhouse_efficiency_range
        src.append("range: parameter")
    return min(low, mode), mode, max(high, mode), "; ".join(src)


def proxy_key(params: VfmParameters) -> tuple:
    """What :func:`proxy_table` depends on: two resolutions with the same key share it."""
    return (params.failure_proxy_ownership, params.inhouse_proxy_ownership, tuple(params.failure_proxy_years),
            params.confidence_level)


def proxy_table(yearly_closures: pd.DataFrame, params: VfmParameters) -> pd.DataFrame:
    """Every named closure definition pooled over the proxy years (:func:`failure.pooled_definitions`)."""
    return failure.pooled_definitions(yearly_closures, params.failure_proxy_ownership, params.inhouse_proxy_ownership,
                                      (params.failure_proxy_years[0], params.failure_proxy_years[1]),
                                      level=params.confidence_level)


def proxy_measures(params: VfmParameters) -> list[str]:
    """The closure measures the Monte Carlo draws the failure hazards from (one, unless 'every measure')."""
    return list(failure.MEASURES) if params.failure_proxy_measure == "every measure" else [params.failure_proxy_measure]


def resolve(params: VfmParameters, figures: pd.DataFrame, yearly_closures: pd.DataFrame,
            scenario: str | None = None, proxy: pd.DataFrame | None = None) -> ResolvedInputs:
    """Defaults from the evidence register and the CQC closure data; overrides from parameters.

    ``scenario`` defaults to the parameter's; the analysis resolves all three for the scenario table.
    ``proxy`` is :func:`proxy_table` for these parameters when the caller already has it
    (its score intervals are the slow part; the explorer keeps them by :func:`proxy_key`).
    """
    scen = SCENARIOS[scenario or params.scenario]
    rows = []

    def cite(name: str, value: str, dist: str, source: str) -> None:
        rows.append({"input": name, "value": value, "distribution": dist, "source": source})

    def around(central: float, bounds: list[float]):
        """A triangular distribution over the parameter range, widened to include the central value."""
        return triangular(min(bounds[0], central), central, max(bounds[1], central))

    if params.annual_contract_value_gbp_m is None:
        value, src = float(figure(figures, "NAO-006")["value"]), _cite(figures, "NAO-006")
    else:
        value, src = params.annual_contract_value_gbp_m, "parameter"
    u = params.contract_value_uncertainty
    value_dist = uniform(value * (1 - u), value * (1 + u)) if u > 0 else constant(value)
    cite("Annual contract value", fmt(value, "£m"),
         f"uniform {fmt(value_dist.low, '£m')} to {fmt(value_dist.high, '£m')}" if u > 0 else "fixed",
         f"{src}; ±{_pct(u)} is an assumption")

    if params.contract_years is None:
        row = figure(figures, "NAO-025")
        years_dist = integer_uniform(int(row["lower"]), int(row["upper"]))
        cite("Contract length", f"{int(row['lower'])} to {int(row['upper'])} years", years_dist.description,
             f"NAO-025: PCTs had to guarantee initial contracts of {row['lower']:g}-{row['upper']:g} years "
             f"({row['source_org']}, {row['year']})")
    else:
        years_dist = constant(float(params.contract_years))
        cite("Contract length", f"{params.contract_years} years", "fixed", "parameter")

    if params.n_enterprises is None:
        n_enterprises, src = int(figure(figures, "NAO-002")["value"]), _cite(figures, "NAO-002")
    else:
        n_enterprises, src = params.n_enterprises, "parameter"
    cite("Number of enterprises", str(n_enterprises), "fixed (sets how lumpy closures are, not their expected cost)",
         src)

    if params.discount_rate is None:
        discount, src = float(figure(figures, "NAO-035")["value"]) / 100, _cite(figures, "NAO-035")
    else:
        discount, src = params.discount_rate, "parameter"
    cite("Discount rate", f"{_pct(discount)} a year (real)", "fixed", src)

    low, mode, high, achieved_src = achieved_efficiency(params, figures)
    achieved = triangular(low, mode, high)
    savings_dist = around(params.contracted_savings_rate, params.contracted_savings_range)
    savings_src = f"{_cite(figures, 'NAO-029')}: not contracted to deliver savings" \
        if params.contracted_savings_rate == 0 and params.contracted_savings_range == [0.0, 0.0] else "parameter"
    if scen.name == "match":
        eff_dist = achieved
        cite("In-house efficiency gain", f"{_pct(mode)} a year (most likely)",
             f"triangular {_pct_range(low, high)}; no effect in this scenario", achieved_src)
        sav_dist = tied("inhouse_efficiency", eff_dist)
        cite("Savings the contracts required", "equal to the in-house gain", "equal in every draw",
             f"{_cite(figures, 'NAO-010')}: no efficiencies required beyond what in-house would have achieved; "
             "this scenario assumes the contracts required exactly that much, the most favourable reading (NAO-029 "
             "says they required no savings at all)")
    else:
        if scen.name == "achieved":
            eff_dist = achieved
            cite("In-house efficiency gain", f"{_pct(mode)} a year (most likely)",
                 f"triangular {_pct_range(low, high)}",
                 achieved_src)
        else:
            target = params.target_efficiency_rate
            tsrc = "parameter" if target is not None else (f"{_cite(figures, 'NAO-033')}: the NHS's efficiency "
                                                           "target (the 'Nicholson challenge'), not an achieved rate")
            target = target if target is not None else float(figure(figures, "NAO-033")["value"]) / 100
            eff_dist = constant(target)
            cite("In-house efficiency gain", f"{_pct(target)} a year", "fixed at the target", tsrc)
        sav_dist = savings_dist
        cite("Savings the contracts required", f"{_pct(params.contracted_savings_rate)} a year",
             f"triangular {_pct_range(savings_dist.low, savings_dist.high)}" if savings_dist.low < savings_dist.high
             else "fixed", savings_src)

    measures = proxy_measures(params)
    years = (params.failure_proxy_years[0], params.failure_proxy_years[1])
    if proxy is None:
        proxy = proxy_table(yearly_closures, params)
    drawn = tuple(int(i) for i in np.flatnonzero(proxy["measure"].isin(measures)))
    hazard_specs: dict[str, InputSpec]
    if params.failure_hazard is not None and params.inhouse_failure_hazard is not None:
        hazard_specs = {"failure_hazard": constant(params.failure_hazard),
                        "inhouse_failure_hazard": constant(params.inhouse_failure_hazard)}
    else:
        ensemble = ProxyEnsemble(tuple(proxy["definition"]), tuple(proxy["spinout_events"].astype(float)),
                                 tuple(proxy["spinout_exposure"]), tuple(proxy["inhouse_events"].astype(float)),
                                 tuple(proxy["inhouse_exposure"]),
                                 description=f"closures counted as {' or '.join(measures)}, {years[0]}-{years[1]} "
                                             "pooled, each side from its Jeffreys posterior",
                                 fixed=(params.failure_hazard, params.inhouse_failure_hazard), drawn=drawn)
        hazard_specs = {HAZARD_PAIR_KEY: ensemble}
    chosen = proxy.iloc[list(drawn)]
    proxy_src = (f"CQC care-home closures counted as {'; '.join(measures)}, {years[0]}-{years[1]} pooled (datasets "
                 "cqc_care_home_closures and cqc_care_homes_count): a PROXY for failure")
    for side, own, col, override in (("Spin-out failure hazard", params.failure_proxy_ownership, "spinout_rate",
                                      params.failure_hazard),
                                     ("In-house closure hazard", params.inhouse_proxy_ownership, "inhouse_rate",
                                      params.inhouse_failure_hazard)):
        if override is not None:
            cite(side, f"{_pct(override)} a year", "fixed", "parameter")
        else:
            central = float(hazard_specs[HAZARD_PAIR_KEY].central[
                "failure_hazard" if col == "spinout_rate" else "inhouse_failure_hazard"])
            how = ("sampling error of the pooled count (Jeffreys posterior), drawn with the other side"
                   if len(chosen) == 1 else
                   f"one of {len(chosen)} definitions a draw (point rates {_pct(chosen[col].min())} to "
                   f"{_pct(chosen[col].max())} a year), each with its sampling error, drawn with the other side")
            cite(side, f"{_pct(central)} a year ({own} homes)",
                 how + f"; the other definitions ({_pct(proxy[col].min())} to {_pct(proxy[col].max())} a year) are "
                 "in the tornado and the provider-failure section", proxy_src)

    k_dist = around(params.transition_cost_share, params.transition_cost_range)
    cite("Re-provision cost on closure", f"{_pct(params.transition_cost_share)} of a year's contract value",
         f"triangular {_pct(k_dist.low)} to {_pct(k_dist.high)}",
         "assumption: no published estimate of re-provision cost was found; the same on both sides")
    rho_dist = around(params.risk_retained_share, params.risk_retained_range)
    cite("Share of a spin-out failure borne by the commissioner", _pct(params.risk_retained_share),
         f"triangular {_pct(rho_dist.low)} to {_pct(rho_dist.high)}",
         f"{_cite(figures, 'NAO-032')}: risks and liabilities remain with the PCTs (central 100%); low end is an "
         "assumption. In-house, the public sector bears all of it.")
    if params.setup_cost_gbp_m is None:
        setup, src = float(figure(figures, "NAO-007")["value"]), _cite(figures, "NAO-007")
    else:
        setup, src = params.setup_cost_gbp_m, "parameter"
    cite("One-off set-up support", fmt(setup, "£m"), "fixed, paid before the contracts start", src)

    distributions: dict[str, InputSpec] = {
        "contract_value": value_dist, "contract_years": years_dist, "inhouse_efficiency": eff_dist,
        "contracted_savings": sav_dist, **hazard_specs, "transition_cost": k_dist, "risk_retained": rho_dist,
        "setup_cost": constant(setup)}
    terms = ProgrammeTerms(n_enterprises=n_enterprises, discount_rate=discount)
    return ResolvedInputs(scen, distributions, terms, pd.DataFrame(rows), proxy)
