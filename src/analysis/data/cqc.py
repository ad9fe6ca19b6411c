"""CQC ratings, care-home counts and closures, with ownership harmonised.

Ownership is coded as ordered categories ``local authority`` (in-house),
``third sector`` and ``for-profit``; ratings as the ordered CQC scale
Inadequate < Requires improvement < Good < Outstanding.
"""

from __future__ import annotations

import pandas as pd
import pandera.pandas as pa

from analysis.errors import SchemaError

OWNERSHIP_ORDER = ["local authority", "third sector", "for-profit"]
RATING_ORDER = ["Inadequate", "Requires improvement", "Good", "Outstanding"]
OWNERSHIP_LABELS = {
    "local authority": "Local authority (in-house)",
    "third sector": "Third sector",
    "for-profit": "For-profit",
}
_OWNERSHIP_SPELLINGS = {
    "local authority": "local authority",
    "third sector": "third sector",
    "for-profit": "for-profit",
}
STATA_EPOCH = pd.Timestamp("1960-01-01")


def harmonise_ownership(values: pd.Series) -> pd.Series:
    """Map the files' spellings (For-Profit, Third Sector, Local Authority...) to ordered categories."""
    cleaned = values.astype("string").str.strip().str.lower()
    mapped = cleaned.map(_OWNERSHIP_SPELLINGS)
    bad = cleaned[mapped.isna() & cleaned.notna()].unique()
    if len(bad):
        raise SchemaError(f"Unknown ownership values: {list(bad)}")
    return pd.Categorical(mapped, categories=OWNERSHIP_ORDER, ordered=True)


def harmonise_rating(values: pd.Series) -> pd.Series:
    cleaned = values.astype("string").str.strip().str.capitalize()
    bad = cleaned[~cleaned.isin(RATING_ORDER) & cleaned.notna()].unique()
    if len(bad):
        raise SchemaError(f"Unknown CQC rating values: {list(bad)}")
    return pd.Categorical(cleaned, categories=RATING_ORDER, ordered=True)


def _require(raw: pd.DataFrame, columns: set[str], what: str) -> None:
    missing = columns - set(raw.columns)
    if missing:
        raise SchemaError(f"{what} is missing columns: {sorted(missing)}")


