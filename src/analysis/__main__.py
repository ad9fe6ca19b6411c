"""``python -m analysis``: the command-line entry point."""

from analysis.cli import main

raise SystemExit(main())
