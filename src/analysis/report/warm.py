"""Warm-kernel executors: reports without a kernel start, imports or data load each time.

Each worker process starts one Jupyter kernel, imports the heavy packages and
the ``analysis`` library into it once, then runs report after report on that
kernel. Before every report a hidden first cell restores a clean state:

* the user namespace is wiped (``%reset -f``): no variable survives;
* matplotlib figures are closed and its settings reset to the defaults;
* numpy's and Python's global random generators are reseeded from the OS, as in
  a fresh process; warnings filters and pandas options are restored to their
  warm-up values; the working directory is set for the report;
* the provenance recorder is cleared.

Modules stay imported and loaded tables stay in the library's in-memory cache
(``analysis.data.tables``), which returns copies, so a report cannot alter
another's data. ``tests/e2e/test_executors.py`` checks that nothing leaks.

The same worker logic runs in a local process pool (``processes``) or on
dask.distributed workers (``dask``; a LocalCluster by default).
"""

from __future__ import annotations

import atexit
import copy
import logging
import os
import time
import traceback
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path
from typing import Any

import multiprocessing as mp
import nbformat
from nbformat.v4 import new_code_cell
from tqdm.auto import tqdm

from analysis.report.execution import ExecutionFailed, Job, JobResult, render_job

log = logging.getLogger(__name__)

WARMUP_CODE = """
import matplotlib
matplotlib.use("Agg")
import numpy, pandas, scipy.stats, statsmodels.api, seaborn, matplotlib.pyplot
import analysis, analysis.data, analysis.report, analysis.plots
import analysis.mutuals.analysis, analysis.vfm.analysis, analysis.budgets.analysis
from analysis.report import warm as _warm
_warm.snapshot_kernel_state()
del _warm
get_ipython().reset(new_session=False)
"""

RESET_TEMPLATE = """get_ipython().reset(new_session=False)
from analysis.report import warm as _warm
_warm.restore_kernel_state({cwd!r})
del _warm
"""

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


class WarmKernel:
    """One kernel with the heavy imports loaded, reused for many notebooks."""

    def __init__(self, kernel_name: str = "python3", start_timeout: float = 120, cell_timeout: float = 900):
        self.kernel_name = kernel_name
        self.start_timeout = start_timeout
        self.cell_timeout = cell_timeout
        self.km = None
        self.kc = None
        self.reports = 0
        self._start_with_retry()

    def _start(self) -> None:
        from jupyter_core.utils import run_sync

        from analysis.report.kernels import LocalKernelManager

        env = {**os.environ, "MPLBACKEND": "Agg"}
        self.km = LocalKernelManager(kernel_name=self.kernel_name)
        run_sync(self.km.start_kernel)(env=env)
        self.kc = None
        warm = nbformat.v4.new_notebook(cells=[new_code_cell(WARMUP_CODE)])
        self._execute(warm)

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
        """Engine interface (see analysis.report.execution): parameterise, reset, execute."""
        from nbclient.exceptions import CellExecutionError, DeadKernelError
        from papermill.parameterize import parameterize_notebook

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
        except (DeadKernelError, RuntimeError, TimeoutError) as exc:
            self.restart()
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


# --- process pool ----------------------------------------------------------------------------

_WORKER_KERNEL: WarmKernel | None = None


def _init_worker() -> None:
    global _WORKER_KERNEL
    os.environ.setdefault("MPLBACKEND", "Agg")
    _WORKER_KERNEL = WarmKernel()
    atexit.register(_WORKER_KERNEL.shutdown)


def _worker_render(job: Job) -> JobResult:
    global _WORKER_KERNEL
    if _WORKER_KERNEL is None:
        _init_worker()
    return render_job(job, _WORKER_KERNEL, worker=f"pid-{os.getpid()}")


def _failed(job: Job, exc: BaseException, seconds: float) -> JobResult:
    return JobResult(notebook=job.notebook, title=job.title, slug=job.slug, parameters=job.parameters,
                     overrides=job.overrides, status="failed", seconds=seconds, ipynb=None, html=None,
                     error={"cell_index": None, "ename": type(exc).__name__, "evalue": str(exc),
                            "traceback": "".join(traceback.format_exception(exc))[-4000:]})


def run_processes(jobs: Sequence[Job], workers: int, progress: bool = True) -> list[JobResult]:
    workers = max(1, min(workers, len(jobs)))
    results: dict[int, JobResult] = {}
    ctx = mp.get_context("spawn")
    started = time.perf_counter()
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker)
    try:
        futures = {pool.submit(_worker_render, job): i for i, job in enumerate(jobs)}
        bar = tqdm(total=len(jobs), desc=f"reports ({workers} warm kernels)", unit="report", disable=not progress)
        for future in as_completed(futures):
            i = futures[future]
            try:
                results[i] = future.result()
            except Exception as exc:  # a worker died: the report fails, the others go on
                results[i] = _failed(jobs[i], exc, time.perf_counter() - started)
            bar.update(1)
        bar.close()
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
    return [results[i] for i in range(len(jobs))]


# --- dask ------------------------------------------------------------------------------------

def _dask_render(job: Job) -> JobResult:
    """Runs on a dask worker: one warm kernel per worker process, created on first use."""
    from distributed import get_worker

    worker = get_worker()
    kernel = getattr(worker, "_analysis_warm_kernel", None)
    if kernel is None:
        kernel = WarmKernel()
        worker._analysis_warm_kernel = kernel
        atexit.register(kernel.shutdown)
    return render_job(job, kernel, worker=f"dask-{worker.address}")


class _KernelTeardown:
    """dask WorkerPlugin that shuts the warm kernel down when the worker closes."""

    name = "analysis-warm-kernel"

    def setup(self, worker):
        self.worker = worker

    def teardown(self, worker):
        kernel = getattr(worker, "_analysis_warm_kernel", None)
        if kernel is not None:
            kernel.shutdown()


def run_dask(jobs: Sequence[Job], workers: int, scheduler: str | None, progress: bool = True) -> list[JobResult]:
    from distributed import Client, LocalCluster, as_completed as dask_completed
    from distributed.diagnostics.plugin import WorkerPlugin

    plugin = type("AnalysisKernelTeardown", (_KernelTeardown, WorkerPlugin), {})()
    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=max(1, min(workers, len(jobs))), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        client = Client(cluster)
    try:
        client.register_plugin(plugin)
        futures = client.map(_dask_render, list(jobs), pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        results: dict[int, JobResult] = {}
        bar = tqdm(total=len(jobs), desc="reports (dask)", unit="report", disable=not progress)
        for future in dask_completed(futures):
            i = index[future.key]
            try:
                results[i] = future.result()
            except Exception as exc:
                results[i] = _failed(jobs[i], exc, 0.0)
            bar.update(1)
        bar.close()
        return [results[i] for i in range(len(jobs))]
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
