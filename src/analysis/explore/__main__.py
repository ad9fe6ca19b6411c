"""``python -m analysis.explore serve``: the explorers as dashboards (see :mod:`analysis.explore.serve`)."""

from analysis.explore.serve import main

raise SystemExit(main())
