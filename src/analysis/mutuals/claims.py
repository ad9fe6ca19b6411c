"""Verdicts on the mutuals claims in the evidence register.

Every verdict is one word of the scale in :mod:`analysis.claims`, decided by the rule written next to it,
with the two or three deciding facts as its ``summary``. General rules:

* **Independence.** A figure from the claimant (the government's mutuals programme, including the surveys it
  commissioned from BCG and Social Enterprise UK, or the mutual being praised) cannot support the claim; a
  claimant's own figure can still count *against* it.
* **Performance claims** (productivity, satisfaction) are *unsourced* when no study is cited and the only figures
  found are surveys of surviving mutuals for the government's programme or the mutuals' own reports.
* **Counts and programme facts** are *supported* when an independent source gives them, *not testable with public
  data* when only the claimant records them (the summary then opens "Confirmed only by the government's own
  records"; only the programme can record its own budget or count, so no public evidence can test it, whereas
  *unsourced* is kept for claims an independent study could test but none is cited or found), *contradicted*
  when the claimant's own records differ from the claim by more than 10%, *not testable with public data* when
  the number was never published (website visits, councils' approaches), *contradicted* when every count found,
  including the claimant's own, is far smaller, and *misattributed* when the number exists but belongs to another
  programme, period or group.
* **Forecasts** ("will empower millions") are judged against the counts found up to the forecast's own target date.
* The **NAViGO comparison** is judged on what public data can show: the quoted item is not published, so the
  figures cannot be checked; independent readings of NAViGO's staff survey can agree with a weaker version.

The claims that council unit costs and NHS payments to CICs bear on ("productivity up to 45%", "65 live mutuals ...
£1bn", "53 mutual organisations providing services to the NHS", "cost effectively", "40 services ... almost £1
billion") are judged in :mod:`analysis.costs.claims`; Bob Ricketts's "£15-20 billion of savings" claim is CL-NAO-05,
judged in :mod:`analysis.vfm.claims`.
"""

from __future__ import annotations

import pandas as pd

from analysis.claims import Verdict, claim_row, independent_rows
from analysis.data.evidence import evidence_rows
from analysis.data.staff_survey import ITEMS
from analysis.mutuals import multiplicity
from analysis.mutuals.staff import COMPARATORS


def _value(rows: pd.DataFrame, fid: str) -> float:
    return float(rows.set_index("id").loc[fid, "value"])


def assess_claims(claims: pd.DataFrame, figures: pd.DataFrame, *, community: pd.DataFrame | None,
                  focus: pd.DataFrame | None, focus_name: str, cqc_models: pd.DataFrame,
                  cqc_shares: pd.DataFrame, n_survey_social_enterprises: int,
                  mental_health: pd.DataFrame | None = None, survey: pd.DataFrame | None = None,
                  survey_years: tuple[int, int] = (2021, 2024),
                  benchmark: str = "the median mental-health trust",
                  pooled_benchmark: str = "the average mental-health trust") -> list[Verdict]:
    """Verdicts on the mutuals claims. ``benchmark`` names the focus organisation's benchmark for its levels
    (``staff.benchmark_phrase``) and ``pooled_benchmark`` the benchmark of the pooled randomisation test, so the
    verdict uses the words the report defines them by."""
    out = []

    c = claim_row(claims, "CL-MUT-02")
    out.append(_navigo(c, figures, focus, focus_name, mental_health, benchmark, pooled_benchmark, survey_years))

    c = claim_row(claims, "CL-MUT-04")
    out.append(_support_programme(c, figures))
    c = claim_row(claims, "CL-MUT-05")
    out.append(_satisfaction(c, figures, cqc_shares))
    c = claim_row(claims, "CL-MUT-06")
    out.append(_hundred_under_msp(c, figures))
    c = claim_row(claims, "CL-MUT-07")
    out.append(_overnight_productivity(c, figures, survey_years))
    c = claim_row(claims, "CL-MUT-28")
    out.append(_stake_in_the_business(c, figures))

    out.extend(seed_claims(claims, figures, survey=survey, survey_years=survey_years))
    return out


# --- Rules for the claims this module judges in full ------------------------------------------------

def _row(rows: pd.DataFrame, fid: str) -> pd.Series:
    return rows.set_index("id").loc[fid]


def _pattern(table: pd.DataFrame | None, alpha: float = 0.05):
    if table is None or table.empty:
        return None
    return multiplicity.direction_pattern(table, alpha)


