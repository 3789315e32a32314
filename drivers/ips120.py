"""Oxford Instruments IPS120-10 superconducting magnet supply (Magnet role), the legacy
supply of many He-3 systems: RS-232 9600 baud, 8 data bits, no parity, 2 stop bits, CR.

Every command is answered with its own letter (``A1`` -> ``A``, ``R7`` -> ``R+1.2345``);
a refused or unknown one with ``?`` and the command, which raises InstrumentError naming
it. At connect the driver sends ``C3`` (remote & unlocked) and ``$Q4`` (extended
resolution; ``$`` asks for no reply). Fields in T, rates in T/min. The field is the demand
(output) field ``R7``; ``R18`` is the persistent field. pymeasure's IPS120_10 reads the
magnet current from ``R1``, which is the supply voltage (docs/instruments.md): not done here.
The supply has one sweep rate, so ramp_to uses the slowest table rate on the path.
"""

from __future__ import annotations

import re
from typing import Any

from pymeasure.instruments import Instrument
from pyvisa import constants as visa_constants

from pcsdaq.driver_support import guard_number
from pcsdaq.drivers._magnet_common import MagnetDriverBase, max_rate_on_path
from pcsdaq.errors import InstrumentError, LimitError, QuenchError

#: X status string activity digit -> word
ACTIVITY = {"0": "hold", "1": "to_setpoint", "2": "to_zero", "4": "clamped"}


def parse_status(reply: str) -> dict[str, int]:
    """Fields of the ``X`` reply ``XmnAnCnHnMmnPmn`` as integers: system, limits,
    activity, control, heater, mode, sweep, polarity1, polarity2."""
    text = reply.strip()
    if len(text) < 15 or text[0] != "X" or text[3] != "A" or text[5] != "C" \
            or text[7] != "H" or text[9] != "M" or text[12] != "P":
        raise InstrumentError(f"IPS120: malformed status {reply!r}")
    digits = [int(text[i], 16) for i in (1, 2, 4, 6, 8, 10, 11, 13, 14)]
    keys = ("system", "limits", "activity", "control", "heater", "mode", "sweep",
            "polarity1", "polarity2")
    return dict(zip(keys, digits, strict=True))


def _guard_target(driver: Any, match: re.Match[str]) -> None:
    driver.safety.check_abs("max_field_T", guard_number(match, "value", "target field"),
                            what="target field (raw J)")


def _guard_rate(driver: Any, match: re.Match[str]) -> None:
    """The supply has one sweep rate for every field: a raw ``T`` may not exceed the fastest
    rate of the ramp table (ramp_to itself uses the slowest rate on its path)."""
    rate = guard_number(match, "value", "sweep rate")
    fastest = max(r for _, r in driver.ramp_table)
    if not 0 < rate <= fastest:
        raise LimitError(f"{driver.name}: sweep rate {rate:g} T/min refused (raw T); the ramp "
                         f"table allows 0 < rate <= {fastest:g} T/min; nothing was sent")


