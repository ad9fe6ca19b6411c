"""The one rounding rule, checked on the cases a reviewer flagged (86.000, 6,272.0000, -1.999)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.findings import clear_difference, difference_phrase
from analysis.precision import decimals, fmt, fmt_interval, round_frame


@pytest.mark.parametrize("value, expected", [
    (86.0, "86"), (6272.0, "6,272"), (-1.999, "-2"), (0.03214, "0.0321"), (12.5, "12.5"), (1e-5, "0.00001"),
])
def test_numbers_without_an_interval_keep_three_significant_figures_and_no_trailing_zeros(value, expected):
    assert fmt(value) == expected


def test_an_interval_sets_the_precision_of_estimate_and_bounds():
    # half-width 2.15 -> second significant figure is the first decimal
    assert decimals(3.27, 1.1, 5.4) == 1
    assert fmt_interval(3.27, 1.1, 5.4, "pp", level=0.95) == "+3.3 pp (95% interval +1.1 pp to +5.4 pp)"
    # half-width 1,347 -> hundreds
    assert fmt_interval(2437, 1210, 3905, "£m") == "£2,400m (interval £1,200m to £3,900m)"
    assert fmt_interval(-0.0417, -0.067, -0.016) == "-0.042 (interval -0.067 to -0.016)"


def test_counts_are_whole_numbers_and_missing_is_said():
    assert fmt(1234567.0, count=True) == "1,234,567"
    assert fmt(float("nan")) == "no data" and fmt(None) == "no data"
    assert fmt(-0.0001, places=2) == "0.00"  # never "-0.00"


def test_tables_round_row_by_row_and_leave_years_alone():
    df = pd.DataFrame({"year": [2013, 2014], "est": [3.27, 0.5], "lo": [1.1, 0.1], "hi": [5.4, 0.9], "x": [86.0,
                                                                                                           6272.1]})
    out = round_frame(df, interval_columns={"est": ("lo", "hi")})
    assert list(out["year"]) == [2013, 2014]
    assert list(out["est"]) == ["3.3", "0.50"] and list(out["hi"]) == ["5.4", "0.90"]
    assert list(out["x"]) == ["86", "6,272"]


def test_a_difference_is_stated_only_when_the_interval_excludes_zero():
    assert clear_difference(0.1, 2.0) and clear_difference(-2.0, -0.1)
    assert not clear_difference(-0.1, 2.0) and not clear_difference(None, 1.0)
    said = difference_phrase("Burnout", "social enterprises", "trusts", -3.21, -5.4, -1.0, level=0.95)
    assert said == "Burnout: social enterprises 3.2 pp lower than trusts (95% interval -5.4 pp to -1.0 pp)"
    unclear = difference_phrase("Burnout", "social enterprises", "trusts", 0.4, -1.1, 2.0)
    assert unclear.startswith("Burnout: no clear difference between social enterprises and trusts")


@pytest.mark.parametrize("value, expected", [
    (1e-8, "0.00000001"), (1.234e-7, "0.000000123"), (0.00001234, "0.0000123"), (0.1 + 0.2, "0.3"),
    (123456.789, "123,457"),
])
def test_small_numbers_keep_their_significant_figures_and_are_never_shown_as_zero(value, expected):
    assert fmt(value) == expected


@pytest.mark.parametrize("p, expected", [
    (0.09412, "0.094"), (0.2, "0.2"), (0.20000001, "0.2"), (0.0047, "0.0047"), (0.021, "0.021"),
    (0.00003, "< 0.001"), (0.001, "0.001"), (0.9996, "1"), (float("nan"), "no data"), (None, "no data"),
])
def test_p_values_have_their_own_rule_two_significant_figures_and_a_floor(p, expected):
    from analysis.precision import fmt_p

    assert fmt_p(p) == expected


def test_a_p_value_outside_zero_to_one_is_an_error():
    from analysis.precision import fmt_p

    with pytest.raises(ValueError, match="not a p-value"):
        fmt_p(1.2)


def test_signed_columns_show_a_plus_on_positive_differences_and_their_bounds_follow():
    df = pd.DataFrame({"difference": [2.27, -0.4, 0.0], "lo": [-0.4, -1.2, -1.0], "hi": [5.1, 0.3, 1.0],
                       "change": [1.5, -2.0, 3.0], "level": [1.5, 2.0, 3.0], "p": [0.2, 0.00001, float("nan")]})
    out = round_frame(df, interval_columns={"difference": ("lo", "hi")}, signed_columns=("difference", "change"),
                      p_columns=("p",))
    assert list(out["difference"]) == ["+2.3", "-0.40", "0.0"]
    assert list(out["hi"]) == ["+5.1", "+0.30", "+1.0"] and list(out["lo"]) == ["-0.4", "-1.20", "-1.0"]
    assert list(out["change"]) == ["+1.5", "-2", "+3"] and list(out["level"]) == ["1.5", "2", "3"]
    assert list(out["p"]) == ["0.2", "< 0.001", "no data"]


def test_table_format_travels_with_the_table_and_refuses_unknown_columns():
    from analysis.precision import format_of, table_format

    df = table_format(pd.DataFrame({"d": [1.0], "lo": [0.0], "hi": [2.0], "p": [0.5]}),
                      intervals={"d": ("lo", "hi")}, signed=["d"], p_values=["p"])
    assert format_of(df) == {"intervals": {"d": ("lo", "hi")}, "counts": (), "signed": ("d",), "p_values": ("p",),
                             "aligned": {}}
    with pytest.raises(ValueError, match="does not have"):
        table_format(pd.DataFrame({"d": [1.0]}), signed=["x"])


def test_aligned_columns_take_the_decimals_of_an_estimates_interval():
    df = pd.DataFrame({"mean": [2.4, 131.7], "low": [-87.0, 10.2], "high": [67.0, 281.0], "median": [8.04, 123.4],
                       "other": [8.04, 123.4]})
    out = round_frame(df, interval_columns={"mean": ("low", "high")}, aligned_columns={"median": "mean"})
    assert list(out["median"]) == ["8", "120"] and list(out["mean"]) == ["2", "130"]
    assert list(out["other"]) == ["8.04", "123"]  # not aligned: three significant figures
    from analysis.precision import table_format

    with pytest.raises(ValueError, match="interval"):
        table_format(df, aligned={"median": "other"})


def test_a_directional_difference_says_its_interval_the_same_way_round():
    """'4.6 pp lower ... (95% interval 1.6 to 7.3 pp lower)': no signed bound to misread; an unclear difference
    says its estimate and both ends in words."""
    clear = difference_phrase("Community services", "third-sector providers", "council-run providers", -4.62,
                              -7.31, -1.58, level=0.95, directional=True)
    assert clear == ("Community services: third-sector providers 4.6 pp lower than council-run providers (95% "
                     "interval 1.6 to 7.3 pp lower)")
    unclear = difference_phrase("Care homes", "third-sector providers", "council-run providers", -0.8, -4.3, 3.3,
                                level=0.95, directional=True)
    assert unclear == ("Care homes: no clear difference between third-sector providers and council-run providers "
                       "(third-sector providers 0.8 pp lower; 95% interval 4.3 pp lower to 3.3 pp higher)")
    dearer = difference_phrase("Cost", "own", "external", 12.0, 3.0, 20.0, unit="%", directional=True,
                               higher="dearer", lower="cheaper")
    assert dearer == "Cost: own 12.0% dearer than external (interval 3.0 to 20.0% dearer)"
