"""Fault injection: signals to the runner, its workers and its kernels, mid-batch.

Each test asserts the exit code, that nothing half-written is published, that ``latest`` only
ever points at a complete run, that no worker or kernel is left running, and that the next run
into the same folder starts clean.
"""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from tests.faults.harness import (
    Run,
    assert_no_stray_processes,
    assert_published_state,
    batch,
    run_folders,
    staging_folders,
    started,
    wait_for,
)

pytestmark = [pytest.mark.e2e, pytest.mark.faults]


def _slow_batch(tmp_path, labels, seconds=120):
    signals = tmp_path / "signals"
    signals.mkdir()
    manifest = batch(tmp_path, [{"label": label, "seconds": seconds, "signal_dir": signals} for label in labels])
    return manifest, signals


@pytest.fixture
def private_tmp():
    """A short private TMPDIR (Unix socket paths are limited to about 100 characters), removed after."""
    import shutil
    import tempfile

    path = Path(tempfile.mkdtemp(prefix="af"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _socket_folders(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.glob("analysis-kernel-*"))


def _next_run_is_clean(out, tmp_path, env_extra=None):
    """A quick run into the same folder succeeds, leaves no staging behind and becomes `latest`."""
    run = Run(["fixture_work", "-p", "label=after"], out, env_extra=env_extra or {}).start()
    code, stderr = run.wait()
    assert code == 0, stderr
    newest = max(run_folders(out), key=lambda p: p.name)
    assert_published_state(out, latest_expected=newest)
    assert_no_stray_processes(run.token)
    return stderr


@pytest.mark.parametrize("sig,expected,group", [(signal.SIGINT, 130, True), (signal.SIGTERM, 143, False)],
                         ids=["SIGINT-ctrl-c", "SIGTERM"])
def test_signal_mid_batch_stops_workers_and_kernels_and_publishes_nothing(tmp_path, sig, expected, group):
    out = tmp_path / "reports"
    manifest, signals = _slow_batch(tmp_path, ["a", "b", "c", "d"])
    run = Run(["fixture_work", "--batch", str(manifest), "--workers", "2"], out).start()
    wait_for(lambda: started(signals, "a") and started(signals, "b"), "two reports to be running")
    run.signal(sig, group=group)
    code, stderr = run.wait()
    assert code == expected, stderr
    assert "nothing was published" in stderr
    assert_no_stray_processes(run.token)
    # No worker carries on writing into a recreated staging folder (the Ctrl-C bug).
    assert staging_folders(out) == [] and run_folders(out) == []
    assert_published_state(out, latest_expected=None)
    assert not started(signals, "c") and not started(signals, "d")
    _next_run_is_clean(out, tmp_path)


def test_sigterm_of_a_serial_run_kills_its_kernel(tmp_path, private_tmp):
    out = tmp_path / "reports"
    signals = tmp_path / "signals"
    signals.mkdir()
    tmp = private_tmp
    run = Run(["fixture_work", "-p", "seconds=120", "-p", f"signal_dir={signals}"], out,
              env_extra={"TMPDIR": str(tmp)}).start()
    wait_for(lambda: started(signals, "work"), "the report to be running")
    run.signal(signal.SIGTERM)
    code, stderr = run.wait()
    assert code == 143, stderr
    assert_no_stray_processes(run.token)
    assert _socket_folders(tmp) == []
    assert_published_state(out, latest_expected=None)
    assert staging_folders(out) == []


def test_sigkill_of_the_runner_leaves_no_processes_and_the_next_run_cleans_up(tmp_path, private_tmp):
    out = tmp_path / "reports"
    tmp = private_tmp
    env = {"TMPDIR": str(tmp)}
    # A previous good run: `latest` must survive the killed one.
    first = Run(["fixture_work", "-p", "label=before"], out).start()
    code, stderr = first.wait()
    assert code == 0, stderr
    good = run_folders(out)[0]

    manifest, signals = _slow_batch(tmp_path, ["a", "b", "c"])
    run = Run(["fixture_work", "--batch", str(manifest), "--workers", "2"], out, env_extra=env).start()
    wait_for(lambda: started(signals, "a") and started(signals, "b"), "two reports to be running")
    run.signal(signal.SIGKILL)
    code, _ = run.wait()
    assert code == -signal.SIGKILL
    # Workers notice their runner is gone and stop their kernels; kernels notice their worker is gone.
    assert_no_stray_processes(run.token)
    assert len(staging_folders(out)) >= 1  # what kill -9 leaves ...
    assert (out / "latest").resolve() == good.resolve()  # ... never replaced `latest`
    stderr = _next_run_is_clean(out, tmp_path, env)  # ... and the next run removes
    assert "left by a run that was killed" in stderr
    assert _socket_folders(tmp) == []  # nor any kernel's socket folder


def test_a_worker_killed_mid_batch_fails_only_its_own_report(tmp_path):
    out = tmp_path / "reports"
    manifest, signals = _slow_batch(tmp_path, ["victim", "b", "c", "d"], seconds=3)
    # The victim sleeps much longer than the others so it is surely running when its worker is killed.
    manifest.write_text(manifest.read_text().replace("victim,3", "victim,120"))
    run = Run(["fixture_work", "--batch", str(manifest), "--workers", "2"], out).start()
    wait_for(lambda: started(signals, "victim"), "the victim report to be running")
    (_kernel, worker), = started(signals, "victim")
    os.kill(worker, signal.SIGKILL)
    code, stderr = run.wait()
    assert code == 1, stderr
    assert_no_stray_processes(run.token)
    run_dir, = run_folders(out)
    assert_published_state(out, latest_expected=run_dir)
    summary = json.loads((run_dir / "run.json").read_text())
    status = {r["parameters"]["label"]: r["status"] for r in summary["reports"]}
    assert status == {"victim": "failed", "b": "ok", "c": "ok", "d": "ok"}
    error = next(r["error"] for r in summary["reports"] if r["parameters"]["label"] == "victim")
    assert error["ename"] == "WorkerDied" and "SIGKILL" in error["evalue"]
    assert len(started(signals, "victim")) == 1  # not retried


def test_a_kernel_killed_mid_batch_fails_only_its_report_and_is_not_retried(tmp_path):
    out = tmp_path / "reports"
    manifest, signals = _slow_batch(tmp_path, ["victim", "b", "c"], seconds=3)
    manifest.write_text(manifest.read_text().replace("victim,3", "victim,120"))
    run = Run(["fixture_work", "--batch", str(manifest), "--workers", "1"], out).start()
    wait_for(lambda: started(signals, "victim"), "the victim report to be running")
    (kernel, _worker), = started(signals, "victim")
    os.kill(kernel, signal.SIGKILL)
    code, stderr = run.wait()
    assert code == 1, stderr
    assert_no_stray_processes(run.token)
    run_dir, = run_folders(out)
    assert_published_state(out, latest_expected=run_dir)
    summary = json.loads((run_dir / "run.json").read_text())
    status = {r["parameters"]["label"]: r["status"] for r in summary["reports"]}
    assert status == {"victim": "failed", "b": "ok", "c": "ok"}  # the same worker went on with a new kernel
    error = next(r["error"] for r in summary["reports"] if r["parameters"]["label"] == "victim")
    assert error["ename"] == "DeadKernelError" and "ANALYSIS_KERNEL_MEMORY_MB" in error["evalue"]
    assert "not retried" in error["evalue"] and len(started(signals, "victim")) == 1


def test_a_kernel_killed_in_a_serial_run_is_not_silently_rerun(tmp_path):
    out = tmp_path / "reports"
    signals = tmp_path / "signals"
    signals.mkdir()
    run = Run(["fixture_work", "-p", "seconds=120", "-p", f"signal_dir={signals}"], out).start()
    wait_for(lambda: started(signals, "work"), "the report to be running")
    (kernel, _runner), = started(signals, "work")
    os.kill(kernel, signal.SIGKILL)
    code, stderr = run.wait()
    assert code == 3, stderr  # the only report failed: kept for diagnosis, `latest` not set
    assert "DeadKernelError" in stderr and "ANALYSIS_KERNEL_MEMORY_MB" in stderr
    assert len(started(signals, "work")) == 1
    assert_no_stray_processes(run.token)
    assert_published_state(out, latest_expected=None)


def test_kernels_that_cannot_start_fail_the_batch_clearly_instead_of_looping(tmp_path):
    """A memory limit too small for Python itself: every kernel start fails. The pool gives up after
    a bounded number of attempts, fails every report naming the limit, and `latest` is not moved."""
    out = tmp_path / "reports"
    manifest, signals = _slow_batch(tmp_path, ["a", "b", "c"], seconds=0)
    run = Run(["fixture_work", "--batch", str(manifest), "--workers", "1"], out,
              env_extra={"ANALYSIS_KERNEL_MEMORY_MB": "1"}).start()
    code, stderr = run.wait()
    assert code == 3, stderr
    assert stderr.count("No worker could start a kernel") == 3 and "ANALYSIS_KERNEL_MEMORY_MB" in stderr
    assert_no_stray_processes(run.token)
    assert_published_state(out, latest_expected=None)
