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
    # The story first (biggest change), then the outcome summary, the two shares together, each outcome measure.
    assert [f.key for f in findings] == ["profile_change", "profile_summary", "profile_shares",
                                         "profile_control_daily_life", "profile_satisfaction_users", "profile_scrqol"]
    assert "highest of 152 councils" in findings[2].text and "England" in findings[2].text
    assert "metropolitan districts" in findings[3].text and "(1 = best)" in findings[3].text
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
    assert format_of(latest)["counts"] == ("Peer councils", profile.RANK_COLUMN, "Councils ranked")


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


@pytest.mark.data
def test_administrative_shares_are_placed_by_size_not_ranked_best_or_worst():
    """Barnsley's self-directed support is 135th highest of 152 councils: a position, not '1 = best', and the
    best/worst-quarter count covers only the three outcome measures."""
    from analysis import data
    from analysis.budgets import profile

    ascof = data.load("ascof")
    sds = ascof[(ascof["geography_level"] == "council") & (ascof["concept"] == "sds_users")
                & (ascof["year_end"] == 2024)].dropna(subset=["value"])
    barnsley = float(sds.loc[sds["area_code"] == "E08000016", "value"].iloc[0])
    higher = int((sds["value"] > barnsley).sum())
    prof = profile.council_profile(profile.prepared_panel(), "E08000016")
    findings = {f.key: f for f in profile.key_findings(prof, list(profile.DEFAULT_MEASURES))}
    shares = findings["profile_shares"].text
    assert f"{higher + 1}th highest of {len(sds)} councils" in shares
    assert "best" not in shares and "worst" not in shares
    survey = ascof[(ascof["geography_level"] == "council") & (ascof["year_end"] == 2024)
                   & ascof["concept"].isin(["control_daily_life", "satisfaction_users", "scrqol"])]
    survey = survey.dropna(subset=["value"])
    best = 0
    for _, part in survey.groupby("concept"):
        own = float(part.loc[part["area_code"] == "E08000016", "value"].iloc[0])
        best += (int((part["value"] > own).sum()) + 1) / len(part) <= 0.25
    assert f"On its 3 outcome measures (2023-24), Barnsley ranked in the best quarter of English councils on {best} " \
        in findings["profile_summary"].text
    assert "placed by size, not counted as better or worse" in findings["profile_summary"].text


@pytest.mark.data
def test_a_move_in_the_year_ascof_changed_its_framework_is_flagged_with_the_count_of_movers():
    """Barnsley's self-directed support fell from 92.5% to 77.7% in 2023-24, the year of the new framework
    (codes 1C1A to 3D1A): flagged, with the number of councils that fell more than 10 points that year and before,
    recomputed here from the ASCOF table."""
    from analysis import data
    from analysis.budgets import profile
    from analysis.data.ascof import NEW_FRAMEWORK_FROM

    ascof = data.load("ascof")
    wide = ascof[(ascof["geography_level"] == "council") & (ascof["concept"] == "sds_users")].pivot_table(
        index="area_code", columns="year_end", values="value")
    fell = {y: int((wide[y] - wide[y - 1] < -10).sum()) for y in range(2019, 2025)}
    assert NEW_FRAMEWORK_FROM == 2024 and (wide.loc["E08000016", 2023], wide.loc["E08000016", 2024]) == (92.5, 77.7)
    prof = profile.council_profile(profile.prepared_panel(), "E08000016")
    flag = prof.breaks["sds_users"]
    before = [fell[y] for y in range(2019, 2024)]
    assert ("fell from 92.5% to 77.7% between 2022-23 and 2023-24" in flag and "(1C1A became 3D1A)" in flag
            and f"{fell[2024]} councils' values fell by more than 10 percentage points that year, "
                f"against {min(before)} to {max(before)} councils a year in the five years before" in flag)
    lowest = wide[2024].nsmallest(2)
    assert f"{lowest.iloc[0]:g}%" in flag and f"{lowest.iloc[1]:g}%" in flag
    assert "check the council's return before quoting" in flag
    assert set(prof.breaks) == {"sds_users"}  # direct payments moved 4.6 points that year: no flag
    assert flag in " ".join(f.text for f in profile.key_findings(prof, list(profile.DEFAULT_MEASURES)))


