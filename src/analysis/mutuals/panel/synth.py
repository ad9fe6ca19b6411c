"""Synthetic control for one spin-out against a donor pool, with placebo inference.

The synthetic unit is a weighted average of never-treated donors (weights
non-negative, summing to one) chosen to match the treated unit before
adoption (Abadie, Diamond and Hainmueller 2010):

* by default on every pre-period outcome, equally weighted (the estimator of
  ``synthdid::sc_estimate`` and Stata ``sdid, method(sc)``, without its tiny
  ridge term);
* optionally on researcher-chosen predictors (pre-period means of covariates
  and outcomes), with the predictor weights V chosen by nested optimisation
  to minimise the pre-period outcome fit.

Each weight problem is a convex quadratic programme; it is solved from several
starts (a non-negative least-squares solution, equal weights, the best single
donors and random points on the simplex) and the best solution kept, so a
failed local solve cannot pass unnoticed. The V search is not convex and is
multi-started too.

Inference is by in-space placebos: every donor in turn is treated as if it had
spun out, and the treated unit's post/pre RMSPE ratio is ranked among them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize

from analysis.errors import PanelError
from analysis.mutuals.panel.schema import Panel


def simplex_weights(X1: np.ndarray, X0: np.ndarray, v: np.ndarray | None = None, *, n_starts: int = 8,
                    seed: int = 0) -> tuple[np.ndarray, float, int]:
    """Minimise (x1 - X0 w)' diag(v) (x1 - X0 w) over the simplex. Returns (w, objective, starts that agree)."""
    k, j = X0.shape
    v = np.ones(k) if v is None else np.asarray(v, float)
    sq = np.sqrt(v)
    A = X0 * sq[:, None]
    b = X1 * sq

    def objective(w):
        r = A @ w - b
        return float(r @ r)

    def gradient(w):
        return 2 * A.T @ (A @ w - b)

    starts = [np.full(j, 1 / j)]
    scale = max(1.0, float(np.abs(A).max()))
    big = 1e3 * scale
    nn, _ = optimize.nnls(np.vstack([A, np.full((1, j), big)]), np.concatenate([b, [big]]))
    if nn.sum() > 0:
        starts.append(nn / nn.sum())
    single = np.argsort([np.sum((A[:, i] - b) ** 2) for i in range(j)])[:3]
    for i in single:
        e = np.zeros(j)
        e[i] = 1.0
        starts.append(0.9 * e + 0.1 / j)
    rng = np.random.default_rng(seed)
    while len(starts) < n_starts:
        starts.append(rng.dirichlet(np.ones(j)))
    best_w, best_f, results = None, np.inf, []
    cons = ({"type": "eq", "fun": lambda w: np.sum(w) - 1.0, "jac": lambda w: np.ones_like(w)},)
    for start in starts:
        res = optimize.minimize(objective, start, jac=gradient, method="SLSQP", bounds=[(0, 1)] * j,
                                constraints=cons, options={"ftol": 1e-12, "maxiter": 200})
        w = np.clip(res.x, 0, None)
        w = w / w.sum()
        f = objective(w)
        results.append(f)
        if f < best_f:
            best_w, best_f = w, f
    agree = int(np.sum(np.isclose(results, best_f, rtol=1e-6, atol=1e-10 * max(1.0, best_f))))
    return best_w, best_f, agree


@dataclass
class SyntheticControl:
    treated_unit: str
    adoption: int
    weights: pd.Series
    path: pd.DataFrame  # time, treated, synthetic, gap, post
    pre_rmspe: float
    post_rmspe: float
    att: float
    starts_agreeing: int
    v_weights: pd.Series | None
    predictor_balance: pd.DataFrame | None
    placebos: pd.DataFrame | None = None
    p_value: float | None = None
    p_value_trimmed: float | None = None
    notes: list[str] = field(default_factory=list)


