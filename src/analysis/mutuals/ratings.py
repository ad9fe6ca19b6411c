"""CQC ratings by ownership: local-authority in-house, third sector and for-profit providers.

Three views, each with its uncertainty:

1. the share of services rated Good or Outstanding at each year end, by
   ownership and setting (Wilson intervals);
2. inspection-level models for community-based services: a logistic model of
   Good/Outstanding and an ordinal logit of the full rating, on ownership with
   year effects, whether the report is a re-inspection and years since
   registration, standard errors clustered by location;
3. a care-home cross-section with the size control the data allows (beds) and
   service mix (nursing, dementia), logistic, robust standard errors.

What this cannot show: the third sector is not split into charities, social
enterprises and staff mutuals, so public-service spin-outs cannot be identified;
ownership is not randomly assigned (councils kept or closed their own homes for
reasons linked to quality); a service keeps its last rating until re-inspected;
and the care-home file does not document which rating it holds.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import optimize, stats
from statsmodels.miscmodels.ordinal_model import OrderedModel
from statsmodels.stats.proportion import confint_proportions_2indep

from analysis.data.cqc import OWNERSHIP_ORDER, RATING_ORDER
from analysis.errors import InputError
from analysis.mutuals.externalisation import councils_only
from analysis.mutuals.staff import wilson

REFERENCE = "local authority"
# The council activity returns' settings that match each CQC setting (for counting councils that run it in-house).
COUNCIL_SETTINGS = {"care homes": ("Residential", "Nursing"),
                    "community services": ("Community (blank in source)", "Home care", "Day care")}


def good_share_by_year(ratings: pd.DataFrame, years: tuple[int, int], level: float = 0.95) -> pd.DataFrame:
    """Share rated Good or Outstanding by setting, year and ownership, with Wilson CIs (percent)."""
    df = ratings[ratings["year"].between(*years)]
    if df.empty:
        raise InputError(f"No CQC rating snapshots in {years}")
    good = (df[df["rating"].isin(["Good", "Outstanding"])]
            .groupby(["setting", "year", "ownership"], observed=True)["n"].sum())
    total = df.groupby(["setting", "year", "ownership"], observed=True)["total"].first()
    out = pd.DataFrame({"good": good, "total": total}).fillna({"good": 0}).reset_index()
    out["share"] = 100 * out["good"] / out["total"]
    ci = [wilson(g / t, t, level) for g, t in zip(out["good"], out["total"])]
    out["ci_low"] = [100 * c[0] for c in ci]
    out["ci_high"] = [100 * c[1] for c in ci]
    return out


def _design(df: pd.DataFrame) -> pd.DataFrame:
    own = pd.get_dummies(df["ownership"].astype(str), dtype=float)
    own = own[[c for c in OWNERSHIP_ORDER if c != REFERENCE and c in own]]
    own.columns = [f"ownership: {c}" for c in own.columns]
    years = pd.get_dummies(df["year"], prefix="year", drop_first=True, dtype=float)
    extra = pd.DataFrame({"re-inspection": (df["prior_reports"] > 0).astype(float),
                          "years registered": df["years_registered"].clip(upper=20)}, index=df.index)
    return pd.concat([own, years, extra], axis=1)


def inspection_models(inspections: pd.DataFrame, years: tuple[int, int], level: float = 0.95) -> dict:
    """Logit (Good/Outstanding) and ordinal logit (full scale) on ownership, relative to in-house."""
    df = inspections[inspections["year"].between(*years)].reset_index(drop=True)
    if df["ownership"].nunique() < 2:
        raise InputError("Need at least two ownership types in the chosen years")
    X = _design(df)
    groups = pd.factorize(df["location_id"])[0]
    crit = stats.norm.ppf((1 + level) / 2)
    logit = sm.Logit(df["good_or_outstanding"].astype(float), sm.add_constant(X)).fit(
        disp=False, cov_type="cluster", cov_kwds={"groups": groups})
    rows = []
    for col in [c for c in X.columns if c.startswith("ownership: ")]:
        ame, se = _logit_ame(logit, sm.add_constant(X), col)
        b, s = logit.params[col], logit.bse[col]
        rows.append({"model": "logit: Good or Outstanding", "term": col.replace("ownership: ", ""),
                     "odds_ratio": np.exp(b), "ci_low": np.exp(b - crit * s), "ci_high": np.exp(b + crit * s),
                     "difference_pp": 100 * ame, "diff_ci_low": 100 * (ame - crit * se),
                     "diff_ci_high": 100 * (ame + crit * se), "p_value": logit.pvalues[col]})
    y = pd.Series(pd.Categorical(df["rating"].astype(str), categories=RATING_ORDER, ordered=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ordinal = OrderedModel(y, X, distr="logit").fit(method="bfgs", disp=False, maxiter=500,
                                                         cov_type="cluster", cov_kwds={"groups": groups})
    for col in [c for c in X.columns if c.startswith("ownership: ")]:
        b, s = ordinal.params[col], ordinal.bse[col]
        rows.append({"model": "ordinal logit: rating scale", "term": col.replace("ownership: ", ""),
                     "odds_ratio": np.exp(b), "ci_low": np.exp(b - crit * s), "ci_high": np.exp(b + crit * s),
                     "difference_pp": np.nan, "diff_ci_low": np.nan, "diff_ci_high": np.nan,
                     "p_value": ordinal.pvalues[col]})
    table = pd.DataFrame(rows)
    table.attrs.update(n_reports=len(df), n_locations=int(df["location_id"].nunique()), reference=REFERENCE,
                       years=years, counts=df["ownership"].value_counts().to_dict(), level=level)
    return {"table": table, "logit": logit, "ordinal": ordinal, "design": sm.add_constant(X), "clusters": groups,
            "ownership": df["ownership"].astype(str).to_numpy()}


def _logit_ame_gradient(fit, X: pd.DataFrame, column: str) -> tuple[float, np.ndarray]:
    """Average marginal effect of switching ``column`` from 0 to 1 for every row, and its gradient in the
    coefficients (for the delta method under any covariance matrix)."""
    X1, X0 = X.copy(), X.copy()
    others = [c for c in X.columns if c.startswith("ownership: ") and c != column]
    X1[column], X0[column] = 1.0, 0.0
    X1[others], X0[others] = 0.0, 0.0
    beta = fit.params.to_numpy()
    p1 = 1 / (1 + np.exp(-(X1.to_numpy() @ beta)))
    p0 = 1 / (1 + np.exp(-(X0.to_numpy() @ beta)))
    ame = float(np.mean(p1 - p0))
    grad = (p1 * (1 - p1)) @ X1.to_numpy() / len(X) - (p0 * (1 - p0)) @ X0.to_numpy() / len(X)
    return ame, grad


def _logit_ame(fit, X: pd.DataFrame, column: str) -> tuple[float, float]:
    """Average marginal effect of switching ``column`` from 0 to 1 for every row (delta method)."""
    ame, grad = _logit_ame_gradient(fit, X, column)
    return ame, float(np.sqrt(grad @ fit.cov_params().to_numpy() @ grad))


def _care_home_fit(closures: pd.DataFrame):
    """The care-home logit (robust HC1 errors: one row per home, no provider or council identifier)."""
    df = closures.dropna(subset=["rating", "beds"]).reset_index(drop=True)
    df = df[df["beds"] > 0].reset_index(drop=True)
    if df.empty:
        raise InputError("No rated care homes with a bed count")
    own = pd.get_dummies(df["ownership"].astype(str), dtype=float)
    own = own[[c for c in OWNERSHIP_ORDER if c != REFERENCE and c in own]]
    own.columns = [f"ownership: {c}" for c in own.columns]
    X = sm.add_constant(pd.concat([own, pd.DataFrame({
        "log beds": np.log(df["beds"]), "nursing home": df["nursing"].astype(float),
        "dementia care": df["dementia"].astype(float)}, index=df.index)], axis=1))
    y = df["rating"].isin(["Good", "Outstanding"]).astype(float)
    return sm.Logit(y, X).fit(disp=False, cov_type="HC1"), X, df


def care_home_cross_section(closures: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """Care homes with a recorded rating: logit of Good/Outstanding on ownership, size and service mix.

    Uses the rating held in the closures replication file (rated homes only; the
    file does not say whether it is the latest rating or the last before closure).
    """
    fit, X, df = _care_home_fit(closures)
    crit = stats.norm.ppf((1 + level) / 2)
    rows = []
    for col in X.columns.drop("const"):
        b, s = fit.params[col], fit.bse[col]
        ame = se = np.nan
        if col.startswith("ownership: "):
            ame, se = _logit_ame(fit, X, col)
        rows.append({"term": col.replace("ownership: ", ""), "odds_ratio": np.exp(b), "ci_low": np.exp(b - crit * s),
                     "ci_high": np.exp(b + crit * s), "difference_pp": 100 * ame,
                     "diff_ci_low": 100 * (ame - crit * se), "diff_ci_high": 100 * (ame + crit * se),
                     "p_value": fit.pvalues[col]})
    table = pd.DataFrame(rows)
    table.attrs.update(n_homes=len(df), counts=df["ownership"].value_counts().to_dict(), reference=REFERENCE,
                       level=level)
    return table


def rated_share_difference(rated: pd.DataFrame, level: float = 0.95, group: str = "third sector") -> dict | None:
    """Unadjusted share rated Good or Outstanding in a file of rated homes, ``group`` minus council-run, in
    percentage points with Newcombe's hybrid-score interval (the care-home model's own file, before adjustment)."""
    good = rated["rating"].isin(["Good", "Outstanding"])
    own = rated["ownership"].astype(str)
    if not ({group, REFERENCE} <= set(own)):
        return None
    g1, n1 = float(good[own == group].sum()), float((own == group).sum())
    g0, n0 = float(good[own == REFERENCE].sum()), float((own == REFERENCE).sum())
    low, high = confint_proportions_2indep(g1, n1, g0, n0, method="newcomb", compare="diff", alpha=1 - level)
    out = {"difference_pp": 100 * (g1 / n1 - g0 / n0), "ci_low": 100 * float(low), "ci_high": 100 * float(high),
           "share": 100 * g1 / n1, "share_council": 100 * g0 / n0, "n": int(n1), "n_council": int(n0)}
    if "beds" in rated:
        out.update(median_beds=float(rated.loc[own == group, "beds"].median()),
                   median_beds_council=float(rated.loc[own == REFERENCE, "beds"].median()))
    return out


def care_home_models(closures: pd.DataFrame, provision: pd.DataFrame, level: float = 0.95) -> dict:
    """The care-home model, its council clustering check and the same file's unadjusted gap, computed once.

    ``table``: :func:`care_home_cross_section`; ``clustering``: :func:`council_clustering_sensitivity` with the
    councils that ran care homes in-house 2010-2023 (the file's registration years; :func:`councils_with_inhouse`
    says which count); ``unadjusted``:
    :func:`rated_share_difference` on the homes the model uses.
    """
    table = care_home_cross_section(closures, level)
    fit, X, rated = _care_home_fit(closures)
    councils = councils_with_inhouse(provision, COUNCIL_SETTINGS["care homes"], (2010, 2023))
    clustering = council_clustering_sensitivity(fit, X, None, rated["ownership"].astype(str).to_numpy(),
                                                councils["count"], level)
    clustering.attrs["councils"] = councils
    return {"table": table, "clustering": clustering, "unadjusted": rated_share_difference(rated, level)}


def model_gap(table: pd.DataFrame, clustering: pd.DataFrame, term: str = "third sector") -> dict | None:
    """One ownership term's model difference (percentage points, against council-run) with its interval and the
    correlation between a council's services above which it stops being clear (``break_even_correlation``)."""
    rows = table[(table["term"] == term)
                 & (table["model"].str.startswith("logit") if "model" in table else True)]
    base = clustering[(clustering["term"] == term) & (clustering["correlation"] == 0)]
    if rows.empty or base.empty:
        return None
    r = rows.iloc[0]
    return {"difference_pp": float(r["difference_pp"]), "ci_low": float(r["diff_ci_low"]),
            "ci_high": float(r["diff_ci_high"]), "p_value": float(r["p_value"]),
            "break_even_correlation": float(base["break_even_correlation"].iloc[0]),
            "per_council": float(clustering.attrs.get("per_council", np.nan))}


