"""Key findings and the verdict scale: the contracts every report relies on."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import provenance
from analysis.claims import (
    VERDICT_SCALE,
    Verdict,
    independent_rows,
    scale_table,
    verdict_count_phrase,
    verdict_counts,
    verdict_groups,
)
from analysis.findings import Finding

CLAIM = {"claim_id": "CL-T-01", "claim_text": "Mutuals improved productivity by 45%.", "speaker": "A Minister",
         "date": "2013", "claimant_orgs": "Cabinet Office; HM Government"}


def _rows(*origins):
    return pd.DataFrame({"id": [f"MUT-{i:03d}" for i in range(len(origins))], "source_org": list(origins),
                         "originator": list(origins), "source_title": "t", "year": "2013",
                         "verification": "found_in_source"})


def test_every_verdict_on_the_scale_has_a_definition():
    assert list(scale_table()["verdict"]) == list(VERDICT_SCALE)
    assert {"supported", "partly supported", "mixed evidence", "contradicted", "misattributed",
            "not testable with public data", "unsourced"} == set(VERDICT_SCALE)
    assert all(len(text) > 30 for text in VERDICT_SCALE.values())


def test_the_claimant_is_not_a_source_for_their_own_claim():
    rows = _rows("Cabinet Office", "hm government")
    assert independent_rows(rows, CLAIM["claimant_orgs"]).empty
    with pytest.raises(ValueError, match="needs independent evidence"):
        Verdict.for_claim(CLAIM, "supported", "rule", "numbers", rows)
    with pytest.raises(ValueError, match="needs independent evidence"):
        Verdict.for_claim(CLAIM, "partly supported", "rule", "numbers", rows)
    # Weaker verdicts need no independent source.
    assert Verdict.for_claim(CLAIM, "unsourced", "rule", "numbers", rows).independent_ids == ()


def test_independent_rows_or_a_catalogued_dataset_allow_support():
    rows = _rows("Cabinet Office", "University of York")
    v = Verdict.for_claim(CLAIM, "supported", "rule", "numbers", rows)
    assert v.independent_ids == ("MUT-001",)
    v = Verdict.for_claim(CLAIM, "partly supported", "rule", "numbers", _rows("Cabinet Office"),
                          datasets=("pss_unit_costs_2013_14",))
    assert v.datasets == ("pss_unit_costs_2013_14",)


def test_a_providers_report_on_itself_is_not_independent_evidence():
    rows = _rows("CSH Surrey (self-reported)", "University of York")
    assert independent_rows(rows, CLAIM["claimant_orgs"])["source_org"].tolist() == ["University of York"]
    with pytest.raises(ValueError, match="independent"):
        Verdict.for_claim(CLAIM, "supported", "rule", "numbers", _rows("CSH Surrey (self-reported)"))


def test_originator_overrides_the_outlet_that_reported_it():
    rows = _rows("Public Finance")
    rows["originator"] = "Cabinet Office"   # a newspaper quoting the minister
    assert independent_rows(rows, CLAIM["claimant_orgs"]).empty


def test_verdict_counts_follow_the_scale_order():
    rows = _rows("University of York")
    vs = [Verdict.for_claim(CLAIM, v, "r", "n", rows) for v in ("unsourced", "supported", "unsourced")]
    assert list(verdict_counts(vs).items()) == [("supported", 1), ("unsourced", 2)]
    assert verdict_count_phrase(vs) == "1 supported and 2 unsourced"
    three = vs + [Verdict.for_claim(CLAIM, "contradicted", "r", "n", rows)]
    assert verdict_count_phrase(three) == "1 supported, 1 contradicted and 2 unsourced"
    assert verdict_count_phrase(vs[:1]) == "1 unsourced" and verdict_count_phrase([]) == "none"


def test_verdict_groups_tally_by_kind_in_rank_order_from_verdicts_or_their_run_records():
    """The key finding (Verdict objects) and the run index (the records read back from run.json) get the same
    groups, in the same order, worded the same way."""
    from dataclasses import replace

    rows = _rows("University of York")
    plain = [Verdict.for_claim(CLAIM, v, "r", "n", rows) for v in ("supported", "partly supported", "mixed evidence",
                                                                     "supported", "mixed evidence")]
    kinds = [("facts", 1), ("facts", 1), ("about outcomes", 0), ("facts", 1), ("about outcomes", 0)]
    grouped = [replace(v, group=g, group_rank=r) for v, (g, r) in zip(plain, kinds)]
    for source in (grouped, [v.record() for v in grouped]):
        groups = verdict_groups(source)
        assert [g.label for g in groups] == ["about outcomes", "facts"]  # rank 0 leads though it comes later
        assert [g.text for g in groups] == ["2 are about outcomes: 2 mixed evidence",
                                            "3 are facts: 2 supported and 1 partly supported"]
        assert [[(v, n, sep) for v, n, sep in g.parts] for g in groups] == [
            [("mixed evidence", 2, "")], [("supported", 2, " and "), ("partly supported", 1, "")]]
    one = verdict_groups(grouped[:1])
    assert one[0].lead == "1 is facts" and one[0].text == "1 is facts: 1 supported"
    # A report that does not group its verdicts has one unlabelled group: the plain tally, as before.
    ungrouped = verdict_groups([v.record() for v in plain])
    assert len(ungrouped) == 1 and ungrouped[0].label == "" and ungrouped[0].lead == ""
    assert ungrouped[0].text == verdict_count_phrase(plain) == "2 supported, 1 partly supported and 2 mixed evidence"
    assert plain[0].record() == {"claim_id": "CL-T-01", "verdict": "supported"}
    assert verdict_groups([]) == []


def test_unknown_verdict_is_rejected():
    with pytest.raises(ValueError, match="verdict must be one of"):
        Verdict.for_claim(CLAIM, "true", "r", "n", _rows("University of York"))


@pytest.mark.parametrize("kwargs, message", [
    (dict(value=3.0), "needs an interval or a reason"),
    (dict(value=3.0, low=4.0, high=5.0), "outside its interval"),
    (dict(value=3.0, low=5.0, high=1.0), "exceeds high"),
    (dict(value=float("nan"), low=1.0, high=5.0), "finite"),
    (dict(limitation=" "), "'limitation' must not be empty"),
])
def test_a_finding_without_interval_source_or_limitation_is_refused(kwargs, message):
    base = dict(key="k", text="t", source="s", limitation="cannot show causation")
    with pytest.raises(ValueError, match=message):
        Finding(**{**base, **kwargs})


def test_a_count_may_go_without_an_interval_when_it_says_why():
    f = Finding("k", "224 CICs were paid by NHS bodies.", "NHSSpend audit", "CIC is not mutual.", value=224,
                no_interval_reason="a count of companies in an administrative list")
    assert not f.has_interval


def test_key_findings_are_rendered_escaped_and_recorded(monkeypatch):
    from analysis.report import notebook

    shown = []
    monkeypatch.setattr(notebook, "display", lambda obj, **kw: shown.append(obj))
    provenance.reset()
    notebook.key_findings([Finding("k", "Costs <b>rose</b> 5%.", "PSS-EX1", "Not quality-adjusted.", value=5.0,
                                   low=3.0, high=7.0, level=0.95, unit="%")])
    html = shown[0].data
    assert "&lt;b&gt;rose&lt;/b&gt;" in html and "<b>" not in html
    assert "Not quality-adjusted." in html and "Source: PSS-EX1" in html
    assert provenance.snapshot()["findings"][0]["key"] == "k"
    with pytest.raises(ValueError, match="at least one key finding"):
        notebook.key_findings([])


def test_verdicts_render_scale_deciding_facts_and_details_escaped(monkeypatch):
    from analysis.report import notebook

    shown = []
    monkeypatch.setattr(notebook, "display", lambda obj, **kw: shown.append(obj))
    provenance.reset()
    v = Verdict.for_claim({**CLAIM, "claim_text": "<script>x</script> 45%"}, "unsourced", "No study cited.",
                          "Claimed 45%.", _rows("Cabinet Office"), summary="Nothing independent found.")
    notebook.verdicts([v])
    html = shown[0].data
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert all(label in html for label in VERDICT_SCALE)          # the scale is printed with its definitions
    assert "Nothing independent found." in html and "<details>" in html and "Claimed 45%." in html
    assert provenance.snapshot()["verdicts"] == [{"claim_id": "CL-T-01", "verdict": "unsourced"}]


# --- Kinds of claim and the own-records qualifier (cold review: 'supported' on audit findings and programme facts
# --- was read as support for the reform; 'not testable' read as 'nobody has the data').

ARTICLE = "https://example.org/the-ministers-article"


def _register(*rows):
    """Register rows as (id, source_org, originator, source_url)."""
    return pd.DataFrame({"id": [r[0] for r in rows], "source_org": [r[1] for r in rows],
                         "originator": [r[2] for r in rows], "source_url": [r[3] for r in rows],
                         "source_title": "t", "year": "2013", "verification": "found_in_source"})


def test_a_claim_whose_only_other_record_is_the_claimants_own_gets_the_qualifier_wherever_its_label_is_shown(
        monkeypatch):
    from analysis.report import notebook

    claim = {**CLAIM, "source_url": ARTICLE}
    rows = _register(("MUT-001", "Public Finance / minister", "Cabinet Office", ARTICLE),   # the claim itself
                     ("MUT-002", "Cabinet Office", "Cabinet Office", "https://gov.uk/press-release"))
    v = Verdict.for_claim(claim, "not testable with public data", "r", "n", rows)
    assert v.qualifier == "the only records are the claimant's own"
    assert v.label == "not testable with public data (the only records are the claimant's own)"
    assert v.record()["qualifier"] == "the only records are the claimant's own"
    # A report outlet quoting the claimant is the claimant's record too (originator), not independent.
    quoted = _register(("MUT-003", "Civil Society News", "HM Government", "https://news.example/x"))
    assert Verdict.for_claim(claim, "not testable with public data", "r", "n", quoted).qualifier == (
        "the only records are the claimant's own")
    # Rendered beside the label on the claim's card.
    shown = []
    monkeypatch.setattr(notebook, "display", lambda obj, **kw: shown.append(obj))
    provenance.reset()
    notebook.verdicts([v])
    assert ('<span class="verdict-label">not testable with public data</span> <span class="verdict-qualifier">'
            "(the only records are the claimant&#x27;s own)</span>") in shown[0].data


def test_no_qualifier_when_records_are_independent_absent_or_the_verdict_is_not_one_that_carries_it():
    claim = {**CLAIM, "source_url": ARTICLE}
    own = ("MUT-002", "Cabinet Office", "Cabinet Office", "https://gov.uk/press-release")
    committee = ("MUT-003", "House of Commons committee", "House of Commons committee", "https://parliament.uk/x")
    article = ("MUT-001", "Public Finance / minister", "Cabinet Office", ARTICLE)
    nt = "not testable with public data"
    assert Verdict.for_claim(claim, nt, "r", "n", _register(own, committee)).qualifier == ""   # an independent row
    assert Verdict.for_claim(claim, nt, "r", "n", _register(article)).qualifier == ""  # only the claim itself
    assert Verdict.for_claim(claim, nt, "r", "n", _register(article, own), datasets=("cqc",)).qualifier == ""
    assert Verdict.for_claim(claim, "contradicted", "r", "n", _register(article, own)).qualifier == ""
    assert "qualifier" not in Verdict.for_claim(claim, nt, "r", "n", _register(article)).record()
    # A provider's report on itself is not the claimant's record, and is said as such.
    provider = ("MUT-004", "CSH Surrey (self-reported)", "CSH Surrey", "https://cshsurrey.example")
    assert Verdict.for_claim(claim, nt, "r", "n", _register(article, provider)).qualifier == (
        "the only records are providers' reports on themselves")
    assert Verdict.for_claim(claim, nt, "r", "n", _register(own, provider)).qualifier == (
        "the only records are the claimant's own or providers' reports on themselves")


def test_unsourced_carries_the_qualifier_when_the_claimants_own_surveys_are_all_there_is():
    """Cold review 5: 'unsourced' on a claim backed only by the programme's own commissioned surveys read as 'made
    up'. The label now says whose the records are; a dataset analysed as context does not remove it (an unsourced
    verdict means no dataset could source the claim), but an independent row does."""
    claim = {**CLAIM, "source_url": ARTICLE}
    article = ("MUT-001", "Public Finance / minister", "Cabinet Office", ARTICLE)
    survey = ("MUT-012", "Social Enterprise UK (for DCMS)", "Cabinet Office", "https://seuk.example/survey")
    committee = ("MUT-003", "House of Commons committee", "House of Commons committee", "https://parliament.uk/x")
    v = Verdict.for_claim(claim, "unsourced", "r", "n", _register(article, survey), datasets=("cqc",))
    assert v.label == "unsourced (the only records are the claimant's own)"
    assert Verdict.for_claim(claim, "unsourced", "r", "n", _register(article)).qualifier == ""
    assert Verdict.for_claim(claim, "unsourced", "r", "n", _register(article, survey, committee)).qualifier == ""
    # An outlet passing on a provider's figure about that provider is the provider's report on itself.
    passed_on = _register(article, ("MUT-063", "GPonline", "CSH Surrey", "https://gponline.example")).assign(
        group=[None, "Central Surrey Health (CSH Surrey)"])
    v = Verdict.for_claim(claim, "unsourced", "r", "n", passed_on)
    assert v.independent_ids == () and v.label == "unsourced (the only records are providers' reports on themselves)"
    about_others = passed_on.assign(group=[None, "Surrey councils"])
    assert Verdict.for_claim(claim, "unsourced", "r", "n", about_others).independent_ids == ("MUT-063",)


def test_tallies_note_how_many_of_a_verdict_carry_the_qualifier():
    claim = {**CLAIM, "source_url": ARTICLE, "topic": "mutuals", "kind": "programme"}
    own = _register(("MUT-002", "Cabinet Office", "Cabinet Office", "https://gov.uk/press-release"))
    none = _register(("MUT-001", "Public Finance / minister", "Cabinet Office", ARTICLE))
    nt = "not testable with public data"
    vs = [Verdict.for_claim(claim, nt, "r", "n", own), Verdict.for_claim(claim, nt, "r", "n", none),
          Verdict.for_claim(claim, "unsourced", "r", "n", none)]
    for source in (vs, [v.record() for v in vs]):
        (group,) = verdict_groups(source)
        assert group.phrase == ("2 not testable with public data (for 1, the only records are the claimant's own) "
                                "and 1 unsourced")
        assert [(v, n, note) for v, n, note, _ in group.items] == [
            (nt, 2, "for 1, the only records are the claimant's own"), ("unsourced", 1, "")]
    (both,) = verdict_groups(vs[:1] * 2)
    assert both.phrase == "2 not testable with public data (the only records are the claimant's own)"


def test_every_kind_of_claim_in_the_register_has_a_group_label_and_outcome_claims_lead():
    from analysis.claims import KIND_GROUPS, KIND_RANK
    from analysis.data import evidence

    claims = evidence.load_claims()
    pairs = set(zip(claims["topic"], claims["kind"]))
    assert pairs <= set(KIND_GROUPS), pairs - set(KIND_GROUPS)
    assert set(claims["kind"]) <= set(evidence.CLAIM_KINDS) == set(KIND_RANK)
    assert KIND_RANK["outcome"] < KIND_RANK["audit finding"] < KIND_RANK["programme"]
    with pytest.raises(ValueError, match="no group label"):
        Verdict.for_claim({**CLAIM, "topic": "personal_budgets", "kind": "audit finding"}, "unsourced", "r", "n",
                          _rows("Cabinet Office"))


def test_claim_kinds_in_the_register_follow_the_wording_of_the_claims():
    """Outcome claims are those about what a reform achieves; the NAO's findings are audit findings; the rest are
    programme facts. Checked against the claims' own words, so a kind cannot drift from the claim."""
    from analysis.data import evidence

    claims = evidence.load_claims().set_index("claim_id")
    kind = claims["kind"].to_dict()
    text = claims["claim_text"].str.lower()
    for cid in ("CL-MUT-01", "CL-MUT-07"):
        assert "productivity" in text[cid] and kind[cid] == "outcome"
    assert "satisfaction" in text["CL-MUT-05"] and kind["CL-MUT-05"] == "outcome"
    assert "cost effectively" in text["CL-MUT-09"] and kind["CL-MUT-09"] == "outcome"
    assert "savings" in text["CL-NAO-05"] and kind["CL-NAO-05"] == "outcome"
    assert {kind[c] for c in claims.index if claims.loc[c, "speaker"] in {"National Audit Office", "Amyas Morse"}} \
        == {"audit finding"}
    assert kind["CL-MUT-25"] == kind["CL-MUT-04"] == kind["CL-MUT-03"] == "programme"


def test_contradicted_can_rest_on_the_claimants_own_records_but_support_cannot():
    """A claimant's own records can contradict its claim (an admission against interest), never support it: the
    printed definition and the independence rule say so, and Verdict still refuses 'supported' on such rows."""
    from analysis.claims import INDEPENDENCE_RULE, VERDICT_SCALE

    assert VERDICT_SCALE["contradicted"].startswith("Independent evidence, or the claimant's own records, disagree "
                                                    "with the claim as worded")
    assert "can contradict its claim" in INDEPENDENCE_RULE and "never support it" in INDEPENDENCE_RULE
    rows = pd.DataFrame({"id": ["X-1"], "source_org": ["Ministry"], "originator": ["Ministry"],
                         "source_title": ["t"], "year": ["2014"], "verification": ["found_in_source"]})
    claim = {**CLAIM, "claimant_orgs": "Ministry"}
    assert Verdict.for_claim(claim, "contradicted", "r", "n", rows).verdict == "contradicted"
    with pytest.raises(ValueError):
        Verdict.for_claim(claim, "supported", "r", "n", rows)
