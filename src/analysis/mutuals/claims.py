"""Verdicts on the mutuals claims in the evidence register.

Rules (applied in ``assess_claims``, printed with each verdict):

* **Performance claims** ("almost overnight" productivity) are *not testable with
  public data* when no public dataset measures the outcome for mutuals.
* **Programme-specific counts** are *contradicted* when the register shows the
  programme delivered far fewer than claimed (under half).
* **Programme facts** (budgets) are *supported* when two or more outlets agree
  within 10%.
* The **NAViGO comparison** is *not testable with public data* when the survey
  item it quotes is absent from the public staff-survey file; the same
  one-organisation-against-benchmark method is shown on the items that exist.

The claims that council unit costs and NHS payments to CICs bear on ("productivity
up to 45%", "65 live mutuals ... £1bn", "53 mutual organisations providing services
to the NHS", "cost effectively", "40 services ... almost £1 billion") are judged in
``analysis.costs.claims``.
"""

from __future__ import annotations

import pandas as pd

from analysis.claims import Verdict, claim_row, independent_rows
from analysis.data.evidence import evidence_rows
from analysis.data.staff_survey import ITEMS


def _value(rows: pd.DataFrame, fid: str) -> float:
    return float(rows.set_index("id").loc[fid, "value"])


def assess_claims(claims: pd.DataFrame, figures: pd.DataFrame, *, community: pd.DataFrame | None,
                  focus: pd.DataFrame | None, focus_name: str, cqc_models: pd.DataFrame,
                  cqc_shares: pd.DataFrame, n_survey_social_enterprises: int) -> list[Verdict]:
    """Verdicts on CL-MUT-02 and 04 to 07.

    ``cqc_models`` and ``n_survey_social_enterprises`` fed claims now judged in ``analysis.costs.claims``;
    they are still accepted so the mutuals report's call is unchanged while that report is reworked.
    """
    out = []

    c = claim_row(claims, "CL-MUT-02")
    rows = evidence_rows(figures, c["evidence_ids"])
    item_present = any("priority" in i.label.lower() for i in ITEMS)
    numbers = (f"Claimed {_value(rows, 'MUT-028'):.0f}% vs a national average of "
               f"{rows.set_index('id').loc['MUT-028', 'comparator_value']}%. The public staff-survey file has no "
               "'care of patients is my organisation's top priority' item.")
    if focus is not None and not focus.empty:
        latest = focus[focus["year"] == focus["year"].max()]
        parts = [f"{r.label.split(' (')[0].lower()}: {r.organisation_rate:.0f}% vs trusts' {r.national_trust_average:.0f}%"
                 for r in latest.itertuples()]
        numbers += f" On the items that exist, {focus_name} in {int(latest['year'].iloc[0])}: " + "; ".join(parts) + "."
    out.append(Verdict.for_claim(c, "not testable with public data" if not item_present else "supported",
                  "The quoted survey item is absent from the public file, so the claim cannot be checked; one "
                  "organisation against a national average is, in any case, not adjusted for trust type or change "
                  "over time.", numbers, rows))

    c = claim_row(claims, "CL-MUT-04")
    rows = evidence_rows(figures, c["evidence_ids"])
    budgets = rows[rows["id"].isin(["MUT-029", "MUT-082"])]
    agree = budgets["source_org"].nunique() >= 2 and (budgets["value"].max() - budgets["value"].min()) <= 0.1 * budgets["value"].max()
    independent = not independent_rows(rows, c["claimant_orgs"]).empty
    out.append(Verdict.for_claim(c, "supported" if agree and independent else "unsourced",
                  "A programme fact: supported when two or more outlets agree within 10% and one is independent of "
                  "the government.",
                  f"Budget £{_value(rows, 'MUT-029'):.0f}m (minister) and 'more than £{_value(rows, 'MUT-082'):.0f}m' "
                  f"(government paper). Outcome: the programme had helped {_value(rows, 'MUT-031'):.0f} mutuals by about "
                  f"2014, of which {_value(rows, 'MUT-032'):.0f} were live.", rows))

    c = claim_row(claims, "CL-MUT-05")
    rows = evidence_rows(figures, c["evidence_ids"])
    latest = cqc_shares[cqc_shares["year"] == cqc_shares["year"].max()]
    parts = [f"{r.setting} {r.ownership} {r.share:.0f}%" for r in latest.itertuples()]
    out.append(Verdict.for_claim(c, "not testable with public data",
                  "No public dataset records service users' satisfaction with mutuals; the register holds mutuals' "
                  "own reports, and CQC data cannot identify mutuals within the third sector.",
                  f"Self-reported: {_value(rows, 'MUT-014'):.0f}% of surveyed mutuals said quality improved. CQC share "
                  f"rated Good/Outstanding, {int(latest['year'].iloc[0])}: " + "; ".join(parts) + ".", rows))

    c = claim_row(claims, "CL-MUT-06")
    rows = evidence_rows(figures, c["evidence_ids"])
    live_msp = _value(rows, "MUT-032")
    claimed = _value(rows, "MUT-075")
    out.append(Verdict.for_claim(c, "contradicted" if live_msp < claimed / 2 else "supported",
                  "A programme-specific count is contradicted when the register shows the programme delivered under "
                  "half the number claimed.",
                  f"Claimed {claimed:.0f} spun out under the Mutuals Support Programme since 2010. The register: "
                  f"{_value(rows, 'MUT-033'):.0f} mutuals in all (July 2014), about half from the pre-2010 Right to "
                  f"Request; the programme had helped {_value(rows, 'MUT-031'):.0f}, of which {live_msp:.0f} were live.",
                  rows))

    c = claim_row(claims, "CL-MUT-07")
    rows = evidence_rows(figures, c["evidence_ids"])
    context = ""
    if community is not None and not community.empty:
        worse = community[community["verdict"] == "worse"]["item"].tolist()
        better = community[community["verdict"] == "better"]["item"].tolist()
        context = (f" Staff-survey context (community social enterprises vs community trusts, 2021-24): "
                   f"robustly better on {len(better)} item(s), worse on {len(worse)}, of {len(community)}.")
    out.append(Verdict.for_claim(c, "not testable with public data",
                  "No public dataset measures productivity before and after spin-out; the figures located are surveys "
                  "of surviving mutuals.",
                  f"BCG (2013): staff absence down {_value(rows, 'MUT-045'):.0f}% and turnover down "
                  f"{_value(rows, 'MUT-046'):.0f}% since spin-out (self-reported, survivors)." + context, rows))

    return out
