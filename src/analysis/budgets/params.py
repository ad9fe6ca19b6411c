"""Parameters of the personal budgets notebook (completed with the budgets analysis)."""

from __future__ import annotations

from analysis.report.params import NotebookParameters


class PersonalBudgetsParameters(NotebookParameters):
    pass
