"""In-house against external provision: comparisons, the closure panel, the CIC sector, claims and parameters."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis import data
from analysis.costs import cic, closures, comparisons
from analysis.costs import claims as claims_mod
from analysis.data import cic as cic_data
from analysis.errors import InputError, ParameterError
from analysis.mutuals.panel import aggregate, callaway_santanna, twfe, validate_panel
from analysis.report.params import validate_parameters


def _unit_costs(rows: list[dict]) -> pd.DataFrame:
    """A minimal unit_costs-shaped frame for residential care for older people."""
    base = {"collection": "PSS-EX1", "service": "residential care", "client_group": "older people (65+)",
            "geography": "council", "activity_unit": "weeks", "price_base": "2013-14", "support_reason": "all"}
    df = pd.DataFrame([{**base, **r} for r in rows])
    df["ons_code"] = df.get("ons_code", "E0" + df["dh_code"].str.zfill(7))
    df["council"] = "Council " + df["dh_code"]
    return df


def _council(code: str, in_house_weeks: list[float], *, ext_weeks: float = 10_000, in_cost: float = 1000,
             ext_cost: float = 500, start: int = 2009) -> list[dict]:
    rows = []
    for i, weeks in enumerate(in_house_weeks):
        year = start + i
        rows.append({"dh_code": code, "year": year, "provider": "in-house", "activity": weeks,
                     "cost_real_gbp_thousands": weeks * in_cost / 1000})
        rows.append({"dh_code": code, "year": year, "provider": "external", "activity": ext_weeks,
                     "cost_real_gbp_thousands": ext_weeks * ext_cost / 1000})
    return rows


# --- Within-council comparison -------------------------------------------------------------------

def test_within_council_ratio_recovers_a_known_ratio_and_ignores_small_units():
    rng = np.random.default_rng(3)
    rows = []
    for c in range(40):
        for year in range(2009, 2015):
            noise = rng.normal(0, 0.05)
            rows += [{"dh_code": f"{100 + c}", "year": year, "provider": "in-house", "activity": 2000.0,
                      "cost_real_gbp_thousands": 2000 * 1.8 * np.exp(noise) * 500 / 1000},
                     {"dh_code": f"{100 + c}", "year": year, "provider": "external", "activity": 5000.0,
                      "cost_real_gbp_thousands": 5000 * 500 / 1000}]
    # A council with a tiny in-house unit and an absurd unit cost must not count.
    rows += [{"dh_code": "999", "year": 2009, "provider": "in-house", "activity": 10.0,
              "cost_real_gbp_thousands": 500.0},
             {"dh_code": "999", "year": 2009, "provider": "external", "activity": 5000.0,
              "cost_real_gbp_thousands": 2500.0}]
    df = _unit_costs(rows)
    result = comparisons.within_council(df, ["residential_older"], (2009, 2014), {"residential care": 520})
    pooled = result.pooled.iloc[0]
    assert pooled["n_councils"] == 40 and pooled["n_council_years"] == 240
    assert pooled["ci_low"] < 1.8 < pooled["ci_high"] and abs(pooled["ratio"] - 1.8) < 0.03
    assert abs(pooled["trend_pct_per_year"]) < 2
    ratio, lo, hi = comparisons.council_bootstrap_ratio(result.pairs, n_boot=499, seed=1)
    assert ratio == pytest.approx(pooled["ratio"]) and lo < 1.8 < hi


def test_unknown_series_is_an_input_error():
    with pytest.raises(InputError, match="Unknown series 'meals'"):
        comparisons.series_frame(_unit_costs(_council("101", [100.0])), "meals")


@pytest.mark.data
def test_clustered_and_bootstrap_intervals_agree_on_the_real_data():
    """Two independent interval methods for the same within-council ratio (clustered OLS, council bootstrap)."""
    costs = data.load("unit_costs")
    floors = {"residential care": 520, "day care": 520, "home care": 5200}
    result = comparisons.within_council(costs, ["residential_older", "home_care"], (2009, 2014), floors)
    for key, part in result.pairs.groupby("series"):
        row = result.pooled.set_index("series").loc[key]
        ratio, lo, hi = comparisons.council_bootstrap_ratio(part, n_boot=999, seed=2)
        assert ratio == pytest.approx(row["ratio"], rel=1e-9)
        assert lo == pytest.approx(row["ci_low"], rel=0.05) and hi == pytest.approx(row["ci_high"], rel=0.05)
        assert row["ci_low"] > 1.5  # councils' own provision is clearly dearer for both


# --- The treatment rule ----------------------------------------------------------------------------

def test_treatment_rule_classifies_councils_and_counts_cohorts():
    rows = (_council("101", [5000, 5000, 300, 0, 0, 0])          # closed in 2011
            + _council("102", [5000, 4800, 4700, 4600, 4500, 4400])  # kept
            + _council("103", [5000, 4000, 2000, 2000, 2000, 2000])  # reduced, not closed
            + _council("104", [5000, 200, 3000, 3000, 3000, 3000])   # fell and rose again
            + _council("105", [500, 500, 0, 0, 0, 0])                # too small at baseline
            + _council("106", [5000, 5000, 5000, 5000, 100, 0])      # closed in 2013
            + _council("107", [5000, 5000, 5000, 5000, 5000]))        # not observed in 2014
    panel = closures.build_panel(_unit_costs(rows), closures.ClosureRule(0.1, 0.5, 1040), (2009, 2014))
    status = panel.status.set_index("dh_code")["status"]
    assert status["101"] == "closed or sold" and status["106"] == "closed or sold"
    assert status["102"] == "kept"
    assert status["103"].startswith("excluded: reduced")
    assert status["104"].startswith("excluded: in-house weeks fell below the threshold and rose again")
    assert status["105"].startswith("excluded: little or no in-house")
    assert status["107"].startswith("excluded: not observed")
    assert panel.cohorts.set_index("cohort")["councils"].to_dict() == {2011: 1, 2013: 1}
    treated = panel.data[panel.data["dh_code"] == "101"].set_index("year")["treated"]
    assert treated.to_dict() == {2009: 0, 2010: 0, 2011: 1, 2012: 1, 2013: 1, 2014: 1}
    # Overall unit cost mixes own and bought-in weeks: 5000 x £1000 + 10000 x £500 over 15000 weeks.
    first = panel.data[(panel.data["dh_code"] == "101") & (panel.data["year"] == 2009)].iloc[0]
    assert first["unit_cost"] == pytest.approx((5000 * 1000 + 10000 * 500) / 15000)
    result = closures.estimate(panel)
    assert not result.supported and "Only 2 council(s) closed" in result.reason


def test_treatment_rule_must_be_ordered():
    with pytest.raises(InputError, match="closure_share"):
        closures.ClosureRule(0.6, 0.5, 1000)


# --- The panel estimators on this panel against independent code --------------------------------

@pytest.fixture(scope="module")
def closure_panel():
    return closures.build_panel(data.load("unit_costs"), closures.ClosureRule(), (2009, 2014))


def _as_panel(panel, outcome):
    frame = panel.data[["dh_code", "year", outcome, "treated"]].rename(
        columns={"dh_code": "unit", "year": "time", outcome: "outcome"})
    return validate_panel(frame, require_balanced=True), frame


@pytest.mark.data
@pytest.mark.parametrize("outcome", list(closures.OUTCOMES))
def test_callaway_santanna_on_this_panel_matches_a_direct_computation(closure_panel, outcome):
    """ATT(g, t) from first principles (cohort mean change minus never-treated mean change from the cohort's last
    untreated year, or from the year before for pre-periods) and the simple aggregation (post cells weighted by
    cohort size) reproduce the validated estimator on the council panel to machine precision."""
    p, frame = _as_panel(closure_panel, outcome)
    gt = callaway_santanna(p, control_group="nevertreated")
    wide = frame.pivot(index="unit", columns="time", values="outcome")
    cohort = closure_panel.data.groupby("dh_code")["cohort"].first().reindex(wide.index)
    never = wide[cohort == 0]
    years = list(wide.columns)
    for row in gt.att.itertuples():
        g, t = row.group, row.time
        base = g - 1 if t >= g else years[years.index(t) - 1]
        group = wide[cohort == g]
        direct = (group[t] - group[base]).mean() - (never[t] - never[base]).mean()
        assert row.att == pytest.approx(direct, abs=1e-12)
    post = gt.att[gt.att["time"] >= gt.att["group"]]
    sizes = post["group"].map(closure_panel.cohorts.set_index("cohort")["councils"])
    simple = float(np.sum(post["att"] * sizes) / sizes.sum())
    assert aggregate(gt, "simple").overall == pytest.approx(simple, abs=1e-12)


@pytest.mark.data
@pytest.mark.parametrize("outcome", list(closures.OUTCOMES))
def test_twfe_on_this_panel_matches_dummy_variable_ols(closure_panel, outcome):
    """The within estimator against least squares with explicit council and year dummies (statsmodels, no
    demeaning): identical coefficient; clustered standard errors equal once the degrees-of-freedom factor is
    put on the same footing (the dummy regression counts the absorbed council effects in K)."""
    p, frame = _as_panel(closure_panel, outcome)
    est = twfe(p)
    X = pd.concat([frame[["treated"]].astype(float),
                   pd.get_dummies(frame["unit"], prefix="c", dtype=float),
                   pd.get_dummies(frame["time"], prefix="y", drop_first=True, dtype=float)], axis=1)
    fit = sm.OLS(frame["outcome"].astype(float), X).fit()
    assert est.estimate == pytest.approx(float(fit.params["treated"]), abs=1e-10)
    # Cluster-robust (CR1) standard error computed here from the dummy regression's residuals: sandwich of the
    # treated column partialled on every other regressor (Frisch-Waugh-Lovell), with the small-sample factor
    # G/(G-1) x (N-1)/(N-K), K counting the regressors but not the absorbed council effects (Stata xtreg, fe) or
    # also the intercept (fixest); the library may follow either convention.
    others = X.drop(columns="treated")
    x_tilde = X["treated"] - sm.OLS(X["treated"], others).fit().fittedvalues
    scores = (x_tilde * fit.resid).groupby(frame["unit"].to_numpy()).sum()
    core = np.sqrt((scores ** 2).sum()) / (x_tilde ** 2).sum()
    n, g = len(frame), frame["unit"].nunique()
    k_within = X.shape[1] - g
    expected = [core * np.sqrt(g / (g - 1) * (n - 1) / (n - k)) for k in (k_within, k_within + 1)]
    assert any(est.se == pytest.approx(e, rel=1e-8) for e in expected), (est.se, expected)


@pytest.mark.data
def test_closure_results_report_cohorts_pretests_and_the_twfe_contrast(closure_panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = closures.estimate(closure_panel, seed=1)
    assert result.supported
    assert closure_panel.n_treated == int(closure_panel.cohorts["councils"].sum()) >= 5
    for est in result.estimates.values():
        methods = " | ".join(est.summary["method"])
        assert "Callaway-Sant'Anna: simple" in methods and "Two-way fixed effects" in methods
        assert est.cs_pretest_p is not None and est.es_pretest_p is not None
        assert (est.summary["ci_low"] <= est.summary["estimate"]).all()


# --- The CIC sector ----------------------------------------------------------------------------------

def _audit(rows):
    cols = {c: None for c in cic_data.NEEDED}
    return pd.DataFrame([{**cols, **r} for r in rows])


def test_supplier_spellings_merge_by_company_number_and_flags_hold():
    raw = _audit([
        {"supplier": "HARROW HEALTH CIC", "companynumber": "06221409", "companyname": "HARROW HEALTH C.I.C.",
         "isCIC": "1 CIC", "isCharity": "0 not charity", "isNHS": "0 not NHS", "count_supplier": 3,
         "amount_supplier": 82071.0},
        {"supplier": "HARROW HEALTH LTD", "companynumber": "06221409", "companyname": "HARROW HEALTH C.I.C.",
         "isCIC": "2 became CIC", "isCharity": "0 not charity", "isNHS": "0 not NHS", "count_supplier": 40,
         "amount_supplier": 3166224.0},
        {"supplier": "ABBEY ROAD HEALTH CENTRE", "companynumber": "-1", "isCIC": "0 not CIC",
         "isCharity": "0 not charity", "isNHS": "1 NHS or assoc", "count_supplier": 10, "amount_supplier": 2606343.0},
        {"supplier": "ADHD NORTH WEST", "companynumber": "-1", "charityregno": 1234567.0, "isCIC": "0 not CIC",
         "isCharity": "1 charity", "isNHS": "0 not NHS", "count_supplier": 5, "amount_supplier": np.nan},
    ])
    out = cic_data.tidy_suppliers(raw).set_index("organisation_key")
    harrow = out.loc["company:06221409"]
    assert harrow["n_spellings"] == 2 and harrow["is_cic"] and harrow["cic_status"] == "CIC"
    assert harrow["total_paid_gbp"] == pytest.approx(82071 + 3166224) and harrow["n_payments"] == 43
    assert out.loc["name:abbey road health centre", "is_nhs"]
    assert np.isnan(out.loc["charity:1234567", "total_paid_gbp"])  # missing stays missing
    assert pd.isna(out.loc["charity:1234567", "company_number"])  # "-1" is not a company number


def test_unknown_flag_values_are_rejected():
    raw = _audit([{"supplier": "X", "companynumber": "01234567", "isCIC": "maybe", "isCharity": "0 not charity",
                   "isNHS": "0 not NHS", "count_supplier": 1, "amount_supplier": 1.0}])
    from analysis.errors import SchemaError
    with pytest.raises(SchemaError, match="isCIC"):
        cic_data.tidy_suppliers(raw)


def test_concentration_measures_on_a_known_distribution():
    table = pd.DataFrame({"organisation": list("ABCD"), "company_number": [None] * 4, "n_spellings": 1,
                          "is_cic": True, "is_nhs": False, "total_paid_gbp": [70.0, 10.0, 10.0, 10.0],
                          "n_payments": 1.0})
    s = cic.cic_sector(table, window_years=(10, 10), top=2)
    assert s.top1_share == pytest.approx(70) and s.hhi == pytest.approx(70**2 + 3 * 10**2)
    assert s.gini == pytest.approx(cic.gini(np.array([70, 10, 10, 10.0])))
    assert cic.gini(np.ones(5)) == pytest.approx(0)
    assert s.per_year_gbp == pytest.approx((10.0, 10.0, 10.0))


@pytest.mark.data
def test_real_cic_sector_counts():
    s = cic.cic_sector(data.load("nhs_cic_suppliers"))
    assert 200 <= s.n_with_payments <= 230
    assert s.largest.iloc[0]["company_number"] == "06273905"  # City Health Care Partnership
    assert s.largest.iloc[0]["documented_spinout"] == "MUT-201"
    assert 2.5e9 < s.total_gbp < 3.0e9 and s.per_year_gbp[1] < s.per_year_gbp[0] < s.per_year_gbp[2]


@pytest.mark.data
def test_two_england_figures_for_in_house_residential_care_2013_14_are_explained():
    """PSS-EX1 2013-14, in-house residential care for older people, cash (2013-14 is the price base). The England
    row is £488,047k over 512,180 weeks = £952.9 (published 952.9): every council's cost over every council's weeks.
    Sheffield (£1,148k) and Suffolk (£8,909k) reported cost but no weeks; Tameside (32,017) and Redcar and Cleveland
    (55) weeks but no cost. Without them, the 94 councils reporting both: £477,990k / 480,109 weeks = £995.6."""
    costs = data.load("unit_costs")
    rows = costs[(costs["collection"] == "PSS-EX1") & (costs["year"] == 2014) & (costs["provider"] == "in-house")
                 & (costs["service"] == "residential care") & (costs["client_group"] == "older people (65+)")]
    england = rows[rows["geography"] == "England"].iloc[0]
    assert england["cost_gbp_thousands"] == 488047 and england["activity"] == 512180
    assert england["unit_cost_published"] == pytest.approx(952.9)
    councils = rows[rows["geography"] == "council"].fillna({"cost_gbp_thousands": 0, "activity": 0})
    both = councils[(councils["cost_gbp_thousands"] > 0) & (councils["activity"] > 0)]
    assert len(both) == 94
    assert both["cost_gbp_thousands"].sum() == 477990 and both["activity"].sum() == 480109
    one_sided = councils[(councils["cost_gbp_thousands"] > 0) != (councils["activity"] > 0)].set_index("council")
    assert one_sided["cost_gbp_thousands"].to_dict() == {"Redcar and Cleveland": 0, "Sheffield": 1148,
                                                          "Tameside": 0, "Suffolk": 8909}
    assert one_sided["activity"].to_dict() == {"Redcar and Cleveland": 55, "Sheffield": 0, "Tameside": 32017,
                                                "Suffolk": 0}

    base = comparisons.with_price_base(costs, data.load("gdp_deflators"), "2013-14")
    gap = comparisons.published_england_gap(base, "residential_older", 2014)
    assert gap["published"] == pytest.approx(488047 / 512180 * 1000)
    assert gap["reporting"] == pytest.approx(477990 / 480109 * 1000) and gap["n_reporting"] == 94
    assert sorted(gap["cost_without_activity"]) == [("Sheffield", 1148000.0), ("Suffolk", 8909000.0)]
    assert sorted(gap["activity_without_cost"]) == [("Redcar and Cleveland", 55.0), ("Tameside", 32017.0)]
    assert abs(gap["other_cost"]) < 1 and abs(gap["other_activity"]) <= 2  # no estimates this year; rounding
    # The trend (chart, real-terms change) and the England table are now the same quantity.
    trend = comparisons.england_trend(base, ["residential_older"], (2009, 2014)).set_index(["year", "provider"])
    table = comparisons.england_ratios(base, ["residential_older"], (2014, 2014), n_boot=9).iloc[0]
    assert trend.loc[(2014, "in-house"), "unit_cost_real"] == pytest.approx(table["in_house"])
    assert trend.loc[(2014, "in-house"), "unit_cost_published"] == pytest.approx(table["in_house_published"])
    assert trend.loc[(2014, "in-house"), "unit_cost_real"] == pytest.approx(995.586, abs=0.001)


@pytest.mark.data
def test_the_report_says_which_england_figure_it_uses_and_why_the_publishers_differs():
    from types import SimpleNamespace

    from analysis.costs import analysis as costs

    base = comparisons.with_price_base(data.load("unit_costs"), data.load("gdp_deflators"), "2013-14")
    results = SimpleNamespace(england_gap=comparisons.published_england_gap(base, "residential_older", 2014))
    text = costs.england_definition_text(results)
    assert "councils that reported both a cost and an activity" in text
    assert "the definition the 2014-15 collection uses for its own England row" in text
    assert ("for in-house residential care (older people) in 2013-14 it includes £10.1m of cost from Suffolk and "
            "Sheffield (which reported no weeks) and 32,072 weeks from Tameside and Redcar and Cleveland (which "
            "reported no cost), so it comes to £953 a week against £996 here (94 councils reporting both)") in text


# --- Claims, findings and parameters -------------------------------------------------------------

@pytest.mark.data
def test_claims_moved_here_get_their_verdicts_and_the_mutuals_module_no_longer_judges_them():
    from analysis.costs import analysis as costs
    from analysis.costs.params import ProvisionCostsParameters

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = costs.analyse(ProvisionCostsParameters(n_bootstrap=199, services=["residential_older", "home_care"]))
    verdicts = {v.claim_id: v for v in results.verdicts}
    assert set(verdicts) == {"CL-MUT-01", "CL-MUT-03", "CL-MUT-08", "CL-MUT-09", "CL-MUT-10"}
    assert verdicts["CL-MUT-01"].verdict == "unsourced" and "one mutual" in verdicts["CL-MUT-01"].summary
    # CL-MUT-09 (c.2011) is judged on the CQC year nearest the claim, 2015 (no setting clearly lower: partly
    # supported); 2024 is later context, where third-sector community services are rated lower than council-run
    # ones if a council's services are rated independently (the gap stops being clear at a correlation of about
    # 0.46 between them): the rule would give mixed evidence, said with that caveat.
    nine = verdicts["CL-MUT-09"]
    assert nine.verdict == "partly supported" and "asc_activity" in nine.datasets
    assert nine.summary.startswith("Partly supported on the 2015 CQC ratings, the first year in the ratings data and "
                                   "the nearest to the claim, with the third sector as a stand-in for social "
                                   "enterprises: no setting was clearly lower, and external providers as a whole "
                                   "cost councils less per unit. In the 2015 CQC ratings: care homes, no clear")
    assert "The 2024 ratings, later context, would give mixed evidence: the third sector was no better than " \
           "council-run services, and lower in community services, a gap that holds only if the services one " \
           "council runs are rated independently of one another." in nine.summary
    assert "Judged on the CQC ratings nearest the claim" in nine.rule and "latest CQC year" not in nine.rule
    # A high share rated Good or Outstanding is not set out as agreeing with 'quality services' on its own: it is
    # given beside for-profit's (community services 2024: third sector 717 of 787, 91%).
    assert "which agrees with 'quality services'" not in nine.summary + nine.numbers
    assert f"community services: third sector {round(100 * 717 / 787)}%, for-profit" in nine.numbers
    assert "says little about 'quality services'" in nine.numbers
    assert "In the 2024 CQC ratings" in nine.summary and "community services, third sector 4.6 pp lower" in nine.summary
    assert "(a correlation between them above 0.46), which the data cannot rule out" in nine.summary
    assert "398 council-run services among about 98 councils running them in-house (2023" in nine.numbers
    # 'External' is mostly for-profit, said from the CQC ownership counts of 2015 (care homes: 7,353 for-profit
    # against 1,127 third sector; community services 1,559 against 279).
    assert (f"for-profit firms ran {round(100 * 7353 / (7353 + 1127))}% of the third-sector and for-profit care "
            f"homes rated by the CQC at the end of 2015 and {round(100 * 1559 / (1559 + 279))}% of such community "
            "services") in nine.summary and "not value for money" in nine.summary
    assert "'More responsive' is untested" in nine.summary and "overlap" not in nine.numbers
    # CL-MUT-10: only the value is independently confirmed (NAO); the count rests on a government text.
    ten = verdicts["CL-MUT-10"]
    assert ten.verdict == "partly supported" and "NAO-001" in ten.independent_ids
    assert "Only the value is independently confirmed" in ten.summary and "NAO expected 50" in ten.summary
    assert all(v.summary and v.datasets for v in verdicts.values())
    claims = data.load_claims().set_index("claim_id")
    assert (claims.loc[list(verdicts), "analysis"] == "analysis.costs.claims:assess_claims").all()
    findings = costs.key_findings(results)
    assert 3 <= len(findings) <= 6
    assert all(f.has_interval or f.no_interval_reason for f in findings)
    by_key = {f.key: f for f in findings}
    # The pre-trend test fails on this panel, so the closure finding gives no point estimate.
    assert results.closures.estimates["log_unit_cost"].cs_pretest_p < 0.05
    closure = by_key["closure_unit_cost"]
    assert "cannot give an interpretable estimate" in closure.text and "p < 0.001" in closure.text
    assert "mechanical" in closure.text and "%" not in closure.text and not closure.has_interval
    # Home care: the ratio year by year (rose, then flat), not a straight-line trend; the caveat on the mix of
    # in-house work. The by-year ratios are recomputed from the raw table in test_home_care_ratio_by_year_...
    home = by_key["within_council_home_care"].text
    # The first step rests on rescaled hours (the 2008-09 table gave in-house hours weekly: x 52), so the finding
    # says so with the next year's ratio (2009-10: 2.22, recomputed from the raw tables in the by-year test).
    assert "year by year the ratio rose from 2 in 2008-09 (2008-09's in-house hours had to be rescaled from weekly " \
           "figures, so the first step is the least certain; from 2009-10, 2.22) to 2.76 by 2011-12, then flat " \
           "(2.79 in 2012-13 and 2.81 in 2013-14; no two of the years from 2011-12 on differ clearly" in home
    assert "widened" not in home and "a year" not in home
    assert "reablement" in home and "may reflect lower pay" in by_key["within_council_home_care"].limitation
    later = results.home_care_without_first_year.set_index("series").loc["home_care"]
    assert later["first_year"] == 2010 and later["trend_ci_low"] < later["trend_pct_per_year"] < later["trend_ci_high"]
    # CIC money a year is a floor, over a stated span.
    assert "at least £250m to £310m a year (if the files span 9 to 11 years)" in by_key["cic_sector"].text
    assert "floor" in by_key["cic_sector"].text


def _quality(setting: str, year: int, third: tuple[int, int], council: tuple[int, int]) -> pd.DataFrame:
    rows = [{"setting": setting, "year": year, "ownership": own, "good": good, "total": total}
            for own, (good, total) in (("third sector", third), ("local authority", council))]
    df = pd.DataFrame(rows)
    df["share"] = 100 * df["good"] / df["total"]
    return df


def test_rating_difference_matches_newcombes_published_interval():
    """Newcombe (1998), Statistics in Medicine 17:873-890, Table II example (a): 56/70 against 48/80, method 10
    (hybrid score) gives 0.0524 to 0.3339 for the difference 0.2000 (published to 4 decimals; tolerance 1e-4)."""
    diff = claims_mod.rating_differences(_quality("community services", 2024, (56, 70), (48, 80)), 0.95).iloc[0]
    assert diff["diff"] == pytest.approx(20.0)
    assert diff["ci_low"] == pytest.approx(5.24, abs=0.01) and diff["ci_high"] == pytest.approx(33.39, abs=0.01)


def _fake_cic():
    from types import SimpleNamespace

    largest = pd.DataFrame({"total_paid_gbp": [1e9]})
    return SimpleNamespace(per_year_gbp=(0, 2.5e8, 3.1e8), window_years=(9, 11), n_with_payments=10, total_gbp=2.8e9,
                           n_over_10m=3, n_over_1m=5, largest=largest)


def _within(low: float, high: float) -> pd.DataFrame:
    return pd.DataFrame({"series": ["residential_older", "home_care"], "label": ["Residential", "Home care"],
                         "ratio": [low, high], "ci_low": [low - 0.1, high - 0.1], "ci_high": [low + 0.1, high + 0.1],
                         "n_councils": [100, 100]})


def test_quality_verdict_uses_the_difference_not_overlapping_intervals_and_the_year_nearest_the_claim():
    """Third sector 85.0% (1,700/2,000) against council-run 87.5% (1,750/2,000): the two Wilson intervals overlap
    (83.4-86.5% and 86.0-88.9%), but the difference, -2.5 pp, has an interval wholly below zero. The old rule
    (overlap) said 'partly supported'; the evidence is mixed. With an earlier year nearer the claim (c.2011) with
    no difference, that year decides and the later one is context."""
    latest = _quality("community services", 2024, (1700, 2000), (1750, 2000))
    earlier = _quality("community services", 2015, (1750, 2000), (1750, 2000))
    both = pd.concat([earlier, latest], ignore_index=True)
    diffs = claims_mod.rating_differences(both, 0.95).set_index("year")
    assert diffs.loc[2024, "ci_high"] < 0 < diffs.loc[2015, "ci_high"]
    verdicts = {v.claim_id: v for v in claims_mod.assess_claims(data.load_claims(), data.load_figures(),
                                                                 within=_within(1.3, 2.5), cic=_fake_cic(),
                                                                 quality=both, level=0.95)}
    assert verdicts["CL-MUT-09"].verdict == "partly supported"
    assert "community services, third sector 2.5 pp lower" in verdicts["CL-MUT-09"].summary
    assert "The 2024 ratings, later context, would give mixed evidence" in verdicts["CL-MUT-09"].summary
    only_latest = {v.claim_id: v for v in claims_mod.assess_claims(
        data.load_claims(), data.load_figures(), within=_within(1.3, 2.5), cic=_fake_cic(), quality=latest,
        level=0.95)}["CL-MUT-09"]
    assert only_latest.verdict == "mixed evidence"
    same = _quality("community services", 2024, (1750, 2000), (1750, 2000))
    verdict = {v.claim_id: v for v in claims_mod.assess_claims(
        data.load_claims(), data.load_figures(), within=_within(1.3, 2.5), cic=_fake_cic(), quality=same,
        level=0.95)}["CL-MUT-09"]
    assert verdict.verdict == "partly supported" and "no clear difference" in verdict.summary
    none = {v.claim_id: v for v in claims_mod.assess_claims(
        data.load_claims(), data.load_figures(), within=_within(1.3, 2.5), cic=_fake_cic(), quality=same.iloc[0:0],
        level=0.95)}["CL-MUT-09"]
    assert none.verdict == "not testable with public data"


@pytest.mark.data
def test_council_clustering_of_the_2024_community_services_gap_from_the_raw_counts():
    """CQC year-end 2024, community services: third sector 717 of 787 rated Good or Outstanding, council-run 381 of
    398; 98 councils ran community services in-house in 2023 (the latest activity returns), so about 4.06
    council-run services per council. Dividing the council-run counts by the design effect 1 + 3.06 rho, the
    Newcombe interval of the difference first reaches zero at rho = 0.46: below it the gap is clear, above it not."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    from analysis.mutuals import ratings

    snap = data.load("cqc_ratings_by_year")
    shares = ratings.good_share_by_year(snap, (2024, 2024)).set_index(["setting", "ownership"])
    third, council = shares.loc[("community services", "third sector")], shares.loc[("community services",
                                                                                     "local authority")]
    assert (third["good"], third["total"], council["good"], council["total"]) == (717, 787, 381, 398)
    provision = data.load("provision_shares")
    running = provision[provision["setting"].isin(ratings.COUNCIL_SETTINGS["community services"])
                        & (provision["in_house"] > 0) & (provision["year"] == 2023)]
    assert running["council_key"].nunique() == 98 and provision["year"].max() == 2023
    assert ratings.councils_nearest_year(provision, ratings.COUNCIL_SETTINGS["community services"], 2024) == (98, 2023)

    check = ratings.snapshot_clustering(717, 787, 381, 398, 98)
    rho = check["break_even_correlation"]
    assert check["per_council"] == pytest.approx(398 / 98)
    assert rho == pytest.approx(0.46, abs=0.005)

    def high(r):
        deff = 1 + (398 / 98 - 1) * r
        return confint_proportions_2indep(717, 787, 381 / deff, 398 / deff, method="newcomb", compare="diff")[1]

    assert high(rho - 0.01) < 0 < high(rho + 0.01)
    assert check["ci_high"] == pytest.approx(100 * high(0.0)) and check["ci_at_one"][1] > 0
    diffs = claims_mod.rating_differences(
        shares.reset_index().assign(year=2024), 0.95, {("community services", 2024): (98, 2023)})
    row = diffs.set_index("setting").loc["community services"]
    assert row["break_even_correlation"] == pytest.approx(rho) and row["councils_year"] == 2023


