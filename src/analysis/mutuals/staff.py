"""NHS Staff Survey: social enterprises against NHS trusts doing the same work.

For each staff outcome, an organisation-level binomial GLM of the item's
proportion on a social-enterprise indicator and year effects, weighted by the
item's number of responses (``var_weights``), with standard errors clustered
by organisation (CR1). The rate difference is the average marginal effect in
percentage points (delta-method CI). Because there are very few social
enterprises (7-9 a year, one in mental health), clustered standard errors can
be too small; each comparison therefore also reports a randomisation-inference
p-value from permuting the social-enterprise label across organisations, and a
restricted wild-cluster-bootstrap p-value (``analysis.inference``) for the same
comparison in the response-weighted linear model.

What this cannot show: the survey starts in 2021, years after the spin-outs,
so there is no before/after; social enterprises chose to spin out and survived
(selection and survivorship); rates are the repository authors' item-level
derivations weighted by occupation group, not official theme scores; and the
comparison says nothing about cost or productivity.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from itertools import combinations
from math import comb

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats
from statsmodels.tools.sm_exceptions import SpecificationWarning

from analysis.data.staff_survey import ITEMS_BY_KEY
from analysis.errors import InputError
from analysis.inference import wild_cluster_bootstrap

COMPARATORS = {
    "community": ("Social Enterprises - Community", "Community Trusts"),
    "mental health": ("Social Enterprises - Mental Health",
                      "Mental Health & Learning Disability and Mental Health, Learning Disability & Community Trusts"),
}

TRUST_NAMES = {"community": "community trusts", "mental health": "mental-health trusts"}


def comparison_sample(staff: pd.DataFrame, service: str, years: tuple[int, int]) -> pd.DataFrame:
    """Social enterprises providing ``service`` and the NHS trusts in the matching benchmark group."""
    if service not in COMPARATORS:
        raise InputError(f"service must be one of {list(COMPARATORS)}")
    se_group, trust_group = COMPARATORS[service]
    sample = staff[staff["benchmarking_group"].isin([se_group, trust_group]) & staff["year"].between(*years)].copy()
    sample["social_enterprise"] = (sample["benchmarking_group"] == se_group).astype(int)
    return sample


def _ame(fit, X: pd.DataFrame, weights: np.ndarray, column: str = "social_enterprise"):
    X1, X0 = X.copy(), X.copy()
    X1[column], X0[column] = 1.0, 0.0
    beta = fit.params.to_numpy()
    p1 = 1 / (1 + np.exp(-(X1.to_numpy() @ beta)))
    p0 = 1 / (1 + np.exp(-(X0.to_numpy() @ beta)))
    w = weights / weights.sum()
    ame = float(np.sum(w * (p1 - p0)))
    grad = (w * p1 * (1 - p1)) @ X1.to_numpy() - (w * p0 * (1 - p0)) @ X0.to_numpy()
    se = float(np.sqrt(grad @ fit.cov_params().to_numpy() @ grad))
    return ame, se


def randomisation_relabellings(n_organisations: int, n_labelled: int) -> int:
    """How many distinct ways the social-enterprise label can be put on ``n_labelled`` of ``n_organisations``."""
    return comb(int(n_organisations), int(n_labelled))


def _randomisation_p(part: pd.DataFrame, n_permutations: int, seed: int) -> tuple[float, bool, int]:
    """Permute the social-enterprise label across organisations; statistic: difference in organisation means
    of year-demeaned rates; two-sided.

    When the distinct relabellings number no more than ``n_permutations`` (one organisation among 52 has 52), all
    are enumerated and the p-value is exact: the share of relabellings at least as extreme as the observed one,
    the observed included (so k/52). Otherwise ``n_permutations`` random relabellings give a Monte Carlo estimate
    with the +1 correction. Returns (p-value, exact?, relabellings used)."""
    demeaned = part["rate"] - part.groupby("year")["rate"].transform("mean")
    org = pd.DataFrame({"y": demeaned, "se": part["social_enterprise"], "ods": part["ods_code"]}).groupby("ods").mean()
    y, labels = org["y"].to_numpy(), org["se"].to_numpy().astype(bool)
    k = int(labels.sum())
    n = len(y)
    if k == 0 or k == n:
        return float("nan"), False, 0
    observed = y[labels].mean() - y[~labels].mean()
    total = y.sum()
    possible = randomisation_relabellings(n, k)
    if possible <= n_permutations:
        groups = np.array(list(combinations(range(n), k)))
        in_group = y[groups].sum(axis=1)
        stats_all = in_group / k - (total - in_group) / (n - k)
        count = int(np.sum(np.abs(stats_all) >= abs(observed) - 1e-12))
        return count / possible, True, possible
    rng = np.random.default_rng(seed)
    # Each row of `draws` is a random permutation; its first k positions are the relabelled group.
    draws = np.argsort(rng.random((n_permutations, n)), axis=1)[:, :k]
    in_group = y[draws].sum(axis=1)
    stats_perm = in_group / k - (total - in_group) / (n - k)
    count = int(np.sum(np.abs(stats_perm) >= abs(observed) - 1e-12))
    return (count + 1) / (n_permutations + 1), False, n_permutations


def fit_glm(part: pd.DataFrame, X: pd.DataFrame):
    """Binomial GLM on proportions with response counts as variance weights, clustered by organisation.

    statsmodels warns that cluster covariances are "not fully supported" with
    var_weights; for this model its result equals the CR1 sandwich computed by
    hand (checked in tests/unit/test_mutuals.py), so the warning is silenced here.
    """
    groups = pd.factorize(part["ods_code"])[0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SpecificationWarning)
        return sm.GLM(part["rate"] / 100, X, family=sm.families.Binomial(), var_weights=part["base"]).fit(
            cov_type="cluster", cov_kwds={"groups": groups})


def _verdict(good_direction: bool, lo: float, hi: float, p_random: float, alpha: float = 0.05) -> str:
    """'better'/'worse' only when the randomisation test agrees (p < alpha) and the CI, where valid, excludes 0."""
    ci_excludes = np.isnan(lo) or lo > 0 or hi < 0
    if not (ci_excludes and p_random < alpha):
        return "no clear difference"
    return "better" if good_direction else "worse"


def compare_items(staff: pd.DataFrame, service: str, items: list[str], years: tuple[int, int],
                  level: float = 0.95, n_permutations: int = 2000, seed: int = 0) -> pd.DataFrame:
    """One row per item: social enterprises vs NHS trusts, with CIs and both p-values."""
    unknown = set(items) - set(ITEMS_BY_KEY)
    if unknown:
        raise InputError(f"Unknown staff-survey items: {sorted(unknown)}")
    if not 0.5 < level < 1:
        raise InputError("level must be between 0.5 and 1")
    sample = comparison_sample(staff, service, years)
    crit = stats.norm.ppf((1 + level) / 2)
    rows = []
    for key in items:
        part = sample[sample["item"] == key].reset_index(drop=True)
        n_se = part.loc[part["social_enterprise"] == 1, "ods_code"].nunique()
        n_trust = part.loc[part["social_enterprise"] == 0, "ods_code"].nunique()
        if n_se == 0 or n_trust == 0:
            continue
        X = pd.concat([pd.Series(1.0, index=part.index, name="const"),
                       part["social_enterprise"].astype(float),
                       pd.get_dummies(part["year"], prefix="y", drop_first=True, dtype=float)], axis=1)
        fit = fit_glm(part, X)
        ame, se = _ame(fit, X, part["base"].to_numpy(float))
        p_random, exact, relabellings = _randomisation_p(part, n_permutations, seed)
        # Few treated clusters: restricted wild cluster bootstrap of the response-weighted linear model. With one
        # treated cluster the bootstrap is not valid either (MacKinnon & Webb 2017), so no p-value is given.
        p_wild = (wild_cluster_bootstrap(part["rate"], X, part["ods_code"], "social_enterprise",
                                         weights=part["base"].to_numpy(float), seed=seed).p_value
                  if n_se >= 2 else np.nan)
        coef, coef_se = float(fit.params["social_enterprise"]), float(fit.bse["social_enterprise"])
        weighted = part.assign(w=part["base"] * part["rate"]).groupby("social_enterprise")[["w", "base"]].sum()
        item = ITEMS_BY_KEY[key]
        diff = 100 * ame
        lo, hi = 100 * (ame - crit * se), 100 * (ame + crit * se)
        note = ""
        if n_se < 2:
            lo = hi = np.nan  # one treated cluster: a clustered CI is meaningless
            note = "one social enterprise: clustered CI not valid; use the randomisation p-value"
        elif n_se < 10:
            note = f"{n_se} social enterprises: clustered CI may be too narrow; see the randomisation p-value"
        good_direction = diff > 0 if item.higher_is_better else diff < 0
        rows.append({
            "item": key, "label": item.label, "higher_is_better": item.higher_is_better,
            "social_enterprise_rate": weighted.loc[1, "w"] / weighted.loc[1, "base"],
            "trust_rate": weighted.loc[0, "w"] / weighted.loc[0, "base"],
            "difference_pp": diff, "ci_low": lo, "ci_high": hi,
            "p_value": float(2 * stats.norm.sf(abs(ame / se))) if se > 0 and n_se >= 2 else np.nan,
            "p_randomisation": p_random,
            "p_wild_bootstrap": p_wild,
            "randomisation_exact": exact, "randomisation_relabellings": relabellings,
            "randomisation_possible": randomisation_relabellings(n_se + n_trust, n_se),
            "odds_ratio": float(np.exp(coef)), "or_ci_low": float(np.exp(coef - crit * coef_se)),
            "or_ci_high": float(np.exp(coef + crit * coef_se)),
            "n_social_enterprises": n_se, "n_trusts": n_trust, "n_org_years": len(part),
            "verdict": _verdict(good_direction, lo, hi, p_random),
            "note": note,
        })
    out = pd.DataFrame(rows)
    out.attrs.update(service=service, years=years, level=level)
    return out


def organisation_spread(staff: pd.DataFrame, service: str, item: str, years: tuple[int, int]) -> pd.DataFrame:
    """Each organisation's response-weighted mean rate on ``item`` over ``years``, with its group."""
    sample = comparison_sample(staff, service, years)
    part = sample[sample["item"] == item]
    org = (part.assign(w=part["rate"] * part["base"]).groupby(["ods_code", "organisation_latest", "social_enterprise"])
           [["w", "base"]].sum().reset_index())
    org["rate"] = org["w"] / org["base"]
    return org.drop(columns="w").sort_values("rate").reset_index(drop=True)


