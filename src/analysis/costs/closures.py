"""Councils that closed or sold their own care homes for older people: the panel methods on a real panel.

Design (a staggered adoption): between 2008-09 and 2013-14 some councils ran their
in-house residential care for older people down to (near) nothing, by closing homes
or transferring them to other providers; others kept theirs. The unit is the council,
the period the financial year, and the "treatment" the year the council's in-house
weeks first fall below a share of its own 2008-09 level and stay there
(:class:`ClosureRule`). Controls are councils whose in-house weeks never fell below a
second, higher share (they *kept* their homes); councils in between, councils with
little or no in-house provision in 2008-09, councils whose in-house weeks rose again,
and councils not observed in every year are set aside and counted.

Outcomes: (1) the council's overall weekly cost of residential care for older people
(in-house and external together, real terms), and (2) the weeks it bought from other
providers; both in logs, so effects read as percentage changes.

Estimators (``analysis.mutuals.panel``): Callaway and Sant'Anna group-time effects
with the simple, group and dynamic aggregations and the pre-trend Wald test; a TWFE
event study with its joint pre-trend F test; and the static TWFE contrast, which can be
biased under staggered adoption with effects that change over time.

What it cannot show: closing homes is a choice (councils whose homes were dearest, in
worst repair or under a critical inspection closed first), so parallel trends is an
assumption, tested only weakly by the pre-trends; cohorts of one to three councils give
noisy group-time effects whose analytic standard errors are unreliable; and the
overall unit cost changes mechanically when dear in-house weeks leave the average.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.costs.comparisons import series_frame, wide_by_provider
from analysis.data.unit_costs import financial_year
from analysis.errors import InputError, PanelError
from analysis.mutuals.panel import aggregate, callaway_santanna, twfe, twfe_event_study, validate_panel

OUTCOMES = {
    "log_unit_cost": "Overall weekly cost of residential care for older people (log, real terms)",
    "log_weeks_bought": "Weeks of residential care for older people bought from other providers (log)",
}


@dataclass(frozen=True)
class ClosureRule:
    """When a council counts as having closed or sold its in-house care homes for older people.

    ``closure_share``: treated from the first year its in-house weeks fall below this share of its
    own first-year level, provided they stay below it in every later year. ``kept_share``: a control
    council's in-house weeks never fall below this share. ``baseline_min_weeks``: in-house weeks in
    the first year needed to be in the design at all (about 20 full-year residents by default).
    """

    closure_share: float = 0.10
    kept_share: float = 0.50
    baseline_min_weeks: float = 1040.0

    def __post_init__(self):
        if not 0 < self.closure_share < self.kept_share <= 1:
            raise InputError(f"Treatment rule needs 0 < closure_share ({self.closure_share}) < kept_share "
                             f"({self.kept_share}) <= 1")
        if self.baseline_min_weeks < 0:
            raise InputError("baseline_min_weeks must be 0 or more")

    def describe(self) -> str:
        return (f"a council is treated from the first year its in-house weeks fall below {self.closure_share:.0%} of "
                f"its first-year (2008-09) level and stay there; controls keep at least {self.kept_share:.0%} of it "
                f"every year; only councils with at least {self.baseline_min_weeks:,.0f} in-house weeks in the first "
                "year take part")


@dataclass
class ClosurePanel:
    data: pd.DataFrame  # council x year: dh_code, council, year, cohort, treated, outcomes, shares
    status: pd.DataFrame  # one row per council: status (treated/kept/excluded reason), cohort
    cohorts: pd.DataFrame  # cohort year, financial year, councils
    years: tuple[int, int]
    rule: ClosureRule

    @property
    def n_treated(self) -> int:
        return int((self.status["status"] == "closed or sold").sum())

    @property
    def n_controls(self) -> int:
        return int((self.status["status"] == "kept").sum())


def build_panel(unit_costs: pd.DataFrame, rule: ClosureRule, years: tuple[int, int] = (2009, 2014)) -> ClosurePanel:
    """The council x year panel of residential care for older people under ``rule``."""
    wide = wide_by_provider(series_frame(unit_costs, "residential_older", "PSS-EX1"))
    wide = wide[(wide["geography"] == "council") & wide["year"].between(*years)].copy()
    first, last = years
    expected = set(range(first, last + 1))
    rows = []
    for code, part in wide.groupby("dh_code"):
        part = part.sort_values("year")
        name = part["council"].iloc[0]
        complete = (set(part["year"]) == expected and part[["activity_in", "activity_ext",
                                                            "cost_ext"]].notna().all().all()
                    and part["ons_code"].notna().all())
        base = part.loc[part["year"] == first, "activity_in"]
        base = float(base.iloc[0]) if len(base) and pd.notna(base.iloc[0]) else np.nan
        status, cohort = None, 0
        if not complete:
            status = "excluded: not observed in every year"
        elif not base >= rule.baseline_min_weeks:
            status = "excluded: little or no in-house provision in the first year"
        else:
            share = (part["activity_in"] / base).to_numpy()
            below = share < rule.closure_share
            if below.any():
                k = int(np.argmax(below))
                if below[k:].all():
                    status, cohort = "closed or sold", int(part["year"].iloc[k])
                else:
                    status = "excluded: in-house weeks fell below the threshold and rose again"
            elif (share >= rule.kept_share).all():
                status = "kept"
            else:
                status = "excluded: reduced but not closed (between the two thresholds)"
        rows.append({"dh_code": code, "council": name, "status": status, "cohort": cohort,
                     "baseline_weeks": base, "min_share": float(np.nanmin(part["activity_in"] / base))
                     if base and base > 0 else np.nan})
    status = pd.DataFrame(rows)
    keep = status[status["status"].isin(["closed or sold", "kept"])]
    data = wide[wide["dh_code"].isin(keep["dh_code"])].merge(keep[["dh_code", "cohort"]], on="dh_code")
    total_cost = data["cost_in"].fillna(0) + data["cost_ext"]
    total_weeks = data["activity_in"].fillna(0) + data["activity_ext"]
    data["unit_cost"] = total_cost / total_weeks
    data["log_unit_cost"] = np.log(data["unit_cost"])
    data["log_weeks_bought"] = np.log(data["activity_ext"])
    data["in_house_share_of_weeks"] = data["activity_in"] / total_weeks
    data["treated"] = ((data["cohort"] > 0) & (data["year"] >= data["cohort"])).astype(int)
    bad = ~np.isfinite(data[list(OUTCOMES)]).all(axis=1)
    if bad.any():
        dropped = data.loc[bad, "dh_code"].unique()
        status.loc[status["dh_code"].isin(dropped), "status"] = "excluded: an outcome is zero or missing"
        data = data[~data["dh_code"].isin(dropped)]
    treated = status[status["status"] == "closed or sold"]
    cohorts = (treated.groupby("cohort").size().rename("councils").reset_index()
               .assign(financial_year=lambda d: d["cohort"].map(financial_year)))
    return ClosurePanel(data.reset_index(drop=True), status, cohorts, years, rule)


@dataclass
class OutcomeEstimates:
    outcome: str
    label: str
    summary: pd.DataFrame  # method, estimate (log points), se, ci_low, ci_high, pct, pct_low, pct_high, n
    group_time: pd.DataFrame
    dynamic: pd.DataFrame  # event_time, estimate, se, ci_low, ci_high (CS)
    event_study: pd.DataFrame  # relative_time, estimate, ci (TWFE)
    cs_pretest_p: float | None
    es_pretest_p: float | None
    es_pretest_f: float | None
    notes: list[str] = field(default_factory=list)
    large_cohorts_pretest_p: float | None = None  # the Wald pre-test without cohorts under min_cohort_size


@dataclass
class ClosureResults:
    panel: ClosurePanel
    estimates: dict[str, OutcomeEstimates]
    supported: bool
    reason: str
    control_group: str
    level: float


def _pct(x: float) -> float:
    return 100 * (np.exp(x) - 1)


def estimate(panel: ClosurePanel, *, control_group: str = "nevertreated", level: float = 0.95,
             seed: int = 0, min_treated: int = 5, min_controls: int = 10, min_cohort_size: int = 5) -> ClosureResults:
    """Every estimator on both outcomes; ``supported`` is False (with the numbers why) when the design has
    too few treated or control councils to estimate anything worth reporting.

    Cohorts of one to a few councils make group-time effects and their analytic variances unreliable
    (the Wald pre-test then over-rejects), so Callaway-Sant'Anna is also run without cohorts smaller
    than ``min_cohort_size`` as a robustness check.
    """
    n_t, n_c = panel.n_treated, panel.n_controls
    if n_t < min_treated or n_c < min_controls:
        return ClosureResults(panel, {}, False,
                              f"Only {n_t} council(s) closed or sold their homes under the rule and {n_c} kept them "
                              f"(at least {min_treated} and {min_controls} are needed).", control_group, level)
    estimates = {}
    for outcome, label in OUTCOMES.items():
        frame = panel.data[["dh_code", "year", outcome, "treated"]].rename(
            columns={"dh_code": "unit", "year": "time", outcome: "outcome"})
        p = validate_panel(frame, require_balanced=True)
        notes = []
        gt = callaway_santanna(p, control_group=control_group, level=level)
        notes += gt.notes
        simple = aggregate(gt, "simple")
        group = aggregate(gt, "group")
        dynamic = aggregate(gt, "dynamic", uniform_bands=True, seed=seed)
        tw = twfe(p, level=level)
        es = twfe_event_study(p, level=level)
        rows = []
        for name, agg in (("Callaway-Sant'Anna: simple (all post-closure council-years)", simple),
                          ("Callaway-Sant'Anna: group (average of cohort effects)", group),
                          ("Callaway-Sant'Anna: dynamic (average over years since closure)", dynamic)):
            lo, hi = agg.overall_ci
            rows.append({"method": name, "estimate": agg.overall, "se": agg.overall_se, "ci_low": lo, "ci_high": hi})
        rows.append({"method": "Two-way fixed effects (static)", "estimate": tw.estimate, "se": tw.se,
                     "ci_low": tw.ci_low, "ci_high": tw.ci_high})
        small = panel.cohorts.loc[panel.cohorts["councils"] < min_cohort_size, "cohort"].tolist()
        large_p = None
        if small and (panel.cohorts["councils"] >= min_cohort_size).any():
            keep = frame[~frame["unit"].isin(panel.data.loc[panel.data["cohort"].isin(small), "dh_code"])]
            gt_large = callaway_santanna(validate_panel(keep, require_balanced=True), control_group=control_group,
                                         level=level)
            agg = aggregate(gt_large, "simple")
            lo, hi = agg.overall_ci
            n_large = int(panel.cohorts.loc[panel.cohorts["councils"] >= min_cohort_size, "councils"].sum())
            rows.append({"method": f"Callaway-Sant'Anna: simple, cohorts of {min_cohort_size}+ councils only "
                                   f"({n_large} councils)", "estimate": agg.overall, "se": agg.overall_se,
                         "ci_low": lo, "ci_high": hi, "n_treated": n_large})
            large_p = gt_large.pretest_p_value
        summary = pd.DataFrame(rows)
        for col, src in (("pct", "estimate"), ("pct_low", "ci_low"), ("pct_high", "ci_high")):
            summary[col] = summary[src].map(_pct)
        # Every row uses every closing council except the small-cohort check, which counts its own.
        summary["n_treated"] = (summary["n_treated"] if "n_treated" in summary else pd.Series(np.nan, summary.index)
                                ).fillna(n_t).astype(int)
        summary["n_controls"] = n_c
        if tw.note:
            notes.append(tw.note)
        if es.note:
            notes.append(es.note)
        estimates[outcome] = OutcomeEstimates(outcome, label, summary, gt.att, dynamic.detail, es.coefficients,
                                              gt.pretest_p_value, es.pretrend_p_value, es.pretrend_f, notes, large_p)
    return ClosureResults(panel, estimates, True, "", control_group, level)


def analyse(unit_costs: pd.DataFrame, rule: ClosureRule, years: tuple[int, int], *, control_group: str,
            level: float, seed: int) -> ClosureResults:
    try:
        panel = build_panel(unit_costs, rule, years)
    except PanelError as exc:
        raise InputError(f"The closure panel could not be built: {exc}") from None
    return estimate(panel, control_group=control_group, level=level, seed=seed)


def status_counts(panel: ClosurePanel) -> pd.DataFrame:
    """How many councils fall under each status of the treatment rule."""
    counts = panel.status["status"].value_counts().rename_axis("status").rename("councils").reset_index()
    return counts


MIN_EVENT_COUNCILS = 5
"""Event times (years since closure) resting on fewer closing councils than this are not drawn: with one to four
councils an estimate is that handful of councils' own path and its analytic standard error is unreliable (the
same floor as the small-cohort check in :func:`estimate`)."""


def event_time_councils(panel: ClosurePanel) -> pd.Series:
    """TWFE event study: closing councils observed at each event time (year minus closure year)."""
    treated = panel.data[panel.data["cohort"] > 0]
    rel = treated["year"] - treated["cohort"]
    return treated.groupby(rel)["dh_code"].nunique().rename("councils").rename_axis("event_time")


def cs_event_time_councils(group_time: pd.DataFrame) -> pd.Series:
    """Callaway-Sant'Anna dynamic aggregation: closing councils in the group-time effects at each event time."""
    rel = group_time["time"] - group_time["group"]
    return group_time.groupby(rel)["n_group"].sum().rename("councils").rename_axis("event_time")
