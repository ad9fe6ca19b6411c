"""Reports: typed notebook parameters, the notebook helpers, the runner and HTML export.

Notebook-facing helpers (``setup``, ``key_findings``, ``verdicts``, ``show``, ``headline``, ``md``,
``figure``, ``caveat``, ``absent``, ``subject``, ``finish``) are imported here; the runner lives in
``analysis.report.runner`` and is used through ``python -m analysis run``; the reviewer's test of
rendered reports is ``analysis.report.review`` (``python -m analysis review``).
"""

from analysis.report.notebook import (
                                      absent,
                                      caveat,
                                      figure,
                                      finish,
                                      headline,
                                      key_findings,
                                      md,
                                      setup,
                                      show,
                                      subject,
                                      verdicts,
)

__all__ = ["absent", "caveat", "figure", "finish", "headline", "key_findings", "md", "setup", "show", "subject",
           "verdicts"]
