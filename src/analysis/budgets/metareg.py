"""Meta-regression, confidence intervals for heterogeneity and the mixed-effects subgroup test.

Follows R metafor's ``rma.uni`` with moderators (``mods =``), ``anova(res, btt=)`` and
``confint(res)``:

* ``meta_regression``: the mixed-effects model y_i = x_i'b + u_i + e_i, u_i ~ N(0, tau^2),
  e_i ~ N(0, v_i), with tau^2 by REML (default), ML, DL (the method-of-moments
  generalisation of DerSimonian-Laird) or FE (tau^2 = 0). Coefficients are weighted
  least squares with weights 1/(v_i + tau^2). Tests are z (Wald QM, chi-square with m df)
  or Knapp-Hartung (``test="knha"``: covariance scaled by the weighted residual variance,
  t with k - p df and QM/m as F(m, k - p)), as metafor. Reported: the residual
  heterogeneity test QE (df k - p), I^2 and H^2 for the residual heterogeneity (typical
  within-study variance (k - p)/tr(P) as metafor), and R^2, the share of tau^2 that the
  moderators account for (relative to the intercept-only model, truncated at 0).
* ``heterogeneity_ci``: Q-profile confidence intervals for tau^2, tau, I^2 and H^2
  (Viechtbauer 2007): the tau^2 values at which the generalised Q statistic equals the
  chi-square quantiles with k - p df. Metafor's default for ``confint`` on these models.
* ``subgroup_test``: subgroup (categorical moderator) analysis with one tau^2 common to
  all subgroups (the mixed-effects model), as metafor's ``rma(yi, vi, mods = ~ group)``:
  the subgroup estimates come from the no-intercept parametrisation, and the test of
  differences is QM (or F under Knapp-Hartung) on the group contrasts. Unlike the
  fixed-effect Q-between test of ``meta.subgroups``, it allows for between-study
  heterogeneity when comparing subgroups.
* ``likelihood_ratio_test``: nested models fitted by ML (REML only with the same fixed
  effects), as ``anova(res0, res1)``.

Tested against metafor's published results on dat.bcg (absolute latitude and allocation
as moderators) and cross-checked against PyMARE.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis.errors import InputError

REG_METHODS = ("REML", "ML", "DL", "FE")


@dataclass
class MetaRegression:
    method: str
    test: str  # "z" or "knha"
    k: int
    coefficients: pd.DataFrame  # term, estimate, se, statistic, p_value, ci_low, ci_high
    cov: pd.DataFrame
    tau2: float
    i2: float
    h2: float
    r2: float | None
    qe: float
    qe_df: int
    qe_p_value: float
    qm: float  # omnibus test of the moderators (all terms but the intercept): chi-square, or F under knha
    qm_df: tuple[int, ...]
    qm_p_value: float
    log_likelihood: float
    level: float
    notes: list[str] = field(default_factory=list)
    _design: np.ndarray | None = field(default=None, repr=False)
    _yi: np.ndarray | None = field(default=None, repr=False)
    _vi: np.ndarray | None = field(default=None, repr=False)

    def wald_test(self, terms: list[str]) -> dict:
        """Joint test that the named coefficients are zero (metafor ``anova(res, btt=)``)."""
        unknown = [t for t in terms if t not in self.coefficients["term"].tolist()]
        if unknown:
            raise InputError(f"Unknown terms {unknown}; the model has {self.coefficients['term'].tolist()}")
        idx = [self.coefficients["term"].tolist().index(t) for t in terms]
        b = self.coefficients["estimate"].to_numpy()[idx]
        V = self.cov.to_numpy()[np.ix_(idx, idx)]
        q = float(b @ np.linalg.solve(V, b))
        m = len(idx)
        if self.test == "knha":
            df2 = self.k - len(self.coefficients)
            return {"statistic": q / m, "df": (m, df2), "p_value": float(stats.f.sf(q / m, m, df2)), "test": "F"}
        return {"statistic": q, "df": (m,), "p_value": float(stats.chi2.sf(q, m)), "test": "chi2"}


def _check(yi, vi, X) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    yi = np.asarray(yi, float)
    vi = np.asarray(vi, float)
    X = np.asarray(X, float)
    if yi.ndim != 1 or yi.shape != vi.shape or X.shape[0] != len(yi):
        raise InputError("yi, vi and the moderators must have one row per study")
    if not (np.isfinite(yi).all() and np.isfinite(vi).all() and np.isfinite(X).all()):
        raise InputError("effect sizes, variances and moderators must be finite (no missing values)")
    if np.any(vi <= 0):
        raise InputError("sampling variances must be greater than 0")
    k, p = X.shape
    if np.linalg.matrix_rank(X) < p:
        raise InputError("the moderators are collinear (or a moderator is constant): the model is not identified")
    if k - p < 1:
        raise InputError(f"{k} studies cannot support {p} coefficients: at least one residual degree of freedom "
                         "is needed")
    return yi, vi, X


def _wls(yi, vi, X, tau2):
    w = 1 / (vi + tau2)
    XtW = X.T * w
    info = XtW @ X
    beta = np.linalg.solve(info, XtW @ yi)
    return beta, w, info


def _restricted_negll(tau2, yi, vi, X, reml: bool) -> float:
    beta, w, info = _wls(yi, vi, X, tau2)
    r = yi - X @ beta
    value = np.sum(np.log(vi + tau2)) + np.sum(w * r ** 2)
    if reml:
        value += np.linalg.slogdet(info)[1]
    return 0.5 * value


def _likelihood_score(tau2, yi, vi, X, reml: bool) -> float:
    """Derivative of the (restricted) negative log-likelihood in tau^2 (Viechtbauer 2005)."""
    if reml:
        P = _p_matrix(vi, X, tau2)
        Py = P @ yi
        return 0.5 * (np.trace(P) - Py @ Py)
    beta, w, _ = _wls(yi, vi, X, tau2)
    r = yi - X @ beta
    return 0.5 * (np.sum(w) - np.sum((w * r) ** 2))


def _tau2_likelihood(yi, vi, X, reml: bool) -> float:
    """ML/REML tau^2: the root of the score equation (exact to ~1e-14), or 0 when the likelihood
    decreases from 0 (the negative log-likelihood in tau^2 has a single minimum on [0, inf))."""
    if _likelihood_score(0.0, yi, vi, X, reml) >= 0:
        return 0.0
    upper = max(float(np.var(yi, ddof=1)), float(np.max(vi)), 1e-8)
    while _likelihood_score(upper, yi, vi, X, reml) < 0:
        upper *= 4
        if upper > 1e12:
            raise InputError("tau^2 did not converge: the effect sizes may be on wildly different scales")
    return float(optimize.brentq(_likelihood_score, 0.0, upper, args=(yi, vi, X, reml), xtol=1e-15, rtol=1e-14,
                                 maxiter=1000))


def _p_matrix(vi, X, tau2):
    w = 1 / (vi + tau2)
    W = np.diag(w)
    WX = X * w[:, None]
    return W - WX @ np.linalg.solve(X.T @ WX, WX.T)


def _tau2_dl(yi, vi, X) -> float:
    """Method-of-moments (generalised DerSimonian-Laird) tau^2 with moderators, as metafor's 'DL'."""
    k, p = X.shape
    P = _p_matrix(vi, X, 0.0)
    qe = float(yi @ P @ yi)
    return max(0.0, (qe - (k - p)) / np.trace(P))


