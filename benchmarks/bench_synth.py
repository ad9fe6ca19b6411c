"""Benchmark: synthetic control with predictors, the new exact solver against the solver before issue #15.

Data: Proposition 99 (Abadie, Diamond and Hainmueller 2010; cigarette sales shipped by
``causalpy``) with ADH-style predictor windows: outcome lags in 1975, 1980 and 1988 and the
outcome averaged over 1970-74 and 1980-88. V is chosen on every pre-period outcome.

Both solvers run side by side in the same process on the same problem:

* baseline: the solver the library had before issue #15 (reproduced below): every weight
  problem solved by SLSQP from several starts (at least three, even inside the V search),
  V by multi-start Nelder-Mead. It is too slow for all 38 donors (a fit did not finish in
  47 minutes in the issue's report), so both are timed on a 12-donor pool first;
* new: ``analysis.mutuals.panel.synthetic_control`` (exact active-set QP, warm-started,
  bounded outer starts), then alone on the full 38-donor pool, with placebo inference.

Prints wall-clock and CPU seconds, the pre-period loss each reaches (lower is better) and
the ratios. Run: ``python benchmarks/bench_synth.py`` (``--quick`` skips the placebos).
"""

from __future__ import annotations

import argparse
import time
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize

from analysis.mutuals.panel import PanelColumns, predictor_table, synthetic_control, validate_panel

PREDICTORS = [("outcome", [1975]), ("outcome", [1980]), ("outcome", [1988]), ("outcome", range(1970, 1975)),
              ("outcome", range(1980, 1989))]
PRE = list(range(1970, 1989))


def load_prop99():
    path = Path(metadata.distribution("causalpy").locate_file("causalpy/data/california_prop99.csv"))
    long = pd.read_csv(path).melt(id_vars="Year", var_name="state", value_name="packs")
    long["treated"] = ((long["state"] == "California") & (long["Year"] >= 1989)).astype(int)
    return long


# --- Baseline: the solver before issue #15 (git history of src/analysis/mutuals/panel/synth.py) ----------

def baseline_simplex_weights(X1, X0, v=None, *, n_starts=8, seed=0):
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
    for i in np.argsort([np.sum((A[:, i] - b) ** 2) for i in range(j)])[:3]:
        e = np.zeros(j)
        e[i] = 1.0
        starts.append(0.9 * e + 0.1 / j)
    rng = np.random.default_rng(seed)
    while len(starts) < n_starts:
        starts.append(rng.dirichlet(np.ones(j)))
    best_w, best_f = None, np.inf
    cons = ({"type": "eq", "fun": lambda w: np.sum(w) - 1.0, "jac": lambda w: np.ones_like(w)},)
    for start in starts:
        res = optimize.minimize(objective, start, jac=gradient, method="SLSQP", bounds=[(0, 1)] * j,
                                constraints=cons, options={"ftol": 1e-12, "maxiter": 200})
        w = np.clip(res.x, 0, None)
        w = w / w.sum()
        f = objective(w)
        if f < best_f:
            best_w, best_f = w, f
    return best_w, best_f


def baseline_fit(Y, treated, donors, P, n_starts=8, seed=0):
    y1 = Y.loc[treated, PRE].to_numpy(float)
    Y0 = Y.loc[donors, PRE].to_numpy(float).T
    P = P.loc[[treated] + donors]
    Z = (P / P.std(ddof=1).replace(0, 1.0)).to_numpy(float)
    x1, X0 = Z[0], Z[1:].T
    k = X0.shape[0]

    def loss(theta):
        v = np.exp(theta - theta.max())
        w, _ = baseline_simplex_weights(x1, X0, v / v.sum(), n_starts=3, seed=seed)
        r = y1 - Y0 @ w
        return float(r @ r)

    rng = np.random.default_rng(seed)
    starts = [np.zeros(k)] + [rng.normal(0, 1.5, k) for _ in range(max(1, n_starts // 2))]
    best = min((optimize.minimize(loss, s, method="Nelder-Mead",
                                  options={"maxiter": 400 * k, "xatol": 1e-6, "fatol": 1e-10}) for s in starts),
               key=lambda r: r.fun)
    v = np.exp(best.x - best.x.max())
    w, _ = baseline_simplex_weights(x1, X0, v / v.sum(), n_starts=n_starts, seed=seed)
    gap = y1 - Y0 @ w
    return float(np.mean(gap ** 2)), pd.Series(w, index=donors)


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    out = fn()
    return out, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--donors", type=int, default=12, help="donor pool size for the side-by-side run")
    parser.add_argument("--quick", action="store_true", help="skip the full placebo run")
    args = parser.parse_args()

    long = load_prop99()
    states = sorted(s for s in long["state"].unique() if s != "California")
    # A reduced pool that keeps ADH's main donors, so the fit is meaningful.
    keep = ["Colorado", "Connecticut", "Montana", "Nevada", "Utah", "New Hampshire", "New Mexico", "Idaho"]
    pool = (keep + [s for s in states if s not in keep])[:args.donors]
    small = long[long["state"].isin(pool + ["California"])]
    cols = PanelColumns(unit="state", time="Year", outcome="packs", treated="treated")
    panel_small = validate_panel(small, cols)
    panel_full = validate_panel(long, cols)

    print(f"Proposition 99, {len(PREDICTORS)} predictors (outcome lags 1975/1980/1988, means 1970-74 and 1980-88)")
    print(f"\nSide by side, {len(pool)} donors:")
    Y = panel_small.wide("outcome")
    P = predictor_table(panel_small, PREDICTORS, PRE)
    (old_loss, _), old_wall, old_cpu = timed(lambda: baseline_fit(Y, "California", sorted(pool), P))
    new, new_wall, new_cpu = timed(lambda: synthetic_control(panel_small, "California", predictors=PREDICTORS,
                                                             placebo=False))
    print(f"  baseline (SLSQP inner, before #15): {old_wall:7.1f} s wall {old_cpu:7.1f} s CPU  pre-period MSPE "
          f"{old_loss:.4f}")
    print(f"  new (exact active set):            {new_wall:7.1f} s wall {new_cpu:7.1f} s CPU  pre-period MSPE "
          f"{new.loss_v:.4f}")
    print(f"  speed-up: {old_wall / new_wall:.1f}x wall, {old_cpu / new_cpu:.1f}x CPU; "
          f"loss ratio new/baseline {new.loss_v / old_loss:.4f} (<= 1 is as good or better)")

    print(f"\nNew solver alone, all {panel_full.data['unit'].nunique() - 1} donors:")
    full, wall, cpu = timed(lambda: synthetic_control(panel_full, "California", predictors=PREDICTORS,
                                                      placebo=False))
    print(f"  one fit: {wall:.1f} s wall, {cpu:.1f} s CPU; pre-period MSPE {full.loss_v:.4f}, "
          f"RMSPE {full.pre_rmspe:.3f}, ATT {full.att:.2f} packs")
    print("  weights: " + ", ".join(f"{k} {v:.3f}" for k, v in full.weights[full.weights > 1e-3].items()))
    print("  V: " + ", ".join(f"{k} {v:.3f}" for k, v in full.v_weights.items()))
    if not args.quick:
        placebo, wall, cpu = timed(lambda: synthetic_control(panel_full, "California", predictors=PREDICTORS))
        print(f"  with placebo inference over {len(placebo.placebos)} donors: {wall:.1f} s wall "
              f"({wall / 60:.1f} min), {cpu:.1f} s CPU; placebo p = {placebo.p_value:.3f}")


if __name__ == "__main__":
    main()
