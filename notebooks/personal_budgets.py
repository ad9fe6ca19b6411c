# %% [markdown]
# # Personal budgets: pilot evidence, cost-effectiveness and council outcomes
#
# Individual budgets were piloted in English councils (the IBSEN evaluation), personal health budgets in NHS pilot sites (PHBE), and direct payments then spread everywhere. This report brings together what the pilots found, what their published summaries can and cannot support, and what today's council data (the Adult Social Care Outcomes Framework, ASCOF) show about direct payments and outcomes. It opens with its key findings, then gives a verdict on each claim in the source articles.
#
# One council's profile against England and its peers is a separate report (the council profile), rendered for any council on request.

# %% tags=["parameters"]
# Parameters, checked against PersonalBudgetsParameters before anything runs.
# `python -m analysis params personal_budgets` gives every range; None = the default in the comment.
# Rates, shares and levels are fractions (0.04 = 4%). `make param-cells` rewrites this cell from the model.
from typing import Optional

outcomes: list[str] = ["control_daily_life", "scrqol", "satisfaction_users"]  # ASCOF outcomes for the council panel
exposures: list[str] = ["dp_users", "sds_users"]  # Direct-payment and/or self-directed-support shares. One of 'dp_users', 'sds_users'
years: list[int] = [2018, 2024]  # First and last ASCOF year (year ending: 2018: 2017-18)
user_groups: list[str] = ["all"]  # User groups for pooling researcher-supplied pilot data ('all': no filter)
meta_method: str = "REML"  # Meta-analysis: fixed effect, DerSimonian-Laird, REML, or REML with Hartung-Knapp. One of 'FE', 'DL', 'REML', 'HK'
pilot_data_path: Optional[str] = None  # CSV of arm-level pilot outcomes you extracted (data/templates/pilot_outcomes_template.csv)
wtp_range: list[float] = [0.0, 100000.0]  # Willingness to pay per unit of effect (£), low and high, for the CEAC
cea_inputs: Optional[list[float]] = None  # Summary CEA inputs [cost mean, cost SE, effect mean, effect SE, correlation]; None: no data
cea_data_path: Optional[str] = None  # Person-level CSV with columns arm (budget/comparison), cost, effect
simulated_cea: bool = False  # Add a SIMULATED cost-effectiveness demonstration
n_simulations: int = 10000  # whole number (at least 100, at most 1000000)
seed: int = 2008  # whole number (at least 0)
confidence_level: float = 0.95  # number (above 0.5, below 1.0)

# %%
from analysis import report
from analysis.budgets import analysis as budgets

params = report.setup("personal_budgets", globals())
results = budgets.analyse(params)

# %%
report.key_findings(budgets.key_findings(results))
for item in budgets.headlines(results):
    report.headline(**item)

# %% [markdown]
# ## Verdicts on the claims
#
# Each claim in the source articles is judged on evidence independent of whoever made it: a figure that traces back only to the claimant cannot make a claim "supported". Open "What the verdicts mean" for the scale, and each claim's details for its rule, numbers and sources.

# %%
report.verdicts(results.verdicts)

# %% [markdown]
# ## What the pilots found
#
# Every comparable outcome in the evidence register, with the best interval the published summary allows. Where a source gives only percentages and arm sizes, events are reconstructed by rounding; where it gives only a p-value, the interval is derived from it; where it gives neither, the interval is *no data*.

# %%
report.md(budgets.synthesis_text(results))
report.show(budgets.pilot_table(results), "Personal-budget pilots and evaluations: comparable outcomes",
            source=budgets.SOURCE_REGISTER)
report.caveat("What the pilot evidence cannot show", budgets.pilot_caveats(results))

# %% [markdown]
# ## Pooled pilot outcomes (your extracted data)
#
# Outcomes from `pilot_data_path` (arm-level data extracted from the pilot reports) with two or more studies, pooled with the chosen method (fixed effect, DerSimonian-Laird, REML, or REML with the Hartung-Knapp adjustment), with heterogeneity (tau-squared, I-squared, Q), a prediction interval and subgroups by user group. The estimators reproduce R metafor's published results (see the tests).

# %%
if results.pooled is not None:
    report.show(budgets.pooled_table(results), f"Pooled pilot outcomes ({params.meta_method})", source=str(params.pilot_data_path))
    for fig in budgets.pooled_forests(results):
        report.figure(fig)

# %% [markdown]
# ## Cost-effectiveness
#
# Incremental cost and effect, the ICER, net monetary benefit across the willingness-to-pay range and the cost-effectiveness acceptability curve, by bootstrap from person-level data or parametric simulation from summary statistics.

# %%
if results.cea is not None:
    sim = results.cea.simulated_inputs
    report.md(results.cea_note)
    report.show(budgets.cea_table(results), "Incremental cost and effect", source=results.cea_note, simulated=sim)
    report.show(results.cea.quadrants(), "Share of draws in each quadrant of the cost-effectiveness plane",
                source=results.cea_note, simulated=sim)
    for fig in budgets.cea_figures(results):
        report.figure(fig)

# %% [markdown]
# ## Direct payments and outcomes across councils (ASCOF)
#
# England's trend, the cross-section in the latest year, and the within-council association (council and year fixed effects, standard errors clustered by council). These are associations between council-level shares and council-level survey results: they say nothing about whether budget holders themselves are better off (the ecological fallacy), and councils differ in ways the fixed effects do not remove when those differences change over time.

# %%
report.figure(budgets.england_figure(results))
report.figure(budgets.scatter_figure(results))
report.md(budgets.associations_text(results))
report.show(budgets.within_table(results), "Within-council association of outcomes with direct-payment and self-directed-support shares",
            source=budgets.SOURCE_ASCOF)

# %% [markdown]
# ## The IBSEN pilot councils against the rest
#
# The individual-budget pilot councils (named in the Department of Health's 2005 announcement) against all other councils, year by year, with Welch confidence intervals. The pilots volunteered, so any difference mixes selection with any lasting effect of piloting.

# %%
report.md(budgets.pilots_text(results))
for concept in params.exposures:
    fig = budgets.pilots_figure(results, concept)
    if fig is not None:
        report.figure(fig)
report.show(budgets.pilots_vs_rest_display(results), "Pilot councils against the rest, by measure and year", source=budgets.SOURCE_ASCOF,
            summary=budgets.pilots_vs_rest_display(results, latest_only=True))

# %% tags=["provenance"]
report.finish(params)
