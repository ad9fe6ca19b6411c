"""The reviewer's test: each check passes on a clean report and fails on a report with its defect.

Reports are built with the real notebook helpers (key findings, headline, show, figure) and the
real export, so the checks are tested on the HTML and data files the suite really publishes.
"""

from __future__ import annotations

import json

import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from analysis import plots, provenance
from analysis.findings import Finding
from analysis.report import export, notebook, review


def _prov(slug):
    return {"environment": {"package_version": "0", "git": {"describe": "abc", "commit": "abc", "state": "clean"},
                            "packages": {}, "platform": "p", "python": "3.11"},
            "run_id": "r", "started_at": "s", "finished_at": "t", "seconds": 1.0, "notebook": "nb", "slug": slug,
            "parameters": {}, "datasets": [], "evidence": [], "simulated": []}


FINDINGS = [
    Finding("a", "Burnout: no clear difference between A and B (95% interval -1.1 to +2.0 pp).", "Staff survey",
            "Survivors only.", value=0.4, low=-1.1, high=2.0, level=0.95, unit="pp"),
    Finding("b", "Good or outstanding: third sector 4.3 pp lower (95% interval 1.5 to 7.1 pp).", "CQC",
            "Ownership is not random.", value=-4.3, low=-7.1, high=-1.5, unit="pp"),
    Finding("c", "152 councils report direct payments.", "ASCOF", "Counts say nothing about outcomes.",
            value=152, no_interval_reason="a count of every council"),
]


@pytest.fixture
def build(monkeypatch, tmp_path):
    """build(steps) -> (folder, run.json entry, html): a report rendered from helper calls."""

    def _build(steps, slug="report", markdown=("# Report\n\nWhat this report asks.",)):
        outputs = []

        def capture(obj, raw=False, metadata=None):
            data = dict(obj) if raw else {"text/html": obj._repr_html_()} if hasattr(obj, "_repr_html_") else {
                "text/markdown": obj._repr_markdown_()}
            outputs.append(new_output("display_data", data=data, metadata=metadata or {}))

        monkeypatch.setattr(notebook, "display", capture)
        provenance.reset()
        for step in steps:
            step()
        snapshot = provenance.snapshot()
        cell = new_code_cell("steps")
        cell.outputs = outputs
        nb = new_notebook(cells=[new_markdown_cell(m) for m in markdown] + [cell])
        html_name, data_files = export.write_report(tmp_path, slug, nb, _prov(slug), "Report")
        entry = {"notebook": "nb", "slug": slug, "html": html_name, "status": "ok", "data_files": data_files,
                 "findings": snapshot["findings"], "verdicts": snapshot["verdicts"], "headlines": snapshot["headlines"]}
        plots.close_all()
        return tmp_path, entry, (tmp_path / html_name).read_text()

    return _build


def _table():
    return pd.DataFrame({"item": ["a", "b"], "difference": [3.27, 0.5], "ci_low": [1.1, 0.1], "ci_high": [5.4, 0.9],
                         "share": [86.0, 12.3456]})


def _chart(title="Burnout: A 2.3 pp higher than B (interval 0.4 to 4.2 pp)", basis=(2.3, 0.4, 4.2)):
    df = pd.DataFrame({"label": ["A"], "est": [2.3], "lo": [0.4], "hi": [4.2]})
    return plots.forest(df, "label", "est", "lo", "hi", title, "Staff survey", better="left", title_basis=basis)


def _clean_steps():
    return [lambda: notebook.key_findings(FINDINGS),
            lambda: notebook.headline("h", "Value at risk", 2437.0, unit="£m", low=1210.0, high=3905.0,
                                      source="Monte Carlo"),
            lambda: notebook.figure(_chart()),
            lambda: notebook.show(_table(), "Differences by item", source="Staff survey")]


def _review(folder, entry, html, checks=None):
    return review.review_report(html, report=entry["html"], folder=folder, entry=entry, checks=checks)


