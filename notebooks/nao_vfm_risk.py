# %% [markdown]
# # NAO value-for-money risk: Right to Request social enterprises
#
# In 2011 the National Audit Office (NAO) reported on the Department of Health's *Right to Request* programme, under which NHS community-services staff spun out into social enterprises. It found that primary care trusts did not require the new enterprises to make savings beyond what in-house provision would have achieved, that the Department set no measurable objectives for the programme, and that risks and liabilities stayed with the trusts.
#
# The NAO judged it too early to assess the programme's costs and benefits, and this report does not measure them either: the contracts and the enterprises' accounts are not public. It asks a narrower question: **how much value was at risk, against what in-house provision would have cost, under which assumptions**. "Value at risk" here means the expected extra cost to the commissioner, not the loss threshold the term means in finance. Because what in-house provision would have saved is contested, it answers under three scenarios side by side, each with its sources. Every input is a parameter you can change or a default taken from a cited source (the evidence register or the CQC data); the tables below say which.

# %% tags=["parameters"]
# Parameters, checked against VfmParameters before anything runs.
# `python -m analysis params nao_vfm_risk` gives every range; None = the default in the comment.
# Rates, shares and levels are fractions (0.04 = 4%). `make param-cells` rewrites this cell from the model.
from typing import Optional

scenario: str = "achieved"  # Scenario for the headline, tornado and fan chart (the scenario table shows all three). One of 'match', 'achieved', 'target'
annual_contract_value_gbp_m: Optional[float] = None  # Annual value of Right to Request contracts, £m. None: NAO-006 (£900m a year)
contract_value_uncertainty: float = 0.1  # ± fraction around the contract value in the Monte Carlo (assumption)
contract_years: Optional[int] = None  # Contract length in years. None: each whole number in NAO-025's 3-5 year range equally likely
n_enterprises: Optional[int] = None  # Number of social enterprises sharing the contracts. None: NAO-002 (about 50)
inhouse_efficiency_rate: Optional[float] = None  # Most likely annual efficiency gain in-house provision would have achieved (scenario 'achieved'). None: NAO-040 (NHS productivity growth 1.56% a year, 2010/11-2013/14, Centre for Health Economics)
inhouse_efficiency_range: Optional[list[float]] = None  # Low/high achieved in-house efficiency for the Monte Carlo and tornado. None: the lowest and highest annual NHS productivity growth published for 2011-2016 (NAO-042 0.04%, NAO-044 3.0%)
target_efficiency_rate: Optional[float] = None  # In-house efficiency in scenario 'target'. None: NAO-033 (the NHS's 4% a year efficiency target, the 'Nicholson challenge')
contracted_savings_rate: float = 0.0  # Annual savings the contracts required in scenarios 'achieved' and 'target'
contracted_savings_range: list[float] = [0.0, 0.0]  # Low/high contracted savings for the Monte Carlo and tornado in scenarios 'achieved' and 'target'
failure_hazard: Optional[float] = None  # Annual probability a spin-out fails. None: CQC care-home closure rates of the spin-out proxy ownership, counted as failure_proxy_measure
inhouse_failure_hazard: Optional[float] = None  # Annual probability the same service run in-house closes. None: CQC closure rates of the in-house proxy ownership, counted as failure_proxy_measure
failure_proxy_ownership: str = "third sector"  # Ownership whose CQC care-home closure rate stands in for spin-out failure. One of 'third sector', 'for-profit', 'local authority', 'all'
inhouse_proxy_ownership: str = "local authority"  # Ownership whose CQC care-home closure rate stands in for in-house closure. One of 'third sector', 'for-profit', 'local authority', 'all'
failure_proxy_measure: str = "involuntary closures"  # Which closures the Monte Carlo counts as failures. One of 'every measure', 'all closures', 'involuntary closures', 'not chosen by the commissioner'
failure_proxy_years: list[int] = [2011, 2016]  # First and last year of CQC closures the proxy ranges over (default: the years the Right to Request contracts ran)
transition_cost_share: float = 0.25  # Cost of re-providing a closed service, as a share of its annual contract value (assumption: no published figure)
transition_cost_range: list[float] = [0.05, 0.5]  # Low/high re-provision cost share (assumption)
risk_retained_share: float = 1.0  # Share of a spin-out failure's cost borne by the commissioner
risk_retained_range: list[float] = [0.5, 1.0]  # Low/high retained share (assumption for the low end)
setup_cost_gbp_m: Optional[float] = None  # One-off public support to set the enterprises up, £m. None: NAO-007 (some £8m)
discount_rate: Optional[float] = None  # Real discount rate. None: Green Book 3.5% (NAO-035)
n_simulations: int = 200000  # Monte Carlo draws
seed: int = 20110624  # Random seed (reproducible draws)
confidence_level: float = 0.9  # Width of the reported interval (0.90: 5th to 95th percentile)

# %%
from analysis import report
from analysis.vfm import analysis as vfm

params = report.setup("nao_vfm_risk", globals())
results = vfm.analyse(params)

# %%
report.key_findings(vfm.key_findings(results))

# %% [markdown]
# ## Claims about the programme
#
# Each claim is judged on evidence independent of whoever made it: the NAO's own words, or outlets quoting them, cannot make an NAO finding "supported", but the audited Department's own position or independent researchers can; the Department's own target cannot support a Department claim.

# %%
report.verdicts(results.verdicts)

