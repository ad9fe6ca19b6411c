"""Every mutuals and personal-budgets claim gets a verdict, and every seed sentence judged stays in the register.

The seed list below is the record of which sentences in ``shared/seeds`` were judged: removing a claim from
``claims.csv``, or editing its wording away from the article, fails here.
"""

from __future__ import annotations

import re
import warnings

import pytest

from analysis import data
from analysis.claims import NEEDS_INDEPENDENT_EVIDENCE, VERDICTS
from tests.conftest import SHARED

MY_MODULES = {"analysis.mutuals.claims:assess_claims", "analysis.budgets.claims:assess_claims"}

# (claim id, seed file, words of the sentence as the article prints them)
SEED_SENTENCES = [
    ("CL-MUT-01", "002_463ac49f40f875ac.txt", "public service mutuals have improved productivity by up to 45%"),
    ("CL-MUT-02", "002_463ac49f40f875ac.txt", "79% of staff at NAViGO"),
    ("CL-MUT-03", "002_463ac49f40f875ac.txt", "with 65 live organisations across England"),
    ("CL-MUT-04", "002_463ac49f40f875ac.txt", "we are already supporting 26 different organisations"),
    ("CL-MUT-05", "002_463ac49f40f875ac.txt", "service users report greater satisfaction"),
    ("CL-MUT-06", "001_8568d5cd10c613dc.txt", "the 100 firms spun out from the public sector since 2010"),
    ("CL-MUT-07", "000_32d738a6db4d1b68.txt", "almost overnight in many cases"),
    ("CL-MUT-08", "000_32d738a6db4d1b68.txt",
     "There are 53 mutual organisations providing some form of service to the NHS"),
    ("CL-MUT-09", "003_cd07be210ed79625.txt", "proven track record of providing quality services"),
    ("CL-MUT-10", "003_cd07be210ed79625.txt", "with 40 services now operating as independent social enterprises"),
    ("CL-MUT-21", "003_cd07be210ed79625.txt",
     "This will empower millions of public sector staff to become their own boss"),
    ("CL-MUT-22", "003_cd07be210ed79625.txt", "thousands of public servants working in new mutuals"),
    ("CL-NAO-05", "003_cd07be210ed79625.txt", "in the NHS on our £15-20 billion worth of savings"),
    ("CL-MUT-24", "002_463ac49f40f875ac.txt", "more than 70 councils have got in touch"),
    ("CL-MUT-25", "002_463ac49f40f875ac.txt", "We have recently appointed 15 new mutuals ambassadors"),
    ("CL-MUT-26", "002_463ac49f40f875ac.txt", "With around 1,600 visits per week"),
    ("CL-MUT-27", "002_463ac49f40f875ac.txt",
     "a joint venture between three London boroughs and an independent partner"),
    ("CL-MUT-28", "002_463ac49f40f875ac.txt",
     "giving people a stake in their business improves productivity and innovation"),
    ("CL-PB-01", "004_c36367df501afeb4.txt", "have been piloted by 13 councils from Gateshead to West Sussex"),
    ("CL-PB-02", "004_c36367df501afeb4.txt", "judged a success"),
    ("CL-PB-03", "000_32d738a6db4d1b68.txt", "has a huge benefit, both in terms of money being spent better"),
    ("CL-PB-04", "004_c36367df501afeb4.txt", "Debate on whether we should have more personalised services is over"),
    ("CL-PB-21", "000_32d738a6db4d1b68.txt", "There's much more scope for much more personal budgets"),
    ("CL-PB-22", "004_c36367df501afeb4.txt",
     "we are looking at some form of individual budgets for people with long-term conditions"),
    ("CL-PB-23", "004_c36367df501afeb4.txt", "Participatory budgeting is taking place in lots of areas"),
    ("CL-PB-24", "004_c36367df501afeb4.txt", "their child is worth £6,000 a year"),
    ("CL-PB-25", "004_c36367df501afeb4.txt", "the first parent-promoted school opened in Lambeth"),
    ("CL-PB-26", "004_c36367df501afeb4.txt", "The evaluation report is due this spring"),
]


def _normal(text: str) -> str:
    """Case, curly quotes, dashes and whitespace normalised, so wording is compared, not typography."""
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("\u2013", "-").replace("\u2014", "-")
    text = text.replace("\u201c", '"').replace("\u201d", '"').replace("\u00a0", " ")
    return re.sub(r"\s+", " ", text).casefold().strip()


def _quoted_parts(claim_text: str) -> list[str]:
    """The verbatim passages of a claim text: split on '...' (an omission), less any [editorial note]."""
    text = re.sub(r"\s*\[[^\]]*\]", "", claim_text)
    return [part for part in (p.strip() for p in re.split(r"\s*\.\.\.\s*", text)) if part]


