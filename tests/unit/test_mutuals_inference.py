"""Many comparisons, weighting, leave-one-out and the clustering level: the mutuals report's inference.

Reference results: Benjamini & Hochberg (1995), section 4 (15 p-values; the FDR procedure at q = 0.05 rejects
the four smallest, Bonferroni three); statsmodels' documented CR1 cluster-robust covariance; and constructed cases
whose answer is known by arithmetic (weighted and unweighted group means; identical copies of a cluster).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.mutuals import multiplicity, ratings, sensitivity, staff

# Benjamini & Hochberg (1995), J. R. Statist. Soc. B 57(1), p. 296: the 15 p-values of the worked example.
BH_1995 = [0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719, 0.6528,
           0.7590, 1.000]


def test_benjamini_hochberg_rejects_the_four_hypotheses_of_the_1995_example():
    adjusted = multiplicity.fdr_adjust(BH_1995, alpha=0.05)
    assert (adjusted <= 0.05).sum() == 4  # the paper: p <= 0.0095 rejected; Bonferroni would reject 3
    assert np.all(adjusted[:4] <= 0.05) and np.all(adjusted[4:] > 0.05)
    # Adjusted value by the definition min_{j >= i} m p_(j) / j (hand arithmetic, exact to float precision)
    assert adjusted[3] == pytest.approx(0.0095 * 15 / 4, rel=1e-12)
    assert adjusted[0] == pytest.approx(min(0.0001 * 15, 0.0004 * 15 / 2, 0.0019 * 15 / 3), rel=1e-12)
    assert np.all(np.diff(adjusted) >= 0)  # monotone in the sorted p-values


def test_missing_p_values_stay_missing_and_do_not_count_as_tests():
    with_gap = multiplicity.fdr_adjust([BH_1995[0], np.nan, *BH_1995[1:]])
    assert np.isnan(with_gap[1])
    assert np.allclose(np.delete(with_gap, 1), multiplicity.fdr_adjust(BH_1995))
    assert np.isnan(multiplicity.fdr_adjust([np.nan, np.nan])).all()
    with pytest.raises(ValueError, match="between 0 and 1"):
        multiplicity.fdr_adjust([0.2, 1.3])


def _table(differences, p_clustered, p_random, higher_is_better):
    return pd.DataFrame({"item": [f"i{k}" for k in range(len(differences))], "difference_pp": differences,
                         "higher_is_better": higher_is_better, "p_value": p_clustered, "p_randomisation": p_random,
                         "domain": ["wellbeing"] * len(differences)})


def test_every_p_value_column_gets_an_adjusted_twin_including_new_ones():
    table = _table([1.0, -1.0], [0.01, 0.5], [0.02, 0.6], [False, False]).assign(p_wild_bootstrap=[0.03, 0.4])
    out = multiplicity.add_adjusted_p_values(table)
    assert {"p_value_fdr", "p_randomisation_fdr", "p_wild_bootstrap_fdr"} <= set(out.columns)
    assert "p_value_fdr_fdr" not in multiplicity.add_adjusted_p_values(out).columns


def test_direction_pattern_counts_worse_and_better_by_item_direction():
    # +3 on a 'higher is worse' item = worse; -3 on a 'higher is better' item = worse; +2 on 'higher is better' = better
    table = _table([3.0, -3.0, 2.0, 0.5], [0.001, 0.04, 0.03, 0.8], [0.2, 0.3, 0.01, 0.9], [False, True, True, False])
    pattern = multiplicity.direction_pattern(table, alpha=0.05)
    clustered = pattern.by_inference["p_value"]
    assert (clustered.worse, clustered.better, clustered.tested) == (2, 1, 4)
    # BH over 4: adjusted = [0.004, 0.0533, 0.0533, 0.8]: only the first (worse) survives
    assert (clustered.worse_adjusted, clustered.better_adjusted) == (1, 0)
    randomised = pattern.by_inference["p_randomisation"]
    assert (randomised.worse, randomised.better) == (0, 1)
    assert (pattern.leaning_worse, pattern.leaning_better) == (3, 1)
    sentence = multiplicity.inference_sentence(clustered, 0.05, subject="the social enterprises",
                                               reference="the trusts")
    assert sentence.startswith("With standard errors clustered by organisation, the social enterprises scored worse "
                               "than the trusts on 2 of 4 items at p < 0.05 and better on 1")
    assert "after adjusting for 4 comparisons" in sentence and "1 worse remains" in sentence


def _survey(rates: dict[str, tuple[float, float, bool]], years=(2021, 2022)) -> pd.DataFrame:
    """Toy survey: organisation -> (rate %, responses per year, social enterprise?). SIMULATED for unit tests."""
    rows = []
    for ods, (rate, base, se) in rates.items():
        for year in years:
            rows.append({"ods_code": ods, "year": year, "organisation": ods, "organisation_latest": f"Org {ods}",
                         "benchmarking_group": staff.COMPARATORS["community"][0 if se else 1],
                         "provider_model": "social enterprise" if se else "NHS trust", "service": "community",
                         "respondents": base, "item": "burnout", "item_label": "burnout", "domain": "wellbeing",
                         "higher_is_better": False, "rate": rate, "base": base})
    return pd.DataFrame(rows)


# One large social enterprise at 40%, three small ones and every trust at 30%.
BIG_ONE = {"SA": (40.0, 10_000, True), "SB": (30.0, 100, True), "SC": (30.0, 100, True), "SD": (30.0, 100, True),
           **{f"T{k}": (30.0 + (k % 3 - 1) * 0.5, 1_000, False) for k in range(12)}}


def test_equal_weights_give_every_organisation_the_same_total_and_keep_the_scale():
    survey = _survey(BIG_ONE)
    equal = sensitivity.equal_organisation_weights(survey)
    per_org = equal.groupby("ods_code")["base"].sum()
    assert np.allclose(per_org, per_org.iloc[0])
    assert equal["base"].sum() == pytest.approx(survey["base"].sum())


def test_weighted_and_equal_weight_differences_match_the_group_means():
    survey = _survey(BIG_ONE)
    main = staff.compare_items(survey, "community", ["burnout"], (2021, 2022), n_permutations=199).iloc[0]
    trusts = np.mean([30.0 + (k % 3 - 1) * 0.5 for k in range(12)])  # equal trust sizes: weighted = plain mean
    by_responses = (40 * 10_000 + 30 * 300) / 10_300 - trusts
    assert main["difference_pp"] == pytest.approx(by_responses, abs=1e-6)
    equal = staff.compare_items(sensitivity.equal_organisation_weights(survey), "community", ["burnout"], (2021, 2022),
                                n_permutations=199).iloc[0]
    assert equal["difference_pp"] == pytest.approx((40 + 30 * 3) / 4 - trusts, abs=1e-6)


def test_leave_one_out_drops_each_organisation_once_and_without_the_big_one_the_gap_closes():
    survey = _survey(BIG_ONE)
    seen = []

    def compare(table):
        seen.append(frozenset(table["ods_code"]))
        return staff.compare_items(table, "community", ["burnout"], (2021, 2022), n_permutations=199)

    out = sensitivity.weighting_and_leave_one_out(survey, "community", ["burnout"], (2021, 2022), compare=compare)
    everyone = set(BIG_ONE)
    assert seen[0] == everyone and seen[1] == everyone  # main and equal weights
    left_out = [everyone - s for s in seen[2:]]
    assert len(left_out) == len(everyone) and {frozenset(x) for x in left_out} == {frozenset({o}) for o in everyone}
    assert list(out["analysis"][:2]) == [sensitivity.MAIN, sensitivity.EQUAL]
    big = out[out["left_out"] == "SA"].iloc[0]
    assert big["share_of_group_responses"] == pytest.approx(10_000 / 10_300)
    assert big["clustered_worse"] == 0 and big["leaning_worse"] == 0  # without SA every SE is at 30%
    assert out.loc[out["analysis"] == sensitivity.MAIN, "leaning_worse"].iloc[0] == 1
    shares = sensitivity.response_shares(survey, "community", (2021, 2022))
    assert shares.groupby("social_enterprise")["group_share"].sum().tolist() == pytest.approx([1.0, 1.0])
    assert "Org SA, which gives 97% of the social-enterprise responses" in sensitivity.robustness_sentence(
        out, shares, subject="the social enterprises")


def test_a_group_with_one_organisation_is_not_left_out():
    rates = {"S1": (35.0, 500, True), **{f"T{k}": (30.0 + k % 2, 500, False) for k in range(6)}}
    out = sensitivity.weighting_and_leave_one_out(_survey(rates), "community", ["burnout"], (2021, 2022),
                                                  n_permutations=99)
    assert "S1" not in set(out["left_out"]) and len(out) == 2 + 6


# --- Clustering level ---------------------------------------------------------------------------

def _inspections(copies: int = 1, seed: int = 3) -> pd.DataFrame:
    """Toy ratings: council-run services (each copied ``copies`` times, as if a council's services were perfectly
    correlated) and third-sector services. SIMULATED for unit tests."""
    rng = np.random.default_rng(seed)
    rows = []
    for loc in range(60):
        good = rng.random(4) < 0.8
        for copy in range(copies):
            for t, g in enumerate(good):
                rows.append({"location": f"LA{loc}-{copy}", "council": f"C{loc}", "ownership": "local authority",
                             "year": t, "good": float(g)})
    for loc in range(150):
        for t, g in enumerate(rng.random(4) < 0.7):
            rows.append({"location": f"TS{loc}", "council": f"TS{loc}", "ownership": "third sector", "year": t,
                         "good": float(g)})
    return pd.DataFrame(rows)


def _logit(df: pd.DataFrame, groups):
    X = sm.add_constant(pd.DataFrame({"ownership: third sector": (df["ownership"] == "third sector").astype(float),
                                      "year": df["year"].astype(float)}))
    fit = sm.Logit(df["good"], X).fit(disp=False, cov_type="cluster", cov_kwds={"groups": pd.factorize(groups)[0]})
    return fit, X


def test_sandwich_parts_reproduce_statsmodels_cluster_covariance():
    df = _inspections()
    fit, X = _logit(df, df["location"])
    parts = ratings.sandwich_parts(fit, X, pd.factorize(df["location"])[0],
                                   (df["ownership"] == "local authority").to_numpy())
    assert np.allclose(parts.covariance(1.0), fit.cov_params().to_numpy(), rtol=1e-9)
    assert parts.reference_clusters == 60


def test_design_effect_at_full_correlation_equals_clustering_by_council_for_identical_copies():
    """Copy each council-run service m times: clustering by council is the truth, by location understates it by m."""
    m = 4
    df = _inspections(copies=m)
    fit, X = _logit(df, df["location"])
    by_council, _ = _logit(df, df["council"])
    table = ratings.council_clustering_sensitivity(fit, X, pd.factorize(df["location"])[0], df["ownership"].to_numpy(),
                                                   n_councils=60, correlations=(1.0,))
    assert table.attrs["per_council"] == pytest.approx(m)
    full = table[table["correlation"] == 1.0].iloc[0]
    ame, grad = ratings._logit_ame_gradient(fit, X, "ownership: third sector")
    true_se = np.sqrt(grad @ by_council.cov_params().to_numpy() @ grad)
    # Same meat; only the CR1 factor G/(G-1) differs (G = 60 + 150 councils vs 240 + 150 locations).
    n, k = X.shape
    g_council, g_location = 210, 390
    factor = (g_council / (g_council - 1)) / (g_location / (g_location - 1))
    assert (full["diff_ci_high"] - full["diff_ci_low"]) / 2 == pytest.approx(1.959964 * 100 * true_se / np.sqrt(factor),
                                                                           rel=1e-5)


def test_break_even_correlation_puts_the_interval_bound_at_zero():
    df = _inspections(seed=11)
    fit, X = _logit(df, df["location"])
    clusters, own = pd.factorize(df["location"])[0], df["ownership"].to_numpy()
    table = ratings.council_clustering_sensitivity(fit, X, clusters, own, n_councils=15)
    row = table.iloc[0]
    if not np.isfinite(row["break_even_correlation"]):
        pytest.skip("toy interval already spans zero")
    at = ratings.council_clustering_sensitivity(fit, X, clusters, own, n_councils=15,
                                                correlations=(float(row["break_even_correlation"]),))
    bound = at.iloc[1][["diff_ci_low", "diff_ci_high"]].abs().min()
    assert bound == pytest.approx(0.0, abs=1e-9)


def test_with_one_service_per_council_the_intervals_do_not_change():
    df = _inspections()
    fit, X = _logit(df, df["location"])
    table = ratings.council_clustering_sensitivity(fit, X, pd.factorize(df["location"])[0], df["ownership"].to_numpy(),
                                                   n_councils=60)
    assert np.allclose(table["diff_ci_low"], table["diff_ci_low"].iloc[0])


def test_councils_running_services_in_house_are_counted_per_year():
    shares = pd.DataFrame({"council_key": ["a", "b", "c", "a", "b", "a"], "year": [2016, 2016, 2016, 2017, 2017, 2018],
                           "setting": ["Home care"] * 6, "in_house": [1.0, 2.0, 0.0, 1.0, 3.0, 0.5]})
    counted = ratings.councils_with_inhouse(shares, ("Home care",), (2016, 2018))
    assert counted["median"] == 2 and (counted["low"], counted["high"]) == (1, 2)
    with pytest.raises(Exception, match="No council in-house activity"):
        ratings.councils_with_inhouse(shares, ("Day care",), (2016, 2018))


def test_the_most_adverse_leave_one_out_is_found_in_each_group_and_only_when_it_is_worse():
    def row(analysis, left_out, group, worse, adjusted):
        return {"analysis": analysis, "left_out": left_out, "group": group, "clustered_worse": worse,
                "clustered_worse_adjusted": adjusted}

    table = pd.DataFrame([row(sensitivity.MAIN, "", "", 6, 0), row(sensitivity.EQUAL, "", "", 0, 0),
                          row("Without Big", "B", "social enterprise", 0, 0),
                          row("Without Small", "S", "social enterprise", 8, 6),
                          row("Without Other", "O", "social enterprise", 8, 2),
                          row("Without Trust", "T", "NHS trust", 9, 7)])
    assert sensitivity.most_adverse_leave_one_out(table)["left_out"] == "S"  # most worse, then most adjusted
    assert sensitivity.most_adverse_leave_one_out(table, "NHS trust")["left_out"] == "T"
    assert sensitivity.most_adverse_leave_one_out(table, None)["left_out"] == "T"
    only_better = table[table["left_out"].isin(["", "B"])]
    assert sensitivity.most_adverse_leave_one_out(only_better) is None
