"""Generate the data register (docs/data_register.md) from the catalogue.

The register is what a reader checks first: what each dataset is, who
published it, where exactly the suite downloads it from, its coverage and its
caveats, and the columns the suite uses. It is generated, never edited by
hand; a test fails if the committed file is out of date.
"""

from __future__ import annotations

from pathlib import Path

from analysis import atomic, config
from analysis.data.catalogue import load_catalogue
from analysis.data.evidence import load_claims, load_figures
from analysis.data.tables import TABLES


def render_register() -> str:
    catalogue = load_catalogue()
    lines = [
        "# Data register",
        "",
        "Generated from `data/catalogue.yml` by `python -m analysis data register`. Do not edit by hand.",
        "",
        "Every dataset is downloaded from the pinned URL below (the raw file at a fixed commit of the public "
        "repository that holds it), checked against its sha256 and cached outside git. Set "
        "`ANALYSIS_DATA_MIRROR` to read the same files from a local folder instead.",
        "",
        "| Dataset | Publisher | Coverage |",
        "|---|---|---|",
    ]
    for ds in catalogue:
        lines.append(f"| [`{ds.name}`](#{ds.name}) {ds.title} | {ds.publisher} | {ds.coverage} |")
    lines += ["", "## Tidy tables", "",
              "`analysis.data.load(name)` builds these from the files, validates them with a schema and caches them "
              "as parquet.", "", "| Table | What | Built from |", "|---|---|---|"]
    for name, table in TABLES.items():
        lines.append(f"| `{name}` | {table.description} | {', '.join(f'`{i}`' for i in table.inputs)} |")
    lines += ["", "## Datasets", ""]
    for ds in catalogue:
        lines += [
            f"### {ds.name}",
            "",
            f"**{ds.title}**",
            "",
            f"- Publisher: {ds.publisher}",
            f"- Licence: {ds.licence}",
            f"- Citation: {ds.citation}",
            f"- Source: `{ds.source.repository}` at commit `{ds.source.commit}` (snapshot {ds.source.snapshot_date}), "
            f"path `{ds.path}`",
            f"- Pinned URL: <{ds.url}>",
            f"- sha256: `{ds.sha256}`",
            f"- Format: {ds.format}; coverage: {ds.coverage}",
            "",
            "Caveats:",
            "",
        ]
        lines += [f"- {c}" for c in ds.caveats] or ["- none recorded"]
        lines += ["", "Columns used:", "", "| Column | Meaning |", "|---|---|"]
        lines += [f"| `{col}` | {meaning} |" for col, meaning in ds.columns.items()]
        lines.append("")
    lines += ["## Evidence register", "",
              "Published figures that are not in a dataset live in `data/evidence/figures.csv` (source title, "
              "organisation, URL, year and verification status on every row; `lower`/`upper` are wording bounds "
              "or ranges, never confidence intervals unless `interval_kind` says so). The claims in the source "
              "articles, who made them, their kind (outcome: what a reform achieves; audit finding: an auditor's own "
              "finding, where 'supported' means the finding holds; programme: facts, counts, forecasts and opinions), "
              "the evidence rows that bear on them and the analysis that tests them are in "
              "`data/evidence/claims.csv`. Reports tally their verdicts by kind.", ""]
    lines += _evidence_summary()
    return "\n".join(lines)


def _evidence_summary() -> list[str]:
    """Counts of evidence rows by topic and verification status, and the list of claims under test."""
    figures, claims = load_figures(), load_claims()
    counts = figures.groupby(["topic", "verification"]).size().unstack(fill_value=0)
    lines = [f"{len(figures)} figures and {len(claims)} claims. Figures by topic and verification status:", "",
             "| Topic | " + " | ".join(counts.columns) + " |", "|---|" + "---|" * len(counts.columns)]
    lines += [f"| {topic} | " + " | ".join(str(v) for v in row) + " |" for topic, row in counts.iterrows()]
    lines += ["", "Claims the suite tests (verdicts are computed in the reports, not stored here):", "",
              "| Claim | Who, when | Kind | Claim text | Evidence rows | Tested by |", "|---|---|---|---|---|---|"]
    for claim in claims.itertuples():
        text = str(claim.claim_text).replace("|", "\\|")
        lines.append(f"| {claim.claim_id} | {claim.speaker}, {claim.date} | {claim.kind} | {text} | "
                     f"{str(claim.evidence_ids).replace(';', ', ')} | `{claim.analysis}` |")
    lines.append("")
    return lines


def write_register(path: Path | None = None) -> Path:
    path = Path(path) if path else config.project_root() / "docs" / "data_register.md"
    atomic.write_text(path, render_register())
    return path
