"""Staggered adoption: Callaway and Sant'Anna (2021) group-time average treatment effects.

For each adoption cohort g and period t, ATT(g, t) compares the change in
outcomes of cohort g since its last untreated period with the same change for
a control group (never treated, or not yet treated). Without covariates this
is the estimator of R's ``did::att_gt(xformla = ~1)`` (its doubly-robust,
IPW and regression versions coincide when there are no covariates), with the
same "varying" base period for pre-treatment cells, the same analytic
influence functions, the same Wald pre-test, and the same aggregations
(``did::aggte``: simple, dynamic/event-study, group and calendar), including
the extra influence-function term from estimating the cohort weights.
Validated against the package's published ``mpdta`` results in the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import PanelError
from analysis.mutuals.panel.schema import Panel


@dataclass
class GroupTimeResult:
    att: pd.DataFrame  # group, time, att, se, ci_low, ci_high, post
    influence: np.ndarray  # (n_units, n_cells), did's scaling: SE = sqrt(mean(IF^2)/n)
    unit_groups: np.ndarray  # cohort of each unit (0 = never treated / control-only)
    unit_weights: np.ndarray
    n_units: int
    control_group: str
    base_period: str
    anticipation: int
    pretest_statistic: float | None
    pretest_df: int
    pretest_p_value: float | None
    notes: list[str] = field(default_factory=list)
    level: float = 0.95


def _se(inf: np.ndarray) -> float:
    n = inf.shape[0]
    return float(np.sqrt(np.mean(inf ** 2) / n))


def callaway_santanna(panel: Panel, *, control_group: str = "nevertreated", anticipation: int = 0,
                      base_period: str = "varying", level: float = 0.95) -> GroupTimeResult:
    """ATT(g, t) for every cohort and period, with influence functions and the pre-trend Wald test."""
    if control_group not in {"nevertreated", "notyettreated"}:
        raise PanelError("control_group must be 'nevertreated' or 'notyettreated'")
    if base_period not in {"varying", "universal"}:
        raise PanelError("base_period must be 'varying' or 'universal'")
    if anticipation < 0:
        raise PanelError("anticipation must be 0 or more periods")
    notes = []
    wide = panel.wide("outcome")
    complete = wide.dropna()
    if len(complete) < len(wide):
        notes.append(f"Dropped {len(wide) - len(complete)} unit(s) not observed in every period (balanced panel "
                     "needed).")
    tlist = np.array(sorted(wide.columns))
    cohorts = panel.unit_cohorts().reindex(complete.index).to_numpy()
    cohorts = np.where(cohorts > tlist.max(), 0, cohorts)  # adopting after the panel ends = never treated here
    always = cohorts == tlist.min()
    if always.any():
        notes.append(f"Dropped {int(always.sum())} unit(s) treated in the first period (no untreated period).")
        complete = complete[~always]
        cohorts = cohorts[~always]
    if "weight" in panel.data:
        w = panel.data.groupby("unit")["weight"].first().reindex(complete.index).to_numpy(float)
        w = w / w.mean()
    else:
        w = np.ones(len(complete))
    Y = complete.to_numpy(float)
    n = Y.shape[0]
    glist = np.array(sorted(g for g in np.unique(cohorts) if g > 0))
    if len(glist) == 0:
        raise PanelError("No cohort adopts after the first period: nothing to estimate")
    if control_group == "nevertreated" and not (cohorts == 0).any():
        raise PanelError("No never-treated units: use control_group='notyettreated'")

    rows, infs = [], []
    for g in glist:
        pre_post = [i for i, t in enumerate(tlist) if t + anticipation < g]
        if not pre_post:
            continue
        g_base = pre_post[-1]
        for k in range(len(tlist)):
            t = tlist[k]
            post = g <= t
            if post or base_period == "universal":
                base = g_base
            else:
                base = k - 1
            if base == k or base < 0:
                continue
            in_g = cohorts == g
            ref_t = tlist[max(k, base)]
            if control_group == "nevertreated":
                in_c = cohorts == 0
            else:
                in_c = (cohorts == 0) | ((cohorts > ref_t + anticipation) & (cohorts != g))
            if in_g.sum() == 0 or in_c.sum() == 0:
                notes.append(f"ATT({g},{t}) not estimable: no {'treated' if in_g.sum() == 0 else 'control'} units.")
                continue
            dy = Y[:, k] - Y[:, base]
            wg, wc = w * in_g, w * in_c
            mu_g = np.sum(wg * dy) / wg.sum()
            mu_c = np.sum(wc * dy) / wc.sum()
            inf = n * (wg * (dy - mu_g) / wg.sum() - wc * (dy - mu_c) / wc.sum())
            rows.append({"group": int(g), "time": int(t), "att": mu_g - mu_c, "post": bool(post),
                         "n_group": int(in_g.sum()), "n_control": int(in_c.sum())})
            infs.append(inf)
    if not rows:
        raise PanelError("No group-time effect could be estimated")
    att = pd.DataFrame(rows)
    influence = np.column_stack(infs)
    att["se"] = [_se(influence[:, j]) for j in range(influence.shape[1])]
    crit = stats.norm.ppf((1 + level) / 2)
    att["ci_low"] = att["att"] - crit * att["se"]
    att["ci_high"] = att["att"] + crit * att["se"]

    pre = np.where(att["group"].to_numpy() > att["time"].to_numpy())[0]
    statistic = p_value = None
    if len(pre):
        V = influence[:, pre].T @ influence[:, pre] / n
        a = att["att"].to_numpy()[pre]
        if np.linalg.matrix_rank(V) < len(pre):
            notes.append("Pre-test not computed: the covariance of pre-treatment effects is singular.")
        else:
            statistic = float(n * a @ np.linalg.solve(V, a))
            p_value = float(stats.chi2.sf(statistic, len(pre)))
    return GroupTimeResult(att, influence, cohorts, w, n, control_group, base_period, anticipation, statistic,
                           len(pre), p_value, notes, level)


def _wif(keepers: np.ndarray, pg: np.ndarray, w: np.ndarray, G: np.ndarray, group: np.ndarray) -> np.ndarray:
    """did's extra influence-function term from estimating the cohort-share weights (n x k)."""
    denom = pg[keepers].sum()
    if1 = np.column_stack([(w * (G == group[k]) - pg[k]) / denom for k in keepers])
    diffs = np.column_stack([w * (G == group[k]) - pg[k] for k in keepers]).sum(axis=1)
    if2 = np.outer(diffs, pg[keepers] / denom ** 2)
    return if1 - if2


