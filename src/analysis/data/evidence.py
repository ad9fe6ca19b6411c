"""The evidence register: published figures and the claims they bear on.

``data/evidence/figures.csv`` holds every published number the suite uses that
does not come from a dataset in the catalogue (source, organisation, URL, year
and verification status on every row). ``data/evidence/claims.csv`` lists the
quantitative claims in the source articles, who made them and when, the kind
of claim (:data:`CLAIM_KINDS`), the evidence rows that bear on each, and the
analysis that tests it.

``lower``/``upper`` are *not* confidence intervals: ``interval_kind`` says what
they are (wording bounds such as "over 110", or ranges such as 3-5 years).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from analysis import config, provenance
from analysis.errors import DataError, SchemaError

VERIFICATION_LEVELS = ["found_in_source", "secondary_report", "unverified"]
INTERVAL_KINDS = ["none", "wording_bound", "range", "confidence_interval"]
TOPICS = ["mutuals", "nao_vfm", "personal_budgets"]
CLAIM_KINDS = ["outcome", "audit finding", "programme"]
"""The kind of claim (``kind`` in ``claims.csv``): *outcome*, what a reform does for people or services (productivity,
satisfaction, quality, cost, savings); *audit finding*, an auditor's own finding about a programme (its risks,
contracts, objectives), where "supported" means the finding holds, not that the programme works; *programme*,
programme facts, counts, forecasts, opinions and illustrations. Reports tally their verdicts by kind
(:func:`analysis.claims.verdict_groups`), so verdicts on programme facts or audit findings are not read as verdicts
on what the reform achieves."""

FIGURES_SCHEMA = pa.DataFrameSchema(
    {
        "id": pa.Column(str, pa.Check.str_matches(r"^(MUT|NAO|PB)-\d{3}$"), unique=True),
        "topic": pa.Column(str, pa.Check.isin(TOPICS)),
        "claim_or_measure": pa.Column(str),
        "value": pa.Column(float, nullable=True),
        "unit": pa.Column(str, nullable=True),
        "lower": pa.Column(float, nullable=True),
        "upper": pa.Column(float, nullable=True),
        "n": pa.Column(float, pa.Check.ge(0), nullable=True),
        "group": pa.Column(str, nullable=True),
        "comparator": pa.Column(str, nullable=True),
        "comparator_value": pa.Column(str, nullable=True),
        "year": pa.Column(str),
        "source_title": pa.Column(str),
        "source_org": pa.Column(str, nullable=True),
        "originator": pa.Column(str),
        "source_url": pa.Column(str, nullable=True),
        "quote_excerpt": pa.Column(str, nullable=True),
        "verification": pa.Column(str, pa.Check.isin(VERIFICATION_LEVELS)),
        "interval_kind": pa.Column(str, pa.Check.isin(INTERVAL_KINDS)),
        "verification_note": pa.Column(str, nullable=True),
    },
    checks=[
        pa.Check(lambda d: d["verification"].ne("found_in_source") | d["source_url"].notna(),
                 error="a row marked found_in_source must give its source URL"),
        pa.Check(lambda d: d["verification"].eq("unverified") | d["source_url"].notna(),
                 error="every verified row needs a source URL"),
        pa.Check(lambda d: d["lower"].isna() | d["upper"].isna() | (d["lower"] <= d["upper"]),
                 error="lower must not exceed upper"),
        pa.Check(lambda d: d["interval_kind"].eq("none") | d["lower"].notna() | d["upper"].notna(),
                 error="interval_kind set but no bound given"),
    ],
    strict=True,
)

CLAIMS_SCHEMA = pa.DataFrameSchema(
    {
        "claim_id": pa.Column(str, pa.Check.str_matches(r"^CL-(MUT|NAO|PB)-\d{2}$"), unique=True),
        "topic": pa.Column(str, pa.Check.isin(TOPICS)),
        "speaker": pa.Column(str),
        "speaker_role": pa.Column(str),
        "claimant_orgs": pa.Column(str),
        "date": pa.Column(str),
        "publication": pa.Column(str),
        "source_url": pa.Column(str, pa.Check.str_startswith("http")),
        "seed_file": pa.Column(str),
        "claim_text": pa.Column(str),
        "quantity": pa.Column(str),
        "kind": pa.Column(str, pa.Check.isin(CLAIM_KINDS)),
        "evidence_ids": pa.Column(str),
        "analysis": pa.Column(str, pa.Check.str_matches(r"^analysis\.[a-z_.]+:[a-z_]+$")),
        "testable_with_public_data": pa.Column(str, pa.Check.isin(["yes", "partly", "no"])),
    },
    strict=True,
)


def _file_sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _read(path: Path, schema: pa.DataFrameSchema, numeric: tuple[str, ...] = ()) -> pd.DataFrame:
    if not path.is_file():
        raise DataError(f"Evidence register file not found: {path}")
    df = pd.read_csv(path, dtype=str, keep_default_na=False, na_values=[""])
    missing = set(schema.columns) - set(df.columns)
    if missing:
        raise SchemaError(f"{path.name} is missing columns: {sorted(missing)}")
    for col in numeric:
        converted = pd.to_numeric(df[col], errors="coerce")
        bad = df[col].notna() & converted.isna()
        if bad.any():
            first = df.loc[bad, ["id", col]].head(5).to_dict("records") if "id" in df else []
            raise SchemaError(f"{path.name}: column {col!r} has non-numeric values, e.g. {first}")
        df[col] = converted.astype(float)
    try:
        return schema.validate(df, lazy=True)
    except pa.errors.SchemaErrors as exc:
        raise SchemaError(f"{path.name} failed validation:\n{exc.failure_cases.head(10).to_string()}") from None


def load_figures(path: Path | None = None) -> pd.DataFrame:
    path = Path(path) if path else config.evidence_dir() / "figures.csv"
    df = _read(path, FIGURES_SCHEMA, numeric=("value", "lower", "upper", "n"))
    provenance.record_dataset({"name": "evidence_figures", "title": "Evidence register: published figures",
                               "publisher": "This project (compiled from the sources named in each row)",
                               "url": "data/evidence/figures.csv", "sha256": _file_sha(path),
                               "licence": "Quotations for research; see each source"})
    return df


def load_claims(path: Path | None = None) -> pd.DataFrame:
    path = Path(path) if path else config.evidence_dir() / "claims.csv"
    df = _read(path, CLAIMS_SCHEMA)
    provenance.record_dataset({"name": "evidence_claims", "title": "Evidence register: claims in the source articles",
                               "publisher": "This project (from the articles in shared/seeds)",
                               "url": "data/evidence/claims.csv", "sha256": _file_sha(path),
                               "licence": "Quotations for research; see each source"})
    return df


def evidence_rows(figures: pd.DataFrame, ids: list[str] | str) -> pd.DataFrame:
    """Rows by id (a list or a ';'-separated string), recorded as cited by the report."""
    if isinstance(ids, str):
        ids = [i.strip() for i in ids.split(";") if i.strip()]
    unknown = sorted(set(ids) - set(figures["id"]))
    if unknown:
        raise DataError(f"Evidence ids not in the register: {unknown}")
    rows = figures.set_index("id").loc[ids].reset_index()
    cited = ["id", "claim_or_measure", "value", "unit", "year", "source_title", "source_org", "originator",
             "source_url", "verification"]
    # itertuples, not to_dict("records"): the same records in a fifth of the time (the explorers
    # resolve their inputs, and so cite these rows, on every change of a control).
    provenance.record_evidence([dict(zip(cited, values)) for values in rows[cited].itertuples(index=False, name=None)])
    return rows


def figure(figures: pd.DataFrame, fid: str) -> dict:
    """One evidence row as a dict, recorded as cited."""
    return evidence_rows(figures, [fid]).iloc[0].to_dict()
