"""Many staff-survey comparisons, said right: adjusted p-values and the pattern of directions.

Eighteen items compared at p < 0.05 give about one "significant" difference by chance
alone, so every p-value column of a comparison table gets a false-discovery-rate
adjusted twin (Benjamini-Hochberg 1995, ``statsmodels.stats.multitest``), computed
over the items that have a p-value. The headline is then the **pattern of
directions**: on how many items the social enterprises scored worse, and on how
many better, at the raw threshold and after adjustment, for each inference
(standard errors clustered by organisation; randomisation inference), because a
lean in one direction across many items is the finding a reader needs, and
"robustly better on 0, worse on 0" hides it.

Items are correlated (three burnout questions, for instance), so the count of items
is not a count of independent pieces of evidence; the text says so.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsmodels.stats.multitest import multipletests

FDR_METHOD = "fdr_bh"
FDR_LABEL = "Benjamini-Hochberg false-discovery-rate adjustment"
DOMAIN_NAMES = {"wellbeing": "wellbeing", "job": "working-conditions", "team": "team", "safety": "safety"}
ZERO_PP = 1e-9  # a difference this small (percentage points) leans neither way
INFERENCES = {"p_value": "standard errors clustered by organisation", "p_randomisation": "randomisation inference"}


def p_value_columns(table: pd.DataFrame) -> list[str]:
    """The raw p-value columns of a comparison table (``p_value`` and every ``p_*``), not their adjusted twins."""
    return [c for c in table.columns
            if (c == "p_value" or c.startswith("p_")) and not c.endswith("_fdr")]


def fdr_adjust(p_values, alpha: float = 0.05) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values; missing p-values stay missing and do not count as tests."""
    p = np.asarray(p_values, dtype=float)
    out = np.full(p.shape, np.nan)
    present = ~np.isnan(p)
    if present.any():
        if ((p[present] < 0) | (p[present] > 1)).any():
            raise ValueError("p-values must lie between 0 and 1")
        out[present] = multipletests(p[present], alpha=alpha, method=FDR_METHOD)[1]
    return out


def add_adjusted_p_values(table: pd.DataFrame, alpha: float = 0.05) -> pd.DataFrame:
    """A copy of ``table`` with ``<column>_fdr`` beside every p-value column, adjusted across its rows."""
    out = table.copy()
    for column in p_value_columns(table):
        out[f"{column}_fdr"] = fdr_adjust(table[column], alpha)
    out.attrs.update(table.attrs, fdr_method=FDR_LABEL, fdr_alpha=alpha)
    return out


@dataclass(frozen=True)
class InferencePattern:
    """Counts for one inference: items tested, and items better/worse at the raw and the adjusted threshold."""

    inference: str
    tested: int
    better: int
    worse: int
    better_adjusted: int
    worse_adjusted: int


@dataclass(frozen=True)
class DirectionPattern:
    """The pattern of directions across the items of one comparison."""

    items: int
    alpha: float
    leaning_worse: int
    leaning_better: int
    by_inference: dict[str, InferencePattern]
    leaning_by_domain: dict[str, tuple[int, int]]  # domain -> (worse, items)


def _good(table: pd.DataFrame) -> pd.Series:
    """True where the point estimate favours the social enterprises (direction depends on the item)."""
    higher = table["higher_is_better"].astype(bool)
    return (table["difference_pp"] > 0) == higher


def direction_pattern(table: pd.DataFrame, alpha: float = 0.05) -> DirectionPattern:
    """Count better/worse items for every inference, raw and FDR-adjusted, and the lean of the point estimates.

    ``table`` is a comparison table with ``difference_pp``, ``higher_is_better`` and p-value columns;
    adjusted columns are computed if absent.
    """
    if table.empty:
        raise ValueError("No items to summarise")
    if not any(f"{c}_fdr" in table for c in p_value_columns(table)):
        table = add_adjusted_p_values(table, alpha)
    good = _good(table)
    nonzero = pd.Series(~np.isclose(table["difference_pp"], 0.0, atol=ZERO_PP), index=table.index)
    by_inference = {}
    for column in p_value_columns(table):
        p, q = table[column], table[f"{column}_fdr"]
        by_inference[column] = InferencePattern(
            inference=INFERENCES.get(column, column.replace("p_", "").replace("_", " ")),
            tested=int(p.notna().sum()),
            better=int(((p < alpha) & good).sum()), worse=int(((p < alpha) & ~good).sum()),
            better_adjusted=int(((q < alpha) & good).sum()), worse_adjusted=int(((q < alpha) & ~good).sum()))
    domains = {}
    if "domain" in table:
        for domain, part in table.groupby("domain", sort=False):
            domains[str(domain)] = (int((~_good(part) & nonzero.loc[part.index]).sum()), len(part))
    return DirectionPattern(len(table), alpha, int((~good & nonzero).sum()), int((good & nonzero).sum()),
                            by_inference, domains)


def _count(n: int) -> str:
    return "none" if n == 0 else str(n)


def inference_sentence(p: InferencePattern, alpha: float, *, subject: str, reference: str) -> str:
    """'On clustered standard errors, X scored worse than Y on 6 of 18 items at p < 0.05 and better on none;
    after adjusting for 18 comparisons, none remain.'"""
    threshold = f"p < {alpha:g}"
    if p.tested == 0:
        return f"With {p.inference}, no item could be tested."
    if p.worse + p.better == 0:
        return (f"With {p.inference}, {subject} scored neither worse nor better than {reference} on any of the "
                f"{p.tested} items at {threshold}.")
    if p.worse >= p.better:
        raw = (f"With {p.inference}, {subject} scored worse than {reference} on {p.worse} of {p.tested} items at "
               f"{threshold} and better on {_count(p.better)}")
    else:
        raw = (f"With {p.inference}, {subject} scored better than {reference} on {p.better} of {p.tested} items at "
               f"{threshold} and worse on {_count(p.worse)}")
    remain = p.worse_adjusted + p.better_adjusted
    if remain == 0:
        adjusted = "none remains"
    else:
        parts = [f"{p.worse_adjusted} worse" if p.worse_adjusted else "", f"{p.better_adjusted} better"
                 if p.better_adjusted else ""]
        adjusted = " and ".join(x for x in parts if x) + (" remains" if remain == 1 else " remain")
    return raw + f"; after adjusting for {p.tested} comparisons ({FDR_LABEL}), {adjusted}."


def lean_sentence(pattern: DirectionPattern, *, subject: str) -> str:
    """How the point estimates lean, by domain: the direction is informative even where no item is significant."""
    text = (f"The point estimates put {subject} on the worse side on {pattern.leaning_worse} of {pattern.items} items "
            f"and the better side on {pattern.leaning_better}")
    one_way = [d for d, (worse, n) in pattern.leaning_by_domain.items() if n >= 2 and worse in (0, n)]
    if one_way:
        described = [f"all {pattern.leaning_by_domain[d][1]} {DOMAIN_NAMES.get(d, d)} items "
                     f"{'worse' if pattern.leaning_by_domain[d][0] else 'better'}" for d in one_way]
        text += " (" + "; ".join(described) + ")"
    return text + ". Items are correlated, so these are not independent pieces of evidence."
