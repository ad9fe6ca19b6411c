"""The explorers, driven as a researcher would: set a control, check the output changed and is the library's value.

Each explorer is compared with the library computed independently of it (the report's own
functions with the same parameters), never with its own earlier output. Rejected values must show
exactly the message the runner gives.
"""

from __future__ import annotations

import base64
import io
import re

import pandas as pd
import pytest

from analysis import data, precision
from analysis.errors import ParameterError
from analysis.report.params import validate_parameters

pytestmark = pytest.mark.data

widgets = pytest.importorskip("ipywidgets")


def _csv_links(html: str) -> list[pd.DataFrame]:
    """The tables behind every "Download the data (CSV)" link in ``html``."""
    frames = []
    for payload in re.findall(r'href="data:text/csv;charset=utf-8;base64,([^"]+)"', html):
        frames.append(pd.read_csv(io.BytesIO(base64.b64decode(payload)), encoding="utf-8-sig"))
    return frames


# --- Controls from the parameter models ------------------------------------------------------------

def test_every_vfm_parameter_has_a_control_and_every_slider_stays_inside_the_model_range():
    from analysis.explore import controls
    from analysis.explore.vfm import SPANS
    from analysis.vfm.params import VfmParameters

    for name in VfmParameters.model_fields:
        widget = controls.control(VfmParameters, name, inner_value=0.01 if "rate" in name else None,
                                  **SPANS.get(name, {}))
        inner = widget.inner if isinstance(widget, controls.OptionalControl) else widget
        prop = controls.field_schema(VfmParameters, name)
        item = prop.get("items", prop)
        if hasattr(inner, "min") and hasattr(inner, "max"):
            low, high = controls.bounds(item, getattr(inner, "step", 1) or 1)
            assert low is None or inner.min >= low - 1e-12, name
            assert high is None or inner.max <= high + 1e-12, name


def test_a_control_cannot_be_wider_than_the_model_allows():
    from analysis.explore import controls
    from analysis.vfm.params import VfmParameters

    with pytest.raises(ValueError, match="above the model's"):
        controls.control(VfmParameters, "discount_rate", maximum=0.5, inner_value=0.035)
    with pytest.raises(ValueError, match="not allowed by the model"):
        controls.control(VfmParameters, "scenario", options=["match", "optimistic"])


def test_an_optional_control_is_none_while_cited_default_is_ticked():
    from analysis.explore import controls
    from analysis.vfm.params import VfmParameters

    widget = controls.control(VfmParameters, "discount_rate", inner_value=0.035, step=0.001)
    assert widget.value is None and widget.inner.disabled and widget.inner.value == pytest.approx(0.035)
    widget.use_default.value = False
    assert widget.value == pytest.approx(0.035) and not widget.inner.disabled
    widget.value = 0.05
    assert widget.inner.value == pytest.approx(0.05) and not widget.use_default.value
    widget.value = None
    assert widget.use_default.value and widget.inner.disabled


# --- NAO value for money ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def vfm_explorer():
    from analysis import explore

    return explore.value_for_money(n_simulations=10_000)


def test_vfm_explorer_shows_the_report_headline_for_the_same_parameters(vfm_explorer):
    from analysis.explore.vfm import headline_text
    from analysis.vfm import analysis as vfm
    from analysis.vfm.params import VfmParameters

    vfm_explorer.set(scenario="match")
    report = vfm.analyse(VfmParameters(n_simulations=10_000, scenario="match"))
    pd.testing.assert_series_equal(vfm_explorer.result.selected.total(), report.selected.total())
    head = vfm.headline_total(report)
    expected = precision.fmt_interval(head["value"], head["low"], head["high"], head["unit"], level=head["level"])
    assert headline_text(report) == expected
    assert expected in vfm_explorer.headline.value and vfm_explorer.error is None
    pd.testing.assert_frame_equal(vfm_explorer.result.tornado, report.tornado)
    pd.testing.assert_frame_equal(vfm_explorer.result.switching, report.switching)
    # The words under the headline: which closures count, and the totals under the other definitions.
    pd.testing.assert_frame_equal(vfm_explorer.result.failure_by_definition, report.failure_by_definition)
    assert vfm.summary_text(vfm_explorer.result) == vfm.summary_text(report)
    assert "counting all closures" in vfm.other_definitions_phrase(report)


