"""Evidence synthesis of the personal-budget pilots.

From the evidence register, every comparable outcome of the controlled studies
(IBSEN individual budgets, PHBE personal health budgets, Right to Control) and
the uncontrolled surveys (POET), each with the comparison it makes, its effect
size and the best uncertainty the published summary allows:

* a CI computed from counts when the source gives percentages and arm sizes
  (events reconstructed by rounding, said so);
* a CI derived from a published p-value (Altman & Bland) when that is all there is;
* "no data" when neither is published: no interval is invented.

No outcome has two comparable controlled studies in the register, so nothing
is pooled here: a single study is reported as one study. Researchers who
extract arm-level data from the full reports can supply them
(``data/templates/pilot_outcomes_template.csv``); outcomes with two or more
studies are then pooled with the chosen method, with subgroups by user group.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from analysis.budgets import effects, meta
from analysis.data.evidence import evidence_rows, figure
from analysis.errors import InputError
from analysis.precision import decimals, fmt

OUR_CALCULATION = ("our calculation from the published figures (simple random sampling assumed; the evaluation's own "
                   "interval is not published)")
"""How every interval this module computes from published summaries is labelled wherever it is shown: the
evaluations publish no interval for these outcomes, and the calculation assumes a simple random sample with no
survey weights or clustering, which the evaluations' designs need not match."""

FROM_P_VALUE = "our calculation, derived from the published p"
"""How an interval derived from a published p-value is labelled ('... p = 0.109 (normal approximation)'): the
calculation assumes nothing about sampling beyond what the p-value already carries, so it says the method instead
of :data:`OUR_CALCULATION`'s sampling assumption."""

PILOT_COLUMNS = ["study", "outcome", "user_group", "measure", "events1", "n1", "events2", "n2", "mean1", "sd1",
                 "mean2", "sd2", "source", "evidence_id"]


def _ci_from_p(estimate: float, p: float, level: float) -> tuple[float, float]:
    z = stats.norm.isf(p / 2)
    se = abs(estimate) / z
    crit = stats.norm.ppf((1 + level) / 2)
    return estimate - crit * se, estimate + crit * se


