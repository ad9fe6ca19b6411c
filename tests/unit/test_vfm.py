"""NAO value-for-money model: closed forms, scenarios, the two-sided failure proxy, sensitivity and bad inputs.

Tolerances: deterministic results against hand-written closed forms to 1e-12 relative; Monte Carlo
means within 4 Monte Carlo standard errors of the closed form (a false alarm about once in 16,000 runs
for a fixed seed; the seeds are fixed, so the tests are deterministic).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from analysis.errors import InputError
from analysis.vfm import failure, model
from analysis.vfm.analysis import ProbabilityWorse, probability_worse
from analysis.vfm.inputs import SCENARIOS, ResolvedInputs

TERMS = model.ProgrammeTerms(n_enterprises=50, discount_rate=0.035)
CENTRAL = {"contract_value": 900.0, "contract_years": 5, "inhouse_efficiency": 0.04, "contracted_savings": 0.0,
           "failure_hazard": 0.05, "inhouse_failure_hazard": 0.02, "transition_cost": 0.25, "risk_retained": 0.8,
           "setup_cost": 8.0}


def closed_form(value, e, s, h_se, h_ih, k, rho, years, r, setup):
    """Written out independently of the model: the set-up cost plus the discounted yearly streams."""
    total = setup
    for t in range(1, years + 1):
        foregone = value * ((1 - s) ** t - (1 - e) ** t)
        failure_cost = value * k * (rho * h_se - h_ih)  # n enterprises x (V/n) each
        total += (foregone + failure_cost) / (1 + r) ** t
    return total


def constants(values: dict) -> dict:
    return {k: model.constant(float(v)) for k, v in values.items()}


def test_deterministic_inputs_reproduce_the_closed_form_npv():
    got = model.deterministic(CENTRAL, TERMS)
    want = closed_form(900, 0.04, 0.0, 0.05, 0.02, 0.25, 0.8, 5, 0.035, 8.0)
    assert got["total"] == pytest.approx(want, rel=1e-12)
    assert got["total"] == pytest.approx(got["foregone_savings"] + got["extra_failure_cost"] + got["setup_cost"],
                                         rel=1e-12)
    # A hand calculation of one piece: year-1 foregone saving 900 x 0.04 / 1.035 = 34.7826...
    one_year = model.deterministic({**CENTRAL, "contract_years": 1, "failure_hazard": 0.0,
                                    "inhouse_failure_hazard": 0.0, "setup_cost": 0.0}, TERMS)
    assert one_year["total"] == pytest.approx(36 / 1.035, rel=1e-12)


def test_contracts_matching_in_house_give_exactly_zero_foregone_savings():
    """Scenario (a): the contracts' savings follow in-house efficiency draw by draw."""
    dists = constants(CENTRAL)
    dists["inhouse_efficiency"] = model.triangular(0.0004, 0.0156, 0.03)
    dists["contracted_savings"] = model.tied("inhouse_efficiency", dists["inhouse_efficiency"])
    mc = model.monte_carlo(dists, TERMS, n=20_000, seed=5)
    assert np.all(mc.draws["foregone_savings"] == 0.0)
    assert np.array_equal(mc.input_draws["contracted_savings"], mc.input_draws["inhouse_efficiency"])
    det = model.deterministic(model.central_values(dists), TERMS)
    assert det["foregone_savings"] == 0.0
    assert det["total"] == pytest.approx(closed_form(900, 0.0156, 0.0156, 0.05, 0.02, 0.25, 0.8, 5, 0.035, 8.0))
    # ... so in-house efficiency has no effect on the tornado, and contracted savings (tied) has no row.
    t = model.tornado(dists, TERMS).set_index("input")
    assert t.loc["inhouse_efficiency", "swing"] == 0
    assert "contracted_savings" not in t.index


def test_monte_carlo_with_constant_inputs_and_expected_failures_equals_closed_form():
    mc = model.monte_carlo(constants(CENTRAL), TERMS, n=1000, seed=1, failure_counts="expected")
    assert np.allclose(mc.draws["total"], closed_form(900, 0.04, 0.0, 0.05, 0.02, 0.25, 0.8, 5, 0.035, 8.0),
                       rtol=1e-12)


