# %% [markdown]
# # In-house against external provision: council unit costs, quality beside them, and NHS-funded CICs
#
# Ministers said public service mutuals "improved productivity by up to 45%" and that social enterprises deliver "cost effectively". The question behind those claims is what a unit of service costs when a council provides it itself and when it buys it from others, and what that money buys. This report uses the official council unit-cost tables for 2008-09 to 2014-15, the years of those claims, sets CQC quality ratings by ownership beside them, follows councils that closed or sold their own care homes, and measures the NHS money paid to community interest companies (CICs).
#
# **Read it as cost, not productivity.** "External" provision means every other provider (for-profit firms, charities, social enterprises and mutuals together); a unit cost is not adjusted for quality or for the people served; and in-house costs may include council overheads that an external fee does not show.

# %% tags=["parameters"]
# Parameters, checked against ProvisionCostsParameters before anything runs.
# `python -m analysis params provision_costs` gives every range; None = the default in the comment.
# Rates, shares and levels are fractions (0.04 = 4%). `make param-cells` rewrites this cell from the model.

services: list[str] = ["residential_older", "residential_ld", "residential_mh", "residential_pd", "day_older", "day_ld", "day_mh", "day_pd", "home_care"]  # Services and client groups to compare (residential_*, day_*, home_care)
years: list[str] = ["2008-09", "2013-14"]  # First and last PSS-EX1 financial year (2014-15 is always shown apart). One of '2008-09', '2009-10', '2010-11', '2011-12', '2012-13', '2013-14'
include_2014_15: bool = True  # Show the 2014-15 ASC-FR year (a new collection) separately
real_terms_base: str = "2013-14"  # Financial year whose prices real terms are in (HM Treasury GDP deflator)
min_weeks: float = 520.0  # Residential care: minimum weeks for a council's unit cost to count (520: 10 residents all year)
min_client_weeks: float = 520.0  # Day care: minimum client weeks for a unit cost to count (520: 10 clients a week)
min_hours: float = 5200.0  # Home care: minimum contact hours for a unit cost to count (5,200: 100 hours a week)
closure_share: float = 0.1  # Treatment rule: a council has closed or sold its in-house care homes for older people from the year its in-house weeks fall below this share of (...)
kept_share: float = 0.5  # Treatment rule: control councils keep at least this share of their first-year in-house weeks every year
baseline_min_weeks: float = 1040.0  # Treatment rule: in-house weeks in the first year needed to be in the panel (1,040: 20 residents all year)
control_group: str = "nevertreated"  # Callaway-Sant'Anna comparison group: councils that kept their homes, or also those that had not yet closed theirs. One of 'nevertreated', 'notyettreated'
cqc_year: int = 2015  # Year of the CQC ratings set beside the costs (2015 is the first full year, nearest the cost data)
cic_window_years: list[int] = [9, 11]  # Shortest and longest plausible span (years) of the NHS spend files, to express the CIC totals a year
confidence_level: float = 0.95  # number (above 0.5, below 1.0)
n_bootstrap: int = 1999  # Council-bootstrap replicates for the England ratio intervals
seed: int = 2013  # whole number (at least 0)

# %%
from analysis.costs import analysis as costs
from analysis import report

params = report.setup("provision_costs", globals())
results = costs.analyse(params)

# %%
report.key_findings(costs.key_findings(results))
for item in costs.headlines(results):
    report.headline(**item)

# %% [markdown]
# ## Verdicts on the claims
#
# Five claims from the source articles that these data bear on. The unit costs compare councils' own services with all external providers, and the CIC list is a list of CICs, so each verdict uses them only for what they can show.

# %%
report.verdicts(results.verdicts)

# %% [markdown]
# ## The data and how they were checked

# %%
report.md(costs.data_text(results))
report.show(costs.reconciliation_summary(results), "England totals against the sum of council rows, every file, service and measure",
            source=costs.SOURCE_COSTS + "; " + costs.SOURCE_ASCFR)
report.caveat("What these unit costs are", [
    "Gross cost (before client charges and NHS income) divided by weeks of residential care, client weeks of day care or contact hours of home care, as each council reported it.",
    "'External' is every provider other than the council: for-profit firms, charities, social enterprises, mutuals and, for some councils, other councils or the NHS.",
    "Councils with little own provision have volatile unit costs; a council's unit cost counts only above the minimum activity set in the parameters.",
    "2014-15 is a new collection (ASC-FR) with new definitions and client groups by primary support reason: it is shown apart and not joined to the trend.",
])

