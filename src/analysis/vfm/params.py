"""Parameters of the NAO value-for-money notebook.

A parameter left as ``None`` takes its default from a cited source at run time
(an evidence-register row, or the CQC closures data for the failure hazard);
the report prints which. Rates are fractions (0.04 = 4% a year).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from analysis.report.params import NotebookParameters

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Range = Annotated[list[Annotated[float, Field(ge=0.0)]], Field(min_length=2, max_length=2)]


class VfmParameters(NotebookParameters):
    annual_contract_value_gbp_m: Annotated[float, Field(gt=0, le=100_000)] | None = Field(
        None, description="Annual value of Right to Request contracts, £m. None: NAO-006 (£900m a year)")
    contract_years: Annotated[int, Field(ge=1, le=30)] | None = Field(
        None, description="Contract length in years. None: upper end of NAO-025 (3-5 year guaranteed contracts)")
    n_enterprises: Annotated[int, Field(ge=1, le=10_000)] | None = Field(
        None, description="Number of social enterprises sharing the contracts. None: NAO-002 (about 50)")
    inhouse_efficiency_rate: Fraction | None = Field(
        None, description="Annual real cost reduction in-house provision would have delivered. None: NAO-033 (4% a year)")
    inhouse_efficiency_range: Range = Field(
        [0.01, 0.04], description="Low/high in-house efficiency for the Monte Carlo and tornado (MUT-012's 1% NHS target to NAO-033's 4%)")
    contracted_savings_rate: Fraction = Field(
        0.0, description="Annual savings the contracts required. Default 0: NAO-010 (no savings contracted)")
    contracted_savings_range: Range = Field(
        [0.0, 0.01], description="Low/high contracted savings for the Monte Carlo and tornado (assumption)")
    failure_hazard: Fraction | None = Field(
        None, description="Annual probability an enterprise fails. None: CQC care-home closure rate of the proxy ownership")
    failure_proxy_ownership: Literal["third sector", "for-profit", "local authority", "all"] = Field(
        "third sector", description="Ownership whose CQC care-home closure rate stands in for spin-out failure")
    failure_proxy_measure: Literal["all closures", "involuntary closures"] = Field(
        "all closures", description="All closures (broad: includes planned closures) or involuntary CQC closures (strict)")
    transition_cost_share: Fraction = Field(
        0.25, description="Cost of re-providing a failed service, as a share of its annual contract value (assumption: no published figure)")
    transition_cost_range: Range = Field([0.05, 0.5], description="Low/high transition cost share (assumption)")
    risk_retained_share: Fraction = Field(
        1.0, description="Share of failure costs borne by the commissioner. Default 1: NAO-032 (risks stay with PCTs)")
    risk_retained_range: Range = Field([0.5, 1.0], description="Low/high retained share (assumption for the low end)")
    contract_value_uncertainty: Annotated[float, Field(ge=0, le=0.9)] = Field(
        0.1, description="± fraction around the contract value in the Monte Carlo (assumption)")
    discount_rate: Annotated[float, Field(ge=0.0, le=0.2)] | None = Field(
        None, description="Real discount rate. None: Green Book 3.5% (NAO-035)")
    n_simulations: Annotated[int, Field(ge=1_000, le=10_000_000)] = Field(
        200_000, description="Monte Carlo draws")
    seed: Annotated[int, Field(ge=0)] = Field(20110624, description="Random seed (reproducible draws)")
    confidence_level: Annotated[float, Field(gt=0.5, lt=1.0)] = Field(
        0.90, description="Width of the reported interval (0.90 = 5th to 95th percentile)")

    @model_validator(mode="after")
    def _ranges_ordered(self) -> VfmParameters:
        for name in ("inhouse_efficiency_range", "contracted_savings_range", "transition_cost_range",
                     "risk_retained_range"):
            low, high = getattr(self, name)
            if low > high:
                raise ValueError(f"{name}: low {low} is above high {high}")
            if name != "transition_cost_range" and high > 1:
                raise ValueError(f"{name}: rates are fractions; {high} is above 1")
        if self.transition_cost_range[1] > 1:
            raise ValueError("transition_cost_range: a share cannot exceed 1")
        return self
