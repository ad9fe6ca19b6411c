"""The NAO value-for-money explorer: a control for every model input and scenario.

Every field of :class:`analysis.vfm.params.VfmParameters` has a control bounded by the model's
range (sliders may be narrowed to a practical span, never widened), and a parameter whose
default comes from a cited source has a "cited default" tick box: untick it to set your own
value (the slider starts at the cited value). Each change re-runs the headline scenario as the
report does (:func:`analysis.vfm.analysis.run_scenario`: inputs resolved from the evidence
register and the CQC closures, the Monte Carlo, the tornado and switching values) and shows:

- the headline: mean present value at risk with the central range of the simulations;
- the distribution of the simulated totals (the headline's distribution);
- the tornado chart and the switching values;
- the components, the probability the contracts cost more, and the inputs with their sources.

The three-scenario comparison, the NAO criteria, the risk register and the verdicts do not move
with these controls in a way worth re-drawing on every change: they are in the report.

Speed: the failure-proxy definitions (score intervals for each closure measure, the slow
part of resolving the inputs) depend only on the proxy controls and the confidence level, so they
are kept by :func:`analysis.vfm.inputs.proxy_key` and recomputed only when those change.
"""

from __future__ import annotations

from typing import Any

import ipywidgets as widgets
import pandas as pd

from analysis import data, precision
from analysis.explore import base, charts
from analysis.explore.controls import control
from analysis.findings import difference_phrase
from analysis.vfm import analysis as vfm
from analysis.vfm import failure, inputs, model
from analysis.vfm.params import VfmParameters

NOTEBOOK = "nao_vfm_risk"

# Practical spans for the sliders, inside the model's bounds (checked by analysis.explore.controls).
SPANS: dict[str, dict[str, Any]] = {
    "annual_contract_value_gbp_m": {"minimum": 50.0, "maximum": 3000.0, "step": 10.0},
    "contract_value_uncertainty": {"step": 0.01, "percent": True},
    "contract_years": {"maximum": 15},
    "n_enterprises": {"maximum": 500},
    "inhouse_efficiency_rate": {"maximum": 0.1, "step": 0.001, "percent": True},
    "inhouse_efficiency_range": {"maximum": 0.1, "step": 0.001, "percent": True},
    "target_efficiency_rate": {"maximum": 0.1, "step": 0.001, "percent": True},
    "contracted_savings_rate": {"maximum": 0.1, "step": 0.001, "percent": True},
    "contracted_savings_range": {"maximum": 0.1, "step": 0.001, "percent": True},
    "failure_hazard": {"maximum": 0.2, "step": 0.001, "percent": True},
    "inhouse_failure_hazard": {"maximum": 0.2, "step": 0.001, "percent": True},
    "failure_proxy_years": {"minimum": vfm.CLOSURE_YEARS[0], "maximum": vfm.CLOSURE_YEARS[1]},
    "transition_cost_share": {"step": 0.01, "percent": True},
    "transition_cost_range": {"maximum": 1.0, "step": 0.01, "percent": True},
    "risk_retained_share": {"step": 0.01, "percent": True},
    "risk_retained_range": {"maximum": 1.0, "step": 0.01, "percent": True},
    "setup_cost_gbp_m": {"maximum": 200.0, "step": 1.0},
    "discount_rate": {"step": 0.001, "percent": True},
    "n_simulations": {"options": [10_000, 50_000, 100_000, 200_000, 500_000, 1_000_000]},
    "confidence_level": {"minimum": 0.8, "maximum": 0.99, "step": 0.01},
}
LABELS = {
    "scenario": "Scenario", "annual_contract_value_gbp_m": "Contract value a year (£m)",
    "contract_value_uncertainty": "± contract value", "contract_years": "Contract length (years)",
    "n_enterprises": "Social enterprises", "inhouse_efficiency_rate": "In-house efficiency (most likely)",
    "inhouse_efficiency_range": "In-house efficiency range", "target_efficiency_rate": "Target efficiency",
    "contracted_savings_rate": "Contracted savings", "contracted_savings_range": "Contracted savings range",
    "failure_hazard": "Spin-out failure hazard", "inhouse_failure_hazard": "In-house closure hazard",
    "failure_proxy_ownership": "Spin-out proxy ownership", "inhouse_proxy_ownership": "In-house proxy ownership",
    "failure_proxy_measure": "Closure measure", "failure_proxy_years": "Closure years",
    "transition_cost_share": "Re-provision cost (share)", "transition_cost_range": "Re-provision cost range",
    "risk_retained_share": "Failure cost borne by commissioner", "risk_retained_range": "Borne by commissioner range",
    "setup_cost_gbp_m": "Set-up support (£m)", "discount_rate": "Discount rate (real)",
    "n_simulations": "Simulations", "seed": "Random seed", "confidence_level": "Interval width",
}
SCENARIO_LABELS = {name: scen.label for name, scen in inputs.SCENARIOS.items()}
GROUPS = {
    "Contracts": ["annual_contract_value_gbp_m", "contract_value_uncertainty", "contract_years", "n_enterprises",
                  "setup_cost_gbp_m", "discount_rate"],
    "Efficiency and savings": ["inhouse_efficiency_rate", "inhouse_efficiency_range", "target_efficiency_rate",
                               "contracted_savings_rate", "contracted_savings_range"],
    "Provider failure": ["failure_hazard", "inhouse_failure_hazard", "failure_proxy_ownership",
                         "inhouse_proxy_ownership", "failure_proxy_measure", "failure_proxy_years",
                         "transition_cost_share", "transition_cost_range", "risk_retained_share",
                         "risk_retained_range"],
    "Simulation": ["n_simulations", "seed", "confidence_level"],
}


