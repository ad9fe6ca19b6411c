"""The council explorer: one council's ASCOF profile against England and same-type peers.

Pick a council by name (type to search; an ONS code such as E08000016 also works), the measures
and the years. The explorer shows the council's latest position on each measure (value, England,
rank), one small-multiples chart (a panel per measure: the council, England, and the median and
interquartile range of councils of the same type) and the table behind it, each with its data as
a CSV, and says where the council has no data.

**The same profile as the report.** Every call into the library is in the functions under "The
library's council profile" below: the ``council_profile`` report's parameter model validates the
controls, and its findings, chart and table (:mod:`analysis.budgets.profile`) are what the explorer
shows. The shared panel is prepared once per process for a choice of measures and years, so moving
between councils only picks out the council.
"""

from __future__ import annotations

import re
from typing import Any

import ipywidgets as widgets
import pandas as pd

from analysis import data
from analysis.budgets import councils as budget_councils
from analysis.budgets import profile as council_profiles
from analysis.data.ascof import CONCEPTS, CONCEPTS_BY_KEY
from analysis.explore import base
from analysis.explore.controls import DESCRIPTION_STYLE, WIDE, control
from analysis.report.params import NotebookParameters, get_spec, validate_parameters

# --- The library's council profile ------------------------------------------------------------------

PROFILE_NOTEBOOK = "council_profile"  # the report whose parameter model validates a profile
PROFILE_MEASURES = "measures"  # its parameter listing the measures a profile shows
DEFAULT_COUNCIL = "E08000016"  # Barnsley, the README's example


def profile_model() -> type[NotebookParameters]:
    return get_spec(PROFILE_NOTEBOOK).parameters


def default_measures() -> list[str]:
    """The measures the report's profile shows by default."""
    return list(profile_model().model_fields[PROFILE_MEASURES].default)


def profile_parameters(code: str, measures: list[str], years: list[int]) -> NotebookParameters:
    """The profile's parameters, checked by the report's model (ParameterError names what is wrong)."""
    return validate_parameters(PROFILE_NOTEBOOK, {"council_code": code, PROFILE_MEASURES: list(measures),
                                                  "years": list(years)})


def load_tables() -> dict[str, pd.DataFrame]:
    return {"ascof": data.load("ascof"), "lookup": data.load("council_lookup")}


def council_profile(params: NotebookParameters) -> council_profiles.CouncilProfile:
    """The report's profile for these parameters (the shared panel is cached per measures and years)."""
    return council_profiles.analyse(params)


def profile_findings(params: NotebookParameters, profile: council_profiles.CouncilProfile) -> list:
    return council_profiles.key_findings(profile, order=list(getattr(params, PROFILE_MEASURES)))


def profile_table(params: NotebookParameters, profile: council_profiles.CouncilProfile) -> pd.DataFrame:
    return council_profiles.table(profile, order=list(getattr(params, PROFILE_MEASURES)))


def profile_figure(params: NotebookParameters, profile: council_profiles.CouncilProfile):
    """The report's small-multiples chart: a panel per measure, in the order chosen."""
    return council_profiles.figure(profile, order=list(getattr(params, PROFILE_MEASURES)))


SOURCE = council_profiles.SOURCE_ASCOF

# --- The explorer -------------------------------------------------------------------------------

CODE = re.compile(r"\b(E\d{8})\b")


def council_code(text: str) -> str:
    """'Barnsley (E08000016)' or 'E08000016' -> 'E08000016'; anything else is returned as typed (the
    parameter model then says what a council code looks like)."""
    found = CODE.search(text or "")
    return found.group(1) if found else (text or "").strip()