def pilot_evidence(figures: pd.DataFrame, level: float = 0.95) -> pd.DataFrame:
    """One row per comparable outcome in the register, with effect, interval and how it was obtained."""
    rows = []

    f11 = figure(figures, "PB-011")  # patients recruited to the controlled study
    phbe_n = f"about {round(float(f11['value']), -2):,.0f}"
    f12, f13 = figure(figures, "PB-012"), figure(figures, "PB-013")
    diff = f12["value"] - float(f12["comparator_value"])
    rows.append({"outcome": "care-related quality of life (ASCOT change)", "study": "PHBE (Forder et al. 2012)",
                 "design": "controlled trial (partly randomised)", "user_group": "mixed (NHS conditions)",
                 "budget_arm": f"{f12['value']:g}", "comparison_arm": f"{float(f12['comparator_value']):g}",
                 "measure": "difference in mean ASCOT change", "estimate": diff, "ci_low": np.nan, "ci_high": np.nan,
                 "ci_method": f"no data: only P<{f13['upper']:g} published (so SE < "
                              f"{fmt(diff / stats.norm.isf(f13['upper'] / 2))})",
                 "n": phbe_n, "evidence": "PB-011; PB-012; PB-013; PB-016"})

    f14, f15, f10 = figure(figures, "PB-014"), figure(figures, "PB-015"), figure(figures, "PB-010")
    rd = f14["value"] - float(f14["comparator_value"])
    lo, hi = _ci_from_p(rd, f15["value"], level)
    rows.append({"outcome": "mortality at 12 months", "study": "PHBE (Forder et al. 2012)",
                 "design": "controlled trial (partly randomised)", "user_group": "mixed (NHS conditions)",
                 "budget_arm": f"{f14['value']:g}%", "comparison_arm": f"{float(f14['comparator_value']):g}%",
                 "measure": "risk difference (pp)", "estimate": rd, "ci_low": lo, "ci_high": hi,
                 "ci_method": f"{FROM_P_VALUE} = {f15['value']:g} (normal approximation)",
                 "our_calculation": True,
                 "n": f"about {f10['value']:,.0f} per arm", "evidence": "PB-014; PB-015; PB-010"})

    f31 = figure(figures, "PB-031")
    n1 = int(f31["n"])
    n2 = int("".join(ch for ch in str(f31["comparator"]).split("n=")[1] if ch.isdigit()))
    es, note = effects.from_percentages("RD", f31["value"], n1, float(f31["comparator_value"]), n2)
    lo, hi = es.ci(level)
    rounding = rounding_note(f31["value"], n1, float(f31["comparator_value"]), n2, level)
    rows.append({"outcome": "control over daily life (as much as wanted)", "study": "Right to Control trailblazers "
                                                                                    "(2013)",
                 "design": "comparison areas (not randomised)", "user_group": "disabled adults",
                 "budget_arm": f"{f31['value']:g}%", "comparison_arm": f"{float(f31['comparator_value']):g}%",
                 "measure": "risk difference (pp)", "estimate": 100 * es.yi[0], "ci_low": 100 * lo[0],
                 "ci_high": 100 * hi[0], "ci_method": f"{OUR_CALCULATION}: {note}; {rounding}",
                 "our_calculation": True, "rounding_note": rounding, "n": f"{n1:,} vs {n2:,}", "evidence": "PB-031"})

    f32 = figure(figures, "PB-032")
    rows.append({"outcome": "mental wellbeing (WEMWBS)", "study": "Right to Control trailblazers (2013)",
                 "design": "comparison areas (not randomised)", "user_group": "disabled adults",
                 "budget_arm": f"{f32['value']:g}", "comparison_arm": f"{float(f32['comparator_value']):g}",
                 "measure": "mean difference", "estimate": f32["value"] - float(f32["comparator_value"]),
                 "ci_low": np.nan, "ci_high": np.nan, "ci_method": "no data: SDs not published",
                 "n": f"{int(f32['n']):,} vs about the same", "evidence": "PB-032"})

    f03 = figure(figures, "PB-003")
    rows.append({"outcome": "cost of support", "study": "IBSEN (Glendinning et al. 2008)",
                 "design": "randomised trial", "user_group": "four user groups combined",
                 "budget_arm": f"£{f03['value']:g}", "comparison_arm": f"£{float(f03['comparator_value']):g}",
                 "measure": "difference in mean cost (£, time unit not stated in the source)",
                 "estimate": f03["value"] - float(f03["comparator_value"]), "ci_low": np.nan, "ci_high": np.nan,
                 "ci_method": "no data: no dispersion published in the located source", "n": "no data",
                 "evidence": "PB-003"})

    for fid, outcome, group in (("PB-112", "feeling in control of daily life", "four user groups combined"),
                                ("PB-005", "quality of life", "mental health"),
                                ("PB-006", "carers' quality of life", "carers")):
        rows.append({"outcome": outcome, "study": "IBSEN (Glendinning et al. 2008)", "design": "randomised trial",
                     "user_group": group, "budget_arm": "higher (reported)", "comparison_arm": "",
                     "measure": "direction only", "estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                     "ci_method": "no data: the located source reports significance, not numbers", "n": "no data",
                     "evidence": fid})

    evidence_rows(figures, ["PB-113"])
    rows.append({"outcome": "psychological wellbeing (GHQ-12)", "study": "PHBE (Forder et al. 2012)",
                 "design": "controlled trial (partly randomised)", "user_group": "mixed (NHS conditions)",
                 "budget_arm": "higher (reported)", "comparison_arm": "", "measure": "direction only",
                 "estimate": np.nan, "ci_low": np.nan, "ci_high": np.nan,
                 "ci_method": "no data: the located summary reports a significant improvement, not numbers",
                 "n": phbe_n, "evidence": "PB-011; PB-113; PB-016"})

    f30 = figure(figures, "PB-030")
    p, n = f30["value"] / 100, int(f30["n"])
    z = stats.norm.ppf((1 + level) / 2)
    centre = (p + z ** 2 / (2 * n)) / (1 + z ** 2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z ** 2 / (4 * n ** 2)) / (1 + z ** 2 / n)
    rows.append({"outcome": "self-reported improvement in quality of life", "study": "POET PHB survey (2014)",
                 "design": "uncontrolled survey of budget holders", "user_group": "personal health budget holders",
                 "budget_arm": f"{f30['value']:g}%", "comparison_arm": "none", "measure": "proportion (%)",
                 "estimate": f30["value"], "ci_low": 100 * (centre - half), "ci_high": 100 * (centre + half),
                 "ci_method": f"{OUR_CALCULATION.replace('evaluation', 'survey')}: Wilson interval; no comparison "
                              "group, self-selected respondents",
                 "our_calculation": True, "n": f"{n}",
                 "evidence": "PB-030"})
    evidence_rows(figures, ["PB-016", "PB-004", "PB-033", "PB-034"])
    df = pd.DataFrame(rows)
    df["our_calculation"] = df["our_calculation"].astype("boolean").fillna(False).astype(bool)
    df.attrs["level"] = level
    return df


