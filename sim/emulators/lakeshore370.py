"""Lake Shore 370 AC resistance bridge emulator: the 372's predecessor, still common in He-3
and dilution systems. Same readings and scanner as the 372 on channels 1-16 (no control
input A), one control loop in the older syntax. See :mod:`pcsdaq.sim.emulators.lakeshore`.
"""

from __future__ import annotations

from typing import ClassVar

from pcsdaq.sim.emulators.lakeshore import LakeShore372Emulator
from pcsdaq.sim.emulators.lakeshore_core import (
    LakeShoreEmulator,
    Output,
    Refused,
    as_float,
    as_int,
)

#: 370 CMODE (1 closed loop, 2 zone, 3 open loop, 4 off) <-> the 372's OUTMODE mode
_CMODE_TO_MODE = {1: "5", 2: "3", 3: "2", 4: "0"}


class LakeShore370Emulator(LakeShore372Emulator):
    """Lake Shore 370: the 372's readings and scanner on channels 1-16 (no control input A),
    one control loop with the older syntax: CSET, CMODE, SETP v, PID P,I,D, HTRRNG r,
    RAMP on,rate, MOUT % (no output argument) [U: docs/instruments.md marks it unconfirmed]."""

    name = "ls370"
    idn = "LSCI,MODEL370,SIM0004,1.5"
    WIRING: ClassVar[dict] = {1: "stage", 2: 1.6, 3: 4.2, 4: 45.0}
    _SHARED = ("RDGK?", "RDGR?", "RDGPWR?", "RDGST?", "SCAN", "SCAN?", "INSET", "INSET?",
               "FILTER", "FILTER?", "HTR?", "HTRST?", "RAMPST?", "STILL", "STILL?")
    COMMANDS: ClassVar[dict[str, str]] = {
        **{h: d for h, d in LakeShoreEmulator.COMMANDS.items() if h != "*WAI"},
        **{h: LakeShore372Emulator.COMMANDS[h] for h in _SHARED},
        "RDGRNG": "channel mode, excitation, range, autorange, cs off",
        "RDGRNG?": "reading range query",
        "CSET": "control channel, filter, units, delay, heater display, limit, resistance",
        "CSET?": "control setup query",
        "CMODE": "control mode 1 closed loop, 2 zone, 3 open loop, 4 off", "CMODE?": "query",
        "SETP": "control setpoint", "SETP?": "setpoint query", "PID": "P, I, D",
        "PID?": "PID query", "HTRRNG": "sample heater range 0-8", "HTRRNG?": "range query",
        "RAMP": "setpoint ramp on/off and rate (K/min)", "RAMP?": "ramp query",
        "MOUT": "manual heater output (%)", "MOUT?": "manual output query",
        "ANALOG": "analog output 1-2: bipolar, mode (0 off, 1 channel, 2 manual, 3 zone, "
                  "4 still), channel, source, high, low, manual value",
        "ANALOG?": "analog output setup query", "AOUT?": "analog output in %",
    }
    NOT_IMPLEMENTED: ClassVar[dict[str, str]] = {
        "*WAI": "the 370 does not support it (its manual); ignored with the CME bit",
        "ZONE": "zone tables are not simulated", "CRVHDR": "user curves are not simulated",
        "CRVPT": "user curves are not simulated", "ALARM": "alarms are not simulated",
    }

    def reset(self) -> None:
        """Power-up settings of the 370 (no control input A)."""
        super().reset()
        self.channels.pop("A", None)
        self.cset = ["1", "1", "1", "10", "1", "300", "120"]
        self.rdgrng = {ch: ["0", "14", "11", "1", "0"] for ch in range(1, 17)}
        self.analog = {n: ["0", "0", "1", "1", "+1.00000E+00", "+0.00000E+00", "+0.000"]
                       for n in (1, 2)}

    def _out(self, args: list[str], default: str = "0") -> Output:
        return self.outputs[0]  # one loop: no output argument

    def _channel(self, text: str) -> int:
        key = int(text)
        if not 1 <= key <= 16:
            raise Refused(text)
        return key

    def _c_setp(self, args: list[str]) -> None:
        self.set_point(self.outputs[0], as_float(args[0], 0.0, 1000.0))

    def _c_pid(self, args: list[str]) -> None:
        self.outputs[0].pid = [as_float(args[0], 0, 1000), as_float(args[1], 0, 10000),
                               as_float(args[2], 0, 2500)]

    def _c_htrrng(self, args: list[str]) -> None:
        self.outputs[0].range = as_int(args[0], 0, 8)
        self.sync_heater()

    def _q_htrrng(self, args: list[str]) -> str:
        return str(self.outputs[0].range)

    def _c_cmode(self, args: list[str]) -> None:
        self.outputs[0].mode[0] = _CMODE_TO_MODE[as_int(args[0], 1, 4)]
        self.sync_heater()

    def _q_cmode(self, args: list[str]) -> str:
        back = {v: k for k, v in _CMODE_TO_MODE.items()}
        return str(back.get(self.outputs[0].mode[0], 1))

    def _c_cset(self, args: list[str]) -> None:
        self.cset = [str(as_int(args[0], 1, 16)), str(as_int(args[1], 0, 1)),
                     str(as_int(args[2], 1, 2)), str(as_int(args[3], 1, 255)),
                     str(as_int(args[4], 1, 2)), f"{as_float(args[5], 0, 1000):g}",
                     f"{as_float(args[6], 1, 100000):g}"]

    def _q_cset(self, args: list[str]) -> str:
        return ",".join(self.cset)

    def _c_ramp(self, args: list[str]) -> None:
        self.set_ramp(self.outputs[0], as_int(args[0], 0, 1), as_float(args[1], 0, 100))

    def _c_mout(self, args: list[str]) -> None:
        self.outputs[0].mout = as_float(args[0], 0, 100)

    def _c_rdgrng(self, args: list[str]) -> None:
        values = [str(as_int(args[1], 0, 1)), str(as_int(args[2], 1, 22)),
                  str(as_int(args[3], 1, 22)), str(as_int(args[4], 0, 1)),
                  str(as_int(args[5], 0, 1))]
        keys = range(1, 17) if args[0].strip() == "0" else [self._channel(args[0])]
        for key in keys:  # 0: every channel
            self.rdgrng[key] = list(values)

    def _analog(self, text: str) -> list[str]:
        return self.analog[as_int(text, 1, 2)]

    def _c_analog(self, args: list[str]) -> None:
        setup = self._analog(args[0])
        setup[:] = [str(as_int(args[1], 0, 1)), str(as_int(args[2], 0, 4)),
                    str(as_int(args[3], 0, 16)), str(as_int(args[4], 1, 3)),
                    f"{as_float(args[5]):+.5E}", f"{as_float(args[6]):+.5E}",
                    f"{as_float(args[7], -100, 100):+.3f}"]

    def _q_analog(self, args: list[str]) -> str:
        return ",".join(self._analog(args[0]))

    def _q_aout(self, args: list[str]) -> str:
        setup = self._analog(args[0])
        return f"{float(setup[6]) if setup[1] == '2' else 0.0:+.3f}"

    def _q_rdgrng(self, args: list[str]) -> str:
        return ",".join(self.rdgrng[self._channel(args[0])])
