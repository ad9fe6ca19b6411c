"""Every real notebook through the real runner, in the configurations its users run."""

from __future__ import annotations

import json
import re

import pytest
from markupsafe import escape

from analysis.mutuals.panel.simulate import simulate_staggered_panel
from analysis.report import review
from tests.e2e.test_runner import only_run_dir, run_cli

pytestmark = [pytest.mark.e2e, pytest.mark.data]

# The reviewer's checks (analysis.report.review) that every real report passes: all of them.
REVIEW_CHECKS_ENFORCED = tuple(review.CHECKS)


def _run(tmp_path, args, name="reports"):
    out = tmp_path / name
    proc = run_cli(["run", *args, "--out", str(out), "--no-progress"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    run_dir = only_run_dir(out)
    summary = json.loads((run_dir / "run.json").read_text())
    report = summary["reports"][0]
    return summary, report, (run_dir / report["html"]).read_text()


def _visible_text(html: str) -> str:
    body = html[html.index("<main>"):html.index('id="provenance"')]
    body = re.sub(r"data:image/png;base64,[A-Za-z0-9+/=]+", "", body)
    return re.sub(r"<[^>]+>", " ", body)


def test_every_notebook_renders_with_defaults(tmp_path):
    out = tmp_path / "all"
    proc = run_cli(["run", "--out", str(out), "--no-progress"])
    assert proc.returncode == 0, proc.stderr[-3000:]
    summary = json.loads((only_run_dir(out) / "run.json").read_text())
    # council_profile needs its council_code, so a run of every notebook leaves it out
    assert {r["notebook"] for r in summary["reports"]} == {"mutuals_vs_inhouse", "nao_vfm_risk", "personal_budgets",
                                                           "provision_costs"}
    for report in summary["reports"]:
        assert report["status"] == "ok" and report["headlines"], report["slug"]
        assert not report["simulated"], f"{report['slug']}: default reports must be all real data"
        html = (only_run_dir(out) / report["html"]).read_text()
        text = _visible_text(html)
        assert "SIMULATED" not in text
        assert "Traceback" not in text and "Error" not in text.replace("Std. Error", "")
        # Every table and chart has its data beside the report, listed in run.json and linked from the page.
        assert report["data_files"], report["slug"]
        for data_file in report["data_files"]:
            assert (only_run_dir(out) / data_file["path"]).is_file() and f'href="{data_file["path"]}"' in html
        assert html.count("Download the data (CSV)") == len(report["data_files"])
    problems = review.review_run(only_run_dir(out))
    enforced = [p for p in problems if p.check in REVIEW_CHECKS_ENFORCED]
    assert not enforced, review.format_problems(enforced)


def test_mutuals_with_a_researcher_panel_and_the_simulated_appendix(tmp_path):
    panel = simulate_staggered_panel(n_units=40, n_periods=10, cohorts={5: 8, 7: 8}, effect=1.5, noise=0.5, seed=4)
    panel = panel.rename(columns={"unit": "org", "time": "year", "outcome": "absence_rate", "treated": "mutual"})
    path = tmp_path / "panel.csv"
    panel.to_csv(path, index=False)
    summary, report, html = _run(tmp_path, [
        "mutuals_vs_inhouse", "-p", f"panel_path={path}", "-p", "panel_unit_column=org", "-p", "panel_time_column=year",
        "-p", "panel_outcome_column=absence_rate", "-p", "panel_treated_column=mutual", "-p", "simulated_appendix=true",
        "-p", "n_permutations=199", "-p", "outcomes=[burnout, enough_staff]"])
    text = _visible_text(html)
    assert "Callaway-Sant'Anna" in text and "Synthetic control" in text and "Two-way fixed effects" in text
    assert "SIMULATED DATA" in text  # the appendix is labelled
    assert report["simulated"]
    assert "SIMULATED" in html[:html.index("<main>")]  # banner at the top of the page


def test_mutuals_bad_panel_gives_the_panel_error(tmp_path):
    path = tmp_path / "panel.csv"
    path.write_text("unit,time,outcome\nA,2015,1.0\nA,2016,2.0\n")
    out = tmp_path / "reports"
    proc = run_cli(["run", "mutuals_vs_inhouse", "-p", f"panel_path={path}", "-p", "n_permutations=199",
                    "--out", str(out), "--no-progress"])
    assert proc.returncode == 3  # its only report failed: kept for diagnosis, `latest` not moved
    summary = json.loads((only_run_dir(out) / "run.json").read_text())
    error = summary["reports"][0]["error"]
    assert error["ename"] == "PanelError" and "treated column 'treated'" in error["evalue"]


def test_personal_budgets_england_report_and_its_council_code_pointer(tmp_path):
    summary, report, html = _run(tmp_path, ["personal_budgets"], "england")
    text = _visible_text(html)
    assert "Right to Control" in text and "no data" in text and "Verdicts" in html
    assert "separate report (the council profile)" in text  # the introduction points to the profile report
    proc = run_cli(["run", "personal_budgets", "-p", "council_code=E08000016", "--out", str(tmp_path / "x"),
                    "--no-progress"])
    assert proc.returncode == 2 and "run council_profile -p council_code=E08000016" in proc.stderr


def test_council_profile_of_one_council(tmp_path):
    summary, report, html = _run(tmp_path, ["council_profile", "-p", "council_code=E08000016"], "barnsley")
    assert report["slug"] == "council_profile__council_code-E08000016"
    keys = {h["key"] for h in report["headlines"]}
    assert {"profile_dp_users", "profile_control_daily_life"} <= keys
    assert all(h["no_interval_reason"] for h in report["headlines"])
    assert "Barnsley" in _visible_text(html)
    assert report["subject"] == "Barnsley (E08000016, Metropolitan Districts)"
    assert "<title>Barnsley (E08000016" in html
    contents = html[html.index('class="toc"'):html.index("</nav>")]
    assert "The council against England and its peers" in contents
    assert "What the pilots found" not in contents and "Cost-effectiveness" not in html  # England-only sections
    index = (only_run_dir(tmp_path / "barnsley") / "index.html").read_text()
    # The index is a briefing: the report's link under its subject, its title, and each of its findings.
    assert f'<a href="{report["html"]}">Barnsley (E08000016, Metropolitan Districts)</a>' in index
    assert f'<p class="briefing-title">{escape(report["title"])}</p>' in index
    assert report["findings"] and all(escape(f["text"]) in index for f in report["findings"])
    problems = review.review_run(only_run_dir(tmp_path / "barnsley"))
    assert not problems, review.format_problems(problems)
    proc = run_cli(["run", "council_profile", "--out", str(tmp_path / "none"), "--no-progress"])
    assert proc.returncode == 2 and "council_code is required" in proc.stderr


def test_personal_budgets_with_extracted_pilot_data_and_cea_inputs(tmp_path):
    path = tmp_path / "pilots.csv"
    path.write_text("study,outcome,user_group,measure,events1,n1,events2,n2\n"
                    "A,in control,older people,RR,30,100,20,100\nB,in control,mental health,RR,50,120,40,118\n")
    summary, report, html = _run(tmp_path, ["personal_budgets", "-p", f"pilot_data_path={path}", "-p", "meta_method=HK",
                                            "-p", "cea_inputs=[-20, 15, 0.04, 0.012, 0.1]"])
    text = _visible_text(html)
    assert "Pooled pilot outcomes (HK)" in text and "REML+HK" in text
    assert "Incremental cost and effect" in text and "SIMULATED" not in text


def test_vfm_with_strict_failure_measure(tmp_path):
    summary, report, html = _run(tmp_path, ["nao_vfm_risk", "-p", "failure_proxy_measure=involuntary closures",
                                            "-p", "n_simulations=5000"])
    assert "involuntary" in _visible_text(html)
    assert report["headlines"][0]["key"] == "vfm_value_at_risk"


def test_vfm_target_scenario_opens_with_findings_and_withholds_a_meaningless_probability(tmp_path):
    summary, report, html = _run(tmp_path, ["nao_vfm_risk", "-p", "scenario=target", "-p", "n_simulations=5000"])
    text = _visible_text(html)
    assert text.index("Key findings") < text.index("What the verdicts mean") < text.index("Scenarios")
    assert "zero by construction" in text  # scenario a is always in the scenario table
    assert "not shown" in text and "restate the assumption" in text  # target: in-house ahead by assumption
    assert "scenario c" in report["headlines"][0]["label"]
    assert "CL-NAO-05" in text and "not testable with public data" in text


def test_vfm_default_report_leads_with_the_range_and_names_failure_definitions(tmp_path):
    """Cold review items 1, 3, 4, 5 and 16 on the rendered page: the range of scenarios first, the headline box in
    £m, failure cost as named definitions, no '99.9% chance' of failure, equity not assessed."""
    import html as htmllib

    summary, report, html = _run(tmp_path, ["nao_vfm_risk", "-p", "n_simulations=5000"])
    text = htmllib.unescape(_visible_text(html))
    assert "the department's claim" in text.lower()  # unescaped: the negative checks below can fail
    first = report["findings"][0]
    assert first["key"] == "vfm_scenarios" and "anywhere between nothing and that" in first["text"]
    assert "most favourable reading" in first["text"] and "the NAO's finding (" not in text
    head = report["headlines"][0]
    assert head["unit"] == "£m" and head["text"].startswith("£") and "scenario b" in head["label"]
    assert "named definitions, not a probability range" in text
    assert "99.9" not in text and "chance at least one" not in text and "not scored" in text
    assert "not assessed" in text and "Nicholson" not in " ".join(f["text"] for f in report["findings"])
    problems = review.review_run(only_run_dir(tmp_path / "reports"))
    assert not problems, review.format_problems(problems)


def test_notebook_runs_as_a_researcher_runs_it_in_jupyterlab(tmp_path):
    """No papermill, no injected parameters: the committed defaults, executed top to bottom in notebooks/."""
    import nbformat
    from nbclient import NotebookClient

    from analysis import config

    path = config.notebooks_dir() / "nao_vfm_risk.ipynb"
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    shown = " ".join(str(o.get("data", {}).get("text/html", "")) for o in outputs)
    assert "Value at risk" in shown or "value at risk" in shown
    from analysis.report.notebook import PROVENANCE_MIMETYPE

    assert any(PROVENANCE_MIMETYPE in o.get("data", {}) for o in outputs)


def test_provision_costs_runs_end_to_end_with_a_stricter_treatment_rule(tmp_path):
    summary, report, html = _run(tmp_path, ["provision_costs", "-p", "n_bootstrap=199", "-p", "closure_share=0.05",
                                            "-p", "real_terms_base=2022-23", "-p",
                                            "services=[residential_older, home_care]"])
    text = _visible_text(html)
    assert "Key findings" in text and "Verdicts on the claims" in text
    for claim in ("CL-MUT-01", "CL-MUT-03", "CL-MUT-08", "CL-MUT-09", "CL-MUT-10"):
        assert claim in text
    assert "not testable with public data" in text and "Callaway-Sant'Anna" in text
    assert "TWFE (two-way fixed effects)" in text and "Callaway and Sant'Anna's method compares" in text
    assert "third sector minus council-run" in text.lower() and "Newcombe" in text
    assert "a year (if the files span 9 to 11 years), a floor from partial files" in text
    assert "year by year the ratio rose from 2 in 2008-09" in text and "then flat" in text
    assert "below 5% of its first-year (2008-09) level" in text and "2022-23 prices" in text
    assert "Traceback" not in text and "SIMULATED" not in text
    assert {h["key"] for h in report["headlines"]} >= {"costs_within_residential_older", "costs_within_home_care"}
