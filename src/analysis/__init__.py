"""Analysis library for UK public-service reform research.

Importing this package does nothing but define names: no files are read,
no folders made, no clock read. Domain modules:

- ``analysis.data``: the data catalogue, pinned downloads, tidy loaders, evidence register
- ``analysis.mutuals``: mutuals and social enterprises against in-house provision
- ``analysis.vfm``: the NAO value-for-money risk model
- ``analysis.budgets``: personal budgets: effect sizes, meta-analysis, cost-effectiveness
- ``analysis.plots``: charts in one house style
- ``analysis.report``: typed notebook parameters, the runner and HTML reports
"""

__version__ = "0.2.0"
