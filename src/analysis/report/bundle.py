"""Zip a run (index, reports, executed notebooks, run.json) so it can be emailed.

The zip holds one folder named after the run; every link inside is relative,
so the index opens straight from the unzipped folder.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from analysis import atomic, config
from analysis.errors import AnalysisError


def resolve_run(run: str, reports_root: Path | None = None) -> Path:
    root = Path(reports_root) if reports_root else config.reports_dir()
    candidate = Path(run)
    if candidate.is_dir():
        path = candidate
    else:
        path = root / run
    path = path.resolve()
    if not (path / "run.json").is_file():
        raise AnalysisError(f"No finished run at {path} (expected run.json). Runs: "
                            + ", ".join(sorted(p.name for p in root.iterdir() if (p / 'run.json').is_file()))
                            if root.is_dir() else f"No finished run at {path}")
    return path


def bundle_run(run: str, out: Path | None = None, reports_root: Path | None = None) -> Path:
    folder = resolve_run(run, reports_root)
    out = Path(out) if out else folder.parent / f"{folder.name}.zip"
    with atomic.atomic_path(out) as tmp:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for path in sorted(folder.rglob("*")):
                if path.is_file() and not path.name.startswith("."):
                    zf.write(path, arcname=f"{folder.name}/{path.relative_to(folder)}")
    return out
