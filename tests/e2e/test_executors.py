"""Batch runs and executors: isolation on warm kernels, a bad row in a batch, dask, bundles."""

from __future__ import annotations

import json
import sys
import zipfile

import pytest

from tests.conftest import ROOT
from tests.e2e.test_runner import fixture_env, only_run_dir, run_cli

pytestmark = pytest.mark.e2e


def test_isolation_probe_detects_leaks_when_state_is_not_reset():
    """The probe itself must be able to fail: leave traces in one namespace and look for them."""
    sys.path.insert(0, str(ROOT / "tests" / "fixtures" / "notebooks"))
    try:
        import isolation_probes as probes
    finally:
        sys.path.pop(0)
    import matplotlib

    namespace = {"leaked_variable": "first"}
    saved = matplotlib.rcParams["lines.linewidth"]
    try:
        probes.leave_traces("first")
        leaks = probes.isolation_headline("second", namespace)
    finally:
        matplotlib.rcParams["lines.linewidth"] = saved
    assert leaks["value"] == 4.0, leaks["source"]


def test_warm_kernel_reports_are_isolated(tmp_path):
    """Three reports in a row on ONE warm kernel: none sees the previous report's variables, matplotlib
    settings or random state."""
    manifest = tmp_path / "markers.csv"
    manifest.write_text("marker\nfirst\nsecond\nthird\n")
    out = tmp_path / "reports"
    proc = run_cli(["run", "fixture_isolation", "--batch", str(manifest), "--executor", "processes", "--workers", "1",
                    "--out", str(out), "--no-progress"], fixture_env())
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((only_run_dir(out) / "run.json").read_text())
    assert len({r["worker"] for r in summary["reports"]}) == 1  # really the same kernel
    for report in summary["reports"]:
        leaks = {h["key"]: h for h in report["headlines"]}["leaks"]
        assert leaks["value"] == 0, f"{report['slug']}: {leaks['source']}"


@pytest.mark.data
def test_batch_with_one_bad_row_lists_the_failure_and_exits_non_zero(tmp_path):
    manifest = tmp_path / "councils.csv"
    manifest.write_text("council_code\nE08000016\nE08999999\nE09000002\n")
    out = tmp_path / "reports"
    proc = run_cli(["run", "council_profile", "--batch", str(manifest), "--workers", "2", "--out", str(out),
                    "--no-progress"])
    assert proc.returncode == 1, proc.stderr
    run_dir = only_run_dir(out)
    summary = json.loads((run_dir / "run.json").read_text())
    assert summary["config"]["executor"] == "processes"  # the default for batches
    status = {r["overrides"]["council_code"]: r["status"] for r in summary["reports"]}
    assert status == {"E08000016": "ok", "E08999999": "failed", "E09000002": "ok"}
    bad = next(r for r in summary["reports"] if r["status"] == "failed")
    assert bad["error"]["ename"] == "InputError" and "Unknown council code" in bad["error"]["evalue"]
    index = (run_dir / "index.html").read_text()
    assert "Failures" in index and "E08999999" in index and 'class="sortable"' in index
    assert "Barnsley" in index  # headline numbers of the good rows
    # The failure's traceback names no path of this machine (checkout, virtual environment, mirror).
    from analysis import config

    local = [str(ROOT), sys.prefix,
             str(config.cache_dir())] + ([str(config.data_mirror())] if config.data_mirror() else [])
    for shared in (index, (run_dir / "run.json").read_text()):
        assert not [p for p in local if p in shared]
    for report in summary["reports"]:
        if report["status"] == "ok":
            html = (run_dir / report["html"]).read_text()
            assert "Provenance" in html and "E08000016" in json.dumps(summary) and "href=\"/" not in html


@pytest.mark.data
def test_invalid_row_in_a_batch_stops_before_anything_runs(tmp_path):
    manifest = tmp_path / "councils.csv"
    manifest.write_text("council_code\nE08000016\nnot-a-code\n")
    out = tmp_path / "reports"
    proc = run_cli(["run", "council_profile", "--batch", str(manifest), "--out", str(out)])
    assert proc.returncode == 2 and "batch row 2" in proc.stderr and "council_code" in proc.stderr
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.data
def test_dask_local_cluster_gives_the_same_numbers_as_serial(tmp_path):
    manifest = tmp_path / "councils.csv"
    manifest.write_text("council_code\nE08000016\nE06000001\n")
    numbers = {}
    for executor in ("dask", "serial"):
        out = tmp_path / executor
        proc = run_cli(["run", "council_profile", "--batch", str(manifest), "--executor", executor, "--workers", "2",
                        "--out", str(out), "--no-progress"])
        assert proc.returncode == 0, proc.stderr
        summary = json.loads((only_run_dir(out) / "run.json").read_text())
        numbers[executor] = {(r["slug"], h["key"]): h["value"] for r in summary["reports"] for h in r["headlines"]}
        if executor == "dask":
            assert all(r["worker"].startswith("dask-") for r in summary["reports"])
    assert numbers["dask"] == numbers["serial"] and len(numbers["dask"]) == 4


@pytest.mark.data
def test_bundle_zips_a_run_with_relative_links(tmp_path):
    out = tmp_path / "reports"
    proc = run_cli(["run", "council_profile", "-p", "council_code=E08000016", "--out", str(out), "--no-progress"])
    assert proc.returncode == 0, proc.stderr
    run_dir = only_run_dir(out)
    env = {"ANALYSIS_REPORTS_DIR": str(out)}
    proc = run_cli(["bundle", "latest"], env)
    assert proc.returncode == 0, proc.stderr
    zpath = out / f"{run_dir.name}.zip"
    with zipfile.ZipFile(zpath) as zf:
        names = zf.namelist()
        assert f"{run_dir.name}/index.html" in names and f"{run_dir.name}/run.json" in names
        csvs = [n for n in names if n.endswith(".csv")]
        report = json.loads(zf.read(f"{run_dir.name}/run.json"))["reports"][0]
        assert sorted(csvs) == sorted(f"{run_dir.name}/{f['path']}" for f in report["data_files"]) and csvs
        index = zf.read(f"{run_dir.name}/index.html").decode()
    assert str(tmp_path) not in index
    proc = run_cli(["bundle", "no-such-run"], env)
    assert proc.returncode == 2 and "No finished run" in proc.stderr
