"""The HTML export and run index: empty sections dropped, batch-aware index columns, subjects."""

from __future__ import annotations

import re

from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from analysis.report import export


def _cell(source, outputs=()):
    cell = new_code_cell(source)
    cell.outputs = [new_output("display_data", data={"text/html": html}) for html in outputs]
    return cell


def test_sections_whose_code_showed_nothing_are_dropped_and_the_rest_kept():
    cells = [
        new_markdown_cell("# Title\n\nIntro."),
        new_markdown_cell("## Shown\n\ntext"), _cell("a", ["<p>table</p>"]),
        new_markdown_cell("## Not in this mode\n\nwould be empty"), _cell("b"), _cell("c"),
        new_markdown_cell("## Narrative only\n\nno code"),
        new_markdown_cell("## No data\n\n"), _cell("d", ["<p>No data for this council.</p>"]),
        new_markdown_cell("### Sub-heading stays inside its section"),
    ]
    kept = export._without_empty_sections(cells)
    text = "\n".join(c.source for c in kept)
    assert "Not in this mode" not in text and "b" not in [c.source for c in kept]
    for heading in ("# Title", "## Shown", "## Narrative only", "## No data", "### Sub-heading"):
        assert heading in text


def test_rendered_report_has_subject_in_title_and_no_empty_section_in_contents():
    nb = new_notebook(cells=[new_markdown_cell("# Profile report"), new_markdown_cell("## Kept"),
                             _cell("x", ["<p>value</p>"]), new_markdown_cell("## England only"), _cell("y")])
    prov = {"environment": {"package_version": "0", "git": {"describe": "abc", "commit": "abc", "state": "clean"},
                            "packages": {}, "platform": "p", "python": "3.11"},
            "run_id": "r", "started_at": "s", "finished_at": "t", "seconds": 1.0, "notebook": "nb", "slug": "nb",
            "parameters": {}, "datasets": [], "evidence": [], "simulated": []}
    html = export.notebook_to_html(nb, prov, "fallback", subject="Barnsley (E08000016)")
    assert "<title>Barnsley (E08000016): Profile report</title>" in html
    assert 'class="report-subject">Barnsley (E08000016)<' in html
    assert "England only" not in html and "Kept" in html


def _report(subject, value, period):
    return {"notebook": "nb", "title": "Budgets", "slug": f"nb__{subject}", "overrides": {"council_code": subject},
            "status": "ok", "seconds": 1.0, "html": f"nb__{subject}.html", "subject": subject,
            "headlines": [{"key": "dp", "label": f"{subject}: direct payments ({period})", "value": value,
                           "text": f"{value:.1f}", "column": "Direct payments (%), latest year", "period": period}]}


def test_index_uses_the_shared_column_heading_lists_reports_by_subject_and_shows_each_period():
    run = {"run_id": "r1", "started_at": "a", "finished_at": "b", "counts": {"ok": 2, "failed": 0},
           "environment": {"package_version": "0", "git": {"describe": "abc"}},
           "reports": [_report("Hartlepool", 31.4, "2023-24"), _report("Hackney", 20.4, "2019-20")]}
    html = export.render_index(run)
    assert html.count("Direct payments (%), latest year") >= 1 and "Hartlepool: direct payments" not in html.split(
        "<tbody>")[0]
    assert ">Hartlepool</a>" in html and ">Hackney</a>" in html
    assert "31.4 (2023-24)" in html and "20.4 (2019-20)" in html
    assert 'data-sort="20.4"' in html  # sorts by the number, not the text with its year


def _stderr(source):
    cell = new_code_cell(source)
    cell.outputs = [new_output("stream", name="stderr", text="a warning\n")]
    return cell


def _absent(source, reason):
    from analysis.report.notebook import ABSENT_MIMETYPE

    cell = new_code_cell(source)
    cell.outputs = [new_output("display_data", data={"text/markdown": reason, ABSENT_MIMETYPE: {"reason": reason}})]
    return cell