def _navigo(c: dict, figures: pd.DataFrame, focus: pd.DataFrame | None, focus_name: str,
            mental_health: pd.DataFrame | None, benchmark: str = "the median mental-health trust",
            pooled_benchmark: str = "the average mental-health trust",
            survey_years: tuple[int, int] = (2021, 2024)) -> Verdict:
    """79% vs 56%: the quoted item is not public; independent readings of NAViGO's staff survey are the test."""
    rows = evidence_rows(figures, c["evidence_ids"])
    claim = _row(rows, "MUT-028")
    cqc = _row(rows, "MUT-102") if "MUT-102" in set(rows["id"]) else None
    item_present = any("priority" in i.label.lower() for i in ITEMS)
    pattern = _pattern(mental_health)
    randomised = pattern.by_inference["p_randomisation"] if pattern else None
    favourable = randomised is not None and randomised.better > randomised.worse
    unfavourable = randomised is not None and randomised.worse > randomised.better
    cqc_favourable = cqc is not None and float(cqc["value"]) > 0
    if unfavourable:
        verdict = "contradicted"
    elif favourable and cqc_favourable:
        verdict = "partly supported"
    elif favourable or cqc_favourable:
        verdict = "mixed evidence"
    else:
        verdict = "not testable with public data"
    quoted = f"The item quoted ('{claim['value']:.0f}% vs {claim['comparator_value']}%')"
    said = str(c["date"])[:4]
    years = [str(cqc["year"])] if cqc is not None else []
    if randomised is not None:
        years.append(f"{survey_years[0]}-{str(survey_years[1])[-2:]}")
    first = quoted + (" is not in the public staff-survey data, so the figures cannot be checked" if not item_present
                      else f" is in the public file only from {survey_years[0]}, years after the claim")
    if years:
        first += (f". The evidence is other items, from {' and '.join(years)}, for a claim made in {said}, so it tests "
                  "only a weaker version (NAViGO's staff rate it above average)")
    facts = [first]
    if cqc is not None:
        facts.append(f"the CQC ({cqc['year']}) found NAViGO in the top 10% of providers on {cqc['value']:.0f} of "
                     f"{cqc['n']:.0f} staff-survey key areas")
    if randomised is not None:
        facts.append(f"in the public file it scored better than {pooled_benchmark} on {randomised.better} and "
                     f"worse on {randomised.worse} of {randomised.tested} items at randomisation p < {pattern.alpha:g} "
                     f"({multiplicity._count(randomised.better_adjusted + randomised.worse_adjusted)} after "
                     f"adjusting for {randomised.tested} comparisons)")
    summary = facts[0] + ": " + "; ".join(facts[1:]) + ". One organisation: evidence about NAViGO, not about mutuals."
    numbers = ""
    if focus is not None and not focus.empty:
        latest = focus[focus["year"] == focus["year"].max()]
        parts = [f"{r.label.split(' (')[0].lower()}: {r.organisation_rate:.0f}% vs {r.benchmark_median:.0f}% "
                 f"({r.benchmark_share_better:.0f}% of the trusts score better)"
                 for r in latest.itertuples()]
        numbers = (f"{focus_name}, {int(latest['year'].iloc[0])}, against {benchmark} (each trust counted once): "
                   + "; ".join(parts) + ". Levels only: one organisation has no valid interval for a difference.")
    return Verdict.for_claim(
        c, verdict, "The quoted item is not published, so the claim is judged on a weaker version (NAViGO's staff rate "
        "it above average): partly supported when independent readings of its staff survey agree, contradicted when "
        "they lean the other way, mixed when they disagree. One organisation against a national average is not "
        "adjusted for trust type or change over time.", numbers or summary, rows, datasets=("nhs_staff_survey",
                                                                                   ) if pattern else (),
        summary=summary)


CONFIRMED_ONLY_BY_CLAIMANT = "Confirmed only by the government's own records"
"""How a summary opens when the only records of an administrative fact are the claimant's own. The verdict scale
has no label for this; only the programme can record its own budget or count, so the verdict is 'not testable with
public data' (no independent record can test it), not 'unsourced' (kept for claims an independent study could test),
and the summary leads with what the government's records say."""


def _relative_gap(claimed: float, recorded: float) -> float:
    """How far two counts disagree, as a share of the smaller (26 against 21 is a 24% gap: 26 is 24% more)."""
    return abs(claimed - recorded) / min(claimed, recorded)


