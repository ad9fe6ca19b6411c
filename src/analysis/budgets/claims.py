"""Verdicts on the personal-budget claims in the evidence register.

Every verdict is one word of the scale in :mod:`analysis.claims`, decided by the rule written next to it, with
the two or three deciding facts as its ``summary``. Rules:

* A **factual count or event** (13 pilot councils "from Gateshead to West Sussex"; the first parent-promoted
  school; pilots of participatory budgeting) is *supported* when a source independent of the claimant gives it,
  its timing included. An article's ``date`` in ``claims.csv`` may say what it was written before ("2008 (before
  spring: ...)", :func:`article_date`); "this September" in an article written before September of its year means
  the September before.
* A claim of **success or benefit** ("judged a success"; a "huge benefit" in money and happiness) is judged on the
  controlled studies: *supported* if they all found benefit, *contradicted* if none did, *mixed evidence* if some
  found benefit and others none.
* An **opinion with a forecast** ("debate ... is over ... it is about long-term change in the way of providing
  services") is at most *partly supported*: the opinion cannot be tested, and the forecast is tested on the
  national ASCOF series. Partly supported when self-directed support went on to cover most service users (more
  than half, the plain meaning of a change in the way services are provided) in every year observed;
  contradicted when it did not.
* An **illustrative figure in a rhetorical point** (a child "worth £6,000 a year", to show that six families could
  employ a teacher) is judged on its order of magnitude against the nearest independent figure: *partly
  supported* within 25% (never *supported*: an illustration is not a measurement, and the comparison has limits
  the summary states), *contradicted* beyond.
* A claim of **scope for more** budgets is *partly supported* when independent figures show room to grow in one of
  the areas it names but not the other.
* A **policy under consideration** ("we are looking at" budgets for long-term conditions) is *supported* when an
  independent source records the policy being tried.
"""

from __future__ import annotations

import re

import pandas as pd

from analysis.budgets.synthesis import OUR_CALCULATION
from analysis.claims import Verdict, claim_row, independent_rows
from analysis.data.evidence import evidence_rows
from analysis.errors import DataError
from analysis.findings import clear_difference
from analysis.precision import decimals, fmt

ASCOF_DATASET = "ascof_trend"

def split_by_kind(verdicts: list[Verdict]) -> tuple[list[Verdict], list[Verdict]]:
    """(claims about what budgets do for people, programme facts and other statements), each in the original order.

    The kind comes from ``claims.csv`` (``kind``); the key findings, the verdict section and the run index tally
    the two separately (:func:`analysis.claims.verdict_groups`), outcome claims first, so programme facts do not
    flatter the tally."""
    outcome = [v for v in verdicts if v.kind == "outcome"]
    return outcome, [v for v in verdicts if v.kind != "outcome"]


def difference_text(estimate: float, low: float, high: float, unit: str = "pp", level: float | None = None) -> str:
    """'+2.1 pp, 95% interval -0.5 to +4.7 pp': a signed estimate and its interval, rounded by the precision rule."""
    places = decimals(estimate, low, high)

    def signed(v: float) -> str:
        text = fmt(v, "pp", places=places).removesuffix(" pp")
        return text + (f" {unit}" if unit else "")

    lvl = f"{level:.0%} " if level else ""
    low_text = signed(low).removesuffix(" " + unit) if unit else signed(low)
    return f"{signed(estimate)}, {lvl}interval {low_text} to {signed(high)}"


IBSEN_COST_UNIT = "no time unit is stated in the located source; the evaluation's report tables are weekly"
"""What the evidence register (PB-003) says of the unit of IBSEN's '£280 against £300'."""


_SEASON_STARTS = {"spring": 3, "summer": 6, "autumn": 9, "winter": 12}
_SEASON_OF = {month: season for season, month in _SEASON_STARTS.items()}


def article_date(date: object) -> tuple[int, int | None]:
    """(year, month it was written before) from a claim's ``date`` in ``claims.csv``: "2008" -> (2008, None);
    "2008 (before spring: ...)" -> (2008, 3), the article being written before March of 2008."""
    text = str(date)
    year = int(text[:4])
    marker = re.search(r"\(before (spring|summer|autumn|winter)\b", text)
    return year, (_SEASON_STARTS[marker.group(1)] if marker else None)


