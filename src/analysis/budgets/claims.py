"""Verdicts on the personal-budget claims in the evidence register.

Rules:

* A **factual count** (13 pilot councils "from Gateshead to West Sussex") is
  *supported* when two sources give the number and the named list contains the
  places the claim names.
* A claim of **success made before the evaluation reported** is *unsourced*: it
  rests on no published evidence; the evaluation's own results are shown.
* A claim of **"huge benefit" in money and wellbeing** is *unsourced* when the
  controlled studies show mixed or null effects and no study shows savings; it
  would be *contradicted* if every controlled study found no benefit.
* A claim about **long-term change in provision** is *supported* when the
  national ASCOF series shows self-directed support as the norm.
"""

from __future__ import annotations

import pandas as pd

from analysis.claims import Verdict, claim_row
from analysis.data.evidence import evidence_rows


def assess_claims(claims: pd.DataFrame, figures: pd.DataFrame, *, pilots: pd.DataFrame, england: pd.DataFrame,
                  within: pd.DataFrame | None) -> list[Verdict]:
    out = []
    c = claim_row(claims, "CL-PB-01")
    rows = evidence_rows(figures, c["evidence_ids"])
    by_id = rows.set_index("id")
    names = [n.strip() for n in str(by_id.loc["PB-048", "group"]).split(";")]
    counts = {float(by_id.loc["PB-001", "value"]), float(by_id.loc["PB-048", "value"]), float(len(names))}
    named = {"Gateshead", "West Sussex"} <= set(names)
    out.append(Verdict.for_claim(c, "supported" if counts == {13.0} and named else "contradicted",
                  "A count is supported when two sources give it and the named list includes the places the claim names.",
                  f"University of York: {by_id.loc['PB-001', 'value']:.0f} councils; Department of Health list "
                  f"(Community Care, 2005): {len(names)} councils including Gateshead and West Sussex.", rows))

    c = claim_row(claims, "CL-PB-02")
    rows = evidence_rows(figures, c["evidence_ids"])
    by_id = rows.set_index("id")
    out.append(Verdict.for_claim(c, "unsourced",
                  "A judgement of success published before the evaluation reported (the IBSEN final report came in "
                  "October 2008) rests on no published evidence.",
                  f"IBSEN then found costs of about £{by_id.loc['PB-003', 'value']:.0f} vs "
                  f"£{float(by_id.loc['PB-003', 'comparator_value']):.0f} for standard services, better quality of "
                  "life for mental-health users and carers, and least benefit for older people (see the synthesis "
                  "table): mixed, not a clear success.", rows))

    c = claim_row(claims, "CL-PB-03")
    rows = evidence_rows(figures, c["evidence_ids"])
    pil = pilots.set_index("outcome")
    rtc = pil.loc["control over daily life (as much as wanted)"]
    mort = pil.loc["mortality at 12 months"]
    ascot = pil.loc["care-related quality of life (ASCOT change)"]
    controlled_null = all(lo <= 0 <= hi for lo, hi in ((rtc["ci_low"], rtc["ci_high"]),))
    positive_found = ascot["estimate"] > 0
    verdict = "contradicted" if controlled_null and not positive_found else "unsourced"
    within_text = ""
    if within is not None and not within.empty:
        w = within[(within["outcome"] == "control_daily_life") & (within["exposure"] == "dp_users")]
        if not w.empty:
            w = w.iloc[0]
            within_text = (f" Across councils, a 1-point higher direct-payment share goes with a {w['slope']:+.3f}-point "
                           f"change in users' control over daily life (council and year effects; CI {w['ci_low']:+.3f} "
                           f"to {w['ci_high']:+.3f}): an association, not an effect on budget holders.")
    out.append(Verdict.for_claim(c, verdict,
                  "'Huge benefit' in money and wellbeing needs controlled evidence of both; 'contradicted' if every "
                  "controlled study found no benefit, 'unsourced' if results are mixed and no study shows savings.",
                  f"PHBE: ASCOT change {ascot['budget_arm']} vs {ascot['comparison_arm']} (significant; critics note "
                  f"90% confidence was used), mortality {mort['budget_arm']} vs {mort['comparison_arm']} "
                  f"(difference {mort['estimate']:+.1f} pp, CI {mort['ci_low']:+.1f} to {mort['ci_high']:+.1f}), no "
                  f"effect on costs. Right to Control: control over daily life {rtc['budget_arm']} vs "
                  f"{rtc['comparison_arm']} ({rtc['estimate']:+.1f} pp, CI {rtc['ci_low']:+.1f} to {rtc['ci_high']:+.1f}). "
                  f"IBSEN: costs similar." + within_text, rows))

    c = claim_row(claims, "CL-PB-04")
    rows = evidence_rows(figures, c["evidence_ids"])
    sds = england[england["concept"] == "sds_users"].sort_values("year_end")
    dp = england[england["concept"] == "dp_users"].sort_values("year_end")
    supported = not sds.empty and sds["value"].min() >= 80
    out.append(Verdict.for_claim(c, "supported" if supported else "unsourced",
                  "Supported when the national ASCOF series shows self-directed support as the norm (80% or more of "
                  "service users in every year).",
                  f"England: self-directed support {sds['value'].iloc[0]:.1f}% ({sds['year'].iloc[0]}) to "
                  f"{sds['value'].iloc[-1]:.1f}% ({sds['year'].iloc[-1]}); direct payments {dp['value'].iloc[0]:.1f}% to "
                  f"{dp['value'].iloc[-1]:.1f}%. Over 125,000 people had personal budgets by 2012 (PB-024).", rows))
    return out
