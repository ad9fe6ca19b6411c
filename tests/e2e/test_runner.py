"""The real CLI on real notebooks, and its error paths (bad parameters, a failing notebook, Ctrl-C)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from markupsafe import escape

from tests.conftest import ROOT

pytestmark = pytest.mark.e2e

SMALL_VFM = ["-p", "n_simulations=2000"]


def run_cli(args: list[str], env_extra: dict | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=timeout)


def fixture_env() -> dict:
    return {"ANALYSIS_EXTRA_NOTEBOOKS": "tests.fixtures.registry",
            "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}


def only_run_dir(out: Path) -> Path:
    runs = [p for p in out.iterdir() if p.is_dir() and not p.is_symlink()]
    assert len(runs) == 1, runs
    return runs[0]


@pytest.mark.data
def test_cli_renders_a_shareable_report_with_provenance_and_no_code(tmp_path):
    import shutil
    import tempfile

    private_tmp = Path(tempfile.mkdtemp(prefix="ak"))  # short (socket paths are limited), and only this run's
    out = tmp_path / "reports"
    proc = run_cli(["run", "nao_vfm_risk", *SMALL_VFM, "--out", str(out), "--no-progress"],
                   {"TMPDIR": str(private_tmp)})
    assert proc.returncode == 0, proc.stderr
    # The kernel talked over private Unix sockets (no TCP warning in logs) and its folder is gone.
    assert "without encryption" not in proc.stderr
    assert list(private_tmp.glob("analysis-kernel-*")) == []
    shutil.rmtree(private_tmp, ignore_errors=True)
    run_dir = only_run_dir(out)
    assert (out / "latest").resolve() == run_dir.resolve()
    summary = json.loads((run_dir / "run.json").read_text())
    assert summary["status"] == "ok" and summary["counts"] == {"ok": 1, "failed": 0}
    report = summary["reports"][0]
    assert report["slug"] == "nao_vfm_risk__n_simulations-2000"
    assert report["parameters"]["n_simulations"] == 2000 and report["headlines"]
    html = (run_dir / f"{report['slug']}.html").read_text()

    # No code, no injected parameters, no papermill metadata.
    assert "jp-InputArea" not in html and "input_area" not in html and "report.setup(" not in html
    assert "injected-parameters" not in html and "Parameters. None means" not in html
    nb = nbformat.read(run_dir / f"{report['slug']}.ipynb", as_version=4)
    assert "papermill" not in nb.metadata and all("papermill" not in c.metadata for c in nb.cells)

    # Stands alone: images embedded with alt text, no external scripts or stylesheets.
    assert html.count("data:image/png;base64,") >= 3
    assert not re.search(r"<img(?![^>]*alt=)[^>]*>", html)
    assert not re.search(r"<script[^>]+src=|<link[^>]+stylesheet", html)

    # Provenance block: parameters, datasets with publisher and sha256, versions, git state, run time.
    prov = html[html.index('id="provenance"'):]
    assert "n_simulations" in prov and "2000" in prov
    for name, sha in (("cqc_care_home_closures", "e7faec4bf3eae032a13e80a0648361adff4e9b81b286d4f623b62d6fa7df3d13"),
                      ("cqc_care_homes_and_beds", "9f95ce5fb588eeb74fa575105ae9c4f86904d78508080c92113b0bbdf47e83ff")):
        assert name in prov and sha in prov
    assert "Care Quality Commission" in prov
    assert "uk-reform-analysis 0.2.0" in prov and "Python" in prov and "pandas" in prov
    assert re.search(r"Git commit</td><td><code>([0-9a-f]{40}|not a git checkout)</code>", prov)
    assert "NAO-006" in prov  # evidence rows cited

    index = (run_dir / "index.html").read_text()
    # The index is a briefing: the report's link under its title, then each of its key findings.
    assert f'<a href="{report["slug"]}.html">{escape(report["title"])}</a>' in index
    assert {"vfm_match", "vfm_verdicts"} <= {f["key"] for f in report["findings"]}
    assert all(escape(f["text"]) in index for f in report["findings"])
    # No absolute paths of this machine in anything that is shared (reports, index, run.json).
    from analysis import config

    machine_paths = [str(tmp_path),
                     str(config.cache_dir())] + ([str(config.data_mirror())] if config.data_mirror() else [])
    for shared in (index, html, (run_dir / "run.json").read_text()):
        assert not [p for p in machine_paths if p in shared]
    assert summary["config"]["data_source"] in {"local mirror (ANALYSIS_DATA_MIRROR)", "pinned URLs"}

    # The reviewer's command: passes the data checks, then fails (exit 1) naming a missing CSV.
    proc = run_cli(["review", str(run_dir), "--check", "data-links", "--check", "table-rounding"])
    assert proc.returncode == 0 and "No problems found." in proc.stdout, proc.stdout + proc.stderr
    missing = report["data_files"][0]["path"]
    (run_dir / missing).unlink()
    proc = run_cli(["review", str(run_dir), "--check", "data-links"])
    assert proc.returncode == 1 and f"the data link '{missing}' points to a missing file" in proc.stdout
    assert run_cli(["review", str(run_dir), "--check", "nonsense"]).returncode == 2


def test_unknown_parameter_fails_before_running_and_writes_nothing(tmp_path):
    out = tmp_path / "reports"
    proc = run_cli(["run", "nao_vfm_risk", "-p", "dicount_rate=0.03", "--out", str(out)])
    assert proc.returncode == 2
    assert "unknown parameter 'dicount_rate'" in proc.stderr and "did you mean 'discount_rate'" in proc.stderr
    assert not out.exists() or not any(out.iterdir())


def test_wrong_type_fails_with_notebook_parameter_and_allowed(tmp_path):
    out = tmp_path / "reports"
    proc = run_cli(["run", "nao_vfm_risk", "-p", "n_simulations=lots", "--out", str(out)])
    assert proc.returncode == 2
    assert "nao_vfm_risk" in proc.stderr and "n_simulations" in proc.stderr and "Allowed" in proc.stderr
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.data
def test_failing_notebook_is_marked_failed_and_the_others_still_run(tmp_path):
    out = tmp_path / "reports"
    manifest = tmp_path / "batch.csv"
    manifest.write_text("x\n1\n2\n")
    env = fixture_env()
    proc = run_cli(["run", "fixture_raises", "--batch", str(manifest), "--out", str(out), "--executor", "serial",
                    "--no-progress"], env)
    assert proc.returncode == 3, proc.stderr  # every report failed: kept for diagnosis, `latest` not moved
    assert "deliberate failure" in proc.stderr
    assert not (out / "latest").exists()
    run_dir = only_run_dir(out)
    summary = json.loads((run_dir / "run.json").read_text())
    assert summary["status"] == "failed" and summary["counts"]["failed"] == 2
    err = summary["reports"][0]["error"]
    assert err["ename"] == "ValueError" and "deliberate failure" in err["evalue"] and err["cell_index"] is not None
    assert summary["reports"][0]["html"] is None
    index = (run_dir / "index.html").read_text()
    assert "Failures" in index and "deliberate failure" in index
    # run.log: the configuration at the start, then each report's outcome; no path of this machine.
    log_text = (run_dir / "run.log").read_text()
    assert summary["log"] == "run.log" and '"executor": "serial"' in log_text and '"out_root": "[reports]"' in log_text
    outcomes = [line for line in log_text.splitlines() if "analysis.report.outcome" in line]
    assert [line.split(": ", 1)[1].split(" in ")[0] for line in outcomes] \
        == ["report fixture_raises: FAILED", "report fixture_raises__x-2: FAILED"]  # x=1 is the default
    assert log_text.count("ValueError: deliberate failure") == 2 and str(tmp_path) not in log_text

    # A mixed run: the real notebook still renders when another one fails.
    from analysis.report import runner

    os.environ.update(env)
    try:
        planned = (runner.plan(["fixture_raises"]) + runner.plan(["nao_vfm_risk"], {"n_simulations": 2000}))
        summary = runner.run(planned, out_root=tmp_path / "mixed", progress=False)
    finally:
        os.environ.pop("ANALYSIS_EXTRA_NOTEBOOKS")
    statuses = {r["notebook"]: r["status"] for r in summary["reports"]}
    assert statuses == {"fixture_raises": "failed", "nao_vfm_risk": "ok"}
    assert summary["latest"] and (tmp_path / "mixed" / "latest").resolve().name == summary["run_id"]
    log_text = (tmp_path / "mixed" / "latest" / "run.log").read_text()
    assert "report fixture_raises: FAILED" in log_text and "report nao_vfm_risk__n_simulations-2000: ok in" in log_text
    assert "2 ok" not in log_text and "1 ok, 1 failed" in log_text and str(tmp_path) not in log_text


@pytest.mark.data
def test_interrupted_run_leaves_no_report_index_or_partial_folder(tmp_path):
    out = tmp_path / "reports"
    env = {**os.environ, "MPLBACKEND": "Agg"}
    proc = subprocess.Popen([sys.executable, "-m", "analysis", "run", "nao_vfm_risk", "-p", "n_simulations=10000000",
                             "--out", str(out), "--no-progress"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (out.exists() and any(p.name.startswith(".partial-") for p in out.iterdir())):
        time.sleep(0.2)
    time.sleep(4)  # let the kernel start and the Monte Carlo begin
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr
    leftovers = [p.name for p in out.iterdir()] if out.exists() else []
    assert leftovers == [], leftovers


def test_runner_plan_rejects_parameters_without_a_notebook_and_bad_batches(tmp_path):
    from analysis.errors import ParameterError
    from analysis.report import runner

    with pytest.raises(ParameterError, match="need a notebook"):
        runner.plan(None, {"seed": 1})
    bad = tmp_path / "bad.csv"
    bad.write_text("seed,n_simulations\n1,5\n2,3000\n")
    with pytest.raises(ParameterError, match="batch row 1"):
        runner.plan(["nao_vfm_risk"], batch_rows=runner.read_batch_manifest(bad))
    empty = tmp_path / "empty.csv"
    empty.write_text("seed\n")
    with pytest.raises(ParameterError, match="no rows"):
        runner.read_batch_manifest(empty)


def test_slugs_are_stable_short_and_unique():
    from analysis.report import runner

    assert runner.slug_for("nb", {}) == "nb"
    assert runner.slug_for("nb", {"council_code": "E08000016"}) == "nb__council_code-E08000016"
    long = runner.slug_for("nb", {"x": "y" * 300})
    assert len(long) <= 100
