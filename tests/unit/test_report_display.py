"""What the notebook helpers display: tables rounded by the one rule with their data attached,
long tables pointing to the CSV, headlines with intervals, charts that carry their data and the
basis of their titles, forest plots that say which side is better."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
import pytest

from analysis import plots, provenance
from analysis.report import notebook
from analysis.report.notebook import ABSENT_MIMETYPE, DATA_MIMETYPE


@pytest.fixture
def shown(monkeypatch):
    """Collect what the helpers display (outside a kernel)."""
    outputs: list[dict] = []

    def fake_display(obj, raw=False, metadata=None):
        if raw:
            outputs.append(dict(obj))
        else:
            outputs.append({"text/html": obj._repr_html_()} if hasattr(obj, "_repr_html_") else
                           {"text/markdown": obj._repr_markdown_()})

    monkeypatch.setattr(notebook, "display", fake_display)
    provenance.reset()
    yield outputs
    plots.close_all()


def _cells(html: str) -> list[list[str]]:
    from bs4 import BeautifulSoup

    body = BeautifulSoup(html, "html.parser").find("tbody")
    return [[td.get_text().strip() for td in tr.find_all("td")] for tr in body.find_all("tr")]


def test_show_rounds_by_the_rule_and_ships_the_unrounded_table(shown):
    df = pd.DataFrame({"item": ["a", "b"], "value": [6272.0, -1.999], "share": [86.0, 0.03214],
                       "year": [2013, 2014], "respondents": [12345, 678]})
    notebook.show(df, "A table", source="somewhere", digits=4)  # digits is accepted, and the rule wins
    out = shown[-1]
    rows = _cells(out["text/html"])
    assert rows[0] == ["a", "6,272", "86", "2013", "12,345"]
    assert rows[1] == ["b", "-2", "0.0321", "2014", "678"]
    payload = out[DATA_MIMETYPE]
    back = pd.read_csv(io.StringIO(payload["csv"]))
    assert back["Value"].tolist() == [6272.0, -1.999] and back["Share"].tolist() == [86.0, 0.03214]
    assert payload["kind"] == "table" and payload["title"] == "A table" and payload["rows"] == 2


def test_show_rounds_estimates_with_their_interval_and_recognises_the_usual_names(shown):
    df = pd.DataFrame({"estimate": [3.27, 0.5], "ci_low": [1.1, 0.1], "ci_high": [5.4, 0.9],
                       "closure_rate": [0.08912, 0.0353], "closure_ci_low": [0.0830, 0.03459],
                       "closure_ci_high": [0.0956, 0.03615], "closure": [2.0, 757.0]})
    notebook.show(df, "Intervals")
    rows = _cells(shown[-1]["text/html"])
    assert rows[0][:3] == ["3.3", "1.1", "5.4"] and rows[1][:3] == ["0.50", "0.10", "0.90"]
    assert rows[0][3:6] == ["0.0891", "0.0830", "0.0956"]
    assert rows[0][6] == "2" and rows[1][6] == "757"  # a count is not rounded with the closure-rate interval
    assert shown[-1][DATA_MIMETYPE]["intervals"] == {"Estimate": ["Ci low", "Ci high"],
                                                     "Closure rate": ["Closure ci low", "Closure ci high"]}
    notebook.show(df[["estimate", "ci_low", "ci_high"]], "Explicitly none", intervals={})
    assert _cells(shown[-1]["text/html"])[1] == ["0.5", "0.1", "0.9"]
    with pytest.raises(ValueError, match="does not have"):
        notebook.show(df, "Bad", intervals={"nope": ("ci_low", "ci_high")})


def test_a_long_table_shows_its_first_rows_and_says_the_full_table_is_in_the_csv(shown):
    df = pd.DataFrame({"council": [f"C{i}" for i in range(72)], "value": np.linspace(0, 1, 72)})
    notebook.show(df, "Long")
    html = shown[-1]["text/html"]
    assert len(_cells(html)) == notebook.LONG_TABLE_ROWS
    assert f"Showing {notebook.LONG_TABLE_ROWS} of 72 rows; the full table is in the" in html
    assert notebook.DATA_LINK_PLACEHOLDER in html
    payload = shown[-1][DATA_MIMETYPE]
    assert payload["rows"] == 72 and payload["shown_rows"] == notebook.LONG_TABLE_ROWS
    notebook.show(df, "Long with a summary", summary=df.describe().reset_index())
    assert "Showing a summary of 72 rows" in shown[-1]["text/html"] and shown[-1][DATA_MIMETYPE]["summary"]
    notebook.show(df, "Caller's limit", max_rows=80)
    assert len(_cells(shown[-1]["text/html"])) == 72 and "Showing" not in shown[-1]["text/html"]


def test_headline_uses_the_interval_rule_and_records_a_reason_when_there_is_no_interval(shown):
    notebook.headline("k", "Value at risk", 2437.0, unit="£m", low=1210.0, high=3905.0, level=0.9, source="MC",
                      digits=1)
    assert "£2,400m (90% interval £1,200m to £3,900m)" in shown[-1]["text/html"]
    notebook.headline("n", "Councils", 152.0, source="register", no_interval_reason="a count of all councils",
                      count=True)
    assert ">152<" in shown[-1]["text/html"] and "No interval: a count of all councils" in shown[-1]["text/html"]
    recorded = {h["key"]: h for h in provenance.snapshot()["headlines"]}
    assert recorded["k"]["text"] == "£2,400m (90% interval £1,200m to £3,900m)"
    assert recorded["n"]["no_interval_reason"] == "a count of all councils"


def test_every_plot_function_records_the_data_it_plotted_and_figure_ships_it(shown):
    df = pd.DataFrame({"label": ["a", "b"], "est": [1.0, -0.5], "lo": [0.2, -1.5], "hi": [1.8, 0.5],
                       "year": [2020, 2021], "q05": [1, 2], "q25": [2, 3], "q50": [3, 4], "q75": [4, 5],
                       "q95": [5, 6], "npv_at_low": [1.0, 2.0], "npv_at_high": [3.0, 4.0]})
    figures = {
        "line_with_band": plots.line_with_band(df, "year", "est", "label", "t", "s", low="lo", high="hi"),
        "forest": plots.forest(df, "label", "est", "lo", "hi", "t", "s", pooled={"estimate": 0.3, "low": 0.0,
                                                                                "high": 0.6}),
        "tornado": plots.tornado(df, "t", "s", base=2.0),
        "fan": plots.fan(df, "t", "s"),
        "bars_with_ci": plots.bars_with_ci(df, "label", "est", "lo", "hi", "t", "s"),
        "scatter_fit": plots.scatter_fit(df, "year", "est", "t", "s", label="label"),
        "event_study": plots.event_study(df.rename(columns={"year": "event_time", "est": "estimate", "lo": "ci_low",
                                                            "hi": "ci_high"}), "t", "s"),
        "paths": plots.paths(df, "year", {"est": "observed"}, "t", "s", background=df, background_y="lo",
                             background_group="label"),
        "ce_plane": plots.ce_plane(np.arange(10.0), np.arange(10.0) * 2, "t", "s", max_points=5),
    }
    for name, fig in figures.items():
        data = plots.chart_data(fig)
        assert data is not None and len(data) > 0, name
        assert plots.chart_meta(fig)["source"] == "s" and plots.chart_meta(fig)["title"] == "t", name
    assert len(plots.chart_data(figures["forest"])) == 3  # the pooled row too
    assert set(plots.chart_data(figures["ce_plane"])["series"]) == {"draw", "mean of all draws"}
    notebook.figure(figures["forest"])
    payload = shown[-1][DATA_MIMETYPE]
    assert payload["kind"] == "chart" and payload["title"] == "t" and "Pooled" in payload["csv"]
    assert "image/png" in shown[-1]


def test_figure_accepts_data_for_charts_drawn_elsewhere_and_a_title_basis(shown):
    fig, ax = plots.plt.subplots()
    ax.plot([1, 2], [3, 4])
    fig.suptitle("Drawn by hand")
    notebook.figure(fig, data=pd.DataFrame({"x": [1, 2], "y": [3, 4]}), title_basis=(1.0, 0.5, 1.5))
    payload = shown[-1][DATA_MIMETYPE]
    assert payload["title"] == "Drawn by hand" and "x,y" in payload["csv"]
    assert payload["title_basis"] == {"estimate": 1.0, "low": 0.5, "high": 1.5}


def test_titles_and_their_basis_come_together_and_a_bad_basis_is_refused():
    title, basis = plots.difference_title("Burnout", "social enterprises", "trusts", 0.4, -1.1, 2.0, level=0.95)
    assert title.startswith("Burnout: no clear difference") and basis["low"] == -1.1
    with pytest.raises(ValueError, match="finite"):
        plots.normalise_basis((1.0, float("nan"), 2.0))
    with pytest.raises(ValueError, match="exceeds"):
        plots.normalise_basis((1.0, 3.0, 2.0))
    assert plots.normalise_basis("a share, not a comparison") == {"reason": "a share, not a comparison"}
    fig = plots.assert_difference(plots.plt.figure(), 2.0, 1.0, 3.0)
    assert plots.chart_meta(fig)["title_basis"]["high"] == 3.0
    plots.close_all()


@pytest.mark.parametrize("better, bold_text", [("left", "\u2190 better"), ("right", "better \u2192")])
def test_forest_plots_say_which_side_is_better(better, bold_text):
    df = pd.DataFrame({"label": ["a"], "est": [1.0], "lo": [0.2], "hi": [1.8]})
    fig = plots.forest(df, "label", "est", "lo", "hi", "t", "s", better=better)
    texts = {t.get_text().strip(): t for t in fig.axes[0].texts}
    assert bold_text in texts and texts[bold_text].get_fontweight() == "bold"
    assert any("worse" in t for t in texts)
    assert plots.chart_meta(fig)["better"] == better and plots.chart_meta(fig)["plot"] == "forest"
    with pytest.raises(ValueError, match="left"):
        plots.forest(df, "label", "est", "lo", "hi", "t", "s", better="up")
    bars = plots.bars_with_ci(df, "label", "est", "lo", "hi", "t", "s", better=better)
    assert any(line.get_xdata()[0] == 0.0 for line in bars.axes[0].lines)  # the zero line is drawn
    plots.close_all()


def test_absent_is_shown_in_jupyterlab_but_marked_for_leaving_out(shown):
    notebook.absent("No panel was given.")
    assert shown[-1]["text/markdown"] == "No panel was given." and ABSENT_MIMETYPE in shown[-1]


def test_tables_with_an_index_or_two_header_levels_are_flattened_the_same_in_page_and_csv(shown):
    df = pd.DataFrame([[1.234567, 2.0]], columns=pd.MultiIndex.from_tuples([("cost", "mean"), ("cost", "sd")]),
                      index=pd.Index(["x"], name="group_name"))
    notebook.show(df, "Two levels", index=True)
    payload = shown[-1][DATA_MIMETYPE]
    assert payload["csv"].splitlines()[0] == "Group name,Cost mean,Cost sd"
    assert _cells(shown[-1]["text/html"]) == [["x", "1.23", "2"]]


def test_show_applies_the_format_a_domain_table_carries_and_records_it_for_the_reviewer(shown):
    from analysis.precision import table_format

    df = table_format(pd.DataFrame({"item": ["a", "b"], "difference_pp": [2.27, -0.4], "low": [-0.4, -1.2],
                                    "high": [5.1, 0.3], "p_value": [0.2, 0.00001], "company": ["06273905", "x1"]}),
                      intervals={"difference_pp": ("low", "high")}, signed=["difference_pp"], p_values=["p_value"])
    notebook.show(df, "Formatted by its module")
    assert _cells(shown[-1]["text/html"]) == [["a", "+2.3", "-0.4", "+5.1", "0.2", "06273905"],
                                              ["b", "-0.40", "-1.20", "+0.30", "< 0.001", "x1"]]
    payload = shown[-1][DATA_MIMETYPE]
    assert payload["signed"] == ["Difference pp"] and payload["p_values"] == ["P value"]
    assert payload["intervals"] == {"Difference pp": ["Low", "High"]} and payload["text_columns"] == ["Item", "Company"]
    notebook.show(df, "The caller overrides it", signed=[])
    assert _cells(shown[-1]["text/html"])[0][1] == "2.3"


def test_a_neutral_forest_plot_can_name_its_sides_without_calling_either_better():
    df = pd.DataFrame({"label": ["a"], "est": [1.4], "lo": [1.2], "hi": [1.6]})
    fig = plots.forest(df, "label", "est", "lo", "hi", "t", "s", null=1.0, better="neither",
                       sides=("own provision cheaper", "own provision dearer"))
    texts = {t.get_text().strip(): t for t in fig.axes[0].texts}
    assert "\u2190 own provision cheaper" in texts and "own provision dearer \u2192" in texts
    assert all(t.get_fontweight() != "bold" for t in texts.values())
    assert plots.chart_meta(fig)["better"] == "neither"
    with pytest.raises(ValueError, match="better='neither'"):
        plots.forest(df, "label", "est", "lo", "hi", "t", "s", sides=("a", "b"))
    plots.close_all()
