"""Role interfaces: what procedures may ask of an instrument, whatever its model.

Procedures depend on these Protocols only; which model fills a role is one line of a
station file (``configs/*.yaml``). Units are SI everywhere: V, A, K, T, s, Hz, Ohm.
Every method that sends a value validates it against the driver's safety limits first and
raises :class:`pcsdaq.errors.LimitError` without sending anything when it refuses.

Every driver also offers ``snapshot() -> dict`` (its settings, for the run record) and
``shutdown()`` (close the link), as pymeasure instruments do.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable


@runtime_checkable
class Lockin(Protocol):
    """Lock-in amplifier measuring the AC response (dI/dV or dV/dI) of the contact."""

    sine_voltage: float  #: reference sine output amplitude, V rms
    frequency: float  #: reference frequency, Hz
    time_constant: float  #: output filter time constant, s (nearest allowed value)
    filter_slope: int  #: output filter slope, dB/oct (6, 12, 18, 24)
    sensitivity: float  #: full-scale sensitivity, V (nearest allowed value)

    def read_xy(self) -> tuple[float, float]:
        """Measure X and Y in V at one instant (one query)."""

    def settle_time(self, factor: float = 1.0, accuracy: float | None = None) -> float:
        """Time in s for the output filter to settle after a step.

        Without ``accuracy``: 5/7/9/10 time constants for 6/12/18/24 dB/oct, times
        ``factor``. With ``accuracy`` (e.g. 1e-3): the exact time for n cascaded RC poles to
        reach 1 - accuracy of a step. Uses the cached time constant and slope (no I/O).
        """

    def is_overloaded(self) -> bool:
        """True when the input, filter or output overload bit is set (reads ``LIAS?``)."""

    def sensitivity_up(self) -> float:
        """Step to the next coarser sensitivity (after an overload); returns it in V."""

    def sensitivity_down(self) -> float:
        """Step to the next finer sensitivity; returns it in V."""


@runtime_checkable
class Voltmeter(Protocol):
    """DC voltmeter reading the voltage across the contact."""

    def read_voltage(self) -> float:
        """A fresh DC voltage reading in V (one transaction; never a stale value)."""


@runtime_checkable
class BiasSource(Protocol):
    """DC bias current through the contact."""

    max_current: float  #: configured |I| limit, A

    def set_current(self, current: float) -> None:
        """Source ``current`` in A (validated against the limit first)."""

    def get_current(self) -> float:
        """The sourced current in A as last set (from the instrument's setting)."""

    def zero(self) -> None:
        """Safe state: bias to zero."""

    def conversion(self) -> dict:
        """How the current is made (e.g. aux volts through a series resistor), for the record."""


@runtime_checkable
class Thermometer(Protocol):
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
class Magnet(Protocol):
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
class Positioner(Protocol):
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
