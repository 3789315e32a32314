"""What every Lake Shore emulator shares: the manuals' grammar, the IEEE-488 common commands
and status registers, per-output and per-input state, and the sensors on the cryostat.

Grammar (336/350/372/370 manuals, remote operation chapter): a header, a space, comma-
separated parameters; case-insensitive; ``;`` chains several commands on one line and the
replies of the queries in it come back joined by ``;``; CR LF ends a message (LF or CR
alone are taken too). Commands send nothing back. A command the box does not know, or a
parameter it cannot parse, is ignored and sets the Command Error bit (CME, 32) of the
Standard Event Status Register; a parameter out of range sets the Execution Error bit (EXE,
16); ``*ESR?`` reads and clears them. A query that is ignored gets no reply.

Handlers are looked up from :attr:`LakeShoreEmulator.COMMANDS`: header ``KRDG?`` ->
method ``_q_krdg``, ``SETP`` -> ``_c_setp``, ``*IDN?`` -> ``_q_star_idn``.
"""

from __future__ import annotations

import math
from typing import Any, ClassVar

from pcsdaq.sim.emulators.base import Emulator

#: Standard Event Status Register bits (all Lake Shore models)
ESR_OPC, ESR_QYE, ESR_EXE, ESR_CME = 1, 4, 16, 32


class Refused(Exception):
    """A parameter the box understood but will not take (out of range): EXE bit."""


def ruo2_ohm(kelvin: float) -> float:
    """RuO2 sensor resistance (Ohm) at ``kelvin``: the cryostat's stage sensor curve."""
    return 1500.0 * (1.0 + 8.0 / math.sqrt(max(kelvin, 1e-3)))


def as_int(text: str, lo: int, hi: int) -> int:
    """An integer parameter in lo..hi (ValueError when not a number, Refused out of range)."""
    value = int(float(text))
    if not lo <= value <= hi:
        raise Refused(text)
    return value


def as_float(text: str, lo: float = -math.inf, hi: float = math.inf) -> float:
    """A real parameter in lo..hi."""
    value = float(text)
    if not (lo <= value <= hi) or not math.isfinite(value):
        raise Refused(text)
    return value


#: curve -> header (name, serial number, format 1 mV/K 2 V/K 3 Ohm/K 4 log Ohm/K, limit K,
#: coefficient 1 negative 2 positive): standard curves of the 336, and the user curves
#: (21 on) the simulated sensors were calibrated with
CURVES = {1: ("DT-470", "STANDARD", 2, 475.0, 1), 2: ("DT-670", "STANDARD", 2, 500.0, 1),
          6: ("PT-100", "STANDARD", 3, 800.0, 2), 7: ("PT-1000", "STANDARD", 3, 800.0, 2),
          8: ("RX-102A-AA", "STANDARD", 4, 40.0, 1), 9: ("RX-202A-AA", "STANDARD", 4, 40.0, 1),
          21: ("RX-102B-CB", "SIM0021", 4, 40.0, 1), 22: ("RX-102B-CB", "SIM0022", 4, 40.0, 1),
          23: ("RX-103-CD", "SIM0023", 4, 40.0, 1), 24: ("CX-1050-SD", "SIM0024", 3, 325.0, 1)}


def curve_header(headers: dict, curve: int) -> str:
    """CRVHDR? reply: name (15), serial number (10), format, limit, coefficient; curve 0
    (an input without a curve) reads as an empty header."""
    default = ("", "", 3, 0.0, 1) if curve == 0 else ("User Curve", "", 3, 375.0, 1)
    name, sn, fmt, limit, coefficient = headers.get(curve, default)
    return f"{name:<15.15},{sn:<10.10},{fmt},{limit:+.3f},{coefficient}"


def set_curve_header(headers: dict, args: list[str]) -> None:
    """CRVHDR <curve 21-59>,<name>,<SN>,<format>,<limit>,<coefficient>: user curves only."""
    curve = as_int(args[0], 21, 59)
    headers[curve] = (args[1].strip('"')[:15], args[2].strip('"')[:10], as_int(args[3], 1, 7),
                      as_float(args[4], 0, 2000), as_int(args[5], 1, 2))


