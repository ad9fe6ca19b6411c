"""Fetch catalogue files: hash-checked downloads (pooch) or a local mirror, cached once.

A file is fetched into ``<cache>/raw/<mirror_folder>/<filename>`` only after its
sha256 matches the catalogue; a corrupt or tampered file is never cached. With
``ANALYSIS_DATA_MIRROR`` set, the same file is copied from the mirror instead of
downloaded (and still checked).
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pooch

from analysis import config
from analysis.data.catalogue import Dataset, load_catalogue
from analysis.errors import ChecksumError, DataError, DataUnavailableError, OutputError

log = logging.getLogger(__name__)


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass
class _RecordingDownloader:
    """Wraps a pooch downloader to remember the hash of what it fetched.

    Pooch deletes a file whose hash does not match; remembering the actual hash
    lets the error name both hashes.
    """

    dataset: Dataset
    mirror: Path | None
    progressbar: bool = True
    actual_sha256: str | None = field(default=None, init=False)

    def __call__(self, url: str, output_file, pooch_obj, check_only: bool = False):
        if self.mirror is not None:
            source = self.dataset.mirror_path(self.mirror)
            if not source.is_file():
                raise DataUnavailableError(
                    f"Dataset {self.dataset.name!r}: {source} is missing from the mirror "
                    f"ANALYSIS_DATA_MIRROR={self.mirror}. The mirror must hold "
                    f"{self.dataset.source.mirror_folder}/{self.dataset.filename}."
                )
            shutil.copyfile(source, output_file)
        else:
            downloader = pooch.HTTPDownloader(progressbar=self.progressbar, timeout=60)
            try:
                downloader(url, output_file, pooch_obj)
            except Exception as exc:  # requests raises many types; all mean "unreachable"
                raise DataUnavailableError(
                    f"Could not download dataset {self.dataset.name!r} from {url}: {exc}.\n"
                    "No network? Either connect and run `python -m analysis data fetch`, or set "
                    "ANALYSIS_DATA_MIRROR to a folder laid out like shared/realdata "
                    "(<source folder>/<file name>) and run again."
                ) from exc
        self.actual_sha256 = sha256_of(Path(output_file))


def cached_path(dataset: Dataset) -> Path:
    return config.cache_dir() / "raw" / dataset.source.mirror_folder / dataset.filename


def fetch(name: str, *, progressbar: bool = True) -> Path:
    """Return a local, sha256-verified path to catalogue file ``name``.

    Raises ChecksumError (naming both hashes) when the file does not match the
    catalogue, and DataUnavailableError when neither network nor mirror can
    provide it.
    """
    dataset = load_catalogue()[name]
    target = cached_path(dataset)
    if target.is_file() and sha256_of(target) == dataset.sha256:
        return target
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _cache_unwritable(target.parent, exc) from None
    mirror = config.data_mirror()
    downloader = _RecordingDownloader(dataset, mirror, progressbar=progressbar and mirror is None)
    pooch_log = pooch.get_logger()
    previous_level = pooch_log.level
    if mirror is not None:
        log.info("Reading %s from mirror %s", dataset.name, mirror)
        pooch_log.setLevel(logging.WARNING)  # pooch would otherwise announce a "download"
    try:
        path = pooch.retrieve(
            url=dataset.url,
            known_hash=f"sha256:{dataset.sha256}",
            fname=dataset.filename,
            path=target.parent,
            downloader=downloader,
            progressbar=progressbar,
        )
    except DataError:
        raise
    except OSError as exc:  # the cache cannot be written (read-only, full, not a folder)
        raise _cache_unwritable(target.parent, exc) from None
    except ValueError as exc:
        if "hash" not in str(exc).lower():
            raise
        where = f"mirror {mirror}" if mirror else dataset.url
        raise ChecksumError(
            f"Dataset {dataset.name!r} from {where} failed its sha256 check: expected "
            f"{dataset.sha256}, got {downloader.actual_sha256}. The file was not cached. "
            "The source may have changed or the download was corrupted; do not use it "
            "until the catalogue is reviewed."
        ) from None
    finally:
        pooch_log.setLevel(previous_level)
    return Path(path)


def _cache_unwritable(folder: Path, exc: OSError) -> OutputError:
    return OutputError(f"Cannot write the data cache at {folder}: {exc.strerror or exc}. Free disk space, fix "
                       "the folder's permissions, or point ANALYSIS_CACHE_DIR at a writable folder.")


def verify_all() -> list[dict[str, str]]:
    """Re-hash every cached file against the catalogue; report status per dataset."""
    rows = []
    for dataset in load_catalogue():
        path = cached_path(dataset)
        if not path.is_file():
            status, actual = "not cached", ""
        else:
            actual = sha256_of(path)
            status = "ok" if actual == dataset.sha256 else "MISMATCH"
        rows.append({"name": dataset.name, "status": status, "path": str(path), "sha256": actual})
    return rows
