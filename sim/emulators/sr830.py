"""SR830 lock-in emulator: the whole remote command set of the manual (chapter 5).

The lock-in measures the simulated contact: I_dc = V_aux / series_resistance,
i_ac = V_sine / excitation_resistance, input amplitude = i_ac * dV/dI(I_dc) (X, V rms) and
passes it through :class:`pcsdaq.sim.chain.OutputFilter`. Noise: seeded Gaussian, 5 nV rms
per output read on X and Y. The data buffer (:mod:`.sr830_buffer`) fills at ``SRAT`` on the
lab clock. Grammar as the instrument parses it: case-insensitive, spaces before ``?`` and
around arguments ignored, ``;`` chains commands, CR or LF ends a message. Replies end in LF
on GPIB and CR on RS-232 and go only to the interface ``OUTX`` selects. Bad input as the
manual says: an unknown header or garbled command sets the command-error bit (``*ESR?``
bit 5), a missing or out-of-range parameter the execution-error bit (bit 4); the setting
keeps its old value and nothing is sent back.
"""

from __future__ import annotations

import math
import re
import struct

from pcsdaq.sim.chain import SLOPE_POLES, OutputFilter
from pcsdaq.sim.emulators.base import Emulator
from pcsdaq.sim.emulators.sr830_buffer import TRIGGER_RATE, DataBuffer, trcl_word
from pcsdaq.sim.emulators.sr830_commands import (COMMANDS, ENABLES, KEPT_BY_RESET,
                                                 NOT_IMPLEMENTED, SETTINGS)

SENSITIVITIES_V = [m * 10.0 ** e for e in range(-9, 1) for m in (1, 2, 5)][1:-2]
TIME_CONSTANTS_S = [m * 10.0 ** e for e in range(-5, 5) for m in (1, 3)]
NOISE_V = 5e-9
RESERVE_FACTOR = {0: 10.0, 1: 1.0, 2: 1.0}  # high reserve tolerates 10x the sensitivity
EXPAND = (1, 10, 100)
ESR_EXECUTION, ESR_COMMAND = 0x10, 0x20
_COMMAND = re.compile(r"\s*(\*?[A-Za-z]+)\s*(\?)?\s*(.*?)\s*$", re.S)


class CommandError(Exception):
    """Unknown header or syntax error (``*ESR?`` bit 5)."""