class Output:
    """One control output's own settings: a command for output 2 never touches output 1."""

    def __init__(self, mode: list[Any], htrset: list[str], max_range: int) -> None:
        self.max_range = max_range
        self.mode: list[Any] = list(mode)  #: OUTMODE fields after the output number
        self.htrset = list(htrset)  #: HTRSET fields after the output number
        self.setpoint = 0.0  #: K (the control input's units)
        self.range = 0
        self.pid = [50.0, 20.0, 0.0]
        self.ramp_on = 0
        self.ramp_rate = 0.0  #: K/min
        self.mout = 0.0  #: manual output, %
        self.zones: dict[int, list[str]] = {}
        self._ramp_from = 0.0
        self._ramp_t0 = 0.0

    def ramp_setpoint(self, now: float) -> float:
        """The setpoint as it ramps towards ``setpoint`` (K) at time ``now`` (s)."""
        if not (self.ramp_on and self.ramp_rate > 0):
            return self.setpoint
        gap = self.setpoint - self._ramp_from
        step = self.ramp_rate / 60.0 * max(0.0, now - self._ramp_t0)
        return self.setpoint if step >= abs(gap) else self._ramp_from + math.copysign(step, gap)

    def set_setpoint(self, value: float, now: float) -> None:
        """New setpoint; with the ramp on the control setpoint walks there from where it is."""
        self._ramp_from, self._ramp_t0 = self.ramp_setpoint(now), now
        self.setpoint = value

    def ramping(self, now: float) -> bool:
        """RAMPST?: the control setpoint has not reached the setpoint yet."""
        return abs(self.ramp_setpoint(now) - self.setpoint) > 1e-9


