"""Council-level ASCOF panel: direct payments and self-directed support against outcomes.

* Within-council association: outcome on the direct-payment (or self-directed
  support) share with council and year fixed effects, standard errors clustered
  by council. This removes fixed differences between councils but is still an
  association, not an effect on individuals.
* Cross-section by year: OLS slope of the outcome on the share.
* The 13 IBSEN pilot councils against the rest: mean difference by year (Welch).

A single council's profile against England and its peers is :mod:`analysis.budgets.profile`.

What this cannot show (ecological fallacy): councils with more direct payments
having more satisfied users says nothing about whether budget holders are more
satisfied; survey measures are nearly empty in 2020-21 (voluntary survey) and
are dropped for that year; pilot councils chose to pilot.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from analysis.data.ascof import CONCEPTS_BY_KEY
from analysis.data.provision import council_key
from analysis.errors import InputError
from analysis.mutuals.panel.did import within_fit
from analysis.mutuals.panel.schema import Panel

SURVEY_CONCEPTS = {"scrqol", "adjusted_scrqol", "control_daily_life", "satisfaction_users", "social_contact_users",
                   "feel_safe", "services_made_safe", "info_users"}
THIN_SURVEY_YEAR = 2021  # 2020-21: voluntary Adult Social Care Survey


def council_panel(ascof: pd.DataFrame, concepts: list[str], years: tuple[int, int]) -> pd.DataFrame:
    """Wide council x year table of the chosen concepts (survey concepts blanked in 2020-21)."""
    unknown = set(concepts) - set(CONCEPTS_BY_KEY)
    if unknown:
        raise InputError(f"Unknown ASCOF measures {sorted(unknown)}; choose from {sorted(CONCEPTS_BY_KEY)}")
    df = ascof[(ascof["geography_level"] == "council") & ascof["concept"].isin(concepts)
               & ascof["year_end"].between(*years) & ascof["area_code"].notna()]
    wide = df.pivot_table(index=["area_code", "year_end"], columns="concept", values="value").reset_index()
    wide.columns.name = None
    for concept in concepts:
        if concept not in wide:
            wide[concept] = np.nan
        if concept in SURVEY_CONCEPTS:
            wide.loc[wide["year_end"] == THIN_SURVEY_YEAR, concept] = np.nan
    names = df.groupby("area_code")["area_name"].last()
    wide.insert(1, "council", wide["area_code"].map(names))
    return wide


def within_association(panel: pd.DataFrame, outcome: str, exposure: str, level: float = 0.95) -> dict:
    """Outcome on exposure with council and year fixed effects, clustered by council."""
    df = panel.dropna(subset=[outcome, exposure])
    counts = df.groupby("area_code").size()
    df = df[df["area_code"].isin(counts[counts >= 2].index)]
    if df["area_code"].nunique() < 10:
        raise InputError(f"Too few councils with two or more years of {outcome} and {exposure}")
    data = pd.DataFrame({"unit": df["area_code"], "time": df["year_end"].astype("int64"), "outcome": df[outcome],
                         "x": df[exposure], "cohort": 0})
    fit, g = within_fit(Panel(data, tuple(sorted(data["time"].unique())), False), ["x"])
    est, se = float(fit.params["x"]), float(fit.bse["x"])
    crit = stats.t.ppf((1 + level) / 2, g - 1)
    return {"outcome": outcome, "exposure": exposure, "slope": est, "se": se, "ci_low": est - crit * se,
            "ci_high": est + crit * se, "p_value": float(2 * stats.t.sf(abs(est / se), g - 1)), "councils": g,
            "observations": len(data), "years": f"{data['time'].min()}-{data['time'].max()}"}


def cross_sections(panel: pd.DataFrame, outcome: str, exposure: str, level: float = 0.95) -> pd.DataFrame:
    rows = []
    for year, part in panel.dropna(subset=[outcome, exposure]).groupby("year_end"):
        if len(part) < 10:
            continue
        fit = sm.OLS(part[outcome], sm.add_constant(part[exposure])).fit(cov_type="HC1")
        lo, hi = fit.conf_int(alpha=1 - level).loc[exposure]
        rows.append({"year_end": int(year), "slope": fit.params[exposure], "ci_low": lo, "ci_high": hi,
                     "councils": len(part), "r_squared": fit.rsquared})
    return pd.DataFrame(rows)


def pilot_codes(lookup: pd.DataFrame, pilot_names: list[str]) -> dict[str, str]:
    """ONS codes of the IBSEN pilot councils, matched by name; every name must match."""
    keys = {council_key(n): n for n in pilot_names}
    matched = lookup[lookup["council_key"].isin(keys)]
    missing = set(keys) - set(matched["council_key"])
    if missing:
        raise InputError(f"Pilot councils not found in the ASCOF council list: {[keys[k] for k in missing]}")
    return dict(zip(matched["ons_code"], matched["council"]))


def pilots_vs_rest(panel: pd.DataFrame, pilot_codes: dict[str, str], concept: str, level: float = 0.95) -> pd.DataFrame:
    """Mean of ``concept`` in pilot councils and the rest, by year, with a Welch CI for the difference."""
    rows = []
    for year, part in panel.dropna(subset=[concept]).groupby("year_end"):
        pilots = part.loc[part["area_code"].isin(pilot_codes), concept]
        rest = part.loc[~part["area_code"].isin(pilot_codes), concept]
        if len(pilots) < 2 or len(rest) < 2:
            continue
        diff = pilots.mean() - rest.mean()
        v1, v2 = pilots.var(ddof=1) / len(pilots), rest.var(ddof=1) / len(rest)
        se = np.sqrt(v1 + v2)
        df = (v1 + v2) ** 2 / (v1 ** 2 / (len(pilots) - 1) + v2 ** 2 / (len(rest) - 1))
        crit = stats.t.ppf((1 + level) / 2, df)
        rows.append({"year_end": int(year), "concept": concept, "pilots_mean": pilots.mean(), "rest_mean": rest.mean(),
                     "difference": diff, "ci_low": diff - crit * se, "ci_high": diff + crit * se,
                     "pilots": len(pilots), "rest": len(rest)})
    return pd.DataFrame(rows)


def current_councils(lookup: pd.DataFrame) -> pd.DataFrame:
    """Councils reporting ASCOF in the latest year, as a batch manifest (one ``council_code`` per row).

    Councils abolished or merged earlier (e.g. Northamptonshire, Cumbria) are left out: their
    profiles would stop years ago.
    """
    latest = lookup["last_year"].max()
    current = lookup[lookup["last_year"] == latest].sort_values("ons_code")
    return pd.DataFrame({"council_code": current["ons_code"].to_list()})