def rounding_note(p1: float, n1: int, p2: float, n2: int, level: float = 0.95) -> str:
    """How far rounding of two published whole-number percentages alone moves the interval of their difference:
    the interval recomputed with each percentage at the opposite ends of its rounding (half a point either way)."""
    def interval(a: float, b: float) -> tuple[float, float]:
        es, _ = effects.from_percentages("RD", a, n1, b, n2)
        lo, hi = es.ci(level)
        return 100 * lo[0], 100 * hi[0]

    low_end, high_end = (p1 - 0.5, p2 + 0.5), (p1 + 0.5, p2 - 0.5)
    (a_lo, a_hi), (b_lo, b_hi) = interval(*low_end), interval(*high_end)
    places = decimals((a_lo + a_hi) / 2, a_lo, a_hi)
    return (f"the published {p1:g}% and {p2:g}% are rounded, and rounding alone moves the interval: "
            f"{low_end[0]:g}% against {low_end[1]:g}% gives {fmt(a_lo, places=places, signed=True)} to "
            f"{fmt(a_hi, places=places, signed=True)}, {high_end[0]:g}% against {high_end[1]:g}% gives "
            f"{fmt(b_lo, places=places, signed=True)} to {fmt(b_hi, places=places, signed=True)}")


def read_pilot_outcomes(path: str) -> pd.DataFrame:
    """Researcher-extracted arm-level pilot outcomes (see the template); validated."""
    try:
        df = pd.read_csv(path)
    except FileNotFoundError:
        raise InputError(f"Pilot outcomes file not found: {path}") from None
    missing = [c for c in ["study", "outcome", "user_group", "measure"] if c not in df.columns]
    if missing:
        raise InputError(f"Pilot outcomes file {path} is missing columns {missing}; see "
                         "data/templates/pilot_outcomes_template.csv")
    bad = sorted(set(df["measure"]) - set(effects.MEASURES))
    if bad:
        raise InputError(f"Unknown measures {bad}; use one of {sorted(effects.MEASURES)}")
    return df


def effect_sizes_for(df: pd.DataFrame) -> pd.DataFrame:
    """Compute yi, vi for each row of researcher-supplied arm-level data."""
    out = []
    for measure, part in df.groupby("measure", sort=False):
        if measure in {"RR", "OR", "RD"}:
            need = ["events1", "n1", "events2", "n2"]
        else:
            need = ["mean1", "sd1", "n1", "mean2", "sd2", "n2"]
        missing = [c for c in need if c not in part.columns or part[c].isna().any()]
        if missing:
            raise InputError(f"{measure} rows need columns {need}; missing or blank: {missing}")
        if measure in {"RR", "OR", "RD"}:
            es = effects.binary(measure, part["events1"], part["n1"], part["events2"], part["n2"])
        else:
            es = effects.continuous(measure, part["mean1"], part["sd1"], part["n1"], part["mean2"], part["sd2"],
                                    part["n2"])
        out.append(part.assign(yi=es.yi, vi=es.vi))
    return pd.concat(out).sort_index()


def pool_by_outcome(df: pd.DataFrame, method: str, level: float = 0.95) -> tuple[pd.DataFrame, dict]:
    """Pool each outcome x measure with two or more studies; report single studies as such."""
    rows, subgroup_tests = [], {}
    for (outcome, measure), part in df.groupby(["outcome", "measure"], sort=False):
        if len(part) >= 2:
            r = meta.meta_analysis(part["yi"], part["vi"], method, level)
            rows.append({"outcome": outcome, "measure": measure, "k": r.k, "estimate": r.estimate, "ci_low": r.ci_low,
                         "ci_high": r.ci_high, "pi_low": r.pi_low, "pi_high": r.pi_high, "tau2": r.tau2, "i2": r.i2,
                         "i2_ci_low": r.i2_ci_low, "i2_ci_high": r.i2_ci_high,
                         "q_p_value": r.q_p_value, "method": r.method, "pooled": True})
            if part["user_group"].nunique() >= 2:
                table, test = meta.subgroups(part, "user_group", method, level)
                subgroup_tests[(outcome, measure)] = (table, test)
        else:
            row = part.iloc[0]
            z = stats.norm.ppf((1 + level) / 2)
            rows.append({"outcome": outcome, "measure": measure, "k": 1, "estimate": row["yi"],
                         "ci_low": row["yi"] - z * np.sqrt(row["vi"]), "ci_high": row["yi"] + z * np.sqrt(row["vi"]),
                         "pi_low": np.nan, "pi_high": np.nan, "tau2": np.nan, "i2": np.nan, "i2_ci_low": np.nan,
                         "i2_ci_high": np.nan, "q_p_value": np.nan,
                         "method": "single study (not pooled)", "pooled": False})
    return pd.DataFrame(rows), subgroup_tests
