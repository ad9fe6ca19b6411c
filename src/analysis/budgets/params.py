"""Parameters of the personal budgets and council profile notebooks."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from analysis.data.ascof import CONCEPTS
from analysis.parameters import NotebookParameters

Concept = Literal[tuple(c.key for c in CONCEPTS)]  # type: ignore[valid-type]


class PersonalBudgetsParameters(NotebookParameters):
    outcomes: Annotated[list[Concept], Field(min_length=1)] = Field(
        ["control_daily_life", "scrqol", "satisfaction_users"],
        description="ASCOF outcomes for the council panel")
    exposures: Annotated[list[Literal["dp_users", "sds_users"]], Field(min_length=1)] = Field(
        ["dp_users", "sds_users"], description="Direct-payment and/or self-directed-support shares")
    years: Annotated[list[Annotated[int, Field(ge=2018, le=2030)]], Field(min_length=2, max_length=2)] = Field(
        [2018, 2024], description="First and last ASCOF year (year ending: 2018 = 2017-18)")
    user_groups: Annotated[list[str], Field(min_length=1)] = Field(
        ["all"], description="User groups for pooling researcher-supplied pilot data ('all' = no filter)")
    meta_method: Literal["FE", "DL", "REML", "HK"] = Field(
        "REML", description="Meta-analysis: fixed effect, DerSimonian-Laird, REML, or REML with Hartung-Knapp")
    pilot_data_path: str | None = Field(
        None, description="CSV of arm-level pilot outcomes you extracted (data/templates/pilot_outcomes_template.csv)")
    wtp_range: Annotated[list[Annotated[float, Field(ge=0)]], Field(min_length=2, max_length=2)] = Field(
        [0.0, 100000.0], description="Willingness to pay per unit of effect (£), low and high, for the CEAC")
    cea_inputs: Annotated[list[float], Field(min_length=5, max_length=5)] | None = Field(
        None, description="Summary CEA inputs [cost mean, cost SE, effect mean, effect SE, correlation]; None = no "
                          "data")
    cea_data_path: str | None = Field(None,
                                      description="Person-level CSV with columns arm (budget/comparison), cost, effect")
    simulated_cea: bool = Field(False, description="Add a SIMULATED cost-effectiveness demonstration")
    n_simulations: Annotated[int, Field(ge=100, le=1_000_000)] = 10_000
    seed: Annotated[int, Field(ge=0)] = 2008
    confidence_level: Annotated[float, Field(gt=0.5, lt=1.0)] = 0.95

    @model_validator(mode="before")
    @classmethod
    def _profile_is_its_own_notebook(cls, values: Any) -> Any:
        if isinstance(values, dict) and "council_code" in values:
            raise ValueError(
                "council_code: a single council's profile is its own notebook now, council_profile: "
                f"python -m analysis run council_profile -p council_code={values['council_code'] or 'E08000016'} "
                "(personal_budgets is the England report)")
        return values

    @model_validator(mode="after")
    def _checks(self) -> PersonalBudgetsParameters:
        if self.years[0] > self.years[1]:
            raise ValueError(f"years: first {self.years[0]} is after last {self.years[1]}")
        if self.wtp_range[0] >= self.wtp_range[1]:
            raise ValueError("wtp_range: low must be below high")
        if self.cea_inputs is not None:
            if self.cea_inputs[1] < 0 or self.cea_inputs[3] < 0:
                raise ValueError("cea_inputs: standard errors must be >= 0")
            if not -1 <= self.cea_inputs[4] <= 1:
                raise ValueError("cea_inputs: correlation must be between -1 and 1")
        return self


class CouncilProfileParameters(NotebookParameters):
    """One council against England and councils of the same type (the unit of the council batch)."""

    council_code: Annotated[str, Field(pattern=r"^E\d{8}$")] = Field(
        description="ONS code of the council to profile (e.g. E08000016 Barnsley). "
                    "`python -m analysis councils` lists every current council")
    measures: Annotated[list[Concept], Field(min_length=1, max_length=6)] = Field(
        ["dp_users", "sds_users", "control_daily_life", "satisfaction_users", "scrqol"],
        description="ASCOF measures to profile, one panel and one key finding each (at most 6)")
    years: Annotated[list[Annotated[int, Field(ge=2018, le=2030)]], Field(min_length=2, max_length=2)] = Field(
        [2018, 2024], description="First and last ASCOF year (year ending: 2018 = 2017-18)")

    @model_validator(mode="before")
    @classmethod
    def _council_code_is_required(cls, values: Any) -> Any:
        if isinstance(values, dict) and values.get("council_code") in (None, ""):
            raise ValueError("council_code is required: the ONS code of the council to profile, e.g. "
                             "-p council_code=E08000016 (Barnsley); `python -m analysis councils` lists every "
                             "current council")
        return values

    @model_validator(mode="after")
    def _checks(self) -> CouncilProfileParameters:
        if self.years[0] > self.years[1]:
            raise ValueError(f"years: first {self.years[0]} is after last {self.years[1]}")
        if len(set(self.measures)) != len(self.measures):
            raise ValueError(f"measures: each measure once (got {self.measures})")
        return self
