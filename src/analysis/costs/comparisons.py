"""In-house against external unit costs: England, across councils, and within councils.

Three views of one question, each with its n and interval:

* **England, activity-weighted**: sum of cost over sum of activity for each provider,
  from council rows (councils with a positive cost and activity), with a council
  bootstrap interval for the ratio (councils resampled with replacement, so the
  interval says how much the figure depends on which councils are in it). The
  publisher's own England ratio, which includes its estimates for missing councils,
  is shown beside it.
* **Across councils**: the distribution (quartiles) of council unit costs and of each
  council's own in-house/external ratio, counting only units with at least the
  minimum activity.
* **Within councils**: councils that both provided and bought the same service in the
  same year. The log of the in-house unit cost minus the log of the external unit cost
  is regressed on year effects; standard errors are clustered by council (a council
  appears in several years) and intervals use t with G-1 degrees of freedom. The
  exponentiated coefficient is the ratio a council pays for its own provision against
  what it pays others for the same service (a geometric mean over councils).

None of these is a productivity measure: see ``analysis.costs.analysis`` for the caveats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from analysis.data.unit_costs import financial_year, rebase
from analysis.errors import InputError

# Analysis series: name -> (service, PSS-EX1 client group, ASC-FR client group or None).
SERIES: dict[str, tuple[str, str, str | None]] = {
    "residential_older": ("residential care", "older people (65+)", "older people (65+)"),
    "residential_ld": ("residential care", "learning disability (18-64)", "learning disability (18-64)"),
    "residential_mh": ("residential care", "mental health (18-64)", "mental health (18-64)"),
    "residential_pd": ("residential care", "physical disability (18-64)", "physical support (18-64)"),
    "day_older": ("day care", "older people (65+)", None),
    "day_ld": ("day care", "learning disability (18-64)", None),
    "day_mh": ("day care", "mental health (18-64)", None),
    "day_pd": ("day care", "physical disability (18-64)", None),
    "home_care": ("home care", "all adults", None),
}
LABELS = {
    "residential_older": "Residential care, older people",
    "residential_ld": "Residential care, learning disability (18-64)",
    "residential_mh": "Residential care, mental health (18-64)",
    "residential_pd": "Residential care, physical disability (18-64)",
    "day_older": "Day care, older people",
    "day_ld": "Day care, learning disability (18-64)",
    "day_mh": "Day care, mental health (18-64)",
    "day_pd": "Day care, physical disability (18-64)",
    "home_care": "Home care, all adults",
}
UNIT_WORDS = {"residential care": "per week", "day care": "per client week", "home care": "per contact hour"}

MIN_COUNCILS = 10
"""The fewest councils a share of councils (or of their council-years) is shown for, and a service is counted
in a headline count of services without being named.

