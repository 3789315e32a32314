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

import numpy as np

from pcsdaq.sim.chain import SLOPE_POLES, OutputFilter
from pcsdaq.sim.emulators.base import Emulator
from pcsdaq.sim.emulators.sr830_buffer import DataBuffer
from pcsdaq.sim.emulators.sr830_commands import (
    COMMANDS,
    ENABLES,
    KEPT_BY_RESET,
    NOISE_V,
    NOT_IMPLEMENTED,
    RESERVE_FACTOR,
    SENSITIVITIES_V,
    SETTINGS,
    TIME_CONSTANTS_S,
)
from pcsdaq.sim.emulators.sr830_handlers import HANDLERS, CommandError, integer, real

ESR_EXECUTION, ESR_COMMAND = 0x10, 0x20
_COMMAND = re.compile(r"\s*(\*?[A-Za-z]+)\s*(\?)?\s*(.*?)\s*$", re.DOTALL)


class SR830Emulator(Emulator):
    """Stanford Research SR830 on GPIB (or RS-232) speaking to the simulated contact."""

    name = "sr830"
    command_terminators = ("\n", "\r")
    COMMANDS = COMMANDS
    NOT_IMPLEMENTED = NOT_IMPLEMENTED

    def __init__(self, lab) -> None:
        super().__init__(lab)
        self.force_overload = False
        self.force_unlock = False  #: the reference unlocks (LIAS? bit 3) while set
        self.values = {k: v[2] for k, v in SETTINGS.items()}
        self.enables = dict.fromkeys(ENABLES, 0)
        self.power_on_clear = 1
        self.setups: dict[int, dict] = {}
        self.buffer = DataBuffer(self._buffer_points)
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

    def _drive(self):
        """(contact, I_dc in A, contact dV/dI in Ohm, sine current in A rms) or None."""
        contact = self._contact()
        if contact is None:
            return None
        i_dc = self.aux_out[contact.aux_output - 1] / contact.series_resistance_ohm
        # the sine output drives the contact through the excitation resistor: a divider,
        # so an open contact shows the whole sine amplitude (and overloads)
        r_c = contact.dvdi_ohm(i_dc) if contact.touching else contact.normal_resistance_ohm()
        i_ac = float(self.values["SLVL"]) / (contact.excitation_resistance_ohm + r_c)
        return contact, i_dc, r_c, i_ac

    def fundamental_V(self) -> float:
        """Sine voltage across the contact at the reference frequency (V rms): what the
        input amplifier sees whatever harmonic is detected."""
        drive = self._drive()
        return 0.0 if drive is None else drive[3] * drive[2]

    def signal_V(self) -> complex:
        """Noise-free demodulated input (X + iY, V rms) at the detected harmonic (HARM), after
        the phase shift PHAS. The second harmonic of the contact's response to the sine is
        V''(I) a^2 / 4 (peak, a the sine's peak current): a d2V/dI2 measurement; higher
        harmonics read nothing; with an external reference (FMOD 0) nothing is locked."""
        drive = self._drive()
        harmonic = int(self.values["HARM"])
        if drive is None or int(self.values["FMOD"]) == 0 or harmonic > 2:
            return 0j
        contact, i_dc, r_c, i_ac = drive
        if harmonic == 1:
            amp = i_ac * r_c
        elif contact.touching:
            peak = math.sqrt(2.0) * i_ac
            h = max(peak, 1e-9) * 0.05
            d2v = (contact.dvdi_ohm(i_dc + h) - contact.dvdi_ohm(i_dc - h)) / (2 * h)
            amp = d2v * peak ** 2 / 4 / math.sqrt(2.0)
        else:
            amp = 0.0
        phase = math.radians(float(self.values["PHAS"]))
        return amp * complex(math.cos(phase), -math.sin(phase))

    def input_changed(self) -> None:
        """The contact changed now (a needle step): the filter sees a step at this instant
        (the buffer's points before it are taken first)."""
        self.buffer.catch_up(self.lab.clock.now())
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
        if int(self.values["FMOD"]) == 0:
            self.lias |= 0x08  # external reference: nothing on REF IN, unlocked
        if self.force_overload or max(abs(signal), self.fundamental_V()) > limit:
            self.lias |= 0b101  # input/amplifier overload and output overload
        elif abs(z) > sens:
            self.lias |= 0b100
        if self.force_unlock:
            self.lias |= 0b1000

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

    def _buffer_points(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(CH1, CH2) the buffer stores at lab ``times`` (s, none later than now): the
        filter's output then, from its state at its last update and the input held since
        (no mutation here), with fresh noise per point."""
        f = self.filter
        x = np.maximum(times - f._t, 0.0) / f.time_constant_s
        decay = np.exp(-np.minimum(x, 700.0))
        last = f.poles - 1
        err = [s - f._input for s in f._state]
        acc = sum(err[j] * x ** (last - j) / math.factorial(last - j) for j in range(last + 1))
        noise = self.lab.rng.normal(0.0, NOISE_V, size=(2, len(times)))
        z = f._input + decay * acc + noise[0] + 1j * noise[1]
        return self._display_array(1, z), self._display_array(2, z)

    def _display_array(self, channel: int, z: np.ndarray) -> np.ndarray:
        """:meth:`_display` for an array of outputs ``z`` (V)."""
        quantity = self.displays[channel][0]
        sens = self._sens()
        if quantity == 0:
            part = z.real if channel == 1 else z.imag
            return part - self.offsets[channel][0] / 100 * sens
        if quantity == 1:
            if channel == 1:
                return np.abs(z) - self.offsets[3][0] / 100 * sens
            return np.degrees(np.angle(z))
        return np.full(z.shape, NOISE_V if quantity == 2 else 0.0)

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

    def _dispatch(self, head: str, args: list[str]) -> str | bytes | None:
        if head in SETTINGS or (head.endswith("?") and head[:-1] in SETTINGS):
            return self._setting(head, args)
        if head in ENABLES or (head.endswith("?") and head[:-1] in ENABLES):
            return self._enable(head, args)
        handler = HANDLERS.get(head)
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
        v = integer(args[0]) if is_int else real(args[0])
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
            v = integer(args[0])
            if not 0 <= v <= 255:
                raise ValueError(v)
            self.enables[name] = v
        elif len(args) == 2:
            bit, on = integer(args[0]), integer(args[1])
            if not (0 <= bit <= 7 and on in (0, 1)):
                raise ValueError(args)
            self.enables[name] = self.enables[name] & ~(1 << bit) | on << bit
        else:
            raise ValueError(args)
        return None

    def _bit_or_byte(self, value: int, args: list[str]) -> str:
        if not args:
            return str(value)
        bit = integer(args[0])
        if len(args) > 1 or not 0 <= bit <= 7:
            raise ValueError(args)
        return str(value >> bit & 1)

    def _read_and_clear(self, attr: str, args: list[str]) -> str:
        value = getattr(self, attr)
        reply = self._bit_or_byte(value, args)
        if args:
            setattr(self, attr, value & ~(1 << integer(args[0])))
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


__all__ = ["NOISE_V", "SENSITIVITIES_V", "TIME_CONSTANTS_S", "CommandError", "SR830Emulator"]
