"""Panel estimators against published reference results, and bad panels.

References:
- Callaway & Sant'Anna, R package ``did``, vignette "Getting Started with the did
  Package" (mpdta, ``att_gt(xformla = ~1)`` and ``aggte``): point estimates printed
  to 4 decimals, so the tolerance is 5e-5; standard errors there are multiplier
  bootstrap (1,000 draws) while ours are analytic, so they are compared to 12%.
- Stata output for California Proposition 99 (``reg packspercapita i.cal##i.post``:
  -27.34911, SE 10.91131; ``synth2`` on the 19 pre-period outcomes: weights Utah
  0.394, Montana 0.232, Nevada 0.205, Connecticut 0.109, New Hampshire 0.045,
  Colorado 0.015, RMSE 1.65640, ATT -19.4814 from the 3-decimal weights), as
  published in C. Mendez, "Synthetic Difference-in-Differences in Stata".
- R ``did`` reference manual, ``aggte`` examples on mpdta (printed to 4 decimals, tolerance 5e-5):
  calendar 2004 -0.0105, 2005 -0.0704, 2006 -0.0488, 2007 -0.0371, overall -0.0417 (bootstrap SE 0.0177);
  group 2004 -0.0797, 2006 -0.0229, 2007 -0.0261, overall -0.031 (bootstrap SE 0.0127).
- R package ``twfeweights`` README (B. Callaway), on mpdta: ``att_gt(..., base_period = "universal")``
  with every ATT(g,t) printed to 9 decimals by ``twfe_weights`` (tolerance 1e-9, closed form), pre-test
  p-value 0.16812; and ``fixest::feols(lemp ~ post | countyreal + year, cluster = "countyreal")``:
  -0.036549 (SE 0.013265, t -2.75526, p 0.006079), TWFE -0.03654894 to 8 decimals.
- Grunfeld investment data (10 firms, 1935-1954; Baltagi, Econometric Analysis of Panel
  Data), within estimates as printed by R plm: one-way value 0.110124, capital 0.310065;
  two-way value 0.117716, capital 0.357916.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import PanelError
from analysis.mutuals.panel import (
    PanelColumns,
    aggregate,
    callaway_santanna,
    did_2x2,
    simplex_weights,
    synthetic_control,
    twfe,
    twfe_event_study,
    validate_panel,
)
from analysis.mutuals.panel.simulate import simulate_staggered_panel


@pytest.fixture
def mpdta(require_reference):
    path = require_reference("moderndid", "moderndid/core/datasets/mpdta_long.pkl.gz")
    df = pd.read_pickle(path)
    df["treated"] = ((df["first.treat"] > 0) & (df["year"] >= df["first.treat"])).astype(int)
    return validate_panel(df, PanelColumns(unit="countyreal", time="year", outcome="lemp", treated="treated"))


@pytest.fixture
def prop99(require_reference):
    path = require_reference("causalpy", "causalpy/data/california_prop99.csv")
    wide = pd.read_csv(path)
    long = wide.melt(id_vars="Year", var_name="state", value_name="packs")
    long["treated"] = ((long["state"] == "California") & (long["Year"] >= 1989)).astype(int)
    return validate_panel(long, PanelColumns(unit="state", time="Year", outcome="packs", treated="treated"))


# --- Callaway & Sant'Anna against R did ------------------------------------------------------

ATT_GT = [  # group, time, ATT, bootstrap SE (did vignette)
    (2004, 2004, -0.0105, 0.0243), (2004, 2005, -0.0704, 0.0331), (2004, 2006, -0.1373, 0.0412),
    (2004, 2007, -0.1008, 0.0358), (2006, 2004, 0.0065, 0.0230), (2006, 2005, -0.0028, 0.0210),
    (2006, 2006, -0.0046, 0.0175), (2006, 2007, -0.0412, 0.0196), (2007, 2004, 0.0305, 0.0147),
    (2007, 2005, -0.0027, 0.0156), (2007, 2006, -0.0311, 0.0179), (2007, 2007, -0.0261, 0.0175),
]


@pytest.mark.reference
def test_group_time_effects_match_r_did(mpdta):
    res = callaway_santanna(mpdta)
    got = res.att.set_index(["group", "time"])
    assert len(got) == 12
    for g, t, att, se in ATT_GT:
        assert got.loc[(g, t), "att"] == pytest.approx(att, abs=5e-5)
        assert got.loc[(g, t), "se"] == pytest.approx(se, rel=0.12)
    # Wald pre-test of parallel trends: published p-value 0.16812.
    assert res.pretest_p_value == pytest.approx(0.16812, abs=5e-6)
    assert res.pretest_df == 5


@pytest.mark.reference
def test_dynamic_aggregation_matches_r_did(mpdta):
    agg = aggregate(callaway_santanna(mpdta), "dynamic")
    assert agg.overall == pytest.approx(-0.0772, abs=5e-5)
    assert agg.overall_se == pytest.approx(0.0203, rel=0.12)
    published = {-3: 0.0305, -2: -0.0006, -1: -0.0245, 0: -0.0199, 1: -0.0510, 2: -0.1373, 3: -0.1008}
    got = agg.detail.set_index("event_time")["estimate"]
    for e, value in published.items():
        assert got[e] == pytest.approx(value, abs=5e-5)


@pytest.mark.reference
def test_balanced_event_study_matches_r_did(mpdta):
    agg = aggregate(callaway_santanna(mpdta), "dynamic", balance_e=1)
    assert agg.overall == pytest.approx(-0.0288, abs=5e-5)
    got = agg.detail.set_index("event_time")["estimate"]
    assert list(got.index) == [-2, -1, 0, 1]
    for e, value in {-2: 0.0065, -1: -0.0028, 0: -0.0066, 1: -0.0510}.items():
        assert got[e] == pytest.approx(value, abs=5e-5)


@pytest.mark.reference
def test_other_aggregations_are_consistent(mpdta):
    res = callaway_santanna(mpdta)
    group = aggregate(res, "group")
    # Group effect = mean of the group's post-treatment ATT(g,t).
    att = res.att
    for g in (2004, 2006, 2007):
        mean_post = att[(att.group == g) & (att.time >= g)]["att"].mean()
        assert group.detail.set_index("group").loc[g, "estimate"] == pytest.approx(mean_post, abs=1e-12)
    simple = aggregate(res, "simple")
    assert -0.06 < simple.overall < -0.02 and simple.overall_se > 0
    cal = aggregate(res, "calendar")
    assert list(cal.detail["time"]) == [2004, 2005, 2006, 2007]
    bands = aggregate(res, "dynamic", uniform_bands=True, seed=1)
    assert bands.critical_value > 1.96  # simultaneous band is wider than pointwise


@pytest.mark.reference
def test_calendar_aggregation_weights_cohorts_by_size_as_r_did(mpdta):
    """Regression: calendar effects were a plain mean over cohorts (-0.0709/-0.0560/-0.0520 for 2006/2007/overall)."""
    cal = aggregate(callaway_santanna(mpdta), "calendar")
    got = cal.detail.set_index("time")["estimate"]
    for year, value in {2004: -0.0105, 2005: -0.0704, 2006: -0.0488, 2007: -0.0371}.items():
        assert got[year] == pytest.approx(value, abs=5e-5)
    assert cal.overall == pytest.approx(-0.0417, abs=5e-5)
    assert cal.overall_se == pytest.approx(0.0177, rel=0.12)  # analytic vs 1,000-draw bootstrap
    lo, hi = cal.overall_ci
    assert lo < cal.overall < hi and hi < 0  # the interval is centred on the weighted estimate


@pytest.mark.reference
def test_group_aggregation_matches_r_did(mpdta):
    grp = aggregate(callaway_santanna(mpdta), "group")
    got = grp.detail.set_index("group")["estimate"]
    for g, value in {2004: -0.0797, 2006: -0.0229, 2007: -0.0261}.items():
        assert got[g] == pytest.approx(value, abs=5e-5)
    assert grp.overall == pytest.approx(-0.0310, abs=5e-5)
    assert grp.overall_se == pytest.approx(0.0127, rel=0.12)


UNIVERSAL_ATT = {  # twfeweights README: did::att_gt(base_period = "universal") on mpdta, 9 decimals
    (2004, 2004): -0.010503246, (2004, 2005): -0.070423158, (2004, 2006): -0.137258739,
    (2004, 2007): -0.100811363, (2006, 2003): -0.003769294, (2006, 2004): 0.002750819,
    (2006, 2006): -0.004594607, (2006, 2007): -0.041224472, (2007, 2003): 0.003306357,
    (2007, 2004): 0.033813012, (2007, 2005): 0.031087119, (2007, 2007): -0.026054411,
}


@pytest.mark.reference
def test_universal_base_period_matches_r_did_to_nine_decimals(mpdta):
    """Regression: the universal base period skipped the first period (ATT(2006, 2003) was missing)."""
    res = callaway_santanna(mpdta, base_period="universal")
    got = res.att.set_index(["group", "time"])["att"]
    assert set(got.index) == set(UNIVERSAL_ATT)
    for cell, value in UNIVERSAL_ATT.items():
        assert got[cell] == pytest.approx(value, abs=1e-9)
    assert res.pretest_p_value == pytest.approx(0.16812, abs=5e-6)


@pytest.mark.reference
def test_twfe_clustered_se_matches_fixest(mpdta):
    """Regression: K omitted the absorbed intercept, giving SE 0.0132625 against fixest's 0.013265."""
    est = twfe(mpdta)
    assert est.wild_bootstrap_p is None  # 191 treated counties: CR1 is fine, no bootstrap needed
    assert est.estimate == pytest.approx(-0.03654894, abs=5e-9)
    assert est.se == pytest.approx(0.013265, abs=5e-7)
    assert est.estimate / est.se == pytest.approx(-2.75526, abs=5e-6)
    assert est.p_value == pytest.approx(0.006079, abs=5e-7)


