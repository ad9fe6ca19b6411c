"""ASCOF outcomes, tidy and comparable across the 2023-24 renumbering.

NHS England introduced a new ASCOF in 2023-24 and renumbered the measures;
several codes were reused for different measures (``1B`` was "control over daily
life" and became "adjusted SCRQoL"; ``3A`` was "satisfaction" and became
"control over daily life"). Matching on the code alone silently mixes
measures. Here every published (framework, code) pair is mapped to a named
*concept*, and each mapped row's published description is checked against
the concept's meaning, so a mislabelled or renumbered row fails loudly.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from analysis.errors import SchemaError

NEW_FRAMEWORK_FROM = 2024  # financial year 2023-24 ends in 2024


@dataclass(frozen=True)
class Concept:
    key: str
    label: str
    unit: str  # percent | score | ratio | per_100k
    higher_is_better: bool
    old_code: str | None  # 2017-18 to 2022-23 framework
    new_code: str | None  # 2023-24 framework
    meaning: str  # regex the published description must match (case-insensitive)


CONCEPTS: tuple[Concept, ...] = (
    Concept("scrqol", "Social care-related quality of life (score, max 24)", "score", True,
            "1A", "1A", r"^social care-related quality of life( score)?$"),
    Concept("adjusted_scrqol", "Adjusted SCRQoL: impact of adult social care services", "ratio", True,
            "1J", "1B", r"adjusted social care-related quality of life"),
    Concept("control_daily_life", "Service users with control over their daily life (%)", "percent", True,
            "1B", "3A", r"control over their daily life"),
    Concept("sds_users", "Service users receiving self-directed support (%)", "percent", True,
            "1C1A", "3D1A", r"(people who use services|people using social care) who receive self-directed support"),
    Concept("sds_carers", "Carers receiving self-directed support (%)", "percent", True,
            "1C1B", "3D1B", r"carers who receive self-directed support"),
    Concept("dp_users", "Service users receiving direct payments (%)", "percent", True,
            "1C2A", "3D2A", r"(people who use services|people using social care) who receive direct payments"),
    Concept("dp_carers", "Carers receiving direct payments (%)", "percent", True,
            "1C2B", "3D2B", r"carers who receive direct payments"),
    Concept("carer_qol", "Carer-reported quality of life (score, max 12)", "score", True,
            "1D", "1C", r"carer-reported quality of life"),
    Concept("satisfaction_users", "Overall satisfaction of service users with care and support (%)", "percent", True,
            "3A", "1D", r"overall satisfaction of people who use services"),
    Concept("satisfaction_carers", "Overall satisfaction of carers with social services (%)", "percent", True,
            "3B", "1E", r"overall satisfaction of carers"),
    Concept("carers_included", "Carers included or consulted in discussions (%)", "percent", True,
            "3C", "3B", r"carers who report that they have been included or consulted"),
    Concept("info_users", "Service users finding it easy to find information (%)", "percent", True,
            "3D1", "3C1", r"people who use services( and carers)? who find it easy to find information"),
    Concept("info_carers", "Carers finding it easy to find information (%)", "percent", True,
            "3D2", "3C2", r"carers who find it easy to find information"),
    Concept("social_contact_users", "Service users with as much social contact as they would like (%)", "percent", True,
            "1I1", "5A1", r"people who use services who reported that they had as much social contact"),
    Concept("social_contact_carers", "Carers with as much social contact as they would like (%)", "percent", True,
            "1I2", "5A2", r"carers who reported that they had as much social contact"),
    Concept("feel_safe", "Service users who feel safe (%)", "percent", True,
            "4A", "4A", r"people who use services who feel safe"),
    Concept("services_made_safe", "Service users who say services made them feel safe and secure (%)", "percent", True,
            "4B", None, r"services have made them feel safe and secure"),
    Concept("ld_employment", "Adults with a learning disability in paid employment (%)", "percent", True,
            "1E", None, r"learning disabilit(y|ies) in paid employment"),
    Concept("mh_employment", "Adults in contact with secondary mental health services in paid employment (%)",
            "percent", True,
            "1F", None, r"secondary mental health services in paid employment"),
    Concept("ld_own_home", "Adults with a learning disability living in their own home or with family (%)", "percent",
            True,
            "1G", "2E", r"learning disabilit(y|ies) who live in their own home"),
    Concept("mh_independent", "Adults in contact with secondary mental health services living independently (%)",
            "percent", True,
            "1H", None, r"secondary mental health services( who live| living) independently"),
    Concept("admissions_18_64", "Younger adults (18-64) admitted to care homes per 100,000", "per_100k", False,
            "2A1", "2B", r"younger adults.*admission to residential and nursing care homes"),
    Concept("admissions_65_plus", "Older adults (65+) admitted to care homes per 100,000", "per_100k", False,
            "2A2", "2C", r"older adults.*admission to residential and nursing care homes"),
    Concept("home_91_days", "Older people still at home 91 days after hospital discharge into reablement (%)",
            "percent", True,
            "2B1", "2D1", r"still at home 91 days after discharge"),
    Concept("offered_reablement", "Older people offered reablement after hospital discharge (%)", "percent", True,
            "2B2", "2D2", r"(received|offered) (reablement|the service)"),
    Concept("short_term_sequel", "Outcome of short-term services: no ongoing or lower-level support (%)", "percent",
            True,
            "2D", "2A", r"(outcome of short-term services|sequel to service)"),
    Concept("dtoc_all", "Delayed transfers of care from hospital per 100,000", "per_100k", False,
            "2C1", None, r"^delayed transfers of care from hospital,? per 100,000"),
    Concept("dtoc_social_care", "Delayed transfers attributable to adult social care per 100,000", "per_100k", False,
            "2C2", None, r"delayed transfers of care.*attributable to adult social care"),
    Concept("dtoc_joint", "Delayed transfers jointly attributable to NHS and social care per 100,000", "per_100k",
            False,
            "2C3", None, r"delayed transfers of care.*jointly attributable"),
)

CONCEPTS_BY_KEY = {c.key: c for c in CONCEPTS}

# Rows whose published description is known to be wrong: the code is authoritative.
# 2019-20: the carers' measures 1C1B/1C2B carry the service users' descriptions, and
# 2B2 carries 2B1's description (see the catalogue caveats). England values confirm
# the code: 1C2B is 77.1 (carers' level), 2B2 is 2.6 (offered-reablement level).
KNOWN_MISLABELLED = {("2019-20", "1C1B"), ("2019-20", "1C2B"), ("2019-20", "2B2")}

GEOGRAPHY_LEVELS = {"Council": "council", "Region": "region", "England": "england",
                    "Council Type": "council_type", "Council type": "council_type"}


def year_end(financial_year: str) -> int:
    """'2017-18' -> 2018 (the calendar year in which the financial year ends)."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", str(financial_year).strip())
    if not match:
        raise SchemaError(f"Not a financial year like 2017-18: {financial_year!r}")
    start = int(match.group(1))
    end = int(match.group(2))
    if (start + 1) % 100 != end:
        raise SchemaError(f"Financial year {financial_year!r} does not span consecutive years")
    return start + 1