def _support_programme(c: dict, figures: pd.DataFrame) -> Verdict:
    """£10m programme supporting 26 organisations: programme facts only the programme records.

    The 10% rule applies to figures that measure the same thing: the budget agrees across the government's
    records. The only later count (MUT-105, support *procured* for 21 live and developing mutuals a week later) is
    one tranche of support, not the number of organisations supported, so it cannot contradict the 26: the count is
    not testable with public data."""
    rows = evidence_rows(figures, c["evidence_ids"])
    independent = independent_rows(rows, c["claimant_orgs"])
    budgets = rows[rows["id"].isin(["MUT-029", "MUT-082", "MUT-106"])]
    budget_agrees = (budgets["value"].max() - budgets["value"].min()) <= 0.1 * budgets["value"].max()
    awards = _row(rows, "MUT-105")
    claimed, recorded = _value(rows, "MUT-030"), float(awards["value"])
    gap = _relative_gap(claimed, recorded)
    if not budget_agrees:
        verdict = "contradicted"
    elif not independent.empty:
        verdict = "supported"
    else:
        verdict = "not testable with public data"
    budget_text = (f"they agree on the £{_value(rows, 'MUT-106'):.0f}m budget, from the launch (December 2011) on"
                   if budget_agrees else "they disagree on the budget")
    count_text = (f"the {claimed:.0f} organisations cannot be checked: the only later record, a week after the "
                  f"article, is £{float(awards['comparator_value']):g}m of support procured for {recorded:.0f} "
                  "mutuals, one tranche of support rather than a count of everyone supported, so it measures a "
                  "different thing")
    summary = (f"{CONFIRMED_ONLY_BY_CLAIMANT}. {budget_text[0].upper()}"
               f"{budget_text[1:]}; {count_text}. {_msp_helped(rows)}. No independent record was found.")
    return Verdict.for_claim(
        c, verdict, "Programme facts, each tested by the same 10% rule: supported when a source independent of the "
        "government gives them; contradicted when the government's own records of the same measure disagree with the "
        "claim by more than 10% (a claimant's own figure can count against its claim; a record of a different measure "
        "cannot); otherwise 'not testable with public data', "
        "because only the government's records exist and a claimant cannot confirm its own claim. Only a programme "
        "can record its own budget and the organisations it supported, so no public evidence can test them; "
        "'unsourced' is kept for claims that an independent study could test but for which none is cited or found.",
        f"Budget £{_value(rows, 'MUT-029'):.0f}m (minister, 2013), 'more than £{_value(rows, 'MUT-082'):.0f}m' "
        f"(government paper, 2012), £{_value(rows, 'MUT-106'):.0f}m at launch. Organisations: {claimed:.0f} claimed "
        f"(8 February 2013); {recorded:.0f} with support procured (Cabinet Office, 15 February 2013), a different "
        f"measure ({gap:.0%} apart).",
        rows, summary=summary)


def _msp_helped(rows: pd.DataFrame) -> str:
    """'By about 2014 (the Cabinet Office's undated "two years on" story; the year is inferred) the programme had
    helped 67 organisations, of which 16 were live': the count with its inferred date said where it is used."""
    helped = _row(rows, "MUT-031")
    inferred = "inferred" in str(helped["year"]).lower()
    when = (f"By about {str(helped['year'])[:4]} (the Cabinet Office's undated 'two years on' story; the year is "
            "inferred from the programme's 2012 launch)" if inferred else f"By {helped['year']}")
    return (f"{when} the programme had helped {float(helped['value']):.0f} organisations, of which "
            f"{_value(rows, 'MUT-032'):.0f} were live")


