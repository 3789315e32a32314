"""The lock-in parameters several procedures take, with the SR830's ranges in one place."""

from __future__ import annotations

from pymeasure.experiment import FloatParameter

from pcsdaq.drivers.sr830 import SENSITIVITIES_V, SINE_MAX_V, SINE_MIN_V, TIME_CONSTANTS_S


def sine_voltage_parameter(default: float = 0.1) -> FloatParameter:
    """Sine output amplitude, V rms (4 mV to 5 V)."""
    return FloatParameter("Sine amplitude", units="V", minimum=SINE_MIN_V, maximum=SINE_MAX_V,
                          default=default)


def time_constant_parameter(default: float,
                            maximum: float = TIME_CONSTANTS_S[-1]) -> FloatParameter:
    """Output filter time constant, s (10 us up to ``maximum``, at most 30 ks)."""
    return FloatParameter("Time constant", units="s", minimum=TIME_CONSTANTS_S[0],
                          maximum=min(maximum, TIME_CONSTANTS_S[-1]), default=default)


def sensitivity_parameter(default: float) -> FloatParameter:
    """Full-scale sensitivity, V rms (2 nV to 1 V)."""
    return FloatParameter("Sensitivity", units="V", minimum=SENSITIVITIES_V[0],
                          maximum=SENSITIVITIES_V[-1], default=default)