def cited_defaults(params: VfmParameters, figures: pd.DataFrame, yearly: pd.DataFrame,
                   proxy: pd.DataFrame | None = None) -> dict[str, Any]:
    """The value each ``None`` parameter takes from its cited source (where its slider starts when unticked)."""
    achieved = inputs.resolve(params.model_copy(update={"scenario": "achieved"}), figures, yearly, proxy=proxy)
    target = inputs.resolve(params.model_copy(update={"scenario": "target"}), figures, yearly, proxy=proxy)
    central = achieved.central()
    eff = achieved.distributions["inhouse_efficiency"]
    years = achieved.distributions["contract_years"]
    return {
        "annual_contract_value_gbp_m": float(central["contract_value"]),
        "contract_years": int(round((years.low + years.high) / 2)),
        "n_enterprises": int(achieved.terms.n_enterprises),
        "inhouse_efficiency_rate": float(eff.central),
        "inhouse_efficiency_range": (float(eff.low), float(eff.high)),
        "target_efficiency_rate": float(target.distributions["inhouse_efficiency"].central),
        "failure_hazard": float(central["failure_hazard"]),
        "inhouse_failure_hazard": float(central["inhouse_failure_hazard"]),
        "setup_cost_gbp_m": float(central["setup_cost"]),
        "discount_rate": float(achieved.terms.discount_rate),
    }


def _default_help(name: str) -> str:
    """The "None: ..." part of a field's description: where the cited default comes from."""
    description = VfmParameters.model_fields[name].description or ""
    return description.split("None: ", 1)[1] if "None: " in description else description


