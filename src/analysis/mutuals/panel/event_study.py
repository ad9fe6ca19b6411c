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


@dataclass
class SunAbraham:
    """Sun and Abraham (2021) interaction-weighted event study."""

    cohort_effects: pd.DataFrame  # cohort, relative_time, estimate, se (CATT_{e,l})
    event_study: pd.DataFrame  # relative_time, estimate, se, ci_low, ci_high, n_cohorts (IW estimates)
    att: float  # average over post-adoption cells, weighted by cell size (fixest summary(agg = "ATT"))
    att_se: float
    control: str
    n_clusters: int
    level: float
    notes: list[str]

    @property
    def att_ci(self) -> tuple[float, float]:
        crit = stats.t.ppf((1 + self.level) / 2, self.n_clusters - 1)
        return self.att - crit * self.att_se, self.att + crit * self.att_se


def sun_abraham(panel: Panel, *, control: str = "never", level: float = 0.95) -> SunAbraham:
    """Interaction-weighted event study (Sun and Abraham 2021), as R ``fixest::sunab``.

    Regress the outcome on cohort x relative-period indicators (every relative period but -1)
    with unit and period effects, on the treated cohorts and a clean control cohort: the
    never treated (``control="never"``) or, when there are none, the last cohort to adopt
    (``"last"``; periods from its adoption on are dropped). Each coefficient is a
    cohort-specific effect CATT(e, l), which is free of the contamination that makes ordinary
    TWFE leads and lags mix effects from other periods. The event-study estimate at l averages
    the CATT(e, l) with weights equal to each cohort's share of the units observed at l.

    Standard errors: CR1 clustered by unit with fixest's small-sample convention (see
    ``did.within_fit``); the aggregation treats the cohort shares as known, as fixest does
    (Sun and Abraham's variance adds a term for estimating them; it is small with large
    cohorts). Without covariates and with never-treated controls on a balanced panel, the
    CATT(e, l) equal Callaway-Sant'Anna's ATT(g, t) with a universal base period, which the
    tests check against R ``did``'s published values.
    """
    if control not in ("never", "last"):
        raise PanelError("control must be 'never' or 'last'")
    data = panel.data.copy()
    cohort = data["cohort"]
    notes = []
    always = list(data.attrs.get("always_treated_units", []))
    if always:
        data = data[~data["unit"].isin(always)]
        notes.append(f"Dropped {len(always)} unit(s) treated in every period they are observed.")
        cohort = data["cohort"]
    if control == "never":
        if not (cohort == 0).any():
            raise PanelError("No never-treated units: use control='last' (the last cohort to adopt as controls)")
        control_units = cohort == 0
        label = "never treated"
    else:
        last = int(cohort[cohort > 0].max())
        data = data[data["time"] < last]
        cohort = data["cohort"]
        control_units = (cohort == 0) | (cohort == last)
        label = f"last-treated cohort ({last}), periods before {last}"
    treated = ~control_units & (cohort > 0)
    if not treated.any():
        raise PanelError("No treated cohort is left to estimate")
    rel = (data["time"] - cohort).where(treated)
    cells = sorted({(int(e), int(r)) for e, r in zip(cohort[treated], rel[treated]) if r != -1})
    names = []
    for e, r in cells:
        name = f"c{e}_r{'m' if r < 0 else 'p'}{abs(r)}"
        data[name] = (treated & (cohort == e) & (rel == r)).astype(float)
        names.append((e, r, name))
    reference = {int(e) for e in cohort[treated].unique()}
    missing_ref = [e for e in reference if not ((cohort == e) & (rel == -1)).any()]
    if missing_ref:
        raise PanelError(f"Cohorts {missing_ref} have no period just before adoption (the reference period -1)")
    fit, n_clusters = within_fit(Panel(data, panel.periods, panel.balanced), [n for _, _, n in names])
    kept = [(e, r, n) for e, r, n in names if n in fit.params.index]
    if len(kept) < len(names):
        notes.append("Some cohort x period cells are collinear with the fixed effects and were dropped.")
    catt = pd.DataFrame({"cohort": [e for e, _, _ in kept], "relative_time": [r for _, r, _ in kept],
                         "estimate": [float(fit.params[n]) for _, _, n in kept],
                         "se": [float(fit.bse[n]) for _, _, n in kept]})
    sizes = data[treated].groupby("cohort")["unit"].nunique()
    cov = fit.cov_params()
    crit = stats.t.ppf((1 + level) / 2, n_clusters - 1)
    rows = []
    for r in sorted({r for _, r, _ in kept}):
        cell = [(e, n) for e, rr, n in kept if rr == r]
        w = np.array([sizes[e] for e, _ in cell], float)
        w = w / w.sum()
        cols = [n for _, n in cell]
        est = float(w @ fit.params[cols].to_numpy())
        se = float(np.sqrt(w @ cov.loc[cols, cols].to_numpy() @ w))
        rows.append({"relative_time": r, "estimate": est, "se": se, "ci_low": est - crit * se,
                     "ci_high": est + crit * se, "n_cohorts": len(cell)})
    es = pd.DataFrame(rows)
    post = [(e, n) for e, r, n in kept if r >= 0]
    counts = data[treated].assign(rel=rel[treated]).groupby(["cohort", "rel"])["unit"].count()
    w = np.array([counts[(e, r)] for e, r, n in kept if r >= 0], float)
    w = w / w.sum()
    cols = [n for _, n in post]
    att = float(w @ fit.params[cols].to_numpy())
    att_se = float(np.sqrt(w @ cov.loc[cols, cols].to_numpy() @ w))
    return SunAbraham(catt, es, att, att_se, label, n_clusters, level, notes)
