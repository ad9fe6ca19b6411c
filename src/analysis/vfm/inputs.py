"""Turn the notebook's parameters into model inputs, citing where each default comes from."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from analysis.data.evidence import figure
from analysis.vfm import failure
from analysis.vfm.model import Distribution, ProgrammeTerms, constant, hazard_from_counts, triangular, uniform
from analysis.vfm.params import VfmParameters


@dataclass(frozen=True)
class ResolvedInputs:
    distributions: dict[str, Distribution]
    terms: ProgrammeTerms
    sources: pd.DataFrame  # input, value used, distribution, source

    def central(self) -> dict[str, float]:
        return {name: d.central for name, d in self.distributions.items()}


def resolve(params: VfmParameters, figures: pd.DataFrame, closure_pooled: pd.DataFrame) -> ResolvedInputs:
    """Defaults from the evidence register and the CQC closure rates; overrides from parameters."""
    rows = []

    def cite(name: str, value, dist: str, source: str) -> None:
        rows.append({"input": name, "value": value, "distribution": dist, "source": source})

    def parameter_or_register(value, fid: str, scale: float = 1.0) -> tuple[float, str]:
        """The parameter if given, else the register row's value (times ``scale``) with its citation."""
        if value is not None:
            return value, "parameter"
        row = figure(figures, fid)
        return float(row["value"]) * scale, f"{fid}: {row['source_org']} ({row['year']}, {row['verification']})"

    def around(central: float, bounds: list[float]) -> Distribution:
        """A triangular distribution over the parameter range, widened to include the central value."""
        return triangular(min(bounds[0], central), central, max(bounds[1], central))

    value, src = parameter_or_register(params.annual_contract_value_gbp_m, "NAO-006")
    u = params.contract_value_uncertainty
    value_dist = uniform(value * (1 - u), value * (1 + u)) if u > 0 else constant(value)
    cite("contract_value", value, value_dist.description, src)

    if params.contract_years is None:
        row = figure(figures, "NAO-025")
        years = int(row["upper"])
        cite("contract_years", years, "fixed", f"NAO-025: upper end of {row['lower']:g}-{row['upper']:g} year contracts "
             f"({row['source_org']}, {row['year']})")
    else:
        years = params.contract_years
        cite("contract_years", years, "fixed", "parameter")

    n_value, src = parameter_or_register(params.n_enterprises, "NAO-002")
    n_enterprises = int(n_value)
    cite("n_enterprises", n_enterprises, "fixed", src)

    discount, src = parameter_or_register(params.discount_rate, "NAO-035", scale=0.01)
    cite("discount_rate", discount, "fixed", src)

    eff, src = parameter_or_register(params.inhouse_efficiency_rate, "NAO-033", scale=0.01)
    eff_dist = around(eff, params.inhouse_efficiency_range)
    low_src = figure(figures, "MUT-012")
    cite("inhouse_efficiency", eff, eff_dist.description,
         f"{src}; range from parameter (default 1% = NHS target quoted in MUT-012 ({low_src['source_org']}), to 4%)")

    savings = params.contracted_savings_rate
    sav_dist = around(savings, params.contracted_savings_range)
    figure(figures, "NAO-010")
    cite("contracted_savings", savings, sav_dist.description,
         "NAO-010/NAO-029: PCTs did not generally contract for savings (central 0); range is an assumption")

    if params.failure_hazard is None:
        row = closure_pooled[closure_pooled["ownership"] == params.failure_proxy_ownership].iloc[0]
        events = row["closures"] if params.failure_proxy_measure == "all closures" else row["forced"]
        hazard_dist = hazard_from_counts(events, row["home_years"])
        cite("failure_hazard", hazard_dist.central, hazard_dist.description,
             f"CQC care-home {params.failure_proxy_measure}, {params.failure_proxy_ownership} homes {row['years']} "
             "(datasets cqc_care_home_closures and cqc_care_homes_and_beds): a PROXY for spin-out failure")
    else:
        hazard_dist = constant(params.failure_hazard)
        cite("failure_hazard", params.failure_hazard, "fixed", "parameter")

    k = params.transition_cost_share
    k_dist = around(k, params.transition_cost_range)
    cite("transition_cost", k, k_dist.description, "assumption: no published estimate of re-provision cost was found")

    rho = params.risk_retained_share
    rho_dist = around(rho, params.risk_retained_range)
    figure(figures, "NAO-032")
    cite("risk_retained", rho, rho_dist.description,
         "NAO-032: risks and liabilities remain with the PCTs (central 1); low end is an assumption")

    distributions = {"contract_value": value_dist, "inhouse_efficiency": eff_dist, "contracted_savings": sav_dist,
                     "failure_hazard": hazard_dist, "transition_cost": k_dist, "risk_retained": rho_dist}
    terms = ProgrammeTerms(contract_years=years, n_enterprises=n_enterprises, discount_rate=discount)
    return ResolvedInputs(distributions, terms, pd.DataFrame(rows))


def closure_rates_for_model(closures: pd.DataFrame, counts: pd.DataFrame, level: float = 0.95):
    """The pooled closure rates the model calibrates on (2012-2023)."""
    return failure.closure_rates(closures, counts, years=(2012, 2023), level=level)