def _satisfaction(c: dict, figures: pd.DataFrame, cqc_shares: pd.DataFrame) -> Verdict:
    """'Service users report greater satisfaction': no study cited; only self-reports found."""
    rows = evidence_rows(figures, c["evidence_ids"])
    independent = independent_rows(rows, c["claimant_orgs"])
    latest = cqc_shares[cqc_shares["year"] == cqc_shares["year"].max()]
    parts = [f"{r.setting} {r.ownership} {r.share:.0f}%" for r in latest.itertuples()]
    csh = _row(rows, "MUT-067")
    summary = ("No study is cited. The figures found are reports by mutuals themselves: "
               f"{_value(rows, 'MUT-014'):.0f}% of mutuals surveyed for DCMS said quality had improved, and CSH Surrey "
               f"reports {csh['value']:.0f}% patient satisfaction, neither against a comparison group. The nearest "
               "public data, CQC ratings, are inspectors' judgements of quality, not service users' satisfaction, and "
               "cannot pick out mutuals within the third sector.")
    return Verdict.for_claim(
        c, "unsourced", "A performance claim is unsourced when no study is cited and the only figures found come from "
        "the government's programme or the mutuals themselves, without a comparison group. Quality ratings are not "
        "satisfaction, so they cannot source it either.",
        f"Independent rows: {', '.join(independent['id']) or 'none'} (a provider's self-report is not a comparison). "
        f"Nearest public data, not a measure of satisfaction: share rated Good/Outstanding by the CQC, year-end "
        f"{int(latest['year'].iloc[0])} snapshot: " + "; ".join(parts) + ".", rows,
        datasets=("cqc_care_home_ratings_by_year", "cqc_community_ratings_by_year"), summary=summary)


def _hundred_under_msp(c: dict, figures: pd.DataFrame) -> Verdict:
    """'100 firms spun out since 2010 under the Mutuals Support Programme': the 100 is all mutuals, from several
    programmes."""
    rows = evidence_rows(figures, c["evidence_ids"])
    claimed, total = _value(rows, "MUT-075"), _value(rows, "MUT-033")
    live = _value(rows, "MUT-032")
    rtr_share = _value(rows, "MUT-073")
    misattributed = abs(total - claimed) <= 0.1 * claimed and live < claimed / 2 and rtr_share > 0
    verdict = "misattributed" if misattributed else ("contradicted" if live < claimed / 2 else "supported")
    summary = (f"As reported: the verdict is on Public Finance's paraphrase ('Maude said that the 100 firms ...'), "
               "not a quotation, so whether 'under the Mutuals Support Programme' is the minister's wording or the "
               f"journalist's cannot be told. As published, the figure is misattributed: {total:.0f} is the Cabinet "
               f"Office's count of all public service mutuals in July 2014; about {rtr_share:.0f}% of them came from "
               "the Department of Health's Right to Request, begun in 2008 (independent analysis). "
               f"{_msp_helped(rows).replace(' the programme had', ' the Mutuals Support Programme itself had')}.")
    return Verdict.for_claim(
        c, verdict, "A count is misattributed when the number exists but belongs to a wider group (all mutuals, from "
        "several programmes and periods) than the one the claim gives it. The claim is a journalist's paraphrase: "
        "the verdict judges the sentence as published. What is attributable to the minister is the figure of about "
        "100 mutuals spun out of the public sector; the link to the Mutuals Support Programme may be the "
        "journalist's.",
        f"Claimed {claimed:.0f} under the Mutuals Support Programme since 2010. Government count of all mutuals: "
        f"{total:.0f} (July 2014), up from {_value(rows, 'MUT-038'):.0f} in 2010.", rows, summary=summary)


def _overnight_productivity(c: dict, figures: pd.DataFrame, survey_years: tuple[int, int] = (2021, 2024)) -> Verdict:
    """'Almost overnight ... improvement in productivity': no study; the figures are the programme's own surveys.

    The public NHS Staff Survey is not evidence on this claim either way: it measures staff wellbeing and working
    conditions, not productivity, and starts in 2021, years after the spin-outs the minister described."""
    rows = evidence_rows(figures, c["evidence_ids"])
    summary = (f"No study is cited. The figures found are surveys of surviving mutuals for the government's own "
               f"programme, with no comparison group: staff absence down {_value(rows, 'MUT-045'):.0f}% and turnover "
               f"down {_value(rows, 'MUT-046'):.0f}% since spin-out (BCG for the Cabinet Office); productivity up "
               f"{_value(rows, 'MUT-012'):g}% (Social Enterprise UK for DCMS, base period not stated). The public NHS "
               f"Staff Survey is no evidence either way: it measures staff wellbeing and working conditions in "
               f"{survey_years[0]}-{str(survey_years[1])[-2:]}, not productivity, years after the spin-outs the claim "
               "describes.")
    return Verdict.for_claim(
        c, "unsourced", "A performance claim is unsourced when no study is cited and the only figures found come from "
        "the government's programme or the mutuals themselves; no public dataset measures productivity before and "
        "after spin-out.", "Register rows: MUT-045 and MUT-046 (BCG for the Cabinet Office, 2013, surviving mutuals' "
        "own figures); MUT-012 (Social Enterprise UK for DCMS, 2019). None compares mutuals with a comparison group.",
        rows, summary=summary)


