"""attocube ANC300 piezo controller emulator (telnet console, port 7230 on the real unit).

A client first sees telnet junk bytes and the password prompt; the first line must be the
password ("123456"), answered by its echo and ``Authorization success``. The console
echoes each command until ``echo off``. Each reply is value lines then ``OK``, or a
message then ``ERROR``; lines end in CR LF. Steps on ``needle_axis`` (default 3) move
``lab.contact``: stepu towards the sample. Moves complete at once on the virtual clock.
"""

from __future__ import annotations

from pcsdaq.sim.emulators.base import Emulator

MODES = ("gnd", "inp", "cap", "stp", "off", "stp+", "stp-")


class ANC300Emulator(Emulator):
    """ANC300 with seven axis slots; one of them (``needle_axis``) drives the needle."""

    name = "anc300"
    command_terminators = ("\r\n", "\n", "\r")
    reply_terminator = "\r\n"
    greeting = b"\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18attocube ANC300\r\nAuthorization code: "
    password = "123456"
    needle_axis = 3

    def __init__(self, lab) -> None:
        super().__init__(lab)
        self.authorized = False
        self.echo = True
        self.axes = {a: {"mode": "gnd", "v": 30.0, "f": 1000.0, "a": 0.0}
                     for a in range(1, 8)}
        self.steps_done = {a: 0 for a in range(1, 8)}

    def on_connect(self) -> bytes:
        """Each connection must log in again (echo back on)."""
        self.authorized = False
        self.echo = True
        return self.greeting

    def handle(self, message: str) -> str | None:
        """Answer one console line (CR LF stripped)."""
        text = message.strip()
        if not self.authorized:
            if text == self.password:
                self.authorized = True
                return f"{text}\r\nAuthorization success"
            return f"{text}\r\nAuthorization failed\r\nAuthorization code: "
        echo = self.echo  # the console echoes the line before executing it
        body = self._command(text)
        return f"{text}\r\n{body}" if echo else body

    def _axis(self, word: str) -> dict:
        a = int(word)
        if a not in self.axes:
            raise ValueError(f"Axis {a} not available")
        return self.axes[a]

    def _command(self, text: str) -> str:
        words = text.split()
        if not words:
            return "OK"
        cmd, args = words[0], words[1:]
        try:
            body = self._dispatch(cmd, args)
        except (ValueError, IndexError, KeyError) as exc:
            msg = str(exc) if isinstance(exc, ValueError) and str(exc) else "Wrong parameters"
            return f"{msg}\r\nERROR"
        return f"{body}\r\nOK" if body else "OK"

    def _dispatch(self, cmd: str, args: list[str]) -> str:
        if cmd == "echo":
            self.echo = args[0] == "on"
            return ""
        if cmd == "ver":
            return "attocube ANC300 controller version 1.1.0-1304 2013-10-17 08:16"
        if cmd in ("getser",):
            self._axis(args[0])
            return f"ANM150A{int(args[0]):02d}-SIM"
        if cmd in ("setv", "setf", "seta"):
            axis, value = self._axis(args[0]), float(args[1])
            top = 10000.0 if cmd == "setf" else 150.0
            low = 1.0 if cmd == "setf" else 0.0
            if not low <= value <= top:
                raise ValueError("Value out of range")
            axis[cmd[-1]] = value
            return ""
        if cmd == "setm":
            if args[1] not in MODES:
                raise ValueError("Wrong mode")
            self._axis(args[0])["mode"] = args[1]
            return ""
        if cmd == "getv":
            return f"voltage = {self._axis(args[0])['v']:.6f} V"
        if cmd == "getf":
            return f"frequency = {self._axis(args[0])['f']:.0f} Hz"
        if cmd == "geta":
            return f"voltage = {self._axis(args[0])['a']:.6f} V"
        if cmd == "getm":
            return f"mode = {self._axis(args[0])['mode']}"
        if cmd == "geto":
            axis = self._axis(args[0])
            return f"voltage = {axis['a'] if axis['mode'] != 'gnd' else 0.0:.6f} V"
        if cmd == "getc":
            self._axis(args[0])
            return "capacitance = 1012.5 nF"
        if cmd in ("stepu", "stepd"):
            return self._step(cmd, args)
        if cmd in ("stop", "stepw"):
            self._axis(args[0])
            return ""
        raise ValueError(f"Unknown command '{cmd}'")

    def _step(self, cmd: str, args: list[str]) -> str:
        number = int(args[0])
        axis = self._axis(args[0])
        if axis["mode"] not in ("stp", "stp+", "stp-"):
            raise ValueError("Axis not in stepping mode")
        count = 1 if len(args) < 2 else (0 if args[1] == "c" else int(args[1]))
        if count < 0:
            raise ValueError("Wrong parameters")
        signed = count if cmd == "stepu" else -count
        self.steps_done[number] += signed
        contact = getattr(self.lab, "contact", None)
        if number == self.needle_axis and contact is not None and count:
            contact.step(signed, axis["v"])
        return ""
