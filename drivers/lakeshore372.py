"""Lake Shore 372 AC resistance bridge / temperature controller (Thermometer role).

Lake Shore boxes send no reply to commands and silently ignore bad ones, so the setpoint
and heater range are read back after setting and LinkFault is raised if they did
not take (the command was lost or garbled on the way). Commands need >= 50 ms spacing on the
real box (setting ``command_delay_s``).
"""

from __future__ import annotations

import time
from typing import Any, ClassVar

from pymeasure.instruments import Instrument

from pcsdaq.driver_support import StationDriver
from pcsdaq.drivers._lakeshore_common import (
    LAKESHORE_GUARDS,
    LakeShoreControlLoop,
    lakeshore_limits,
)
from pcsdaq.errors import ConfigError, LimitError, LinkFault
from pcsdaq.limits import Limit

#: RDGST? bit -> flag name (372 manual, RDGST? reply is a bit-weighted integer)
READING_STATUS_BITS = {
    1: "cs_overload",
    2: "vcm_overload",
    4: "vmix_overload",
    8: "vdif_overload",
    16: "r_over",
    32: "r_under",
    64: "t_over",
    128: "t_under",
}


def decode_reading_status(code: int) -> set[str]:
    """Flags set in a 372 ``RDGST?`` integer (empty set: reading valid)."""
    return {name for bit, name in READING_STATUS_BITS.items() if code & bit}


class LakeShore372(LakeShoreControlLoop, StationDriver, Instrument):
    """Lake Shore 372 bridge: kelvin/ohm readings, settle status, heater control (SI units)."""

    ROLES = ("thermometer",)
    EMULATOR = "ls372"
    MODELS = ("372",)

    COMMAND_GUARDS = LAKESHORE_GUARDS
    LIMITS: ClassVar[dict[str, Limit]] = lakeshore_limits(max_heater_range=8.0)
    SETTINGS: ClassVar[dict[str, tuple[Any, Any, str]]] = {
        "channel": ((str, int), "A", "measurement channel: 'A' (control input) or 1-16"),
        "output": (int, 0, "heater output: 0 sample, 1 warm-up, 2 still"),
        "safe_heater_range": (int, 0, "heater range index of the safe state"),
        "command_delay_s": (float, 0.05, "minimum spacing between commands, s"),
    }

    # --- plain commands, as in the manual's command table ------------------------------
    sample_heater_output = Instrument.measurement(
        "HTR?", """Measure the sample heater output in % of its range.""")
    sample_heater_status = Instrument.measurement(
        "HTRST?", """Measure the sample heater status: 'ok', 'open' (load) or 'short'.""",
        values={"ok": 0, "open": 1, "short": 2}, map_values=True, cast=int)

    def __init__(self, adapter: Any, name: str | None = None, *, limits: dict | None = None,
                 settings: dict | None = None, **visa_kwargs: Any) -> None:
        self.safety = self.check_config(settings, limits)
        self.settings = self.settings_with_defaults(settings)
        self._last_command = 0.0
        visa_kwargs.setdefault("read_termination", "\r\n")
        visa_kwargs.setdefault("write_termination", "\r\n")
        super().__init__(adapter, name or "Lake Shore 372", includeSCPI=False, **visa_kwargs)
        self.tune_link()

    @classmethod
    def check_config(cls, settings, limits):
        """Base checks plus channel/output/safe range values."""
        safety = super().check_config(settings, limits)
        merged = cls.settings_with_defaults(settings)
        ch = merged["channel"]
        if not (ch == "A" or (isinstance(ch, int) and 1 <= ch <= 16)):
            raise ConfigError(f"channel = {ch!r} must be 'A' or 1-16", key="settings")
        if merged["output"] not in (0, 1, 2):
            raise ConfigError(f"output = {merged['output']!r} must be 0, 1 or 2", key="settings")
        if not 0 <= merged["safe_heater_range"] <= safety["max_heater_range"]:
            raise ConfigError("safe_heater_range must be 0..max_heater_range", key="settings")
        if not 0 <= merged["command_delay_s"] <= 10:
            raise ConfigError("command_delay_s must be 0 to 10 s", key="settings")
        return safety

    # --- spacing ---------------------------------------------------------------------
    def _space(self) -> None:
        delay = self.settings["command_delay_s"]
        if delay:
            wait = self._last_command + delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        self._last_command = time.monotonic()

    def write(self, command: str, **kwargs: Any) -> None:
        """Write with the configured command spacing."""
        self._space()
        super().write(command, **kwargs)

    @property
    def _ch(self) -> str:
        return str(self.settings["channel"])

    # --- readings --------------------------------------------------------------------
    def read_temperature(self) -> float:
        """Channel temperature in K (``RDGK?``)."""
        return self.ask_float(f"RDGK? {self._ch}")

    def read_resistance(self) -> float:
        """Channel resistance in Ohm (``RDGR?``)."""
        return self.ask_float(f"RDGR? {self._ch}")

    def reading_status(self) -> set[str]:
        """Decoded ``RDGST?`` flags of the channel (empty: valid)."""
        return decode_reading_status(self.ask_int(f"RDGST? {self._ch}"))

    def settle_status(self) -> tuple[bool, bool]:
        """(control channel settled, active channel settled) from ``RDGSTL?``."""
        parts = self.ask("RDGSTL?").strip().split(",")
        return parts[0].strip() == "1", parts[1].strip() == "1"

    def is_settled(self) -> bool:
        """True when the bridge reports the measured channel settled (``RDGSTL?``)."""
        control, active = self.settle_status()
        return control if self._ch == "A" else active

    # --- control ---------------------------------------------------------------------
    def set_heater_range(self, index: int) -> None:
        """Heater range index 0-8 (``RANGE out,r``), read back; InstrumentError if ignored."""
        if not isinstance(index, int) or isinstance(index, bool):
            raise LimitError(f"heater range {index!r} must be an int; nothing was sent")
        self.safety.check_range("max_heater_range", index, 0, "heater range")
        self.write(f"RANGE {self._out},{index}")
        got = self.ask_int(f"RANGE? {self._out}")
        if got != index:
            raise LinkFault(f"372 ignored RANGE {self._out},{index} (reads {got})")

    def heater_output(self) -> float:
        """Sample heater output in % of range (``HTR?``)."""
        return self.ask_float("HTR?")

    def heater_status(self) -> str:
        """Sample heater status from ``HTRST?``: 'ok', 'open' or 'short'."""
        return {0: "ok", 1: "open", 2: "short"}.get(self.ask_int("HTRST?"), "unknown")

    def set_heater_setup(self, resistance_ohm: float, max_current_code: int = 0,
                         max_user_current_A: float = 0.0, display: int = 1) -> None:
        """Sample heater setup, 372 layout: ``HTRSET 0,<ohms>,<max current>,<user A>,<disp>``.

        Field layout from the 372 manual; unconfirmed against a real box."""
        self.write(f"HTRSET {self._out},{resistance_ohm:g},{max_current_code},"
                   f"{max_user_current_A:g},{display}")

    def snapshot(self) -> dict[str, Any]:
        """Settings and limits, plus setpoint, range and PID as read from the box."""
        snap = super().snapshot()
        snap.update(settings=dict(self.settings), setpoint_K=self.get_setpoint(),
                    heater_range=self.ask_int(f"RANGE? {self._out}"), pid=self.get_pid())
        return snap
