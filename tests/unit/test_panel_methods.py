"""Sun-Abraham, regression DiD with controls and synthetic control with predictors.

References:
- Sun-Abraham CATT(e, l) on mpdta: with never-treated controls, no covariates and a balanced
  panel they equal Callaway-Sant'Anna's ATT(g, t) with a universal base period (Sun and
  Abraham 2021, section 3; ``did`` documentation), published to 9 decimals by the R package
  ``twfeweights`` README (B. Callaway). Closed form: tolerance 1e-9. The interaction-weighted
  aggregation uses cohort shares (data), so the event-study values are checked to 1e-9 against
  the share-weighted published CATTs; the post-period dynamic values also equal R ``did``'s
  published event study (e = 0: -0.0199, 1: -0.0510, 2: -0.1373, 3: -0.1008; 4 decimals), and
  the overall ATT its published simple aggregate (-0.0400).
- Regression DiD without covariates equals the 2x2 DiD (Stata: -27.34911 on Proposition 99).
- Synthetic control with predictors: Proposition 99 (Abadie, Diamond and Hainmueller 2010) with
  ADH's outcome-lag predictors (cigarette sales in 1975, 1980 and 1988). The covariates of ADH's
  Table 1 (income, beer, age 15-24, retail price) and the Basque data are not shipped by any
  package this project may install, so those fits are not reproduced here (see docs/methods.md).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from analysis.errors import PanelError
from analysis.mutuals.panel import (
    PanelColumns,
    Predictor,
    aggregate,
    callaway_santanna,
    did_2x2,
    simplex_least_squares,
    synthetic_control,
    validate_panel,
)
from analysis.mutuals.panel.did import did_regression
from analysis.mutuals.panel.event_study import sun_abraham
from analysis.mutuals.panel.simulate import simulate_staggered_panel
from tests.unit.test_panel import UNIVERSAL_ATT


@pytest.fixture
def mpdta(require_reference):
    path = require_reference("moderndid", "moderndid/core/datasets/mpdta_long.pkl.gz")
    df = pd.read_pickle(path)
    df["treated"] = ((df["first.treat"] > 0) & (df["year"] >= df["first.treat"])).astype(int)
    return validate_panel(df, PanelColumns(unit="countyreal", time="year", outcome="lemp", treated="treated"))


@pytest.fixture
def prop99(require_reference):
    path = require_reference("causalpy", "causalpy/data/california_prop99.csv")
    long = pd.read_csv(path).melt(id_vars="Year", var_name="state", value_name="packs")
    long["treated"] = ((long["state"] == "California") & (long["Year"] >= 1989)).astype(int)
    return validate_panel(long, PanelColumns(unit="state", time="Year", outcome="packs", treated="treated"))


# --- Sun and Abraham ------------------------------------------------------------------------------

@pytest.mark.reference
def test_sun_abraham_cohort_effects_match_published_values(mpdta):
    sa = sun_abraham(mpdta)
    got = {(int(r.cohort), int(r.cohort + r.relative_time)): r.estimate for r in sa.cohort_effects.itertuples()}
    assert set(got) == set(UNIVERSAL_ATT)
    for cell, value in UNIVERSAL_ATT.items():
        assert got[cell] == pytest.approx(value, abs=1e-9)


@pytest.mark.reference
def test_sun_abraham_event_study_and_att(mpdta):
    sa = sun_abraham(mpdta)
    sizes = mpdta.unit_cohorts().value_counts()
    es = sa.event_study.set_index("relative_time")
    # Interaction weighting by hand from the published CATTs and the cohort sizes (20, 40, 131).
    for rel in (-3, -2, 0, 1):
        cells = {g: v for (g, t), v in UNIVERSAL_ATT.items() if t - g == rel}
        by_hand = sum(sizes[g] * v for g, v in cells.items()) / sum(sizes[g] for g in cells)
        assert es.loc[rel, "estimate"] == pytest.approx(by_hand, abs=1e-9)
    for rel, value in {0: -0.0199, 1: -0.0510, 2: -0.1373, 3: -0.1008}.items():
        assert es.loc[rel, "estimate"] == pytest.approx(value, abs=5e-5)
    assert sa.att == pytest.approx(-0.0400, abs=5e-5)
    assert sa.att == pytest.approx(aggregate(callaway_santanna(mpdta), "simple").overall, abs=1e-12)
    lo, hi = sa.att_ci
    assert lo < sa.att < hi < 0


def test_sun_abraham_recovers_heterogeneous_effects_where_twfe_leads_would_not():
    """SIMULATED: effects grow with exposure; SA recovers effect + 0.5 e at every exposure."""
    sim = simulate_staggered_panel(n_units=300, n_periods=8, cohorts={3: 80, 5: 80}, effect=1.0, dynamic=0.5,
                                   noise=0.3, seed=3)
    es = sun_abraham(validate_panel(sim)).event_study.set_index("relative_time")
    for e in range(0, 3):
        assert es.loc[e, "estimate"] == pytest.approx(1.0 + 0.5 * e, abs=0.15)
    assert np.all(np.abs(es.loc[es.index < -1, "estimate"]) < 0.15)


def test_sun_abraham_needs_a_clean_control_cohort():
    sim = simulate_staggered_panel(n_units=30, n_periods=6, cohorts={2: 10, 4: 10}, effect=1.0, seed=1)
    sim = sim[sim["unit"].isin(sim.loc[sim["treated"] == 1, "unit"].unique())]
    panel = validate_panel(sim)
    with pytest.raises(PanelError, match="control='last'"):
        sun_abraham(panel)
    res = sun_abraham(panel, control="last")
    assert "last-treated" in res.control and res.event_study["relative_time"].max() <= 1


# --- Regression DiD -------------------------------------------------------------------------------

@pytest.mark.reference
def test_regression_did_without_controls_equals_the_2x2(prop99):
    reg = did_regression(prop99)
    assert reg.estimate.estimate == pytest.approx(-27.34911, abs=5e-6)
    assert reg.estimate.estimate == pytest.approx(did_2x2(prop99).estimate, abs=1e-9)
    assert reg.estimate.n_treated_units == 1 and reg.estimate.wild_bootstrap_p is not None


def test_regression_did_adjusts_for_a_confounded_trend():
    """SIMULATED: units with a higher covariate trend faster and are more often treated."""
    rng = np.random.default_rng(4)
    n = 400
    x = rng.normal(size=n)
    treated = rng.random(n) < 1 / (1 + np.exp(-1.5 * x))
    rows = []
    for i in range(n):
        base = rng.normal()
        for t in (0, 1):
            y = base + t * (0.5 + 1.0 * x[i]) + (2.0 if treated[i] and t == 1 else 0.0) + rng.normal(0, 0.3)
            rows.append((f"SIM-{i}", t, y, int(treated[i] and t == 1), x[i]))
    panel = validate_panel(pd.DataFrame(rows, columns=["unit", "time", "outcome", "treated", "x"]))
    naive = did_regression(panel).estimate.estimate
    adjusted = did_regression(panel, ["x"])
    assert abs(naive - 2.0) > 0.3  # biased without the control
    assert adjusted.estimate.estimate == pytest.approx(2.0, abs=0.1)
    assert set(adjusted.coefficients["term"]) == {"const", "treated_group", "x"}


def test_regression_did_rejects_missing_covariates(prop99):
    with pytest.raises(PanelError, match="not in the panel"):
        did_regression(prop99, ["income"])


# --- Synthetic control: exact weight solver and predictors ----------------------------------------

def test_simplex_solver_satisfies_kkt_and_matches_slsqp():
    rng = np.random.default_rng(0)
    for _trial in range(20):
        k, j = rng.integers(3, 20), rng.integers(2, 40)
        A, b = rng.normal(size=(k, j)), rng.normal(size=k)
        w = simplex_least_squares(A, b)
        assert w.min() >= 0 and w.sum() == pytest.approx(1.0, abs=1e-12)
        g = A.T @ (A @ w - b)
        support = w > 1e-10
        mu = g[support].mean()
        assert np.allclose(g[support], mu, atol=1e-8) and np.all(g[~support] >= mu - 1e-8)  # KKT
        ref = optimize.minimize(lambda v, A=A, b=b: np.sum((A @ v - b) ** 2), np.full(j, 1 / j), method="SLSQP",
                                bounds=[(0, 1)] * j, constraints=({"type": "eq", "fun": lambda v: v.sum() - 1},),
                                options={"ftol": 1e-14, "maxiter": 1000})
        assert np.sum((A @ w - b) ** 2) <= ref.fun + 1e-9


@pytest.mark.reference
def test_synthetic_control_with_predictor_windows_runs_through_the_documented_path(prop99):
    """ADH's outcome lags (1975, 1980, 1988) as predictors; V chosen on every pre-period outcome."""
    preds = [("outcome", [1975]), ("outcome", [1980]), ("outcome", [1988])]
    sc = synthetic_control(prop99, "California", predictors=preds, placebo=False, n_starts=2)
    assert sc.weights.sum() == pytest.approx(1.0) and sc.weights.min() >= 0
    assert list(sc.predictor_balance.index) == ["outcome (1975)", "outcome (1980)", "outcome (1988)"]
    assert sc.v_weights.sum() == pytest.approx(1.0)
    gap = sc.path.set_index("time")["gap"]
    assert sc.loss_v == pytest.approx(float(np.mean(gap[gap.index < 1989] ** 2)), rel=1e-12)
    # Choosing V beats fixing it at equal weights (Synth's starting point) on the pre-period loss.
    fixed = synthetic_control(prop99, "California", predictors=preds, v_weights=[1, 1, 1], placebo=False)
    assert sc.loss_v <= fixed.loss_v + 1e-12
    assert sc.predictor_balance["synthetic"].to_numpy() == pytest.approx(
        sc.predictor_balance["treated"].to_numpy(), rel=0.05)


