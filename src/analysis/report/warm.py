"""Warm-kernel executors: reports without a kernel start, imports or data load each time.

Each worker process starts one Jupyter kernel, imports the heavy packages and
the ``analysis`` library into it once, then runs report after report on that
kernel. Before every report a hidden first cell restores a clean state:

* the user namespace is wiped (``%reset -f``): no variable survives;
* matplotlib figures are closed and its settings reset to the defaults;
* numpy's and Python's global random generators are reseeded from the OS, as in
  a fresh process; warnings filters and pandas options are restored to their
  warm-up values; the working directory is set for the report;
* the provenance recorder is cleared;
* garbage is collected and what survives is frozen out of the collector's reach
  (:func:`freeze_heap`), so the next report's collections do not walk the libraries' heap.

Modules stay imported and loaded tables stay in the library's in-memory cache
(``analysis.data.tables``), which returns copies, so a report cannot alter
another's data. ``tests/e2e/test_executors.py`` checks that nothing leaks.

The same warm kernels run in a local process pool (``processes``, see ``WorkerPool``) or on
dask.distributed workers, one per worker thread (``dask``, see ``analysis.report.cluster``).
"""

from __future__ import annotations

import copy
import logging
import multiprocessing as mp
import os
import time
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import nbformat
from nbformat.v4 import new_code_cell
from tqdm.auto import tqdm

from analysis.report.execution import ExecutionFailed, Job, JobResult, Results, render_job

log = logging.getLogger(__name__)

WARMUP_CODE = """
import matplotlib
matplotlib.use("Agg")
import numpy, pandas, scipy.stats, statsmodels.api, seaborn, matplotlib.pyplot
import analysis, analysis.data, analysis.report, analysis.plots
import analysis.mutuals.analysis, analysis.vfm.analysis, analysis.budgets.analysis
from analysis.report import warm as _warm
_warm.snapshot_kernel_state()
print(_warm.FINGERPRINT_MARK, __import__("analysis.report.environment", fromlist=["x"]).process_fingerprint())
del _warm
get_ipython().reset(new_session=False)
__import__("analysis.report.warm", fromlist=["warm"]).freeze_heap()
"""

RESET_TEMPLATE = """get_ipython().reset(new_session=False)
from analysis.report import warm as _warm
_warm.restore_kernel_state({cwd!r})
del _warm
"""

FINGERPRINT_MARK = "analysis-source-fingerprint:"
_KERNEL_STATE: dict[str, Any] = {}


def snapshot_kernel_state() -> None:
    """Runs inside the kernel at warm-up: remember what 'clean' looks like."""
    import warnings

    _KERNEL_STATE["warning_filters"] = list(warnings.filters)


def restore_kernel_state(cwd: str) -> None:
    """Runs inside the kernel before each report: restore the clean state (see the module docstring)."""
    import random
    import warnings

    import matplotlib
    import matplotlib.pyplot as plt
    import numpy as np
    import pandas as pd

    from analysis import provenance

    plt.close("all")
    matplotlib.rcdefaults()
    np.random.seed(None)
    random.seed()
    warnings.filters[:] = _KERNEL_STATE.get("warning_filters", warnings.filters)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pd.reset_option("all")
    provenance.reset()
    os.chdir(cwd)
    freeze_heap()


def freeze_heap() -> None:
    """Collect garbage, then move every surviving object out of the collector's reach (``gc.freeze``).

    The warm kernel's heap is mostly the imported libraries (some 400,000 objects); a full
    collection walks all of them, and IPython's namespace reset runs one before every report
    (0.2-0.3 s). Frozen objects are still freed by reference counting; only cyclic garbage among
    them would be kept, and what is frozen here is what stays alive between reports anyway
    (modules, caches), after the previous report's objects and figures were released and collected.
    """
    import gc

    gc.collect()
    gc.freeze()