With fewer than 10 councils one council moves a share by more than 10 percentage points, and even a unanimous
result is uncertain: 9 councils of 9 has a 95% Wilson interval of 70% to 100%, and 3 of 3 only 44% to 100%, so
'100% of councils' on a handful of councils reads as far firmer than it is. Below this the report gives the
count of councils and says "fewer than 10 councils" instead of the percentage (the published CSV keeps the count
and says the same), and a headline count of services names any service that rests on fewer councils. It is a
reporting convention like the small-cell rules of official statistics, not a statistical boundary; the ratios
themselves keep their intervals, which already widen with few councils.
"""
SUPPRESSED = f"fewer than {MIN_COUNCILS} councils"


def share_of_councils(share: pd.Series, councils: pd.Series) -> list:
    """A share (0-1) as a percentage, or :data:`SUPPRESSED` when it rests on fewer than :data:`MIN_COUNCILS`
    councils (missing stays missing)."""
    return [np.nan if pd.isna(v) else (SUPPRESSED if pd.isna(n) or n < MIN_COUNCILS else 100 * float(v))
            for v, n in zip(share, councils)]


def few_councils(frame: pd.DataFrame, column: str = "n_councils") -> pd.DataFrame:
    """The rows (services) that rest on fewer than :data:`MIN_COUNCILS` councils."""
    return frame[frame[column] < MIN_COUNCILS]


def series_frame(unit_costs: pd.DataFrame, series: str, collection: str = "PSS-EX1") -> pd.DataFrame:
    """Council (and England) x year x provider rows of one series, summed over support reasons.

    Returns columns geography, dh_code, ons_code, council, year, provider, cost (GBP, real terms),
    activity, unit_cost_real (NaN unless cost > 0 and activity > 0), activity_unit, price_base.
    """
    if series not in SERIES:
        raise InputError(f"Unknown series {series!r}; choose from {', '.join(SERIES)}")
    service, group, ascfr_group = SERIES[series]
    wanted_group = group if collection == "PSS-EX1" else ascfr_group
    if wanted_group is None:
        return pd.DataFrame(columns=["geography", "dh_code", "ons_code", "council", "year", "provider", "cost",
                                     "activity", "unit_cost_real", "activity_unit", "price_base"])
    d = unit_costs[(unit_costs["collection"] == collection) & (unit_costs["service"] == service)
                   & (unit_costs["client_group"] == wanted_group)]
    keys = ["geography", "dh_code", "year", "provider"]
    # Real-terms cost (GBP) summed over support reasons; a reason with a marker (missing) leaves the sum
    # missing only when every reason is missing (min_count=1). The sums are grouped reductions, not a
    # Python function per group: ten times faster, which the unit-cost explorer needs on every change.
    groups = d.groupby(keys, observed=True)
    agg = groups.agg(ons_code=("ons_code", "first"), council=("council", "first"),
                     activity_unit=("activity_unit", "first"), price_base=("price_base", "first"))
    agg["cost"] = groups["cost_real_gbp_thousands"].sum(min_count=1) * 1000
    agg["activity"] = groups["activity"].sum(min_count=1)
    agg = agg[["ons_code", "council", "cost", "activity", "activity_unit", "price_base"]].reset_index()
    usable = (agg["cost"] > 0) & (agg["activity"] > 0)
    agg["unit_cost_real"] = np.where(usable, agg["cost"] / agg["activity"].where(usable), np.nan)
    return agg


def wide_by_provider(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per council (or England) and year with in-house and external cost, activity, unit cost."""
    index = ["geography", "dh_code", "year"]
    w = frame.set_index([*index, "provider"])[["cost", "activity", "unit_cost_real"]].unstack("provider")
    w.columns = [f"{m}_{'in' if p == 'in-house' else 'ext'}" for m, p in w.columns]
    names = frame.drop_duplicates(index).set_index(index)[["ons_code", "council"]]
    w = w.join(names)
    for col in ("cost_in", "cost_ext", "activity_in", "activity_ext", "unit_cost_real_in", "unit_cost_real_ext"):
        if col not in w:
            w[col] = np.nan
    return w.reset_index()


def _crit(level: float, df: float | None = None) -> float:
    return float(stats.t.ppf((1 + level) / 2, df)) if df else float(stats.norm.ppf((1 + level) / 2))


# --- England, activity-weighted ---------------------------------------------------------------