def test_a_clean_report_passes_every_check(build):
    folder, entry, html = build(_clean_steps())
    assert _review(folder, entry, html) == []


def _checks(problems):
    return {p.check for p in problems}


def test_missing_too_few_or_late_key_findings_are_caught(build):
    steps = _clean_steps()
    folder, entry, html = build(steps[1:])
    assert _checks(_review(folder, entry, html)) == {"key-findings"}
    folder, entry, html = build([lambda: notebook.key_findings(FINDINGS[:2])] + steps[1:])
    assert any("2 key findings" in p.what for p in _review(folder, entry, html))
    folder, entry, html = build(steps[1:] + steps[:1])
    assert any("after the report's content" in p.what for p in _review(folder, entry, html))


def test_a_finding_that_hides_its_interval_or_lacks_a_reason_is_caught(build):
    hidden = Finding("d", "Burnout is about the same in A and B.", "Staff survey", "Survivors only.", value=0.4,
                     low=-1.1, high=2.0)
    folder, entry, html = build([lambda: notebook.key_findings(FINDINGS[:2] + [hidden])] + _clean_steps()[1:])
    problems = _review(folder, entry, html, ["key-findings"])
    assert [p.what for p in problems] == ["a key finding has an interval but does not show it"]
    entry["findings"][2] = {**entry["findings"][2], "low": None, "high": None}
    assert "no interval and no reason" in _review(folder, entry, html, ["key-findings"])[0].what


def test_headlines_without_interval_reason_or_source_are_caught(build):
    folder, entry, html = build(_clean_steps()[:1] + [
        lambda: notebook.headline("s", "Switching value", 0.0446, unit="", source="model")])
    problems = _review(folder, entry, html, ["headlines"])
    assert len(problems) == 1 and "no interval and no reason" in problems[0].what
    folder, entry, html = build(_clean_steps()[:1] + [
        lambda: notebook.headline("s", "Switching value", 0.0446, source="model", no_interval_reason="a threshold")])
    assert _review(folder, entry, html, ["headlines"]) == []
    broken = html.replace("Source: model", "Source: ")
    assert "no source" in _review(folder, entry, broken, ["headlines"])[0].what


@pytest.mark.parametrize("title, basis, complaint", [
    ("Burnout higher in social enterprises", None, "records no estimate and interval"),
    ("Burnout 2.3 pp higher in A than B", (2.3, -0.4, 5.1), "does not support"),
    ("Mutuals cheaper and better", [(1.0, 0.5, 1.5), (0.3, -0.1, 0.7)], "does not support"),
    ("Care homes: council providers most often rated good", None, "records no estimate and interval"),
    ("NAViGO: 50% vs 34% across NHS trusts", None, "records no estimate and interval"),
])
def test_chart_titles_that_overstate_are_caught(build, title, basis, complaint):
    folder, entry, html = build(_clean_steps()[:3] + [lambda: notebook.figure(_chart(title, basis))])
    problems = _review(folder, entry, html, ["chart-titles"])
    assert len(problems) == 1 and complaint in problems[0].what


@pytest.mark.parametrize("title, basis", [
    ("Burnout: no clear difference between A and B (interval -0.4 to +5.1 pp)", (2.3, -0.4, 5.1)),
    ("Closure rates by ownership, 2012-2023", None),
    ("More than half of councils pay some budgets directly", "a share of councils, not a comparison"),
])
def test_chart_titles_that_do_not_overstate_pass(build, title, basis):
    folder, entry, html = build(_clean_steps()[:3] + [lambda: notebook.figure(_chart(title, basis))])
    assert _review(folder, entry, html, ["chart-titles"]) == []