class SR830Emulator(Emulator):
    """Stanford Research SR830 on GPIB (or RS-232) speaking to the simulated contact."""

    name = "sr830"
    command_terminators = ("\n", "\r")
    COMMANDS = COMMANDS
    NOT_IMPLEMENTED = NOT_IMPLEMENTED

    def __init__(self, lab) -> None:
        super().__init__(lab)
        self.force_overload = False
        self.values = {k: v[2] for k, v in SETTINGS.items()}
        self.enables = dict.fromkeys(ENABLES, 0)
        self.power_on_clear = 1
        self.setups: dict[int, dict] = {}
        self.buffer = DataBuffer(self._buffer_point)
        self._reset()

    @property
    def reply_terminator(self) -> str:  # type: ignore[override]
        """LF on GPIB, CR on RS-232 (manual p. 5-2)."""
        return "\r" if self.interface == "rs232" else "\n"

    def _reset(self) -> None:
        kept = {k: self.values[k] for k in KEPT_BY_RESET}
        self.values = {k: v[2] for k, v in SETTINGS.items()} | kept
        self.aux_out = [0.0] * 4
        self.offsets = {1: [0.0, 0], 2: [0.0, 0], 3: [0.0, 0]}  # OEXP i -> [offset %, expand]
        self.displays = {1: [0, 0], 2: [0, 0]}  # DDEF i -> [quantity, ratio]
        self.front_outputs = {1: 0, 2: 0}  # FPOP i -> 0 display / 1 X or Y
        self.esr = self.errs = self.lias = 0
        self.filter = OutputFilter(self.lab.clock, self._tau(), self._poles())
        self.buffer.reset()
        self.buffer.rate_index, self.buffer.loop = 10, True
        self._update_input()

    def _tau(self) -> float:
        return TIME_CONSTANTS_S[int(self.values["OFLT"])]

    def _poles(self) -> int:
        return SLOPE_POLES[6 * (int(self.values["OFSL"]) + 1)]

    def _sens(self) -> float:
        return SENSITIVITIES_V[int(self.values["SENS"])]

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
        self._check_overload(signal, z)
        return z

    def _check_overload(self, signal: complex, z: complex) -> None:
        sens = self._sens()
        limit = sens * RESERVE_FACTOR.get(int(self.values["RMOD"]), 1.0)
        if self.force_overload or abs(signal) > limit:
            self.lias |= 0b101  # input/amplifier overload and output overload
        elif abs(z) > sens:
            self.lias |= 0b100

    def _xyr(self, z: complex) -> tuple[float, float, float]:
        """X, Y, R (V) with the OEXP offsets (% of full scale) taken off."""
        sens = self._sens()
        return (z.real - self.offsets[1][0] / 100 * sens, z.imag - self.offsets[2][0] / 100 * sens,
                abs(z) - self.offsets[3][0] / 100 * sens)

    def _display(self, channel: int, z: complex) -> float:
        """CH1/CH2 display value (DDEF): X/Y, R/theta, noise or Aux In (0 V here)."""
        quantity = self.displays[channel][0]
        x, y, r = self._xyr(z)
        if quantity == 0:
            return x if channel == 1 else y
        if quantity == 1:
            return r if channel == 1 else math.degrees(math.atan2(z.imag, z.real))
        if quantity == 2:
            return NOISE_V
        return 0.0  # Aux In 1-4: nothing wired in the simulated station

    def _param(self, code: int, z: complex | None = None) -> float:
        """Output ``code`` (OUTP?/SNAP? numbering) from outputs ``z`` (taken now if None)."""
        z = self._outputs() if z is None else z
        if 1 <= code <= 3:
            return self._xyr(z)[code - 1]
        if code == 4:
            return math.degrees(math.atan2(z.imag, z.real))
        if 5 <= code <= 8:
            return 0.0  # AUX IN 1-4: nothing wired in the simulated station
        if code == 9:
            return float(self.values["FREQ"])
        if code in (10, 11):
            return self._display(code - 9, z)
        raise ValueError(code)

    def _buffer_point(self, t: float) -> tuple[float, float]:
        """(CH1, CH2) the buffer stores at lab time ``t`` (<= now): the filter's output then."""
        f = self.filter
        dt = t - f._t
        state = f._state
        if dt > 0:  # the input held since the filter's last update (no mutation here)
            x = dt / f.time_constant_s
            decay = math.exp(-x) if x < 700 else 0.0
            err = [s - f._input for s in state]
            terms = [x ** m / math.factorial(m) for m in range(f.poles)]
            state = [f._input + decay * sum(err[j] * terms[k - j] for j in range(k + 1))
                     for k in range(f.poles)]
        rng = self.lab.rng
        z = state[-1] + complex(rng.normal(0, NOISE_V), rng.normal(0, NOISE_V))
        return self._display(1, z), self._display(2, z)

    # ------------------------------------------------------------------ parsing
    def handle(self, message: str) -> str | bytes | None:
        """Handle one message of ';'-separated commands; each query's reply ends in the
        interface's terminator. The replies go to the interface OUTX selects (0 RS-232,
        1 GPIB): asked on the other one, the commands are executed and nothing is seen
        here. A binary buffer transfer (TRCB?/TRCL?) comes back as bytes, unterminated."""
        self.buffer.catch_up(self.lab.clock.now())
        replies: list[str | bytes] = []
        for part in message.split(";"):
            if part.strip():
                reply = self._one(part)
                if reply is not None:
                    replies.append(reply)
        if not replies or int(self.values["OUTX"]) != (0 if self.interface == "rs232" else 1):
            return None
        if len(replies) == 1:
            return replies[0]
        term = self.reply_terminator
        if any(isinstance(r, bytes) for r in replies):
            joined = b"".join(r if isinstance(r, bytes) else (r + term).encode()
                              for r in replies[:-1])
            last = replies[-1]
            return joined + (last if isinstance(last, bytes) else last.encode())
        return term.join(replies)  # type: ignore[arg-type]

    def _one(self, cmd: str) -> str | bytes | None:
        match = _COMMAND.fullmatch(cmd)
        if match is None:
            self.esr |= ESR_COMMAND
            return None
        head = match.group(1).upper() + ("?" if match.group(2) else "")
        arg = match.group(3)
        args = [a.strip() for a in arg.split(",")] if arg else []
        try:
            return self._dispatch(head, args)
        except CommandError:
            self.esr |= ESR_COMMAND
        except (ValueError, IndexError, KeyError, OverflowError):
            self.esr |= ESR_EXECUTION
        return None

    @staticmethod
    def _real(word: str) -> float:
        """A real parameter; not a number at all is a syntax (command) error."""
        try:
            value = float(word)
        except ValueError:
            raise CommandError(word) from None
        if not math.isfinite(value):
            raise ValueError(word)
        return value

    @staticmethod
    def _int(word: str) -> int:
        """An integer parameter; the SR830 takes any number format ("4", "4.0", ".4E1")."""
        value = SR830Emulator._real(word)
        if value != int(value):
            raise ValueError(word)
        return int(value)

    def _dispatch(self, head: str, args: list[str]) -> str | bytes | None:
        if head in SETTINGS or (head.endswith("?") and head[:-1] in SETTINGS):
            return self._setting(head, args)
        if head in ENABLES or (head.endswith("?") and head[:-1] in ENABLES):
            return self._enable(head, args)
        handler = _HANDLERS.get(head)
        if handler is None:
            raise CommandError(head)
        return handler(self, args)

    def _setting(self, head: str, args: list[str]) -> str | None:
        name = head.rstrip("?")
        lo, hi, _, is_int = SETTINGS[name]
        if head.endswith("?"):
            if args:
                raise ValueError(args)
            v = self.values[name]
            return str(int(v)) if is_int else f"{v:.10g}"
        if len(args) != 1:
            raise ValueError(args)
        v = self._int(args[0]) if is_int else self._real(args[0])
        if not lo <= v <= hi:
            raise ValueError(v)
        if name == "PHAS":
            v = round((v + 180.0) % 360.0 - 180.0, 2)
        self.values[name] = v
        if name == "SRAT":
            self.buffer.rate_index = int(v)
        elif name == "SEND":
            self.buffer.loop = bool(v)
        elif name in ("OFLT", "OFSL", "FREQ"):
            self._limit_time_constant()
            self.filter.set_parameters(self._tau(), self._poles())
        self._update_input()
        return None

    def _limit_time_constant(self) -> None:
        """Above 200 Hz time constants over 30 s are not allowed: the instrument lowers the
        time constant and sets LIAS bit 5 (time constant changed indirectly)."""
        if float(self.values["FREQ"]) > 200.0 and int(self.values["OFLT"]) > 13:
            self.values["OFLT"] = 13
            self.lias |= 0x20

    def _enable(self, head: str, args: list[str]) -> str | None:
        name = head.rstrip("?")
        if head.endswith("?"):
            return self._bit_or_byte(self.enables[name], args)
        if len(args) == 1:
            v = self._int(args[0])
            if not 0 <= v <= 255:
                raise ValueError(v)
            self.enables[name] = v
        elif len(args) == 2:
            bit, on = self._int(args[0]), self._int(args[1])
            if not (0 <= bit <= 7 and on in (0, 1)):
                raise ValueError(args)
            self.enables[name] = self.enables[name] & ~(1 << bit) | on << bit
        else:
            raise ValueError(args)
        return None

    def _bit_or_byte(self, value: int, args: list[str]) -> str:
        if not args:
            return str(value)
        bit = self._int(args[0])
        if len(args) > 1 or not 0 <= bit <= 7:
            raise ValueError(args)
        return str(value >> bit & 1)

    def _read_and_clear(self, attr: str, args: list[str]) -> str:
        value = getattr(self, attr)
        reply = self._bit_or_byte(value, args)
        if args:
            setattr(self, attr, value & ~(1 << self._int(args[0])))
        else:
            setattr(self, attr, 0)
        return reply

    def status_byte(self) -> int:
        """``*STB?``: bit0 no scan, bit1 no command executing, bit2 ERR, bit3 LIA, bit5 ESB,
        bit6 SRQ; ERR/LIA/ESB are the enabled bits of ERRS/LIAS/*ESR."""
        stb = (0 if self.buffer.running else 1) | 0b10
        stb |= (bool(self.errs & self.enables["ERRE"]) << 2
                | bool(self.lias & self.enables["LIAE"]) << 3
                | bool(self.esr & self.enables["*ESE"]) << 5)
        if stb & self.enables["*SRE"] & 0xBF:
            stb |= 0x40
        return stb