class IPS120(MagnetDriverBase, Instrument):
    """IPS120-10 supply: field in T, rate in T/min, switch heater, hold/ramp/zero/clamp."""

    ROLES = ("magnet",)
    EMULATOR = "ips120"
    MODELS = ("IPS120-10",)
    COMMAND_GUARDS = (
        (re.compile(r"\$?J(?P<value>\S+)"), _guard_target),
        (re.compile(r"\$?T(?P<value>\S+)"), _guard_rate),
    )

    def __init__(self, adapter: Any, name: str | None = None, *, limits: dict | None = None,
                 settings: dict | None = None, **visa_kwargs: Any) -> None:
        self._init_station(settings, limits)
        visa_kwargs.setdefault("read_termination", "\r")
        visa_kwargs.setdefault("write_termination", "\r")
        asrl = {"baud_rate": 9600, "data_bits": 8, "parity": visa_constants.Parity.none,
                "stop_bits": visa_constants.StopBits.two}
        asrl.update(visa_kwargs.pop("asrl", {}))
        super().__init__(adapter, name or "Oxford IPS120-10", includeSCPI=False, asrl=asrl,
                         **visa_kwargs)
        self.tune_link()
        self.command("C3")
        self.write("$Q4")

    def command(self, text: str) -> str:
        """Send one command and return its reply; InstrumentError on ``?`` or a reply that
        does not echo the command's letter."""
        reply = self.ask(text).strip()
        if not reply or reply[0] != text[0]:
            raise InstrumentError(f"IPS120 refused {text!r}: {reply!r}")
        return reply

    def read_parameter(self, code: int) -> float:
        """``R<code>`` as a number (7 demand field T, 8 target T, 9 rate T/min, 18
        persistent field T, 0 demand current A, 2 measured current A)."""
        reply = self.command(f"R{code}")
        try:
            return float(reply[1:])
        except ValueError as exc:
            raise InstrumentError(f"IPS120: cannot parse R{code} reply {reply!r}") from exc

    def status(self) -> dict[str, int]:
        """Decoded ``X`` status string."""
        return parse_status(self.command("X"))

    def read_field(self) -> float:
        """Output (demand) field in T (``R7``)."""
        return self.read_parameter(7)

    def persistent_field(self) -> float:
        """Persistent field in T (``R18``)."""
        return self.read_parameter(18)

    def target(self) -> float:
        """Target field in T (``R8``)."""
        return self.read_parameter(8)

    def is_quenched(self) -> bool:
        """True when the status reports a quench (system status 1)."""
        return self.status()["system"] & 1 == 1

    def switch_heater_on(self) -> bool:
        """Switch heater on (status H1)."""
        return self.status()["heater"] == 1

    def set_switch_heater(self, on: bool) -> None:
        """``H1`` (on, only if supply and magnet currents match) or ``H0``; wait
        switch_heat/cool_time_s after."""
        self.command("H1" if on else "H0")

    def state(self) -> str:
        """ramping, zeroing, holding, clamped or paused (from activity and sweep)."""
        st = self.status()
        activity = ACTIVITY.get(str(st["activity"]), "hold")
        if activity == "clamped":
            return "clamped"
        if st["sweep"] & 1:
            return "zeroing" if activity == "to_zero" else "ramping"
        return "holding" if activity == "to_setpoint" else "paused"

    def is_holding(self) -> bool:
        """True at rest at the set point (activity 'to set point', not sweeping)."""
        return self.state() == "holding"

    def ramp_to(self, field: float, rate: float | None = None) -> None:
        """Set rate (``T``) and target (``J``), then ``A1`` (``A0`` first from clamp).
        Refusals send no setting; before refusing this reads ``X`` and ``R7``."""
        self.safety.check_abs("max_field_T", field, "target field")
        st = self.status()
        if st["system"] & 1:
            raise QuenchError("IPS120: quench reported; nothing was sent")
        if self.settings["persistent_switch"] and st["heater"] != 1:
            raise InstrumentError("IPS120: persistent switch heater is off; nothing was sent")
        start = self.read_field()
        self._check_rate(start, field, rate)
        use = max_rate_on_path(self.ramp_table, start, field)
        if rate is not None:
            use = min(use, rate)
        if st["activity"] == 4:
            self.command("A0")
        self.command(f"T{use:.4f}")
        self.command(f"J{field:.5f}")
        self.command("A1")

    def hold(self) -> None:
        """Safe state: ``A0`` (hold the present field)."""
        self.command("A0")

    def zero(self) -> None:
        """Ramp to zero (``A2``)."""
        self.command("A2")

    def safe_state(self) -> None:
        """Alias of hold()."""
        self.hold()

    def snapshot(self) -> dict[str, Any]:
        """Settings, limits, ramp table, target and rate."""
        snap = super().snapshot()
        snap.update(settings=dict(self.settings), ramp_table=self.ramp_table,
                    target_T=self.target(), rate_T_per_min=self.read_parameter(9))
        return snap
