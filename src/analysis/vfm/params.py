"""Parameters of the NAO value-for-money notebook.

A parameter left as ``None`` takes its default from a cited source at run time
(an evidence-register row, or the CQC closures data for the failure hazards);
the report prints which. Rates are fractions (0.04 = 4% a year).

The defaults are the central case a careful reader would accept: the contracts
required no savings (the NAO's words, NAO-029) while in-house provision would
have improved at measured NHS productivity growth rather than the 4% target
(scenario ``achieved``; the report shows the most favourable reading, ``match``,
and the 4% target beside it), the failure proxy applied to both sides counting
involuntary (CQC-enforced) closures, the only closures that are failures by
definition (the other definitions are named beside the totals, never mixed into
their ranges), and contract length across its published 3-5 year range.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from analysis.parameters import NotebookParameters

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
Range = Annotated[list[Annotated[float, Field(ge=0.0)]], Field(min_length=2, max_length=2)]
Ownership = Literal["third sector", "for-profit", "local authority", "all"]
Scenario = Literal["match", "achieved", "target"]
SCENARIO_NAMES: tuple[str, ...] = ("match", "achieved", "target")


class VfmParameters(NotebookParameters):
    scenario: Scenario = Field(
        "achieved", description="Scenario for the headline, tornado and fan chart (the scenario table shows all "
        "three): 'achieved' = the contracts required no savings while in-house would have achieved measured NHS "
        "productivity growth; 'match' = the contracts required exactly the savings in-house provision would have "
        "made (the most favourable reading of the NAO's finding, so foregone savings are zero); 'target' = in-house "
        "would have met the NHS's 4% a year efficiency target")
    annual_contract_value_gbp_m: Annotated[float, Field(gt=0, le=100_000)] | None = Field(
        None, description="Annual value of Right to Request contracts, £m. None: NAO-006 (£900m a year)")
    contract_value_uncertainty: Annotated[float, Field(ge=0, le=0.9)] = Field(
        0.1, description="± fraction around the contract value in the Monte Carlo (assumption)")
    contract_years: Annotated[int, Field(ge=1, le=30)] | None = Field(
        None, description="Contract length in years. None: each whole number in NAO-025's 3-5 year range equally "
                          "likely")
    n_enterprises: Annotated[int, Field(ge=1, le=10_000)] | None = Field(
        None, description="Number of social enterprises sharing the contracts. None: NAO-002 (about 50)")
    inhouse_efficiency_rate: Fraction | None = Field(
        None, description="Most likely annual efficiency gain in-house provision would have achieved (scenario "
        "'achieved'). None: NAO-040 (NHS productivity growth 1.56% a year, 2010/11-2013/14, Centre for Health "
        "Economics)")
    inhouse_efficiency_range: Range | None = Field(
        None, description="Low/high achieved in-house efficiency for the Monte Carlo and tornado. None: the lowest and "
        "highest annual NHS productivity growth published for 2011-2016 (NAO-042 0.04%, NAO-044 3.0%)")
    target_efficiency_rate: Fraction | None = Field(
        None, description="In-house efficiency in scenario 'target'. None: NAO-033 (the NHS's 4% a year efficiency "
        "target, the 'Nicholson challenge')")
    contracted_savings_rate: Fraction = Field(
        0.0, description="Annual savings the contracts required in scenarios 'achieved' and 'target'. Default 0: "
        "NAO-029 (not contracted to deliver savings)")
    contracted_savings_range: Range = Field(
        [0.0, 0.0], description="Low/high contracted savings for the Monte Carlo and tornado in scenarios 'achieved' "
        "and 'target'. Default none: NAO-029")
    failure_hazard: Fraction | None = Field(
        None, description="Annual probability a spin-out fails. None: CQC care-home closure rates of the spin-out "
        "proxy ownership, counted as failure_proxy_measure")
    inhouse_failure_hazard: Fraction | None = Field(
        None, description="Annual probability the same service run in-house closes. None: CQC closure rates of the "
        "in-house proxy ownership, counted as failure_proxy_measure")
    failure_proxy_ownership: Ownership = Field(
        "third sector", description="Ownership whose CQC care-home closure rate stands in for spin-out failure")
    inhouse_proxy_ownership: Ownership = Field(
        "local authority", description="Ownership whose CQC care-home closure rate stands in for in-house closure")
    failure_proxy_measure: Literal["every measure", "all closures", "involuntary closures",
                                   "not chosen by the commissioner"] = Field(
        "involuntary closures", description="Which closures the Monte Carlo counts as failures: involuntary CQC "
        "closures on both sides (the default: the only closures certainly forced on the provider), all closures on "
        "both sides (includes planned closures), closures not chosen by the commissioner (every spin-out closure, "
        "involuntary in-house closures), or every measure (a draw picks one, so the range mixes definitions). The "
        "tornado and the provider-failure section show every definition whatever is chosen")
    failure_proxy_years: Annotated[list[Annotated[int, Field(ge=2000, le=2100)]],
                                   Field(min_length=2, max_length=2)] = Field(
        [2011, 2016], description="First and last year of CQC closures the proxy ranges over (default: the years the "
        "Right to Request contracts ran)")
    transition_cost_share: Fraction = Field(
        0.25, description="Cost of re-providing a closed service, as a share of its annual contract value "
        "(assumption: no published figure)")
    transition_cost_range: Range = Field([0.05, 0.5], description="Low/high re-provision cost share (assumption)")
    risk_retained_share: Fraction = Field(
        1.0, description="Share of a spin-out failure's cost borne by the commissioner. Default 1: NAO-032 (risks "
        "stay with PCTs)")
    risk_retained_range: Range = Field([0.5, 1.0], description="Low/high retained share (assumption for the low end)")
    setup_cost_gbp_m: Annotated[float, Field(ge=0, le=10_000)] | None = Field(
        None, description="One-off public support to set the enterprises up, £m. None: NAO-007 (some £8m)")
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
            value = getattr(self, name)
            if value is None:
                continue
            low, high = value
            if low > high:
                raise ValueError(f"{name}: low {low} is above high {high}")
            if high > 1:
                what = ("a share cannot exceed 1" if name == "transition_cost_range"
                        else f"rates are fractions; {high} is above 1")
                raise ValueError(f"{name}: {what}")
        first, last = self.failure_proxy_years
        if first > last:
            raise ValueError(f"failure_proxy_years: first year {first} is after last year {last}")
        return self
