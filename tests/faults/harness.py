"""Run the real command line as a scheduler would, inject a fault, and check what is left.

Every run started here carries a unique token in its environment, which its workers and kernels
inherit; :func:`stray_processes` finds any process still carrying it. Waits poll for a condition
with a generous deadline (a loaded 2-core machine is slow), never sleep-and-hope.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import ROOT

if not Path("/proc/self/environ").exists():  # how stray processes are found
    pytest.skip("the fault-injection tests need Linux's /proc to find stray processes", allow_module_level=True)

DEADLINE = 240  # seconds: the most any single wait may take on a loaded machine


def wait_for(condition: Callable[[], object], what: str, timeout: float = DEADLINE, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


@dataclass
class Run:
    """One ``python -m analysis run`` in its own process group, with a token its children inherit."""

    args: list[str]
    out: Path
    env_extra: dict[str, str] = field(default_factory=dict)
    token: str = field(default_factory=lambda: uuid.uuid4().hex)
    proc: subprocess.Popen | None = None

    def start(self) -> Run:
        env = {**os.environ, "MPLBACKEND": "Agg", "ANALYSIS_EXTRA_NOTEBOOKS": "tests.fixtures.registry",
               "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
               "ANALYSIS_FAULT_TOKEN": self.token, **self.env_extra}
        self.proc = subprocess.Popen([sys.executable, "-m", "analysis", "run", *self.args, "--out", str(self.out),
                                      "--no-progress"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, start_new_session=True)
        return self

    def wait(self, timeout: float = DEADLINE) -> tuple[int, str]:
        try:
            _, stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill_everything()
            raise
        return self.proc.returncode, stderr

    def signal(self, sig: int, group: bool = False) -> None:
        if group:  # like Ctrl-C in a terminal: the runner and its workers (kernels have their own session)
            os.killpg(self.proc.pid, sig)
        else:
            os.kill(self.proc.pid, sig)

    def kill_everything(self) -> None:
        for pid in [self.proc.pid, *stray_processes(self.token)]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def stray_processes(token: str) -> list[int]:
    """Processes (other than zombies) whose environment carries ``token``."""
    needle = f"ANALYSIS_FAULT_TOKEN={token}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found


def assert_no_stray_processes(token: str, timeout: float = 90) -> None:
    """Workers and kernels must be gone soon after the runner (the kernel's own watchdog polls once a second)."""
    try:
        wait_for(lambda: not stray_processes(token), "workers and kernels to exit", timeout=timeout)
    except AssertionError:
        left = stray_processes(token)
        details = []
        for pid in left:
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")[:150]
            except OSError:
                continue
            details.append(f"{pid}: {cmdline!r}")
        for pid in left:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        raise AssertionError("processes left behind:\n" + "\n".join(details)) from None


def started(signal_dir: Path, label: str) -> list[tuple[int, int]]:
    """(kernel pid, parent pid) for each time the report ``label`` started running."""
    path = signal_dir / f"{label}.started"
    if not path.exists():
        return []
    return [tuple(int(x) for x in line.split()) for line in path.read_text().splitlines() if line.strip()]


def staging_folders(out: Path) -> list[str]:
    return sorted(p.name for p in out.iterdir() if p.name.startswith(".partial-")) if out.exists() else []


def run_folders(out: Path) -> list[Path]:
    return sorted(p for p in out.iterdir() if p.is_dir() and not p.is_symlink()
                  and not p.name.startswith(".")) if out.exists() else []


def assert_published_state(out: Path, *, latest_expected: Path | None | str = "any") -> None:
    """Nothing half-written is published: every run folder is complete (run.json and index, every
    report it lists as ok has its HTML, no temporary files), no staging folder is left, and
    ``latest`` (if present) points at a complete run in which some report rendered."""
    for run in run_folders(out):
        names = {p.name for p in run.iterdir()}
        assert {"run.json", "index.html"} <= names, f"{run.name} is incomplete: {sorted(names)}"
        assert not [n for n in names if n.endswith(".part") or n.startswith(".")], sorted(names)
        summary = json.loads((run / "run.json").read_text())  # strict JSON (no NaN) parses
        for report in summary["reports"]:
            if report["status"] == "ok":
                assert report["html"] in names
    assert staging_folders(out) == [], staging_folders(out)
    latest = out / "latest"
    if latest.is_symlink():
        target = latest.resolve()
        assert target in [r.resolve() for r in run_folders(out)]
        summary = json.loads((target / "run.json").read_text())
        assert summary["counts"]["ok"] > 0, "latest points at a run in which every report failed"
    if latest_expected is None:
        assert not latest.exists() and not latest.is_symlink(), "latest should not exist"
    elif isinstance(latest_expected, Path):
        assert latest.resolve() == latest_expected.resolve()


def batch(tmp_path: Path, rows: list[dict[str, object]], name: str = "batch.csv") -> Path:
    columns = sorted({k for row in rows for k in row})
    lines = [",".join(columns)] + [",".join(str(row.get(c, "")) for c in columns) for row in rows]
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n")
    return path
