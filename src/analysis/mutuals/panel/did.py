"""Difference-in-differences for a single adoption date, and two-way fixed effects.

Both use statsmodels OLS. Standard errors are clustered by unit (CR1, the
small-sample factor G/(G-1) x (N-1)/(N-K), with unit effects absorbed so they
are not counted in K, as Stata's ``xtreg, fe vce(cluster)`` does). The 2x2
estimator also reports the conventional OLS standard error so it can be
compared with textbook output. With few treated units, clustered standard
errors are unreliable: the result says so, and synthetic control with placebo
inference is the better tool for a single spin-out.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from analysis.errors import PanelError
from analysis.inference import wild_cluster_bootstrap
from analysis.mutuals.panel.schema import Panel


@dataclass(frozen=True)
class Estimate:
    method: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n_obs: int
    n_units: int
    n_treated_units: int
    se_type: str
    note: str = ""
    conventional_se: float | None = None
    wild_bootstrap_p: float | None = None  # restricted wild cluster bootstrap, when treated units are few
    wild_bootstrap_draws: int | None = None

    def __post_init__(self):
        for name in ("ci_low", "ci_high", "p_value"):
            object.__setattr__(self, name, float(getattr(self, name)))

    def as_dict(self) -> dict:
        return asdict(self)


def _ci(est: float, se: float, df: float | None, level: float) -> tuple[float, float, float]:
    if df is None or not np.isfinite(df):
        crit = stats.norm.ppf((1 + level) / 2)
        p = 2 * stats.norm.sf(abs(est / se)) if se > 0 else np.nan
    else:
        crit = stats.t.ppf((1 + level) / 2, df)
        p = 2 * stats.t.sf(abs(est / se), df) if se > 0 else np.nan
    return est - crit * se, est + crit * se, p


FEW_TREATED = 10  # below this many treated clusters, a wild cluster bootstrap p-value is added


def _few_treated_note(n_treated: int) -> str:
    if n_treated <= 3:
        return (f"Only {n_treated} treated unit(s): clustered standard errors are unreliable, and even the wild "
                "cluster bootstrap p-value (shown) tends to be conservative with so few; for a single spin-out "
                "prefer synthetic control with placebo inference.")
    if n_treated < FEW_TREATED:
        return (f"Only {n_treated} treated units: clustered standard errors are unreliable with so few treated "
                "clusters; quote the wild cluster bootstrap p-value (shown).")
    return ""


def _wild(y, X: pd.DataFrame, units, column: str, n_treated: int, seed: int = 0):
    if n_treated >= FEW_TREATED:
        return None, None
    res = wild_cluster_bootstrap(y, X, units, column, seed=seed)
    return res.p_value, res.n_draws


def did_2x2(panel: Panel, *, level: float = 0.95, adoption: int | None = None) -> Estimate:
    """Classic DiD: treated vs never-treated, before vs after a single adoption period.

    Equals the coefficient on treated x post in ``y ~ treated_group * post`` on all
    unit-periods. Units adopting at other dates are excluded.
    """
    data = panel.data
    cohorts = panel.cohorts
    if adoption is None:
        if len(cohorts) != 1:
            raise PanelError(f"2x2 DiD needs one adoption date; this panel has {len(cohorts)} "
                             f"({cohorts}). Use callaway_santanna for staggered adoption, or pass adoption=.")
        adoption = cohorts[0]
    if adoption not in cohorts:
        raise PanelError(f"No unit adopts in period {adoption}; adoption periods are {cohorts}")
    sample = data[data["cohort"].isin([0, adoption])].copy()
    if not panel.group_known:
        last_seen = sample.groupby("unit")["time"].max()
        cohort = sample.groupby("unit")["cohort"].first()
        unclassified = last_seen[(cohort == 0) & (last_seen < adoption)].index.tolist()
        if unclassified:
            raise PanelError(
                f"{len(unclassified)} unit(s) (e.g. {unclassified[:5]}) are never observed at or after adoption "
                f"({adoption}), so the treatment column cannot say whether they are treated or controls. Give the "
                "treatment group explicitly (PanelColumns(group=...) or cohort=...), or drop them.")
    if not (sample["cohort"] == 0).any():
        raise PanelError("2x2 DiD needs never-treated units as controls; this panel has none")
    if not (sample["time"] < adoption).any():
        raise PanelError("No period before adoption: the 2x2 comparison needs a pre-period")
    sample["group"] = (sample["cohort"] == adoption).astype(float)
    sample["post"] = (sample["time"] >= adoption).astype(float)
    sample["group_post"] = sample["group"] * sample["post"]
    X = sm.add_constant(sample[["group", "post", "group_post"]])
    model = sm.OLS(sample["outcome"], X)
    conventional = model.fit()
    clustered = model.fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(sample["unit"])[0]})
    est = float(clustered.params["group_post"])
    se = float(clustered.bse["group_post"])
    n_units = sample["unit"].nunique()
    lo, hi, p = _ci(est, se, n_units - 1, level)
    n_treated = int(sample.loc[sample["group"] == 1, "unit"].nunique())
    wild_p, draws = _wild(sample["outcome"], X, sample["unit"], "group_post", n_treated)
    return Estimate("2x2 difference-in-differences", est, se, lo, hi, p, len(sample), n_units, n_treated,
                    "clustered by unit (CR1), t with G-1 df", _few_treated_note(n_treated),
                    conventional_se=float(conventional.bse["group_post"]), wild_bootstrap_p=wild_p,
                    wild_bootstrap_draws=draws)


def within_fit(panel: Panel, regressors: list[str], *, time_effects: bool = True):
    """OLS of the unit-demeaned outcome on unit-demeaned regressors (+ time dummies), clustered by unit.

    Small-sample convention (CR1): V = G/(G-1) x (N-1)/(N-K) x sandwich, where K counts the
    regressors, the time effects and one intercept but not the unit effects, which are nested in
    the clusters. This is Stata's ``xtreg, fe vce(cluster id)`` and ``reghdfe``, and R fixest's
    default (``ssc(adj = TRUE, fixef.K = "nested", cluster.adj = TRUE)``); tested against fixest's
    published output on ``mpdta``. statsmodels on the demeaned design would use K one smaller.
    """
    data = panel.data.copy()
    X = data[regressors].astype(float)
    if time_effects:
        dummies = pd.get_dummies(data["time"], prefix="t", drop_first=True, dtype=float)
        X = pd.concat([X, dummies], axis=1)
    y = data["outcome"].astype(float)
    groups = data["unit"]
    Xd = X - X.groupby(groups).transform("mean")
    yd = y - y.groupby(groups).transform("mean")
    keep = Xd.columns[(Xd.abs() > 1e-12).any()]
    Xd = Xd[keep]
    codes = pd.factorize(groups)[0]
    fit = cluster_ols(yd, Xd, codes, extra_parameters=1)
    fit.demeaned = (yd, Xd, codes)
    return fit, fit.n_clusters


@dataclass
class ClusteredOLS:
    """OLS coefficients with a CR1 cluster-robust covariance (see ``cluster_ols``)."""

    params: pd.Series
    cov: pd.DataFrame
    resid: pd.Series
    exog: np.ndarray
    n_clusters: int
    small_sample_factor: float
    demeaned: tuple | None = None  # (y, X, cluster codes) after sweeping out the unit effects

    @property
    def bse(self) -> pd.Series:
        return pd.Series(np.sqrt(np.diag(self.cov.to_numpy())), index=self.params.index)

    @property
    def tvalues(self) -> pd.Series:
        return self.params / self.bse

    def cov_params(self) -> pd.DataFrame:
        return self.cov


def cluster_ols(y: pd.Series, X: pd.DataFrame, groups, *, extra_parameters: int = 0) -> ClusteredOLS:
    """OLS with V = G/(G-1) (N-1)/(N-K) (X'X)^-1 [sum_g X_g'u_g u_g'X_g] (X'X)^-1.

    K = columns of X + ``extra_parameters`` (parameters absorbed before the fit and not nested in
    the clusters, e.g. 1 for the intercept swept out by demeaning).
    """
    Xa = X.to_numpy(float)
    ya = np.asarray(y, float)
    codes = pd.factorize(pd.Series(groups))[0] if not isinstance(groups, np.ndarray) else pd.factorize(groups)[0]
    beta, *_ = np.linalg.lstsq(Xa, ya, rcond=None)
    u = ya - Xa @ beta
    bread = np.linalg.pinv(Xa.T @ Xa)
    scores = pd.DataFrame(Xa * u[:, None]).groupby(codes).sum().to_numpy()
    meat = scores.T @ scores
    n, k = Xa.shape
    k += extra_parameters
    G = int(codes.max()) + 1
    factor = G / (G - 1) * (n - 1) / (n - k)
    cov = factor * bread @ meat @ bread
    names = list(X.columns)
    return ClusteredOLS(pd.Series(beta, index=names), pd.DataFrame(cov, index=names, columns=names),
                        pd.Series(u, index=X.index), Xa, G, float(factor))


def twfe(panel: Panel, *, level: float = 0.95) -> Estimate:
    """Two-way fixed effects: outcome on the treatment dummy with unit and period effects.

    With staggered adoption and effects that change over time, TWFE can be badly
    biased (it uses already-treated units as controls); compare with Callaway-Sant'Anna.
    """
    fit, n_clusters = within_fit(panel, ["treated"])
    est = float(fit.params["treated"])
    se = float(fit.bse["treated"])
    lo, hi, p = _ci(est, se, n_clusters - 1, level)
    n_treated = int(panel.data.loc[panel.data["cohort"] > 0, "unit"].nunique())
    yd, Xd, codes = fit.demeaned
    wild_p, draws = _wild(yd, Xd, codes, "treated", n_treated)
    note = _few_treated_note(n_treated)
    if len(panel.cohorts) > 1:
        note = (note + " " if note else "") + ("Staggered adoption: TWFE weights some comparisons negatively "
                                                "when effects vary over time; see the Callaway-Sant'Anna estimates.")
    return Estimate("Two-way fixed effects", est, se, lo, hi, p, len(panel.data), panel.data["unit"].nunique(),
                    n_treated, "clustered by unit (CR1, unit effects absorbed; K counts the intercept as "
                    "Stata/fixest), t with G-1 df", note, wild_bootstrap_p=wild_p, wild_bootstrap_draws=draws)


@dataclass(frozen=True)
class RegressionDiD:
    """First-difference regression DiD with controls (Card and Krueger 1994, Table 4)."""

    estimate: Estimate
    coefficients: pd.DataFrame  # term, estimate, se (robust), conventional_se
    covariates: tuple[str, ...]
    pre_periods: tuple[int, ...]
    post_periods: tuple[int, ...]


def did_regression(panel: Panel, covariates: list[str] | tuple[str, ...] = (), *, adoption: int | None = None,
                   pre_periods=None, post_periods=None, robust: str = "HC1", level: float = 0.95) -> RegressionDiD:
    """Regress each unit's change in outcome on its treatment group and baseline covariates.

    Change = mean outcome over ``post_periods`` (default: from ``adoption`` on) minus mean over
    ``pre_periods`` (default: every period before). Covariates are taken as their mean over the
    pre-periods (baseline values, so they cannot be affected by the treatment). Units missing
    either window are dropped and counted. Without covariates the estimate equals the 2x2
    DiD on the balanced units. Conditioning on covariates lets the counterfactual trend differ
    with them (parallel trends need hold only given X); the coefficient is then an
    OLS-weighted average of covariate-specific effects, not the ATT, when effects vary with X
    (see Sant'Anna and Zhao 2020 for doubly robust alternatives).

    Standard errors: ``robust`` = "HC1" (default, one observation per unit so this is also
    clustered by unit), "HC0"... or "nonrobust"; the conventional OLS SE is reported too.
    With few treated units a wild bootstrap p-value is added.
    """
    data = panel.data
    cohorts = panel.cohorts
    if adoption is None:
        if len(cohorts) != 1:
            raise PanelError(f"Regression DiD needs one adoption date; this panel has {len(cohorts)} ({cohorts}). "
                             "Pass adoption=.")
        adoption = cohorts[0]
    if adoption not in cohorts:
        raise PanelError(f"No unit adopts in period {adoption}; adoption periods are {cohorts}")
    pre = tuple(int(t) for t in (pre_periods if pre_periods is not None
                                 else [t for t in panel.periods if t < adoption]))
    post = tuple(int(t) for t in (post_periods if post_periods is not None
                                  else [t for t in panel.periods if t >= adoption]))
    if not pre or not post or max(pre) >= adoption or min(post) < adoption:
        raise PanelError("pre_periods must all be before adoption and post_periods from adoption on")
    missing = [c for c in covariates if c not in data.columns]
    if missing:
        raise PanelError(f"Covariates {missing} are not in the panel; covariates present: {panel.covariates}")
    if not panel.group_known:
        last_seen = data.groupby("unit")["time"].max()
        unclassified = last_seen[(panel.unit_cohorts() == 0) & (last_seen < adoption)].index.tolist()
        if unclassified:
            raise PanelError(f"{len(unclassified)} unit(s) (e.g. {unclassified[:5]}) are never observed from adoption "
                             "on; give the treatment group explicitly (PanelColumns(group=...))")
    sample = data[data["cohort"].isin([0, adoption])]
    before = sample[sample["time"].isin(pre)].groupby("unit")
    after = sample[sample["time"].isin(post)].groupby("unit")["outcome"].mean()
    frame = pd.DataFrame({"change": after - before["outcome"].mean()})
    for c in covariates:
        values = pd.to_numeric(sample.loc[sample["time"].isin(pre), c], errors="coerce")
        frame[c] = values.groupby(sample.loc[sample["time"].isin(pre), "unit"]).mean()
    frame["treated_group"] = (sample.groupby("unit")["cohort"].first() == adoption).astype(float)
    n_all = sample["unit"].nunique()
    frame = frame.dropna()
    dropped = n_all - len(frame)
    n_treated = int(frame["treated_group"].sum())
    if n_treated == 0 or n_treated == len(frame):
        raise PanelError("Regression DiD needs treated and control units observed before and after adoption")
    X = sm.add_constant(frame[["treated_group", *covariates]].astype(float), has_constant="add")
    if np.linalg.matrix_rank(X.to_numpy()) < X.shape[1]:
        raise PanelError("The covariates are collinear with the treatment group or each other")
    model = sm.OLS(frame["change"], X)
    conventional = model.fit()
    fit = conventional if robust == "nonrobust" else model.fit(cov_type=robust)
    est, se = float(fit.params["treated_group"]), float(fit.bse["treated_group"])
    df_resid = len(frame) - X.shape[1]
    lo, hi, p = _ci(est, se, df_resid, level)
    note = _few_treated_note(n_treated)
    if dropped:
        note = (f"{dropped} unit(s) without outcomes in both windows (or with missing covariates) dropped. "
                + note).strip()
    wild_p, draws = _wild(frame["change"], X, frame.index.to_numpy(), "treated_group", n_treated)
    estimate = Estimate("Regression DiD (first differences" + (" with controls)" if covariates else ")"), est, se, lo,
                        hi, p, len(frame), len(frame), n_treated, f"{robust}, t with {df_resid} df", note,
                        conventional_se=float(conventional.bse["treated_group"]), wild_bootstrap_p=wild_p,
                        wild_bootstrap_draws=draws)
    coefs = pd.DataFrame({"term": fit.params.index, "estimate": fit.params.to_numpy(), "se": fit.bse.to_numpy(),
                          "conventional_se": conventional.bse.to_numpy()})
    return RegressionDiD(estimate, coefs, tuple(covariates), pre, post)
