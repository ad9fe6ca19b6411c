"""What the rendered mutuals, personal-budgets and council-profile reports say, read through the real runner.

Key findings come first, then the verdicts with their scale; sections a mode leaves empty are absent, not
announced; many comparisons are adjusted and said as a pattern; the third sector is never called "mutual".
"""

from __future__ import annotations

import html as htmllib
import re

import pytest

from analysis.report import review
from tests.e2e.test_notebooks import _run
from tests.e2e.test_notebooks import _visible_text as _tagless
from tests.e2e.test_runner import only_run_dir as _run_dir


def _visible_text(page: str) -> str:
    return htmllib.unescape(_tagless(page))

pytestmark = [pytest.mark.e2e, pytest.mark.data]


def _contents(html: str) -> str:
    return html[html.index('class="toc"'):html.index("</nav>")]


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.;:])\s+", re.sub(r"\s+", " ", text)) if s]


def test_mutuals_report_opens_with_findings_adjusts_for_many_comparisons_and_never_calls_third_sector_mutual(tmp_path):
    _, report, html = _run(tmp_path, ["mutuals_vs_inhouse", "-p", "n_permutations=199", "-p",
                                      "outcomes=[burnout, exhausted, frustrated, autonomy, enough_staff, "
                                      "team_membership]"])
    text = _visible_text(html)
    assert text.index("Key findings") < text.index("What the verdicts mean") < text.index("Staff outcomes:")
    assert 3 <= html.count('class="finding-text"') <= 6
    assert "p adjusted (clustered)" in text.lower() and "p adjusted (randomisation)" in text.lower()
    assert "after adjusting for 6 comparisons" in text  # the pattern is stated with its adjustment
    assert "robustly better on 0" not in text
    assert "Organisations weighted equally" in text and "Without Sirona Care & Health" in text
    assert "one organisation" in text.lower() and "NAViGO" in text
    assert "Clustering at the council" in text and "design effect" in text.lower()
    contents = _contents(html)
    assert "Your own panel" not in contents and "No panel was given" not in text  # left out, not announced
    for sentence in _sentences(text):
        low = sentence.lower()
        if ("third sector" in low or "third-sector" in low) and "mutual" in low:
            assert re.search(r"\bnot\b|cannot|nothing|charities|alike|together", low), sentence


def test_personal_budgets_england_report_has_no_empty_sections_and_says_coefficients_in_readers_units(tmp_path):
    _, report, html = _run(tmp_path, ["personal_budgets"], "england")
    text = _visible_text(html)
    contents = _contents(html)
    assert 3 <= html.count('class="finding-text"') <= 6
    assert text.index("Key findings") < text.index("What the verdicts mean") < text.index("What the pilots found")
    for absent in ("Council profile", "Pooled pilot outcomes", "Cost-effectiveness"):
        assert absent not in contents, f"{absent}: an empty section was rendered"
    assert "This is the England report" not in text and "No pilot data file was given" not in text
    assert "one more percentage point of direct-payment uptake went with a change of" in text
    assert "ecological" in text
    for claim in ("CL-PB-21", "CL-PB-22", "CL-PB-23", "CL-PB-24", "CL-PB-25"):
        assert claim in text


def test_council_profile_report_is_one_figure_its_findings_and_a_latest_year_table(tmp_path):
    _, report, html = _run(tmp_path, ["council_profile", "-p", "council_code=E08000016"], "barnsley")
    text = _visible_text(html)
    contents = _contents(html)
    assert "The council against England and its peers" in contents
    for absent in ("Verdicts on the claims", "What the pilots found", "Direct payments and outcomes across councils",
                   "pilot councils against the rest"):
        assert absent not in contents
    assert text.index("Key findings") < text.index("The council against England and its peers")
    assert "Barnsley" in text and "2023-24" in text and "published without margins of error" in text
    assert html.count("<img") == 1  # one small-multiples figure, not one chart per measure
    assert "Showing a summary of" in text  # the latest year; every year is in the CSV
    assert not review.review_run(_run_dir(tmp_path / "barnsley"))  # the profile passes every reviewer check