def _agg_inf(att: np.ndarray, inf: np.ndarray, which: np.ndarray, weights: np.ndarray,
             wif: np.ndarray | None) -> np.ndarray:
    out = inf[:, which] @ weights
    if wif is not None:
        out = out + wif @ att[which]
    return out


@dataclass
class Aggregate:
    kind: str
    overall: float
    overall_se: float
    detail: pd.DataFrame  # label column (event_time/group/time), estimate, se, ci_low, ci_high
    level: float
    critical_value: float | None = None  # simultaneous band critical value (multiplier bootstrap)

    @property
    def overall_ci(self) -> tuple[float, float]:
        crit = stats.norm.ppf((1 + self.level) / 2)
        return self.overall - crit * self.overall_se, self.overall + crit * self.overall_se


def aggregate(result: GroupTimeResult, kind: str = "dynamic", *, balance_e: int | None = None,
              min_e: float = -np.inf, max_e: float = np.inf, uniform_bands: bool = False,
              biters: int = 1000, seed: int = 0) -> Aggregate:
    """Aggregate ATT(g, t) like ``did::aggte``: 'simple', 'dynamic', 'group' or 'calendar'."""
    if kind not in {"simple", "dynamic", "group", "calendar"}:
        raise PanelError("kind must be simple, dynamic, group or calendar")
    a = result.att
    att = a["att"].to_numpy(float)
    group = a["group"].to_numpy()
    time = a["time"].to_numpy()
    inf = result.influence
    G = result.unit_groups
    w = result.unit_weights
    glist = np.array(sorted(np.unique(group)))
    pgg = np.array([np.mean(w * (G == g)) for g in glist])
    pg = pgg[np.searchsorted(glist, group)]
    crit = stats.norm.ppf((1 + result.level) / 2)

    def frame(labels, name, est, ses):
        df = pd.DataFrame({name: labels, "estimate": est, "se": ses})
        df["ci_low"] = df["estimate"] - crit * df["se"]
        df["ci_high"] = df["estimate"] + crit * df["se"]
        return df

    if kind == "simple":
        keep = np.where(group <= time)[0]
        weights = pg[keep] / pg[keep].sum()
        est = float(np.sum(att[keep] * weights))
        f = _agg_inf(att, inf, keep, weights, _wif(keep, pg, w, G, group))
        return Aggregate("simple", est, _se(f), frame([], "label", [], []), result.level)

    if kind == "dynamic":
        e_all = time - group
        eseq = np.array(sorted(np.unique(e_all)))
        include = np.ones(len(group), bool)
        if balance_e is not None:
            tmax, tmin = time.max(), time.min()
            eseq = eseq[(eseq <= balance_e) & (eseq >= balance_e - tmax + tmin)]
            include = (tmax - group) >= balance_e
        eseq = eseq[(eseq >= min_e) & (eseq <= max_e)]
        ests, ses, infs, kept = [], [], [], []
        for e in eseq:
            which = np.where((e_all == e) & include)[0]
            if len(which) == 0:
                continue
            weights = pg[which] / pg[which].sum()
            ests.append(float(np.sum(att[which] * weights)))
            f = _agg_inf(att, inf, which, weights, _wif(which, pg, w, G, group))
            infs.append(f)
            ses.append(_se(f))
            kept.append(int(e))
        infs = np.column_stack(infs)
        ests = np.array(ests)
        epos = np.array(kept) >= 0
        overall = float(np.mean(ests[epos]))
        f = infs[:, epos] @ np.full(epos.sum(), 1 / epos.sum())
        cv = _uniform_critical_value(infs, biters, seed, result.level) if uniform_bands else None
        return Aggregate("dynamic", overall, _se(f), frame(kept, "event_time", ests, ses), result.level, cv)

    if kind == "group":
        ests, ses, infs = [], [], []
        for g in glist:
            which = np.where((group == g) & (g <= time))[0]
            weights = pg[which] / pg[which].sum()
            ests.append(float(np.mean(att[which])))
            f = _agg_inf(att, inf, which, weights, None)
            infs.append(f)
            ses.append(_se(f))
        infs = np.column_stack(infs)
        ests = np.array(ests)
        keep = np.arange(len(glist))
        wif = _wif(keep, pgg, w, G, glist)
        overall = float(np.sum(ests * pgg) / pgg.sum())
        f = _agg_inf(ests, infs, keep, pgg / pgg.sum(), wif)
        cv = _uniform_critical_value(infs, biters, seed, result.level) if uniform_bands else None
        return Aggregate("group", overall, _se(f), frame(list(glist), "group", ests, ses), result.level, cv)

    tlist = np.array(sorted(t for t in np.unique(time) if t >= glist.min()))
    ests, ses, infs = [], [], []
    for t1 in tlist:
        which = np.where((time == t1) & (group <= time))[0]
        weights = pg[which] / pg[which].sum()  # cohorts weighted by size, as did::aggte
        ests.append(float(np.sum(weights * att[which])))
        f = _agg_inf(att, inf, which, weights, _wif(which, pg, w, G, group))
        infs.append(f)
        ses.append(_se(f))
    infs = np.column_stack(infs)
    overall = float(np.mean(ests))
    f = infs @ np.full(len(tlist), 1 / len(tlist))
    cv = _uniform_critical_value(infs, biters, seed, result.level) if uniform_bands else None
    return Aggregate("calendar", overall, _se(f), frame(list(tlist), "time", ests, ses), result.level, cv)


def _uniform_critical_value(inf: np.ndarray, biters: int, seed: int, level: float) -> float:
    """Simultaneous-band critical value by multiplier bootstrap (Rademacher weights), as in did::mboot."""
    rng = np.random.default_rng(seed)
    n = inf.shape[0]
    se = np.sqrt(np.mean(inf ** 2, axis=0) / n)
    draws = rng.choice([-1.0, 1.0], size=(biters, n))
    boot = draws @ inf / n
    tstats = np.max(np.abs(boot) / se, axis=1)
    return float(np.quantile(tstats, level))
