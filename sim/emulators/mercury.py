"""Oxford Instruments MercuryiPS emulator (Z group power supply) on the shared magnet.

SCPI-like tree, LF framing: ``READ:DEV:GRPZ:PSU:SIG:FLD`` -> ``STAT:DEV:GRPZ:PSU:SIG:FLD:
1.2345T``; ``SET:DEV:GRPZ:PSU:SIG:FSET:1.0`` -> ``STAT:SET:DEV:GRPZ:PSU:SIG:FSET:1.0000:VALID``.
Bad values answer ``INVALID``, unknown paths ``NOT_FOUND``, a ramp while quenched ``DENIED``.
The status word (``READ:DEV:GRPZ:PSU:STAT``) has bit 0 set after a quench.
"""

from __future__ import annotations

from pcsdaq.sim.emulators.base import Emulator
from pcsdaq.sim.magnet import HOLDING, PAUSED, QUENCH, RAMPING, ZEROING

PSU = "DEV:GRPZ:PSU"
UNITS = {"FLD": "T", "PFLD": "T", "FSET": "T", "RFST": "T/m", "CURR": "A", "PCUR": "A",
         "CSET": "A", "RCST": "A/m", "VOLT": "V"}


class MercuryIPSEmulator(Emulator):
    """MercuryiPS: field, set point, rate, switch heater, HOLD/RTOS/RTOZ/CLMP."""

    name = "mercury"
    command_terminators = ("\n",)
    reply_terminator = "\n"

    def __init__(self, lab) -> None:
        super().__init__(lab)
        self.fset = 0.0
        self.rfst = 0.1
        self.switch_heater = False
        self.clamped = False

    def _action(self) -> str:
        magnet = self.lab.magnet
        magnet.field()  # advance the ramp first
        if self.clamped:
            return "CLMP"
        return {RAMPING: "RTOS", HOLDING: "RTOS", ZEROING: "RTOZ", PAUSED: "HOLD",
                QUENCH: "HOLD"}.get(magnet.state, "HOLD")

    def _signal(self, sig: str) -> str | None:
        magnet = self.lab.magnet
        values = {"FLD": magnet.field(), "PFLD": magnet.field(), "FSET": self.fset,
                  "RFST": self.rfst, "CURR": magnet.current(), "PCUR": magnet.current(),
                  "CSET": self.fset / magnet.coil, "RCST": self.rfst / magnet.coil, "VOLT": 0.0}
        if sig == "SWHT":
            return "ON" if self.switch_heater else "OFF"
        if sig not in values:
            return None
        return f"{values[sig]:.4f}{UNITS[sig]}"

    def handle(self, message: str) -> str | None:
        """One command line -> one STAT reply."""
        text = message.strip()
        if text.startswith("READ:"):
            path = text[len("READ:"):]
            if path == f"{PSU}:ACTN":
                return f"STAT:{path}:{self._action()}"
            if path == f"{PSU}:STAT":
                return f"STAT:{path}:{1 if self.lab.magnet.quenched else 0:08X}"
            if path.startswith(f"{PSU}:SIG:"):
                value = self._signal(path.rsplit(":", 1)[-1])
                if value is not None:
                    return f"STAT:{path}:{value}"
            if text == "*IDN?":
                return self.idn()
            return f"STAT:{path}:NOT_FOUND"
        if text == "*IDN?":
            return self.idn()
        if text.startswith("SET:"):
            return self._set(text[len("SET:"):])
        return f"STAT:{text}:INVALID"

    @staticmethod
    def idn() -> str:
        """Identification string."""
        return "IDN:OXFORD INSTRUMENTS:MERCURY IPS:SIM0001:2.6.04.000"

    def _set(self, path: str) -> str:
        head, _, value = path.rpartition(":")
        magnet = self.lab.magnet
        reply = f"STAT:SET:{path}"
        try:
            if head == f"{PSU}:SIG:FSET":
                v = float(value)
                if abs(v) > 7.0:
                    return f"{reply}:INVALID"
                self.fset = v
            elif head == f"{PSU}:SIG:RFST":
                v = float(value)
                if not 0 < v <= 1.0:
                    return f"{reply}:INVALID"
                self.rfst = v
            elif head == f"{PSU}:SIG:SWHT":
                if value not in ("ON", "OFF"):
                    return f"{reply}:INVALID"
                self.switch_heater = value == "ON"
            elif head == f"{PSU}:ACTN":
                if value not in ("HOLD", "RTOS", "RTOZ", "CLMP"):
                    return f"{reply}:INVALID"
                if value in ("RTOS", "RTOZ") and (magnet.quenched or self.clamped):
                    return f"{reply}:DENIED"  # from CLMP the supply must go HOLD first
                self.clamped = value == "CLMP"
                magnet.rate = self.rfst
                if value == "RTOS":
                    magnet.target = self.fset
                    magnet.ramp()
                elif value == "RTOZ":
                    magnet.zero()
                else:
                    magnet.pause()
            else:
                return f"STAT:SET:{path}:NOT_FOUND"
        except ValueError:
            return f"{reply}:INVALID"
        return f"{reply}:VALID"
