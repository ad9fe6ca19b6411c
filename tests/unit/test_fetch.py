"""Fetching: hash checks, mirrors, and the errors a researcher sees."""

from __future__ import annotations

from pathlib import Path

import pooch
import pytest

from analysis.data import catalogue
from analysis.data import download as fetch
from analysis.errors import ChecksumError, DataUnavailableError

NAME = "cqc_care_homes_and_beds"  # a small file


def _mirror_with(tmp_path: Path, content: bytes | None) -> Path:
    ds = catalogue.load_catalogue()[NAME]
    folder = tmp_path / "mirror" / ds.source.mirror_folder
    folder.mkdir(parents=True)
    if content is not None:
        (folder / ds.filename).write_bytes(content)
    return tmp_path / "mirror"


def test_sha256_mismatch_names_dataset_and_both_hashes_and_caches_nothing(tmp_path, monkeypatch, isolated_cache):
    bad = b"year,ownership\n2011,For-profit\n"
    mirror = _mirror_with(tmp_path, bad)
    monkeypatch.setenv("ANALYSIS_DATA_MIRROR", str(mirror))
    ds = catalogue.load_catalogue()[NAME]
    import hashlib

    actual = hashlib.sha256(bad).hexdigest()
    with pytest.raises(ChecksumError) as err:
        fetch.fetch(NAME, progressbar=False)
    message = str(err.value)
    assert NAME in message and ds.sha256 in message and actual in message
    assert not fetch.cached_path(ds).exists()
    assert not any(p.is_file() for p in isolated_cache.rglob("*")), "a partial or bad file was cached"


def test_missing_file_in_mirror_says_what_is_expected(tmp_path, monkeypatch, isolated_cache):
    mirror = _mirror_with(tmp_path, None)
    monkeypatch.setenv("ANALYSIS_DATA_MIRROR", str(mirror))
    with pytest.raises(DataUnavailableError, match="missing from the mirror"):
        fetch.fetch(NAME, progressbar=False)


def test_no_network_and_no_mirror_explains_the_fix(monkeypatch, isolated_cache):
    monkeypatch.delenv("ANALYSIS_DATA_MIRROR", raising=False)

    def offline(self, url, output_file, pooch_obj, check_only=False):
        import requests

        raise requests.exceptions.ConnectionError("Name or service not known")

    monkeypatch.setattr(pooch.HTTPDownloader, "__call__", offline)
    with pytest.raises(DataUnavailableError) as err:
        fetch.fetch(NAME, progressbar=False)
    message = str(err.value)
    assert "ANALYSIS_DATA_MIRROR" in message and "python -m analysis data fetch" in message
    assert not any(p.is_file() for p in isolated_cache.rglob("*"))


def test_mirror_that_is_not_a_folder_is_an_error(monkeypatch, tmp_path, isolated_cache):
    monkeypatch.setenv("ANALYSIS_DATA_MIRROR", str(tmp_path / "nope"))
    from analysis.errors import AnalysisError

    with pytest.raises(AnalysisError, match="is not a folder"):
        fetch.fetch(NAME, progressbar=False)


@pytest.mark.data
def test_fetch_from_mirror_caches_verified_copy_and_reuses_it(isolated_cache):
    path = fetch.fetch(NAME, progressbar=False)
    ds = catalogue.load_catalogue()[NAME]
    assert path == fetch.cached_path(ds) and fetch.sha256_of(path) == ds.sha256
    mtime = path.stat().st_mtime_ns
    assert fetch.fetch(NAME, progressbar=False).stat().st_mtime_ns == mtime


@pytest.mark.data
def test_corrupted_cache_is_replaced_and_verify_reports_mismatch(isolated_cache):
    path = fetch.fetch(NAME, progressbar=False)
    path.write_bytes(b"corrupted")
    statuses = {r["name"]: r["status"] for r in fetch.verify_all()}
    assert statuses[NAME] == "MISMATCH"
    fresh = fetch.fetch(NAME, progressbar=False)
    assert fetch.sha256_of(fresh) == catalogue.load_catalogue()[NAME].sha256
