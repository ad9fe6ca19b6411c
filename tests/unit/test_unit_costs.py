"""Council unit-cost tables: columns by description, markers, the published arithmetic and England totals."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import data
from analysis.data import unit_costs as uc
from analysis.errors import SchemaError

PSS_SERIES_KEYS = {s.key for s in uc.PSS_SERIES}


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return data.load("unit_costs")


@pytest.fixture(scope="module")
def grid_2013_14() -> pd.DataFrame:
    return data.read_raw("pss_unit_costs_2013_14")


def _key(df: pd.DataFrame) -> pd.Series:
    return df["service"] + " | " + df["client_group"] + " | " + df["provider"]


# --- Markers and values ------------------------------------------------------------------------

@pytest.mark.parametrize("text", [".", "..", ":", "-", "", "#NUM!"])
def test_markers_become_missing_never_zero(text):
    value, marker, _ = uc.parse_value(text)
    assert np.isnan(value) and marker


def test_numbers_keep_their_rounding():
    assert uc.parse_value("1,040.3") == (1040.3, None, pytest.approx(0.05))
    assert uc.parse_value("527")[2] == 0.5
    with pytest.raises(SchemaError, match="Unreadable cell 'n/a'"):
        uc.parse_value("n/a")


# --- Columns matched by description ------------------------------------------------------------

@pytest.mark.data
def test_a_column_matched_by_description_survives_a_reordering_of_columns(grid_2013_14):
    original = uc.parse_pss(grid_2013_14, "pss_unit_costs_2013_14", 2014)
    rng = np.random.default_rng(1)
    order = [0, *rng.permutation(np.arange(1, grid_2013_14.shape[1]))]
    shuffled = grid_2013_14.iloc[:, order]
    shuffled.columns = range(shuffled.shape[1])
    again = uc.parse_pss(shuffled, "pss_unit_costs_2013_14", 2014)
    pd.testing.assert_frame_equal(original, again)


@pytest.mark.data
def test_a_missing_column_fails_naming_it(grid_2013_14):
    descriptions = grid_2013_14.iloc[1:5].apply(lambda c: uc.normalise(" ".join(c)))
    weeks = [j for j,
             d in descriptions.items() if "weeks older people were supported in own provision residential" in d]
    assert len(weeks) == 1
    broken = grid_2013_14.drop(columns=weeks)
    with pytest.raises(SchemaError) as err:
        uc.parse_pss(broken, "pss_unit_costs_2013_14", 2014)
    message = str(err.value)
    assert "pss_unit_costs_2013_14" in message and "no column" in message
    assert "activity of 'residential care | older people (65+) | in-house'" in message


@pytest.mark.data
def test_a_renamed_column_fails_naming_it(grid_2013_14):
    broken = grid_2013_14.copy()
    descriptions = broken.iloc[1:5].apply(lambda c: uc.normalise(" ".join(c)))
    unit = next(j for j,
                d in descriptions.items() if "average gross hourly cost for home help care provided by la" in d)
    for i in range(1, 5):
        broken.iat[i, unit] = broken.iat[i, unit].replace("provided by LA", "provided in-house")
    with pytest.raises(SchemaError, match=r"unit cost of 'home care \| all adults \| in-house'"):
        uc.parse_pss(broken, "pss_unit_costs_2013_14", 2014)


@pytest.mark.data
def test_the_2009_10_duplicated_description_is_resolved_by_the_written_erratum():
    """The first 'own provision' mental-health day-care cost column is the all-provider total: it equals own
    provision plus provision by others for every council that reports all three (which is why the erratum keeps
    the second)."""
    grid = data.read_raw("pss_unit_costs_2009_10")
    descriptions = {j: uc.normalise(grid.iat[1, j]) for j in range(1, grid.shape[1])}
    own_cost = [j for j, d in descriptions.items()
                if d.startswith("gross total cost for own provision day care or day services for adults aged 18 64 "
                                "with mental health needs")]
    others = next(j for j, d in descriptions.items()
                  if d.startswith("gross total cost for day care or day services for adults aged 18 64 with mental "
                                  "health needs provided by others"))
    assert len(own_cost) == 2
    councils = grid.iloc[:, 0].str.match(r"^\s*\d{3}\s*-")
    first = grid.loc[councils, own_cost[0]].map(lambda t: uc.parse_value(t)[0])
    second = grid.loc[councils, own_cost[1]].map(lambda t: uc.parse_value(t)[0])
    other = grid.loc[councils, others].map(lambda t: uc.parse_value(t)[0])
    ok = first.notna() & second.notna() & other.notna()
    assert ok.sum() > 100
    assert (first[ok] - second[ok] - other[ok]).abs().max() <= 1.0  # within the rounding of three whole £000s
    parsed = uc.parse_pss(grid, "pss_unit_costs_2009_10", 2010)
    row = parsed[(parsed["service"] == "day care") & (parsed["client_group"] == "mental health (18-64)")
                 & (parsed["provider"] == "in-house") & (parsed["geography"] == "council")]
    assert np.allclose(row["cost_gbp_thousands"].dropna().to_numpy(), second[second.notna()].to_numpy())


@pytest.mark.data
def test_without_the_2008_09_home_care_correction_the_arithmetic_check_fails(monkeypatch):
    grid = data.read_raw("pss_unit_costs_2008_09")
    monkeypatch.setattr(uc, "DENOMINATOR_CORRECTIONS", ())
    with pytest.raises(SchemaError, match=r"pss_unit_costs_2008_09 \(2008-09\).*home care \| all adults \| in-house"):
        uc.check_unit_costs(uc.parse_pss(grid, "pss_unit_costs_2008_09", 2009))


# --- The published arithmetic -------------------------------------------------------------------

@pytest.mark.data
def test_unit_cost_equals_cost_over_activity_within_the_published_rounding(table):
    d = table[table["cost_gbp_thousands"].notna() & (table["activity"] > 0) & table["unit_cost_published"].notna()]
    assert len(d) > 10_000
    # Rounding of the published unit cost: 1 decimal (0.05) in most years, whole pounds (0.5) in 2010-11.
    unit_half = 0.5
    lo = (d["cost_gbp_thousands"] - d["cost_rounding"]) * 1000 / (d["activity"] + d["activity_rounding"])
    hi = ((d["cost_gbp_thousands"] + d["cost_rounding"]) * 1000
          / (d["activity"] - d["activity_rounding"]).clip(lower=1e-9))
    inside = (d["unit_cost_published"] >= lo - unit_half) & (d["unit_cost_published"] <= hi + unit_half)
    assert inside.all(), d.loc[~inside, ["dataset", "council", "service", "client_group", "provider"]].head()


@pytest.mark.data
def test_the_check_fails_loudly_on_a_unit_cost_that_does_not_match(grid_2013_14):
    broken = grid_2013_14.copy()
    descriptions = broken.iloc[1:5].apply(lambda c: uc.normalise(" ".join(c)))
    unit = next(j for j, d in descriptions.items()
                if "average gross weekly expenditure per person on supporting older people in own provision" in d)
    row = int(np.flatnonzero(broken.iloc[:, 0].str.startswith("102"))[0])
    broken.iat[row, unit] = "9,999.9"
    with pytest.raises(SchemaError) as err:
        uc.check_unit_costs(uc.parse_pss(broken, "pss_unit_costs_2013_14", 2014))
    assert "pss_unit_costs_2013_14 (2013-14)" in str(err.value)
    assert "residential care | older people (65+) | in-house" in str(err.value)


# --- England rows against council rows ---------------------------------------------------------

@pytest.mark.data
def test_the_loader_reproduces_the_files_own_england_rows_for_every_year_and_service(table):
    """For every year, series and measure: England equals the sum of council rows within the summed rounding
    of the published values. Exceptions are only those the files themselves explain: PSS-EX1 England totals
    include estimates for councils that did not report (England then exceeds the sum, by no more than the
    missing councils could add), and ASC-FR England sums only councils with both numbers non-zero (plus the one
    documented departure)."""
    keys = ["year", "collection", "service", "client_group", "support_reason", "provider"]
    checked = set()
    for key, part in table.groupby(keys):
        info = dict(zip(keys, key))
        england = part[part["geography"] == "England"]
        councils = part[part["geography"] == "council"]
        assert len(england) == 1, key
        for value, rounding in (("cost_gbp_thousands", "cost_rounding"), ("activity", "activity_rounding")):
            if info["collection"] == "ASC-FR":
                used = (councils["cost_gbp_thousands"] > 0) & (councils["activity"] > 0)
                known = [k for k in uc.KNOWN_DISCREPANCIES if k.series == f"{info['service']} | "
                         f"{info['client_group']} | {info['provider']}" and k.support_reason == info["support_reason"]
                         and k.measure == ("cost" if value.startswith("cost") else "activity")]
                for k in known:
                    used |= councils["dh_code"].isin(k.also_includes)
            else:
                used = councils[value].notna()
            total = councils.loc[used, value].sum()
            tolerance = councils.loc[used, rounding].sum() + england[rounding].fillna(0).iloc[0]
            gap = england[value].iloc[0] - total
            missing = int(councils[value].isna().sum())
            if abs(gap) > tolerance:
                assert info["collection"] == "PSS-EX1" and missing > 0, (key, value, gap, tolerance)
                assert 0 < gap <= missing * councils[value].max() + tolerance, (key, value, gap)
        checked.add((info["year"], f"{info['service']} | {info['client_group']} | {info['provider']}"))
    pss = {(y, s) for y in range(2009, 2015) for s in PSS_SERIES_KEYS}
    assert pss <= checked  # every PSS-EX1 year and series
    assert {y for y, _ in checked} == set(range(2009, 2016))


@pytest.mark.data
def test_a_file_whose_england_row_does_not_reconcile_fails_naming_file_service_and_year(grid_2013_14):
    broken = grid_2013_14.copy()
    descriptions = broken.iloc[1:5].apply(lambda c: uc.normalise(" ".join(c)))
    cost = next(j for j, d in descriptions.items()
                if d.startswith("gross total cost for residential care for adults aged 18 64 with a learning "
                                "disability provided by others"))
    unit = next(j for j, d in descriptions.items()
                if "supporting adults aged 18 64 with a learning disability in residential care provided by "
                   "others" in d)
    weeks = next(j for j, d in descriptions.items()
                 if "weeks adults aged 18 64 with a learning disability" in d and "provided by others" in d)
    england = int(np.flatnonzero(broken.iloc[:, 0].str.strip().str.lower().isin(["total england", "england"]))[0])
    value = float(broken.iat[england, cost].replace(",", "")) + 50_000
    broken.iat[england, cost] = f"{value:,.0f}"
    broken.iat[england, unit] = f"{value * 1000 / float(broken.iat[england, weeks].replace(',', '')):,.1f}"
    parsed = uc.parse_pss(broken, "pss_unit_costs_2013_14", 2014)
    uc.check_unit_costs(parsed)  # the England unit cost itself is consistent; the total is not
    with pytest.raises(SchemaError) as err:
        uc.reconcile_england(parsed)
    message = str(err.value)
    assert "pss_unit_costs_2013_14 (2013-14)" in message
    assert "residential care | learning disability (18-64) | external, cost" in message


@pytest.mark.data
def test_reconciliation_table_covers_every_file_and_nothing_fails():
    r = data.load("unit_costs_reconciliation")
    assert set(r["dataset"]) == set(uc.PSS_DATASETS.values()) | {uc.ASCFR_DATASET}
    assert r["status"].str.startswith(("reconciles", "England includes")).all()
    # Where no council value is missing, PSS-EX1 England equals the council sum within rounding.
    complete = r[(r["collection"] == "PSS-EX1") & (r["councils_missing"] == 0)]
    assert complete["status"].eq("reconciles").all()


# --- Councils and prices ------------------------------------------------------------------------

@pytest.mark.data
def test_councils_get_ons_codes_including_the_2009_reorganisation(table):
    councils = table[table["geography"] == "council"]
    per_year = councils.groupby("year")["ons_code"].nunique()
    assert per_year.loc[2010:2015].eq(152).all() and per_year.loc[2009] == 148
    predecessors = councils[councils["ons_code"].isna()].drop_duplicates("council")
    assert set(predecessors["council"]) == {"Cheshire", "Bedfordshire"}
    assert set(predecessors["successor_ons_codes"]) == {"E06000049;E06000050", "E06000055;E06000056"}
    codes = councils.drop_duplicates(["year", "dh_code"]).set_index(["year", "dh_code"])["ons_code"]
    assert codes[(2010, "809")] == "E10000009"  # Dorset county, not the 2019 unitary
    assert codes[(2010, "612")] == "E10000002"  # Buckinghamshire county
    assert codes[(2010, "810")] == "E06000028" and codes[(2010, "811")] == "E06000029"
    assert codes[(2009, "116")] == codes[(2014, "116")] == "E06000047"  # Durham: same area, same code
    assert codes[(2012, "908")] == "E06000022"  # 'Bath & NE Somerset', not Somerset
    one_code_per_council = councils.dropna(subset=["ons_code"]).groupby(["year", "ons_code"])["dh_code"].nunique()
    assert one_code_per_council.eq(1).all()


@pytest.mark.data
def test_real_terms_use_the_stated_base_year(table):
    deflators = data.load("gdp_deflators")
    assert deflators.set_index("financial_year").at["2022-23", "gdp_deflator"] == pytest.approx(100)
    assert (table["price_base"] == uc.DEFAULT_PRICE_BASE).all()
    base = table[table["year"] == 2014].dropna(subset=["unit_cost"])
    assert np.allclose(base["unit_cost_real"], base["unit_cost"])  # 2013-14 is the base: real = cash
    rebased = uc.rebase(table, deflators, "2022-23")
    d = deflators.set_index("year")["gdp_deflator"]
    row = rebased.dropna(subset=["unit_cost"]).iloc[0]
    assert row["unit_cost_real"] == pytest.approx(row["unit_cost"] * 100 / d[row["year"]])
    with pytest.raises(SchemaError, match="price base"):
        uc.rebase(table, deflators, "1900-01")


@pytest.mark.data
def test_unit_cost_needs_positive_cost_and_activity(table):
    zero = table[(table["cost_gbp_thousands"] <= 0) | (table["activity"] <= 0)]
    assert zero["unit_cost"].isna().all()
    marked = table[table["marker"].notna()]
    assert (marked[["cost_gbp_thousands", "activity", "unit_cost_published"]].isna().any(axis=1)).all()
