"""The catalogue: complete, pinned, and matching the files it describes."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import yaml

from analysis import config
from analysis.data import catalogue
from analysis.data.download import sha256_of
from analysis.errors import DataError


def test_every_dataset_is_pinned_to_a_commit_and_hash():
    cat = catalogue.load_catalogue()
    assert len(cat.names()) >= 19
    for ds in cat:
        assert re.fullmatch(r"https://raw\.githubusercontent\.com/[^/]+/[^/]+/[0-9a-f]{40}/\S+", ds.url), ds.url
        assert re.fullmatch(r"[0-9a-f]{64}", ds.sha256)
        assert ds.publisher and ds.licence and ds.citation and ds.coverage
        assert ds.columns, f"{ds.name} has no data dictionary"


def test_url_encodes_spaces_in_paths():
    ds = catalogue.load_catalogue()["nhs_staff_survey"]
    assert " " not in ds.url and "%20" in ds.url


@pytest.mark.data
def test_catalogue_covers_every_file_in_the_mirror_and_hashes_match():
    mirror = os.environ.get("ANALYSIS_DATA_MIRROR")
    if not mirror:
        pytest.skip("needs ANALYSIS_DATA_MIRROR to compare against the mirror's files")
    mirror = Path(mirror)
    cat = catalogue.load_catalogue()
    described = {(ds.source.mirror_folder, ds.filename): ds for ds in cat}
    files = {(p.parent.name, p.name) for p in mirror.glob("*/*") if p.is_file() and p.suffix != ".md"}
    assert files == set(described), f"not catalogued: {files - set(described)}; missing: {set(described) - files}"
    for key, ds in described.items():
        assert sha256_of(mirror / key[0] / key[1]) == ds.sha256, ds.name


@pytest.mark.data
def test_catalogue_commits_match_the_mirror_manifests():
    mirror = os.environ.get("ANALYSIS_DATA_MIRROR")
    if not mirror:
        pytest.skip("needs ANALYSIS_DATA_MIRROR to read the manifests")
    for ds in catalogue.load_catalogue():
        manifest = (Path(mirror) / ds.source.mirror_folder / "MANIFEST.md").read_text(encoding="utf-8")
        assert ds.source.commit in manifest, f"{ds.name}: commit {ds.source.commit} not in its MANIFEST.md"
        assert ds.source.repository in manifest


def test_invalid_catalogue_is_rejected_with_a_clear_message(tmp_path):
    raw = yaml.safe_load(config.catalogue_path().read_text())
    raw["datasets"]["ascof_trend"]["sha256"] = "not-a-hash"
    with pytest.raises(DataError, match="sha256 must be 64"):
        catalogue.parse_catalogue(raw)
    raw = yaml.safe_load(config.catalogue_path().read_text())
    raw["datasets"]["ascof_trend"]["source"] = "nowhere"
    with pytest.raises(DataError, match="unknown source 'nowhere'"):
        catalogue.parse_catalogue(raw)


def test_unknown_dataset_names_the_known_ones():
    with pytest.raises(DataError, match="Unknown dataset 'ascof'.*ascof_trend"):
        catalogue.load_catalogue()["ascof"]


def test_committed_data_register_is_up_to_date():
    from analysis import config
    from analysis.data.register import render_register

    committed = (config.project_root() / "docs" / "data_register.md").read_text(encoding="utf-8")
    assert committed == render_register(), "docs/data_register.md is stale: run `make register` and commit it"


def test_data_register_covers_every_dataset_and_its_caveats():
    from analysis.data.catalogue import load_catalogue
    from analysis.data.register import render_register

    text = render_register()
    for ds in load_catalogue():
        assert f"### {ds.name}" in text and ds.sha256 in text and ds.url in text
        assert all(c in text for c in ds.caveats)
    assert "CL-NAO-01" in text and "Evidence register" in text
