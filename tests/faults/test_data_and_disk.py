"""Fault injection: disk full, corrupt raw data, corrupt and altered cache, a kernel over its memory
limit, and concurrent runs into one folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import ROOT
from tests.faults.harness import (
    Run,
    assert_no_stray_processes,
    assert_published_state,
    run_folders,
    staging_folders,
    started,
)

pytestmark = [pytest.mark.e2e, pytest.mark.faults]


def cli(args: list[str], env_extra: dict[str, str] | None = None, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {**os.environ, "MPLBACKEND": "Agg", "ANALYSIS_EXTRA_NOTEBOOKS": "tests.fixtures.registry",
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "analysis", *args], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=timeout)


@pytest.fixture
def small_disk(tmp_path):
    """A 1 MB tmpfs, or a skip naming why it cannot be mounted here."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    if shutil.which("mount") is None:
        pytest.skip("no `mount` command: cannot simulate a full disk with a small tmpfs")
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs to simulate a full disk (needs root or CAP_SYS_ADMIN): "
                    f"{proc.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


def test_disk_full_mid_run_publishes_nothing_and_keeps_latest(small_disk, tmp_path):
    out = small_disk / "reports"
    run = Run(["fixture_work", "-p", "label=before"], out).start()
    code, stderr = run.wait()
    assert code == 0, stderr
    good, = run_folders(out)
    free = shutil.disk_usage(small_disk).free
    filler = small_disk / "filler"
    filler.write_bytes(b"\0" * max(0, free - 12 * 1024))  # leave room for the lock, not for the reports
    run = Run(["fixture_work", "-p", "label=full"], out).start()
    code, stderr = run.wait()
    assert code == 4, stderr
    assert "No space left" in stderr and "Traceback" not in stderr
    assert_no_stray_processes(run.token)
    assert_published_state(out, latest_expected=good)
    assert run_folders(out) == [good]
    filler.unlink()  # space freed: the next run works and starts clean
    run = Run(["fixture_work", "-p", "label=after"], out).start()
    code, stderr = run.wait()
    assert code == 0, stderr
    assert_published_state(out, latest_expected=max(run_folders(out), key=lambda p: p.name))


def _mirror_with(tmp_path: Path, corrupt: str | None) -> Path:
    """A copy of the data mirror (symlinked folders) with one file's bytes altered."""
    real = Path(os.environ["ANALYSIS_DATA_MIRROR"])
    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for folder in real.iterdir():
        if corrupt and folder.name == corrupt.split("/")[0]:
            shutil.copytree(folder, mirror / folder.name)
        else:
            (mirror / folder.name).symlink_to(folder)
    if corrupt:
        path = mirror / corrupt
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0xFF
        path.write_bytes(bytes(data))
    return mirror


@pytest.mark.data
def test_corrupt_raw_file_stops_the_run_before_rendering(tmp_path):
    from analysis.data import load_catalogue

    dataset = next(d for d in load_catalogue() if d.name == "ascof_trend")
    mirror = _mirror_with(tmp_path, f"{dataset.source.mirror_folder}/{dataset.filename}")
    out = tmp_path / "reports"
    env = {"ANALYSIS_DATA_MIRROR": str(mirror), "ANALYSIS_CACHE_DIR": str(tmp_path / "cache")}
    proc = cli(["run", "council_profile", "-p", "council_code=E08000016", "--out", str(out)], env)
    assert proc.returncode == 2, proc.stderr
    assert "ascof_trend" in proc.stderr and "sha256" in proc.stderr and "Traceback" not in proc.stderr
    assert not out.exists() or not any(out.iterdir())


def _copy_cache(tmp_path: Path) -> Path:
    """A private copy of the test cache, built (and verified) first."""
    from analysis.data.tables import prepare_all

    prepare_all()
    cache = tmp_path / "cache"
    shutil.copytree(os.environ.get("ANALYSIS_CACHE_DIR") or _default_cache(), cache)
    return cache


