"""SR830 lock-in emulator: the GPIB command set the drivers and pymeasure's SR830 use.

The lock-in measures the simulated contact: I_dc = V_aux / series_resistance,
i_ac = V_sine / excitation_resistance, input amplitude = i_ac * dV/dI(I_dc) (X, V rms) and
passes it through :class:`pcsdaq.sim.chain.OutputFilter`. Noise: seeded Gaussian, 5 nV rms
per output read on X and Y. Out-of-range settings set the execution-error bit (ESR bit 4,
ERRS bit 4) and keep the old value; no reply.
"""

from __future__ import annotations

import math
import re

from pcsdaq.sim.chain import SLOPE_POLES, OutputFilter
from pcsdaq.sim.emulators.base import Emulator

SENSITIVITIES_V = [m * 10.0 ** e for e in range(-9, 1) for m in (1, 2, 5)][1:-2]
TIME_CONSTANTS_S = [m * 10.0 ** e for e in range(-5, 5) for m in (1, 3)]
NOISE_V = 5e-9
RESERVE_FACTOR = {0: 10.0, 1: 1.0, 2: 1.0}  # high reserve tolerates 10x the sensitivity

# name -> (min, max, default) for integer/float settings set as "NAME value"
_SETTINGS = {
    "FREQ": (1e-3, 102e3, 1000.0), "SLVL": (0.004, 5.0, 0.004), "PHAS": (-360.0, 729.99, 0.0),
    "FMOD": (0, 1, 1), "HARM": (1, 19999, 1), "SENS": (0, 26, 26), "OFLT": (0, 19, 10),
    "OFSL": (0, 3, 1), "SYNC": (0, 1, 0), "ISRC": (0, 3, 0), "ICPL": (0, 1, 0),
    "IGND": (0, 1, 0), "ILIN": (0, 3, 0), "RMOD": (0, 2, 1), "LOCL": (0, 2, 0),
    "OVRM": (0, 1, 1), "OUTX": (0, 1, 1), "RSLP": (0, 2, 0),
}
_INT = {"FMOD", "HARM", "SENS", "OFLT", "OFSL", "SYNC", "ISRC", "ICPL", "IGND", "ILIN",
        "RMOD", "LOCL", "OVRM", "OUTX", "RSLP"}


