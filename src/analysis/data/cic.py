"""Suppliers paid by NHS bodies, audited against the Charity Commission and Companies House.

The NHSSpend audit file (Rahal and Mohan, JRSS A 2024) has one row per *supplier
spelling* found in NHS bodies' "spend over GBP 25,000" files, c. 2010-2020, with the
number and total of payments to that spelling and manual register checks. The tidy
table ``nhs_cic_suppliers`` has **one row per organisation**: spellings are merged
on the Companies House number (placeholders such as ``-1``, ``NoneInUK`` and
``RC??????`` are not numbers), else the charity number, else the cleaned name.

Flags are taken at organisation level: an organisation is a CIC if any of its
spellings is recorded as ``1 CIC`` or ``2 became CIC``; NHS or NHS-associated if
any is ``1 NHS or assoc`` (those are NHS bodies or GP practices paid by other NHS
bodies and are left out of third-sector totals). Payment totals cover the whole
scraped window and include refunds (negative amounts); a missing amount stays
missing. CIC is a legal form, not mutual ownership.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pandera.pandas as pa

from analysis.errors import SchemaError

NEEDED = ("supplier", "companynumber", "companyname", "charityregno", "charityname", "isCIC", "isCharity", "isNHS",
          "count_supplier", "amount_supplier")
_COMPANY_NUMBER = re.compile(r"^(?:[A-Z]{2}\d{6}|\d{8})$")


def _flag(values: pd.Series, column: str, allowed: set[str]) -> pd.Series:
    text = values.astype("string").str.strip()
    codes = text.str.extract(r"^(-?\d+)\b", expand=False)
    bad = text[codes.isna() | ~codes.isin(allowed)].dropna().unique()
    if len(bad):
        raise SchemaError(f"NHS supplier audit: unknown values in {column!r}: {list(bad)[:5]}")
    return codes.astype("Int64")


def _organisation_key(row) -> str:
    number = str(row.companynumber).strip().upper() if pd.notna(row.companynumber) else ""
    if _COMPANY_NUMBER.match(number):
        return f"company:{number}"
    if pd.notna(row.charityregno) and float(row.charityregno) > 0:
        return f"charity:{int(row.charityregno)}"
    return "name:" + re.sub(r"[^a-z0-9]+", " ", str(row.supplier).lower()).strip()


def tidy_suppliers(raw: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in NEEDED if c not in raw.columns]
    if missing:
        raise SchemaError(f"NHS supplier audit is missing columns: {missing}")
    df = raw.copy()
    df["cic_code"] = _flag(df["isCIC"], "isCIC", {"0", "1", "2"})
    df["nhs_code"] = _flag(df["isNHS"], "isNHS", {"-1", "0", "1"})
    df["charity_code"] = _flag(df["isCharity"], "isCharity", {"-1", "0", "1", "2"})
    df["amount"] = pd.to_numeric(df["amount_supplier"], errors="coerce")
    df["payments"] = pd.to_numeric(df["count_supplier"], errors="coerce")
    df["organisation_key"] = [_organisation_key(r) for r in df.itertuples()]
    df["display_name"] = df["companyname"].where(df["companyname"].notna(), df["charityname"])
    df["display_name"] = df["display_name"].where(df["display_name"].notna(), df["supplier"]).astype(str).str.strip()

    def first_real(s: pd.Series):
        s = s.dropna()
        return s.iloc[0] if len(s) else None

    grouped = df.groupby("organisation_key", sort=False)
    out = pd.DataFrame({
        "organisation": grouped["display_name"].agg(first_real),
        "company_number": grouped["companynumber"].agg(
            lambda s: next((str(v).strip().upper() for v in s if _COMPANY_NUMBER.match(str(v).strip().upper())), None)),
        "supplier_spellings": grouped["supplier"].agg(lambda s: "; ".join(sorted(set(map(str, s))))),
        "n_spellings": grouped["supplier"].size().astype("int64"),
        "is_cic": grouped["cic_code"].agg(lambda s: bool((s >= 1).any())),
        "cic_status": grouped["cic_code"].agg(
            lambda s: "CIC" if (s == 1).any() else ("became CIC" if (s == 2).any() else "not CIC")),
        "is_charity": grouped["charity_code"].agg(lambda s: bool((s >= 1).any())),
        "is_nhs": grouped["nhs_code"].agg(lambda s: bool((s == 1).any())),
        "total_paid_gbp": grouped["amount"].agg(lambda s: float(s.sum()) if s.notna().any() else np.nan),
        "n_payments": grouped["payments"].agg(lambda s: float(s.sum()) if s.notna().any() else np.nan),
    }).reset_index()
    for column in ("is_cic", "is_charity", "is_nhs"):
        out[column] = out[column].astype(bool)
    return out.sort_values("total_paid_gbp", ascending=False, na_position="last").reset_index(drop=True)


SUPPLIERS_SCHEMA = pa.DataFrameSchema(
    {
        "organisation_key": pa.Column(str, unique=True),
        "organisation": pa.Column(str),
        "company_number": pa.Column(str, pa.Check.str_matches(_COMPANY_NUMBER.pattern), nullable=True),
        "supplier_spellings": pa.Column(str),
        "n_spellings": pa.Column("int64", pa.Check.ge(1)),
        "is_cic": pa.Column(bool),
        "cic_status": pa.Column(str, pa.Check.isin(["CIC", "became CIC", "not CIC"])),
        "is_charity": pa.Column(bool),
        "is_nhs": pa.Column(bool),
        "total_paid_gbp": pa.Column(float, nullable=True),
        "n_payments": pa.Column(float, pa.Check.ge(0), nullable=True),
    },
    checks=[pa.Check(lambda d: (d["is_cic"] == d["cic_status"].ne("not CIC")).all(),
                     error="CIC flag and status disagree")],
    strict=True,
)