def _row(rows: pd.DataFrame, fid: str) -> pd.Series:
    return rows.set_index("id").loc[fid]


def _benefit_verdict(found: list[bool]) -> str:
    """'supported' if every controlled study found benefit, 'contradicted' if none did, else 'mixed evidence'."""
    if not found:
        return "unsourced"
    if all(found):
        return "supported"
    if not any(found):
        return "contradicted"
    return "mixed evidence"


def assess_claims(claims: pd.DataFrame, figures: pd.DataFrame, *, pilots: pd.DataFrame, england: pd.DataFrame,
                  within: pd.DataFrame | None, framework_notes: dict[str, str] | None = None) -> list[Verdict]:
    """``framework_notes``: per ASCOF share, the caveat for its 2023-24 value, the first year of ASCOF's new measure
    codes (:func:`analysis.budgets.profile.framework_change_note`), added wherever a verdict quotes that year."""
    out = []
    notes = framework_notes or {}
    sds_note = f" {notes['sds_users']}." if "sds_users" in notes else ""
    dp_note = f" {notes['dp_users']}." if "dp_users" in notes else ""
    pil = pilots.set_index("outcome")
    rtc = pil.loc["control over daily life (as much as wanted)"]
    mort = pil.loc["mortality at 12 months"]
    ascot = pil.loc["care-related quality of life (ASCOT change)"]
    sds = england[england["concept"] == "sds_users"].sort_values("year_end")
    dp = england[england["concept"] == "dp_users"].sort_values("year_end")

    c = claim_row(claims, "CL-PB-01")
    rows = evidence_rows(figures, c["evidence_ids"])
    by_id = rows.set_index("id")
    names = [n.strip() for n in str(by_id.loc["PB-048", "group"]).split(";")]
    counts = {float(by_id.loc["PB-001", "value"]), float(by_id.loc["PB-048", "value"]), float(len(names))}
    named = {"Gateshead", "West Sussex"} <= set(names)
    out.append(Verdict.for_claim(
        c, "supported" if counts == {13.0} and named else "contradicted",
        "A count is supported when two sources give it and the named list includes the places the claim names.",
        f"University of York: {by_id.loc['PB-001', 'value']:.0f} councils; Department of Health list (Community Care, "
        f"2005): {len(names)} councils including Gateshead and West Sussex.", rows,
        summary=(f"The IBSEN evaluators (University of York) give {by_id.loc['PB-001', 'value']:.0f} pilot councils, "
                 f"and the Department of Health's 2005 list names {len(names)}, including Gateshead and West Sussex.")))

    c = claim_row(claims, "CL-PB-02")
    rows = evidence_rows(figures, c["evidence_ids"])
    by_id = rows.set_index("id")
    found = [str(pil.loc["feeling in control of daily life", "budget_arm"]).startswith("higher"),
             str(pil.loc["quality of life", "budget_arm"]).startswith("higher"),
             str(pil.loc["carers' quality of life", "budget_arm"]).startswith("higher"),
             _saves(by_id.loc["PB-003"])]
    out.append(Verdict.for_claim(
        c, _benefit_verdict(found),
        "Judged on what the evaluation of the same pilots found: 'supported' if it found benefit throughout, "
        "'contradicted' if none, 'mixed evidence' if some. The claim itself came before the evaluation reported "
        "(the IBSEN final report, October 2008), so it rested on no published evidence at the time.",
        "IBSEN: 'no important differences in overall cost' (the evaluators), about "
        f"£{by_id.loc['PB-003', 'value']:.0f} vs £{float(by_id.loc['PB-003', 'comparator_value']):.0f} for "
        "standard services; budget holders more likely to feel in control of their daily lives (PB-112); higher "
        "quality of life for mental-health users (PB-005) and carers (PB-006); older people found budgets least easy "
        "to use.", rows,
        summary=(f"Judged before the evaluation reported. IBSEN then found that budget holders felt more in control "
                 "of their daily lives, and better quality of life for mental-health service users and for carers, "
                 "but not for older people, who found budgets less easy to use; on cost, the evaluators reported 'no "
                 f"important differences in overall cost' (£{by_id.loc['PB-003', 'value']:.0f} against "
                 f"£{float(by_id.loc['PB-003', 'comparator_value']):.0f}; {IBSEN_COST_UNIT}): a mixed result, not a "
                 "clear success.")))

    c = claim_row(claims, "CL-PB-03")
    rows = evidence_rows(figures, c["evidence_ids"])
    # The verdict rests on the independent evaluations only: PHBE (PB-012, PB-113, PB-111), Right to Control
    # (PB-031) and IBSEN (PB-003). NHS England's £3,100 (PB-104) is the summary of the body that runs the
    # programme, of a subgroup, not found in the evaluation's located summaries: shown, never counted.
    counted = {"PB-012", "PB-113", "PB-031", "PB-003", "PB-111"}
    not_independent = counted - set(independent_rows(rows, c["claimant_orgs"])["id"])
    if not_independent:
        raise DataError(f"CL-PB-03 counts {sorted(not_independent)}, which the register does not mark independent")
    phbe_cost = _row(rows, "PB-111")
    promoter = _row(rows, "PB-104") if "PB-104" in set(rows["id"]) else None
    happiness = [ascot["estimate"] > 0, "improvement" in str(_row(rows, "PB-113")["unit"]),
                 clear_difference(rtc["ci_low"], rtc["ci_high"]) and rtc["estimate"] > 0]
    money = [_saves(_row(rows, "PB-003")), _lower_cost(phbe_cost)]
    verdict = _benefit_verdict(happiness + money)
    within_text = ""
    if within is not None and not within.empty:
        w = within[(within["outcome"] == "control_daily_life") & (within["exposure"] == "dp_users")]
        if not w.empty:
            w = w.iloc[0]
            within_text = (f" Across councils, one more point of direct-payment uptake goes with "
                           f"{difference_text(w['slope'], w['ci_low'], w['ci_high'])} in the share of users with "
                           "control over daily life: an association, not an effect on budget holders.")
    promoter_numbers = promoter_summary = ""
    if promoter is not None:
        promoter_numbers = (f" Not counted: NHS England's £{float(promoter['value']):,.0f} a year for each Continuing "
                            f"Healthcare budget holder (PB-104, {promoter['verification']}).")
        promoter_summary = (" NHS England, which runs personal health budgets, says the 2012 evaluation showed "
                            f"savings of £{float(promoter['value']):,.0f} a year for each Continuing Healthcare "
                            "budget holder; that figure is for one group of patients, has no interval and is not "
                            "in the summaries of the evaluation we located, so it is not counted here.")
    out.append(Verdict.for_claim(
        c, verdict, "'Huge benefit' in money and wellbeing is judged on the independent controlled studies of both: "
        "wellbeing on their quality-of-life and control measures, money on overall cost (lower cost with a budget "
        "counts as a benefit). 'Supported' if all found benefit, 'contradicted' if none did, 'mixed evidence' if some "
        "did and some did not. A figure from the body that runs the programme does not count.",
        f"PHBE: ASCOT change {ascot['budget_arm']} vs {ascot['comparison_arm']} (p<0.001; critics note 90% confidence "
        f"was used for some judgements), mortality {mort['budget_arm']} vs {mort['comparison_arm']} "
        f"({difference_text(mort['estimate'], mort['ci_low'], mort['ci_high'])}), an interval that is "
        f"{mort['ci_method']}; psychological wellbeing significantly better (PB-113); no overall difference in the "
        "cost of care (PB-111); judged cost-effective by its evaluators (PB-114). Right to Control: control over "
        f"daily life {rtc['budget_arm']} vs {rtc['comparison_arm']} "
        f"({difference_text(rtc['estimate'], rtc['ci_low'], rtc['ci_high'])}), an interval that is {OUR_CALCULATION}. "
        "IBSEN: 'no "
        "important differences in overall cost' (the evaluators)."
        + within_text + promoter_numbers, rows,
        summary=(f"Happiness: the personal health budget trial found better care-related quality of life (ASCOT change "
                 f"{ascot['budget_arm']} against {ascot['comparison_arm']}, p < 0.001) and psychological wellbeing, "
                 "but Right to Control found no clear difference in control over daily life "
                 f"({difference_text(rtc['estimate'], rtc['ci_low'], rtc['ci_high'])}), an interval that is "
                 f"{OUR_CALCULATION}. "
                 "Money: the two trials that measured costs found no evidence of a saving overall. IBSEN's evaluators "
                 "reported 'no important differences in overall cost', and the personal health budget trial found "
                 "no overall difference in the cost of care (lower "
                 "indirect costs such as inpatient care, higher direct costs), though its evaluators judged budgets "
                 "cost-effective once the quality-of-life gain is counted."
                 + promoter_summary)))

    c = claim_row(claims, "CL-PB-04")
    rows = evidence_rows(figures, c["evidence_ids"])
    mental_health = _row(rows, "PB-045")
    forecast_held = not sds.empty and sds["value"].min() > 50
    out.append(Verdict.for_claim(
        c, "partly supported" if forecast_held else "contradicted",
        "Two parts: an opinion (the debate is over), which no data can test, so the claim can be at most partly "
        "supported; and a forecast of long-term change in the way services are provided, tested on the national "
        "ASCOF series: it held if self-directed support went on to cover most service users (more than half) in "
        "every year observed, and failed otherwise.",
        f"England: self-directed support {fmt(sds['value'].iloc[0], '%')} ({sds['year'].iloc[0]}) to "
        f"{fmt(sds['value'].iloc[-1], '%')} ({sds['year'].iloc[-1]}); direct payments {fmt(dp['value'].iloc[0], '%')} "
        f"to {fmt(dp['value'].iloc[-1], '%')}. Over 125,000 people had personal budgets by 2012 (PB-024). Eligible "
        f"mental-health service users with a personal budget, {mental_health['year']}: "
        f"{float(mental_health['value']):g}% (Reform, PB-045).{sds_note}", rows,
        datasets=(ASCOF_DATASET,),
        summary=("An opinion with a forecast. The opinion (the debate is over) cannot be tested. The forecast held: "
                 f"self-directed support covered {fmt(sds['value'].min(), '%')} or more of service users in every "
                 f"year from {sds['year'].iloc[0]} to {sds['year'].iloc[-1]} (ASCOF), and over 125,000 people had "
                 f"personal budgets by 2012; unevenly, since only {float(mental_health['value']):g}% of eligible "
                 f"mental-health service users had one in {mental_health['year']}.{sds_note}"
                 if forecast_held else
                 "An opinion with a forecast. The opinion cannot be tested; the forecast failed: self-directed "
                 f"support covered as little as {fmt(sds['value'].min(), '%')} of service users (ASCOF).")))

    out.extend(_seed_claims(claims, figures, sds=sds, dp=dp, dp_note=dp_note))
    return out