def test_every_judged_seed_sentence_is_in_its_article_and_in_the_register():
    claims = data.load_claims().set_index("claim_id")
    for claim_id, seed, words in SEED_SENTENCES:
        assert claim_id in claims.index, f"{claim_id} ({words!r}) was removed from claims.csv"
        row = claims.loc[claim_id]
        assert row["seed_file"] == seed, claim_id
        assert _normal(words) in _normal(row["claim_text"]), f"{claim_id}: claim text no longer has {words!r}"
        path = SHARED / "seeds" / seed
        if path.is_file():
            assert _normal(words) in _normal(path.read_text(encoding="utf-8")), f"{claim_id}: not in {seed}"


def test_every_claim_text_quotes_its_article_verbatim():
    """Each passage of every claim text (split on '...', editorial [notes] left out) is in its seed article word for
    word, punctuation included: no stitched or reworded paraphrase, no full stop the article does not have."""
    claims = data.load_claims()
    checked = 0
    for row in claims.itertuples():
        path = SHARED / "seeds" / str(row.seed_file)
        if not path.is_file():
            continue
        article = _normal(path.read_text(encoding="utf-8"))
        for part in _quoted_parts(row.claim_text):
            assert _normal(part) in article, f"{row.claim_id}: {part!r} is not verbatim in {row.seed_file}"
        checked += 1
    if (SHARED / "seeds").is_dir():
        assert checked == len(claims)


def test_the_verbatim_check_catches_a_reworded_or_cut_quotation():
    article = _normal("with thousands of public servants working in new mutuals with contracts worth almost £1 "
                      "billion. We have extended")
    assert _normal("mutuals in community healthcare hold contracts worth almost £1 billion") not in article
    cut = _quoted_parts("with thousands of public servants working in new mutuals.")
    assert _normal(cut[0]) not in article  # a full stop the article does not have
    assert all(_normal(p) in article for p in _quoted_parts("with thousands of public servants ... worth almost £1 "
                                                            "billion. [note]"))


def test_every_claim_of_these_topics_is_in_the_seed_list():
    claims = data.load_claims()
    mine = claims[claims["analysis"].isin(MY_MODULES)]
    listed = {c for c, _, _ in SEED_SENTENCES}
    assert set(mine["claim_id"]) <= listed


@pytest.fixture(scope="module")
def all_verdicts():
    from analysis.budgets import analysis as budgets
    from analysis.budgets.params import PersonalBudgetsParameters
    from analysis.mutuals import analysis as mutuals
    from analysis.mutuals.params import MutualsParameters

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mut = mutuals.analyse(MutualsParameters(n_permutations=99, outcomes=["burnout", "enough_staff", "autonomy"]))
    bud = budgets.analyse(PersonalBudgetsParameters())
    return {"mutuals": mut.verdicts, "personal_budgets": bud.verdicts}


@pytest.mark.data
def test_every_claim_of_my_topics_gets_exactly_one_verdict_on_the_scale(all_verdicts):
    claims = data.load_claims()
    for topic, verdicts in all_verdicts.items():
        expected = set(claims.loc[(claims["topic"] == topic) & claims["analysis"].isin(MY_MODULES), "claim_id"])
        got = [v.claim_id for v in verdicts]
        assert len(got) == len(set(got)), f"{topic}: a claim judged twice"
        assert expected <= set(got), f"{topic}: no verdict for {sorted(expected - set(got))}"
        for v in verdicts:
            assert v.verdict in VERDICTS and v.rule and v.numbers
            if v.claim_id in {c for c, _, _ in SEED_SENTENCES if c not in {"CL-MUT-01", "CL-MUT-03", "CL-MUT-08",
                                                                           "CL-MUT-09", "CL-MUT-10"}}:
                assert v.summary, f"{v.claim_id}: no deciding facts (summary)"
            if v.verdict in NEEDS_INDEPENDENT_EVIDENCE:
                assert v.independent_ids or v.datasets


@pytest.mark.data
def test_the_verdicts_issue_11_asks_for(all_verdicts):
    verdicts = {v.claim_id: v.verdict for vs in all_verdicts.values() for v in vs}
    assert verdicts["CL-MUT-06"] == "misattributed"  # the 100 are all mutuals, about half from Right to Request
    assert verdicts["CL-MUT-21"] == "contradicted"  # tens of thousands, not millions
    assert verdicts["CL-MUT-22"] == "supported"  # NAO: thousands in the NHS spin-outs
    assert verdicts["CL-MUT-24"] == "not testable with public data"
    assert verdicts["CL-MUT-26"] == "not testable with public data"
    assert verdicts["CL-PB-02"] == "mixed evidence" and verdicts["CL-PB-03"] == "mixed evidence"
    assert verdicts["CL-PB-21"] == "partly supported" and verdicts["CL-PB-24"] == "partly supported"
    assert verdicts["CL-MUT-02"] in {"partly supported", "mixed evidence", "contradicted"}  # judged, not "not testable"
