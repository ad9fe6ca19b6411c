"""Parameters of the mutuals notebook (completed with the mutuals analysis)."""

from __future__ import annotations

from analysis.report.params import NotebookParameters


class MutualsParameters(NotebookParameters):
    pass