def wilson(p: float, n: float, level: float = 0.95) -> tuple[float, float]:
    z = stats.norm.ppf((1 + level) / 2)
    denom = 1 + z ** 2 / n
    centre = (p + z ** 2 / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z ** 2 / (4 * n ** 2)) / denom
    return centre - half, centre + half


@dataclass(frozen=True)
class FocusComparison:
    """One organisation's rates against its benchmark group, item by item and year by year.

    ``benchmark_trusts`` counts the benchmark organisations surveyed in each year; ``pooled_trusts`` counts those
    surveyed in any year of the window (the sample of the pooled staff-survey comparison and its randomisation
    test), and ``absent_last_year`` gives (name, last year surveyed) for those in the window but not in its last
    year.
    """

    table: pd.DataFrame
    organisation: str
    benchmark_group: str
    benchmark_trusts: dict[int, int] = field(default_factory=dict)
    pooled_trusts: int = 0
    absent_last_year: tuple[tuple[str, int], ...] = ()


def organisation_vs_benchmark(staff: pd.DataFrame, ods_code: str, items: list[str], years: tuple[int, int],
                              level: float = 0.95) -> FocusComparison:
    """One organisation against its benchmark group and against all NHS trusts, item by item, year by year.

    The benchmark group is the organisation's own kind of trust (for NAViGO, mental-health trusts): the
    all-trust average includes acute trusts, whose staff answer differently, so it is kept only as context.
    The benchmark is the **median trust** of that year, each trust counted once whatever its size
    (``benchmark_median``, with the quartiles ``benchmark_q1``/``benchmark_q3``), and
    ``benchmark_share_better`` is the share of those trusts scoring better than the organisation
    (direction-aware: fewer burnt-out staff is better): both say where the organisation stands among trusts of
    its kind, which a mean weighted by staff numbers (the average staff member, set by the largest trusts) does
    not. ``difference_from_benchmark_pp`` is the organisation's rate minus that median.
    The organisation's CI is a Wilson interval on its number of responses; because
    rates are weighted by occupation group, the effective sample size is smaller and
    the interval somewhat too narrow. It describes the organisation's own rate, not a difference: with one
    organisation only the randomisation test compares it with the trusts.
    """
    org = staff[(staff["ods_code"] == ods_code) & staff["year"].between(*years)]
    if org.empty:
        known = ", ".join(sorted(staff.loc[staff["provider_model"] == "social enterprise", "ods_code"].unique()))
        raise InputError(f"Organisation {ods_code!r} is not in the staff survey for {years}. "
                         f"Social enterprises in the data: {known}")
    group = org["benchmarking_group"].iloc[0]
    service = org["service"].iloc[0]
    comparator = COMPARATORS.get(service, (None, group))[1]
    rows = []
    for (year, item), row in org[org["item"].isin(items)].set_index(["year", "item"]).iterrows():
        peers = staff[(staff["benchmarking_group"] == comparator) & (staff["year"] == year)
                      & (staff["item"] == item) & (staff["ods_code"] != ods_code)]
        trusts = staff[(staff["provider_model"] == "NHS trust") & (staff["year"] == year) & (staff["item"] == item)]
        lo, hi = wilson(row["rate"] / 100, row["base"], level)
        national = float(np.average(trusts["rate"], weights=trusts["respondents"])) if len(trusts) else np.nan
        median = float(peers["rate"].median()) if len(peers) else np.nan
        better = peers["rate"] > row["rate"] if ITEMS_BY_KEY[item].higher_is_better else peers["rate"] < row["rate"]
        rows.append({"year": year, "item": item, "label": ITEMS_BY_KEY[item].label,
                     "organisation_rate": row["rate"], "ci_low": 100 * lo, "ci_high": 100 * hi,
                     "benchmark_median": median,
                     "benchmark_q1": peers["rate"].quantile(0.25) if len(peers) else np.nan,
                     "benchmark_q3": peers["rate"].quantile(0.75) if len(peers) else np.nan,
                     "benchmark_n": len(peers),
                     "difference_from_benchmark_pp": row["rate"] - median,
                     "benchmark_share_better": float(better.mean() * 100) if len(peers) else np.nan,
                     "national_trust_average": national,
                     "difference_from_national_pp": row["rate"] - national,
                     "percentile_among_trusts": float((trusts["rate"] < row["rate"]).mean() * 100)})
    table = pd.DataFrame(rows).sort_values(["item", "year"]).reset_index(drop=True)
    window = staff[(staff["benchmarking_group"] == comparator) & staff["year"].between(*years)
                   & (staff["ods_code"] != ods_code)]
    per_year = {int(y): int(n) for y, n in window.groupby("year")["ods_code"].nunique().items()}
    last = window[window["year"] == window["year"].max()]
    gone = window[~window["ods_code"].isin(last["ods_code"])].groupby("ods_code")
    absent = tuple(sorted(zip(gone["organisation_latest"].last(), gone["year"].max().astype(int))))
    return FocusComparison(table, org["organisation_latest"].iloc[0], comparator, per_year,
                           int(window["ods_code"].nunique()), absent)


def benchmark_name(focus: FocusComparison) -> str:
    """'mental-health trusts' / 'community trusts': the focus organisation's own kind of trust."""
    for service, (_, trusts) in COMPARATORS.items():
        if trusts == focus.benchmark_group:
            return TRUST_NAMES[service]
    return "comparable trusts"


def benchmark_phrase(focus: FocusComparison) -> str:
    """'the median of the 50 mental-health trusts surveyed in 2024': the one benchmark of the organisation's levels,
    in the words every table, chart and verdict uses."""
    year = int(focus.table["year"].max())
    return f"the median of the {focus.benchmark_trusts.get(year, 0)} {benchmark_name(focus)} surveyed in {year}"


def pooled_benchmark_phrase(focus: FocusComparison, years: tuple[int, int]) -> str:
    """'the 51 mental-health trusts surveyed in 2021-24': the sample of the pooled comparison and its test."""
    return (f"the {focus.pooled_trusts} {benchmark_name(focus)} surveyed in {years[0]}-{str(years[1])[-2:]}")