def _no_args(args: list[str]) -> None:
    if args:
        raise ValueError(args)


def _index(args: list[str], lo: int, hi: int, n: int = 1) -> int:
    if len(args) < n:
        raise ValueError(args)
    i = SR830Emulator._int(args[0])
    if not lo <= i <= hi:
        raise ValueError(i)
    return i


def _idn(em: SR830Emulator, args: list[str]) -> str:
    _no_args(args)
    return "Stanford_Research_Systems,SR830,s/n12345,ver1.07"


def _rst(em: SR830Emulator, args: list[str]) -> None:
    _no_args(args)
    em._reset()


def _cls(em: SR830Emulator, args: list[str]) -> None:
    _no_args(args)
    em.esr = em.errs = em.lias = 0


def _stb(em: SR830Emulator, args: list[str]) -> str:
    em._outputs()  # the overload bits are up to date
    return em._bit_or_byte(em.status_byte(), args)


def _psc(em: SR830Emulator, args: list[str]) -> None:
    em.power_on_clear = _index(args, 0, 1)


def _lias(em: SR830Emulator, args: list[str]) -> str:
    em._outputs()
    return em._read_and_clear("lias", args)


def _outp(em: SR830Emulator, args: list[str]) -> str:
    code = _index(args, 1, 4)
    return f"{em._param(code):.6g}"


