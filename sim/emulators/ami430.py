"""AMI 430 emulator on the shared magnet (first increment: field, target, ramp/pause/zero,
state, quench flag, SCPI error queue for unknown commands)."""

from __future__ import annotations

from pcsdaq.sim.emulators.base import Emulator
from pcsdaq.sim.magnet import QUENCH


class AMI430Emulator(Emulator):
    """AMI 430 over its IP interface; greeting on connect; CR LF replies."""

    name = "ami430"
    command_terminators = ("\r\n", "\n")
    reply_terminator = "\r\n"
    greeting = b"American Magnetics Model 430 IP Interface\r\nHello.\r\n"

    def __init__(self, lab) -> None:
        super().__init__(lab)
        self.errors: list[str] = []

    def handle(self, message: str) -> str | None:
        """Parse one command; return the reply or None."""
        m = self.lab.magnet
        head, _, arg = message.strip().partition(" ")
        head = head.upper()
        simple = {"*IDN?": lambda: "AMERICAN MAGNETICS INC.,MODEL 430,SIM,2.0",
                  "FIELD:MAG?": lambda: f"{m.field():.8f}",
                  "CURR:MAG?": lambda: f"{m.current():.8f}",
                  "FIELD:TARG?": lambda: f"{m.target:.8f}",
                  "STATE?": lambda: str(m.state),
                  "QU?": lambda: "1" if m.quenched else "0",
                  "SYST:ERR?": lambda: self.errors.pop(0) if self.errors else "0,\"No error\""}
        if head in simple:
            return simple[head]()
        if head == "CONF:FIELD:TARG" and arg:
            m.target = float(arg)
        elif head == "RAMP":
            m.ramp()
        elif head == "PAUSE":
            m.pause()
        elif head == "ZERO":
            m.zero()
        elif head == "QU" and arg.strip() == "0":
            m.quenched = False
            if m.state == QUENCH:
                m.state = 3
        else:
            self.errors.append("-101,\"Unrecognized command\"")
        return None
