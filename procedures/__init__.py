"""Measurement procedures (pymeasure Procedures) using instruments by role.

``PROCEDURES`` maps each plan name to its class; the engine (pcsdaq.runner) runs them and the
GUI builds its forms from their pymeasure Parameters.
"""

from pcsdaq.procedures.adaptive_sweep import AdaptiveBiasSweep
from pcsdaq.procedures.approach import NeedleApproach
from pcsdaq.procedures.base import PlanError, RunContext, StationProcedure
from pcsdaq.procedures.bias_sweep import BiasSweep
from pcsdaq.procedures.rt_log import RTLog
from pcsdaq.procedures.series import FieldSeries, TemperatureSeries
from pcsdaq.procedures.survey import ContactSurvey

PROCEDURES: dict[str, type[StationProcedure]] = {
    cls.NAME: cls for cls in (BiasSweep, AdaptiveBiasSweep, RTLog, TemperatureSeries,
                             FieldSeries, NeedleApproach, ContactSurvey)
}

__all__ = ["PROCEDURES", "AdaptiveBiasSweep", "BiasSweep", "ContactSurvey", "FieldSeries",
           "NeedleApproach", "PlanError", "RTLog", "RunContext", "StationProcedure",
           "TemperatureSeries"]
