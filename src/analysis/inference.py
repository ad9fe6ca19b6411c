"""Inference that stays valid with few clusters: the wild cluster bootstrap.

Cluster-robust (CR1) standard errors assume many clusters, and many *treated* clusters:
with 7-9 social enterprises, or a handful of spin-outs in a panel, clustered t-tests
over-reject, sometimes badly (Cameron, Gelbach and Miller 2008; MacKinnon and Webb 2017).
The restricted wild cluster bootstrap (WCR) of Cameron, Gelbach and Miller (2008), with the
null hypothesis imposed and the CR1 t-statistic bootstrapped, is the standard remedy
(Roodman, MacKinnon, Nielsen and Webb 2019, "Fast and wild", Stata Journal; the
``boottest`` / ``fwildclusterboot`` / ``wildboottest`` packages).

Conventions, chosen to match those packages' defaults:

* null imposed (WCR), bootstrap t-statistic with the same CR1 small-sample factor as the
  original (it cancels in the p-value); symmetric two-sided p-value, share of |t*| >= |t|;
* Rademacher weights (+1/-1) by default; Webb's six-point weights (+-sqrt(1/2), +-1,
  +-sqrt(3/2)) when there are fewer than 12 clusters (Rademacher gives only 2^G distinct
  draws, too coarse below about 12 clusters; Webb 2014), or on request;
* all 2^G (Rademacher) or 6^G (Webb) sign patterns are enumerated when that is no more than
  the requested number of draws, which makes the p-value exact and reproducible; otherwise
  ``n_boot`` random draws with a fixed seed;
* optional analytic weights (WLS): the regression is run on sqrt(w)-scaled data.

Caveat, stated with every result: with very few *treated* clusters (1-3) even the WCR is
unreliable (it under-rejects, i.e. is conservative: MacKinnon and Webb 2017, 2018); a
randomisation test over the treatment labels is then the better companion.

The computation is the closed form of Roodman et al. (2019): the bootstrap coefficients and
cluster scores are linear in the G cluster weights, so each draw costs O(G^2), not a refit.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import product

import numpy as np
import pandas as pd

from analysis.errors import InputError

WEBB_WEIGHTS = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])


@dataclass(frozen=True)
class WildBootstrapResult:
    coefficient: str
    estimate: float
    t_statistic: float  # CR1 t-statistic of the original fit
    p_value: float
    n_clusters: int
    n_draws: int
    enumerated: bool  # every sign pattern used (exact p-value)
    weights: str  # "rademacher" or "webb"
    null: float
    note: str = ""

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def _weight_draws(G: int, kind: str, n_boot: int, rng: np.random.Generator) -> tuple[np.ndarray, bool]:
    values = np.array([-1.0, 1.0]) if kind == "rademacher" else WEBB_WEIGHTS
    if len(values) ** G <= n_boot:
        return np.array(list(product(values, repeat=G))).T, True  # G x draws
    return rng.choice(values, size=(G, n_boot)), False


def wild_cluster_bootstrap(y, X, clusters, coefficient, *, weights=None, null: float = 0.0, n_boot: int = 9999,
                           weight_type: str | None = None, seed: int = 0) -> WildBootstrapResult:
    """Restricted wild cluster bootstrap p-value for H0: beta[coefficient] = null in y = X beta + u.

    ``X`` is a DataFrame (the coefficient is named) or an array (the coefficient is a column
    index); include the intercept and fixed-effect dummies yourself. ``clusters`` labels each
    row's cluster; ``weights`` are analytic (WLS) weights.
    """
    y = np.asarray(y, float)
    if isinstance(X, pd.DataFrame):
        names = list(X.columns)
        if coefficient not in names:
            raise InputError(f"{coefficient!r} is not a column of X ({names})")
        j = names.index(coefficient)
        Xa = X.to_numpy(float)
    else:
        Xa = np.asarray(X, float)
        j = int(coefficient)
        names = [f"x{i}" for i in range(Xa.shape[1])]
    n, k = Xa.shape
    if len(y) != n or len(clusters) != n:
        raise InputError("y, X and clusters must have the same number of rows")
    if not (np.isfinite(y).all() and np.isfinite(Xa).all()):
        raise InputError("y and X must be finite (drop missing rows first)")
    codes, labels = pd.factorize(pd.Series(clusters).astype(str))
    G = len(labels)
    if G < 2:
        raise InputError("the wild cluster bootstrap needs at least two clusters")
    if weight_type is None:
        weight_type = "webb" if G < 12 else "rademacher"
    if weight_type not in ("rademacher", "webb"):
        raise InputError("weight_type must be 'rademacher' or 'webb'")
    if n_boot < 99:
        raise InputError("use at least 99 bootstrap draws (9999 recommended)")
    if weights is not None:
        w = np.asarray(weights, float)
        if w.shape != (n,) or not np.all(w > 0):
            raise InputError("weights must be positive, one per row")
        s = np.sqrt(w)
        y, Xa = y * s, Xa * s[:, None]
    if np.linalg.matrix_rank(Xa) < k:
        raise InputError("X is collinear: the coefficient is not identified")

    XtX_inv = np.linalg.inv(Xa.T @ Xa)
    A = XtX_inv @ Xa.T  # k x n
    beta = A @ y
    u = y - Xa @ beta
    factor = G / (G - 1) * (n - 1) / (n - k)
    q = XtX_inv[j] @ Xa.T  # influence of each row on beta_j (n,)
    onehot = np.zeros((n, G))
    onehot[np.arange(n), codes] = 1.0
    score = onehot.T @ (q * u)
    se = np.sqrt(factor * np.sum(score ** 2))
    t_stat = (beta[j] - null) / se

    # Restricted fit: impose beta_j = null.
    others = [i for i in range(k) if i != j]
    y_shift = y - null * Xa[:, j]
    Xr = Xa[:, others]
    beta_r = np.linalg.lstsq(Xr, y_shift, rcond=None)[0] if others else np.zeros(0)
    u_r = y_shift - Xr @ beta_r if others else y_shift
    fitted_r = y - u_r  # includes null * x_j

    # Bootstrap: y* = fitted_r + u_r * v_g.  beta*_j - null = a + c'v; cluster scores S = (diag(d) - E C) v.
    a = float(A[j] @ fitted_r - null)
    C = (A * u_r[None, :]) @ onehot  # k x G: column g = A_g u_r,g
    c = C[j]  # (G,)
    d = onehot.T @ (q * u_r)  # (G,)
    E = onehot.T @ (q[:, None] * Xa)  # G x k
    M = np.diag(d) - E @ C  # G x G
    rng = np.random.default_rng(seed)
    V, enumerated = _weight_draws(G, weight_type, n_boot, rng)
    numer = a + c @ V
    S = M @ V
    se_star = np.sqrt(factor * np.sum(S ** 2, axis=0))
    with np.errstate(divide="ignore", invalid="ignore"):
        t_star = np.where(se_star > 0, numer / se_star, 0.0)
    p = float(np.mean(np.abs(t_star) >= abs(t_stat) - 1e-12))
    note = ""
    if G < 12 and weight_type == "rademacher":
        note = f"Only {G} clusters: Rademacher weights give at most {2 ** G} distinct draws; Webb weights are better."
    return WildBootstrapResult(names[j], float(beta[j]), float(t_stat), p, G, V.shape[1], enumerated, weight_type,
                               null, note)


def few_treated_caveat(n_treated: int) -> str:
    """What a reader must know about cluster inference with ``n_treated`` treated clusters."""
    if n_treated <= 3:
        return (f"Only {n_treated} treated cluster(s): even the wild cluster bootstrap is unreliable here (it tends to "
                "be conservative); rely on randomisation or placebo inference.")
    if n_treated < 10:
        return (f"{n_treated} treated clusters: clustered standard errors are too small with so few; the wild cluster "
                "bootstrap p-value is the one to quote.")
    return ""