def test_a_section_is_dropped_at_any_level_with_its_subsections_and_intro_when_it_shows_nothing():
    cells = [
        new_markdown_cell("# Title"),
        new_markdown_cell("## Parent\n\nintro"), _cell("p1", ["<p>shown</p>"]),
        new_markdown_cell("### Empty child\n\nchild intro"), _stderr("only a warning"),
        new_markdown_cell("### Shown child"), _cell("c2", ["<p>child table</p>"]),
        new_markdown_cell("## Announced as absent\n\nintro text"), _absent("a1", "No panel was given."),
        new_markdown_cell("### Narrative under an empty section"),
        new_markdown_cell("## Whitespace only"), _cell("w", ["   "]),
        new_markdown_cell("## Last"), _cell("z", ["<p>z</p>"]),
    ]
    left_out: list[str] = []
    kept = [c.source for c in export._without_empty_sections(cells, left_out)]
    assert left_out == ["Empty child", "Announced as absent", "Whitespace only"]
    text = "\n".join(kept)
    for gone in ("Empty child", "child intro", "only a warning", "Announced as absent", "intro text", "a1",
                 "Narrative under an empty section", "Whitespace only"):
        assert gone not in text
    for stays in ("# Title", "## Parent", "### Shown child", "c2", "## Last"):
        assert stays in text


def test_an_absent_note_is_left_out_even_where_its_section_shows_something_else():
    nb = new_notebook(cells=[new_markdown_cell("# R"), new_markdown_cell("## S"), _cell("x", ["<p>value</p>"]),
                             _absent("y", "Nothing pooled.")])
    html = export.notebook_to_html(nb, _prov(), "fallback")
    assert "Nothing pooled." not in html and "value" in html


def _prov(slug="nb"):
    return {"environment": {"package_version": "0", "git": {"describe": "abc", "commit": "abc", "state": "clean"},
                            "packages": {}, "platform": "p", "python": "3.11"},
            "run_id": "r", "started_at": "s", "finished_at": "t", "seconds": 1.0, "notebook": "nb", "slug": slug,
            "parameters": {}, "datasets": [], "evidence": [], "simulated": []}


def _table_output(title, csv_text):
    from analysis.report.notebook import DATA_MIMETYPE

    return new_output("display_data", data={
        "text/html": f"<figure class='table-figure'><figcaption>{title}</figcaption><table><tr><td>1</td></tr>"
                     "</table></figure>",
        DATA_MIMETYPE: {"kind": "table", "title": title, "rows": 1, "csv": csv_text}})


def test_write_report_writes_each_csv_beside_the_report_with_the_page_s_permissions(tmp_path):
    cell = new_code_cell("t")
    cell.outputs = [_table_output("Costs by council", "council,cost\n=cmd(),-3.5\n")]
    nb = new_notebook(cells=[new_markdown_cell("# R"), new_markdown_cell("## Costs"), cell])
    html_name, files = export.write_report(tmp_path, "my_report", nb, _prov("my_report"), "R")
    assert html_name == "my_report.html" and [f["path"] for f in files] == ["my_report_data/01-costs-by-council.csv"]
    csv_path = tmp_path / files[0]["path"]
    assert csv_path.read_bytes().decode("utf-8-sig") == "council,cost\r\n'=cmd(),-3.5\r\n"
    assert (csv_path.stat().st_mode & 0o777) == ((tmp_path / html_name).stat().st_mode & 0o777)
    html = (tmp_path / html_name).read_text()
    assert 'href="my_report_data/01-costs-by-council.csv"' in html and "Download the data (CSV)" in html
    assert "my_report_data" in html[html.index('id="provenance"'):]
    assert not [p for p in tmp_path.rglob("*") if p.name.startswith(".")]  # no temporary files left


def _briefing_report(slug, notebook, findings=(), verdicts=(), status="ok"):
    return {"notebook": notebook, "title": slug.title(), "slug": slug, "overrides": {"seed": 1} if slug == "b" else {},
            "status": status, "seconds": 12.5, "html": f"{slug}.html" if status == "ok" else None, "subject": None,
            "headlines": [{"key": "h", "label": "Headline", "value": 1.0, "text": "1 (interval 0.5 to 1.5)"}],
            "findings": list(findings), "verdicts": list(verdicts), "data_files": [{"path": "x.csv"}],
            "error": None if status == "ok" else {"cell_index": 3, "ename": "ValueError", "evalue": "bad"}}


