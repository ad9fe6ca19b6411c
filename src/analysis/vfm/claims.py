"""Verdicts on the NAO-related claims in the evidence register.

Each rule is written next to the claim it judges and printed with the verdict.
An audit finding cannot be "supported" by the NAO's own words or by outlets
quoting them: independence is checked on each register row's ``originator``
(see :mod:`analysis.claims`). The NAO is the claimant for its findings, so the
independent evidence must come from someone else: the audited Department's own
stated position counts (it is independent of the NAO and had every reason to
dispute the finding), as do independent researchers.

A finding is "supported" when such a source agrees with it as worded and no
public source contradicts it, even though the contracts themselves are not
public (the summary then says so): otherwise "supported" could never be reached
for an audit of private contracts, and a reader who sees only the label would
take "partly supported" to mean the NAO overstated. "Partly supported" is kept
for a finding only half of which any independent source confirms.

The claim that mutuals were "a serious part" of the NHS's £15-20bn savings is
"not testable with public data": no public source breaks the savings down by
provider. The arithmetic of what the Right to Request contracts could have
saved at the 4% target is shown for scale only; it is not a ceiling (4% was an
NHS-wide target) and the claim is about mutuals in general, so no threshold on
it decides a verdict.
"""

from __future__ import annotations

import re

import pandas as pd

from analysis.claims import Verdict, claim_row, independent_rows
from analysis.data.evidence import evidence_rows, figure
from analysis.findings import difference_phrase
from analysis.precision import fmt, fmt_interval
from analysis.vfm.failure import MEASURES, definitions_phrase


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
    """What the Right to Request contracts would have added to the NHS's £15-20bn savings (the "Nicholson
    challenge", after the NHS chief executive who set it) had they saved the 4% target every year.

    If every contract had delivered the target efficiency every year (NAO-033) on the NAO's contract
    value (NAO-006), the saving in the last year of the challenge would be ``V (1 - (1 - e)^years)``;
    as a share of the £15-20bn programme (NAO-050) it gives the scale of the contracts against the
    savings sought. It is **context, not a bound on the claim**: 4% was an NHS-wide target, not a ceiling
    on what a provider could save, and the claim is about mutuals in general.
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


def _definitions_phrase(failure_by_definition: pd.DataFrame) -> str:
    return definitions_phrase(list(failure_by_definition["definition"]),
                              list(failure_by_definition["extra_failure_cost"]))


# The register's risks whose condition one of the NAO's own findings states, and the verdict labels on that
# finding that mean a source independent of the NAO confirms the condition (CL-NAO-02 is partly supported because
# the contract terms are confirmed and what PCTs expected is not; CL-NAO-04 because the dependence is confirmed
# and the liabilities are not).
RISK_CONFIRMED_BY = {
    "No savings contracted beyond in-house provision": ("CL-NAO-02", {"supported", "partly supported"}),
    "No measurable objectives for the programme": ("CL-NAO-03", {"supported"}),
    "Enterprises dependent on one commissioner's work and cash flow": ("CL-NAO-04", {"supported", "partly supported"}),
}


def _proxy_phrase(row, spinout: str, inhouse: str, level: float) -> str:
    """One closure definition's excess rate in closures per 100 homes a year. A definition that counts different
    closures on the two sides (every spin-out closure, only involuntary in-house ones) differs by construction, so
    its interval would lend a definitional gap the look of a measured one: it is given without one."""
    spin_col, inhouse_col = MEASURES[row.measure]
    rate = 100 * row.excess_rate
    if spin_col != inhouse_col:
        return (f"{row.measure.capitalize()}: {fmt(abs(rate), '', places=2)} "
                f"{'more' if rate > 0 else 'fewer'} closures per 100 {spinout} homes a year than {inhouse} homes, "
                f"a gap built into the definition (every {spinout} closure against only involuntary {inhouse} ones), "
                "so no interval is given")
    return difference_phrase(row.measure.capitalize(), f"{spinout} homes", f"{inhouse} homes", rate,
                             100 * row.excess_ci_low, 100 * row.excess_ci_high, unit="", level=level,
                             higher="more closures per 100 homes a year", lower="fewer closures per 100 homes a year")


def _within_ten_percent(value_gbp_m: float) -> str:
    """'£900m' when within 10% of the claimed £900m, else '£1,000m (11% above the claimed £900m, outside 10%)'.
    The rule measures from the figure the claim gives, as CL-MUT-10's does from its 'almost £1 billion'."""
    gap = value_gbp_m / 900 - 1
    if abs(gap) <= 0.1:
        return fmt(value_gbp_m, "£m")
    return (f"{fmt(value_gbp_m, '£m')} ({fmt(100 * abs(gap), '%', places=0)} {'above' if gap > 0 else 'below'} "
            "the claimed £900m, outside 10%)")


def _confirmation(risk: str, by_claim: dict) -> str:
    """'no measurable objectives for the programme, see CL-NAO-03 and NAO-051'."""
    verdict = by_claim[RISK_CONFIRMED_BY[risk][0]]
    ids = " and ".join(verdict.independent_ids) or "no row named"
    return f"{risk[:1].lower()}{risk[1:]}, see {verdict.claim_id} and {ids}"