class WarmKernel:
    """One kernel with the heavy imports loaded, reused for many notebooks."""

    def __init__(self, kernel_name: str = "python3", start_timeout: float = 120, cell_timeout: float = 900):
        self.kernel_name = kernel_name
        self.start_timeout = start_timeout
        self.cell_timeout = cell_timeout
        self.km = None
        self.kc = None
        self.reports = 0
        self.fingerprint: str | None = None  # of the package source the kernel imported at warm-up
        self._start_with_retry()

    @property
    def pid(self) -> int | None:
        return self.km.kernel_pid if self.km is not None else None

    def _start(self) -> None:
        from jupyter_core.utils import run_sync

        from analysis.report.kernels import LocalKernelManager

        env = {**os.environ, "MPLBACKEND": "Agg"}
        self.km = LocalKernelManager(kernel_name=self.kernel_name)
        run_sync(self.km.start_kernel)(env=env)
        self.kc = None
        warm = nbformat.v4.new_notebook(cells=[new_code_cell(WARMUP_CODE)])
        self._execute(warm)
        printed = "".join(o.get("text", "") for o in warm.cells[0].outputs if o.get("output_type") == "stream")
        self.fingerprint = next((line.split()[-1] for line in printed.splitlines()
                                 if line.startswith(FINGERPRINT_MARK)), None)

    def _start_with_retry(self) -> None:
        for attempt in (1, 2):
            try:
                self._start()
                return
            except Exception as exc:  # a failed kernel start is retried once
                self.shutdown()
                if attempt == 2:
                    raise
                log.warning("Warm kernel failed to start (%s); retrying once", exc)

    def _execute(self, nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
        from nbclient import NotebookClient

        client = NotebookClient(nb, km=self.km, timeout=self.cell_timeout, allow_errors=False,
                                startup_timeout=self.start_timeout, record_timing=False)
        if self.kc is not None:
            client.kc = self.kc
        try:
            client.execute()
        finally:
            self.kc = client.kc
        return nb

    def run(self, nb: nbformat.NotebookNode, parameters: dict[str, Any], cwd: str,
            scratch: Path) -> nbformat.NotebookNode:
        """Engine interface (see analysis.report.execution): parameterise, reset, execute.

        If the previous report killed the kernel, a fresh one is started first. A kernel that dies
        during this report fails this report only (with the memory limit named); it is not re-run.
        """
        from nbclient.exceptions import CellExecutionError, DeadKernelError
        from papermill.parameterize import parameterize_notebook

        from analysis.report.execution import kernel_died

        if self.km is None:
            self._start_with_retry()
        nb = copy.deepcopy(nb)
        # The metadata papermill's own loader adds (scrubbed again before the notebook is saved).
        nb.metadata.setdefault("papermill", {"parameters": {}, "default_parameters": {}, "environment_variables": {}})
        for cell in nb.cells:
            cell.metadata.setdefault("tags", [])
            cell.metadata.setdefault("papermill", {})
        nb = parameterize_notebook(nb, parameters, report_mode=False)
        reset = new_code_cell(RESET_TEMPLATE.format(cwd=cwd))
        reset.metadata["tags"] = ["remove-cell"]
        nb.cells.insert(0, reset)
        try:
            self._execute(nb)
        except CellExecutionError as exc:
            nb.cells.pop(0)
            index = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                          and any(o.get("output_type") == "error" for o in c.get("outputs", []))), None)
            raise ExecutionFailed(nb, {"cell_index": index, "ename": exc.ename, "evalue": exc.evalue,
                                       "traceback": str(exc)[-4000:]}) from None
        except DeadKernelError:
            detail = self.km.exit_description() if self.km is not None else ""
            nb.cells.pop(0)
            running = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.get("outputs")]
            self.shutdown()  # a fresh kernel is started for the next report
            raise ExecutionFailed(nb, kernel_died(running[-1] if running else None, detail)) from None
        except (RuntimeError, TimeoutError) as exc:
            self.shutdown()
            raise ExecutionFailed(None, {"cell_index": None, "ename": type(exc).__name__, "evalue": str(exc),
                                         "traceback": traceback.format_exc()[-4000:]}) from None
        nb.cells.pop(0)
        self.reports += 1
        return nb

    __call__ = run

    def restart(self) -> None:
        self.shutdown()
        self._start_with_retry()

    def shutdown(self) -> None:
        from jupyter_core.utils import run_sync

        try:
            if self.kc is not None:
                self.kc.stop_channels()
            if self.km is not None and run_sync(self.km.is_alive)():
                run_sync(self.km.shutdown_kernel)(now=True)
            if self.km is not None:
                self.km.remove_socket_folder()  # also when the kernel had died
        except Exception:  # shutting down a broken kernel must not mask the original problem
            pass
        self.kc = None
        self.km = None