def _outr(em: SR830Emulator, args: list[str]) -> str:
    channel = _index(args, 1, 2)
    return f"{em._display(channel, em._outputs()):.6g}"


def _snap(em: SR830Emulator, args: list[str]) -> str:
    codes = [SR830Emulator._int(a) for a in args]
    if not 2 <= len(codes) <= 6 or not all(1 <= c <= 11 for c in codes):
        raise ValueError(codes)
    z = em._outputs()  # SNAP? values are taken at one instant
    return ",".join(f"{em._param(c, z):.6g}" for c in codes)


def _auxv(em: SR830Emulator, args: list[str]) -> None:
    ch = _index(args, 1, 4, 2)
    v = SR830Emulator._real(args[1])
    if len(args) != 2 or not -10.5 <= v <= 10.5:
        raise ValueError(v)
    em.aux_out[ch - 1] = round(v, 3)
    em._update_input()  # the filter runs to now on the old input, then steps


def _auxv_q(em: SR830Emulator, args: list[str]) -> str:
    return f"{em.aux_out[_index(args, 1, 4) - 1]:.3f}"


def _oaux_q(em: SR830Emulator, args: list[str]) -> str:
    _index(args, 1, 4)
    return "0.0000"  # nothing wired to the aux inputs in the simulated station


def _oexp(em: SR830Emulator, args: list[str]) -> None:
    i = _index(args, 1, 3, 3)
    offset, expand = SR830Emulator._real(args[1]), SR830Emulator._int(args[2])
    if len(args) != 3 or not (-105.0 <= offset <= 105.0 and expand in (0, 1, 2)):
        raise ValueError(args)
    em.offsets[i] = [round(offset, 2), expand]


def _oexp_q(em: SR830Emulator, args: list[str]) -> str:
    offset, expand = em.offsets[_index(args, 1, 3)]
    return f"{offset:.2f},{expand}"


def _ddef(em: SR830Emulator, args: list[str]) -> None:
    i = _index(args, 1, 2, 3)
    j, k = SR830Emulator._int(args[1]), SR830Emulator._int(args[2])
    if len(args) != 3 or not (0 <= j <= 4 and 0 <= k <= 2):
        raise ValueError(args)
    em.displays[i] = [j, k]


def _ddef_q(em: SR830Emulator, args: list[str]) -> str:
    j, k = em.displays[_index(args, 1, 2)]
    return f"{j},{k}"


def _fpop(em: SR830Emulator, args: list[str]) -> None:
    i = _index(args, 1, 2, 2)
    j = SR830Emulator._int(args[1])
    if len(args) != 2 or j not in (0, 1):
        raise ValueError(args)
    em.front_outputs[i] = j


def _fpop_q(em: SR830Emulator, args: list[str]) -> str:
    return str(em.front_outputs[_index(args, 1, 2)])


def _aoff(em: SR830Emulator, args: list[str]) -> None:
    i = _index(args, 1, 3)
    z = em._outputs()
    raw = (z.real, z.imag, abs(z))[i - 1]
    em.offsets[i][0] = round(max(-105.0, min(105.0, raw / em._sens() * 100.0)), 2)


def _agan(em: SR830Emulator, args: list[str]) -> None:
    _no_args(args)
    amplitude = abs(em.signal_V())
    fits = [i for i, s in enumerate(SENSITIVITIES_V) if amplitude <= 0.9 * s]
    em.values["SENS"] = fits[0] if fits else len(SENSITIVITIES_V) - 1


def _arsv(em: SR830Emulator, args: list[str]) -> None:
    _no_args(args)
    amplitude = abs(em.signal_V())
    # the lowest reserve (2 low noise, 1 normal, 0 high) that does not overload
    em.values["RMOD"] = next((m for m in (2, 1, 0)
                              if amplitude <= em._sens() * RESERVE_FACTOR[m]), 0)


