"""Synthetic control for one spin-out against a donor pool, with placebo inference.

The synthetic unit is a weighted average of never-treated donors (weights
non-negative, summing to one) chosen to match the treated unit before
adoption (Abadie and Gardeazabal 2003; Abadie, Diamond and Hainmueller 2010):

* by default on every pre-period outcome, equally weighted (the estimator of
  ``synthdid::sc_estimate`` and Stata ``sdid, method(sc)``, without its tiny
  ridge term; validated against Stata ``synth2`` on Proposition 99);
* or, as R ``Synth``/Stata ``synth``, on researcher-chosen predictors: covariates
  averaged over a window of pre-period years (``predictors=["income"]`` with
  ``predictor_periods=range(1980, 1989)``), special predictors with their own
  window (``("beer", range(1984, 1989))``) and outcome lags at chosen years
  (``("outcome", [1975])``). Predictors are divided by their standard deviation
  across all units (as Synth's ``dataprep``/``synth``); the predictor weights V
  are chosen to minimise the mean squared pre-period outcome gap over
  ``optimise_periods`` (Synth's ``time.optimize.ssr``, default every pre-period).

The inner problem (W given V) is a convex quadratic programme on the simplex,
solved exactly by a primal active-set method (finite, KKT-verified: no local
solver, no tolerance to tune, a few hundred microseconds for 38 donors); ties
between equally good predictor fits go to the weighting that best fits the
pre-period outcomes (see ``simplex_least_squares``). The
outer V search is not convex: it is multi-started (equal weights, Synth's
regression-based start and random starts), each run by Nelder-Mead on a
log-scale parametrisation, and the best loss kept. ``n_starts`` bounds the
number of outer starts, so it bounds the cost.

Inference is by in-space placebos: every donor in turn is treated as if it had
spun out, and the treated unit's post/pre RMSPE ratio is ranked among them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize

from analysis.errors import PanelError
from analysis.mutuals.panel.schema import Panel

RIDGE = 1e-10  # relative: ties between equally good weightings go to the one with the smallest sum of squares


TIE_BREAK = 1e-6  # relative weight of the pre-period outcome fit among equally good predictor fits


def simplex_least_squares(A: np.ndarray, b: np.ndarray, start: np.ndarray | None = None,
                          tol: float = 1e-12, max_iter: int = 500, ridge: float = RIDGE,
                          secondary: tuple[np.ndarray, np.ndarray] | None = None,
                          secondary_weight: float = TIE_BREAK) -> np.ndarray:
    """min ||A w - b||^2 + r ||w||^2 subject to w >= 0, sum(w) = 1, by a primal active-set method.

    ``start`` is a feasible point (default: the best single donor). Each step solves the
    equality-constrained least-squares problem on the free set through its KKT system;
    a step that would leave the simplex is cut at the boundary and the blocking donor
    leaves the free set; at a stationary point the donor with the most negative
    multiplier joins. This terminates at the global minimum (the problem is convex).

    Ties: when the treated unit lies inside the donors' convex hull in predictor space,
    many weightings fit the predictors exactly (R Synth then returns whichever its
    interior-point solver reaches) and W would not be a function of V. ``secondary=(S, t)``
    adds ``secondary_weight`` x ||S w - t||^2 (scaled to A), which breaks such ties towards
    the weighting that best fits the pre-period outcomes while changing the predictor fit
    by a negligible amount; the ridge r = ``ridge`` x mean(diag(Q)) then makes the solution
    unique. Both are far too small to change a fit that is unique anyway.
    """
    _, j = A.shape
    Q = A.T @ A
    c = A.T @ b
    if secondary is not None:
        # Among (near-)equally good fits of b, prefer the one that best fits the secondary target.
        S, t = secondary
        StS = S.T @ S
        lam = secondary_weight * max(float(np.trace(Q)), 1e-300) / max(float(np.trace(StS)), 1e-300)
        Q = Q + lam * StS
        c = c + lam * (S.T @ t)
    Q = Q + ridge * max(float(np.trace(Q)) / j, 1e-300) * np.eye(j)
    rank = j  # Q is positive definite: every KKT system is nonsingular
    scale = max(1.0, float(np.abs(Q).max()))
    if start is None:
        start = np.zeros(j)
        start[int(np.argmin(np.sum((A - b[:, None]) ** 2, axis=0)))] = 1.0
    w = np.clip(np.asarray(start, float), 0, None)
    w = w / w.sum()
    free = w > 0
    for _ in range(max_iter):
        idx = np.flatnonzero(free)
        m = len(idx)
        K = np.ones((m + 1, m + 1))
        K[:m, :m] = Q[idx][:, idx]
        K[m, m] = 0.0
        rhs = np.empty(m + 1)
        rhs[:m] = c[idx]
        rhs[m] = 1.0
        try:
            sol = np.linalg.solve(K, rhs) if m <= rank else np.linalg.lstsq(K, rhs, rcond=None)[0]
        except np.linalg.LinAlgError:  # more free donors than the predictors can separate
            sol = np.linalg.lstsq(K, rhs, rcond=None)[0]
        z = sol[:m]
        if np.all(z > tol):
            w = np.zeros(j)
            w[idx] = z
            gradient = Q @ w - c  # half the gradient of the objective
            mu = float(np.mean(gradient[idx]))
            slack = gradient - mu  # KKT: >= 0 off the free set
            slack[idx] = np.inf
            entering = int(np.argmin(slack))
            if slack[entering] >= -tol * scale:
                return w
            free[entering] = True
            continue
        # Move from w towards z until the first free weight hits zero.
        current = w[idx]
        shrinking = z <= tol
        ratios = current[shrinking] / np.maximum(current[shrinking] - z[shrinking], 1e-300)
        alpha = float(np.clip(ratios.min(), 0.0, 1.0))
        new = current + alpha * (z - current)
        w = np.zeros(j)
        w[idx] = np.clip(new, 0, None)
        blocking = idx[shrinking][np.argmin(ratios)]
        w[blocking] = 0.0
        w = w / w.sum()
        free = w > 0
    raise PanelError("The synthetic-control weight problem did not converge; check the predictors for "
                     "extreme scales or duplicates")


def simplex_weights(X1: np.ndarray, X0: np.ndarray, v: np.ndarray | None = None, *, n_starts: int = 8,
                    seed: int = 0, secondary: tuple[np.ndarray, np.ndarray] | None = None
                    ) -> tuple[np.ndarray, float, int]:
    """Minimise (x1 - X0 w)' diag(v) (x1 - X0 w) over the simplex. Returns (w, objective, starts that agree).

    The problem is convex and solved exactly; ``n_starts`` runs the active-set method from
    that many different feasible points (best single donors, equal weights, random points)
    as a check that they all reach the same minimum.
    """
    k, j = X0.shape
    v = np.ones(k) if v is None else np.asarray(v, float)
    sq = np.sqrt(v)
    A = X0 * sq[:, None]
    b = np.asarray(X1, float) * sq

    def objective(w):
        r = A @ w - b
        return float(r @ r)

    starts = [None, np.full(j, 1 / j)]
    rng = np.random.default_rng(seed)
    while len(starts) < max(1, n_starts):
        starts.append(rng.dirichlet(np.ones(j)))
    results = [simplex_least_squares(A, b, s, secondary=secondary) for s in starts[:max(1, n_starts)]]
    values = [objective(w) for w in results]
    best = int(np.argmin(values))
    best_f = values[best]
    agree = int(np.sum(np.isclose(values, best_f, rtol=1e-8, atol=1e-12 * max(1.0, float(b @ b)))))
    return results[best], best_f, agree


@dataclass(frozen=True)
class Predictor:
    """One row of the predictor matrix: ``column`` averaged over ``periods`` (R Synth's special predictor).

    ``column`` is a covariate in the panel or ``"outcome"``; ``periods=None`` means the
    default predictor window (every pre-period unless ``predictor_periods`` is given).
    """

    column: str
    periods: tuple[int, ...] | None = None
    op: str = "mean"

    @property
    def label(self) -> str:
        if self.periods is None:
            return self.column
        p = sorted(self.periods)
        span = str(p[0]) if len(p) == 1 else (f"{p[0]}-{p[-1]}" if p == list(range(p[0], p[-1] + 1))
                                               else ",".join(map(str, p)))
        return f"{self.column} ({span})"


def _as_predictor(spec) -> Predictor:
    if isinstance(spec, Predictor):
        return spec
    if isinstance(spec, str):
        return Predictor(spec)
    if isinstance(spec, tuple) and 2 <= len(spec) <= 3 and isinstance(spec[0], str):
        periods = spec[1]
        periods = (int(periods),) if np.isscalar(periods) else tuple(int(p) for p in periods)
        return Predictor(spec[0], periods, spec[2] if len(spec) == 3 else "mean")
    raise PanelError(f"Cannot read predictor {spec!r}: give a column name, (column, periods) or "
                     "(column, periods, 'mean'|'median')")


def predictor_table(panel: Panel, predictors: Iterable, pre: list[int],
                    predictor_periods: Iterable[int] | None = None) -> pd.DataFrame:
    """Units x predictors: each predictor's mean (or median) over its window, missing values ignored (as Synth)."""
    specs = [_as_predictor(p) for p in predictors]
    if not specs:
        raise PanelError("predictors is empty: leave it None to match every pre-period outcome")
    default = tuple(int(t) for t in predictor_periods) if predictor_periods is not None else tuple(pre)
    data = panel.data
    out = {}
    for spec in specs:
        if spec.op not in ("mean", "median"):
            raise PanelError(f"Predictor {spec.column!r}: op must be 'mean' or 'median', not {spec.op!r}")
        if spec.column != "outcome" and spec.column not in data.columns:
            raise PanelError(f"Predictor column {spec.column!r} is not in the panel; covariates present: "
                             f"{panel.covariates}. Keep it when validating (PanelColumns(covariates=...)).")
        periods = spec.periods if spec.periods is not None else default
        late = [t for t in periods if t not in pre]
        if late:
            raise PanelError(f"Predictor {spec.label!r} uses periods {late} that are not before adoption; "
                             "predictors must be measured before treatment")
        rows = data[data["time"].isin(periods)]
        values = pd.to_numeric(rows[spec.column], errors="coerce")
        if values.isna().all() or (rows[spec.column].notna() & values.isna()).any():
            raise PanelError(f"Predictor {spec.label!r} is not numeric or has no values in its window")
        grouped = values.groupby(rows["unit"])
        column = grouped.mean() if spec.op == "mean" else grouped.median()
        label = Predictor(spec.column, periods if spec.periods is not None else None, spec.op).label
        if spec.periods is None and predictor_periods is not None:
            label = Predictor(spec.column, periods).label
        if label in out:
            raise PanelError(f"Predictor {label!r} is given twice")
        out[label] = column
    table = pd.DataFrame(out).reindex(data["unit"].unique())
    if table.isna().any().any():
        bad = table.columns[table.isna().any()].tolist()
        units = table.index[table.isna().any(axis=1)][:5].tolist()
        raise PanelError(f"Predictors {bad} have no values in their window for units {units}")
    return table


@dataclass
class _Fit:
    weights: pd.Series
    synthetic: pd.Series
    gap: pd.Series
    pre_rmspe: float
    post_rmspe: float
    agree: int
    v: pd.Series | None
    balance: pd.DataFrame | None
    loss_v: float  # mean squared pre-period outcome gap over the optimisation periods
    loss_w: float | None  # predictor-fit objective at the chosen V


def _v_from_theta(theta: np.ndarray) -> np.ndarray:
    v = np.exp(np.clip(theta - theta.max(), -50, 0))
    return v / v.sum()


def _regression_start(x1, X0, z1, Z0) -> np.ndarray | None:
    """Synth's regression-based starting V: squared coefficients of the outcomes on the scaled predictors."""
    X = np.column_stack([np.ones(X0.shape[1] + 1), np.column_stack([x1, X0]).T])
    Z = np.column_stack([z1, Z0]).T
    try:
        beta = np.linalg.solve(X.T @ X, X.T @ Z)[1:]
    except np.linalg.LinAlgError:
        return None
    v = np.sum(beta ** 2, axis=1)
    if not np.all(np.isfinite(v)) or v.sum() <= 0:
        return None
    return np.maximum(v / v.sum(), 1e-12)


def _choose_v(x1, X0, z1, Z0, n_starts: int, seed: int):
    """Nested optimisation of V (outer, multi-start Nelder-Mead) and W (inner, exact)."""
    k = X0.shape[0]

    last = {"w": None}

    def inner(v, start=None):
        sq = np.sqrt(v)
        return simplex_least_squares(X0 * sq[:, None], x1 * sq, start, secondary=(Z0, z1))

    def loss(theta):
        # Warm start from the previous solution: Nelder-Mead's successive V are close, so the
        # active set barely changes and the solve takes one or two steps.
        w = inner(_v_from_theta(theta), last["w"])
        last["w"] = w
        r = z1 - Z0 @ w
        return float(r @ r) / len(z1)

    starts = [np.zeros(k)]
    regression = _regression_start(x1, X0, z1, Z0)
    if regression is not None:
        starts.append(np.log(regression))
    for i in range(k):  # each predictor dominant in turn
        theta = np.zeros(k)
        theta[i] = 3.0
        starts.append(theta)
    rng = np.random.default_rng(seed)
    while len(starts) < max(1, n_starts):
        starts.append(rng.normal(0, 2.0, k))
    best = None
    for s in starts[:max(1, n_starts)]:
        # Stop when the simplex spans < 1e-3 in log V and the loss changes by < 1e-9 of its size.
        fatol = 1e-9 * max(loss(s), 1e-12)
        res = optimize.minimize(loss, s, method="Nelder-Mead",
                                options={"maxiter": 200 * k, "maxfev": 300 * k, "xatol": 1e-3, "fatol": fatol,
                                         "adaptive": k > 4})
        # One restart from the end point: Nelder-Mead's simplex can collapse early.
        res2 = optimize.minimize(loss, res.x, method="Nelder-Mead",
                                 options={"maxiter": 100 * k, "maxfev": 150 * k, "xatol": 1e-4, "fatol": fatol,
                                          "adaptive": k > 4})
        res = res2 if res2.fun <= res.fun else res
        if best is None or res.fun < best.fun - 1e-14:
            best = res
    v = _v_from_theta(best.x)
    return v, inner(v), float(best.fun)


def _fit(Y: pd.DataFrame, treated, donors: list, pre: list[int], post: list[int],
         predictors: pd.DataFrame | None, n_starts: int, seed: int, optimise: list[int],
         custom_v: np.ndarray | None = None) -> _Fit:
    y1_pre = Y.loc[treated, pre].to_numpy(float)
    Y0_pre = Y.loc[donors, pre].to_numpy(float).T
    v_series = balance = None
    loss_w = None
    z1 = Y.loc[treated, optimise].to_numpy(float)
    Z0 = Y.loc[donors, optimise].to_numpy(float).T
    if predictors is None:
        w, _, agree = simplex_weights(y1_pre, Y0_pre, n_starts=max(2, min(n_starts, 4)), seed=seed)
    else:
        P = predictors.loc[[treated] + list(donors)]
        scale = P.std(ddof=1).replace(0, 1.0)
        Z = (P / scale).to_numpy(float)
        x1, X0 = Z[0], Z[1:].T
        if custom_v is not None:
            v = np.asarray(custom_v, float) / np.sum(custom_v)
        else:
            v, _, _ = _choose_v(x1, X0, z1, Z0, n_starts, seed)
        w, loss_w, agree = simplex_weights(x1, X0, v, n_starts=4, seed=seed, secondary=(Z0, z1))
        v_series = pd.Series(v, index=P.columns, name="v_weight")
        balance = pd.DataFrame({"treated": P.iloc[0], "synthetic": P.iloc[1:].T.to_numpy() @ w,
                                "donor_mean": P.iloc[1:].mean()})
    synthetic = pd.Series(w, index=donors) @ Y.loc[donors]
    gap = Y.loc[treated] - synthetic
    pre_rmspe = float(np.sqrt(np.mean(gap[pre] ** 2)))
    post_rmspe = float(np.sqrt(np.mean(gap[post] ** 2)))
    loss_v = float(np.mean(gap[optimise] ** 2))
    return _Fit(pd.Series(w, index=donors, name="weight"), synthetic, gap, pre_rmspe, post_rmspe, agree, v_series,
                balance, loss_v, loss_w)


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
    predictor_balance: pd.DataFrame | None  # treated, synthetic, donor_mean per predictor (ADH Table 1)
    placebos: pd.DataFrame | None = None
    p_value: float | None = None
    p_value_trimmed: float | None = None
    notes: list[str] = field(default_factory=list)
    loss_v: float | None = None  # mean squared outcome gap over the optimisation periods (Synth's loss.v)
    loss_w: float | None = None  # predictor-fit objective at the chosen V (Synth's loss.w)
    optimise_periods: tuple[int, ...] = ()


def synthetic_control(panel: Panel, treated_unit, *, predictors: list | None = None,
                      predictor_periods: Iterable[int] | None = None, optimise_periods: Iterable[int] | None = None,
                      v_weights=None, n_starts: int = 4, seed: int = 0, placebo: bool = True,
                      placebo_starts: int | None = None, trim_factor: float = 5.0,
                      min_donors: int = 2) -> SyntheticControl:
    """Synthetic control for ``treated_unit`` from the never-treated units, with placebo inference.

    ``predictors``: None matches every pre-period outcome. Otherwise a list of R-Synth-style
    predictors: a covariate name (averaged over ``predictor_periods``, default every
    pre-period), ``(column, periods)`` for a special predictor with its own window, or
    ``("outcome", [year])`` for an outcome lag; see ``Predictor``. Covariates must be kept
    by ``validate_panel`` (they are, unless ``PanelColumns(covariates=...)`` leaves them out).
    ``optimise_periods``: pre-periods whose outcome fit chooses V (default all).
    ``v_weights``: fix V instead of optimising it (Synth's ``custom.v``).
    ``n_starts``: outer V starts (bounds the cost); ``placebo_starts``: the same for each
    placebo fit (default ``max(2, n_starts // 2)``).
    """
    if not panel.balanced:
        raise PanelError("Synthetic control needs a balanced panel (every unit observed in every period)")
    if n_starts < 1:
        raise PanelError("n_starts must be at least 1")
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
    optimise = list(pre) if optimise_periods is None else [int(t) for t in optimise_periods]
    if not optimise or any(t not in pre for t in optimise):
        raise PanelError(f"optimise_periods must be pre-adoption periods ({pre[0]}-{pre[-1]})")
    pred_table = None
    if predictors is not None:
        pred_table = predictor_table(panel, predictors, pre, predictor_periods)
        if v_weights is not None:
            v_weights = np.asarray(v_weights, float)
            if v_weights.shape != (pred_table.shape[1],) or np.any(v_weights < 0) or v_weights.sum() <= 0:
                raise PanelError(f"v_weights needs {pred_table.shape[1]} non-negative numbers, one per predictor")
    elif v_weights is not None:
        raise PanelError("v_weights applies only with predictors")
    fit = _fit(Y, treated_unit, donors, pre, post, pred_table, n_starts, seed, optimise, v_weights)
    path = pd.DataFrame({"time": Y.columns, "treated": Y.loc[treated_unit].to_numpy(),
                         "synthetic": fit.synthetic.to_numpy(), "gap": fit.gap.to_numpy()})
    path["post"] = path["time"] >= adoption
    result = SyntheticControl(str(treated_unit), adoption, fit.weights.sort_values(ascending=False), path,
                              fit.pre_rmspe, fit.post_rmspe, float(fit.gap[post].mean()), fit.agree, fit.v,
                              fit.balance, loss_v=fit.loss_v, loss_w=fit.loss_w, optimise_periods=tuple(optimise))
    if fit.agree < 2:
        result.notes.append("Only one start reached the best weights; check the weights.")
    if placebo:
        starts = placebo_starts if placebo_starts is not None else max(2, n_starts // 2)
        rows = []
        for j, donor in enumerate(donors):
            others = [d for d in donors if d != donor]
            if len(others) < 1:
                continue
            pf = _fit(Y, donor, others, pre, post, pred_table, starts, seed + j + 1, optimise, v_weights)
            rows.append({"unit": donor, "pre_rmspe": pf.pre_rmspe, "post_rmspe": pf.post_rmspe,
                         "ratio": pf.post_rmspe / pf.pre_rmspe if pf.pre_rmspe > 0 else np.inf,
                         "att": float(pf.gap[post].mean()), "gaps": pf.gap.to_numpy()})
        plac = pd.DataFrame(rows)
        ratio = fit.post_rmspe / fit.pre_rmspe if fit.pre_rmspe > 0 else np.inf
        result.p_value = float((1 + (plac["ratio"] >= ratio).sum()) / (1 + len(plac)))
        kept = plac[plac["pre_rmspe"] <= trim_factor * fit.pre_rmspe]
        result.p_value_trimmed = float((1 + (kept["ratio"] >= ratio).sum()) / (1 + len(kept)))
        result.placebos = plac
        result.notes.append(
            f"Placebo p-value: rank of the post/pre RMSPE ratio among {len(plac)} donors treated in turn "
            f"(smallest possible {1 / (1 + len(plac)):.3f}); trimmed version drops placebos whose pre-period fit "
            f"is over {trim_factor:g} times worse than the treated unit's ({len(kept)} kept).")
    return result
