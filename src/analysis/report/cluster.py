"""Reports on a dask.distributed cluster: workers on other machines, no shared filesystem.

``python -m analysis run NOTEBOOK --batch councils.csv --executor dask --scheduler tcp://host:8786``
(or, without ``--scheduler``, a LocalCluster on this machine). docs/cluster.md says what each
worker needs and how to start workers with dask-jobqueue (SLURM) or on a cloud cluster.

What crosses the network, and what does not:

* **The job carries the notebook and its inputs**, not paths: the notebook's JSON text, its
  parameters, and the bytes of any input file a ``*_path`` parameter names (at most
  ``ANALYSIS_MAX_INPUT_MB``). No path of the client (notebook, staging folder, working folder)
  is sent; a worker renders in a private scratch folder under its own ``--local-directory``.
* **The worker sends the report back as bytes**: the executed notebook, the HTML and its CSVs,
  already redacted of the worker's own paths; the client writes them into its staging folder,
  atomically, as each report arrives. Nothing is written on the worker but scratch files.
* **Each worker fetches and verifies the data itself**, through the catalogue with the same
  sha256 checks (from the pinned URLs, or from ``ANALYSIS_DATA_MIRROR`` on the worker's side,
  into the worker's ``ANALYSIS_CACHE_DIR``), once per run before its first report; corrupt data
  on any worker stops the run before anything renders (exit 2), naming the worker.

Before anything runs, the client checks the cluster: ``client.get_versions(check=True)`` for
dask, distributed, Python and their required packages, then every worker's package version and
*source fingerprint* (a sha256 of the package's source, templates, data catalogue and evidence
register, :func:`analysis.report.environment.source_fingerprint`) against its own. A worker that
differs stops the run (exit 4) with a message naming the worker and both versions. A worker that
joins later is checked at its first report, which fails with the same message instead of
rendering with other code.

**One kernel per worker thread.** A worker started with ``--nthreads 2`` renders two reports at
once, each on its own warm kernel (:class:`analysis.report.warm.WarmKernel`, owned by the thread
that started it: a kernel's sockets belong to one thread's event loop). Kernels stay warm between
runs on a long-lived cluster; every report starts from a reset namespace, and a kernel whose
package source differs from its worker's is replaced. When the worker closes, its kernels are
killed (:class:`KernelTeardown`); if the worker is killed outright, its kernels notice their parent
is gone and exit.

Each report's provenance (and run.json) names the worker that rendered it and that worker's
package version; run.json's ``config.cluster`` lists the scheduler and the workers checked.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tqdm.auto import tqdm

from analysis.errors import AnalysisError, DataError, OutputError, ParameterError
from analysis.report.execution import Job, JobResult

log = logging.getLogger(__name__)

SCHEDULER_CONNECT_TIMEOUT = 10  # seconds
WAIT_FOR_WORKERS_VARIABLE = "ANALYSIS_DASK_WAIT_SECONDS"
WAIT_FOR_WORKERS_DEFAULT = 120  # seconds a run waits for a first worker (a batch job may still be queued)
SCRATCH_FOLDER = "analysis-reports"  # under the worker's --local-directory


class ClusterError(OutputError):
    """The cluster cannot be used: no scheduler at the address, no worker, or workers that run
    another version of the suite or of dask (exit 4, nothing rendered)."""


class VersionMismatch(AnalysisError):
    """A worker runs other code than the client (raised on the worker, names it)."""


# --- identity and the version check ----------------------------------------------------------

def identity() -> dict[str, Any]:
    """What this process runs: package version, source fingerprint, Python."""
    import platform

    from analysis import __version__
    from analysis.report.environment import process_fingerprint

    return {"package_version": __version__, "fingerprint": process_fingerprint(),
            "python": platform.python_version()}


def worker_identity(dask_worker=None) -> dict[str, Any]:
    """Runs on each worker (``client.run``): its identity, threads and process id."""
    out = identity()
    if dask_worker is not None:
        state = getattr(dask_worker, "state", None)
        out["nthreads"] = getattr(state, "nthreads", None) or getattr(dask_worker, "nthreads", None)
    out["pid"] = os.getpid()
    return out


def _differences(expected: dict[str, Any], found: dict[str, Any]) -> list[str]:
    names = {"package_version": "package version", "fingerprint": "source fingerprint", "python": "Python"}
    out = []
    for key, label in names.items():
        if found.get(key) != expected.get(key):
            mine, theirs = expected.get(key), found.get(key)
            if key == "fingerprint":
                mine, theirs = str(mine)[:12], str(theirs)[:12]
            out.append(f"{label} {theirs} (the client has {mine})")
    return out


def check_versions(client, expected: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Raise ClusterError unless dask's own check passes and every worker runs the client's code.

    Returns each worker's identity (address -> dict).
    """
    try:
        client.get_versions(check=True)
    except ValueError as exc:
        raise ClusterError(f"The dask cluster's software differs from this machine's: {exc}. Install the same "
                           "versions on every worker (see docs/cluster.md) and restart them.") from None
    identities = client.run(worker_identity)
    problems = []
    for address, found in sorted(identities.items()):
        differences = _differences(expected, found)
        if differences:
            problems.append(f"  - worker {address}: " + "; ".join(differences))
    if problems:
        raise ClusterError("Workers run another version of uk-reform-analysis than this machine, so their reports "
                           "could differ:\n" + "\n".join(problems) + "\nInstall the same version (the same "
                           "commit) on every worker and restart the workers; docs/cluster.md says how.")
    return identities


