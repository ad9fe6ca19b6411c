"""Publishing mechanics: sanitised HTML and CSP, path redaction, file modes, strict JSON,
stale staging clean-up, exit codes and their documentation."""

from __future__ import annotations

import fcntl
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from analysis import atomic
from analysis.errors import EXIT_CODE_MEANINGS, ExitCode
from analysis.report import export, redact, runner, sanitize
from tests.conftest import ROOT

# --- HTML -------------------------------------------------------------------------------------


def test_markdown_keeps_formatting_and_escapes_raw_html():
    html = sanitize.markdown_to_html("**Bold** and a [link](https://example.org)\n\n- one\n- two\n\n"
                                     "| a | b |\n|---|---|\n| 1 | 2 |\n\n<script>alert(4)</script> "
                                     "<img src=x onerror=alert(3)> [bad](javascript:alert(1))")
    assert "<strong>Bold</strong>" in html and '<a href="https://example.org">link</a>' in html
    assert "<li>one</li>" in html and "<td>1</td>" in html
    assert "<script" not in html and "&lt;script&gt;alert(4)&lt;/script&gt;" in html
    assert "<img" not in html and "href=\"javascript" not in html


def test_report_md_displays_escaped_html(monkeypatch):
    from analysis.report import notebook

    shown = []
    monkeypatch.setattr(notebook, "display", lambda data, raw=False, **kw: shown.append(data))
    notebook.md("Unit **<script>alert(4)</script>**")
    assert "<strong>&lt;script&gt;alert(4)&lt;/script&gt;</strong>" in shown[0]["text/html"]


@pytest.mark.parametrize("dirty,forbidden", [
    ("<script>alert(1)</script>", "<script"),
    ('<img src=x onerror="alert(3)">', "onerror"),
    ('<img src="data:image/png;base64,AAAA" onload="x()">', "onload"),
    ('<a href="javascript:alert(1)">x</a>', "javascript:"),
    ('<a href="data:text/html,<b>x</b>">x</a>', "data:text/html"),
    ('<iframe src="https://evil.example"></iframe>', "<iframe"),
    ('<div style="background:url(https://evil.example/x)">x</div>', "evil.example/x)"),
    ("<svg><script>alert(1)</script></svg>", "<svg"),
    ('<form action="https://evil.example"><input></form>', "<form"),
])
def test_clean_body_neutralises_active_content(dirty, forbidden):
    assert forbidden not in sanitize.clean_body(dirty)


def test_clean_body_keeps_csv_downloads_but_not_html_ones():
    csv = '<a download="table.csv" href="data:text/csv;charset=utf-8;base64,YSxiCjEsMgo=">CSV</a>'
    assert sanitize.clean_body(csv) == csv
    assert sanitize.clean_body('<a href="table.csv" download>CSV</a>') == '<a href="table.csv" download="">CSV</a>'
    assert "data:text/html" not in sanitize.clean_body('<a download="x.html" href="data:text/html;base64,PGI+">x</a>')


def test_clean_body_keeps_what_reports_use():
    body = ('<div class="jp-Cell"><h2 id="x">T<a class="anchor-link" href="#x">¶</a></h2>'
            '<figure class="table-figure"><figcaption>Cap</figcaption><table class="table"><thead>'
            '<tr style="text-align: right;"><th>A</th></tr></thead><tbody><tr><td>1</td></tr></tbody></table>'
            '</figure><img alt="chart" src="data:image/png;base64,iVBORw0KGgo="></div>')
    assert sanitize.clean_body(body) == body


def _prov():
    return {"environment": {"package_version": "0", "git": {"describe": "abc", "commit": "abc", "state": "clean"},
                            "packages": {}, "platform": "p", "python": "3.11"},
            "run_id": "r", "started_at": "s", "finished_at": "t", "seconds": 1.0, "notebook": "nb", "slug": "nb",
            "parameters": {"unit": "<script>alert(4)</script>"}, "datasets": [], "evidence": [], "simulated": []}


