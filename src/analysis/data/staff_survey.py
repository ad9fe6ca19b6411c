"""NHS Staff Survey 2021-2024, organisation-level, in a tidy long form.

Each row is one organisation x year x survey item, with the percentage and the
number of responses behind it (the base), the provider model (social
enterprise or NHS trust) and the service the benchmarking group covers.
Organisations are followed across years by ODS code, because names change
("Bromley Healthcare" became "Bromley Healthcare CIC").
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import pandera.pandas as pa

from analysis.errors import SchemaError


@dataclass(frozen=True)
class Item:
    key: str
    rate_column: str
    base_column: str
    label: str
    higher_is_better: bool
    domain: str


# Every staff-experience outcome in the file. Workforce composition (sex, age,
# ethnicity, religion) is descriptive, not an outcome, and is left out.
ITEMS: tuple[Item, ...] = (
    Item("burnout", "Burned_out_rate", "Burned_out_base",
         "Often/always burnt out because of work (Q12b)", False, "wellbeing"),
    Item("burnout_sometimes", "Burned_out_sometimes_rate", "Burned_out_base",
         "Burnt out at least sometimes (Q12b)", False, "wellbeing"),
    Item("exhausted", "Emotionally_exhausting_rate", "Emotionally_exhausting_base",
         "Often/always find work emotionally exhausting (Q12a)", False, "wellbeing"),
    Item("frustrated", "Frustration_rate", "Frustration_base",
         "Often/always frustrated by work (Q12c)", False, "wellbeing"),
    Item("stress", "Stress_rate", "Stress_base",
         "Unwell from work-related stress in last 12 months (Q11c)", False, "wellbeing"),
    Item("autonomy", "Autonomy_rate", "Autonomy_base", "Able to decide how to do my work (Q3f)", True, "job"),
    Item("time_demands", "Time_demands_meet_rate", "Time_demands_meet_base",
         "Able to meet all conflicting demands on my time (Q3g)", True, "job"),
    Item("enough_staff", "Enough_staff_rate", "Enough_staff_base",
         "Enough staff to do my job properly (Q3i)", True, "job"),
    Item("meaningful_work", "Mastery_meaning_rate", "Mastery_base",
         "Feel my role makes a difference to patients/service users (Q6a)", True, "job"),
    Item("team_membership", "Membership_rate", "Membership_base", "Feel valued by my team (Q7h)", True, "team"),
    Item("physical_violence_public", "Physical_public_rate", "Physical_public_base",
         "Physical violence from patients/public (Q13a)", False, "safety"),
    Item("physical_violence_managers", "Physical_manager_rate", "Physical_manager_base",
         "Physical violence from managers (Q13b)", False, "safety"),
    Item("physical_violence_colleagues", "Physical_colleagues_rate", "Physical_colleagues_base",
         "Physical violence from colleagues (Q13c)", False, "safety"),
    Item("harassment_public", "Emotional_public_rate", "Emotional_public_base",
         "Harassment, bullying or abuse from patients/public (Q14a)", False, "safety"),
    Item("harassment_managers", "Emotional_manager_rate", "Emotional_manager_base",
         "Harassment, bullying or abuse from managers (Q14b)", False, "safety"),
    Item("harassment_colleagues", "Emotional_colleagues_rate", "Emotional_colleagues_base",
         "Harassment, bullying or abuse from colleagues (Q14c)", False, "safety"),
    Item("discrimination_public", "Discrimination_public_rate", "Discrimination_public_base",
         "Discrimination from patients/public (Q16a)", False, "safety"),
    Item("discrimination_internal", "Discrimination_internal_rate", "Discrimination_internal_base",
         "Discrimination from manager/colleagues (Q16b)", False, "safety"),
)
ITEMS_BY_KEY = {i.key: i for i in ITEMS}

# Benchmarking group -> (provider model, service)
GROUPS: dict[str, tuple[str, str]] = {
    "Social Enterprises - Community": ("social enterprise", "community"),
    "Social Enterprises - Mental Health": ("social enterprise", "mental health"),
    "Community Trusts": ("NHS trust", "community"),
    "Mental Health & Learning Disability and Mental Health, Learning Disability & Community Trusts":
        ("NHS trust", "mental health"),
    "Acute and Acute & Community Trusts": ("NHS trust", "acute"),
    "Acute Specialist Trusts": ("NHS trust", "acute specialist"),
    "Ambulance Trusts": ("NHS trust", "ambulance"),
    "Community Surgical Services": ("independent", "community surgical"),
    "ICBs": ("commissioner", "commissioning"),
    "CCGs": ("commissioner", "commissioning"),
    "CSUs": ("commissioner", "support unit"),
}

ID_COLUMNS = ["ODS code", "Year", "Organisation name", "Benchmarking group", "Respondents"]


def tidy_staff_survey(raw: pd.DataFrame) -> pd.DataFrame:
    needed = set(ID_COLUMNS) | {c for i in ITEMS for c in (i.rate_column, i.base_column)}
    missing = needed - set(raw.columns)
    if missing:
        raise SchemaError(f"NHS Staff Survey file is missing columns: {sorted(missing)}")
    unknown = set(raw["Benchmarking group"].dropna()) - set(GROUPS)
    if unknown:
        raise SchemaError(f"Unknown benchmarking groups (add them to GROUPS): {sorted(unknown)}")
    frames = []
    for item in ITEMS:
        part = raw[ID_COLUMNS].copy()
        part["item"] = item.key
        part["item_label"] = item.label
        part["domain"] = item.domain
        part["higher_is_better"] = item.higher_is_better
        part["rate"] = pd.to_numeric(raw[item.rate_column], errors="coerce")
        part["base"] = pd.to_numeric(raw[item.base_column], errors="coerce")
        frames.append(part)
    df = pd.concat(frames, ignore_index=True).dropna(subset=["rate", "base"])
    df = df.rename(columns={"ODS code": "ods_code", "Year": "year", "Organisation name": "organisation",
                            "Benchmarking group": "benchmarking_group", "Respondents": "respondents"})
    df["provider_model"] = df["benchmarking_group"].map(lambda g: GROUPS[g][0])
    df["service"] = df["benchmarking_group"].map(lambda g: GROUPS[g][1])
    df["year"] = df["year"].astype("int64")
    df["respondents"] = df["respondents"].astype("int64")
    df["base"] = df["base"].astype("int64")
    df["rate"] = df["rate"].astype(float)
    df["organisation"] = df["organisation"].astype(str).str.strip()
    # One current name per ODS code, for labels that do not change across years.
    latest = df.sort_values("year").groupby("ods_code")["organisation"].last()
    df["organisation_latest"] = df["ods_code"].map(latest)
    cols = ["ods_code", "year", "organisation", "organisation_latest", "benchmarking_group",
            "provider_model", "service", "respondents", "item", "item_label", "domain",
            "higher_is_better", "rate", "base"]
    return df[cols].sort_values(["item", "ods_code", "year"]).reset_index(drop=True)


STAFF_SURVEY_SCHEMA = pa.DataFrameSchema(
    {
        "ods_code": pa.Column(str, pa.Check.str_matches(r"^[0-9A-Z]{3,5}(/[0-9A-Z]{3,5})*$")),
        "year": pa.Column("int64", pa.Check.in_range(2021, 2030)),
        "organisation": pa.Column(str),
        "organisation_latest": pa.Column(str),
        "benchmarking_group": pa.Column(str, pa.Check.isin(list(GROUPS))),
        "provider_model": pa.Column(str),
        "service": pa.Column(str),
        "respondents": pa.Column("int64", pa.Check.gt(0)),
        "item": pa.Column(str, pa.Check.isin(list(ITEMS_BY_KEY))),
        "item_label": pa.Column(str),
        "domain": pa.Column(str),
        "higher_is_better": pa.Column(bool),
        "rate": pa.Column(float, pa.Check.in_range(0, 100)),
        "base": pa.Column("int64", pa.Check.gt(0)),
    },
    checks=[pa.Check(lambda d: d["base"] <= d["respondents"],
                     error="an item's base cannot exceed the organisation's respondents")],
    strict=True,
    unique=["ods_code", "year", "item"],
)
