# %% [markdown]
# # Council profile: personal budgets and adult social care outcomes
#
# One council's Adult Social Care Outcomes Framework (ASCOF) measures, year by year, against England and the median and middle half of councils of the same type, with its rank among all councils. The England-level analysis (the pilots, direct payments and outcomes across councils, verdicts on the claims) is in the `personal_budgets` report.
#
# **Read the ranks as a position, not a verdict.** Council values are published without margins of error; the survey measures (control over daily life, satisfaction, quality of life) come from a sample of service users, so small differences may be sampling noise (each key finding says how small, in its measure's unit), and ranks on them can swing from year to year; direct payments and self-directed support are shares of how support is arranged, placed by size rather than ranked as better or worse; and in 2020-21 the survey was voluntary and most councils did not run it.

# %% tags=["parameters"]
# Parameters, checked against CouncilProfileParameters before anything runs.
# `python -m analysis params council_profile` gives every range; None = the default in the comment.
# Rates, shares and levels are fractions (0.04 = 4%). `make param-cells` rewrites this cell from the model.
from typing import Optional

council_code: Optional[str] = None  # required: ONS code of the council to profile (e.g. E08000016 Barnsley)
measures: list[str] = ["dp_users", "sds_users", "control_daily_life", "satisfaction_users", "scrqol"]  # ASCOF measures to profile, one panel and one key finding each (at most 6)
years: list[int] = [2018, 2024]  # First and last ASCOF year (year ending: 2018: 2017-18)

# %%
from analysis import report
from analysis.budgets import profile

params = report.setup("council_profile", globals())
council = profile.analyse(params)
report.subject(profile.subject(council))

# %%
report.key_findings(profile.key_findings(council, params.measures))
for item in profile.headlines(council):
    report.headline(**item)

# %% [markdown]
# ## The council against England and its peers
#
# Each panel is one measure: the council, England, and the median of councils of the same type with the middle half of them shaded. Years end in March.

# %%
report.figure(profile.figure(council, params.measures))
report.show(profile.table(council, order=params.measures), f"{council.name} against England and its peers, by measure and year",
            source=profile.SOURCE_ASCOF + "; peers exclude the council itself", max_rows=len(params.measures),
            summary=profile.table(council, latest_only=True, order=params.measures))
if council.gaps:
    report.caveat("Gaps in this council's data", council.gaps)

# %% tags=["provenance"]
report.finish(params)