def _seed_claims(claims: pd.DataFrame, figures: pd.DataFrame, *, sds: pd.DataFrame, dp: pd.DataFrame,
                 dp_note: str = "") -> list[Verdict]:
    """Verdicts on the further quantitative claims in the seed articles (CL-PB-21 onwards)."""
    out = []

    c = claim_row(claims, "CL-PB-21")
    rows = evidence_rows(figures, c["evidence_ids"])
    chc = _row(rows, "PB-101")
    later = _row(rows, "PB-103")
    uptake = float(chc["value"]) / float(chc["n"])
    health_scope = uptake < 0.5
    care_scope = sds.empty or sds["value"].iloc[0] < 80
    verdict = ("supported" if health_scope and care_scope else
               "partly supported" if health_scope or care_scope else "contradicted")
    out.append(Verdict.for_claim(
        c, verdict, "Scope for more is shown by low take-up among those eligible; partly supported when that holds in "
        "one of the two areas the claim names (health, social care) and not the other.",
        f"Continuing Healthcare patients with a PHB, 2016: {float(chc['value']):,.0f} of {float(chc['n']):,.0f} "
        f"({uptake:.0%}; FOI returns from 162 CCGs). PHBs arranged by October 2016: "
        f"{_row(rows, 'PB-102')['value']:,.0f} (NHS England). PHBs in 2021-22 to quarter 3: "
        f"{float(later['value']):,.0f} (NHS Digital; over half wheelchair budgets). Social care: self-directed support "
        f"{fmt(sds['value'].iloc[0], '%')} of service users in {sds['year'].iloc[0]}; direct payments "
        f"{fmt(dp['value'].iloc[0], '%')} then, {fmt(dp['value'].iloc[-1], '%')} in {dp['year'].iloc[-1]} (ASCOF)."
        f"{dp_note}",
        rows, datasets=(ASCOF_DATASET,),
        summary=(f"Health: in 2016 only {float(chc['value']):,.0f} of {float(chc['n']):,.0f} Continuing Healthcare "
                 f"patients ({uptake:.0%}) had a personal health budget (FOI returns), and NHS Digital counted "
                 f"{float(later['value']):,.0f} in 2021-22, so the scope was real. Social care: by "
                 f"{sds['year'].iloc[0]}, {fmt(sds['value'].iloc[0], '%')} of service users already had self-directed "
                 f"support (ASCOF), leaving little room there, and the direct-payment share fell from "
                 f"{fmt(dp['value'].iloc[0], '%')} to {fmt(dp['value'].iloc[-1], '%')} by {dp['year'].iloc[-1]}."
                 f"{dp_note}")))

    c = claim_row(claims, "CL-PB-22")
    rows = evidence_rows(figures, c["evidence_ids"])
    sites = _row(rows, "PB-021")
    recruited = _row(rows, "PB-011")
    tried = not independent_rows(rows, c["claimant_orgs"]).empty and float(sites["comparator_value"]) > 0
    out.append(Verdict.for_claim(
        c, "supported" if tried else "unsourced", "A policy said to be under consideration is supported when an "
        "independent source records it being tried.",
        f"PHB pilot: {float(sites['comparator_value']):.0f} sites at onset, {sites['value']:.0f} in-depth evaluation "
        f"sites ({sites['year']}); {recruited['value']:,.0f} patients recruited to the controlled study "
        f"({recruited['year']}).",
        rows, summary=(f"Personal health budgets were piloted from 2009 in {float(sites['comparator_value']):.0f} "
                       f"sites, with {recruited['value']:,.0f} patients in the independent controlled evaluation "
                       "(PHBE).")))

    c = claim_row(claims, "CL-PB-23")
    rows = evidence_rows(figures, c["evidence_ids"])
    pilots = _row(rows, "PB-105")
    many = not independent_rows(rows, c["claimant_orgs"]).empty and float(pilots["value"]) >= 10
    out.append(Verdict.for_claim(
        c, "supported" if many else "unsourced", "'Lots of areas' is supported when an independent source counts ten "
        "or more areas by the time of the claim.", f"Participatory budgeting pilots {pilots['year']}: "
        f"{pilots['value']:.0f} (Participatory Budgeting Unit, reported by the Guardian).", rows,
        summary=(f"The Participatory Budgeting Unit counts {pilots['value']:.0f} government-endorsed participatory "
                 f"budgeting pilots in {pilots['year']}.")))

    c = claim_row(claims, "CL-PB-24")
    rows = evidence_rows(figures, c["evidence_ids"])
    claimed = _value(rows, "PB-108")
    funding = _row(rows, "PB-106")
    actual = max(float(funding["value"]), float(funding["comparator_value"]))
    ratio = claimed / actual
    verdict = "partly supported" if abs(ratio - 1) <= 0.25 else "contradicted"
    out.append(Verdict.for_claim(
        c, verdict, "Rhetoric, not a statistic: the figure illustrates a point (six families' funding could employ a "
        "teacher), so it is judged on its order of magnitude against the nearest independent figure: partly "
        "supported within 25% of it, contradicted beyond; never 'supported', because an illustration is not a "
        "measurement and the comparison is approximate (see the summary).",
        f"Claimed £{claimed:,.0f} a year. National funding per pupil (academies, equal to a maintained school with the "
        f"same characteristics): £{float(funding['value']):,.0f} in {funding['year']}, "
        f"£{float(funding['comparator_value']):,.0f} in {funding['comparator']}.", rows,
        summary=(f"An illustration in a rhetorical point, not a statistic, and of the right order of magnitude: "
                 f"funding per pupil was about £{float(funding['value']):,.0f} in {funding['year']} and "
                 f"£{float(funding['comparator_value']):,.0f} in {funding['comparator']} (DCSF, for academies funded "
                 f"like maintained schools), so £{claimed:,.0f} is about {ratio - 1:.0%} above the later figure. The "
                 "comparison is approximate: that figure is an average over pupils, secondary pupils are funded more "
                 "than primary ones, and the claim names neither a phase nor a year.")))

    c = claim_row(claims, "CL-PB-25")
    rows = evidence_rows(figures, c["evidence_ids"])
    school = _row(rows, "PB-107")
    opened = int(str(school["year"])[:4])
    said, before_month = article_date(c["date"])
    meant = said - 1 if before_month is not None and before_month <= 9 else said  # which September "this September" is
    if independent_rows(rows, c["claimant_orgs"]).empty:
        verdict = "unsourced"
    else:
        verdict = "supported" if meant == opened else "partly supported"
    written = f"{said}, before the {_SEASON_OF[before_month]}" if before_month in _SEASON_OF else f"{said}"
    out.append(Verdict.for_claim(
        c, verdict,
        "An event is supported when an independent source records it as stated, its timing included; partly "
        "supported when the event happened as described but not when the claim puts it. 'This September' in an "
        "article written before September of its year means the September before; in an article known only by its "
        "year, the September of that year.",
        f"{school['group']}: opened {school['year']}, {school['value']:.0f} year 7 places. The article was written in "
        f"{written}, so its 'this September' is September {meant}.", rows,
        summary=(f"Elmgreen School in Lambeth opened in September {opened} as the first parent-promoted "
                 f"comprehensive in the country (the Guardian); the article was written in {written}"
                 + (f", so its 'this September' is September {meant}" if meant == opened else
                    " and says 'this September', so the event is right and its timing a year out if read as "
                    "written") + ".")))

    c = claim_row(claims, "CL-PB-26")
    rows = evidence_rows(figures, c["evidence_ids"])
    published = _row(rows, "PB-115")
    month, year = int(float(published["value"])), int(str(published["year"])[:4])
    said, before_month = article_date(c["date"])
    written = f"{said}, before the {_SEASON_OF[before_month]}" if before_month in _SEASON_OF else f"{said}"
    spring = range(3, 6)  # March to May
    on_time = year == said and month in spring
    month_name = pd.Timestamp(year=year, month=month, day=1).strftime("%B")
    if independent_rows(rows, c["claimant_orgs"]).empty:
        verdict = "unsourced"
    else:
        verdict = "supported" if on_time else "contradicted"
    out.append(Verdict.for_claim(
        c, verdict,
        "A forecast of when a report would appear: supported if it appeared in the spring (March to May) of the "
        "article's year, contradicted if it appeared later; a schedule, not a finding.",
        f"The evaluators announced the final report's findings in {month_name} {year} (PB-115); the article was "
        f"written in {written}.", rows,
        summary=(f"The IBSEN final report appeared in {month_name} {year}, "
                 + ("as forecast." if on_time else
                    "after the spring the article gave; the claims it made before then (CL-PB-02) rested on no "
                    "published evaluation."))))
    return out


def _saves(cost_row: pd.Series, threshold: float = 0.10) -> bool:
    """True when the budget arm cost more than ``threshold`` less than the comparison arm."""
    budget, comparison = float(cost_row["value"]), float(cost_row["comparator_value"])
    return (comparison - budget) / comparison > threshold


def _lower_cost(cost_row: pd.Series) -> bool:
    """A qualitative cost finding counts as a saving only when it says costs were lower with a budget."""
    unit = str(cost_row["unit"])
    return unit.startswith("qualitative") and "lower" in unit


def _value(rows: pd.DataFrame, fid: str) -> float:
    return float(_row(rows, fid)["value"])