def test_exported_report_is_sanitised_whatever_a_cell_displayed():
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    cell = new_code_cell("x")
    cell.outputs = [new_output("display_data", data={"text/html": "<p>ok</p><script>alert(1)</script>"}),
                    new_output("display_data", data={"text/markdown": "<img src=x onerror=alert(3)>"})]
    nb = new_notebook(cells=[new_markdown_cell("# Title"), cell])
    html = export.notebook_to_html(nb, _prov(), "fallback")
    assert not re.findall(r"<script\b", html) and not re.search(r"<[a-z][^>]*\sonerror=", html)
    assert "<p>ok</p>" in html
    assert '<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;' in html


def test_index_csp_allows_exactly_its_own_sort_script():
    run = {"run_id": "r1", "started_at": "a", "finished_at": "b", "counts": {"ok": 0, "failed": 1},
           "environment": {"package_version": "0", "git": {"describe": "abc"}},
           "reports": [{"notebook": "nb", "title": "<script>t</script>", "slug": "nb", "overrides": {},
                        "status": "failed",
                        "seconds": 1.0, "html": None, "subject": None, "headlines": [],
                        "error": {"cell_index": 1, "ename": "E", "evalue": "<img src=x onerror=alert(3)>"}}]}
    html = export.render_index(run)
    scripts = re.findall(r"<script>(.*?)</script>", html, flags=re.S)
    assert len(scripts) == 1
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html).group(1).replace("&#39;", "'")
    assert sanitize.script_hash(scripts[0]) in csp and "script-src 'sha256-" in csp
    assert "<img src=x" not in html and "&lt;script&gt;t&lt;/script&gt;" in html


# --- paths, modes, JSON -------------------------------------------------------------------------


def test_redactor_hides_input_files_and_machine_folders_but_not_lookalikes():
    r = redact.Redactor([("/home/alice/private/panel.csv", "panel.csv"), ("/srv/app/.venv", "[venv]"),
                         ("/tmp", "[tmp]"), ("/home/alice", "~")])
    text = ('read /home/alice/private/panel.csv; File "/srv/app/.venv/lib/x.py"; /tmp/abc; /tmpfoo; '
            '/home/alice/other; data:image/png;base64,AB/tmp/CD')
    assert r.text(text) == ('read panel.csv; File "[venv]/lib/x.py"; [tmp]/abc; /tmpfoo; ~/other; '
                            "data:image/png;base64,AB/tmp/CD")
    coloured = '\x1b[0;32m/srv/app/.venv/lib/x.py\x1b[0m'  # an IPython traceback line, raw and in JSON
    assert r.text(coloured) == '\x1b[0;32m[venv]/lib/x.py\x1b[0m'
    assert r.text(json.dumps(coloured)) == json.dumps('\x1b[0;32m[venv]/lib/x.py\x1b[0m')
    hostile = redact.Redactor([("/d/<img src=x>/p.csv", "p.csv")])
    assert hostile.text("(/d/&lt;img src=x&gt;/p.csv) \"/d/\\u003cimg src=x\\u003e/p.csv\"") == '(p.csv) "p.csv"'
    assert hostile.value({"k": ["/d/<img src=x>/p.csv"]}) == {"k": ["p.csv"]}


def test_redactor_hides_a_path_at_the_end_of_a_sentence_but_not_a_longer_file_name():
    """A path followed by a full stop ("... is missing from ANALYSIS_DATA_MIRROR=/srv/mirror.") was
    left whole, so the more general /srv matched instead and the rest leaked."""
    r = redact.Redactor([("/srv/mirror", "[mirror]"), ("/srv", "[srv]")])
    assert r.text("missing from ANALYSIS_DATA_MIRROR=/srv/mirror. The mirror must hold x.") == (
        "missing from ANALYSIS_DATA_MIRROR=[mirror]. The mirror must hold x.")
    assert (r.text("/srv/mirror.csv and /srv/mirror.d/x and /srv/mirror")
            == "[srv]/mirror.csv and [srv]/mirror.d/x and [mirror]")


def test_redactor_skips_embedded_images_but_redacts_around_them():
    import base64

    r = redact.Redactor([("/srv/app", "[project]")])
    image = base64.b64encode(bytes(range(256)) * 4).decode()  # contains "/" and letters, no path
    text = f'<img src="data:image/png;base64,{image}"> /srv/app/x.py {image}/srv/app /srv/app'
    assert r.text(text) == f'<img src="data:image/png;base64,{image}"> [project]/x.py {image}/srv/app [project]'


