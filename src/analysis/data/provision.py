"""Council in-house versus external provision of adult social care.

Two views:

- ``tidy_provision_shares``: per council, year and setting, the share of care
  activity provided in-house, from the harmonised PSS-EX1/ASC-FR activity file.
  Levels are not comparable across the 2014-15 collection change, so each row
  carries its ``collection`` era and shares are only compared within an era.
- ``tidy_national_expenditure``: England spend by setting and sector (in-house,
  external), 2001-2023, again split by era.
"""

from __future__ import annotations

import re
import urllib.parse

import pandas as pd
import pandera.pandas as pa

from analysis.errors import SchemaError

COLLECTION_BREAK_YEAR = 2015  # 2014-15: PSS-EX1 replaced by ASC-FR

_AGGREGATE_NAMES = re.compile(r"^(total|england|all|shire|unitary|metropolitan|london|inner|outer)\b", re.I)


def normalise_council_name(name: object) -> str | None:
    """Clean the raw council spellings in the activity file.

    ``'310-Stockport'`` -> ``'Stockport'``; ``'Bournemouth%20UA'`` -> ``'Bournemouth'``;
    ``'Salford '`` -> ``'Salford'``; ``'St. Helens'`` -> ``'St Helens'``. Returns None
    for blanks and for aggregate rows (totals, council types).
    """
    if not isinstance(name, str):
        return None
    text = urllib.parse.unquote(name).strip()
    text = re.sub(r"^\d{3}\s*-\s*", "", text)
    text = re.sub(r"\s+UA$", "", text)
    text = text.replace("St.", "St").replace("&", "and")
    text = re.sub(r"\s+", " ", text).strip()
    if not text or _AGGREGATE_NAMES.match(text):
        return None
    return text


def council_key(name: str) -> str:
    """A join key that ignores case, punctuation and the words 'city of', 'council', 'county'."""
    text = name.lower().replace("&", "and")
    text = re.sub(r"\b(city of|council|county|borough of|the)\b", " ", text)
    text = re.sub(r"[^a-z]", "", text)
    return text


def tidy_provision_shares(raw: pd.DataFrame) -> pd.DataFrame:
    needed = {"percent_sector", "SupportSetting", "DH_GEOGRAPHY_NAME", "ActivityProvision", "ITEMVALUE", "year"}
    missing = needed - set(raw.columns)
    if missing:
        raise SchemaError(f"Activity file is missing columns: {sorted(missing)}")
    df = raw.copy()
    df["council"] = df["DH_GEOGRAPHY_NAME"].map(normalise_council_name)
    df["provision"] = df["ActivityProvision"].astype(str).str.strip()
    df = df[df["council"].notna() & df["provision"].isin(["In House", "External"])]
    df["setting"] = df["SupportSetting"].fillna("Community (blank in source)").astype(str).str.strip()
    df["year"] = df["year"].astype("int64")
    df["activity"] = pd.to_numeric(df["ITEMVALUE"], errors="coerce")
    wide = df.pivot_table(index=["council", "year", "setting"], columns="provision",
                          values="activity", aggfunc="sum").reset_index()
    wide.columns.name = None
    wide = wide.rename(columns={"In House": "in_house", "External": "external"})
    for col in ("in_house", "external"):
        if col not in wide:
            wide[col] = 0.0
    wide[["in_house", "external"]] = wide[["in_house", "external"]].fillna(0.0)
    total = wide["in_house"] + wide["external"]
    wide = wide[total > 0].copy()
    wide["in_house_share"] = (100 * (wide["in_house"] / (wide["in_house"] + wide["external"]))).clip(0, 100)
    wide["collection"] = wide["year"].map(lambda y: "ASC-FR" if y >= COLLECTION_BREAK_YEAR else "PSS-EX1")
    wide["council_key"] = wide["council"].map(council_key)
    cols = ["council", "council_key", "year", "collection", "setting", "in_house", "external", "in_house_share"]
    return wide[cols].sort_values(["council", "setting", "year"]).reset_index(drop=True)


PROVISION_SHARES_SCHEMA = pa.DataFrameSchema(
    {
        "council": pa.Column(str),
        "council_key": pa.Column(str, pa.Check.str_length(min_value=2)),
        "year": pa.Column("int64", pa.Check.in_range(2000, 2030)),
        "collection": pa.Column(str, pa.Check.isin(["PSS-EX1", "ASC-FR"])),
        "setting": pa.Column(str),
        "in_house": pa.Column(float, pa.Check.ge(0)),
        "external": pa.Column(float, pa.Check.ge(0)),
        "in_house_share": pa.Column(float, pa.Check.in_range(0, 100)),
    },
    strict=True,
    unique=["council_key", "year", "setting"],
)


def tidy_national_expenditure(files: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Stack the four national expenditure files into one long table.

    ``files`` maps an age group label ('65+', '18-64') and era to the raw frame:
    keys like ``'65+|pre'``. Direct payments for 65+ in 2008 are set to missing
    (the source value is implausibly low; see the catalogue caveat).
    """
    frames = []
    for key, raw in files.items():
        age_group, _era = key.split("|")
        missing = {"year", "SupportSetting", "Sector", "Expenditure"} - set(raw.columns)
        if missing:
            raise SchemaError(f"Expenditure file {key} is missing columns: {sorted(missing)}")
        part = pd.DataFrame({
            "year": raw["year"].astype("int64"),
            "age_group": age_group,
            "setting": raw["SupportSetting"].astype(str).str.strip(),
            "sector": raw["Sector"].astype(str).str.strip(),
            "spend_gbp_thousands": pd.to_numeric(raw["Expenditure"], errors="coerce").astype(float),
        })
        frames.append(part)
    df = pd.concat(frames, ignore_index=True)
    implausible = (df["age_group"].eq("65+") & df["setting"].eq("Direct payments") & df["year"].eq(2008))
    df.loc[implausible, "spend_gbp_thousands"] = float("nan")
    df["collection"] = df["year"].map(lambda y: "ASC-FR" if y >= COLLECTION_BREAK_YEAR else "PSS-EX1")
    return df.sort_values(["age_group", "setting", "sector", "year"]).reset_index(drop=True)


NATIONAL_EXPENDITURE_SCHEMA = pa.DataFrameSchema(
    {
        "year": pa.Column("int64", pa.Check.in_range(2000, 2030)),
        "age_group": pa.Column(str, pa.Check.isin(["65+", "18-64"])),
        "setting": pa.Column(str),
        "sector": pa.Column(str, pa.Check.isin(["In House", "External", "Total", "Voluntary Organisation Grants"])),
        "spend_gbp_thousands": pa.Column(float, pa.Check.ge(0), nullable=True),
        "collection": pa.Column(str, pa.Check.isin(["PSS-EX1", "ASC-FR"])),
    },
    strict=True,
    unique=["year", "age_group", "setting", "sector"],
)
