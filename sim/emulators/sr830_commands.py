"""The SR830's command table (manual chapter 5): settings with their ranges and power-on
values, and the one-line description of every header the emulator implements."""

from __future__ import annotations

SENSITIVITIES_V = [m * 10.0 ** e for e in range(-9, 1) for m in (1, 2, 5)][1:-2]
TIME_CONSTANTS_S = [m * 10.0 ** e for e in range(-5, 5) for m in (1, 3)]
NOISE_V = 5e-9
RESERVE_FACTOR = {0: 10.0, 1: 1.0, 2: 1.0}  # high reserve tolerates 10x the sensitivity
EXPAND = (1, 10, 100)

#: integer/real settings "NAME value" / "NAME?": name -> (min, max, default, is_integer)
SETTINGS: dict[str, tuple[float, float, float, bool]] = {
    "FREQ": (1e-3, 102e3, 1000.0, False), "SLVL": (0.004, 5.0, 0.004, False),
    "PHAS": (-360.0, 729.99, 0.0, False), "FMOD": (0, 1, 1, True), "HARM": (1, 19999, 1, True),
    "RSLP": (0, 2, 0, True), "ISRC": (0, 3, 0, True), "IGND": (0, 1, 0, True),
    "ICPL": (0, 1, 0, True), "ILIN": (0, 3, 0, True), "SENS": (0, 26, 26, True),
    "RMOD": (0, 2, 1, True), "OFLT": (0, 19, 10, True), "OFSL": (0, 3, 1, True),
    "SYNC": (0, 1, 0, True), "OUTX": (0, 1, 1, True), "OVRM": (0, 1, 1, True),
    "LOCL": (0, 2, 0, True), "KCLK": (0, 1, 1, True), "ALRM": (0, 1, 1, True),
    "SRAT": (0, 14, 10, True), "SEND": (0, 1, 1, True), "TSTR": (0, 1, 0, True),
    "FAST": (0, 2, 0, True),
}
#: status enable registers (bit-settable: "NAME i,j" sets bit i to j; "NAME? i" reads bit i)
ENABLES = ("*ESE", "*SRE", "ERRE", "LIAE")
#: settings *RST leaves alone (the communications setup)
KEPT_BY_RESET = ("OUTX", "OVRM", "LOCL", "KCLK", "ALRM")