def test_vfm_explorer_follows_the_scenario_and_an_input_to_the_library_values(vfm_explorer):
    from analysis.vfm import analysis as vfm
    from analysis.vfm import failure

    figures = data.load_figures()
    _, yearly = failure.closure_rates(data.load("cqc_care_home_closures"), data.load("cqc_care_homes_count"),
                                      years=vfm.CLOSURE_YEARS, level=0.9)
    vfm_explorer.set(scenario="match")
    before = vfm_explorer.headline.value
    vfm_explorer.controls["scenario"].value = "achieved"  # as the page does: one control, one update
    assert vfm_explorer.headline.value != before and vfm_explorer.error is None
    expected = vfm.run_scenario(vfm_explorer.params, figures, yearly, "achieved")  # no cached proxy
    pd.testing.assert_frame_equal(vfm_explorer.result.selected.summary, expected.summary)
    assert vfm_explorer.params.scenario == "achieved"

    vfm_explorer.controls["annual_contract_value_gbp_m"].value = 450.0  # unticks "cited default"
    assert not vfm_explorer.controls["annual_contract_value_gbp_m"].use_default.value
    assert vfm_explorer.params.annual_contract_value_gbp_m == 450.0
    expected = vfm.run_scenario(vfm_explorer.params, figures, yearly, "achieved")
    pd.testing.assert_frame_equal(vfm_explorer.result.selected.summary, expected.summary)
    tables = _csv_links(vfm_explorer.switching.value)
    assert len(tables) == 1 and list(tables[0]["input"]) == list(vfm_explorer.result.switching["input"])
    vfm_explorer.controls["annual_contract_value_gbp_m"].value = None
    assert vfm_explorer.params.annual_contract_value_gbp_m is None


def test_vfm_explorer_rejects_a_bad_value_with_the_runner_message_and_keeps_the_last_result(vfm_explorer):
    vfm_explorer.set(scenario="match")
    good, shown = vfm_explorer.result, vfm_explorer.headline.value
    vfm_explorer.controls["seed"].value = -5
    with pytest.raises(ParameterError) as runner:
        validate_parameters("nao_vfm_risk", {**vfm_explorer.values()})
    assert vfm_explorer.error == str(runner.value)
    assert "seed" in vfm_explorer.error and "explore-stale" in vfm_explorer.outputs._dom_classes
    assert vfm_explorer.result is good and vfm_explorer.headline.value == shown
    vfm_explorer.controls["seed"].value = 20110624
    assert vfm_explorer.error is None and "explore-stale" not in vfm_explorer.outputs._dom_classes


def test_vfm_explorer_keeps_proxy_definitions_by_what_they_depend_on(vfm_explorer):
    vfm_explorer.set(scenario="match", failure_proxy_measure="every measure")
    known = len(vfm_explorer._proxies)
    vfm_explorer.controls["seed"].value = 7
    assert len(vfm_explorer._proxies) == known
    vfm_explorer.controls["failure_proxy_measure"].value = "involuntary closures"
    assert len(vfm_explorer._proxies) == known  # every definition is kept: the measure picks which are drawn
    ensemble = vfm_explorer.result.selected.inputs.distributions["failure_hazards"]
    assert ensemble.drawn_labels == ["involuntary closures"]
    vfm_explorer.set(failure_proxy_years=[2012, 2016])
    assert len(vfm_explorer._proxies) == known + 1
    vfm_explorer.set(seed=20110624, failure_proxy_measure="involuntary closures", failure_proxy_years=[2011, 2016])


