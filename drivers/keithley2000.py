"""Keithley 2000 DMM reading the DC voltage across the contact (Voltmeter role).

A lean class in the pymeasure idiom rather than a subclass of pymeasure's Keithley2000,
whose slips (docs/instruments.md: the AC-range setter switches the DC autorange off, ``reset``
sends ``;:*CLS``, a ``PRE`` typo for ``PER``) we do not want to inherit. Continuous
initiation is switched off on connect so that every ``:READ?`` is a fresh reading.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from pymeasure.instruments import Instrument

from pcsdaq.driver_support import StationDriver
from pcsdaq.errors import ConfigError, LinkFault
from pcsdaq.limits import Limit
from pcsdaq.validators import refusing_choice, refusing_range

#: DC volts ranges of the 2000, V
RANGES_V = (0.1, 1.0, 10.0, 100.0, 1000.0)
#: readings at or above this magnitude mean overflow (the box sends +9.9E37)
OVERFLOW_V = 9.9e37


class Keithley2000(StationDriver, Instrument):
    """Keithley 2000: DC volts with range/autorange and NPLC, fresh readings, error queue."""

    ROLES = ("dmm",)
    EMULATOR = "keithley2000"
    MODELS = ("2000",)

    LIMITS: ClassVar[dict[str, Limit]] = {}
    SETTINGS: ClassVar[dict[str, tuple[Any, Any, str]]] = {
        "nplc": (float, 1.0, "integration time in power-line cycles (0.01-10)"),
        "range_V": ((int, float, type(None)), None, "DC range in V (0.1-1000), None: autorange"),
    }
    #: mains frequency the integration time counts in, Hz (on 60 Hz mains readings are shorter)
    LINE_FREQUENCY_HZ = 50.0

    @classmethod
    def reading_time_s(cls, settings: dict | None) -> float:
        """Integration time of one reading for station ``settings``, s: NPLC / mains (no I/O)."""
        return float(cls.settings_with_defaults(settings)["nplc"]) / cls.LINE_FREQUENCY_HZ

    nplc = Instrument.control(
        ":SENS:VOLT:DC:NPLC?", ":SENS:VOLT:DC:NPLC %g",
        """Control the integration time in power-line cycles (0.01-10).""",
        validator=refusing_range("NPLC"), values=[0.01, 10],
    )
    voltage_range = Instrument.control(
        ":SENS:VOLT:DC:RANG?", ":SENS:VOLT:DC:RANG %g",
        """Control the DC voltage range in V (0-1010: the meter takes the range that holds
        the value, 0.1-1000 V; setting it turns autorange off).""",
        validator=refusing_range("DC voltage range", "V"), values=[0, 1010],
    )
    autorange = Instrument.control(
        ":SENS:VOLT:DC:RANG:AUTO?", ":SENS:VOLT:DC:RANG:AUTO %d",
        """Control DC voltage autorange (bool).""",
        validator=refusing_choice("autorange"), values={True: 1, False: 0}, map_values=True,
    )

    def __init__(self, adapter: Any, name: str | None = None, *, limits: dict | None = None,
                 settings: dict | None = None, **visa_kwargs: Any) -> None:
        self._init_station(settings, limits)
        self.visa_defaults(adapter, visa_kwargs, read_termination="\n", write_termination="\n")
        super().__init__(adapter, name or "Keithley 2000", includeSCPI=False, **visa_kwargs)
        self.tune_link()
        self.write(":INIT:CONT OFF;:SENS:FUNC 'VOLT:DC';:FORM:ELEM READ")
        self.nplc = self.settings["nplc"]
        if self.settings["range_V"] is None:
            self.autorange = True
        else:
            self.voltage_range = self.settings["range_V"]

    @classmethod
    def check_config(cls, settings, limits):
        """Base checks plus NPLC and range values."""
        safety = super().check_config(settings, limits)
        merged = cls.settings_with_defaults(settings)
        if not 0.01 <= merged["nplc"] <= 10:
            raise ConfigError(f"nplc = {merged['nplc']!r}; allowed 0.01 to 10", key="settings")
        rng = merged["range_V"]
        if rng is not None and rng not in RANGES_V:
            raise ConfigError(f"range_V = {rng!r}; allowed: {', '.join(map(str, RANGES_V))} "
                              "or null for autorange", key="settings")
        return safety

    def read_voltage(self) -> float:
        """A fresh DC voltage reading in V (one ``:READ?``); overflow gives +-inf."""
        reply = self.ask(":READ?")
        try:
            value = float(reply.strip().split(",")[0])
        except ValueError as exc:
            raise LinkFault(f"Keithley 2000 :READ? reply not understood (garbled?): "
                            f"{reply!r}") from exc
        if abs(value) >= OVERFLOW_V:
            return math.copysign(math.inf, value)
        return value

    def check_errors(self) -> list[tuple[int, str]]:
        """Drain the error queue (``:SYST:ERR?``); empty list when ``0,"No error"``."""
        errors = []
        for _ in range(11):  # the FIFO holds 10 entries
            code_text, _, message = self.ask(":SYST:ERR?").strip().partition(",")
            code = int(code_text)
            if code == 0:
                break
            errors.append((code, message.strip('"')))
        return errors

    def snapshot(self) -> dict[str, Any]:
        """Settings for the run record."""
        snap = super().snapshot()
        snap.update(nplc=self.nplc, autorange=self.autorange, range_V=self.voltage_range)
        return snap
