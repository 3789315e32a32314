"""attocube ANC300 piezo controller emulator (telnet console, port 7230 on the real unit).

Over TCP a client first sees telnet junk bytes and the password prompt; the first line must
be the password ("123456"), answered by its echo and ``Authorization success``; the serial
(USB) console asks for no password. The console
echoes each command until ``echo off``. Each reply is value lines then ``OK``, or a
message then ``ERROR`` (unknown command, missing or bad argument, a mode the module does
not have, stepping outside step mode); lines end in CR LF. Seven slots hold modules:
ANM150 (stepping: gnd, cap, stp, off), ANM200 (scanning: gnd, inp, cap, off, no steps),
ANM250 (both, with the offset modes stp+ / stp-); ``lab.config["anc300_modules"]`` lists
them (default: slots 1-3 ANM150, 4-7 ANM250). Steps on ``needle_axis`` (default 3) move
``lab.contact``: stepu towards the sample; steps on ``lateral_axes`` (1: x, 2: y) move the
needle sideways over the sample's spots (stepu: +x / +y). Finite moves and capacitance
measurements complete at once on the lab clock (after a measurement, ``setm <ax> cap``, the
axis is grounded); a continuous move (``stepu <ax> c``) steps at the axis frequency on the
lab clock until ``stop`` or a mode change.
"""

from __future__ import annotations

from pcsdaq.sim.emulators.base import Emulator

MODES = ("gnd", "inp", "cap", "stp", "off", "stp+", "stp-")
MODULE_MODES = {"ANM150": ("gnd", "cap", "stp", "off"),
                "ANM200": ("gnd", "inp", "cap", "off"),
                "ANM250": MODES}
DEFAULT_MODULES = ("ANM150", "ANM150", "ANM150", "ANM250", "ANM250", "ANM250", "ANM250")
#: the piezo's capacitance a measurement finds (F at the cryostat's temperature: ~1 uF warm)
CAPACITANCE_NF = 1012.5
PATTERN_LENGTH = 256

COMMANDS: dict[str, str] = {
    "help": "list the commands", "echo": "console echo on/off", "ver": "firmware version",
    "getcser": "controller board serial number", "getser": "module serial number of an axis",
    "setm": "axis mode gnd/inp/cap/stp/off/stp+/stp- (as the module allows)",
    "getm": "axis mode", "setf": "step frequency 1-10000 Hz", "getf": "step frequency, Hz",
    "setv": "step amplitude 0-150 V", "getv": "step amplitude, V",
    "seta": "offset voltage 0-150 V", "geta": "offset voltage, V",
    "geto": "output voltage, V", "getc": "last measured capacitance, nF",
    "capw": "wait for the capacitance measurement; its value, nF",
    "stepu": "step up n times or continuously (c)", "stepd": "step down n times or (c)",
    "stepw": "wait until the stepping is over", "stop": "stop the motion of an axis",
    "setpu": "step-up waveform (256 values 0-255)", "getpu": "step-up waveform",
    "setpd": "step-down waveform (256 values 0-255)", "getpd": "step-down waveform",
    "setdci": "DC-IN input on/off", "getdci": "DC-IN input state",
    "setaci": "AC-IN input on/off", "getaci": "AC-IN input state",
    "settu": "trigger input for stepping up: off or 1-7", "gettu": "trigger input (up)",
    "settd": "trigger input for stepping down: off or 1-7", "gettd": "trigger input (down)",
    "setfil": "output low-pass filter 16 / 160 Hz / off", "getfil": "output filter",
}
NOT_IMPLEMENTED: dict[str, str] = {
    "DC-IN / AC-IN signals": "the inputs are stored on/off; no external signal is wired",
}


class AxisError(ValueError):
    """A console error: the message line before ``ERROR``."""