def test_atomic_writes_use_the_umask_not_0600(tmp_path):
    previous = os.umask(0o022)
    try:
        atomic.write_text(tmp_path / "a.html", "x")
        assert stat.S_IMODE((tmp_path / "a.html").stat().st_mode) == 0o644
        os.umask(0o077)
        atomic.write_json(tmp_path / "b.json", {})
        assert stat.S_IMODE((tmp_path / "b.json").stat().st_mode) == 0o600
    finally:
        os.umask(previous)


def test_json_is_strict_nan_and_infinity_become_null(tmp_path):
    atomic.write_json(tmp_path / "r.json", {"v": float("nan"), "w": [1.0, float("inf"), -float("inf")]})
    text = (tmp_path / "r.json").read_text()
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text) == {"v": None, "w": [1.0, None, None]}


def test_a_missing_folder_is_not_recreated_when_asked(tmp_path):
    with pytest.raises(FileNotFoundError):
        atomic.write_text(tmp_path / "gone" / "x.html", "x", make_parents=False)
    assert not (tmp_path / "gone").exists()


# --- staging --------------------------------------------------------------------------------------


def test_stale_staging_is_removed_and_live_staging_kept(tmp_path):
    out = tmp_path / "reports"
    out.mkdir()
    dead = out / ".partial-dead"
    dead.mkdir()
    (dead / "big.html").write_text("x")
    (out / ".partial-dead.lock").write_text("123\n")  # unlocked: its run is gone
    orphan = out / ".partial-nolock"
    orphan.mkdir()
    os.utime(orphan, (0, 0))
    live = out / ".partial-live"
    live.mkdir()
    fd = runner._create_locked(out / ".partial-live.lock")
    try:
        removed = runner.clean_stale_staging(out)
        assert sorted(removed) == [".partial-dead", ".partial-nolock"]
        assert live.is_dir() and (out / ".partial-live.lock").exists()
        assert not dead.exists() and not (out / ".partial-dead.lock").exists() and not orphan.exists()
    finally:
        os.close(fd)
    assert runner.clean_stale_staging(out) == [".partial-live"]  # its run ended without cleaning up


def test_lock_is_held_by_the_creator():
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        lock = Path(folder) / ".partial-x.lock"
        fd = runner._create_locked(lock)
        other = os.open(lock, os.O_RDWR)
        try:
            with pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        finally:
            os.close(other)
            os.close(fd)


def test_duplicate_batch_rows_are_rendered_once_with_a_warning(tmp_path):
    manifest = tmp_path / "m.csv"
    manifest.write_bytes("\ufeffseed,n_simulations\n1,2000\n2,2000\n1,2000\n".encode())  # Excel's BOM too
    warnings: list[str] = []
    planned = runner.plan(["nao_vfm_risk"], batch_rows=runner.read_batch_manifest(manifest), warnings=warnings)
    assert [p.parameters["seed"] for p in planned] == [1, 2]
    assert warnings == ["batch row 3 gives the same parameters as row 1; it is rendered once"]


def test_manifest_with_a_repeated_column_is_rejected(tmp_path):
    from analysis.errors import ParameterError

    manifest = tmp_path / "m.csv"
    manifest.write_text("seed,seed\n1,2\n")
    with pytest.raises(ParameterError, match="more than once"):
        runner.read_batch_manifest(manifest)


# --- command line: exit codes ------------------------------------------------------------------


def _cli(args, env_extra=None, timeout=300):
    env = {**os.environ, "MPLBACKEND": "Agg", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=timeout)


def test_out_that_is_a_file_is_a_clear_error(tmp_path):
    target = tmp_path / "a-file"
    target.write_text("x")
    proc = _cli(["run", "nao_vfm_risk", "--out", str(target)], {"ANALYSIS_EXTRA_NOTEBOOKS": ""})
    assert proc.returncode == ExitCode.OUTPUT_ERROR, proc.stderr
    assert "Traceback" not in proc.stderr and str(target) in proc.stderr


