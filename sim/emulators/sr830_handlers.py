"""The SR830 emulator's command handlers: one function per header of the manual's command
list, ``handler(emulator, args) -> reply | None``; ValueError/IndexError/KeyError mean an
execution error (``*ESR?`` bit 4), :class:`CommandError` a command error (bit 5)."""

from __future__ import annotations

import math
import struct
from typing import Any

from pcsdaq.sim.emulators.sr830_buffer import TRIGGER_RATE, trcl_word
from pcsdaq.sim.emulators.sr830_commands import KEPT_BY_RESET, RESERVE_FACTOR, SENSITIVITIES_V


class CommandError(Exception):
    """Unknown header or syntax error (``*ESR?`` bit 5)."""


def real(word: str) -> float:
    """A real parameter; not a number at all is a syntax (command) error."""
    try:
        value = float(word)
    except ValueError:
        raise CommandError(word) from None
    if not math.isfinite(value):
        raise ValueError(word)
    return value


def integer(word: str) -> int:
    """An integer parameter; the SR830 takes any number format ("4", "4.0", ".4E1")."""
    value = real(word)
    if value != int(value):
        raise ValueError(word)
    return int(value)


def _no_args(args: list[str]) -> None:
    if args:
        raise ValueError(args)


def _index(args: list[str], lo: int, hi: int, n: int = 1) -> int:
    if len(args) < n:
        raise ValueError(args)
    i = integer(args[0])
    if not lo <= i <= hi:
        raise ValueError(i)
    return i


def _idn(em: Any, args: list[str]) -> str:
    _no_args(args)
    return "Stanford_Research_Systems,SR830,s/n12345,ver1.07"


def _rst(em: Any, args: list[str]) -> None:
    _no_args(args)
    em._reset()


def _cls(em: Any, args: list[str]) -> None:
    _no_args(args)
    em.esr = em.errs = em.lias = 0


def _stb(em: Any, args: list[str]) -> str:
    em._outputs()  # the overload bits are up to date
    return em._bit_or_byte(em.status_byte(), args)


def _psc(em: Any, args: list[str]) -> None:
    em.power_on_clear = _index(args, 0, 1)


def _lias(em: Any, args: list[str]) -> str:
    em._outputs()
    return em._read_and_clear("lias", args)


def _outp(em: Any, args: list[str]) -> str:
    code = _index(args, 1, 4)
    return f"{em._param(code):.6g}"


def _outr(em: Any, args: list[str]) -> str:
    channel = _index(args, 1, 2)
    return f"{em._display(channel, em._outputs()):.6g}"


def _snap(em: Any, args: list[str]) -> str:
    codes = [integer(a) for a in args]
    if not 2 <= len(codes) <= 6 or not all(1 <= c <= 11 for c in codes):
        raise ValueError(codes)
    z = em._outputs()  # SNAP? values are taken at one instant
    return ",".join(f"{em._param(c, z):.6g}" for c in codes)


def _auxv(em: Any, args: list[str]) -> None:
    ch = _index(args, 1, 4, 2)
    v = real(args[1])
    if len(args) != 2 or not -10.5 <= v <= 10.5:
        raise ValueError(v)
    em.aux_out[ch - 1] = round(v, 3)
    em._update_input()  # the filter runs to now on the old input, then steps


def _auxv_q(em: Any, args: list[str]) -> str:
    return f"{em.aux_out[_index(args, 1, 4) - 1]:.3f}"


def _oaux_q(em: Any, args: list[str]) -> str:
    _index(args, 1, 4)
    return "0.0000"  # nothing wired to the aux inputs in the simulated station


def _oexp(em: Any, args: list[str]) -> None:
    i = _index(args, 1, 3, 3)
    offset, expand = real(args[1]), integer(args[2])
    if len(args) != 3 or not (-105.0 <= offset <= 105.0 and expand in (0, 1, 2)):
        raise ValueError(args)
    em.offsets[i] = [round(offset, 2), expand]


def _oexp_q(em: Any, args: list[str]) -> str:
    offset, expand = em.offsets[_index(args, 1, 3)]
    return f"{offset:.2f},{expand}"