# --- on the worker ---------------------------------------------------------------------------

_LOCK = threading.Lock()
_KERNELS: dict[int, Any] = {}  # thread ident -> WarmKernel owned by that thread
_DATA_READY: dict[str, float] = {}  # run id -> when this worker process verified the data for it
_DATA_LOCK = threading.Lock()


def _worker_redactions(scratch: Path) -> list[tuple[str, str]]:
    from analysis.report.redact import machine_paths

    return [(str(scratch), "[scratch]"), *machine_paths()]


def prepare_data(run_id: str, address: str = "") -> float:
    """Fetch and verify every dataset and tidy table on this worker (once per run per worker
    process; concurrent callers wait). Runs in a child process, so the tables do not stay in the
    worker's memory. Raises DataError naming the worker when the data cannot be verified.
    Returns the seconds it took (0 when already done for this run)."""
    with _DATA_LOCK:
        if run_id in _DATA_READY:
            return 0.0
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "analysis.report.cluster", "prepare-data"],
                              capture_output=True, text=True, env={**os.environ, "MPLBACKEND": "Agg"})
        if proc.returncode != 0:
            from analysis.report.redact import Redactor, machine_paths

            detail = Redactor(machine_paths()).text((proc.stderr or proc.stdout).strip()[-1500:])
            raise DataError(f"Worker {address or os.getpid()} could not fetch and verify the data: {detail}")
        _DATA_READY.clear()  # one run at a time is remembered; another run checks again
        _DATA_READY[run_id] = time.time()
        return time.perf_counter() - started


def _reap_kernels_of_finished_threads() -> None:
    from analysis.report import kernels

    alive = {t.ident for t in threading.enumerate()}
    with _LOCK:
        orphans = [(ident, k) for ident, k in _KERNELS.items() if ident not in alive]
        for ident, _ in orphans:
            del _KERNELS[ident]
    for _, kernel in orphans:  # its event loop died with its thread: kill the process directly
        kernels.kill_pid(kernel.pid)


def thread_kernel(expected_fingerprint: str):
    """This thread's warm kernel, started on first use; replaced when it died, or when its code
    differs from this worker's (the package was reinstalled since it started)."""
    from analysis.report.warm import WarmKernel

    _reap_kernels_of_finished_threads()
    ident = threading.get_ident()
    with _LOCK:
        kernel = _KERNELS.get(ident)
    if kernel is not None and kernel.fingerprint not in (None, expected_fingerprint):
        log.warning("The warm kernel runs code %s, this worker %s: starting a new kernel",
                    str(kernel.fingerprint)[:12], expected_fingerprint[:12])
        kernel.shutdown()
        kernel = None
    if kernel is None:
        kernel = WarmKernel()
        with _LOCK:
            _KERNELS[ident] = kernel
    if kernel.fingerprint not in (None, expected_fingerprint):
        raise VersionMismatch("the package on this worker's disk changed since the worker started (its kernels "
                              "load the new code); restart the dask workers")
    return kernel


def kill_worker_kernels() -> None:
    """Kill every kernel of this worker process (the worker is closing)."""
    from analysis.report import kernels

    with _LOCK:
        _KERNELS.clear()
    kernels.kill_all()


def _materialise_inputs(job: Job, folder: Path) -> dict[str, Any]:
    """Write the input files the job carries into ``folder``; the parameters, pointing at them."""
    parameters = dict(job.parameters)
    for name, (filename, content) in job.inputs.items():
        target = folder / "inputs" / name / filename
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        parameters[name] = str(target)
    return parameters