def test_covariate_predictors_are_kept_and_checked():
    """Regression: predictors= raised 'Predictor columns not in the panel' because covariates were dropped."""
    sim = simulate_staggered_panel(n_units=10, n_periods=12, cohorts={8: 1}, effect=3.0, noise=0.3, seed=6)
    sim["size"] = sim.groupby("unit")["outcome"].transform("mean") + np.random.default_rng(1).normal(0, 0.1, len(sim))
    panel = validate_panel(sim)
    treated = panel.data.loc[panel.data["cohort"] > 0, "unit"].iloc[0]
    pre = sorted(panel.data["time"].unique())[:8]
    sc = synthetic_control(panel, treated, predictors=["size", Predictor("outcome", (pre[-1],))],
                           predictor_periods=pre[-4:], placebo=False, n_starts=2)
    assert set(sc.predictor_balance.index) == {f"size ({pre[-4]}-{pre[-1]})", f"outcome ({pre[-1]})"}
    with pytest.raises(PanelError, match="not before adoption"):
        synthetic_control(panel, treated, predictors=[("size", [pre[-1] + 1])], placebo=False)
    with pytest.raises(PanelError, match="not in the panel"):
        synthetic_control(panel, treated, predictors=["income"], placebo=False)
    with pytest.raises(PanelError, match="one per predictor"):
        synthetic_control(panel, treated, predictors=["size"], v_weights=[1, 2], placebo=False)


