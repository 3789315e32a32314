"""Lake Shore 336 and 350 temperature controller emulators (inputs A-D, outputs 1-4).

Input A is the sample-stage thermometer (follows the cryostat), B and C sit on other stages
of the cryostat (1 K pot 1.6 K, 4 K plate 4.2 K: plausible, steady), D has no sensor
(INTYPE sensor type 0, disabled: reads 0). Output 1 heats the sample stage; outputs 2-4
keep their own setpoint, range, PID, ramp, mode and manual output and heat nothing here.
The 350 differs from the 336 in its IDN and in its output 1/2 heater ranges (0-5, not 0-3).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pcsdaq.sim.emulators.lakeshore_core import (
    CURVES,
    LakeShoreEmulator,
    Output,
    Refused,
    as_float,
    as_int,
    curve_header,
    set_curve_header,
)

INPUTS = ("A", "B", "C", "D")
#: 336 OUTMODE modes: 0 off, 1 closed loop PID, 2 zone, 3 open loop, 4 monitor out, 5 warm up
OPEN_LOOP = 3


def fmt6(value: float) -> str:
    """Six significant digits with a floating decimal point and sign, as the 336 answers
    readings (``+1.23456``, ``+273.150``)."""
    mag = abs(value)
    before = len(str(int(mag))) if mag >= 1 else 1
    return f"{value:+.{max(0, 6 - before)}f}"


class LakeShore336Emulator(LakeShoreEmulator):
    """Lake Shore 336: four inputs, four outputs (1-2 heaters 0-3, 3-4 analog 0-1)."""

    name = "ls336"
    idn = "LSCI,MODEL336,SIM0002,2.9"
    WIRING: ClassVar[dict] = {"A": "stage", "B": 1.6, "C": 4.2, "D": None}
    STATUS_INVALID = 16  #: T.UNDER
    PHYSICAL_OUTPUT = 1
    PHYSICAL_RANGE: ClassVar[dict[int, int]] = {0: 0, 1: 4, 2: 6, 3: 8}
    MAX_RANGE: ClassVar[dict[int, int]] = {1: 3, 2: 3, 3: 1, 4: 1}
    COMMANDS: ClassVar[dict[str, str]] = {
        **LakeShoreEmulator.COMMANDS,
        "KRDG?": "temperature of an input in K (0 = all inputs)",
        "CRDG?": "temperature of an input in Celsius (0 = all inputs)",
        "SRDG?": "sensor units reading of an input (0 = all inputs)",
        "RDGST?": "reading status bits: 1 invalid, 16 T under, 32 T over, 64 units zero, "
                  "128 units over",
        "INNAME": "input name", "INNAME?": "input name query",
        "INTYPE": "input sensor type, autorange, range, compensation, units",
        "INTYPE?": "input type query", "INCRV": "input curve number", "INCRV?": "curve query",
        "FILTER": "input filter on, points, window", "FILTER?": "input filter query",
        "SETP": "control setpoint of an output", "SETP?": "setpoint query",
        "RANGE": "heater range of an output", "RANGE?": "heater range query",
        "PID": "PID of an output", "PID?": "PID query",
        "RAMP": "setpoint ramp on/off and rate (K/min) of an output", "RAMP?": "ramp query",
        "RAMPST?": "setpoint ramp in progress",
        "MOUT": "manual output (%) of an output", "MOUT?": "manual output query",
        "OUTMODE": "output mode, control input, power-up enable",
        "OUTMODE?": "output mode query",
        "HTRSET": "heater setup: resistance 1 25/2 50 Ohm, max current 0 user/1-4, max user "
                  "current A, display 1 current/2 power (four fields, as the 372)",
        "CRVHDR": "user curve header (curves 21-59)", "CRVHDR?": "curve header query",
        "HTRSET?": "heater setup query", "HTR?": "heater output in % of range",
        "AOUT?": "analog output (outputs 3-4) in %",
        "HTRST?": "heater status 0 ok, 1 open, 2 short",
        "ZONE": "zone table entry of an output", "ZONE?": "zone table entry query",
        "TLIMIT": "temperature limit of an input (K; 0 off): outputs go off above it",
        "TLIMIT?": "temperature limit query",
        "MODE": "remote interface mode 0 local, 1 remote, 2 remote with lockout",
        "MODE?": "remote mode query",
    }
    NOT_IMPLEMENTED: ClassVar[dict[str, str]] = {
        "CRVPT": "curve data points are not simulated (the sensors convert internally)",
        "ALARM": "alarms are not simulated", "RELAY": "relays are not simulated",
        "ATUNE": "autotune needs a PID loop model the cryostat does not have",
        "MDAT?": "min/max data not kept", "NET": "network setup is the transport's",
    }

    def reset(self) -> None:
        """Power-up settings: every input and output set up anew (the cryostat's heater off)."""
        curves = {"A": 21, "B": 8, "C": 8, "D": 0}
        self.curve_headers = dict(CURVES)
        self.inputs: dict[str, dict[str, Any]] = {k: {"name": f"Input {k}", "curve": curves[k],
                           "intype": ["3", "1", "0", "1", "1"] if self.WIRING[k] is not None
                           else ["0", "0", "0", "0", "1"], "filter": ["0", "10", "2"],
                           "tlimit": 0.0}
                       for k in INPUTS}
        self.outputs = {n: Output([1 if n <= 2 else 0, n if n <= 2 else 0, 0],
                                  ["1", "2", "+0.000", "1"], self.MAX_RANGE[n])
                        for n in self.MAX_RANGE}
        self.remote_mode = 0
        cry = self.lab.cryostat
        self.outputs[1].setpoint = cry.setpoint_K
        self.sync_heater()

    def _input(self, text: str) -> str:
        key = text.strip().upper()
        if key not in INPUTS:
            raise Refused(text)
        return key

    def _reading(self, args: list[str], pick) -> str | None:
        key = args[0].strip() if args else "A"
        if key == "0":
            return ",".join(pick(*self._read(k)) for k in INPUTS)
        return pick(*self._read(self._input(key)))

    def _read(self, key: str) -> tuple[float, float, int]:
        if self.inputs[key]["intype"][0] == "0":
            return 0.0, 0.0, 0  # disabled input
        kelvin, units, status = self.sensor(key)
        if self.inputs[key]["curve"] == 0:  # no curve: sensor units only
            kelvin = 0.0
        return kelvin, units, status

    # --- readings ---------------------------------------------------------------------
    def _q_krdg(self, args: list[str]) -> str | None:
        return self._reading(args, lambda k, s, st: fmt6(k))

    def _q_crdg(self, args: list[str]) -> str | None:
        return self._reading(args, lambda k, s, st: fmt6(k - 273.15 if k > 0 else 0.0))

    def _q_srdg(self, args: list[str]) -> str | None:
        return self._reading(args, lambda k, s, st: fmt6(s))

    def _q_rdgst(self, args: list[str]) -> str:
        return f"{self._read(self._input(args[0] if args else 'A'))[2]:03d}"

    # --- inputs -----------------------------------------------------------------------
    def _c_inname(self, args: list[str]) -> None:
        self.inputs[self._input(args[0])]["name"] = ",".join(args[1:]).strip('"')[:15]

    def _q_inname(self, args: list[str]) -> str:
        return self.inputs[self._input(args[0])]["name"]

    def _c_intype(self, args: list[str]) -> None:
        fields = [str(as_int(a, 0, 99)) for a in args[1:6]]
        if len(fields) != 5 or int(fields[0]) > 4:
            raise Refused(",".join(args))
        self.inputs[self._input(args[0])]["intype"] = fields

    def _q_intype(self, args: list[str]) -> str:
        return ",".join(self.inputs[self._input(args[0])]["intype"])

    def _c_incrv(self, args: list[str]) -> None:
        self.inputs[self._input(args[0])]["curve"] = as_int(args[1], 0, 59)

    def _q_incrv(self, args: list[str]) -> str:
        return f"{self.inputs[self._input(args[0])]['curve']:02d}"

    def _c_crvhdr(self, args: list[str]) -> None:
        set_curve_header(self.curve_headers, args)

    def _q_crvhdr(self, args: list[str]) -> str:
        return curve_header(self.curve_headers, as_int(args[0], 0, 59))

    def _c_filter(self, args: list[str]) -> None:
        self.inputs[self._input(args[0])]["filter"] = [str(as_int(args[1], 0, 1)),
                                                       str(as_int(args[2], 2, 64)),
                                                       str(as_int(args[3], 1, 10))]

    def _q_filter(self, args: list[str]) -> str:
        return ",".join(self.inputs[self._input(args[0])]["filter"])

    def _c_tlimit(self, args: list[str]) -> None:
        self.inputs[self._input(args[0])]["tlimit"] = as_float(args[1], 0.0, 2000.0)

    def _q_tlimit(self, args: list[str]) -> str:
        return f"{self.inputs[self._input(args[0])]['tlimit']:+.1f}"

    # --- outputs ----------------------------------------------------------------------
    def _c_setp(self, args: list[str]) -> None:
        self.set_point(self.output(args[0]), as_float(args[1], 0.0, 1500.0))

    def _q_setp(self, args: list[str]) -> str:
        return fmt6(self.get_point(self.output(args[0] if args else "1")))

    def _c_range(self, args: list[str]) -> None:
        out = self.output(args[0])
        out.range = as_int(args[1], 0, out.max_range)
        if self.is_physical(out):
            self.sync_heater()

    def _q_range(self, args: list[str]) -> str:
        return str(self.output(args[0] if args else "1").range)

    def _c_pid(self, args: list[str]) -> None:
        self.output(args[0]).pid = [as_float(args[1], 0.1, 1000), as_float(args[2], 0.1, 1000),
                                    as_float(args[3], 0, 200)]

    def _q_pid(self, args: list[str]) -> str:
        p, i, d = self.output(args[0] if args else "1").pid
        return f"{p:+.1f},{i:+.1f},{d:+.0f}"

    def _c_ramp(self, args: list[str]) -> None:
        self.set_ramp(self.output(args[0]), as_int(args[1], 0, 1), as_float(args[2], 0, 100))

    def _q_ramp(self, args: list[str]) -> str:
        out = self.output(args[0] if args else "1")
        return f"{out.ramp_on},{out.ramp_rate:+.1f}"

    def _q_rampst(self, args: list[str]) -> str:
        return str(int(self.ramping(self.output(args[0] if args else "1"))))

    def _c_mout(self, args: list[str]) -> None:
        self.output(args[0]).mout = as_float(args[1], 0, 100)

    def _q_mout(self, args: list[str]) -> str:
        return f"{self.output(args[0] if args else '1').mout:+.2f}"

    def _c_outmode(self, args: list[str]) -> None:
        out = self.output(args[0])
        mode = [as_int(args[1], 0, 5), as_int(args[2], 0, 4), as_int(args[3], 0, 1)]
        out.mode = mode
        if self.is_physical(out):
            self.sync_heater()

    def _q_outmode(self, args: list[str]) -> str:
        return ",".join(str(v) for v in self.output(args[0] if args else "1").mode)

    def _c_htrset(self, args: list[str]) -> None:
        out = self.output(args[0])
        out.htrset = [str(as_int(args[1], 1, 2)), str(as_int(args[2], 0, 4)),
                      f"{as_float(args[3], 0, 2):+.3f}", str(as_int(args[4], 1, 2))]

    def _q_htrset(self, args: list[str]) -> str:
        return ",".join(self.output(args[0] if args else "1").htrset)

    def _q_htr(self, args: list[str]) -> str:
        return f"{self.heater_percent(self.output(args[0] if args else '1'), OPEN_LOOP):+.1f}"

    def _q_aout(self, args: list[str]) -> str:
        out = self.output(args[0] if args else "3")
        return f"{out.mout if out.range else 0.0:+.2f}"

    def _q_htrst(self, args: list[str]) -> str:
        out = self.output(args[0] if args else "1")
        return "1" if self.is_physical(out) and self.lab.cryostat.heater_open else "0"

    def _c_zone(self, args: list[str]) -> None:
        out = self.output(args[0])
        out.zones[as_int(args[1], 1, 10)] = [fmt6(as_float(args[2], 0)), f"{float(args[3]):+.1f}",
                                            f"{float(args[4]):+.1f}", f"{float(args[5]):+.0f}",
                                            f"{float(args[6]):+.2f}", str(as_int(args[7], 0, 5)),
                                            str(as_int(args[8], 0, 4)), f"{float(args[9]):+.1f}"]

    def _q_zone(self, args: list[str]) -> str:
        zone = as_int(args[1], 1, 10)
        return ",".join(self.output(args[0]).zones.get(
            zone, ["+0.000", "+50.0", "+20.0", "+0", "+0.00", "0", "0", "+0.0"]))

    def _c_mode(self, args: list[str]) -> None:
        self.remote_mode = as_int(args[0], 0, 2)

    def _q_mode(self, args: list[str]) -> str:
        return str(self.remote_mode)


class LakeShore350Emulator(LakeShore336Emulator):
    """Lake Shore 350: as the 336, with heater ranges 0-5 on outputs 1 and 2."""

    name = "ls350"
    idn = "LSCI,MODEL350,SIM0003,1.7"
    PHYSICAL_RANGE: ClassVar[dict[int, int]] = {0: 0, 1: 3, 2: 4, 3: 5, 4: 6, 5: 8}
    MAX_RANGE: ClassVar[dict[int, int]] = {1: 5, 2: 5, 3: 1, 4: 1}
