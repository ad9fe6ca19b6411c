"""Cost-effectiveness: incremental cost and effect, ICER, net monetary benefit and the CEAC.

Two ways to represent uncertainty in the incremental cost (dC) and effect (dE):

* ``from_summary``: parametric simulation from published summary statistics
  (means, standard errors, and their correlation) as a bivariate normal;
* ``from_person_level``: non-parametric bootstrap of person-level costs and
  outcomes, resampling within each arm (the standard for trial-based CEA).

From the draws: the ICER (ratio of mean incremental cost to mean incremental
effect; its ratio interval is not reported because it is undefined when dE can
be zero, so the cost-effectiveness plane quadrants are given instead), the net
monetary benefit NMB(lambda) = lambda dE - dC with a percentile interval at each
willingness to pay lambda, and the cost-effectiveness acceptability curve
P(NMB > 0), as NICE's methods guide asks for.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import InputError


@dataclass
class CEAResult:
    delta_cost: np.ndarray
    delta_effect: np.ndarray
    wtp: np.ndarray
    method: str
    level: float
    simulated_inputs: bool = False

    @property
    def icer(self) -> float:
        de = float(np.mean(self.delta_effect))
        return float(np.mean(self.delta_cost)) / de if de != 0 else float("nan")

    def summary(self) -> pd.DataFrame:
        lo_q, hi_q = (1 - self.level) / 2, (1 + self.level) / 2
        rows = []
        for name, arr in (("incremental cost", self.delta_cost), ("incremental effect", self.delta_effect)):
            rows.append({"quantity": name, "mean": float(np.mean(arr)), "low": float(np.quantile(arr, lo_q)),
                         "high": float(np.quantile(arr, hi_q))})
        rows.append({"quantity": "ICER (cost per unit of effect)", "mean": self.icer, "low": np.nan, "high": np.nan})
        return pd.DataFrame(rows)

    def quadrants(self) -> pd.DataFrame:
        dc, de = self.delta_cost, self.delta_effect
        return pd.DataFrame({
            "quadrant": ["more effective, more costly (NE)", "more effective, less costly (SE: dominant)",
                         "less effective, more costly (NW: dominated)", "less effective, less costly (SW)"],
            "share": [np.mean((de > 0) & (dc > 0)), np.mean((de > 0) & (dc <= 0)),
                      np.mean((de <= 0) & (dc > 0)), np.mean((de <= 0) & (dc <= 0))]})

    def acceptability(self) -> pd.DataFrame:
        lo_q, hi_q = (1 - self.level) / 2, (1 + self.level) / 2
        nmb = np.outer(self.delta_effect, self.wtp) - self.delta_cost[:, None]
        return pd.DataFrame({"wtp": self.wtp, "nmb_mean": nmb.mean(axis=0), "nmb_low": np.quantile(nmb, lo_q, axis=0),
                             "nmb_high": np.quantile(nmb, hi_q, axis=0),
                             "probability_cost_effective": (nmb > 0).mean(axis=0)})


def wtp_grid(low: float, high: float, points: int = 101) -> np.ndarray:
    if low < 0 or high <= low:
        raise InputError("the willingness-to-pay range needs 0 <= low < high")
    if points < 2:
        raise InputError("need at least two willingness-to-pay points")
    return np.linspace(low, high, points)


def from_summary(cost_mean: float, cost_se: float, effect_mean: float, effect_se: float, *,
                 correlation: float = 0.0, wtp: np.ndarray, n: int = 10_000, seed: int = 0,
                 level: float = 0.95) -> CEAResult:
    """Bivariate-normal simulation of (dC, dE) from summary statistics."""
    if cost_se < 0 or effect_se < 0:
        raise InputError("standard errors cannot be negative")
    if not -1 <= correlation <= 1:
        raise InputError("correlation must be between -1 and 1")
    if n < 100:
        raise InputError("use at least 100 simulations")
    cov = np.array([[cost_se ** 2, correlation * cost_se * effect_se],
                    [correlation * cost_se * effect_se, effect_se ** 2]])
    rng = np.random.default_rng(seed)
    draws = rng.multivariate_normal([cost_mean, effect_mean], cov, size=n, method="cholesky"
                                    if cost_se > 0 and effect_se > 0 and abs(correlation) < 1 else "svd")
    return CEAResult(draws[:, 0], draws[:, 1], np.asarray(wtp, float), "parametric simulation (bivariate normal)",
                     level)


def from_person_level(df: pd.DataFrame, *, arm: str = "arm", cost: str = "cost", effect: str = "effect",
                      treated_label="budget", wtp: np.ndarray, n: int = 5_000, seed: int = 0,
                      level: float = 0.95) -> CEAResult:
    """Non-parametric bootstrap within arms of person-level costs and effects."""
    missing = [c for c in (arm, cost, effect) if c not in df.columns]
    if missing:
        raise InputError(f"person-level data is missing columns {missing}")
    data = df[[arm, cost, effect]].dropna()
    arms = set(data[arm].unique())
    if treated_label not in arms or len(arms) != 2:
        raise InputError(f"need exactly two arms including {treated_label!r}; found {sorted(map(str, arms))}")
    if n < 100:
        raise InputError("use at least 100 bootstrap replicates")
    t = data[data[arm] == treated_label][[cost, effect]].to_numpy(float)
    c = data[data[arm] != treated_label][[cost, effect]].to_numpy(float)
    if len(t) < 2 or len(c) < 2:
        raise InputError("each arm needs at least two people")
    rng = np.random.default_rng(seed)
    ti = rng.integers(0, len(t), (n, len(t)))
    ci = rng.integers(0, len(c), (n, len(c)))
    diff = t[ti].mean(axis=1) - c[ci].mean(axis=1)
    return CEAResult(diff[:, 0], diff[:, 1], np.asarray(wtp, float), "bootstrap within arms", level)


def analytic_acceptability(cost_mean, cost_se, effect_mean, effect_se, correlation, wtp) -> np.ndarray:
    """P(NMB > 0) for bivariate-normal inputs: Phi(E[NMB] / SD[NMB]) (used to check the simulation)."""
    wtp = np.asarray(wtp, float)
    mean = wtp * effect_mean - cost_mean
    var = (wtp * effect_se) ** 2 + cost_se ** 2 - 2 * wtp * correlation * cost_se * effect_se
    return stats.norm.cdf(mean / np.sqrt(var))
