# %% [markdown]
# # Mutuals and social enterprises against in-house provision
#
# Ministers said staff-led mutuals and social enterprises spun out of the NHS and councils "improved productivity by up to 45%", that a far larger share of staff at one mutual (NAViGO) than nationally believed their trust's priority is patient care, and that mutuals multiplied after 2010. This report sets out what public data can and cannot say about those claims.
#
# It opens with its key findings and a verdict on each claim, then the evidence: NHS staff outcomes in social enterprises against NHS trusts doing the same work; CQC quality ratings by ownership (council in-house, third sector, for-profit); and the trend in councils' in-house provision. Researchers with their own organisation-by-year data can add it as a panel (a parameter of this report) to run difference-in-differences, staggered-adoption, event-study and synthetic-control designs.
#
# **Read every comparison as descriptive.** Social enterprises chose to spin out and the ones observed are survivors; the staff survey starts years after the spin-outs, so there is no before-and-after; and CQC data cannot tell mutuals apart from other third-sector providers, so nothing said of the third sector is said of mutuals.

# %% tags=["parameters"]
# Parameters, checked against MutualsParameters before anything runs.
# `python -m analysis params mutuals_vs_inhouse` gives every range; None = the default in the comment.
# Rates, shares and levels are fractions (0.04 = 4%). `make param-cells` rewrites this cell from the model.
from typing import Optional

outcomes: list[str] = ["burnout", "burnout_sometimes", "exhausted", "frustrated", "stress", "autonomy", "time_demands", "enough_staff", "meaningful_work", "team_membership", "physical_violence_public", "physical_violence_managers", "physical_violence_colleagues", "harassment_public", "harassment_managers", "harassment_colleagues", "discrimination_public", "discrimination_internal"]  # NHS Staff Survey items to compare (default: every staff outcome in the data)
survey_years: list[int] = [2021, 2024]  # First and last NHS Staff Survey year
comparisons: list[str] = ["community", "mental health"]  # Social enterprises against NHS community and/or mental-health trusts. One of 'community', 'mental health'
focus_organisation: str = "NQL"  # ODS code of one organisation to set against its benchmark (NQL: NAViGO)
cqc_years: list[int] = [2015, 2024]  # First and last year of CQC rating snapshots and inspections
confidence_level: float = 0.95  # number (above 0.5, below 1.0)
n_permutations: int = 1999  # Permutations for the randomisation-inference p-values
seed: int = 2013  # whole number (at least 0)
panel_path: Optional[str] = None  # Path to your own organisation x year panel CSV (see data/templates)
panel_unit_column: str = "unit"  # text
panel_time_column: str = "time"  # text
panel_outcome_column: str = "outcome"  # text
panel_treated_column: str = "treated"  # text
panel_treated_unit: Optional[str] = None  # Unit for the synthetic control (default: the first treated)
panel_control_group: str = "nevertreated"  # One of 'nevertreated', 'notyettreated'
simulated_appendix: bool = False  # Add an appendix running the panel methods on SIMULATED data

# %%
from analysis import report
from analysis.mutuals import analysis as mutuals

params = report.setup("mutuals_vs_inhouse", globals())
results = mutuals.analyse(params)

# %%
report.key_findings(mutuals.key_findings(results))
for item in mutuals.headlines(results):
    report.headline(**item)

# %% [markdown]
# ## Verdicts on the claims
#
# Each claim in the source articles is judged on evidence independent of whoever made it: a figure that traces back only to the claimant (for mutuals, the government's own programme and the surveys it commissioned, or the mutual being praised) cannot make a claim "supported". Open "What the verdicts mean" for the scale, and each claim's details for its rule, numbers and sources.

# %%
report.verdicts(results.verdicts)

# %% [markdown]
# ## Staff outcomes: social enterprises against NHS trusts
#
# Each row is one NHS Staff Survey item. The difference is in percentage points from an organisation-level binomial model with year effects, weighted by each item's number of responses, with standard errors clustered by organisation. Because there are very few social enterprises, each comparison also has a randomisation-inference p-value (the social-enterprise label permuted across organisations). With many items, some differences appear by chance, so both p-values are also shown after the Benjamini-Hochberg false-discovery-rate adjustment, and the summary gives the **pattern of directions**: on how many items the social enterprises scored worse, and on how many better.

# %%
for service in params.comparisons:
    report.md(mutuals.comparison_summary(results, service))
    report.figure(mutuals.staff_forest(results, service))
    report.show(mutuals.staff_display(results, service), f"Social enterprises against NHS {service} trusts, by staff-survey item",
                source=mutuals.staff_source(results, service))
    if service in results.sensitivity:
        report.md("### Does the pattern depend on weighting, or on one organisation?")
        report.show(mutuals.sensitivity_display(results, service),
                    f"{service.capitalize()} comparison: items worse and better under each weighting and without each organisation",
                    source=mutuals.SOURCE_STAFF + ". Each row re-runs the whole comparison.", max_rows=12,
                    summary=mutuals.sensitivity_display(results, service, social_enterprises_only=True))
report.caveat("What the staff comparison cannot show", mutuals.staff_caveats(results))

