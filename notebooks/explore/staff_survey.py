# %% [markdown]
# # Mutuals: staff in social enterprises against NHS trusts
#
# How staff in social enterprises answered the NHS Staff Survey against staff in NHS trusts doing the same work, item by item, and one organisation against its benchmark. The comparisons are the report's (`mutuals_vs_inhouse`, default years and confidence level), computed once when the page opens: allow half a minute.

# %%
from analysis import explore

explore.staff_survey()
