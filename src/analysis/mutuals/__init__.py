"""Mutuals and social enterprises against in-house provision.

Real-data comparisons (``staff``: NHS Staff Survey; ``ratings``: CQC by
ownership; ``externalisation``: council in-house shares), panel methods for a
researcher's own data (``panel``), claim verdicts (``claims``) and the
notebook's orchestration (``analysis``).
"""
