"""Verdicts on the NAO-related claims in the evidence register.

Each rule is written next to the claim it judges and printed with the verdict.
An audit finding cannot be "supported" by the NAO's own words or by outlets
quoting them: independence is checked on each register row's ``originator``
(see :mod:`analysis.claims`). Where the contracts themselves would be needed
and are not public, the most a finding can be is "partly supported".
"""

from __future__ import annotations

import re

import pandas as pd

from analysis.claims import Verdict, claim_row, independent_rows
from analysis.data.evidence import evidence_rows, figure
from analysis.findings import difference_phrase
from analysis.precision import fmt, fmt_interval

SERIOUS_SHARE = 0.05  # 'a serious part' of a savings programme, read generously as at least one-twentieth


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


def nicholson_bound(figures: pd.DataFrame) -> dict[str, float]:
    """The most the Right to Request contracts could have added to the Nicholson-challenge savings.

    If every contract had delivered the full target efficiency every year (NAO-033) on the NAO's
    contract value (NAO-006), the saving in the last year of the challenge would be
    ``V (1 - (1 - e)^years)``; as a share of the £15-20bn programme (NAO-050) it bounds how large a
    part of the savings the enterprises could have been.
    """
    value = float(figure(figures, "NAO-006")["value"])
    rate = float(figure(figures, "NAO-033")["value"]) / 100
    programme = figure(figures, "NAO-050")
    first, last = (int(y) for y in re.findall(r"(\d{4})/\d{2}", str(programme["year"])))
    years = last - first + 1
    saving = value * (1 - (1 - rate) ** years)
    low_bn, high_bn = float(programme["lower"]), float(programme["upper"])
    return {"value": value, "rate": rate, "years": years, "saving_year4": saving,
            "programme_low": low_bn * 1000, "programme_high": high_bn * 1000,
            "share_low": saving / (high_bn * 1000), "share_high": saving / (low_bn * 1000)}


def _independent(rows: pd.DataFrame, claim: dict) -> bool:
    return not independent_rows(rows, claim["claimant_orgs"]).empty


def _scenario_range(scenarios: dict, name: str, level: float) -> str:
    total = scenarios[name].total()
    return fmt_interval(total["mean"], total["low"], total["high"], "£m", level=level, word="range")


