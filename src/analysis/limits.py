"""Limits that protect a run from inputs too large for the machine. Each is a setting with an
environment-variable override; every message that enforces one names the variable.

``ANALYSIS_MAX_INPUT_MB`` (default 100)
    Largest file a path parameter (``panel_path``, ``pilot_data_path``, ``cea_data_path``) may name.
``ANALYSIS_MAX_INPUT_ROWS`` (default 200000)
    Most lines such a file may have.
``ANALYSIS_KERNEL_MEMORY_MB`` (default 8192; 0 = no limit)
    Address space of each notebook kernel (``RLIMIT_AS``). A report that needs more fails with
    a ``MemoryError`` naming this limit instead of exhausting the machine; it is not retried.
``ANALYSIS_MAX_PARAMS_FILE_KB`` (default 256)
    Largest parameter file (``-f``), batch manifest cell or ``-p`` value.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from analysis.errors import ParameterError


@dataclass(frozen=True)
class Limit:
    variable: str
    default: int
    unit: str
    meaning: str

    def value(self) -> int:
        raw = os.environ.get(self.variable, "").strip()
        if not raw:
            return self.default
        try:
            value = int(raw)
        except ValueError:
            raise ParameterError(f"{self.variable}={raw!r} must be a whole number of {self.unit}") from None
        if value < 0:
            raise ParameterError(f"{self.variable}={raw!r} must be 0 or more")
        return value

    def how_to_raise(self) -> str:
        return f"set {self.variable} (now {self.value()} {self.unit}; default {self.default}) to raise it"


MAX_INPUT_MB = Limit("ANALYSIS_MAX_INPUT_MB", 100, "MB", "largest input file a path parameter may name")
MAX_INPUT_ROWS = Limit("ANALYSIS_MAX_INPUT_ROWS", 200_000, "rows", "most lines an input file may have")
KERNEL_MEMORY_MB = Limit("ANALYSIS_KERNEL_MEMORY_MB", 8192, "MB",
                         "address space of each notebook kernel (0 = no limit)")
MAX_PARAMS_FILE_KB = Limit("ANALYSIS_MAX_PARAMS_FILE_KB", 256, "KB",
                           "largest parameter file, manifest cell or -p value")

ALL = (MAX_INPUT_MB, MAX_INPUT_ROWS, KERNEL_MEMORY_MB, MAX_PARAMS_FILE_KB)


def check_all() -> None:
    """Raise ParameterError naming the variable if any limit's environment variable is malformed."""
    for limit in ALL:
        limit.value()