def test_ties_in_the_predictor_fit_go_to_the_best_outcome_fit():
    """With one predictor and many donors, many weightings fit it exactly; the tie-break picks the one
    with the best secondary (pre-period outcome) fit, without worsening the predictor fit."""
    rng = np.random.default_rng(2)
    A = rng.normal(size=(1, 20))
    b = np.array([float(A[0, :10].mean())])  # inside the hull: exact fits exist
    S, t = rng.normal(size=(8, 20)), rng.normal(size=8)
    plain = simplex_least_squares(A, b)
    tied = simplex_least_squares(A, b, secondary=(S, t))
    assert float(np.sum((A @ tied - b) ** 2)) < 1e-8
    assert np.sum((S @ tied - t) ** 2) < np.sum((S @ plain - t) ** 2)
    # and it is the best outcome fit among exact predictor fits (checked with SLSQP)
    cons = ({"type": "eq", "fun": lambda v: v.sum() - 1}, {"type": "eq", "fun": lambda v: A @ v - b})
    ref = optimize.minimize(lambda v: np.sum((S @ v - t) ** 2), np.full(20, 0.05), method="SLSQP",
                            bounds=[(0, 1)] * 20, constraints=cons, options={"ftol": 1e-14, "maxiter": 2000})
    assert np.sum((S @ tied - t) ** 2) <= ref.fun + 1e-5
