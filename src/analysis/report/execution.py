"""Render one report: execute the notebook with its parameters, write .ipynb and .html.

The unit of work shared by every executor (serial, processes, dask) is
:func:`render`: execute, then render the executed notebook, the HTML and its CSVs
*in memory*. :func:`render_job` writes them into the run's staging folder on this
machine; a dask worker on another machine sends them back instead, and the
client writes them (``analysis.report.cluster``). Executing a notebook is
delegated to an *engine* (a callable); the default engine is papermill with a
fresh kernel per report. Every file is written atomically, and only a report
that ran to the end gets an HTML file: a failed report is listed in the index
with its error instead. The executed notebook keeps its outputs but not its
images (the HTML has them) unless the job asks for them.
"""

from __future__ import annotations

import copy
import errno
import functools
import hashlib
import json
import logging
import re
import time
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import nbformat

from analysis.report.export import provenance_payload, report_files, scrub_papermill, strip_images, write_files

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    """One report to render. Only JSON-safe, picklable values: it crosses process boundaries."""

    notebook: str
    title: str
    source: str  # path of the notebook to execute
    parameters: dict[str, Any]  # full validated parameter set (JSON-safe)
    overrides: dict[str, Any]  # what differs from the defaults (for names and the index)
    slug: str
    out_dir: str
    cwd: str
    context: dict[str, Any] = field(default_factory=dict)  # run-level facts for the provenance block
    redactions: list[list[str]] = field(default_factory=list)  # [path, placeholder]: see analysis.report.redact
    keep_notebook_images: bool = False  # the executed .ipynb keeps its images (the HTML always has them)
    notebook_json: str | None = None  # the notebook itself, for workers that cannot read ``source``
    inputs: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # parameter -> (file name, content)


@dataclass
class JobResult:
    notebook: str
    title: str
    slug: str
    parameters: dict[str, Any]
    overrides: dict[str, Any]
    status: str  # ok | failed
    seconds: float
    ipynb: str | None
    html: str | None
    error: dict[str, Any] | None = None
    headlines: list[dict[str, Any]] = field(default_factory=list)
    datasets: list[str] = field(default_factory=list)
    evidence_cited: int = 0
    simulated: list[str] = field(default_factory=list)
    worker: str = ""
    subject: str | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)  # key findings, for the briefing index
    verdicts: list[dict[str, Any]] = field(default_factory=list)  # claim id and verdict per judged claim
    data_files: list[dict[str, Any]] = field(default_factory=list)  # the CSVs beside the report (relative)
    package_version: str = ""  # of the process that rendered the report
    notebook_sha256: str = ""  # of the notebook source that was executed

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class ExecutionFailed(Exception):
    """A cell raised. Carries the partially executed notebook and what failed."""

    def __init__(self, notebook: nbformat.NotebookNode | None, info: dict[str, Any]):
        super().__init__(f"{info.get('ename')}: {info.get('evalue')}")
        self.notebook = notebook
        self.info = info


Engine = Callable[[nbformat.NotebookNode, dict[str, Any], str, Path], nbformat.NotebookNode]


def kernel_died(cell_index: int | None, detail: str = "") -> dict[str, Any]:
    """The error recorded when a report's kernel dies mid-run (memory limit, OOM killer, a kill)."""
    from analysis.report.kernels import memory_limit_note

    how = f" ({detail})" if detail else ""
    return {"cell_index": cell_index, "ename": "DeadKernelError",
            "evalue": f"The kernel running this report died{how}; the report was not retried. "
                      f"A kernel that runs out of memory dies this way. {memory_limit_note()}",
            "traceback": ""}


def _executed_up_to(nb: nbformat.NotebookNode | None) -> int | None:
    """Index of the last code cell that started executing (papermill marks it), if any."""
    if nb is None:
        return None
    started = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
               and c.get("metadata", {}).get("papermill", {}).get("status") in {"running", "completed", "failed"}]
    return started[-1] if started else None


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}


def _read_partial(scratch: Path) -> nbformat.NotebookNode | None:
    """The partially executed notebook papermill saved, or None if it is missing or half-written."""
    try:
        return nbformat.read(str(scratch), as_version=4) if scratch.exists() else None
    except Exception:  # a notebook cut short (disk full, killed mid-write) is not worth reporting
        return None