@pytest.mark.reference
def test_not_yet_treated_controls_use_more_units(mpdta):
    never = callaway_santanna(mpdta).att.set_index(["group", "time"])
    nyt = callaway_santanna(mpdta, control_group="notyettreated").att.set_index(["group", "time"])
    assert (nyt.loc[(2004, 2004), "n_control"] > never.loc[(2004, 2004), "n_control"])
    assert nyt.loc[(2007, 2007), "att"] == pytest.approx(never.loc[(2007, 2007), "att"], abs=1e-12)


# --- 2x2 DiD, TWFE, event study and synthetic control on Proposition 99 ---------------------

@pytest.mark.reference
def test_two_by_two_did_matches_stata(prop99):
    est = did_2x2(prop99)
    assert est.estimate == pytest.approx(-27.34911, abs=5e-6)
    assert est.conventional_se == pytest.approx(10.91131, abs=5e-6)
    assert est.n_treated_units == 1 and "unreliable" in est.note
    # One treated cluster: a wild-bootstrap p-value is reported beside the clustered one (39 clusters,
    # 9,999 Rademacher draws), and the note says that even it is unreliable here.
    assert est.wild_bootstrap_p is not None and 0 < est.wild_bootstrap_p <= 1 and est.wild_bootstrap_draws == 9999
    assert "conservative" in est.note