def test_binomial_failures_on_both_sides_average_to_the_expected_cost():
    mc = model.monte_carlo(constants(CENTRAL), TERMS, n=200_000, seed=7)
    expected = model.deterministic(CENTRAL, TERMS)["extra_failure_cost"]
    se = mc.draws["extra_failure_cost"].std(ddof=1) / np.sqrt(mc.n)
    assert abs(mc.draws["extra_failure_cost"].mean() - expected) < 4 * se
    assert (mc.draws["extra_failure_cost"] < 0).any()  # in-house closures can outweigh spin-out failures


def test_varied_contract_length_averages_the_three_lengths():
    """Each of 3, 4 and 5 years equally likely: the mean is the average of the three closed forms."""
    dists = constants({**CENTRAL})
    dists["contract_years"] = model.integer_uniform(3, 5)
    mc = model.monte_carlo(dists, TERMS, n=300_000, seed=9, failure_counts="expected")
    values = np.unique(mc.input_draws["contract_years"])
    assert list(values) == [3, 4, 5]
    want = np.mean([closed_form(900, 0.04, 0.0, 0.05, 0.02, 0.25, 0.8, t, 0.035, 8.0) for t in (3, 4, 5)])
    se = mc.draws["total"].std(ddof=1) / np.sqrt(mc.n)
    assert abs(mc.draws["total"].mean() - want) < 4 * se
    # Draws with 3-year contracts add nothing after year 3 in the cumulative path.
    three = mc.input_draws["contract_years"] == 3
    assert np.allclose(mc.cumulative_total[three, 2], mc.cumulative_total[three, 4])
    t = model.tornado(dists, TERMS).set_index("input")
    assert t.loc["contract_years", "npv_at_low"] == pytest.approx(
        closed_form(900, 0.04, 0.0, 0.05, 0.02, 0.25, 0.8, 3, 0.035, 8.0))


def test_linear_model_with_normal_inputs_has_known_mean_and_variance():
    """With e = s, no in-house closures and no set-up cost the value at risk is c * V with
    c = K * rho * h * annuity, so a normal V gives a normal total with mean c*mu and sd c*sigma."""
    terms = model.ProgrammeTerms(n_enterprises=10, discount_rate=0.035)
    annuity = sum(1.035 ** -t for t in range(1, 5))
    c = 0.3 * 0.8 * 0.1 * annuity
    mu, sigma = 900.0, 60.0
    dists = constants({"contract_years": 4, "inhouse_efficiency": 0.02, "contracted_savings": 0.02,
                       "failure_hazard": 0.1, "inhouse_failure_hazard": 0.0, "transition_cost": 0.3,
                       "risk_retained": 0.8, "setup_cost": 0.0})
    dists["contract_value"] = model.normal(mu, sigma)
    n = 400_000
    draws = model.monte_carlo(dists, terms, n=n, seed=11, failure_counts="expected").draws["total"]
    assert abs(draws.mean() - c * mu) < 4 * c * sigma / np.sqrt(n)
    # The sample variance of n normals has sd sigma^2 sqrt(2/(n-1)).
    assert draws.var(ddof=1) == pytest.approx((c * sigma) ** 2, rel=4 * np.sqrt(2 / (n - 1)))
    assert stats.normaltest(draws[:5000]).pvalue > 1e-4


def test_distribution_means_match_their_closed_forms():
    assert model.triangular(0.0, 0.25, 0.5).mean == pytest.approx(0.25)
    assert model.triangular(0.5, 1.0, 1.0).mean == pytest.approx(2.5 / 3)
    assert model.integer_uniform(3, 5).mean == 4
    dist = model.hazard_from_counts(5, 100)
    shape, scale = dist.params
    want, _ = integrate.quad(lambda g: (1 - np.exp(-g)) * stats.gamma.pdf(g, shape, scale=scale), 0, np.inf)
    assert dist.mean == pytest.approx(want, rel=1e-8)


def _ensemble(**kw):
    # Two definitions with opposite signs: A has spin-outs closing rarely and in-house often, B the reverse.
    return model.ProxyEnsemble(("A", "B"), (0.0, 900.0), (1e6, 1000.0), (900.0, 0.0), (1000.0, 1e6), **kw)