@pytest.mark.parametrize("better, complaint", [(None, True), ("left", False), ("neither", False)])
def test_a_forest_plot_that_does_not_say_which_side_is_better_is_caught(build, better, complaint):
    df = pd.DataFrame({"label": ["A"], "est": [0.3], "lo": [-0.2], "hi": [0.8]})
    folder, entry, html = build(_clean_steps()[:3] + [lambda: notebook.figure(
        plots.forest(df, "label", "est", "lo", "hi", "Effect by study", "register", better=better))])
    problems = _review(folder, entry, html, ["forest-sides"])
    assert bool(problems) == complaint and all("which side is better" in p.what for p in problems)


def test_a_chart_without_data_is_judged_by_its_alt_text(build):
    def bare_chart():
        fig, ax = plots.plt.subplots()
        fig.suptitle("Mutuals perform better")
        notebook.figure(fig)

    folder, entry, html = build(_clean_steps()[:3] + [bare_chart])
    problems = _review(folder, entry, html, ["chart-titles", "data-links"])
    assert _checks(problems) == {"chart-titles", "data-links"}


def test_table_cells_that_do_not_follow_the_rule_are_caught(build):
    folder, entry, html = build(_clean_steps())
    spurious = html.replace(">12.3<", ">12.3456<").replace(">86<", ">86.000<")
    problems = _review(folder, entry, spurious, ["table-rounding"])
    assert {p.what for p in problems} == {"shows '12.3456' where the rule gives '12.3'",
                                          "shows '86.000' where the rule gives '86'"}
    assert all("column 'Share'" in p.where for p in problems)
    fewer_rows = html.replace("<td>b</td>", "<td>b</td></tr><tr><td>extra</td>", 1)
    assert "does not match its published data" in _review(folder, entry, fewer_rows, ["table-rounding"])[0].what


def test_spurious_precision_in_text_and_tables_is_caught_but_intervals_are_not(build):
    text = ("Required savings of 0.0% a year against 4.0% in-house; the slope is 0.031725 with p = 0.0500. "
            "A total of 6,272.0000 home-years. Fine: 4.46%, 0.032 (95% interval -0.042 to 0.105), "
            "0.50 (interval 0.10 to 0.90), a range of 1.10 to 2.00, release 3.11.2 and code E08000016.")
    folder, entry, html = build(_clean_steps() + [lambda: notebook.md(text),
                                                  lambda: notebook.show(pd.DataFrame({"numbers": ["2.100", "x"]}),
                                                                        "Preformatted")])
    flagged = sorted(p.what.split("'")[1] for p in _review(folder, entry, html, ["precision"]))
    assert flagged == ["0.0", "0.031725", "0.0500", "2.100", "4.0", "6,272.0000"]


def test_missing_or_broken_data_links_are_caught(build):
    folder, entry, html = build(_clean_steps())
    assert _review(folder, entry, html, ["data-links"]) == []
    unlinked = html.replace("Download the data (CSV)</a></p>", "</a></p>").replace('class="data-link', 'class="x')
    assert len(_review(folder, entry, unlinked, ["data-links"])) == 2
    csv = entry["data_files"][0]["path"]
    (folder / csv).unlink()
    problems = _review(folder, entry, html, ["data-links"])
    assert len(problems) == 1 and "missing file" in problems[0].what
    absolute = html.replace(f'href="{entry["data_files"][1]["path"]}"', 'href="/tmp/x.csv"')
    assert any("not relative" in p.what for p in _review(folder, entry, absolute, ["data-links"]))


def test_a_long_table_note_links_the_csv(build):
    long = pd.DataFrame({"council": [f"C{i}" for i in range(30)], "value": range(30)})
    folder, entry, html = build(_clean_steps() + [lambda: notebook.show(long, "Every council")])
    assert _review(folder, entry, html, ["data-links"]) == []
    assert "no link" in _review(folder, entry, html.replace('class="data-csv" href=', 'class="data-csv" x='),
                                ["data-links"])[0].what


