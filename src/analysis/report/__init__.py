"""Reports: typed notebook parameters, the notebook helpers, the runner and HTML export.

Notebook-facing helpers (``setup``, ``show``, ``headline``, ``md``, ``figure``,
``caveat``, ``finish``) are imported here; the runner lives in
``analysis.report.runner`` and is used through ``python -m analysis run``.
"""

from analysis.report.notebook import caveat, figure, finish, headline, md, setup, show, subject

__all__ = ["caveat", "figure", "finish", "headline", "md", "setup", "show"]