def tidy_community_inspections(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per rated inspection of a community-based adult social care service.

    Adds the report year, how many earlier rated reports the location had (a
    re-inspection marker) and the years since registration at the report date.
    """
    _require(raw, {"reportdate", "overall", "ownership", "locationid",
                   "location_start_2025", "location_end_2025"}, "CQC community inspections file")
    df = pd.DataFrame({
        "location_id": raw["locationid"].astype(str),
        "report_date": pd.to_datetime(raw["reportdate"], errors="raise"),
        "ownership": harmonise_ownership(raw["ownership"]),
        "rating": harmonise_rating(raw["overall"]),
        "registered_from": STATA_EPOCH + pd.to_timedelta(pd.to_numeric(raw["location_start_2025"]), unit="D"),
        "registered_to": STATA_EPOCH + pd.to_timedelta(pd.to_numeric(raw["location_end_2025"]), unit="D"),
    })
    df["year"] = df["report_date"].dt.year.astype("int64")
    df["good_or_outstanding"] = df["rating"].isin(["Good", "Outstanding"])
    df = df.sort_values(["location_id", "report_date"]).reset_index(drop=True)
    df["prior_reports"] = df.groupby("location_id").cumcount().astype("int64")
    df["years_registered"] = ((df["report_date"] - df["registered_from"]).dt.days / 365.25).clip(lower=0)
    return df


COMMUNITY_INSPECTIONS_SCHEMA = pa.DataFrameSchema(
    {
        "location_id": pa.Column(str),
        "report_date": pa.Column("datetime64[ns]"),
        "ownership": pa.Column(pd.CategoricalDtype(OWNERSHIP_ORDER, ordered=True)),
        "rating": pa.Column(pd.CategoricalDtype(RATING_ORDER, ordered=True)),
        "registered_from": pa.Column("datetime64[ns]"),
        "registered_to": pa.Column("datetime64[ns]", nullable=True),
        "year": pa.Column("int64", pa.Check.in_range(2010, 2030)),
        "good_or_outstanding": pa.Column(bool),
        "prior_reports": pa.Column("int64", pa.Check.ge(0)),
        "years_registered": pa.Column(float, pa.Check.ge(0)),
    },
    strict=True,
    coerce=True,
)


def tidy_ratings_by_year(care_homes: pd.DataFrame, community: pd.DataFrame) -> pd.DataFrame:
    """Year-end rating counts by ownership for care homes and community services."""
    frames = []
    for setting, raw in (("care homes", care_homes), ("community services", community)):
        _require(raw, {"ownership", "rating", "N", "total", "year"}, f"CQC {setting} ratings file")
        frames.append(pd.DataFrame({
            "setting": setting,
            "year": raw["year"].astype("int64"),
            "ownership": harmonise_ownership(raw["ownership"]),
            "rating": harmonise_rating(raw["rating"]),
            "n": raw["N"].astype("int64"),
            "total": raw["total"].astype("int64"),
        }))
    return pd.concat(frames, ignore_index=True)


RATINGS_BY_YEAR_SCHEMA = pa.DataFrameSchema(
    {
        "setting": pa.Column(str, pa.Check.isin(["care homes", "community services"])),
        "year": pa.Column("int64", pa.Check.in_range(2010, 2030)),
        "ownership": pa.Column(pd.CategoricalDtype(OWNERSHIP_ORDER, ordered=True)),
        "rating": pa.Column(pd.CategoricalDtype(RATING_ORDER, ordered=True)),
        "n": pa.Column("int64", pa.Check.ge(0)),
        "total": pa.Column("int64", pa.Check.gt(0)),
    },
    checks=[pa.Check(lambda d: d["n"] <= d["total"], error="a rating count cannot exceed the total")],
    strict=True,
    unique=["setting", "year", "ownership", "rating"],
)


def tidy_care_homes_count(raw: pd.DataFrame) -> pd.DataFrame:
    _require(raw, {"year", "ownership", "number_carehomes", "number_carehome_beds"}, "CQC care homes count file")
    return pd.DataFrame({
        "year": raw["year"].astype("int64"),
        "ownership": harmonise_ownership(raw["ownership"]),
        "homes": raw["number_carehomes"].astype("int64"),
        "beds": raw["number_carehome_beds"].astype("int64"),
    })


CARE_HOMES_COUNT_SCHEMA = pa.DataFrameSchema(
    {
        "year": pa.Column("int64", pa.Check.in_range(2010, 2030)),
        "ownership": pa.Column(pd.CategoricalDtype(OWNERSHIP_ORDER, ordered=True)),
        "homes": pa.Column("int64", pa.Check.ge(0)),
        "beds": pa.Column("int64", pa.Check.ge(0)),
    },
    strict=True,
    unique=["year", "ownership"],
)


def tidy_care_home_closures(raw: pd.DataFrame) -> pd.DataFrame:
    """One row per care home: ownership, size, whether and when it closed.

    Homes with no recorded ownership (21 of 29,458) are dropped, with a count
    kept in ``attrs`` for the report.
    """
    _require(raw, {"carehomesbeds", "year_location_end", "forced_closure", "ownership", "closed_complete", "nurse",
                   "dementia", "inadequate", "requiresimprovement", "good", "outstanding"},
             "CQC care-home closures file")
    known = raw["ownership"].notna()
    raw = raw[known]
    year_closed = pd.to_numeric(raw["year_location_end"], errors="coerce")
    closed = raw["closed_complete"].fillna(0).astype(int).eq(1)
    dummies = raw[["inadequate", "requiresimprovement", "good", "outstanding"]]
    if (dummies.sum(axis=1) > 1).any():
        raise SchemaError("A care home has more than one rating dummy set")
    label = dummies.fillna(0).idxmax(axis=1).where(dummies.sum(axis=1) == 1)
    label = label.map({"inadequate": "Inadequate", "requiresimprovement": "Requires improvement",
                       "good": "Good", "outstanding": "Outstanding"})
    df = pd.DataFrame({
        "ownership": harmonise_ownership(raw["ownership"]),
        "beds": pd.to_numeric(raw["carehomesbeds"], errors="coerce"),
        "nursing": raw["nurse"].fillna(0).astype(int).eq(1),
        "dementia": raw["dementia"].fillna(0).astype(int).eq(1),
        "rating": pd.Categorical(label, categories=RATING_ORDER, ordered=True),
        "closed": closed,
        "forced_closure": raw["forced_closure"].fillna(0).astype(int).eq(1),
        "year_closed": year_closed.where(closed).astype("Int64"),
        "year_deregistered": year_closed.astype("Int64"),
    }).reset_index(drop=True)
    df.attrs["dropped_unknown_ownership"] = int((~known).sum())
    return df


CARE_HOME_CLOSURES_SCHEMA = pa.DataFrameSchema(
    {
        "ownership": pa.Column(pd.CategoricalDtype(OWNERSHIP_ORDER, ordered=True)),
        "beds": pa.Column(float, pa.Check.ge(0), nullable=True),
        "nursing": pa.Column(bool),
        "dementia": pa.Column(bool),
        "rating": pa.Column(pd.CategoricalDtype(RATING_ORDER, ordered=True), nullable=True),
        "closed": pa.Column(bool),
        "forced_closure": pa.Column(bool),
        "year_closed": pa.Column("Int64", pa.Check.in_range(2010, 2030), nullable=True),
        "year_deregistered": pa.Column("Int64", pa.Check.in_range(2010, 2030), nullable=True),
    },
    strict=True,
)
