"""The value-at-risk model of Right to Request, deterministic and Monte Carlo.

For a programme of contracts worth ``V`` a year for ``T`` years, shared by ``n``
enterprises, the model adds up what the commissioner pays under the contracts
beyond what the same services would have cost in-house:

* **Foregone savings.** In-house provision would have cut real cost by ``e`` a
  year; the contracts required savings of ``s`` a year. In year ``t`` the
  commissioner pays ``V(1-s)^t`` where in-house would have cost ``V(1-e)^t``.
  When the contracts match in-house (the NAO's literal finding) ``s`` is tied to
  ``e`` in every draw and this stream is exactly zero.
* **Extra failure cost.** Each year each spin-out fails with probability
  ``h_se`` and the same service run in-house would have closed with probability
  ``h_ih`` (in-house services close too). Re-providing a closed service costs
  ``K`` times its annual contract value (``V/n``); the commissioner bears a share
  ``rho`` of a spin-out's failure and all of an in-house closure. The stream is
  the difference, ``(V/n) K (rho F_se - F_ih)``, with ``F ~ Binomial(n, h)``
  closures a year (expected value ``n h``), so it can be negative when the
  in-house proxy closes more often.
* **Set-up cost.** A one-off cost of spinning out (public support to the staff
  groups), paid before the contracts start and not discounted.

``value at risk = C0 + sum_{t<=T} [V((1-s)^t - (1-e)^t) + (V/n) K (rho F_se,t - F_ih,t)] / (1+r)^t``.
Positive values are money the commissioner is worse off than under in-house
provision. The contract length ``T`` is itself uncertain (an integer per draw).

All computations are vectorised over draws: one array operation per contract year.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis.errors import InputError

UNCERTAIN_INPUTS = ("contract_value", "contract_years", "inhouse_efficiency", "contracted_savings",
                    "failure_hazard", "inhouse_failure_hazard", "transition_cost", "risk_retained", "setup_cost")
INPUT_LABELS = {
    "contract_value": "Annual contract value (£m)",
    "contract_years": "Contract length (years)",
    "inhouse_efficiency": "In-house efficiency gain (a year)",
    "contracted_savings": "Savings the contracts required (a year)",
    "failure_hazard": "Spin-out failure hazard (a year)",
    "inhouse_failure_hazard": "In-house closure hazard (a year)",
    "transition_cost": "Re-provision cost on closure (share of annual value)",
    "risk_retained": "Share of a spin-out failure's cost borne by the commissioner",
    "setup_cost": "One-off set-up support (£m)",
}
COMPONENTS = ("foregone_savings", "extra_failure_cost", "setup_cost", "total")
COMPONENT_LABELS = {
    "foregone_savings": "Foregone savings",
    "extra_failure_cost": "Extra failure cost (spin-outs minus in-house)",
    "setup_cost": "Set-up support",
    "total": "Total value at risk",
}
HAZARD_PAIR = ("failure_hazard", "inhouse_failure_hazard")
HAZARD_PAIR_KEY = "failure_hazards"
_FRACTIONS = ("inhouse_efficiency", "contracted_savings", "failure_hazard", "inhouse_failure_hazard", "risk_retained")
_Z90 = float(stats.norm.ppf(0.95))


# --- Distributions -----------------------------------------------------------------

@dataclass(frozen=True)
class Distribution:
    """An uncertain input: how to draw it, its central value and its tornado low/high.

    ``kind="tied"`` copies another input draw by draw (``params[0]`` names it): the
    contracted savings of contracts that match in-house efficiency.
    """

    kind: str
    central: float
    low: float
    high: float
    params: tuple = ()
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
        if self.kind == "integer_uniform":
            return rng.integers(int(self.low), int(self.high) + 1, n).astype(float)
        if self.kind == "normal":
            mu, sd = self.params
            return rng.normal(mu, sd, n)
        if self.kind == "gamma_rate_probability":
            shape, scale = self.params
            return -np.expm1(-rng.gamma(shape, scale, n))
        raise InputError(f"Unknown distribution kind {self.kind!r}")

    @property
    def tied_to(self) -> str | None:
        return self.params[0] if self.kind == "tied" else None

    @property
    def mean(self) -> float:
        """The expected value of a draw (before any clipping to the allowed range)."""
        if self.kind in ("constant", "tied"):
            return self.central
        if self.kind in ("uniform", "integer_uniform"):
            return (self.low + self.high) / 2
        if self.kind == "triangular":
            return (self.low + self.central + self.high) / 3
        if self.kind == "normal":
            return self.params[0]
        if self.kind == "gamma_rate_probability":
            shape, scale = self.params
            return float(1 - (1 + scale) ** -shape)  # E[1 - exp(-G)] for G ~ Gamma(shape, scale)
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


def integer_uniform(low: int, high: int) -> Distribution:
    """Each whole number from ``low`` to ``high`` equally likely (contract lengths in years)."""
    if int(low) != low or int(high) != high or low > high or low < 1:
        raise InputError(f"integer_uniform needs whole numbers 1 <= low <= high; got {low}, {high}")
    return Distribution("integer_uniform", (low + high) / 2, float(low), float(high),
                        description=f"each whole number {int(low)} to {int(high)} equally likely")


def normal(mu: float, sd: float) -> Distribution:
    if sd < 0:
        raise InputError("normal needs sd >= 0")
    return Distribution("normal", mu, mu - _Z90 * sd, mu + _Z90 * sd, (mu, sd), description=f"normal({mu:g}, {sd:g})")


def tied(to: str, reference: Distribution) -> Distribution:
    """An input equal, draw by draw, to input ``to`` (whose distribution is ``reference``)."""
    return Distribution("tied", reference.central, reference.low, reference.high, (to,),
                        description=f"equal to {INPUT_LABELS.get(to, to).lower()} in every draw")


def hazard_from_counts(events: float, exposure: float, level: float = 0.90) -> Distribution:
    """Annual failure probability with the Jeffreys posterior of a Poisson rate."""
    if events < 0 or exposure <= 0:
        raise InputError("events must be >= 0 and exposure > 0")
    shape, scale = events + 0.5, 1.0 / exposure
    lo_rate, hi_rate = stats.gamma.ppf([(1 - level) / 2, (1 + level) / 2], shape, scale=scale)
    return Distribution("gamma_rate_probability", _to_probability(events / exposure), _to_probability(lo_rate),
                        _to_probability(hi_rate), (shape, scale),
                        description=f"Jeffreys posterior of {events:g} closures / {exposure:g} home-years")


def _to_probability(rate):
    return -np.expm1(-np.asarray(rate, dtype=float)) if np.ndim(rate) else float(-np.expm1(-rate))


@dataclass(frozen=True)
class ProxyEnsemble:
    """Failure hazards of both sides from a set of named proxy definitions.

    A closure rate stands in for provider failure, and which closures count as
    failures (all closures, only involuntary ones, or the ones the commissioner
    does not choose) is a choice public data cannot settle. Each *definition*
    gives closures and exposure for the spin-out proxy and for the in-house proxy.
    The Monte Carlo draws only from the definitions in ``drawn`` (by default one:
    the chosen measure), so its range holds sampling error, not the choice of
    definition: a draw picks one drawn definition (equally likely), then each
    side's rate from its Jeffreys posterior ``Gamma(events + 0.5, 1/exposure)`` as an
    annual probability ``1 - exp(-rate)``; both sides share the definition in a draw.

    The central value of each hazard is the average over the drawn definitions of
    its point rate; the tornado moves both across **every** definition, so the
    choice the Monte Carlo holds fixed is shown beside it.
    """

    labels: tuple[str, ...]
    spinout_events: tuple[float, ...]
    spinout_exposure: tuple[float, ...]
    inhouse_events: tuple[float, ...]
    inhouse_exposure: tuple[float, ...]
    description: str = ""
    fixed: tuple[float | None, float | None] = (None, None)  # a side given as a parameter stays at that value
    names: tuple[str, str] = HAZARD_PAIR
    drawn: tuple[int, ...] | None = None  # indices of the definitions the Monte Carlo draws from (None: all)

    def __post_init__(self):
        if any(f is not None and not 0 <= f <= 1 for f in self.fixed):
            raise InputError("a fixed hazard must be a probability between 0 and 1")
        k = len(self.labels)
        if k == 0:
            raise InputError("a proxy ensemble needs at least one definition")
        arrays = (self.spinout_events, self.spinout_exposure, self.inhouse_events, self.inhouse_exposure)
        if any(len(a) != k for a in arrays):
            raise InputError("every proxy definition needs events and exposure for both sides")
        if any(e < 0 for e in self.spinout_events + self.inhouse_events):
            raise InputError("closure counts cannot be negative")
        if any(x <= 0 for x in self.spinout_exposure + self.inhouse_exposure):
            raise InputError("exposure (home-years) must be positive")
        if self.drawn is not None and (not self.drawn or any(not 0 <= i < k for i in self.drawn)):
            raise InputError(f"the drawn definitions must be some of the {k} definitions; got {self.drawn}")

    @property
    def drawn_indices(self) -> np.ndarray:
        return np.arange(len(self.labels)) if self.drawn is None else np.asarray(self.drawn, dtype=int)

    @property
    def drawn_labels(self) -> list[str]:
        return [self.labels[i] for i in self.drawn_indices]

    def point_pairs(self) -> np.ndarray:
        """(definitions, 2) point probabilities: spin-out proxy, in-house proxy."""
        se = _to_probability(np.divide(self.spinout_events, self.spinout_exposure))
        ih = _to_probability(np.divide(self.inhouse_events, self.inhouse_exposure))
        pairs = np.column_stack([se, ih])
        for i, value in enumerate(self.fixed):
            if value is not None:
                pairs[:, i] = value
        return pairs

    @property
    def central(self) -> dict[str, float]:
        pairs = self.point_pairs()[self.drawn_indices]
        return {self.names[0]: float(pairs[:, 0].mean()), self.names[1]: float(pairs[:, 1].mean())}

    @property
    def mean(self) -> dict[str, float]:
        """Expected draw of each hazard: the average over the drawn definitions of the posterior means."""
        idx = self.drawn_indices

        def posterior_mean(events, exposure):
            shape, scale = np.asarray(events)[idx] + 0.5, 1.0 / np.asarray(exposure)[idx]
            return float(np.mean(1 - (1 + scale) ** -shape))
        means = (posterior_mean(self.spinout_events, self.spinout_exposure),
                 posterior_mean(self.inhouse_events, self.inhouse_exposure))
        return {name: (m if f is None else f) for name, m, f in zip(self.names, means, self.fixed)}

    def sample(self, rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
        idx = self.drawn_indices
        which = idx[rng.integers(0, len(idx), n)]
        se = rng.gamma(np.asarray(self.spinout_events)[which] + 0.5, 1.0 / np.asarray(self.spinout_exposure)[which])
        ih = rng.gamma(np.asarray(self.inhouse_events)[which] + 0.5, 1.0 / np.asarray(self.inhouse_exposure)[which])
        out = {self.names[0]: -np.expm1(-se), self.names[1]: -np.expm1(-ih)}
        for name, value in zip(self.names, self.fixed):
            if value is not None:
                out[name] = np.full(n, float(value))
        return out


InputSpec = Distribution | ProxyEnsemble


def _covered(distributions: dict[str, InputSpec]) -> list[str]:
    names = []
    for key, spec in distributions.items():
        names.extend(spec.names if isinstance(spec, ProxyEnsemble) else [key])
    return names


def check_distributions(distributions: dict[str, InputSpec]) -> None:
    """Every uncertain input is described exactly once, and ties point at a described input."""
    names = _covered(distributions)
    missing = set(UNCERTAIN_INPUTS) - set(names)
    if missing:
        raise InputError(f"distributions missing for: {sorted(missing)}")
    duplicated = {n for n in names if names.count(n) > 1}
    if duplicated:
        raise InputError(f"inputs described twice: {sorted(duplicated)}")
    unknown = set(names) - set(UNCERTAIN_INPUTS)
    if unknown:
        raise InputError(f"unknown model inputs: {sorted(unknown)}")
    for key, spec in distributions.items():
        if isinstance(spec, Distribution) and spec.tied_to is not None:
            target = distributions.get(spec.tied_to)
            if not isinstance(target, Distribution) or target.tied_to is not None:
                raise InputError(f"{key} is tied to {spec.tied_to!r}, which must be a plain described input")


def apply_ties(values: dict, distributions: dict[str, InputSpec]) -> dict:
    """Copy each tied input from the input it follows (values may be scalars or arrays)."""
    out = dict(values)
    for key, spec in distributions.items():
        if isinstance(spec, Distribution) and spec.tied_to is not None:
            out[key] = out[spec.tied_to]
    return out


def central_values(distributions: dict[str, InputSpec]) -> dict[str, float]:
    """Every input at its central value (ties applied): the deterministic case."""
    check_distributions(distributions)
    values: dict[str, float] = {}
    for key, spec in distributions.items():
        if isinstance(spec, ProxyEnsemble):
            values.update(spec.central)
        else:
            values[key] = spec.central
    return apply_ties(values, distributions)


def mean_values(distributions: dict[str, InputSpec]) -> dict[str, float]:
    """Every input at its expected draw (ties applied)."""
    check_distributions(distributions)
    values: dict[str, float] = {}
    for key, spec in distributions.items():
        values.update(spec.mean if isinstance(spec, ProxyEnsemble) else {key: spec.mean})
    return apply_ties(values, distributions)


# --- The model ---------------------------------------------------------------------

@dataclass(frozen=True)
class ProgrammeTerms:
    """The inputs that are not uncertain in the model."""

    n_enterprises: int
    discount_rate: float

    def __post_init__(self):
        if self.n_enterprises < 1:
            raise InputError("n_enterprises must be at least 1")
        if not 0 <= self.discount_rate < 1:
            raise InputError("discount_rate must be in [0, 1)")


def _check_inputs(inputs: dict[str, np.ndarray]) -> None:
    missing = set(UNCERTAIN_INPUTS) - set(inputs)
    if missing:
        raise InputError(f"model inputs missing: {sorted(missing)}")
    for name in ("contract_value", "transition_cost", "setup_cost"):
        if np.any(np.asarray(inputs[name], dtype=float) < 0):
            raise InputError(f"{name} cannot be negative")
    for name in _FRACTIONS:
        arr = np.asarray(inputs[name], dtype=float)
        if np.any((arr < 0) | (arr > 1)):
            raise InputError(f"{name} must be a fraction between 0 and 1")
    years = np.asarray(inputs["contract_years"], dtype=float)
    if np.any(years < 1) or np.any(years != np.round(years)):
        raise InputError("contract_years must be whole numbers of at least 1")


def yearly_value_at_risk(inputs: dict[str, np.ndarray], terms: ProgrammeTerms,
                         rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
    """Discounted yearly streams, shape (draws, longest contract); years after a draw's contract are zero.

    With ``rng`` the number of closures each year on each side is drawn Binomial(n, h);
    without it the expected number ``n h`` is used (the deterministic model). The loop is
    over contract years (a handful); every operation inside is on all draws at once.
    Also returns ``setup_cost`` per draw (paid at the start, not discounted).
    """
    _check_inputs(inputs)
    arr = {k: np.atleast_1d(np.asarray(inputs[k], dtype=float)) for k in UNCERTAIN_INPUTS}
    draws = max(a.size for a in arr.values())
    arr = {k: np.broadcast_to(a, (draws,)) for k, a in arr.items()}
    value, years = arr["contract_value"], arr["contract_years"].astype(int)
    keep_s, keep_e = 1.0 - arr["contracted_savings"], 1.0 - arr["inhouse_efficiency"]
    h_se, h_ih = arr["failure_hazard"], arr["inhouse_failure_hazard"]
    per_closure = (value / terms.n_enterprises) * arr["transition_cost"]
    rho = arr["risk_retained"]
    horizon = int(years.max())
    foregone = np.zeros((horizon, draws))
    failure = np.zeros((horizon, draws))
    contract_path = np.ones(draws)
    inhouse_path = np.ones(draws)
    for j in range(horizon):
        active = j < years
        discount = (1.0 + terms.discount_rate) ** -(j + 1)
        contract_path = contract_path * keep_s
        inhouse_path = inhouse_path * keep_e
        foregone[j] = np.where(active, value * (contract_path - inhouse_path) * discount, 0.0)
        if rng is None:
            closures_se, closures_ih = terms.n_enterprises * h_se, terms.n_enterprises * h_ih
        else:
            closures_se, closures_ih = rng.binomial(terms.n_enterprises, h_se), rng.binomial(terms.n_enterprises, h_ih)
        failure[j] = np.where(active, per_closure * (rho * closures_se - closures_ih) * discount, 0.0)
    foregone, failure = foregone.T, failure.T
    return {"foregone_savings": foregone, "extra_failure_cost": failure, "setup_cost": np.array(arr["setup_cost"]),
            "yearly_total": foregone + failure}


def npv_components(streams: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Per-draw present values of each component and their total."""
    out = {"foregone_savings": streams["foregone_savings"].sum(axis=1),
           "extra_failure_cost": streams["extra_failure_cost"].sum(axis=1),
           "setup_cost": streams["setup_cost"]}
    out["total"] = out["foregone_savings"] + out["extra_failure_cost"] + out["setup_cost"]
    return out