def papermill_engine(progress: bool = False) -> Engine:
    """Execute with papermill in a fresh kernel; retry once only if the kernel failed to *start*.

    A kernel that dies while running the notebook (out of memory, killed) fails the report with
    a message naming the memory limit; re-running the whole notebook would only repeat it.
    """

    def execute(nb: nbformat.NotebookNode, parameters: dict[str, Any], cwd: str,
                scratch: Path) -> nbformat.NotebookNode:
        import papermill
        from nbclient.exceptions import DeadKernelError
        from papermill.exceptions import PapermillExecutionError

        from analysis.report.kernels import LocalKernelManager

        for attempt in (1, 2):
            try:
                return papermill.execute_notebook(
                    nb, str(scratch), parameters=parameters, kernel_name="python3", progress_bar=progress,
                    cwd=cwd, request_save_on_cell_execute=False, log_output=False,
                    kernel_manager_class=LocalKernelManager)
            except PapermillExecutionError as exc:
                partial = _read_partial(scratch)
                raise ExecutionFailed(partial, {"cell_index": exc.cell_index, "ename": exc.ename,
                                                "evalue": exc.evalue,
                                                "traceback": "\n".join(exc.traceback)[-4000:]}) from None
            except DeadKernelError:
                partial = _read_partial(scratch)
                raise ExecutionFailed(partial, kernel_died(_executed_up_to(partial))) from None
            except Exception as exc:  # kernel start failures and the like
                if isinstance(exc, OSError) and exc.errno in _DISK_ERRORS:
                    raise  # the disk is full or read-only: the runner stops the run (exit 4)
                partial = _read_partial(scratch)
                if _executed_up_to(partial) is not None:  # it had started running: not a start failure
                    raise ExecutionFailed(partial, {"cell_index": _executed_up_to(partial),
                                                    "ename": type(exc).__name__, "evalue": str(exc),
                                                    "traceback": traceback.format_exc()[-4000:]}) from None
                if attempt == 1:
                    log.warning("Kernel failed to start (%s); retrying once", exc)
                    continue
                from analysis.report.kernels import memory_limit_note

                raise ExecutionFailed(None, {"cell_index": None, "ename": type(exc).__name__,
                                             "evalue": f"The kernel failed to start twice: {exc}. "
                                                       f"{memory_limit_note()}",
                                             "traceback": traceback.format_exc()[-4000:]}) from None
        raise AssertionError("unreachable")

    return execute


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@functools.lru_cache(maxsize=16)
def _parse_notebook(text: str) -> nbformat.NotebookNode:
    return nbformat.reads(text, as_version=4)


def notebook_source(job: Job) -> str:
    """The notebook's JSON text: carried by the job (remote workers) or read from ``job.source``."""
    if job.notebook_json is not None:
        return job.notebook_json
    return Path(job.source).read_text(encoding="utf-8")


def load_notebook(text: str) -> nbformat.NotebookNode:
    """A private copy of the parsed notebook (parsed and validated once per distinct text)."""
    return copy.deepcopy(_parse_notebook(text))


def worker_label(worker: str) -> str:
    """How the provenance block names the process that rendered a report."""
    if worker.startswith("dask-"):
        return f"dask worker {worker.removeprefix('dask-')}"
    if worker.startswith("pid-"):
        return f"local worker process {worker.removeprefix('pid-')}"
    return f"local ({worker})" if worker else "local"