@pytest.mark.data
def test_the_biggest_change_and_the_pilot_line_lead_the_findings():
    """Barnsley's direct payments fell from 49.7% (7th highest) to 29.2% (joint 40th highest): its biggest change
    against its peers' spread; and Barnsley is on the Department of Health's list of 13 IBSEN pilots (PB-048)."""
    from analysis import data
    from analysis.budgets import profile

    ascof = data.load("ascof")
    dp = ascof[(ascof["geography_level"] == "council") & (ascof["concept"] == "dp_users")].dropna(subset=["value"])
    first, last = dp[dp["year_end"] == 2018], dp[dp["year_end"] == 2024]
    v1 = float(first.loc[first["area_code"] == "E08000016", "value"].iloc[0])
    v2 = float(last.loc[last["area_code"] == "E08000016", "value"].iloc[0])
    above1, above2 = int((first["value"] > v1).sum()), int((last["value"] > v2).sum())
    tied2 = int((last["value"] == v2).sum())
    pilots = str(data.load_figures().set_index("id").loc["PB-048", "group"])
    prof = profile.council_profile(profile.prepared_panel(), "E08000016")
    lead = profile.key_findings(prof, list(profile.DEFAULT_MEASURES))[0]
    assert lead.key == "profile_change" and "biggest change" in lead.text and "in direct payments" in lead.text
    assert f"down from {v1:g}% to {v2:g}%, a change of {v2 - v1:+.1f} percentage points" in lead.text
    assert (f"from {above1 + 1}th highest of {len(first)} councils to joint {above2 + 1}th highest of {len(last)} "
            f"councils ({tied2} councils have {v2:g}%)") in lead.text
    assert "Barnsley" in pilots and "one of the 13 councils that piloted individual budgets" in lead.text
    westminster = profile.council_profile(profile.prepared_panel(), "E09000033")
    assert "Westminster" not in pilots and not westminster.ibsen_pilot
    assert "piloted" not in profile.key_findings(westminster, list(profile.DEFAULT_MEASURES))[0].text


@pytest.mark.data
def test_survey_caveats_are_in_each_measures_unit_and_show_ties_and_rank_swings():
    """The quality-of-life score is out of 24 and its peers' middle half spans about half a point, so its caveat is
    in tenths of a point, not 'a point or two'; ties are 'joint' with their count; and each survey measure lists its
    ranks year by year."""
    from analysis import data
    from analysis.budgets import profile

    ascof = data.load("ascof")
    q = ascof[(ascof["geography_level"] == "council") & (ascof["concept"] == "scrqol")
              & (ascof["year_end"] == 2024)].dropna(subset=["value"])
    own = float(q.loc[q["area_code"] == "E08000016", "value"].iloc[0])
    tied, above = int((q["value"] == own).sum()), int((q["value"] > own).sum())
    prof = profile.council_profile(profile.prepared_panel(), "E08000016")
    findings = {f.key: f for f in profile.key_findings(prof, list(profile.DEFAULT_MEASURES))}
    scrqol = findings["profile_scrqol"]
    assert tied > 1 and f"joint {above + 1}th of {len(q)} councils (1 = best; {tied} councils score {own:g})" \
        in scrqol.text
    assert "a point or two" not in scrqol.limitation and "a few tenths of a point" in scrqol.limitation
    control = ascof[(ascof["geography_level"] == "council") & (ascof["concept"] == "control_daily_life")
                    & (ascof["year_end"] != 2021)].dropna(subset=["value"])
    ranks = []
    for _, part in control.groupby("year_end"):
        v = float(part.loc[part["area_code"] == "E08000016", "value"].iloc[0])
        ranks.append(int((part["value"] > v).sum()) + 1)
    listed = ", ".join(map(str, ranks[:-1])) + " and " + str(ranks[-1])
    control_caveat = findings["profile_control_daily_life"].limitation
    assert f"Barnsley's ranks on it were {listed} from 2017-18 to 2023-24" in control_caveat
    assert "a percentage point or two" in findings["profile_control_daily_life"].limitation


@pytest.mark.data
def test_the_profile_intro_carries_no_batch_instructions():
    """Final cold review, item 3: the batch commands are for researchers (README), not for the rendered profile."""
    from pathlib import Path

    text = (Path(__file__).parents[2] / "notebooks" / "council_profile.py").read_text()
    assert "make council-reports" not in text and "unit of the council batch" not in text


@pytest.mark.data
def test_a_council_with_little_published_data_still_opens_with_three_findings_and_says_what_is_missing():
    """The new Somerset council (E06000066, from 2023-24) has only its two administrative shares published: its
    profile had two key findings. A coverage finding names the measures with no value, counted from the ASCOF
    table itself, and says that one year shows no change."""
    from analysis import data
    from analysis.budgets import profile

    measures = list(profile.DEFAULT_MEASURES)
    prof = profile.council_profile(profile.prepared_panel(tuple(measures), (2018, 2024)), "E06000066")
    ascof = data.load("ascof")
    published = ascof[(ascof["area_code"] == "E06000066") & ascof["concept"].isin(measures)]
    have = set(published.dropna(subset=["value"])["concept"])
    assert set(published.dropna(subset=["value"])["year_end"]) == {2024}
    findings = profile.key_findings(prof, measures)
    assert 3 <= len(findings) <= 6
    coverage = next(f for f in findings if f.key == "profile_coverage")
    assert coverage.text.startswith(f"Somerset has published values on {len(have)} of the {len(measures)} measures")
    assert len(have) < 3 and "so no change over time can be shown" in coverage.text
