"""Keithley 2000 DMM emulator: the SCPI command tree of the manual (section 5).

Grammar (:mod:`.scpi`): long and short forms in any case, optional nodes (``[:SENSe]``,
``[:SEQuence]``, ``[:DC]``, ``[:UPPer]`` ...), ``;`` compound commands with the SCPI path
rule, ``:``-rooted headers, quoted strings. Bad input goes to the error queue with the
manual's numbers (-113 undefined header, -102 syntax, -104 data type, -109 missing
parameter, -222 out of range, -224 illegal value, -213 init ignored, -214 trigger
deadlock, -230 no data, -350 overflow of the 10-entry queue) and the event register; the
client gets no reply for a failed query. The meter measures the simulated contact: DC volts
across it (I_dc from the SR830's AUX OUT through the series resistor), AC volts of the
lock-in's excitation, its resistance at the meter's own test current (2-wire includes the
leads, 4-wire not; an open contact overflows), the reference frequency. Noise: seeded
Gaussian, 100 nV rms / sqrt(NPLC) on volts. Readings beyond 1.2 x a fixed range read
+9.9E37. A reading takes its integration time of lab time (NPLC / 50 Hz, or the aperture;
x count with the repeat filter): ``:READ?`` and ``:DATA:FRESh?`` answer after it, ``:FETCh?``
after ``:INITiate`` when it is over.
"""

from __future__ import annotations

import math

from pcsdaq.sim.emulators.base import Emulator
from pcsdaq.sim.emulators.keithley2000_actions import ACTIONS, read
from pcsdaq.sim.emulators.keithley2000_tree import (
    CANONICAL_FUNCTION,
    COMMANDS,
    FUNCTION_KEYS,
    NOT_IMPLEMENTED,
    OVERFLOW,
    QUERIES,
    RANGES,
    SETTABLE,
    SPECS,
    TREE,
    UNITS,
    normalize,
)
from pcsdaq.sim.emulators.scpi import (
    ScpiError,
    boolean,
    choice,
    esr_bit,
    number,
    split_command,
    split_message,
)

NOISE_V_AT_1PLC = 1e-7
RANGES_V = RANGES["VOLT:DC"]
LINE_FREQUENCY_HZ = 50.0
ROOM_TEMPERATURE_C = 23.0
QUEUE_LENGTH = 10