# --- Clustering at the level that holds the correlation --------------------------------------------

CORRELATIONS = (0.05, 0.2, 0.5, 1.0)


@dataclass(frozen=True)
class SandwichParts:
    """The pieces of a cluster-robust covariance, with the meat split between council-run and other clusters.

    ``covariance(deff)`` = correction x bread (deff x meat_reference + meat_other) bread; with ``deff = 1`` it
    is the covariance the model was fitted with (clustered by location, or HC1 for one row per home).
    """

    bread: np.ndarray
    meat_reference: np.ndarray
    meat_other: np.ndarray
    correction: float
    reference_clusters: int

    def covariance(self, deff: float = 1.0) -> np.ndarray:
        return self.correction * self.bread @ (deff * self.meat_reference + self.meat_other) @ self.bread


def sandwich_parts(fit, X: pd.DataFrame, clusters: np.ndarray | None, reference: np.ndarray) -> SandwichParts:
    """Split the robust covariance of a logit fit into the part from council-run (``reference``) clusters and the rest.

    ``clusters`` are the cluster ids the fit used (``None``: every row its own cluster, i.e. robust HC errors). The
    small-sample correction is statsmodels' (CR1: G/(G-1) (N-1)/(N-K); none for a discrete model's HC errors), so
    ``covariance(1)`` reproduces the fit's.
    """
    params = fit.params.to_numpy()
    scores = fit.model.score_obs(params)
    bread = np.linalg.inv(-fit.model.hessian(params))
    n, k = X.shape
    ids = np.arange(n) if clusters is None else np.asarray(clusters)
    reference = np.asarray(reference, dtype=bool)
    summed = pd.DataFrame(scores).groupby(ids).sum()
    is_reference = pd.Series(reference).groupby(ids).max().reindex(summed.index).to_numpy()
    s_ref, s_other = summed.to_numpy()[is_reference], summed.to_numpy()[~is_reference]
    groups = len(summed)
    # statsmodels: CR1 for clusters; its HC covariances of discrete models carry no degrees-of-freedom factor.
    correction = 1.0 if clusters is None else groups / (groups - 1) * (n - 1) / (n - k)
    return SandwichParts(bread, s_ref.T @ s_ref, s_other.T @ s_other, correction, int(is_reference.sum()))


