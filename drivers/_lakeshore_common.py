"""The control-output commands the Lake Shore 372 and 336/350/340 drivers share.

Both answer nothing to a command and ignore a bad one silently, so the setpoint is read
back after setting. The driver provides ``ask``/``write``, ``safety``, ``settings["output"]``
and ``set_heater_range``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pcsdaq.errors import InstrumentError

if TYPE_CHECKING:
    from pcsdaq.limits import SafetyLimits


class LakeShoreControlLoop:
    """Setpoint, PID, setpoint ramp and safe state of control output ``settings["output"]``.

    A mixin of the Lake Shore drivers: it relies on their StationDriver and Instrument parts
    (declared below for the type checker only)."""

    if TYPE_CHECKING:
        name: str
        settings: dict[str, Any]
        safety: SafetyLimits

        def write(self, command: str) -> None: ...

        def ask(self, command: str) -> str: ...

        def reading_status(self) -> Any: ...

        def set_heater_range(self, index: int) -> None: ...

    @property
    def _out(self) -> int:
        return self.settings["output"]

    def reading_valid(self) -> bool:
        """False when any invalid/overload/over/under range flag is set (``RDGST?``)."""
        return not self.reading_status()

    def set_setpoint(self, kelvin: float) -> None:
        """Setpoint in K (``SETP out,v``), read back; InstrumentError if ignored."""
        self.safety.check_range("max_temperature_K", kelvin, 0.0, "setpoint")
        self.write(f"SETP {self._out},{kelvin:g}")
        got = self.get_setpoint()
        if abs(got - kelvin) > max(1e-6, 1e-4 * abs(kelvin)):
            raise InstrumentError(f"{self.name} ignored SETP {self._out},{kelvin:g} "
                                  f"(reads {got:g} K)")

    def get_setpoint(self) -> float:
        """Setpoint in K (``SETP? out``)."""
        return float(self.ask(f"SETP? {self._out}"))

    def set_pid(self, p: float, i: float, d: float) -> None:
        """PID parameters (``PID out,P,I,D``)."""
        self.write(f"PID {self._out},{p:g},{i:g},{d:g}")

    def get_pid(self) -> tuple[float, float, float]:
        """(P, I, D) from ``PID? out``."""
        p, i, d = (float(x) for x in self.ask(f"PID? {self._out}").split(","))
        return p, i, d

    def set_ramp(self, rate_K_per_min: float, enabled: bool = True) -> None:
        """Setpoint ramp (``RAMP out,on,rate``) in K/min."""
        self.safety.check_range("max_ramp_K_per_min", rate_K_per_min, 0.0, "ramp rate")
        self.write(f"RAMP {self._out},{int(bool(enabled))},{rate_K_per_min:g}")

    def is_ramping(self) -> bool:
        """True while the setpoint ramps (``RAMPST? out``)."""
        return self.ask(f"RAMPST? {self._out}").strip() == "1"

    def safe_state(self) -> None:
        """Ramp off and heater range to ``safe_heater_range``."""
        self.write(f"RAMP {self._out},0,0")
        self.set_heater_range(self.settings["safe_heater_range"])
