"""The report runner behind ``python -m analysis run``.

1. **Plan**: resolve notebooks and parameter sets (defaults, ``-p``, ``-f`` or a
   batch manifest) and validate every set before anything runs. One bad
   parameter anywhere stops the run with a message and nothing is written.
2. **Check data**: fetch and hash-check every dataset and cached table the
   notebooks read; corrupt data stops the run here (exit 2), before rendering.
3. **Execute**: render each report with the chosen executor into a hidden
   staging folder ``reports/.partial-<run-id>``, locked for the run's lifetime.
4. **Publish**: write ``run.json`` and ``index.html``, rename the staging folder
   to ``reports/<run-id>`` and point ``reports/latest`` at it, unless every
   report failed (the run folder is kept for diagnosis; ``latest`` stays on the
   last good run).

SIGINT, SIGTERM and SIGHUP stop the workers and kernels and remove the staging
folder before the process exits (codes 130, 143, 129). A run killed outright
(SIGKILL, power loss) leaves its staging folder behind, unlocked: the next run
into the same folder removes it (:func:`clean_stale_staging`). Nothing a run
publishes names this machine's paths (see ``analysis.report.redact``).
"""

from __future__ import annotations

import contextlib
import csv
import errno
import fcntl
import hashlib
import json
import logging
import os
import re
import secrets
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analysis import atomic, config, limits
from analysis.errors import OutputError, ParameterError, RunInterrupted
from analysis.report import environment, redact
from analysis.report.execution import Job, JobResult, now_iso
from analysis.report.export import render_index
from analysis.report.params import (
    PATH_SUFFIX,
    default_notebooks,
    field_defaults,
    get_spec,
    load_yaml,
    read_params_file,
    resolve_relative_paths,
    validate_parameters,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PlannedReport:
    notebook: str
    parameters: dict[str, Any]
    overrides: dict[str, Any]
    slug: str


def _slug_value(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ""))
    return re.sub(r"[^A-Za-z0-9._-]+", "-", str(text)).strip("-") or "x"


def slug_for(notebook: str, overrides: dict[str, Any]) -> str:
    """``notebook`` or ``notebook__name-value__...``; long slugs are shortened with a hash."""
    if not overrides:
        return notebook
    parts = [f"{_slug_value(k)}-{_slug_value(v)}" for k, v in sorted(overrides.items())]
    slug = f"{notebook}__{'__'.join(parts)}"
    if len(slug) > 100:
        digest = hashlib.sha256(slug.encode()).hexdigest()[:10]
        slug = f"{slug[:88]}_{digest}"
    return slug


