"""Exceptions with messages a researcher can act on.

Every error the suite raises on bad input derives from ``AnalysisError`` so the
command line can print it without a traceback and exit non-zero.
"""

from __future__ import annotations


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