def _tau2(yi, vi, X, method) -> float:
    if method == "FE":
        return 0.0
    if method == "DL":
        return _tau2_dl(yi, vi, X)
    return _tau2_likelihood(yi, vi, X, reml=(method == "REML"))


def meta_regression(yi, vi, moderators=None, *, method: str = "REML", test: str = "z", level: float = 0.95,
                    intercept: bool = True) -> MetaRegression:
    """Mixed-effects meta-regression of ``yi`` (sampling variances ``vi``) on ``moderators``.

    ``moderators``: a DataFrame (column names become term names; text or category columns are
    expanded to treatment dummies against their first level, as R's default contrasts) or an
    array. ``intercept=False`` fits the no-intercept model (with one categorical moderator,
    the subgroup means).
    """
    if method not in REG_METHODS:
        raise InputError(f"method must be one of {REG_METHODS}, not {method!r}")
    if test not in ("z", "knha"):
        raise InputError("test must be 'z' or 'knha' (Knapp-Hartung)")
    if not 0.5 < level < 1:
        raise InputError("level must be between 0.5 and 1")
    design = design_matrix(moderators, len(np.atleast_1d(yi)), intercept)
    names = list(design.columns)
    yi, vi, X = _check(yi, vi, design.to_numpy(float))
    k, p = X.shape
    tau2 = _tau2(yi, vi, X, method)
    beta, w, info = _wls(yi, vi, X, tau2)
    cov = np.linalg.inv(info)
    resid = yi - X @ beta
    notes = []
    if test == "knha":
        s2 = float(np.sum(w * resid ** 2) / (k - p))
        cov = cov * s2
        crit = stats.t.ppf((1 + level) / 2, k - p)
    else:
        crit = stats.norm.ppf((1 + level) / 2)
    se = np.sqrt(np.diag(cov))
    statistic = beta / se
    if test == "knha":
        pvals = 2 * stats.t.sf(np.abs(statistic), k - p)
    else:
        pvals = 2 * stats.norm.sf(np.abs(statistic))
    coefs = pd.DataFrame({"term": names, "estimate": beta, "se": se, "statistic": statistic, "p_value": pvals,
                          "ci_low": beta - crit * se, "ci_high": beta + crit * se})
    # Residual heterogeneity (fixed-effect weights) and its share of the total variability.
    P0 = _p_matrix(vi, X, 0.0)
    qe = float(yi @ P0 @ yi)
    typical = (k - p) / np.trace(P0)
    i2 = 100 * tau2 / (tau2 + typical)
    h2 = (tau2 + typical) / typical
    r2 = None
    has_intercept = intercept
    if has_intercept and p > 1 and method != "FE":
        tau2_0 = _tau2(yi, vi, np.ones((k, 1)), method)
        r2 = 0.0 if tau2_0 <= 0 else max(0.0, 100 * (tau2_0 - tau2) / tau2_0)
    result = MetaRegression(method, test, k, coefs, pd.DataFrame(cov, index=names, columns=names), float(tau2),
                            float(i2), float(h2), r2, qe, k - p, float(stats.chi2.sf(qe, k - p)), np.nan, (0,),
                            np.nan, _log_likelihood(yi, vi, X, tau2, method), level, notes, X, yi, vi)
    tested = names[1:] if has_intercept else names
    if tested:
        omnibus = result.wald_test(tested)
        result.qm, result.qm_df, result.qm_p_value = omnibus["statistic"], omnibus["df"], omnibus["p_value"]
    return result