class LakeShoreEmulator(Emulator):
    """Grammar, common commands and status registers of the Lake Shore boxes; a model
    subclass lists its commands in COMMANDS and implements ``_q_*``/``_c_*`` handlers."""

    command_terminators = ("\r\n", "\n", "\r")
    reply_terminator = "\r\n"
    idn = "LSCI,MODEL000,SIM0000,1.0"
    #: header as the manual spells it -> one-line description (also the dispatch table)
    COMMANDS: ClassVar[dict[str, str]] = {
        "*IDN?": "identification", "*RST": "reset settings to power-up values",
        "*CLS": "clear the status registers", "*ESE": "event status enable",
        "*ESE?": "event status enable query", "*ESR?": "event status register (read clears)",
        "*SRE": "service request enable", "*SRE?": "service request enable query",
        "*STB?": "status byte", "*OPC": "operation complete (sets OPC)",
        "*OPC?": "operation complete query (1)", "*TST?": "self test (0 = no errors)",
        "*WAI": "wait to continue (no-op: commands run in order)",
    }
    NOT_IMPLEMENTED: ClassVar[dict[str, str]] = {}

    def __init__(self, lab: Any) -> None:
        super().__init__(lab)
        self.esr = 0
        self.ese = 0
        self.sre = 0
        self.reset()

    def reset(self) -> None:
        """Power-up settings (``*RST``); subclasses extend."""

    # --- grammar ----------------------------------------------------------------------
    def handle(self, message: str) -> str | None:
        """One line: commands separated by ``;``; the queries' replies joined by ``;``."""
        replies = []
        for part in message.split(";"):
            reply = self._one(part.strip())
            if reply is not None:
                replies.append(reply)
        return ";".join(replies) if replies else None

    def _one(self, text: str) -> str | None:
        if not text:
            return None
        head, _, rest = text.partition(" ")
        head = head.upper()
        args = [a.strip() for a in rest.split(",")] if rest.strip() else []
        if head not in self.COMMANDS:
            self.esr |= ESR_CME
            return None
        name = ("_q_" if head.endswith("?") else "_c_") + head.strip("*?").lower()
        if head.startswith("*"):
            name = name[:3] + "star_" + name[3:]
        try:
            return getattr(self, name)(args)
        except Refused:
            self.esr |= ESR_EXE
        except (ValueError, IndexError, KeyError, TypeError, OverflowError):
            self.esr |= ESR_CME
        return None

    # --- IEEE-488 common commands -----------------------------------------------------
    def _q_star_idn(self, args: list[str]) -> str:
        return self.idn

    def _c_star_rst(self, args: list[str]) -> None:
        self.reset()

    def _c_star_cls(self, args: list[str]) -> None:
        self.esr = 0

    def _c_star_ese(self, args: list[str]) -> None:
        self.ese = as_int(args[0], 0, 255)

    def _q_star_ese(self, args: list[str]) -> str:
        return f"{self.ese:03d}"

    def _q_star_esr(self, args: list[str]) -> str:
        value, self.esr = self.esr, 0
        return f"{value:03d}"

    def _c_star_sre(self, args: list[str]) -> None:
        self.sre = as_int(args[0], 0, 255)

    def _q_star_sre(self, args: list[str]) -> str:
        return f"{self.sre:03d}"

    def _q_star_stb(self, args: list[str]) -> str:
        esb = 32 if self.esr & self.ese else 0
        rqs = 64 if esb & self.sre else 0
        return f"{esb | rqs:03d}"

    def _c_star_opc(self, args: list[str]) -> None:
        self.esr |= ESR_OPC

    def _q_star_opc(self, args: list[str]) -> str:
        return "1"

    def _q_star_tst(self, args: list[str]) -> str:
        return "0"

    def _c_star_wai(self, args: list[str]) -> None:
        return None

    # --- sensors ----------------------------------------------------------------------
    #: what each input/channel is wired to: "stage" (follows the cryostat), a fixed
    #: temperature in K (another stage of the cryostat), or None (nothing connected)
    WIRING: ClassVar[dict[Any, Any]] = {}
    #: RDGST? bits: the stage thermometer made invalid, and an open (unconnected) input
    STATUS_INVALID = 128
    STATUS_OPEN = 0

    def sensor(self, key: Any) -> tuple[float, float, int]:
        """(kelvin, sensor units, RDGST? bits) of input/channel ``key``."""
        wired = self.WIRING.get(key)
        cry = self.lab.cryostat
        if wired is None:
            return 0.0, 0.0, self.STATUS_OPEN
        if wired == "stage":
            if cry.thermometer_invalid:
                return 0.0, 0.0, self.STATUS_INVALID
            t = cry.temperature() * (1 + 1e-4 * self.lab.rng.normal())
            return t, cry.resistance(), 0
        t = float(wired) * (1 + 2e-4 * self.lab.rng.normal())
        return t, ruo2_ohm(t), 0

    # --- outputs (the model maps one of them to the cryostat's heater) -------------------
    #: the output that heats the sample stage
    PHYSICAL_OUTPUT: ClassVar[Any] = 1
    #: this model's range index -> the cryostat's heater range index (its RANGE_MAX_K)
    PHYSICAL_RANGE: ClassVar[dict[int, int]] = {}
    #: OUTMODE mode meaning "off" on this model
    MODE_OFF = 0
    outputs: dict[Any, Output]

    def output(self, text: str) -> Output:
        """The output named by a parameter (Refused when the model has no such output)."""
        key = int(float(text))
        if key not in self.outputs:
            raise Refused(text)
        return self.outputs[key]

    def sync_heater(self) -> None:
        """Push the physical output's range (0 when its mode is off) to the cryostat."""
        out = self.outputs[self.PHYSICAL_OUTPUT]
        rng = 0 if out.mode[0] == self.MODE_OFF else self.PHYSICAL_RANGE.get(out.range, 0)
        self.lab.cryostat.set_range(rng)

    def is_physical(self, out: Output) -> bool:
        """True for the output that heats the sample stage."""
        return out is self.outputs[self.PHYSICAL_OUTPUT]

    def set_point(self, out: Output, value: float) -> None:
        """SETP on an output; the physical one moves the cryostat's setpoint."""
        out.set_setpoint(value, self.lab.clock.now())
        if self.is_physical(out):
            self.lab.cryostat.set_setpoint(value)

    def get_point(self, out: Output) -> float:
        """SETP? of an output (K)."""
        return self.lab.cryostat.setpoint_K if self.is_physical(out) else out.setpoint

    def set_ramp(self, out: Output, on: int, rate: float) -> None:
        """RAMP on an output; the physical one ramps the cryostat's setpoint."""
        now = self.lab.clock.now()
        out._ramp_from, out._ramp_t0 = out.ramp_setpoint(now), now
        out.ramp_on, out.ramp_rate = on, rate
        if self.is_physical(out):
            self.lab.cryostat.set_ramp(bool(on), rate)

    def ramping(self, out: Output) -> bool:
        """RAMPST? of an output."""
        if self.is_physical(out):
            return self.lab.cryostat.ramping
        return out.ramping(self.lab.clock.now())

    def heater_percent(self, out: Output, open_loop_mode: int) -> float:
        """Heater output in % of range: the cryostat's for the physical output in closed
        loop; the manual output in open loop; 0 when off."""
        if out.range == 0 or out.mode[0] == self.MODE_OFF:
            return 0.0
        if out.mode[0] == open_loop_mode:
            return out.mout
        if self.is_physical(out):
            return self.lab.cryostat.heater_percent()
        return 0.0