# %% [markdown]
# ## England: what councils paid for their own provision and for provision by others
#
# Sum of cost over sum of activity across councils for each provider (activity-weighted), in real terms. The interval resamples councils (a council bootstrap), so it shows how much the England figure depends on which councils are in it.

# %%
report.show(costs.england_display(results), f"In-house and external unit costs and their ratio, England, {params.years[0]} and {params.years[1]}",
            source=costs.SOURCE_COSTS)
report.md(costs.england_definition_text(results))
for series in ("residential_older", "home_care"):
    if series in params.services:
        fig = costs.trend_figure(results, series)
        if fig is not None:
            report.figure(fig)
report.show(costs.real_change_display(results), "Real-terms change in the England unit cost (councils reporting both cost and activity, as in the table above), first to last year",
            source=costs.SOURCE_COSTS)

# %% [markdown]
# ## Across councils
#
# The spread of council unit costs (quartiles), and of each council's own in-house/external ratio where it both provided and bought the service above the minimum activity.

# %%
report.show(costs.distribution_display(results), f"Council unit costs and ratios by service, {params.years[1]} (medians and interquartile ranges)",
            source=costs.SOURCE_COSTS)

# %% [markdown]
# ## Within councils: the same council buying both in the same year
#
# The fairest cost comparison these data allow: a council that both ran and bought a service in a year faced the same local wages, prices and commissioning rules for both. The log of the in-house unit cost minus the log of the external one is regressed on year effects, with standard errors clustered by council; the exponentiated result is the ratio.

# %%
report.figure(costs.within_figure(results))
report.md(costs.within_text(results))
report.show(costs.within_display(results.within, results.level), "Within-council ratio of own to external unit cost, pooled over years, with the change in the ratio a year",
            source=costs.SOURCE_COSTS)
if "home_care" in params.services:
    report.show(costs.home_care_by_year_display(results), "Home care, all adults: within-council ratio of own to external hourly cost, year by year",
                source=costs.SOURCE_COSTS)
    fig = costs.home_care_by_year_figure(results)
    if fig is not None:
        report.figure(fig)
report.show(costs.sensitivity_display(results), "The pooled ratio three ways: council-years equal, weighted by activity, and a council bootstrap",
            source=costs.SOURCE_COSTS)
report.caveat("What the within-council ratio cannot show", [
    "Case mix: council homes and day centres may take people with higher needs, and may run respite, intermediate and dementia care that other providers do not offer.",
    "Overheads: in-house unit costs may include central council costs allocated to the service; an external fee carries the provider's overheads and profit but none of the council's.",
    "Pay and conditions: part of the gap may be the wages, pensions and terms of council staff, a choice about employment rather than a measure of efficiency; these tables do not split the cost.",
    "Selection: councils that kept provision may be those where it was dearest to replace; the ratio describes the councils that did both.",
])

# %%
if results.within_2015 is not None:
    report.md("## 2014-15: the first year of the new collection\n\nASC-FR counts long-term residential care by age and primary support reason. It is not comparable with 2013-14 and earlier, so it stands on its own.")
    report.show(costs.england_display(results, results.england_2015), "2014-15 (ASC-FR): England in-house and external unit costs and ratio",
                source=costs.SOURCE_ASCFR)
    report.show(costs.within_display(results.within_2015, results.level), "2014-15 (ASC-FR): within-council ratio",
                source=costs.SOURCE_ASCFR)

# %% [markdown]
# ## Cost and quality side by side
#
# Unit cost by provider type next to the share of services rated Good or Outstanding by the CQC, by ownership. **This is not a quality-adjusted productivity measure**: the cost data split providers only into in-house and external, while the ratings split external providers into third sector and for-profit; the ratings start in 2015, after the cost series; and neither is adjusted for the people served.

# %%
report.show(costs.cost_quality_display(results), "Unit cost by provider type and CQC rating by ownership (different years and different splits of providers)",
            source=costs.SOURCE_COSTS + "; " + costs.SOURCE_CQC)