def _default_cache() -> str:
    from analysis import config

    return str(config.cache_dir())


def _ascof_parquet(cache: Path) -> Path:
    """The ascof table this version reads (a cache used by an earlier version also holds its older key)."""
    from analysis.data import tables

    path = cache / "tidy" / tables._cache_path(tables.TABLES["ascof"]).name
    assert path.is_file(), path
    return path


@pytest.mark.data
def test_truncated_cached_table_is_detected_and_rebuilt(tmp_path):
    cache = _copy_cache(tmp_path)
    parquet = _ascof_parquet(cache)
    parquet.write_bytes(parquet.read_bytes()[:1000])
    env = {"ANALYSIS_CACHE_DIR": str(cache)}
    proc = cli(["data", "verify"], env)
    assert proc.returncode == 2 and "MISMATCH" in proc.stdout and "ascof" in proc.stdout
    proc = cli(["data", "fetch"], env)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Rebuilding" in proc.stderr
    proc = cli(["data", "verify"], env)
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.data
def test_altered_cached_value_is_never_published(tmp_path):
    """Barnsley's control over daily life set to 99.9 in the cached parquet: the report shows the real value."""
    cache = _copy_cache(tmp_path)
    parquet = _ascof_parquet(cache)
    df = pd.read_parquet(parquet)
    barnsley = (df["area_code"] == "E08000016") & (df["concept"] == "control_daily_life")
    true_latest = float(df[barnsley].sort_values("year_end")["value"].iloc[-1])
    df.loc[barnsley, "value"] = 99.9
    df.to_parquet(parquet, index=False)
    env = {"ANALYSIS_CACHE_DIR": str(cache)}
    assert cli(["data", "verify"], env).returncode == 2
    out = tmp_path / "reports"
    run = Run(["fixture_work", "-p", "read_table=true"], out, env_extra=env).start()
    code, stderr = run.wait()
    assert code == 0, stderr
    run_dir, = run_folders(out)
    summary = json.loads((run_dir / "run.json").read_text())
    value = next(h["value"] for h in summary["reports"][0]["headlines"] if h["key"] == "control")
    assert value == true_latest != 99.9
    assert cli(["data", "verify"], env).returncode == 0  # the kernel rebuilt the table


def test_kernel_over_its_memory_limit_fails_clearly_and_is_not_retried(tmp_path):
    out = tmp_path / "reports"
    signals = tmp_path / "signals"
    signals.mkdir()
    run = Run(["fixture_work", "-p", "allocate_mb=4000", "-p", f"signal_dir={signals}"], out,
              env_extra={"ANALYSIS_KERNEL_MEMORY_MB": "3000"}).start()
    code, stderr = run.wait()
    assert code == 3, stderr
    assert "MemoryError" in stderr and "3000 MB" in stderr and "ANALYSIS_KERNEL_MEMORY_MB" in stderr
    assert len(started(signals, "work")) == 1
    assert_no_stray_processes(run.token)
    assert_published_state(out, latest_expected=None)


def test_concurrent_runs_into_one_folder_both_publish_completely(tmp_path):
    out = tmp_path / "reports"
    runs = [Run(["fixture_work", "-p", f"label=run{i}", "-p", "seconds=2"], out).start() for i in range(2)]
    for run in runs:
        code, stderr = run.wait()
        assert code == 0, stderr
    for run in runs:
        assert_no_stray_processes(run.token)
    folders = run_folders(out)
    assert len(folders) == 2 and staging_folders(out) == []
    assert_published_state(out)
    assert (out / "latest").resolve() in [f.resolve() for f in folders]
    labels = {json.loads((f / "run.json").read_text())["reports"][0]["parameters"]["label"] for f in folders}
    assert labels == {"run0", "run1"}
    assert not [p for p in out.iterdir() if p.name.endswith(".lock")]
