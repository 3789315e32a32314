"""Keithley 2000 DMM emulator: the SCPI subset the drivers and pymeasure's Keithley2000 use.

Reads the DC voltage across the simulated contact (I_dc from the SR830's AUX OUT through
the series resistor). Short and long SCPI forms are accepted; the default SENS node and
the ``:DC`` suffix are optional. Noise: seeded Gaussian, 100 nV rms / sqrt(NPLC).
Readings above 1.2 x range (fixed range) read +9.9E37 (overflow). A reading takes its
integration time, NPLC / 50 Hz of lab time (20 ms at NPLC 1; the autozero reference
reading the real meter adds is not modelled): ``:READ?`` and ``:MEAS?`` answer after it, and
``:FETC?`` after ``:INIT`` answers when it is over.
"""

from __future__ import annotations

import math

from pcsdaq.sim.emulators.base import Emulator

NOISE_V_AT_1PLC = 1e-7
RANGES_V = (0.1, 1.0, 10.0, 100.0, 1000.0)
OVERFLOW = 9.9e37
LINE_FREQUENCY_HZ = 50.0


def _short(word: str) -> str:
    word = word.upper()
    if len(word) > 4 and not word[-1:].isdigit():
        word = word[:3] if word[3] in "AEIOU" else word[:4]
    return word


def normalize(header: str) -> str:
    """Canonical short header: ':sense:voltage:dc:nplc' -> 'VOLT:NPLC'."""
    nodes = [_short(n) for n in header.strip().lstrip(":").split(":") if n]
    if nodes and nodes[0] == "SENS":
        nodes = nodes[1:]
    nodes = [n for n in nodes if n != "DC"]
    return ":".join(nodes)


class Keithley2000Emulator(Emulator):
    """Keithley 2000 reading the contact's DC voltage."""

    name = "keithley2000"
    command_terminators = ("\n", "\r")
    reply_terminator = "\n"

    def __init__(self, lab) -> None:
        super().__init__(lab)
        self._reset()
        self.errors: list[str] = []

    def _reset(self) -> None:
        self.values: dict[str, float | str] = {
            "VOLT:NPLC": 1.0, "VOLT:RANG": 1000.0, "VOLT:RANG:AUTO": 1, "INIT:CONT": 1,
            "FUNC": '"VOLT:DC"', "FORM:ELEM": "READ", "TRIG:COUN": 1, "TRIG:SEQ:DEL": 0.0}
        self._last: float | None = None
        self._ready_at = -math.inf  # lab time (s) at which the last reading is complete

    def _start_reading(self) -> None:
        self._last = self.voltage_V()
        self._ready_at = self.lab.clock.now() + self.integration_time_s()

    def _reply_when_ready(self) -> None:
        self.reply_after_s = max(self._ready_at - self.lab.clock.now(), 0.0)

    def integration_time_s(self) -> float:
        """Time one reading integrates, s (NPLC power-line cycles at 50 Hz)."""
        return float(self.values["VOLT:NPLC"]) / LINE_FREQUENCY_HZ

    def _push_error(self, text: str) -> None:
        if len(self.errors) >= 10:
            self.errors[-1] = '-350,"Queue overflow"'
            return
        self.errors.append(text)

    def voltage_V(self) -> float:
        """A fresh reading (V) with NPLC-dependent noise, or +9.9E37 on overflow."""
        contact = getattr(self.lab, "contact", None)
        v = 0.0
        if contact is not None and contact.touching:
            sr = self.lab.emulators.get("sr830") if hasattr(self.lab, "emulators") else None
            v_aux = sr.aux_out[contact.aux_output - 1] if sr is not None else 0.0
            v = contact.dc_voltage_V(v_aux / contact.series_resistance_ohm)
        nplc = float(self.values["VOLT:NPLC"])
        v += self.lab.rng.normal(0.0, NOISE_V_AT_1PLC / math.sqrt(nplc))
        rng = float(self.values["VOLT:RANG"])
        if int(self.values["VOLT:RANG:AUTO"]):
            rng = next((r for r in RANGES_V if abs(v) <= 1.2 * r), RANGES_V[-1])
        return OVERFLOW if abs(v) > 1.2 * rng else v

    def handle(self, message: str) -> str | None:
        """Handle one line of ';'-separated SCPI commands; replies joined with ';'."""
        replies = []
        for part in message.split(";"):
            if part.strip():
                r = self._one(part.strip())
                if r is not None:
                    replies.append(r)
        return ";".join(replies) if replies else None

    def _one(self, cmd: str) -> str | None:
        head, _, arg = cmd.partition(" ")
        arg = arg.strip()
        query = head.endswith("?")
        key = normalize(head.rstrip("?"))
        if key == "*IDN":
            return "KEITHLEY INSTRUMENTS INC.,MODEL 2000,1234567,A20 /A02"
        if key == "*RST":
            self._reset()
            return None
        if key in ("*CLS", "STAT:QUE:CLE", "STAT:PRES", "SYST:REM", "SYST:LOC", "SYST:RWL",
                   "ABOR", "*WAI"):
            if key == "*CLS":
                self.errors.clear()
            return None
        if key == "*OPC" and query:
            return "1"
        if key == "SYST:ERR" and query:
            return self.errors.pop(0) if self.errors else '0,"No error"'
        if key in ("READ", "MEAS:VOLT", "MEAS") and query:
            self._start_reading()
            self._reply_when_ready()
            return f"{self._last:+.7E}"
        if key in ("FETC", "DATA") and query:
            if self._last is None:
                self._push_error('-230,"Data corrupt or stale"')
                return None
            self._reply_when_ready()
            return f"{self._last:+.7E}"
        if key == "INIT":
            self._start_reading()
            return None
        if key.startswith("CONF"):
            if query:
                return '"VOLT:DC"'
            self.values["FUNC"] = '"VOLT:DC"'
            self.values["VOLT:RANG:AUTO"] = 1
            self.values["INIT:CONT"] = 0
            return None
        if key in self.values:
            if query:
                v = self.values[key]
                return f"{v:g}" if isinstance(v, float) else str(v)
            try:
                self._set(key, arg)
            except ValueError:
                self._push_error('-222,"Data out of range"')
            return None
        self._push_error('-113,"Undefined header"')
        return None

    def _set(self, key: str, arg: str) -> None:
        word = arg.upper()
        if key in ("VOLT:RANG:AUTO", "INIT:CONT"):
            value = {"ON": 1, "OFF": 0, "1": 1, "0": 0}[word] if word in (
                "ON", "OFF", "1", "0") else None
            if value is None:
                raise ValueError(arg)
            self.values[key] = value
        elif key == "VOLT:NPLC":
            v = float(arg)
            if not 0.01 <= v <= 10:
                raise ValueError(arg)
            self.values[key] = v
        elif key == "VOLT:RANG":
            v = float(arg)
            if not 0 <= v <= 1010:
                raise ValueError(arg)
            self.values[key] = next(r for r in RANGES_V if v <= r)
            self.values["VOLT:RANG:AUTO"] = 0
        elif key in ("TRIG:COUN", "TRIG:SEQ:DEL"):
            self.values[key] = float(arg)
        else:
            self.values[key] = arg