@pytest.mark.reference
def test_twfe_equals_did_with_one_adoption_date(prop99):
    assert twfe(prop99).estimate == pytest.approx(-27.34911, abs=5e-6)


@pytest.mark.reference
def test_event_study_with_one_cohort_equals_year_by_year_did(prop99):
    es = twfe_event_study(prop99).coefficients.set_index("relative_time")
    wide = prop99.wide()
    donors = wide.drop(index="California").mean()
    ca = wide.loc["California"]
    for year in (1975, 1985, 1995, 2000):
        manual = (ca[year] - ca[1988]) - (donors[year] - donors[1988])
        assert es.loc[year - 1989, "estimate"] == pytest.approx(manual, abs=1e-8)
    assert es.loc[-1, "estimate"] == 0


@pytest.mark.reference
def test_synthetic_control_matches_stata_synth2(prop99):
    sc = synthetic_control(prop99, "California", placebo=False)
    published = {"Utah": 0.394, "Montana": 0.232, "Nevada": 0.205, "Connecticut": 0.109,
                  "New Hampshire": 0.045, "Colorado": 0.015}
    for state, weight in published.items():
        assert sc.weights[state] == pytest.approx(weight, abs=6e-4)
    assert sc.weights.drop(list(published)).sum() < 1e-3
    assert sc.pre_rmspe == pytest.approx(1.65640, abs=1e-4)
    rounded = sc.weights.round(3)
    wide = prop99.wide()
    gap = wide.loc["California"] - rounded @ wide.loc[rounded.index]
    assert gap[gap.index >= 1989].mean() == pytest.approx(-19.4814, abs=1e-4)
    assert sc.starts_agreeing >= 2


def _unbalanced_single_adoption():
    """SIMULATED: 4 treated and 4 control units, periods 0/1, adoption at 1; treated unit T3 has no period-1 row."""
    rows = []
    for i in range(4):
        rows += [(f"SIM-T{i}", 0, 20.0 + i, 0), (f"SIM-T{i}", 1, 23.0 + 2 * i, 1)]
        rows += [(f"SIM-C{i}", 0, 22.0 - i, 0), (f"SIM-C{i}", 1, 21.0 - 0.5 * i, 0)]
    rows = [r for r in rows if not (r[0] == "SIM-T3" and r[1] == 1)]
    df = pd.DataFrame(rows, columns=["unit", "time", "outcome", "treated"])
    df["nj"] = df["unit"].str.startswith("SIM-T").astype(int)
    return df