def assess_claims(claims: pd.DataFrame, figures: pd.DataFrame, scenarios: dict, proxy_comparison: pd.DataFrame,
                  level: float) -> list[Verdict]:
    """Verdicts on CL-NAO-01 to CL-NAO-05; ``scenarios`` are the model results by scenario name."""
    verdicts = []
    match_range = _scenario_range(scenarios, "match", level)
    target_range = _scenario_range(scenarios, "target", level)
    achieved_range = _scenario_range(scenarios, "achieved", level)

    c = claim_row(claims, "CL-NAO-01")
    rows = evidence_rows(figures, c["evidence_ids"])
    independent = independent_rows(rows, c["claimant_orgs"])
    own = [v for v in (_in_gbp_m(r) for r in rows.itertuples()) if v is not None]
    checks = [v for v in (_in_gbp_m(r) for r in independent.itertuples()) if v is not None]
    figure_confirmed = any(abs(v - 900) <= 0.1 * 900 for v in checks)
    verdicts.append(Verdict.for_claim(
        c, "partly supported" if figure_confirmed else "not testable with public data",
        "Partly supported if a source independent of the NAO puts the programme's value within 10% of £900m; the "
        "'many risks' are the auditor's judgement, which no public data can confirm as worded, so 'supported' is not "
        "available. Not testable if no independent value exists.",
        f"Values in the register: {', '.join(fmt(v, '£m') for v in own)}; independent of the NAO: "
        f"{', '.join(fmt(v, '£m') for v in checks) or 'none'}. Value at risk by scenario: contracts match in-house "
        f"{match_range}; in-house achieves measured productivity {achieved_range}; in-house meets the 4% target "
        f"{target_range}.",
        rows,
        summary=("The Department's own estimate (£900m of services, November 2010) confirms the figure. The 'many "
                 f"risks' are a judgement: under the NAO's own finding this report puts the value at risk at "
                 f"{match_range}, rising to {target_range} only if in-house provision would have met the 4% target.")))

    c = claim_row(claims, "CL-NAO-02")
    rows = evidence_rows(figures, c["evidence_ids"])
    verdicts.append(Verdict.for_claim(
        c, "partly supported" if _independent(rows, c) else "not testable with public data",
        "An audit finding about contract terms. Partly supported if a source independent of the NAO is consistent "
        "with it; 'supported' would need the contracts, which are not public. Otherwise not testable.",
        "Foregone savings are zero by construction if the contracts required what in-house would have saved "
        f"(scenario a); they are {_scenario_range(scenarios, 'achieved', level)} in total value at risk if the "
        "contracts required nothing while in-house provision achieved measured NHS productivity growth (scenario b).",
        rows,
        summary=("The Department's stated position, that social enterprises got the same contracts as any other "
                 "provider, is consistent with the finding and did not dispute it; the contracts are not public, so "
                 "what each required cannot be checked.")))

    c = claim_row(claims, "CL-NAO-03")
    rows = evidence_rows(figures, c["evidence_ids"])
    verdicts.append(Verdict.for_claim(
        c, "partly supported" if _independent(rows, c) else "not testable with public data",
        "An audit finding about objectives. Partly supported if a source independent of the NAO describes the "
        "programme's objectives as absent or only implied; 'supported' would need the Department's programme "
        "documents. Otherwise not testable.",
        "No measurable objective exists to test against; the criteria table rates effectiveness on that basis.",
        rows,
        summary=("Independent researchers (Millar, Hall and Miller, 2012) describe the programme's objectives as "
                 "'implied'; the Department answered that the programme served wider community-services objectives, "
                 "not that it had set its own.")))

    c = claim_row(claims, "CL-NAO-04")
    rows = evidence_rows(figures, c["evidence_ids"])
    cmp = proxy_comparison.set_index("measure")
    own_se, own_ih = proxy_comparison.attrs["spinout"], proxy_comparison.attrs["inhouse"]
    proxy_text = "; ".join(
        difference_phrase(m.capitalize(), f"{own_se} homes", f"{own_ih} homes", 100 * r["excess_rate"],
                          100 * r["excess_ci_low"], 100 * r["excess_ci_high"], unit="pp", level=level,
                          higher="a year higher", lower="a year lower")
        for m, r in cmp.iterrows())
    extra = scenarios["match"].component("extra_failure_cost")
    verdicts.append(Verdict.for_claim(
        c, "partly supported" if _independent(rows, c) else "not testable with public data",
        "Partly supported if a source independent of the NAO confirms the enterprises' dependence on their PCT; "
        "where the liabilities sit depends on contract terms that are not public. The size of the failure risk is "
        "estimated with the CQC closure proxy, applied to both sides.",
        f"Closures per 100 care homes a year: {proxy_text}. Extra failure cost of the contracts over in-house "
        f"provision: {fmt_interval(extra['mean'], extra['low'], extra['high'], '£m', level=level, word='range')}.",
        rows,
        summary=("Independent researchers confirm that PCTs had to guarantee the new enterprises 3-5 year contracts, "
                 "so each depended on one commissioner; where the liabilities sat is in contracts that are not public. "
                 "Measured by care-home closures on both sides, failure risk "
                 + ("does not clearly differ between spin-outs and in-house provision: the extra failure cost is "
                    if extra["low"] < 0 < extra["high"] else "differs: the contracts' extra failure cost is ")
                 + f"{fmt_interval(extra['mean'], extra['low'], extra['high'], '£m', level=level, word='range')}.")))

    c = claim_row(claims, "CL-NAO-05")
    rows = evidence_rows(figures, c["evidence_ids"])
    bound = nicholson_bound(figures)
    independent_savings = independent_rows(rows, c["claimant_orgs"])
    if bound["share_high"] < SERIOUS_SHARE and not independent_savings.empty:
        verdict = "contradicted"
    elif bound["share_high"] >= SERIOUS_SHARE:
        verdict = "not testable with public data"
    else:
        verdict = "unsourced"
    audited = figure(figures, "NAO-048")
    reported = figure(figures, "NAO-047")
    verdicts.append(Verdict.for_claim(
        c, verdict,
        f"Read generously, 'a serious part' of the savings means at least {fmt(100 * SERIOUS_SHARE, '%')} of them. "
        "Contradicted if published figures bound what the Right to Request enterprises could have saved below that "
        "and an independent audit attributes the savings elsewhere; not testable if the bound allows it; the "
        "£15-20bn itself is the Department's own target and cannot support the claim.",
        (f"Bound: {fmt(bound['value'], '£m')} a year of contracts (NAO-006) saving the full "
         f"{fmt(100 * bound['rate'], '%')} a year (NAO-033) for {bound['years']} years would save "
         f"{fmt(bound['saving_year4'], '£m')} a year by the last year, {fmt(100 * bound['share_low'], '%')} to "
         f"{fmt(100 * bound['share_high'], '%')} of the {fmt(bound['programme_low'] / 1000, '£bn')} to "
         f"{fmt(bound['programme_high'] / 1000, '£bn')} programme (NAO-050). In 2011-12 the Department reported "
         f"£{reported['value']:g}bn of savings (NAO-047), of which the NAO could substantiate £{audited['value']:g}bn, "
         "mostly from the pay freeze and lower prices paid by PCTs (NAO-048); the Government's plan split the savings "
         "between national measures, NHS trusts' own efficiency and service redesign, with no line for social "
         "enterprises (NAO-049). Mutuals were about 0.14% of public spending in 2013 (MUT-048). No public source "
         "breaks the savings down by provider."),
        rows,
        summary=(f"Even if every Right to Request contract had met the full 4% target, the enterprises could have "
                 f"saved about {fmt(bound['saving_year4'], '£m')} a year by 2014-15, "
                 f"{fmt(100 * bound['share_low'], '%', places=1)} to {fmt(100 * bound['share_high'], '%', places=1)} "
                 "of the £15-20bn; the NAO found the first year's savings came mostly from the pay freeze and lower "
                 "prices.")))
    return verdicts
