"""Lake Shore 372 / 336 emulators on the shared cryostat.

Set commands get no reply and unknown or malformed commands are silently ignored, as on the
real boxes (the drivers therefore read settings back). CR LF framing.
"""

from __future__ import annotations

from pcsdaq.sim.emulators.base import Emulator

#: RDGST? bit the emulator sets when the thermometer is made invalid (T under range)
INVALID_STATUS = 128


class LakeShore372Emulator(Emulator):
    """Lake Shore 372 AC resistance bridge with one sample-heater output."""

    name = "ls372"
    command_terminators = ("\r\n", "\n")
    reply_terminator = "\r\n"
    idn = "LSCI,MODEL372,SIM0001,1.0"

    def __init__(self, lab) -> None:
        super().__init__(lab)
        self.pid = [10.0, 20.0, 0.0]
        self.outmode = "2,0,0,0,0,0"
        self.htrset = "120,8,0,1"

    def handle(self, message: str) -> str | None:
        """Parse one command; return the reply or None (sets and bad commands)."""
        head, _, args = message.strip().partition(" ")
        head = head.upper()
        parts = [a.strip() for a in args.split(",")] if args else []
        try:
            return self._dispatch(head, parts)
        except (ValueError, IndexError):
            return None  # the box ignores what it cannot parse

    def _dispatch(self, head: str, parts: list[str]) -> str | None:
        cry = self.lab.cryostat
        if head == "*IDN?":
            return self.idn
        if head in ("RDGK?", "KRDG?"):
            if cry.thermometer_invalid:
                return "+0.00000E+00"
            return f"{cry.temperature() * (1 + 1e-4 * self.lab.rng.normal()):+.5E}"
        if head in ("RDGR?", "SRDG?"):
            return f"{cry.resistance():+.5E}"
        if head == "RDGST?":
            return f"{INVALID_STATUS if cry.thermometer_invalid else 0:03d}"
        if head == "RDGSTL?":
            s = int(cry.settled() and not cry.thermometer_invalid)
            return f"{s},{s}"
        if head == "SETP" and parts:
            cry.set_setpoint(float(parts[-1]))
        elif head == "SETP?":
            return f"{cry.setpoint_K:+.5E}"
        elif head == "RANGE" and parts:
            rng = int(parts[-1])
            if 0 <= rng <= 8:
                cry.set_range(rng)
        elif head == "RANGE?":
            return str(cry.heater_range)
        elif head == "PID" and len(parts) >= 3:
            self.pid = [float(v) for v in parts[-3:]]
        elif head == "PID?":
            return ",".join(f"{v:+.1f}" for v in self.pid)
        elif head == "RAMP" and len(parts) >= 2:
            cry.set_ramp(parts[-2] == "1", float(parts[-1]))
        elif head == "RAMP?":
            return f"{int(cry.ramp_enabled)},{cry.ramp_rate_K_per_min:.3f}"
        elif head == "RAMPST?":
            return str(int(cry.ramping))
        elif head == "HTR?":
            return f"{cry.heater_percent():+.4E}"
        elif head == "HTRST?":
            return "1" if cry.heater_open else "0"
        elif head == "OUTMODE" and parts:
            self.outmode = ",".join(parts[1:] if len(parts) > 6 else parts)
        elif head == "OUTMODE?":
            return self.outmode
        elif head == "HTRSET" and parts:
            self.htrset = ",".join(parts[1:])
        elif head == "HTRSET?":
            return self.htrset
        return None


class LakeShore336Emulator(LakeShore372Emulator):
    """Lake Shore 336 controller (same readings; HTR? and HTRST? take the output number)."""

    name = "ls336"
    idn = "LSCI,MODEL336,SIM0002,1.0"