def test_unbalanced_2x2_uses_the_treated_group_not_the_treated_column():
    """Regression (Card-Krueger defect): a treated unit with no post-period row became a control.

    With the group given, the 2x2 estimate is the difference of the four cell means (OLS on a
    saturated group x period design), computed here by hand: closed form, tolerance 1e-10.
    """
    df = _unbalanced_single_adoption()
    with pytest.raises(PanelError, match="never observed at or after adoption"):
        did_2x2(validate_panel(df))
    panel = validate_panel(df, PanelColumns(group="nj"))
    est = did_2x2(panel)
    cell = df.groupby(["nj", "time"])["outcome"].mean()
    by_hand = (cell[1, 1] - cell[1, 0]) - (cell[0, 1] - cell[0, 0])
    assert est.estimate == pytest.approx(by_hand, abs=1e-10)
    assert est.n_treated_units == 4 and est.n_units == 8
    cohort_panel = validate_panel(df.assign(first=df["nj"]), PanelColumns(cohort="first"))
    assert did_2x2(cohort_panel).estimate == pytest.approx(by_hand, abs=1e-10)


def test_group_and_cohort_columns_are_checked():
    df = _unbalanced_single_adoption()
    bad = df.assign(nj=np.where(df["unit"] == "SIM-C0", 1, df["nj"]) * (df["time"] == 0))
    with pytest.raises(PanelError, match="constant within each unit"):
        validate_panel(bad, PanelColumns(group="nj"))
    with pytest.raises(PanelError, match="disagrees with the cohort"):
        validate_panel(df.assign(first=2 * df["nj"]), PanelColumns(cohort="first"))
    with pytest.raises(PanelError, match="treated in some period but their group is 0"):
        validate_panel(df.assign(nj=0), PanelColumns(group="nj"))


def test_covariates_are_kept_by_validate_panel():
    df = _unbalanced_single_adoption().assign(size=1.5)
    panel = validate_panel(df)
    assert "size" in panel.data and set(panel.covariates) == {"nj", "size"}
    only = validate_panel(df, PanelColumns(covariates=("size",)))
    assert only.covariates == ["size"]
    with pytest.raises(PanelError, match="covariate column 'income'"):
        validate_panel(df, PanelColumns(covariates=("income",)))


def test_multistart_reaches_the_optimum_from_bad_starts():
    rng = np.random.default_rng(5)
    X0 = rng.normal(size=(30, 15))
    true = rng.dirichlet(np.ones(15) * 0.3)
    x1 = X0 @ true
    w, f, agree = simplex_weights(x1, X0, n_starts=10, seed=2)
    assert f < 1e-8 and np.allclose(w, true, atol=1e-4) and agree >= 2


def test_placebo_inference_on_a_simulated_panel():
    # More pre-periods than donors, so placebo fits cannot be perfect by overfitting.
    sim = simulate_staggered_panel(n_units=12, n_periods=24, cohorts={16: 1}, effect=5.0, noise=0.5, seed=1,
                                   unit_sd=0.5)
    panel = validate_panel(sim)
    treated = panel.data.loc[panel.data["cohort"] > 0, "unit"].iloc[0]
    sc = synthetic_control(panel, treated)
    assert sc.att == pytest.approx(5.0, abs=1.0)
    assert sc.p_value == pytest.approx(1 / 12)  # the largest post/pre ratio of 12


# --- Grunfeld within estimates (textbook values) ---------------------------------------------

def _grunfeld():
    from statsmodels.datasets import grunfeld

    df = grunfeld.load_pandas().data
    return df[df["firm"] != "American Steel"].copy()  # Baltagi's 10 firms


def test_within_estimator_reproduces_baltagi_grunfeld():
    from analysis.mutuals.panel.did import within_fit
    from analysis.mutuals.panel.schema import Panel

    df = _grunfeld().rename(columns={"firm": "unit", "year": "time", "invest": "outcome"})
    df["time"] = df["time"].astype(int)
    df["cohort"] = 0
    panel = Panel(df, tuple(sorted(df["time"].unique())), True)
    one_way, _ = within_fit(panel, ["value", "capital"], time_effects=False)
    assert one_way.params["value"] == pytest.approx(0.110124, abs=5e-7)
    assert one_way.params["capital"] == pytest.approx(0.310065, abs=5e-7)
    two_way, _ = within_fit(panel, ["value", "capital"], time_effects=True)
    assert two_way.params["value"] == pytest.approx(0.117716, abs=5e-7)
    assert two_way.params["capital"] == pytest.approx(0.357916, abs=5e-7)


