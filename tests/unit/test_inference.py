"""The restricted wild cluster bootstrap (analysis.inference).

Validation: with full enumeration of the Rademacher (2^G) or Webb (6^G) sign patterns the
WCR p-value is deterministic, so it is checked exactly (tolerance 0: the same draws, the same
count) against a brute-force implementation that refits statsmodels OLS with CR1 clustered
errors on every bootstrap sample (Cameron, Gelbach and Miller 2008, the algorithm the closed
form of Roodman et al. 2019 reproduces). The t-statistic of the original fit equals
statsmodels' CR1 t to 1e-10. On SIMULATED data only.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.errors import InputError
from analysis.inference import WEBB_WEIGHTS, few_treated_caveat, wild_cluster_bootstrap


def _simulated(G=8, per=6, seed=3, effect=0.3):
    rng = np.random.default_rng(seed)
    clusters = np.repeat(np.arange(G), per)
    n = G * per
    x = rng.normal(size=n)
    d = (clusters < 3).astype(float)
    y = effect * d + 0.5 * x + rng.normal(size=n) + rng.normal(size=G)[clusters]
    return y, pd.DataFrame({"const": 1.0, "d": d, "x": x}), clusters, rng.uniform(1, 3, n)


def _brute_force(y, X, clusters, column, weights, values):
    s = np.sqrt(weights) if weights is not None else np.ones(len(y))
    ys, Xs = y * s, X.to_numpy(float) * s[:, None]
    j = list(X.columns).index(column)
    t0 = sm.OLS(ys, Xs).fit(cov_type="cluster", cov_kwds={"groups": clusters}).tvalues[j]
    restricted = sm.OLS(ys, np.delete(Xs, j, axis=1)).fit()
    G = len(np.unique(clusters))
    t_star = []
    for v in itertools.product(values, repeat=G):
        yb = restricted.fittedvalues + restricted.resid * np.asarray(v)[clusters]
        t_star.append(sm.OLS(yb, Xs).fit(cov_type="cluster", cov_kwds={"groups": clusters}).tvalues[j])
    return t0, float(np.mean(np.abs(t_star) >= abs(t0) - 1e-12))


@pytest.mark.parametrize("weighted", [False, True])
def test_enumerated_rademacher_p_value_equals_brute_force_refits(weighted):
    y, X, clusters, w = _simulated()
    weights = w if weighted else None
    res = wild_cluster_bootstrap(y, X, clusters, "d", weights=weights, weight_type="rademacher")
    t0, p = _brute_force(y, X, clusters, "d", weights, [-1.0, 1.0])
    assert res.enumerated and res.n_draws == 2 ** 8
    assert res.t_statistic == pytest.approx(t0, abs=1e-10)
    assert res.p_value == p


def test_enumerated_webb_p_value_equals_brute_force_refits():
    y, X, clusters, _ = _simulated(G=4, per=8, seed=7, effect=1.0)
    res = wild_cluster_bootstrap(y, X, clusters, "d", weight_type="webb", n_boot=6 ** 4)
    assert res.enumerated and res.n_draws == 6 ** 4
    _, p = _brute_force(y, X, clusters, "d", None, WEBB_WEIGHTS)
    assert res.p_value == p


def test_random_draws_approximate_the_enumerated_p_value():
    y, X, clusters, _ = _simulated(G=14, per=4, seed=11)
    exact = wild_cluster_bootstrap(y, X, clusters, "d", weight_type="rademacher", n_boot=2 ** 14)
    drawn = wild_cluster_bootstrap(y, X, clusters, "d", weight_type="rademacher", n_boot=9999, seed=1)
    assert exact.enumerated and not drawn.enumerated
    assert drawn.p_value == pytest.approx(exact.p_value, abs=3 * np.sqrt(0.25 / 9999))


def test_a_real_effect_is_detected_and_a_null_one_is_not():
    y, X, clusters, _ = _simulated(G=20, per=10, seed=2, effect=3.0)
    assert wild_cluster_bootstrap(y, X, clusters, "d").p_value < 0.01
    y, X, clusters, _ = _simulated(G=20, per=10, seed=2, effect=0.0)
    assert wild_cluster_bootstrap(y, X, clusters, "x", null=0.5).p_value > 0.05


def test_defaults_switch_to_webb_weights_below_twelve_clusters():
    y, X, clusters, _ = _simulated(G=8)
    assert wild_cluster_bootstrap(y, X, clusters, "d").weights == "webb"
    assert "conservative" in few_treated_caveat(2) and "bootstrap" in few_treated_caveat(7)
    assert few_treated_caveat(40) == ""


@pytest.mark.parametrize("kwargs,message", [
    ({"coefficient": "z"}, "not a column"),
    ({"weight_type": "mammen"}, "weight_type"),
    ({"n_boot": 10}, "at least 99"),
    ({"weights": -np.ones(48)}, "positive"),
])
def test_bad_bootstrap_input_is_rejected(kwargs, message):
    y, X, clusters, _ = _simulated()
    args = {"coefficient": "d", **kwargs}
    with pytest.raises(InputError, match=message):
        wild_cluster_bootstrap(y, X, clusters, args.pop("coefficient"), **args)