class ANC300Emulator(Emulator):
    """ANC300 with seven axis slots; one of them (``needle_axis``) drives the needle."""

    name = "anc300"
    command_terminators = ("\r\n", "\n", "\r")
    reply_terminator = "\r\n"
    greeting = b"\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18attocube ANC300\r\nAuthorization code: "
    password = "123456"
    needle_axis = 3
    lateral_axes = (1, 2)
    COMMANDS = COMMANDS
    NOT_IMPLEMENTED = NOT_IMPLEMENTED

    def __init__(self, lab) -> None:
        super().__init__(lab)
        self.authorized = False
        self.echo = True
        config = getattr(lab, "config", None) or {}
        modules = list(config.get("anc300_modules", DEFAULT_MODULES))
        ramp = list(range(PATTERN_LENGTH))
        self.axes = {a: {"module": modules[a - 1] if a <= len(modules) else "ANM150",
                         "mode": "gnd", "v": 30.0, "f": 1000.0, "a": 0.0,
                         "c": CAPACITANCE_NF, "pu": list(ramp), "pd": ramp[::-1],
                         "dci": "off", "aci": "off", "tu": "off", "td": "off", "fil": "off"}
                     for a in range(1, 8)}
        self.steps_done = {a: 0 for a in range(1, 8)}
        #: axes stepping continuously (stepu/stepd <ax> c): axis -> [direction, start s, steps]
        self.continuous: dict[int, list] = {}

    def on_connect(self) -> bytes:
        """Each connection must log in again (echo back on)."""
        self.authorized = False
        self.echo = True
        return self.greeting

    def handle(self, message: str) -> str | None:
        """Answer one console line (CR LF stripped)."""
        self._advance_continuous()
        text = message.strip()
        if not self.authorized and self.interface != "rs232":  # serial/USB: no password
            if text == self.password:
                self.authorized = True
                return f"{text}\r\nAuthorization success"
            return f"{text}\r\nAuthorization failed\r\nAuthorization code: "
        echo = self.echo  # the console echoes the line before executing it
        body = self._command(text)
        return f"{text}\r\n{body}" if echo else body

    def _axis(self, args: list[str]) -> dict:
        if not args:
            raise AxisError("Missing axis")
        try:
            a = int(args[0])
        except ValueError:
            raise AxisError(f"Wrong axis '{args[0]}'") from None
        if a not in self.axes:
            raise AxisError(f"Axis {a} not available")
        return self.axes[a]

    def _command(self, text: str) -> str:
        words = text.split()
        if not words:
            return "OK"
        cmd, args = words[0], words[1:]
        handler = _HANDLERS.get(cmd)
        try:
            if handler is None:
                raise AxisError(f"Unknown command '{cmd}'")
            body = handler(self, args)
        except AxisError as exc:
            return f"{exc}\r\nERROR"
        except (ValueError, IndexError, OverflowError):
            return "Wrong parameters\r\nERROR"
        return f"{body}\r\nOK" if body else "OK"

    def _step(self, cmd: str, args: list[str]) -> str:
        axis = self._axis(args)
        if axis["module"] == "ANM200":
            raise AxisError("Wrong axis type")
        if axis["mode"] not in ("stp", "stp+", "stp-"):
            raise AxisError("Axis in wrong mode")
        if len(args) > 2:
            raise AxisError("Wrong number of arguments")
        continuous = len(args) == 2 and args[1] == "c"
        count = 1 if len(args) < 2 else (0 if continuous else int(args[1]))
        if count < 0:
            raise AxisError("Wrong parameters")
        number = int(args[0])
        self.continuous.pop(number, None)  # a new move replaces a continuous one
        direction = 1 if cmd == "stepu" else -1
        if continuous:
            self.continuous[number] = [direction, self.lab.clock.now(), 0]
        self._move(number, direction * count)
        return ""

    def _move(self, number: int, signed: int) -> None:
        """``signed`` steps on axis ``number`` (the needle's move the contact)."""
        if not signed:
            return
        self.steps_done[number] += signed
        contact = getattr(self.lab, "contact", None)
        if number == self.needle_axis and contact is not None:
            contact.step(signed, self.axes[number]["v"])
        elif number in self.lateral_axes and contact is not None:
            contact.step_lateral(self.lateral_axes.index(number), signed,
                                 self.axes[number]["v"])

    def _advance_continuous(self) -> None:
        """Apply the steps continuous moves made since the last message (frequency x lab
        time; at most 10^6 per message)."""
        if not self.continuous:
            return
        now = self.lab.clock.now()
        for number, motion in self.continuous.items():
            direction, start, done = motion
            due = int((now - start) * self.axes[number]["f"])
            if due > done:
                self._move(number, direction * min(due - done, 10 ** 6))
                motion[2] = due

    def stop(self, number: int) -> None:
        """Stop the motion of axis ``number``."""
        self.continuous.pop(number, None)


def _value(args: list[str], low: float, high: float) -> float:
    if len(args) != 2:
        raise AxisError("Wrong number of arguments")
    value = float(args[1])
    if not low <= value <= high:  # NaN fails too
        raise AxisError("Value out of range")
    return value


def _setter(key: str, low: float, high: float):
    def handler(em: ANC300Emulator, args: list[str]) -> str:
        axis = em._axis(args)
        axis[key] = _value(args, low, high)
        return ""
    return handler