def test_snapshot_clustering_edge_cases():
    from analysis.mutuals import ratings

    # One council-run service per council: no clustering to allow for, so a clear gap stays clear.
    assert ratings.snapshot_clustering(1700, 2000, 1750, 2000, 2000)["break_even_correlation"] == np.inf
    # No clear gap to begin with: nothing to break.
    assert np.isnan(ratings.snapshot_clustering(1750, 2000, 1750, 2000, 100)["break_even_correlation"])
    with pytest.raises(InputError):
        ratings.snapshot_clustering(1, 2, 1, 2, 0)


def test_quality_verdict_label_depends_on_whether_the_gap_survives_council_clustering():
    """Third sector 85.0% (1,700/2,000) against council-run 87.5% (1,750/2,000): clearly lower if services are
    independent. With 2,000 councils (one service each) the gap survives any correlation: mixed evidence, said
    plainly. With 100 councils (20 services each) it stops being clear at a small correlation: still mixed evidence
    (a lower rating is not evidence for the claim), and the summary says first that the gap holds only if a
    council's services are rated independently."""
    latest = _quality("community services", 2024, (1700, 2000), (1750, 2000))

    def nine(councils):
        return {v.claim_id: v for v in claims_mod.assess_claims(
            data.load_claims(), data.load_figures(), within=_within(1.3, 2.5), cic=_fake_cic(), quality=latest,
            level=0.95, councils={("community services", 2024): councils})}["CL-MUT-09"]

    robust = nine((2000, 2023))
    assert robust.verdict == "mixed evidence"
    assert "clear even if each council's services counted as one" in robust.summary
    fragile = nine((100, 2023))
    assert fragile.verdict == "mixed evidence"
    assert "lower in community services, a gap that holds only if the services one council runs" in fragile.summary
    assert "holds only if" not in robust.summary
    assert "which the data cannot rule out" in fragile.summary
    assert "2,000 council-run services among about 100 councils" in fragile.numbers