def councils_with_inhouse(shares: pd.DataFrame, settings: tuple[str, ...], years: tuple[int, int]) -> dict:
    """How many councils ran any of ``settings`` in-house (ASC-FR/PSS-EX1 activity) over ``years``.

    One definition for every clustering check in the suite: the **most councils running the setting in-house in
    any one year** the ratings span (``count``). Ratings spread over many years come from the council-run services
    of every council that ran them at some point, so a median of the yearly counts (``median``, kept for reference)
    understates the councils and overstates the services per council; the count of distinct council names
    overstates them (names change between collections and councils merge), so the largest yearly count, a floor on
    the councils involved, is used. A one-year snapshot gets that year's count (:func:`councils_nearest_year`), the
    same definition over one year. Regional totals in the files are not councils and are left out.
    """
    part = councils_only(shares[shares["setting"].isin(settings) & shares["year"].between(*years)
                                & (shares["in_house"] > 0)])
    if part.empty:
        raise InputError(f"No council in-house activity for {settings} in {years}")
    per_year = part.groupby("year")["council_key"].nunique()
    return {"count": int(per_year.max()), "count_year": int(per_year.idxmax()), "median": float(per_year.median()),
            "low": int(per_year.min()), "high": int(per_year.max()),
            "years": f"{int(per_year.index.min())}-{int(per_year.index.max())}", "settings": settings}