def render(job: Job, engine: Engine, *, worker: str = "", scratch: Path,
           extra_redactions: list[tuple[str, str]] | None = None) -> tuple[JobResult, list[tuple[str, bytes]]]:
    """Execute ``job`` with ``engine`` and render its files in memory; write nothing but ``scratch``.

    Returns the result and the files to publish: (path relative to the run folder, content), in
    the order they must be written (see :func:`analysis.report.export.report_files`). Every file
    is redacted with the job's redactions plus ``extra_redactions`` (the rendering machine's own
    folders, when that is not the machine that publishes). ``scratch`` is where a papermill engine
    keeps the notebook while it runs (removed afterwards).
    """
    from analysis import __version__
    from analysis.report.redact import Redactor

    started = time.perf_counter()
    redactor = Redactor.from_pairs([*job.redactions, *(extra_redactions or [])])
    source = notebook_source(job)
    nb = load_notebook(source)
    error = None
    try:
        executed = engine(nb, job.parameters, job.cwd, scratch)
        status = "ok"
    except ExecutionFailed as exc:
        executed, error, status = exc.notebook, dict(exc.info), "failed"
        if error.get("ename") == "MemoryError":
            from analysis.report.kernels import memory_limit_note

            error["evalue"] = f"{error.get('evalue') or ''} {memory_limit_note()}".strip()
    finally:
        scratch.unlink(missing_ok=True)

    payload = (provenance_payload(executed) if executed is not None else None) or {}
    if executed is not None:
        scrub_papermill(executed)

    if status == "ok" and not payload:
        status, error = "failed", {"cell_index": None, "ename": "ProvenanceMissing",
                                   "evalue": "the notebook finished without calling report.finish(params)",
                                   "traceback": ""}
    html_name = None
    data_files: list[dict[str, Any]] = []
    report: list[tuple[str, bytes]] = []
    rendered_by = {"worker": worker_label(worker), "package_version": __version__,
                   "notebook_sha256": hashlib.sha256(source.encode("utf-8")).hexdigest()}
    if status == "ok":
        prov = {**job.context, "notebook": job.notebook, "slug": job.slug,
                "parameters": payload.get("parameters", job.parameters),
                "datasets": payload.get("datasets", []), "evidence": payload.get("evidence", []),
                "simulated": payload.get("simulated", []), "finished_at": now_iso(),
                "seconds": time.perf_counter() - started, "rendered_by": rendered_by,
                "notebook_images": job.keep_notebook_images}
        report, html_name, data_files = report_files(job.slug, executed, prov, job.title, payload.get("subject"),
                                                      redact=redactor.text)
    files: list[tuple[str, bytes]] = []  # the executed notebook first (also for a failed report), then the report
    ipynb_name = None
    if executed is not None:
        if not job.keep_notebook_images:
            strip_images(executed)  # after the HTML was rendered from it
        ipynb_name = f"{job.slug}.ipynb"
        files.append((ipynb_name, redactor.text(nbformat.writes(executed)).encode("utf-8")))
    files += report
    if error:  # plain text for run.json and the index: no terminal colour codes, no local paths
        error = redactor.value({k: _ANSI.sub("", v) if isinstance(v, str) else v for k, v in error.items()})
    result = JobResult(
        notebook=job.notebook, title=job.title, slug=job.slug, parameters=job.parameters, overrides=job.overrides,
        status=status, seconds=round(time.perf_counter() - started, 3), ipynb=ipynb_name, html=html_name,
        error=error, headlines=payload.get("headlines", []),
        datasets=[d.get("name", "") for d in payload.get("datasets", [])],
        evidence_cited=len(payload.get("evidence", [])), simulated=payload.get("simulated", []), worker=worker,
        subject=payload.get("subject"), findings=payload.get("findings", []), verdicts=payload.get("verdicts", []),
        data_files=data_files, package_version=__version__, notebook_sha256=rendered_by["notebook_sha256"])
    return result, files


def render_job(job: Job, engine: Engine, worker: str = "") -> JobResult:
    """Execute ``job`` with ``engine`` and write its outputs into ``job.out_dir`` (on this machine)."""
    out_dir = Path(job.out_dir)
    if not out_dir.is_dir():  # the run was stopped and its staging folder removed: never recreate it
        raise FileNotFoundError(f"staging folder {out_dir} is gone; the run was stopped")
    result, files = render(job, engine, worker=worker, scratch=out_dir / f".{job.slug}.executing.ipynb")
    write_files(out_dir, files)
    return result


class Results(dict):
    """Results by job index that announce each one as it arrives (``on_result``, e.g. the run log)."""

    def __init__(self, on_result: Callable[[JobResult], None] | None = None):
        super().__init__()
        self.on_result = on_result

    def __setitem__(self, index: int, result: JobResult) -> None:
        super().__setitem__(index, result)
        if self.on_result is not None:
            try:
                self.on_result(result)
            except Exception:  # a log that cannot be written must not fail the run
                log.exception("Could not record the outcome of %s", result.slug)


def result_from_json(text: str) -> JobResult:
    return JobResult(**json.loads(text))