COMMANDS: dict[str, str] = {
    "*IDN?": "identification string",
    "*RST": "reset to the default configuration (communications setup kept)",
    "*CLS": "clear all status registers",
    "*ESE": "standard event enable register (whole byte or bit i)",
    "*ESE?": "read the standard event enable register (or bit i)",
    "*ESR?": "read and clear the standard event register (or bit i)",
    "*SRE": "serial poll enable register (whole byte or bit i)",
    "*SRE?": "read the serial poll enable register (or bit i)",
    "*STB?": "status byte (or bit i): SCN, IFC, ERR, LIA, MAV, ESB, SRQ",
    "*PSC": "power-on status clear bit",
    "*PSC?": "read the power-on status clear bit",
    "ERRE": "error status enable register (whole byte or bit i)",
    "ERRE?": "read the error status enable register (or bit i)",
    "ERRS?": "read and clear the error status byte (or bit i)",
    "LIAE": "lock-in status enable register (whole byte or bit i)",
    "LIAE?": "read the lock-in status enable register (or bit i)",
    "LIAS?": "read and clear the lock-in status byte (or bit i): overloads, storage",
    "PHAS": "reference phase shift, deg (wrapped to +-180)", "PHAS?": "read the phase, deg",
    "FMOD": "reference source 0 ext / 1 int", "FMOD?": "read the reference source",
    "FREQ": "reference frequency, Hz", "FREQ?": "read the reference frequency, Hz",
    "RSLP": "external reference slope 0 sine / 1 TTL rising / 2 TTL falling",
    "RSLP?": "read the reference slope",
    "HARM": "detection harmonic 1-19999", "HARM?": "read the detection harmonic",
    "SLVL": "sine output amplitude, V rms", "SLVL?": "read the sine amplitude, V rms",
    "ISRC": "input A / A-B / I(1 MOhm) / I(100 MOhm)", "ISRC?": "read the input configuration",
    "IGND": "input shield float / ground", "IGND?": "read the shield grounding",
    "ICPL": "input coupling AC / DC", "ICPL?": "read the input coupling",
    "ILIN": "line notch filters 0-3", "ILIN?": "read the line notch filters",
    "SENS": "sensitivity index 0 (2 nV) - 26 (1 V)", "SENS?": "read the sensitivity index",
    "RMOD": "reserve high / normal / low noise", "RMOD?": "read the reserve mode",
    "OFLT": "time constant index 0 (10 us) - 19 (30 ks)", "OFLT?": "read the time constant",
    "OFSL": "low-pass slope 6/12/18/24 dB/oct", "OFSL?": "read the filter slope",
    "SYNC": "synchronous filter below 200 Hz off/on", "SYNC?": "read the synchronous filter",
    "DDEF": "CH1/CH2 display quantity and ratio", "DDEF?": "read a display's quantity, ratio",
    "FPOP": "front-panel output source: display or X/Y", "FPOP?": "read the output source",
    "OEXP": "X/Y/R offset (%) and expand (x1/x10/x100)", "OEXP?": "read offset and expand",
    "AOFF": "auto offset X, Y or R: the output reads zero",
    "OAUX?": "aux input voltage, V",
    "AUXV": "aux output voltage, V (1 mV steps)", "AUXV?": "read an aux output voltage, V",
    "OUTX": "reply interface 0 RS-232 / 1 GPIB", "OUTX?": "read the reply interface",
    "OVRM": "GPIB overide remote", "OVRM?": "read the overide-remote setting",
    "LOCL": "local / remote / local lockout", "LOCL?": "read the remote state",
    "KCLK": "key click off/on", "KCLK?": "read the key click setting",
    "ALRM": "alarms off/on", "ALRM?": "read the alarm setting",
    "SSET": "save the setup in buffer 1-9", "RSET": "recall the setup in buffer 1-9",
    "AGAN": "auto gain: the sensitivity that fits the signal",
    "ARSV": "auto reserve: the lowest reserve without overload",
    "APHS": "auto phase: phase shift that zeroes Y",
    "SRAT": "buffer sample rate 62.5 mHz * 2^i, 14 trigger", "SRAT?": "read the sample rate",
    "SEND": "buffer end: 0 one shot / 1 loop", "SEND?": "read the buffer end mode",
    "TRIG": "software trigger (stores a point at SRAT 14; starts storage with TSTR 1)",
    "TSTR": "trigger starts the scan off/on", "TSTR?": "read the trigger-start setting",
    "STRT": "start or resume data storage", "PAUS": "pause data storage",
    "REST": "reset the data buffers",
    "OUTP?": "X, Y, R (V) or theta (deg)",
    "OUTR?": "CH1 or CH2 display value",
    "SNAP?": "2-6 of X,Y,R,theta,Aux In 1-4,f,CH1,CH2 taken at one instant",
    "SPTS?": "number of points stored",
    "TRCA?": "buffer points as ASCII, comma after each",
    "TRCB?": "buffer points as IEEE float32 binary",
    "TRCL?": "buffer points as int16 mantissa + exponent binary",
    "FAST": "fast data transfer mode 0-2 (stored)", "FAST?": "read the fast transfer mode",
    "STRD": "start storage 0.5 s later (after FAST)",
}

NOT_IMPLEMENTED: dict[str, str] = {
    "ISRC 2|3 current input": "stored and read back, but the simulated station wires the "
                              "contact voltage to input A: the signal is read as a voltage",
    "OAUX? signals": "the aux inputs read 0 V: nothing is wired to them",
    "FAST 1|2 streaming": "points are not streamed over GPIB as they are taken; "
                          "read them with TRCA?/TRCB?/TRCL?",
}