def test_claims_without_a_verdict_and_verdicts_on_unknown_claims_are_caught():
    reports = [{"html": "a.html", "verdicts": [{"claim_id": "C1", "verdict": "supported"}]},
               {"html": "b.html", "verdicts": [{"claim_id": "C9", "verdict": "unsourced"}]}]
    problems = review.check_claims(reports, ["C1", "C2"])
    assert [(p.report, p.what) for p in problems] == [
        ("run", "claim C2 has no verdict in any report"),
        ("b.html", "verdict on claim 'C9', which is not in the register")]
    assert review.check_claims(reports[:1], ["C1"]) == []


def test_a_claim_judged_twice_is_caught_even_if_the_verdicts_agree():
    reports = [{"html": "a.html", "verdicts": [{"claim_id": "C1", "verdict": "supported"}]},
               {"html": "b.html", "verdicts": [{"claim_id": "C1", "verdict": "supported"},
                                               {"claim_id": "C2", "verdict": "unsourced"}]}]
    problems = review.check_claims(reports, ["C1", "C2"])
    assert [(p.report, p.what, p.where) for p in problems] == [
        ("a.html", "claim C1 has 2 verdicts (one claim, one verdict)", "a.html; b.html")]


def test_signed_differences_and_p_values_are_checked_by_their_own_rule(build):
    from analysis.precision import table_format

    table = table_format(pd.DataFrame({"item": ["a", "b"], "difference": [2.27, -0.4], "ci_low": [-0.4, -1.2],
                                       "ci_high": [5.1, 0.3], "p": [0.2, 0.00001]}),
                         intervals={"difference": ("ci_low", "ci_high")}, signed=["difference"], p_values=["p"])
    folder, entry, html = build(_clean_steps() + [lambda: notebook.show(table, "Signed")])
    assert _review(folder, entry, html, ["table-rounding", "precision"]) == []
    unsigned = html.replace("<td>+2.3</td>", "<td>2.3</td>")
    p_padded = html.replace("<td>0.2</td>", "<td>0.20</td>")
    assert [p.what for p in _review(folder, entry, unsigned, ["table-rounding"])] == [
        "shows '2.3' where the rule gives '+2.3'"]
    assert [p.what for p in _review(folder, entry, p_padded, ["table-rounding"])] == [
        "shows '0.20' where the rule gives '0.2'"]


def test_codes_held_as_text_are_not_read_back_as_numbers_but_wrong_numbers_still_are(build):
    """A company number '06273905' is text, not 6,273,905; a number column beside it is still checked."""
    table = pd.DataFrame({"company": ["06273905", "07548602"], "paid": [368.123, 269.0]})
    folder, entry, html = build(_clean_steps() + [lambda: notebook.show(table, "Companies")])
    assert _review(folder, entry, html, ["table-rounding"]) == []
    assert [p.what for p in _review(folder, entry, html.replace("<td>368</td>", "<td>368.1</td>"),
                                    ["table-rounding"])] == ["shows '368.1' where the rule gives '368'"]
    changed = html.replace("<td>06273905</td>", "<td>6,273,905</td>")
    assert [p.what for p in _review(folder, entry, changed, ["table-rounding"])] == [
        "shows '6,273,905' where the rule gives '06273905'"]


def test_review_run_covers_every_report_failures_and_claims_only_in_a_full_run(build):
    folder, entry, html = build(_clean_steps())
    failed = {"notebook": "other", "slug": "other", "html": None, "status": "failed",
              "error": {"ename": "ValueError", "evalue": "bad"}}
    (folder / "run.json").write_text(json.dumps({"reports": [entry, failed]}))
    problems = review.review_run(folder, claim_ids=["C1"], notebook_names=["nb", "other"])
    assert [(p.report, p.check) for p in problems] == [("other", "status"), ("run", "claims")]
    partial = review.review_run(folder, claim_ids=["C1"], notebook_names=["nb", "other", "third"])
    assert _checks(partial) == {"status"}
    with pytest.raises(ValueError, match="Unknown check"):
        review.review_run(folder, checks=["nonsense"])
    text = review.format_problems(problems)
    assert text.startswith("2 problem(s):") and "  - the report failed and was not published (ValueError: bad)" in text


