"""Public data: catalogue, verified fetching, tidy tables and the evidence register.

Typical use::

    from analysis import data
    ascof = data.load("ascof")            # tidy, validated, cached
    figures = data.load_figures()          # evidence register
"""

from analysis.data.catalogue import load_catalogue
from analysis.data.download import fetch, verify_all
from analysis.data.evidence import evidence_rows, figure, load_claims, load_figures
from analysis.data.tables import TABLES, load, read_raw

__all__ = ["TABLES", "evidence_rows", "fetch", "figure", "load", "load_catalogue", "load_claims",
           "load_figures", "read_raw", "verify_all"]