class CouncilExplorer(base.Explorer):
    """One council against England and its peers (see the module docstring)."""

    notebook = PROFILE_NOTEBOOK
    title = "Councils: one council's adult social care outcomes against England and its peers"
    intro = ("Type a council's name (or its ONS code) and pick the measures. Values are the Adult Social Care Outcomes "
             "Framework's, published without margins of error, so a difference of a point or two may be survey noise; "
             "in 2020-21 the survey was voluntary and few councils ran it. Each chart and table has its data as a CSV.")

    @classmethod
    def control_names(cls) -> list[str]:
        return ["council", "measures", "years"]

    def load(self) -> None:
        self.tables = load_tables()
        lookup = self.tables["lookup"]
        current = lookup[lookup["ons_code"].isin(budget_councils.current_councils(lookup)["council_code"])]
        self.options = [f"{name} ({code})" for name, code in sorted(zip(current["council"], current["ons_code"]))]
        self.by_code = {council_code(o): o for o in self.options}
        years = self.tables["ascof"]["year_end"]
        self.data_years = (int(years.min()), int(years.max()))

    def build_controls(self, initial: dict[str, Any]) -> dict[str, widgets.Widget]:
        model = profile_model()
        start = initial.get("council", DEFAULT_COUNCIL)
        council = widgets.Combobox(options=self.options, value=self.by_code.get(council_code(start), start),
                                   placeholder="Type a council's name", ensure_option=False, continuous_update=False,
                                   description="Council", style=DESCRIPTION_STYLE, layout=WIDE,
                                   tooltip=model.model_fields["council_code"].description or "")
        council.add_class("explore-control")
        council.add_class("explore-control-council")
        measures = control(model, PROFILE_MEASURES, value=tuple(initial.get("measures", default_measures())),
                           label="Measures", labels={c.key: c.label for c in CONCEPTS})
        measures.rows = 10
        measures.add_class("explore-control-measures")
        first, last = self.data_years
        years = control(model, "years", value=tuple(initial.get("years", model.model_fields["years"].default)),
                        label="Years (year ending)", minimum=max(first, 2018), maximum=last)
        years.add_class("explore-control-years")
        return {"council": council, "measures": measures, "years": years}

    def resolve(self, text: str) -> str:
        """The ONS code for what was typed: a code, an option, or a unique part of a council's name."""
        return base.resolve_choice(text, self.by_code, code=r"E\d{8}", what="current council", example=DEFAULT_COUNCIL)

    def values(self) -> dict[str, Any]:
        return {"council_code": self.resolve(self.controls["council"].value),
                PROFILE_MEASURES: list(self.controls["measures"].value), "years": list(self.controls["years"].value)}

    def validate(self) -> NotebookParameters:
        v = self.values()
        return profile_parameters(v["council_code"], v[PROFILE_MEASURES], v["years"])

    def build_outputs(self) -> widgets.Widget:
        self.headline = widgets.HTML()
        self.headline.add_class("explore-headline")
        self.findings = widgets.HTML()
        self.chart = widgets.HTML()
        self.table = widgets.HTML()
        self.gaps = widgets.HTML()
        self.sources = widgets.HTML()
        return widgets.VBox([self.headline, self.findings, self.gaps, self.chart, self.table, self.sources])

    def compute(self, params: NotebookParameters) -> dict[str, Any]:
        profile = council_profile(params)
        return {"params": params, "profile": profile, "findings": profile_findings(params, profile),
                "table": profile_table(params, profile)}

    def render(self, result: dict[str, Any]) -> None:
        profile = result["profile"]
        kind = f", {profile.council_type}" if profile.council_type else ""
        findings = result["findings"]
        self.headline.value = base.headline_html(f"{profile.name} ({profile.code}{kind})", findings[0].text)
        self.findings.value = "<ul>" + "".join(
            f"<li>{base.escape(f.text)} <span class='explore-source'>{base.escape(f.limitation)}</span></li>"
            for f in findings[1:]) + "</ul>" if len(findings) > 1 else ""
        self.gaps.value = base.caveat_html("Gaps in this council's data", profile.gaps) if profile.gaps else ""
        self.table.value = base.table_html(result["table"], f"{profile.name} against England and "
                                           f"{profile.council_type or 'all councils'}", source=SOURCE,
                                           full=profile.table, max_rows=80)
        self.answered()
        self.chart.value = base.figure_html(profile_figure(result["params"], profile), f"{profile.name} profile")
        self.sources.value = base.sources_html()


def measure_label(concept: str) -> str:
    return CONCEPTS_BY_KEY[concept].label