def test_programme_fact_is_partly_supported_when_only_the_value_is_independently_confirmed():
    verdicts = {v.claim_id: v for v in claims_mod.assess_claims(
        data.load_claims(), data.load_figures(), within=_within(1.3, 2.5), cic=_fake_cic(),
        quality=_quality("care homes", 2024, (80, 100), (80, 100)), level=0.95)}
    ten = verdicts["CL-MUT-10"]
    assert ten.verdict == "partly supported"
    assert "'40 services': not independently confirmed" in ten.numbers and "NAO-002" in ten.numbers


def test_parameters_reject_an_inverted_rule_and_reversed_years():
    with pytest.raises(ParameterError, match="closure_share"):
        validate_parameters("provision_costs", {"closure_share": 0.6, "kept_share": 0.5})
    with pytest.raises(ParameterError, match="years"):
        validate_parameters("provision_costs", {"years": ["2013-14", "2008-09"]})
    with pytest.raises(ParameterError, match="unknown parameter 'service'"):
        validate_parameters("provision_costs", {"service": ["home_care"]})
    params = validate_parameters("provision_costs", {"real_terms_base": "2022-23", "services": ["home_care"]})
    assert params.year_range == (2009, 2014) and params.min_activity["home care"] == 5200


@pytest.fixture(scope="module")
def all_services():
    from analysis.costs import analysis as costs
    from analysis.costs.params import ProvisionCostsParameters

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return costs.analyse(ProvisionCostsParameters(n_bootstrap=199))