def _fit(Y: pd.DataFrame, treated: str, donors: list[str], pre: list[int], post: list[int],
         predictors: pd.DataFrame | None, n_starts: int, seed: int):
    y1_pre = Y.loc[treated, pre].to_numpy(float)
    Y0_pre = Y.loc[donors, pre].to_numpy(float).T
    v_series = balance = None
    if predictors is None:
        w, _, agree = simplex_weights(y1_pre, Y0_pre, n_starts=n_starts, seed=seed)
    else:
        P = predictors.loc[[treated] + donors]
        scale = P.std(ddof=1).replace(0, 1.0)
        Z = (P / scale).to_numpy(float)
        x1, X0 = Z[0], Z[1:].T
        k = X0.shape[0]

        def loss(theta):
            v = np.exp(theta - theta.max())
            v = v / v.sum()
            w, _, _ = simplex_weights(x1, X0, v, n_starts=3, seed=seed)
            r = y1_pre - Y0_pre @ w
            return float(r @ r)

        rng = np.random.default_rng(seed)
        starts = [np.zeros(k)] + [rng.normal(0, 1.5, k) for _ in range(max(1, n_starts // 2))]
        best = min((optimize.minimize(loss, s, method="Nelder-Mead",
                                      options={"maxiter": 400 * k, "xatol": 1e-6, "fatol": 1e-10}) for s in starts),
                   key=lambda r: r.fun)
        v = np.exp(best.x - best.x.max())
        v = v / v.sum()
        w, _, agree = simplex_weights(x1, X0, v, n_starts=n_starts, seed=seed)
        v_series = pd.Series(v, index=P.columns, name="v_weight")
        balance = pd.DataFrame({"treated": P.iloc[0], "synthetic": P.iloc[1:].T.to_numpy() @ w,
                                "donor_mean": P.iloc[1:].mean()})
    synthetic = pd.Series(w, index=donors) @ Y.loc[donors]
    gap = Y.loc[treated] - synthetic
    pre_rmspe = float(np.sqrt(np.mean(gap[pre] ** 2)))
    post_rmspe = float(np.sqrt(np.mean(gap[post] ** 2)))
    return pd.Series(w, index=donors, name="weight"), synthetic, gap, pre_rmspe, post_rmspe, agree, v_series, balance


def synthetic_control(panel: Panel, treated_unit, *, predictors: list[str] | None = None, n_starts: int = 8,
                      seed: int = 0, placebo: bool = True, trim_factor: float = 5.0,
                      min_donors: int = 2) -> SyntheticControl:
    """Synthetic control for ``treated_unit`` from the never-treated units, with placebo inference.

    ``predictors`` names covariate columns in the panel's original data whose
    pre-period means are matched (with the pre-period outcome mean); leave it
    None to match every pre-period outcome.
    """
    if not panel.balanced:
        raise PanelError("Synthetic control needs a balanced panel (every unit observed in every period)")
    cohorts = panel.unit_cohorts()
    if treated_unit not in cohorts.index:
        raise PanelError(f"Treated unit {treated_unit!r} is not in the panel")
    adoption = int(cohorts[treated_unit])
    if adoption == 0:
        raise PanelError(f"Unit {treated_unit!r} is never treated")
    donors = sorted(cohorts[cohorts == 0].index.tolist(), key=str)
    if len(donors) < min_donors:
        raise PanelError(f"Too few donors: {len(donors)} never-treated unit(s); at least {min_donors} are needed")
    Y = panel.wide("outcome")
    pre = [t for t in Y.columns if t < adoption]
    post = [t for t in Y.columns if t >= adoption]
    if len(pre) < 2:
        raise PanelError(f"Synthetic control needs at least two pre-adoption periods; {treated_unit!r} has {len(pre)}")
    pred_table = None
    if predictors:
        missing = [p for p in predictors if p not in panel.data.columns]
        if missing:
            raise PanelError(f"Predictor columns not in the panel: {missing}")
        pre_rows = panel.data[panel.data["time"].isin(pre)]
        pred_table = pre_rows.groupby("unit")[predictors].mean()
        pred_table["outcome_pre_mean"] = pre_rows.groupby("unit")["outcome"].mean()
    weights, synthetic, gap, pre_rmspe, post_rmspe, agree, v, balance = _fit(
        Y, treated_unit, donors, pre, post, pred_table, n_starts, seed)
    path = pd.DataFrame({"time": Y.columns, "treated": Y.loc[treated_unit].to_numpy(),
                         "synthetic": synthetic.to_numpy(), "gap": gap.to_numpy()})
    path["post"] = path["time"] >= adoption
    result = SyntheticControl(str(treated_unit), adoption, weights.sort_values(ascending=False), path, pre_rmspe,
                              post_rmspe, float(gap[post].mean()), agree, v, balance)
    if agree < 2:
        result.notes.append("Only one start reached the best solution; check the weights.")
    if placebo:
        rows = []
        for j, donor in enumerate(donors):
            others = [d for d in donors if d != donor]
            if len(others) < 1:
                continue
            _, _, g, pr, po, _, _, _ = _fit(Y, donor, others, pre, post, pred_table, max(3, n_starts // 2), seed + j + 1)
            rows.append({"unit": donor, "pre_rmspe": pr, "post_rmspe": po, "ratio": po / pr if pr > 0 else np.inf,
                         "att": float(g[post].mean()), "gaps": g.to_numpy()})
        plac = pd.DataFrame(rows)
        ratio = post_rmspe / pre_rmspe if pre_rmspe > 0 else np.inf
        result.p_value = float((1 + (plac["ratio"] >= ratio).sum()) / (1 + len(plac)))
        kept = plac[plac["pre_rmspe"] <= trim_factor * pre_rmspe]
        result.p_value_trimmed = float((1 + (kept["ratio"] >= ratio).sum()) / (1 + len(kept)))
        result.placebos = plac
        result.notes.append(
            f"Placebo p-value: rank of the post/pre RMSPE ratio among {len(plac)} donors treated in turn "
            f"(smallest possible {1 / (1 + len(plac)):.3f}); trimmed version drops placebos whose pre-period fit "
            f"is over {trim_factor:g} times worse than the treated unit's ({len(kept)} kept).")
    return result