class Keithley2000Emulator(Emulator):
    """Keithley 2000 measuring the simulated contact."""

    name = "keithley2000"
    command_terminators = ("\n", "\r")
    reply_terminator = "\n"
    COMMANDS = COMMANDS
    NOT_IMPLEMENTED = NOT_IMPLEMENTED

    def __init__(self, lab) -> None:
        super().__init__(lab)
        self.errors: list[str] = []
        self.esr = 0
        self.saved: dict[int, tuple] = {}
        self._preset(continuous=1)  # power-on: as :SYSTem:PRESet
        self.buffer: list[float] = []

    def _preset(self, continuous: int) -> None:
        self.values = {key: spec[-1] for key, spec in SPECS.items()}
        self.values[TREE.resolve(":INIT:CONT")[0]] = continuous
        self.function = "VOLT:DC"
        self.elements = ["READ"]
        self._readings: list[float] = []
        self._ready_at = -math.inf  # lab time (s) at which the last readings are complete
        self._armed = False

    # ------------------------------------------------------------- settings access
    def setting(self, header: str):
        """A stored setting by any spelling of its header (``:VOLT:NPLC`` ...)."""
        return self.values[normalize(header)]

    def _fs(self, node: str, function: str | None = None):
        key = FUNCTION_KEYS.get((function or self.function, node))
        return None if key is None else self.values[key]

    # ------------------------------------------------------------------ readings
    def integration_time_s(self) -> float:
        """Lab time (s) one reading of the present function takes (NPLC / 50 Hz, or the
        aperture of FREQ/PER), times the count of a repeat filter."""
        nplc = self._fs("NPLC")
        aperture = self._fs("APER")
        t = (nplc / LINE_FREQUENCY_HZ if nplc is not None
             else aperture if aperture is not None else 1.0 / LINE_FREQUENCY_HZ)
        if self._fs("AVER:STAT") and self._fs("AVER:TCON") == "REP":
            t *= self._fs("AVER:COUN")
        if not self.setting(":TRIG:DEL:AUTO"):
            t += self.setting(":TRIG:DEL")
        return t

    def _averaged(self) -> float:
        count = self._fs("AVER:COUN") if self._fs("AVER:STAT") else 1
        nplc = self._fs("NPLC") or 1.0
        return 1.0 / math.sqrt(max(nplc, 0.01) * count)

    def _bias_current_A(self, contact) -> float:
        emulators = getattr(self.lab, "emulators", {})
        sr = emulators.get("sr830")
        v_aux = sr.aux_out[contact.aux_output - 1] if sr is not None else 0.0
        return v_aux / contact.series_resistance_ohm

    def voltage_V(self) -> float:
        """A fresh DC-volts reading (V) with NPLC-dependent noise, or +9.9E37 on overflow."""
        contact = getattr(self.lab, "contact", None)
        v = 0.0
        if contact is not None and contact.touching:
            v = contact.dc_voltage_V(self._bias_current_A(contact))
        v += self.lab.rng.normal(0.0, NOISE_V_AT_1PLC * self._averaged())
        return self._ranged("VOLT:DC", v)

    def _ranged(self, function: str, value: float) -> float:
        ranges = RANGES[function]
        top = self._fs("RANG", function)
        if self._fs("RANG:AUTO", function):
            top = next((r for r in ranges if abs(value) <= 1.2 * r), ranges[-1])
        return OVERFLOW if abs(value) > 1.2 * top else value

    def _resistance(self, four_wire: bool) -> float:
        contact = getattr(self.lab, "contact", None)
        if contact is None or not contact.touching:
            return OVERFLOW  # an open input
        test_current = 1e-3 if contact.normal_resistance_ohm() < 1e3 else 1e-5
        r = contact.dc_voltage_V(test_current) / test_current
        if four_wire:
            r -= contact.lead_resistance_ohm
        return r + self.lab.rng.normal(0.0, (1e-4 + 1e-6 * r) * self._averaged())

    def reading(self) -> float:
        """One reading of the present function, in its unit (V, A, Ohm, Hz, s, deg)."""
        f = self.function
        sr = getattr(self.lab, "emulators", {}).get("sr830")
        if f == "VOLT:DC":
            return self.voltage_V()
        if f == "VOLT:AC":
            v = sr.fundamental_V() if sr is not None else 0.0
            return self._ranged(f, v + abs(self.lab.rng.normal(0.0, 1e-6)))
        if f in ("CURR:DC", "CURR:AC"):
            return self._ranged(f, self.lab.rng.normal(0.0, 1e-9 * self._averaged()))
        if f in ("RES", "FRES"):
            r = self._resistance(f == "FRES")
            return r if r == OVERFLOW else self._ranged(f, r)
        if f in ("FREQ", "PER"):
            hz = float(sr.values["FREQ"]) if sr is not None and sr.fundamental_V() > 0 else 0.0
            return hz if f == "FREQ" else (1.0 / hz if hz else 0.0)
        if f == "TEMP":
            unit = self.setting(":UNIT:TEMP")
            c = ROOM_TEMPERATURE_C
            return c + 273.15 if unit == "K" else c * 1.8 + 32 if unit == "F" else c
        contact = getattr(self.lab, "contact", None)
        if contact is None or not contact.touching:
            return OVERFLOW
        if f == "DIOD":
            return contact.dc_voltage_V(self._fs("CURR:RANG"))
        return self._resistance(False)  # CONT

    def _take(self) -> None:
        """One trigger cycle: trigger count x sample count readings, from now on."""
        # the reading buffer holds 1024: no trigger cycle returns more
        n = min(int(self.setting(":TRIG:COUN")) * int(self.setting(":SAMP:COUN")), 1024)
        ref = self._fs("REF") if self._fs("REF:STAT") else 0.0
        self._readings = []
        for _ in range(n):
            v = self.reading()
            self._readings.append(v if v == OVERFLOW else v - ref)
        self._ready_at = self.lab.clock.now() + n * self.integration_time_s()
        self._armed = False
        if self.setting(":TRAC:FEED:CONT") == "NEXT":
            room = int(self.setting(":TRAC:POIN")) - len(self.buffer)
            self.buffer.extend(self._readings[:room])
            if len(self.buffer) >= int(self.setting(":TRAC:POIN")):
                self.values[normalize(":TRAC:FEED:CONT")] = "NEV"

    def _reply_readings(self) -> str:
        if not self._readings:
            raise ScpiError(-230)
        self.reply_after_s = max(self.reply_after_s,
                                 self._ready_at - self.lab.clock.now(), 0.0)
        return ",".join(self._format(v) for v in self._readings)

    def _format(self, value: float) -> str:
        text = f"{value:+.7E}"
        if "UNIT" in self.elements:
            text += UNITS[self.function]
        return text

    # -------------------------------------------------------------------- parsing
    def handle(self, message: str) -> str | None:
        """Handle one line of ';'-separated SCPI commands; replies joined with ';'."""
        replies = []
        prefix: tuple[str, ...] = ()
        for part in split_message(message):
            if not part.strip():
                continue
            try:
                header, query, args = split_command(part)
                if header.startswith("*"):
                    key = header.upper()
                elif "*" in header:  # ":*CLS": a common command takes no path
                    raise ScpiError(-113)
                else:
                    key, prefix = TREE.resolve(header, prefix)
                reply = self._execute(key, query, args)
            except ScpiError as err:
                self._push_error(err.code)
                continue
            if reply is not None:
                replies.append(reply)
        return ";".join(replies) if replies else None

    def _push_error(self, code: int) -> None:
        self.esr |= esr_bit(code)
        if len(self.errors) >= QUEUE_LENGTH:
            self.errors[-1] = ScpiError(-350).entry()
            return
        self.errors.append(ScpiError(code).entry())

    def _execute(self, key: str, query: bool, args: list[str]) -> str | None:
        if key in SPECS and (key in QUERIES if query else key in SETTABLE):
            return self._query_setting(key, args) if query else self._set(key, args)
        action = ACTIONS.get((key, query))
        if action is None:
            if query and key.startswith("MEAS:"):
                return self._measure_query(key, args)
            if not query and key.startswith("CONF:"):
                return self._configure(key, args)
            if not query and key.endswith(":REF:ACQ"):
                return self._acquire_reference(key, args)
            raise ScpiError(-113)
        return action(self, args)

    def _query_setting(self, key: str, args: list[str]) -> str:
        spec = SPECS[key]
        if args and not (spec[0] == "num" and len(args) == 1):
            raise ScpiError(-108)
        if args:  # "? MIN" / "? MAX" / "? DEF"
            return f"{number(args[0], spec[1], spec[2], spec[3]):g}"
        v = self.values[key]
        if spec[0] == "num":
            return f"{v:g}" if isinstance(v, float) else str(v)
        return str(v)

    def _set(self, key: str, args: list[str]) -> None:
        value: float | str
        spec = SPECS[key]
        if not args:
            raise ScpiError(-109)
        if spec[0] != "str" and len(args) > 1:
            raise ScpiError(-108)
        word = args[0]
        if spec[0] == "num" and key.endswith("TRIG:SEQ:COUN") and word.upper() in (
                "INF", "INFINITE"):
            value = 9.9e37  # trigger forever (each :READ?/:FETC? returns one buffer, 1024)
        elif spec[0] == "num":
            value = number(word, spec[1], spec[2], spec[3])
            if isinstance(spec[3], int) and not isinstance(spec[3], bool):
                value = round(value)
            function = next((f for (f, n), k in FUNCTION_KEYS.items() if k == key), "")
            if key.endswith(":RANG:UPP") and function in RANGES:
                # a fixed range: the smallest that holds the value
                value = next(r for r in RANGES[function] if value <= r * 1.01)
                self.values[FUNCTION_KEYS[(function, "RANG:AUTO")]] = 0
            elif key.endswith(":CURR:RANG:UPP"):  # diode test current 10 uA, 100 uA, 1 mA
                value = next(r for r in (1e-5, 1e-4, 1e-3) if value <= r * 1.01)
            elif key.endswith(":DET:BAND"):
                value = 3.0 if value < 30 else 30.0 if value < 300 else 300.0
        elif spec[0] == "bool":
            value = boolean(word)
        elif spec[0] == "choice":
            value = choice(word, spec[1])
        else:
            value = ",".join(args)
        self.values[key] = value
        if key.startswith("SENS:"):
            self._readings = []  # a changed setting invalidates the old readings

    def _measure_query(self, key: str, args: list[str]) -> str:
        self._configure("CONF:" + key.split(":", 1)[1], args)
        return read(self, [])

    def _configure(self, key: str, args: list[str]) -> None:
        function = CANONICAL_FUNCTION.get(key.split(":", 1)[1])
        if function is None:
            raise ScpiError(-113)
        if args:
            raise ScpiError(-108)
        self.function = function
        for header, value in ((":INIT:CONT", 0), (":TRIG:COUN", 1), (":SAMP:COUN", 1),
                              (":TRIG:SOUR", "IMM"), (":TRIG:DEL:AUTO", 1)):
            self.values[normalize(header)] = value
        if (function, "RANG:AUTO") in FUNCTION_KEYS:
            self.values[FUNCTION_KEYS[(function, "RANG:AUTO")]] = 1
        self._readings = []

    def _acquire_reference(self, key: str, args: list[str]) -> None:
        ref_key = key[: -len(":ACQ")]
        function = next(f for (f, n), k in FUNCTION_KEYS.items() if k == ref_key)
        if function != self.function:
            raise ScpiError(-221)  # settings conflict: acquire on the present function only
        value = self._readings[-1] if self._readings else self.reading()
        self.values[ref_key] = value
