# %% [markdown]
# # NAO value for money: explore the assumptions
#
# What was at risk in the Right to Request contracts, against in-house provision, as you change any assumption of the report's model. The same model, checks and numbers as the report `nao_vfm_risk`; to publish a configuration, run `python -m analysis run nao_vfm_risk -p name=value ...`.

# %%
from analysis import explore

explore.value_for_money()