# --- process pool ----------------------------------------------------------------------------
#
# Not concurrent.futures.ProcessPoolExecutor: when one of its workers dies, the whole pool is
# "broken" and every pending report fails. Here the runner knows which report each worker is
# running, so a worker that dies (killed, out of memory) fails that report only and is replaced.
# Workers ignore SIGINT (the runner coordinates a Ctrl-C), stop their kernel on SIGTERM, and
# watch the runner: if it disappears (kill -9), they kill their kernel and exit.

def _watch_parent(parent_pid: int, interval: float = 0.5) -> None:
    """Worker thread: if the runner dies, kill this worker's kernels and exit at once."""
    from analysis.report import kernels

    while True:
        time.sleep(interval)
        if os.getppid() != parent_pid:
            kernels.kill_all()
            os._exit(1)


def _terminate_worker(signum, frame) -> None:
    raise SystemExit(128 + signum)


def _worker_main(conn, parent_pid: int) -> None:
    """A worker process: start a warm kernel, then render each job sent until told to stop."""
    import signal
    import threading

    from analysis.report import kernels

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _terminate_worker)
    threading.Thread(target=_watch_parent, args=(parent_pid,), daemon=True, name="watch-runner").start()
    os.environ.setdefault("MPLBACKEND", "Agg")
    kernel = None
    try:
        try:
            kernel = WarmKernel()
        except Exception as exc:
            conn.send(("start-failed", {"ename": type(exc).__name__, "evalue": str(exc)}))
            return
        conn.send(("ready", kernel.pid))
        while True:
            try:
                job = conn.recv()
            except EOFError:
                return
            if job is None:
                return
            started = time.perf_counter()
            try:
                result = render_job(job, kernel, worker=f"pid-{os.getpid()}")
            except Exception as exc:  # writing the report failed (disk full...): this report fails
                result = _failed(job, exc, time.perf_counter() - started)
            conn.send(("result", result))
            conn.send(("ready", kernel.pid))
    finally:
        if kernel is not None:
            kernel.shutdown()
        kernels.kill_all()


def _describe_exit(code: int | None) -> str:
    import signal

    if code is None:
        return "still running"
    if code < 0:
        try:
            return f"killed by signal {-code} ({signal.Signals(-code).name})"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def _failed(job: Job, exc: BaseException | None, seconds: float, *, ename: str | None = None,
            evalue: str | None = None) -> JobResult:
    return JobResult(notebook=job.notebook, title=job.title, slug=job.slug, parameters=job.parameters,
                     overrides=job.overrides, status="failed", seconds=round(seconds, 3), ipynb=None, html=None,
                     error={"cell_index": None, "ename": ename or type(exc).__name__,
                            "evalue": evalue if evalue is not None else str(exc),
                            "traceback": "".join(traceback.format_exception(exc))[-4000:] if exc else ""})


class _Worker:
    def __init__(self, ctx):
        parent_conn, child_conn = ctx.Pipe()
        self.conn = parent_conn
        self.process = ctx.Process(target=_worker_main, args=(child_conn, os.getpid()), daemon=True,
                                   name="analysis-report-worker")
        self.process.start()
        child_conn.close()
        self.ready = False
        self.started = False  # has sent "ready" at least once
        self.kernel_pid: int | None = None
        self.job: int | None = None
        self.job_started = 0.0


