"""Exceptions with messages a researcher can act on.

Every error the suite raises on bad input derives from ``AnalysisError`` so the
command line can print it without a traceback and exit non-zero.
"""

from __future__ import annotations

import enum


class AnalysisError(Exception):
    """Base class: a problem with the user's input or environment, not a bug."""


class ParameterError(AnalysisError, ValueError):
    """A notebook parameter is unknown, of the wrong type, or out of range."""


class DataError(AnalysisError):
    """A dataset could not be fetched, verified or validated."""


class ChecksumError(DataError):
    """A downloaded file does not match the sha256 pinned in the catalogue."""


class DataUnavailableError(DataError):
    """A dataset cannot be reached: no network and no mirror."""


class SchemaError(DataError, ValueError):
    """A table is missing columns, has wrong types or impossible values."""


class InputError(AnalysisError, ValueError):
    """Arguments to an estimator are impossible (n <= 0, SD <= 0, events > n...)."""


class PanelError(InputError):
    """A researcher's panel does not have the structure an estimator needs."""


class OutputError(AnalysisError):
    """The reports folder or the cache cannot be written (read-only, not a folder, disk full), or
    the dask scheduler named cannot be reached: a problem of this machine, not of the input."""


class RunInterrupted(BaseException):
    """The runner received SIGINT, SIGTERM or SIGHUP: stop workers and kernels, remove staging.

    A ``BaseException`` (like ``KeyboardInterrupt``) so that ``except Exception`` in library code
    cannot swallow it. ``signal_number`` decides the exit code (128 + signal number).
    """

    def __init__(self, signal_number: int):
        import signal

        super().__init__(signal.Signals(signal_number).name)
        self.signal_number = signal_number


class ExitCode(enum.IntEnum):
    """Exit codes of ``python -m analysis``. docs/scheduling.md has a table of these (a test checks).

    Each member's docstring-like description is in ``EXIT_CODE_MEANINGS``: what happened and what to do.
    """

    OK = 0
    REPORTS_FAILED = 1
    BAD_INPUT = 2
    ALL_REPORTS_FAILED = 3
    OUTPUT_ERROR = 4
    INTERNAL_ERROR = 70
    HANGUP = 129
    INTERRUPTED = 130
    TERMINATED = 143


EXIT_CODE_MEANINGS: dict[ExitCode, tuple[str, str]] = {
    ExitCode.OK: ("Every report rendered; the run is published and `latest` points at it.", "Nothing."),
    ExitCode.REPORTS_FAILED: (
        "Some reports failed, at least one rendered. The run is published (failures listed in the index "
        "and `run.json`) and `latest` points at it. From `review`: the reviewer's test found problems in a "
        "rendered run.",
        "Read the failures list; fix the data or parameters of the failed reports and re-run them. After "
        "`review`, read its list (report, what, where) before forwarding the run."),
    ExitCode.BAD_INPUT: (
        "Bad input: an unknown notebook or parameter, a bad manifest or parameter file, a missing or too "
        "large input file, or corrupt data (a dataset that fails its sha256 check; `data verify` also "
        "exits 2 when a cached file does not match its hash). No report was rendered and nothing was "
        "published; `latest` is unchanged.",
        "Read the message on stderr: it names the parameter, file or dataset and what is allowed."),
    ExitCode.ALL_REPORTS_FAILED: (
        "Every report failed. The run folder is kept for diagnosis (its index lists the failures) but "
        "`latest` still points at the previous good run.",
        "Read `reports/<run-id>/index.html` or `run.json`; usually a data, memory-limit or environment "
        "problem common to all reports."),
    ExitCode.OUTPUT_ERROR: (
        "The reports folder or the data cache could not be written (read-only, not a folder, disk full), "
        "or the dask scheduler could not be reached. Nothing was published; the staging folder was "
        "removed; `latest` is unchanged.",
        "Free disk space, fix the folder (`--out`, `ANALYSIS_REPORTS_DIR`, `ANALYSIS_CACHE_DIR`) or start "
        "the scheduler, and re-run."),
    ExitCode.INTERNAL_ERROR: (
        "A bug in the suite: an unexpected error, printed with its traceback. Nothing was published.",
        "Report the traceback as an issue; re-running will usually fail the same way."),
    ExitCode.INTERRUPTED: (
        "Interrupted (SIGINT, Ctrl-C). Workers and kernels were stopped and the staging folder removed; "
        "nothing was published.", "Re-run when ready."),
    ExitCode.HANGUP: (
        "Hung up (SIGHUP: the terminal or SSH session closed). Workers and kernels were stopped and the "
        "staging folder removed; nothing was published.", "Re-run under nohup, tmux, cron or systemd."),
    ExitCode.TERMINATED: (
        "Terminated (SIGTERM, e.g. systemd stop or CI cancellation). Workers and kernels were "
        "stopped and the staging folder removed; nothing was published.",
        "Re-run when ready; if a scheduler killed it for time, raise its time limit."),
}