def _ddef(em: Any, args: list[str]) -> None:
    i = _index(args, 1, 2, 3)
    j, k = integer(args[1]), integer(args[2])
    if len(args) != 3 or not (0 <= j <= 4 and 0 <= k <= 2):
        raise ValueError(args)
    em.displays[i] = [j, k]


def _ddef_q(em: Any, args: list[str]) -> str:
    j, k = em.displays[_index(args, 1, 2)]
    return f"{j},{k}"


def _fpop(em: Any, args: list[str]) -> None:
    i = _index(args, 1, 2, 2)
    j = integer(args[1])
    if len(args) != 2 or j not in (0, 1):
        raise ValueError(args)
    em.front_outputs[i] = j


def _fpop_q(em: Any, args: list[str]) -> str:
    return str(em.front_outputs[_index(args, 1, 2)])


def _aoff(em: Any, args: list[str]) -> None:
    i = _index(args, 1, 3)
    z = em._outputs()
    raw = (z.real, z.imag, abs(z))[i - 1]
    em.offsets[i][0] = round(max(-105.0, min(105.0, raw / em._sens() * 100.0)), 2)


def _agan(em: Any, args: list[str]) -> None:
    _no_args(args)
    amplitude = abs(em.signal_V())
    fits = [i for i, s in enumerate(SENSITIVITIES_V) if amplitude <= 0.9 * s]
    em.values["SENS"] = fits[0] if fits else len(SENSITIVITIES_V) - 1


def _arsv(em: Any, args: list[str]) -> None:
    _no_args(args)
    amplitude = max(abs(em.signal_V()), em.fundamental_V())  # what the input sees
    # the lowest reserve (2 low noise, 1 normal, 0 high) that does not overload
    em.values["RMOD"] = next((m for m in (2, 1, 0)
                              if amplitude <= em._sens() * RESERVE_FACTOR[m]), 0)


def _aphs(em: Any, args: list[str]) -> None:
    _no_args(args)
    z = em.signal_V()
    if z != 0:
        theta = math.degrees(math.atan2(z.imag, z.real))
        v = float(em.values["PHAS"]) + theta
        em.values["PHAS"] = round((v + 180.0) % 360.0 - 180.0, 2)
        em._update_input()


def _sset(em: Any, args: list[str]) -> None:
    em.setups[_index(args, 1, 9)] = {"values": dict(em.values), "aux": list(em.aux_out),
                                     "offsets": {k: list(v) for k, v in em.offsets.items()},
                                     "displays": {k: list(v) for k, v in em.displays.items()}}


def _rset(em: Any, args: list[str]) -> None:
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


def _trig(em: Any, args: list[str]) -> None:
    _no_args(args)
    now = em.lab.clock.now()
    if not em.buffer.running and int(em.values["TSTR"]):
        em.buffer.start(now)
        em.lias |= 0x40
    if em.buffer.rate_index == TRIGGER_RATE and em.buffer.running:
        em.buffer.trigger(now)
        em.lias |= 0x40


def _strt(em: Any, args: list[str]) -> None:
    _no_args(args)
    em.buffer.start(em.lab.clock.now())


def _strd(em: Any, args: list[str]) -> None:
    _no_args(args)
    em.buffer.start(em.lab.clock.now() + 0.5)


def _paus(em: Any, args: list[str]) -> None:
    _no_args(args)
    em.buffer.pause(em.lab.clock.now())


def _rest(em: Any, args: list[str]) -> None:
    _no_args(args)
    em.buffer.reset()


def _spts(em: Any, args: list[str]) -> str:
    _no_args(args)
    return str(len(em.buffer.points))


def _trace_args(em: Any, args: list[str]) -> list[float]:
    if len(args) != 3:
        raise ValueError(args)
    i, j, k = (integer(a) for a in args)
    return em.buffer.read(i, j, k)


def _trca(em: Any, args: list[str]) -> str:
    return "".join(f"{v:+.6e}," for v in _trace_args(em, args))


def _trcb(em: Any, args: list[str]) -> bytes:
    points = _trace_args(em, args)
    return struct.pack(f"<{len(points)}f", *points)


def _trcl(em: Any, args: list[str]) -> bytes:
    return b"".join(trcl_word(v) for v in _trace_args(em, args))


HANDLERS = {
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
