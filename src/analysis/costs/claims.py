"""Verdicts on the claims that council unit costs and NHS payments to CICs bear on.

Rules (applied in ``assess_claims``, printed with each verdict):

* **"Productivity up to 45%"** (CL-MUT-01): *unsourced*. The minister cited no study;
  the nearest published figure is one mutual's own, unaudited report of 10-44% gains
  (Central Surrey Health, MUT-063), which is not an independent measurement of mutuals
  in general. Public council unit costs compare in-house provision with *all* external
  providers, so they cannot stand in for it; the within-council cost ratios are shown
  as the size of cost gaps between providers, with why they are not productivity.
* **Counts and values of mutuals** (CL-MUT-03 "65 live mutuals ... around £1bn";
  CL-MUT-08 "53 mutual organisations providing services to the NHS"): *not testable
  with public data*; no public register of mutuals exists. The NHS payments to CICs
  are shown as the nearest public bound (a CIC is a legal form, not a mutual).
* **"Proven track record ... quality ... cost effectively"** (CL-MUT-09): *partly
  supported* when, in the public data, the third sector's CQC ratings are no worse than
  councils' own services (intervals overlap or are higher) and external providers as a
  whole cost councils less per unit than their own services; that is a weaker claim
  (it is about all third-sector or all external providers, not social enterprises, and
  unit cost is not value for money), and "more responsive" is untested. *Mixed
  evidence* when the third sector is rated clearly worse in either setting.
* **Programme facts** (CL-MUT-10 "40 services ... contracts worth almost £1 billion"):
  *supported* when two or more outlets agree within 10% and one is independent of the
  claimant; the recorded NHS payments to CICs are shown beside it as a partial check.

A claimant is never evidence for their own claim; the catalogued datasets analysed
count as independent evidence (``datasets=``).
"""

from __future__ import annotations

import pandas as pd

from analysis.claims import Verdict, claim_row, independent_rows
from analysis.data.evidence import evidence_rows
from analysis.precision import fmt, fmt_interval

CLAIM_IDS = ("CL-MUT-01", "CL-MUT-03", "CL-MUT-08", "CL-MUT-09", "CL-MUT-10")
COST_DATASETS = ("pss_unit_costs_2008_09", "pss_unit_costs_2013_14", "ascfr_unit_costs_2014_15")
CIC_DATASET = ("nhs_cic_supplier_audit",)


def _value(rows: pd.DataFrame, fid: str) -> float:
    return float(rows.set_index("id").loc[fid, "value"])


def _ratio_text(pooled: pd.DataFrame, series: str) -> str:
    row = pooled.set_index("series").loc[series]
    return (f"{row['label'].lower()} {fmt_interval(row['ratio'], row['ci_low'], row['ci_high'])} times "
            f"({int(row['n_councils'])} councils)")