def test_within_cluster_se_equals_a_direct_sandwich():
    """CR1 with absorbed unit effects: (G/(G-1)) (N-1)/(N-K) (X'X)^-1 sum_g X_g'u_g u_g'X_g (X'X)^-1,
    K = demeaned regressors + 1 (the absorbed intercept), Stata xtreg-fe / fixest convention."""
    from analysis.mutuals.panel.did import within_fit

    sim = simulate_staggered_panel(n_units=30, n_periods=6, cohorts={3: 8, 5: 8}, effect=1.0, noise=1.0, seed=9)
    panel = validate_panel(sim)
    fit, G = within_fit(panel, ["treated"])
    X = fit.exog
    u = fit.resid.to_numpy()
    codes = pd.factorize(panel.data["unit"])[0]
    bread = np.linalg.inv(X.T @ X)
    meat = sum(np.outer(X[codes == g].T @ u[codes == g], X[codes == g].T @ u[codes == g]) for g in range(G))
    n, k = X.shape
    V = (G / (G - 1)) * ((n - 1) / (n - k - 1)) * bread @ meat @ bread
    assert fit.bse.iloc[0] == pytest.approx(np.sqrt(V[0, 0]), rel=1e-10)


# --- Bad panels -----------------------------------------------------------------------------------

def _good():
    return simulate_staggered_panel(n_units=6, n_periods=5, cohorts={3: 2}, effect=1.0, noise=0.1, seed=1)


@pytest.mark.parametrize("column", ["unit", "time", "outcome", "treated"])
def test_missing_column_is_named(column):
    with pytest.raises(PanelError, match=f"{column} column"):
        validate_panel(_good().drop(columns=[column]))


def test_treatment_switching_off_is_rejected():
    df = _good()
    unit = df.loc[df["treated"] == 1, "unit"].iloc[0]
    last = df[(df["unit"] == unit)]["time"].max()
    df.loc[(df["unit"] == unit) & (df["time"] == last), "treated"] = 0
    with pytest.raises(PanelError, match="switches off"):
        validate_panel(df)


def test_non_binary_treatment_duplicates_and_text_outcomes_are_rejected():
    df = _good()
    df.loc[0, "treated"] = 2
    with pytest.raises(PanelError, match="0 or 1"):
        validate_panel(df)
    df = pd.concat([_good(), _good().iloc[[0]]])
    with pytest.raises(PanelError, match="once per period"):
        validate_panel(df)
    df = _good().astype({"outcome": object})
    df.loc[3, "outcome"] = "n/a"
    with pytest.raises(PanelError, match="not numeric"):
        validate_panel(df)


def test_too_few_donors_is_rejected():
    df = simulate_staggered_panel(n_units=3, n_periods=6, cohorts={4: 2}, effect=1.0, noise=0.1, seed=2)
    panel = validate_panel(df)
    treated = panel.data.loc[panel.data["cohort"] > 0, "unit"].iloc[0]
    with pytest.raises(PanelError, match="Too few donors"):
        synthetic_control(panel, treated)


def test_staggered_panel_is_refused_by_2x2():
    df = simulate_staggered_panel(n_units=10, n_periods=6, cohorts={3: 3, 5: 3}, effect=1.0, noise=0.1, seed=4)
    with pytest.raises(PanelError, match="one adoption date"):
        did_2x2(validate_panel(df))


def test_never_treated_panel_is_refused():
    df = _good()
    df["treated"] = 0
    with pytest.raises(PanelError, match="never treated|No unit is ever treated"):
        validate_panel(df)


def test_simulated_staggered_effects_are_recovered():
    df = simulate_staggered_panel(n_units=400, n_periods=8, cohorts={4: 100, 6: 100}, effect=2.0, noise=0.5,
                                  seed=8, dynamic=0.5)
    res = callaway_santanna(validate_panel(df))
    post = res.att[res.att["post"]]
    truth = 2.0 + 0.5 * (post["time"] - post["group"])
    assert np.allclose(post["att"], truth, atol=0.25)
    pre = res.att[~res.att["post"]]
    assert np.all(np.abs(pre["att"]) < 0.25)
    assert res.pretest_p_value > 0.001