def england_ratios(unit_costs: pd.DataFrame, series: list[str], years: tuple[int, int], *, level: float = 0.95,
                   n_boot: int = 999, seed: int = 0, collection: str = "PSS-EX1") -> pd.DataFrame:
    """Activity-weighted in-house and external unit costs and their ratio, by series and year."""
    rng = np.random.default_rng(seed)
    rows = []
    for key in series:
        frame = series_frame(unit_costs, key, collection)
        if frame.empty:
            continue
        wide = wide_by_provider(frame)
        wide = wide[wide["year"].between(*years)]
        for year, part in wide.groupby("year"):
            councils = part[part["geography"] == "council"]
            england = part[part["geography"] == "England"]
            ok_in = (councils["cost_in"] > 0) & (councils["activity_in"] > 0)
            ok_ext = (councils["cost_ext"] > 0) & (councils["activity_ext"] > 0)
            c_in = np.where(ok_in, councils["cost_in"], 0.0)
            a_in = np.where(ok_in, councils["activity_in"], 0.0)
            c_ex = np.where(ok_ext, councils["cost_ext"], 0.0)
            a_ex = np.where(ok_ext, councils["activity_ext"], 0.0)
            if a_in.sum() <= 0 or a_ex.sum() <= 0:
                continue
            uc_in, uc_ex = c_in.sum() / a_in.sum(), c_ex.sum() / a_ex.sum()
            idx = rng.integers(0, len(councils), size=(n_boot, len(councils)))
            boot = (c_in[idx].sum(1) / np.maximum(a_in[idx].sum(1), 1e-12)) / (
                c_ex[idx].sum(1) / np.maximum(a_ex[idx].sum(1), 1e-12))
            boot = boot[np.isfinite(boot) & (a_in[idx].sum(1) > 0)]
            lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
            e = england.iloc[0] if len(england) else None
            published = (e["unit_cost_real_in"] / e["unit_cost_real_ext"]) if e is not None else np.nan
            rows.append({"series": key, "label": LABELS[key], "year": int(year), "financial_year": financial_year(year),
                         "collection": collection, "in_house": uc_in, "external": uc_ex, "ratio": uc_in / uc_ex,
                         "ci_low": float(lo), "ci_high": float(hi), "ratio_published": published,
                         "in_house_published": e["unit_cost_real_in"] if e is not None else np.nan,
                         "external_published": e["unit_cost_real_ext"] if e is not None else np.nan,
                         "in_house_share_activity": a_in.sum() / (a_in.sum() + a_ex.sum()),
                         "n_councils_in_house": int(ok_in.sum()), "n_councils_external": int(ok_ext.sum()),
                         "n_councils": int(len(councils)), "price_base": frame["price_base"].iloc[0],
                         "activity_unit": frame["activity_unit"].iloc[0]})
    out = pd.DataFrame(rows)
    out.attrs.update(level=level, n_boot=n_boot)
    return out


# --- Across councils -----------------------------------------------------------------------------

def council_distribution(unit_costs: pd.DataFrame, series: list[str], years: tuple[int, int],
                         min_activity: dict[str, float], *, collection: str = "PSS-EX1") -> pd.DataFrame:
    """Quartiles of council in-house and external unit costs and of each council's own ratio."""
    rows = []
    for key in series:
        frame = series_frame(unit_costs, key, collection)
        if frame.empty:
            continue
        floor = min_activity[SERIES[key][0]]
        wide = wide_by_provider(frame)
        wide = wide[(wide["geography"] == "council") & wide["year"].between(*years)]
        for year, part in wide.groupby("year"):
            uc_in = part["unit_cost_real_in"].where(part["activity_in"] >= floor).dropna()
            uc_ex = part["unit_cost_real_ext"].where(part["activity_ext"] >= floor).dropna()
            both = part[(part["activity_in"] >= floor) & (part["activity_ext"] >= floor)]
            ratio = (both["unit_cost_real_in"] / both["unit_cost_real_ext"]).dropna()
            row = {"series": key, "label": LABELS[key], "year": int(year), "financial_year": financial_year(year)}
            for name, values in (("in_house", uc_in), ("external", uc_ex), ("ratio", ratio)):
                q = values.quantile([0.25, 0.5, 0.75]) if len(values) else pd.Series([np.nan] * 3, [0.25, 0.5, 0.75])
                row.update({f"{name}_q1": q[0.25], f"{name}_median": q[0.5], f"{name}_q3": q[0.75],
                            f"{name}_n": int(len(values))})
            row["share_councils_in_house_dearer"] = float((ratio > 1).mean()) if len(ratio) else np.nan
            rows.append(row)
    return pd.DataFrame(rows)


# --- Within councils -----------------------------------------------------------------------------

@dataclass
class WithinCouncil:
    by_year: pd.DataFrame  # series, year, ratio, ci_low, ci_high, n_councils
    pooled: pd.DataFrame  # series, ratio, ci_low, ci_high, n_council_years, n_councils, trend per year + CI
    pairs: pd.DataFrame  # the council-year pairs used
    level: float


def paired_units(unit_costs: pd.DataFrame, series: list[str], years: tuple[int, int], min_activity: dict[str, float],
                 *, collection: str = "PSS-EX1") -> pd.DataFrame:
    """Council-years that provided in-house and bought externally, both above the minimum activity."""
    frames = []
    for key in series:
        frame = series_frame(unit_costs, key, collection)
        if frame.empty:
            continue
        floor = min_activity[SERIES[key][0]]
        wide = wide_by_provider(frame)
        wide = wide[(wide["geography"] == "council") & wide["year"].between(*years)]
        wide = wide[(wide["activity_in"] >= floor) & (wide["activity_ext"] >= floor)
                    & wide["unit_cost_real_in"].notna() & wide["unit_cost_real_ext"].notna()].copy()
        wide["series"] = key
        wide["log_ratio"] = np.log(wide["unit_cost_real_in"]) - np.log(wide["unit_cost_real_ext"])
        wide["weight"] = wide["activity_in"] + wide["activity_ext"]
        frames.append(wide)
    if not frames:
        raise InputError("No series to compare")
    return pd.concat(frames, ignore_index=True)