def deterministic(central: dict[str, float], terms: ProgrammeTerms) -> dict[str, float]:
    """Present values with every input at the given (central) values and expected closures."""
    streams = yearly_value_at_risk({k: np.array([v]) for k, v in central.items()}, terms)
    return {name: float(arr[0]) for name, arr in npv_components(streams).items()}


@dataclass
class MonteCarloResult:
    draws: dict[str, np.ndarray]  # per-draw present values by component
    cumulative_total: np.ndarray  # (draws, longest contract) cumulative discounted value at risk
    level: float
    n: int
    seed: int
    inputs: dict[str, InputSpec] = field(default_factory=dict)
    input_draws: dict[str, np.ndarray] = field(default_factory=dict)

    def summary(self) -> pd.DataFrame:
        lo_q, hi_q = (1 - self.level) / 2, (1 + self.level) / 2
        rows = []
        for name in COMPONENTS:
            arr = self.draws[name]
            rows.append({"component": name, "label": COMPONENT_LABELS[name], "mean": arr.mean(),
                         "median": np.median(arr), "low": np.quantile(arr, lo_q), "high": np.quantile(arr, hi_q),
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


_STREAMS = {name: i for i, name in enumerate((*UNCERTAIN_INPUTS, HAZARD_PAIR_KEY, "closures"))}


def _stream(seed: int, key: str) -> np.random.Generator:
    """An independent random stream per input, so that runs with the same seed share every input's draws
    whatever the other inputs are (common random numbers: scenarios differ by their assumptions, not by noise)."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(_STREAMS[key],)))


def draw_inputs(distributions: dict[str, InputSpec], seed: int, n: int) -> dict[str, np.ndarray]:
    """``n`` draws of every input, each from its own stream of ``seed``, clipped to allowed ranges."""
    check_distributions(distributions)
    out: dict[str, np.ndarray] = {}
    for key, spec in distributions.items():
        if isinstance(spec, ProxyEnsemble):
            out.update(spec.sample(_stream(seed, HAZARD_PAIR_KEY), n))
        elif spec.tied_to is None:
            out[key] = spec.sample(_stream(seed, key), n)
    for name in ("contract_value", "transition_cost", "setup_cost"):
        out[name] = np.clip(out[name], 0, None)
    for name in _FRACTIONS:
        if name in out:
            out[name] = np.clip(out[name], 0, 1)
    return apply_ties(out, distributions)


def monte_carlo(distributions: dict[str, InputSpec], terms: ProgrammeTerms, n: int, seed: int,
                level: float = 0.90, failure_counts: str = "binomial") -> MonteCarloResult:
    """Draw every uncertain input ``n`` times and evaluate the model once, vectorised."""
    if n < 1:
        raise InputError("the number of simulations must be at least 1")
    if not 0 < level < 1:
        raise InputError("level must be between 0 and 1")
    if failure_counts not in {"binomial", "expected"}:
        raise InputError("failure_counts must be 'binomial' or 'expected'")
    draws_in = draw_inputs(distributions, seed, n)
    streams = yearly_value_at_risk(draws_in, terms, _stream(seed, "closures") if failure_counts == "binomial" else None)
    cumulative = np.cumsum(streams["yearly_total"], axis=1) + streams["setup_cost"][:, None]
    return MonteCarloResult(npv_components(streams), cumulative, level, n, seed, dict(distributions), draws_in)


# --- Sensitivity -------------------------------------------------------------------

def tornado(distributions: dict[str, InputSpec], terms: ProgrammeTerms) -> pd.DataFrame:
    """One-way sensitivity: total present value with each input at its low and high, others central.

    Tied inputs move with the input they follow (so 'in-house efficiency' has no effect when the
    contracts match it). The failure hazards move together across every proxy definition (also those
    the Monte Carlo does not draw): low and
    high are the definitions giving the smallest and largest total. Sorted by swing, largest first.
    """
    central = central_values(distributions)
    base = deterministic(central, terms)["total"]

    def total(overrides: dict) -> float:
        return deterministic(apply_ties({**central, **overrides}, distributions), terms)["total"]

    rows = []
    for key, spec in distributions.items():
        if isinstance(spec, ProxyEnsemble):
            pairs = spec.point_pairs()
            totals = np.array([total({spec.names[0]: a, spec.names[1]: b}) for a, b in pairs])
            lo_i, hi_i = int(np.argmin(totals)), int(np.argmax(totals))
            rows.append({"input": key, "label": "Which closures count as failures (hazards of both sides)",
                         "low_value": pairs[lo_i, 0] - pairs[lo_i, 1], "high_value": pairs[hi_i, 0] - pairs[hi_i, 1],
                         "low_definition": spec.labels[lo_i], "high_definition": spec.labels[hi_i],
                         "npv_at_low": totals[lo_i], "npv_at_high": totals[hi_i]})
            continue
        if spec.tied_to is not None:
            continue
        rows.append({"input": key, "label": INPUT_LABELS[key], "low_value": spec.low, "high_value": spec.high,
                     "low_definition": "", "high_definition": "",
                     "npv_at_low": total({key: spec.low}), "npv_at_high": total({key: spec.high})})
    df = pd.DataFrame(rows)
    df["swing"] = (df["npv_at_high"] - df["npv_at_low"]).abs()
    df["base"] = base
    return df.sort_values("swing", ascending=False, kind="stable").reset_index(drop=True)


def swings_by_definition(distributions: dict[str, InputSpec], terms: ProgrammeTerms,
                         inputs: tuple[str, ...] = ("transition_cost", "risk_retained")) -> pd.DataFrame:
    """The one-way swing of each of ``inputs`` with the failure hazards set by each closure definition in turn.

    The tornado holds the hazards at the chosen definition, where failures may be so rare that the unsourced
    failure-cost assumptions show no swing at all; this says what they would move under the other definitions.
    One row per (definition, input): ``npv_at_low``, ``npv_at_high`` and ``swing`` in £m. Empty when no
    proxy ensemble sets the hazards.
    """
    central = central_values(distributions)
    ensembles = [(k, d) for k, d in distributions.items() if isinstance(d, ProxyEnsemble)]
    if not ensembles:
        return pd.DataFrame(columns=["definition", "input", "npv_at_low", "npv_at_high", "swing"])
    spec = ensembles[0][1]
    rows = []
    for label, (h_se, h_ih) in zip(spec.labels, spec.point_pairs()):
        at_definition = {**central, spec.names[0]: h_se, spec.names[1]: h_ih}
        for key in inputs:
            d = distributions.get(key)
            if not isinstance(d, Distribution):
                continue
            low, high = (deterministic(apply_ties({**at_definition, key: v}, distributions), terms)["total"]
                         for v in (d.low, d.high))
            rows.append({"definition": label, "input": key, "npv_at_low": low, "npv_at_high": high,
                         "swing": abs(high - low)})
    return pd.DataFrame(rows)


def switching_value(input_name: str, central: dict[str, float], terms: ProgrammeTerms,
                    bounds: tuple[float, float] = (0.0, 1.0),
                    distributions: dict[str, InputSpec] | None = None) -> float | None:
    """The value of ``input_name`` at which the contracts break even with in-house (total = 0).

    Inputs tied to ``input_name`` follow it when ``distributions`` is given; the input itself is
    varied alone even if it is tied to another (the question is what it would have had to be).
    Returns None when the total does not change sign within ``bounds``.
    """
    if input_name not in UNCERTAIN_INPUTS:
        raise InputError(f"Unknown input {input_name!r}; choose from {UNCERTAIN_INPUTS}")

    def f(x: float) -> float:
        values = {**central, input_name: x}
        if distributions is not None:
            followers = {k for k, d in distributions.items()
                         if isinstance(d, Distribution) and d.tied_to == input_name}
            values.update({k: x for k in followers})
        return deterministic(values, terms)["total"]

    lo, hi = bounds
    f_lo, f_hi = f(lo), f(hi)
    if f_lo == 0:
        return lo
    if np.sign(f_lo) == np.sign(f_hi):
        return None
    return float(optimize.brentq(f, lo, hi, xtol=1e-12))


def switching_values(distributions: dict[str, InputSpec], terms: ProgrammeTerms) -> pd.DataFrame:
    """Break-even values for the rates, with what each means."""
    central = central_values(distributions)
    specs = [
        ("contracted_savings", "annual savings the contracts would have had to require to break even with in-house"),
        ("inhouse_efficiency", "in-house efficiency gain at which the contracts break even (other inputs central)"),
        ("failure_hazard", "spin-out failure hazard at which the contracts break even"),
    ]
    rows = []
    for name, meaning in specs:
        value = switching_value(name, central, terms, (0.0, 1.0), distributions)
        note = ""
        if value is None:
            followers = [k for k, d in distributions.items() if isinstance(d, Distribution) and d.tied_to == name]
            note = ("no effect here: the contracts' savings follow it" if followers
                    else "no break-even between 0% and 100%")
        rows.append({"input": name, "label": INPUT_LABELS[name], "central": central[name],
                     "switching_value": value, "meaning": meaning, "note": note})
    return pd.DataFrame(rows)
