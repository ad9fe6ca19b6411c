"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Everything the suite writes (cached data, notebooks, HTML reports, run.json,
the index) goes through these helpers: the content is written to a temporary
file in the same folder, flushed to disk, then renamed over the target.

The temporary file is created private (mode 0600) by ``mkstemp``; before it is
renamed into place it gets the mode an ordinary ``open()`` would have given it
(0666 less the user's umask), so a web server running as another user can read
published reports when the umask allows it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

_UMASK_LOCK = threading.Lock()


def current_umask() -> int:
    """The process umask (read from /proc on Linux; otherwise set and restore it under a lock)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    with _UMASK_LOCK:
        mask = os.umask(0o022)
        os.umask(mask)
    return mask


def default_file_mode() -> int:
    """The mode ``open(path, "w")`` gives a new file: 0666 less the umask."""
    return 0o666 & ~current_umask()


@contextlib.contextmanager
def atomic_path(target: Path, *, make_parents: bool = True) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it over ``target`` on success.

    If the body raises (or is interrupted), the temporary file is removed and
    ``target`` is left untouched. With ``make_parents=False`` a missing folder is
    an error rather than created (a report must not recreate a removed staging folder).
    """
    target = Path(target)
    if make_parents:
        target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, default_file_mode())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def write_text(target: Path, text: str, encoding: str = "utf-8", *, make_parents: bool = True) -> Path:
    with atomic_path(target, make_parents=make_parents) as tmp:
        tmp.write_text(text, encoding=encoding)
    return Path(target)


def write_bytes(target: Path, data: bytes, *, make_parents: bool = True) -> Path:
    with atomic_path(target, make_parents=make_parents) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def json_safe(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by None, so the JSON is strict (``JSON.parse`` reads it)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "item") and callable(value.item) and getattr(value, "ndim", 1) == 0:  # numpy scalars
        return json_safe(value.item())
    return value


def dumps_json(payload: Any, **kwargs: Any) -> str:
    """Strict JSON: non-finite numbers become null (never the bare ``NaN`` that JSON.parse rejects)."""
    return json.dumps(json_safe(json.loads(json.dumps(payload, default=str))), allow_nan=False, **kwargs)


def write_json(target: Path, payload: Any, *, make_parents: bool = True) -> Path:
    return write_text(target, dumps_json(payload, indent=2, sort_keys=False) + "\n", make_parents=make_parents)


def replace_symlink(link: Path, target_name: str) -> None:
    """Point ``link`` at ``target_name`` (relative) atomically, replacing any old link."""
    link = Path(link)
    tmp = link.with_name(f".{link.name}.tmp-{os.getpid()}")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    os.symlink(target_name, tmp)
    os.replace(tmp, link)