def test_the_small_count_threshold_is_one_named_constant():
    assert comparisons.MIN_COUNCILS == 10 and "fewer than 10 councils" == comparisons.SUPPRESSED
    import inspect

    source = inspect.getsource(comparisons)
    assert "MIN_COUNCILS = 10\n\"\"\"" in source and "Wilson interval of 70% to 100%" in source
    shown = comparisons.share_of_councils(pd.Series([1.0, 0.5, np.nan]), pd.Series([9, 10, 40]))
    assert shown[0] == comparisons.SUPPRESSED and shown[1] == 50.0 and np.isnan(shown[2])


@pytest.mark.data
def test_shares_of_fewer_than_ten_councils_are_suppressed_with_their_count_beside_them(all_services):
    """Residential care for mental health (18-64): 8 councils both ran and bought it above the minimum activity in
    2008-09 to 2013-14, and 3 in 2013-14 alone; their shares 'where own was dearer' are not shown as percentages.
    Counts recomputed from the council-year pairs; shares of large services recomputed from the same pairs."""
    from analysis.costs import analysis as costs

    pairs = all_services.within.pairs
    mh = pairs[pairs["series"] == "residential_mh"]
    assert mh["dh_code"].nunique() == 8
    within = costs.within_display(all_services.within, all_services.level).set_index("Service")
    columns = list(within.columns)
    share = "Council-years where own was dearer (%)"
    assert columns.index(share) - columns.index("Council-years") == 1  # the counts sit beside the share
    row = within.loc["Residential care, mental health (18-64)"]
    assert row[share] == "fewer than 10 councils" and int(row["Councils"]) == mh["dh_code"].nunique()
    older = pairs[pairs["series"] == "residential_older"]
    assert float(within.loc["Residential care, older people", share]) == pytest.approx(
        100 * (older["log_ratio"] > 0).mean(), abs=0.05)

    last = pairs[pairs["year"] == all_services.params.year_range[1]]
    spread = costs.distribution_display(all_services).set_index("Service")
    for key, label in comparisons.LABELS.items():
        both = last[last["series"] == key]
        shown = spread.loc[label]
        assert int(shown["Councils with both (ratio)"]) == both["dh_code"].nunique()
        if both["dh_code"].nunique() < 10:
            assert shown["Councils where own was dearer (%)"] == "fewer than 10 councils"
        else:
            assert float(shown["Councils where own was dearer (%)"]) == pytest.approx(
                100 * (both["log_ratio"] > 0).mean(), rel=0.01)
    assert (spread["Councils where own was dearer (%)"] == "fewer than 10 councils").sum() >= 2