def _getter(key: str, label: str, fmt: str, unit: str = ""):
    def handler(em: ANC300Emulator, args: list[str]) -> str:
        axis = em._axis(args)
        if len(args) != 1:
            raise AxisError("Wrong number of arguments")
        return f"{label} = {format(axis[key], fmt)}{unit}"
    return handler


def _word_setter(key: str, allowed: tuple[str, ...]):
    def handler(em: ANC300Emulator, args: list[str]) -> str:
        axis = em._axis(args)
        if len(args) != 2 or args[1] not in allowed:
            raise AxisError("Wrong parameters")
        axis[key] = args[1]
        return ""
    return handler


def _setm(em: ANC300Emulator, args: list[str]) -> str:
    axis = em._axis(args)
    if len(args) != 2 or args[1] not in MODES:
        raise AxisError("Wrong mode")
    if args[1] not in MODULE_MODES[axis["module"]]:
        raise AxisError("Wrong axis type")
    if args[1] not in ("stp", "stp+", "stp-"):
        em.stop(int(args[0]))  # leaving step mode ends a continuous move
    axis["mode"] = args[1]
    if args[1] == "cap":  # a measurement, over at once here; the axis is grounded after it
        axis["c"] = CAPACITANCE_NF
        axis["mode"] = "gnd"
    return ""


def _geto(em: ANC300Emulator, args: list[str]) -> str:
    axis = em._axis(args)
    volts = axis["a"] if axis["mode"] in ("inp", "stp+", "stp-", "off") else 0.0
    return f"voltage = {volts:.6f} V"


def _set_pattern(key: str):
    def handler(em: ANC300Emulator, args: list[str]) -> str:
        axis = em._axis(args)
        values = [int(v) for v in args[1:]]
        if len(values) != PATTERN_LENGTH or not all(0 <= v <= 255 for v in values):
            raise AxisError("Wrong parameters")
        axis[key] = values
        return ""
    return handler


def _get_pattern(key: str):
    def handler(em: ANC300Emulator, args: list[str]) -> str:
        return "\r\n".join(str(v) for v in em._axis(args)[key])
    return handler


def _echo(em: ANC300Emulator, args: list[str]) -> str:
    if len(args) != 1 or args[0] not in ("on", "off"):
        raise AxisError("Wrong parameters")
    em.echo = args[0] == "on"
    return ""


def _no_args(reply: str):
    def handler(em: ANC300Emulator, args: list[str]) -> str:
        if args:
            raise AxisError("Wrong number of arguments")
        return reply
    return handler


def _wait(em: ANC300Emulator, args: list[str]) -> str:
    em._axis(args)  # finite moves are over at once on the virtual clock
    return ""


def _stop(em: ANC300Emulator, args: list[str]) -> str:
    em._axis(args)
    em.stop(int(args[0]))
    return ""


_HANDLERS = {
    "help": _no_args("\r\n".join(sorted(COMMANDS))),
    "echo": _echo,
    "ver": _no_args("attocube ANC300 controller version 1.1.0-1304 2013-10-17 08:16"),
    "getcser": _no_args("ANC300B-C-1514-3006076"),
    "getser": lambda em, a: f"{em._axis(a)['module']}A{int(a[0]):02d}-SIM",
    "setm": _setm, "getm": _getter("mode", "mode", ""),
    "setf": _setter("f", 1.0, 10000.0), "getf": _getter("f", "frequency", ".0f", " Hz"),
    "setv": _setter("v", 0.0, 150.0), "getv": _getter("v", "voltage", ".6f", " V"),
    "seta": _setter("a", 0.0, 150.0), "geta": _getter("a", "voltage", ".6f", " V"),
    "geto": _geto, "getc": _getter("c", "capacitance", ".6f", " nF"),
    "capw": _getter("c", "capacitance", ".6f", " nF"),
    "stepu": lambda em, a: em._step("stepu", a), "stepd": lambda em, a: em._step("stepd", a),
    "stepw": _wait, "stop": _stop,
    "setpu": _set_pattern("pu"), "getpu": _get_pattern("pu"),
    "setpd": _set_pattern("pd"), "getpd": _get_pattern("pd"),
    "setdci": _word_setter("dci", ("on", "off")), "getdci": _getter("dci", "dcin", ""),
    "setaci": _word_setter("aci", ("on", "off")), "getaci": _getter("aci", "acin", ""),
    "settu": _word_setter("tu", ("off", "1", "2", "3", "4", "5", "6", "7")),
    "gettu": _getter("tu", "trigger", ""),
    "settd": _word_setter("td", ("off", "1", "2", "3", "4", "5", "6", "7")),
    "gettd": _getter("td", "trigger", ""),
    "setfil": _word_setter("fil", ("16", "160", "off")), "getfil": _getter("fil", "filter", ""),
}
