"""A researcher's own organisation x year panel: what it must look like.

Columns (names configurable, see ``PanelColumns``):

``unit``
    Organisation identifier (e.g. ODS code, council code, a spin-out's name).
``time``
    Period, an integer (e.g. financial year ending, 2015 for 2014-15).
``outcome``
    The numeric outcome (cost per case, absence rate, a survey percentage...).
``treated``
    1 from the period the unit became a mutual/spin-out onwards, else 0.
    Treatment must be absorbing (once 1, always 1): a unit that returns
    in-house is a different design and is rejected with a clear error.

Optional: ``weight`` (e.g. staff numbers) and any covariates.

The template ``data/templates/panel_template.csv`` has these columns and the
data dictionary is in ``data/templates/README.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from analysis.errors import PanelError


@dataclass(frozen=True)
class PanelColumns:
    unit: str = "unit"
    time: str = "time"
    outcome: str = "outcome"
    treated: str = "treated"
    weight: str | None = None


TEMPLATE_COLUMNS = ("unit", "time", "outcome", "treated", "weight")


@dataclass(frozen=True)
class Panel:
    """A validated panel in long form with a cohort column (first treated period; 0 = never)."""

    data: pd.DataFrame  # columns: unit, time, outcome, treated, cohort[, weight]
    periods: tuple[int, ...]
    balanced: bool

    @property
    def units(self) -> np.ndarray:
        return self.data["unit"].unique()

    @property
    def cohorts(self) -> list[int]:
        return sorted(c for c in self.data["cohort"].unique() if c != 0)

    def wide(self, column: str = "outcome") -> pd.DataFrame:
        return self.data.pivot(index="unit", columns="time", values=column)

    def unit_cohorts(self) -> pd.Series:
        return self.data.groupby("unit")["cohort"].first()


def validate_panel(df: pd.DataFrame, columns: PanelColumns = PanelColumns(), *, require_balanced: bool = False,
                   min_units: int = 2) -> Panel:
    """Check the panel's structure and return it in standard form, or raise PanelError saying what is wrong."""
    if not isinstance(df, pd.DataFrame):
        raise PanelError("The panel must be a pandas DataFrame")
    needed = {"unit": columns.unit, "time": columns.time, "outcome": columns.outcome, "treated": columns.treated}
    if columns.weight:
        needed["weight"] = columns.weight
    missing = [f"{role} column {name!r}" for role, name in needed.items() if name not in df.columns]
    if missing:
        raise PanelError(f"The panel is missing its {', '.join(missing)}. Columns present: {list(df.columns)}. "
                         "See data/templates/README.md for the expected layout.")
    data = pd.DataFrame({role: df[name] for role, name in needed.items()})
    if data["unit"].isna().any():
        raise PanelError(f"{int(data['unit'].isna().sum())} rows have no unit identifier")
    time = pd.to_numeric(data["time"], errors="coerce")
    if time.isna().any() or (time % 1 != 0).any():
        bad = data.loc[time.isna() | (time % 1 != 0), "time"].head(3).tolist()
        raise PanelError(f"The time column must hold whole-number periods (e.g. 2015); found {bad}")
    data["time"] = time.astype("int64")
    outcome = pd.to_numeric(data["outcome"], errors="coerce")
    if outcome.isna().any():
        rows = data.loc[outcome.isna(), ["unit", "time"]].head(3).to_dict("records")
        raise PanelError(f"The outcome is missing or not numeric in {int(outcome.isna().sum())} rows, e.g. {rows}")
    data["outcome"] = outcome.astype(float)
    treated = pd.to_numeric(data["treated"], errors="coerce")
    if treated.isna().any() or not treated.isin([0, 1]).all():
        bad = data.loc[~treated.isin([0, 1]), "treated"].head(3).tolist()
        raise PanelError(f"The treatment column must be 0 or 1; found {bad}")
    data["treated"] = treated.astype("int64")
    if "weight" in data:
        weight = pd.to_numeric(data["weight"], errors="coerce")
        if weight.isna().any() or (weight <= 0).any():
            raise PanelError("Weights must be positive numbers")
        data["weight"] = weight.astype(float)
    duplicated = data.duplicated(["unit", "time"])
    if duplicated.any():
        rows = data.loc[duplicated, ["unit", "time"]].head(3).to_dict("records")
        raise PanelError(f"Each unit may appear once per period; duplicates, e.g. {rows}")
    data = data.sort_values(["unit", "time"]).reset_index(drop=True)
    switched_off = data.groupby("unit")["treated"].apply(lambda s: bool((s.diff() < 0).any()))
    if switched_off.any():
        units = switched_off[switched_off].index[:5].tolist()
        raise PanelError(f"Treatment switches off for units {units}: once treated a unit must stay treated "
                         "(staggered adoption). A return in-house needs a different design.")
    first = data[data["treated"] == 1].groupby("unit")["time"].min()
    data["cohort"] = data["unit"].map(first).fillna(0).astype("int64")
    n_units = data["unit"].nunique()
    if n_units < min_units:
        raise PanelError(f"The panel has {n_units} unit(s); at least {min_units} are needed")
    periods = tuple(sorted(data["time"].unique()))
    if len(periods) < 2:
        raise PanelError("The panel needs at least two periods")
    counts = data.groupby("unit")["time"].nunique()
    balanced = bool((counts == len(periods)).all())
    if require_balanced and not balanced:
        short = counts[counts < len(periods)].index[:5].tolist()
        raise PanelError(f"This estimator needs a balanced panel; units {short} miss some of the periods "
                         f"{periods[0]}-{periods[-1]}")
    if not (data["cohort"] > 0).any():
        raise PanelError("No unit is ever treated: there is nothing to estimate")
    always = data.groupby("unit").apply(lambda g: bool(g["treated"].iloc[0] == 1), include_groups=False)
    data.attrs["always_treated_units"] = always[always].index.tolist()
    return Panel(data=data, periods=periods, balanced=balanced)


def read_panel_csv(path: str, columns: PanelColumns = PanelColumns(), **kwargs) -> Panel:
    """Read and validate a panel CSV (see the template)."""
    try:
        df = pd.read_csv(path)
    except FileNotFoundError:
        raise PanelError(f"Panel file not found: {path}") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise PanelError(f"Panel file {path} could not be read as CSV: {exc}") from None
    return validate_panel(df, columns, **kwargs)