def plan(notebook_names: list[str] | None, overrides: dict[str, Any] | None = None,
         params_file: Path | None = None, batch_rows: list[dict[str, Any]] | None = None,
         warnings: list[str] | None = None) -> list[PlannedReport]:
    """Validate every report's parameters; raise ParameterError before anything runs.

    Relative input-file paths are resolved against the current directory (where the command was
    run), not the notebooks' folder. Batch rows that give the same parameters are rendered once,
    with a warning (logged, and appended to ``warnings`` when given).
    """
    limits.check_all()
    names = notebook_names or sorted(default_notebooks())
    base = dict(read_params_file(params_file)) if params_file else {}
    base.update(overrides or {})
    if (base or batch_rows) and not notebook_names:
        raise ParameterError("Parameters (-p, -f or --batch) need a notebook: "
                             "python -m analysis run NOTEBOOK -p name=value")
    if batch_rows is not None and len(names) != 1:
        raise ParameterError("--batch runs one notebook over many parameter sets; name exactly one notebook")
    row_sets = batch_rows if batch_rows is not None else [{}]
    planned: list[PlannedReport] = []
    errors: list[str] = []
    for name in names:
        spec = get_spec(name)
        defaults = field_defaults(spec.parameters)
        first_row: dict[str, int] = {}
        for i, row in enumerate(row_sets, start=1):
            given = {**base, **row}
            values = resolve_relative_paths(spec.name, given)
            try:
                validated = validate_parameters(spec.name, values).as_papermill()
            except ParameterError as exc:
                where = f"batch row {i}: " if batch_rows is not None else ""
                relative = [f"{k}={given[k]}" for k in values if values[k] != given.get(k)]
                note = (f"\n  (relative paths are resolved against the directory the command was run from, "
                        f"{Path.cwd()}: {', '.join(relative)})" if relative else "")
                errors.append(where + str(exc) + note)
                continue
            changed = {k: v for k, v in validated.items() if k in values and v != defaults.get(k)}
            fingerprint = json.dumps(validated, sort_keys=True, default=str)
            if fingerprint in first_row:
                message = (f"batch row {i} gives the same parameters as row {first_row[fingerprint]}; "
                           "it is rendered once")
                log.warning(message)
                if warnings is not None:
                    warnings.append(message)
                continue
            first_row[fingerprint] = i
            named = {k: Path(v).name if k.endswith(PATH_SUFFIX) and isinstance(v, str) else v
                     for k, v in changed.items()}  # file names, not this machine's folders
            planned.append(PlannedReport(spec.name, validated, changed, slug_for(spec.name, named)))
    if errors:
        raise ParameterError("\n".join(errors))
    seen: dict[str, int] = {}
    unique = []
    for report in planned:
        count = seen.get(report.slug, 0)
        seen[report.slug] = count + 1
        slug = report.slug if count == 0 else f"{report.slug}-{count + 1}"
        unique.append(PlannedReport(report.notebook, report.parameters, report.overrides, slug))
    return unique


def read_batch_manifest(path: Path) -> list[dict[str, Any]]:
    """A CSV with one row per report; columns are parameter names, cells YAML scalars."""
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"Batch manifest not found: {path}")
    # utf-8-sig: Excel's "CSV UTF-8" starts with a byte-order mark, which is not part of the first name.
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            raise ParameterError(f"Batch manifest {path} has no header row")
        names = [n.strip() for n in reader.fieldnames]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise ParameterError(f"Batch manifest {path}: column(s) {', '.join(repeated)} appear more than once")
        rows = []
        for line, raw in enumerate(reader, start=2):
            if None in raw:
                raise ParameterError(f"Batch manifest {path} line {line}: more cells than header columns")
            row = {}
            for key, cell in raw.items():
                if cell is None or cell == "":
                    continue
                row[key.strip()] = load_yaml(cell, f"Batch manifest {path} line {line}, column {key}")
            rows.append(row)
    if not rows:
        raise ParameterError(f"Batch manifest {path} has no rows")
    return rows


def new_run_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


def _summarise(run_id: str, started: str, seconds: float, results: list[JobResult], env: dict,
               run_config: dict, status: str) -> dict[str, Any]:
    counts = {"ok": sum(r.status == "ok" for r in results), "failed": sum(r.status != "ok" for r in results)}
    return {"run_id": run_id, "status": status, "started_at": started, "finished_at": now_iso(),
            "seconds": round(seconds, 3), "counts": counts, "environment": env, "config": run_config,
            "reports": [r.as_dict() for r in results]}


# --- staging folders, locks and signals -------------------------------------------------------

STAGING_PREFIX = ".partial-"


def _lock_path(staging: Path) -> Path:
    return staging.with_name(staging.name + ".lock")


def _create_locked(lock: Path) -> int:
    """Create ``lock`` already locked (flock), so no other run ever sees it unlocked while we live.

    The lock is released by the kernel when this process exits, however it exits (even SIGKILL):
    an unlocked lock file means its run is dead.
    """
    tmp = lock.with_name(f"{lock.name}.{os.getpid()}.{secrets.token_hex(3)}")
    fd = os.open(tmp, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, f"{os.getpid()}\n".encode())
        os.replace(tmp, lock)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return fd