def test_proxy_ensemble_draws_both_sides_from_the_same_definition():
    ens = _ensemble()
    draws = ens.sample(np.random.default_rng(3), 100_000)
    se, ih = draws["failure_hazard"], draws["inhouse_failure_hazard"]
    assert not np.any((se > 0.1) & (ih > 0.1))  # never both high: the definition is shared within a draw
    assert abs((se > 0.1).mean() - 0.5) < 0.01  # each definition equally likely
    # Mixture mean = average over definitions of the posterior mean 1 - (1 + 1/x)^-(e + 0.5).
    want = np.mean([1 - (1 + 1e-6) ** -0.5, 1 - (1 + 1e-3) ** -900.5])
    assert ens.mean["failure_hazard"] == pytest.approx(want, rel=1e-12)
    assert se.mean() == pytest.approx(want, rel=0.01)
    # Central = average of the point probabilities.
    assert ens.central["failure_hazard"] == pytest.approx(np.mean([0.0, -np.expm1(-0.9)]), rel=1e-12)
    fixed = _ensemble(fixed=(None, 0.01)).sample(np.random.default_rng(3), 100)
    assert np.all(fixed["inhouse_failure_hazard"] == 0.01)


def test_tornado_moves_both_hazards_across_the_definitions():
    dists = constants(CENTRAL)
    del dists["failure_hazard"], dists["inhouse_failure_hazard"]
    dists[model.HAZARD_PAIR_KEY] = _ensemble()
    t = model.tornado(dists, TERMS)
    assert list(t["swing"]) == sorted(t["swing"], reverse=True)
    row = t.set_index("input").loc[model.HAZARD_PAIR_KEY]
    totals = [model.deterministic({**CENTRAL, "failure_hazard": a, "inhouse_failure_hazard": b}, TERMS)["total"]
              for a, b in _ensemble().point_pairs()]
    assert row["npv_at_low"] == pytest.approx(min(totals)) and row["npv_at_high"] == pytest.approx(max(totals))
    assert {row["low_definition"], row["high_definition"]} == {"A", "B"}
    assert t.iloc[0]["input"] == model.HAZARD_PAIR_KEY  # no longer pinned down by its sampling error alone


def test_switching_value_breaks_even():
    s_star = model.switching_value("contracted_savings", CENTRAL, TERMS)
    assert model.deterministic({**CENTRAL, "contracted_savings": s_star}, TERMS)["total"] == pytest.approx(0, abs=1e-6)
    # Without failure costs or set-up cost the break-even saving equals the in-house efficiency exactly.
    no_risk = {**CENTRAL, "failure_hazard": 0.0, "inhouse_failure_hazard": 0.0, "setup_cost": 0.0}
    assert model.switching_value("contracted_savings", no_risk, TERMS) == pytest.approx(0.04, abs=1e-10)
    assert model.switching_value("failure_hazard", CENTRAL, TERMS) is None  # no root within bounds
    # In the matching scenario the in-house rate has no effect, and the table says why.
    dists = constants(CENTRAL)
    dists["contracted_savings"] = model.tied("inhouse_efficiency", dists["inhouse_efficiency"])
    table = model.switching_values(dists, TERMS).set_index("input")
    assert pd.isna(table.loc["inhouse_efficiency", "switching_value"])
    assert "no effect" in table.loc["inhouse_efficiency", "note"]
    assert table.loc["contracted_savings", "switching_value"] > 0.04  # set-up and failure costs to recover


def _resolved(dists) -> ResolvedInputs:
    return ResolvedInputs(SCENARIOS["achieved"], dists, TERMS, pd.DataFrame(), pd.DataFrame())


def test_probability_worse_is_shown_only_when_the_inputs_leave_the_sign_open():
    base = constants(CENTRAL)
    apart = {**base, "inhouse_efficiency": model.triangular(0.01, 0.02, 0.03),
             "contracted_savings": model.constant(0.0)}
    mc = model.monte_carlo(apart, TERMS, n=5000, seed=1)
    prob = probability_worse(_resolved(apart), mc)
    assert prob == ProbabilityWorse(None, prob.reason) and "restate the assumption" in prob.reason
    overlap = {**apart, "contracted_savings": model.triangular(0.0, 0.02, 0.04)}
    mc = model.monte_carlo(overlap, TERMS, n=5000, seed=1)
    prob = probability_worse(_resolved(overlap), mc)
    assert prob.shown and prob.value == pytest.approx((mc.draws["total"] > 0).mean())
    assert 0 < prob.value < 1
    matched = {**base, "contracted_savings": model.tied("inhouse_efficiency", base["inhouse_efficiency"])}
    del matched["failure_hazard"], matched["inhouse_failure_hazard"]
    matched[model.HAZARD_PAIR_KEY] = _ensemble()
    mc = model.monte_carlo(matched, TERMS, n=5000, seed=1)
    # Foregone savings zero by construction: the sign turns on a failure cost public data cannot measure.
    prob = probability_worse(_resolved(matched), mc)
    assert not prob.shown and "cannot measure" in prob.reason