report.show(costs.quality_difference_display(results), "Share rated Good or Outstanding at the year end, third sector minus council-run services (unadjusted), with Newcombe intervals for the difference and the council clustering check (the test the verdict on CL-MUT-09 uses: a difference is stated only when its interval excludes zero)",
            source=costs.SOURCE_CQC + "; councils running the setting in-house from the council activity returns (PSS-EX1/ASC-FR, harmonised by B. Goodair), nearest year; design effect (Moulton) applied to the council-run counts")
report.caveat("Why this is not productivity", [
    "Case mix: the people in council homes and on council home-care rounds differ from those in bought-in care; neither cost nor rating is adjusted for it.",
    "Overhead allocation: in-house unit costs may carry council overheads; external fees do not show the provider's cost at all, only its price.",
    "Different years: the costs are for 2013-14, the ratings for the first full year of CQC ratings; services changed hands in between.",
    "Different splits: 'external' in the costs mixes the third-sector and for-profit providers that the ratings keep apart.",
])

# %% [markdown]
# ## Councils that closed or sold their care homes: the panel methods on a real panel
#
# Between 2008-09 and 2013-14 many councils ran their own care homes for older people down to almost nothing. Treating the year each did so as its adoption date gives a staggered adoption design: Callaway and Sant'Anna group-time effects (against councils that kept their homes), an event study with its pre-trend test, and the two-way fixed-effects contrast that staggered adoption can bias. The outcomes are the council's overall weekly cost of residential care for older people (own and bought-in together, real terms) and the weeks it bought from other providers.

# %%
report.md(costs.closure_text(results))
report.show(costs.closure_status_display(results), "Councils under the treatment rule", source=costs.SOURCE_COSTS)
report.show(costs.closure_cohorts_display(results), "Councils that closed or sold their homes, by the year in-house weeks first fell below the threshold",
            source=costs.SOURCE_COSTS)
if results.closures.supported:
    report.show(costs.closure_estimates_display(results), "Difference after closure against councils that kept their homes (percent)",
                source=costs.SOURCE_COSTS + "; Callaway-Sant'Anna with analytic influence-function errors; TWFE clustered by council")
    report.show(costs.pretrend_display(results), "Pre-trend tests", source=costs.SOURCE_COSTS)
    for fig in costs.closure_figures(results):
        report.figure(fig)
report.caveat("What the closure panel cannot show", [
    "Selection: closing homes was a choice; councils may have closed the homes that were dearest, in worst repair or under critical inspection (these data cannot say), so those that closed can differ from those that kept theirs in ways the comparison does not remove.",
    "Small cohorts: several adoption years hold one to three councils, whose group-time effects rest on those councils' paths and whose standard errors are unreliable; the estimates without them are in the table.",
    "Mechanics: the overall unit cost falls when dear in-house weeks leave the average even if no price changes; the weeks-bought outcome shows the transfer itself.",
    "Sales and transfers cannot be told apart from closures: a home transferred to a provider becomes bought-in care at once.",
])

# %% [markdown]
# ## The NHS-funded CIC sector
#
# NHS bodies' spend-over-£25,000 files, matched to Companies House by the NHSSpend project, identify the community interest companies the NHS paid. A CIC is a legal form: the list includes GP federations and out-of-hours services as well as staff spin-outs, and some mutuals are not CICs.

# %%
report.md(costs.cic_text(results))
report.show(costs.cic_summary_display(results), "NHS payments to community interest companies, c. 2010-2020", source=costs.SOURCE_CIC)
report.figure(costs.cic_figure(results))
report.show(costs.cic_display(results), "The ten largest CICs paid by NHS bodies", source=costs.SOURCE_CIC)
report.caveat("What the CIC figures cannot show", [
    "Coverage is partial: not every NHS body published its spend files every year, and payments under £25,000 are not in them; the totals are floors.",
    "The window is uncertain (about a decade), so the yearly value is a range, not an estimate with a sampling interval.",
    "CIC is not the same as mutual: the count is not a count of public service mutuals, and mutuals selling to councils are not here.",
    "NHS bodies and GP practices paid by other NHS bodies are left out, including one GP practice constituted as a CIC.",
])

# %% tags=["provenance"]
report.finish(params)
