"""The HTML export and run index: empty sections dropped, batch-aware index columns, subjects."""

from __future__ import annotations

import nbformat
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
