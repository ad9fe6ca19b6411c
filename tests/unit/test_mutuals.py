"""Mutuals real-data comparisons: staff-survey GLM, CQC models, externalisation, claim verdicts."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from analysis import data
from analysis.errors import InputError
from analysis.mutuals import externalisation, ratings, staff


def _toy_survey(n_trusts=12, n_se=4, effect=-5.0, seed=0):
    """A small synthetic staff-survey table in the tidy layout (SIMULATED, for unit tests only)."""
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n_trusts + n_se):
        se = i < n_se
        ods = f"X{i:02d}"
        for year in (2021, 2022):
            rate = 30 + (effect if se else 0) + rng.normal(0, 1)
            rows.append({"ods_code": ods, "year": year, "organisation": ods, "organisation_latest": ods,
                         "benchmarking_group": "Social Enterprises - Community" if se else "Community Trusts",
                         "provider_model": "social enterprise" if se else "NHS trust", "service": "community",
                         "respondents": 500, "item": "burnout", "item_label": "burnout", "domain": "wellbeing",
                         "higher_is_better": False, "rate": rate, "base": 480})
    return pd.DataFrame(rows)


def test_glm_difference_recovers_a_known_gap_and_ci_covers_it():
    survey = _toy_survey(effect=-5.0)
    out = staff.compare_items(survey, "community", ["burnout"], (2021, 2022), n_permutations=499)
    row = out.iloc[0]
    assert row["difference_pp"] == pytest.approx(-5.0, abs=1.0)
    assert row["ci_low"] < -5.0 < row["ci_high"] or abs(row["difference_pp"] + 5) < 1
    assert row["verdict"] == "better"  # lower burnout is better
    assert row["p_randomisation"] < 0.05
    assert 0 < row["p_wild_bootstrap"] < 0.05  # few treated clusters: the wild bootstrap sits beside the CR1 p


def test_no_gap_gives_no_clear_difference():
    out = staff.compare_items(_toy_survey(effect=0.0, seed=3), "community", ["burnout"], (2021, 2022),
                              n_permutations=499)
    assert out.iloc[0]["verdict"] == "no clear difference"


def test_cluster_covariance_with_var_weights_equals_hand_computed_cr1():
    """statsmodels warns cluster covariances are 'not fully supported' with var_weights: check it by hand."""
    part = staff.comparison_sample(_toy_survey(seed=5), "community", (2021, 2022))
    X = pd.concat([pd.Series(1.0, index=part.index, name="const"), part["social_enterprise"].astype(float),
                   pd.get_dummies(part["year"], prefix="y", drop_first=True, dtype=float)], axis=1)
    fit = staff.fit_glm(part, X)
    y, w = (part["rate"] / 100).to_numpy(), part["base"].to_numpy(float)
    mu, Xa = fit.fittedvalues.to_numpy(), X.to_numpy()
    g = pd.factorize(part["ods_code"])[0]
    bread = np.linalg.inv((Xa * (w * mu * (1 - mu))[:, None]).T @ Xa)
    scores = Xa * (w * (y - mu))[:, None]
    G = g.max() + 1
    meat = sum(np.outer(scores[g == k].sum(0), scores[g == k].sum(0)) for k in range(G))
    n, k = Xa.shape
    V = bread @ meat @ bread * G / (G - 1) * (n - 1) / (n - k)
    assert np.allclose(np.sqrt(np.diag(V)), fit.bse.to_numpy(), rtol=1e-8)


def test_unknown_item_and_service_are_rejected():
    survey = _toy_survey()
    with pytest.raises(InputError, match="Unknown staff-survey items"):
        staff.compare_items(survey, "community", ["happiness"], (2021, 2022))
    with pytest.raises(InputError, match="service"):
        staff.compare_items(survey, "acute", ["burnout"], (2021, 2022))


def test_wilson_interval_matches_the_formula():
    lo, hi = staff.wilson(0.5, 100)
    assert lo == pytest.approx(0.4038, abs=1e-4) and hi == pytest.approx(0.5962, abs=1e-4)


@pytest.mark.data
def test_real_staff_comparisons_have_ci_and_flag_single_organisation():
    survey = data.load("staff_survey")
    community = staff.compare_items(survey, "community", ["burnout", "enough_staff"], (2021, 2024),
                                    n_permutations=199)
    assert (community["n_social_enterprises"] == 8).all()
    assert community["ci_low"].notna().all()
    mental = staff.compare_items(survey, "mental health", ["burnout"], (2021, 2024), n_permutations=199)
    assert mental.iloc[0]["n_social_enterprises"] == 1
    assert np.isnan(mental.iloc[0]["ci_low"]) and "one social enterprise" in mental.iloc[0]["note"]


@pytest.mark.data
def test_focus_organisation_and_unknown_code():
    survey = data.load("staff_survey")
    focus = staff.organisation_vs_benchmark(survey, "NQL", ["burnout"], (2021, 2024))
    assert "NAViGO" in focus.organisation and len(focus.table) == 4
    assert (focus.table["benchmark_n"] > 40).all()
    with pytest.raises(InputError, match="not in the staff survey"):
        staff.organisation_vs_benchmark(survey, "ZZZ", ["burnout"], (2021, 2024))


@pytest.mark.data
def test_cqc_shares_and_models():
    shares = ratings.good_share_by_year(data.load("cqc_ratings_by_year"), (2015, 2024))
    assert shares["share"].between(0, 100).all() and (shares["ci_low"] <= shares["share"]).all()
    models = ratings.inspection_models(data.load("cqc_community_inspections"), (2014, 2025))
    table = models["table"]
    assert set(table["term"]) == {"third sector", "for-profit"}
    assert (table["ci_low"] < table["odds_ratio"]).all() and (table["odds_ratio"] < table["ci_high"]).all()
    homes = ratings.care_home_cross_section(data.load("cqc_care_home_closures"))
    assert "log beds" in set(homes["term"]) and homes.attrs["n_homes"] > 20_000
    with pytest.raises(InputError):
        ratings.good_share_by_year(data.load("cqc_ratings_by_year"), (1990, 1995))


@pytest.mark.data
def test_externalisation_is_reported_within_eras():
    national = externalisation.national_inhouse_share(data.load("national_expenditure"))
    change = externalisation.change_within_era(national, "in_house_share", "setting")
    total = change[change["setting"] == "Total over 65"].set_index("collection")
    assert total.loc["PSS-EX1", "to_year"] <= 2014 and total.loc["ASC-FR", "from_year"] >= 2015
    assert total.loc["PSS-EX1", "change_pp"] < 0
    councils = externalisation.council_distribution(data.load("provision_shares"))
    assert (councils["q1"] <= councils["median"]).all() and (councils["median"] <= councils["q3"]).all()


@pytest.mark.data
def test_mutuals_claims_get_rule_based_verdicts():
    from analysis.mutuals import analysis as mutuals
    from analysis.mutuals.params import MutualsParameters

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = mutuals.analyse(MutualsParameters(n_permutations=199, outcomes=["burnout", "enough_staff"]))
    verdicts = {v.claim_id: v.verdict for v in results.verdicts}
    # NAViGO: the item is not public, but independent readings of its staff survey (CQC; the public file) agree
    # with a weaker version of the claim
    assert verdicts["CL-MUT-02"] == "partly supported"
    assert verdicts["CL-MUT-06"] == "misattributed"  # the 100 are all mutuals; the programme had 16 live
    assert not {"CL-MUT-01", "CL-MUT-03", "CL-MUT-08", "CL-MUT-09", "CL-MUT-10"} & set(verdicts)  # analysis.costs
    table = mutuals.verdicts_table(results)
    assert table["numbers"].str.len().min() > 20 and table["evidence_ids"].str.len().min() > 0


# --- Cold review of the rendered mutuals report (items 8, 9, 10, 14, 16) ------------------------------------------

# Items that differ at p < 0.05 in the community comparison, plus burnout, which crosses the line without First
# Community Health and Care: enough for the leave-one-out check to move in both directions.
UNSTABLE_ITEMS = ["burnout", "exhausted", "frustrated", "autonomy", "time_demands", "enough_staff",
                  "harassment_public"]


@pytest.fixture(scope="module")
def review_results():
    from analysis.mutuals import analysis as mutuals
    from analysis.mutuals.params import MutualsParameters

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mutuals.analyse(MutualsParameters(n_permutations=99, outcomes=UNSTABLE_ITEMS))


@pytest.mark.data
def test_staff_findings_lead_with_the_tests_valid_with_few_organisations(review_results):
    """Fourth cold review: the key finding leads with what the randomisation and wild-bootstrap tests show (they stay
    valid with 8 against 16 organisations), then the clustered model's raw pattern; the leave-one-out finding counts
    the runs in which no item survives the adjustment and names the runs that differ, from the sensitivity table."""
    from analysis.mutuals import analysis as mutuals
    from analysis.mutuals import sensitivity

    robust = review_results.sensitivity["community"]
    loo = robust[robust["left_out"] != ""]
    survived = loo["clustered_worse_adjusted"] + loo["clustered_better_adjusted"]
    assert len(loo) == 8 + 16
    findings = {f.key: f.text for f in mutuals.key_findings(review_results)}
    text = findings["mutuals_staff_robustness"]
    assert text.startswith(f"In {int((survived == 0).sum())} of the 24 leave-one-out runs (each of the 8 social "
                           "enterprises and 16 trusts left out in turn), no item stays clearly different")
    changed = loo[survived > 0].assign(n=survived[survived > 0]).sort_values("n", ascending=False)
    for _, row in changed.head(3).iterrows():
        assert f"leaving out {row['analysis'].removeprefix('Without ')}" in text
    if len(changed) > 3:
        assert f"and {len(changed) - 3} other runs give" in text
    assert "unstable in both directions" not in text
    # Fifth cold review: each changed run's randomisation counts are said with their threshold, and the count after
    # the adjustment is in the leave-one-out table (its own columns), not only in the sentence.
    assert "none on the randomisation test" not in text
    for _, row in changed.head(3).iterrows():
        raw = int(row["randomisation_worse"] + row["randomisation_better"])
        if raw == 0:
            assert "none at p < 0.05 on the randomisation test" in text
    table = mutuals.sensitivity_display(review_results, "community")
    adjusted = table["Worse after adjustment (randomisation)"].astype(int) + table[
        "Better after adjustment (randomisation)"].astype(int)
    assert list(adjusted) == list((robust["randomisation_worse_adjusted"]
                                   + robust["randomisation_better_adjusted"]).astype(int))
    pattern = review_results.patterns["community"]
    valid = [pattern.by_inference[c] for c in ("p_randomisation", "p_wild_bootstrap")]
    lead = findings["mutuals_staff_pattern"]
    if all(p.worse + p.better == 0 for p in valid):
        assert lead.startswith("Staff in 8 community social enterprises and 16 NHS community trusts (2021-24) showed "
                               "no clear difference on any of the 7 survey items under the tests that stay valid with "
                               "few organisations (randomisation and wild bootstrap).")
    clustered = pattern.by_inference["p_value"]
    assert (f"In the clustered model, whose standard errors can be too small with so few organisations, they scored "
            f"worse on {clustered.worse} items") in lead
    assert lead.index("randomisation") < lead.index("clustered model")
    assert sensitivity.MAIN in set(robust["analysis"])


@pytest.mark.data
def test_programme_facts_confirmed_only_by_the_government_are_not_called_unsourced(review_results):
    from analysis.mutuals import claims as mutual_claims

    verdicts = {v.claim_id: v for v in review_results.verdicts}
    ambassadors = verdicts["CL-MUT-25"]
    assert ambassadors.verdict == "not testable with public data"
    assert ambassadors.summary.startswith(mutual_claims.CONFIRMED_ONLY_BY_CLAIMANT)
    # The rule agrees with the scale's definition of 'unsourced' (fifth cold review): only the government can record
    # whom it appointed, so no public evidence can test it; no claim that 'unsourced' is never used for such records.
    assert "'unsourced' is kept for claims that an independent study could test" in ambassadors.rule
    assert "made up" not in ambassadors.rule + verdicts["CL-MUT-04"].rule
    # 26 claimed; the only later record is support procured for 21, a different measure, which cannot contradict it.
    programme = verdicts["CL-MUT-04"]
    assert programme.verdict == "not testable with public data"
    assert programme.summary.startswith(mutual_claims.CONFIRMED_ONLY_BY_CLAIMANT)
    assert "agree on the £10m budget" in programme.summary and "measures a different thing" in programme.summary
    assert "10%" in programme.rule
    assert mutual_claims._relative_gap(26, 21) == pytest.approx(5 / 21)


@pytest.mark.data
def test_the_hundred_firms_claim_is_shown_as_reported_speech(review_results):
    claim = data.load_claims().set_index("claim_id").loc["CL-MUT-06", "claim_text"]
    assert claim.startswith("Maude said that the 100 firms")
    assert "[Public Finance's reported speech, not a quotation" in claim
    verdict = {v.claim_id: v for v in review_results.verdicts}["CL-MUT-06"]
    assert verdict.verdict == "misattributed"
    assert verdict.summary.startswith("As reported: the verdict is on Public Finance's paraphrase")
    # The 67 helped and 16 live come from an undated Cabinet Office story: the inferred year is said where used.
    assert "By about 2014 (the Cabinet Office's undated 'two years on' story; the year is inferred" in verdict.summary
    programme = {v.claim_id: v for v in review_results.verdicts}["CL-MUT-04"]
    assert "the year is inferred from the programme's 2012 launch) the programme had helped 67" in programme.summary
    assert "attributable to the minister" in verdict.rule and "journalist" in verdict.rule


@pytest.mark.data
def test_navigo_is_compared_with_mental_health_trusts_without_invalid_intervals(review_results):
    from analysis.mutuals import analysis as mutuals
    from analysis.plots import chart_meta

    assert mutuals.benchmark_name(review_results) == "mental-health trusts"
    display = mutuals.focus_display(review_results)
    assert "Median mental-health trust 2024 (%)" in display.columns
    assert not any("Trusts scoring lower" in c or "% low" in c for c in display.columns)
    title = chart_meta(mutuals.focus_figure(review_results, "burnout"))["title"]
    assert "mental-health trusts" in title and "interval" not in title and "higher" not in title
    table = review_results.focus.table
    latest = table[(table["item"] == "burnout") & (table["year"] == 2024)].iloc[0]
    assert latest["benchmark_median"] != pytest.approx(latest["national_trust_average"])  # not all trusts
    staff_columns = mutuals.staff_display(review_results, "mental health").columns
    assert not any("wild bootstrap" in c for c in staff_columns)  # one treated cluster: not valid
    assert review_results.comparisons["mental health"]["p_wild_bootstrap"].isna().all()
    assert review_results.comparisons["community"]["p_wild_bootstrap"].notna().all()
    navigo = {v.claim_id: v for v in review_results.verdicts}["CL-MUT-02"]
    assert "the median of the 50 mental-health trusts surveyed in 2024" in navigo.numbers
    assert "all trusts" not in navigo.numbers


RAW_MH_GROUP = "Mental Health & Learning Disability and Mental Health, Learning Disability & Community Trusts"


@pytest.mark.data
def test_navigo_benchmark_is_one_comparison_defined_once(review_results):
    """The raw Staff Survey file: 51 mental-health trusts took part in 2021-23 and 50 in 2024 (the Isle of Wight
    NHS Trust's mental-health sector was last reported separately in 2023). The levels use the median of the 2024
    trusts wherever they appear (chart, table, verdict), the pooled test the 51; the text says which is which."""
    from analysis.mutuals import analysis as mutuals
    from analysis.plots import chart_meta

    raw = data.read_raw("nhs_staff_survey")
    trusts = raw[(raw["Benchmarking group"] == RAW_MH_GROUP) & raw["Year"].between(2021, 2024)]
    per_year = trusts.groupby("Year")["ODS code"].nunique()
    assert per_year.to_dict() == {2021: 51, 2022: 51, 2023: 51, 2024: 50}
    assert trusts["ODS code"].nunique() == 51
    gone = set(trusts["ODS code"]) - set(trusts.loc[trusts["Year"] == 2024, "ODS code"])
    assert gone == {"R1F3"}
    median_2024 = trusts.loc[trusts["Year"] == 2024, "Enough_staff_rate"].median()
    navigo_2024 = raw.loc[(raw["ODS code"] == "NQL") & (raw["Year"] == 2024), "Enough_staff_rate"].iloc[0]
    assert median_2024 == pytest.approx(37.155, abs=0.001) and navigo_2024 == pytest.approx(49.900, abs=0.001)

    focus = review_results.focus
    assert focus.benchmark_trusts == {2021: 51, 2022: 51, 2023: 51, 2024: 50} and focus.pooled_trusts == 51
    assert focus.absent_last_year == (("Isle of Wight NHS Trust (mental health sector)", 2023),)
    row = focus.table.query("item == 'enough_staff' and year == 2024").iloc[0]
    assert row["benchmark_median"] == pytest.approx(median_2024)
    assert row["difference_from_benchmark_pp"] == pytest.approx(navigo_2024 - median_2024)
    assert "benchmark_mean" not in focus.table  # one statistic for the levels

    text = mutuals.benchmark_text(review_results)
    assert "the median of the 50 mental-health trusts surveyed in 2024" in text
    assert "the 51 mental-health trusts surveyed in 2021-24, one more than in 2024" in text
    assert "Isle of Wight NHS Trust (mental health sector) was surveyed separately only until 2023" in text
    assert "each trust counted once" in text and "context only" in text
    meta = chart_meta(mutuals.focus_figure(review_results, "enough_staff"))
    assert "37.2%, the median of the 50 mental-health trusts surveyed in 2024" in meta["title"]
    assert meta["n"] == "50 mental-health trusts in 2024 (51 in 2021-2023)"
    display = mutuals.focus_display(review_results).set_index("Item")
    assert display.loc["Enough staff to do my job properly (Q3i)", "Median mental-health trust 2024 (%)"] == (
        pytest.approx(median_2024, abs=0.05))
    assert "the median of the 50 mental-health trusts surveyed in 2024" in mutuals.focus_title(review_results)
    navigo = {v.claim_id: v for v in review_results.verdicts}["CL-MUT-02"]
    assert "enough staff to do my job properly: 50% vs 37%" in navigo.numbers
    assert "the average of the 51 mental-health trusts surveyed in 2021-24 (each trust counted once)" in navigo.summary
    finding = {f.key: f.text for f in mutuals.key_findings(review_results)}["mutuals_mental_health_one_organisation"]
    assert "the average NHS mental-health trust (51 trusts surveyed in 2021-24, each counted once)" in finding
    # With one organisation among 52 the 52 relabellings are enumerated: p is exactly k/52, so at least 1/52.
    table = review_results.comparisons["mental health"]
    p_values = table["p_randomisation"]
    assert table["randomisation_exact"].all() and (table["randomisation_possible"] == 52).all()
    assert np.allclose(p_values * 52, np.round(p_values * 52)) and p_values.min() == pytest.approx(1 / 52)


@pytest.mark.data
def test_headlines_and_cqc_years_say_only_what_the_report_supports(review_results):
    from analysis.mutuals import analysis as mutuals

    keys = [h["key"] for h in mutuals.headlines(review_results)]
    assert keys[0] == "mutuals_cqc_third_sector" and "mutuals_burnout_gap" not in keys
    assert review_results.cqc_models["table"].attrs["years"] == tuple(review_results.params.cqc_years)
    text = {f.key: f.text for f in mutuals.key_findings(review_results)}["mutuals_cqc_third_sector"]
    assert "(every rated inspection 2015-2024, adjusted for year, re-inspection and years registered)" in text
    # Each of the two community-services numbers is named as its measure (fourth cold review).
    # The provision-costs verdict on CL-MUT-09 rests on the ratings nearest the claim; 2024 is its later context.
    assert ("On the unadjusted year-end 2024 snapshot, the measure the provision-costs report gives as later context "
            "to its verdict on CL-MUT-09 (judged on the ratings nearest the claim), they were 4.6 percentage points "
            "lower") in text


def test_the_in_house_share_table_leaves_out_direct_payments():
    """A direct payment goes to the person: an in-house share of it is meaningless, so the table omits it."""
    from types import SimpleNamespace

    from analysis.mutuals.analysis import change_display

    change = pd.DataFrame({"setting": ["Direct payments", "Home care"], "collection": ["PSS-EX1", "PSS-EX1"],
                           "from_year": [2001, 2001], "to_year": [2014, 2014], "from": [0.0, 60.2],
                           "to": [0.0, 21.6], "change_pp": [0.0, -38.6]})
    shown = change_display(SimpleNamespace(national_change=change))
    assert shown["Setting"].tolist() == ["Home care"]
    assert shown["Change (percentage points)"].tolist() == [-38.6]


@pytest.mark.data
def test_the_two_cqc_gaps_are_named_as_different_measures(review_results):
    """4.2 pp (every rated inspection 2015-2024, logit adjusted for year, re-inspection and years registered) and
    4.6 pp (year-end 2024 snapshot: third sector 717/787 = 91.1% against council-run 381/398 = 95.7%, unadjusted)
    are different quantities. The index headline says which one it carries; the report sets them side by side."""
    from analysis.mutuals import analysis as mutuals
    from analysis.report import export

    snap = review_results.snapshot_check
    assert snap["difference_pp"] == pytest.approx(100 * (717 / 787 - 381 / 398))
    assert snap["year"] == 2024 and (snap["councils"], snap["councils_year"]) == (98, 2023)
    assert snap["break_even_correlation"] == pytest.approx(0.46, abs=0.005)
    model = review_results.cqc_clustering.query("term == 'third sector' and correlation == 0").iloc[0]
    assert model["difference_pp"] == pytest.approx(-4.2, abs=0.05)

    head = mutuals.headlines(review_results)[0]
    assert head["period"] == "inspections 2015-2024"
    assert "adjusted for year, re-inspection and years registered" in head["label"]
    assert "not the unadjusted year-end snapshot" in head["label"]
    text = mutuals.cqc_measures_text(review_results)
    assert "At the end of 2024 (every rated service on one date, unadjusted" in text
    assert "91.1% of third-sector community services" in text and "95.7% of council-run ones" in text
    assert "4.6 percentage points lower (95% interval 1.6 to 7.3 points lower)" in text
    assert "4.2 percentage points less likely (95% interval 1.4 to 7.0 points less)" in text
    assert f"above a correlation of {snap['break_even_correlation']:.2f}" in text
    assert f"above a correlation of {model['break_even_correlation']:.2f}" in text

    def report(slug):
        return {"notebook": "mutuals_vs_inhouse", "title": "Mutuals", "slug": slug, "overrides": {}, "status": "ok",
                "seconds": 1.0, "html": f"{slug}.html", "subject": slug,
                "headlines": [{**head, "text": "-4.2 pp (95% interval -7.0 pp to -1.4 pp)", "column": head["label"]}]}

    run = {"run_id": "r1", "started_at": "a", "finished_at": "b", "counts": {"ok": 2, "failed": 0},
           "environment": {"package_version": "0", "git": {"describe": "abc"}}, "reports": [report("a"), report("b")]}
    html = export.render_index(run)
    assert "-4.2 pp (95% interval -7.0 pp to -1.4 pp) (inspections 2015-2024)" in html
    assert "every rated inspection 2015-2024, not the unadjusted year-end snapshot" in html


@pytest.mark.data
def test_navigo_finding_names_the_randomisation_floor_at_the_default_permutations():
    """With one organisation among 52 the 52 relabellings are enumerated, so p = k/52 and cannot fall below 1/52. At
    the report's defaults (18 items) NAViGO sits there on 5 items, none survives the allowance for 18 comparisons,
    and the finding leads with that and says the floor is part of why."""
    from analysis.mutuals import analysis as mutuals
    from analysis.mutuals.params import MutualsParameters

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = mutuals.analyse(MutualsParameters())
    p_values = results.comparisons["mental health"]["p_randomisation"]
    at_floor = int(np.isclose(p_values, 1 / 52).sum())
    assert at_floor == 5 and p_values.min() == pytest.approx(1 / 52)
    # Exact: every p-value is a whole number of 52ths, so the table shows 1/52 = 0.019, not a Monte Carlo estimate.
    assert np.allclose(p_values * 52, np.round(p_values * 52))
    finding = {f.key: f.text for f in mutuals.key_findings(results)}["mutuals_mental_health_one_organisation"]
    assert finding.startswith("NAViGO Health and Social Care CIC, the only mental-health social enterprise in the "
                              "survey, is not clearly different from the average NHS mental-health trust")
    assert "no randomisation p-value can fall below 1/52 (0.019)" in finding
    assert "the most extreme of the 52) on 5 items. Before that allowance it scored better on 8 items" in finding
    assert "randomisation): exact, from all 52 ways" in mutuals.staff_source(results, "mental health")
    assert "estimated from 1,999 random relabellings of the 735,471 possible" in mutuals.staff_source(
        results, "community")


def _raw_good(setting: str, year: int, ownership: str) -> tuple[float, float]:
    """Good-or-Outstanding count and total from the raw CQC year-end file (not through the library's shares)."""
    raw = data.load("cqc_ratings_by_year")
    part = raw[(raw["setting"] == setting) & (raw["year"] == year) & (raw["ownership"].astype(str) == ownership)]
    return float(part.loc[part["rating"].isin(["Good", "Outstanding"]), "n"].sum()), float(part["total"].iloc[0])


@pytest.mark.data
def test_cqc_chart_titles_give_third_sector_minus_council_run_in_words_that_cannot_be_misread(review_results):
    """One direction for CQC gaps across the suite: third sector minus council-run. Community services 2024:
    717/787 against 381/398, 4.6 pp lower (Newcombe 1.6 to 7.3 lower); care homes: no clear difference, with the
    interval said as 'pp lower to pp higher' rather than signed bounds a reader could take the wrong way round."""
    import matplotlib.pyplot as plt
    from statsmodels.stats.proportion import confint_proportions_2indep

    from analysis import plots
    from analysis.mutuals import analysis as mutuals

    for setting in ("community services", "care homes"):
        g3, n3 = _raw_good(setting, 2024, "third sector")
        g0, n0 = _raw_good(setting, 2024, "local authority")
        low, high = confint_proportions_2indep(g3, n3, g0, n0, method="newcomb", compare="diff")
        fig = mutuals.cqc_share_figure(review_results, setting)
        basis = plots.chart_meta(fig)["title_basis"]
        assert basis["estimate"] == pytest.approx(100 * (g3 / n3 - g0 / n0))
        assert (basis["low"], basis["high"]) == pytest.approx((100 * low, 100 * high))
        title = plots.chart_meta(fig)["title"]
        assert "third-sector providers" in title.split(":")[1].split("council-run")[0]
        if setting == "community services":
            assert (g3, n3, g0, n0) == (717, 787, 381, 398)
            assert title.endswith("third-sector providers 4.6 pp lower than council-run providers (95% interval "
                                  "1.6 to 7.3 pp lower)")
        else:
            assert 100 * low < 0 < 100 * high
            places = 1
            assert title.endswith(
                "no clear difference between third-sector providers and council-run providers (third-sector providers "
                f"{abs(100 * (g3 / n3 - g0 / n0)):.{places}f} pp lower; 95% interval {abs(100 * low):.{places}f} pp "
                f"lower to {100 * high:.{places}f} pp higher)")
        plt.close(fig)
    # The models' tables say which way round their difference is.
    shown = mutuals.ratings_display(review_results.care_homes)
    assert mutuals.DIFFERENCE_COLUMN in shown and "minus council in-house" in mutuals.DIFFERENCE_COLUMN


@pytest.mark.data
def test_care_homes_get_the_snapshot_and_the_model_side_by_side_with_the_clustering_check(review_results):
    """Care homes: the 2024 snapshot shows no clear difference, the model (one rating per home in the closures
    file, adjusted for beds, nursing and dementia care) finds third-sector homes 3.6 pp less likely to be rated
    Good or Outstanding, and that gap stops being clear at a correlation of about 0.05 between a council's homes.
    The paragraph gives the file's unadjusted shares and median beds, recomputed here from the file itself."""
    from analysis.mutuals import analysis as mutuals

    homes = data.load("cqc_care_home_closures").dropna(subset=["rating", "beds"])
    homes = homes[homes["beds"] > 0]
    own = homes["ownership"].astype(str)
    good = homes["rating"].isin(["Good", "Outstanding"])
    third, council = 100 * good[own == "third sector"].mean(), 100 * good[own == "local authority"].mean()
    assert (round(third, 1), round(council, 1)) == (83.4, 85.8)
    beds = homes["beds"].groupby(own).median()
    model = review_results.care_homes.set_index("term").loc["third sector"]
    assert model["difference_pp"] == pytest.approx(-3.6, abs=0.05) and model["diff_ci_high"] < 0
    base = review_results.care_home_clustering.query("term == 'third sector' and correlation == 0").iloc[0]
    # One council count for every clustering check: the most councils running homes in-house in any one year of
    # 2010-2023 (119, in 2010, from the council activity returns), not the median yearly count (76).
    provision = data.load("provision_shares")
    care = provision[provision["setting"].isin(["Residential", "Nursing"]) & provision["year"].between(2010, 2023)
                     & (provision["in_house"] > 0)]
    yearly = care.groupby("year")["council_key"].nunique()
    assert (yearly.max(), yearly.idxmax()) == (119, 2010)
    councils = review_results.care_home_clustering.attrs["councils"]
    assert (councils["count"], councils["count_year"]) == (119, 2010)
    assert review_results.care_home_clustering.attrs["per_council"] == pytest.approx(627 / 119)
    assert 0.08 < base["break_even_correlation"] < 0.10
    g3, n3 = _raw_good("care homes", 2024, "third sector")
    g0, n0 = _raw_good("care homes", 2024, "local authority")

    text = mutuals.care_home_measures_text(review_results)
    assert text.startswith("**Two measures for care homes, which disagree.** At the end of 2024")
    assert f"{100 * g3 / n3:.1f}% of third-sector care homes" in text
    assert f"{100 * g0 / n0:.1f}% of council-run ones: not clearly different" in text
    assert "finds third-sector homes 3.6 percentage points less likely (95% interval 0.4 to 6.8 points less)" in text
    assert f"{len(homes):,} homes registered at any time from 2010 to 2023" in text
    assert f"{third:.1f}% of third-sector homes against {council:.1f}% of council-run ones" in text
    assert (f"median {beds['third sector']:.0f} beds against {beds['local authority']:.0f}" in text
            and beds["third sector"] < beds["local authority"])
    assert f"above a correlation of {base['break_even_correlation']:.2f} between a council's homes" in text
    assert "Neither measure, then, clearly shows" in text

    finding = next(f for f in mutuals.key_findings(review_results) if f.key == "mutuals_cqc_third_sector")
    assert ("For care homes, neither measure clearly shows third-sector homes rated differently from council-run ones "
            "once a council's homes may be even slightly alike: at the end of 2024 there was no clear difference (the "
            "year-end snapshot), and a model of the one rating recorded for each home registered 2010-2023, adjusted "
            "for size and type of care, finds third-sector homes 3.6 percentage points less likely (95% interval 0.4 "
            "to 6.8 points less) to be rated Good or Outstanding, a gap that stops being clear above a correlation of "
            f"{base['break_even_correlation']:.2f} between a council's homes.") in finding.text
    assert "5.3 council-run homes for each of at least 119 councils" in text


def test_randomisation_is_exact_when_the_relabellings_are_few():
    """One social enterprise among 6 organisations: 6 relabellings, enumerated, so p is k/6 exactly (the most
    extreme of 6 gives 1/6); 4 among 16 has 1,820 relabellings, above 499, so a Monte Carlo estimate is used."""
    one = _toy_survey(n_trusts=5, n_se=1, effect=-10.0)
    out = staff.compare_items(one, "community", ["burnout"], (2021, 2022), n_permutations=499).iloc[0]
    assert out["randomisation_exact"] and out["randomisation_possible"] == 6
    assert out["p_randomisation"] == pytest.approx(1 / 6)
    many = staff.compare_items(_toy_survey(), "community", ["burnout"], (2021, 2022), n_permutations=499).iloc[0]
    assert not many["randomisation_exact"] and many["randomisation_possible"] == 1820
    assert many["randomisation_relabellings"] == 499


@pytest.mark.data
def test_staff_tables_turn_the_difference_as_the_charts_do(review_results):
    """'Worse for social-enterprise staff by' is the difference with its sign turned for items where more is better
    (autonomy: social enterprises 4.2 points lower is 4.2 worse); 'Leans' is 'neither' when the difference rounds to
    0 at the precision shown."""
    from analysis.mutuals import analysis as mutuals

    table = review_results.comparisons["community"].set_index("item")
    shown = mutuals.staff_display(review_results, "community").set_index("Staff-survey item")
    autonomy = table.loc["autonomy"]
    assert autonomy["higher_is_better"] and autonomy["difference_pp"] < 0
    row = shown.loc[autonomy["label"]]
    assert row[mutuals.WORSE_COLUMN] == pytest.approx(-autonomy["difference_pp"]) and row["Leans"] == "worse"
    assert row["Difference, social enterprises minus trusts (pp)"] == pytest.approx(autonomy["difference_pp"])
    assert mutuals.lean_label(-0.04, -1.2, 1.2) == "neither"
    assert mutuals.lean_label(0.5, -1.2, 1.2) == "worse" and mutuals.lean_label(-0.5, -1.2, 1.2) == "better"


def test_in_house_change_is_shown_to_a_tenth_of_a_point():
    from analysis.mutuals import analysis as mutuals

    change = pd.DataFrame({"setting": ["Nursing home placements"], "collection": ["PSS-EX1"], "from_year": [2001],
                           "to_year": [2014], "from": [1.156], "to": [1.503], "change_pp": [0.347]})
    results = type("R", (), {"national_change": change})()
    shown = mutuals.change_display(results).iloc[0]
    assert (shown["In-house share at start (%)"], shown["In-house share at end (%)"]) == (1.2, 1.5)
    assert shown["Change (percentage points)"] == pytest.approx(0.3)


def test_regional_totals_are_not_counted_as_councils():
    shares = pd.DataFrame({"council_key": ["leeds", "london", "northeast", "southwest"], "year": [2015] * 4,
                           "setting": ["Residential"] * 4, "in_house": [5.0, 3.0, 100.0, 80.0],
                           "in_house_share": [10.0, 0.0, 20.0, 30.0], "collection": ["ASC-FR"] * 4})
    counted = ratings.councils_with_inhouse(shares, ("Residential",), (2015, 2015))
    assert counted["count"] == 2  # "london" is the City of London's key, a council
    assert externalisation.council_distribution(shares)["councils"].iloc[0] == 2


@pytest.mark.data
def test_fourth_review_verdict_wording(review_results):
    verdicts = {v.claim_id: v for v in review_results.verdicts}
    navigo = verdicts["CL-MUT-02"]
    assert navigo.verdict == "partly supported"
    assert navigo.summary.startswith("The item quoted ('79% vs 56%') is not in the public staff-survey data, so the "
                                     "figures cannot be checked. The evidence is other items, from 2019 and 2021-24, "
                                     "for a claim made in 2013")
    satisfaction = verdicts["CL-MUT-05"]
    assert set(satisfaction.datasets) == {"cqc_care_home_ratings_by_year", "cqc_community_ratings_by_year"}
    assert "not service users' satisfaction" in satisfaction.summary
    overnight = verdicts["CL-MUT-07"]
    assert "nhs_staff_survey" not in overnight.datasets and "scored worse" not in overnight.summary
    assert "no evidence either way" in overnight.summary and "not productivity" in overnight.summary
    forecast = verdicts["CL-MUT-21"]
    assert forecast.verdict == "contradicted"
    assert forecast.summary.startswith("'Will empower' is a forecast made in 2012, judged here against the "
                                       "government's own counts up to 2 years later")
    stake = verdicts["CL-MUT-28"]
    assert stake.verdict == "unsourced" and stake.kind == "outcome" and not stake.independent_ids
    assert "68% of mutuals developing new products or services" in stake.summary


def test_the_introduction_says_what_the_navigo_item_measures():
    """The quoted item is staff believing their trust's priority is patient care, not staff rating patient care."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "notebooks" / "mutuals_vs_inhouse.py").read_text(encoding="utf-8")
    assert "rated patient care" not in text
    assert "believed their trust's priority is patient care" in text
