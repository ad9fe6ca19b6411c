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

Optional: ``weight`` (e.g. staff numbers); ``group`` (1 for every row of a unit
that is ever treated, 0 for never-treated units) or ``cohort`` (the period a unit
is first treated, 0 or blank for never); and covariates, which are kept under
their own names for the estimators that use them (synthetic-control predictors,
regression DiD controls).

Why ``group``/``cohort`` matter: on an unbalanced panel a treated unit that is
not observed after adoption has ``treated == 0`` in every row it has, so the
treatment column alone cannot tell it from a never-treated unit. Give the group
explicitly and such units are classified correctly; without it, estimators that
depend on the classification (the 2x2 DiD) refuse to guess.

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
    group: str | None = None  # 0/1: the unit is ever treated (constant within unit)
    cohort: str | None = None  # first treated period; 0 or blank = never treated
    covariates: tuple[str, ...] | None = None  # None = keep every other column


TEMPLATE_COLUMNS = ("unit", "time", "outcome", "treated", "weight")
STANDARD_COLUMNS = ("unit", "time", "outcome", "treated", "weight", "cohort", "group")


@dataclass(frozen=True)
class Panel:
    """A validated panel in long form with a cohort column (first treated period; 0 = never)."""

    data: pd.DataFrame  # columns: unit, time, outcome, treated, cohort[, weight], covariates...
    periods: tuple[int, ...]
    balanced: bool
    group_known: bool = False  # cohorts came from an explicit group/cohort column

    @property
    def covariates(self) -> list[str]:
        return [c for c in self.data.columns if c not in STANDARD_COLUMNS]

    @property
    def unclassified_units(self) -> list:
        """Units with ``treated == 0`` throughout that are never observed at or after the last adoption date.

        Without an explicit group column such a unit may be a treated unit that left the
        panel before it could be seen treated; see the module docstring.
        """
        if self.group_known:
            return []
        last_adoption = max(self.cohorts) if self.cohorts else None
        if last_adoption is None:
            return []
        last_seen = self.data.groupby("unit")["time"].max()
        cohort = self.unit_cohorts()
        return last_seen[(cohort == 0) & (last_seen < last_adoption)].index.tolist()

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
    if columns.group and columns.cohort:
        raise PanelError("Give either a group column (0/1 ever treated) or a cohort column (first treated period), "
                         "not both")
    if columns.group:
        needed["group"] = columns.group
    if columns.cohort:
        needed["cohort"] = columns.cohort
    missing = [f"{role} column {name!r}" for role, name in needed.items() if name not in df.columns]
    if columns.covariates is not None:
        missing += [f"covariate column {name!r}" for name in columns.covariates if name not in df.columns]
    if missing:
        raise PanelError(f"The panel is missing its {', '.join(missing)}. Columns present: {list(df.columns)}. "
                         "See data/templates/README.md for the expected layout.")
    data = pd.DataFrame({role: df[name] for role, name in needed.items()})
    used = set(needed.values())
    extra = list(columns.covariates) if columns.covariates is not None else [c for c in df.columns if c not in used]
    clashing = [c for c in extra if c in STANDARD_COLUMNS]
    if columns.covariates is not None and clashing:
        raise PanelError(f"Covariate names {clashing} clash with the panel's standard columns {STANDARD_COLUMNS}; "
                         "rename them")
    for name in extra:
        if name not in clashing:
            data[name] = df[name].to_numpy()
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
    observed_cohort = data["unit"].map(first).fillna(0).astype("int64")
    group_known = bool(columns.group or columns.cohort)
    if columns.cohort:
        data["cohort"] = _explicit_cohort(data, observed_cohort)
    elif columns.group:
        data["cohort"] = _cohort_from_group(data, observed_cohort)
        data = data.drop(columns="group")
    else:
        data["cohort"] = observed_cohort
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
    return Panel(data=data, periods=periods, balanced=balanced, group_known=group_known)


def _explicit_cohort(data: pd.DataFrame, observed: pd.Series) -> pd.Series:
    cohort = pd.to_numeric(data["cohort"], errors="coerce").fillna(0)
    if (cohort % 1 != 0).any() or (cohort < 0).any():
        raise PanelError("The cohort column must hold the first treated period (a whole number) or 0/blank for never")
    cohort = cohort.astype("int64")
    if (cohort.groupby(data["unit"]).nunique() > 1).any():
        raise PanelError("The cohort column must be constant within each unit")
    implied = ((cohort > 0) & (data["time"] >= cohort)).astype("int64")
    clash = implied != data["treated"]
    if clash.any():
        rows = data.loc[clash, ["unit", "time"]].head(3).to_dict("records")
        raise PanelError(f"The treatment column disagrees with the cohort column in {int(clash.sum())} rows, e.g. "
                         f"{rows}: treated must be 1 exactly from the cohort period on")
    return cohort


def _cohort_from_group(data: pd.DataFrame, observed: pd.Series) -> pd.Series:
    group = pd.to_numeric(data["group"], errors="coerce")
    if group.isna().any() or not group.isin([0, 1]).all():
        raise PanelError("The group column must be 0 (never treated) or 1 (ever treated)")
    if (group.groupby(data["unit"]).nunique() > 1).any():
        raise PanelError("The group column must be constant within each unit")
    if ((group == 0) & (data["treated"] == 1)).any():
        units = data.loc[(group == 0) & (data["treated"] == 1), "unit"].unique()[:5].tolist()
        raise PanelError(f"Units {units} are treated in some period but their group is 0")
    cohort = observed.copy()
    unseen = (group == 1) & (observed == 0)
    if unseen.any():
        dates = sorted(observed[observed > 0].unique())
        if len(dates) != 1:
            units = data.loc[unseen, "unit"].unique()[:5].tolist()
            raise PanelError(f"Units {units} are in the treated group but never observed treated, and adoption is "
                             f"staggered ({dates}): give their first treated period with a cohort column instead")
        cohort[unseen] = dates[0]
    return cohort


def read_panel_csv(path: str, columns: PanelColumns = PanelColumns(), **kwargs) -> Panel:
    """Read and validate a panel CSV (see the template)."""
    try:
        df = pd.read_csv(path)
    except FileNotFoundError:
        raise PanelError(f"Panel file not found: {path}") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise PanelError(f"Panel file {path} could not be read as CSV: {exc}") from None
    return validate_panel(df, columns, **kwargs)
