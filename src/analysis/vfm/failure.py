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

In-house provision closes too, so the model applies the proxy to **both
sides**: third-sector homes stand in for spin-outs, council-run homes for
in-house provision, and what counts is the difference. Which closure rate is
the right stand-in is a choice no data settle: :func:`proxy_definitions` lists
each measure in each year (the forest plot), and :func:`pooled_definitions` each
measure pooled over the years, the named definitions the model uses.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.data.cqc import OWNERSHIP_ORDER
from analysis.errors import InputError
from analysis.precision import fmt


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


# Which closures count on each side: (spin-out proxy column, in-house proxy column). All closures include
# planned ones (for council homes, mostly councils leaving direct provision by choice); involuntary closures
# are the CQC's enforcement only. "Not chosen by the commissioner" counts every spin-out closure (the
# commissioner must re-provide whatever the reason) but only involuntary in-house closures (a council's
# planned closure is its own decision, not a failure it has to absorb).
MEASURES = {"all closures": ("closures", "closures"),
            "involuntary closures": ("forced", "forced"),
            "not chosen by the commissioner": ("closures", "forced")}
# How each measure reads in a sentence ("... on {phrase}").
MEASURE_PHRASES = {"all closures": "all closures",
                   "involuntary closures": "involuntary (CQC-enforced) closures",
                   "not chosen by the commissioner": "closures the commissioner does not choose (every spin-out "
                                                     "closure, only involuntary in-house ones)"}


def cost_phrase(value_gbp_m: float) -> str:
    """A net extra failure cost in words a reader cannot misread: 'a £43m cost', 'a £46m saving', 'about £0m'.

    Whole £m: the definitions differ by tens of millions, so decimals would be false precision.
    """
    if round(value_gbp_m) == 0:
        return "about £0m"
    return f"a {fmt(abs(value_gbp_m), '£m', places=0)} {'cost' if value_gbp_m > 0 else 'saving'}"


def definitions_phrase(names: list[str], costs: list[float]) -> str:
    """'a £46m saving counting all closures, ... and a £43m cost counting ...', for the named definitions."""
    parts = [f"{cost_phrase(c)} counting {n}" for n, c in zip(names, costs)]
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]


def rate_difference(events1: float, exposure1: float, events2: float, exposure2: float,
                    level: float = 0.95) -> tuple[float, float, float]:
    """Difference of two Poisson rates, ``events1/exposure1 - events2/exposure2``, with its score interval.

    The score interval (Miettinen-Nurminen type, statsmodels ``confint_poisson_2indep``) behaves
    well with few events, where the Wald interval does not.
    """
    import warnings

    from statsmodels.stats.rates import confint_poisson_2indep

    if min(events1, events2) < 0 or min(exposure1, exposure2) <= 0:
        raise InputError("events must be >= 0 and exposure > 0")
    diff = events1 / exposure1 - events2 / exposure2
    with warnings.catch_warnings():  # statsmodels computes an unused ratio that divides by zero with no events
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = confint_poisson_2indep(events1, exposure1, events2, exposure2, method="score", compare="diff",
                                        alpha=1 - level)
    return float(diff), float(min(lo, diff)), float(max(hi, diff))


def proxy_definitions(yearly: pd.DataFrame, spinout: str, inhouse: str, measures: list[str],
                      years: tuple[int, int], level: float = 0.95) -> pd.DataFrame:
    """One row per proxy definition (a closure measure in a year) with both sides' closures and exposure.

    ``yearly`` is the year-by-year table from :func:`closure_rates`; ``spinout`` and ``inhouse``
    are the ownerships whose care homes stand in for spin-outs and for in-house provision. The
    excess rate (spin-out proxy minus in-house proxy) carries its score interval.
    """
    unknown = [m for m in measures if m not in MEASURES]
    if unknown or not measures:
        raise InputError(f"closure measures must be some of {list(MEASURES)}; got {measures}")
    first, last = years
    have = set(yearly["year"])
    wanted = set(range(first, last + 1))
    if first > last or not wanted <= have:
        raise InputError(f"proxy years {first}-{last} are not all in the closure data "
                         f"({min(have)}-{max(have)})")
    for own in (spinout, inhouse):
        if own not in set(yearly["ownership"]):
            raise InputError(f"No closure data for ownership {own!r}; choose from {sorted(set(yearly['ownership']))}")
    rows = []
    for measure in measures:
        col_se, col_ih = MEASURES[measure]
        for year in range(first, last + 1):
            se = yearly[(yearly["year"] == year) & (yearly["ownership"] == spinout)].iloc[0]
            ih = yearly[(yearly["year"] == year) & (yearly["ownership"] == inhouse)].iloc[0]
            diff, lo, hi = rate_difference(se[col_se], se["homes"], ih[col_ih], ih["homes"], level)
            rows.append({"definition": f"{measure}, {year}", "measure": measure, "year": year,
                         "spinout_events": int(se[col_se]), "spinout_exposure": float(se["homes"]),
                         "inhouse_events": int(ih[col_ih]), "inhouse_exposure": float(ih["homes"]),
                         "spinout_rate": se[col_se] / se["homes"], "inhouse_rate": ih[col_ih] / ih["homes"],
                         "excess_rate": diff, "excess_ci_low": lo, "excess_ci_high": hi})
    df = pd.DataFrame(rows)
    df.attrs.update(level=level, spinout=spinout, inhouse=inhouse)
    return df


