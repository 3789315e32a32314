"""The lock-in parameters several procedures take, with the lock-in role's ranges
(:mod:`pcsdaq.roles`) in one place."""

from __future__ import annotations

from pymeasure.experiment import FloatParameter

from pcsdaq.roles import LOCKIN_SENSITIVITY_V, LOCKIN_SINE_V, LOCKIN_TIME_CONSTANT_S


def sine_voltage_parameter(default: float = 0.1) -> FloatParameter:
    """Sine output amplitude, V rms (4 mV to 5 V)."""
    return FloatParameter("Sine amplitude", units="V", minimum=LOCKIN_SINE_V[0],
                          maximum=LOCKIN_SINE_V[1], default=default)


def time_constant_parameter(default: float,
                            maximum: float = LOCKIN_TIME_CONSTANT_S[1]) -> FloatParameter:
    """Output filter time constant, s (10 us up to ``maximum``, at most 30 ks)."""
    return FloatParameter("Time constant", units="s", minimum=LOCKIN_TIME_CONSTANT_S[0],
                          maximum=min(maximum, LOCKIN_TIME_CONSTANT_S[1]), default=default)


def sensitivity_parameter(default: float) -> FloatParameter:
    """Full-scale sensitivity, V rms (2 nV to 1 V)."""
    return FloatParameter("Sensitivity", units="V", minimum=LOCKIN_SENSITIVITY_V[0],
                          maximum=LOCKIN_SENSITIVITY_V[1], default=default)
