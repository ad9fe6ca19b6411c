"""Event study: two-way fixed effects with leads and lags, and a joint pre-trend test.

``outcome ~ sum_r beta_r 1{t - g = r} + unit effects + period effects`` over
relative periods r in [-leads, lags] with r = -1 as the reference and the end
points binned. Standard errors are clustered by unit. The pre-trend test is a
cluster-robust Wald test that all lead coefficients (r <= -2) are zero, reported
as F with (q, G-1) degrees of freedom. A passed pre-test is weak evidence: it
has low power and conditioning on it distorts inference (Roth 2022); the
Callaway-Sant'Anna event study is the robust companion under staggered adoption.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import PanelError
from analysis.mutuals.panel.did import within_fit
from analysis.mutuals.panel.schema import Panel


@dataclass
class EventStudy:
    coefficients: pd.DataFrame  # relative_time, estimate, se, ci_low, ci_high (reference row has 0)
    pretrend_f: float | None
    pretrend_df: tuple[int, int] | None
    pretrend_p_value: float | None
    n_clusters: int
    level: float
    note: str = ""


def _label(r: int) -> str:
    return f"rel_m{abs(r)}" if r < 0 else f"rel_p{r}"


def twfe_event_study(panel: Panel, *, leads: int | None = None, lags: int | None = None,
                     level: float = 0.95) -> EventStudy:
    data = panel.data.copy()
    treated_units = data["cohort"] > 0
    if not treated_units.any():
        raise PanelError("No treated units for an event study")
    rel = np.where(treated_units, data["time"] - data["cohort"], np.nan)
    observed = pd.Series(rel).dropna().astype(int)
    max_lead = -int(observed.min()) if observed.min() < 0 else 0
    max_lag = int(observed.max())
    leads = max_lead if leads is None else leads
    lags = max_lag if lags is None else lags
    if leads < 1:
        raise PanelError("An event study needs at least one pre-treatment period for the treated units")
    clipped = np.clip(rel, -leads, lags)
    periods = [r for r in range(-leads, lags + 1) if r != -1]
    names = []
    for r in periods:
        col = _label(r)
        data[col] = (clipped == r).astype(float)
        if data[col].sum() > 0:
            names.append((r, col))
    if not any(r <= -2 for r, _ in names):
        raise PanelError("No periods two or more before adoption: the pre-trend test needs them")
    fit, n_clusters = within_fit(Panel(data, panel.periods, panel.balanced), [c for _, c in names])
    crit = stats.t.ppf((1 + level) / 2, n_clusters - 1)
    rows = [{"relative_time": -1, "estimate": 0.0, "se": 0.0, "ci_low": 0.0, "ci_high": 0.0, "reference": True}]
    for r, col in names:
        if col not in fit.params:
            continue
        est, se = float(fit.params[col]), float(fit.bse[col])
        rows.append({"relative_time": r, "estimate": est, "se": se, "ci_low": est - crit * se,
                     "ci_high": est + crit * se, "reference": False})
    coefs = pd.DataFrame(rows).sort_values("relative_time").reset_index(drop=True)
    lead_cols = [col for r, col in names if r <= -2 and col in fit.params]
    f_stat = p = df = None
    if lead_cols:
        R = np.zeros((len(lead_cols), len(fit.params)))
        for i, col in enumerate(lead_cols):
            R[i, list(fit.params.index).index(col)] = 1.0
        b = R @ fit.params.to_numpy()
        V = R @ fit.cov_params().to_numpy() @ R.T
        q = len(lead_cols)
        if np.linalg.matrix_rank(V) == q:
            f_stat = float(b @ np.linalg.solve(V, b) / q)
            df = (q, n_clusters - 1)
            p = float(stats.f.sf(f_stat, q, n_clusters - 1))
    note = ""
    if leads < max_lead or lags < max_lag:
        note = f"End points binned: relative times below -{leads} and above {lags} are pooled."
    return EventStudy(coefs, f_stat, df, p, n_clusters, level, note)
