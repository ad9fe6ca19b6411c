"""Facts about the software that produced a report: versions and git state."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

from analysis import __version__

KEY_PACKAGES = ("pandas", "numpy", "scipy", "statsmodels", "matplotlib", "papermill", "nbconvert", "pandera",
                "pydantic")


def package_versions() -> dict[str, str]:
    out = {}
    for name in KEY_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def git_state(root: Path) -> dict[str, str]:
    """Commit of the checkout and whether it has uncommitted changes."""
    def _git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10,
                              check=True).stdout.strip()

    try:
        commit = _git("rev-parse", "HEAD")
        dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        return {"commit": "not a git checkout", "state": "unknown", "describe": "not a git checkout"}
    state = "uncommitted changes" if dirty else "clean"
    return {"commit": commit, "state": state,
            "describe": f"{commit[:12]}" + (" (uncommitted changes)" if dirty else "")}


def environment(root: Path) -> dict:
    return {
        "package_version": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(terse=True),
        "packages": package_versions(),
        "git": git_state(root),
    }
