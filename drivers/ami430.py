"""American Magnetics Model 430 magnet supply (Magnet role), over TCP port 7180, CR LF.

Reuses pymeasure's AMI430 command set but not the class: its ``ramp_rate_current`` leaves
out the segment's upper bound, so segments are written here as
``CONF:RAMP:RATE:FIELD seg,rate,upper``. Units are set at connect: tesla and per minute.
"""

from __future__ import annotations

import re
from typing import Any

from pymeasure.instruments import Instrument

from pcsdaq.driver_support import guard_number, refuse_command
from pcsdaq.drivers._magnet_common import MagnetDriverBase, max_rate_on_path
from pcsdaq.errors import InstrumentError, LimitError, QuenchError
from pcsdaq.validators import refusing_choice

STATES = {1: "ramping", 2: "holding", 3: "paused", 4: "manual_up", 5: "manual_down",
          6: "zeroing", 7: "quench", 8: "at_zero", 9: "heating_switch", 10: "cooling_switch"}


def _guard_target(driver: Any, match: re.Match[str]) -> None:
    driver.safety.check_abs("max_field_T", guard_number(match, "value", "target field"),
                            what="target field (raw CONF:FIELD:TARG)")


def _guard_segment(driver: Any, match: re.Match[str]) -> None:
    """A ramp segment ``seg,rate,upper`` covers |B| from the previous segment's upper bound
    to ``upper``: its rate may not exceed the table anywhere there."""
    seg = int(guard_number(match, "seg", "segment"))
    rate = guard_number(match, "rate", "segment rate")
    upper = guard_number(match, "upper", "segment upper bound")
    segments = driver.__dict__.setdefault("_segments", {})
    lower = segments.get(seg - 1, 0.0)
    allowed = max_rate_on_path(driver.ramp_table, lower, upper)
    if not 0 < rate <= allowed:
        raise LimitError(f"{driver.name}: ramp segment {seg} rate {rate:g} T/min refused, the "
                         f"table allows 0 < rate <= {allowed:g} T/min between {lower:g} and "
                         f"{upper:g} T; nothing was sent")
    segments[seg] = upper


