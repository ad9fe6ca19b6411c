"""The report runner behind ``python -m analysis run``.

1. **Plan**: resolve notebooks and parameter sets (defaults, ``-p``, ``-f`` or a
   batch manifest) and validate every set before anything runs. One bad
   parameter anywhere stops the run with a message and nothing is written.
2. **Execute**: render each report with the chosen executor into a hidden
   staging folder ``reports/.partial-<run-id>``.
3. **Publish**: write ``run.json`` and ``index.html``, rename the staging folder
   to ``reports/<run-id>`` and point ``reports/latest`` at it. An interrupted
   (Ctrl-C) run removes its staging folder: no half-written report or index.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import re
import secrets
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from analysis import atomic, config
from analysis.errors import ParameterError
from analysis.report import environment
from analysis.report.execution import Job, JobResult, now_iso
from analysis.report.export import render_index
from analysis.report.params import get_spec, notebooks, read_params_file, validate_parameters

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
         params_file: Path | None = None, batch_rows: list[dict[str, Any]] | None = None) -> list[PlannedReport]:
    """Validate every report's parameters; raise ParameterError before anything runs."""
    names = notebook_names or sorted(notebooks())
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
        defaults = spec.parameters().as_papermill()
        for i, row in enumerate(row_sets, start=1):
            values = {**base, **row}
            try:
                validated = validate_parameters(spec.name, values).as_papermill()
            except ParameterError as exc:
                where = f"batch row {i}: " if batch_rows is not None else ""
                errors.append(where + str(exc))
                continue
            changed = {k: v for k, v in validated.items() if k in values and v != defaults.get(k)}
            planned.append(PlannedReport(spec.name, validated, changed, slug_for(spec.name, changed)))
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
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"Batch manifest not found: {path}")
    with open(path, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        if not reader.fieldnames:
            raise ParameterError(f"Batch manifest {path} has no header row")
        rows = []
        for line, raw in enumerate(reader, start=2):
            if None in raw:
                raise ParameterError(f"Batch manifest {path} line {line}: more cells than header columns")
            row = {}
            for key, cell in raw.items():
                if cell is None or cell == "":
                    continue
                try:
                    row[key.strip()] = yaml.safe_load(cell)
                except yaml.YAMLError as exc:
                    raise ParameterError(f"Batch manifest {path} line {line}, column {key}: {exc}") from None
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


def run(planned: list[PlannedReport], *, out_root: Path | None = None, executor: str = "serial",
        workers: int | None = None, scheduler: str | None = None, progress: bool = True,
        run_config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Render ``planned`` reports and publish the run. Returns the run summary (run.json)."""
    from analysis.report import executors

    out_root = Path(out_root) if out_root else config.reports_dir()
    out_root.mkdir(parents=True, exist_ok=True)
    run_id = new_run_id()
    staging = out_root / f".partial-{run_id}"
    staging.mkdir()
    root = config.project_root()
    env = environment.environment(root)
    started_at = now_iso()
    t0 = time.perf_counter()
    run_config = {**(run_config or {}), "executor": executor, "workers": workers, "scheduler": scheduler,
                  "reports": [p.slug for p in planned],
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
                cwd=str(get_spec(p.notebook).path.parent), context=context) for p in planned]
    try:
        results = executors.execute(jobs, executor=executor, workers=workers, scheduler=scheduler,
                                    progress=progress)
        status = "ok" if all(r.status == "ok" for r in results) else "failed"
        summary = _summarise(run_id, started_at, time.perf_counter() - t0, results, env, run_config, status)
        atomic.write_json(staging / "run.json", summary)
        atomic.write_text(staging / "index.html", render_index(json.loads(json.dumps(summary, default=str))))
        final = out_root / run_id
        staging.rename(final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    atomic.replace_symlink(out_root / "latest", run_id)
    summary["path"] = str(final)
    return summary
