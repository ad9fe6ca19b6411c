"""The dask executor on a real cluster: a ``dask scheduler`` and two ``dask worker --nthreads 2``
processes on 127.0.0.1, each worker with its own working folder, temporary folder, data cache and
``--local-directory``, sharing nothing with the client but the network.

The workers are separate processes started with the real command line, as on an HPC or cloud
cluster. Worker 1 starts with an empty data cache (it must fetch and verify the data itself, from
the mirror on "its side"); worker 2 with a copy of an already verified cache (it re-checks it).
The same cluster serves several runs. Every process started here (scheduler, workers, the
workers' kernels) carries a token in its environment and must be gone at the end.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import ROOT
from tests.e2e.test_runner import run_cli
from tests.faults.harness import stray_processes, wait_for

pytestmark = [pytest.mark.e2e, pytest.mark.data]

COUNCILS = ["E08000016", "E06000001", "E09000002", "E06000047"]  # Barnsley, Hartlepool, Barnet, County Durham
START_TIMEOUT = 180  # seconds for the scheduler and workers to come up on a loaded machine


class LoopbackCluster:
    def __init__(self, base: Path, token: str):
        self.base = base
        self.token = token
        self.scheduler_file = base / "scheduler.json"
        self.processes: list[subprocess.Popen] = []

    def env(self, **extra: str) -> dict[str, str]:
        return {**os.environ, "MPLBACKEND": "Agg", "ANALYSIS_FAULT_TOKEN": self.token, **extra}

    def _start(self, args: list[str], cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
        with open(log, "wb") as out:
            proc = subprocess.Popen([sys.executable, "-m", "dask", *args], cwd=cwd, env=env, stdout=out,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(proc)
        return proc

    def start_scheduler(self) -> None:
        self._start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                     "--scheduler-file", str(self.scheduler_file)], self.base, self.env(), self.base / "scheduler.log")
        wait_for(lambda: self.scheduler_file.is_file() and self.scheduler_file.stat().st_size > 0,
                 "the scheduler to write its address", timeout=START_TIMEOUT)

    @property
    def address(self) -> str:
        return json.loads(self.scheduler_file.read_text())["address"]

    def start_worker(self, name: str, cache: Path, **env: str) -> subprocess.Popen:
        """A worker with its own working folder, TMPDIR, --local-directory and data cache."""
        home = self.base / name
        for sub in ("cwd", "tmp", "local"):
            (home / sub).mkdir(parents=True, exist_ok=True)
        worker_env = self.env(TMPDIR=str(home / "tmp"), ANALYSIS_CACHE_DIR=str(cache), **env)
        return self._start(["worker", "--scheduler-file", str(self.scheduler_file), "--nthreads", "2",
                            "--name", name, "--host", "127.0.0.1", "--no-dashboard", "--death-timeout", "60",
                            "--local-directory", str(home / "local")], home / "cwd", worker_env,
                           self.base / f"{name}.log")

    def wait_for_workers(self, n: int) -> list[str]:
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(n, timeout=START_TIMEOUT)
            return sorted(client.scheduler_info(n_workers=-1)["workers"])

    def stop(self, proc: subprocess.Popen, timeout: float = 60) -> None:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                         for p in sorted(self.base.glob("*.log")))


@pytest.fixture(scope="module")
def loopback_cluster():
    import uuid

    from analysis import config
    from analysis.data.tables import prepare_all

    prepare_all()  # the client's own cache, verified, copied for worker 2
    base = Path(tempfile.mkdtemp(prefix="dc"))  # short: kernels' socket paths live under the workers' TMPDIRs
    cluster = LoopbackCluster(base, uuid.uuid4().hex)
    shutil.copytree(config.cache_dir(), base / "cache-w2")
    try:
        cluster.start_scheduler()
        cluster.start_worker("w1", base / "cache-w1")
        cluster.start_worker("w2", base / "cache-w2")
        cluster.workers = cluster.wait_for_workers(2)
        yield cluster
    except BaseException:
        print(cluster.logs())
        raise
    finally:
        for proc in reversed(cluster.processes):
            cluster.stop(proc)
        try:
            wait_for(lambda: not stray_processes(cluster.token), "scheduler, workers and kernels to exit", timeout=90)
        finally:
            for pid in stray_processes(cluster.token):
                os.kill(pid, signal.SIGKILL)
            shutil.rmtree(base, ignore_errors=True)
    assert not stray_processes(cluster.token)


def _kernels(token: str) -> list[int]:
    found = []
    for pid in stray_processes(token):
        try:
            if b"ipykernel" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            pass
    return found


def _numbers(summary: dict) -> dict:
    return {(r["overrides"]["council_code"], h["key"]): h["value"] for r in summary["reports"] for h in r["headlines"]}


def _run(manifest: Path, out: Path, *args: str) -> dict:
    before = {p.name for p in out.iterdir()} if out.exists() else set()
    proc = run_cli(["run", "council_profile", "--batch", str(manifest), "--out", str(out), "--no-progress", *args],
                   timeout=900)
    assert proc.returncode == 0, proc.stderr[-5000:]
    new = [p for p in out.iterdir() if p.name not in before and p.is_dir() and not p.is_symlink()
           and not p.name.startswith(".")]
    assert len(new) == 1, new
    summary = json.loads((new[0] / "run.json").read_text())
    summary["folder"] = str(new[0])
    return summary


def test_a_batch_runs_twice_on_the_same_cluster_with_the_serial_numbers(loopback_cluster, tmp_path):
    from analysis import __version__

    cluster = loopback_cluster
    manifest = tmp_path / "councils.csv"
    manifest.write_text("council_code\n" + "\n".join(COUNCILS) + "\n")
    out = tmp_path / "reports"
    serial = _numbers(_run(manifest, tmp_path / "serial", "--executor", "serial"))
    assert len(serial) >= 2 * len(COUNCILS)

    kernel_counts = []
    for attempt in (1, 2):
        summary = _run(manifest, out, "--executor", "dask", "--scheduler", cluster.address)
        folder = Path(summary["folder"])
        assert summary["status"] == "ok" and summary["counts"] == {"ok": len(COUNCILS), "failed": 0}, attempt
        assert _numbers(summary) == serial, f"run {attempt} differs from the serial executor"
        # The cluster checked: both workers, this package version; each report names its worker.
        checked = summary["config"]["cluster"]
        assert checked["scheduler"] == cluster.address
        assert sorted(w["address"] for w in checked["workers"]) == cluster.workers
        assert {w["package_version"] for w in checked["workers"]} == {__version__}
        assert {w["nthreads"] for w in checked["workers"]} == {2}
        for report in summary["reports"]:
            assert report["worker"].removeprefix("dask-") in cluster.workers
            assert report["package_version"] == __version__
            # Written here, by the client: the report, its notebook and its CSVs.
            html = (folder / report["html"]).read_text()
            assert (folder / report["ipynb"]).is_file()
            assert all((folder / f["path"]).is_file() for f in report["data_files"]) and report["data_files"]
            assert f"dask worker {report['worker'].removeprefix('dask-')}, uk-reform-analysis {__version__}" in html
            # No path of a worker reaches what is published.
            assert str(cluster.base) not in html and str(cluster.base) not in (folder / report["ipynb"]).read_text()
        assert str(cluster.base) not in (folder / "run.json").read_text()
        kernel_counts.append(len(_kernels(cluster.token)))

    # One warm kernel per worker thread at most, kept for the next run (no leak between runs).
    assert 1 <= kernel_counts[0] <= 4 and kernel_counts[1] <= 4, kernel_counts
    # Workers wrote nothing of a report where they run: only the client has the files.
    for name in ("w1", "w2"):
        leftovers = [p for p in (cluster.base / name).rglob("*") if p.suffix in {".html", ".ipynb", ".csv"}]
        assert leftovers == [], leftovers
    # Worker 1 started with an empty cache: it fetched and verified the data itself.
    from analysis.data.catalogue import load_catalogue
    from analysis.data.download import sha256_of

    fetched = {p.name: p for p in (cluster.base / "cache-w1").rglob("*") if p.is_file()}
    for dataset in load_catalogue():
        assert dataset.filename in fetched, f"worker 1 did not fetch {dataset.name}"
        assert sha256_of(fetched[dataset.filename]) == dataset.sha256


@contextmanager
def _extra_worker(cluster: LoopbackCluster, name: str, **env: str):
    before = set(cluster.wait_for_workers(1))
    proc = cluster.start_worker(name, cluster.base / f"cache-{name}", **env)
    try:
        added = wait_for(lambda: set(cluster.wait_for_workers(len(before) + 1)) - before, f"worker {name} to join")
        yield next(iter(added))
    finally:
        cluster.stop(proc)
        cluster.processes.remove(proc)
        wait_for(lambda: len(cluster.wait_for_workers(1)) == len(before), f"worker {name} to leave")


def _other_checkout(cluster: LoopbackCluster) -> Path:
    """A copy of the project's data and notebooks whose evidence register differs by one line."""
    root = cluster.base / "other-checkout"
    shutil.copytree(ROOT / "data", root / "data")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    evidence = sorted((root / "data" / "evidence").glob("*.csv"))[0]
    evidence.write_text(evidence.read_text() + "\n")
    return root


