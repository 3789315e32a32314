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

from pcsdaq.driver_support import StationDriver
from pcsdaq.errors import ConfigError, InstrumentError
from pcsdaq.limits import Limit

MODES = ("gnd", "stp", "cap", "off", "inp", "stp+", "stp-")
_VALUE = re.compile(r"=\s*([-+0-9.eE]+)")


class ANC300(StationDriver, Instrument):
    """ANC300: mode, frequency, voltage, offset, capacitance and stepping of one axis (SI)."""

    LIMITS: ClassVar[dict[str, Limit]] = {
        "max_voltage_V": Limit("V", 150.0, description="largest step amplitude"),
        "max_steps_per_burst": Limit("", 100000.0, default=1000.0,
                                     description="most steps in one step() call"),
        "max_frequency_Hz": Limit("Hz", 10000.0, description="fastest step frequency"),
    }
    SETTINGS: ClassVar[dict[str, tuple[Any, Any, str]]] = {
        "axis": (int, 3, "axis (module slot 1-7) moving the needle"),
        "password": (str, "123456", ("console password (TCP); '' on the serial/USB "
                                     "console, which asks for none")),
        "approach": (str, "up", "step direction that moves the needle towards the sample"),
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

    @classmethod
    def check_config(cls, settings, limits):
        """Base checks plus axis number and approach direction."""
        safety = super().check_config(settings, limits)
        merged = cls.settings_with_defaults(settings)
        if not 1 <= merged["axis"] <= 7:
            raise ConfigError(f"axis = {merged['axis']!r}; allowed 1 to 7", key="settings")
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
        if not self.settings["password"]:
            self.command("echo off")
            return
        self.write(self.settings["password"])
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
        raise InstrumentError(f"ANC300 '{text}': no OK/ERROR in the reply")

    def _value(self, text: str) -> float:
        lines = self.command(text)
        match = _VALUE.search(" ".join(lines))
        if match is None:
            raise InstrumentError(f"ANC300 '{text}': no value in {lines!r}")
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