def render_remote(job: Job, expected: dict[str, Any],
                  prepare: bool = True) -> tuple[JobResult, list[tuple[str, bytes]]]:
    """Runs on a dask worker: check the version, make sure the data is verified, render the
    report in memory on this thread's kernel and return it with its files."""
    from distributed import get_worker

    from analysis.report.execution import render

    worker = get_worker()
    label = f"dask-{worker.address}"
    mine = identity()
    differences = _differences(expected, mine)
    if differences:
        raise VersionMismatch(f"Worker {worker.address} runs other code than the client: " + "; ".join(differences)
                              + ". Install the same version on every worker and restart it (docs/cluster.md).")
    if prepare:
        prepare_data(str(job.context.get("run_id", "")), worker.address)
    kernel = thread_kernel(mine["fingerprint"])
    root = Path(worker.local_directory) / SCRATCH_FOLDER
    # The kernel's working folder outlives the report (IPython's reset reads the current folder);
    # the report's own files (inputs, the notebook while it runs) go in a folder removed after it.
    cwd = root / f"kernel-{os.getpid()}-{threading.get_ident()}"
    cwd.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="r-", dir=root) as tmp:
        folder = Path(tmp)
        parameters = _materialise_inputs(job, folder)
        local = dataclasses.replace(job, parameters=parameters, cwd=str(cwd))
        redactions = [(p, Path(p).name) for n, p in parameters.items() if n in job.inputs]
        result, files = render(local, kernel, worker=label, scratch=folder / "executing.ipynb",
                               extra_redactions=redactions + _worker_redactions(root))
    result.parameters = job.parameters
    return result, files


class KernelTeardown:
    """Kills the worker's kernels when the worker closes. Registering the plugin again (every run
    does) removes the previous instance, which must not stop kernels a running report uses: so
    only a closing worker's teardown acts."""

    name = "uk-reform-analysis-kernels"

    def setup(self, worker):
        pass

    def teardown(self, worker):
        from distributed.core import Status

        if worker.status in (Status.running, Status.paused):
            return
        kill_worker_kernels()


# --- on the client ---------------------------------------------------------------------------

def check_scheduler_reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast, with a clear message, when a ``tcp://host:port`` scheduler does not answer."""
    import socket
    from urllib.parse import urlparse

    parsed = urlparse(address if "://" in address else f"tcp://{address}")
    if parsed.scheme not in ("tcp", "tls") or not parsed.hostname or not parsed.port:
        raise ParameterError(f"--scheduler {address!r} should look like tcp://host:8786")
    try:
        with socket.create_connection((parsed.hostname, parsed.port), timeout=timeout):
            pass
    except OSError as exc:
        raise ClusterError(f"Cannot reach the dask scheduler at {address}: {exc.strerror or exc}. Check the "
                           "address and that the scheduler is running, or drop --scheduler to use a local "
                           "cluster.") from None


def wait_seconds() -> float:
    raw = os.environ.get(WAIT_FOR_WORKERS_VARIABLE, "").strip()
    if not raw:
        return WAIT_FOR_WORKERS_DEFAULT
    try:
        value = float(raw)
    except ValueError:
        raise ParameterError(f"{WAIT_FOR_WORKERS_VARIABLE}={raw!r} must be a number of seconds") from None
    if value <= 0:
        raise ParameterError(f"{WAIT_FOR_WORKERS_VARIABLE}={raw!r} must be more than 0")
    return value


def portable(job: Job) -> Job:
    """The job as sent to a worker: the notebook itself and the input files' bytes, no client path.

    Input-file parameters travel as their file names (the worker writes the files into its scratch
    folder and points the parameters there); the client keeps the full job for the result.
    """
    from analysis.parameters import PATH_SUFFIX
    from analysis.report.execution import notebook_source

    inputs: dict[str, tuple[str, bytes]] = {}
    parameters = dict(job.parameters)
    for name, value in job.parameters.items():
        if name.endswith(PATH_SUFFIX) and isinstance(value, str) and value:
            path = Path(value)
            inputs[name] = (path.name, path.read_bytes())
            parameters[name] = path.name
    return dataclasses.replace(job, source="", out_dir="", cwd="", parameters=parameters, redactions=[],
                               notebook_json=notebook_source(job), inputs=inputs)


