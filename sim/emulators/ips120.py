"""Oxford Instruments IPS120-10 emulator (the legacy supply of many He-3 systems) on the
shared magnet.

Serial 9600 baud 8N2, CR terminated, one letter per command. Every command is answered
with its own letter (``A1`` -> ``A``; ``R7`` -> ``R+1.23450``) unless it starts with ``$``
(no reply); a command the supply does not know, or a bad parameter, answers ``?`` and the
command (``?Z9``); a control command while the supply is in LOCAL (``C0``/``C2``; it powers
up LOCAL & LOCKED) answers the same way. ``@n`` (ISOBUS address) prefixes are accepted.
``Q`` sets the protocol and sends no reply [U]: bit 2 (``Q2``) adds LF to every reply,
bit 4 (``Q4``) gives extended resolution (one more digit).

``X`` -> ``XmnAnCnHnMmnPmn`` (docs/instruments.md): X m system (1 quenched) n limits; A
activity 0 hold, 1 to set point, 2 to zero, 4 clamped; C LOC/REM 0-3; H switch heater
0 off at zero, 1 on, 2 off at field, 8 no switch; M mode m, sweep n (0 at rest,
1 sweeping); P polarity. With the switch heater off the persistent field (``R18``) stays
at what it was when the heater went off, while the supply's output (``R7``) may move: the
lab's magnet is the output here (one field in the sim).
"""

from __future__ import annotations

import math
from typing import ClassVar

from pcsdaq.sim.emulators.base import Emulator
from pcsdaq.sim.magnet import QUENCH, RAMPING, ZEROING

MAX_FIELD_T = 7.0
MAX_RATE_T_PER_MIN = 1.0


def finite(text: str) -> float:
    """A finite number from a parameter (ValueError for nan/inf, as for text)."""
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(text)
    return value


class _Bad(Exception):
    """Answer ``?<command>``."""