def _stake_in_the_business(c: dict, figures: pd.DataFrame) -> Verdict:
    """'The evidence is clear - giving people a stake in their business improves productivity and innovation': no
    study is cited, and the only figures found for public service mutuals are the programme's own surveys."""
    rows = evidence_rows(figures, c["evidence_ids"])
    independent = independent_rows(rows, c["claimant_orgs"])
    verdict = "unsourced" if independent.empty else "not testable with public data"
    summary = ("The article cites no evidence for 'the evidence is clear', and none independent of the government was "
               "found. The nearest figures are surveys of mutuals for the government's own programme, without a "
               f"comparison group: productivity up {_value(rows, 'MUT-012'):g}% (Social Enterprise UK for DCMS, "
               f"{_row(rows, 'MUT-012')['year']}, base period not stated), {_value(rows, 'MUT-015'):.0f}% of mutuals "
               "developing new products or services in the last year (innovation, the same survey), and staff absence "
               f"down {_value(rows, 'MUT-045'):.0f}% since spin-out (BCG for the Cabinet Office, "
               f"{_row(rows, 'MUT-045')['year']}). No public dataset measures the productivity or innovation of "
               "employee-owned public services against others.")
    return Verdict.for_claim(
        c, verdict, "A performance claim is unsourced when no study is cited and the only figures found come from the "
        "government's programme or the mutuals themselves; figures from the government's own commissioned surveys "
        "cannot support its claim.",
        f"Register rows: {', '.join(rows['id'])} (all commissioned by or for the government's mutuals programme; "
        f"independent rows: {', '.join(independent['id']) or 'none'}). The study-level evidence on employee ownership "
        "in general is not in this project's evidence register, so it is not used.", rows, summary=summary)