def test_explorer_refuses_an_unknown_initial_control():
    from analysis import explore
    from analysis.errors import AnalysisError

    with pytest.raises(AnalysisError, match="no control named 'n_sims'"):
        explore.value_for_money(n_sims=10)


# --- Councils ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def council_explorer():
    from analysis import explore

    return explore.council_profile()


def test_council_explorer_profile_is_the_report_profile_and_its_data_downloads(council_explorer):
    from analysis.budgets import profile
    from analysis.budgets.params import CouncilProfileParameters

    council_explorer.controls["council"].value = "Leeds"
    assert council_explorer.error is None and council_explorer.params.council_code == "E08000035"
    assert "Leeds" in council_explorer.headline.value
    params = CouncilProfileParameters(council_code="E08000035")
    report = profile.analyse(params)
    pd.testing.assert_frame_equal(council_explorer.result["profile"].table, report.table)
    pd.testing.assert_frame_equal(council_explorer.result["table"], profile.table(report, order=params.measures))
    assert [f.text for f in council_explorer.result["findings"]] == [
        f.text for f in profile.key_findings(report, order=params.measures)]
    chart_data, = _csv_links(council_explorer.chart.value)
    council_rows = chart_data[chart_data["series"] == report.name].dropna(subset=["value"])
    assert len(council_rows) == len(report.table)
    assert sorted(council_rows["value"].tolist()) == pytest.approx(sorted(report.table["council"].tolist()))
    table_data, = _csv_links(council_explorer.table.value)
    assert table_data["rank"].tolist() == report.table["rank"].tolist()


def test_council_explorer_finds_councils_by_name_or_code_and_says_when_it_cannot(council_explorer):
    council_explorer.controls["council"].value = "cornwall"
    assert council_explorer.params.council_code == "E06000052" and "Cornwall" in council_explorer.headline.value
    council_explorer.controls["council"].value = "E08000016"
    assert "Barnsley" in council_explorer.headline.value
    council_explorer.controls["council"].value = "Corrnwall"
    assert "No current council matches 'Corrnwall'" in council_explorer.error
    assert "Cornwall (E06000052)" in council_explorer.error
    council_explorer.controls["council"].value = "Barnsley (E08000016)"
    assert council_explorer.error is None


def test_council_explorer_measures_follow_the_selection(council_explorer):
    council_explorer.set(council="Barnsley (E08000016)", measures=("dp_users", "feel_safe"))
    assert set(council_explorer.result["profile"].table["concept"]) == {"dp_users", "feel_safe"}
    council_explorer.controls["measures"].value = ()
    assert "measures" in council_explorer.error  # the report's own message: at least one measure


# --- Staff survey -----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def staff_explorer():
    from analysis import explore

    return explore.staff_survey()


def test_staff_explorer_comparisons_are_the_reports(staff_explorer):
    from analysis.data.staff_survey import ITEMS
    from analysis.mutuals import multiplicity, staff
    from analysis.mutuals.params import MutualsParameters

    defaults = MutualsParameters()
    survey = data.load("staff_survey")
    table = staff.compare_items(survey, "community", [i.key for i in ITEMS], tuple(defaults.survey_years),
                                defaults.confidence_level, defaults.n_permutations, defaults.seed)
    expected = multiplicity.add_adjusted_p_values(table, round(1 - defaults.confidence_level, 10))
    got = staff_explorer.computed["community"]["table"]
    pd.testing.assert_frame_equal(got.drop(columns="domain"), expected, check_like=True)