def _clustered(y: pd.Series, X: pd.DataFrame, groups: pd.Series, weights: pd.Series | None = None):
    model = sm.WLS(y, X, weights=weights) if weights is not None else sm.OLS(y, X)
    return model.fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(groups)[0], "df_correction": True})


def within_council(unit_costs: pd.DataFrame, series: list[str], years: tuple[int, int],
                   min_activity: dict[str, float], *, level: float = 0.95, weighted: bool = False,
                   collection: str = "PSS-EX1") -> WithinCouncil:
    """Ratio of in-house to external unit cost within the same council and year, clustered by council."""
    pairs = paired_units(unit_costs, series, years, min_activity, collection=collection)
    by_year, pooled = [], []
    for key, part in pairs.groupby("series", sort=False):
        part = part.reset_index(drop=True)
        g = part["dh_code"].nunique()
        w = part["weight"] if weighted else None
        if g < 3:
            continue
        crit = _crit(level, g - 1)
        dummies = pd.get_dummies(part["year"], prefix="y", dtype=float)
        fit = _clustered(part["log_ratio"], dummies, part["dh_code"], w)
        for col in dummies.columns:
            year = int(col[2:])
            n = int((part["year"] == year).sum())
            b, se = float(fit.params[col]), float(fit.bse[col])
            by_year.append({"series": key, "label": LABELS[key], "year": year, "financial_year": financial_year(year),
                            "ratio": np.exp(b), "ci_low": np.exp(b - crit * se), "ci_high": np.exp(b + crit * se),
                            "n_councils": n})
        const = _clustered(part["log_ratio"], pd.DataFrame({"const": np.ones(len(part))}), part["dh_code"], w)
        b, se = float(const.params["const"]), float(const.bse["const"])
        tb = tse = np.nan
        if part["year"].nunique() > 1:
            trend_x = pd.DataFrame({"const": 1.0, "years_since_start": part["year"] - part["year"].min()})
            trend = _clustered(part["log_ratio"], trend_x, part["dh_code"], w)
            tb, tse = float(trend.params["years_since_start"]), float(trend.bse["years_since_start"])
        pooled.append({"series": key, "label": LABELS[key], "ratio": np.exp(b), "ci_low": np.exp(b - crit * se),
                       "ci_high": np.exp(b + crit * se), "n_council_years": int(len(part)), "n_councils": int(g),
                       "first_year": int(part["year"].min()), "last_year": int(part["year"].max()),
                       "trend_pct_per_year": 100 * (np.exp(tb) - 1),
                       "trend_ci_low": 100 * (np.exp(tb - crit * tse) - 1),
                       "trend_ci_high": 100 * (np.exp(tb + crit * tse) - 1),
                       "share_pairs_in_house_dearer": float((part["log_ratio"] > 0).mean()),
                       "weighted": weighted})
    pooled = pd.DataFrame(pooled)
    if len(pooled):
        # Bonferroni across the services compared: the same log-scale standard error, a wider critical value.
        m = len(pooled)
        crit = np.array([_crit(level, g - 1) for g in pooled["n_councils"]])
        crit_adj = np.array([_crit(1 - (1 - level) / m, g - 1) for g in pooled["n_councils"]])
        se = (np.log(pooled["ci_high"]) - np.log(pooled["ci_low"])) / (2 * crit)
        pooled["ci_low_adjusted"] = np.exp(np.log(pooled["ratio"]) - crit_adj * se)
        pooled["ci_high_adjusted"] = np.exp(np.log(pooled["ratio"]) + crit_adj * se)
        pooled["comparisons"] = m
    return WithinCouncil(pd.DataFrame(by_year), pooled, pairs, level)


