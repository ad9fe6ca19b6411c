"""Record what a run used, so every report can say where its numbers came from.

Loaders call :func:`record_dataset` and analyses call :func:`record_evidence`
as they go; the report's closing cell reads :func:`snapshot`. The recorder is a
plain in-memory object (creating it reads nothing and writes nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class _Recorder:
    datasets: dict[str, dict[str, str]] = field(default_factory=dict)
    evidence: dict[str, dict[str, Any]] = field(default_factory=dict)
    headlines: list[dict[str, Any]] = field(default_factory=list)
    simulated: list[str] = field(default_factory=list)
    findings: list[dict[str, Any]] = field(default_factory=list)
    verdicts: list[dict[str, str]] = field(default_factory=list)
    subject: str | None = None  # what this report is about, when a parameter narrows it (e.g. one council)

    def reset(self) -> None:
        self.subject = None
        self.datasets.clear()
        self.evidence.clear()
        self.headlines.clear()
        self.simulated.clear()
        self.findings.clear()
        self.verdicts.clear()


_RECORDER = _Recorder()


def record_dataset(info: dict[str, str]) -> None:
    _RECORDER.datasets[info["name"]] = dict(info)


def record_evidence(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        _RECORDER.evidence[str(row["id"])] = dict(row)


def record_headline(entry: dict[str, Any]) -> None:
    _RECORDER.headlines = [h for h in _RECORDER.headlines if h["key"] != entry["key"]]
    _RECORDER.headlines.append(dict(entry))


def record_findings(entries: list[dict[str, Any]]) -> None:
    """The report's key findings, in order (the run index shows them)."""
    _RECORDER.findings = [dict(e) for e in entries]


def record_verdicts(entries: list[dict[str, str]]) -> None:
    """Claim id and verdict for each claim the report judges (the run index counts them)."""
    known = {e["claim_id"] for e in entries}
    _RECORDER.verdicts = [v for v in _RECORDER.verdicts if v["claim_id"] not in known] + [dict(e) for e in entries]


def record_subject(text: str | None) -> None:
    _RECORDER.subject = text


def record_simulated(what: str) -> None:
    if what not in _RECORDER.simulated:
        _RECORDER.simulated.append(what)


def snapshot() -> dict[str, Any]:
    return {
        "datasets": list(_RECORDER.datasets.values()),
        "evidence": list(_RECORDER.evidence.values()),
        "headlines": list(_RECORDER.headlines),
        "simulated": list(_RECORDER.simulated),
        "findings": list(_RECORDER.findings),
        "verdicts": list(_RECORDER.verdicts),
        "subject": _RECORDER.subject,
    }


def reset() -> None:
    """Forget everything recorded (a new report starts)."""
    _RECORDER.reset()
