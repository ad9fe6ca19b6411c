"""Verdicts on claims, shared by the three analyses.

A verdict is one of four words, with the numbers and sources behind it:

- ``supported``: the evidence (register rows and/or the suite's own analysis of
  public data) agrees with the claim as worded;
- ``contradicted``: the evidence disagrees with the claim as worded;
- ``not testable with public data``: no public dataset in the catalogue can
  test it, whatever its merits;
- ``unsourced``: the claim cites no study and no located source supports it.

Every rule that produces a verdict is written next to the claim it judges, in
the domain's ``claims`` module, and is printed with the verdict.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

VERDICTS = ("supported", "contradicted", "not testable with public data", "unsourced")


@dataclass(frozen=True)
class Verdict:
    claim_id: str
    claim: str
    speaker: str
    date: str
    verdict: str
    rule: str
    numbers: str
    evidence_ids: tuple[str, ...]
    sources: tuple[str, ...] = field(default_factory=tuple)

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS}, got {self.verdict!r}")

    @classmethod
    def for_claim(cls, claim: dict[str, Any], verdict: str, rule: str, numbers: str,
                  rows: pd.DataFrame) -> Verdict:
        """A verdict on a claims.csv row, citing the evidence-register ``rows`` behind it."""
        return cls(claim["claim_id"], claim["claim_text"], claim["speaker"], claim["date"], verdict, rule, numbers,
                   tuple(rows["id"]), sources_of(rows))

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["evidence_ids"] = "; ".join(self.evidence_ids)
        d["sources"] = "; ".join(self.sources)
        return d


def verdict_table(verdicts: list[Verdict]) -> pd.DataFrame:
    """A table for reports: claim, who/when, verdict, why, numbers, evidence."""
    rows = [v.as_dict() for v in verdicts]
    df = pd.DataFrame(rows, columns=["claim_id", "claim", "speaker", "date", "verdict", "rule",
                                     "numbers", "evidence_ids", "sources"])
    return df


def claim_row(claims: pd.DataFrame, claim_id: str) -> dict[str, Any]:
    match = claims[claims["claim_id"] == claim_id]
    if match.empty:
        raise KeyError(f"Claim {claim_id} is not in data/evidence/claims.csv")
    return match.iloc[0].to_dict()


def sources_of(rows: pd.DataFrame) -> tuple[str, ...]:
    return tuple(f"{r.id}: {r.source_org or r.source_title} ({r.year}; {r.verification})"
                 for r in rows.itertuples())
