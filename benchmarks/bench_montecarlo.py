"""Benchmark: the vectorised value-for-money Monte Carlo against a per-draw Python loop.

Prints the time for 1,000,000 draws of the vectorised model, and the per-draw
cost of a straightforward loop (the baseline, run on fewer draws and scaled),
side by side with their ratio. Run: ``python benchmarks/bench_montecarlo.py``.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from analysis.vfm import model

TERMS = model.ProgrammeTerms(n_enterprises=50, discount_rate=0.035)
# The default report's shape: scenario 'achieved', contract length 3-5 years, and both sides' failure hazards
# drawn together from proxy definitions (here three illustrative ones: counts per home-years).
DISTS = {"contract_value": model.uniform(810, 990), "contract_years": model.integer_uniform(3, 5),
         "inhouse_efficiency": model.triangular(0.0004, 0.0156, 0.03), "contracted_savings": model.constant(0.0),
         "failure_hazards": model.ProxyEnsemble(("all", "involuntary", "not chosen"), (872, 5, 872),
                                                (16172, 16172, 16172), (477, 1, 1), (4158, 4158, 4158)),
         "transition_cost": model.triangular(0.05, 0.25, 0.5), "risk_retained": model.triangular(0.5, 1.0, 1.0),
         "setup_cost": model.constant(8.0)}


def loop_baseline(n: int, seed: int) -> float:
    """The same model one draw at a time (what a spreadsheet-style implementation does)."""
    rng = np.random.default_rng(seed)
    total = 0.0
    for _ in range(n):
        draw = {}
        for k, d in DISTS.items():
            sample = d.sample(rng, 1)
            draw.update({name: v[0] for name, v in sample.items()} if isinstance(sample, dict) else {k: sample[0]})
        npv = draw["setup_cost"]
        for t in range(1, int(draw["contract_years"]) + 1):
            disc = (1 + TERMS.discount_rate) ** -t
            failed = rng.binomial(TERMS.n_enterprises, draw["failure_hazard"])
            closed = rng.binomial(TERMS.n_enterprises, draw["inhouse_failure_hazard"])
            foregone = (1 - draw["contracted_savings"]) ** t - (1 - draw["inhouse_efficiency"]) ** t
            npv += draw["contract_value"] * foregone * disc
            npv += (draw["risk_retained"] * failed - closed) * draw["contract_value"] / TERMS.n_enterprises \
                * draw["transition_cost"] * disc
        total += npv
    return total / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--draws", type=int, default=1_000_000)
    parser.add_argument("--baseline-draws", type=int, default=5_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    model.monte_carlo(DISTS, TERMS, n=1000, seed=0)  # warm up imports and caches
    times = []
    for r in range(args.repeats):
        t0 = time.perf_counter()
        result = model.monte_carlo(DISTS, TERMS, n=args.draws, seed=r)
        times.append(time.perf_counter() - t0)
    vec = statistics.median(times)
    t0 = time.perf_counter()
    loop_mean = loop_baseline(args.baseline_draws, 0)
    loop = (time.perf_counter() - t0) / args.baseline_draws * args.draws
    print(f"{'implementation':<34}{'draws':>12}{'seconds':>12}{'per draw (us)':>16}")
    print(f"{'vectorised (analysis.vfm.model)':<34}{args.draws:>12,}{vec:>12.3f}{1e6 * vec / args.draws:>16.3f}")
    print(f"{'per-draw loop (baseline, scaled)':<34}{args.draws:>12,}{loop:>12.1f}{1e6 * loop / args.draws:>16.3f}")
    print(f"speed-up: {loop / vec:,.0f}x; vectorised median of {args.repeats} runs "
          f"(min {min(times):.3f}s, max {max(times):.3f}s)")
    print(f"check: mean value at risk vectorised £{result.draws['total'].mean():,.1f}m vs loop £{loop_mean:,.1f}m "
          f"({args.baseline_draws:,} draws)")
    print("target: 1,000,000 draws well under one second -> " + ("met" if vec < 1.0 else "NOT met"))


if __name__ == "__main__":
    main()
