"""Where things live, read from the environment when asked (never at import).

Environment variables (documented in the README; none of them is a secret):

``ANALYSIS_PROJECT_ROOT``
    The checkout holding ``data/catalogue.yml`` and ``notebooks/``. Found
    automatically from the installed package or the working directory.
``ANALYSIS_DATA_MIRROR``
    A local folder laid out like ``shared/realdata`` (one sub-folder per source,
    the original file names). When set, datasets are read from it instead of
    being downloaded; sha256 checks still apply.
``ANALYSIS_CACHE_DIR``
    Where verified downloads and parquet conversions are cached. Defaults to the
    user cache folder (``~/.cache/uk-reform-analysis``), outside git.
``ANALYSIS_REPORTS_DIR``
    Where the runner writes reports. Defaults to ``<project>/reports``.
"""

from __future__ import annotations

import os
from pathlib import Path

from analysis.errors import AnalysisError

APP_NAME = "uk-reform-analysis"


def _looks_like_project(path: Path) -> bool:
    return (path / "data" / "catalogue.yml").is_file() and (path / "notebooks").is_dir()


def project_root() -> Path:
    """Return the project checkout: from the environment, the package, or the cwd."""
    env = os.environ.get("ANALYSIS_PROJECT_ROOT")
    if env:
        root = Path(env).expanduser().resolve()
        if not _looks_like_project(root):
            raise AnalysisError(
                f"ANALYSIS_PROJECT_ROOT={env} does not contain data/catalogue.yml and notebooks/."
            )
        return root
    candidates = [Path(__file__).resolve().parent, Path.cwd().resolve()]
    for start in candidates:
        for path in [start, *start.parents]:
            if _looks_like_project(path):
                return path
    raise AnalysisError(
        "Cannot find the project checkout (a folder with data/catalogue.yml and notebooks/). "
        "Run from inside the checkout or set ANALYSIS_PROJECT_ROOT."
    )


def catalogue_path() -> Path:
    return project_root() / "data" / "catalogue.yml"


def evidence_dir() -> Path:
    return project_root() / "data" / "evidence"


def notebooks_dir() -> Path:
    return project_root() / "notebooks"


def templates_dir() -> Path:
    return project_root() / "data" / "templates"


def reports_dir() -> Path:
    env = os.environ.get("ANALYSIS_REPORTS_DIR")
    return Path(env).expanduser().resolve() if env else project_root() / "reports"


def cache_dir() -> Path:
    env = os.environ.get("ANALYSIS_CACHE_DIR")
    if env:
        return Path(env).expanduser().resolve()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return (base / APP_NAME).resolve()


def data_mirror() -> Path | None:
    """The local mirror folder, or None when datasets should be downloaded."""
    env = os.environ.get("ANALYSIS_DATA_MIRROR")
    if not env:
        return None
    path = Path(env).expanduser().resolve()
    if not path.is_dir():
        raise AnalysisError(
            f"ANALYSIS_DATA_MIRROR={env} is not a folder. Point it at a folder laid out like "
            "shared/realdata (one sub-folder per source) or unset it to download."
        )
    return path


def running_in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}