def _aphs(em: SR830Emulator, args: list[str]) -> None:
    _no_args(args)
    z = em.signal_V()
    if z != 0:
        theta = math.degrees(math.atan2(z.imag, z.real))
        v = float(em.values["PHAS"]) + theta
        em.values["PHAS"] = round((v + 180.0) % 360.0 - 180.0, 2)
        em._update_input()


def _sset(em: SR830Emulator, args: list[str]) -> None:
    em.setups[_index(args, 1, 9)] = {"values": dict(em.values), "aux": list(em.aux_out),
                                     "offsets": {k: list(v) for k, v in em.offsets.items()},
                                     "displays": {k: list(v) for k, v in em.displays.items()}}


def _rset(em: SR830Emulator, args: list[str]) -> None:
    setup = em.setups.get(_index(args, 1, 9))
    if setup is None:
        raise ValueError("no setup stored there")
    em.values = dict(setup["values"]) | {k: em.values[k] for k in KEPT_BY_RESET}
    em.offsets = {k: list(v) for k, v in setup["offsets"].items()}
    em.displays = {k: list(v) for k, v in setup["displays"].items()}
    em.buffer.rate_index = int(em.values["SRAT"])
    em.buffer.loop = bool(em.values["SEND"])
    em.filter.set_parameters(em._tau(), em._poles())
    em._update_input()


def _trig(em: SR830Emulator, args: list[str]) -> None:
    _no_args(args)
    now = em.lab.clock.now()
    if not em.buffer.running and int(em.values["TSTR"]):
        em.buffer.start(now)
        em.lias |= 0x40
    if em.buffer.rate_index == TRIGGER_RATE and em.buffer.running:
        em.buffer.trigger(now)
        em.lias |= 0x40


def _strt(em: SR830Emulator, args: list[str]) -> None:
    _no_args(args)
    em.buffer.start(em.lab.clock.now())


def _strd(em: SR830Emulator, args: list[str]) -> None:
    _no_args(args)
    em.buffer.start(em.lab.clock.now() + 0.5)


def _paus(em: SR830Emulator, args: list[str]) -> None:
    _no_args(args)
    em.buffer.pause(em.lab.clock.now())


def _rest(em: SR830Emulator, args: list[str]) -> None:
    _no_args(args)
    em.buffer.reset()


def _spts(em: SR830Emulator, args: list[str]) -> str:
    _no_args(args)
    return str(len(em.buffer.points))


def _trace_args(em: SR830Emulator, args: list[str]) -> list[float]:
    if len(args) != 3:
        raise ValueError(args)
    i, j, k = (SR830Emulator._int(a) for a in args)
    return em.buffer.read(i, j, k)


def _trca(em: SR830Emulator, args: list[str]) -> str:
    return "".join(f"{v:+.6e}," for v in _trace_args(em, args))


def _trcb(em: SR830Emulator, args: list[str]) -> bytes:
    points = _trace_args(em, args)
    return struct.pack(f"<{len(points)}f", *points)


def _trcl(em: SR830Emulator, args: list[str]) -> bytes:
    return b"".join(trcl_word(v) for v in _trace_args(em, args))


_HANDLERS = {
    "*IDN?": _idn, "*RST": _rst, "*CLS": _cls, "*STB?": _stb, "*PSC": _psc,
    "*PSC?": lambda em, a: (_no_args(a), str(em.power_on_clear))[1],
    "*ESR?": lambda em, a: em._read_and_clear("esr", a),
    "ERRS?": lambda em, a: em._read_and_clear("errs", a),
    "LIAS?": _lias, "OUTP?": _outp, "OUTR?": _outr, "SNAP?": _snap,
    "AUXV": _auxv, "AUXV?": _auxv_q, "OAUX?": _oaux_q, "OEXP": _oexp, "OEXP?": _oexp_q,
    "DDEF": _ddef, "DDEF?": _ddef_q, "FPOP": _fpop, "FPOP?": _fpop_q, "AOFF": _aoff,
    "AGAN": _agan, "ARSV": _arsv, "APHS": _aphs, "SSET": _sset, "RSET": _rset,
    "TRIG": _trig, "STRT": _strt, "STRD": _strd, "PAUS": _paus, "REST": _rest,
    "SPTS?": _spts, "TRCA?": _trca, "TRCB?": _trcb, "TRCL?": _trcl,
}