class AMI430(MagnetDriverBase, Instrument):
    """AMI 430 supply: field in T, rates in T/min, segmented ramp table, quench detection."""

    ROLES = ("magnet",)
    EMULATOR = "ami430"
    MODELS = ("430",)
    COMMAND_GUARDS = (
        (re.compile(r"(?i)CONF:FIELD:TARG\s+(?P<value>\S+)"), _guard_target),
        (re.compile(r"(?i)CONF:RAMP:RATE:FIELD\s+(?P<seg>[^,\s]+)\s*,\s*(?P<rate>[^,\s]+)"
                    r"\s*,\s*(?P<upper>[^,\s]+)"), _guard_segment),
        (re.compile(r"(?i)CONF:(?:CURR:TARG|RAMP:RATE:CURR)\b.*"),
         refuse_command("a current target or rate bypasses the field limits; use ramp_to")),
    )

    # --- plain commands, as in the manual's command table ------------------------------
    field = Instrument.measurement(
        "FIELD:MAG?", """Measure the magnet field in T (field units are set to tesla at
        connect).""")
    quenched = Instrument.measurement(
        "QU?", """Measure whether the supply reports a quench (bool).""",
        values={True: 1, False: 0}, map_values=True, cast=int)
    switch_heater = Instrument.control(
        "PS?", "PS %d", """Control the persistent switch heater (bool); wait
        switch_heat/cool_time_s after a change.""",
        validator=refusing_choice("switch heater"), values={True: 1, False: 0},
        map_values=True, cast=int)

    def __init__(self, adapter: Any, name: str | None = None, *, limits: dict | None = None,
                 settings: dict | None = None, **visa_kwargs: Any) -> None:
        self._init_station(settings, limits)
        visa_kwargs.setdefault("read_termination", "\r\n")
        visa_kwargs.setdefault("write_termination", "\r\n")
        super().__init__(adapter, name or "AMI 430", includeSCPI=False, **visa_kwargs)
        self.tune_link()
        self._discard_greeting()
        self.write("CONF:FIELD:UNITS 1")
        self.write("CONF:RAMP:RATE:UNITS 1")

    def _discard_greeting(self) -> None:
        """Read the 'American Magnetics Model 430 IP Interface' / 'Hello.' greeting."""
        text = self.read()
        if "Hello." not in text:
            self.read()

    def read_field(self) -> float:
        """Magnet field in T (``FIELD:MAG?``)."""
        return self.ask_float("FIELD:MAG?")

    def state(self) -> str:
        """Supply state word from ``STATE?``."""
        code = self.ask_int("STATE?")
        return STATES.get(code, f"unknown_{code}")

    def is_holding(self) -> bool:
        """True when holding at the target."""
        return self.state() == "holding"

    def is_quenched(self) -> bool:
        """True when a quench is reported (``QU?``)."""
        return self.quenched

    def switch_heater_on(self) -> bool:
        """Persistent switch heater state (``PS?``)."""
        return self.switch_heater

    def set_switch_heater(self, on: bool) -> None:
        """Switch heater on/off (``PS 1``/``PS 0``); wait switch_heat/cool_time_s after."""
        self.switch_heater = bool(on)

    def ramp_to(self, field: float, rate: float | None = None) -> None:
        """Program segments and target, then RAMP. Refusals send no setting.

        Before refusing on quench, persistent switch or rate, this queries ``STATE?``,
        ``PS?`` (when persistent_switch is configured) and ``FIELD:MAG?`` (for the path)."""
        self.safety.check_abs("max_field_T", field, "target field")
        state = self.state()
        if state == "quench":
            raise QuenchError("AMI430: quench reported; clear it (QU 0) before ramping")
        if state in ("heating_switch", "cooling_switch"):
            raise InstrumentError(f"AMI430: persistent switch {state.split('_')[0]}; wait for "
                                  "it before ramping (nothing was sent)")
        if self.settings["persistent_switch"] and not self.switch_heater_on():
            raise InstrumentError("AMI430: persistent switch heater is off; nothing was sent")
        self._check_rate(self.read_field(), field, rate)
        segments = self.segments_for(rate)
        self.write(f"CONF:RAMP:RATE:SEG {len(segments)}")
        for i, (upper, seg_rate) in enumerate(segments, start=1):
            self.write(f"CONF:RAMP:RATE:FIELD {i},{seg_rate:g},{upper:g}")
        self.write(f"CONF:FIELD:TARG {field:g}")
        self.write("RAMP")

    def target(self) -> float:
        """Programmed target in T (``FIELD:TARG?``)."""
        return self.ask_float("FIELD:TARG?")

    def hold(self) -> None:
        """Safe state: PAUSE (stop ramping, hold the present field)."""
        self.write("PAUSE")

    def zero(self) -> None:
        """Ramp to zero at the table rates (``ZERO``)."""
        self.write("ZERO")

    def clear_quench(self) -> None:
        """Clear the quench flag (``QU 0``)."""
        self.write("QU 0")

    def apply_current_limit(self) -> float:
        """Set CONF:CURR:LIMIT to max_field_T / coil constant (``COIL?``, T/A); return A.

        A second guard beside the software |B| check. Not called at connect (unconfirmed
        whether the emulator answers COIL?); the station may call it once."""
        coil = self.ask_float("COIL?")
        if coil <= 0:
            raise InstrumentError(f"AMI430: coil constant {coil!r} T/A is not positive")
        amps = self.max_field / coil
        self.write(f"CONF:CURR:LIMIT {amps:.4f}")
        return amps

    def check_errors(self) -> None:
        """Raise InstrumentError for an entry in the error queue (``SYST:ERR?``)."""
        reply = self.ask("SYST:ERR?").strip()
        if not reply.startswith("0") and "no error" not in reply.lower():
            raise InstrumentError(f"AMI430 error: {reply}")

    def safe_state(self) -> None:
        """Alias of hold()."""
        self.hold()

    def snapshot(self) -> dict[str, Any]:
        """Settings, limits, ramp table and target."""
        snap = super().snapshot()
        snap.update(settings=dict(self.settings), ramp_table=self.ramp_table,
                    target_T=self.target())
        return snap
