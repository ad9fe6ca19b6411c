"""The externalisation trend the mutuals policy was part of: councils' in-house share over time.

Two series, each kept within its collection era (PSS-EX1 to 2013-14, ASC-FR from
2014-15) because the collections are not comparable across the break:

* national: the in-house share of adult social care spend on people aged 65+,
  by setting (cash terms, England);
* councils: the distribution across councils of the in-house share of
  residential care activity (median, quartiles, share of councils with none).

What this cannot show: why councils externalised, or whether externalised
services are better or cheaper; national shares hide wide council variation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import InputError

REGION_KEYS = frozenset({"northeast", "northwest", "yorkshireandhumber", "eastmidlands", "westmidlands", "east",
                         "eastofengland", "southeast", "southwest", "england"})
"""Keys of the English regions (and England): the 2014-15 ASC-FR file adds their totals as if they were councils.
Not "london": in these files that key is the City of London, a council."""


def councils_only(shares: pd.DataFrame) -> pd.DataFrame:
    """The council rows of a council activity table, without the regional and England totals some years carry."""
    return shares[~shares["council_key"].isin(REGION_KEYS)]


def national_inhouse_share(expenditure: pd.DataFrame, age_group: str = "65+") -> pd.DataFrame:
    """In-house spend as a percent of total, by year and setting."""
    df = expenditure[expenditure["age_group"] == age_group]
    if df.empty:
        raise InputError(f"No expenditure for age group {age_group!r}")
    wide = df.pivot_table(index=["year", "collection", "setting"], columns="sector", values="spend_gbp_thousands",
                          aggfunc="sum").reset_index()
    wide.columns.name = None
    if "In House" not in wide or "Total" not in wide:
        raise InputError("Expenditure needs 'In House' and 'Total' sectors")
    wide = wide[wide["Total"] > 0].copy()
    wide["in_house_share"] = 100 * wide["In House"] / wide["Total"]
    return wide[["year", "collection", "setting", "In House", "Total", "in_house_share"]].rename(
        columns={"In House": "in_house_gbp_thousands", "Total": "total_gbp_thousands"})


def council_distribution(shares: pd.DataFrame, setting: str = "Residential") -> pd.DataFrame:
    """Across councils, per year: median and quartiles of the in-house share and share of councils with none."""
    df = councils_only(shares[shares["setting"] == setting])
    if df.empty:
        raise InputError(f"No council activity for setting {setting!r}")
    out = df.groupby(["year", "collection"]).agg(
        councils=("council_key", "nunique"),
        median=("in_house_share", "median"),
        q1=("in_house_share", lambda s: s.quantile(0.25)),
        q3=("in_house_share", lambda s: s.quantile(0.75)),
        none_in_house=("in_house_share", lambda s: 100 * float(np.mean(s == 0))),
    ).reset_index()
    return out


def change_within_era(series: pd.DataFrame, value: str, setting_column: str | None = None) -> pd.DataFrame:
    """First and last year of each era and the change in ``value`` between them."""
    rows = []
    keys = [setting_column, "collection"] if setting_column else ["collection"]
    for key, part in series.groupby(keys):
        part = part.dropna(subset=[value]).sort_values("year")
        if len(part) < 2:
            continue
        first, last = part.iloc[0], part.iloc[-1]
        key = key if isinstance(key, tuple) else (key,)
        rows.append({**dict(zip(keys, key)), "from_year": int(first["year"]), "to_year": int(last["year"]),
                     "from": first[value], "to": last[value], "change_pp": last[value] - first[value]})
    return pd.DataFrame(rows)