def test_index_reads_like_a_briefing_findings_and_verdict_counts_first_parameters_and_seconds_tucked_away():
    finding = {"text": "Burnout: no clear difference between A and B (95% interval -1.1 to +2.0 pp).",
               "limitation": "Survivors only."}
    verdicts = [{"claim_id": "C1", "verdict": "unsourced"}, {"claim_id": "C2", "verdict": "supported"},
                {"claim_id": "C3", "verdict": "unsourced"}, {"claim_id": "C4", "verdict": "mixed evidence"}]
    run = {"run_id": "r1", "started_at": "2026-01-02T03:04:05Z", "finished_at": "2026-01-02T03:09:59Z",
           "counts": {"ok": 2, "failed": 1}, "environment": {"package_version": "0", "git": {"describe": "abc"}},
           "reports": [_briefing_report("a", "nb_a", [finding], verdicts), _briefing_report("b", "nb_b"),
                       _briefing_report("c", "nb_c", status="failed")]}
    html = export.render_index(run)
    heading = "<h2>For whoever runs the publishing: parameters and timings</h2>"
    assert html.count(heading) == 1
    findings, publisher = html.split(heading)
    assert "Burnout: no clear difference between A and B" in findings and "Survivors only." in findings
    assert "Verdicts on 4 claims:" in findings
    counts = findings[findings.index("Verdicts on 4 claims"):]
    assert counts.index("1 supported") < counts.index("1 mixed evidence") < counts.index("2 unsourced")
    assert "1 (interval 0.5 to 1.5)" in findings  # a report without findings shows its headline numbers
    # Findings lead; the run's identity, timings, parameters and failure details follow, under the publisher's label.
    assert "Produced 2026-01-02" in findings and "1 report(s) failed and was not published" in findings
    for operational in ("seed=1", "12.5", "r1 &middot;", "03:04:05", "ValueError: bad", 'id="failures"',
                        '<details class="run-details">', "run.json"):
        assert operational not in findings and operational in publisher, operational
    assert publisher.index('id="failures"') < publisher.index('<details class="run-details">')
    assert "Failed: no report was published" in findings  # the reader still sees which report is missing
    assert 'id="report-table"' not in html


def test_index_tallies_grouped_verdicts_as_the_report_does_and_escapes_the_labels():
    verdicts = [{"claim_id": "C1", "verdict": "supported", "group": "facts <b>", "group_rank": 1},
                {"claim_id": "C2", "verdict": "mixed evidence", "group": "about outcomes", "group_rank": 0},
                {"claim_id": "C3", "verdict": "partly supported", "group": "facts <b>", "group_rank": 1}]
    run = {"run_id": "r1", "started_at": "a", "finished_at": "b", "counts": {"ok": 1, "failed": 0},
           "environment": {"package_version": "0", "git": {"describe": "abc"}},
           "reports": [_briefing_report("a", "nb_a", [], verdicts)]}
    html = export.render_index(run)
    items = re.findall(r'<li class="verdict-group">(.*?)</li>', html)
    text = [re.sub(r"<[^>]+>", "", item) for item in items]
    assert text == ["1 is about outcomes: 1 mixed evidence",
                    "2 are facts &lt;b&gt;: 1 supported and 1 partly supported"]
    assert "Verdicts on 3 claims, by kind of claim:" in html and "<b>" not in html


def test_index_script_is_one_inline_block_without_inline_handlers():
    run = {"run_id": "r1", "started_at": "a", "finished_at": "b", "counts": {"ok": 2, "failed": 0},
           "environment": {"package_version": "0", "git": {"describe": "abc"}},
           "reports": [_report("Hartlepool", 31.4, "2023-24"), _report("Hackney", 20.4, "2019-20")]}
    html = export.render_index(run)
    assert html.count("<script") == 1 and not re.search(r"<script[^>]+src=", html)
    assert not re.search(r"\son[a-z]+\s*=", html)  # no onclick= and the like (a strict CSP would block them)
