"""Role interfaces: what procedures may ask of an instrument, whatever its model.

Procedures depend on these Protocols only; which model fills a role is one line of a
station file (``configs/*.yaml``). Units are SI everywhere: V, A, K, T, s, Hz, Ohm.
Every method that sends a value validates it against the driver's safety limits first and
raises :class:`pcsdaq.errors.LimitError` without sending anything when it refuses.

Every driver also offers ``snapshot() -> dict`` (its settings, for the run record) and
``shutdown()`` (close the link), as pymeasure instruments do (:class:`RoleInstrument`).

What procedures need to know of a lock-in before a station is open (parameter ranges, the
settle rule) is role-level here too (``LOCKIN_*``, :func:`lockin_settle_time`), so that no
procedure imports a driver module; tests/drivers/test_role_protocols.py checks that every
driver claiming a role has the role's methods and attributes and covers these ranges.
"""

from __future__ import annotations

import math
from typing import Any, Protocol, runtime_checkable

#: sine output amplitude a procedure may ask of a lock-in, V rms (min, max)
LOCKIN_SINE_V = (0.004, 5.0)
#: output filter time constants a procedure may ask for, s (min, max)
LOCKIN_TIME_CONSTANT_S = (1e-5, 3e4)
#: full-scale sensitivities a procedure may ask for, V (min, max)
LOCKIN_SENSITIVITY_V = (2e-9, 1.0)
#: output filter slopes, dB/oct
LOCKIN_FILTER_SLOPES_DB = (6, 12, 18, 24)
#: settle time after a step in time constants for 6/12/18/24 dB/oct (the usual 5/7/9/10 rule)
LOCKIN_SETTLE_TAUS = {6: 5.0, 12: 7.0, 18: 9.0, 24: 10.0}


def step_settle_taus(poles: int, accuracy: float) -> float:
    """Time, in time constants, for ``poles`` cascaded RC stages to reach 1 - accuracy of a step.

    The step response of n equal poles is 1 - exp(-x) * sum_{k<n} x^k / k!; e.g. 99 %
    (accuracy 1e-2) takes 4.61/6.64/8.41/10.05 tau for 1/2/3/4 poles."""
    from scipy.optimize import brentq

    if not 0 < accuracy < 1:
        raise ValueError(f"accuracy = {accuracy!r} must be between 0 and 1")

    def remaining(x: float) -> float:
        term, total = 1.0, 1.0
        for k in range(1, poles):
            term *= x / k
            total += term
        return math.exp(-x) * total - accuracy

    return float(brentq(remaining, 0.0, 200.0, xtol=1e-9))