def test_proxy_ensemble_draws_only_the_chosen_definitions_and_the_tornado_moves_across_all():
    ens = _ensemble(drawn=(1,))
    draws = ens.sample(np.random.default_rng(3), 20_000)
    assert np.all(draws["failure_hazard"] > 0.5) and np.all(draws["inhouse_failure_hazard"] < 1e-4)  # B only
    assert ens.central["failure_hazard"] == pytest.approx(-np.expm1(-0.9), rel=1e-12)
    assert ens.mean["failure_hazard"] == pytest.approx(1 - (1 + 1e-3) ** -900.5, rel=1e-12)
    dists = {**constants(CENTRAL), model.HAZARD_PAIR_KEY: ens}
    del dists["failure_hazard"], dists["inhouse_failure_hazard"]
    row = model.tornado(dists, TERMS).set_index("input").loc[model.HAZARD_PAIR_KEY]
    assert {row["low_definition"], row["high_definition"]} == {"A", "B"}  # both named, though only B is drawn
    with pytest.raises(InputError, match="drawn definitions"):
        _ensemble(drawn=(2,))
    with pytest.raises(InputError, match="drawn definitions"):
        _ensemble(drawn=())


def test_same_seed_same_draws_different_seed_different_draws():
    dists = {**constants(CENTRAL), "contract_value": model.uniform(800, 1000),
             "inhouse_efficiency": model.triangular(0.0004, 0.0156, 0.03), "contract_years": model.integer_uniform(3,
                                                                                                                   5)}
    a = model.monte_carlo(dists, TERMS, n=10_000, seed=3)
    b = model.monte_carlo(dists, TERMS, n=10_000, seed=3)
    c = model.monte_carlo(dists, TERMS, n=10_000, seed=4)
    assert np.array_equal(a.draws["total"], b.draws["total"])
    assert not np.array_equal(a.draws["total"], c.draws["total"])
    summary = a.summary().set_index("component")
    assert summary.loc["total", "low"] < summary.loc["total", "median"] < summary.loc["total", "high"]
    assert summary.loc["total", "mean"] == pytest.approx(summary.loc[["foregone_savings", "extra_failure_cost",
                                                                      "setup_cost"], "mean"].sum())


@pytest.mark.parametrize("bad", [
    {"contract_value": -1.0}, {"inhouse_efficiency": 1.5}, {"failure_hazard": -0.1}, {"inhouse_failure_hazard": 2.0},
    {"transition_cost": -2.0}, {"setup_cost": -1.0}, {"contract_years": 0}, {"contract_years": 2.5},
])
def test_impossible_inputs_are_rejected(bad):
    with pytest.raises(InputError):
        model.deterministic({**CENTRAL, **bad}, TERMS)


def test_bad_terms_distributions_and_simulation_counts_are_rejected():
    with pytest.raises(InputError):
        model.ProgrammeTerms(n_enterprises=0, discount_rate=0.035)
    with pytest.raises(InputError):
        model.ProgrammeTerms(n_enterprises=5, discount_rate=1.5)
    dists = constants(CENTRAL)
    with pytest.raises(InputError, match="at least 1"):
        model.monte_carlo(dists, TERMS, n=0, seed=1)
    with pytest.raises(InputError, match="missing"):
        model.monte_carlo({"contract_value": model.constant(1)}, TERMS, n=10, seed=1)
    with pytest.raises(InputError, match="described twice"):
        model.monte_carlo({**dists, model.HAZARD_PAIR_KEY: _ensemble()}, TERMS, n=10, seed=1)
    with pytest.raises(InputError, match="tied"):
        model.monte_carlo({**dists, "contracted_savings": model.tied("nothing", dists["inhouse_efficiency"])},
                          TERMS, n=10, seed=1)
    with pytest.raises(InputError):
        model.triangular(0.5, 0.1, 0.9)
    with pytest.raises(InputError):
        model.integer_uniform(5, 3)
    with pytest.raises(InputError):
        model.ProxyEnsemble(("A",), (1.0,), (10.0,), (1.0, 2.0), (10.0,))
    with pytest.raises(InputError):
        model.ProxyEnsemble(("A",), (1.0,), (0.0,), (1.0,), (10.0,))
    with pytest.raises(InputError):
        _ensemble(fixed=(1.5, None))


