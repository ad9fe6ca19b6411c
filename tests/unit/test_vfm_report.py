"""The NAO report on the real data: scenarios, key findings, verdicts and titles that do not overstate."""

from __future__ import annotations

import numpy as np
import pytest

from analysis import data
from analysis.claims import NEEDS_INDEPENDENT_EVIDENCE
from analysis.findings import Finding
from analysis.vfm import analysis as vfm
from analysis.vfm import claims
from analysis.vfm.params import VfmParameters

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def results():
    return vfm.analyse(VfmParameters(n_simulations=20_000))


def test_the_three_scenarios_are_ordered_and_matching_gives_zero_foregone_savings(results):
    match, achieved, target = (results.scenarios[n] for n in ("match", "achieved", "target"))
    assert np.all(match.mc.draws["foregone_savings"] == 0)
    assert match.deterministic["foregone_savings"] == 0
    # Same seed, same failure draws: the scenarios differ only through foregone savings.
    assert np.array_equal(match.mc.draws["extra_failure_cost"], target.mc.draws["extra_failure_cost"])
    assert match.total()["mean"] < achieved.total()["mean"] < target.total()["mean"]
    table = vfm.scenario_table(results)
    assert len(table) == 3 and table["Sources"].str.contains("NAO-").all()
    assert table.iloc[0]["Savings the contracts required"].endswith("(foregone savings zero by construction)")
    # numbers, not pre-formatted text: the report rounds them by the rule, median and deterministic to the range
    assert table["Value at risk (£m, mean)"].tolist() == [results.scenarios[n].total()["mean"] for n in
                                                         ("match", "achieved", "target")]
    from analysis.precision import format_of

    assert format_of(table)["aligned"] == {"Median (£m)": "Value at risk (£m, mean)",
                                           "Deterministic case (£m)": "Value at risk (£m, mean)"}


def test_in_house_efficiency_is_centred_on_achieved_productivity_not_the_target(results):
    figures = data.load_figures()
    eff = results.scenarios["achieved"].inputs.distributions["inhouse_efficiency"]
    assert eff.central == pytest.approx(figures.set_index("id").loc["NAO-040", "value"] / 100)
    assert eff.high < 0.04  # the 4% target is the upper scenario, not inside the achieved range
    assert results.scenarios["target"].inputs.distributions["inhouse_efficiency"].central == pytest.approx(0.04)
    years = results.inputs.distributions["contract_years"]
    assert (years.low, years.high) == (3, 5)  # NAO-025's range, not its top


def test_probability_worse_is_withheld_where_the_assumptions_settle_it(results):
    assert not results.scenarios["target"].probability.shown
    assert "restate the assumption" in results.scenarios["target"].probability.reason
    match = results.scenarios["match"]
    assert match.probability.shown  # the two-sided failure proxy points both ways
    assert match.probability.value == pytest.approx((match.mc.draws["total"] > 0).mean())


def test_key_findings_are_valid_and_lead_with_the_headline_total(results):
    findings = vfm.key_findings(results)
    assert 3 <= len(findings) <= 6
    assert all(isinstance(f, Finding) and f.limitation for f in findings)
    total = results.selected.total()
    assert findings[0].value == pytest.approx(total["mean"]) and findings[0].low == pytest.approx(total["low"])
    headline = vfm.headline_total(results)
    assert headline["low"] <= headline["value"] <= headline["high"]
    # Numbers in the text follow the precision rule: no long decimals in the money amounts.
    assert "£2.0" not in findings[0].text and ".000" not in " ".join(f.text for f in findings)
    # One or two sentences each, and no closure rates to four decimals (a reviewer's complaint).
    for finding in findings:
        assert finding.text.count(". ") <= 1, finding.text
    assert "0.0309" not in " ".join(f.text for f in findings)


def test_reconciliation_names_mean_median_and_deterministic(results):
    text = vfm.reconciliation_text(results)
    for word in ("mean", "median", "deterministic"):
        assert word in text


def test_no_nao_finding_is_supported_by_the_nao_itself(results):
    by_id = {v.claim_id: v for v in results.verdicts}
    claims_table = data.load_claims()
    assert set(claims_table.loc[claims_table["topic"] == "nao_vfm", "claim_id"]) <= set(by_id)
    for v in results.verdicts:
        if v.verdict in NEEDS_INDEPENDENT_EVIDENCE:
            assert v.independent_ids and "NAO-001" not in v.independent_ids
    assert by_id["CL-NAO-05"].verdict == "contradicted"


def test_nicholson_bound_by_hand():
    bound = claims.nicholson_bound(data.load_figures())
    assert bound["years"] == 4
    assert bound["saving_year4"] == pytest.approx(900 * (1 - 0.96**4), rel=1e-12)  # 135.59
    assert bound["share_high"] == pytest.approx(900 * (1 - 0.96**4) / 15_000, rel=1e-12)


def test_audited_originators_of_nao_rows():
    figures = data.load_figures().set_index("id")
    assert figures.loc["NAO-033", "originator"] == "Department of Health"  # the target is the Department's
    assert figures.loc["NAO-009", "originator"] == "National Audit Office"  # the NAO's count, via an outlet
    assert figures.loc["NAO-046", "originator"] == "Department of Health"
    new = figures.loc[[f"NAO-0{i}" for i in range(40, 53)]]
    assert new["source_url"].str.startswith("http").all()


def test_chart_titles_state_a_difference_only_when_the_interval_supports_it(results):
    fig = vfm.fan_figure(results)
    title = fig._suptitle.get_text().replace("\n", " ")
    total = results.selected.total()
    if total["low"] < 0 < total["high"]:
        assert "no clear difference" in title
    else:
        assert "no clear difference" not in title
    fig = vfm.proxy_figure(results)
    title = fig._suptitle.get_text().replace("\n", " ")
    assert "no differently" in title  # involuntary closures: no year shows a clear difference
    fig = vfm.tornado_figure(results)
    assert "moves the value at risk most" in fig._suptitle.get_text().replace("\n", " ")