def lockin_settle_time(time_constant_s: float, filter_slope_db: int, factor: float = 1.0,
                       accuracy: float | None = None) -> float:
    """Time in s for a lock-in's output filter to settle after a step.

    Without ``accuracy``: 5/7/9/10 time constants for 6/12/18/24 dB/oct
    (:data:`LOCKIN_SETTLE_TAUS`), times ``factor``; with ``accuracy`` (e.g. 1e-3): the exact
    time for slope/6 cascaded poles to reach 1 - accuracy of a step, times ``factor``."""
    taus = (LOCKIN_SETTLE_TAUS[filter_slope_db] if accuracy is None
            else step_settle_taus(filter_slope_db // 6, accuracy))
    return factor * taus * time_constant_s


@runtime_checkable
class RoleInstrument(Protocol):
    """What every driver offers whatever its role."""

    def snapshot(self) -> dict[str, Any]:
        """The instrument's settings for the run record."""

    def shutdown(self) -> None:
        """Close the link (nothing for a driver riding on another role's link)."""


@runtime_checkable
class Lockin(RoleInstrument, Protocol):
    """Lock-in amplifier measuring the AC response (dI/dV or dV/dI) of the contact."""

    sine_voltage: float  #: reference sine output amplitude, V rms
    frequency: float  #: reference frequency, Hz
    time_constant: float  #: output filter time constant, s (nearest allowed value)
    filter_slope: int  #: output filter slope, dB/oct (6, 12, 18, 24)
    sensitivity: float  #: full-scale sensitivity, V (nearest allowed value)

    def read_xy(self) -> tuple[float, float]:
        """Measure X and Y in V at one instant (one query)."""

    def ac_current(self) -> float:
        """AC excitation current in A rms that the sine output drives (no I/O)."""

    def settle_time(self, factor: float = 1.0, accuracy: float | None = None) -> float:
        """Time in s for the output filter to settle after a step.

        Without ``accuracy``: 5/7/9/10 time constants for 6/12/18/24 dB/oct, times
        ``factor``. With ``accuracy`` (e.g. 1e-3): the exact time for n cascaded RC poles to
        reach 1 - accuracy of a step (:func:`lockin_settle_time`). Uses the cached time
        constant and slope (no I/O).
        """

    def is_overloaded(self) -> bool:
        """True when the input, filter or output overload bit is set (reads ``LIAS?``)."""

    def sensitivity_up(self) -> float:
        """Step to the next coarser sensitivity (after an overload); returns it in V."""

    def sensitivity_down(self) -> float:
        """Step to the next finer sensitivity; returns it in V."""


@runtime_checkable
class Voltmeter(RoleInstrument, Protocol):
    """DC voltmeter reading the voltage across the contact."""

    def read_voltage(self) -> float:
        """A fresh DC voltage reading in V (one transaction; never a stale value)."""


@runtime_checkable
class BiasSource(RoleInstrument, Protocol):
    """DC bias current through the contact."""

    max_current: float  #: configured |I| limit, A

    def set_current(self, current: float) -> float:
        """Source ``current`` in A (validated against the limit first); returns the current
        really sourced, A (the set value, or the nearest the source can make)."""

    def get_current(self) -> float:
        """The sourced current in A as last set (from the instrument's setting)."""

    def zero(self) -> None:
        """Safe state: bias to zero."""

    def conversion(self) -> dict:
        """How the current is made (e.g. aux volts through a series resistor), for the record."""


@runtime_checkable
class Thermometer(RoleInstrument, Protocol):
    """Temperature controller of the sample stage (bridge or controller with a heater)."""

    def read_temperature(self) -> float:
        """Sample-stage temperature in K."""

    def read_resistance(self) -> float:
        """Raw sensor resistance in Ohm (the RuO2 reading)."""

    def reading_valid(self) -> bool:
        """False when the reading status reports an overload/under/over range."""

    def is_settled(self) -> bool:
        """True when the bridge/controller reports its reading settled (372: ``RDGSTL?``)."""

    def set_setpoint(self, kelvin: float) -> None:
        """Control setpoint in K (validated against max_temperature_K)."""

    def get_setpoint(self) -> float:
        """Control setpoint in K."""

    def set_heater_range(self, index: int) -> None:
        """Heater range index (0 = off), validated against the configured maximum."""

    def set_ramp(self, rate_K_per_min: float, enabled: bool = True) -> None:
        """Setpoint ramp in K/min."""

    def heater_output(self) -> float:
        """Heater output in % of range."""

    def safe_state(self) -> None:
        """Put the heater in its configured safe state (e.g. off)."""


@runtime_checkable
class Magnet(RoleInstrument, Protocol):
    """Superconducting magnet power supply."""

    max_field: float  #: configured |B| limit, T (never above 7 T)

    def read_field(self) -> float:
        """Magnet field in T."""

    def ramp_to(self, field: float, rate: float | None = None) -> None:
        """Start ramping to ``field`` in T at ``rate`` in T/min (None: the table's rate).

        Refused (nothing sent) beyond max_field, above the rate table, while quenched or
        with the persistent switch in the wrong state."""

    def is_holding(self) -> bool:
        """True when the supply holds at its target."""

    def is_quenched(self) -> bool:
        """True when the supply reports a quench."""

    def hold(self) -> None:
        """Safe state: stop ramping and hold the present field."""

    def state(self) -> str:
        """Supply state as a word: ramping, holding, paused, zeroing, at_zero, quench, ..."""


@runtime_checkable
class Positioner(RoleInstrument, Protocol):
    """Piezo stepper moving the needle (positive steps approach the sample)."""

    def step(self, steps: int) -> None:
        """Move ``steps`` steps (positive: towards the sample) and wait until done.

        |steps| is validated against max_steps_per_burst."""

    def set_voltage(self, volts: float) -> None:
        """Step amplitude in V (validated against max_voltage_V, hardware 150 V)."""

    def set_frequency(self, hertz: float) -> None:
        """Step frequency in Hz."""

    def stop(self) -> None:
        """Stop any motion."""

    def ground(self) -> None:
        """Safe state: ground the axis."""


#: station role name -> the Protocol a driver filling it implements (the order is the one
#: station files, error messages and :class:`pcsdaq.station.Station` list roles in)
ROLE_PROTOCOLS: dict[str, type] = {
    "lockin": Lockin,
    "bias": BiasSource,
    "dmm": Voltmeter,
    "thermometer": Thermometer,
    "magnet": Magnet,
    "positioner": Positioner,
}