class SR830Emulator(Emulator):
    """Stanford Research SR830 on GPIB (or RS-232) speaking to the simulated contact."""

    name = "sr830"
    command_terminators = ("\n", "\r")
    reply_terminator = "\n"

    def __init__(self, lab) -> None:
        super().__init__(lab)
        self.force_overload = False
        self.force_unlock = False  #: the reference unlocks (LIAS? bit 3) while set
        self._reset()

    def _reset(self) -> None:
        self.values: dict[str, float] = {k: v[2] for k, v in _SETTINGS.items()}
        self.aux_out = [0.0] * 4
        #: OEXP channel -> [offset %, expand code]
        self.offsets: dict[int, list[float]] = {1: [0.0, 0], 2: [0.0, 0]}
        self.esr = 0
        self.errs = 0
        self.lias = 0
        self.filter = OutputFilter(self.lab.clock, self._tau(), self._poles())
        self._update_input()

    def _tau(self) -> float:
        return TIME_CONSTANTS_S[int(self.values["OFLT"])]

    def _poles(self) -> int:
        return SLOPE_POLES[6 * (int(self.values["OFSL"]) + 1)]

    def _contact(self):
        return getattr(self.lab, "contact", None)

    def signal_V(self) -> complex:
        """Noise-free demodulated input (X + iY, V rms) for the present settings."""
        contact = self._contact()
        if contact is None:
            return 0j
        i_dc = self.aux_out[contact.aux_output - 1] / contact.series_resistance_ohm
        # the sine output drives the contact through the excitation resistor: a divider,
        # so an open contact shows the whole sine amplitude (and overloads)
        r_c = contact.dvdi_ohm(i_dc) if contact.touching else contact.normal_resistance_ohm()
        amp = float(self.values["SLVL"]) * r_c / (contact.excitation_resistance_ohm + r_c)
        phase = math.radians(float(self.values["PHAS"]))
        return amp * complex(math.cos(phase), -math.sin(phase))

    def input_changed(self) -> None:
        """The contact changed now (a needle step): the filter sees a step at this instant."""
        self._update_input()

    def _update_input(self) -> None:
        self.filter.set_input(self.signal_V())

    def _outputs(self) -> complex:
        signal = self.signal_V()
        self.filter.follow(signal)
        z = self.filter.output()
        rng = self.lab.rng
        z += complex(rng.normal(0, NOISE_V), rng.normal(0, NOISE_V))
        sens = SENSITIVITIES_V[int(self.values["SENS"])]
        limit = sens * RESERVE_FACTOR.get(int(self.values["RMOD"]), 1.0)
        if self.force_overload or abs(signal) > limit:
            self.lias |= 0b101  # input/amplifier overload and output overload
        elif abs(z) > sens:
            self.lias |= 0b100
        if self.force_unlock:
            self.lias |= 0b1000
        return z

    def _param(self, code: int, z: complex | None = None) -> float:
        """Output ``code`` (OUTP?/SNAP? numbering) from outputs ``z`` (taken now if None)."""
        z = self._outputs() if z is None else z
        table = {1: z.real, 2: z.imag, 3: abs(z), 4: math.degrees(math.atan2(z.imag, z.real)),
                 9: float(self.values["FREQ"])}
        if code in table:
            return table[code]
        if 5 <= code <= 8:
            return 0.0  # AUX IN 1-4: nothing wired in the simulated station
        if 10 <= code <= 11:
            return 0.0  # CH1/CH2 display: not simulated
        raise ValueError(code)

    def _error(self) -> None:
        self.esr |= 0x10
        self.errs |= 0x10

    def handle(self, message: str) -> str | None:
        """Handle one line of ';'-separated commands; each query's reply is LF-joined. The
        replies go to the interface OUTX selects (0 RS-232, 1 GPIB): asked on the other
        one, the instrument executes the commands and its answer is not seen here."""
        replies = [r for r in (self._one(p.strip()) for p in message.split(";") if p.strip())
                   if r is not None]
        if int(self.values["OUTX"]) != (0 if self.interface == "rs232" else 1):
            return None
        return "\n".join(replies) if replies else None

    def _one(self, cmd: str) -> str | None:
        # the SR830 needs no space between header and argument ("SLVL1.000", "AUXV?1")
        match = re.match(r"(\*?[A-Za-z]+\??)\s*(.*)$", cmd)
        if match is None:
            self._error()
            return None
        head, arg = match.group(1).upper(), match.group(2)
        args = [a.strip() for a in arg.split(",")] if arg.strip() else []
        try:
            return self._dispatch(head, args)
        except (ValueError, IndexError):
            self._error()
            return None

    def _dispatch(self, head: str, args: list[str]) -> str | None:
        if head == "*IDN?":
            return "Stanford_Research_Systems,SR830,s/n12345,ver1.07"
        if head == "*RST":
            self._reset()
            return None
        if head == "*CLS":
            self.esr = self.errs = self.lias = 0
            return None
        if head == "*STB?":
            return str(int(bool(self.errs)) << 2 | int(bool(self.lias)) << 3
                       | int(bool(self.esr)) << 5)
        if head == "*ESR?":
            status, self.esr = self.esr, 0
            return str(status)
        if head == "ERRS?":
            status, self.errs = self.errs, 0
            return str(status)
        if head == "LIAS?":
            self._outputs()
            status, self.lias = self.lias, 0
            if args:
                return str((status >> int(args[0])) & 1)
            return str(status)
        if head == "OUTP?":
            return f"{self._param(int(args[0])):.6e}"
        if head == "SNAP?":
            codes = [int(a) for a in args]
            if not 2 <= len(codes) <= 6:
                raise ValueError(codes)
            z = self._outputs()  # SNAP? values are taken at one instant
            return ",".join(f"{self._param(c, z):.6e}" for c in codes)
        if head == "AUXV?":
            return f"{self.aux_out[int(args[0]) - 1]:.3f}"
        if head == "AUXV":
            ch, v = int(args[0]), float(args[1])
            if not (1 <= ch <= 4 and -10.5 <= v <= 10.5):
                raise ValueError(v)
            self.aux_out[ch - 1] = round(v, 3)
            self._update_input()  # the filter runs to now on the old input, then steps
            return None
        if head == "OAUX?":
            return "0.000"
        if head in ("AGAN", "ARSV", "APHS", "AOFF"):
            return None
        if head == "OEXP?":
            off, exp = self.offsets[int(args[0])]
            return f"{off:.2f},{exp}"
        if head == "OEXP":
            self.offsets[int(args[0])] = [float(args[1]), int(args[2])]
            return None
        if head.endswith("?") and head[:-1] in _SETTINGS:
            v = self.values[head[:-1]]
            return str(int(v)) if head[:-1] in _INT else f"{v:.6g}"
        if head in _SETTINGS:
            lo, hi, _ = _SETTINGS[head]
            v = float(args[0])
            if not lo <= v <= hi:
                raise ValueError(v)
            self.values[head] = int(v) if head in _INT else v
            self._update_input()
            self.filter.set_parameters(self._tau(), self._poles())
            return None
        raise ValueError(head)
