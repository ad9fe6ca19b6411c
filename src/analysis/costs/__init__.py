"""In-house against external provision: unit costs, quality beside them, and the NHS-funded CIC sector.

``comparisons``: England, across-council and within-council in-house/external unit-cost
ratios (council-clustered intervals); ``closures``: councils that closed or sold their
in-house care homes for older people as a staggered adoption (panel methods on a real
panel); ``cic``: NHS payments to community interest companies; ``claims``: verdicts;
``analysis``: the notebook's orchestration, key findings, tables and charts.
"""