def _failed(job: Job, ename: str, evalue: str, tb: str = "") -> JobResult:
    return JobResult(notebook=job.notebook, title=job.title, slug=job.slug, parameters=job.parameters,
                     overrides=job.overrides, status="failed", seconds=0.0, ipynb=None, html=None,
                     error={"cell_index": None, "ename": ename, "evalue": evalue, "traceback": tb[-4000:]})


@contextlib.contextmanager
def _connect(scheduler: str | None, workers: int, n_jobs: int):
    from distributed import Client, LocalCluster

    cluster = None
    if scheduler:
        check_scheduler_reachable(scheduler)
        try:
            client = Client(scheduler, timeout=SCHEDULER_CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"Cannot connect to the dask scheduler at {scheduler}: {exc}. Check the address "
                               "and that the scheduler is running, or drop --scheduler to use a local "
                               "cluster.") from None
    else:
        cluster = LocalCluster(n_workers=max(1, min(workers, n_jobs)), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        yield client
    finally:
        with contextlib.suppress(Exception):
            client.close()
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close()


def run_dask(jobs: Sequence[Job], workers: int, scheduler: str | None, progress: bool = True,
             info: dict[str, Any] | None = None, on_result=None) -> list[JobResult]:
    """Render ``jobs`` on a dask cluster and write each report into its job's ``out_dir`` here.

    ``info`` (when given) receives the scheduler and the workers checked, for run.json.
    """
    from distributed import as_completed
    from distributed.diagnostics.plugin import WorkerPlugin

    from analysis.report.execution import Results
    from analysis.report.export import write_files

    if not jobs:
        return []
    expected = identity()
    wait = wait_seconds()
    with _connect(scheduler, workers, len(jobs)) as client:
        try:
            client.wait_for_workers(1, timeout=wait)
        except (TimeoutError, OSError):
            raise ClusterError(f"No dask worker joined the scheduler {scheduler} within {wait:g} s "
                               f"({WAIT_FOR_WORKERS_VARIABLE}). Start workers (docs/cluster.md) and re-run.") from None
        identities = check_versions(client, expected)
        if info is not None:
            info.update({"scheduler": scheduler or "LocalCluster",
                         "workers": [{"address": a, "package_version": i["package_version"],
                                      "fingerprint": i["fingerprint"], "nthreads": i.get("nthreads")}
                                     for a, i in sorted(identities.items())]})
        remote = scheduler is not None  # a LocalCluster shares this machine's data, verified already
        run_id = str(jobs[0].context.get("run_id", ""))
        if remote:
            checks = {client.submit(prepare_data, run_id, address, workers=[address], allow_other_workers=False,
                                    pure=False, key=f"prepare-data-{run_id}-{address}"): address
                      for address in identities}
            for future in as_completed(checks):
                try:
                    future.result()
                except DataError as exc:
                    raise DataError(str(exc)) from None
        plugin = type("AnalysisKernelTeardown", (KernelTeardown, WorkerPlugin), {})()
        client.register_plugin(plugin, name=KernelTeardown.name)

        sent = [portable(job) for job in jobs]
        futures = [client.submit(render_remote, job, expected, remote, pure=False, key=f"report-{run_id}-{i}",
                                 priority=-i)
                   for i, job in enumerate(sent)]
        del sent
        index = {f.key: i for i, f in enumerate(futures)}
        results = Results(on_result)
        bar = tqdm(total=len(jobs), desc="reports (dask)", unit="report", disable=not progress)
        try:
            for future in as_completed(futures):
                i = index[future.key]
                job = jobs[i]
                try:
                    result, files = future.result()
                except Exception as exc:  # the task raised on the worker (version, data), or the worker died
                    results[i] = _failed(job, type(exc).__name__, str(exc), "".join(traceback.format_exception(exc)))
                else:
                    write_files(Path(job.out_dir), files)
                    result.parameters = job.parameters
                    results[i] = result
                future.release()
                bar.update(1)
        finally:
            bar.close()
            client.cancel([f for f in futures if not f.done()])
    return [results[i] for i in range(len(jobs))]


def _prepare_data_main() -> int:
    """``python -m analysis.report.cluster prepare-data``: what :func:`prepare_data` runs."""
    logging.basicConfig(level=logging.WARNING, format="%(message)s", stream=sys.stderr)
    from analysis.data.tables import prepare_all

    try:
        prepare_all()
    except AnalysisError as exc:
        print(f"{type(exc).__name__}: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover - run as a child process by prepare_data
    if sys.argv[1:] != ["prepare-data"]:
        sys.exit("usage: python -m analysis.report.cluster prepare-data")
    sys.exit(_prepare_data_main())
