"""Library changes made for the explorers' speed: each gives exactly what it gave before."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis import data, provenance
from analysis.costs import comparisons
from analysis.data import evidence


def _series_frame_by_lambda(unit_costs: pd.DataFrame, series: str, collection: str = "PSS-EX1") -> pd.DataFrame:
    """``series_frame`` as it was written before (a Python function per group): the reference."""
    service, group, ascfr_group = comparisons.SERIES[series]
    wanted = group if collection == "PSS-EX1" else ascfr_group
    d = unit_costs[(unit_costs["collection"] == collection) & (unit_costs["service"] == service)
                   & (unit_costs["client_group"] == wanted)]
    agg = d.groupby(["geography", "dh_code", "year", "provider"], observed=True).agg(
        ons_code=("ons_code", "first"), council=("council", "first"),
        cost=("cost_real_gbp_thousands", lambda s: s.sum(min_count=1) * 1000),
        activity=("activity", lambda s: s.sum(min_count=1)),
        activity_unit=("activity_unit", "first"), price_base=("price_base", "first")).reset_index()
    usable = (agg["cost"] > 0) & (agg["activity"] > 0)
    agg["unit_cost_real"] = np.where(usable, agg["cost"] / agg["activity"].where(usable), np.nan)
    return agg


def test_series_frame_sums_support_reasons_and_keeps_all_missing_as_missing():
    base = {"collection": "PSS-EX1", "service": "residential care", "client_group": "older people (65+)",
            "geography": "council", "activity_unit": "weeks", "price_base": "2013-14", "year": 2010,
            "ons_code": "E06000001", "council": "A"}
    rows = [
        {"dh_code": "1", "provider": "in-house", "support_reason": "physical", "cost_real_gbp_thousands": 10.0,
         "activity": 20.0},
        {"dh_code": "1", "provider": "in-house", "support_reason": "dementia", "cost_real_gbp_thousands": np.nan,
         "activity": np.nan},
        {"dh_code": "1", "provider": "external", "support_reason": "physical", "cost_real_gbp_thousands": np.nan,
         "activity": np.nan},
        {"dh_code": "1", "provider": "external", "support_reason": "dementia", "cost_real_gbp_thousands": np.nan,
         "activity": np.nan},
    ]
    frame = pd.DataFrame([{**base, **r} for r in rows])
    out = comparisons.series_frame(frame, "residential_older").set_index("provider")
    assert out.loc["in-house", "cost"] == 10_000.0 and out.loc["in-house", "activity"] == 20.0
    assert out.loc["in-house", "unit_cost_real"] == 500.0
    assert np.isnan(out.loc["external", "cost"]) and np.isnan(out.loc["external", "unit_cost_real"])
    pd.testing.assert_frame_equal(comparisons.series_frame(frame, "residential_older"),
                                  _series_frame_by_lambda(frame, "residential_older"))


@pytest.mark.data
@pytest.mark.parametrize("series,collection", [("residential_older", "PSS-EX1"), ("residential_pd", "ASC-FR"),
                                               ("home_care", "PSS-EX1"), ("day_ld", "PSS-EX1")])
def test_series_frame_matches_the_per_group_reference_on_the_real_table(series, collection):
    table = comparisons.with_price_base(data.load("unit_costs"), data.load("gdp_deflators"), "2013-14")
    pd.testing.assert_frame_equal(comparisons.series_frame(table, series, collection),
                                  _series_frame_by_lambda(table, series, collection))


@pytest.mark.data
def test_evidence_rows_record_the_same_citations_as_before():
    figures = data.load_figures()
    ids = ["NAO-006", "NAO-025", "NAO-040"]
    provenance.reset()
    rows = evidence.evidence_rows(figures, ids)
    cited = ["id", "claim_or_measure", "value", "unit", "year", "source_title", "source_org", "originator",
             "source_url", "verification"]
    recorded = provenance.snapshot()["evidence"]
    assert [list(r) for r in recorded] == [cited] * len(ids)
    pd.testing.assert_frame_equal(pd.DataFrame(recorded), pd.DataFrame(rows[cited].to_dict("records")))
    provenance.reset()


@pytest.mark.data
def test_resolving_vfm_inputs_with_the_proxy_given_is_the_same_as_computing_it():
    from analysis.vfm import analysis as vfm
    from analysis.vfm import failure, inputs
    from analysis.vfm.params import VfmParameters

    params = VfmParameters(failure_proxy_measure="involuntary closures", failure_proxy_years=[2012, 2015])
    figures = data.load_figures()
    _, yearly = failure.closure_rates(data.load("cqc_care_home_closures"), data.load("cqc_care_homes_count"),
                                      years=vfm.CLOSURE_YEARS, level=params.confidence_level)
    fresh = inputs.resolve(params, figures, yearly)
    proxy = failure.pooled_definitions(yearly, params.failure_proxy_ownership, params.inhouse_proxy_ownership,
                                       (2012, 2015), level=params.confidence_level)
    given = inputs.resolve(params, figures, yearly, proxy=proxy)
    pd.testing.assert_frame_equal(fresh.sources, given.sources)
    pd.testing.assert_frame_equal(fresh.proxy, given.proxy)
    assert inputs.proxy_key(params) == inputs.proxy_key(params.model_copy(update={"seed": 1, "scenario": "target"}))
    assert inputs.proxy_key(params) != inputs.proxy_key(params.model_copy(update={"confidence_level": 0.95}))
