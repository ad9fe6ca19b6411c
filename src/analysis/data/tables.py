"""Tidy tables: ``load(name)`` returns a typed, schema-validated DataFrame.

Each tidy table is a pure function of declared catalogue files. The first load
builds it from the verified raw files, validates it and caches it as parquet
(keyed by the raw files' sha256 and the transform version); later loads, in any
process, read the parquet. A failed validation raises SchemaError listing the
offending columns and first rows, and nothing is cached.

The cache is not trusted blindly: when a parquet file is written, its sha256 is
recorded beside it (``<file>.sha256``); every load re-hashes the file, and a file
that does not match (edited, truncated, half-copied) or cannot be read is
rebuilt from the verified raw files, with a warning. ``verify_tables`` (used by
``python -m analysis data verify``) reports such files.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from analysis import __version__, atomic, config, provenance
from analysis.data import ascof, cic, cqc, provision, staff_survey, unit_costs
from analysis.data.catalogue import load_catalogue
from analysis.data.download import fetch, sha256_of
from analysis.errors import DataError, SchemaError

log = logging.getLogger(__name__)

# Bump when any transform's output changes, so old parquet caches are not reused.
TRANSFORM_VERSION = "4"


def read_raw(name: str) -> pd.DataFrame:
    """Read one verified catalogue file as the publisher laid it out."""
    dataset = load_catalogue()[name]
    path = fetch(name)
    provenance.record_dataset(dataset.provenance())
    try:
        if name in _GRID_DATASETS:
            return unit_costs.read_grid(path)
        if name == "ascfr_2014_15_council_expenditure":
            return pd.read_csv(path, header=1, encoding="latin1", low_memory=False)
        if dataset.format == "csv":
            return pd.read_csv(path, low_memory=False)
        return pd.read_excel(path)
    except (UnicodeDecodeError, pd.errors.ParserError, ValueError) as exc:
        raise DataError(f"Dataset {name!r} at {path} could not be parsed as {dataset.format}: {exc}") from None


# Published tables with several header rows, notes and markers: read as a grid of strings, as laid out.
_GRID_DATASETS = (*unit_costs.PSS_DATASETS.values(), unit_costs.ASCFR_DATASET, unit_costs.DEFLATOR_DATASET)
_UNIT_COST_INPUTS = (*unit_costs.PSS_DATASETS.values(), unit_costs.ASCFR_DATASET)


def _unit_costs(*raws: pd.DataFrame) -> pd.DataFrame:
    n = len(unit_costs.PSS_DATASETS)
    pss = dict(zip(sorted(unit_costs.PSS_DATASETS), raws[:n]))
    ascfr, deflators, trend, official = raws[n:]
    return unit_costs.tidy_unit_costs(pss, ascfr, deflators, _council_lookup(trend, official))


def _unit_cost_reconciliation(*raws: pd.DataFrame) -> pd.DataFrame:
    n = len(unit_costs.PSS_DATASETS)
    return unit_costs.tidy_reconciliation(dict(zip(sorted(unit_costs.PSS_DATASETS), raws[:n])), raws[n])


def _council_lookup(trend: pd.DataFrame, official: pd.DataFrame) -> pd.DataFrame:
    councils = trend[trend["Geographical Level"].eq("Council")]
    names = (councils.assign(year_end=councils["Year"].map(ascof.year_end))
             .sort_values("year_end")
             .groupby("ONS Code")
             .agg(council=("Geographical Description", "last"),
                  first_year=("year_end", "min"), last_year=("year_end", "max"))
             .reset_index().rename(columns={"ONS Code": "ons_code"}))
    off = official[official["Geographical Level"].eq("Council")][["Geographical Code", "ONS Code"]]
    off = off.drop_duplicates().rename(columns={"Geographical Code": "cassr_code", "ONS Code": "ons_code"})
    off["cassr_code"] = off["cassr_code"].astype(str)
    out = names.merge(off, on="ons_code", how="left")
    out["council"] = out["council"].str.strip()
    out["council_key"] = out["council"].map(provision.council_key)
    out["first_year"] = out["first_year"].astype("int64")
    out["last_year"] = out["last_year"].astype("int64")
    return out[["ons_code", "council", "council_key", "cassr_code", "first_year", "last_year"]]


def _council_types(oflog: pd.DataFrame) -> pd.DataFrame:
    needed = {"Local authority code", "Local authority name", "Entity_Name", "Region", "Financial year"}
    missing = needed - set(oflog.columns)
    if missing:
        raise SchemaError(f"Oflog file is missing columns: {sorted(missing)}")
    latest = oflog.sort_values("Financial year").drop_duplicates("Local authority code", keep="last")
    return pd.DataFrame({"ons_code": latest["Local authority code"].astype(str),
                         "council": latest["Local authority name"].astype(str).str.strip(),
                         "council_type": latest["Entity_Name"].astype(str).str.strip(),
                         "region": latest["Region"].astype(str).str.strip()}).reset_index(drop=True)


COUNCIL_TYPES_SCHEMA = pa.DataFrameSchema(
    {
        "ons_code": pa.Column(str, pa.Check.str_matches(r"^E\d{8}$"), unique=True),
        "council": pa.Column(str),
        "council_type": pa.Column(str, pa.Check.isin(["Unitary Authorities", "Metropolitan Districts",
                                                      "London Boroughs", "Counties"])),
        "region": pa.Column(str),
    },
    strict=True,
)


COUNCIL_LOOKUP_SCHEMA = pa.DataFrameSchema(
    {
        "ons_code": pa.Column(str, pa.Check.str_matches(r"^E\d{8}$"), unique=True),
        "council": pa.Column(str),
        "council_key": pa.Column(str),
        "cassr_code": pa.Column(str, nullable=True),
        "first_year": pa.Column("int64"),
        "last_year": pa.Column("int64"),
    },
    strict=True,
)


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    inputs: tuple[str, ...]
    build: Callable[..., pd.DataFrame]
    schema: pa.DataFrameSchema


TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table("ascof", "ASCOF outcomes by council/region/England and concept, 2017-18 to 2023-24",
              ("ascof_trend",), ascof.tidy_ascof, ascof.ASCOF_SCHEMA),
        Table("council_lookup", "Councils: ONS code, name, CASSR code, years present in ASCOF",
              ("ascof_trend", "ascof_official_2020_21"), _council_lookup, COUNCIL_LOOKUP_SCHEMA),
        Table("council_types", "Councils: type (unitary, metropolitan, London, county) and region, from Oflog",
              ("oflog_asc",), _council_types, COUNCIL_TYPES_SCHEMA),
        Table("staff_survey", "NHS Staff Survey 2021-2024 by organisation, year and item, with provider model",
              ("nhs_staff_survey",), staff_survey.tidy_staff_survey, staff_survey.STAFF_SURVEY_SCHEMA),
        Table("cqc_community_inspections", "Rated inspections of community-based adult social care services",
              ("cqc_community_inspections",), cqc.tidy_community_inspections, cqc.COMMUNITY_INSPECTIONS_SCHEMA),
        Table("cqc_ratings_by_year", "Year-end CQC rating counts by ownership, care homes and community services",
              ("cqc_care_home_ratings_by_year", "cqc_community_ratings_by_year"),
              cqc.tidy_ratings_by_year, cqc.RATINGS_BY_YEAR_SCHEMA),
        Table("cqc_care_homes_count", "Registered care homes and beds by ownership, 2011-2024",
              ("cqc_care_homes_and_beds",), cqc.tidy_care_homes_count, cqc.CARE_HOMES_COUNT_SCHEMA),
        Table("cqc_care_home_closures", "Care homes 2010-2023: ownership, closure, involuntary closure",
              ("cqc_care_home_closures",), cqc.tidy_care_home_closures, cqc.CARE_HOME_CLOSURES_SCHEMA),
        Table("provision_shares", "Council in-house share of care activity by setting and year",
              ("asc_activity",), provision.tidy_provision_shares, provision.PROVISION_SHARES_SCHEMA),
        Table("national_expenditure", "England social care spend by setting and sector (in-house/external)",
              ("asc_expenditure_65_pre2015", "asc_expenditure_65_post2015",
               "asc_expenditure_18_64_pre2015", "asc_expenditure_18_64_post2015"),
              lambda a, b, c, d: provision.tidy_national_expenditure(
                  {"65+|pre": a, "65+|post": b, "18-64|pre": c, "18-64|post": d}),
              provision.NATIONAL_EXPENDITURE_SCHEMA),
        Table("unit_costs", "Council unit costs of adult social care, in-house vs external, 2008-09 to 2014-15 "
              "(cash and real terms), with England rows",
              (*_UNIT_COST_INPUTS, unit_costs.DEFLATOR_DATASET, "ascof_trend", "ascof_official_2020_21"),
              _unit_costs, unit_costs.UNIT_COSTS_SCHEMA),
        Table("unit_costs_reconciliation", "Unit-cost tables: each England total against the sum of council rows",
              _UNIT_COST_INPUTS, _unit_cost_reconciliation, unit_costs.RECONCILIATION_SCHEMA),
        Table("gdp_deflators", "HM Treasury GDP deflators by financial year (2022-23 = 100)",
              (unit_costs.DEFLATOR_DATASET,), unit_costs.tidy_deflators, unit_costs.DEFLATORS_SCHEMA),
        Table("nhs_cic_suppliers", "Suppliers paid by NHS bodies c. 2010-2020, one row per organisation, with CIC flag",
              ("nhs_cic_supplier_audit",), cic.tidy_suppliers, cic.SUPPLIERS_SCHEMA),
    )
}


def validate(df: pd.DataFrame, schema: pa.DataFrameSchema, what: str) -> pd.DataFrame:
    """Validate lazily; on failure raise SchemaError naming the columns, checks and first bad rows."""
    try:
        return schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        column_cases = cases[cases["schema_context"].eq("Column")]
        frame_cases = cases[~cases["schema_context"].eq("Column")]
        lines = [f"{what} failed schema validation."]
        if len(column_cases):
            columns = sorted({str(c) for c in column_cases["column"].dropna().unique()})
            lines.append(f"Columns with problems: {columns}")
            lines.append(column_cases.head(10)[["column", "check", "failure_case", "index"]].to_string(index=False))
        if len(frame_cases):
            checks = sorted({str(c) for c in frame_cases["check"].dropna().unique()})
            lines.append(f"Table-level checks failed: {checks}")
        indices = [i for i in cases["index"].dropna().unique().tolist() if i in df.index][:5]
        if indices:
            lines.append("First offending rows:")
            lines.append(df.loc[indices].to_string())
        raise SchemaError("\n".join(lines)) from None


def _cache_key(table: Table) -> str:
    catalogue = load_catalogue()
    shas = [catalogue[name].sha256 for name in table.inputs]
    payload = json.dumps({"inputs": shas, "transform": TRANSFORM_VERSION, "version": __version__})
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _cache_path(table: Table) -> Path:
    return config.cache_dir() / "tidy" / f"{table.name}-{_cache_key(table)}.parquet"


def _hash_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _cached_status(path: Path) -> str:
    """'ok' if the parquet file matches the hash recorded when it was written; otherwise why not."""
    if not path.is_file():
        return "not built"
    recorded_file = _hash_path(path)
    try:
        recorded = recorded_file.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return "no recorded hash"
    return "ok" if recorded == sha256_of(path) else "MISMATCH"


def _write_cache(path: Path, df: pd.DataFrame) -> None:
    """Write the parquet file and then its hash; a failure to write leaves the table uncached."""
    try:
        with atomic.atomic_path(path) as tmp:
            df.to_parquet(tmp, index=False)
            digest = sha256_of(tmp)
        atomic.write_text(_hash_path(path), digest + "\n")
    except OSError as exc:
        log.warning("Could not cache table at %s (%s); it will be rebuilt next time. Check ANALYSIS_CACHE_DIR.",
                    path, exc.strerror or exc)


def _read_verified(name: str, path: Path) -> pd.DataFrame | None:
    """The cached table if its file matches its recorded hash and reads; otherwise None (rebuild)."""
    status = _cached_status(path)
    if status == "not built":
        return None
    if status == "no recorded hash":
        log.warning("Cached table %r (%s) has no recorded hash (written by an older version, or its hash "
                    "file was lost): rebuilding it from the verified raw files.", name, path.name)
        return None
    if status != "ok":
        log.warning("Cached table %r (%s) does not match the hash recorded when it was written: it was "
                    "altered or is corrupt. Rebuilding it from the verified raw files.", name, path.name)
        return None
    try:
        return pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        log.warning("Cached table %r (%s) cannot be read (%s); rebuilding it from the verified raw files.",
                    name, path.name, exc)
        return None


def verify_tables() -> list[dict[str, str]]:
    """Re-hash every cached tidy table against the hash recorded when it was written."""
    return [{"name": name, "status": _cached_status(_cache_path(table)), "path": str(_cache_path(table))}
            for name, table in TABLES.items()]


def prepare_all() -> None:
    """Fetch and verify every catalogue file and build or verify every tidy table.

    The runner calls this before rendering, so corrupt or missing data stops the run with a
    DataError (exit code 2) before any report is rendered, instead of failing every report.
    """
    for dataset in load_catalogue():
        fetch(dataset.name, progressbar=False)
    for name in TABLES:
        load(name)


_MEMORY: dict[str, pd.DataFrame] = {}


def _copy(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy(deep=True)
    out.attrs = copy.deepcopy(df.attrs)
    return out


def load(name: str) -> pd.DataFrame:
    """Return tidy table ``name`` (see ``TABLES``), validated and cached as parquet.

    Within one process a table is read once and kept in memory (keyed by its
    cache key, so a data update is picked up); callers always get a copy, so a
    report that modifies its table cannot affect the next report on a warm kernel.
    """
    if name not in TABLES:
        raise DataError(f"Unknown table {name!r}. Tables: {', '.join(sorted(TABLES))}. "
                        "Raw catalogue files are read with read_raw(name).")
    table = TABLES[name]
    catalogue = load_catalogue()
    for input_name in table.inputs:
        provenance.record_dataset(catalogue[input_name].provenance())
    path = _cache_path(table)
    key = str(path)
    if key in _MEMORY:
        return _copy(_MEMORY[key])
    cached = _read_verified(name, path)
    if cached is not None:
        _MEMORY[key] = cached
        return _copy(cached)
    raws = [read_raw(input_name) for input_name in table.inputs]
    df = table.build(*raws)
    attrs = dict(df.attrs)
    df = validate(df, table.schema, f"Table {name!r}")
    _write_cache(path, df)
    df.attrs.update(attrs)
    _MEMORY[key] = df
    return _copy(df)