def council_clustering_sensitivity(fit, X: pd.DataFrame, clusters: np.ndarray | None, ownership: np.ndarray,
                                   n_councils: float, level: float = 0.95,
                                   correlations: tuple[float, ...] = CORRELATIONS) -> pd.DataFrame:
    """How the ownership differences' intervals widen if council-run services are correlated within their council.

    The data identify each service (CQC location) but not the council or provider that runs it, so standard errors
    cannot be clustered by council directly. Instead the council-run part of the robust variance is inflated by the
    Moulton design effect 1 + (m - 1) rho, where m is the number of council-run clusters per council (council-run
    locations / councils running such services in-house) and rho the correlation between a council's services.
    rho = 0 is the fitted model; rho = 1 treats each council as one observation. Equal numbers of services per
    council are assumed; unequal numbers would widen the intervals further. ``break_even_correlation`` is the rho at
    which the interval first reaches zero (missing if it already includes zero; above 1 if it never does).
    """
    if n_councils <= 0:
        raise InputError("n_councils must be positive")
    crit = stats.norm.ppf((1 + level) / 2)
    parts = sandwich_parts(fit, X, clusters, np.asarray(ownership) == REFERENCE)
    per_council = max(parts.reference_clusters / n_councils, 1.0)
    base_v = parts.covariance(1.0)
    extra_v = parts.correction * parts.bread @ parts.meat_reference @ parts.bread
    rows = []
    for column in [c for c in X.columns if c.startswith("ownership: ")]:
        ame, grad = _logit_ame_gradient(fit, X, column)
        v0, v_ref = float(grad @ base_v @ grad), float(grad @ extra_v @ grad)
        lo0, hi0 = ame - crit * np.sqrt(v0), ame + crit * np.sqrt(v0)
        excludes = lo0 > 0 or hi0 < 0
        break_even = np.nan
        if excludes and per_council > 1 and v_ref > 0:
            break_even = (ame ** 2 / crit ** 2 - v0) / ((per_council - 1) * v_ref)
        for rho in (0.0, *correlations):
            deff = 1 + (per_council - 1) * rho
            se = np.sqrt(v0 + (deff - 1) * v_ref)
            rows.append({"term": column.replace("ownership: ", ""), "correlation": rho, "design_effect": deff,
                         "difference_pp": 100 * ame, "diff_ci_low": 100 * (ame - crit * se),
                         "diff_ci_high": 100 * (ame + crit * se), "break_even_correlation": break_even})
    out = pd.DataFrame(rows)
    out.attrs.update(per_council=per_council, reference_clusters=parts.reference_clusters, n_councils=n_councils,
                     level=level)
    return out


