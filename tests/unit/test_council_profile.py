"""The council profile notebook's library: the same numbers as the profile it replaced, prepared once per
process, one small-multiples figure, findings without intervals that say why, and clear parameter errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from analysis.errors import InputError, ParameterError
from analysis.report import params as P

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "council_profiles"


@pytest.mark.data
@pytest.mark.parametrize("code", ["E08000016", "E06000060"])
def test_the_profile_gives_the_same_numbers_as_the_personal_budgets_council_mode_it_replaced(code):
    """Golden values written by the previous implementation (personal_budgets with council_code, commit
    d070266) for Barnsley and for Buckinghamshire (a council that post-dates the first years): exact equality."""
    from analysis.budgets import profile

    meta = json.loads((FIXTURES / f"{code}.json").read_text())
    prof = profile.council_profile(profile.prepared_panel(tuple(meta["concepts"]), tuple(meta["years"])), code)
    expected = pd.read_csv(FIXTURES / f"{code}.csv")
    pd.testing.assert_frame_equal(prof.table.reset_index(drop=True), expected, check_dtype=False, rtol=0, atol=0)
    assert (prof.name, prof.council_type, prof.gaps) == (meta["name"], meta["council_type"], meta["gaps"])


@pytest.mark.data
def test_what_every_council_shares_is_prepared_once_per_process():
    from analysis.budgets import profile

    profile.prepared_panel.cache_clear()
    first = profile.prepared_panel(profile.DEFAULT_MEASURES, (2018, 2024))
    before = profile.prepared_panel.cache_info()
    for code in ("E08000016", "E09000033", "E10000003"):
        profile.council_profile(profile.prepared_panel(profile.DEFAULT_MEASURES, (2018, 2024)), code)
    after = profile.prepared_panel.cache_info()
    assert after.misses == before.misses and after.hits == before.hits + 3
    assert profile.prepared_panel(profile.DEFAULT_MEASURES, (2018, 2024)) is first


@pytest.mark.data
def test_unknown_council_code_is_a_clear_error():
    from analysis.budgets import profile

    with pytest.raises(InputError, match="Unknown council code 'E08999999': not an ASCOF council"):
        profile.council_profile(profile.prepared_panel(), "E08999999")
    with pytest.raises(InputError, match=r"Similar codes: E08000016 \(Barnsley\)"):
        profile.council_profile(profile.prepared_panel(), "E08000116")  # a typo of Barnsley's code


@pytest.mark.data
def test_every_current_council_in_the_manifest_gets_a_profile():
    from analysis import data
    from analysis.budgets import councils, profile

    lookup = data.load("council_lookup")
    manifest = councils.current_councils(lookup)
    assert 150 <= len(manifest) <= 155
    panel = profile.prepared_panel(("dp_users", "control_daily_life"), (2018, 2024))
    first_year = lookup.set_index("ons_code")["first_year"]
    for code in manifest["council_code"]:
        prof = profile.council_profile(panel, code)
        assert prof.table["year_end"].min() >= first_year[code], code
        assert prof.table["year_end"].max() == 2024 or code == "E09000012", code  # Hackney: no SALT after 2020
    hackney = profile.council_profile(panel, "E09000012")
    assert hackney.table.query("concept == 'dp_users'")["year_end"].tolist() == [2018, 2019, 2020]
    # Its missing years are stated; the national 2020-21 survey gap is not blamed on the council.
    assert any("direct payments" in g and "2020-21, 2021-22, 2022-23, 2023-24" in g for g in hackney.gaps)
    assert any("control over their daily life" in g and "in 2021-22, 2022-23," in g for g in hackney.gaps)
    cumberland = profile.council_profile(profile.prepared_panel(("dp_users",), (2018, 2024)), "E06000063")
    assert cumberland.council_type is None and any("peers are all councils" in g for g in cumberland.gaps)
    assert any("did not exist as a council" in g for g in cumberland.gaps)
    assert profile.council_profile(panel, "E08000016").gaps == []


@pytest.mark.data
def test_findings_headlines_figure_and_table_of_a_profile():
    from analysis import plots
    from analysis.budgets import profile
    from analysis.precision import format_of

    measures = list(profile.DEFAULT_MEASURES)
    prof = profile.council_profile(profile.prepared_panel(tuple(measures), (2018, 2024)), "E08000016")
    findings = profile.key_findings(prof, measures)
    assert 3 <= len(findings) <= 6 and all("Barnsley" in f.text for f in findings)
    assert all(not f.has_interval and "margins of error" in f.no_interval_reason for f in findings)
    assert [f.key for f in findings[1:]] == [f"profile_{m}" for m in measures]
    assert "rank" in findings[1].text and "England" in findings[1].text and "metropolitan districts" in findings[1].text
    heads = profile.headlines(prof)
    assert [h["key"] for h in heads] == ["profile_dp_users", "profile_control_daily_life"]
    assert all(h["no_interval_reason"] and h["period"] == "2023-24" for h in heads)
    fig = profile.figure(prof, measures)
    drawn = [ax for ax in fig.axes if ax.has_data()]
    assert len(drawn) == len(measures)  # one figure, one panel per measure
    data = plots.chart_data(fig)
    assert set(data["series"]) == {"Barnsley", "England", "Metropolitan Districts (median, middle half)"}
    assert list(dict.fromkeys(data["measure"])) == measures
    assert plots.chart_meta(fig)["plot"] == "small_multiples"
    plots.close_all()
    latest = profile.table(prof, latest_only=True, order=measures)
    assert len(latest) == len(measures) and set(latest["Year"]) == {"2023-24"}
    assert format_of(latest)["counts"] == ("Peer councils", "Rank (1 = best)", "Councils ranked")


def test_council_profile_needs_its_council_and_personal_budgets_points_to_it():
    with pytest.raises(ParameterError, match="council_code is required"):
        P.validate_parameters("council_profile", {})
    with pytest.raises(ParameterError, match="council_code is required"):
        P.validate_parameters("council_profile", {"council_code": None})
    with pytest.raises(ParameterError, match="council_code"):
        P.validate_parameters("council_profile", {"council_code": "Barnsley"})
    assert P.validate_parameters("council_profile", {"council_code": "E08000016"}).measures[0] == "dp_users"
    with pytest.raises(ParameterError, match="run council_profile -p council_code=E08000016"):
        P.validate_parameters("personal_budgets", {"council_code": "E08000016"})


def test_a_notebook_that_needs_a_parameter_is_left_out_of_a_run_of_every_notebook():
    assert not P.get_spec("council_profile").runs_with_defaults
    assert "council_profile" in P.notebooks() and "council_profile" not in P.default_notebooks()
    assert P.required_fields(P.get_spec("council_profile").parameters) == ["council_code"]
    assert "council_code" not in P.field_defaults(P.get_spec("council_profile").parameters)
    assert "required" in P.get_spec("council_profile").parameters.allowed()["council_code"]
