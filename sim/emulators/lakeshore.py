"""LakeShore 372 / 336 emulators on the shared cryostat (first increment: readings,
setpoint, heater range; unknown commands are silently ignored as on the real boxes)."""

from __future__ import annotations

from pcsdaq.sim.emulators.base import Emulator


class LakeShore372Emulator(Emulator):
    """LakeShore 372 AC resistance bridge; CR LF framing, set forms give no reply."""

    name = "ls372"
    command_terminators = ("\r\n", "\n")
    reply_terminator = "\r\n"
    idn = "LSCI,MODEL372,SIM0001,1.0"

    def handle(self, message: str) -> str | None:
        """Parse one command; return the reply or None."""
        cry = self.lab.cryostat
        head, _, args = message.strip().partition(" ")
        head = head.upper()
        parts = [a.strip() for a in args.split(",")] if args else []
        if head == "*IDN?":
            return self.idn
        if head in ("RDGK?", "KRDG?"):
            if cry.thermometer_invalid:
                return "+0.00000E+00"
            return f"{cry.temperature() * (1 + 1e-4 * self.lab.rng.normal()):+.5E}"
        if head in ("RDGR?", "SRDG?"):
            return f"{cry.resistance():+.5E}"
        if head == "RDGST?":
            return "128" if cry.thermometer_invalid else "000"
        if head == "SETP" and parts:
            cry.set_setpoint(float(parts[-1]))
        elif head == "SETP?":
            return f"{cry.setpoint_K:+.5E}"
        elif head == "RANGE" and parts:
            cry.set_range(int(parts[-1]))
        elif head == "RANGE?":
            return str(cry.heater_range)
        return None


class LakeShore336Emulator(LakeShore372Emulator):
    """LakeShore 336 controller (same reading/setpoint subset)."""

    name = "ls336"
    idn = "LSCI,MODEL336,SIM0002,1.0"