class WorkerPool:
    """``workers`` processes, each with a warm kernel; one job at a time per worker."""

    def __init__(self, workers: int):
        self.ctx = mp.get_context("spawn")
        self.size = workers
        self.workers: list[_Worker] = []

    def run(self, jobs: Sequence[Job], progress: bool = True, on_result=None) -> list[JobResult]:
        from multiprocessing.connection import wait

        results = Results(on_result)
        pending = list(range(len(jobs)))[::-1]  # pop() from the end = in order
        start_failures: list[dict[str, str]] = []  # since a kernel last became ready
        self.workers = [_Worker(self.ctx) for _ in range(self.size)]
        bar = tqdm(total=len(jobs), desc=f"reports ({self.size} warm kernels)", unit="report", disable=not progress)
        try:
            while len(results) < len(jobs):
                for worker in self.workers:
                    if worker.ready and worker.job is None and pending:
                        worker.job = pending.pop()
                        worker.job_started = time.perf_counter()
                        worker.ready = False
                        worker.conn.send(jobs[worker.job])
                waitables = {}
                for worker in self.workers:
                    waitables[worker.conn] = worker
                    waitables[worker.process.sentinel] = worker
                for handle in wait(list(waitables), timeout=1.0):
                    worker = waitables[handle]
                    if worker not in self.workers:
                        continue  # already replaced in this round
                    if handle is worker.conn:
                        try:
                            kind, payload = worker.conn.recv()
                        except (EOFError, OSError):
                            kind, payload = "died", None
                    else:
                        kind, payload = "died", None
                        while worker.conn.poll():  # a result sent just before exiting still counts
                            try:
                                kind, payload = worker.conn.recv()
                            except (EOFError, OSError):
                                kind, payload = "died", None
                                break
                            if kind == "result":
                                break
                    if kind == "ready":
                        worker.ready, worker.kernel_pid, worker.started = True, payload, True
                        start_failures.clear()
                    elif kind == "result":
                        results[worker.job] = payload
                        worker.job = None
                        bar.update(1)
                    elif kind in ("start-failed", "died"):
                        if not worker.started:  # it never got a kernel going
                            start_failures.append(payload or {"ename": "WorkerDied",
                                                              "evalue": "a worker process died while starting"})
                        if len(start_failures) >= 2 * self.size:  # it is not going to work: stop trying
                            self._fail_pending(pending, jobs, results, start_failures[-1], bar)
                        self._replace(worker, jobs, results, bar)
            bar.close()
        finally:
            self.close()
        return [results[i] for i in range(len(jobs))]

    def _replace(self, worker: _Worker, jobs, results, bar) -> None:
        """A worker exited: fail the report it was running (only that one) and start a new worker."""
        worker.process.join(timeout=5)
        code = worker.process.exitcode
        if worker.job is not None and worker.job not in results:
            how = _describe_exit(code)
            results[worker.job] = _failed(
                jobs[worker.job], None, time.perf_counter() - worker.job_started, ename="WorkerDied",
                evalue=f"The worker process rendering this report died ({how}); the other reports were not "
                       "affected and this one was not retried. A worker killed by SIGKILL is often the "
                       "out-of-memory killer.")
            bar.update(1)
        self._kill(worker)
        self.workers.remove(worker)
        if len(results) < len(jobs):
            self.workers.append(_Worker(self.ctx))

    def _fail_pending(self, pending, jobs, results, info, bar) -> None:
        from analysis.report.kernels import memory_limit_note

        while pending:
            i = pending.pop()
            results[i] = _failed(jobs[i], None, 0.0, ename=info.get("ename", "KernelStartFailed"),
                                 evalue=f"No worker could start a kernel: {info.get('evalue', '')}. "
                                        f"{memory_limit_note()}")
            bar.update(1)

    @staticmethod
    def _kill(worker: _Worker) -> None:
        import signal

        if worker.process.is_alive():
            worker.process.kill()
            worker.process.join(timeout=5)
        if worker.kernel_pid:  # the worker could not stop its kernel itself
            try:
                os.kill(worker.kernel_pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        worker.conn.close()

    def close(self, grace: float = 10.0) -> None:
        """Stop every worker and its kernel: ask (SIGTERM), wait up to ``grace`` seconds, then kill."""
        import signal

        for worker in self.workers:
            if worker.process.is_alive():
                try:
                    os.kill(worker.process.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + grace
        for worker in self.workers:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            self._kill(worker)
        self.workers = []


def run_processes(jobs: Sequence[Job], workers: int, progress: bool = True, on_result=None) -> list[JobResult]:
    workers = max(1, min(workers, len(jobs)))
    return WorkerPool(workers).run(jobs, progress, on_result)