def concept_for(financial_year: str, code: str) -> Concept | None:
    """The concept a published (year, code) pair measures, or None if not mapped."""
    new = year_end(financial_year) >= NEW_FRAMEWORK_FROM
    for concept in CONCEPTS:
        if (concept.new_code if new else concept.old_code) == code:
            return concept
    return None


def _normalise_description(text: object) -> str:
    if not isinstance(text, str):
        return ""
    text = text.replace("–", "-").replace("—", "-").replace("  ", " ")
    return re.sub(r"\s+", " ", text).strip().lower()


def tidy_ascof(raw: pd.DataFrame) -> pd.DataFrame:
    """Turn the stacked ASCOF file into one row per year x area x concept.

    Raises SchemaError if a mapped row's description contradicts its concept
    (the symptom of a renumbering mistake), unless the row is a documented
    mislabel in the source file.
    """
    required = {"Year", "Geographical Description", "ONS Code", "Measure Group",
                "Measure Group Description", "Measure_Value", "Geographical Level"}
    missing = required - set(raw.columns)
    if missing:
        raise SchemaError(f"ASCOF file is missing columns: {sorted(missing)}")
    df = raw.copy()
    df["geography_level"] = df["Geographical Level"].map(GEOGRAPHY_LEVELS)
    unknown_levels = df.loc[df["geography_level"].isna(), "Geographical Level"].unique()
    if len(unknown_levels):
        raise SchemaError(f"Unknown ASCOF geography levels: {list(unknown_levels)}")

    rows = []
    contradictions = []
    for (year, code), group in df.groupby(["Year", "Measure Group"], sort=False):
        concept = concept_for(year, code)
        if concept is None:
            continue
        descriptions = {_normalise_description(d) for d in group["Measure Group Description"]}
        descriptions.discard("")
        if (year, code) not in KNOWN_MISLABELLED:
            for description in descriptions:
                if not re.search(concept.meaning, description):
                    contradictions.append(f"{year} {code}: {description!r} is not {concept.key}")
        part = group.assign(concept=concept.key, concept_label=concept.label, unit=concept.unit,
                            higher_is_better=concept.higher_is_better)
        rows.append(part)
    if contradictions:
        raise SchemaError("ASCOF measure codes do not mean what the mapping says:\n  "
                          + "\n  ".join(contradictions[:10]))
    out = pd.concat(rows, ignore_index=True)
    out = out.rename(columns={"Year": "year", "Geographical Description": "area_name",
                              "ONS Code": "area_code", "Measure Group": "measure_code",
                              "Measure_Value": "value"})
    out["year_end"] = out["year"].map(year_end).astype("int64")
    out["area_name"] = out["area_name"].astype(str).str.strip()
    out["area_code"] = out["area_code"].where(out["area_code"].str.match(r"^E\d{8}$", na=False))
    out = out.dropna(subset=["value"])
    # Council types appear twice in some years (spelling of the level); keep one.
    out = out.drop_duplicates(subset=["year", "geography_level", "area_name", "concept"])
    cols = ["year", "year_end", "geography_level", "area_code", "area_name", "concept",
            "concept_label", "measure_code", "unit", "higher_is_better", "value"]
    out = out[cols].sort_values(["concept", "geography_level", "area_name", "year_end"])
    return out.reset_index(drop=True)


