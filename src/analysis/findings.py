"""Key findings: the plain-English sentences a report opens with.

Domain modules build :class:`Finding` objects from their results (never typed
into a notebook); ``report.key_findings`` shows them first and records them so
the run index can read like a briefing. A finding carries its number, its
interval (or the reason it has none, e.g. a count from a register), its source,
and one clause on what it cannot show, because a reader who reads only the key
findings must not come away believing more than the evidence supports.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Finding:
    """One key finding.

    ``text`` states the finding in the reader's units and says a difference only when the
    interval supports it; ``limitation`` is one clause on what it cannot show; ``source``
    names the dataset(s) or evidence rows. ``value``/``low``/``high`` are the number behind
    the sentence; ``no_interval_reason`` says why there is no interval when there is none.
    """

    key: str
    text: str
    source: str
    limitation: str
    value: float | None = None
    low: float | None = None
    high: float | None = None
    level: float | None = None
    unit: str = ""
    no_interval_reason: str = ""

    def __post_init__(self):
        for name in ("key", "text", "source", "limitation"):
            if not str(getattr(self, name)).strip():
                raise ValueError(f"Finding {self.key or '?'}: '{name}' must not be empty")
        has_interval = self.low is not None and self.high is not None
        if self.value is not None and not has_interval and not self.no_interval_reason:
            raise ValueError(f"Finding {self.key}: a number needs an interval or a reason it has none")
        if has_interval:
            finite = [v for v in (self.low, self.high, self.value) if v is not None]
            if not all(math.isfinite(v) for v in finite):
                raise ValueError(f"Finding {self.key}: the number and its interval must be finite")
            if self.low > self.high:
                raise ValueError(f"Finding {self.key}: interval low {self.low} exceeds high {self.high}")
            if self.value is not None and not (self.low <= self.value <= self.high):
                raise ValueError(f"Finding {self.key}: value {self.value} lies outside its interval "
                                 f"{self.low} to {self.high}")

    @property
    def has_interval(self) -> bool:
        return self.low is not None and self.high is not None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def clear_difference(low: float | None, high: float | None) -> bool:
    """True only when the interval excludes zero (the only case in which a difference may be stated)."""
    return low is not None and high is not None and (low > 0 or high < 0)


def difference_phrase(what: str, group: str, reference: str, estimate: float, low: float, high: float, *,
                      unit: str = "pp", level: float | None = None, higher: str = "higher",
                      lower: str = "lower", directional: bool = False) -> str:
    """A sentence or chart title that states a difference only when its interval supports it.

    ``estimate`` is a difference, ``group`` minus ``reference`` (zero means none); express a ratio as a
    percentage difference first.

    'Burnout: community social enterprises 3.2 pp lower than community trusts (95% interval -5.4 pp to -1.0 pp)'
    or 'Burnout: no clear difference between community social enterprises and community trusts (95%
    interval -1.1 pp to +2.0 pp)'. ``higher``/``lower`` let the caller say 'more expensive'/'cheaper'.

    ``directional=True`` words the interval in the same direction as the sentence, so a reader cannot take a
    signed bound the wrong way round: 'third-sector providers 4.6 pp lower than council-run providers (95%
    interval 1.6 to 7.3 pp lower)', or 'no clear difference between third-sector providers and council-run
    providers (third-sector providers 0.8 pp lower; 95% interval 4.3 pp lower to 3.3 pp higher)'.
    """
    from analysis.precision import decimals, fmt

    lvl = f"{level:.0%} " if level else ""
    places = decimals(estimate, low, high)
    if directional:
        def size_of(value: float) -> str:
            return fmt(abs(value), "" if unit == "pp" else unit, places=places) + (" pp" if unit == "pp" else "")

        def bare(value: float) -> str:
            return fmt(abs(value), "" if unit in ("pp", "%") else unit, places=places)

        def side(value: float) -> str:
            return higher if value > 0 else lower if value < 0 else ""

        if not clear_difference(low, high):
            said = f"{group} {size_of(estimate)} {side(estimate)}; " if side(estimate) else ""
            return (f"{what}: no clear difference between {group} and {reference} ({said}{lvl}interval "
                    f"{size_of(low)} {lower} to {size_of(high)} {higher})")
        direction = side(estimate)
        near, far = sorted((abs(low), abs(high)))
        end = " pp" if unit == "pp" else ("%" if unit == "%" else "")
        return (f"{what}: {group} {size_of(estimate)} {direction} than {reference} ({lvl}interval "
                f"{bare(near)} to {bare(far)}{end} {direction})")
    interval = f"{lvl}interval {fmt(low, unit, places=places)} to {fmt(high, unit, places=places)}"
    if not clear_difference(low, high):
        return f"{what}: no clear difference between {group} and {reference} ({interval})"
    size = fmt(abs(estimate), "" if unit == "pp" else unit, places=places) + (" pp" if unit == "pp" else "")
    direction = higher if estimate > 0 else lower
    return f"{what}: {group} {size} {direction} than {reference} ({interval})"