def clean_stale_staging(out_root: Path) -> list[str]:
    """Remove staging folders (and lock files) left by runs that are no longer alive.

    A run holds an exclusive lock on ``.partial-<id>.lock`` while it runs; if the lock can be
    taken, its run is dead (killed, crashed, power lost) and its staging folder is removed. A
    staging folder with no lock file at all comes from a run that died before locking, or from an
    older version of the suite, and is removed too. Live runs are never touched.
    """
    removed = []
    if not out_root.is_dir():
        return removed
    for entry in sorted(out_root.iterdir()):
        name = entry.name
        if not name.startswith(STAGING_PREFIX):
            continue
        if name.endswith(".lock"):
            staging = entry.with_name(name.removesuffix(".lock"))
            lock = entry
        elif entry.is_dir() and not _lock_path(entry).exists():
            staging, lock = entry, None
        else:
            continue  # a staging folder with a lock file: decided when its lock file is visited
        if lock is not None:
            try:
                fd = os.open(lock, os.O_RDWR | os.O_CLOEXEC)
            except FileNotFoundError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue  # a live run
            try:
                shutil.rmtree(staging, ignore_errors=True)
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()
            finally:
                os.close(fd)
        else:
            if time.time() - entry.stat().st_mtime < 5:
                continue  # perhaps a run between creating its lock and its folder: next time
            shutil.rmtree(staging, ignore_errors=True)
        removed.append(staging.name)
        log.warning("Removed %s, left by a run that was killed before it finished", staging.name)
    for entry in out_root.glob(".latest.tmp-*"):  # a symlink swap cut short by a kill
        pid = entry.name.rsplit("-", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            with contextlib.suppress(OSError):
                entry.unlink()
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """Turn SIGINT, SIGTERM and SIGHUP into ``RunInterrupted`` in the main thread, so the run's
    ``finally`` blocks stop workers and kernels and remove staging. Further signals during that
    clean-up are noted, not raised (a second Ctrl-C must not cut the clean-up short)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    state = {"raised": False}

    def handler(signum, frame):
        if state["raised"]:
            log.warning("Received %s again; still stopping workers and removing the staging folder",
                        signal.Signals(signum).name)
            return
        state["raised"] = True
        raise RunInterrupted(signum)

    previous = {s: signal.signal(s, handler) for s in _HANDLED_SIGNALS}
    try:
        yield
    except RunInterrupted:
        state["raised"] = True
        raise
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


def _prepare_out_root(out_root: Path) -> None:
    try:
        out_root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"Cannot create the reports folder {out_root}: {exc.strerror or exc}. "
                          "Choose another with --out or ANALYSIS_REPORTS_DIR.") from None
    if not out_root.is_dir():
        raise OutputError(f"The reports folder {out_root} is not a folder. Choose another with --out.")


def _disk_full(results: list[JobResult]) -> bool:
    return any(r.error and f"[Errno {errno.ENOSPC}]" in str(r.error.get("evalue", "")) for r in results)


def _check_data(planned: list[PlannedReport]) -> None:
    """Fetch and verify the data the notebooks read (raises DataError: exit 2, nothing rendered)."""
    if any(get_spec(p.notebook).needs_data for p in planned):
        from analysis.data.tables import prepare_all

        prepare_all()


def run(planned: list[PlannedReport], *, out_root: Path | None = None, executor: str = "serial",
        workers: int | None = None, scheduler: str | None = None, progress: bool = True,
        run_config: dict[str, Any] | None = None, keep_notebook_images: bool = False) -> dict[str, Any]:
    """Render ``planned`` reports and publish the run. Returns the run summary (run.json).

    Raises OutputError when the reports folder cannot be written (nothing is published),
    RunInterrupted on SIGINT/SIGTERM/SIGHUP (workers and kernels stopped, staging removed).
    """
    from analysis.report import executors, kernels

    out_root = Path(out_root) if out_root else config.reports_dir()
    with stop_on_signals():
        _check_data(planned)
        _prepare_out_root(out_root)
        clean_stale_staging(out_root)
        run_id = new_run_id()
        staging = out_root / f"{STAGING_PREFIX}{run_id}"
        lock = _lock_path(staging)
        lock_fd = None
        try:
            lock_fd = _create_locked(lock)
            staging.mkdir()
        except OSError as exc:
            if lock_fd is not None:
                os.close(lock_fd)
            with contextlib.suppress(OSError):
                lock.unlink()
            raise OutputError(f"Cannot write to the reports folder {out_root}: {exc.strerror or exc}. "
                              "Choose another with --out or ANALYSIS_REPORTS_DIR.") from None
        try:
            return _run_in_staging(planned, out_root, run_id, staging, executor, workers, scheduler,
                                   progress, run_config or {}, executors, keep_notebook_images)
        except BaseException:
            kernels.kill_all()  # a serial kernel interrupted mid-cell
            shutil.rmtree(staging, ignore_errors=True)
            raise
        finally:
            with contextlib.suppress(OSError):
                lock.unlink()
            os.close(lock_fd)


RUN_LOG = "run.log"
OUTCOME_LOGGER = "analysis.report.outcome"  # one line per report, to run.log only (not the console)


class _RedactingFormatter(logging.Formatter):
    def __init__(self, redactor: redact.Redactor):
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor.text(super().format(record))


class RunLog:
    """The run's log file, ``run.log`` inside the staging folder (published with the run).

    While open it receives the suite's INFO messages and warnings and, from :attr:`outcome`, one
    line per report (those go to the file only, not the console). Every line is redacted like the
    rest of the run. :meth:`close` may be called more than once.
    """

    def __init__(self, path: Path, redactor: redact.Redactor):
        self.handler: logging.Handler | None = logging.FileHandler(path, encoding="utf-8")
        self.handler.setLevel(logging.INFO)
        self.handler.setFormatter(_RedactingFormatter(redactor))
        self.package = logging.getLogger("analysis")
        self.outcome = logging.getLogger(OUTCOME_LOGGER)
        self.outcome.propagate = False
        self.outcome.setLevel(logging.INFO)
        self.previous_level = self.package.level
        if self.package.getEffectiveLevel() > logging.INFO:
            self.package.setLevel(logging.INFO)
        self.package.addHandler(self.handler)
        self.outcome.addHandler(self.handler)

    def close(self) -> None:
        if self.handler is None:
            return
        self.package.removeHandler(self.handler)
        self.outcome.removeHandler(self.handler)
        self.package.setLevel(self.previous_level)
        self.handler.close()
        self.handler = None


def _log_outcome(outcome: logging.Logger, result: JobResult) -> None:
    where = f" on {result.worker}" if result.worker else ""
    if result.status == "ok":
        outcome.info("report %s: ok in %.1f s%s (%d headline numbers)", result.slug, result.seconds, where,
                     len(result.headlines))
    else:
        error = result.error or {}
        first_line = (str(error.get("evalue") or "").splitlines() or [""])[0]
        outcome.error("report %s: FAILED in %.1f s%s: cell %s: %s: %s", result.slug, result.seconds, where,
                      error.get("cell_index"), error.get("ename"), first_line)


def _run_in_staging(planned, out_root, run_id, staging, executor, workers, scheduler, progress, run_config,
                    executors, keep_notebook_images=False) -> dict[str, Any]:
    redactor = redact.for_run((p.parameters for p in planned), out_root)
    try:
        run_log = RunLog(staging / RUN_LOG, redactor)
    except OSError as exc:
        raise OutputError(f"Cannot write to the reports folder {out_root}: {exc.strerror or exc}. "
                          "Choose another with --out or ANALYSIS_REPORTS_DIR.") from None
    try:
        return _render_and_publish(planned, out_root, run_id, staging, executor, workers, scheduler, progress,
                                   run_config, executors, keep_notebook_images, redactor, run_log)
    finally:
        run_log.close()


def _render_and_publish(planned, out_root, run_id, staging, executor, workers, scheduler, progress, run_config,
                        executors, keep_notebook_images, redactor, run_log) -> dict[str, Any]:
    root = config.project_root()
    env = environment.environment(root)
    started_at = now_iso()
    t0 = time.perf_counter()
    run_config = {**run_config, "executor": executor, "workers": workers, "scheduler": scheduler,
                  "keep_notebook_images": keep_notebook_images, "reports": [p.slug for p in planned],
                  "data_source": "local mirror (ANALYSIS_DATA_MIRROR)" if config.data_mirror() else "pinned URLs"}
    for key in ("params_file", "batch"):  # shared with the reports: file names, not this machine's paths
        if run_config.get(key):
            run_config[key] = Path(run_config[key]).name
    machine = {"out_root": str(out_root), "data_mirror": str(config.data_mirror() or ""),
               "cache_dir": str(config.cache_dir())}
    log.info("Run %s starting with configuration:\n%s", run_id,
             json.dumps({**run_config, **machine}, indent=2, default=str))
    context = {"run_id": run_id, "started_at": started_at, "environment": env}
    jobs = [Job(notebook=p.notebook, title=get_spec(p.notebook).title, source=str(get_spec(p.notebook).path),
                parameters=p.parameters, overrides=p.overrides, slug=p.slug, out_dir=str(staging),
                cwd=str(get_spec(p.notebook).path.parent), context=context, redactions=redactor.as_pairs(),
                keep_notebook_images=keep_notebook_images)
            for p in planned]
    where: dict[str, Any] = {}
    try:
        results = executors.execute(jobs, executor=executor, workers=workers, scheduler=scheduler,
                                    progress=progress, info=where,
                                    on_result=lambda result: _log_outcome(run_log.outcome, result))
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EROFS):
            raise
        raise OutputError(f"Could not write the reports into {out_root}: {exc.strerror or exc}. Nothing was "
                          "published and `latest` is unchanged. Free disk space or choose another folder "
                          "with --out.") from None
    try:
        if _disk_full(results):
            raise OSError(errno.ENOSPC, "No space left on device while writing reports")
        ok = sum(r.status == "ok" for r in results)
        status = "ok" if ok == len(results) else "failed"
        if where:
            run_config = {**run_config, "cluster": where}
        summary = _summarise(run_id, started_at, time.perf_counter() - t0, results, env, run_config, status)
        summary["latest"] = ok > 0  # a run in which every report failed does not replace `latest`
        summary["log"] = RUN_LOG
        if where:
            log.info("Cluster: %s", json.dumps(where))
        log.info("Run %s finished in %.1f s: %d ok, %d failed; %s", run_id, summary["seconds"], ok, len(results) - ok,
                 "publishing it as `latest`" if summary["latest"] else "every report failed: kept, `latest` unchanged")
        run_log.close()  # the log is complete before the run is published
        summary = redactor.value(json.loads(atomic.dumps_json(summary)))
        atomic.write_json(staging / "run.json", summary, make_parents=False)
        atomic.write_text(staging / "index.html", render_index(json.loads(json.dumps(summary))), make_parents=False)
        final = out_root / run_id
        staging.rename(final)
    except OSError as exc:
        raise OutputError(f"Could not write the run into {out_root}: {exc.strerror or exc}. Nothing was published "
                          "and `latest` is unchanged. Free disk space or choose another folder with --out.") from None
    if summary["latest"]:
        atomic.replace_symlink(out_root / "latest", run_id)
    else:
        log.error("Every report failed: the run is kept in %s for diagnosis, but `latest` still points at "
                  "the previous run", final)
    summary["path"] = str(final)
    return summary