class VfmExplorer(base.Explorer):
    """Every input and scenario of the NAO value-for-money model (see the module docstring)."""

    notebook = NOTEBOOK
    title = "NAO value for money: what was at risk, under which assumptions"
    intro = ("Move any input: the headline scenario is re-simulated as the report does it. Inputs marked *cited "
             "default* take their value from the evidence register or the CQC closure data; untick the box to set "
             "your own. Positive values mean the contracts cost more than in-house provision would have. The "
             "three-scenario table, the NAO criteria and the verdicts are in the report "
             "(`python -m analysis run nao_vfm_risk`).")

    @classmethod
    def control_names(cls) -> list[str]:
        return list(VfmParameters.model_fields)

    def load(self) -> None:
        self.figures = data.load_figures()
        self.closures = data.load("cqc_care_home_closures")
        self.counts = data.load("cqc_care_homes_count")
        self._yearly: dict[float, pd.DataFrame] = {}
        self._proxies: dict[tuple, pd.DataFrame] = {}
        defaults = VfmParameters()
        self.defaults = cited_defaults(defaults, self.figures, self.yearly(defaults.confidence_level),
                                       self.proxy(defaults))

    def yearly(self, level: float) -> pd.DataFrame:
        """Closure rates by ownership and year (as :func:`analysis.vfm.analysis.analyse` computes them)."""
        if level not in self._yearly:
            _, self._yearly[level] = failure.closure_rates(self.closures, self.counts, years=vfm.CLOSURE_YEARS,
                                                           level=level)
        return self._yearly[level]

    def proxy(self, params: VfmParameters) -> pd.DataFrame:
        key = inputs.proxy_key(params)
        if key not in self._proxies:
            self._proxies[key] = inputs.proxy_table(self.yearly(params.confidence_level), params)
        return self._proxies[key]

    def build_controls(self, initial: dict[str, Any]) -> dict[str, widgets.Widget]:
        out = {}
        for name in VfmParameters.model_fields:
            options = {}
            if name == "scenario":
                options = {"labels": SCENARIO_LABELS}
            out[name] = control(VfmParameters, name, value=initial.get(name, ...), label=LABELS.get(name),
                                inner_value=self.defaults.get(name), default_help=_default_help(name),
                                **SPANS.get(name, {}), **options)
        return out

    def controls_panel(self) -> widgets.Widget:
        tabs = widgets.Tab([widgets.VBox([self.controls[n] for n in names]) for names in GROUPS.values()])
        for i, title in enumerate(GROUPS):
            tabs.set_title(i, title)
        return widgets.VBox([self.controls["scenario"], tabs])

    def build_outputs(self) -> widgets.Widget:
        self.headline = widgets.HTML()
        self.headline.add_class("explore-headline")
        self.summary = widgets.HTML()
        self.distribution = widgets.HTML()
        self.tornado = widgets.HTML()
        self.switching = widgets.HTML()
        self.components = widgets.HTML()
        self.inputs = widgets.HTML()
        self.reconciliation = widgets.HTML()
        self.sources = widgets.HTML()
        details = widgets.Accordion([self.inputs, self.reconciliation])
        details.set_title(0, "Inputs and their sources")
        details.set_title(1, "Why the mean, the median and the deterministic case differ")
        return widgets.VBox([self.headline, self.summary, self.distribution, self.tornado, self.switching,
                             self.components, details, self.sources])

    def compute(self, params: VfmParameters) -> vfm.VfmResults:
        """The headline scenario as the report computes it, with its tornado and switching values."""
        yearly = self.yearly(params.confidence_level)
        scenario = vfm.run_scenario(params, self.figures, yearly, params.scenario, proxy=self.proxy(params))
        dists, terms = scenario.inputs.distributions, scenario.inputs.terms
        empty = pd.DataFrame()
        # The pooled proxy table carries each definition's rates, so it serves as the comparison here.
        by_definition = vfm.failure_definitions(scenario.inputs, self.proxy(params))
        # Only the headline scenario: the report's three-scenario table needs all three.
        return vfm.VfmResults(params=params, closure_pooled=empty, closure_yearly=yearly, proxy_comparison=empty,
                              scenarios={params.scenario: scenario}, tornado=model.tornado(dists, terms),
                              switching=model.switching_values(dists, terms), criteria=empty, register=empty,
                              verdicts=[], figures=self.figures, failure_by_definition=by_definition,
                              definitions_by_scenario={params.scenario: by_definition})

    def render(self, results: vfm.VfmResults) -> None:
        # Numbers and words first (each assignment reaches the page at once), then the charts.
        head = vfm.headline_total(results)
        self.headline.value = base.headline_html(head["label"], headline_text(results))
        self.summary.value = base.markdown_html(vfm.summary_text(results) + "\n\n" + vfm.probability_text(results))
        self.switching.value = base.table_html(vfm.switching_table(results), "Switching values (break-even with "
                                               "in-house provision)", source="analysis.vfm.model.switching_values",
                                               full=results.switching)
        self.components.value = base.table_html(vfm.component_table(results), "Present value at risk by component",
                                                source="analysis.vfm.model.monte_carlo",
                                                full=results.selected.summary)
        self.inputs.value = base.table_html(vfm.inputs_table(results), "Model inputs for this scenario",
                                            source="Evidence register and the catalogue datasets named")
        self.reconciliation.value = base.markdown_html(vfm.reconciliation_text(results))
        self.answered()
        self.distribution.value = base.figure_html(distribution_figure(results), "value at risk distribution")
        tornado_key = ("tornado", results.selected.scenario.name, results.tornado.to_csv())
        self.tornado.value = self.memo(tornado_key, lambda: base.figure_html(vfm.tornado_figure(results), "tornado"))
        self.sources.value = base.sources_html()


def headline_text(results: vfm.VfmResults) -> str:
    """The headline number with its range, exactly as the report's headline shows it."""
    head = vfm.headline_total(results)
    return precision.fmt_interval(head["value"], head["low"], head["high"], head["unit"], level=head["level"])


def distribution_figure(results: vfm.VfmResults):
    res = results.selected
    total = res.total()
    mean, low, high = float(total["mean"]), float(total["low"]), float(total["high"])
    title = difference_phrase(f"Simulated value at risk, scenario {res.scenario.letter}", "the contracts",
                              "in-house provision", mean, low, high, unit="£m", level=results.level,
                              higher="more costly", lower="cheaper")
    return charts.distribution(res.mc.draws["total"], title, vfm.SOURCE_MODEL, mean=mean, low=low, high=high,
                               level=results.level, xlabel="Present value at risk (£m); right of the dashed line: the "
                               "contracts cost more", n=f"{results.params.n_simulations:,} simulations (seed "
                               f"{results.params.seed})", title_basis=(mean, low, high, results.level))