def test_staff_explorer_item_comparison_and_organisation_follow_the_controls(staff_explorer):
    from analysis.mutuals import staff

    staff_explorer.set(item="burnout", comparison="community", organisation="NQL")
    before = staff_explorer.headline.value
    staff_explorer.controls["item"].value = "enough_staff"
    assert staff_explorer.headline.value != before and staff_explorer.error is None
    row = staff_explorer.result["row"]
    assert row["item"] == "enough_staff"
    assert f"{abs(row['difference_pp']):.1f} pp" in staff_explorer.headline.value
    spread, = _csv_links(staff_explorer.spread.value)
    expected = staff.organisation_spread(data.load("staff_survey"), "community", "enough_staff", (2021, 2024))
    assert spread["rate"].tolist() == pytest.approx(expected["rate"].tolist())

    staff_explorer.controls["organisation"].value = "Bromley"
    code, = [c for c, shown in staff_explorer.organisations.items() if "Bromley" in shown]
    assert staff_explorer.params.focus_organisation == code and "Bromley" in staff_explorer.focus_text.value
    expected = staff.organisation_vs_benchmark(data.load("staff_survey"), code, ["enough_staff"], (2021, 2024), 0.95)
    pd.testing.assert_frame_equal(staff_explorer.result["focus"].table, expected.table)
    staff_explorer.controls["organisation"].value = "no such trust"
    assert "No organisation matches 'no such trust'" in staff_explorer.error
    staff_explorer.set(item="burnout", comparison="mental health", organisation="NAViGO")
    assert staff_explorer.error is None and "randomisation" in staff_explorer.headline.value


# --- Unit costs -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cost_explorer():
    from analysis import explore

    return explore.unit_costs()


def test_cost_explorer_is_the_report_run_for_that_service(cost_explorer):
    from analysis.costs import analysis as costs
    from analysis.costs.params import ProvisionCostsParameters

    cost_explorer.controls["service"].value = "home_care"
    assert cost_explorer.error is None
    report = costs.analyse(ProvisionCostsParameters(services=["home_care"]))
    got = cost_explorer.result["results"]
    pd.testing.assert_frame_equal(got.within.pooled, report.within.pooled)
    pd.testing.assert_frame_equal(got.england[got.england["collection"] == "PSS-EX1"].reset_index(drop=True),
                                  report.england)
    pooled = report.within.pooled.iloc[0]
    phrase = costs.ratio_phrase("x", pooled["ratio"], pooled["ci_low"], pooled["ci_high"], 0.95,
                                unit_word="per contact hour")
    assert phrase.split(": ", 1)[1] in cost_explorer.headline.value


def test_cost_explorer_years_and_a_rejected_span(cost_explorer):
    cost_explorer.set(service="residential_older", years=("2008-09", "2013-14"))
    first = cost_explorer.result["results"].within.pooled.iloc[0]["ratio"]
    cost_explorer.controls["years"].value = ("2010-11", "2012-13")
    assert cost_explorer.error is None
    by_year = cost_explorer.result["results"].within.by_year
    assert set(by_year["financial_year"]) == {"2010-11", "2011-12", "2012-13"}
    assert cost_explorer.result["results"].within.pooled.iloc[0]["ratio"] != first
    cost_explorer.controls["years"].value = ("2011-12", "2011-12")
    with pytest.raises(ParameterError) as runner:
        validate_parameters("provision_costs", cost_explorer.values())
    assert cost_explorer.error == str(runner.value) and "must be before the last year" in cost_explorer.error
    cost_explorer.controls["years"].value = ("2008-09", "2013-14")
    assert cost_explorer.error is None


def test_explorer_tables_are_rounded_as_the_reports_round_them():
    """A table whose domain module recorded its format (signed differences, intervals, p-values) shows
    in an explorer exactly as ``report.show`` shows it, not by the generic rule."""
    from analysis.explore import base
    from analysis.precision import table_format

    frame = table_format(pd.DataFrame({"Item": ["a", "b"], "Difference (pp)": [2.34, -1.2],
                                       "Low": [0.51, -3.3], "High": [4.17, 0.94], "P": [0.0004, 0.2]}),
                         intervals={"Difference (pp)": ("Low", "High")}, signed=("Difference (pp)",),
                         p_values=("P",))
    html = base.table_html(frame, "Differences")
    cells = re.findall(r"<td>([^<]*)</td>", html)
    assert "+2.3" in cells and "&lt; 0.001" in cells and "0.2" in cells, cells
