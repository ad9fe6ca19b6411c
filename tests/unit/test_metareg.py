"""Meta-regression, Q-profile heterogeneity intervals and the mixed-effects subgroup test against metafor.

Data: dat.bcg (Colditz et al. 1994; 13 BCG trials), log risk ratios, with absolute latitude
(``ablat``) and allocation method (``alloc``) as published with metafor/metadat (13 rows,
reproduced here as the existing budget tests reproduce the counts).

Reference results (R metafor, published output):

- ``rma(yi, vi, mods = ~ ablat)`` (REML), as printed in the RoBMA vignette "Bayesian
  meta-regression" (metafor output): tau^2 0.0764, I^2 68.39%, H^2 3.16, R^2 75.62%,
  QE(df = 11) = 30.7331, QM(df = 1) = 16.3571; intercept 0.2515 (SE 0.2491), ablat -0.0291
  (SE 0.0072), z -4.0444, CI [-0.0432, -0.0150].
- metafor's test suite, tests/testthat/test_misc_anova.r: ``rma(yi, vi, mods = ~ ablat + alloc)``
  with ``anova(res, btt = "alloc")`` QM 1.2850 (p 0.5260); with ``test = "knha"`` F 0.6007
  (p 0.5690); ML likelihood-ratio test of ablat, 9.9588.
- metafor's test suite, tests/testthat/test_misc_confint.r: ``confint()`` of the DL model, Q-profile
  intervals tau^2 0.3088 [0.1197, 1.1115], I^2 92.1173 [81.9177, 97.6781], H^2 12.6861 [5.5303, 43.0680].

Tolerances: printed values to their last digit (5e-5 on 4 decimals). metafor's REML is Fisher
scoring stopped when tau^2 changes by less than 1e-5, while ours solves the score equation
exactly; over that 1e-5 window QM moves by 1.6e-3 and z by 2e-4, so those two get those
tolerances (the closed-form quantities given tau^2 are checked to 1e-8 against PyMARE).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.budgets import effects, meta
from analysis.budgets.metareg import heterogeneity_ci, likelihood_ratio_test, meta_regression, subgroup_test
from analysis.errors import InputError

BCG = np.array([[4, 119, 11, 128], [6, 300, 29, 274], [3, 228, 11, 209], [62, 13536, 248, 12619],
                [33, 5036, 47, 5761], [180, 1361, 372, 1079], [8, 2537, 10, 619], [505, 87886, 499, 87892],
                [29, 7470, 45, 7232], [17, 1699, 65, 1600], [186, 50448, 141, 27197], [5, 2493, 3, 2338],
                [27, 16886, 29, 17825]])
ABLAT = [44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33]
ALLOC = ["random"] * 4 + ["alternate"] * 2 + ["random"] * 3 + ["systematic"] * 4


@pytest.fixture
def bcg():
    a, b, c, d = BCG.T
    es = effects.binary("RR", a, a + b, c, c + d)
    return pd.DataFrame({"yi": es.yi, "vi": es.vi, "ablat": ABLAT, "alloc": ALLOC})


def test_meta_regression_on_latitude_matches_metafor(bcg):
    r = meta_regression(bcg["yi"], bcg["vi"], bcg[["ablat"]])
    coef = r.coefficients.set_index("term")
    assert coef.loc["intercept", "estimate"] == pytest.approx(0.2515, abs=5e-5)
    assert coef.loc["intercept", "se"] == pytest.approx(0.2491, abs=5e-5)
    assert coef.loc["ablat", "estimate"] == pytest.approx(-0.0291, abs=5e-5)
    assert coef.loc["ablat", "se"] == pytest.approx(0.0072, abs=5e-5)
    assert (coef.loc["ablat", "ci_low"], coef.loc["ablat", "ci_high"]) == pytest.approx((-0.0432, -0.0150), abs=5e-5)
    assert coef.loc["ablat", "statistic"] == pytest.approx(-4.0444, abs=2e-4)
    assert r.tau2 == pytest.approx(0.0764, abs=5e-5 + 1e-5)  # printing + metafor's convergence threshold
    assert r.i2 == pytest.approx(68.39, abs=5e-3) and r.h2 == pytest.approx(3.16, abs=5e-3)
    assert r.r2 == pytest.approx(75.62, abs=5e-3 + 3.2e-3)  # printing + 1e-5 in tau^2 x 100/tau0^2
    assert (r.qe, r.qe_df) == (pytest.approx(30.7331, abs=5e-5), 11)
    assert r.qm == pytest.approx(16.3571, abs=2e-3) and r.qm_df == (1,) and r.qm_p_value < 1e-4


def test_categorical_moderator_test_with_common_tau2_matches_metafor_anova(bcg):
    r = meta_regression(bcg["yi"], bcg["vi"], bcg[["ablat", "alloc"]])
    assert [t for t in r.coefficients["term"]] == ["intercept", "ablat", "allocrandom", "allocsystematic"]
    alloc = r.wald_test(["allocrandom", "allocsystematic"])
    assert alloc["statistic"] == pytest.approx(1.2850, abs=5e-4) and alloc["p_value"] == pytest.approx(0.5260, abs=5e-4)
    knha = meta_regression(bcg["yi"], bcg["vi"], bcg[["ablat", "alloc"]], test="knha")
    f = knha.wald_test(["allocrandom", "allocsystematic"])
    assert f["test"] == "F" and f["df"] == (2, 9)
    assert f["statistic"] == pytest.approx(0.6007, abs=5e-4) and f["p_value"] == pytest.approx(0.5690, abs=5e-4)


def test_likelihood_ratio_test_matches_metafor(bcg):
    null = meta_regression(bcg["yi"], bcg["vi"], method="ML")
    full = meta_regression(bcg["yi"], bcg["vi"], bcg[["ablat"]], method="ML")
    assert likelihood_ratio_test(null, full)["statistic"] == pytest.approx(9.9588, abs=5e-4)
    with pytest.raises(InputError, match="not comparable"):
        likelihood_ratio_test(meta_regression(bcg["yi"], bcg["vi"]),
                              meta_regression(bcg["yi"], bcg["vi"], bcg[["ablat"]]))


def test_q_profile_intervals_match_metafor_confint(bcg):
    ci = heterogeneity_ci(bcg["yi"], bcg["vi"], method="DL")
    # metafor finds the bounds with uniroot(tol = .Machine$double.eps^0.25), about 1.2e-4 on tau^2;
    # ours are exact (brentq to 1e-14). The I^2 and H^2 tolerances are that 1.2e-4 carried through
    # I^2 = 100 tau^2/(tau^2 + s^2) and H^2 = 1 + tau^2/s^2 at the lower bound (s^2 = 0.0264).
    assert ci.tau2[0] == pytest.approx(0.3088, abs=5e-5)
    assert ci.tau2[1:] == pytest.approx((0.1197, 1.1115), abs=1.2e-4)
    assert ci.i2 == pytest.approx((92.1173, 81.9177, 97.6781), abs=0.015)
    assert ci.h2 == pytest.approx((12.6861, 5.5303, 43.0680), abs=5e-3)
    assert ci.tau[1] == pytest.approx(np.sqrt(ci.tau2[1]))
    # The point estimate matches the pooled analysis it is reported with.
    assert ci.tau2[0] == pytest.approx(meta.meta_analysis(bcg["yi"], bcg["vi"], "DL").tau2, abs=1e-12)


def test_q_profile_interval_is_zero_when_studies_agree():
    ci = heterogeneity_ci([0.10, 0.11, 0.09, 0.10], [0.04, 0.05, 0.04, 0.06])
    assert ci.tau2[1] == 0.0 and ci.tau2[2] == 0.0 and "no heterogeneity" in ci.note


def test_intercept_only_model_equals_the_pooled_meta_analysis(bcg):
    for method in ("REML", "DL", "FE"):
        r = meta_regression(bcg["yi"], bcg["vi"], method=method)
        pooled = meta.meta_analysis(bcg["yi"], bcg["vi"], method)
        assert r.tau2 == pytest.approx(pooled.tau2, abs=1e-8)
        assert r.coefficients["estimate"].iloc[0] == pytest.approx(pooled.estimate, abs=1e-8)


def test_subgroup_test_uses_one_common_tau2(bcg):
    table, test = subgroup_test(bcg, "alloc")
    assert list(table["alloc"]) == ["alternate", "random", "systematic"] and list(table["k"]) == [2, 7, 4]
    assert test["df"] == (2,) and 0 < test["p_value"] < 1
    # The same model written with an intercept: the subgroup means are intercept + contrasts.
    full = meta_regression(bcg["yi"], bcg["vi"], bcg[["alloc"]])
    b = full.coefficients.set_index("term")["estimate"]
    means = table.set_index("alloc")["estimate"]
    assert means["random"] == pytest.approx(b["intercept"] + b["allocrandom"], abs=1e-10)
    assert table["tau2_common"].iloc[0] == pytest.approx(full.tau2, abs=1e-12) == test["tau2_common"]
    # Under REML the test equals the QM of metafor's rma(yi, vi, mods = ~ alloc); the fixed-effect
    # Q-between of meta.subgroups ignores tau^2 and is far larger on these heterogeneous trials.
    _, fixed = meta.subgroups(bcg, "alloc", "REML")
    assert test["statistic"] < fixed["q_between"]


@pytest.mark.parametrize("method", ["REML", "ML", "DL"])
def test_meta_regression_agrees_with_pymare(bcg, method):
    """Cross-check with PyMARE (an independent implementation): tau^2 and coefficients."""
    from pymare import Dataset
    from pymare.estimators import DerSimonianLaird, VarianceBasedLikelihoodEstimator

    dataset = Dataset(y=bcg["yi"].to_numpy(), v=bcg["vi"].to_numpy(), X=bcg[["ablat"]].to_numpy(float),
                      add_intercept=True)
    estimator = DerSimonianLaird() if method == "DL" else VarianceBasedLikelihoodEstimator(method=method)
    theirs = estimator.fit_dataset(dataset).summary()
    ours = meta_regression(bcg["yi"], bcg["vi"], bcg[["ablat"]], method=method)
    assert ours.tau2 == pytest.approx(float(np.ravel(theirs.tau2)[0]), rel=1e-6)
    assert ours.coefficients["estimate"].to_numpy() == pytest.approx(np.ravel(theirs.fe_params), rel=1e-6)


@pytest.mark.parametrize("call,message", [
    (lambda d: meta_regression(d["yi"], d["vi"], d[["ablat"]].assign(copy=d["ablat"] * 2)), "collinear"),
    (lambda d: meta_regression(d["yi"][:2], d["vi"][:2], d[["ablat"]][:2]), "residual degree"),
    (lambda d: meta_regression(d["yi"], d["vi"], d[["ablat"]], method="XYZ"), "method"),
    (lambda d: meta_regression(d["yi"], d["vi"], d[["ablat"]], test="t"), "knha"),
    (lambda d: meta_regression(d["yi"], d["vi"].where(d.index > 0, 0.0), d[["ablat"]]), "greater than 0"),
    (lambda d: subgroup_test(d.assign(alloc="one"), "alloc"), "at least two subgroups"),
    (lambda d: meta_regression(d["yi"], d["vi"], d[["ablat"]]).wald_test(["latitude"]), "Unknown terms"),
])
def test_bad_meta_regression_input_is_rejected(bcg, call, message):
    with pytest.raises(InputError, match=message):
        call(bcg)
