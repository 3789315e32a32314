"""AMI 430 emulator on the shared magnet: field, target, ramp-rate segments (the ramp runs at
the slowest segment rate on its way), ramp/pause/zero, state (quench = 7), quench flag and
reset, coil constant and current limit, persistent switch heater, SCPI error queue."""

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
        self.segments: list[tuple[float, float]] = [(0.1, 7.0)]  #: (rate T/min, upper |B| T)
        self.current_limit = 80.0  #: A
        self.switch_heater = False

    def handle(self, message: str) -> str | None:
        """Parse one command; return the reply or None."""
        m = self.lab.magnet
        head, _, arg = message.strip().partition(" ")
        head = head.upper()
        simple = {"*IDN?": lambda: "AMERICAN MAGNETICS INC.,MODEL 430,SIM,2.0",
                  "FIELD:MAG?": lambda: f"{m.field():.8f}",
                  "CURR:MAG?": lambda: f"{m.current():.8f}",
                  "FIELD:TARG?": lambda: f"{m.target:.8f}",
                  "STATE?": self._state,
                  "QU?": lambda: "1" if m.quenched else "0",
                  "COIL?": lambda: f"{m.coil:.6f}",
                  "CURR:LIMIT?": lambda: f"{self.current_limit:.4f}",
                  "PS?": lambda: "1" if self.switch_heater else "0",
                  "CONF:PS:HTIME?": lambda: f"{self.heat_time_s:g}",
                  "CONF:PS:CTIME?": lambda: f"{self.cool_time_s:g}",
                  "CONF:FIELD:UNITS?": lambda: str(self.field_units),
                  "CONF:RAMP:RATE:UNITS?": lambda: str(self.rate_units),
                  "SYST:ERR?": lambda: self.errors.pop(0) if self.errors else "0,\"No error\""}
        if head in simple:
            return simple[head]()
        try:
            return self._set(m, head, arg)
        except (ValueError, IndexError):
            self.errors.append("-102,\"Syntax error\"")
            return None

    def _set(self, m, head: str, arg: str) -> str | None:
        if head.startswith("RAMP:RATE:FIELD:") and head.endswith("?"):
            seg = int(head.split(":")[3].rstrip("?"))
            rate, upper = self.segments[seg - 1]
            return f"{rate:.4f},{upper:.4f}"
        if head == "CONF:FIELD:TARG" and arg:
            target = float(arg)
            if abs(target) / m.coil > self.current_limit:
                self.errors.append("-222,\"Target exceeds the current limit\"")
                return None
            m.target = target
        elif head == "CONF:FIELD:UNITS":
            self.field_units = int(arg)
        elif head == "CONF:RAMP:RATE:UNITS":
            self.rate_units = int(arg)
        elif head == "CONF:RAMP:RATE:SEG":
            n = int(arg)
            self.segments = (self.segments + [(0.1, 7.0)] * n)[:n]
        elif head == "CONF:RAMP:RATE:FIELD":
            index, rate, upper = (float(v) for v in arg.split(","))
            self.segments[int(index) - 1] = (rate, upper)
        elif head == "CONF:CURR:LIMIT":
            self.current_limit = float(arg)
        elif head == "PS":
            self.switch_heater = arg.strip() == "1"
            self._switch_changed_at = self.lab.clock.now()
        elif head == "CONF:PS:HTIME":
            self.heat_time_s = min(max(float(arg), 5.0), 120.0)
        elif head == "CONF:PS:CTIME":
            self.cool_time_s = min(max(float(arg), 5.0), 3600.0)
        elif head == "RAMP":
            if self._switch_settling():
                self.errors.append("-200,\"Persistent switch heating or cooling\"")
                return None
            if m.quenched:
                self.errors.append("-200,\"Quench: reset before ramping\"")
                return None
            # the supply ramps each field range at its segment's rate; the slowest on the way
            lo, hi = sorted((abs(m.field()), abs(m.target)))
            rates, below = [], 0.0
            for r, upper in self.segments:  # segment i covers (upper of i-1, upper]
                if upper >= lo and below < hi:
                    rates.append(r)
                below = upper
            m.rate = min(rates) if rates else 0.1
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

    field_units = 1
    rate_units = 1
    heat_time_s = 20.0  #: persistent switch heating time, s (CONF:PS:HTIME, 5-120)
    cool_time_s = 60.0  #: persistent switch cooling time, s (CONF:PS:CTIME, 5-3600)
    _switch_changed_at = -1e30

    def _switch_settling(self) -> str | None:
        """'heating'/'cooling' while the persistent switch changes state, else None."""
        elapsed = self.lab.clock.now() - self._switch_changed_at
        if self.switch_heater and elapsed < self.heat_time_s:
            return "heating"
        if not self.switch_heater and elapsed < self.cool_time_s:
            return "cooling"
        return None

    def _state(self) -> str:
        """STATE?: 9 heating switch, 10 cooling switch, else the magnet's state (advanced)."""
        settling = self._switch_settling()
        if settling is not None:
            return "9" if settling == "heating" else "10"
        self.lab.magnet.field()  # advance the ramp first
        return str(self.lab.magnet.state)
