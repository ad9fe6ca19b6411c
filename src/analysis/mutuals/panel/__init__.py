"""Panel methods for a researcher's own organisation x year panel.

``validate_panel`` / ``read_panel_csv`` check the structure; then
``did_2x2``, ``twfe``, ``callaway_santanna`` + ``aggregate``,
``twfe_event_study`` and ``synthetic_control``.
"""

from analysis.mutuals.panel.did import Estimate, did_2x2, twfe
from analysis.mutuals.panel.event_study import EventStudy, twfe_event_study
from analysis.mutuals.panel.schema import Panel, PanelColumns, read_panel_csv, validate_panel
from analysis.mutuals.panel.staggered import Aggregate, GroupTimeResult, aggregate, callaway_santanna
from analysis.mutuals.panel.synth import (
                                          Predictor,
                                          SyntheticControl,
                                          predictor_table,
                                          simplex_least_squares,
                                          simplex_weights,
                                          synthetic_control,
)

__all__ = ["Aggregate", "Estimate", "EventStudy", "GroupTimeResult", "Panel", "PanelColumns", "Predictor",
           "SyntheticControl",
           "predictor_table", "simplex_least_squares",
           "aggregate", "callaway_santanna", "did_2x2", "read_panel_csv", "simplex_weights", "synthetic_control",
           "twfe", "twfe_event_study", "validate_panel"]
