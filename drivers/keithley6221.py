"""Keithley 6221 DC current source as the bias source (BiasSource role, optional).

DC mode only: ``SOUR:CURR`` (+-105 mA), ``SOUR:CURR:COMP`` (voltage compliance), ``OUTP``.
Its delta/differential-conductance modes with a 2182A are not used here (docs/instruments.md).
"""

from __future__ import annotations

import re
from typing import Any, ClassVar

from pymeasure.instruments import Instrument

from pcsdaq.driver_support import StationDriver, guard_number
from pcsdaq.errors import ConfigError, InstrumentError
from pcsdaq.limits import Limit
from pcsdaq.validators import refusing_range


def _guard_current(driver: Any, match: re.Match[str]) -> None:
    driver.safety.check_abs("max_current_A", guard_number(match, "value", "current"),
                            what="bias current (raw SOUR:CURR)")


class Keithley6221(StationDriver, Instrument):
    """Keithley 6221: DC current in A with compliance; output switched on at the first set."""

    ROLES = ("bias",)
    EMULATOR = None
    MODELS = ("6221",)

    max_current: float  #: configured |I| limit, A (the BiasSource role's attribute)

    LIMITS: ClassVar[dict[str, Limit]] = {
        "max_current_A": Limit("A", 0.105, description="largest |DC current|"),
    }
    COMMAND_GUARDS = (
        (re.compile(r"(?i):?SOUR(?:CE)?:CURR(?:ENT)?(?::AMPL(?:ITUDE)?)?\s+(?P<value>\S+)"),
         _guard_current),
    )
    SETTINGS: ClassVar[dict[str, tuple[Any, Any, str]]] = {
        "compliance_V": (float, 1.0, "voltage compliance, V (0.1-105)"),
        "confirm_set": (bool, False, "read the setting back after each set: the next "
                        "reading on another instrument's link then sees the new bias (a "
                        "network or a busy host can reorder messages on separate links)"),
    }

    compliance_voltage = Instrument.control(
        "SOUR:CURR:COMP?", "SOUR:CURR:COMP %g", """Control the voltage compliance in V
        (0.1-105).""", validator=refusing_range("compliance", "V"), values=[0.1, 105])

    def __init__(self, adapter: Any, name: str | None = None, *, limits: dict | None = None,
                 settings: dict | None = None, **visa_kwargs: Any) -> None:
        self._init_station(settings, limits)
        self.visa_defaults(adapter, visa_kwargs, read_termination="\n", write_termination="\n")
        super().__init__(adapter, name or "Keithley 6221", includeSCPI=False, **visa_kwargs)
        self.tune_link()
        self.max_current = self.safety["max_current_A"]
        self.compliance_voltage = self.settings["compliance_V"]
        self._output_on = self.ask("OUTP?").strip() in ("1", "ON")

    @classmethod
    def check_config(cls, settings, limits):
        """Base checks plus the compliance range."""
        safety = super().check_config(settings, limits)
        comp = cls.settings_with_defaults(settings)["compliance_V"]
        if not 0.1 <= comp <= 105:
            raise ConfigError(f"compliance_V = {comp!r}; allowed 0.1 to 105 V", key="settings")
        return safety

    def set_current(self, current: float) -> float:
        """Source ``current`` in A (refused beyond max_current_A; nothing sent); returns it
        (as read back with the ``confirm_set`` setting)."""
        self.safety.check_abs("max_current_A", current, what="bias current")
        self.write(f"SOUR:CURR {current:.6e}")
        if not self._output_on:
            self.write("OUTP ON")
            self._output_on = True
        if self.settings["confirm_set"]:  # one query: returns once the set is done
            return self.get_current()
        return current

    def get_current(self) -> float:
        """The programmed current in A (``SOUR:CURR?``)."""
        return self.ask_float("SOUR:CURR?")

    def zero(self) -> None:
        """Safe state: current to zero (the output stays on, so the contact is not opened)."""
        self.write("SOUR:CURR 0")

    def output_off(self) -> None:
        """Switch the output off."""
        self.write("OUTP OFF")
        self._output_on = False

    def conversion(self) -> dict[str, Any]:
        """How the current is made, for the run record."""
        return {"source": "Keithley 6221 DC current", "formula": "I_dc = SOUR:CURR",
                "compliance_V": self.settings["compliance_V"], "units": {"I_dc": "A"}}

    def check_errors(self) -> list[tuple[int, str]]:
        """Drain the error queue (``SYST:ERR?``)."""
        errors: list[tuple[int, str]] = []
        for _ in range(11):
            code, _, msg = self.ask("SYST:ERR?").strip().partition(",")
            if int(code) == 0:
                return errors
            errors.append((int(code), msg.strip('"')))
        raise InstrumentError("Keithley 6221 error queue does not empty")

    def snapshot(self) -> dict[str, Any]:
        """Settings for the run record."""
        snap = super().snapshot()
        snap.update(self.conversion(), current_A=self.get_current(), output_on=self._output_on)
        return snap
