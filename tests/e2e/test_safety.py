"""What a run publishes is safe to share: no live script or event handler, a strict CSP, no local
paths, files readable under the user's umask, strict JSON."""

from __future__ import annotations

import json
import os
import re
import stat

import pytest

from tests.e2e.test_runner import fixture_env, only_run_dir, run_cli

pytestmark = pytest.mark.e2e


def test_hostile_text_and_folder_names_are_published_as_text_only(tmp_path):
    hostile_folder = tmp_path / "<img src=x onerror=alert(3)>"
    hostile_folder.mkdir()
    notes = hostile_folder / "notes.csv"
    notes.write_text("a,b\n1,2\n")
    out = tmp_path / "reports"
    previous = os.umask(0o022)
    try:
        proc = run_cli(["run", "fixture_work", "-p", "label=<script>alert(4)</script>", "-p",
                        f"notes_path={notes}", "--out", str(out), "--no-progress"], fixture_env())
    finally:
        os.umask(previous)
    assert proc.returncode == 0, proc.stderr
    run_dir = only_run_dir(out)
    report = json.loads((run_dir / "run.json").read_text())["reports"][0]
    page = (run_dir / report["html"]).read_text()
    index = (run_dir / "index.html").read_text()

    # The hostile text is there, as text: no live <script>, no event-handler attribute, anywhere.
    assert "&lt;script&gt;alert(4)&lt;/script&gt;" in page
    for html in (page, index):
        scripts = re.findall(r"<script\b[^>]*>", html)
        assert not re.search(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", html), "a live event handler was published"
        assert "alert(4)</script>" not in html
        assert 'http-equiv="Content-Security-Policy"' in html
        if html is page:
            assert scripts == [] and "script-src &#39;none&#39;" in html
        else:
            assert scripts == ["<script>"] and "script-src &#39;sha256-" in html
    # Markdown still renders (bold), images are embedded with alt text.
    assert "<strong>&lt;script&gt;alert(4)&lt;/script&gt;</strong>" in page
    assert re.search(r'<img[^>]*alt="[^"]*notes\.csv', page)

    # No local path: the input file is named by its file name only, everywhere that is shared.
    shared = [page, index, (run_dir / "run.json").read_text(), (run_dir / report["ipynb"]).read_text()]
    for text in shared:
        assert str(tmp_path) not in text and "onerror=alert(3)&gt;/notes.csv" not in text
        assert os.path.expanduser("~") + "/" not in text
    assert report["parameters"]["notes_path"] == "notes.csv"

    # Readable by a web server running as another user (umask 022 -> 0644), and strict JSON.
    for path in run_dir.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o644, path.name
    json.loads((run_dir / "run.json").read_text(), parse_constant=lambda c: pytest.fail(f"bare {c} in run.json"))


def test_relative_input_path_is_resolved_against_the_current_directory(tmp_path):
    """Not against notebooks/ (the kernel's folder), and a missing file is named before anything runs."""
    (tmp_path / "notes.csv").write_text("a\n1\n")
    out = tmp_path / "reports"
    env = fixture_env()
    import subprocess
    import sys

    from tests.conftest import ROOT

    def run(path):
        return subprocess.run([sys.executable, "-m", "analysis", "run", "fixture_work", "-p", f"notes_path={path}",
                               "--out", str(out), "--no-progress"], capture_output=True, text=True, cwd=tmp_path,
                              env={**os.environ, "MPLBACKEND": "Agg", **env,
                                   "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")},
                              timeout=600)

    missing = run("missing.csv")
    assert missing.returncode == 2 and "file not found" in missing.stderr and "notes_path=missing.csv" in missing.stderr
    assert f"resolved against the directory the command was run from, {tmp_path}" in missing.stderr
    assert not out.exists()
    found = run("notes.csv")
    assert found.returncode == 0, found.stderr