class IPS120Emulator(Emulator):
    """IPS120-10 superconducting magnet supply."""

    name = "ips120"
    command_terminators = ("\r", "\n")
    reply_terminator = "\r"  #: CR; CR LF after Q2 (set per instance)
    version = "IPS120-10  Version 3.07  (c) OXFORD 1996"
    COMMANDS: ClassVar[dict[str, str]] = {
        "C": "C0 local & locked, C1 remote & locked, C2 local & unlocked, C3 remote & unlocked",
        "A": "activity: A0 hold, A1 to set point, A2 to zero, A4 clamp",
        "J": "target field, T", "I": "target current, A", "T": "field sweep rate, T/min",
        "S": "current sweep rate, A/min",
        "H": "switch heater: H0 off, H1 on if supply and magnet currents match, H2 on",
        "R": "read parameter: R0 demand current, R1 supply voltage, R2 measured current, "
             "R5 target current, R6 current rate, R7 demand field, R8 target field, "
             "R9 field rate, R15 voltage limit, R16 persistent current, R17 trip current, "
             "R18 persistent field, R19 trip field, R20 heater mA, R21/R22 safe current "
             "limits, R23 lead resistance mOhm, R24 inductance H",
        "X": "status string XmnAnCnHnMmnPmn", "V": "version", "Q": "protocol: Q0, Q2 LF, Q4 "
        "extended resolution (no reply)", "M": "display/sweep mode M0-M9",
        "$": "prefix: execute without reply", "@": "ISOBUS address prefix",
    }
    NOT_IMPLEMENTED: ClassVar[dict[str, str]] = {
        "P": "polarity commands are obsolete on the IPS120-10",
        "F": "front-panel display selection is not simulated",
        "W": "comms wait interval: the transport has no character delay",
        "U": "unlock (system commands such as ISOBUS address setting) is not simulated",
    }

    def __init__(self, lab) -> None:
        super().__init__(lab)
        self.control = 0  #: LOC/REM: powers up local & locked
        self.target_T = 0.0
        self.rate = 0.2  #: T/min
        self.activity = 0  #: A: 0 hold, 1 to set point, 2 to zero, 4 clamp
        self.heater = False
        self.switch_fitted = bool((getattr(lab, "config", {}) or {}).get("ips120_switch", True))
        self.persistent_T = 0.0
        self.mode = 1  #: M: tesla display, fast sweep
        self.protocol = 0

    def handle(self, message: str) -> str | None:
        """One command -> its echo letter and value, ``?<cmd>``, or None after ``$``."""
        text = message.strip()
        if text.startswith("@"):  # ISOBUS address
            text = text[1:].lstrip("0123456789")
        silent = text.startswith("$")
        text = text.lstrip("$")
        if not text:
            return None
        try:
            reply = self._command(text[0], text[1:])  # upper-case letters only
        except (_Bad, ValueError, IndexError):
            reply = f"?{text}"
        if silent:
            return None
        return reply

    def _fmt(self, value: float, decimals: int) -> str:
        return f"{value:+.{decimals + (1 if self.protocol & 4 else 0)}f}"

    def _remote(self) -> None:
        if self.control not in (1, 3):
            raise _Bad

    def _command(self, letter: str, arg: str) -> str | None:
        m = self.lab.magnet
        if letter == "Q":
            self.protocol = int(arg) if arg else 0
            self.reply_terminator = "\r\n" if self.protocol & 2 else "\r"
            return None
        if letter == "V":
            return self.version
        if letter == "X":
            return self._status()
        if letter == "R":
            return "R" + self._read(int(arg))
        if letter == "C":
            value = int(arg)
            if not 0 <= value <= 3:
                raise _Bad
            self.control = value
            return "C"
        self._remote()
        if letter == "A":
            self._activity(int(arg))
        elif letter in "JI":
            field_T = finite(arg) * (1.0 if letter == "J" else m.coil)
            if abs(field_T) > MAX_FIELD_T:
                raise _Bad
            self.target_T = field_T
        elif letter in "TS":
            rate = finite(arg) * (1.0 if letter == "T" else m.coil)
            if not 0 < rate <= MAX_RATE_T_PER_MIN:
                raise _Bad
            self.rate = rate
            if m.state in (RAMPING, ZEROING):
                m.field()
                m.rate = rate
        elif letter == "H":
            self._heater(int(arg))
        elif letter == "M":
            value = int(arg)
            if not 0 <= value <= 9:
                raise _Bad
            self.mode = value
        else:
            raise _Bad
        return letter

    def _activity(self, code: int) -> None:
        m = self.lab.magnet
        if code not in (0, 1, 2, 4):
            raise _Bad
        self.activity = code
        m.rate = self.rate
        if code == 1 and not m.quenched:
            m.target = self.target_T
            m.ramp()
        elif code == 2 and not m.quenched:
            m.zero()
        elif m.state != QUENCH:
            m.pause()

    def _heater(self, code: int) -> None:
        if code not in (0, 1, 2) or not self.switch_fitted:
            raise _Bad
        field = self.lab.magnet.field()
        if code == 1 and abs(field - self.persistent_T) > 1e-4 and not self.heater:
            raise _Bad  # supply and magnet currents differ: H1 refuses (H2 forces)
        if code == 0 and self.heater:
            self.persistent_T = field
        self.heater = code != 0

    def _persistent(self) -> float:
        return self.lab.magnet.field() if self.heater or not self.switch_fitted \
            else self.persistent_T

    def _read(self, code: int) -> str:
        m = self.lab.magnet
        field = m.field()
        ramping = m.state in (RAMPING, ZEROING)
        values = {0: (field / m.coil, 3), 1: (0.05 if ramping else 0.0, 3),
                  2: (field / m.coil, 3), 5: (self.target_T / m.coil, 3),
                  6: (self.rate / m.coil, 3), 7: (field, 4), 8: (self.target_T, 4),
                  9: (self.rate, 4), 15: (10.0, 2), 16: (self._persistent() / m.coil, 3),
                  17: (0.0, 3), 18: (self._persistent(), 4), 19: (0.0, 4),
                  20: (20.0 if self.heater else 0.0, 1), 21: (-MAX_FIELD_T / m.coil, 3),
                  22: (MAX_FIELD_T / m.coil, 3), 23: (7.0, 1), 24: (5.0, 1)}
        if code not in values:
            raise _Bad
        value, decimals = values[code]
        return self._fmt(value, decimals)

    def _status(self) -> str:
        m = self.lab.magnet
        m.field()
        system = 1 if m.quenched else 0
        if not self.switch_fitted:
            heater = 8
        elif self.heater:
            heater = 1
        else:
            heater = 2 if abs(self.persistent_T) > 1e-6 else 0
        sweeping = 1 if m.state in (RAMPING, ZEROING) else 0
        return f"X{system}0A{self.activity}C{self.control}H{heater}M{self.mode}{sweeping}P03"