def test_unwritable_empty_cache_is_a_clear_error(tmp_path):
    """A cache that cannot be written: a path under a file (the same OSError as read-only, and it
    works as root, who ignores permission bits)."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    proc = _cli(["data", "fetch"], {"ANALYSIS_CACHE_DIR": str(blocker / "cache")})
    assert proc.returncode == ExitCode.OUTPUT_ERROR, proc.stderr
    assert "Cannot write the data cache" in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores permission bits; the file-blocked variants above "
                                              "exercise the same error path")
def test_read_only_out_and_cache_are_clear_errors(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    proc = _cli(["run", "nao_vfm_risk", "--out", str(ro / "reports")])
    assert proc.returncode == ExitCode.OUTPUT_ERROR and "Traceback" not in proc.stderr
    proc = _cli(["data", "fetch"], {"ANALYSIS_CACHE_DIR": str(ro / "cache")})
    assert proc.returncode == ExitCode.OUTPUT_ERROR and "Traceback" not in proc.stderr


def test_unreachable_dask_scheduler_fails_fast_and_clearly():
    import socket

    from analysis.errors import OutputError
    from analysis.report import cluster

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(OutputError, match="Cannot reach the dask scheduler"):
        cluster.check_scheduler_reachable(f"tcp://127.0.0.1:{port}", timeout=5)


def test_scheduling_docs_list_every_exit_code_as_the_code_defines_them():
    text = (ROOT / "docs" / "scheduling.md").read_text()
    rows = dict(re.findall(r"^\| `(\d+)` \| (.+?) \|", text, flags=re.M))
    assert {int(code) for code in rows} == {int(code) for code in ExitCode}
    for code in ExitCode:
        what, _todo = EXIT_CODE_MEANINGS[code]
        assert what.split(".")[0] in rows[str(int(code))], code
    from analysis import cli

    assert set(EXIT_CODE_MEANINGS) == set(ExitCode)
    assert "ExitCode" in Path(cli.__file__).read_text()


def test_make_clean_reports_also_removes_staging_left_by_killed_runs(tmp_path):
    import shutil

    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    reports = tmp_path / "reports"
    for name in ("20260101T000000Z-aaaaaa", ".partial-20260101T000000Z-bbbbbb"):
        (reports / name).mkdir(parents=True)
        (reports / name / "index.html").write_text("x")
    (reports / ".partial-20260101T000000Z-bbbbbb.lock").write_text("1\n")
    (reports / "latest").symlink_to("20260101T000000Z-aaaaaa")
    (reports / ".gitkeep").write_text("")
    subprocess.run(["make", "-s", "clean-reports"], cwd=tmp_path, check=True, capture_output=True)
    assert sorted(p.name for p in reports.iterdir()) == [".gitkeep"]


def test_run_with_an_unreachable_scheduler_exits_4_without_a_traceback(tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "reports"
    proc = _cli(["run", "fixture_work", "--executor", "dask", "--scheduler", f"tcp://127.0.0.1:{port}",
                 "--out", str(out)],
                {"ANALYSIS_EXTRA_NOTEBOOKS": "tests.fixtures.registry",
                 "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")})
    assert proc.returncode == ExitCode.OUTPUT_ERROR, proc.stderr
    assert "Cannot reach the dask scheduler" in proc.stderr and "Traceback" not in proc.stderr
    assert not [p for p in out.iterdir()] if out.exists() else True


def test_a_malformed_limit_is_a_clear_error_before_anything_runs(monkeypatch):
    from analysis.errors import ParameterError

    monkeypatch.setenv("ANALYSIS_KERNEL_MEMORY_MB", "lots")
    with pytest.raises(ParameterError, match="ANALYSIS_KERNEL_MEMORY_MB='lots' must be a whole number of MB"):
        runner.plan(["nao_vfm_risk"])


def test_socket_folders_of_killed_kernels_are_removed_by_the_next_kernel_start(tmp_path):
    from analysis.report import kernels

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / "analysis-kernel-stale"
    stale.mkdir()
    (stale / "owner.pid").write_text(f"{dead.pid}\n")
    live = tmp_path / "analysis-kernel-live"
    live.mkdir()
    (live / "owner.pid").write_text(f"{os.getpid()}\n")
    foreign = tmp_path / "analysis-kernel-foreign"  # no owner file: not ours to judge
    foreign.mkdir()
    assert kernels.clean_stale_socket_folders(str(tmp_path)) == ["analysis-kernel-stale"]
    assert live.is_dir() and foreign.is_dir() and not stale.exists()