def test_a_worker_with_other_code_stops_the_run_before_anything_renders(loopback_cluster, tmp_path):
    cluster = loopback_cluster
    manifest = tmp_path / "councils.csv"
    manifest.write_text("council_code\nE08000016\n")
    out = tmp_path / "reports"
    with _extra_worker(cluster, "w3", ANALYSIS_PROJECT_ROOT=str(_other_checkout(cluster))) as odd:
        proc = run_cli(["run", "council_profile", "--batch", str(manifest), "--executor", "dask", "--scheduler",
                        cluster.address, "--out", str(out), "--no-progress"], timeout=600)
    assert proc.returncode == 4, proc.stderr[-3000:]
    assert f"worker {odd}" in proc.stderr and "source fingerprint" in proc.stderr, proc.stderr[-3000:]
    for good in cluster.workers:  # the message names only the worker that differs
        assert f"worker {good}:" not in proc.stderr
    assert not out.exists() or not [p for p in out.iterdir() if not p.name.startswith(".")]


def test_a_worker_that_cannot_verify_its_data_stops_the_run_naming_it(loopback_cluster, tmp_path):
    cluster = loopback_cluster
    manifest = tmp_path / "councils.csv"
    manifest.write_text("council_code\nE08000016\n")
    empty_mirror = cluster.base / "empty-mirror"
    empty_mirror.mkdir(exist_ok=True)
    out = tmp_path / "reports"
    with _extra_worker(cluster, "w4", ANALYSIS_DATA_MIRROR=str(empty_mirror)) as bad:
        proc = run_cli(["run", "council_profile", "--batch", str(manifest), "--executor", "dask", "--scheduler",
                        cluster.address, "--out", str(out), "--no-progress"], timeout=600)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert f"Worker {bad} could not fetch and verify the data" in proc.stderr, proc.stderr[-3000:]
    assert str(cluster.base) not in proc.stderr  # the worker's folders are redacted
    assert not out.exists() or not [p for p in out.iterdir() if not p.name.startswith(".")]
