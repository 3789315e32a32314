"""attocube ANC300 piezo controller, one axis moving the needle (Positioner role).

The ANC300 console (TCP port 7230 or serial) sends non-ASCII telnet bytes and an
"Authorization code:" prompt on connect; after the password it answers ``Authorization
success``. Every command's reply is value line(s) then ``OK``, or a message then
``ERROR`` (raised as :class:`~pcsdaq.errors.InstrumentError` with the message). A lean class
rather than pymeasure's ANC300Controller, whose axis channels assume a telnet adapter.
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pymeasure.instruments import Instrument

from pcsdaq.driver_support import StationDriver, guard_number
from pcsdaq.errors import ConfigError, InstrumentError, LimitError, LinkFault
from pcsdaq.limits import Limit

MODES = ("gnd", "stp", "cap", "off", "inp", "stp+", "stp-")
_VALUE = re.compile(r"=\s*([-+0-9.eE]+)")


def _guard_voltage(driver: Any, match: re.Match[str]) -> None:
    what = "step voltage" if match.group("cmd").lower() == "setv" else "offset voltage"
    driver.safety.check_range("max_voltage_V", guard_number(match, "value", what), 0.0,
                              what=f"{what} (raw {match.group(0)!r})")


def _guard_frequency(driver: Any, match: re.Match[str]) -> None:
    driver.safety.check_range("max_frequency_Hz", guard_number(match, "value", "frequency"),
                              1.0, what=f"step frequency (raw {match.group(0)!r})")


def _guard_steps(driver: Any, match: re.Match[str]) -> None:
    count = match.group("value")
    if count is None:
        return  # one step
    if count.lower() == "c":
        raise LimitError(f"{driver.name}: continuous stepping ({match.group(0)!r}) refused, "
                         "bursts are limited by max_steps_per_burst; nothing was sent")
    steps = guard_number(match, "value", "step count")
    if steps != int(steps):
        raise LimitError(f"{driver.name}: step count {count!r} is not an integer; nothing sent")
    driver.safety.check_abs("max_steps_per_burst", steps,
                            what=f"step burst (raw {match.group(0)!r})")


class ANC300(StationDriver, Instrument):
    """ANC300: mode, frequency, voltage, offset, capacitance and stepping of one axis (SI)."""

    ROLES = ("positioner",)
    EMULATOR = "anc300"
    MODELS = ("ANC300",)

    LIMITS: ClassVar[dict[str, Limit]] = {
        "max_voltage_V": Limit("V", 150.0, description="largest step amplitude"),
        "max_steps_per_burst": Limit("", 100000.0, default=1000.0,
                                     description="most steps in one step() call"),
        "max_frequency_Hz": Limit("Hz", 10000.0, description="fastest step frequency"),
    }
    #: every console line is checked: raw ``command("seta 3 150")`` meets the same limits
    COMMAND_GUARDS = (
        (re.compile(r"(?i)(?P<cmd>set[va])\s+\d+\s+(?P<value>\S+)"), _guard_voltage),
        (re.compile(r"(?i)setf\s+\d+\s+(?P<value>\S+)"), _guard_frequency),
        (re.compile(r"(?i)step[ud]\s+\d+(?:\s+(?P<value>\S+))?"), _guard_steps),
    )
    SETTINGS: ClassVar[dict[str, tuple[Any, Any, str]]] = {
        "axis": (int, 3, "axis (module slot 1-7) moving the needle"),
        "password": (str, "123456", ("console password (TCP); '' on the serial/USB "
                                     "console, which asks for none")),
        "approach": (str, "up", "step direction that moves the needle towards the sample"),
        "lateral_axes": ((list, type(None)), None, "axes (slots) moving the needle sideways: "
                         "[x, y] (default: the first two slots other than 'axis')"),
    }

    def __init__(self, adapter: Any, name: str | None = None, *, limits: dict | None = None,
                 settings: dict | None = None, **visa_kwargs: Any) -> None:
        self._init_station(settings, limits)
        self.axis = self.settings["axis"]
        self.steps_total = 0  #: net steps towards the sample since connect
        # the telnet junk bytes sent on connect are not ASCII: latin-1 reads them all
        self.visa_defaults(adapter, visa_kwargs, read_termination="\r\n",
                           write_termination="\r\n", encoding="latin-1")
        super().__init__(adapter, name or "ANC300", includeSCPI=False, **visa_kwargs)
        self.tune_link()
        self._login()

    @staticmethod
    def lateral_axes_of(settings: dict[str, Any]) -> list[int]:
        """The [x, y] axes of settings (default: the first two slots other than ``axis``)."""
        given = settings.get("lateral_axes")
        if given is not None:
            return list(given)
        return [a for a in range(1, 8) if a != settings["axis"]][:2]

    @classmethod
    def check_config(cls, settings, limits):
        """Base checks plus axis number and approach direction."""
        safety = super().check_config(settings, limits)
        merged = cls.settings_with_defaults(settings)
        if not 1 <= merged["axis"] <= 7:
            raise ConfigError(f"axis = {merged['axis']!r}; allowed 1 to 7", key="settings")
        lateral = cls.lateral_axes_of(merged)
        if (len(lateral) != 2 or not all(isinstance(a, int) and 1 <= a <= 7 for a in lateral)
                or merged["axis"] in lateral):
            raise ConfigError(f"lateral_axes = {lateral!r}; allowed: two axes 1 to 7 (x, y), "
                              f"neither the approach axis {merged['axis']}", key="settings")
        if merged["approach"] not in ("up", "down"):
            raise ConfigError(f"approach = {merged['approach']!r}; allowed: up, down",
                              key="settings")
        return safety

    # --- console protocol ---------------------------------------------------------------
    def _lines(self) -> list[str]:
        """One read split into printable lines (a read may hold one line or several)."""
        text = self.read()
        return [line.strip() for line in re.split(r"[\r\n]+", text) if line.strip()]

    def _login(self) -> None:
        """Send the password, skipping the junk bytes and prompt sent on connect (no
        password set: the serial console, which asks none)."""
        password = self.settings["password"]
        if not password:
            self.command("echo off")
            return
        try:
            self.write(password)
        except LinkFault as exc:  # never echo the password into a log
            raise LinkFault(str(exc).replace(repr(password), "<password>")) from exc.__cause__
        for _ in range(10):
            for line in self._lines():
                if "Authorization success" in line:
                    self.command("echo off")
                    return
                if "Authorization failed" in line:
                    raise InstrumentError("ANC300 refused the password (setting 'password')")
        raise InstrumentError("ANC300 sent no 'Authorization success' after the password")

    def command(self, text: str) -> list[str]:
        """Send one console command; return its value lines (``OK`` stripped).

        Raises InstrumentError with the controller's message when it answers ``ERROR``."""
        self.write(text)
        lines: list[str] = []
        for _ in range(50):
            for line in self._lines():
                if line == "OK":
                    return lines
                if line == "ERROR":
                    message = "; ".join(lines) or "no message"
                    raise InstrumentError(f"ANC300 '{text}': {message}")
                if line != text:  # the echo of our own line, if echo is still on
                    lines.append(line)
        raise LinkFault(f"ANC300 '{text}': no OK/ERROR in the reply (garbled or lost)")

    def _value(self, text: str) -> float:
        lines = self.command(text)
        match = _VALUE.search(" ".join(lines))
        if match is None:
            raise LinkFault(f"ANC300 '{text}': no value in {lines!r} (garbled?)")
        return float(match.group(1))

    # --- controls -----------------------------------------------------------------------
    @property
    def mode(self) -> str:
        """Control the axis mode: gnd, stp, cap, off, ..."""
        lines = self.command(f"getm {self.axis}")
        return " ".join(lines).split("=")[-1].strip()

    @mode.setter
    def mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ConfigError(f"mode {mode!r}; allowed: {', '.join(MODES)}")
        self.command(f"setm {self.axis} {mode}")

    def set_voltage(self, volts: float) -> None:
        """Step amplitude in V (validated against max_voltage_V, hardware 150 V)."""
        self.safety.check_range("max_voltage_V", volts, what="step voltage")
        self.command(f"setv {self.axis} {volts:.3f}")

    def get_voltage(self) -> float:
        """Step amplitude in V."""
        return self._value(f"getv {self.axis}")

    def set_frequency(self, hertz: float) -> None:
        """Step frequency in Hz (1 to max_frequency_Hz)."""
        self.safety.check_range("max_frequency_Hz", hertz, low=1.0, what="step frequency")
        self.command(f"setf {self.axis} {round(hertz)}")

    def get_frequency(self) -> float:
        """Step frequency in Hz."""
        return self._value(f"getf {self.axis}")

    def set_offset(self, volts: float) -> None:
        """DC offset voltage in V (validated against max_voltage_V)."""
        self.safety.check_range("max_voltage_V", volts, what="offset voltage")
        self.command(f"seta {self.axis} {volts:.3f}")

    def get_offset(self) -> float:
        """DC offset voltage in V."""
        return self._value(f"geta {self.axis}")

    def output_voltage(self) -> float:
        """Present output voltage in V (``geto``)."""
        return self._value(f"geto {self.axis}")

    def capacitance(self) -> float:
        """Piezo capacitance in F, from the last measurement (``getc``, reported in nF)."""
        return self._value(f"getc {self.axis}") * 1e-9

    # --- motion -------------------------------------------------------------------------
    def step(self, steps: int) -> None:
        """Move ``steps`` steps (positive: towards the sample) and wait until done."""
        if not isinstance(steps, int) or isinstance(steps, bool):
            raise ConfigError(f"steps = {steps!r} must be an integer")
        self.safety.check_abs("max_steps_per_burst", steps, what="step burst")
        if steps == 0:
            return
        up = (steps > 0) == (self.settings["approach"] == "up")
        self.command(f"setm {self.axis} stp")
        self.command(f"{'stepu' if up else 'stepd'} {self.axis} {abs(steps)}")
        self.command(f"stepw {self.axis}")
        self.steps_total += steps

    def step_lateral(self, direction: str, steps: int) -> None:
        """Move the needle ``steps`` steps sideways along ``direction`` "x" or "y" (the
        ``lateral_axes`` setting; positive: step up) at the approach axis's step voltage and
        frequency, and wait until done; the axis is grounded afterwards. Retract the needle
        first: a needle moved while touching is dragged over the sample."""
        if direction not in ("x", "y"):
            raise ConfigError(f"direction {direction!r}; allowed: x, y")
        if not isinstance(steps, int) or isinstance(steps, bool):
            raise ConfigError(f"steps = {steps!r} must be an integer")
        self.safety.check_abs("max_steps_per_burst", steps, what="lateral step burst")
        if steps == 0:
            return
        axis = self.lateral_axes_of(self.settings)["xy".index(direction)]
        volts = self.get_voltage()
        self.command(f"setv {axis} {volts:.3f}")
        self.command(f"setf {axis} {round(self.get_frequency())}")
        self.command(f"setm {axis} stp")
        self.command(f"{'stepu' if steps > 0 else 'stepd'} {axis} {abs(steps)}")
        self.command(f"stepw {axis}")
        self.command(f"setm {axis} gnd")

    def stop(self) -> None:
        """Stop any motion of the axis."""
        self.command(f"stop {self.axis}")

    def ground(self) -> None:
        """Safe state: ground the axis."""
        self.command(f"setm {self.axis} gnd")

    def snapshot(self) -> dict[str, Any]:
        """Settings for the run record."""
        snap = super().snapshot()
        snap.update(axis=self.axis, mode=self.mode, voltage_V=self.get_voltage(),
                    frequency_Hz=self.get_frequency(), approach=self.settings["approach"],
                    steps_total=self.steps_total)
        return snap