def council_bootstrap_ratio(pairs: pd.DataFrame, *, n_boot: int = 999, seed: int = 0,
                            level: float = 0.95) -> tuple[float, float, float]:
    """Geometric-mean within-council ratio with a council (cluster) bootstrap interval: a check on the
    clustered-OLS interval that assumes nothing about the error distribution."""
    rng = np.random.default_rng(seed)
    by_council = pairs.groupby("dh_code")["log_ratio"].agg(["sum", "count"])
    sums, counts = by_council["sum"].to_numpy(), by_council["count"].to_numpy()
    idx = rng.integers(0, len(sums), size=(n_boot, len(sums)))
    boot = sums[idx].sum(1) / counts[idx].sum(1)
    lo, hi = np.quantile(boot, [(1 - level) / 2, (1 + level) / 2])
    return float(np.exp(sums.sum() / counts.sum())), float(np.exp(lo)), float(np.exp(hi))


# --- Real terms ------------------------------------------------------------------------------------

def reporting_sums(councils: pd.DataFrame, provider: str) -> tuple[float, float, int]:
    """Cost, activity and number of councils, over the councils that reported both a positive cost and a positive
    activity for ``provider`` ('in' or 'ext' columns of :func:`wide_by_provider`)."""
    ok = (councils[f"cost_{provider}"] > 0) & (councils[f"activity_{provider}"] > 0)
    return float(councils.loc[ok, f"cost_{provider}"].sum()), float(councils.loc[ok, f"activity_{provider}"].sum()), \
        int(ok.sum())


def england_trend(unit_costs: pd.DataFrame, series: list[str], years: tuple[int, int]) -> pd.DataFrame:
    """England unit costs by provider and year in real terms (long), PSS-EX1 and ASC-FR: the same quantity as
    :func:`england_ratios`, total cost over total activity of the councils that reported both for that provider
    (the definition ASC-FR uses for its own England row). ``unit_cost_published`` keeps the publisher's England
    figure, which in PSS-EX1 divides all cost by all activity (see :func:`published_england_gap`)."""
    rows = []
    for collection in ("PSS-EX1", "ASC-FR"):
        for key in series:
            frame = series_frame(unit_costs, key, collection)
            if frame.empty:
                continue
            wide = wide_by_provider(frame)
            if collection == "PSS-EX1":
                wide = wide[wide["year"].between(*years)]
            for year, part in wide.groupby("year"):
                councils = part[part["geography"] == "council"]
                england = part[part["geography"] == "England"]
                for provider, col in (("in-house", "in"), ("external", "ext")):
                    cost, activity, n = reporting_sums(councils, col)
                    if activity <= 0:
                        continue
                    rows.append({"series": key, "label": LABELS[key], "year": int(year),
                                 "financial_year": financial_year(year), "collection": collection,
                                 "provider": provider, "unit_cost_real": cost / activity, "activity": activity,
                                 "n_councils": n,
                                 "unit_cost_published": (float(england[f"unit_cost_real_{col}"].iloc[0])
                                                         if len(england) else np.nan),
                                 "price_base": frame["price_base"].iloc[0]})
    return pd.DataFrame(rows)


def published_england_gap(unit_costs: pd.DataFrame, series: str, year: int, provider: str = "in-house",
                          collection: str = "PSS-EX1") -> dict:
    """Why the publisher's England unit cost differs from the councils-reporting-both figure, in its parts.

    The publisher's England row is (close to) the sum of every council's cost over the sum of every council's
    activity, so a council that reported a cost but no activity adds cost without activity, and one that reported
    activity but no cost adds activity without cost; whatever remains is the publisher's own estimates for missing
    data (and rounding). Returns the two unit costs, the councils on each side (name, amount) and the remainders.
    """
    frame = series_frame(unit_costs, series, collection)
    wide = wide_by_provider(frame)
    part = wide[wide["year"] == year]
    col = "in" if provider == "in-house" else "ext"
    councils = part[part["geography"] == "council"]
    england = part[part["geography"] == "England"]
    if england.empty or councils.empty:
        raise InputError(f"No England and council rows for {series} in {year}")
    cost, activity, n = reporting_sums(councils, col)
    c, a = councils[f"cost_{col}"].fillna(0.0), councils[f"activity_{col}"].fillna(0.0)
    cost_only = councils[(c > 0) & (a <= 0)]
    activity_only = councils[(a > 0) & (c <= 0)]
    e = england.iloc[0]
    return {"series": series, "year": year, "provider": provider, "reporting": cost / activity, "n_reporting": n,
            "published": float(e[f"unit_cost_real_{col}"]),
            "cost_without_activity": list(zip(cost_only["council"], cost_only[f"cost_{col}"])),
            "activity_without_cost": list(zip(activity_only["council"], activity_only[f"activity_{col}"])),
            "other_cost": float(e[f"cost_{col}"]) - cost - float(cost_only[f"cost_{col}"].sum()),
            "other_activity": float(e[f"activity_{col}"]) - activity - float(activity_only[f"activity_{col}"].sum()),
            "england_cost": float(e[f"cost_{col}"]), "england_activity": float(e[f"activity_{col}"]),
            "activity_unit": frame["activity_unit"].iloc[0]}


