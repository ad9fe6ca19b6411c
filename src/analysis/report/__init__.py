"""Reports: typed notebook parameters, the notebook helpers, the runner and HTML export.

Notebook-facing helpers (``setup``, ``key_findings``, ``show``, ``headline``, ``md``,
``figure``, ``caveat``, ``subject``, ``verdicts``, ``finish``) are imported here; the runner lives in
``analysis.report.runner`` and is used through ``python -m analysis run``.
"""

from analysis.report.notebook import (caveat, figure, finish, headline, key_findings, md, setup, show, subject,
                                      verdicts)

__all__ = ["caveat", "figure", "finish", "headline", "key_findings", "md", "setup", "show", "subject", "verdicts"]
