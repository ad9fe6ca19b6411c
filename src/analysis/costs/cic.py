"""The NHS-funded community interest company (CIC) sector, from NHS bodies' spend-over-£25k files.

How many CICs NHS bodies paid, how concentrated the money was, which of the largest are
documented NHS spin-outs, and the average value a year. The file is a census of what the
scraped files hold, not a sample, so the figures have no sampling interval; their
uncertainty is coverage (not every NHS body published every year; payments under £25,000
are absent) and the length of the window, which is why the yearly value is given as a
range over the plausible spans. CIC is a legal form: many CICs are GP federations or
small charities' trading arms, and some staff mutuals are not CICs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Largest CICs whose origin as an NHS spin-out is documented in the evidence register
# (company number -> register row). Others may be spin-outs too; the register does not say.
DOCUMENTED_SPINOUTS = {"06273905": "MUT-201"}

# A transparent name rule for GP federations and out-of-hours or urgent-care services: the company name contains
# 'GP' or 'GPs', 'federat' (federation, federated, confederation), 'primary care', 'urgent care', 'out of hours' or
# '111'. Names miss some (a GP federation called 'One Care' is not caught), so counts by it are floors.
PRIMARY_CARE_NAME = re.compile(r"\bGPS?\b|FEDERAT|PRIMARY CARE|URGENT|OUT[ -]OF[ -]HOURS|\b111\b", re.IGNORECASE)
PRIMARY_CARE_RULE = ("'GP', 'federat-', 'primary care', 'urgent care', 'out of hours' or '111' in the company name")


def primary_care_by_name(names: pd.Series) -> pd.Series:
    """True where a CIC's name marks it as a GP federation or an out-of-hours or urgent-care service
    (:data:`PRIMARY_CARE_NAME`)."""
    return names.astype(str).str.contains(PRIMARY_CARE_NAME)


@dataclass
class CicSector:
    table: pd.DataFrame  # every non-NHS CIC with its total
    largest: pd.DataFrame
    n_cics: int
    n_with_payments: int
    total_gbp: float
    top1_share: float
    top10_share: float
    top20_share: float
    hhi: float
    gini: float
    median_gbp: float
    n_over_1m: int
    n_over_10m: int
    per_year_gbp: tuple[float, float, float]  # central (mid span), low (longest span), high (shortest span)
    window_years: tuple[int, int]
    n_spellings_merged: int  # supplier spellings beyond one per paid CIC (merged by company number)
    n_spellings: int = 0  # supplier spellings of the paid CICs in all
    n_primary_care_over_1m: int = 0  # paid more than £1m, GP federation or out-of-hours by the name rule
    n_primary_care_over_10m: int = 0


def gini(values: np.ndarray) -> float:
    v = np.sort(np.clip(np.asarray(values, float), 0, None))
    if v.sum() == 0:
        return 0.0
    n = len(v)
    return float((2 * np.arange(1, n + 1) - n - 1) @ v / (n * v.sum()))


def cic_sector(suppliers: pd.DataFrame, *, window_years: tuple[int, int] = (9, 11), top: int = 10) -> CicSector:
    cics = suppliers[suppliers["is_cic"] & ~suppliers["is_nhs"]].copy()
    paid = cics[cics["total_paid_gbp"] > 0].sort_values("total_paid_gbp", ascending=False).reset_index(drop=True)
    total = float(paid["total_paid_gbp"].sum())
    shares = paid["total_paid_gbp"] / total
    paid["share_pct"] = 100 * shares
    paid["rank"] = np.arange(1, len(paid) + 1)
    paid["documented_spinout"] = paid["company_number"].map(DOCUMENTED_SPINOUTS)
    largest = paid.head(top)[["rank", "organisation", "company_number", "total_paid_gbp", "share_pct", "n_payments",
                              "n_spellings", "documented_spinout"]]
    short, long_ = window_years
    middle = (short + long_) / 2
    return CicSector(
        table=paid, largest=largest, n_cics=int(len(cics)), n_with_payments=int(len(paid)), total_gbp=total,
        top1_share=float(100 * shares.iloc[:1].sum()), top10_share=float(100 * shares.iloc[:10].sum()),
        top20_share=float(100 * shares.iloc[:20].sum()), hhi=float((100 * shares).pow(2).sum()),
        gini=gini(paid["total_paid_gbp"].to_numpy()), median_gbp=float(paid["total_paid_gbp"].median()),
        n_over_1m=int((paid["total_paid_gbp"] > 1e6).sum()), n_over_10m=int((paid["total_paid_gbp"] > 1e7).sum()),
        per_year_gbp=(total / middle, total / long_, total / short), window_years=(short, long_),
        n_spellings_merged=int(paid["n_spellings"].sum() - len(paid)), n_spellings=int(paid["n_spellings"].sum()),
        n_primary_care_over_1m=int((primary_care_by_name(paid["organisation"]) & (paid["total_paid_gbp"] > 1e6)).sum()),
        n_primary_care_over_10m=int((primary_care_by_name(paid["organisation"])
                                     & (paid["total_paid_gbp"] > 1e7)).sum()))