def pooled_definitions(yearly: pd.DataFrame, spinout: str, inhouse: str, years: tuple[int, int],
                       level: float = 0.95, measures: list[str] | None = None) -> pd.DataFrame:
    """One row per closure measure (``measures``, default every one in :data:`MEASURES`), pooled over ``years``.

    The same columns as :func:`proxy_definitions`; ``definition`` is the measure and ``year`` the span.
    These are the named definitions the value-for-money model uses: the Monte Carlo draws the hazards of
    the chosen measure from their pooled counts (sampling error only), and the tornado and the
    provider-failure table move across all of them. Pooling over years keeps the year-to-year swing of
    a small market out of the hazard, as a multi-year contract would average it.
    """
    defs = proxy_definitions(yearly, spinout, inhouse, list(MEASURES) if measures is None else measures, years,
                             level)
    rows = []
    for measure, group in defs.groupby("measure", sort=False):
        e1, x1 = group["spinout_events"].sum(), group["spinout_exposure"].sum()
        e2, x2 = group["inhouse_events"].sum(), group["inhouse_exposure"].sum()
        diff, lo, hi = rate_difference(e1, x1, e2, x2, level)
        rows.append({"definition": measure, "measure": measure, "year": f"{years[0]}-{years[1]}",
                     "spinout_events": int(e1), "spinout_exposure": float(x1),
                     "inhouse_events": int(e2), "inhouse_exposure": float(x2),
                     "spinout_rate": e1 / x1, "inhouse_rate": e2 / x2,
                     "excess_rate": diff, "excess_ci_low": lo, "excess_ci_high": hi})
    df = pd.DataFrame(rows)
    df.attrs.update(level=level, spinout=spinout, inhouse=inhouse)
    return df


def pooled_comparison(yearly: pd.DataFrame, spinout: str, inhouse: str, measures: list[str],
                      years: tuple[int, int], level: float = 0.95) -> pd.DataFrame:
    """Each measure pooled over the proxy years: both sides' rates and the excess with its interval."""
    return comparison_view(pooled_definitions(yearly, spinout, inhouse, years, level, measures))


def comparison_view(pooled: pd.DataFrame) -> pd.DataFrame:
    """:func:`pooled_definitions` in the comparison's own column names (closures, home-years, years)."""
    df = pooled.rename(columns={"year": "years", "spinout_events": "spinout_closures",
                                "spinout_exposure": "spinout_home_years", "inhouse_events": "inhouse_closures",
                                "inhouse_exposure": "inhouse_home_years"})
    df = df[["measure", "years", "spinout_closures", "spinout_home_years", "spinout_rate", "inhouse_closures",
             "inhouse_home_years", "inhouse_rate", "excess_rate", "excess_ci_low", "excess_ci_high"]].copy()
    df.attrs.update(pooled.attrs)
    return df


def proxy_direction(comparison: pd.DataFrame) -> str:
    """What the pooled comparison says about the spin-out proxy against the in-house proxy, in words.

    Each measure counts only when its interval excludes zero; measures that disagree are reported as such.
    """
    signs = []
    for row in comparison.itertuples():
        if row.excess_ci_low > 0:
            signs.append(1)
        elif row.excess_ci_high < 0:
            signs.append(-1)
        else:
            signs.append(0)
    if not signs or all(s == 0 for s in signs):
        return "shows no clear difference between the two"
    if 1 in signs and -1 in signs:
        return "points both ways, depending on which closures count as failures"
    direction = "more" if 1 in signs else "less"
    if 0 in signs:
        return f"shows the spin-out proxy closing {direction} often on some measures and no clear difference on others"
    return f"shows the spin-out proxy closing {direction} often on every measure"