@pytest.mark.data
def test_headline_counts_of_services_name_the_one_resting_on_few_councils(all_services):
    from analysis import plots
    from analysis.costs import analysis as costs

    pooled = all_services.within.pooled
    above = pooled[pooled["ci_low"] > 1]
    few = above[above["n_councils"] < 10]
    assert list(few["series"]) == ["residential_mh"] and len(above) == 8 and len(pooled) == 9
    finding = next(f for f in costs.key_findings(all_services) if f.key == "within_council_all_services")
    unclear = pooled[(pooled["ci_low"] <= 1) & (pooled["ci_high"] >= 1)]
    assert list(unclear["series"]) == ["residential_pd"]
    assert finding.text.startswith("Own provision cost 1.3 to 2.5 times as much per unit as bought-in care in 8 of 9 "
                                   "services (7 once the 9 comparisons are allowed for); the ninth, residential "
                                   f"care, physical disability (18-64) ({int(unclear['n_councils'].iloc[0])} "
                                   "councils), shows no clear difference; residential care, mental health (18-64) "
                                   "rests on only 8 councils.")
    assert "the other shows" not in finding.text and "one of the 8" not in finding.text
    assert ("Residential care, mental health (18-64) rests on only 8 councils: where a service rests on fewer than "
            "10 councils, the tables show how many councils there are") in costs.within_text(all_services)
    fig = costs.within_figure(all_services)
    title = plots.chart_meta(fig)["title"]
    assert "for 8 of 9 services" in title and "residential care, mental health (18-64), rests on only 8 councils" \
        in title
    assert "Residential care, mental health (18-64) (8 councils)" in set(plots.chart_data(fig)["label"])


