"""The control-output commands the Lake Shore 372 and 336/350/340 drivers share.

Both answer nothing to a command and ignore a bad one silently, so the setpoint is read
back after setting. The driver provides ``ask``/``write``, ``safety``, ``settings["output"]``
and ``set_heater_range``.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from pcsdaq.driver_support import guard_number, parse_reply
from pcsdaq.errors import LimitError, LinkFault
from pcsdaq.limits import Limit


def lakeshore_limits(max_heater_range: float) -> dict[str, Limit]:
    """The safety limits every Lake Shore controller driver enforces; only the highest heater
    range index differs between models (5 on the 336, 8 on the 372)."""
    return {
        "max_heater_range": Limit("", max_heater_range, description="highest heater range index"),
        "max_temperature_K": Limit("K", 300.0, description="highest setpoint"),
        "max_ramp_K_per_min": Limit("K/min", 100.0, description="fastest setpoint ramp"),
    }


def _guard_range(driver: Any, match: re.Match[str]) -> None:
    value = guard_number(match, "value", "heater range")
    if value != int(value):
        raise LimitError(f"{driver.name}: heater range {value:g} is not an integer; "
                         "nothing was sent")
    driver.safety.check_range("max_heater_range", value, 0, "heater range (raw RANGE)")


def _guard_setpoint(driver: Any, match: re.Match[str]) -> None:
    driver.safety.check_range("max_temperature_K", guard_number(match, "value", "setpoint"),
                              0.0, "setpoint (raw SETP)")


def _guard_ramp(driver: Any, match: re.Match[str]) -> None:
    driver.safety.check_range("max_ramp_K_per_min", guard_number(match, "value", "ramp rate"),
                              0.0, "ramp rate (raw RAMP)")


#: the Lake Shore commands that move the heater: RANGE [out,]r, SETP out,K, RAMP out,on,K/min
LAKESHORE_GUARDS = (
    (re.compile(r"(?i)RANGE\s+(?:\S+?\s*,\s*)?(?P<value>[^,\s]+)\s*"), _guard_range),
    (re.compile(r"(?i)SETP\s+\S+?\s*,\s*(?P<value>[^,\s]+)\s*"), _guard_setpoint),
    (re.compile(r"(?i)RAMP\s+\S+?\s*,\s*\S+?\s*,\s*(?P<value>[^,\s]+)\s*"), _guard_ramp),
)

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

        def ask_float(self, command: str) -> float: ...

        def ask_int(self, command: str) -> int: ...

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
            # a Lake Shore ignores a command it cannot parse: the line lost or garbled it
            raise LinkFault(f"{self.name} ignored SETP {self._out},{kelvin:g} "
                                  f"(reads {got:g} K)")

    def get_setpoint(self) -> float:
        """Setpoint in K (``SETP? out``)."""
        return self.ask_float(f"SETP? {self._out}")

    def set_pid(self, p: float, i: float, d: float) -> None:
        """PID parameters (``PID out,P,I,D``)."""
        self.write(f"PID {self._out},{p:g},{i:g},{d:g}")

    def get_pid(self) -> tuple[float, float, float]:
        """(P, I, D) from ``PID? out``."""
        reply = self.ask(f"PID? {self._out}")
        p, i, d = parse_reply(reply, "PID?", lambda t: [float(x) for x in t.split(",")],
                              self.name)
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
