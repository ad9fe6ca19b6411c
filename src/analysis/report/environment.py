"""Facts about the software that produced a report: versions and git state."""

from __future__ import annotations

import functools
import hashlib
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


_SOURCE_SUFFIXES = {".py", ".j2", ".css", ".js"}


def source_fingerprint() -> str:
    """sha256 of what decides a report's numbers besides its notebook and parameters: the package's
    source files and templates, the data catalogue and the evidence register, as they are on disk now.

    Two installs with the same fingerprint render the same reports from the same data. The dask
    executor compares the client's with every worker's before anything runs
    (``analysis.report.cluster``).
    """
    import analysis
    from analysis import config

    package = Path(analysis.__file__).resolve().parent
    digest = hashlib.sha256()
    files = sorted(p for p in package.rglob("*")
                   if p.suffix in _SOURCE_SUFFIXES and "__pycache__" not in p.parts and p.is_file())
    entries = [(f"analysis/{p.relative_to(package).as_posix()}", p) for p in files]
    try:
        root = config.project_root()
    except Exception:  # installed without a checkout: the package alone
        root = None
    if root is not None:
        data = root / "data"
        entries += [(f"data/{p.relative_to(data).as_posix()}", p)
                    for p in [data / "catalogue.yml", *sorted((data / "evidence").glob("*.csv"))] if p.is_file()]
    for name, path in entries:
        digest.update(name.encode("utf-8") + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def process_fingerprint() -> str:
    """:func:`source_fingerprint` when this process first asked: the code it loaded (a process does
    not pick up a reinstall)."""
    return source_fingerprint()