@pytest.mark.data
def test_the_quality_verdict_words_every_gap_third_sector_minus_council_run_and_sets_the_care_home_model_beside_it(
        all_services):
    """Care homes 2024 snapshot: no clear difference, said as 'third sector 0.8 pp lower; 95% interval 4.3 pp lower
    to 3.3 pp higher' (never '-0.8 pp, -4.3 to +3.3'); the adjusted care-home model's 3.6 pp gap beside it, with the
    correlation at which it stops being clear, so the verdict does not read 'no clear difference' alone."""
    from analysis.mutuals import ratings

    nine = next(v for v in all_services.verdicts if v.claim_id == "CL-MUT-09")
    g3 = data.load("cqc_ratings_by_year")
    part = g3[(g3["setting"] == "care homes") & (g3["year"] == 2024)]
    good = part[part["rating"].isin(["Good", "Outstanding"])].groupby(part["ownership"].astype(str))["n"].sum()
    total = part.groupby(part["ownership"].astype(str))["total"].first()
    diff = 100 * (good["third sector"] / total["third sector"] - good["local authority"] / total["local authority"])
    assert f"care homes, no clear difference between third sector and council-run (third sector {abs(diff):.1f} pp " \
           "lower; 95% interval 4.3 pp lower to 3.3 pp higher)" in nine.summary
    homes = ratings.care_home_models(data.load("cqc_care_home_closures"), data.load("provision_shares"))
    rho = homes["clustering"].query("term == 'third sector' and correlation == 0")["break_even_correlation"].iloc[0]
    assert ("finds third-sector homes 3.6 pp less likely to be rated Good or Outstanding (95% interval 0.4 to 6.8 pp "
            f"less), but that gap stops being clear above a correlation of {rho:.2f} between a council's homes") \
        in nine.summary
    assert "cqc_care_home_closures" in nine.datasets and nine.verdict == "partly supported"
    assert "-0.8 pp" not in nine.summary + nine.numbers and "+3.3 pp" not in nine.summary + nine.numbers


# --- Review 4: year dependence, the home-care path, closure charts, tables and wording ---------------

def test_the_snapshot_nearest_a_claim_and_the_claim_year():
    assert claims_mod.claim_year("c.2011") == 2011 and claims_mod.claim_year("2013-02-08") == 2013
    assert claims_mod.claim_year("c.2014-15") == 2014 and claims_mod.claim_year("n.d.") is None
    diffs = pd.DataFrame({"year": [2015, 2024, 2015, 2024]})
    assert claims_mod.nearest_snapshot(diffs, 2011) == 2015 and claims_mod.nearest_snapshot(diffs, 2023) == 2024
    assert claims_mod.nearest_snapshot(diffs, None) is None


def test_quality_verdict_is_judged_on_the_year_nearest_the_claim_with_the_latest_as_context():
    """Latest year (2024) clearly lower (1,700/2,000 against 1,750/2,000), the year nearest c.2011 (2015) equal:
    partly supported on 2015, said first, and the summary says what 2024 would give (mixed evidence)."""
    latest = _quality("community services", 2024, (1700, 2000), (1750, 2000))
    earlier = _quality("community services", 2015, (1750, 2000), (1750, 2000))
    nine = {v.claim_id: v for v in claims_mod.assess_claims(
        data.load_claims(), data.load_figures(), within=_within(1.3, 2.5), cic=_fake_cic(),
        quality=pd.concat([earlier, latest], ignore_index=True), level=0.95)}["CL-MUT-09"]
    assert nine.verdict == "partly supported"
    assert nine.summary.startswith("Partly supported on the 2015 CQC ratings, the first year in the ratings data and "
                                   "the nearest to the claim, with the third sector as a stand-in for social "
                                   "enterprises: no setting was clearly lower")
    assert "The 2024 ratings, later context, would give mixed evidence: the third sector was no better than " \
           "council-run services, and clearly lower in community services." in nine.summary
    both_lower = pd.concat([_quality("community services", 2015, (1700, 2000), (1750, 2000)), latest])
    same = {v.claim_id: v for v in claims_mod.assess_claims(
        data.load_claims(), data.load_figures(), within=_within(1.3, 2.5), cic=_fake_cic(), quality=both_lower,
        level=0.95)}["CL-MUT-09"]
    assert same.verdict == "mixed evidence"
    assert same.summary.startswith("Mixed evidence on the 2015 CQC ratings, the first year in the ratings data and "
                                   "the nearest to the claim, with the third sector as a stand-in for social "
                                   "enterprises: the third sector was no better than council-run services, and "
                                   "clearly lower in community services")
    assert "The 2024 ratings, later context, would give mixed evidence too" in same.summary


