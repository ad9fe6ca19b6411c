# %% [markdown]
# # In-house against external provision: unit costs by service
#
# What councils paid for their own provision against what they bought from others, 2008-09 to 2014-15, one service at a time. The numbers are those of `python -m analysis run provision_costs -p "services=[<service>]"` with the same years, prices and minimum activity.

# %%
from analysis import explore

explore.unit_costs()
