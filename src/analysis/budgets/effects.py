"""Effect sizes from arm-level summary data, with the conventions of R metafor's ``escalc``.

Binary outcomes (events ``a`` of ``n1`` in the budget arm, ``c`` of ``n2`` in the
comparison arm):

* ``RR``: log risk ratio, var = 1/a - 1/n1 + 1/c - 1/n2
* ``OR``: log odds ratio, var = 1/a + 1/b + 1/c + 1/d
* ``RD``: risk difference, var = p1(1-p1)/n1 + p2(1-p2)/n2

with 1/2 added to every cell of a table that has a zero cell (metafor's default
``add=1/2, to="only0"``) for RR and OR.

Continuous outcomes (means, SDs, sizes):

* ``MD``: mean difference, var = sd1^2/n1 + sd2^2/n2 (unpooled, metafor's default)
* ``SMD``: Hedges' g, d = (m1 - m2)/s_pooled corrected by the exact factor
  J = Gamma(m/2) / (sqrt(m/2) Gamma((m-1)/2)), m = n1 + n2 - 2;
  var = 1/n1 + 1/n2 + g^2 / (2 (n1 + n2))  (metafor's large-sample "LS" variance).

Every result says which scale it is on; ratios are pooled on the log scale and
back-transformed for display.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import special, stats

from analysis.errors import InputError

MEASURES = {
    "RR": "log risk ratio (budget vs comparison)",
    "OR": "log odds ratio (budget vs comparison)",
    "RD": "risk difference (budget minus comparison)",
    "MD": "mean difference (budget minus comparison)",
    "SMD": "standardised mean difference, Hedges' g (budget minus comparison)",
}
RATIO_MEASURES = {"RR", "OR"}


@dataclass(frozen=True)
class EffectSizes:
    measure: str
    yi: np.ndarray
    vi: np.ndarray
    convention: str

    def ci(self, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        z = stats.norm.ppf((1 + level) / 2)
        return self.yi - z * np.sqrt(self.vi), self.yi + z * np.sqrt(self.vi)

    def table(self, labels=None, level: float = 0.95) -> pd.DataFrame:
        lo, hi = self.ci(level)
        df = pd.DataFrame({"yi": self.yi, "vi": self.vi, "se": np.sqrt(self.vi), "ci_low": lo, "ci_high": hi})
        if labels is not None:
            df.insert(0, "study", list(labels))
        if self.measure in RATIO_MEASURES:
            df["ratio"] = np.exp(df["yi"])
            df["ratio_ci_low"] = np.exp(df["ci_low"])
            df["ratio_ci_high"] = np.exp(df["ci_high"])
        df.attrs.update(measure=self.measure, convention=self.convention)
        return df


def _arr(x, name: str) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(x, dtype=float))
    if np.any(~np.isfinite(arr)):
        raise InputError(f"{name} has missing or non-finite values")
    return arr


def binary(measure: str, a, n1, c, n2, *, add: float = 0.5) -> EffectSizes:
    """RR, OR or RD from events and arm sizes."""
    if measure not in {"RR", "OR", "RD"}:
        raise InputError(f"binary measure must be RR, OR or RD, not {measure!r}")
    a, n1, c, n2 = (_arr(v, k) for v, k in ((a, "events (budget arm)"), (n1, "n (budget arm)"),
                                          (c, "events (comparison arm)"), (n2, "n (comparison arm)")))
    if np.any(n1 <= 0) or np.any(n2 <= 0):
        raise InputError("arm sizes must be greater than 0")
    if np.any(a < 0) or np.any(c < 0):
        raise InputError("event counts cannot be negative")
    if np.any(a > n1) or np.any(c > n2):
        raise InputError("events cannot exceed the arm size (events > n)")
    b, d = n1 - a, n2 - c
    if measure == "RD":
        p1, p2 = a / n1, c / n2
        return EffectSizes("RD", p1 - p2, p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2, MEASURES["RD"])
    zero = (a == 0) | (b == 0) | (c == 0) | (d == 0)
    a, b, c, d = (np.where(zero, x + add, x) for x in (a, b, c, d))
    n1a, n2a = a + b, c + d
    if measure == "RR":
        return EffectSizes("RR", np.log(a / n1a) - np.log(c / n2a), 1 / a - 1 / n1a + 1 / c - 1 / n2a, MEASURES["RR"])
    return EffectSizes("OR", np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d, MEASURES["OR"])


def continuous(measure: str, m1, sd1, n1, m2, sd2, n2) -> EffectSizes:
    """MD or SMD (Hedges' g) from means, SDs and arm sizes."""
    if measure not in {"MD", "SMD"}:
        raise InputError(f"continuous measure must be MD or SMD, not {measure!r}")
    m1, sd1, n1, m2, sd2, n2 = (_arr(v, k) for v, k in ((m1, "mean (budget arm)"), (sd1, "SD (budget arm)"),
                                                      (n1, "n (budget arm)"), (m2, "mean (comparison arm)"),
                                                      (sd2, "SD (comparison arm)"), (n2, "n (comparison arm)")))
    if np.any(n1 <= 0) or np.any(n2 <= 0):
        raise InputError("arm sizes must be greater than 0")
    if np.any(sd1 <= 0) or np.any(sd2 <= 0):
        raise InputError("standard deviations must be greater than 0")
    if measure == "MD":
        return EffectSizes("MD", m1 - m2, sd1 ** 2 / n1 + sd2 ** 2 / n2, MEASURES["MD"])
    if np.any(n1 + n2 <= 3):
        raise InputError("SMD needs n1 + n2 > 3")
    m = n1 + n2 - 2
    sp = np.sqrt(((n1 - 1) * sd1 ** 2 + (n2 - 1) * sd2 ** 2) / m)
    J = np.exp(special.gammaln(m / 2) - np.log(np.sqrt(m / 2)) - special.gammaln((m - 1) / 2))
    g = J * (m1 - m2) / sp
    return EffectSizes("SMD", g, 1 / n1 + 1 / n2 + g ** 2 / (2 * (n1 + n2)), MEASURES["SMD"])


def from_percentages(measure: str, p1: float, n1: int, p2: float, n2: int) -> tuple[EffectSizes, str]:
    """Binary effect size when a source gives percentages and arm sizes only.

    Events are reconstructed as round(p * n); the note says so, because rounding
    of the published percentages feeds into the result.
    """
    if not (0 <= p1 <= 100 and 0 <= p2 <= 100):
        raise InputError("percentages must be between 0 and 100")
    a, c = round(p1 / 100 * n1), round(p2 / 100 * n2)
    note = (f"events reconstructed from published percentages: {p1:g}% of {n1:,} = {a:,}; "
            f"{p2:g}% of {n2:,} = {c:,}")
    return binary(measure, a, n1, c, n2), note
