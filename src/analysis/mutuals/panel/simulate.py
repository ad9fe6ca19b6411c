"""SIMULATED panels, for validating the estimators only.

Every frame returned here carries ``attrs["simulated"] = True`` and unit names
starting "SIM-", so nothing simulated can pass for real data; reports that show
them label every table and chart "SIMULATED DATA".
"""

from __future__ import annotations

import numpy as np
import pandas as pd


def simulate_staggered_panel(n_units: int = 60, n_periods: int = 10, cohorts: dict[int, int] | None = None,
                             effect: float = 2.0, noise: float = 1.0, seed: int = 0, dynamic: float = 0.0,
                             start: int = 2011, unit_sd: float = 2.0) -> pd.DataFrame:
    """Units x periods with unit and period effects and an effect from adoption.

    ``cohorts`` maps an adoption period index (0-based) to a number of units; the
    rest are never treated. The true effect at exposure e >= 0 is
    ``effect + dynamic * e``. Parallel trends hold by construction.
    """
    cohorts = cohorts if cohorts is not None else {n_periods // 2: n_units // 3}
    if sum(cohorts.values()) >= n_units:
        raise ValueError("cohorts must leave some never-treated units")
    rng = np.random.default_rng(seed)
    units = [f"SIM-{i:03d}" for i in range(n_units)]
    adoption = np.zeros(n_units, dtype=int)
    i = 0
    for period_index, count in sorted(cohorts.items()):
        adoption[i:i + count] = start + period_index
        i += count
    alpha = rng.normal(0, unit_sd, n_units)
    gamma = np.cumsum(rng.normal(0.3, 0.5, n_periods))
    rows = []
    for u, unit in enumerate(units):
        for t in range(n_periods):
            year = start + t
            treated = int(adoption[u] > 0 and year >= adoption[u])
            exposure = year - adoption[u]
            y = 50 + alpha[u] + gamma[t] + rng.normal(0, noise)
            if treated:
                y += effect + dynamic * exposure
            rows.append((unit, year, y, treated))
    df = pd.DataFrame(rows, columns=["unit", "time", "outcome", "treated"])
    df.attrs["simulated"] = True
    return df
