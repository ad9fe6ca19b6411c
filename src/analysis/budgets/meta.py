"""Fixed- and random-effects meta-analysis, following R metafor's ``rma.uni``.

Methods: ``FE`` (inverse-variance fixed effect), ``DL`` (DerSimonian-Laird),
``REML`` (restricted maximum likelihood, solved to 1e-10), ``PM`` (Paule-Mandel)
and ``HK`` (REML with the Hartung-Knapp(-Sidik-Jonkman) adjustment: standard error
sqrt(sum w (y - mu)^2 / ((k - 1) sum w)) and t with k - 1 degrees of freedom).
Reported: estimate, SE, CI, test statistic and p-value, tau^2, I^2, H^2,
Cochran's Q with its p-value, the prediction interval (normal quantile,
or t with k - 1 df under HK, as metafor's ``predict``), and Q-profile confidence
intervals for tau^2 and I^2 (metafor's ``confint``; see ``metareg.heterogeneity_ci``). Tests reproduce
metafor's published results on dat.bcg, dat.normand1999 and the Kacker data.

A meta-analysis of a single study is refused: one study is reported as one study.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis.budgets.metareg import heterogeneity_ci, subgroup_test
from analysis.errors import InputError

METHODS = ("FE", "DL", "REML", "PM", "HK")
TAU2_ESTIMATORS = ("FE", "DL", "REML", "PM")


@dataclass(frozen=True)
class MetaResult:
    method: str
    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    p_value: float
    tau2: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_p_value: float
    pi_low: float
    pi_high: float
    level: float
    test: str  # "z" or "t"
    tau2_ci_low: float = np.nan  # Q-profile interval (Viechtbauer 2007)
    tau2_ci_high: float = np.nan
    i2_ci_low: float = np.nan
    i2_ci_high: float = np.nan

    def as_dict(self) -> dict:
        return asdict(self)


def _fixed(yi, vi, tau2):
    w = 1 / (vi + tau2)
    mu = np.sum(w * yi) / np.sum(w)
    return mu, w


def _tau2_dl(yi, vi):
    w = 1 / vi
    mu = np.sum(w * yi) / np.sum(w)
    q = np.sum(w * (yi - mu) ** 2)
    c = np.sum(w) - np.sum(w ** 2) / np.sum(w)
    return max(0.0, (q - (len(yi) - 1)) / c)


def _tau2_reml(yi, vi):
    def negll(tau2):
        mu, w = _fixed(yi, vi, tau2)
        return 0.5 * (np.sum(np.log(vi + tau2)) + np.log(np.sum(w)) + np.sum(w * (yi - mu) ** 2))

    upper = max(10 * np.var(yi, ddof=1), 10 * np.max(vi), 1e-8)
    res = optimize.minimize_scalar(negll, bounds=(0.0, upper), method="bounded",
                                   options={"xatol": 1e-12 * max(1.0, upper), "maxiter": 5000})
    best = float(res.x)
    if negll(0.0) <= negll(best):
        best = 0.0
    return best


def _tau2_pm(yi, vi):
    k = len(yi)

    def gen_q(tau2):
        mu, w = _fixed(yi, vi, tau2)
        return np.sum(w * (yi - mu) ** 2) - (k - 1)

    if gen_q(0.0) <= 0:
        return 0.0
    upper = max(10 * np.var(yi, ddof=1), 1e-8)
    while gen_q(upper) > 0:
        upper *= 10
    return float(optimize.brentq(gen_q, 0.0, upper, xtol=1e-14))


def meta_analysis(yi, vi, method: str = "REML", level: float = 0.95, hartung_knapp: bool = False) -> MetaResult:
    """Pool effect sizes ``yi`` with sampling variances ``vi``.

    ``method="HK"`` is shorthand for REML with ``hartung_knapp=True``; the
    adjustment can be combined with any tau^2 estimator (e.g. DL + HK).
    """
    if method not in METHODS:
        raise InputError(f"method must be one of {METHODS}, not {method!r}")
    if method == "HK":
        method, hartung_knapp = "REML", True
    yi = np.asarray(yi, float)
    vi = np.asarray(vi, float)
    if yi.shape != vi.shape or yi.ndim != 1:
        raise InputError("yi and vi must be one-dimensional and the same length")
    if np.any(~np.isfinite(yi)) or np.any(~np.isfinite(vi)):
        raise InputError("effect sizes and variances must be finite")
    if np.any(vi <= 0):
        raise InputError("sampling variances must be greater than 0")
    k = len(yi)
    if k < 2:
        raise InputError("a meta-analysis needs at least two studies; report a single study as one study")
    if not 0.5 < level < 1:
        raise InputError("level must be between 0.5 and 1")
    w0 = 1 / vi
    mu0 = np.sum(w0 * yi) / np.sum(w0)
    q = float(np.sum(w0 * (yi - mu0) ** 2))
    q_p = float(stats.chi2.sf(q, k - 1))
    if method == "FE":
        tau2 = 0.0
    elif method == "DL":
        tau2 = _tau2_dl(yi, vi)
    elif method == "PM":
        tau2 = _tau2_pm(yi, vi)
    else:
        tau2 = _tau2_reml(yi, vi)
    mu, w = _fixed(yi, vi, tau2)
    se = float(np.sqrt(1 / np.sum(w)))
    test = "z"
    crit = stats.norm.ppf((1 + level) / 2)
    if hartung_knapp:
        se = float(np.sqrt(np.sum(w * (yi - mu) ** 2) / ((k - 1) * np.sum(w))))
        crit = stats.t.ppf((1 + level) / 2, k - 1)
        test = "t"
    statistic = mu / se
    p = float(2 * (stats.t.sf(abs(statistic), k - 1) if test == "t" else stats.norm.sf(abs(statistic))))
    # I^2 and H^2 as metafor: typical within-study variance from the FE weights.
    typical = (k - 1) * np.sum(w0) / (np.sum(w0) ** 2 - np.sum(w0 ** 2))
    i2 = 100 * tau2 / (tau2 + typical)
    h2 = (tau2 + typical) / typical
    if method == "FE":
        i2 = max(0.0, 100 * (q - (k - 1)) / q) if q > 0 else 0.0
        h2 = q / (k - 1)
    pi_half = crit * np.sqrt(se ** 2 + tau2)
    label = method + ("+HK" if hartung_knapp else "")
    het = heterogeneity_ci(yi, vi, method="DL", level=level)  # the bounds do not depend on the tau^2 estimator
    return MetaResult(label, k, float(mu), se, float(mu - crit * se), float(mu + crit * se), float(statistic), p,
                      float(tau2), float(i2), float(h2), q, k - 1, q_p, float(mu - pi_half), float(mu + pi_half),
                      level, test, het.tau2[1], het.tau2[2], het.i2[1], het.i2[2])


def subgroups(df: pd.DataFrame, group: str, method: str = "REML", level: float = 0.95) -> tuple[pd.DataFrame, dict]:
    """Pool within each subgroup (one-study subgroups are shown as the study) and test for differences.

    Two tests for subgroup differences are returned:

    * ``q_between``: Cochran's Q between the separately pooled subgroup estimates
      (inverse-variance, fixed across subgroups), df = subgroups - 1 (RevMan's test);
    * ``qm_mixed``: the mixed-effects test with one tau^2 common to all subgroups
      (metafor ``rma(yi, vi, mods = ~ group)``; ``metareg.subgroup_test``), which allows for
      between-study heterogeneity and is the one to quote when subgroups are heterogeneous.
      Computed when there is at least one residual degree of freedom.
    """
    rows = []
    for name, part in df.groupby(group, sort=False):
        if len(part) >= 2:
            r = meta_analysis(part["yi"], part["vi"], method, level)
            rows.append({group: name, "k": r.k, "estimate": r.estimate, "se": r.se, "ci_low": r.ci_low,
                         "ci_high": r.ci_high, "tau2": r.tau2, "i2": r.i2, "pooled": True})
        else:
            y, v = float(part["yi"].iloc[0]), float(part["vi"].iloc[0])
            z = stats.norm.ppf((1 + level) / 2)
            rows.append({group: name, "k": 1, "estimate": y, "se": np.sqrt(v), "ci_low": y - z * np.sqrt(v),
                         "ci_high": y + z * np.sqrt(v), "tau2": np.nan, "i2": np.nan, "pooled": False})
    table = pd.DataFrame(rows)
    test = {"q_between": np.nan, "df": len(table) - 1, "p_value": np.nan}
    if len(table) >= 2:
        w = 1 / table["se"] ** 2
        mu = np.sum(w * table["estimate"]) / np.sum(w)
        qb = float(np.sum(w * (table["estimate"] - mu) ** 2))
        test = {"q_between": qb, "df": len(table) - 1, "p_value": float(stats.chi2.sf(qb, len(table) - 1))}
        mixed_method = method if method in ("REML", "DL", "FE") else "REML"
        if len(df) > len(table):
            _, mixed = subgroup_test(df, group, method=mixed_method, test="knha" if method == "HK" else "z",
                                     level=level)
            test.update(qm_mixed=mixed["statistic"], qm_mixed_p_value=mixed["p_value"],
                        tau2_common=mixed["tau2_common"], mixed_method=mixed_method)
    return table, test