def councils_nearest_year(shares: pd.DataFrame, settings: tuple[str, ...], year: int) -> tuple[int, int]:
    """How many councils ran any of ``settings`` in-house in ``year``, or in the nearest year the council activity
    returns cover (the earlier one on a tie): (councils, year used)."""
    part = councils_only(shares[shares["setting"].isin(settings) & (shares["in_house"] > 0)])
    if part.empty:
        raise InputError(f"No council in-house activity for {settings}")
    per_year = part.groupby("year")["council_key"].nunique()
    nearest = min(per_year.index, key=lambda y: (abs(int(y) - year), int(y)))
    return int(per_year[nearest]), int(nearest)


def snapshot_clustering(good: float, total: float, good_council: float, total_council: float, n_councils: float,
                        level: float = 0.95) -> dict:
    """A difference in shares (other minus council-run, Newcombe interval) as council-run services become alike.

    The same check as :func:`council_clustering_sensitivity`, for a year-end snapshot: the council-run counts are
    divided by the Moulton design effect 1 + (m - 1) rho (their effective sample size), where m is council-run
    services per council and rho the correlation between one council's services. ``break_even_correlation`` is the
    rho at which the interval first reaches zero: missing when it includes zero already, infinite when it stays clear
    even at rho = 1 (each council one observation). ``ci_at_one`` is the interval (percentage points) at rho = 1.
    """
    if n_councils <= 0 or total <= 0 or total_council <= 0:
        raise InputError("counts and councils must be positive")
    per_council = max(total_council / n_councils, 1.0)

    def interval(rho: float) -> tuple[float, float]:
        deff = 1 + (per_council - 1) * rho
        low, high = confint_proportions_2indep(good, total, good_council / deff, total_council / deff,
                                               method="newcomb", compare="diff", alpha=1 - level)
        return 100 * float(low), 100 * float(high)

    diff = 100 * (good / total - good_council / total_council)
    low0, high0 = interval(0.0)
    at_one = interval(1.0)
    break_even = np.nan
    if low0 > 0 or high0 < 0:
        def nearest_bound(rho: float) -> float:  # negative while the interval excludes zero
            low, high = interval(rho)
            return high if diff < 0 else -low
        break_even = (np.inf if nearest_bound(1.0) < 0 or per_council <= 1
                      else float(optimize.brentq(nearest_bound, 0.0, 1.0, xtol=1e-6)))
    return {"difference_pp": diff, "ci_low": low0, "ci_high": high0, "per_council": per_council,
            "break_even_correlation": break_even, "ci_at_one": at_one}

