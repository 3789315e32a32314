"""Lake Shore 336 / 350 / 340 temperature controllers (Thermometer role).

Reads KRDG?/SRDG? per input, controls SETP/RANGE/RAMP/PID per output. The 340's RANGE
takes no loop argument (``RANGE r``; pymeasure's LakeShore3xx sends ``RANGE ch,n`` to it,
the bug docs/instruments.md lists), selected with SETTINGS model "340". Setpoint and range are
read back after setting (the boxes ignore bad commands silently). The 336 has no settle
status: is_settled() means reading valid and no setpoint ramp in progress (RAMPST?).
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
from pcsdaq.limits import Limit, SafetyLimits

#: RDGST? bit -> flag (336/350 manual)
READING_STATUS_BITS = {1: "invalid", 16: "t_under", 32: "t_over", 64: "units_zero",
                       128: "units_over"}
#: (model, output) -> highest RANGE index
MODEL_MAX_RANGE = {("336", 1): 3, ("336", 2): 3, ("336", 3): 1, ("336", 4): 1,
                   ("350", 1): 5, ("350", 2): 5, ("350", 3): 1, ("350", 4): 1,
                   ("340", 1): 5, ("340", 2): 5}


class LakeShore336(LakeShoreControlLoop, StationDriver, Instrument):
    """Lake Shore 336/350/340 controller: input readings, output heater control (SI units)."""

    ROLES = ("thermometer",)
    EMULATOR = "ls336"
    MODELS = ("336", "350", "340")

    COMMAND_GUARDS = LAKESHORE_GUARDS
    LIMITS: ClassVar[dict[str, Limit]] = lakeshore_limits(max_heater_range=5.0)
    SETTINGS: ClassVar[dict[str, tuple[Any, Any, str]]] = {
        "model": (str, "336", "'336', '350' or '340'"),
        "input": (str, "A", "sensor input A-D"),
        "output": (int, 1, "control output 1-4"),
        "safe_heater_range": (int, 0, "heater range index of the safe state"),
        "command_delay_s": (float, 0.05, "minimum spacing between commands, s"),
    }

    def __init__(self, adapter: Any, name: str | None = None, *, limits: dict | None = None,
                 settings: dict | None = None, **visa_kwargs: Any) -> None:
        self.safety = self.check_config(settings, limits)
        self.settings = self.settings_with_defaults(settings)
        self._last_command = 0.0
        visa_kwargs.setdefault("read_termination", "\r\n")
        visa_kwargs.setdefault("write_termination", "\r\n")
        super().__init__(adapter, name or f"Lake Shore {self.settings['model']}",
                         includeSCPI=False, **visa_kwargs)
        self.tune_link()

    @classmethod
    def check_config(cls, settings, limits) -> SafetyLimits:
        """Base checks plus model/input/output and the model's range ceiling."""
        safety = super().check_config(settings, limits)
        s = cls.settings_with_defaults(settings)
        if s["model"] not in ("336", "350", "340"):
            raise ConfigError(f"model = {s['model']!r} must be '336', '350' or '340'",
                              key="settings")
        if s["input"] not in ("A", "B", "C", "D"):
            raise ConfigError(f"input = {s['input']!r} must be A-D", key="settings")
        if (s["model"], s["output"]) not in MODEL_MAX_RANGE:
            raise ConfigError(f"output = {s['output']!r} not valid on a {s['model']}",
                              key="settings")
        ceiling = MODEL_MAX_RANGE[(s["model"], s["output"])]
        if limits and "max_heater_range" in limits and limits["max_heater_range"] > ceiling:
            raise ConfigError(f"max_heater_range {limits['max_heater_range']} above the "
                              f"{s['model']} output {s['output']} maximum {ceiling}",
                              key="limits")
        if not 0 <= s["safe_heater_range"] <= ceiling:
            raise ConfigError("safe_heater_range outside the output's ranges", key="settings")
        if not 0 <= s["command_delay_s"] <= 10:
            raise ConfigError("command_delay_s must be 0 to 10 s", key="settings")
        return safety

    @property
    def max_range(self) -> int:
        """Highest range index allowed: the configured limit capped at the model's."""
        ceiling = MODEL_MAX_RANGE[(self.settings["model"], self._out)]
        return int(min(self.safety["max_heater_range"], ceiling))

    def write(self, command: str, **kwargs: Any) -> None:
        """Write with the configured command spacing."""
        delay = self.settings["command_delay_s"]
        if delay:
            wait = self._last_command + delay - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        self._last_command = time.monotonic()
        super().write(command, **kwargs)

    @property
    def _in(self) -> str:
        return self.settings["input"]

    def read_temperature(self) -> float:
        """Input temperature in K (``KRDG?``)."""
        return self.ask_float(f"KRDG? {self._in}")

    def read_resistance(self) -> float:
        """Raw sensor reading in sensor units, Ohm for resistive sensors (``SRDG?``)."""
        return self.ask_float(f"SRDG? {self._in}")

    def reading_status(self) -> set[str]:
        """Decoded ``RDGST?`` flags of the input (empty: valid)."""
        code = self.ask_int(f"RDGST? {self._in}")
        return {name for bit, name in READING_STATUS_BITS.items() if code & bit}

    def is_settled(self) -> bool:
        """No settle status on these models: reading valid and no ramp in progress."""
        return self.reading_valid() and not self.is_ramping()

    def _range_query(self) -> int:
        if self.settings["model"] == "340":
            return self.ask_int("RANGE?")
        return self.ask_int(f"RANGE? {self._out}")

    def set_heater_range(self, index: int) -> None:
        """Heater range index (0 off), read back; the 340 form is ``RANGE r``."""
        if isinstance(index, bool) or not isinstance(index, int):
            raise LimitError(f"heater range {index!r} must be an int; nothing was sent")
        if not 0 <= index <= self.max_range:
            raise LimitError(f"heater range {index} refused, allowed 0-{self.max_range}; "
                             "nothing was sent")
        if self.settings["model"] == "340":
            self.write(f"RANGE {index}")
        else:
            self.write(f"RANGE {self._out},{index}")
        got = self._range_query()
        if got != index:
            raise LinkFault(f"controller ignored RANGE {index} (reads {got})")

    def heater_output(self) -> float:
        """Heater output in % (``HTR? out``)."""
        return self.ask_float(f"HTR? {self._out}")

    def heater_status(self) -> str:
        """'ok', 'open' or 'short' from ``HTRST? out``."""
        return {0: "ok", 1: "open", 2: "short"}.get(self.ask_int(f"HTRST? {self._out}"),
                                                     "unknown")

    def snapshot(self) -> dict[str, Any]:
        """Settings, limits, setpoint, range and PID."""
        snap = super().snapshot()
        snap.update(settings=dict(self.settings), setpoint_K=self.get_setpoint(),
                    heater_range=self._range_query(), pid=self.get_pid())
        return snap
