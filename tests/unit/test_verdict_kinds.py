"""Verdict tallies by kind of claim, and the own-records qualifier, on the real mutuals and provision-costs claims.

Cold review: '2 supported' in the mutuals tallies was read as support for what mutuals achieve, though both are
programme facts; and 'not testable with public data' on CL-MUT-04 and CL-MUT-25 was read as 'nobody has the data',
though the Cabinet Office's own records give both. Kinds come from claims.csv (``kind``); the qualifier is derived
from the evidence register (analysis.claims.own_records_qualifier)."""

from __future__ import annotations

import json
import warnings

import pytest
from bs4 import BeautifulSoup

from analysis import data
from analysis.claims import _orgs

pytestmark = pytest.mark.data

OWN = "the only records are the claimant's own"
PROVIDERS = "the only records are providers' reports on themselves"
BOTH = "the only records are the claimant's own or providers' reports on themselves"
ACHIEVE = "about what mutuals achieve (productivity, satisfaction, staff views, quality, cost)"
PROGRAMME = ("programme facts and forecasts (counts of mutuals, staff, councils and contracts; what the government "
             "set up or announced)")


@pytest.fixture(scope="module")
def mutual_results():
    from analysis.mutuals import analysis as mutuals
    from analysis.mutuals.params import MutualsParameters

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mutuals.analyse(MutualsParameters(n_permutations=99, outcomes=["burnout", "autonomy"]))


@pytest.fixture(scope="module")
def cost_results():
    from analysis.costs import analysis as costs
    from analysis.costs.params import ProvisionCostsParameters

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return costs.analyse(ProvisionCostsParameters(n_bootstrap=199, services=["residential_older", "home_care"]))


def _index_lines(notebook: str, verdicts) -> list[str]:
    from analysis.report import export

    report = {"notebook": notebook, "title": notebook, "slug": notebook, "overrides": {}, "status": "ok",
              "seconds": 1.0, "html": f"{notebook}.html", "subject": None, "headlines": [], "findings": [],
              "verdicts": json.loads(json.dumps([v.record() for v in verdicts])), "data_files": []}
    run = {"run_id": "r1", "started_at": "2026-01-01T00:00:00Z", "finished_at": "2026-01-01T00:01:00Z",
           "counts": {"ok": 1, "failed": 0}, "environment": {"package_version": "0", "git": {"describe": "abc"}},
           "reports": [report]}
    article = BeautifulSoup(export.render_index(run), "html.parser").find("article", id=f"report-{notebook}")
    return [li.get_text() for li in article.select("li.verdict-group")]


def test_the_register_records_the_two_claims_whose_only_other_records_are_the_cabinet_offices():
    """What the qualifier rests on, read from the register: CL-MUT-04 and CL-MUT-25 cite, besides the article
    that makes them, only rows that originate with the claimant (the Cabinet Office or HM Government)."""
    claims = data.load_claims().set_index("claim_id")
    figures = data.load_figures().set_index("id")
    for cid, records in (("CL-MUT-25", {"MUT-104"}), ("CL-MUT-04", {"MUT-031", "MUT-032", "MUT-082", "MUT-105",
                                                                    "MUT-106"})):
        claim = claims.loc[cid]
        cited = figures.loc[claim["evidence_ids"].split(";")]
        other = cited[cited["source_url"] != claim["source_url"]]
        assert set(other.index) == records
        assert all(_orgs(o) & _orgs(claim["claimant_orgs"]) for o in other["originator"])


def test_the_register_records_only_the_programmes_own_surveys_for_the_unsourced_performance_claims():
    """What the 'unsourced' qualifier rests on (cold review 5: 'unsourced' read as 'made up' though the claims cite
    the programme's own commissioned surveys): CL-MUT-07 and CL-MUT-28 cite, besides the article that makes them,
    only BCG's survey for the Cabinet Office and Social Enterprise UK's for DCMS, both originating with the
    claimant; CL-MUT-01's only other records are Central Surrey Health's own figures (its self-report, and GPonline
    passing on CSH's figure about CSH)."""
    claims = data.load_claims().set_index("claim_id")
    figures = data.load_figures().set_index("id")
    for cid, records in (("CL-MUT-07", {"MUT-045", "MUT-046", "MUT-012"}),
                         ("CL-MUT-28", {"MUT-012", "MUT-015", "MUT-045"})):
        claim = claims.loc[cid]
        cited = figures.loc[claim["evidence_ids"].split(";")]
        other = cited[cited["source_url"] != claim["source_url"]]
        assert set(other.index) == records
        assert all(_orgs(o) & _orgs(claim["claimant_orgs"]) for o in other["originator"])
    claim = claims.loc["CL-MUT-01"]
    cited = figures.loc[claim["evidence_ids"].split(";")]
    other = cited[cited["source_url"] != claim["source_url"]]
    assert set(other.index) == {"MUT-063", "MUT-069"}
    assert set(other["originator"]) == {"CSH Surrey"} and "self-reported" in other.loc["MUT-069", "source_org"]
    assert "CSH Surrey" in other.loc["MUT-063", "group"]   # GPonline passing on CSH's figure about CSH
    assert not any(_orgs(o) & _orgs(claim["claimant_orgs"]) for o in other["originator"])