def assess_claims(claims: pd.DataFrame, figures: pd.DataFrame, scenarios: dict, proxy_comparison: pd.DataFrame,
                  level: float, failure_by_definition: pd.DataFrame,
                  register: pd.DataFrame | None = None) -> list[Verdict]:
    """Verdicts on CL-NAO-01 to CL-NAO-05; ``scenarios`` are the model results by scenario name,
    ``failure_by_definition`` the contracts' net extra failure cost under each named closure definition and
    ``register`` this report's risk register (:func:`analysis.vfm.assessment.risk_register`), which CL-NAO-01's
    "many risks" is tested against."""
    verdicts = []
    match_mean = fmt(scenarios["match"].total()["mean"], "£m", places=0)  # whole £m, as in the key findings
    target_range = _scenario_range(scenarios, "target", level)
    achieved_range = _scenario_range(scenarios, "achieved", level)
    setup = fmt(scenarios["match"].component("setup_cost")["mean"], "£m")
    definitions = _definitions_phrase(failure_by_definition)

    c = claim_row(claims, "CL-NAO-02")
    rows = evidence_rows(figures, c["evidence_ids"])
    verdicts.append(Verdict.for_claim(
        c, "partly supported" if _independent(rows, c) else "not testable with public data",
        "An audit finding in two parts; the NAO is the claimant. The contract terms (no savings or other benefits "
        "contracted beyond any other provider's) are confirmed if a source independent of the NAO (here the audited "
        "Department's position as reported by the HSJ, a department which had every reason to dispute it) agrees and "
        "no public source contradicts it; what PCTs expected of the enterprises has no independent source. Partly "
        "supported when only the contract terms are confirmed; not testable if no independent source speaks to "
        "either. The contracts are not public, and the summary says so.",
        "What the finding allows: the contracts required between nothing and what in-house would have saved. "
        "Foregone savings are zero if they required exactly what in-house would have saved (scenario a, the most "
        f"favourable reading); the value at risk is {achieved_range} if they required nothing while in-house "
        "provision achieved measured NHS productivity growth (scenario b).",
        rows,
        summary=("The contract half is confirmed: the Department, the audited party, was reported by the HSJ as "
                 "saying it would be against the principles of NHS competition to give social enterprises different "
                 "contracts from any other provider, which agrees with the finding; it disputed the finding's point, "
                 "not its accuracy, and no public source contradicts it. What PCTs expected of the enterprises rests "
                 "on the NAO alone. The contracts themselves are not public.")))

    c = claim_row(claims, "CL-NAO-03")
    rows = evidence_rows(figures, c["evidence_ids"])
    verdicts.append(Verdict.for_claim(
        c, "supported" if _independent(rows, c) else "not testable with public data",
        "An audit finding about objectives; the NAO is the claimant. Supported if a source independent of the NAO "
        "describes the programme's objectives as absent or only implied and no public source records measurable "
        "objectives for it; the Department's programme documents are not public, and the summary says so. "
        "Otherwise not testable.",
        "No measurable objective exists to test against; the criteria table rates effectiveness on that basis.",
        rows,
        summary=("Consistent with all the public evidence: independent researchers (Millar, Hall and Miller, 2012) "
                 "describe the programme's objectives as 'implied' (improving patient care, empowering staff), and "
                 "no public source records measurable objectives for it. The Department's programme documents are "
                 "not public.")))

    c = claim_row(claims, "CL-NAO-04")
    rows = evidence_rows(figures, c["evidence_ids"])
    own_se, own_ih = proxy_comparison.attrs["spinout"], proxy_comparison.attrs["inhouse"]
    proxy_text = "; ".join(_proxy_phrase(r, own_se, own_ih, level) for r in proxy_comparison.itertuples())
    verdicts.append(Verdict.for_claim(
        c, "partly supported" if _independent(rows, c) else "not testable with public data",
        "Two findings in one; the NAO is the claimant. Partly supported if a source independent of the NAO confirms "
        "the enterprises' dependence on their PCT while where the liabilities sit rests on contract terms that are "
        "not public; supported would need an independent source for both. The size of the failure risk is shown "
        "with the CQC closure proxy under each named definition, applied to both sides.",
        f"Closures per 100 care homes a year, pooled over the contract years: {proxy_text}. Net extra failure cost "
        "of the contracts over in-house "
        f"provision, by which closures count: {definitions}.",
        rows,
        summary=("Consistent with all the public evidence, and half of it independently confirmed: researchers "
                 "confirm that PCTs had to guarantee the new enterprises 3-5 year contracts, so each depended on one "
                 "commissioner; where the liabilities sat is in contracts that are not public. What failures would "
                 f"cost is unknown from public data: with care-home closures as a stand-in it is {definitions}.")))

    c = claim_row(claims, "CL-NAO-05")
    rows = evidence_rows(figures, c["evidence_ids"])
    bound = nicholson_bound(figures)
    audited = figure(figures, "NAO-048")
    reported = figure(figures, "NAO-047")
    verdicts.append(Verdict.for_claim(
        c, "not testable with public data",
        "Not testable: 'a serious part' has no published measure, no public source breaks the NHS savings down by "
        "provider, and the claim is about mutuals in general and 'transforming' services, not only the Right to "
        "Request contracts. The arithmetic below gives scale only: 4% a year was an NHS-wide target, not a ceiling "
        "on what a provider could save. The £15-20bn itself is the Department's own target and cannot support the "
        "claim.",
        (f"For scale: {fmt(bound['value'], '£m')} a year of contracts (NAO-006) saving "
         f"{fmt(100 * bound['rate'], '%')} a year (the NHS target, NAO-033) for {bound['years']} years would save "
         f"{fmt(bound['saving_year4'], '£m')} a year by the last year, {fmt(100 * bound['share_low'], '%', places=1)} "
         f"to {fmt(100 * bound['share_high'], '%', places=1)} of the {fmt(bound['programme_low'] / 1000, '£bn')} to "
         f"{fmt(bound['programme_high'] / 1000, '£bn')} programme (NAO-050). In 2011-12 the Department reported "
         f"£{reported['value']:g}bn of savings (NAO-047), of which the NAO could substantiate £{audited['value']:g}bn, "
         "mostly from the pay freeze and lower prices paid by PCTs (NAO-048); the Government's plan split the savings "
         "between national measures, NHS trusts' own efficiency and service redesign, with no line for social "
         "enterprises (NAO-049). Mutuals were about 0.14% of public spending in 2013 (MUT-048). No public source "
         "breaks the savings down by provider."),
        rows,
        summary=("No public source breaks the £15-20bn down by provider, so the claim cannot be tested. For scale: "
                 f"had every Right to Request contract saved the 4% target every year, the enterprises would have "
                 f"saved about {fmt(bound['saving_year4'], '£m')} a year by 2014-15, "
                 f"{fmt(100 * bound['share_low'], '%', places=1)} to {fmt(100 * bound['share_high'], '%', places=1)} "
                 "of the £15-20bn; the NAO found the first year's savings came mostly from the pay freeze and lower "
                 "prices.")))
    c = claim_row(claims, "CL-NAO-01")
    rows = evidence_rows(figures, c["evidence_ids"])
    independent = independent_rows(rows, c["claimant_orgs"])
    own = [v for v in (_in_gbp_m(r) for r in rows.itertuples()) if v is not None]
    checks = [v for v in (_in_gbp_m(r) for r in independent.itertuples()) if v is not None]
    figure_confirmed = any(abs(v - 900) <= 0.1 * 900 for v in checks)
    named = [] if register is None else [str(r) for r in register["risk"]]
    # A risk counts only when a source independent of the NAO confirms the condition behind it: the verdicts on
    # the NAO's own findings (CL-NAO-02 to 04) say whether one does. The register's ratings are not used: their
    # likelihoods are the NAO's findings themselves, so on their own they would make the NAO its own evidence.
    by_claim = {v.claim_id: v for v in verdicts}
    confirmed = [r for r in named if r in RISK_CONFIRMED_BY and by_claim.get(RISK_CONFIRMED_BY[r][0]) is not None
                 and by_claim[RISK_CONFIRMED_BY[r][0]].verdict in RISK_CONFIRMED_BY[r][1]]
    verdict = ("supported" if figure_confirmed and confirmed else
               "partly supported" if figure_confirmed else "not testable with public data")
    verdicts.insert(0, Verdict.for_claim(
        c, verdict,
        "Supported if a source independent of the NAO puts the programme's value within 10% of £900m and the "
        "condition behind at least one of the risks the NAO named is confirmed by a source independent of the NAO "
        "(the verdicts on CL-NAO-02 to CL-NAO-04); this report's risk ratings are not used, since their likelihoods "
        "are the NAO's own findings. Partly supported if the value is confirmed but no risk's condition is; not "
        "testable if no independent value exists.",
        f"Values in the register: {', '.join(fmt(v, '£m') for v in own)}; independent of the NAO: "
        f"{', '.join(_within_ten_percent(v) for v in checks) or 'none'}. Value at risk by scenario: contracts "
        "required nothing "
        f"while in-house improved at measured NHS rates {achieved_range}; contracts required what in-house would "
        f"have saved (the most favourable reading) about {match_mean}, of which only the {setup} set-up support is "
        f"measured; in-house meets the 4% target {target_range}.",
        rows,
        summary=((f"Sources independent of the NAO confirm the conditions behind {len(confirmed)} of the "
                  f"{len(named)} risks the NAO named ({'; '.join(_confirmation(r, by_claim) for r in confirmed)}). "
                  if confirmed else
                  f"The {len(named)} risks the NAO named rest only on the NAO's own findings. " if named else "")
                 + "The Department's own estimate (£900m of services, November 2010) confirms the figure. The NAO "
                 "found the contracts required no savings beyond in-house provision, "
                 "which puts what they required between nothing and what in-house would have saved, so this report "
                 f"puts the value at risk at {achieved_range} if they required nothing while in-house improved at "
                 f"measured NHS rates, about {match_mean} at the most favourable reading, and {target_range} only if "
                 "in-house provision would have met the 4% target.")))

    return verdicts