@pytest.mark.data
def test_the_2015_snapshot_has_no_setting_clearly_lower_from_the_raw_counts(all_services):
    """CQC year-end 2015 from the raw rating counts: third sector minus council-run, Newcombe intervals for care
    homes (+5.1 pp, -1.1 to +11.9) and community services (-3.1 pp, -9.2 to +4.7) both include zero, so the rule
    gives 'partly supported' on the snapshot nearest the claim, the verdict, and 'mixed evidence' on 2024."""
    from statsmodels.stats.proportion import confint_proportions_2indep

    g3 = data.load("cqc_ratings_by_year")
    for setting, (diff, low, high) in (("care homes", (5.1, -1.1, 11.9)), ("community services", (-3.1, -9.2, 4.7))):
        part = g3[(g3["setting"] == setting) & (g3["year"] == 2015)]
        good = part[part["rating"].isin(["Good", "Outstanding"])].groupby(part["ownership"].astype(str))["n"].sum()
        total = part.groupby(part["ownership"].astype(str))["total"].first()
        t, c = "third sector", "local authority"
        lo, hi = confint_proportions_2indep(good[t], total[t], good[c], total[c], method="newcomb", compare="diff")
        assert 100 * (good[t] / total[t] - good[c] / total[c]) == pytest.approx(diff, abs=0.05)
        assert (100 * lo, 100 * hi) == pytest.approx((low, high), abs=0.05) and lo < 0 < hi
    nine = next(v for v in all_services.verdicts if v.claim_id == "CL-MUT-09")
    assert nine.verdict == "partly supported"
    assert "on the 2015 CQC ratings, the first year in the ratings data and the nearest to the claim" in nine.summary
    assert "The 2024 ratings, later context, would give mixed evidence" in nine.summary
    part = g3[(g3["setting"] == "care homes") & (g3["year"] == 2024)]
    good = part[part["rating"].isin(["Good", "Outstanding"])].groupby(part["ownership"].astype(str))["n"].sum()
    total = part.groupby(part["ownership"].astype(str))["total"].first()
    assert f"care homes: third sector {round(100 * good['third sector'] / total['third sector'])}%, for-profit " \
           f"{round(100 * good['for-profit'] / total['for-profit'])}%" in nine.numbers


@pytest.mark.data
def test_home_care_ratio_by_year_rises_then_is_flat_recomputed_from_the_raw_table(all_services):
    """Home care, PSS-EX1, councils with at least 5,200 in-house and 5,200 bought-in contact hours: the geometric
    mean of each council's own / external hourly cost, by year, straight from the cost and hours columns (the
    deflator cancels within a year): 2.00, 2.22, 2.53, 2.76, 2.79, 2.81 for 2008-09 to 2013-14."""
    from analysis import plots
    from analysis.costs import analysis as costs

    raw = data.load("unit_costs")
    home = raw[(raw["collection"] == "PSS-EX1") & (raw["service"] == "home care") & (raw["geography"] == "council")]
    sums = home.groupby(["dh_code", "year", "provider"])[["cost_real_gbp_thousands", "activity"]].sum(min_count=1)
    wide = sums.unstack("provider")
    ok = ((wide[("activity", "in-house")] >= 5200) & (wide[("activity", "external")] >= 5200)
          & (wide[("cost_real_gbp_thousands", "in-house")] > 0) & (wide[("cost_real_gbp_thousands", "external")] > 0))
    w = wide[ok]
    log_ratio = (np.log(w[("cost_real_gbp_thousands", "in-house")] / w[("activity", "in-house")])
                 - np.log(w[("cost_real_gbp_thousands", "external")] / w[("activity", "external")]))
    by_year = np.exp(log_ratio.groupby(level="year").mean())
    assert list(by_year.round(2)) == [2.00, 2.22, 2.53, 2.76, 2.79, 2.81]
    shown = all_services.within.by_year.query("series == 'home_care'").set_index("year")["ratio"]
    assert np.allclose(shown.to_numpy(), by_year.to_numpy(), rtol=1e-9)
    # The path: 2011-12 differs clearly from 2010-11, and no two of 2011-12 to 2013-14 differ clearly.
    contrasts = all_services.home_care_contrasts.set_index(["year_a", "year_b"])
    assert contrasts.loc[(2011, 2012), "clear"] and not contrasts.loc[(2012, 2014), "clear"]
    assert comparisons.plateau_start(all_services.home_care_contrasts) == 2012
    table = costs.home_care_by_year_display(all_services)
    assert list(table["Year"]) == ["2008-09", "2009-10", "2010-11", "2011-12", "2012-13", "2013-14"]
    fig = costs.home_care_by_year_figure(all_services)
    assert "rose from 2 in 2008-09 to 2.76 by 2011-12, then flat" in plots.chart_meta(fig)["title"]
    text = costs.within_text(all_services)
    assert "the ratio of own to bought-in hourly cost rose from 2 in 2008-09 to 2.76 by 2011-12, then flat" in text
    assert "averages the rise and the flat years and describes neither" in text


def test_plateau_start_on_known_contrasts():
    def contrasts(clear_pairs, years=(2009, 2010, 2011, 2012)):
        return pd.DataFrame([{"year_a": a, "year_b": b, "clear": (a, b) in clear_pairs}
                             for i, a in enumerate(years) for b in years[i + 1:]])

    # Rise to 2011, then flat: 2009 and 2010 each differ from the later years, 2011 and 2012 do not.
    assert comparisons.plateau_start(contrasts({(2009, 2011), (2009, 2012), (2010, 2011), (2010, 2012)})) == 2011
    assert comparisons.plateau_start(contrasts(set())) == 2009  # flat throughout
    assert comparisons.plateau_start(contrasts({(2011, 2012)})) is None  # still moving in the last year


@pytest.mark.data
def test_closure_charts_cite_each_estimators_pretest_and_leave_out_event_times_on_few_councils(all_services):
    """Cohorts 2009-10: 1, 2010-11: 3, 2011-12: 3, 2012-13: 13, 2013-14: 7 councils, years 2008-09 to 2013-14:
    three years after closure only the 2009-10 and 2010-11 cohorts are seen (1 + 3 = 4 councils), four years after
    only the 2009-10 one (1); every other event time has at least 7. So +3 and +4 are not drawn."""
    from analysis import plots
    from analysis.costs import analysis as costs

    panel = all_services.closures.panel
    sizes = panel.cohorts.set_index("cohort")["councils"].to_dict()
    assert sizes == {2010: 1, 2011: 3, 2012: 3, 2013: 13, 2014: 7}
    expected = {e: sum(n for g, n in sizes.items() if 2009 <= g + e <= 2014) for e in range(-5, 5)}
    assert closures.event_time_councils(panel).to_dict() == expected
    assert {e for e, n in expected.items() if n < 5} == {3, 4}
    assert costs.few_event_times(all_services) == [3, 4]
    figs = costs.closure_figures(all_services)
    for fig, est in zip(figs, all_services.closures.estimates.values()):
        shown = plots.chart_data(fig)
        assert shown["event_time"].max() == 2
        title = plots.chart_meta(fig)["title"]
        assert f"(Callaway-Sant'Anna pre-trend test {costs.p_text(est.cs_pretest_p)}; TWFE event study leads " \
               f"{costs.p_text(est.es_pretest_p)})" in title
    ps = [costs.p_text(e.es_pretest_p) for e in all_services.closures.estimates.values()]
    assert ps == ["p = 0.055", "p = 0.082"]
    table = costs.closure_estimates_display(all_services)
    assert "Difference after closure (%)" in table.columns and "Effect (%)" not in table.columns
    assert "leave out years since closure +3 and +4: fewer than 5 closing councils" in costs.closure_text(all_services)


