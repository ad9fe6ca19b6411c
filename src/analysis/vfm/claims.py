"""Verdicts on the NAO-related claims in the evidence register."""

from __future__ import annotations

import pandas as pd

from analysis.claims import Verdict, claim_row, independent_rows
from analysis.data.evidence import evidence_rows

def _in_gbp_m(row) -> float | None:
    """A register value in £m, or None if the row is not a sterling amount."""
    unit = str(row.unit)
    if row.value != row.value:  # NaN
        return None
    if unit.startswith("GBP billion"):
        return float(row.value) * 1000.0
    if unit.startswith("GBP million"):
        return float(row.value)
    return None


def _finding_corroborated(rows: pd.DataFrame, claim: dict) -> bool:
    """A finding counts as established only if a source independent of the NAO reports it."""
    return not independent_rows(rows, claim["claimant_orgs"]).empty


def assess_claims(claims: pd.DataFrame, figures: pd.DataFrame, mc_summary: pd.DataFrame,
                  deterministic_npv: dict[str, float], hazard_text: str, years: int) -> list[Verdict]:
    total = mc_summary.set_index("component").loc["total"]
    foregone = mc_summary.set_index("component").loc["foregone_savings"]
    level = mc_summary.attrs.get("level", 0.9)
    verdicts = []

    c = claim_row(claims, "CL-NAO-01")
    rows = evidence_rows(figures, c["evidence_ids"])
    values = [v for v in (_in_gbp_m(r) for r in rows.itertuples()) if v is not None]
    agree = len(values) >= 2 and (max(values) - min(values)) <= 0.1 * max(values)
    verdicts.append(Verdict.for_claim(
        c,
        "supported" if agree and _finding_corroborated(rows, c) else "not testable with public data",
        "Supported if two or more register rows give the contract value within 10% of each other and a source "
        "independent of the NAO reports it; otherwise not testable (the contracts are not public).",
        f"Register values: {', '.join(f'£{v:,.0f}m' for v in values)}. Under the default assumptions the value "
        f"at risk over {years} years is £{total['mean']:,.0f}m (mean; {level:.0%} interval £{total['low']:,.0f}m "
        f"to £{total['high']:,.0f}m).",
        rows))

    c = claim_row(claims, "CL-NAO-02")
    rows = evidence_rows(figures, c["evidence_ids"])
    verdicts.append(Verdict.for_claim(
        c,
        "supported" if _finding_corroborated(rows, c) else "not testable with public data",
        "An audit finding: supported if a source independent of the NAO confirms it; otherwise not testable, as the contracts are not public. "
        "Contract terms are not public data, so the suite quantifies the consequence instead.",
        f"Foregone savings against in-house efficiency: £{foregone['mean']:,.0f}m (mean; {level:.0%} interval "
        f"£{foregone['low']:,.0f}m to £{foregone['high']:,.0f}m); deterministic £{deterministic_npv['foregone_savings']:,.0f}m.",
        rows))

    c = claim_row(claims, "CL-NAO-03")
    rows = evidence_rows(figures, c["evidence_ids"])
    verdicts.append(Verdict.for_claim(
        c,
        "supported" if _finding_corroborated(rows, c) else "not testable with public data",
        "An audit finding: supported if a source independent of the NAO confirms it; otherwise not testable, as the contracts are not public. "
        "The Department disputed its relevance (HSJ), not its truth.",
        "No measurable objective exists to test against; the criteria table rates effectiveness on that basis.",
        rows))

    c = claim_row(claims, "CL-NAO-04")
    rows = evidence_rows(figures, c["evidence_ids"])
    verdicts.append(Verdict.for_claim(
        c,
        "supported" if _finding_corroborated(rows, c) else "not testable with public data",
        "An audit finding: supported if a source independent of the NAO confirms it; "
        "the size of the retained risk is estimated with the CQC closure proxy.",
        f"{hazard_text}. Expected retained failure cost (deterministic): £{deterministic_npv['failure_cost']:,.0f}m.",
        rows))
    return verdicts