def _value_in_unit_range(df: pd.DataFrame) -> pd.Series:
    pct = df["unit"].eq("percent") & df["value"].between(0, 100)
    score = df["unit"].eq("score") & df["value"].between(0, 24)
    ratio = df["unit"].eq("ratio") & df["value"].between(0, 1)
    rate = df["unit"].eq("per_100k") & df["value"].ge(0)
    return pct | score | ratio | rate


ASCOF_SCHEMA = pa.DataFrameSchema(
    {
        "year": pa.Column(str, pa.Check.str_matches(r"^\d{4}-\d{2}$")),
        "year_end": pa.Column("int64", pa.Check.in_range(2000, 2100)),
        "geography_level": pa.Column(str, pa.Check.isin(sorted(set(GEOGRAPHY_LEVELS.values())))),
        "area_code": pa.Column(str, nullable=True),
        "area_name": pa.Column(str),
        "concept": pa.Column(str, pa.Check.isin(list(CONCEPTS_BY_KEY))),
        "concept_label": pa.Column(str),
        "measure_code": pa.Column(str),
        "unit": pa.Column(str, pa.Check.isin(["percent", "score", "ratio", "per_100k"])),
        "higher_is_better": pa.Column(bool),
        "value": pa.Column(float),
    },
    checks=[pa.Check(_value_in_unit_range, error="value outside the range its unit allows "
                     "(percent 0-100, score 0-24, ratio 0-1, rate >= 0)")],
    strict=True,
    unique=["year", "geography_level", "area_name", "concept"],
)