# %% [markdown]
# ## One organisation against its benchmark (the NAViGO claim)
#
# The minister compared one survey item at one mutual with a national average. The item he quoted is not in the public file, so the same comparison is shown on the items that are: the organisation's percentage with a confidence interval against its benchmark, defined below. With one organisation only the randomisation test in the staff-survey table above can say whether it differs; the band around NAViGO's line describes its own rate. One organisation's results say nothing about mutuals in general.

# %%
report.md(mutuals.benchmark_text(results))
for item in ("enough_staff", "burnout"):
    if item in params.outcomes:
        fig = mutuals.focus_figure(results, item)
        if fig is not None:
            report.figure(fig)
report.show(mutuals.focus_display(results), mutuals.focus_title(results),
            source=mutuals.SOURCE_STAFF + ". Levels, not tested differences: one organisation has no valid interval for a difference (see the randomisation p-values above).")

# %% [markdown]
# ## Quality ratings by ownership (CQC)
#
# Year-end snapshots of every rated service, then inspection-level models for community-based services (logit of Good/Outstanding and an ordinal logit of the full scale; year effects, re-inspection and years registered; clustered by location) and a care-home model with the size control the data allows (beds) and service mix. The reference category is council in-house provision. "Third sector" is the CQC's category for charities, social enterprises and mutuals together: it is not a measure of mutuals.

# %%
for setting in ("care homes", "community services"):
    report.figure(mutuals.cqc_share_figure(results, setting))
report.md(mutuals.cqc_measures_text(results))
report.show(mutuals.ratings_display(results.cqc_models["table"]), "Ownership against council in-house provision: community-based services, all rated inspections",
            source=mutuals.SOURCE_CQC + f"; {results.cqc_models['table'].attrs['n_reports']:,} reports of {results.cqc_models['table'].attrs['n_locations']:,} locations")
report.md(mutuals.care_home_measures_text(results))
report.show(mutuals.ratings_display(results.care_homes), "Care homes with a recorded rating: ownership, size and service mix",
            source=mutuals.SOURCE_CARE_HOMES + f"; {results.care_homes.attrs['n_homes']:,} rated homes; robust standard errors")
report.md("### Clustering at the council")
report.md(mutuals.clustering_text(results.cqc_clustering, "Community-based services"))
report.show(mutuals.clustering_display(results.cqc_clustering), "Community-based services: ownership differences as the correlation between a council's own services rises",
            source=mutuals.SOURCE_CQC + "; design effect (how much the variance grows when one council's services are rated alike; Moulton) applied to the council-run part of the variance")
report.md(mutuals.clustering_text(results.care_home_clustering, "Care homes"))
report.show(mutuals.clustering_display(results.care_home_clustering), "Care homes: ownership differences as the correlation between a council's own homes rises",
            source=mutuals.SOURCE_CARE_HOMES + "; design effect (how much the variance grows when one council's homes are rated alike; Moulton) applied to the council-run part of the variance")
report.caveat("What the CQC comparison cannot show", [
    "Mutuals cannot be identified: the third sector includes charities, social enterprises and mutuals alike.",
    "Ownership is not random: councils kept, closed or transferred their own services for reasons linked to quality.",
    "The files identify services but not the council or provider that runs them, so the council-level correlation is shown as a sensitivity, not estimated.",
    "A service keeps its last rating until re-inspected; snapshots lag changes in quality.",
    "The care-home file does not say whether its rating is the latest or the last before closure.",
])

# %% [markdown]
# ## The externalisation trend
#
# The mutuals policy sat inside a long move from council in-house provision to external providers. The series break in 2014-15, when the national collection changed; compare within each era only.

# %%
report.figure(mutuals.externalisation_figure(results))
report.show(mutuals.change_display(results), "Change in the in-house share of spend within each collection era",
            source=mutuals.SOURCE_EXT)
report.show(mutuals.councils_display(results), "Across councils: in-house share of residential care activity (median, quartiles, councils with none)",
            source=mutuals.SOURCE_EXT + "; 2017 omitted (no council names in the source)")

# %% [markdown]
# ## Your own panel
#
# Estimates of the effect of spinning out on your own outcome (shown only when you supply your own panel, a CSV laid out like the panel template in the data templates folder): a 2x2 difference-in-differences when there is one adoption date, two-way fixed effects, Callaway-Sant'Anna group-time effects with event-study aggregation and a pre-trend test, a TWFE event study, and a synthetic control with placebo inference for one spin-out.

# %%
if results.panel is not None:
    report.show(mutuals.panel_summary_table(results.panel), "Estimates from your panel", source=results.panel.label)
    for fig in mutuals.panel_figures(results.panel):
        report.figure(fig)
    for note in results.panel.notes:
        report.md("- " + note)

# %% [markdown]
# ## Appendix: the panel methods on simulated data
#
# Shown only when `simulated_appendix` is true. The data are **simulated** (parallel trends hold; the true effect is 2 plus 0.3 per period of exposure), to show what the methods recover; every table and chart says so.

# %%
if results.simulated is not None:
    report.show(mutuals.panel_summary_table(results.simulated), "Estimates on the simulated panel", source=results.simulated.label,
                simulated=True)
    for fig in mutuals.panel_figures(results.simulated):
        report.figure(fig)
    for note in results.simulated.notes:
        report.md("- " + note)
    report.md("The Wald pre-test pools many pre-period cells estimated from small cohorts and can reject too often in "
              "samples like this; read it with the event-study chart.")

# %% tags=["provenance"]
report.finish(params)
