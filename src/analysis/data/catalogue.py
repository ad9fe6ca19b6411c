"""The data catalogue: what each public file is, where it comes from, its sha256.

``data/catalogue.yml`` is the single source of truth. This module validates it
into typed objects so a typo in the catalogue fails loudly, and derives each
file's pinned download URL (the raw file at a fixed commit).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from urllib.parse import quote

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from analysis import config
from analysis.errors import DataError

SHA256 = re.compile(r"^[0-9a-f]{64}$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")


class Source(BaseModel):
    """A public repository snapshot that holds one or more of the files."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str
    title: str
    repository: str
    commit: str
    snapshot_date: str
    mirror_folder: str
    publisher: str
    licence: str

    @field_validator("commit")
    @classmethod
    def _full_commit(cls, value: str) -> str:
        if not COMMIT.match(value):
            raise ValueError("commit must be a full 40-character hex sha so the URL is pinned")
        return value


class Dataset(BaseModel):
    """One file in the catalogue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    title: str
    source: Source
    path: str = Field(description="Path of the file inside the source repository")
    filename: str = Field(description="File name in the mirror folder and the cache")
    sha256: str
    format: str
    coverage: str
    citation: str
    caveats: tuple[str, ...] = ()
    columns: dict[str, str] = Field(default_factory=dict)

    @field_validator("sha256")
    @classmethod
    def _hex_sha(cls, value: str) -> str:
        if not SHA256.match(value):
            raise ValueError("sha256 must be 64 lowercase hex characters")
        return value

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in {"csv", "xlsx"}:
            raise ValueError("format must be csv or xlsx")
        return value

    @property
    def url(self) -> str:
        """The pinned URL: the raw file at the catalogue's commit."""
        owner_repo = self.source.repository
        return (
            f"https://raw.githubusercontent.com/{owner_repo}/{self.source.commit}/"
            f"{quote(self.path)}"
        )

    @property
    def publisher(self) -> str:
        return self.source.publisher

    @property
    def licence(self) -> str:
        return self.source.licence

    def mirror_path(self, mirror: Path) -> Path:
        return mirror / self.source.mirror_folder / self.filename

    def provenance(self) -> dict[str, str]:
        """The facts a report prints about this file."""
        return {
            "name": self.name,
            "title": self.title,
            "publisher": self.publisher,
            "licence": self.licence,
            "repository": self.source.repository,
            "commit": self.source.commit,
            "url": self.url,
            "sha256": self.sha256,
        }


class Catalogue(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    datasets: dict[str, Dataset]

    @model_validator(mode="after")
    def _unique_files(self) -> Catalogue:
        seen: dict[tuple[str, str], str] = {}
        for name, ds in self.datasets.items():
            key = (ds.source.mirror_folder, ds.filename)
            if key in seen:
                raise ValueError(f"datasets {seen[key]} and {name} point at the same file")
            seen[key] = name
        return self

    def __getitem__(self, name: str) -> Dataset:
        try:
            return self.datasets[name]
        except KeyError:
            known = ", ".join(sorted(self.datasets))
            raise DataError(f"Unknown dataset {name!r}. Known datasets: {known}") from None

    def __iter__(self):
        return iter(self.datasets.values())

    def names(self) -> list[str]:
        return sorted(self.datasets)


def parse_catalogue(raw: dict) -> Catalogue:
    """Validate the YAML structure into a Catalogue (sources resolved into datasets)."""
    if not isinstance(raw, dict) or "sources" not in raw or "datasets" not in raw:
        raise DataError("catalogue.yml must have top-level 'sources' and 'datasets' mappings")
    try:
        sources = {key: Source(key=key, **value) for key, value in raw["sources"].items()}
        datasets = {}
        for name, value in raw["datasets"].items():
            value = dict(value)
            source_key = value.pop("source", None)
            if source_key not in sources:
                raise DataError(f"catalogue dataset {name!r} names unknown source {source_key!r}")
            datasets[name] = Dataset(name=name, source=sources[source_key], **value)
        return Catalogue(datasets=datasets)
    except ValidationError as exc:
        raise DataError(f"catalogue.yml is invalid:\n{exc}") from None


@functools.lru_cache(maxsize=4)
def _load_catalogue(path: str, mtime: float) -> Catalogue:
    with open(path, encoding="utf-8") as fh:
        return parse_catalogue(yaml.safe_load(fh))


def load_catalogue(path: Path | None = None) -> Catalogue:
    """Read and validate the catalogue (cached until the file changes)."""
    path = Path(path) if path else config.catalogue_path()
    if not path.is_file():
        raise DataError(f"Data catalogue not found at {path}")
    return _load_catalogue(str(path), path.stat().st_mtime)