def test_poisson_interval_matches_the_exact_garwood_values():
    # 0 events in 1 unit: 95% upper bound 3.689 (chi2(0.975, 2)/2); 10 events: 4.795 to 18.390.
    lo, hi = failure.poisson_rate_ci(0, 1.0)
    assert lo == 0 and hi == pytest.approx(3.6889, abs=1e-4)
    lo, hi = failure.poisson_rate_ci(10, 1.0)
    assert lo == pytest.approx(4.7954, abs=1e-4) and hi == pytest.approx(18.3904, abs=1e-4)
    with pytest.raises(InputError):
        failure.poisson_rate_ci(-1, 1.0)


def test_rate_difference_interval_agrees_with_wald_when_counts_are_large():
    """The score interval tends to the Wald interval d +/- z sqrt(a/x^2 + b/y^2) with many events (1% tolerance)."""
    a, x, b, y = 5000, 100_000.0, 4000, 100_000.0
    diff, lo, hi = failure.rate_difference(a, x, b, y, level=0.95)
    half = stats.norm.ppf(0.975) * np.sqrt(a / x**2 + b / y**2)
    assert diff == pytest.approx(0.01)
    assert lo == pytest.approx(diff - half, rel=0.01) and hi == pytest.approx(diff + half, rel=0.01)
    diff, lo, hi = failure.rate_difference(0, 2922, 0, 929, level=0.9)  # no events on either side
    assert diff == 0 and lo < 0 < hi
    with pytest.raises(InputError):
        failure.rate_difference(-1, 10, 1, 10)


def _yearly():
    rows = []
    for year in (2011, 2012):
        rows.append({"year": year, "ownership": "third sector", "homes": 1000, "closures": 50, "forced": 1})
        rows.append({"year": year, "ownership": "local authority", "homes": 200, "closures": 20, "forced": 0})
    return pd.DataFrame(rows)


def test_proxy_definitions_pair_the_measures_of_each_side():
    defs = failure.proxy_definitions(_yearly(), "third sector", "local authority", list(failure.MEASURES),
                                     (2011, 2012))
    assert len(defs) == 6
    row = defs[(defs["measure"] == "not chosen by the commissioner") & (defs["year"] == 2011)].iloc[0]
    assert (row["spinout_events"], row["inhouse_events"]) == (50, 0)  # all spin-out, involuntary in-house
    assert row["excess_rate"] == pytest.approx(0.05)
    allc = defs[(defs["measure"] == "all closures") & (defs["year"] == 2012)].iloc[0]
    assert allc["excess_rate"] == pytest.approx(0.05 - 0.10)
    cmp = failure.pooled_comparison(_yearly(), "third sector", "local authority", ["all closures"], (2011, 2012))
    assert cmp.iloc[0]["spinout_closures"] == 100 and cmp.iloc[0]["inhouse_home_years"] == 400
    with pytest.raises(InputError, match="measures"):
        failure.proxy_definitions(_yearly(), "third sector", "local authority", ["some closures"], (2011, 2012))
    with pytest.raises(InputError, match="not all in the closure data"):
        failure.proxy_definitions(_yearly(), "third sector", "local authority", ["all closures"], (2011, 2014))
    with pytest.raises(InputError, match="ownership"):
        failure.proxy_definitions(_yearly(), "charity", "local authority", ["all closures"], (2011, 2012))


@pytest.mark.parametrize("bounds,words", [
    ([(-0.07, -0.05), (-0.001, 0.001), (0.05, 0.06)], "points both ways"),
    ([(-0.001, 0.001)], "no clear difference"),
    ([(0.01, 0.02), (-0.001, 0.001)], "more often on some measures"),
    ([(-0.02, -0.01)], "less often on every measure"),
])
def test_proxy_direction_says_only_what_the_intervals_support(bounds, words):
    cmp = pd.DataFrame({"excess_ci_low": [b[0] for b in bounds], "excess_ci_high": [b[1] for b in bounds]})
    assert words in failure.proxy_direction(cmp)