def real_change(trend: pd.DataFrame, years: tuple[int, int]) -> pd.DataFrame:
    """Real-terms change in the England unit cost between the first and last PSS-EX1 year, by provider."""
    t = trend[(trend["collection"] == "PSS-EX1") & trend["year"].isin(years)]
    w = t.pivot_table(index=["series", "label", "provider"], columns="year", values="unit_cost_real").reset_index()
    if years[0] not in w or years[1] not in w:
        return pd.DataFrame()
    w["change_pct"] = 100 * (w[years[1]] / w[years[0]] - 1)
    return w.rename(columns={years[0]: "first", years[1]: "last"})


def with_price_base(unit_costs: pd.DataFrame, deflators: pd.DataFrame, base: str) -> pd.DataFrame:
    """The table rebased to ``base`` prices (GDP deflator); cash columns are unchanged."""
    return rebase(unit_costs, deflators, base)


# --- The path of a within-council ratio over the years --------------------------------------------

def year_contrasts(pairs: pd.DataFrame, series: str, *, level: float = 0.95) -> pd.DataFrame:
    """Every later year's within-council ratio against every earlier year's, for one series.

    The same regression as :func:`within_council`'s by-year ratios (log in-house minus log external unit cost on
    year dummies, standard errors clustered by council), so each contrast uses the covariance of the two year
    coefficients: councils seen in both years count once. Returns year_a, year_b (later), ratio (b over a),
    ci_low, ci_high and ``clear`` (the interval excludes 1).
    """
    part = pairs[pairs["series"] == series].reset_index(drop=True)
    if part.empty or part["year"].nunique() < 2:
        return pd.DataFrame(columns=["year_a", "year_b", "ratio", "ci_low", "ci_high", "clear"])
    dummies = pd.get_dummies(part["year"], prefix="y", dtype=float)
    fit = _clustered(part["log_ratio"], dummies, part["dh_code"])
    crit = _crit(level, part["dh_code"].nunique() - 1)
    cov, b = fit.cov_params(), fit.params
    cols = list(dummies.columns)
    rows = []
    for i, a in enumerate(cols):
        for c in cols[i + 1:]:
            diff = float(b[c] - b[a])
            se = float(np.sqrt(cov.loc[a, a] + cov.loc[c, c] - 2 * cov.loc[a, c]))
            low, high = np.exp(diff - crit * se), np.exp(diff + crit * se)
            rows.append({"year_a": int(a[2:]), "year_b": int(c[2:]), "ratio": np.exp(diff), "ci_low": low,
                         "ci_high": high, "clear": bool(low > 1 or high < 1)})
    return pd.DataFrame(rows)


def plateau_start(contrasts: pd.DataFrame) -> int | None:
    """The first year of the longest final run of years (two or more) no two of which differ clearly from each
    other (:func:`year_contrasts`); None when even the last two years differ clearly or there are fewer than two."""
    if contrasts.empty:
        return None
    years = sorted(set(contrasts["year_a"]) | set(contrasts["year_b"]))
    clear = {(r.year_a, r.year_b) for r in contrasts.itertuples() if r.clear}
    start = None
    for k in range(len(years) - 2, -1, -1):
        run = years[k:]
        if any((a, b) in clear for i, a in enumerate(run) for b in run[i + 1:]):
            break
        start = years[k]
    return start