def seed_claims(claims: pd.DataFrame, figures: pd.DataFrame, *, survey: pd.DataFrame | None,
                survey_years: tuple[int, int]) -> list[Verdict]:
    """Verdicts on the further quantitative claims in the seed articles (CL-MUT-21 onwards)."""
    out = []

    c = claim_row(claims, "CL-MUT-21")
    rows = evidence_rows(figures, c["evidence_ids"])
    target = _value(rows, "MUT-039")
    counts = {"June 2012 (Mutuals Taskforce)": float(_row(rows, "MUT-101")["upper"]),
              "July 2014 (Cabinet Office)": _value(rows, "MUT-035")}
    largest = max(counts.values())
    verdict = ("contradicted" if largest < 1_000_000 / 10
               else "partly supported" if largest < 1_000_000 else "supported")
    latest = max(counts, key=lambda k: int(k.split(" (")[0].split()[-1]))
    claim_year = int(str(c["date"])[:4])
    later = int(latest.split(" (")[0].split()[-1]) - claim_year
    out.append(Verdict.for_claim(
        c, verdict, "A count claimed in millions is contradicted when every count found, including the claimant's own, "
        "is at least ten times smaller; a claimant's own count can count against its claim, never for it. 'Will "
        "empower' is a forecast, so it is judged on the counts found up to the date of its own target (2015). Read as "
        "a right merely made available to millions, the statement is true by construction; the government's own "
        "target shows it meant take-up.",
        f"Government target: {target:,.0f} public servants in mutuals by 2015. Counts: "
        + "; ".join(f"{k}: {v:,.0f}" for k, v in counts.items())
        + f". The NAO (2011): {_value(rows, 'NAO-002'):.0f} NHS spin-outs, the largest employing more than "
        f"{_value(rows, 'NAO-004'):,.0f} staff.", rows,
        summary=(f"'Will empower' is a forecast made in {claim_year}, judged here against the government's own counts "
                 f"up to {later} years later: fewer than {counts['June 2012 (Mutuals Taskforce)']:,.0f} "
                 f"public servants in mutuals in June 2012 and {counts['July 2014 (Cabinet Office)']:,.0f} in July "
                 f"2014, against its own target of {target:,.0f} by 2015: tens of thousands, not millions. These are "
                 "the claimant's own records, which can count against its claim, never for it.")))

    c = claim_row(claims, "CL-MUT-22")
    rows = evidence_rows(figures, c["evidence_ids"])
    largest = _value(rows, "NAO-004")
    floor = ""
    datasets: tuple[str, ...] = ()
    if survey is not None:
        first = survey[(survey["benchmarking_group"] == COMPARATORS["community"][0])
                       & (survey["year"] == survey_years[0])]
        respondents = int(first.drop_duplicates("ods_code")["respondents"].sum())
        if respondents:
            floor = (f"; in {survey_years[0]} the {first['ods_code'].nunique()} community social enterprises in the "
                     f"public NHS Staff Survey had {respondents:,} respondents (a floor on their staff)")
            datasets = ("nhs_staff_survey",)
    verdict = "supported" if largest >= 1000 and _value(rows, "NAO-002") >= 10 else "unsourced"
    out.append(Verdict.for_claim(
        c, verdict, "Supported when an independent source puts the staff of the new community-health mutuals in the "
        "thousands.",
        f"Department of Health (2010, not independent): almost {_value(rows, 'NAO-014'):,.0f} NHS staff to transfer. "
        f"Mutuals Taskforce (2012, for the Cabinet Office): about 40% of fewer than 50,000 in community health.", rows,
        datasets=datasets,
        summary=(f"The NAO (2011) counted {_value(rows, 'NAO-002'):.0f} Right to Request social enterprises by "
                 f"September 2011, the largest employing more than {largest:,.0f} staff each{floor}.")))

    c = claim_row(claims, "CL-MUT-24")
    rows = evidence_rows(figures, c["evidence_ids"])
    out.append(Verdict.for_claim(
        c, "not testable with public data", "Councils' approaches to the Cabinet Office were never published, and no "
        "independent count of councils exploring mutuals was found.",
        "The Commons Communities and Local Government Committee (2012-13) found 'a small number' of local authorities "
        "using or establishing mutual or co-operative bodies: a different measure (established, not exploring).", rows,
        summary=("Councils' approaches to the Cabinet Office were not published. The nearest independent evidence, a "
                 "Commons committee (2012-13), found 'a small number' of councils using or establishing mutual or "
                 "co-operative bodies, which measures something else.")))

    c = claim_row(claims, "CL-MUT-25")
    rows = evidence_rows(figures, c["evidence_ids"])
    announced = _row(rows, "MUT-104")
    claimed = _value(rows, "MUT-076")
    agrees = _relative_gap(claimed, float(announced["value"])) <= 0.1
    verdict = ("contradicted" if not agrees else
               "supported" if not independent_rows(rows, c["claimant_orgs"]).empty else "not testable with public data")
    out.append(Verdict.for_claim(
        c, verdict, "An appointment is supported when a source independent of the government records it; "
        "contradicted when the government's own record differs from the claim by more than 10%; otherwise 'not "
        "testable with public data', because only the government's own announcement exists and a claimant cannot "
        "confirm its own claim. Only the government can record whom it appointed, so no public evidence can test "
        "it; 'unsourced' is kept for claims that an independent study could test but for which none is cited or "
        "found.",
        f"Cabinet Office press release, 18 October 2012: {announced['value']:.0f} ambassadors.", rows,
        summary=(f"{CONFIRMED_ONLY_BY_CLAIMANT}: the Cabinet Office's press release of 18 October 2012 announced "
                 f"{announced['value']:.0f} ambassadors, as claimed. No independent record was found.")))

    c = claim_row(claims, "CL-MUT-26")
    rows = evidence_rows(figures, c["evidence_ids"])
    out.append(Verdict.for_claim(
        c, "not testable with public data", "Visits to a government website are testable only if published; these were "
        "not, and no independent figure exists.", f"Claimed: about {_value(rows, 'MUT-108'):,.0f} visits a week.", rows,
        summary="Visit counts for the Mutuals Information Service website were never published; no independent figure "
                "exists."))

    c = claim_row(claims, "CL-MUT-27")
    rows = evidence_rows(figures, c["evidence_ids"])
    launch = _row(rows, "MUT-107")
    boroughs = [b.strip() for b in str(launch["group"]).split(";")]
    verdict = ("supported" if len(boroughs) == _value(rows, "MUT-109") and not independent_rows(rows,
                                                                                                c["claimant_orgs"]).empty
               else "unsourced")
    out.append(Verdict.for_claim(
        c, verdict, "A forecast launch is supported when an independent report records it as stated.",
        f"Launched {launch['year']} with staff from {', '.join(boroughs)}; private partner Prospects Services.", rows,
        summary=(f"3BM launched in April {launch['year']} with staff from {len(boroughs)} councils "
                 f"({', '.join(boroughs)}) and a private partner, Prospects (Local Government Lawyer).")))
    return out
