"""Shared test set-up.

Markers (see pyproject.toml):

- ``data``: needs the real public datasets. They come from ``ANALYSIS_DATA_MIRROR``
  (tests and CI point it at ``shared/realdata``) or from a cache already filled by
  ``python -m analysis data fetch``. Without either, the test is skipped with the
  reason, except under ``CI=true``, where that is a failure.
- ``reference``: needs the published reference datasets shipped in the pinned
  wheels of requirements/reference.txt; same skip/fail rule.
- ``e2e``: runs notebooks through the real runner (slow).
"""

from __future__ import annotations

import os
from importlib import metadata
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def real_data_status() -> tuple[bool, str]:
    from analysis.data import catalogue
    from analysis.data import download as fetch

    mirror = os.environ.get("ANALYSIS_DATA_MIRROR")
    if mirror:
        if Path(mirror).is_dir():
            return True, f"mirror {mirror}"
        return False, f"ANALYSIS_DATA_MIRROR={mirror} does not exist"
    cat = catalogue.load_catalogue()
    missing = [ds.name for ds in cat if not fetch.cached_path(ds).is_file()]
    if not missing:
        return True, "cache"
    return False, ("the real datasets are not available: set ANALYSIS_DATA_MIRROR to a folder laid out like "
                   "shared/realdata, or run `python -m analysis data fetch` with network access "
                   f"(missing: {', '.join(missing[:3])}{'...' if len(missing) > 3 else ''})")


def reference_file(distribution: str, relative: str) -> Path | None:
    try:
        path = Path(metadata.distribution(distribution).locate_file(relative))
    except metadata.PackageNotFoundError:
        return None
    return path if path.is_file() else None


def pytest_runtest_setup(item):
    if item.get_closest_marker("data"):
        ok, why = real_data_status()
        if not ok:
            if _in_ci():
                pytest.fail(f"CI=true and {why}")
            pytest.skip(why)


@pytest.fixture
def require_reference():
    """Return a function that locates a reference file or skips (fails under CI)."""

    def locate(distribution: str, relative: str) -> Path:
        path = reference_file(distribution, relative)
        if path is None:
            why = (f"reference data {relative} from {distribution} is not installed; run "
                   "`pip install --no-deps -r requirements/reference.txt` (make install does)")
            if _in_ci():
                pytest.fail(f"CI=true and {why}")
            pytest.skip(why)
        return path

    return locate


@pytest.fixture
def isolated_cache(tmp_path, monkeypatch):
    """A fresh, empty data cache for tests that corrupt or remove files."""
    cache = tmp_path / "cache"
    monkeypatch.setenv("ANALYSIS_CACHE_DIR", str(cache))
    return cache
