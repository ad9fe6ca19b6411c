"""The programme against the NAO's value-for-money criteria, and a risk register.

Criteria (economy, efficiency, effectiveness; equity as a marked extension the
NAO report did not assess) are rated by one stated rule: count the controls a
value-for-money judgement needs that the evidence shows were in place,

* a requirement: a measurable objective or a contracted saving for the criterion;
* a comparator: a baseline or in-house comparison;
* a measurement: outcome or cost data reported after transfer;

then **0 controls = high risk, 1 = medium, 2 or 3 = low**. A criterion the NAO
did not assess (equity, the extension) is rated "not assessed": the rule needs
evidence about its controls, and there is none.

The risk register scores each risk the NAO named on 1-5 likelihood and 1-5
impact scales with stated thresholds; impacts that are money come from the
model. The foregone-savings risk is scored in scenario b (the contracts required
nothing while in-house provision improved at measured NHS rates), not in the
most favourable reading, which assumes it away. Failure costs are net of what
in-house closures would have cost (both sides) and are scored on the least
favourable closure definition. The likelihood of a spin-out failing is **not
scored**: no public source records spin-out failures, and a care-home closure
rate (planned closures included) is not a failure rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.data.evidence import evidence_rows
from analysis.precision import fmt
from analysis.vfm.failure import definitions_phrase

RATING_RULE = ("Controls in place (requirement, comparator, measurement): "
               "0 = high risk, 1 = medium risk, 2-3 = low risk; a criterion the NAO did not assess is "
               "'not assessed'.")
NOT_ASSESSED = "not assessed"
NOT_SCORED = "not scored"


@dataclass(frozen=True)
class Criterion:
    name: str
    question: str
    nao_finding: str
    evidence_ids: tuple[str, ...]
    requirement: bool
    comparator: bool
    measurement: bool
    extension: bool = False


CRITERIA = (
    Criterion("Economy", "Were resources bought at the least cost for the quality needed?",
              "PCTs did not generally contract for savings beyond what in-house provision would have achieved.",
              ("NAO-010", "NAO-029", "NAO-006"), requirement=False, comparator=False, measurement=False),
    Criterion("Efficiency", "Did the programme get more output per pound than the alternative?",
              "PCTs expected social enterprises to deliver more benefits but did not specify them; no "
              "productivity measure was set.",
              ("NAO-010", "NAO-031"), requirement=False, comparator=False, measurement=False),
    Criterion("Effectiveness", "Did it achieve its intended outcomes?",
              "The Department set no separate, measurable objectives for the programme, so success cannot be "
              "evaluated; it was too early to judge costs and benefits.",
              ("NAO-031", "NAO-053"), requirement=False, comparator=False, measurement=False),
    Criterion("Equity (extension: not an NAO criterion in HC 1088)",
              "Were services fairly available, and did risks fall fairly?",
              "Not assessed by the NAO. Risks and liabilities stay with commissioners, i.e. with the public purse.",
              ("NAO-032",), requirement=False, comparator=False, measurement=False, extension=True),
)


def rate(controls: int) -> str:
    return "high risk" if controls == 0 else ("medium risk" if controls == 1 else "low risk")


def criteria_assessment(figures: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for c in CRITERIA:
        ev = evidence_rows(figures, list(c.evidence_ids))
        controls = int(c.requirement) + int(c.comparator) + int(c.measurement)
        rows.append({
            "criterion": c.name, "question": c.question, "nao_finding": c.nao_finding,
            "requirement": c.requirement, "comparator": c.comparator, "measurement": c.measurement,
            "controls_in_place": controls, "rating": NOT_ASSESSED if c.extension else rate(controls),
            "evidence": "; ".join(f"{r.id} ({r.verification})" for r in ev.itertuples()),
            "extension": c.extension,
        })
    df = pd.DataFrame(rows)
    df.attrs["rule"] = RATING_RULE
    return df


LIKELIHOOD_SCALE = [(0.05, 1), (0.20, 2), (0.50, 3), (0.80, 4), (np.inf, 5)]
IMPACT_SCALE = [(0.005, 1), (0.02, 2), (0.05, 3), (0.10, 4), (np.inf, 5)]
SCALE_RULE = ("Likelihood from the probability over the contract life: <5% = 1, 5-20% = 2, 20-50% = 3, "
              "50-80% = 4, >80% or a condition the NAO found present = 5; 'not scored' where no public data "
              "give the probability. Impact from the expected present value as a share of one year's contract "
              "value: <0.5% = 1, 0.5-2% = 2, 2-5% = 3, 5-10% = 4, >10% = 5; non-monetary impacts are scored 3. "
              "Foregone savings are scored in scenario b (the contracts required nothing, in-house improved at "
              "measured NHS rates). Failure costs, net of in-house closures (both sides), are not scored in money: "
              "their sign depends on which closures count, and the basis names each definition. Score = likelihood x "
              "impact; 15+ red, 8-14 amber, under 8 green.")


def _band(value: float, scale) -> int:
    for threshold, score in scale:
        if value < threshold:
            return score
    return scale[-1][1]


def _rag(score: int) -> str:
    return "red" if score >= 15 else ("amber" if score >= 8 else "green")


def risk_register(figures: pd.DataFrame, foregone_npv: float, failure_npv_by_definition: dict[str, float],
                  annual_value: float) -> pd.DataFrame:
    """The risks the NAO named, scored by the stated scales.

    ``foregone_npv`` is the present value of savings the contracts did not secure in scenario b
    (contracts requiring nothing, in-house improving at measured NHS rates): scoring it in the
    most favourable reading, where it is zero by assumption, would assume the risk away.
    ``failure_npv_by_definition`` maps each named closure definition to the contracts' **net** extra
    failure cost (spin-out failures the commissioner bears minus in-house closures it would have
    borne). Its sign and size depend on which closures count, a choice no data settle, so no impact is
    scored in money from it: retained liabilities are scored as non-monetary (like the other conditions
    the NAO found), provider failure is not scored, and every definition is named in the basis.
    """
    if not failure_npv_by_definition:
        raise ValueError("risk_register needs the failure cost under at least one closure definition")
    foregone_share = max(foregone_npv, 0.0) / annual_value
    spread = definitions_phrase(list(failure_npv_by_definition), list(failure_npv_by_definition.values()))
    failure_cost = (f"net extra failure cost over in-house provision (both sides), by which closures count: {spread}; "
                    "even its sign depends on the definition" if min(failure_npv_by_definition.values()) < 0 <
                    max(failure_npv_by_definition.values()) else
                    f"net extra failure cost over in-house provision (both sides), by which closures count: {spread}")
    risks = [
        ("Liabilities and risks retained by commissioners", "NAO-032",
         5, "a condition the NAO found present",
         3, "non-monetary (where the liabilities sit is in contracts that are not public); what they cost if a "
            f"provider fails is not scored in money: {failure_cost}"),
        ("Enterprises dependent on one commissioner's work and cash flow", "NAO-032",
         5, "a condition the NAO found present",
         3, "non-monetary (concentration risk; shows up as failure cost if it bites)"),
        ("No measurable objectives for the programme", "NAO-031",
         5, "a condition the NAO found present",
         3, "non-monetary (value for money cannot be evaluated)"),
        ("No savings contracted beyond in-house provision", "NAO-010",
         5, "a condition the NAO found present",
         _band(foregone_share, IMPACT_SCALE),
         f"foregone savings if the contracts required nothing and in-house provision improved at measured NHS rates "
         f"(scenario b) = {fmt(100 * foregone_share, '%')} of a year's value; none only at the most favourable "
         "reading (scenario a). The contracts are not public, so which applies is the unresolved central risk"),
        ("Provider failure in an increasingly competitive market", "NAO-032",
         NOT_SCORED, "unknown: no public source records spin-out failures, and care-home closure rates (a different "
                     "market, planned closures included) are not a spin-out failure rate",
         NOT_SCORED, f"not scored: {failure_cost}"),
    ]
    rows = []
    for name, fid, likelihood, l_basis, impact, i_basis in risks:
        ev = evidence_rows(figures, [fid]).iloc[0]
        scored = likelihood != NOT_SCORED
        scored = scored and impact != NOT_SCORED
        score = likelihood * impact if scored else NOT_SCORED
        rows.append({"risk": name, "likelihood": likelihood, "likelihood_basis": l_basis, "impact": impact,
                     "impact_basis": i_basis, "score": score,
                     "rag": _rag(score) if scored else "not scored (" + ("likelihood and cost unknown"
                                                                         if impact == NOT_SCORED and likelihood ==
                                                                         NOT_SCORED else "likelihood unknown") + ")",
                     "evidence": f"{fid}: {ev['source_org']} ({ev['year']}, {ev['verification']})"})
    df = pd.DataFrame(rows)
    order = [-(r if isinstance(r, int) else -1) for r in df["score"]]
    df = df.iloc[np.argsort(order, kind="stable")].reset_index(drop=True)
    df.attrs["rule"] = SCALE_RULE
    return df
