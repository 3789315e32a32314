"""Lake Shore 372 AC resistance bridge emulator on the cryostat (the 370: lakeshore370).

Grammar, common commands and status bits: :mod:`pcsdaq.sim.emulators.lakeshore_core`.
The 372 has the control input A and scanner channels 1-16; A and channel 1 carry the
sample-stage thermometer (they follow the cryostat), channels 2-4 sit on other stages
(He-3 pot 0.5 K... steady values: 1 K pot 1.6 K, 4 K plate 4.2 K, 50 K plate 45 K), 5-16
have nothing connected: an open current path reads 0 with CS OVL and R.OVER set
(RDGST? 17) [U: the bits an open input shows, from the manual's status list]. Output 0
(sample heater) heats the stage; outputs 1 (warm-up) and 2 (still) keep their own settings.
The 336/350 are in :mod:`pcsdaq.sim.emulators.lakeshore336`.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pcsdaq.sim.emulators.lakeshore336 import (  # noqa: F401  (re-exported for the lab)
    LakeShore336Emulator,
    LakeShore350Emulator,
)
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

#: RDGST? bit the emulator sets when the thermometer is made invalid (T.UNDER)
INVALID_STATUS = 128
#: 372 OUTMODE modes: 0 off, 1 monitor, 2 open loop, 3 zone, 4 still, 5 closed loop, 6 warm up
OPEN_LOOP = 2
CHANNELS = ("A", *range(1, 17))


class LakeShore372Emulator(LakeShoreEmulator):
    """Lake Shore 372: control input A, 16 scanner channels, sample/warm-up/still outputs."""

    name = "ls372"
    idn = "LSCI,MODEL372,SIM0001,1.0"
    WIRING: ClassVar[dict] = {"A": "stage", 1: "stage", 2: 1.6, 3: 4.2, 4: 45.0}
    STATUS_INVALID = INVALID_STATUS
    STATUS_OPEN = 1 | 16  #: CS OVL + R.OVER
    PHYSICAL_OUTPUT = 0
    PHYSICAL_RANGE: ClassVar[dict[int, int]] = {i: i for i in range(9)}
    COMMANDS: ClassVar[dict[str, str]] = {
        **LakeShoreEmulator.COMMANDS,
        "RDGK?": "kelvin reading of a channel (A or 1-16)",
        "KRDG?": "kelvin reading of a channel (the name public drivers use)",
        "RDGR?": "resistance reading of a channel in Ohm",
        "SRDG?": "sensor units reading of a channel (Ohm)",
        "RDGPWR?": "excitation power of a channel in W",
        "RDGST?": "reading status bits: 1 CS OVL, 2 VCM OVL, 4 VMIX OVL, 8 VDIF OVL, "
                  "16 R.OVER, 32 R.UNDER, 64 T.OVER, 128 T.UNDER",
        "RDGSTL?": "settle status of control and active channel",
        "SCAN": "scanner channel and autoscan", "SCAN?": "scanner query",
        "INSET": "channel enabled, dwell, pause, curve, tempco", "INSET?": "channel setup query",
        "INTYPE": "channel mode, excitation, autorange, range, cs shunt, units",
        "INTYPE?": "channel type query", "FILTER": "channel filter on, settle time, window",
        "FILTER?": "channel filter query", "INNAME": "channel name", "INNAME?": "name query",
        "INCRV": "channel curve number", "INCRV?": "curve query",
        "OUTMODE": "output mode, input, powerup, polarity, filter, delay",
        "OUTMODE?": "output mode query", "SETP": "setpoint of an output",
        "SETP?": "setpoint query", "PID": "PID of an output", "PID?": "PID query",
        "RANGE": "heater range of an output (sample 0-8, warm-up/still 0-1)",
        "RANGE?": "heater range query",
        "HTRSET": "heater setup: resistance (sample 1-2000 Ohm; warm-up 1 25/2 50 Ohm), max "
                  "current (warm-up 0 user, 1 0.45 A, 2 0.63 A), max user current, display",
        "HTRSET?": "heater setup query (outputs 0 and 1)", "HTR?": "sample heater output in %",
        "CRVHDR": "user curve header (curves 21-59)", "CRVHDR?": "curve header query",
        "AOUT?": "warm-up/still output in %", "HTRST?": "heater status 0 ok, 1 open, 2 short",
        "RAMP": "setpoint ramp on/off and rate (K/min)", "RAMP?": "ramp query",
        "RAMPST?": "setpoint ramp in progress", "MOUT": "manual output of an output (%)",
        "MOUT?": "manual output query", "STILL": "still output in %", "STILL?": "still query",
        "TLIMIT": "temperature limit of a channel (K; 0 off)", "TLIMIT?": "limit query",
        "FREQ": "excitation frequency (1 9.8, 2 13.7, 3 16.2, 4 11.6, 5 18.2 Hz) of the "
                "measurement (0) or control (A) input", "FREQ?": "excitation frequency query",
    }
    NOT_IMPLEMENTED: ClassVar[dict[str, str]] = {
        "QRDG?": "quadrature reading: the bridge model has no reactance",
        "CRVPT": "curve data points are not simulated (the sensors convert internally)",
        "ZONE": "zone tables are not simulated", "ALARM": "alarms are not simulated",
        "RELAY": "relays are not simulated", "NET": "network setup is the transport's",
    }
    #: outputs: 0 sample heater (0-8), 1 warm-up heater (0-1), 2 still / analog (0-1)
    MAX_RANGE: ClassVar[dict[int, int]] = {0: 8, 1: 1, 2: 1}

    def reset(self) -> None:
        """Power-up settings: every channel enabled, outputs set up anew, heater off."""
        curves = {"A": 21, 1: 21, 2: 22, 3: 23, 4: 24}  # a calibration on each wired sensor
        self.curve_headers = dict(CURVES)
        self.channels: dict[Any, dict[str, Any]] = {
            ch: {"inset": ["1", "10", "3", str(curves.get(ch, 0)), "1"],
                              "intype": ["0", "14", "1", "11", "0", "1"],
                              "filter": ["1", "10", "10"], "name": f"Channel {ch}",
                              "tlimit": 0.0}
                         for ch in CHANNELS}
        self.outputs = {n: Output([0, 0, 0, 0, 0, 0], ["1", "1", "+0.000", "1"],
                                  self.MAX_RANGE[n]) for n in self.MAX_RANGE}
        self.outputs[0].htrset = ["+100.000", "0", "+0.000", "1"]  # a 100 Ohm sample heater
        # the sample heater controls from channel 1, the stage thermometer (the control
        # input A carries the same sensor; OUTMODE takes A too)
        self.outputs[0].mode = ["5", "1", "0", "0", "0", "1"]
        for n in (1, 2):
            self.outputs[n].mode = ["0", "1", "0", "0", "0", "1"]
        self.scan = [1, 0]
        self.freq = {"0": 1, "A": 1}
        self.sync_heater()

    def sync_heater(self) -> None:
        """Push the sample heater's range (0 when its mode is off) to the cryostat."""
        out = self.outputs[0]
        self.lab.cryostat.set_range(0 if out.mode[0] == "0" else out.range)

    def heater_percent(self, out: Output, open_loop_mode: int) -> float:
        """Sample/warm-up/still output in % (see the core)."""
        if out.range == 0 or out.mode[0] == "0":
            return 0.0
        if out.mode[0] == str(open_loop_mode):
            return out.mout
        return self.lab.cryostat.heater_percent() if self.is_physical(out) else 0.0

    def _channel(self, text: str) -> Any:
        key: Any = text.strip().upper()
        if key != "A":
            key = int(key)
            if not 1 <= key <= 16:
                raise Refused(text)
        return key

    def _read(self, args: list[str]) -> tuple[float, float, int]:
        return self.sensor(self._channel(args[0] if args else "A"))

    # --- readings ---------------------------------------------------------------------
    def _q_rdgk(self, args: list[str]) -> str:
        """Kelvin; zero when the channel has no curve (INSET curve 0), as the manual says."""
        key = self._channel(args[0] if args else "A")
        kelvin = self.sensor(key)[0] if self.channels[key]["inset"][3] != "0" else 0.0
        return f"{kelvin:+.5E}"

    _q_krdg = _q_rdgk

    def _q_rdgr(self, args: list[str]) -> str:
        return f"{self._read(args)[1]:+.5E}"

    _q_srdg = _q_rdgr

    def _q_rdgpwr(self, args: list[str]) -> str:
        _, ohm, status = self._read(args)
        return f"{(20e-6) ** 2 / ohm if ohm > 0 and not status else 0.0:+.5E}"

    def _q_rdgst(self, args: list[str]) -> str:
        return f"{self._read(args)[2]:03d}"

    def _q_rdgstl(self, args: list[str]) -> str:
        cry = self.lab.cryostat
        s = int(cry.settled() and not cry.thermometer_invalid)
        return f"{s},{s}"

    # --- channels ---------------------------------------------------------------------
    def _c_scan(self, args: list[str]) -> None:
        self.scan = [as_int(args[0], 1, 16), as_int(args[1], 0, 1)]

    def _q_scan(self, args: list[str]) -> str:
        return f"{self.scan[0]:02d},{self.scan[1]}"

    def _c_inset(self, args: list[str]) -> None:
        self.channels[self._channel(args[0])]["inset"] = [
            str(as_int(args[1], 0, 1)), str(as_int(args[2], 1, 200)), str(as_int(args[3], 3, 200)),
            str(as_int(args[4], 0, 59)), str(as_int(args[5], 1, 2))]

    def _q_inset(self, args: list[str]) -> str:
        return ",".join(self.channels[self._channel(args[0])]["inset"])

    def _c_intype(self, args: list[str]) -> None:
        self.channels[self._channel(args[0])]["intype"] = [
            str(as_int(args[1], 0, 1)), str(as_int(args[2], 1, 22)), str(as_int(args[3], 0, 2)),
            str(as_int(args[4], 1, 22)), str(as_int(args[5], 0, 1)), str(as_int(args[6], 1, 2))]

    def _q_intype(self, args: list[str]) -> str:
        return ",".join(self.channels[self._channel(args[0])]["intype"])

    def _c_filter(self, args: list[str]) -> None:
        values = [str(as_int(args[1], 0, 1)), str(as_int(args[2], 1, 200)),
                  str(as_int(args[3], 1, 80))]
        keys = range(1, 17) if args[0].strip() == "0" else [self._channel(args[0])]
        for key in keys:  # 0: every measurement channel
            self.channels[key]["filter"] = list(values)

    def _q_filter(self, args: list[str]) -> str:
        return ",".join(self.channels[self._channel(args[0])]["filter"])

    def _c_inname(self, args: list[str]) -> None:
        self.channels[self._channel(args[0])]["name"] = ",".join(args[1:]).strip('"')[:15]

    def _q_inname(self, args: list[str]) -> str:
        return self.channels[self._channel(args[0])]["name"]

    def _c_incrv(self, args: list[str]) -> None:
        """The curve field of INSET, under the name public drivers use."""
        self.channels[self._channel(args[0])]["inset"][3] = str(as_int(args[1], 0, 59))

    def _q_incrv(self, args: list[str]) -> str:
        return f"{int(self.channels[self._channel(args[0])]['inset'][3]):02d}"

    def _c_tlimit(self, args: list[str]) -> None:
        self.channels[self._channel(args[0])]["tlimit"] = as_float(args[1], 0.0, 2000.0)

    def _q_tlimit(self, args: list[str]) -> str:
        return f"{self.channels[self._channel(args[0])]['tlimit']:+.1f}"

    # --- outputs ----------------------------------------------------------------------
    def _out(self, args: list[str], default: str = "0") -> Output:
        return self.output(args[0] if args else default)

    def _c_outmode(self, args: list[str]) -> None:
        out = self.output(args[0])
        channel = args[2].strip().upper()
        if channel != "A":
            as_int(channel, 0, 16)
        out.mode = [str(as_int(args[1], 0, 6)), channel, str(as_int(args[3], 0, 1)),
                    str(as_int(args[4], 0, 1)), str(as_int(args[5], 0, 1)),
                    str(as_int(args[6], 1, 255))]
        if self.is_physical(out):
            self.sync_heater()

    def _q_outmode(self, args: list[str]) -> str:
        return ",".join(self._out(args).mode)

    def _c_setp(self, args: list[str]) -> None:
        self.set_point(self.output(args[0]), as_float(args[1], 0.0, 1000.0))

    def _q_setp(self, args: list[str]) -> str:
        return f"{self.get_point(self._out(args)):+.5E}"

    def _c_pid(self, args: list[str]) -> None:
        self.output(args[0]).pid = [as_float(args[1], 0, 1000), as_float(args[2], 0, 10000),
                                    as_float(args[3], 0, 2500)]

    def _q_pid(self, args: list[str]) -> str:
        p, i, d = self._out(args).pid
        return f"{p:+.1f},{i:+.1f},{d:+.1f}"

    def _c_range(self, args: list[str]) -> None:
        out = self.output(args[0])
        out.range = as_int(args[1], 0, out.max_range)
        if self.is_physical(out):
            self.sync_heater()

    def _q_range(self, args: list[str]) -> str:
        return str(self._out(args).range)

    def _heater_output(self, text: str) -> Output:
        if text.strip() not in ("0", "1"):  # HTRSET applies to the sample and warm-up heaters
            raise Refused(text)
        return self.output(text)

    def _c_htrset(self, args: list[str]) -> None:
        out = self._heater_output(args[0])
        if out is self.outputs[0]:  # sample heater: ohms; max current fields pass zero
            out.htrset = [f"{as_float(args[1], 1, 2000):+.3f}", "0", "+0.000",
                          str(as_int(args[4], 1, 2))]
        else:
            out.htrset = [str(as_int(args[1], 1, 2)), str(as_int(args[2], 0, 2)),
                          f"{as_float(args[3], 0, 0.63):+.3f}", str(as_int(args[4], 1, 2))]

    def _q_htrset(self, args: list[str]) -> str:
        key = (args[0] if args else "0").strip()
        if key == "2":
            # the still/analog output has no heater setup to change (the setting refuses
            # it), but a query answers with its fixed one: QCoDeS's 372 driver asks for it
            # in every snapshot, and a silent box would cost it a timeout each time
            return "0,0,+0.000,1"
        return ",".join(self._heater_output(key).htrset)

    def _c_crvhdr(self, args: list[str]) -> None:
        set_curve_header(self.curve_headers, args)

    def _q_crvhdr(self, args: list[str]) -> str:
        return curve_header(self.curve_headers, as_int(args[0], 0, 59))

    def _q_htr(self, args: list[str]) -> str:
        return f"{self.heater_percent(self.outputs[0], OPEN_LOOP):+.3f}"

    def _q_aout(self, args: list[str]) -> str:
        out = self.output(args[0])
        return f"{out.mout if out.range else 0.0:+.2f}"

    def _q_htrst(self, args: list[str]) -> str:
        out = self._out(args)
        return "1" if self.is_physical(out) and self.lab.cryostat.heater_open else "0"

    def _c_ramp(self, args: list[str]) -> None:
        self.set_ramp(self.output(args[0]), as_int(args[1], 0, 1), as_float(args[2], 0, 100))

    def _q_ramp(self, args: list[str]) -> str:
        out = self._out(args)
        return f"{out.ramp_on},{out.ramp_rate:.3f}"

    def _q_rampst(self, args: list[str]) -> str:
        return str(int(self.ramping(self._out(args))))

    def _c_mout(self, args: list[str]) -> None:
        self.output(args[0]).mout = as_float(args[1], 0, 100)

    def _q_mout(self, args: list[str]) -> str:
        return f"{self._out(args).mout:+.3E}"

    def _c_still(self, args: list[str]) -> None:
        self.outputs[2].mout = as_float(args[0], 0, 100)

    def _q_still(self, args: list[str]) -> str:
        return f"{self.outputs[2].mout:+.3f}"

    def _c_freq(self, args: list[str]) -> None:
        """FREQ <input 0 measurement|A control>,<1-5>; one parameter: the measurement input."""
        inp, value = ("0", args[0]) if len(args) == 1 else (args[0].strip().upper(), args[1])
        if inp not in self.freq:
            raise Refused(inp)
        self.freq[inp] = as_int(value, 1, 5)

    def _q_freq(self, args: list[str]) -> str:
        inp = args[0].strip().upper() if args else "0"
        if inp not in self.freq:
            raise Refused(inp)
        return str(self.freq[inp])

