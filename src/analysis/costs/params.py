"""Parameters of the provision-costs notebook (in-house against external provision)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from analysis.costs.comparisons import SERIES
from analysis.parameters import NotebookParameters

SeriesKey = Literal[tuple(SERIES)]  # type: ignore[valid-type]
PSS_YEARS = ("2008-09", "2009-10", "2010-11", "2011-12", "2012-13", "2013-14")
PssYear = Literal[PSS_YEARS]  # type: ignore[valid-type]
PRICE_BASES = tuple(f"{y}-{str(y + 1)[-2:]}" for y in range(2008, 2023))
PriceBase = Literal[PRICE_BASES]  # type: ignore[valid-type]


def year_end(financial_year: str) -> int:
    """'2013-14' -> 2014."""
    return int(financial_year[:4]) + 1


class ProvisionCostsParameters(NotebookParameters):
    services: Annotated[list[SeriesKey], Field(min_length=1)] = Field(
        list(SERIES), description="Services and client groups to compare (residential_*, day_*, home_care)")
    years: Annotated[list[PssYear], Field(min_length=2, max_length=2)] = Field(
        ["2008-09", "2013-14"], description="First and last PSS-EX1 financial year (2014-15 is always shown apart)")
    include_2014_15: bool = Field(True, description="Show the 2014-15 ASC-FR year (a new collection) separately")
    real_terms_base: PriceBase = Field("2013-14", description="Financial year whose prices real terms are in "
                                                              "(HM Treasury GDP deflator)")
    min_weeks: Annotated[float, Field(ge=0, le=100_000)] = Field(
        520.0, description="Residential care: minimum weeks for a council's unit cost to count (520 = 10 residents "
                           "all year)")
    min_client_weeks: Annotated[float, Field(ge=0, le=100_000)] = Field(
        520.0, description="Day care: minimum client weeks for a unit cost to count (520 = 10 clients a week)")
    min_hours: Annotated[float, Field(ge=0, le=10_000_000)] = Field(
        5200.0, description="Home care: minimum contact hours for a unit cost to count (5,200 = 100 hours a week)")
    closure_share: Annotated[float, Field(gt=0, lt=1)] = Field(
        0.10, description="Treatment rule: a council has closed or sold its in-house care homes for older people "
                          "from the year its in-house weeks fall below this share of its first-year level (and stay "
                          "below)")
    kept_share: Annotated[float, Field(gt=0, le=1)] = Field(
        0.50, description="Treatment rule: control councils keep at least this share of their first-year in-house "
                          "weeks every year")
    baseline_min_weeks: Annotated[float, Field(ge=0, le=100_000)] = Field(
        1040.0, description="Treatment rule: in-house weeks in the first year needed to be in the panel (1,040 = 20 "
                            "residents all year)")
    control_group: Literal["nevertreated", "notyettreated"] = Field(
        "nevertreated", description="Callaway-Sant'Anna comparison group: councils that kept their homes, or also "
                                    "those that had not yet closed theirs")
    cqc_year: Annotated[int, Field(ge=2015, le=2024)] = Field(
        2015, description="Year of the CQC ratings set beside the costs (2015 is the first full year, nearest the "
                          "cost data)")
    cic_window_years: Annotated[list[Annotated[int, Field(ge=1, le=15)]], Field(min_length=2, max_length=2)] = Field(
        [9, 11], description="Shortest and longest plausible span (years) of the NHS spend files, to express the "
                             "CIC totals a year")
    confidence_level: Annotated[float, Field(gt=0.5, lt=1.0)] = 0.95
    n_bootstrap: Annotated[int, Field(ge=199, le=20_000)] = Field(
        1999, description="Council-bootstrap replicates for the England ratio intervals")
    seed: Annotated[int, Field(ge=0)] = 2013

    @model_validator(mode="after")
    def _consistent(self) -> ProvisionCostsParameters:
        first, last = self.years
        if year_end(first) >= year_end(last):
            raise ValueError(f"years: the first year {first} must be before the last year {last}")
        if self.closure_share >= self.kept_share:
            raise ValueError(f"closure_share ({self.closure_share}) must be below kept_share ({self.kept_share})")
        if self.cic_window_years[0] > self.cic_window_years[1]:
            raise ValueError("cic_window_years: shortest span is longer than the longest")
        return self

    @property
    def year_range(self) -> tuple[int, int]:
        return year_end(self.years[0]), year_end(self.years[1])

    @property
    def min_activity(self) -> dict[str, float]:
        return {"residential care": self.min_weeks, "day care": self.min_client_weeks, "home care": self.min_hours}
