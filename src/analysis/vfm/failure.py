"""Provider-failure hazard, calibrated on CQC care-home closures by ownership.

No public register records the failure of NHS spin-outs, so the closure rate
of CQC-registered care homes stands in for it, by ownership (third sector,
for-profit, local authority). This is a **proxy**: care homes are a different
market with different failure modes, and a closure is not always a failure
(a home can close for a planned reconfiguration). Involuntary closures (CQC
enforcement) are the stricter measure.

Rates are closures per home-year: closures in a year (from the closures file)
over homes registered that year (from the counts file), pooled over the
chosen years, with exact Poisson (Garwood) confidence intervals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.data.cqc import OWNERSHIP_ORDER
from analysis.errors import InputError


def poisson_rate_ci(events: np.ndarray | float, exposure: np.ndarray | float,
                    level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) confidence interval for events/exposure."""
    events = np.asarray(events, dtype=float)
    exposure = np.asarray(exposure, dtype=float)
    if np.any(events < 0) or np.any(exposure <= 0):
        raise InputError("events must be >= 0 and exposure > 0")
    alpha = 1 - level
    lower = np.where(events > 0, stats.chi2.ppf(alpha / 2, 2 * events) / 2, 0.0) / exposure
    upper = stats.chi2.ppf(1 - alpha / 2, 2 * (events + 1)) / 2 / exposure
    return lower, upper


def closure_rates(closures: pd.DataFrame, counts: pd.DataFrame, years: tuple[int, int] = (2012, 2023),
                  level: float = 0.95) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Annual closure and involuntary-closure rates by ownership.

    Returns ``(pooled, yearly)``: pooled rates over ``years`` per ownership (and
    all ownerships), and the year-by-year series.
    """
    first, last = years
    if first > last:
        raise InputError(f"years must be (first, last); got {years}")
    available = set(counts["year"]) & set(closures["year_deregistered"].dropna().astype(int))
    wanted = set(range(first, last + 1))
    if not wanted <= available:
        raise InputError(f"No closure or count data for years {sorted(wanted - available)}; "
                         f"available: {min(available)}-{max(available)}")
    closed = closures[closures["closed"]].copy()
    closed["year"] = closed["year_closed"].astype(int)
    events = (closed.groupby(["year", "ownership"], observed=False)
              .agg(closures=("closed", "size"), forced=("forced_closure", "sum"))
              .reset_index())
    yearly = counts.merge(events, on=["year", "ownership"], how="left").fillna({"closures": 0, "forced": 0})
    yearly = yearly[yearly["year"].between(first, last)].copy()
    yearly["closures"] = yearly["closures"].astype(int)
    yearly["forced"] = yearly["forced"].astype(int)
    yearly["closure_rate"] = yearly["closures"] / yearly["homes"]
    yearly["forced_rate"] = yearly["forced"] / yearly["homes"]

    def _pool(frame: pd.DataFrame, label: str) -> dict:
        home_years = float(frame["homes"].sum())
        out = {"ownership": label, "years": f"{first}-{last}", "home_years": home_years}
        for kind, col in (("closure", "closures"), ("forced", "forced")):
            n = float(frame[col].sum())
            lo, hi = poisson_rate_ci(n, home_years, level)
            out[f"{col}"] = int(n)
            out[f"{kind}_rate"] = n / home_years
            out[f"{kind}_ci_low"] = float(lo)
            out[f"{kind}_ci_high"] = float(hi)
        return out

    pooled = [_pool(yearly[yearly["ownership"] == own], own) for own in OWNERSHIP_ORDER]
    pooled.append(_pool(yearly, "all"))
    pooled_df = pd.DataFrame(pooled)
    pooled_df.attrs["level"] = level
    return pooled_df, yearly.reset_index(drop=True)


def hazard_draws(pooled: pd.DataFrame, ownership: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draws of the annual failure probability for ``ownership``.

    The closure rate's uncertainty is represented by its Jeffreys posterior
    Gamma(closures + 0.5, 1/home_years); a rate lambda becomes an annual
    probability 1 - exp(-lambda).
    """
    row = pooled[pooled["ownership"] == ownership]
    if row.empty:
        raise InputError(f"No closure rate for ownership {ownership!r}; choose from {list(pooled['ownership'])}")
    row = row.iloc[0]
    rate = rng.gamma(shape=row["closures"] + 0.5, scale=1.0 / row["home_years"], size=n)
    return -np.expm1(-rate)


def central_hazard(pooled: pd.DataFrame, ownership: str) -> float:
    row = pooled[pooled["ownership"] == ownership]
    if row.empty:
        raise InputError(f"No closure rate for ownership {ownership!r}")
    return float(-np.expm1(-row.iloc[0]["closure_rate"]))
