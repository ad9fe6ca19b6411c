"""Mutuals and social enterprises against in-house provision.

Real-data comparisons (``staff``: NHS Staff Survey; ``multiplicity``: false-discovery-rate
adjustment and the pattern of directions across items; ``sensitivity``: weighting and
leave-one-out checks; ``ratings``: CQC by ownership, with a council-level clustering
sensitivity; ``externalisation``: council in-house shares), panel methods for a
researcher's own data (``panel``), claim verdicts (``claims``) and the notebook's
orchestration and key findings (``analysis``).
"""
