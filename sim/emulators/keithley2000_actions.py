"""The Keithley 2000 emulator's actions: the headers that do something rather than store a
setting (trigger model, readings, error queue, status, setups), ``action(emulator, args)``
keyed by (canonical header, is query). Errors are raised as :class:`ScpiError`."""

from __future__ import annotations

from typing import Any

from pcsdaq.sim.emulators.keithley2000_tree import OVERFLOW, TREE, function_of
from pcsdaq.sim.emulators.scpi import ScpiError, choice, number


def _no_args(args: list[str]) -> None:
    if args:
        raise ScpiError(-108)


def read(em: Any, args: list[str]) -> str:
    _no_args(args)
    if em.setting(":TRIG:SOUR") not in ("IMM", "TIM"):
        raise ScpiError(-214)  # it would wait for a trigger that cannot come
    if em.setting(":INIT:CONT"):
        em._push_error(-213)  # :READ? with continuous initiation on
    em._take()
    return em._reply_readings()


def _init(em: Any, args: list[str]) -> None:
    _no_args(args)
    if em.setting(":INIT:CONT"):
        raise ScpiError(-213)
    if em.setting(":TRIG:SOUR") in ("IMM", "TIM"):
        em._take()
    else:
        em._armed = True


def _trigger(em: Any, args: list[str]) -> None:
    _no_args(args)
    if em._armed:
        em._take()


def _fetch(em: Any, args: list[str]) -> str:
    _no_args(args)
    if em.setting(":INIT:CONT") and em.lab.clock.now() >= em._ready_at:
        em._take()  # continuous: a new reading has just been completed
        em._ready_at = em.lab.clock.now()
    return em._reply_readings()


def _fresh(em: Any, args: list[str]) -> str:
    _no_args(args)
    em._take()
    return em._reply_readings().split(",")[-1]


def _latest(em: Any, args: list[str]) -> str:
    _no_args(args)
    if not em._readings:
        em._take()
    return em._reply_readings().split(",")[-1]


def _error(em: Any, args: list[str]) -> str:
    _no_args(args)
    return em.errors.pop(0) if em.errors else '0,"No error"'


def _clear_queue(em: Any, args: list[str]) -> None:
    _no_args(args)
    em.errors.clear()


def _cls(em: Any, args: list[str]) -> None:
    _no_args(args)
    em.errors.clear()
    em.esr = 0


def _esr(em: Any, args: list[str]) -> str:
    _no_args(args)
    v, em.esr = em.esr, 0
    return str(v)


def _stb(em: Any, args: list[str]) -> str:
    _no_args(args)
    stb = bool(em.errors) << 2 | bool(em.esr & em.setting("*ESE")) << 5
    return str(stb | (0x40 if stb & em.setting("*SRE") else 0))


def _func_set(em: Any, args: list[str]) -> None:
    if len(args) != 1:
        raise ScpiError(-109 if not args else -108)
    em.function = function_of(args[0])
    em._readings = []


def _elements(em: Any, args: list[str]) -> None:
    if not args:
        raise ScpiError(-109)
    chosen = [choice(a, ["READing", "CHANnel", "UNITs"]) for a in args]
    em.elements = chosen


def _save(em: Any, args: list[str]) -> None:
    if len(args) != 1:
        raise ScpiError(-109)
    em.saved[int(number(args[0], 0, 4))] = (dict(em.values), em.function, list(em.elements))


def _recall(em: Any, args: list[str]) -> None:
    if len(args) != 1:
        raise ScpiError(-109)
    setup = em.saved.get(int(number(args[0], 0, 4)))
    if setup is None:
        raise ScpiError(-222)
    em.values, em.function, em.elements = dict(setup[0]), setup[1], list(setup[2])


def _math(em: Any, args: list[str]) -> str:
    _no_args(args)
    x = em._readings[-1] if em._readings else em.reading()
    form = em.setting(":CALC:FORM")
    if form == "MXB":
        x = em.setting(":CALC:KMAT:MMF") * x + em.setting(":CALC:KMAT:MBF")
    elif form == "PERC":
        ref = em.setting(":CALC:KMAT:PERC")
        x = (x - ref) / ref * 100.0 if ref else OVERFLOW
    return f"{x:+.7E}"


def _const(text: str):
    def reply(em: Any, args: list[str]) -> str:
        _no_args(args)
        return text
    return reply


def _do(fn):
    def action(em: Any, args: list[str]) -> None:
        _no_args(args)
        fn(em)
    return action


def _key(header: str) -> str:
    return TREE.add(header) if not header.startswith("*") else header.rstrip("?")


ACTIONS = {(_key(h), h.endswith("?")): fn for h, fn in {
    "*IDN?": _const("KEITHLEY INSTRUMENTS INC.,MODEL 2000,1234567,A20 /A02"),
    "*RST": _do(lambda em: em._preset(continuous=0)), "*CLS": _cls, "*ESR?": _esr,
    "*STB?": _stb, "*OPC": _do(lambda em: setattr(em, "esr", em.esr | 1)),
    "*OPC?": _const("1"), "*WAI": _do(lambda em: None), "*TRG": _trigger,
    "*TST?": _const("0"), "*SAV": _save, "*RCL": _recall,
    "[:SENSe[1]]:FUNCtion": _func_set,
    "[:SENSe[1]]:FUNCtion?": lambda em, a: (_no_args(a), f'"{em.function}"')[1],
    "[:SENSe[1]]:DATA[:LATest]?": _latest, "[:SENSe[1]]:DATA:FRESh?": _fresh,
    ":FETCh?": _fetch, ":READ?": read, ":INITiate[:IMMediate]": _init,
    ":ABORt": _do(lambda em: setattr(em, "_armed", False)),
    ":CONFigure?": lambda em, a: (_no_args(a), f'"{em.function}"')[1],
    ":SYSTem:ERRor?": _error, ":STATus:QUEue[:NEXT]?": _error,
    ":STATus:QUEue:CLEar": _clear_queue, ":SYSTem:CLEar": _clear_queue,
    ":STATus:PRESet": _do(lambda em: None),
    ":STATus:MEASurement[:EVENt]?": _const("0"), ":STATus:MEASurement:CONDition?": _const("0"),
    ":STATus:QUEStionable[:EVENt]?": _const("0"),
    ":STATus:QUEStionable:CONDition?": _const("0"),
    ":STATus:OPERation[:EVENt]?": _const("0"), ":STATus:OPERation:CONDition?": _const("0"),
    ":SYSTem:PRESet": _do(lambda em: em._preset(continuous=1)),
    ":SYSTem:VERSion?": _const("1991.0"), ":SYSTem:LFRequency?": _const("50"),
    ":SYSTem:LOCal": _do(lambda em: None), ":SYSTem:REMote": _do(lambda em: None),
    ":SYSTem:RWLock": _do(lambda em: None),
    ":SYSTem:KEY": lambda em, a: (number(a[0], 1, 31) if a else _no_args(["?"]), None)[1],
    ":TRIGger[:SEQuence[1]]:SIGNal": _trigger,
    ":TRACe:CLEar": _do(lambda em: em.buffer.clear()),
    ":TRACe:FREE?": lambda em, a: (_no_args(a),
                                   f"{(1024 - len(em.buffer)) * 12},{len(em.buffer) * 12}")[1],
    ":TRACe:DATA?": lambda em, a: (_no_args(a),
                                   ",".join(em._format(v) for v in em.buffer))[1],
    ":CALCulate[1]:DATA?": _math, ":FORMat:ELEMents": _elements,
    ":FORMat:ELEMents?": lambda em, a: (_no_args(a), ",".join(em.elements))[1],
}.items()}
