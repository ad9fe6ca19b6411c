"""The foregone-savings and retained-risk model, deterministic and Monte Carlo.

For a programme of contracts worth ``V`` a year for ``T`` years, shared by
``n`` enterprises:

* **Foregone savings.** In-house provision would have cut real cost by ``e``
  a year; the contracts required savings of ``s`` a year. In year ``t`` the
  commissioner pays ``V(1-s)^t`` where in-house would have cost ``V(1-e)^t``.
  The foregone saving is the difference.
* **Retained failure cost.** Each year each enterprise fails with probability
  ``h``; re-providing a failed service costs ``K`` times its annual contract
  value (``V/n``), of which the commissioner bears a share ``rho``. The failed
  service is re-provided, so the number at risk stays ``n``.

Both streams are discounted at ``r`` (Green Book) and summed:
``value at risk = sum_t [V((1-s)^t - (1-e)^t) + F_t (V/n) K rho] / (1+r)^t`` with
``F_t ~ Binomial(n, h)`` (expected value ``n h``). Positive values are money the
commissioner is worse off than under in-house provision.

All computations are vectorised over draws: one array operation per year.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize

from analysis.errors import InputError

UNCERTAIN_INPUTS = ("contract_value", "inhouse_efficiency", "contracted_savings", "failure_hazard",
                    "transition_cost", "risk_retained")
INPUT_LABELS = {
    "contract_value": "Annual contract value (£m)",
    "inhouse_efficiency": "In-house efficiency rate (a year)",
    "contracted_savings": "Contracted savings rate (a year)",
    "failure_hazard": "Provider-failure hazard (a year)",
    "transition_cost": "Transition cost on failure (share of annual value)",
    "risk_retained": "Share of failure cost retained by commissioner",
}


# --- Distributions -----------------------------------------------------------------

@dataclass(frozen=True)
class Distribution:
    """An uncertain input: how to draw it, its central value and its tornado low/high."""

    kind: str
    central: float
    low: float
    high: float
    params: tuple[float, ...] = ()
    description: str = ""

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        if self.kind == "constant":
            return np.full(n, self.central)
        if self.kind == "uniform":
            return rng.uniform(self.low, self.high, n)
        if self.kind == "triangular":
            if self.low == self.high:
                return np.full(n, self.central)
            return rng.triangular(self.low, self.central, self.high, n)
        if self.kind == "normal":
            mu, sd = self.params
            return rng.normal(mu, sd, n)
        if self.kind == "gamma_rate_probability":
            shape, scale = self.params
            return -np.expm1(-rng.gamma(shape, scale, n))
        raise InputError(f"Unknown distribution kind {self.kind!r}")


def constant(value: float) -> Distribution:
    return Distribution("constant", value, value, value, description=f"fixed at {value:g}")


def triangular(low: float, mode: float, high: float) -> Distribution:
    if not low <= mode <= high:
        raise InputError(f"triangular needs low <= mode <= high; got {low}, {mode}, {high}")
    return Distribution("triangular", mode, low, high, description=f"triangular({low:g}, {mode:g}, {high:g})")


def uniform(low: float, high: float) -> Distribution:
    if low > high:
        raise InputError(f"uniform needs low <= high; got {low}, {high}")
    return Distribution("uniform", (low + high) / 2, low, high, description=f"uniform({low:g}, {high:g})")


def normal(mu: float, sd: float) -> Distribution:
    if sd < 0:
        raise InputError("normal needs sd >= 0")
    return Distribution("normal", mu, mu - 1.6449 * sd, mu + 1.6449 * sd, (mu, sd),
                        description=f"normal({mu:g}, {sd:g})")


def hazard_from_counts(events: float, exposure: float, level: float = 0.90) -> Distribution:
    """Annual failure probability with the Jeffreys posterior of a Poisson rate."""
    if events < 0 or exposure <= 0:
        raise InputError("events must be >= 0 and exposure > 0")
    from scipy import stats

    shape, scale = events + 0.5, 1.0 / exposure
    lo_rate, hi_rate = stats.gamma.ppf([(1 - level) / 2, (1 + level) / 2], shape, scale=scale)
    to_p = lambda lam: float(-np.expm1(-lam))  # noqa: E731
    return Distribution("gamma_rate_probability", to_p(events / exposure), to_p(lo_rate), to_p(hi_rate),
                        (shape, scale), description=f"Jeffreys posterior of {events:g} closures / {exposure:g} home-years")


# --- The model ---------------------------------------------------------------------

@dataclass(frozen=True)
class ProgrammeTerms:
    """The inputs that are not uncertain in the model."""

    contract_years: int
    n_enterprises: int
    discount_rate: float

    def __post_init__(self):
        if self.contract_years < 1:
            raise InputError("contract_years must be at least 1")
        if self.n_enterprises < 1:
            raise InputError("n_enterprises must be at least 1")
        if not 0 <= self.discount_rate < 1:
            raise InputError("discount_rate must be in [0, 1)")


def _check_inputs(inputs: dict[str, np.ndarray]) -> None:
    missing = set(UNCERTAIN_INPUTS) - set(inputs)
    if missing:
        raise InputError(f"model inputs missing: {sorted(missing)}")
    if np.any(np.asarray(inputs["contract_value"]) < 0):
        raise InputError("contract value cannot be negative")
    for name in ("inhouse_efficiency", "contracted_savings", "failure_hazard", "risk_retained"):
        arr = np.asarray(inputs[name])
        if np.any((arr < 0) | (arr > 1)):
            raise InputError(f"{name} must be a fraction between 0 and 1")
    if np.any(np.asarray(inputs["transition_cost"]) < 0):
        raise InputError("transition cost cannot be negative")


def yearly_value_at_risk(inputs: dict[str, np.ndarray], terms: ProgrammeTerms,
                         rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
    """Discounted yearly streams, shape (draws, years).

    With ``rng`` the number of failures each year is drawn Binomial(n, h); without
    it the expected number ``n h`` is used (the deterministic model). The loop is
    over contract years (a handful); every operation inside is on all draws at once.
    """
    _check_inputs(inputs)
    value = np.atleast_1d(np.asarray(inputs["contract_value"], dtype=float))
    keep_s = 1.0 - np.atleast_1d(np.asarray(inputs["contracted_savings"], dtype=float))
    keep_e = 1.0 - np.atleast_1d(np.asarray(inputs["inhouse_efficiency"], dtype=float))
    h = np.atleast_1d(np.asarray(inputs["failure_hazard"], dtype=float))
    per_failure = (value / terms.n_enterprises) * np.asarray(inputs["transition_cost"], dtype=float) \
        * np.asarray(inputs["risk_retained"], dtype=float)
    draws = max(value.size, keep_s.size, keep_e.size, h.size, np.size(per_failure))
    years = terms.contract_years
    foregone = np.empty((years, draws))
    failure_cost = np.empty((years, draws))
    contract_path = np.ones(draws)
    inhouse_path = np.ones(draws)
    expected_failures = terms.n_enterprises * h
    for j in range(years):
        discount = (1.0 + terms.discount_rate) ** -(j + 1)
        contract_path = contract_path * keep_s
        inhouse_path = inhouse_path * keep_e
        foregone[j] = value * (contract_path - inhouse_path) * discount
        failures = expected_failures if rng is None else rng.binomial(terms.n_enterprises, h)
        failure_cost[j] = failures * per_failure * discount
    foregone, failure_cost = foregone.T, failure_cost.T
    return {"foregone_savings": foregone, "failure_cost": failure_cost, "total": foregone + failure_cost}


def deterministic(central: dict[str, float], terms: ProgrammeTerms) -> dict[str, float]:
    """Net present values with every input at its central value."""
    streams = yearly_value_at_risk({k: np.array([v]) for k, v in central.items()}, terms)
    return {name: float(arr.sum()) for name, arr in streams.items()}


@dataclass
class MonteCarloResult:
    draws: dict[str, np.ndarray]  # per-draw NPVs
    cumulative_total: np.ndarray  # (draws, years) cumulative discounted value at risk
    level: float
    n: int
    seed: int
    inputs: dict[str, Distribution] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        lo_q, hi_q = (1 - self.level) / 2, (1 + self.level) / 2
        rows = []
        for name, arr in self.draws.items():
            rows.append({"component": name, "mean": arr.mean(), "median": np.median(arr),
                         "low": np.quantile(arr, lo_q), "high": np.quantile(arr, hi_q),
                         "sd": arr.std(ddof=1), "mc_standard_error": arr.std(ddof=1) / np.sqrt(arr.size),
                         "probability_positive": float((arr > 0).mean())})
        df = pd.DataFrame(rows)
        df.attrs.update(level=self.level, n=self.n, seed=self.seed)
        return df

    def fan(self, quantiles=(0.05, 0.25, 0.5, 0.75, 0.95)) -> pd.DataFrame:
        q = np.quantile(self.cumulative_total, quantiles, axis=0)
        df = pd.DataFrame(q.T, columns=[f"q{int(round(x * 100)):02d}" for x in quantiles])
        df.insert(0, "year", np.arange(1, q.shape[1] + 1))
        df["mean"] = self.cumulative_total.mean(axis=0)
        return df


def monte_carlo(distributions: dict[str, Distribution], terms: ProgrammeTerms, n: int, seed: int,
                level: float = 0.90, failure_counts: str = "binomial") -> MonteCarloResult:
    """Draw every uncertain input ``n`` times and evaluate the model once, vectorised."""
    if n < 1:
        raise InputError("the number of simulations must be at least 1")
    if not 0 < level < 1:
        raise InputError("level must be between 0 and 1")
    if failure_counts not in {"binomial", "expected"}:
        raise InputError("failure_counts must be 'binomial' or 'expected'")
    missing = set(UNCERTAIN_INPUTS) - set(distributions)
    if missing:
        raise InputError(f"distributions missing for: {sorted(missing)}")
    rng = np.random.default_rng(seed)
    draws_in = {name: distributions[name].sample(rng, n) for name in UNCERTAIN_INPUTS}
    draws_in["contract_value"] = np.clip(draws_in["contract_value"], 0, None)
    for name in ("inhouse_efficiency", "contracted_savings", "failure_hazard", "risk_retained"):
        draws_in[name] = np.clip(draws_in[name], 0, 1)
    draws_in["transition_cost"] = np.clip(draws_in["transition_cost"], 0, None)
    streams = yearly_value_at_risk(draws_in, terms, rng if failure_counts == "binomial" else None)
    npv = {name: arr.sum(axis=1) for name, arr in streams.items()}
    return MonteCarloResult(npv, np.cumsum(streams["total"], axis=1), level, n, seed, dict(distributions))


def tornado(distributions: dict[str, Distribution], terms: ProgrammeTerms) -> pd.DataFrame:
    """One-way sensitivity: total NPV with each input at its low and high, others central.

    Sorted by swing (largest first), the order a tornado chart draws them.
    """
    central = {name: d.central for name, d in distributions.items()}
    base = deterministic(central, terms)["total"]
    rows = []
    for name in UNCERTAIN_INPUTS:
        dist = distributions[name]
        at_low = deterministic({**central, name: dist.low}, terms)["total"]
        at_high = deterministic({**central, name: dist.high}, terms)["total"]
        rows.append({"input": name, "label": INPUT_LABELS[name], "low_value": dist.low,
                     "high_value": dist.high, "npv_at_low": at_low, "npv_at_high": at_high,
                     "swing": abs(at_high - at_low), "base": base})
    return pd.DataFrame(rows).sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


def switching_value(input_name: str, central: dict[str, float], terms: ProgrammeTerms,
                    bounds: tuple[float, float] = (0.0, 1.0)) -> float | None:
    """The value of ``input_name`` at which the contracts break even with in-house (total NPV = 0).

    Returns None when the total does not change sign within ``bounds``.
    """
    if input_name not in UNCERTAIN_INPUTS:
        raise InputError(f"Unknown input {input_name!r}; choose from {UNCERTAIN_INPUTS}")

    def f(x: float) -> float:
        return deterministic({**central, input_name: x}, terms)["total"]

    lo, hi = bounds
    f_lo, f_hi = f(lo), f(hi)
    if f_lo == 0:
        return lo
    if np.sign(f_lo) == np.sign(f_hi):
        return None
    return float(optimize.brentq(f, lo, hi, xtol=1e-12))


def switching_values(central: dict[str, float], terms: ProgrammeTerms) -> pd.DataFrame:
    """Break-even values for the rates and shares, with what each means."""
    specs = [
        ("contracted_savings", (0.0, 1.0),
         "annual savings the contracts would have had to require to match in-house provision"),
        ("inhouse_efficiency", (0.0, 1.0),
         "in-house efficiency rate at which the contracts break even (with the other inputs central)"),
        ("failure_hazard", (0.0, 1.0), "provider-failure hazard at which the contracts break even"),
    ]
    rows = []
    for name, bounds, meaning in specs:
        value = switching_value(name, central, terms, bounds)
        rows.append({"input": name, "label": INPUT_LABELS[name], "central": central[name],
                     "switching_value": value, "meaning": meaning,
                     "note": "" if value is not None else "no break-even within 0-100%"})
    return pd.DataFrame(rows)