def assess_claims(claims: pd.DataFrame, figures: pd.DataFrame, *, within: pd.DataFrame, cic, quality: pd.DataFrame,
                  level: float) -> list[Verdict]:
    """Verdicts on CL-MUT-01, 03, 08, 09 and 10.

    ``within``: pooled within-council ratios (``comparisons.within_council(...).pooled``); ``cic``:
    a :class:`analysis.costs.cic.CicSector`; ``quality``: CQC share rated Good/Outstanding by setting
    and ownership for one year (``ratings.good_share_by_year``).
    """
    out = []
    ratios = within.set_index("series")
    low, high = ratios["ratio"].min(), ratios["ratio"].max()
    lvl = f"{level:.0%}"

    c = claim_row(claims, "CL-MUT-01")
    rows = evidence_rows(figures, c["evidence_ids"])
    csh = rows.set_index("id").loc["MUT-063"]
    out.append(Verdict.for_claim(
        c, "unsourced",
        "Unsourced: the minister cited no study, and the only published figure of that size is one mutual's own "
        "report of its gains, not an independent measurement of mutuals. Public council unit costs cannot stand in "
        "for it: they compare in-house provision with all external providers (for-profit, charities, social "
        "enterprises and mutuals together), and a unit cost is not productivity (no adjustment for quality or case "
        "mix).",
        f"Claimed: up to {_value(rows, 'MUT-027'):.0f}%, no study cited. Nearest figure located: Central Surrey "
        "Health's "
        f"own '{csh['lower']:.0f}-{csh['upper']:.0f}% gains in productivity' ({csh['year']}, {csh['verification']}), "
        "one community-health mutual reporting on itself. "
        f"Council data 2008-09 to 2013-14 ({lvl} intervals, clustered by council): councils' own provision cost "
        f"{low:.1f} to {high:.1f} times what they paid other providers for the same service in the same year, e.g. "
        + "; ".join(_ratio_text(within, s) for s in ("residential_older", "home_care") if s in ratios.index)
        + ". Gaps of that size between providers exist, but they measure cost per week or hour, not output per "
        "input, and say nothing about mutuals.",
        rows, datasets=COST_DATASETS,
        summary=("The minister cited no study; the only figure of that size found is one mutual's own report of "
                 f"{csh['lower']:.0f}-{csh['upper']:.0f}% gains. Public cost data cannot isolate mutuals: councils' "
                 "own "
                 f"services cost {low:.1f}-{high:.1f} times what they paid all external providers per unit, a cost "
                 "gap, not a productivity measure.")))

    c = claim_row(claims, "CL-MUT-03")
    rows = evidence_rows(figures, c["evidence_ids"])
    lo_y, hi_y = cic.per_year_gbp[1], cic.per_year_gbp[2]
    out.append(Verdict.for_claim(
        c, "not testable with public data",
        "No public register of mutuals exists, so the count and value can only be checked against other government "
        "counts and against public spending data that cannot tell a mutual from other companies.",
        f"65 live (Feb 2013) against 9 in 2010 = x{_value(rows, 'MUT-074') / _value(rows, 'MUT-038'):.1f}; BCG "
        "counted "
        f"{_value(rows, 'MUT-040'):.0f} mutuals delivering £{_value(rows, 'MUT-041'):.1f}bn in 2013. NHS bodies' "
        "spend "
        f"files record {cic.n_with_payments} community interest companies paid {fmt(cic.total_gbp / 1e9, '£bn')} in "
        f"payments over £25,000 over about {cic.window_years[0]}-{cic.window_years[1]} years, "
        f"{fmt(lo_y / 1e6, '£m', places=0)} to {fmt(hi_y / 1e6, '£m', places=0)} a year; partial coverage, CICs are "
        "not all mutuals, and mutuals also sell to councils, so this neither confirms nor refutes '£1bn'.",
        rows, datasets=CIC_DATASET,
        summary=("No public register of mutuals exists, so the count can only be set against other government counts "
                 f"(BCG counted {_value(rows, 'MUT-040'):.0f} in 2013). NHS payments to all CICs in public spend "
                 "files come "
                 f"to {fmt(lo_y / 1e6, '£m', places=0)}-{fmt(hi_y / 1e6, '£m', places=0)} a year, a partial figure "
                 "for a "
                 "different set of organisations.")))

    c = claim_row(claims, "CL-MUT-08")
    rows = evidence_rows(figures, c["evidence_ids"])
    out.append(Verdict.for_claim(
        c, "not testable with public data",
        "No public register of NHS mutuals; the count comes from Cabinet Office figures reported by others. Public "
        "spending data identify CICs, a legal form that includes many organisations that are not staff mutuals.",
        f"Cabinet Office figure {_value(rows, 'MUT-059'):.0f}; {_value(rows, 'MUT-060'):.0f} new mutuals formed from "
        "the "
        f"NHS 2009-2014 (MUT-060). NHS bodies paid {cic.n_with_payments} CICs (payments over £25,000, c. 2010-2020): "
        f"{cic.n_over_10m} received more than £10m in total and {cic.n_over_1m} more than £1m; many of those are GP "
        "federations or out-of-hours services, not staff spin-outs.",
        rows, datasets=CIC_DATASET,
        summary=(f"Untestable: no public register of NHS mutuals. NHS spend files show {cic.n_with_payments} CICs "
                 "paid over the decade, "
                 f"{cic.n_over_10m} of them more than £10m, but a CIC is a legal form, not a mutual.")))

    c = claim_row(claims, "CL-MUT-09")
    rows = evidence_rows(figures, c["evidence_ids"])
    q = quality.set_index(["setting", "ownership"])
    parts = []
    for setting in ("care homes", "community services"):
        for own in ("local authority", "third sector", "for-profit"):
            if (setting, own) in q.index:
                r = q.loc[(setting, own)]
                parts.append(f"{setting} {own} {r['share']:.0f}% ({r['ci_low']:.0f}-{r['ci_high']:.0f}%)")
    year = int(quality["year"].iloc[0]) if len(quality) else None
    no_worse, clearly_worse = [], []
    for setting in ("care homes", "community services"):
        if (setting, "third sector") in q.index and (setting, "local authority") in q.index:
            third, own = q.loc[(setting, "third sector")], q.loc[(setting, "local authority")]
            (clearly_worse if third["ci_high"] < own["ci_low"] else no_worse).append(setting)
    if clearly_worse:
        verdict = "mixed evidence"
        quality_text = ("the third sector was rated clearly worse than councils' own services in "
                        f"{' and '.join(clearly_worse)}"
                        " (intervals do not overlap)")
    elif no_worse:
        verdict = "partly supported"
        quality_text = f"third-sector ratings were no worse than councils' own services in {' and '.join(no_worse)}"
    else:
        verdict = "not testable with public data"
        quality_text = "no CQC ratings by ownership were available for the year chosen"
    out.append(Verdict.for_claim(
        c, verdict,
        "Partly supported when the third sector's CQC ratings are no worse than councils' own services and external "
        "providers as a whole cost councils less per unit: a weaker claim than the one made, because public data "
        "cannot separate social enterprises from other third-sector or external providers, unit cost is not value "
        "for money (no adjustment for quality or case mix), and 'more responsive' is untested. Mixed evidence when "
        "the third sector is rated clearly worse (intervals not overlapping) in either setting.",
        f"External providers as a whole cost councils less per unit than their own services in every service compared "
        f"(within-council ratios {low:.1f} to {high:.1f}, 2008-09 to 2013-14). CQC share rated Good or Outstanding in "
        f"{year} ({lvl} Wilson intervals): " + "; ".join(parts) + f"; {quality_text}. The cost gap may reflect pay "
        "and conditions, case mix and overhead allocation rather than efficiency, and the years differ.",
        rows, datasets=COST_DATASETS + ("cqc_care_home_ratings_by_year", "cqc_community_ratings_by_year"),
        summary=(f"Only in a weaker form: {quality_text}, and councils' own services cost {low:.1f}-{high:.1f} times "
                 "as "
                 "much per unit as external providers as a whole. No public data separate social enterprises, and "
                 "'more responsive' and value for money are untested.")))

    c = claim_row(claims, "CL-MUT-10")
    rows = evidence_rows(figures, c["evidence_ids"])
    value_bn = [_value(rows, "MUT-081"), _value(rows, "NAO-001")]
    agree = abs(value_bn[0] - value_bn[1]) <= 0.1 * max(value_bn) + 1e-9
    independent = not independent_rows(rows, c["claimant_orgs"]).empty
    verdict = "supported" if agree and independent else "unsourced"
    out.append(Verdict.for_claim(
        c, verdict,
        "A programme fact: supported when two or more outlets agree within 10% and at least one is independent of "
        "the claimant (here the National Audit Office).",
        f"40 services (government, 2012) against 'more than 40' (NAO-028); contracts 'almost £1bn' against the NAO's "
        f"£{value_bn[1]:.1f}bn a year. Partial check from NHS spend files: the {len(cic.largest)} largest CICs "
        "received "
        f"{fmt(cic.largest['total_paid_gbp'].sum() / 1e9, '£bn')} over c. 2010-2020, all CICs "
        f"{fmt(cic.per_year_gbp[1] / 1e6, '£m', places=0)} to {fmt(cic.per_year_gbp[2] / 1e6, '£m', places=0)} a year "
        "(payments over £25,000 from the bodies that published, so a floor, not a total).",
        rows, datasets=CIC_DATASET,
        summary=(f"The National Audit Office put the Right to Request services at £{value_bn[1]:.1f}bn a year, within "
                 "10% of 'almost £1 billion'; recorded NHS payments to CICs are lower but cover only part of the "
                 "spending.")))
    return out
