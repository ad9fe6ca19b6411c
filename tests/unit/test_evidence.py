"""The evidence register: schema, consistency with the shared evidence, and claims."""

from __future__ import annotations

import csv
import importlib

import pandas as pd
import pytest

from analysis import data
from analysis.data import evidence
from analysis.errors import DataError, SchemaError
from tests.conftest import SHARED


def test_figures_and_claims_pass_their_schemas():
    figures = data.load_figures()
    claims = data.load_claims()
    assert len(figures) >= 150 and len(claims) >= 15
    assert set(figures["verification"]) <= set(evidence.VERIFICATION_LEVELS)


def test_every_claim_cites_existing_evidence_and_a_real_analysis():
    figures = data.load_figures()
    for claim in data.load_claims().itertuples():
        ids = [i.strip() for i in claim.evidence_ids.split(";")]
        assert set(ids) <= set(figures["id"]), f"{claim.claim_id} cites unknown rows {set(ids) - set(figures['id'])}"
        module, func = claim.analysis.split(":")
        assert callable(getattr(importlib.import_module(module), func)), claim.analysis


def test_bounds_are_never_labelled_as_confidence_intervals_without_saying_so():
    figures = data.load_figures()
    with_bounds = figures[figures["lower"].notna() | figures["upper"].notna()]
    assert (with_bounds["interval_kind"] != "none").all()
    assert "confidence_interval" not in set(figures["interval_kind"])  # none of the published rows is a CI


@pytest.mark.skipif(not (SHARED / "evidence" / "figures.csv").is_file(),
                    reason="shared/evidence not beside the checkout")
def test_register_keeps_every_shared_row_and_changes_only_documented_ones():
    shared = {r["id"]: r for r in csv.DictReader(open(SHARED / "evidence" / "figures.csv", encoding="utf-8"))}
    ours = pd.read_csv(evidence.config.evidence_dir() / "figures.csv", dtype=str, keep_default_na=False).set_index("id")
    assert set(shared) <= set(ours.index)
    for fid, row in shared.items():
        mine = ours.loc[fid]
        changed = [k for k in row if k != "id" and row[k] != mine[k]]
        if changed:
            assert mine["verification_note"], f"{fid} changed {changed} without a verification note"


def test_unknown_evidence_id_is_an_error():
    with pytest.raises(DataError, match="NOPE-001"):
        data.evidence_rows(data.load_figures(), ["NOPE-001"])


def test_bad_register_rows_are_rejected(tmp_path):
    figures = pd.read_csv(evidence.config.evidence_dir() / "figures.csv", dtype=str, keep_default_na=False)
    bad = figures.copy()
    bad.loc[0, "verification"] = "probably"
    path = tmp_path / "figures.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(SchemaError, match="verification"):
        evidence.load_figures(path)
    bad = figures.copy()
    bad.loc[0, "value"] = "lots"
    bad.to_csv(path, index=False)
    with pytest.raises(SchemaError, match="non-numeric"):
        evidence.load_figures(path)
    bad = figures.drop(columns=["source_url"])
    bad.to_csv(path, index=False)
    with pytest.raises(SchemaError, match="source_url"):
        evidence.load_figures(path)
