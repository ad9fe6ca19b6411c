"""Parameters of the mutuals-versus-in-house notebook."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from analysis.data.staff_survey import ITEMS
from analysis.parameters import NotebookParameters

ItemKey = Literal[tuple(i.key for i in ITEMS)]  # type: ignore[valid-type]
Years = Annotated[list[Annotated[int, Field(ge=2010, le=2030)]], Field(min_length=2, max_length=2)]


class MutualsParameters(NotebookParameters):
    outcomes: Annotated[list[ItemKey], Field(min_length=1)] = Field(
        [i.key for i in ITEMS], description="NHS Staff Survey items to compare (default: every staff outcome in the "
                                            "data)")
    survey_years: Years = Field([2021, 2024], description="First and last NHS Staff Survey year")
    comparisons: Annotated[list[Literal["community", "mental health"]], Field(min_length=1)] = Field(
        ["community",
         "mental health"], description="Social enterprises against NHS community and/or mental-health trusts")
    focus_organisation: Annotated[str, Field(pattern=r"^[A-Z0-9]{3,5}$")] = Field(
        "NQL", description="ODS code of one organisation to set against its benchmark (NQL = NAViGO)")
    cqc_years: Years = Field([2015, 2024], description="First and last year of CQC rating snapshots and inspections")
    confidence_level: Annotated[float, Field(gt=0.5, lt=1.0)] = 0.95
    n_permutations: Annotated[int, Field(ge=99, le=100_000)] = Field(
        1999, description="Permutations for the randomisation-inference p-values")
    seed: Annotated[int, Field(ge=0)] = 2013
    panel_path: str | None = Field(None,
                                   description="Path to your own organisation x year panel CSV (see data/templates)")
    panel_unit_column: str = "unit"
    panel_time_column: str = "time"
    panel_outcome_column: str = "outcome"
    panel_treated_column: str = "treated"
    panel_treated_unit: str | None = Field(None,
                                           description="Unit for the synthetic control (default: the first treated)")
    panel_control_group: Literal["nevertreated", "notyettreated"] = "nevertreated"
    simulated_appendix: bool = Field(False, description="Add an appendix running the panel methods on SIMULATED data")

    @model_validator(mode="after")
    def _ordered_years(self) -> MutualsParameters:
        for name in ("survey_years", "cqc_years"):
            first, last = getattr(self, name)
            if first > last:
                raise ValueError(f"{name}: first year {first} is after last year {last}")
        return self