def test_technical_terms_are_explained_in_the_glossary_box(build):
    steps = _clean_steps() + [lambda: notebook.md("Standard errors are clustered by council and the p-values get a "
                                                  "false-discovery-rate adjustment.")]
    folder, entry, html = build(steps)
    assert _review(folder, entry, html, ["glossary"]) == []
    box = html[html.index('<details class="glossary"'):html.index("</details>", html.index('class="glossary"'))]
    assert "Clustered standard errors" in box and "False-discovery-rate adjustment" in box
    assert html.index('class="key-findings"') < html.index('class="glossary"') < html.index("Standard errors")
    missing = html.replace("<dt>Clustered standard errors</dt>", "<dt>x</dt>")
    assert [p.what for p in _review(folder, entry, missing, ["glossary"])] == [
        "'Clustered standard errors' is used but not explained"]
    without_box = html.replace('class="glossary"', 'class="other"')
    assert "'False-discovery-rate adjustment (Benjamini-Hochberg)' is used but not explained" in [
        p.what for p in _review(folder, entry, without_box, ["glossary"])]


def test_glossary_finds_terms_as_whole_words_only():
    from analysis.glossary import glossary_html, terms_used

    names = [t.name for t in terms_used("n_simulations=2000; an appendix; 3 pp higher; 1,000 simulations")]
    assert names == ["pp (percentage points)", "Monte Carlo simulation"]
    assert terms_used("the ascof-style app") == [] and glossary_html([]) == ""
    box = glossary_html(terms_used("p < 0.05"))
    assert "<dt>p-value (p &lt; 0.05)</dt>" in box and "Terms used in this report (1)" in box


def test_glossary_meanings_carry_only_what_the_text_uses():
    """A report that adjusts no p-values and never says TWFE gets neither in its glossary (the personal_budgets
    report did); a report that does gets both."""
    from analysis.glossary import terms_used

    plain = {t.name: t.meaning for t in terms_used("p = 0.109; council and year fixed effects; a Wilson interval")}
    assert "adjusted" not in plain["p-value (p < 0.05)"] and "TWFE" not in plain["Fixed effects"]
    assert "Newcombe interval" not in plain and "Newcombe" not in plain["Wilson interval"]
    full = {t.name: t.meaning for t in terms_used("p adjusted (Benjamini-Hochberg) 0.03; a TWFE fit")}
    assert "hence the adjusted p-values" in full["p-value (p < 0.05)"]
    assert "TWFE is two-way fixed effects" in full["Fixed effects"]
    for term in terms_used("p = 0.109; council and year fixed effects; a Wilson interval"):
        assert term.regex.search("p = 0.109; council and year fixed effects; a Wilson interval")


def test_unfilled_template_fields_and_missing_values_are_caught(build):
    """A generated sentence that lost its f-string prefix prints '{m(median)}' (it happened once in the NAO report's
    'One total' paragraph); a missing value formatted into text prints 'None' or 'nan'. A sentence that begins
    'None of ...' is English, not a leftover."""
    steps = _clean_steps() + [lambda: notebook.md("None of the items differs. The median is {m(median)}: half lie "
                                                  "above it. The council's value was nan and its rank None.")]
    folder, entry, html = build(steps)
    found = [p.what for p in _review(folder, entry, html, ["leftovers"])]
    assert found == ["'{m(median)}' is printed where a value belongs", "'nan' is printed where a value belongs",
                     "'None' is printed where a value belongs"]
    clean_folder, clean_entry, clean_html = build(_clean_steps() + [lambda: notebook.md("None of the items differs.")])
    assert _review(clean_folder, clean_entry, clean_html, ["leftovers"]) == []
