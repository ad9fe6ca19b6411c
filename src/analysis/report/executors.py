"""Executors: how the runner spreads reports over kernels.

``serial``
    One report after another, each in a fresh papermill kernel. Simple and slow.
``processes`` (default for batches)
    ``workers`` processes (default: one per core), each holding one warm kernel
    with the heavy imports loaded; successive reports run in a clean namespace
    on that kernel (see ``analysis.report.warm``). Removes per-report start-up.
``dask``
    Warm kernels on a dask.distributed cluster, one per worker thread: a
    LocalCluster by default, or an existing scheduler given by address, whose
    workers may be other machines with no shared filesystem (see
    ``analysis.report.cluster``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Sequence
from typing import Any

from tqdm.auto import tqdm

from analysis.errors import ParameterError
from analysis.report.execution import Job, JobResult, Results, papermill_engine, render_job

log = logging.getLogger(__name__)

EXECUTORS = ("serial", "processes", "dask")


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))


def execute(jobs: Sequence[Job], *, executor: str = "serial", workers: int | None = None,
            scheduler: str | None = None, progress: bool = True, info: dict[str, Any] | None = None,
            on_result: Callable[[JobResult], None] | None = None) -> list[JobResult]:
    """Render ``jobs`` with ``executor``; every report's files end up in its job's ``out_dir``.

    ``info`` (when given) receives facts about where the reports ran (the dask cluster's scheduler
    and workers) for run.json; ``on_result`` is called with each report's result as it arrives.
    """
    if executor not in EXECUTORS:
        raise ParameterError(f"Unknown executor {executor!r}; choose from {', '.join(EXECUTORS)}")
    if workers is not None and workers < 1:
        raise ParameterError("--workers must be at least 1")
    if executor == "serial":
        return _serial(jobs, progress, on_result)
    if executor == "processes":
        from analysis.report import warm

        return warm.run_processes(jobs, workers or default_workers(), progress, on_result=on_result)
    from analysis.report import cluster

    return cluster.run_dask(jobs, workers or default_workers(), scheduler, progress, info=info, on_result=on_result)


def _serial(jobs: Sequence[Job], progress: bool, on_result=None) -> list[JobResult]:
    engine = papermill_engine(progress=progress)
    results = Results(on_result)
    bar = tqdm(jobs, desc="reports", unit="report", disable=not progress)
    for i, job in enumerate(bar):
        bar.set_postfix_str(job.slug[:40])
        results[i] = render_job(job, engine, worker="serial")
    return [results[i] for i in range(len(jobs))]
