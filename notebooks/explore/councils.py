# %% [markdown]
# # Councils: one council against England and its peers
#
# A council's Adult Social Care Outcomes Framework measures against England and councils of the same type, year by year. The same profile as the council reports; to publish one, run `python -m analysis run personal_budgets -p council_code=E08000016`.

# %%
from analysis import explore

explore.council_profile()