@pytest.mark.data
def test_cost_and_quality_table_prints_the_external_cost_once(all_services):
    from analysis.costs import analysis as costs

    t = costs.cost_quality_display(all_services)
    cost = next(c for c in t.columns if c.startswith("Unit cost"))
    for service in t["Service (cost data)"].unique():
        part = t[t["Service (cost data)"] == service].set_index("Provider")
        e = all_services.england.query("year == 2014").set_index("label").loc[service]
        assert float(part.loc["all external providers", cost]) == pytest.approx(e["external"])
        assert part.loc["third sector (external)", cost] == part.loc["for-profit (external)", cost] \
            == "in 'all external providers'"
    homes = t[t["Service (cost data)"] == "Home care, all adults"]
    assert set(homes["CQC setting"]) == {"community-based services (not only home care)"}


@pytest.mark.data
def test_unsourced_assertions_are_said_as_possibilities(all_services):
    from analysis.costs import analysis as costs

    one = next(v for v in all_services.verdicts if v.claim_id == "CL-MUT-01")
    assert "Gaps of that size" not in one.numbers
    assert "may include council overheads" in costs.NOT_PRODUCTIVITY_SHORT
    assert "load their own services" not in costs.NOT_PRODUCTIVITY + costs.NOT_PRODUCTIVITY_SHORT


@pytest.mark.data
def test_cic_spellings_name_rule_and_register_wording(all_services):
    """The tidy supplier table: 221 paid CICs with 300 supplier spellings (79 beyond one each); the two unpaid CICs
    have one spelling each, so dropping them changes nothing. The name rule picks these 13 of the 82 paid over £1m."""
    from analysis.costs import analysis as costs

    sup = data.load("nhs_cic_suppliers")
    cics = sup[sup["is_cic"] & ~sup["is_nhs"]]
    paid = cics[cics["total_paid_gbp"] > 0]
    unpaid = cics[~(cics["total_paid_gbp"] > 0)]
    assert len(paid) == 221 and int(paid["n_spellings"].sum()) == 300 and (unpaid["n_spellings"] == 1).all()
    s = all_services.cic
    assert (s.n_spellings, s.n_spellings_merged) == (300, 79)
    over_1m = paid[paid["total_paid_gbp"] > 1e6]
    named = set(over_1m.loc[cic.primary_care_by_name(over_1m["organisation"]), "organisation"])
    assert named == {
        "DHU 111 (EAST MIDLANDS) CIC", "SUFFOLK GP FEDERATION C.I.C.", "BARNSLEY HEALTHCARE FEDERATION CIC",
        "PRIMARY CARE COMMISSIONING COMMUNITY INTEREST COMPANY",
        "MILTON KEYNES URGENT CARE SERVICES COMMUNITY INTEREST COMPANY", "SALFORD PRIMARY CARE TOGETHER CIC",
        "WARRINGTON PRIMARY CARE C.I.C.", "PRIMARY CARE CHESHIRE CIC", "BARNET FEDERATED GPS C.I.C.",
        "GATEWAY PRIMARY CARE C.I.C.", "GREATER MANCHESTER URGENT PRIMARY CARE ALLIANCE CIC",
        "CITY & HACKNEY GP CONFEDERATION C.I.C.", "OUT OF HOURS WEST LANCASHIRE C.I.C."}
    assert (s.n_primary_care_over_1m, s.n_over_1m) == (13, 82)
    eight = next(v for v in all_services.verdicts if v.claim_id == "CL-MUT-08")
    assert "13 of the 82 and 7 of the 32 do primary care" in eight.numbers and "many of those" not in eight.numbers
    table = costs.cic_display(all_services)
    assert (table["Documented NHS spin-out (register row)"] == "not documented in the sources used here").sum() \
        == 9
    assert "(300 supplier spellings, merged into those 221 companies by company number)" in costs.cic_text(all_services)


@pytest.mark.data
def test_quartiles_of_few_councils_are_suppressed_and_an_outside_publisher_ratio_is_explained(all_services):
    """2013-14: 3 councils both ran and bought residential care for mental health, so no quartiles; the publisher's
    England ratio for it, in-house over external unit cost of the England row, is 1.15, below the council
    bootstrap interval of the councils reporting both (1.18 to 1.85)."""
    from analysis.costs import analysis as costs

    spread = costs.distribution_display(all_services).set_index("Service")
    mh = spread.loc["Residential care, mental health (18-64)"]
    assert int(mh["Councils with both (ratio)"]) == 3 and int(mh["Councils (in-house)"]) == 3
    assert mh["Council ratio, lower quartile"] == mh["In-house upper quartile (£)"] == "fewer than 10 councils"
    older = spread.loc["Residential care, older people"]
    assert float(older["Council ratio, lower quartile"]) > 1
    raw = data.load("unit_costs")
    e = raw[(raw["collection"] == "PSS-EX1") & (raw["service"] == "residential care") & (raw["year"] == 2014)
            & (raw["client_group"] == "mental health (18-64)") & (raw["geography"] == "England")]
    sums = e.groupby("provider")[["cost_real_gbp_thousands", "activity"]].sum()
    published = (sums.loc["in-house", "cost_real_gbp_thousands"] / sums.loc["in-house", "activity"]) / (
        sums.loc["external", "cost_real_gbp_thousands"] / sums.loc["external", "activity"])
    assert round(published, 2) == 1.15
    text = costs.publisher_outside_text(all_services)
    assert "residential care, mental health (18-64) in 2013-14 (1.15, below the interval " in text  # 1.18-1.85 at 1,999
    row = all_services.england.query("year == 2014 and series == 'residential_mh'").iloc[0]
    assert row["ci_low"] > published  # the fixture's 199 resamples, not the report's 1,999
    assert "geometric mean" in text and "older people" not in text


def test_the_small_cohort_check_counts_its_own_closing_councils(all_services):
    """Final review: the 'cohorts of 5+ councils only' row said 27 councils closed, the whole treated group; it
    uses only the councils in cohorts of five or more, counted here from the cohort table."""
    panel = all_services.closures.panel
    large = int(panel.cohorts.loc[panel.cohorts["councils"] >= 5, "councils"].sum())
    for est in all_services.closures.estimates.values():
        rows = est.summary.set_index("method")
        small_only = [m for m in rows.index if "cohorts of 5+" in m]
        assert len(small_only) <= 1
        for method in rows.index:
            want = large if method in small_only else panel.n_treated
            assert rows.loc[method, "n_treated"] == want
        if small_only:
            assert f"({large} councils)" in small_only[0] and large < panel.n_treated
