"""The unit-cost explorer: what a council paid for its own provision against what it bought in.

Pick a service (and client group) and a span of years (PSS-EX1, 2008-09 to 2013-14), the price
base, the minimum activity for a council's unit cost to count and the interval width. Each change
re-runs, for that one service, the comparisons of the provision-costs report with the same library
functions (:mod:`analysis.costs.comparisons`):

- the headline: the within-council ratio (own provision / external, same council and year) with
  its interval clustered by council;
- that ratio year by year, and the England unit costs by provider in real terms (PSS-EX1 and the
  2014-15 ASC-FR year, a different collection, shown apart);
- the activity-weighted England ratio by year with its council-bootstrap interval.

A unit cost is cost per week, hour or client: not adjusted for quality or case mix, so none of
this is productivity (the report says more).
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import pandas as pd

from analysis import data, plots
from analysis.costs import analysis as costs
from analysis.costs import comparisons
from analysis.costs.comparisons import LABELS, SERIES, UNIT_WORDS
from analysis.costs.params import PSS_YEARS, ProvisionCostsParameters
from analysis.explore import base
from analysis.explore.controls import control
from analysis.report.params import NotebookParameters

NOTEBOOK = "provision_costs"
MIN_ACTIVITY = {"residential care": "min_weeks", "day care": "min_client_weeks", "home care": "min_hours"}
SPANS: dict[str, dict[str, Any]] = {
    "min_weeks": {"maximum": 5200.0, "step": 52.0},
    "min_client_weeks": {"maximum": 5200.0, "step": 52.0},
    "min_hours": {"maximum": 52_000.0, "step": 520.0},
    "confidence_level": {"minimum": 0.8, "maximum": 0.99, "step": 0.01},
}


class UnitCostExplorer(base.Explorer):
    """One service: own provision against external (see the module docstring)."""

    notebook = NOTEBOOK
    title = "In-house against external provision: what a unit of care cost, service by service"
    intro = ("A ratio of 2 means a council's own provision cost twice as much per week, hour or client as what it "
             "bought from others in the same year. That is cost, not productivity: it is not adjusted for quality "
             "or for the people served, and in-house costs may include council overheads that an external fee does not "
             "show.")

    @classmethod
    def control_names(cls) -> list[str]:
        return ["service", "years", "real_terms_base", "min_weeks", "min_client_weeks", "min_hours",
                "include_2014_15", "confidence_level"]

    def load(self) -> None:
        self.unit_costs = data.load("unit_costs")
        self.deflators = data.load("gdp_deflators")
        self.defaults = ProvisionCostsParameters()

    def rebased(self, base_year: str) -> pd.DataFrame:
        """The unit-cost table at ``base_year`` prices (kept: rebasing is the same for every service)."""
        return self.memo(("prices", base_year),
                         lambda: comparisons.with_price_base(self.unit_costs, self.deflators, base_year))

    def build_controls(self, initial: dict[str, Any]) -> dict[str, widgets.Widget]:
        m = ProvisionCostsParameters
        out = {
            "service": control(m, "services", value=initial.get("service", "residential_older"), label="Service",
                               options=list(SERIES), labels=LABELS, single=True),
            "years": widgets.SelectionRangeSlider(options=list(PSS_YEARS), index=(
                PSS_YEARS.index(initial.get("years", self.defaults.years)[0]),
                PSS_YEARS.index(initial.get("years", self.defaults.years)[1])), description="Years",
                continuous_update=False, style={"description_width": "15em"}, layout=widgets.Layout(width="98%"),
                tooltip=m.model_fields["years"].description or ""),
        }
        out["years"].add_class("explore-control")
        out["years"].add_class("explore-control-years")
        for name in ("real_terms_base", "min_weeks", "min_client_weeks", "min_hours", "include_2014_15",
                     "confidence_level"):
            labels = {"real_terms_base": "Prices of", "min_weeks": "Minimum weeks (residential)",
                      "min_client_weeks": "Minimum client weeks (day care)", "min_hours": "Minimum hours (home care)",
                      "include_2014_15": "Show 2014-15 (ASC-FR)", "confidence_level": "Interval width"}
            out[name] = control(m, name, value=initial.get(name, ...), label=labels[name], **SPANS.get(name, {}))
        return out

    def controls_panel(self) -> widgets.Widget:
        c = self.controls
        more = widgets.Accordion([widgets.VBox([c["real_terms_base"], c["min_weeks"], c["min_client_weeks"],
                                                c["min_hours"], c["include_2014_15"], c["confidence_level"]])])
        more.set_title(0, "Prices, minimum activity and interval")
        more.selected_index = None
        return widgets.VBox([c["service"], c["years"], more])

    def values(self) -> dict[str, Any]:
        c = self.controls
        return {"services": [c["service"].value], "years": list(c["years"].value),
                **{name: c[name].value for name in self.control_names() if name not in ("service", "years")}}

    def build_outputs(self) -> widgets.Widget:
        self.headline = widgets.HTML()
        self.headline.add_class("explore-headline")
        self.within_chart = widgets.HTML()
        self.within_table = widgets.HTML()
        self.trend_chart = widgets.HTML()
        self.england_table = widgets.HTML()
        self.caveat = widgets.HTML()
        self.sources = widgets.HTML()
        return widgets.VBox([self.headline, self.within_chart, self.within_table, self.trend_chart,
                             self.england_table, self.caveat, self.sources])

    def compute(self, params: NotebookParameters) -> dict[str, Any]:
        """The report's comparisons for one service (as :func:`analysis.costs.analysis.analyse` runs them)."""
        table = self.rebased(params.real_terms_base)
        series = list(params.services)
        years, level = params.year_range, params.confidence_level
        england = comparisons.england_ratios(table, series, years, level=level, n_boot=params.n_bootstrap,
                                             seed=params.seed)
        if params.include_2014_15:
            england_2015 = comparisons.england_ratios(table, series, (2015, 2015), level=level,
                                                      n_boot=params.n_bootstrap, seed=params.seed,
                                                      collection="ASC-FR")
            england = pd.concat([england, england_2015], ignore_index=True)
        within = comparisons.within_council(table, series, years, params.min_activity, level=level)
        trend = comparisons.england_trend(table, series, years)
        if not params.include_2014_15:
            trend = trend[trend["collection"] == "PSS-EX1"]
        empty = pd.DataFrame()
        results = costs.ProvisionResults(
            params=params, england=england, england_2015=empty, distribution=empty, within=within,
            within_weighted=within, within_2015=None, bootstrap_check=empty, trend=trend,
            real_change=comparisons.real_change(trend, years), quality=empty, closures=None, cic=None, verdicts=[],
            reconciliation=empty, spinout_evidence=empty)
        return {"params": params, "series": series[0], "results": results}

    def render(self, result: dict[str, Any]) -> None:
        series, results, params = result["series"], result["results"], result["params"]
        pooled = results.within.pooled
        first, last = params.years
        unit = UNIT_WORDS[SERIES[series][0]]
        if pooled.empty:
            self.headline.value = base.headline_html(
                LABELS[series], f"No data: fewer than three councils both ran and bought this service above the "
                                f"minimum activity in {first} to {last}.")
            self.within_chart.value = self.within_table.value = ""
        else:
            r = pooled.iloc[0]
            text = costs.ratio_phrase(f"{LABELS[series]}, {first} to {last}, councils that ran and bought the service "
                                      "in the same year", r["ratio"], r["ci_low"], r["ci_high"], results.level,
                                      unit_word=unit)
            self.headline.value = base.headline_html(
                f"Own provision against external, same council and year ({int(r['n_councils'])} councils, "
                f"{int(r['n_council_years'])} council-years)", text)
            self.within_table.value = base.table_html(costs.within_by_year_display(results),
                                                      "Own provision against external, same council, year by year",
                                                      source=costs.SOURCE_COSTS, full=results.within.by_year)
        self.england_table.value = base.table_html(
            costs.england_display(results, results.england), "England, activity-weighted, by year",
            source=costs.SOURCE_COSTS + ("; " + costs.SOURCE_ASCFR if params.include_2014_15 else ""),
            full=results.england)
        self.caveat.value = base.caveat_html("What this cannot show", [costs.NOT_PRODUCTIVITY])
        self.answered()
        # Numbers and words first (each reaches the page as soon as it is set), then the charts.
        if not pooled.empty:
            self.within_chart.value = base.figure_html(within_by_year_figure(results, series), f"{series} by year")
        figure = costs.trend_figure(results, series)
        self.trend_chart.value = base.figure_html(figure, f"{series} trend") if figure is not None else ""
        self.sources.value = base.sources_html()


def within_by_year_figure(results: costs.ProvisionResults, series: str):
    b = results.within.by_year
    b = b[b["series"] == series]
    p = results.within.pooled.iloc[0]
    first, last = results.params.years
    title = costs.ratio_phrase(f"{LABELS[series]}, {first} to {last} pooled (each year below)", p["ratio"], p["ci_low"],
                               p["ci_high"], results.level, unit_word=UNIT_WORDS[SERIES[series][0]])
    as_percent = [100 * (float(p[c]) - 1) for c in ("ratio", "ci_low", "ci_high")]  # the scale the title speaks in
    return plots.forest(b, "financial_year", "ratio", "ci_low", "ci_high", title,
                        costs.SOURCE_COSTS + f". Ratio of unit costs, own provision / external, same council and year; "
                        f"{results.level:.0%} intervals clustered by council. Right of 1: own provision cost more "
                        "(not worse or better quality).", xlabel="Own provision unit cost / external (1 = the same)",
                        null=1.0, better="neither", n=f"{int(p['n_councils'])} councils",
                        title_basis=(*as_percent, results.level))