# %% [markdown]
# ## Scenarios: what was at risk, and why the answer depends on the counterfactual
#
# The NAO found that the contracts required no savings beyond what in-house provision would have made. That puts the savings they required anywhere between nothing (scenarios b and c) and what in-house would have saved (scenario a, the most favourable reading); the contracts are not public, so which applies cannot be checked. Positive values are money the commissioner is worse off than under in-house provision, in present value over the contracts. Each scenario keeps everything else the same: contract value, contract length (3 to 5 years), the failure proxy applied to both sides, and the one-off set-up support.

# %%
report.headline(**vfm.headline_total(results))
report.md(vfm.summary_text(results))
report.show(vfm.scenario_table(results), "Value at risk against in-house provision under three scenarios (£m, present value: mean of the simulations with their central range)",
            source="analysis.vfm.model under each scenario's inputs; evidence-register rows named in the last column")
report.md(vfm.reconciliation_text(results))
report.md(vfm.probability_text(results))

# %% [markdown]
# ## The programme against the NAO's criteria
#
# Each criterion is rated by one rule, applied the same way to all four: count the controls a value-for-money judgement needs that the evidence shows were in place (a requirement such as a contracted saving or measurable objective, a comparator such as an in-house baseline, and a measurement after transfer). Equity is an extension: the NAO report did not assess it.

# %%
report.show(vfm.criteria_table(results), "Right to Request against the NAO criteria",
            source=vfm.SOURCE_NAO + ". Rule: " + results.criteria.attrs["rule"])

# %% [markdown]
# ## Inputs and where they come from
#
# The model compares what the commissioner paid under the contracts with what in-house provision would have cost, and adds the difference in the cost of re-providing services that close, on both sides, and the one-off support to set the enterprises up. Inputs marked *assumption* have no published source: vary them and watch the tornado chart.

# %%
report.show(vfm.inputs_table(results), "Model inputs for the headline scenario: value used, how it varies in the simulations, and source",
            source="Evidence register (data/evidence/figures.csv) and the catalogue datasets named")

# %% [markdown]
# ## Provider failure: the CQC closure proxy, applied to both sides
#
# No public register records the failure of NHS spin-outs. Closures of CQC-registered care homes stand in for it: third-sector homes for the spin-outs, council-run homes for in-house provision (in-house services close too). This is a **proxy** from a different market, and which closures count as failures is a choice no data settle. There are three definitions, each pooled over the years the contracts ran: all closures on both sides (including planned ones, such as a council closing its own home; the provision-costs report follows the councils that did), involuntary CQC closures on both sides, and closures the commissioner does not choose (every spin-out closure, but only involuntary in-house closures). **What failures cost is therefore unknown from public data**: the table after the charts names the cost under each definition.

# %%
report.md(vfm.failure_method_text(results))

# %%
report.figure(vfm.proxy_figure(results))
report.show(vfm.proxy_table(results), "Closures per 100 care homes a year by measure: spin-out proxy (third-sector homes) against in-house proxy (council-run homes), with the difference and its interval",
            source=vfm.SOURCE_CQC + "; interval for the difference of two Poisson rates by the score method")
report.show(vfm.ownership_table(results), "Care-home closures per 100 homes a year by ownership over the proxy years, with exact Poisson intervals",
            source=vfm.SOURCE_CQC)
report.show(vfm.failure_definitions_table(results), "The contracts' extra failure cost under each definition of failure (£m, present value, every other input central): named definitions, not a probability range",
            source=vfm.SOURCE_CQC + "; analysis.vfm.analysis.failure_definitions")

# %% [markdown]
# ## The scenarios in detail
#
# Each scenario's total split into its parts. The fan chart shows how the headline scenario's value at risk builds up year by year over the contracts.

# %%
report.show(vfm.component_table(results), "Value at risk by component and scenario (£m, present value): mean with the central range of the simulations, median and deterministic case",
            source="analysis.vfm.model.monte_carlo; the range is the central percentile range of the simulated outcomes")
report.figure(vfm.fan_figure(results))

# %% [markdown]
# ## Sensitivity and switching values
#
# The tornado chart moves one input at a time from its low to its high value with the others at their central values (the deterministic case). The failure hazards of both sides move together across the three closure definitions (the simulations use one). A switching value is the value of an input at which the contracts break even with in-house provision.

# %%
report.figure(vfm.tornado_figure(results))
report.show(vfm.tornado_table(results), "One-way sensitivity of the value at risk", source="analysis.vfm.model.tornado")
report.md(vfm.assumption_swings_text(results))
report.show(vfm.switching_table(results), "Switching values (break-even with in-house provision)", source="analysis.vfm.model.switching_values")

# %% [markdown]
# ## Risk register

# %%
report.show(vfm.register_table(results), "Risks the NAO named, scored on stated scales",
            source=vfm.SOURCE_NAO + ". Scales: " + results.register.attrs["rule"])

# %% [markdown]
# ## What this analysis can and cannot show
#
# * It sizes what was **at stake** under stated assumptions; it does not measure what the social enterprises actually saved or cost. The contracts and the enterprises' post-transfer costs are not public.
# * The in-house counterfactual is the productivity the NHS as a whole measurably achieved (mostly hospital care), or the 4% target as an upper scenario; the productivity of community services themselves is not measured.
# * Foregone savings are savings the contracts did not secure, not savings shown to be lost: an enterprise may have made them anyway.
# * Failure is proxied by care-home closures, a different market; the cost of re-providing a closed service has no published estimate and is an assumption, the same on both sides.
# * The NAO judged it too early to assess costs and benefits in 2011; the Department disputed the point of its findings, not their accuracy.

# %% tags=["provenance"]
report.finish(params)