def test_mutuals_verdicts_carry_the_qualifier_only_where_the_claimants_records_are_all_there_is(mutual_results):
    by_id = {v.claim_id: v for v in mutual_results.verdicts}
    qualified = {cid for cid, v in by_id.items() if v.qualifier}
    assert qualified == {"CL-MUT-04", "CL-MUT-25", "CL-MUT-05", "CL-MUT-07", "CL-MUT-28"}
    assert {by_id[c].label for c in ("CL-MUT-04", "CL-MUT-25")} == {f"not testable with public data ({OWN})"}
    assert {by_id[c].label for c in ("CL-MUT-07", "CL-MUT-28")} == {f"unsourced ({OWN})"}
    # Satisfaction: the DCMS survey (the claimant's) and CSH Surrey's self-report.
    assert by_id["CL-MUT-05"].label == f"unsourced ({BOTH})"
    # Not testable for other reasons: never published (the website's visits), or an independent record of something
    # else exists (a Commons committee on councils).
    assert by_id["CL-MUT-26"].verdict == by_id["CL-MUT-24"].verdict == "not testable with public data"
    assert by_id["CL-MUT-26"].label == by_id["CL-MUT-24"].label == "not testable with public data"


def test_mutuals_tallies_split_what_mutuals_achieve_from_programme_facts(mutual_results):
    from analysis.mutuals import analysis as mutuals

    kinds = data.load_claims().set_index("claim_id")["kind"]
    achieve = [v.verdict for v in mutual_results.verdicts if kinds[v.claim_id] == "outcome"]
    assert sorted(achieve) == ["partly supported", "unsourced", "unsourced", "unsourced"]   # CL-MUT-02, 05, 07, 28
    supported = {v.claim_id for v in mutual_results.verdicts if v.verdict == "supported"}
    assert supported == {"CL-MUT-22", "CL-MUT-27"} and set(kinds[list(supported)]) == {"programme"}
    lines = [f"4 are {ACHIEVE}: 1 partly supported and 3 unsourced (for 2, {OWN}; for 1, {BOTH})",
             f"8 are {PROGRAMME}: 2 supported, 1 contradicted, 1 misattributed and 4 not testable with public data "
             f"(for 2, {OWN})"]
    assert _index_lines("mutuals_vs_inhouse", mutual_results.verdicts) == lines
    finding = next(f for f in mutuals.key_findings(mutual_results) if f.key == "mutuals_verdicts")
    assert f"Of the 12 claims about mutuals judged here, {'; '.join(lines)}." in finding.text


def test_provision_costs_tallies_split_what_mutuals_achieve_from_programme_facts(cost_results):
    by_id = {v.claim_id: v for v in cost_results.verdicts}
    assert {c for c, v in by_id.items() if v.kind == "outcome"} == {"CL-MUT-01", "CL-MUT-09"}
    # Each not-testable claim has independent rows; CL-MUT-01's only records are Central Surrey Health's own.
    assert {c for c, v in by_id.items() if v.qualifier} == {"CL-MUT-01"}
    assert by_id["CL-MUT-01"].label == f"unsourced ({PROVIDERS})" and not by_id["CL-MUT-01"].independent_ids
    # CL-MUT-09 is judged on the 2015 ratings, nearest the claim (c.2011): partly supported.
    assert by_id["CL-MUT-09"].verdict == "partly supported"
    assert _index_lines("provision_costs", cost_results.verdicts) == [
        f"2 are {ACHIEVE}: 1 partly supported and 1 unsourced ({PROVIDERS})",
        f"3 are {PROGRAMME}: 1 partly supported and 2 not testable with public data"]
