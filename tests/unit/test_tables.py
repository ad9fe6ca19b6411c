"""Tidy tables: the transforms researchers get wrong by hand, and schema errors."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import data
from analysis.data import ascof, cqc, provision, staff_survey
from analysis.data.tables import TABLES, validate
from analysis.errors import SchemaError

# --- ASCOF renumbering ------------------------------------------------------------

def test_codes_map_by_meaning_across_the_2023_24_renumbering():
    assert ascof.concept_for("2022-23", "1B").key == "control_daily_life"
    assert ascof.concept_for("2023-24", "1B").key == "adjusted_scrqol"
    assert ascof.concept_for("2023-24", "3A").key == "control_daily_life"
    assert ascof.concept_for("2022-23", "3A").key == "satisfaction_users"
    assert ascof.concept_for("2022-23", "1C2A").key == "dp_users"
    assert ascof.concept_for("2023-24", "3D2A").key == "dp_users"
    assert ascof.concept_for("2022-23", "1E").key == "ld_employment"
    assert ascof.concept_for("2023-24", "1E").key == "satisfaction_carers"
    assert ascof.concept_for("2023-24", "ZZ") is None


def test_financial_year_parsing_rejects_nonsense():
    assert ascof.year_end("2017-18") == 2018
    assert ascof.year_end("1999-00") == 2000
    with pytest.raises(SchemaError):
        ascof.year_end("2017-19")
    with pytest.raises(SchemaError):
        ascof.year_end("2017")


def _ascof_rows(year, code, desc, value=50.0):
    return {"Year": year, "Geographical Description": "Barnsley", "ONS Code": "E08000016", "Measure Group": code,
            "Measure Group Description": desc, "Measure_Value": value, "Geographical Level": "Council"}


def test_a_code_whose_description_contradicts_its_meaning_fails_loudly():
    raw = pd.DataFrame([_ascof_rows("2023-24", "1B",
                                    "Proportion of people who use services who have control over their daily life")])
    with pytest.raises(SchemaError, match="do not mean what the mapping says"):
        ascof.tidy_ascof(raw)


def test_documented_mislabel_is_mapped_by_code():
    raw = pd.DataFrame([_ascof_rows("2019-20", "1C2B",
                                    "Proportion of people using social care who receive direct payments", 77.1)])
    out = ascof.tidy_ascof(raw)
    assert out["concept"].tolist() == ["dp_carers"]


def test_missing_columns_are_named():
    with pytest.raises(SchemaError, match="Measure_Value"):
        ascof.tidy_ascof(pd.DataFrame({"Year": ["2017-18"]}))


def test_impossible_percentage_gives_a_schema_error_with_columns_and_rows():
    raw = pd.DataFrame([_ascof_rows("2022-23", "1C2A",
                                    "Proportion of people using social care who receive direct payments", 140.0)])
    tidy = ascof.tidy_ascof(raw)
    with pytest.raises(SchemaError) as err:
        validate(tidy, ascof.ASCOF_SCHEMA, "ASCOF")
    assert "140" in str(err.value) and "value outside the range" in str(err.value)


@pytest.mark.data
def test_ascof_england_values_are_continuous_across_the_break():
    df = data.load("ascof")
    eng = df[df["geography_level"] == "england"].set_index(["concept", "year"])["value"]
    # Published England values (catalogue MANIFEST checks): DP 28.5 (2017-18), 26.2 (2022-23), 25.5 (2023-24);
    # control over daily life 77.7 (2017-18) and 77.6 (2023-24).
    assert eng[("dp_users", "2017-18")] == pytest.approx(28.5)
    assert eng[("dp_users", "2022-23")] == pytest.approx(26.2)
    assert eng[("dp_users", "2023-24")] == pytest.approx(25.5)
    assert eng[("control_daily_life", "2017-18")] == pytest.approx(77.7)
    assert eng[("control_daily_life", "2023-24")] == pytest.approx(77.6)
    # The reused code 1B in 2023-24 must not leak into control over daily life.
    assert eng[("adjusted_scrqol", "2023-24")] < 1


@pytest.mark.data
def test_ascof_covers_councils_and_flags_the_thin_2020_21_survey():
    df = data.load("ascof")
    councils = df[(df["geography_level"] == "council") & (df["concept"] == "control_daily_life")]
    per_year = councils.groupby("year")["area_code"].nunique()
    assert per_year["2018-19"] >= 150
    assert per_year["2020-21"] <= 20  # voluntary survey year: 18 councils


# --- Staff survey -------------------------------------------------------------------

@pytest.mark.data
def test_staff_survey_maps_groups_and_follows_organisations_by_ods_code():
    df = data.load("staff_survey")
    se = df[df["provider_model"] == "social enterprise"]
    assert set(se["service"]) == {"community", "mental health"}
    assert se["ods_code"].nunique() == 9
    bromley = df[df["ods_code"] == "NQV"]
    assert bromley["organisation"].nunique() == 2  # name changed
    assert bromley["organisation_latest"].nunique() == 1
    assert df["rate"].between(0, 100).all()


def test_staff_survey_unknown_benchmarking_group_is_an_error():
    cols = {c: [1] for c in staff_survey.ID_COLUMNS}
    cols["Benchmarking group"] = ["Martian Trusts"]
    for item in staff_survey.ITEMS:
        cols[item.rate_column] = [10.0]
        cols[item.base_column] = [10]
    with pytest.raises(SchemaError, match="Martian Trusts"):
        staff_survey.tidy_staff_survey(pd.DataFrame(cols))


# --- CQC ------------------------------------------------------------------------------

def test_ownership_spellings_are_harmonised_into_ordered_categories():
    out = cqc.harmonise_ownership(pd.Series(["For-Profit", "Third Sector", "Local Authority", " third sector"]))
    assert list(out) == ["for-profit", "third sector", "local authority", "third sector"]
    assert out.ordered and list(out.categories) == cqc.OWNERSHIP_ORDER
    with pytest.raises(SchemaError, match="(?i)charity"):
        cqc.harmonise_ownership(pd.Series(["Charity"]))


def test_ratings_are_ordered():
    out = cqc.harmonise_rating(pd.Series(["Requires Improvement", "Good", "outstanding", "Inadequate"]))
    assert list(out) == ["Requires improvement", "Good", "Outstanding", "Inadequate"]
    assert out.min() == "Inadequate" and out.max() == "Outstanding"


def test_negative_counts_fail_the_schema():
    raw = pd.DataFrame({"year": [2015], "ownership": ["For-profit"], "number_carehomes": [-3],
                        "number_carehome_beds": [10]})
    with pytest.raises(SchemaError, match="homes"):
        validate(cqc.tidy_care_homes_count(raw), cqc.CARE_HOMES_COUNT_SCHEMA, "counts")


@pytest.mark.data
def test_cqc_tables_load_with_expected_sizes():
    insp = data.load("cqc_community_inspections")
    assert len(insp) == 29459 and insp["location_id"].nunique() == 15648
    clos = data.load("cqc_care_home_closures")
    assert clos.attrs.get("dropped_unknown_ownership") == 21
    assert int(clos["forced_closure"].sum()) == 816 - 0  # all forced closures have known ownership


# --- Provision -------------------------------------------------------------------------

@pytest.mark.parametrize("raw,clean", [
    ("310-Stockport", "Stockport"), ("Bournemouth%20UA", "Bournemouth"), ("Salford ", "Salford"),
    ("St. Helens", "St Helens"), ("814-Southampton UA", "Southampton"), ("TOTAL%20Unitary%20Authorities", None),
    (None, None), ("", None),
])
def test_council_names_are_normalised(raw, clean):
    assert provision.normalise_council_name(raw) == clean


def test_council_key_joins_spelling_variants():
    assert provision.council_key("Stockton-on-Tees") == provision.council_key("Stockton on Tees")
    assert provision.council_key("Kingston upon Hull, City of") == provision.council_key("Kingston upon Hull")


@pytest.mark.data
def test_provision_shares_are_within_eras():
    df = data.load("provision_shares")
    assert set(df["collection"]) == {"PSS-EX1", "ASC-FR"}
    assert df.loc[df["year"] < 2015, "collection"].eq("PSS-EX1").all()
    assert df["in_house_share"].between(0, 100).all()
    assert 2017 not in set(df["year"])  # every 2017 row lacks a council name


@pytest.mark.data
def test_every_table_loads_and_passes_its_schema():
    for name, table in TABLES.items():
        df = data.load(name)
        assert len(df) > 0, name
        validate(df, table.schema, name)


def test_unknown_table_lists_the_tables():
    from analysis.errors import DataError

    with pytest.raises(DataError, match="Unknown table 'ascofs'.*ascof"):
        data.load("ascofs")


# --- the parquet cache is verified, not trusted ------------------------------------------------

@pytest.mark.data
def test_an_altered_or_truncated_cached_table_is_rebuilt_from_the_raw_files(isolated_cache):
    from analysis.data import tables

    tables._MEMORY.clear()
    true = data.load("council_lookup")
    path = tables._cache_path(TABLES["council_lookup"])
    assert tables.verify_tables()[1] == {"name": "council_lookup", "status": "ok", "path": str(path)}

    altered = true.copy()
    altered.loc[altered.index[0], "council"] = "Tampered"
    altered.to_parquet(path, index=False)
    tables._MEMORY.clear()
    assert {r["name"]: r["status"] for r in tables.verify_tables()}["council_lookup"] == "MISMATCH"
    assert data.load("council_lookup").equals(true)

    path.write_bytes(path.read_bytes()[:500])  # truncated
    tables._MEMORY.clear()
    assert data.load("council_lookup").equals(true)
    assert {r["name"]: r["status"] for r in tables.verify_tables()}["council_lookup"] == "ok"
    tables._MEMORY.clear()


@pytest.mark.data
def test_a_cached_table_whose_hash_file_is_missing_is_rebuilt(isolated_cache):
    from analysis.data import tables

    tables._MEMORY.clear()
    true = data.load("council_types")
    path = tables._cache_path(TABLES["council_types"])
    tables._hash_path(path).unlink()
    tables._MEMORY.clear()
    assert {r["name"]: r["status"] for r in tables.verify_tables()}["council_types"] == "no recorded hash"
    assert data.load("council_types").equals(true)
    assert tables._hash_path(path).is_file()
    tables._MEMORY.clear()
