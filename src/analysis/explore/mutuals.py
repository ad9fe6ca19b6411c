"""The staff-survey explorer: social enterprises against NHS trusts, one item at a time.

Pick an NHS Staff Survey item and a comparison (community or mental-health services) to see:

- the group comparison: the difference between social enterprises and NHS trusts in percentage
  points with its interval, both groups' rates and every p-value the report gives (clustered,
  randomisation, wild bootstrap; raw and Benjamini-Hochberg adjusted across all the items);
- the organisation spread: each organisation's rate on the item, by group;
- every item of the comparison as the report's forest plot (the chosen item is one row).

Pick an organisation (type part of its name, or its ODS code) to see it against its benchmark
group and all NHS trusts, year by year, with a Wilson interval on its responses.

The comparisons are computed once, when the explorer opens, for every item and both services,
exactly as the report computes them with its default parameters (:func:`analysis.mutuals.analysis.analyse`:
years, confidence level, permutations, seed); picking an item or a comparison then looks the
answer up. To change the years or the confidence level, run the report with those parameters.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import pandas as pd

from analysis import data
from analysis.data.staff_survey import ITEMS, ITEMS_BY_KEY
from analysis.errors import InputError
from analysis.explore import base, charts
from analysis.explore.controls import DESCRIPTION_STYLE, WIDE
from analysis.findings import difference_phrase
from analysis.mutuals import analysis as mutuals
from analysis.mutuals import multiplicity, sensitivity, staff
from analysis.mutuals.params import MutualsParameters
from analysis.report.params import NotebookParameters

NOTEBOOK = "mutuals_vs_inhouse"
GROUP_NAMES = {"community": ("Community social enterprises", "NHS community trusts"),
               "mental health": ("Mental-health social enterprises", "NHS mental-health trusts")}


def staff_comparisons(survey: pd.DataFrame, params: MutualsParameters) -> dict[str, dict[str, Any]]:
    """Per service: the item table with adjusted p-values, the pattern of directions and the response
    shares, computed as :func:`analysis.mutuals.analysis.analyse` computes them for ``params``."""
    years = (params.survey_years[0], params.survey_years[1])
    alpha = round(1 - params.confidence_level, 10)
    out = {}
    for service in params.comparisons:
        table = staff.compare_items(survey, service, list(params.outcomes), years, params.confidence_level,
                                    params.n_permutations, params.seed)
        table["domain"] = [ITEMS_BY_KEY[k].domain for k in table["item"]]
        adjusted = multiplicity.add_adjusted_p_values(table, alpha)
        out[service] = {"table": adjusted, "pattern": multiplicity.direction_pattern(adjusted, alpha),
                        "shares": sensitivity.response_shares(survey, service, years)}
    return out


def partial_results(params: MutualsParameters, computed: dict[str, dict[str, Any]],
                    focus: staff.FocusComparison | None = None) -> mutuals.MutualsResults:
    """The report's results object with the staff comparisons (and a focus organisation) only: what its
    staff tables and charts read."""
    empty = pd.DataFrame()
    return mutuals.MutualsResults(
        params=params, comparisons={s: c["table"] for s, c in computed.items()},
        patterns={s: c["pattern"] for s, c in computed.items()}, sensitivity={},
        shares={s: c["shares"] for s, c in computed.items()}, focus=focus, spread={}, cqc_shares=empty, cqc_models={},
        cqc_clustering=empty, care_homes=empty, care_home_clustering=empty, national=empty, councils=empty,
        national_change=empty, panel=None, simulated=None, verdicts=[])


class StaffSurveyExplorer(base.Explorer):
    """One staff-survey item: the group comparison, the spread and one organisation (see the module docstring)."""

    notebook = NOTEBOOK
    title = "Mutuals: NHS staff in social enterprises against NHS trusts, item by item"
    intro = ("Social enterprises chose to spin out and the ones observed are survivors; the survey starts years after "
             "the spin-outs; so every comparison is descriptive. With many items some differences appear by chance: "
             "read the adjusted p-values. The mental-health comparison is one organisation (NAViGO).")

    @classmethod
    def control_names(cls) -> list[str]:
        return ["item", "comparison", "organisation"]

    def load(self) -> None:
        self.defaults = MutualsParameters()
        self.survey = data.load("staff_survey")
        all_services = self.defaults.model_copy(update={"comparisons": list(staff.COMPARATORS)})
        self.computed = staff_comparisons(self.survey, all_services)
        years = self.defaults.survey_years
        orgs = self.survey[self.survey["provider_model"].isin(["social enterprise", "NHS trust"])
                           & self.survey["year"].between(*years)]
        latest = orgs.sort_values("year").drop_duplicates("ods_code", keep="last")
        latest = latest.assign(first=latest["provider_model"] != "social enterprise").sort_values(
            ["first", "organisation_latest"])
        self.organisations = {code: f"{name} ({code})" for code, name in
                              zip(latest["ods_code"], latest["organisation_latest"])}

    def fixed_values(self) -> dict[str, Any]:
        d = self.defaults
        return {"survey_years": list(d.survey_years), "confidence_level": d.confidence_level,
                "n_permutations": d.n_permutations, "seed": d.seed}

    def build_controls(self, initial: dict[str, Any]) -> dict[str, widgets.Widget]:
        # One item at a time: a drop-down over the model's items, checked as ``outcomes=[item]``.
        item = widgets.Dropdown(options=[(i.label, i.key) for i in ITEMS], value=initial.get("item", "burnout"),
                                description="Staff-survey item", style=DESCRIPTION_STYLE, layout=WIDE,
                                tooltip=MutualsParameters.model_fields["outcomes"].description or "")
        comparison = widgets.Dropdown(options=[(f"{GROUP_NAMES[s][0]} vs {GROUP_NAMES[s][1]}", s)
                                               for s in staff.COMPARATORS],
                                      value=initial.get("comparison", "community"), description="Comparison",
                                      style=DESCRIPTION_STYLE, layout=WIDE,
                                      tooltip=MutualsParameters.model_fields["comparisons"].description or "")
        start = initial.get("organisation", self.defaults.focus_organisation)
        organisation = widgets.Combobox(options=list(self.organisations.values()),
                                        value=self.organisations.get(start, start), ensure_option=False,
                                        continuous_update=False, placeholder="Type part of an organisation's name",
                                        description="Organisation", style=DESCRIPTION_STYLE, layout=WIDE,
                                        tooltip=MutualsParameters.model_fields["focus_organisation"].description or "")
        out = {"item": item, "comparison": comparison, "organisation": organisation}
        for name, widget in out.items():
            widget.add_class("explore-control")
            widget.add_class(f"explore-control-{name}")
        return out

    def values(self) -> dict[str, Any]:
        code = base.resolve_choice(self.controls["organisation"].value, self.organisations, code=r"[A-Z0-9]{3,5}",
                                   what="organisation", example=self.defaults.focus_organisation)
        return {**self.fixed_values(), "outcomes": [self.controls["item"].value],
                "comparisons": [self.controls["comparison"].value], "focus_organisation": code}

    def build_outputs(self) -> widgets.Widget:
        self.headline = widgets.HTML()
        self.headline.add_class("explore-headline")
        self.comparison_table = widgets.HTML()
        self.spread = widgets.HTML()
        self.focus_text = widgets.HTML()
        self.focus = widgets.HTML()
        self.forest = widgets.HTML()
        self.caveats = widgets.HTML()
        self.sources = widgets.HTML()
        return widgets.VBox([self.headline, self.comparison_table, self.spread, self.focus_text, self.focus,
                             self.forest, self.caveats, self.sources])

    def compute(self, params: NotebookParameters) -> dict[str, Any]:
        service, item = params.comparisons[0], params.outcomes[0]
        years = (params.survey_years[0], params.survey_years[1])
        table = self.computed[service]["table"]
        row = table[table["item"] == item]
        if row.empty:
            raise InputError(f"No data: {ITEMS_BY_KEY[item].label!r} is not compared for {service} services")
        spread = staff.organisation_spread(self.survey, service, item, years)
        focus = staff.organisation_vs_benchmark(self.survey, params.focus_organisation, [item], years,
                                                params.confidence_level)
        results = partial_results(self.defaults.model_copy(update={"outcomes": [i.key for i in ITEMS]}),
                                  self.computed, focus)
        return {"params": params, "service": service, "item": item, "row": row.iloc[0], "spread": spread,
                "focus": focus, "results": results}

    def render(self, result: dict[str, Any]) -> None:
        service, item, row, results = result["service"], result["item"], result["row"], result["results"]
        label = ITEMS_BY_KEY[item].label
        display = mutuals.staff_display(results, service)
        shown = display[display["Staff-survey item"] == label]
        self.headline.value = base.headline_html(f"{label}: {GROUP_NAMES[service][0].lower()} against "
                                                 f"{GROUP_NAMES[service][1]}",
                                                 comparison_sentence(results, service, row, shown.iloc[0]))
        self.comparison_table.value = base.table_html(
            shown, "The comparison on this item",
            source=mutuals.SOURCE_STAFF + ". p adjusted: Benjamini-Hochberg across all the items of the comparison.",
            full=results.comparisons[service][results.comparisons[service]["item"] == item])
        focus = result["focus"]
        self.focus_text.value = base.markdown_html(focus_sentence(focus, item, results.level))
        self.caveats.value = base.caveat_html("What this comparison cannot show", mutuals.staff_caveats(results))
        self.answered()
        self.spread.value = base.figure_html(spread_figure(result["spread"], service, item, result["params"]),
                                             f"{item} by organisation")
        figure = mutuals.focus_figure(results, item)
        self.focus.value = (base.figure_html(figure, f"{focus.organisation} {item}") if figure is not None else "")
        self.forest.value = self.memo(("forest", service),
                                      lambda: base.figure_html(mutuals.staff_forest(results, service),
                                                               f"{service} items"))
        self.sources.value = base.sources_html()


def comparison_sentence(results: mutuals.MutualsResults, service: str, row: pd.Series, shown: pd.Series) -> str:
    """The difference in words, with its interval when one is valid and the p-values that decide it.

    ``row`` is the item's row of the comparison table; ``shown`` its row of the report's display table
    (whose p-values are already formatted by the report's rule).
    """
    group, reference = GROUP_NAMES[service]
    what = ITEMS_BY_KEY[row["item"]].label.split(" (")[0]
    p_text = f"randomisation p = {shown['p (randomisation)']} (adjusted {shown['p adjusted (randomisation)']})"
    if pd.isna(row["ci_low"]) or pd.isna(row["ci_high"]):
        one = results.shares[service].query("social_enterprise == 1")["organisation_latest"].iloc[0]
        return (f"{what}: {one} (the only one) {row['difference_pp']:+.1f} pp against {reference}; one organisation "
                f"has no valid clustered interval, so only the randomisation test counts: {p_text}.")
    phrase = difference_phrase(what, group.lower(), reference, float(row["difference_pp"]), float(row["ci_low"]),
                               float(row["ci_high"]), unit="pp", level=results.level)
    return f"{phrase}; clustered p = {shown['p (clustered)']} (adjusted {shown['p adjusted (clustered)']}), {p_text}."


def focus_sentence(focus: staff.FocusComparison, item: str, level: float) -> str:
    t = focus.table[focus.table["item"] == item]
    if t.empty:
        return f"No data: {focus.organisation} has no result on this item in these years."
    last = t.sort_values("year").iloc[-1]
    national = last["national_trust_average"]
    phrase = difference_phrase(f"{ITEMS_BY_KEY[item].label.split(' (')[0]}, {int(last['year'])}", focus.organisation,
                               "the all-trust average", float(last["organisation_rate"] - national),
                               float(last["ci_low"] - national), float(last["ci_high"] - national), level=level)
    return (f"**{focus.organisation}** (benchmark group: {focus.benchmark_group}): {phrase}. Its rate was "
            f"{last['organisation_rate']:.1f}% against a benchmark median of {last['benchmark_median']:.1f}% "
            f"({int(last['benchmark_n'])} comparable organisations). One organisation's results say nothing about "
            "social enterprises in general.")


def spread_figure(spread: pd.DataFrame, service: str, item: str, params: NotebookParameters):
    group, reference = GROUP_NAMES[service]
    years = params.survey_years
    label = ITEMS_BY_KEY[item].label.split(" (")[0]
    title = (f"{label}: each organisation's rate, {years[0]}-{years[1]} (response-weighted); dots sized by "
             "responses")
    return charts.organisation_strip(spread, title, mutuals.SOURCE_STAFF, groups={1: group, 0: reference},
                                     highlight=params.focus_organisation)