def _log_likelihood(yi, vi, X, tau2, method) -> float:
    k, p = X.shape
    reml = method == "REML"
    value = -_restricted_negll(tau2, yi, vi, X, reml) - 0.5 * (k - (p if reml else 0)) * np.log(2 * np.pi)
    if reml:
        value += 0.5 * np.linalg.slogdet(X.T @ X)[1]  # metafor's REML log-likelihood includes this constant
    return float(value)


def design_matrix(moderators, k: int, intercept: bool = True) -> pd.DataFrame:
    """Moderators as a numeric design matrix; categorical columns become treatment dummies."""
    if moderators is None:
        if not intercept:
            raise InputError("a model without intercept needs moderators")
        return pd.DataFrame({"intercept": np.ones(k)})
    if not isinstance(moderators, pd.DataFrame):
        arr = np.asarray(moderators, float)
        arr = arr.reshape(len(arr), -1)
        moderators = pd.DataFrame(arr, columns=[f"x{i + 1}" for i in range(arr.shape[1])])
    if len(moderators) != k:
        raise InputError(f"moderators have {len(moderators)} rows for {k} studies")
    parts = []
    if intercept:
        parts.append(pd.DataFrame({"intercept": np.ones(k)}, index=moderators.index))
    first_categorical = True
    for name in moderators.columns:
        col = moderators[name]
        if col.dtype == object or isinstance(col.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(col):
            if col.isna().any():
                raise InputError(f"moderator {name!r} has missing values")
            levels = list(col.cat.categories) if isinstance(col.dtype, pd.CategoricalDtype) else sorted(col.unique())
            drop_first = intercept or not first_categorical
            first_categorical = False
            for level in levels[1:] if drop_first else levels:
                parts.append(pd.DataFrame({f"{name}{level}": (col == level).astype(float)}, index=moderators.index))
        else:
            parts.append(pd.DataFrame({name: pd.to_numeric(col, errors="coerce").astype(float)},
                                      index=moderators.index))
    return pd.concat(parts, axis=1)


@dataclass(frozen=True)
class HeterogeneityCI:
    level: float
    tau2: tuple[float, float, float]  # estimate, low, high
    tau: tuple[float, float, float]
    i2: tuple[float, float, float]
    h2: tuple[float, float, float]
    method: str = "Q-profile"
    note: str = ""

    def as_frame(self) -> pd.DataFrame:
        return pd.DataFrame([("tau^2", *self.tau2), ("tau", *self.tau), ("I^2 (%)", *self.i2), ("H^2", *self.h2)],
                            columns=["statistic", "estimate", "ci_low", "ci_high"])


def heterogeneity_ci(yi, vi, moderators=None, *, method: str = "REML", level: float = 0.95) -> HeterogeneityCI:
    """Q-profile confidence intervals for tau^2, tau, I^2 and H^2 (metafor ``confint(res)``).

    The interval does not depend on how tau^2 itself was estimated; ``method`` only sets the
    point estimate shown with it.
    """
    if not 0.5 < level < 1:
        raise InputError("level must be between 0.5 and 1")
    design = design_matrix(moderators, len(np.atleast_1d(yi)))
    yi, vi, X = _check(yi, vi, design.to_numpy(float))
    k, p = X.shape
    if method not in REG_METHODS:
        raise InputError(f"method must be one of {REG_METHODS}, not {method!r}")
    estimate = _tau2(yi, vi, X, method)

    def gen_q(tau2):
        return float(yi @ _p_matrix(vi, X, tau2) @ yi)

    df = k - p
    q_upper = stats.chi2.ppf((1 + level) / 2, df)  # Q(tau2_low) = upper quantile
    q_lower = stats.chi2.ppf((1 - level) / 2, df)
    q0 = gen_q(0.0)

    def solve(target):
        if q0 <= target:
            return 0.0
        hi = max(10 * float(np.var(yi, ddof=1)), 10 * float(np.max(vi)), 1e-6)
        while gen_q(hi) > target:
            hi *= 10
            if hi > 1e12:
                return np.inf
        return float(optimize.brentq(lambda t: gen_q(t) - target, 0.0, hi, xtol=1e-14, rtol=1e-14, maxiter=500))

    low, high = solve(q_upper), solve(q_lower)
    note = ""
    if high == 0.0:
        note = "Both bounds are 0: the data are compatible with no heterogeneity (the interval is empty above 0)."
    typical = (k - p) / np.trace(_p_matrix(vi, X, 0.0))

    def i2(t):
        return 100 * t / (t + typical)

    def h2(t):
        return (t + typical) / typical

    return HeterogeneityCI(level, (estimate, low, high), tuple(float(np.sqrt(x)) for x in (estimate, low, high)),
                           (i2(estimate), i2(low), i2(high)), (h2(estimate), h2(low), h2(high)), note=note)


def subgroup_test(df: pd.DataFrame, group: str, *, method: str = "REML", test: str = "z",
                  level: float = 0.95) -> tuple[pd.DataFrame, dict]:
    """Subgroup estimates and the test of subgroup differences under one common tau^2.

    ``df`` has columns ``yi``, ``vi`` and ``group``. Returns the subgroup table (estimate, SE,
    CI per subgroup, with the common tau^2) and the test: QM with (groups - 1) df (or F under
    Knapp-Hartung), as metafor's ``rma(yi, vi, mods = ~ group)``.
    """
    for column in ("yi", "vi", group):
        if column not in df:
            raise InputError(f"subgroup_test needs a {column!r} column")
    labels = df[group].astype(str)
    if labels.nunique() < 2:
        raise InputError("a subgroup test needs at least two subgroups")
    mods = pd.DataFrame({group: pd.Categorical(labels, categories=sorted(labels.unique()))}, index=df.index)
    cell = meta_regression(df["yi"], df["vi"], mods, method=method, test=test, level=level, intercept=False)
    with_intercept = meta_regression(df["yi"], df["vi"], mods, method=method, test=test, level=level)
    table = cell.coefficients.rename(columns={"term": group})
    table[group] = [t[len(group):] for t in table[group]]
    table["k"] = [int((labels == g).sum()) for g in table[group]]
    table["tau2_common"] = cell.tau2
    test_result = {"statistic": with_intercept.qm, "df": with_intercept.qm_df, "p_value": with_intercept.qm_p_value,
                   "test": "F" if test == "knha" else "chi2", "tau2_common": with_intercept.tau2,
                   "qe": with_intercept.qe, "qe_df": with_intercept.qe_df, "qe_p_value": with_intercept.qe_p_value}
    return table, test_result


def likelihood_ratio_test(reduced: MetaRegression, full: MetaRegression) -> dict:
    """Likelihood-ratio test of nested models (metafor ``anova(res0, res1)``).

    Both must be ML fits, or REML fits with the same fixed effects (REML likelihoods of
    models with different fixed effects are not comparable: refused).
    """
    if reduced.method != full.method or full.method not in ("ML", "REML"):
        raise InputError("a likelihood-ratio test needs two ML (or two REML) fits")
    p_full, p_reduced = len(full.coefficients), len(reduced.coefficients)
    if full.method == "REML" and p_full != p_reduced:
        raise InputError("REML likelihoods of models with different moderators are not comparable; refit both "
                         "with method='ML'")
    lrt = max(0.0, 2 * (full.log_likelihood - reduced.log_likelihood))
    df = p_full - p_reduced
    return {"statistic": lrt, "df": df, "p_value": float(stats.chi2.sf(lrt, df)) if df > 0 else np.nan}
