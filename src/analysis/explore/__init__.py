"""Live controls over the library: explorers for JupyterLab and a Voila dashboard.

Each explorer is a set of ipywidgets controls wired to the same library functions the reports
call, validated by the same parameter model the runner uses, so what a researcher sees as a
slider moves is what the report would print for those parameters:

- :func:`value_for_money`: every input and scenario of the NAO value-for-money model; the
  headline distribution, tornado and switching values (``analysis.explore.vfm``);
- :func:`council_profile`: one council's ASCOF profile against England and same-type peers
  (``analysis.explore.councils``);
- :func:`staff_survey`: one NHS Staff Survey item, social enterprises against NHS trusts, and
  one organisation against its benchmark (``analysis.explore.mutuals``);
- :func:`unit_costs`: in-house against external unit costs for one service and span of years
  (``analysis.explore.costs``).

A notebook under ``notebooks/explore/`` calls one of these and displays what it returns;
``make explore`` serves those notebooks with Voila (code hidden) for colleagues who do not use
Jupyter. Importing this package imports no widgets: each function imports its module when called
(the functions are named unlike the modules, so importing a module never hides a function).
"""

from __future__ import annotations

from typing import Any


def value_for_money(**initial: Any):
    """The NAO value-for-money explorer (see :class:`analysis.explore.vfm.VfmExplorer`)."""
    from analysis.explore.vfm import VfmExplorer

    return VfmExplorer(**initial)


def council_profile(**initial: Any):
    """The council-profile explorer (see :class:`analysis.explore.councils.CouncilExplorer`)."""
    from analysis.explore.councils import CouncilExplorer

    return CouncilExplorer(**initial)


def staff_survey(**initial: Any):
    """The staff-survey explorer (see :class:`analysis.explore.mutuals.StaffSurveyExplorer`)."""
    from analysis.explore.mutuals import StaffSurveyExplorer

    return StaffSurveyExplorer(**initial)


def unit_costs(**initial: Any):
    """The in-house against external unit-cost explorer (see :class:`analysis.explore.costs.UnitCostExplorer`)."""
    from analysis.explore.costs import UnitCostExplorer

    return UnitCostExplorer(**initial)


EXPLORERS = {
    "value_for_money": value_for_money,
    "council_profile": council_profile,
    "staff_survey": staff_survey,
    "unit_costs": unit_costs,
}
