"""NAO value-for-money model: Monte Carlo against analytic cases, sensitivity and bad inputs."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.errors import InputError
from analysis.vfm import failure, model

TERMS = model.ProgrammeTerms(contract_years=5, n_enterprises=50, discount_rate=0.035)
CENTRAL = {"contract_value": 900.0, "inhouse_efficiency": 0.04, "contracted_savings": 0.0,
           "failure_hazard": 0.05, "transition_cost": 0.25, "risk_retained": 1.0}


def closed_form(value, e, s, h, k, rho, years, r):
    """Written out independently: geometric sums of the two streams."""
    total = 0.0
    for t in range(1, years + 1):
        total += (value * ((1 - s) ** t - (1 - e) ** t) + h * k * rho * value) / (1 + r) ** t
    return total


def test_deterministic_inputs_reproduce_the_closed_form_npv():
    got = model.deterministic(CENTRAL, TERMS)["total"]
    want = closed_form(900, 0.04, 0.0, 0.05, 0.25, 1.0, 5, 0.035)
    assert got == pytest.approx(want, rel=1e-12)


def test_monte_carlo_with_constant_inputs_and_expected_failures_equals_closed_form():
    dists = {k: model.constant(v) for k, v in CENTRAL.items()}
    mc = model.monte_carlo(dists, TERMS, n=1000, seed=1, failure_counts="expected")
    assert np.allclose(mc.draws["total"], closed_form(900, 0.04, 0.0, 0.05, 0.25, 1.0, 5, 0.035), rtol=1e-12)


def test_binomial_failures_average_to_the_expected_cost():
    dists = {k: model.constant(v) for k, v in CENTRAL.items()}
    mc = model.monte_carlo(dists, TERMS, n=200_000, seed=7)
    expected = model.deterministic(CENTRAL, TERMS)["failure_cost"]
    se = mc.draws["failure_cost"].std(ddof=1) / np.sqrt(mc.n)
    assert abs(mc.draws["failure_cost"].mean() - expected) < 4 * se


def test_linear_model_with_normal_inputs_has_known_mean_and_variance():
    """With e = s and h = 0 the value at risk is linear in the contract value: NPV = c * V * (a - b)... here
    foregone savings vanish, and failure cost = V * K * rho * h * A is linear in V when K, rho, h are fixed.
    A normal V therefore gives a normal NPV with mean c*mu and sd c*sigma."""
    terms = model.ProgrammeTerms(contract_years=4, n_enterprises=10, discount_rate=0.035)
    annuity = sum((1.035) ** -t for t in range(1, 5))
    c = 0.3 * 0.8 * 0.1 * annuity  # K * rho * h * annuity
    mu, sigma = 900.0, 60.0
    dists = {"contract_value": model.normal(mu, sigma), "inhouse_efficiency": model.constant(0.02),
             "contracted_savings": model.constant(0.02), "failure_hazard": model.constant(0.1),
             "transition_cost": model.constant(0.3), "risk_retained": model.constant(0.8)}
    n = 400_000
    mc = model.monte_carlo(dists, terms, n=n, seed=11, failure_counts="expected")
    draws = mc.draws["total"]
    assert abs(draws.mean() - c * mu) < 4 * c * sigma / np.sqrt(n)
    # Variance: sample variance of n normals has sd sigma^2 * sqrt(2/(n-1)).
    assert draws.var(ddof=1) == pytest.approx((c * sigma) ** 2, rel=4 * np.sqrt(2 / (n - 1)))
    assert stats.normaltest(draws[:5000]).pvalue > 1e-4


def test_same_seed_same_draws_different_seed_different_draws():
    dists = {"contract_value": model.uniform(800, 1000), "inhouse_efficiency": model.triangular(0.01, 0.03, 0.04),
             "contracted_savings": model.triangular(0, 0, 0.01), "failure_hazard": model.hazard_from_counts(100, 2000),
             "transition_cost": model.triangular(0.05, 0.25, 0.5), "risk_retained": model.triangular(0.5, 1, 1)}
    a = model.monte_carlo(dists, TERMS, n=10_000, seed=3)
    b = model.monte_carlo(dists, TERMS, n=10_000, seed=3)
    c = model.monte_carlo(dists, TERMS, n=10_000, seed=4)
    assert np.array_equal(a.draws["total"], b.draws["total"])
    assert not np.array_equal(a.draws["total"], c.draws["total"])
    summary = a.summary().set_index("component")
    assert summary.loc["total", "low"] < summary.loc["total", "median"] < summary.loc["total", "high"]


def test_tornado_is_ordered_by_swing_and_each_swing_is_correct():
    dists = {"contract_value": model.uniform(800, 1000), "inhouse_efficiency": model.triangular(0.01, 0.04, 0.04),
             "contracted_savings": model.triangular(0, 0, 0.01), "failure_hazard": model.constant(0.05),
             "transition_cost": model.triangular(0.05, 0.25, 0.5), "risk_retained": model.triangular(0.5, 1, 1)}
    t = model.tornado(dists, TERMS)
    assert list(t["swing"]) == sorted(t["swing"], reverse=True)
    assert t.iloc[0]["input"] == "inhouse_efficiency"
    row = t.set_index("input").loc["contracted_savings"]
    central = {k: d.central for k, d in dists.items()}
    assert row["npv_at_high"] == pytest.approx(model.deterministic({**central, "contracted_savings": 0.01}, TERMS)["total"])
    assert t.set_index("input").loc["failure_hazard", "swing"] == 0


def test_switching_value_breaks_even():
    s_star = model.switching_value("contracted_savings", CENTRAL, TERMS)
    assert model.deterministic({**CENTRAL, "contracted_savings": s_star}, TERMS)["total"] == pytest.approx(0, abs=1e-6)
    # Without failure costs the break-even saving equals the in-house efficiency exactly.
    no_risk = {**CENTRAL, "failure_hazard": 0.0}
    assert model.switching_value("contracted_savings", no_risk, TERMS) == pytest.approx(0.04, abs=1e-10)
    # No root within bounds -> None
    assert model.switching_value("failure_hazard", CENTRAL, TERMS) is None


@pytest.mark.parametrize("bad", [
    {"contract_value": -1.0}, {"inhouse_efficiency": 1.5}, {"failure_hazard": -0.1}, {"transition_cost": -2.0},
])
def test_impossible_inputs_are_rejected(bad):
    with pytest.raises(InputError):
        model.deterministic({**CENTRAL, **bad}, TERMS)


def test_bad_terms_and_simulation_counts_are_rejected():
    with pytest.raises(InputError):
        model.ProgrammeTerms(contract_years=0, n_enterprises=5, discount_rate=0.035)
    with pytest.raises(InputError):
        model.ProgrammeTerms(contract_years=5, n_enterprises=5, discount_rate=1.5)
    dists = {k: model.constant(v) for k, v in CENTRAL.items()}
    with pytest.raises(InputError, match="at least 1"):
        model.monte_carlo(dists, TERMS, n=0, seed=1)
    with pytest.raises(InputError, match="missing"):
        model.monte_carlo({"contract_value": model.constant(1)}, TERMS, n=10, seed=1)
    with pytest.raises(InputError):
        model.triangular(0.5, 0.1, 0.9)


def test_poisson_interval_matches_the_exact_garwood_values():
    # 0 events in 1 unit: 95% upper bound 3.689 (chi2(0.975, 2)/2); 10 events: 4.795 to 18.390.
    lo, hi = failure.poisson_rate_ci(0, 1.0)
    assert lo == 0 and hi == pytest.approx(3.6889, abs=1e-4)
    lo, hi = failure.poisson_rate_ci(10, 1.0)
    assert lo == pytest.approx(4.7954, abs=1e-4) and hi == pytest.approx(18.3904, abs=1e-4)
    with pytest.raises(InputError):
        failure.poisson_rate_ci(-1, 1.0)


def test_hazard_distribution_is_centred_on_the_observed_rate():
    dist = model.hazard_from_counts(50, 1000)
    draws = dist.sample(np.random.default_rng(0), 100_000)
    assert dist.low < dist.central < dist.high
    assert np.mean(-np.log1p(-draws)) == pytest.approx(50.5 / 1000, rel=0.01)
